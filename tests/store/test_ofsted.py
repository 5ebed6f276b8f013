"""Ofsted's management information (issue 10 point 3): every layout imports with its kind, each grade is the file's
own cell in Ofsted's words, unknown words are refused cell by cell, and re-imports merge, never duplicate."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from conftest import GIAS_SAMPLE, META, REALDATA, read_csv_rows

from data.db.store import Store
from data.ingest.importers import import_file
from metrics.inspections import OEIF_SCALE, REPORT_CARD_SCALE

OFSTED = REALDATA / "ofsted_mi_2025-26_hal609"
ALL_2026 = OFSTED / ("Management_information_-_state-funded_schools_-_all_inspections_-_year_to_date_published_by_"
                     "28_Feb_2026.csv")
LATEST = "EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections_as_at_"
LATEST_2026 = OFSTED / f"{LATEST}30_June_2026.csv"
LATEST_2024 = OFSTED / f"{LATEST}31_Aug_2024.csv"
LIST_2018 = META / "england_ofsted-schools.xlsx"

# The report-card areas: (area id, the file's column, its "- date of grade" column in the latest file)
RC_AREAS = [
    ("safeguarding", "Safeguarding standards", "Safeguarding standards - date of grade"),
    ("inclusion", "Inclusion", "Inclusion - date of grade"),
    ("curriculum_teaching", "Curriculum and teaching", "Curriculum and teaching - date of grade"),
    ("achievement", "Achievement", "Achievement - date of grade"),
    ("attendance_behaviour", "Attendance and behaviour", "Attendance and behaviour - date of grade"),
    ("personal_development_wellbeing", "Personal development and wellbeing",
     "Personal development and wellbeing - date of grade"),
    ("early_years", "Early years (where applicable)", "Early years - date of grade"),
    ("post16", "Post-16 provision (where applicable)", "Post-16 provision - date of grade"),
    ("leadership_governance", "Leadership and governance", "Leadership and governance - date of grade"),
]
OEIF_2024 = [("oeif_overall", "Overall effectiveness"), ("oeif_quality_of_education", "Quality of education"),
             ("oeif_behaviour_attitudes", "Behaviour and attitudes"),
             ("oeif_personal_development", "Personal development"),
             ("oeif_leadership_management", "Effectiveness of leadership and management"),
             ("oeif_safeguarding", "Safeguarding is effective?"),
             ("oeif_early_years", "Early years provision (where applicable)"),
             ("oeif_sixth_form", "Sixth form provision (where applicable)")]
INSPECTION_TABLES = ("inspections", "inspection_grades", "establishments")


def day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date()


def expected_grade(cell: str, oeif: bool = False) -> tuple[str, str | None] | None:
    """(status, words) a cell means, worked out here from Ofsted's published scales (None: no row)."""
    if cell in ("", "NULL"):
        return None
    if cell == "9" or cell == "Not judged":
        return ("not_graded", None)
    if cell in ("Not applicable", "8"):
        return ("not_applicable", None)
    if oeif and cell in "1234":
        return ("graded", OEIF_SCALE.words[int(cell) - 1])
    return ("graded", cell)


def grades_of(store: Store, urn: int, framework: str, start: dt.date, graded: bool = True) -> dict[str, tuple]:
    rows = store.query("SELECT area, status, grade, grade_date FROM inspection_grades "
                       "WHERE urn = ? AND framework = ? AND start_date = ? AND graded = ?",
                       [urn, framework, start, graded])
    return {a: (s, w, d) for a, s, w, d in rows}


def tables(store: Store) -> dict[str, list[tuple]]:
    """The inspection tables without import ids and the kind of the file that last named each inspection
    (provenance, which differs between two stores holding the same)."""
    return {
        "inspections": store.query("SELECT * EXCLUDE (import_id, source_kind) FROM inspections ORDER BY ALL"),
        "inspection_grades": store.query("SELECT * EXCLUDE (import_id) FROM inspection_grades ORDER BY ALL"),
        "establishments": store.query("SELECT urn, ofsted_rating, ofsted_date FROM establishments ORDER BY urn"),
    }


# ------------------------------------------------------------------------------ kinds


