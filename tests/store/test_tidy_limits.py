"""EES's tidy school-level files are long by design: the reader's row bound is set by the layout, not one size."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.ingest import reading
from data.ingest.reading import FatalImportError, read_table


def _write(path: Path, header: list[str], rows: int) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(header) + "\n")
        fh.writelines(f"202425,School,{100000 + i // 48},Total,{i % 6}\n" for i in range(rows))
    return path


def test_a_tidy_ees_file_longer_than_the_wide_files_bound_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "MAX_ROWS", 1_000)  # the wide files' bound, at a size a test can write
    path = _write(tmp_path / "ks2_school.csv", ["time_period", "geographic_level", "school_urn", "breakdown",
                                                  "subject"], 5_000)
    table = read_table(path)
    # the last row, i = 4,999: URN 100000 + 4999 // 48, subject 4999 % 6
    assert len(table.rows) == 5_000 and table.rows[-1] == ("202425", "School", "100104", "Total", "1")


def test_a_wide_file_of_the_same_length_is_still_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "MAX_ROWS", 1_000)
    path = _write(tmp_path / "census.csv", ["period", "level", "URN", "breakdown", "subject"], 5_000)
    with pytest.raises(FatalImportError, match="more than 1,000 rows: far more than the schools in England"):
        read_table(path)


def test_a_tidy_file_beyond_its_own_bound_is_refused_in_words(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "MAX_TIDY_ROWS", 2_000)
    path = _write(tmp_path / "ks2_school.csv", ["time_period", "geographic_level", "school_urn", "breakdown",
                                                  "subject"], 5_000)
    with pytest.raises(FatalImportError, match="more than 2,000 rows: far more than a national EES school-level "
                                               "file holds"):
        read_table(path)
