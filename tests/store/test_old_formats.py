"""The Compare School Performance files as the national downloads lay them out (issue 10, points 5 and 8).

The fixtures in tests/fixtures/old_formats are small synthetic files in the real layouts (header, order, footer
rows, BOM, CRLF, quoting); docs/data.md says where each layout was learned. Every expected number below is a
cell of the fixture it comes from.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from data.db.store import Store
from data.ingest.importers import import_file
from data.services.scorecards import scorecard
from tests.conftest import EES_CENSUS, FIXTURES, imports_log, refused

OLD = FIXTURES / "old_formats"
ABS = OLD / "synthetic_abs.csv"
SWF = OLD / "synthetic_swf.csv"
SPINE = OLD / "synthetic_spine.csv"
PUPDEST = OLD / "synthetic_815_ks4-pupdest.csv"
KS2_LEVELS = OLD / "synthetic_ks2final_2014-15_levels.csv"
KS4_OLD = OLD / "synthetic_ks4final_2013-14.csv"


def school_values(store: Store, measure: str, period: str) -> dict[int, tuple[float | None, str, str | None]]:
    rows = store.query("SELECT urn, value, status, status_code FROM observations WHERE level = 'school' "
                       "AND measure = ? AND period = ?", [measure, period])
    return {urn: (value, status, code) for urn, value, status, code in rows}


def bench(store: Store, measure: str, period: str) -> dict[tuple[str, str | None, str | None], float | None]:
    rows = store.query("SELECT level, area_code, scope, value FROM observations WHERE level <> 'school' "
                       "AND measure = ? AND period = ?", [measure, period])
    return {(level, area, scope): value for level, area, scope, value in rows}


def card_row(store: Store, urn: int, period: str, measure: str):
    rows = [r for r in scorecard(store, school=urn, period=period).rows if r.measure == measure]
    assert len(rows) == 1, f"{measure} not on the card of {urn} for {period}"
    return rows[0]


def imported(store: Store, path: Path, period: str | None) -> object:
    report = import_file(store, path, period)
    assert report.ok, report.summary()
    return report


# ------------------------------------------------------------------------------ absence


def test_absence_national_footers_are_benchmarks_by_phase(store: Store) -> None:
    """`NAT,PRI,,4.0,8.2`: NAT in the LA column, the phase in ESTAB, no URN: England's primary benchmark."""
    report = imported(store, ABS, "2018/19")
    assert report.problems == [], report.summary()
    assert (report.schools, report.observations, report.benchmarks) == (5, 10, 6)
    assert bench(store, "overall_absence", "2018/19") == {
        ("national", "E92000001", "primary"): 4.0, ("national", "E92000001", "secondary"): 5.5,
        ("national", "E92000001", "special"): 9.6}
    assert bench(store, "persistent_absence", "2018/19") == {
        ("national", "E92000001", "primary"): 8.2, ("national", "E92000001", "secondary"): 13.7,
        ("national", "E92000001", "special"): 29.6}
    values = school_values(store, "persistent_absence", "2018/19")
    assert values[100049] == (14.2, "ok", None)
    assert values[136807] == (None, "suppressed", "SUPP")
    la = store.query("SELECT urn, la_code, estab FROM establishments ORDER BY urn")
    assert la[0] == (100000, 201, 3614)


def test_absence_card_compares_with_its_own_phase(store: Store) -> None:
    """The scorecard finds the phase's national row: secondary 5.5, special 9.6, primary 4.0 (the file's NAT rows)."""
    imported(store, SPINE, "2018/19")
    imported(store, ABS, "2018/19")
    for urn, national, scope in ((100049, 5.5, "secondary"), (121744, 9.6, "special"), (100008, 4.0, "primary")):
        row = card_row(store, urn, "2018/19", "overall_absence")
        assert (row.national, row.national_scope) == (national, scope)


# ------------------------------------------------------------------------------ workforce


def test_workforce_with_words_for_columns_imports(store: Store) -> None:
    """2018/19's headers in words: LA Number, Establishment Number, '(Full-Time Equivalent)', 'Pupil:     Teacher
    Ratio'. Every measure is read and the NAT rows (phase in School Phase) are England's benchmarks."""
    report = imported(store, SWF, "2018/19")
    assert report.problems == [], report.summary()
    assert set(report.measures) == {"teachers_fte", "teaching_assistants_fte", "pupil_teacher_ratio",
                                    "teacher_salary"}
    assert school_values(store, "teachers_fte", "2018/19")[100049] == (76.3, "ok", None)
    assert school_values(store, "teaching_assistants_fte", "2018/19")[100000] == (9.8, "ok", None)
    assert school_values(store, "pupil_teacher_ratio", "2018/19")[121744] == (5.3, "ok", None)
    assert school_values(store, "teacher_salary", "2018/19")[100008] == (42530.0, "ok", None)
    assert school_values(store, "teacher_salary", "2018/19")[136807] == (None, "suppressed", "SUPP")
    assert store.query("SELECT la_code, estab FROM establishments WHERE urn = 100049") == [(202, 4001)]
    assert bench(store, "pupil_teacher_ratio", "2018/19") == {
        ("national", "E92000001", "primary"): 20.9, ("national", "E92000001", "secondary"): 16.0,
        ("national", "E92000001", "special"): 6.5}
    assert bench(store, "teacher_salary", "2018/19")[("national", "E92000001", "secondary")] == 40500.0