@pytest.mark.parametrize(("path", "kind"), [(ALL_2026, "ofsted_report_card"), (LATEST_2026, "ofsted_report_card"),
                                            (LATEST_2024, "ofsted"), (LIST_2018, "ofsted")],
                         ids=["all_2026", "latest_2026", "latest_2024", "list_2018"])
def test_each_ofsted_layout_imports_with_its_kind(store: Store, path: Path, kind: str) -> None:
    report = import_file(store, path)
    assert (report.ok, report.kind, report.problems) == (True, kind, []), report.summary()
    assert store.query("SELECT DISTINCT source_kind FROM inspections") == [(kind,)]


# ------------------------------------------------------------------------------ the report-card file


def test_report_card_grades_are_the_files_cells(store: Store) -> None:
    header, rows = read_csv_rows(ALL_2026)
    h = header.index
    report = import_file(store, ALL_2026)
    assert report.ok and report.problems == [], report.summary()
    assert store.query("SELECT count(*), count(DISTINCT urn) FROM inspections") == [(248, 248)]
    for r in rows:
        start = day(r[h("Inspection start date")])
        want = {area: (g[0], g[1], start) for area, column, _ in RC_AREAS
                if (g := expected_grade(r[h(column)])) is not None}
        assert grades_of(store, int(r[h("URN")]), "report_card", start) == want, r[h("URN")]
    got = store.query("SELECT inspection_number, inspection_type, start_date, publication_date, category_of_concern,"
                      " urn_at_time FROM inspections WHERE urn = 149496")
    assert got == [("10426105", "S5 Inspection", dt.date(2025, 11, 11), dt.date(2026, 1, 15), None, None)]
    # URN 149496, row 2 of the file, by hand: Met; Expected standard in five areas and Early years; Strong standard
    # in Personal development and wellbeing; Post-16 not applicable
    expected = "Expected standard"
    assert {a: (s, w) for a, (s, w, _) in grades_of(store, 149496, "report_card", dt.date(2025, 11, 11)).items()} == {
        "safeguarding": ("graded", "Met"), "inclusion": ("graded", expected),
        "curriculum_teaching": ("graded", expected), "achievement": ("graded", expected),
        "attendance_behaviour": ("graded", expected), "personal_development_wellbeing": ("graded", "Strong standard"),
        "early_years": ("graded", expected), "post16": ("not_applicable", None),
        "leadership_governance": ("graded", expected)}
    # the categories of concern as Ofsted codes them, and the ranks order each scale's own words
    assert dict(store.query("SELECT category_of_concern, count(*) FROM inspections GROUP BY ALL")) == {
        None: 243, "SM": 2, "RSI": 3}
    ranks = dict(store.query("SELECT DISTINCT grade, grade_rank FROM inspection_grades WHERE area = 'achievement' "
                             "AND grade IS NOT NULL"))
    assert ranks == {w: REPORT_CARD_SCALE.words.index(w) + 1 for w in ranks}


