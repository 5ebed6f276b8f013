"""Issue 14 point 4: the EES school files' reader, each distinct word read once, gives exactly the batch the reader
before issue 14 gave (f244fb5's data/ingest/ees_results.py, run beside it) on the fixtures and the demo's files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from history import module_at

from data.demo.files import write_demo_files
from data.ingest import ees_results
from data.ingest.formats import detect_kind
from data.ingest.importers import _resolve_period
from data.ingest.reading import read_table

BEFORE = "f244fb5"  # the commit issue 14's work started from


def _old_reader(tmp_path: Path):
    """The reader as it was before issue 14, loaded under its own name from git (skipped without the history)."""
    return module_at(BEFORE, "data/ingest/ees_results.py", "ees_results_before", tmp_path)


def _group_rows(batch) -> list:
    """The pupil-group rows a batch's writer holds (rows.group_writer's closure)."""
    out = []
    for writer in batch.writers:
        out += [c.cell_contents for c in writer.__closure__ or () if isinstance(c.cell_contents, list)]
    return out


def _parts(batch) -> dict:
    return {"observations": batch.observations, "establishments": batch.establishments, "periods": batch.periods,
            "measures": batch.measures, "used": batch.used_columns, "notes": batch.notes,
            "problems": [str(p) for p in batch.problems], "groups": _group_rows(batch)}


@pytest.fixture(scope="module")
def demo_ees_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    files = write_demo_files(tmp_path_factory.mktemp("ees"), schools=300, years=2)
    return [p for p, _ in files if "performance_tables_schools" in p.name]


def test_the_ees_school_reader_gives_the_batch_it_gave_before(tmp_path: Path, demo_ees_files: list[Path]) -> None:
    old = _old_reader(tmp_path)
    paths = [FIXTURES / "ees_ks2_school_attainment_data.csv",
             FIXTURES / "ees_ks4_202324_performance_tables_schools_final.csv",
             FIXTURES / "ees_ks4_202425_performance_tables_schools_revised.csv", *demo_ees_files]
    compared = 0
    for path in paths:
        table = read_table(path)
        kind = detect_kind(set(table.columns), path.name)
        build = {"ees_ks4": "ks4_batch", "ees_ks2": "ks2_batch"}.get(kind)
        if build is None:
            continue
        period = _resolve_period(path, kind, None)
        new_batch = getattr(ees_results, build)(table, period)
        old_batch = getattr(old, build)(read_table(path), period)
        assert _parts(new_batch) == _parts(old_batch), path.name
        compared += 1
    assert compared >= 4
