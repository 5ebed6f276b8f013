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


# The commit before value cells were parsed a column at a time (data/ingest/cells.py): the row reader's results
ROW_BY_ROW = "a1cf2f1"
# What hostile files put in value cells (tests/unit/test_cells.py reads each one column-wise and row by row)
HOSTILE = ["", "c", "z", "x", "low", "u", "k", "SUPP", "SUPP!", "NE", "NP", "..", "1,234", "45%", "£45,421", "-3",
           "-0", "junk", "12O", "1e3", "inf", "9" * 20, "9" * 400, "1" * 16, "20001", "101", "-1", "+5", ".5", " 42 ",
           "100000", "4503599627370497", "0"]


def _corrupt(path: Path, out: Path, seed: int) -> Path:
    """The file with hostile texts in about one value cell in twelve, some URNs junk or written another way, some rows
    at another level, some cut short, perhaps a national row last; the same keys otherwise (so no refusal)."""
    import csv
    import random

    rng = random.Random(seed)
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    keys = set(ees_results.KEY_COLUMNS) | set(ees_results.FILTER_COLUMNS) | {"urn", "trust", "school_postcode",
                                                                               "opendate", "phase_type_grouping"}
    values = [i for i, h in enumerate(header) if h not in keys and h != "typeofestablishment_name"]
    urn_i = header.index("school_urn") if "school_urn" in header else header.index("urn")
    level_i = header.index("geographic_level")
    out_rows = [header]
    for n, row in enumerate(body):
        row = list(row)
        for i in values:
            if rng.random() < 1 / 12:
                row[i] = rng.choice(HOSTILE)
        r = rng.random()
        if r < 0.01:
            row[urn_i] = rng.choice(["", "10000X", "0", "123456789", "n/a"])
        elif r < 0.03:
            # the same URN written another way, on a row naming the school otherwise: its first row describes it
            row[urn_i] = f" {row[urn_i]}"
            if "school_name" in header:
                row[header.index("school_name")] += " (renamed)"
        elif r < 0.035:
            row[level_i] = rng.choice(["Local authority", "National", "Regional"])
        elif r < 0.04:
            row = row[: rng.randint(len(header) // 2, len(header) - 1)]
        out_rows.append(row)
        if n == len(body) - 1 and rng.random() < 0.5:
            out_rows.append([*row[:level_i], "National", *row[level_i + 1:]])
    dest = out / f"hostile{seed}_{path.name}"
    with dest.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(out_rows)
    return dest


def _everything(batch) -> dict:
    return {**_parts(batch), "problems": list(batch.problems), "cells": batch.cells_checked,
            "groups_members": (batch.groups, batch.memberships)}


def _built(module, build: str, path: Path) -> object:
    """A batch's parts, or the refusal's problem (each module raises FatalImportError from data.ingest.reading)."""
    table = read_table(path)
    kind = detect_kind(set(table.columns), path.name)
    try:
        return _everything(getattr(module, build)(table, _resolve_period(path, kind, None)))
    except Exception as exc:  # noqa: BLE001 (a refusal: compare its located problem)
        return ("fatal", getattr(exc, "problem", repr(exc)))


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    files = write_demo_files(tmp_path_factory.mktemp("year"), schools=200, years=1)
    return [p for p, _ in files if "performance_tables_schools" in p.name or p.name.startswith("spc_school_level")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hostile_ees_files_read_column_wise_as_row_by_row(tmp_path: Path, demo_year: list[Path], seed: int) -> None:
    """The KS4, KS2 and census readers, column-wise, against the row reader before (a1cf2f1) on corrupted demo files:
    the same observations, pupil-group rows, schools, problems in order, notes and cells checked."""
    old_results = module_at(ROW_BY_ROW, "data/ingest/ees_results.py", "ees_results_row_by_row", tmp_path)
    old_importers = module_at(ROW_BY_ROW, "data/ingest/importers.py", "importers_row_by_row", tmp_path)
    from data.ingest import importers

    compared = set()
    for original in demo_year:
        path = _corrupt(original, tmp_path, seed)
        kind = detect_kind(set(read_table(path).columns), path.name)
        module, before, build = {"ees_ks4": (ees_results, old_results, "ks4_batch"),
                                 "ees_ks2": (ees_results, old_results, "ks2_batch"),
                                 "ees_census": (importers, old_importers, "_ees_batch")}[kind]
        after = _built(module, build, path)
        assert not isinstance(after, tuple), after  # a corrupted cell is a problem, never a refusal
        assert after["problems"], path.name  # the corruption was seen
        assert after == _built(before, build, path), path.name
        compared.add(kind)
    assert compared == {"ees_ks4", "ees_ks2", "ees_census"}


def _edited(path: Path, out: Path, name: str, edits: list[tuple[int, str, str]], append: list[int] = ()) -> Path:
    """The file with these (row, column, text) edits and copies of these rows appended."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    for r, column, text in edits:
        rows[r][rows[0].index(column)] = text
    rows += [list(rows[r]) for r in append]
    dest = out / f"{name}_{path.name}"
    with dest.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return dest


def test_refusals_and_skipped_rows_are_the_row_readers(tmp_path: Path, demo_year: list[Path]) -> None:
    """A school's row twice, a year that is no year (first or second in the file, on a row with or without a URN, at
    school or national level): the same refusal, or the same problems, as the row reader before."""
    old_results = module_at(ROW_BY_ROW, "data/ingest/ees_results.py", "ees_results_row_by_row", tmp_path)
    old_importers = module_at(ROW_BY_ROW, "data/ingest/importers.py", "importers_row_by_row", tmp_path)
    from data.ingest import importers

    urn = {"ees_ks4": "school_urn", "ees_ks2": "school_urn", "ees_census": "urn"}
    cases = {
        "twice": ([], [5]),
        "twice_other_text": ([(5, "URN", "")], [5]),  # the URN column named below, per kind
        "no_year": ([(7, "time_period", "2024")], []),
        "no_year_after_twice": ([(9, "time_period", "20X4")], [3]),
        "no_year_no_urn": ([(4, "time_period", "1850"), (4, "URN", "junk")], []),
        "no_year_national": ([(6, "time_period", "nope"), (6, "geographic_level", "National")], []),
        "twice_at_the_end": ([], [2]),
    }
    seen = 0
    for original in demo_year:
        kind = detect_kind(set(read_table(original).columns), original.name)
        module, before, build = {"ees_ks4": (ees_results, old_results, "ks4_batch"),
                                 "ees_ks2": (ees_results, old_results, "ks2_batch"),
                                 "ees_census": (importers, old_importers, "_ees_batch")}[kind]
        for name, (edits, append) in cases.items():
            edits = [(r, urn[kind] if c == "URN" else c, f" {_cell(original, 5, urn[kind])}" if (c, t) == ("URN", "")
                      else t) for r, c, t in edits]
            path = _edited(original, tmp_path, f"{kind}_{name}", edits, append)
            after = _built(module, build, path)
            assert after == _built(before, build, path), (kind, name)
            seen += isinstance(after, tuple)
    assert seen >= 6  # the refusals were reached, not only compared


def _cell(path: Path, row: int, column: str) -> str:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[row][rows[0].index(column)]
