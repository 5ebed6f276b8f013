"""Bad input: one tiny fixture per failure mode (tests/fixtures/bad/), each with its exact message.

A fatal problem leaves the store exactly as it was and is logged as a failed import; a row-level
problem is listed with its line and column while the rest of the file imports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BAD, PERF, imports_log, snapshot

from data.db.store import Store
from data.ingest.importers import import_file
from data.ingest.reading import Problem

REPO = Path(__file__).resolve().parents[2]

FATAL = [
    ("empty.csv", "empty.csv: the file is empty (0 bytes)"),
    ("binary.csv", "binary.csv, line 3: the file contains binary data (a NUL byte at offset 8): it is not a CSV text "
                   "file"),
    ("utf16.csv", "utf16.csv: the file is UTF-16 text: save it as CSV (UTF-8) and import it again"),
    # it starts with UTF-8's byte-order mark, so it is UTF-8 with a bad byte, not Windows-1252 text
    ("not_cp1252.csv", "not_cp1252.csv, line 3: byte 0x81 at offset 283 is not UTF-8, although the file starts "
                       "with UTF-8's byte-order mark: the file is damaged; download it again or save it as CSV UTF-8"),
    ("unknown_format.csv", "unknown_format.csv, line 1: unknown format: the header matches none of the supported "
                           "DfE files (performance tables, GIAS, EES). First columns seen: COLOUR, NAME, SIZE"),
    ("missing_urn_column_census.csv", "missing_urn_column_census.csv, line 1, column URN: the key column URN is "
                                      "missing: a URN is needed to know which school each row describes"),
    ("missing_urn_column_ks4.csv", "missing_urn_column_ks4.csv, line 1, column URN: the key column URN is missing: "
                                   "a URN is needed to know which school each row describes"),
    ("duplicate_urn_ks4.csv", "duplicate_urn_ks4.csv, line 3, column URN: URN 900003 appears twice (lines 2 and 3): "
                              "the file is inconsistent, so nothing was imported"),
    ("duplicate_urn_gias.csv", "duplicate_urn_gias.csv, line 3, column URN: URN 900001 appears twice "
                               "(lines 2 and 3)"),
    ("mostly_junk_census.csv", "mostly_junk_census.csv: 24 of 36 value cells are not numbers or DfE codes: the "
                               "columns do not hold what their names say (first: mostly_junk_census.csv, line 2, "
                               "column NOR: expected a number or a DfE status code, found 'lots')"),
    ("unterminated_quote.csv", 'unterminated_quote.csv, line 3: a quoted value that starts on this line is never '
                               'closed (an unbalanced " character): the rest of the file would run into one cell'),
    ("stray_quote.csv", "stray_quote.csv, line 3: the CSV is malformed: ',' expected after '\"'"),
    ("header_only.csv", "header_only.csv, line 1: the file has a header but no data rows"),
    ("blank_lines_only.csv", "blank_lines_only.csv: the file has no header row (it contains only blank lines)"),
    ("zip_archive.zip", "zip_archive.zip: this is a ZIP archive: unzip it and import the CSV files inside"),
    ("pdf_document.pdf", "pdf_document.pdf: this is a PDF document, not a data file: download the CSV version"),
    ("control_characters.csv", "control_characters.csv: the file looks corrupted: 24 control characters in its "
                               "first 8 KB"),
    ("damaged_workbook.xlsx", "damaged_workbook.xlsx: the Excel workbook cannot be read: File is not a zip file"),
]


@pytest.fixture
def loaded(store: Store) -> Store:
    """A store that already holds a real file, so 'unchanged' means something."""
    assert import_file(store, PERF / "815_2019_ks4provisional.csv", "2018/19").ok
    return store


def assert_refused(store: Store, path: Path, expected: str, period: str | None = "2018/19", **kw: object) -> None:
    """The import fails with exactly `expected`, writes nothing, and is logged as failed."""
    before = snapshot(store)
    log_before = imports_log(store)
    report = import_file(store, path, period, **kw)
    assert (report.ok, report.message) == (False, expected)
    assert [str(p) for p in report.problems] == [expected]
    assert all(p.fatal for p in report.problems)
    assert snapshot(store) == before
    log = imports_log(store)
    assert log[: len(log_before)] == log_before
    assert len(log) == len(log_before) + 1
    assert {k: log[-1][k] for k in ("file_name", "outcome", "message", "observations", "establishments")} == {
        "file_name": path.name, "outcome": "failed", "message": expected, "observations": 0, "establishments": 0,
    }


@pytest.mark.parametrize(("name", "expected"), FATAL, ids=[f[0] for f in FATAL])
def test_fatal_file_is_refused_and_store_unchanged(loaded: Store, name: str, expected: str) -> None:
    assert_refused(loaded, BAD / name, expected)


def test_every_bad_fixture_is_tested() -> None:
    tested = {f[0] for f in FATAL} | {f[0] for f in ROW_LEVEL} | {"no_period_census.csv"}
    assert {p.name for p in BAD.iterdir()} == tested


def test_missing_file_and_folder_are_refused(loaded: Store, tmp_path: Path) -> None:
    assert_refused(loaded, tmp_path / "nowhere.csv", "nowhere.csv: file not found")
    (tmp_path / "2018-2019").mkdir()
    assert_refused(loaded, tmp_path / "2018-2019", "2018-2019: is a folder, not a file")


def test_far_bigger_than_expected_is_refused(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    path = BAD / "no_period_census.csv"
    size = path.stat().st_size
    assert_refused(loaded, path, f"no_period_census.csv: the file is {size} bytes, far bigger than any DfE "
                   "school-level file (limit 100 bytes; set JOINTLY_MAX_IMPORT_MB to raise it)", limit_bytes=100)
    monkeypatch.setenv("JOINTLY_MAX_IMPORT_MB", "0.0001")  # 104 bytes
    assert_refused(loaded, path, f"no_period_census.csv: the file is {size} bytes, far bigger than any DfE "
                   "school-level file (limit 104 bytes; set JOINTLY_MAX_IMPORT_MB to raise it)")


# ------------------------------------------------------------------------------ row-level problems

ROW_LEVEL = [
    ("junk_numbers_census.csv", [
        Problem("junk_numbers_census.csv", "expected a number or a DfE status code, found 'about 100'", 3, "NOR"),
        Problem("junk_numbers_census.csv", "expected a number or a DfE status code, found '5.O'", 4, "PNUMEAL"),
    ]),
    ("absurd_values_ks4.csv", [
        Problem("absurd_values_ks4.csv", "12.5 is not a plausible Progress 8 (expected -5 to 5)", 2, "P8MEA"),
        Problem("absurd_values_ks4.csv", "154 is not a plausible Grade 4+ in English and maths (expected 0 to 100)",
                3, "PTL2BASICS_94"),
    ]),
    ("row_problems_census.csv", [
        Problem("row_problems_census.csv", "expected a URN (digits) or a footer code (LA, NAT), found '12A456'; "
                "row skipped", 3, "URN"),
    ]),
    ("bad_rectype_ks4.csv", [
        Problem("bad_rectype_ks4.csv", "RECTYPE '9' is not one of 1, 2, 4, 5, 7; row skipped", 3, "RECTYPE"),
    ]),
]


@pytest.mark.parametrize(("name", "expected"), ROW_LEVEL, ids=[r[0] for r in ROW_LEVEL])
def test_row_level_problems_are_listed_and_the_rest_imports(store: Store, name: str, expected: list[Problem]) -> None:
    report = import_file(store, BAD / name, "2018/19")
    assert report.ok, report.message
    assert report.problems == expected
    log = imports_log(store)[-1]
    assert (log["outcome"], log["problems"]) == ("ok", len(expected))


def test_junk_cells_are_missing_and_other_cells_kept(store: Store) -> None:
    import_file(store, BAD / "junk_numbers_census.csv", "2018/19")
    rows = store.query(
        "SELECT urn, measure, value, status, status_code FROM observations "
        "WHERE level = 'school' AND measure IN ('pupils', 'eal_pct', 'sen_support_pct') ORDER BY urn, measure")
    assert rows == [
        (900001, "eal_pct", 5.0, "ok", None),
        (900001, "pupils", 200.0, "ok", None),
        (900001, "sen_support_pct", 10.0, "ok", None),
        (900002, "eal_pct", 3.0, "ok", None),
        (900002, "pupils", None, "missing", "INVALID"),  # NOR was 'about 100'
        (900002, "sen_support_pct", 9.0, "ok", None),  # the rate is published; only its cohort is lost
        (900003, "eal_pct", None, "missing", "INVALID"),  # PNUMEAL was '5.O'
        (900003, "pupils", 800.0, "ok", None),
        (900003, "sen_support_pct", 10.0, "ok", None),
    ]
    # the LA footer row still became a benchmark
    assert store.query("SELECT level, area_code, scope, value FROM observations WHERE level <> 'school' "
                       "AND measure = 'pupils'") == [("la", "815", "primary", 300.0)]


def test_absurd_values_are_not_stored(store: Store) -> None:
    import_file(store, BAD / "absurd_values_ks4.csv", "2018/19")
    rows = store.query("SELECT urn, measure, value, status, status_code FROM observations WHERE level = 'school' "
                       "AND measure IN ('progress8', 'basics_94') ORDER BY urn, measure")
    assert rows == [
        (900003, "basics_94", 62.5, "ok", None),
        (900003, "progress8", None, "missing", "INVALID"),
        (900004, "basics_94", None, "missing", "INVALID"),
        (900004, "progress8", -0.2, "ok", None),
    ]


# ------------------------------------------------------------------------------ periods


def test_performance_file_without_period_asks_for_one(loaded: Store) -> None:
    assert_refused(loaded, BAD / "no_period_census.csv", "no_period_census.csv: a census file has no year column: "
                   "give the academic year with --period 2018/19, or keep the file in a folder named like 2018-2019",
                   period=None)


def test_period_from_a_dated_folder(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "downloads" / "2018-2019" / "815_census.csv"
    path.parent.mkdir(parents=True)
    shutil.copy(BAD / "no_period_census.csv", path)
    report = import_file(store, path)
    assert (report.ok, report.periods) == (True, ["2018/19"])
    assert store.query("SELECT DISTINCT period FROM observations") == [("2018/19",)]


def test_impossible_period_is_refused(loaded: Store) -> None:
    assert_refused(loaded, BAD / "no_period_census.csv", "no_period_census.csv: period '2018/20': the second year "
                   "must follow the first (e.g. 2018/19)", period="2018/20")


def test_cli_refuses_bad_input_with_exit_code_2(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    env = {**os.environ, "JOINTLY_DB": str(db)}
    ok = subprocess.run([sys.executable, "-m", "data", "import", "--period", "2018/19",
                         str(PERF / "815_2019_ks4provisional.csv")], cwd=REPO, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    with Store(db) as s:
        before = snapshot(s)
    bad = subprocess.run([sys.executable, "-m", "data", "import", "--period", "2018/20",
                          str(BAD / "no_period_census.csv")], cwd=REPO, env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stdout.splitlines() == [
        "FAILED no_period_census.csv: no_period_census.csv: period '2018/20': the second year must follow the first "
        "(e.g. 2018/19)",
        "Nothing was written; the store is as it was.",
    ]
    assert "1 of 1 files could not be imported" in bad.stderr
    with Store(db) as s:
        assert snapshot(s) == before