def test_the_latest_file_keeps_each_areas_date_of_grade_and_the_legacy_grade(store: Store) -> None:
    header, rows = read_csv_rows(LATEST_2026)
    h = header.index
    report = import_file(store, LATEST_2026)
    assert report.ok and report.problems == [], report.summary()
    with_card = [r for r in rows if r[h("Inspection start date")] != "NULL"]
    assert len(with_card) == 7
    for r in with_card:
        start = day(r[h("Inspection start date")])
        want = {area: (g[0], g[1], day(r[h(dated)])) for area, column, dated in RC_AREAS
                if (g := expected_grade(r[h(column)])) is not None}
        assert grades_of(store, int(r[h("URN")]), "report_card", start) == want
    legacy = [r for r in rows if r[h("Inspection start date of latest OEIF graded inspection")] != "NULL"]
    oeif_columns = {"oeif_overall": "Latest OEIF overall effectiveness",
                    "oeif_safeguarding": "Latest OEIF  safeguarding is effective?",  # Ofsted's double space
                    "oeif_sixth_form": "Latest OEIF sixth form provision (where applicable)"}
    for r in legacy:
        start = day(r[h("Inspection start date of latest OEIF graded inspection")])
        got = grades_of(store, int(r[h("URN")]), "oeif", start)
        for area, column in oeif_columns.items():
            g = expected_grade(r[h(column)], oeif=True)
            assert got.get(area) == (None if g is None else (*g, start)), (r[h("URN")], area)
    # by hand: URN 100000's latest OEIF graded inspection, 12/06/2024, overall effectiveness 1
    assert grades_of(store, 100000, "oeif", dt.date(2024, 6, 12))["oeif_overall"] == (
        "graded", "Outstanding", dt.date(2024, 6, 12))
    # 'Not judged' (no overall grade after September 2024) is no grade, never a 1-4 word
    not_judged = sum(r[h("Latest OEIF overall effectiveness")] == "Not judged" for r in rows)
    assert not_judged == 5
    assert store.query("SELECT count(*) FROM inspection_grades WHERE area = 'oeif_overall' AND grade_code = "
                       "'Not judged' AND status = 'not_graded' AND grade IS NULL") == [(not_judged,)]
    # the inspections of another URN (a predecessor) are kept with the URN they were of: graded and ungraded
    other = {(int(r[h("URN")]), int(r[h(f"URN at time of {what}")])) for r in rows
             for what in ("latest OEIF graded inspection", "the ungraded inspection")
             if r[h(f"Does the {what.removeprefix('the ')} relate to the URN of the current school?")] == "No"}
    assert len(other) == 6
    assert set(store.query("SELECT urn, urn_at_time FROM inspections WHERE urn_at_time IS NOT NULL")) == other
    swk = [r[h("URN")] for r in rows if r[h("Latest OEIF category of concern")] == "SWK"]
    assert store.query("SELECT urn FROM inspections WHERE category_of_concern = 'SWK'") == [(int(swk[0]),)]
    ungraded = [r for r in rows if r[h("Date of latest ungraded inspection")] != "NULL"]
    assert sorted(store.query("SELECT urn, start_date, outcome FROM inspections WHERE NOT graded")) == sorted(
        (int(r[h("URN")]), day(r[h("Date of latest ungraded inspection")]), r[h("Ungraded inspection overall outcome")])
        for r in ungraded)


# ------------------------------------------------------------------------------ the older 1-4 files


def test_the_2024_file_keeps_the_latest_and_previous_graded_inspections(store: Store) -> None:
    assert import_file(store, GIAS_SAMPLE).ok
    header, rows = read_csv_rows(LATEST_2024)
    h = header.index
    report = import_file(store, LATEST_2024)
    assert report.ok and report.problems == [], report.summary()
    for r in rows:
        urn = int(r[h("URN")])
        start = day(r[h("Inspection start date")])
        want = {area: (*g, start) for area, column in OEIF_2024 if (g := expected_grade(r[h(column)], True))}
        assert grades_of(store, urn, "oeif", start) == want
        before = day(r[h("Previous inspection start date")])
        got = grades_of(store, urn, "oeif", before)
        assert got["oeif_overall"] == (*expected_grade(r[h("Previous graded inspection overall effectiveness")],
                                                       True), before)
    # by hand: URN 100000, inspection 10323215 from 12/06/2024, overall effectiveness 1; its previous, ITS411816
    # from 18/04/2013, overall effectiveness 1; early years 2 then; sixth form 9 (not graded)
    assert store.query("SELECT inspection_number, start_date, publication_date FROM inspections WHERE urn = 100000 "
                       "ORDER BY start_date") == [("ITS411816", dt.date(2013, 4, 18), dt.date(2013, 5, 14)),
                                                  ("10323215", dt.date(2024, 6, 12), dt.date(2024, 7, 11))]
    latest = grades_of(store, 100000, "oeif", dt.date(2024, 6, 12))
    assert (latest["oeif_early_years"][:2], latest["oeif_sixth_form"][:2]) == (("graded", "Good"), ("not_graded", None))
    # 8 = not applicable (early years of three schools)
    eight = [int(r[h("URN")]) for r in rows if r[h("Early years provision (where applicable)")] == "8"]
    assert len(eight) == 3
    assert sorted(u for (u,) in store.query("SELECT urn FROM inspection_grades WHERE area = 'oeif_early_years' "
                                            "AND status = 'not_applicable'")) == sorted(eight)
    # the establishments of the GIAS sample carry their latest legacy grade and its date
    gias = {int(r[0]) for r in read_csv_rows(GIAS_SAMPLE, "cp1252")[1]}
    want = {int(r[h("URN")]): (OEIF_SCALE.words[int(r[h("Overall effectiveness")]) - 1],
                               day(r[h("Inspection start date")])) for r in rows if int(r[h("URN")]) in gias}
    got = {u: (g, d) for u, g, d in store.query("SELECT urn, ofsted_rating, ofsted_date FROM establishments "
                                                 "WHERE ofsted_rating IS NOT NULL")}
    assert got == want and len(want) == 13
    assert report.establishments_updated == 13