def test_a_file_naming_schools_by_urn_alone_is_no_traceback(store: Store, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """Schools known by URN and nothing else (no LA, name or type column): imported, and no traceback logged.

    The root cause was the establishments upsert: with no column to update it wrote `DO UPDATE SET , …`."""
    path = tmp_path / "england_swf.csv"
    path.write_text("\ufeffURN,RATPUPTEA\r\n100000,16.4\r\n100008,18.6\r\nNAT,20.9", encoding="utf-8", newline="")
    with caplog.at_level(logging.ERROR):
        report = import_file(store, path, "2018/19")
    assert report.ok, report.summary()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert school_values(store, "pupil_teacher_ratio", "2018/19") == {100000: (16.4, "ok", None),
                                                                      100008: (18.6, "ok", None)}
    assert bench(store, "pupil_teacher_ratio", "2018/19") == {("national", "E92000001", "all"): 20.9}


def test_absence_file_cut_before_its_footers_is_still_refused(store: Store, tmp_path: Path) -> None:
    """The LA-first layout must not weaken the cut-file check: without its NAT rows the file is refused."""
    lines = ABS.read_bytes().decode("utf-8").split("\r\n")
    cut = tmp_path / "england_abs.csv"
    cut.write_text("\r\n".join(lines[:6]), encoding="utf-8", newline="")
    assert "before the LA and national rows" in refused(store, cut, "2018/19")


# ------------------------------------------------------------------------------ destinations


def test_destinations_la_and_nat_rectype_rows_are_benchmarks(store: Store) -> None:
    """RECTYPE `LA` (LEA 815) and `NAT` are the LA's and England's rows, never row-level problems."""
    report = imported(store, PUPDEST, "2018/19")
    assert report.problems == [], report.summary()
    assert report.schools == 3
    assert bench(store, "destinations_sustained", "2016/17") == {
        ("la", "815", "all"): 96.0, ("national", "E92000001", "state_funded"): 94.0}
    assert bench(store, "destinations_disadvantaged", "2016/17") == {
        ("la", "815", "all"): 89.0, ("national", "E92000001", "state_funded"): 89.0}


def test_destinations_belong_to_the_year_pupils_finished_ks4(store: Store) -> None:
    """A 2018/19 bundle's destinations are of pupils who finished KS4 in 2016/17 (COHORT: 'Number of pupils
    completing key stage 4 in 2016/17', pupdestprovisional_meta.csv): stored, logged and reported as 2016/17."""
    report = imported(store, PUPDEST, "2018/19")
    assert report.periods == ["2016/17"]
    assert ("destinations of pupils who finished key stage 4 in 2016/17, published in the 2018/19 tables"
            in report.notes)
    assert imports_log(store)[-1]["period"] == "2016/17"
    assert store.query("SELECT DISTINCT period FROM observations") == [("2016/17",)]
    assert school_values(store, "destinations_sustained", "2016/17")[121671] == (93.0, "ok", None)
    row = card_row(store, 121671, "2016/17", "destinations_sustained")
    assert (row.period, row.value, row.national, row.national_scope) == ("2016/17", 93.0, 94.0, "state_funded")


def test_destinations_cut_before_the_nat_row_are_refused(store: Store, tmp_path: Path) -> None:
    lines = PUPDEST.read_bytes().decode("utf-8").split("\r\n")
    cut = tmp_path / "815_ks4-pupdest.csv"
    cut.write_text("\r\n".join(lines[:-1]), encoding="utf-8", newline="")  # ends on the LA row
    assert "before the national rows" in refused(store, cut, "2018/19")


# ------------------------------------------------------------------------------ files before today's measures


def test_ks2_in_levels_is_refused_by_name(store: Store) -> None:
    message = refused(store, KS2_LEVELS, "2014/15")
    assert "key stage 2 file from before 2016, in levels" in message
    assert "Jointly reads KS2 results from 2015/16 on (scaled scores)" in message
    assert "PTREADWRITTAMATX" in message


def test_ks4_of_five_a_star_to_c_is_refused_by_name(store: Store) -> None:
    message = refused(store, KS4_OLD, "2013/14")
    assert "key stage 4 file from before 2015/16" in message
    assert "PTAC5EM_PTQ" in message


# ------------------------------------------------------------------------------ the year a file describes


def test_period_that_disagrees_with_the_files_own_year_is_refused(store: Store) -> None:
    """The EES census says time_period 202223 on every row: --period 2018/19 is a mistake, said so, nothing stored."""
    message = refused(store, EES_CENSUS, "2018/19")
    assert "--period 2018/19" in message and "2022/23" in message


def test_period_that_agrees_with_the_files_own_year_is_taken(store: Store) -> None:
    report = imported(store, EES_CENSUS, "2022/23")
    assert report.periods == ["2022/23"]
    assert imports_log(store)[-1]["period"] == "2022/23"


def test_a_folder_name_that_disagrees_is_noted_and_the_files_own_year_used(store: Store, tmp_path: Path) -> None:
    """A folder name is a guess: the file's time_period (202223) wins, and the report says so."""
    folder = tmp_path / "2018-2019"
    folder.mkdir()
    copy = folder / EES_CENSUS.name
    copy.write_bytes(EES_CENSUS.read_bytes())
    report = imported(store, copy, None)
    assert report.periods == ["2022/23"]
    assert ("the folder name says 2018/19, but the file's own time_period says 2022/23: the file's own year was "
            "used") in report.notes
