"""Local measures through the write side: the governors' form and value uploads, each checked completely
before anything is written. One bad file per upload rule, with its exact issues; a rejected upload leaves
the store exactly as it was."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BAD, FIXTURES, snapshot

from data.db.store import Store
from data.services import groups, local_measures, schools
from data.services.local_measures import (
    LocalValue,
    UploadResult,
    define_local_measure,
    template_for,
    upload_local_values,
    upload_template,
    validate_upload,
)
from metrics.registry import parse_measure
from metrics.validation import Issue

UPLOADS = FIXTURES / "uploads"
EVERY = ["primary", "secondary"]
LEADERS = {"id": "leaders_pct", "label": "Pupils in a leadership role",
           "description": "Share of pupils who hold a leadership role: school council, prefects, sports leaders.",
           "perspective": "curriculum", "unit": "%", "format": ".0f", "polarity": "higher_better", "phases": EVERY,
           "rollup": "pooled_ratio", "scale": 100, "uncertainty": "wilson"}
CPD = {"id": "cpd_hours", "label": "Training hours",
       "description": "Hours of professional development the school's teachers took part in during the year.",
       "perspective": "staff_leadership", "unit": "hours", "format": ",.0f", "polarity": "context", "phases": EVERY,
       "rollup": "sum", "min_cohort": 1}
CPD_PER_TEACHER = {**CPD, "id": "cpd_per_teacher", "label": "Training hours per teacher",
                   "description": "Hours of professional development for each full-time teacher in the year.",
                   "polarity": "higher_better", "rollup": "weighted_mean", "format": ".1f",
                   "formula": "if(teachers_fte > 0, cpd_hours / teachers_fte, 0)"}
OTHERS = {**CPD, "id": "other_events", "label": "Community events",
          "description": "Events the school ran for families and the local community in the year."}


@dataclass(frozen=True)
class World:
    store: Store
    group: int
    other: int


def audit_rows(store: Store) -> list[tuple]:
    return store.query("SELECT actor, action, entity, entity_id FROM audit_log ORDER BY audit_id")


@pytest.fixture
def world(store: Store) -> World:
    """Four schools; a partnership of three (100003 left in August 2020); another group with its own measure."""
    with store.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Primary', 'primary'), "
                    "(100002, 'Beech Primary', 'primary'), (100003, 'Cedar Academy', 'secondary'), "
                    "(100004, 'Damson School', 'primary')")
    group = groups.create_group(store, "partnership", "Riverside Partnership")
    groups.add_memberships(store, group, [100001, 100002], "2019-09-01")
    groups.add_memberships(store, group, [100003], "2019-09-01", "2020-08-31")
    other = groups.create_group(store, "trust", "Hilltop Trust")
    assert define_local_measure(store, other, OTHERS, actor="hilltop@example") == []
    for d in (LEADERS, CPD, CPD_PER_TEACHER):
        assert define_local_measure(store, group, d, actor="governor@example") == []
    return World(store, group, other)


# ------------------------------------------------------------------------------ the form


def test_a_valid_definition_is_saved_and_audited(store: Store) -> None:
    group = groups.create_group(store, "partnership", "P")
    assert define_local_measure(store, group, LEADERS, actor="governor@example") == []
    saved = local_measures.local_measures(store, group)
    assert saved == [{**LEADERS, "owner": str(group)}]
    assert parse_measure(saved[0]).owner == str(group)
    assert audit_rows(store)[-1] == ("governor@example", "define", "local_measure", "leaders_pct")


def test_an_invalid_definition_returns_every_issue_and_writes_nothing(world: World) -> None:
    before, audit = snapshot(world.store), audit_rows(world.store)
    bad = {**LEADERS, "id": "leaders_share", "label": "Leaders' share", "polarty": "higher_better",
           "description": "Leaders.",
           "formula": "leaders_pct ** 2"}
    assert define_local_measure(world.store, world.group, bad, actor="governor@example") == [
        Issue("form", "leaders_share", "polarty", None, "unknown field 'polarty'; did you mean 'polarity'?"),
        Issue("form", "leaders_share", "description", None, "description is 8 characters long; it needs at least "
              "20: say in plain words, for parents, what the measure shows"),
        Issue("form", "leaders_share", "formula", None, 'formula: "leaders_pct ** 2" at column 1: powers (**) are '
              "not allowed; multiply instead (a * a)"),
    ]
    assert snapshot(world.store) == before
    assert audit_rows(world.store) == audit


def test_a_local_measure_may_not_take_a_national_or_another_groups_id(world: World) -> None:
    assert define_local_measure(world.store, world.group, {**CPD, "id": "pupils", "label": "Pupils trained"},
                                actor="g") == [
        Issue("form", "pupils", "id", None, "id 'pupils' is already taken by another measure (ids are unique across "
              "national and local measures)")]
    assert define_local_measure(world.store, world.group, {**CPD, "id": "other_events", "label": "Other events"},
                                actor="g") == [
        Issue("form", "other_events", "id", None, "id 'other_events' is already taken by another measure (ids are "
              "unique across national and local measures)")]


def test_a_formula_may_use_the_groups_own_and_national_measures_but_not_another_groups(world: World) -> None:
    ok = {**CPD_PER_TEACHER, "id": "cpd_per_pupil", "label": "Training hours per pupil",
          "formula": "cpd_hours / pupils"}
    assert define_local_measure(world.store, world.group, ok, actor="g") == []
    theirs = {**CPD_PER_TEACHER, "id": "events_per_pupil", "label": "Events per pupil",
              "formula": "other_events / pupils"}
    assert define_local_measure(world.store, world.group, theirs, actor="g") == [
        Issue("form", "events_per_pupil", "formula", None, "formula uses 'other_events', which is not a measure "
              "this group can use (a formula may use national measures and the group's own)")]


def test_redefining_a_measure_into_a_cycle_is_refused(world: World) -> None:
    # cpd_per_teacher uses cpd_hours; making cpd_hours use cpd_per_teacher closes the circle
    looped = {**CPD, "formula": "cpd_per_teacher * teachers_fte"}
    assert define_local_measure(world.store, world.group, looped, actor="g") == [
        Issue("form", "cpd_hours", "formula", None,
              "the formula goes round in a circle: cpd_hours → cpd_per_teacher → cpd_hours")]
    saved = local_measures.local_measures(world.store, world.group)
    assert "formula" not in next(d for d in saved if d["id"] == "cpd_hours")


def test_redefining_a_measure_replaces_it(world: World) -> None:
    assert define_local_measure(world.store, world.group, {**CPD, "label": "CPD hours"}, actor="g") == []
    saved = local_measures.local_measures(world.store, world.group)
    assert next(d for d in saved if d["id"] == "cpd_hours")["label"] == "CPD hours"


def test_a_definition_for_a_group_that_does_not_exist(store: Store) -> None:
    assert define_local_measure(store, 42, CPD, actor="g") == [Issue("form", "cpd_hours", None, None,
                                                                      "no group with id 42")]
    assert local_measures.local_measures(store) == []


# ------------------------------------------------------------------------------ templates


def test_the_template_is_a_header_and_one_example_row(world: World) -> None:
    leaders = parse_measure({**LEADERS, "owner": "1"})
    # the optional pupil_group column (issue 13 point 5): empty for the whole school; a measure with a cohort shows
    # its disadvantaged and other pupils too, their cohorts adding up to the school's
    assert upload_template(leaders, urn=100001, period="2023/24") == (
        "URN,period,value,cohort,numerator,denominator,pupil_group\r\n100001,2023/24,25,,12,48,\r\n"
        "100001,2023/24,25,,3,12,disadvantaged\r\n100001,2023/24,25,,9,36,not_disadvantaged\r\n")
    assert upload_template(CPD, period="2023/24") == (
        "URN,period,value,cohort,numerator,denominator,pupil_group\r\n123456,2023/24,10,,,,\r\n")
    weighted = {**CPD, "rollup": "weighted_mean"}
    assert upload_template(weighted, urn=100002, period="2019/20").splitlines()[1] == "100002,2019/20,10,20,,,"
    with pytest.raises(ValueError, match="calculated by its formula"):
        upload_template(CPD_PER_TEACHER)


def test_the_groups_template_uses_its_first_member(world: World, tmp_path: Path) -> None:
    text = template_for(world.store, world.group, "leaders_pct", "2019/20")
    assert text.splitlines()[1] == "100001,2019/20,25,,12,48,"
    # the template itself uploads cleanly
    assert validate_upload(world.store, world.group, "leaders_pct", text.encode(), filename="template.csv").ok


# ------------------------------------------------------------------------------ uploads: one bad file per rule


def problem(file: str, line: int | None, column: str | None, message: str, measure: str = "leaders_pct") -> Issue:
    return Issue(file, measure, column, line, message)


UPLOAD_CASES: dict[str, list[tuple[int | None, str | None, str]]] = {
    "bad_urn_format.csv": [(3, "URN", "URN '10001' is not 6 digits")],
    "bad_urn_unknown.csv": [(3, "URN", "no school with URN 999999 in the store")],
    "bad_not_member.csv": [(3, "URN", "school 100004 is not a member of this group in 2019/20")],
    "bad_period.csv": [(2, "period", "period '2019' is not an academic year like 2018/19")],
    "bad_junk_number.csv": [(2, "numerator", "numerator 'twelve' is not a number")],
    "bad_negative.csv": [(2, "denominator", "denominator -48 cannot be negative")],
    "bad_numerator_larger.csv": [(2, "numerator", "numerator 50 is larger than the denominator 40")],
    "bad_inconsistent_value.csv": [(2, "value", "value 30 does not match numerator / denominator × 100 = 25.00")],
    "bad_percent_range.csv": [(2, "value", "value 120 is outside 0 to 100 (a percentage)")],
    "bad_duplicate.csv": [(4, "URN", "URN 100001 appears more than once for 2019/20: lines 2 and 4")],
    "bad_cohort_denominator.csv": [(2, "cohort", "cohort 50 and denominator 48 differ: give one base for the value")],
    "bad_pooled_no_base.csv": [(2, "denominator", "a pooled measure needs each school's denominator (or cohort), so "
                                "that the group's value pools all pupils")],
    "bad_no_value.csv": [(2, "value", "no value: give a value, or a numerator and a denominator greater than 0")],
    "bad_missing_column.csv": [(1, "period", "the file has no period column; the columns are URN, period, value, "
                                "cohort, numerator, denominator (found: URN, value, numerator, denominator)")],
    "bad_no_value_column.csv": [(1, "value", "the file needs a value column, or numerator and denominator columns "
                                 "(found: URN, period, cohort)")],
    "bad_duplicate_column.csv": [(1, "Value", "column Value appears twice (columns 3 and 4)")],
    "bad_extra_fields.csv": [(3, None, "row has 8 fields but the header has 6: its values cannot be matched to the "
                              "header's columns, so the row was skipped")],
}


@pytest.mark.parametrize("name", sorted(UPLOAD_CASES))
def test_each_upload_rule_gives_its_exact_issue_and_writes_nothing(world: World, name: str) -> None:
    before, audit = snapshot(world.store), audit_rows(world.store)
    result = upload_local_values(world.store, world.group, "leaders_pct", UPLOADS / name, filename=name,
                                 actor="head@example")
    assert result.issues == [problem(name, *c) for c in UPLOAD_CASES[name]]
    assert snapshot(world.store) == before
    assert audit_rows(world.store) == audit


def test_every_bad_upload_fixture_has_a_case() -> None:
    assert {p.name for p in UPLOADS.glob("bad_*.csv")} == set(UPLOAD_CASES) | {"bad_many.csv"}


def test_every_problem_of_a_file_is_returned_at_once(world: World) -> None:
    name = "bad_many.csv"
    before = snapshot(world.store)
    result = upload_local_values(world.store, world.group, "leaders_pct", UPLOADS / name, filename=name, actor="h")
    assert result.issues == [
        problem(name, 3, "URN", "URN '12345' is not 6 digits"),
        problem(name, 4, "period", "period '19/20' is not an academic year like 2018/19"),
        problem(name, 5, "URN", "school 100003 is not a member of this group in 2020/21"),
        problem(name, 6, "value", "value 'abc' is not a number"),
        problem(name, 7, "URN", "URN 100001 appears more than once for 2019/20: lines 2 and 7"),
        problem(name, 8, "value", "value 40 does not match numerator / denominator × 100 = 25.00"),
    ]
    assert [r.line for r in result.rows] == [2]  # the one good row; nothing is written
    assert snapshot(world.store) == before


def test_too_many_rows_is_one_issue(world: World, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("URN,period,value\n" + "100001,2019/20,25\n" * 50_001, encoding="utf-8")
    before = snapshot(world.store)
    result = upload_local_values(world.store, world.group, "cpd_hours", path, filename="huge.csv", actor="h")
    assert result == UploadResult([], [Issue("huge.csv", "cpd_hours", None, None, "the file has 50,001 rows; the "
                                             "limit is 50,000 (one row per school and year)")])
    assert snapshot(world.store) == before


@pytest.mark.parametrize(("fixture", "message", "line"), [
    ("binary.csv", "the file contains binary data (a NUL byte at offset 8): it is not a CSV text file", 3),
    ("empty.csv", "the file is empty (0 bytes)", None),
    ("header_only.csv", "the file has a header but no data rows", 1),
])
def test_an_unreadable_file_is_one_issue(world: World, fixture: str, message: str, line: int | None) -> None:
    data = (BAD / fixture).read_bytes()
    result = upload_local_values(world.store, world.group, "cpd_hours", data, filename=fixture, actor="h")
    assert result == UploadResult([], [Issue(fixture, "cpd_hours", None, line, message)])


@pytest.mark.parametrize(("measure", "message"), [
    ("cpd_per_teacher", "cpd_per_teacher is calculated by its formula (if(teachers_fte > 0, cpd_hours / "
                        "teachers_fte, 0)): upload values for the measures it uses instead"),
    ("progress8", "progress8 is a national measure: its values come from DfE files, not uploads"),
    ("other_events", "this group has no local measure other_events: define it first"),  # never "another group's"
    ("no_such_measure", "this group has no local measure no_such_measure: define it first"),
])
def test_values_upload_only_for_the_groups_own_directly_entered_measures(world: World, measure: str,
                                                                         message: str) -> None:
    before = snapshot(world.store)
    result = upload_local_values(world.store, world.group, measure, UPLOADS / "good_cpd.csv",
                                 filename="good_cpd.csv", actor="h")
    assert result.issues == [Issue("good_cpd.csv", measure, None, None, message)]
    assert snapshot(world.store) == before


# ------------------------------------------------------------------------------ uploads that are written


def test_a_good_upload_writes_every_row_and_reads_back(world: World) -> None:
    name = "good_leaders.csv"
    result = upload_local_values(world.store, world.group, "leaders_pct", UPLOADS / name, filename=name,
                                 actor="head@example")
    assert result == UploadResult([
        LocalValue(2, 100001, "2019/20", 25.0, 12.0, 48.0),
        LocalValue(3, 100002, "2019/20", 10.0, 5.0, 50.0),  # "10%"
        LocalValue(4, 100003, "2019/20", 25.0, 9.0, 36.0),  # value derived: 9 / 36 x 100; period "2019-20"
        LocalValue(5, 100001, "2020/21", 30.0, 15.0, 50.0),
        LocalValue(6, 100002, "2020/21", 10.0, 4.0, 40.0),
    ], [])
    got = schools.school_observations(world.store, [100001, 100002, 100003], None, ["leaders_pct"])
    rows = sorted(got[["urn", "period", "value", "numerator", "denominator", "status", "source_kind"]]
                  .itertuples(index=False, name=None))
    assert rows == [
        (100001, "2019/20", 25.0, 12.0, 48.0, "ok", "local"),
        (100001, "2020/21", 30.0, 15.0, 50.0, "ok", "local"),
        (100002, "2019/20", 10.0, 5.0, 50.0, "ok", "local"),
        (100002, "2020/21", 10.0, 4.0, 40.0, "ok", "local"),
        (100003, "2019/20", 25.0, 9.0, 36.0, "ok", "local"),
    ]
    assert audit_rows(world.store)[-1] == ("head@example", "write", "local_values", "leaders_pct")


def test_reuploading_replaces_the_same_school_and_year(world: World) -> None:
    store = world.store
    upload_local_values(store, world.group, "leaders_pct", UPLOADS / "good_leaders.csv", filename="a.csv", actor="h")
    again = upload_local_values(store, world.group, "leaders_pct", UPLOADS / "good_leaders_again.csv",
                                filename="b.csv", actor="h")
    # value 20 with denominator 50: the numerator is completed as 20 x 50 / 100 = 10
    assert again == UploadResult([LocalValue(2, 100001, "2019/20", 20.0, 10.0, 50.0)], [])
    got = schools.school_observations(store, [100001], ["2019/20"], ["leaders_pct"])
    assert got[["value", "numerator", "denominator"]].values.tolist() == [[20.0, 10.0, 50.0]]
    assert len(schools.school_observations(store, [100001, 100002, 100003], None, ["leaders_pct"])) == 5


def test_a_sum_measure_takes_plain_values_and_uploaded_bytes(world: World) -> None:
    data = (UPLOADS / "good_cpd.csv").read_bytes()
    result = upload_local_values(world.store, world.group, "cpd_hours", data, filename="good_cpd.csv", actor="h")
    assert result == UploadResult([LocalValue(2, 100001, "2020/21", 1240.0, None, None),
                                   LocalValue(3, 100002, "2020/21", 310.5, None, None)], [])
    got = schools.school_observations(world.store, [100001, 100002], ["2020/21"], ["cpd_hours"]).sort_values("urn")
    assert got["value"].tolist() == [1240.0, 310.5]


def test_an_uploaded_files_name_is_never_a_path(world: World) -> None:
    data = (UPLOADS / "good_cpd.csv").read_bytes()
    for name in ("../../good.csv", "..", "C:\\Users\\head\\cpd.csv"):
        assert validate_upload(world.store, world.group, "cpd_hours", data, filename=name).ok
    result = validate_upload(world.store, world.group, "cpd_hours", b"URN,period,value\n1,2019/20,1\n",
                             filename="../x.csv")
    assert result.issues == [Issue("../x.csv", "cpd_hours", "URN", 2, "URN '1' is not 6 digits")]