def test_the_2018_list_and_the_2024_file_are_one_history(store: Store) -> None:
    """The older list dates an inspection by its last day, the 2024 file by its first: the same inspection once."""
    assert import_file(store, LIST_2018).ok
    first = store.query("SELECT start_date, inspection_number FROM inspections WHERE urn = 100000")
    assert first == [(dt.date(2013, 4, 19), None)]  # the list's 'Inspection date' of Sir John Cass's
    assert import_file(store, LATEST_2024).ok
    assert store.query("SELECT start_date, inspection_number FROM inspections WHERE urn = 100000 "
                       "ORDER BY start_date") == [(dt.date(2013, 4, 18), "ITS411816"), (dt.date(2024, 6, 12),
                                                                                         "10323215")]


# ------------------------------------------------------------------------------ unknown words


def test_unknown_grade_words_are_refused_cell_by_cell(store: Store, tmp_path: Path) -> None:
    """'Good' is a 1-4 word: in a report-card area it is no grade, reported with its line and column."""
    with open(ALL_2026, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    h = rows[0].index
    rows[1][h("Achievement")] = "Good"  # line 2: URN 149496
    rows[3][h("Inclusion")] = "Strong"  # line 4
    rows[5][h("Safeguarding standards")] = "Yes"  # line 6: the older scale's safeguarding word
    path = tmp_path / ALL_2026.name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    report = import_file(store, path)
    assert report.ok, report.summary()
    name = path.name
    assert [str(p) for p in report.problems] == [
        f"{name}, line 2, column Achievement: 'Good' is not a grade of Achievement (Ofsted's report card scale: "
        "Exceptional, Strong standard, Expected standard, Needs attention, Urgent improvement, Not applicable, 9); "
        "not stored",
        f"{name}, line 4, column Inclusion: 'Strong' is not a grade of Inclusion (Ofsted's report card scale: "
        "Exceptional, Strong standard, Expected standard, Needs attention, Urgent improvement, Not applicable, 9); "
        "not stored",
        f"{name}, line 6, column Safeguarding standards: 'Yes' is not a grade of Safeguarding standards (Ofsted's "
        "safeguarding scale: Met, Not met, 9); not stored"]
    got = grades_of(store, 149496, "report_card", dt.date(2025, 11, 11))
    assert "achievement" not in got and got["inclusion"][:2] == ("graded", "Expected standard")
    assert store.query("SELECT count(*) FROM inspection_grades") == [(248 * 9 - 3,)]
    assert not store.query("SELECT 1 FROM inspection_grades WHERE grade IN ('Good', 'Strong', 'Yes')")


# ------------------------------------------------------------------------------ re-imports


def test_reimporting_a_file_replaces_never_duplicates(store: Store) -> None:
    assert import_file(store, GIAS_SAMPLE).ok
    for path in (ALL_2026, LATEST_2026, LATEST_2024):
        assert import_file(store, path).ok
    once = tables(store)
    for path in (ALL_2026, LATEST_2026, LATEST_2024):
        report = import_file(store, path)
        assert report.ok and any("(0 new," in n for n in report.notes), report.notes
    assert tables(store) == once


def test_a_later_latest_file_adds_newer_inspections_and_loses_no_older_one(store: Store, tmp_path: Path) -> None:
    assert import_file(store, GIAS_SAMPLE).ok
    assert import_file(store, LATEST_2024).ok
    older = set(store.query("SELECT urn, framework, graded, start_date, inspection_number FROM inspections"))
    assert import_file(store, LATEST_2026).ok
    after = set(store.query("SELECT urn, framework, graded, start_date, inspection_number FROM inspections"))
    assert older <= after  # the 2013 inspections the 2026 file no longer lists are still there
    assert {r for r in after - older if r[1] == "report_card"}  # the report cards of 2025/26 were added
    # the same files in the other order make the same store: a merge, not "last file wins"
    other = Store(tmp_path / "other.duckdb")
    try:
        for path in (GIAS_SAMPLE, LATEST_2026, LATEST_2024):
            assert import_file(other, path).ok
        assert tables(other) == tables(store)
    finally:
        other.close()
    # URN 100025: report card from 13/01/2026 beside its earlier OEIF inspections; its legacy grade stays the newest
    # 1-4 one (report cards have no overall grade to put there)
    assert store.query("SELECT framework, start_date FROM inspections WHERE urn = 100025 AND graded "
                       "ORDER BY start_date DESC LIMIT 2")[0] == ("report_card", dt.date(2026, 1, 13))


# ------------------------------------------------------------------------------ bad input


def _copy_with(tmp_path: Path, source: Path, edits: dict[tuple[int, str], str]) -> Path:
    """The source file with some cells changed: {(row number from 1, column name): new text}."""
    with open(source, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    for (i, column), text in edits.items():
        rows[i][rows[0].index(column)] = text
    path = tmp_path / source.name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def test_a_bad_date_or_urn_is_a_located_problem_and_the_rest_imports(store: Store, tmp_path: Path) -> None:
    path = _copy_with(tmp_path, ALL_2026, {(2, "Publication date"): "31/02/2026", (7, "URN"): "14x496",
                                           (9, "Inspection start date"): "soon"})
    report = import_file(store, path)
    assert report.ok, report.summary()
    assert [str(p) for p in report.problems] == [
        f"{path.name}, line 3, column Publication date: expected a date like 31/12/2025, found '31/02/2026'; "
        "not stored",
        f"{path.name}, line 8, column URN: expected a URN, found '14x496'",
        f"{path.name}, line 10, column Inspection start date: expected a date like 31/12/2025, found 'soon'; "
        "not stored"]
    assert store.query("SELECT count(*) FROM inspections") == [(246,)]  # 248 less the two without URN or date
    assert store.query("SELECT count(*) FROM inspections WHERE publication_date IS NULL") == [(1,)]


def test_a_file_with_no_readable_inspection_is_refused_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    assert import_file(store, LATEST_2024).ok
    before = tables(store)
    _, rows = read_csv_rows(ALL_2026)
    path = _copy_with(tmp_path, ALL_2026, {(i, "Inspection start date"): "NULL" for i in range(1, len(rows) + 1)})
    report = import_file(store, path)
    assert not report.ok
    assert report.message == (f"{path.name}, line 2: none of the 248 rows has an "
                              f"inspection that could be read (first: {path.name}, line 2, column Inspection start "
                              "date: the report card 10426105 has no start date; not stored): nothing was imported")
    assert tables(store) == before


def test_a_file_whose_urns_or_grades_are_mostly_unreadable_is_refused(store: Store, tmp_path: Path) -> None:
    """More than half the rows without a URN, or of the grade cells without a grade: the columns are not what their
    names say, and the few rows read would pass for the file."""
    _, rows = read_csv_rows(ALL_2026)
    urns = _copy_with(tmp_path, ALL_2026, {(i, "URN"): "x" for i in range(1, 126)})
    report = import_file(store, urns)
    assert (report.ok, report.message) == (False, f"{urns.name}, line 2: only 123 of the 248 rows have a URN that "
                                           f"could be read (first skipped: {urns.name}, line 2, column URN: expected "
                                           "a URN, found 'x'): nothing was imported")
    areas = [column for _, column, _ in RC_AREAS]
    shifted = _copy_with(tmp_path, ALL_2026, {(i, c): "Good" for i in range(1, len(rows) + 1) for c in areas[:5]})
    report = import_file(store, shifted)
    assert (report.ok, report.message) == (False, f"{shifted.name}, line 2: 1,240 of 2,232 grade cells are not grades "
                                           "on their areas' scales: the columns do not hold what their names say "
                                           f"(first: {shifted.name}, line 2, column Safeguarding standards: 'Good' "
                                           "is not a grade of Safeguarding standards (Ofsted's safeguarding scale: "
                                           "Met, Not met, 9); not stored): nothing was imported")
    assert store.query("SELECT count(*) FROM inspections") == [(0,)]
