"""Issue 14 point 4, the import's peak memory: read_table keeps each distinct text of a column once, every row sharing
it, and reads exactly the table the reader before gave (6dc26dc's data/ingest/reading.py, run beside it) on the real
DfE files and on a hostile file: the same header, rows, lines and located problems, in the same order."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REALDATA
from history import module_at

from data.ingest import reading
from data.ingest.formats import detect_kind
from data.ingest.importers import _resolve_period, build_batch

BEFORE = "6dc26dc"  # the commit before each distinct text was kept once

REAL = sorted(p for p in REALDATA.rglob("*.csv") if p.stat().st_size < 50 * 1048576)

HOSTILE = (
    '"time_period","time_identifier","geographic_level","school_urn","school_name","version","breakdown_topic",'
    '"breakdown","subject","eligible_pupil_count","expected_standard_pupil_percent","average_scaled_score",'
    '"progress_measure_score"\r\n'
    '202526,Academic year,School,100001,A School,Provisional,Total,Total,Reading,30,z,104,0.5\r\n'
    '202526,Academic year,School,100001,A School,Provisional,Total,Total,Maths,30,c,junk,1.5\r\n'
    '202526,Academic year,School,100001,A School,Provisional,Total,Total,"Reading, writing and maths",30,70%,,\r\n'
    '202526,Academic year,School,100002,B School,Provisional,Total,Total,Reading,lots,50,99,\r\n'
    '202526,Academic year,School,100002,B School,Provisional,Total,Total,Maths,20,x,12O,2\r\n'
    '202526,Academic year,School,100002,B School,Provisional,Total,Total\r\n'  # short: padded
    '202526,Academic year,School,100003,C School,Provisional,Total,Total,Maths,20,,101,1,,,\r\n'  # padded by commas
    '202526,Academic year,School,100004,D School,Provisional,Total,Total,Maths,20,,101,1,,extra\r\n'  # too wide
    '202526,Academic year,School,10000X,E School,Provisional,Total,Total,Reading,20,40,-3,99\r\n'
    '202526,Academic year,School,100005,F School,Provisional,Disadvantage status,Disadvantaged,Reading,9,1e3,100,'
    '£5\r\n'
)


def _old_reading(tmp_path: Path):
    """data/ingest/reading.py as it was before, loaded under its own name from git (skipped without the history)."""
    return module_at(BEFORE, "data/ingest/reading.py", "reading_before", tmp_path)


def _shape(table) -> tuple:
    """Everything a RawTable carries that the importers read (NotUtf8 as its fields: each module has its class)."""
    return (table.encoding, table.header, table.columns, table.rows, table.lines, table.problems, table.size_bytes,
            table.sha256, table.ends_with_newline, table.closed_by_quote,
            None if table.not_utf8 is None else vars(table.not_utf8), table.last_fields,
            table.last_shape_repeats)


def _read(module, path: Path):
    """A table, or the refusal's problem (the old module raises its own FatalImportError class)."""
    try:
        return _shape(module.read_table(path))
    except Exception as exc:  # noqa: BLE001 (either module's FatalImportError)
        return ("fatal", exc.problem)  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.name}"[:90])
def test_real_files_read_as_before(tmp_path: Path, path: Path) -> None:
    old = _old_reading(tmp_path)
    assert _read(reading, path) == _read(old, path)


def test_hostile_file_reads_and_parses_as_before(tmp_path: Path) -> None:
    path = tmp_path / "202526_ks2_performance_tables_schools_provisional.csv"
    path.write_bytes(HOSTILE.encode("utf-8"))
    old = _old_reading(tmp_path)
    new_table, old_table = reading.read_table(path), old.read_table(path)
    assert _shape(new_table) == _shape(old_table)
    assert [p.line for p in new_table.problems] == [9]  # the too-wide row, skipped with its line
    kind = detect_kind(set(new_table.columns), path.name)
    period = _resolve_period(path, kind, None)
    new_batch, old_batch = build_batch(new_table, kind, period), build_batch(old_table, kind, period)  # type: ignore[arg-type]
    assert new_batch.problems == old_batch.problems
    located = [(p.line, p.column) for p in new_batch.problems]
    # junk in three columns and a bad URN, each located, in the file's order
    assert located == [(3, "average_scaled_score"), (5, "eligible_pupil_count"), (6, "average_scaled_score"),
                       (10, "school_urn")], located
    assert new_batch.observations == old_batch.observations
    assert new_batch.observations  # the good cells were stored


def test_each_distinct_text_of_a_column_is_kept_once(tmp_path: Path) -> None:
    path = tmp_path / "202526_ks2_performance_tables_schools_provisional.csv"
    path.write_bytes(HOSTILE.encode("utf-8"))
    # a tidy file of 5,000 rows: a column of distinct names (kept as read) beside repeated keys and symbols
    wide = tmp_path / "202526_tidy.csv"
    body = "".join(f"202526,School,{100000 + i // 8},School number {i},{['c', 'z', '51.5', str(i % 7)][i % 4]}\n"
                   for i in range(5000))
    wide.write_text("time_period,geographic_level,school_urn,school_name,value\n" + body, encoding="utf-8")
    tables = [reading.read_table(path), reading.read_table(wide)]
    census = REALDATA / "ees_school_census_2022-23_sample" / "spc_school_level_2022-23_north_yorkshire.csv"
    if census.exists():
        tables.append(reading.read_table(census))
    for table in tables:
        shared = 0
        for i in range(len(table.header)):
            cells = [row[i] for row in table.rows]
            if len(set(cells)) <= max(100, len(cells) // 10):  # a column that repeats its texts
                # equal texts are one object: a tidy file's repeated keys, names and symbols cost one string each
                assert len({id(c) for c in cells}) == len(set(cells)), table.header[i]
                shared += 1
        assert shared >= 2
    rows = tables[1].rows
    assert len(rows) == 5000 and rows[4999] == ("202526", "School", "100624", "School number 4999", "1")
