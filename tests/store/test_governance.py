"""Who may edit a group's scorecard, decided in the data layer: a leader or governor their own group (and
the groups nested in it), an admin any group. A refused or invalid request returns its problems in words
and leaves the store exactly as it was; targets are written in one audited transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from conftest import META, PERF, snapshot

from data.db.store import Store
from data.services import governance, groups, imports, local_measures, schools
from data.services.access import Role, Viewer
from data.services.governance import (
    REFUSED_EDIT,
    REFUSED_IMPORT,
    applicable_measures,
    can_edit_scorecard,
    check_definition,
    choose_measures,
    define_measure,
    form_definition,
    import_uploads,
    local_values,
    safe_filename,
    set_targets,
    upload_values,
    uploadable_measures,
)
from data.services.local_measures import define_local_measure

EVERY = ["primary", "secondary"]
EVENTS = {"id": "community_events", "label": "Community events",
          "description": "Events the school ran for families and the local community during the year.",
          "perspective": "partnership_community", "unit": "events", "format": ".0f", "polarity": "higher_better",
          "phases": EVERY, "rollup": "sum", "min_cohort": 1}
LEADERS = {"id": "leaders_pct", "label": "Pupils in a leadership role",
           "description": "Share of pupils who hold a leadership role: school council, prefects, sports leaders.",
           "perspective": "curriculum", "unit": "%", "format": ".0f", "polarity": "higher_better", "phases": EVERY,
           "rollup": "pooled_ratio", "scale": 100, "uncertainty": "wilson"}
GOOD_CSV = b"URN,period,value\r\n100001,2023/24,7\r\n100002,2023/24,4\r\n"
# Every row broken a different way: not 6 digits, not a year, not a number.
BAD_CSV = b"URN,period,value\r\n12345,2023/24,7\r\n100002,someday,4\r\n100001,2023/24,lots\r\n"


def whole_store(store: Store) -> dict[str, list[tuple]]:
    """Every data table plus the scorecard choices, targets and the audit log: 'nothing written' means all of it."""
    out = snapshot(store)
    for t in ("scorecard_measures", "targets", "audit_log"):
        out[t] = store.query(f"SELECT * FROM {t} ORDER BY ALL")
    return out


@dataclass(frozen=True)
class World:
    store: Store
    a: int  # a trust
    a_cluster: int  # a cluster inside the trust
    b: int  # another group

    def viewer(self, role: Role, group: int | None = None) -> Viewer:
        return Viewer(role, group, f"{role.value} of {group}")


@pytest.fixture
def world(store: Store) -> World:
    """Trust A (schools 100001-2) with cluster A1 (100001); partnership B (100003, with its own local measure)."""
    with store.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Primary', 'primary'), "
                    "(100002, 'Beech Primary', 'primary'), (100003, 'Cedar Academy', 'secondary')")
    a = groups.create_group(store, "trust", "Acorn Trust")
    a1 = groups.create_group(store, "cluster", "Acorn North", parent_id=a)
    b = groups.create_group(store, "partnership", "Birch Partnership")
    groups.add_memberships(store, a, [100001, 100002], "2019-09-01")
    groups.add_memberships(store, a1, [100001], "2019-09-01")
    groups.add_memberships(store, b, [100003], "2019-09-01")
    assert define_local_measure(store, a, EVENTS, actor="setup") == []
    assert define_local_measure(store, b, {**LEADERS, "id": "birch_leaders"}, actor="setup") == []
    return World(store, a, a1, b)


# ------------------------------------------------------------------------------ who may edit


def test_who_may_edit_which_group(world: World) -> None:
    s, a, a1, b = world.store, world.a, world.a_cluster, world.b
    expected = {
        (Role.LEADER, a): {a: True, a1: True, b: False},
        (Role.GOVERNOR, a1): {a: False, a1: True, b: False},  # a cluster's governor: not the trust above it
        (Role.GOVERNOR, b): {a: False, a1: False, b: True},
        (Role.ADMIN, None): {a: True, a1: True, b: True},
        (Role.LEADER, None): {a: False, a1: False, b: False},  # no group: nothing
    }
    found = {(role, g): {gid: can_edit_scorecard(s, world.viewer(role, g), gid) for gid in (a, a1, b)}
             for role, g in expected}
    assert found == expected
    assert can_edit_scorecard(s, world.viewer(Role.ADMIN), 999) is False  # no such group


def test_a_leader_of_one_group_cannot_change_another(world: World) -> None:
    s = world.store
    leader = world.viewer(Role.LEADER, world.a)
    before = whole_store(s)
    assert choose_measures(s, leader, world.b, ["progress8"]) == [REFUSED_EDIT]
    assert set_targets(s, leader, world.b, "2023/24", {"progress8": 0.2}) == [REFUSED_EDIT]
    issues = define_measure(s, leader, world.b, {**EVENTS, "id": "birch_events"})
    assert [(i.measure, i.message) for i in issues] == [("birch_events", REFUSED_EDIT)]
    result = upload_values(s, leader, world.b, "birch_leaders", GOOD_CSV, filename="values.csv")
    assert [(i.source, i.measure, i.message) for i in result.issues] == [("values.csv", "birch_leaders", REFUSED_EDIT)]
    assert result.rows == []
    assert whole_store(s) == before


def test_a_governor_edits_their_own_group(world: World) -> None:
    s, a = world.store, world.a
    gov = world.viewer(Role.GOVERNOR, a)
    assert choose_measures(s, gov, a, ["attainment8", "community_events", "pupils"]) == []
    assert governance.scorecard_measures(s, "group", a) == ["attainment8", "community_events", "pupils"]
    assert set_targets(s, gov, a, "2023/24", {"attainment8": 48.5, "community_events": 12}) == []
    assert governance.targets(s, "group", a, "2023/24") == {"attainment8": 48.5, "community_events": 12.0}
    assert define_measure(s, gov, a, {**LEADERS, "id": "acorn_leaders"}) == []
    assert [d["id"] for d in local_measures.local_measures(s, a)] == ["acorn_leaders", "community_events"]
    result = upload_values(s, gov, a, "community_events", GOOD_CSV, filename="events.csv")
    assert result.issues == [] and len(result.rows) == 2
    stored = local_values(s, gov, a, "community_events")
    assert stored[["period", "urn", "school", "value"]].to_dict("records") == [
        {"period": "2023/24", "urn": 100001, "school": "Ash Primary", "value": 7.0},
        {"period": "2023/24", "urn": 100002, "school": "Beech Primary", "value": 4.0},
    ]
    actors = {r[0] for r in s.query("SELECT DISTINCT actor FROM audit_log WHERE actor <> 'setup' "
                                    "AND action <> 'create' AND action <> 'add'")}
    assert actors == {gov.name}


def test_a_leader_edits_a_group_nested_in_theirs(world: World) -> None:
    leader = world.viewer(Role.LEADER, world.a)
    assert choose_measures(world.store, leader, world.a_cluster, ["ks2_rwm_expected"]) == []
    assert governance.scorecard_measures(world.store, "group", world.a_cluster) == ["ks2_rwm_expected"]


def test_an_admin_edits_any_group(world: World) -> None:
    s, b = world.store, world.b
    admin = world.viewer(Role.ADMIN)
    assert choose_measures(s, admin, b, ["birch_leaders", "progress8"]) == []
    assert set_targets(s, admin, b, "2023/24", {"birch_leaders": 30}) == []
    assert governance.targets(s, "group", b, "2023/24") == {"birch_leaders": 30.0}
    assert define_measure(s, admin, b, {**EVENTS, "id": "birch_events"}) == []
    result = upload_values(s, admin, b, "birch_events", b"URN,period,value\r\n100003,2023/24,5\r\n",
                           filename="birch.csv")
    assert result.issues == []
    assert choose_measures(s, admin, 999, ["progress8"]) == ["There is no group with id 999."]


# ------------------------------------------------------------------------------ choosing measures


def test_every_problem_with_a_choice_is_listed_and_nothing_is_written(world: World) -> None:
    s, a = world.store, world.a
    gov = world.viewer(Role.GOVERNOR, a)
    before = whole_store(s)
    problems = choose_measures(s, gov, a, ["progress8", "no_such_measure", "progress8", "birch_leaders"])
    assert problems == [
        "There is no measure 'no_such_measure': choose national measures or this group's local ones.",
        "Progress 8 (progress8) is chosen more than once: choose each measure once.",
        "There is no measure 'birch_leaders': choose national measures or this group's local ones.",
    ]
    # the same words as for an id that exists nowhere: nothing tells a group which ids other groups have
    assert choose_measures(s, gov, a, ["birch_leaders_x"]) == [
        "There is no measure 'birch_leaders_x': choose national measures or this group's local ones."]
    assert choose_measures(s, gov, a, []) == ["Choose at least one measure for the scorecard."]
    assert whole_store(s) == before


def test_the_measures_that_apply_follow_the_members_phases(world: World) -> None:
    s, admin = world.store, world.viewer(Role.ADMIN)
    ids = {m.id for m in applicable_measures(s, admin, world.a, "2023/24")}  # primary schools only
    assert "ks2_rwm_expected" in ids and "community_events" in ids
    assert "progress8" not in ids and "birch_leaders" not in ids
    assert "progress8" in {m.id for m in applicable_measures(s, admin, world.b, "2023/24")}  # a secondary member
    assert [m.id for m in uploadable_measures(s, world.viewer(Role.LEADER, world.a), world.a)] == ["community_events"]


# ------------------------------------------------------------------------------ targets


def test_targets_are_audited_with_before_and_after(world: World) -> None:
    s, a = world.store, world.a
    gov = world.viewer(Role.GOVERNOR, a)
    assert set_targets(s, gov, a, "2023/24", {"attainment8": 45.0, "basics_94": 60.0}) == []
    assert set_targets(s, gov, a, "2023/24", {"attainment8": 47.5, "basics_94": 60.0, "ebacc_entry": None}) == []
    assert set_targets(s, gov, a, "2023/24", {"basics_94": None}) == []
    rows = s.query("SELECT actor, action, entity, entity_id, before_json, after_json FROM audit_log "
                   "WHERE entity = 'target' ORDER BY audit_id")
    assert [(r[0], r[1], r[2], r[3], json.loads(r[4] or "null"), json.loads(r[5] or "null")) for r in rows] == [
        (gov.name, "set", "target", f"group:{a}:attainment8:2023/24", None, 45.0),
        (gov.name, "set", "target", f"group:{a}:basics_94:2023/24", None, 60.0),
        (gov.name, "set", "target", f"group:{a}:attainment8:2023/24", 45.0, 47.5),  # unchanged ones: no line
        (gov.name, "clear", "target", f"group:{a}:basics_94:2023/24", 60.0, None),
    ]
    assert governance.targets(s, "group", a, "2023/24") == {"attainment8": 47.5}


def test_one_bad_target_writes_none_of_them(world: World) -> None:
    s, a = world.store, world.a
    gov = world.viewer(Role.GOVERNOR, a)
    before = whole_store(s)
    problems = set_targets(s, gov, a, "2023/24", {"attainment8": 50, "basics_94": 120, "progress8": "lots",
                                                   "pupils": 300, "nonsense": 1})
    assert problems == [
        "The target for Grade 4+ in English and maths is a percentage: give a number from 0 to 100, not 120.",
        "The target for Progress 8, 'lots', is not a number.",
        "Pupils on roll describes the schools' context and is not judged: it takes no target.",
        "There is no measure 'nonsense' on this group's scorecard to set a target for.",
    ]
    assert set_targets(s, gov, a, "someday", {"attainment8": 50})[0].startswith("The academic year is not right")
    assert whole_store(s) == before


def test_targets_take_numbers_as_people_type_them(world: World) -> None:
    s, a = world.store, world.a
    gov = world.viewer(Role.GOVERNOR, a)
    assert set_targets(s, gov, a, "2023-24", {"basics_94": "65%", "attainment8": float("nan")}) == []
    assert governance.targets(s, "group", a, "2023/24") == {"basics_94": 65.0}


# ------------------------------------------------------------------------------ local measures


def test_the_live_check_finds_what_saving_would(world: World) -> None:
    s, a = world.store, world.a
    bad = {**EVENTS, "id": "Bad Id", "label": "Bad events", "polarity": "upwards"}
    gov = world.viewer(Role.GOVERNOR, a)
    live = check_definition(s, gov, a, bad)
    saved = define_measure(s, world.viewer(Role.GOVERNOR, a), a, bad)
    assert live == saved and len(live) == 2
    assert [i.field for i in live] == ["id", "polarity"]
    taken = check_definition(s, gov, a, {**EVENTS, "id": "birch_leaders", "label": "Leaders"})
    assert [i.message for i in taken] == ["id 'birch_leaders' is already taken by another measure (ids are unique "
                                          "across national and local measures)"]
    assert check_definition(s, gov, a, EVENTS) == []  # its own measure, re-saved: a correction, not a clash


def test_the_form_definition_drops_blanks_and_scales_percentages() -> None:
    assert form_definition({"id": " x ", "label": "", "formula": None, "phases": ("primary",), "unit": "%",
                            "rollup": "pooled_ratio", "min_cohort": 6}) == {
        "id": "x", "phases": ["primary"], "unit": "%", "rollup": "pooled_ratio", "min_cohort": 6, "scale": 100,
        "uncertainty": "wilson"}
    assert form_definition({"unit": "hours", "rollup": "sum"}) == {"unit": "hours", "rollup": "sum"}


def test_a_bad_upload_writes_nothing(world: World) -> None:
    s, a = world.store, world.a
    before = whole_store(s)
    result = upload_values(s, world.viewer(Role.GOVERNOR, a), a, "community_events", BAD_CSV, filename="bad.csv")
    assert [(i.line, i.field) for i in result.issues] == [(2, "URN"), (3, "period"), (4, "value")]
    assert whole_store(s) == before


# ------------------------------------------------------------------------------ imports


def test_only_an_admin_imports(world: World) -> None:
    s = world.store
    before = whole_store(s)
    content = (PERF / "815_2019_ks4provisional.csv").read_bytes()
    reports = import_uploads(s, world.viewer(Role.LEADER, world.a), [("815_2019_ks4provisional.csv", content)],
                             "2018/19")
    assert [(r.ok, r.message) for r in reports] == [(False, REFUSED_IMPORT)]
    assert whole_store(s) == before


def test_an_admin_imports_uploads_with_progress(world: World) -> None:
    s = world.store
    seen: list[tuple[int, str]] = []
    files = [("../../815_2019_ks4provisional.csv", (PERF / "815_2019_ks4provisional.csv").read_bytes()),
             ("ks2_meta.csv", (META / "ks2_meta.csv").read_bytes())]
    reports = import_uploads(s, world.viewer(Role.ADMIN), files, " 2018/19 ",
                             progress=lambda i, name: seen.append((i, name)))
    assert seen == [(0, files[0][0]), (1, "ks2_meta.csv")]
    assert [(r.file, r.ok, r.kind) for r in reports] == [("815_2019_ks4provisional.csv", True, "ks4provisional"),
                                                        ("ks2_meta.csv", False, "")]
    assert "metadata file" in reports[1].message
    assert schools.periods(s) == ["2018/19"]  # the whole-table work ran once, at the end
    log = imports.import_log(s)
    assert list(log["outcome"]) == ["failed", "ok"] and set(log["actor"]) == {"admin of None"}


def test_uploaded_names_are_made_safe() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\2018-2019 ks4final.csv") == "2018-2019_ks4final.csv"
    assert safe_filename(".hidden.csv") == "hidden.csv"
    assert safe_filename("") == "upload.csv"
    long = safe_filename("x" * 300 + ".xlsx")
    assert len(long) == 120 and long.endswith(".xlsx")
