"""A group's own (local) measure entered by pupil group (issue 13 point 5): the upload's optional pupil_group column,
checked as the whole school's values are (every problem located, nothing half-written), stored in the state store's
local_pupil_group_values (SQLite and PostgreSQL), and read by everyone in pupil_group_observations beside DfE's
pupil-group values (level 'school', scope NULL, source_kind 'local')."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import snapshot

from data.db import state as state_module
from data.db.state import StateStore, copy_state, replace_state, state_url_for
from data.db.store import Store
from data.ingest.derived import forget_period, period_counts
from data.services import groups, local_measures, scope
from data.services.access import AccessDenied, Role, Viewer
from data.services.local_measures import (
    UNKNOWN_GROUP,
    LocalValue,
    define_local_measure,
    template_for,
    upload_local_values,
    validate_upload,
)
from metrics.validation import Issue

EVERY = ["primary", "secondary"]
LEADERS = {"id": "leaders_pct", "label": "Pupils in a leadership role",
           "description": "Share of pupils who hold a leadership role: school council, prefects, sports leaders.",
           "perspective": "curriculum", "unit": "%", "format": ".0f", "polarity": "higher_better", "phases": EVERY,
           "rollup": "pooled_ratio", "scale": 100, "uncertainty": "wilson"}
CPD = {"id": "cpd_hours", "label": "Training hours",
       "description": "Hours of professional development the school's teachers took part in during the year.",
       "perspective": "staff_leadership", "unit": "hours", "format": ",.0f", "polarity": "context", "phases": EVERY,
       "rollup": "sum", "min_cohort": 1}
OTHERS = {**CPD, "id": "other_events", "label": "Community events",
          "description": "Events the school ran for families and the local community in the year."}
HEADER = "URN,period,value,cohort,numerator,denominator,pupil_group\n"
# one school's year: 12 of its 48 pupils lead; 3 of its 12 disadvantaged pupils, 9 of its 36 others; 7 of 25 boys
GOOD = (HEADER
        + "100001,2019/20,,,12,48,\n"
        + "100001,2019/20,,,3,12,disadvantaged\n"
        + "100001,2019/20,25,,9,36,Other pupils (not disadvantaged)\n"  # a label, as the template's list shows it
        + "100001,2019/20,,,7,25,  BOYS \n"  # any case and spacing
        + "100001,2019/20,,,5,23,girls\n"
        + "100002,2019/20,10,,5,50,Total\n"  # "Total": the whole school
        + "100002,2019/20,,,1,4,not disadvantaged\n")  # an id with a space for its underscore
ROWS = [("leaders_pct", 100001, "2019/20", "boys", 7 / 25 * 100, 7.0, 25.0, "ok"),
        ("leaders_pct", 100001, "2019/20", "disadvantaged", 25.0, 3.0, 12.0, "ok"),
        ("leaders_pct", 100001, "2019/20", "girls", 5 / 23 * 100, 5.0, 23.0, "ok"),
        ("leaders_pct", 100001, "2019/20", "not_disadvantaged", 25.0, 9.0, 36.0, "ok"),
        ("leaders_pct", 100002, "2019/20", "not_disadvantaged", 25.0, 1.0, 4.0, "ok")]


@dataclass(frozen=True)
class World:
    store: Store
    group: int
    other: int


@pytest.fixture
def world(store: Store) -> World:
    """Three schools; a partnership of two with a pooled and a summed measure; another group with its own."""
    with store.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Primary', 'primary'), "
                    "(100002, 'Beech Primary', 'primary'), (100003, 'Cedar Academy', 'secondary')")
    group = groups.create_group(store, "partnership", "Riverside Partnership")
    groups.add_memberships(store, group, [100001, 100002], "2019-09-01")
    other = groups.create_group(store, "trust", "Hilltop Trust")
    groups.add_memberships(store, other, [100003], "2019-09-01")
    assert define_local_measure(store, other, OTHERS, actor="hilltop@example") == []
    for d in (LEADERS, CPD):
        assert define_local_measure(store, group, d, actor="governor@example") == []
    return World(store, group, other)


def state_rows(store: Store) -> list[tuple]:
    return store.state.query("SELECT measure, urn, period, pupil_group, value, numerator, denominator, status "
                             "FROM local_pupil_group_values ORDER BY urn, pupil_group")


def audit_rows(store: Store) -> list[tuple]:
    return store.query("SELECT actor, action, entity, entity_id FROM audit_log ORDER BY audit_id")


# ------------------------------------------------------------------------------ written, on both state stores


def test_an_upload_by_pupil_group_round_trips_and_shows_in_pupil_group_observations(world: World) -> None:
    s = world.store
    result = upload_local_values(s, world.group, "leaders_pct", GOOD.encode(), filename="groups.csv", actor="head")
    assert result.issues == []
    assert [(r.line, r.urn, r.pupil_group, r.numerator, r.denominator) for r in result.rows] == [
        (2, 100001, None, 12.0, 48.0), (3, 100001, "disadvantaged", 3.0, 12.0),
        (4, 100001, "not_disadvantaged", 9.0, 36.0), (5, 100001, "boys", 7.0, 25.0), (6, 100001, "girls", 5.0, 23.0),
        (7, 100002, None, 5.0, 50.0), (8, 100002, "not_disadvantaged", 1.0, 4.0)]
    # the whole school's values where they always were; the groups' in their own table, cohorts and all
    assert s.state.query("SELECT urn, value, numerator, denominator FROM local_values ORDER BY urn") == [
        (100001, 25.0, 12.0, 48.0), (100002, 10.0, 5.0, 50.0)]
    assert state_rows(s) == ROWS
    # every reader sees them in pupil_group_observations, as the results file's rows are seen
    seen = s.query("SELECT measure, urn, period, pupil_group, value, numerator, denominator, status, level, scope, "
                   "source_kind, ci_low, import_id FROM pupil_group_observations ORDER BY urn, pupil_group")
    assert seen == [(*r, "school", None, "local", None, None) for r in ROWS]
    # and the service read for the pages
    got = local_measures.local_group_values(s, "leaders_pct", [100001, 100002], ["2019/20"])
    assert list(got.columns) == ["urn", "period", "pupil_group", "value", "numerator", "denominator", "status"]
    assert sorted(got.itertuples(index=False, name=None)) == sorted(r[1:] for r in ROWS)
    assert local_measures.local_group_values(s, "leaders_pct", [100001], ["2020/21"]).empty
    assert len(local_measures.local_group_values(s, "leaders_pct", [100002])) == 1
    assert audit_rows(s)[-1] == ("head", "write", "local_values", "leaders_pct")
    # a second upload replaces the same school, year and group, and leaves the others
    again = HEADER + "100001,2019/20,,,4,12,disadvantaged\n"
    assert upload_local_values(s, world.group, "leaders_pct", again.encode(), filename="b.csv", actor="head").ok
    assert state_rows(s)[1] == ("leaders_pct", 100001, "2019/20", "disadvantaged", 4 / 12 * 100, 4.0, 12.0, "ok")
    assert len(state_rows(s)) == 5


def test_a_new_store_process_reads_them_through_its_own_mirror(world: World) -> None:
    upload_local_values(world.store, world.group, "leaders_pct", GOOD.encode(), filename="g.csv", actor="h")
    with Store(world.store.path) as other:  # another Store: its mirror loads from the state store
        assert other.query("SELECT count(*) FROM pupil_group_observations WHERE source_kind = 'local'") == [(5,)]


def test_a_weighted_measure_by_group_keeps_score_times_cohort(world: World) -> None:
    weighted = {**CPD, "id": "cpd_per_teacher", "label": "Training hours per teacher", "rollup": "weighted_mean",
                "description": "Hours of professional development for each full-time teacher in the year."}
    assert define_local_measure(world.store, world.group, weighted, actor="g") == []
    text = template_for(world.store, world.group, "cpd_per_teacher", "2019/20")
    assert text.splitlines() == ["URN,period,value,cohort,numerator,denominator,pupil_group",
                                 "100001,2019/20,10,20,,,", "100001,2019/20,7,5,,,disadvantaged",
                                 "100001,2019/20,11,15,,,not_disadvantaged"]
    assert upload_local_values(world.store, world.group, "cpd_per_teacher", text.encode(), filename="t.csv",
                               actor="h").ok
    got = local_measures.local_group_values(world.store, "cpd_per_teacher", [100001])
    assert got[["pupil_group", "value", "numerator", "denominator"]].values.tolist() == [
        ["disadvantaged", 7.0, 35.0, 5.0], ["not_disadvantaged", 11.0, 165.0, 15.0]]


def test_the_template_offers_the_groups_and_uploads_cleanly(world: World) -> None:
    text = template_for(world.store, world.group, "leaders_pct", "2019/20")
    assert text == ("URN,period,value,cohort,numerator,denominator,pupil_group\r\n"
                    "100001,2019/20,25,,12,48,\r\n"
                    "100001,2019/20,25,,3,12,disadvantaged\r\n"
                    "100001,2019/20,25,,9,36,not_disadvantaged\r\n")
    result = validate_upload(world.store, world.group, "leaders_pct", text.encode(), filename="template.csv")
    assert result.ok and [r.pupil_group for r in result.rows] == [None, "disadvantaged", "not_disadvantaged"]


# ------------------------------------------------------------------------------ refused, located, nothing written

OK_ROW = "100002,2019/20,,,5,50,\n"  # a good row first in each: a file with any problem writes none of its rows
BAD: dict[str, tuple[str, list[tuple[int, str, str]]]] = {
    "unknown group": (HEADER + OK_ROW + "100001,2019/20,,,3,12,poor pupils\n",
                      [(3, "pupil_group", f"pupil group 'poor pupils' {UNKNOWN_GROUP}")]),
    "duplicate group": (HEADER + OK_ROW + "100001,2019/20,,,3,12,disadvantaged\n"
                        "100001,2019/20,,,4,12,Disadvantaged pupils\n",
                        [(4, "URN", "URN 100001 appears more than once for 2019/20 and pupil group disadvantaged: "
                                    "lines 3 and 4")]),
    "group above the school": (HEADER + OK_ROW + "100001,2019/20,,,12,48,\n100001,2019/20,,,3,50,disadvantaged\n",
                               [(4, "denominator", "Disadvantaged pupils: denominator 50 is larger than the whole "
                                                   "school's 48 (line 3)")]),
    "group cohort above the school": (
        "URN,period,value,cohort,pupil_group\n100002,2019/20,10,50,\n100001,2019/20,25,48,\n"
        "100001,2019/20,25,49,girls\n",
        [(4, "cohort", "Girls: cohort 49 is larger than the whole school's 48 (line 3)")]),
    "a topic's groups above the school": (
        HEADER + OK_ROW + "100001,2019/20,,,12,48,\n100001,2019/20,,,3,12,disadvantaged\n"
        "100001,2019/20,,,9,40,not_disadvantaged\n",
        [(5, "denominator", "Disadvantaged pupils and Other pupils (not disadvantaged): denominators 12 and 40 add up "
                            "to 52, more than the whole school's 48 (line 3)")]),
    "numerator above denominator": (HEADER + OK_ROW + "100001,2019/20,,,13,12,boys\n",
                                    [(3, "numerator", "numerator 13 is larger than the denominator 12")]),
    "group without a cohort": (HEADER + OK_ROW + "100001,2019/20,25,,3,,boys\n",
                               [(3, "denominator", "a pooled measure needs each school's denominator (or cohort), so "
                                                   "that the group's value pools all pupils")]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_pupil_group_row_gives_its_located_sentence_and_writes_nothing(world: World, case: str) -> None:
    text, expected = BAD[case]
    before, audit = snapshot(world.store), audit_rows(world.store)
    result = upload_local_values(world.store, world.group, "leaders_pct", text.encode(), filename="g.csv", actor="h")
    assert result.issues == [Issue("g.csv", "leaders_pct", col, line, msg) for line, col, msg in expected]
    assert snapshot(world.store) == before and audit_rows(world.store) == audit
    assert state_rows(world.store) == [] and world.store.state.query("SELECT count(*) FROM local_values") == [(0,)]


def test_a_summed_measures_group_needs_its_cohort(world: World) -> None:
    text = HEADER + "100001,2019/20,300,,,,boys\n"
    result = validate_upload(world.store, world.group, "cpd_hours", text.encode(), filename="c.csv")
    assert result.issues == [Issue("c.csv", "cpd_hours", "cohort", 2, "a pupil group's value needs the group's "
                                   "cohort (or denominator): small groups are hidden by their size")]


def test_the_column_may_be_spelled_as_people_write_it(world: World) -> None:
    text = "URN,Period,Numerator,Denominator,Pupil Group\n100001,2019/20,3,12,Disadvantaged\n"
    result = validate_upload(world.store, world.group, "leaders_pct", text.encode(), filename="g.csv")
    assert result.rows == [LocalValue(2, 100001, "2019/20", 25.0, 3.0, 12.0, "disadvantaged")]


# ------------------------------------------------------------------------------ forgetting a year, reading scoped


def test_forget_period_removes_a_years_values_by_pupil_group(world: World) -> None:
    s = world.store
    assert upload_local_values(s, world.group, "leaders_pct", GOOD.encode(), filename="g.csv", actor="h").ok
    later = HEADER + "100001,2020/21,,,2,10,boys\n"
    assert upload_local_values(s, world.group, "leaders_pct", later.encode(), filename="l.csv", actor="h").ok
    held = period_counts(s, "2019/20")
    assert (held.local_values, held.local_group_values) == (2, 5)
    done = forget_period(s, "2019/20", actor="admin")
    assert (done.local_values, done.local_group_values) == (2, 5)
    assert [r[2] for r in state_rows(s)] == ["2020/21"]
    assert s.query("SELECT period FROM pupil_group_observations") == [("2020/21",)]


def test_the_scoped_read_is_the_groups_own(world: World) -> None:
    s = world.store
    assert upload_local_values(s, world.group, "leaders_pct", GOOD.encode(), filename="g.csv", actor="h").ok
    leader = Viewer(Role.LEADER, world.group, "leader")
    got = scope.local_group_values(s, leader, world.group, "leaders_pct", periods=["2019/20"])
    assert len(got) == 5
    assert len(scope.local_group_values(s, leader, world.group, "leaders_pct", urns=[100002, 100003])) == 1
    with pytest.raises(AccessDenied, match="not one of this group's own measures"):
        scope.local_group_values(s, leader, world.group, "other_events")
    theirs = Viewer(Role.LEADER, world.other, "their leader")
    with pytest.raises(AccessDenied):
        scope.local_group_values(s, theirs, world.group, "leaders_pct")
    with pytest.raises(AccessDenied):
        scope.local_group_values(s, Viewer(Role.PUBLIC, None, "parent"), world.group, "leaders_pct")


# ------------------------------------------------------------------------------ the state store's table moves with it


def test_copy_and_replace_state_carry_the_values_by_pupil_group(world: World, tmp_path: Path) -> None:
    s = world.store
    assert upload_local_values(s, world.group, "leaders_pct", GOOD.encode(), filename="g.csv", actor="h").ok
    copy = StateStore.open(f"sqlite:///{tmp_path / 'copy.sqlite'}")
    try:
        assert copy_state(s.state, copy)["local_pupil_group_values"] == 5
        assert copy.query("SELECT count(*) FROM local_pupil_group_values") == [(5,)]
        with copy.transaction() as cur:
            cur.execute("DELETE FROM local_pupil_group_values WHERE pupil_group = 'boys'")
        assert replace_state(copy, s.state)["local_pupil_group_values"] == 4
    finally:
        copy.close()
    assert [r[3] for r in state_rows(s)] == ["disadvantaged", "girls", "not_disadvantaged", "not_disadvantaged"]
    s.refresh()
    assert s.query("SELECT count(*) FROM pupil_group_observations") == [(4,)]


def test_the_migration_runs_on_a_state_store_made_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           state_backend: str | None) -> None:
    path = tmp_path / "old.duckdb"
    first = tmp_path / "first_migration"
    first.mkdir()
    (first / "0001_state.sql").write_text((state_module.MIGRATIONS_DIR / "0001_state.sql").read_text())
    with monkeypatch.context() as m:  # a state store as the code before this migration made it
        m.setattr(state_module, "MIGRATIONS_DIR", first)
        old = StateStore.open(state_url_for(path))
        try:
            assert old.query("SELECT max(version) FROM state_schema_version") == [(1,)]
            with old.transaction() as cur:
                cur.execute("INSERT INTO local_values (measure, urn, period, value, status) "
                            "VALUES ('leaders_pct', 100001, '2019/20', 25, 'ok')")
        finally:
            old.close()
    with Store(path) as s:  # opened by today's code: migrated, its rows kept, the new table written and mirrored
        assert s.state.query("SELECT version, name FROM state_schema_version ORDER BY version") == [
            (1, "0001_state.sql"), (2, "0002_local_pupil_groups.sql"), (3, "0003_publication_groups.sql")]
        assert s.state.query("SELECT count(*) FROM local_values") == [(1,)]
        assert "local_pupil_group_values" in s.state.generations()
        with s.results_transaction() as cur:
            cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Primary', 'primary')")
        gid = groups.create_group(s, "partnership", "P")
        groups.add_memberships(s, gid, [100001], "2019-09-01")
        assert define_local_measure(s, gid, LEADERS, actor="g") == []
        text = HEADER + "100001,2019/20,,,3,12,disadvantaged\n"
        assert upload_local_values(s, gid, "leaders_pct", text.encode(), filename="g.csv", actor="h").ok
        assert s.query("SELECT pupil_group, value FROM pupil_group_observations") == [("disadvantaged", 25.0)]
    with Store(path) as again:  # opening again migrates nothing twice
        assert again.state.query("SELECT count(*) FROM state_schema_version") == [(3,)]


# ------------------------------------------------------------------------------ the demo


def test_the_demos_student_leadership_by_pupil_group_adds_up_to_the_schools(demo_master: Path,
                                                                             tmp_path: Path) -> None:
    from data.db.state import copy_store

    path = tmp_path / "demo.duckdb"
    copy_store(demo_master, path)
    with Store(path, read_only=True) as s:
        rows = s.query("""
            SELECT o.measure, o.urn, o.period, o.numerator, o.denominator,
                   g.pupil_group, g.numerator, g.denominator, g.value, g.source_kind
            FROM observations o JOIN pupil_group_observations g
              ON g.measure = o.measure AND g.urn = o.urn AND g.period = o.period
            WHERE o.source_kind = 'local' AND o.measure LIKE '%student_leadership_participation'
        """)
    by_school: dict[tuple, dict[str, tuple]] = {}
    for measure, urn, period, num, den, group, gnum, gden, gvalue, kind in rows:
        assert kind == "local" and 0 <= gnum <= gden and gvalue == pytest.approx(100 * gnum / gden)
        by_school.setdefault((measure, urn, period, num, den), {})[group] = (gnum, gden)
    assert len({k[0] for k in by_school}) == 2  # the flagship partnership's measure and the trust's
    for (_m, _u, _p, num, den), got in by_school.items():
        for pair in (("disadvantaged", "not_disadvantaged"), ("boys", "girls")):
            parts = [got[g] for g in pair if g in got]  # a group with no pupils has no row: it counts 0
            assert sum(n for n, _ in parts) == num
            assert sum(d for _, d in parts) == den
    small = [g for got in by_school.values() for g in got.values() if g[1] < 10]
    assert small  # small disadvantaged cohorts, where suppression matters
