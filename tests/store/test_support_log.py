"""Support records on a real DuckDB store: every problem said at once, nothing written on refusal, one audited
transaction on success, reads scoped by the viewer, and balances checked by hand.

The ledger used throughout (Riverside Partnership; academic year 2023/24 runs 1 Sep 2023 to 31 Aug 2024):

    id  giver   taker   kind         dates                      hours  counts in
    1   Ash     Beech   cpd          2023-10-02 .. 2023-10-04    12     2023/24
    2   Ash     Cedar   peer_review  2024-01-15 (one day)         6     2023/24
    3   Beech   Ash     leadership   2024-03-01 .. 2024-07-19    10     2023/24
    4   Cedar   Beech   staff        2022-11-01 .. 2022-12-01    20     2022/23
    5   Beech   Cedar   curriculum   2023-06-01 .. 2023-09-30     4     2022/23 and 2023/24

2023/24 (records 1, 2, 3, 5): Ash gave 12+6 = 18, received 10 -> +8, net giver (|8| > 10% of 28);
Beech gave 10+4 = 14, received 12 -> +2, balanced (|2| <= 10% of 26 = 2.6); Cedar gave 0, received 6+4 = 10 -> -10,
net taker. All years: Ash 18/10 -> +8; Beech 14/32 -> -18; Cedar 20/10 -> +10.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from data.db.state import StateConflict
from data.db.store import Store
from data.services import groups
from data.services.access import AccessDenied, Role, Viewer
from data.services.support_log import (
    BALANCE_COLUMNS,
    NO_SUPPORT,
    RECORD_COLUMNS,
    balance_frame,
    current_members,
    default_start,
    network_frames,
    position,
    record_support,
    support_balance,
    support_record_count,
    support_records,
)

ASH, BEECH, CEDAR, DAMSON, ELM = 100001, 100002, 100003, 100004, 200001
ADMIN = Viewer(Role.ADMIN, None, "Data manager")

LEDGER = [
    (ASH, BEECH, "cpd", "2023-10-02", "2023-10-04", 12.0),
    (ASH, CEDAR, "peer_review", "2024-01-15", None, 6.0),
    (BEECH, ASH, "leadership", "2024-03-01", "2024-07-19", 10.0),
    (CEDAR, BEECH, "staff", "2022-11-01", "2022-12-01", 20.0),
    (BEECH, CEDAR, "curriculum", "2023-06-01", "2023-09-30", 4.0),
]


@pytest.fixture()
def world(store: Store) -> dict[str, int]:
    """Riverside Partnership (Ash, Beech, Cedar; Damson left in 2021), its North cluster (Ash) and Elm Trust (Elm)."""
    store.query("INSERT INTO establishments (urn, name) VALUES (?, 'Ash Primary School'), (?, 'Beech Academy'), "
                "(?, 'Cedar School'), (?, 'Damson Infants'), (?, 'Elm High School')", [ASH, BEECH, CEDAR, DAMSON, ELM])
    river = groups.create_group(store, "partnership", "Riverside Partnership")
    north = groups.create_group(store, "cluster", "Riverside North", parent_id=river)
    elm = groups.create_group(store, "trust", "Elm Trust")
    groups.add_memberships(store, river, [ASH, BEECH, CEDAR], "2019-09-01")
    groups.add_memberships(store, river, [DAMSON], "2019-09-01", "2021-08-31")
    groups.add_memberships(store, north, [ASH], "2020-09-01")
    groups.add_memberships(store, elm, [ELM], "2018-09-01")
    return {"river": river, "north": north, "elm": elm}


def leader(group_id: int) -> Viewer:
    return Viewer(Role.LEADER, group_id, "Leader")


def record(store: Store, viewer: Viewer, group_id: int, giver: int | None, taker: int | None, kind: str = "cpd",
           start: object = "2024-01-15", end: object = None, hours: object = 5.0, **kw: object) -> list[str]:
    return record_support(store, viewer, group_id=group_id, giver=giver, taker=taker, kind=kind, start_date=start,
                          end_date=end, hours=hours, **kw)


def write_ledger(store: Store, group_id: int) -> None:
    for giver, taker, kind, start, end, hours in LEDGER:
        assert record(store, ADMIN, group_id, giver, taker, kind, start, end, hours) == []


def audit_rows(store: Store) -> list[tuple]:
    return store.query("SELECT actor, action, entity, entity_id, before_json, after_json FROM audit_log "
                       "WHERE entity = 'support' ORDER BY audit_id")


# ------------------------------------------------------------------------------------------------ schema


def test_the_migration_makes_the_ledger_table(store: Store) -> None:
    # issue 12 point 8: the ledger is a state table; pages read it through the mirror with today's column types
    cols = store.query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM support_records)")
    assert cols == [
        ("support_id", "INTEGER"), ("group_id", "INTEGER"), ("giver_urn", "INTEGER"), ("taker_urn", "INTEGER"),
        ("kind", "VARCHAR"), ("measure", "VARCHAR"), ("start_date", "DATE"), ("end_date", "DATE"),
        ("hours", "DOUBLE"), ("notes", "VARCHAR"), ("recorded_by", "VARCHAR"), ("recorded_at", "TIMESTAMP"),
    ]
    if store.state.dialect == "sqlite":
        required = {r[1] for r in store.state.query("PRAGMA table_info(support_records)") if r[3] or r[5]}
    else:
        required = {r[0] for r in store.state.query("SELECT column_name FROM information_schema.columns WHERE "
                                                    "table_name = 'support_records' AND is_nullable = 'NO'")}
    assert required == {"support_id", "group_id", "giver_urn", "taker_urn", "kind", "start_date", "hours"}


@pytest.mark.parametrize("values", [
    (1, 1, 2, "gossip", date(2024, 1, 1), None, 1),  # kind outside the closed set
    (1, 1, 1, "cpd", date(2024, 1, 1), None, 1),  # a school supporting itself
    (1, 1, 2, "cpd", date(2024, 1, 1), None, 0),  # no hours
    (1, 1, 2, "cpd", date(2024, 1, 2), date(2024, 1, 1), 1),  # ends before it starts
])
def test_the_table_itself_refuses_impossible_rows(store: Store, values: tuple) -> None:
    """Defence in depth: even a write that skips record_support cannot store these (issue 12 point 8: the state
    store's own table refuses them, SQLite's and PostgreSQL's words alike)."""
    with pytest.raises(StateConflict, match="(?i)check constraint"), store.transaction() as cur:
        cur.execute("INSERT INTO support_records (group_id, giver_urn, taker_urn, kind, start_date, end_date, hours) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", list(values))
    assert support_record_count(store) == 0


# ------------------------------------------------------------------------------------------------ writes


def test_a_valid_record_is_saved_with_its_audit_entry(store: Store, world: dict[str, int]) -> None:
    gen = store.generation
    problems = record(store, leader(world["river"]), world["river"], ASH, BEECH, "peer_review", date(2024, 1, 15),
                      date(2024, 1, 16), 7.5, measure="attainment8", notes="  Maths review – £0 cost ")
    assert problems == []
    assert store.generation == gen + 1  # one transaction
    rows = store.query("SELECT support_id, group_id, giver_urn, taker_urn, kind, measure, start_date, end_date, "
                       "hours, notes, recorded_by FROM support_records")
    assert rows == [(1, world["river"], ASH, BEECH, "peer_review", "attainment8", date(2024, 1, 15),
                     date(2024, 1, 16), 7.5, "Maths review – £0 cost", "Leader")]
    [(actor, action, entity, entity_id, before, after)] = audit_rows(store)
    assert (actor, action, entity, entity_id, before) == ("Leader", "record", "support", "1", None)
    assert json.loads(after) == {"group_id": world["river"], "giver_urn": ASH, "taker_urn": BEECH,
                                 "kind": "peer_review", "measure": "attainment8", "start_date": "2024-01-15",
                                 "end_date": "2024-01-16", "hours": 7.5, "notes": "Maths review – £0 cost"}


def test_every_problem_is_said_at_once_and_nothing_is_written(store: Store, world: dict[str, int]) -> None:
    problems = record(store, ADMIN, world["river"], ASH, ASH, kind="gossip", start="2024-02-30", end="2024-01-01",
                      hours=0, measure="happiness")
    assert problems == [
        "The school giving support and the school receiving it must be different schools.",
        "Support type 'gossip' is not one of: Peer review, Training (CPD), Leadership support, "
        "Shared or seconded staff, Curriculum work, Other.",
        "The start date '2024-02-30' is not a date like 2024-09-30.",
        "Hours must be more than 0.",
        "Measure 'happiness' is not a national measure or one of Riverside Partnership's own.",
    ]
    assert support_record_count(store) == 0
    assert audit_rows(store) == []


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"start": "2024-03-02", "end": "2024-03-01"},
     "The end date (01 March 2024) is before the start date (02 March 2024)."),
    ({"hours": 2000.5}, "Hours must be at most 2,000 (about a year of one person's time): record longer support "
                        "as several records."),
    ({"hours": None}, "Enter the hours of support as a number."),
    ({"hours": float("nan")}, "Enter the hours of support as a number."),
    ({"start": None}, "Enter the start date."),
    ({"giver": None}, "Choose the school giving the support."),
    ({"giver": DAMSON}, "Damson Infants is not a current member of Riverside Partnership, so support cannot be "
                        "recorded for it here."),
    ({"taker": ELM}, "Elm High School is not a current member of Riverside Partnership, so support cannot be "
                     "recorded for it here."),
    ({"notes": "x" * 2001}, "Notes must be at most 2,000 characters (these are 2,001)."),
])
def test_each_rule_alone(store: Store, world: dict[str, int], kwargs: dict, problem: str) -> None:
    args = {"giver": ASH, "taker": BEECH, **kwargs}
    giver, taker = args.pop("giver"), args.pop("taker")
    assert record(store, ADMIN, world["river"], giver, taker, **args) == [problem]
    assert support_record_count(store) == 0


def test_the_hour_limits_are_inclusive(store: Store, world: dict[str, int]) -> None:
    assert record(store, ADMIN, world["river"], ASH, BEECH, hours=2000) == []
    assert record(store, ADMIN, world["river"], ASH, BEECH, hours=0.25) == []
    assert support_record_count(store) == 2


def test_who_may_record(store: Store, world: dict[str, int]) -> None:
    river = world["river"]
    governor = Viewer(Role.GOVERNOR, river, "Governor")
    assert record(store, governor, river, ASH, BEECH) == [
        "Governors and trustees can read support records but not record them: ask a leader of the group."]
    assert record(store, leader(world["elm"]), river, ASH, BEECH) == [
        "You can record support only for your own group, not for Riverside Partnership."]
    # the leader of a nested cluster may not record in the partnership above it
    assert record(store, leader(world["north"]), river, ASH, BEECH) == [
        "You can record support only for your own group, not for Riverside Partnership."]
    assert record(store, ADMIN, 9999, ASH, BEECH) == ["There is no group with id 9999."]
    assert support_record_count(store) == 0
    assert record(store, leader(river), river, ASH, BEECH) == []
    assert record(store, ADMIN, world["elm"], ELM, ELM) == [
        "The school giving support and the school receiving it must be different schools."]
    assert support_record_count(store) == 1


def test_current_members_include_nested_groups_and_leave_out_leavers(store: Store, world: dict[str, int]) -> None:
    assert current_members(store, world["river"]) == [ASH, BEECH, CEDAR]
    assert current_members(store, world["river"], on=date(2020, 1, 1)) == [ASH, BEECH, CEDAR, DAMSON]
    assert current_members(store, world["north"]) == [ASH]


# ------------------------------------------------------------------------------------------------ reads


def test_records_of_a_year_with_names(store: Store, world: dict[str, int]) -> None:
    write_ledger(store, world["river"])
    df = support_records(store, leader(world["river"]), world["river"], "2023/24")
    assert list(df.columns) == RECORD_COLUMNS
    # newest first: 3 (Mar 2024), 2 (Jan 2024), 1 (Oct 2023), 5 (Jun 2023, runs into September)
    assert df[["support_id", "giver", "taker", "kind_label", "start_date", "end_date", "hours"]].values.tolist() == [
        [3, "Beech Academy", "Ash Primary School", "Leadership support", date(2024, 3, 1), date(2024, 7, 19), 10.0],
        [2, "Ash Primary School", "Cedar School", "Peer review", date(2024, 1, 15), None, 6.0],
        [1, "Ash Primary School", "Beech Academy", "Training (CPD)", date(2023, 10, 2), date(2023, 10, 4), 12.0],
        [5, "Beech Academy", "Cedar School", "Curriculum work", date(2023, 6, 1), date(2023, 9, 30), 4.0],
    ]
    assert support_records(store, ADMIN, world["river"], "2022/23")["support_id"].tolist() == [5, 4]
    assert support_records(store, ADMIN, world["river"], "2021/22").empty
    assert support_records(store, ADMIN, world["river"])["support_id"].tolist() == [3, 2, 1, 5, 4]


def test_a_group_the_viewer_cannot_see_is_refused(store: Store, world: dict[str, int]) -> None:
    write_ledger(store, world["river"])
    with pytest.raises(AccessDenied, match="only your own group"):
        support_records(store, leader(world["elm"]), world["river"])
    with pytest.raises(AccessDenied):
        support_balance(store, Viewer(Role.GOVERNOR, world["elm"], "Governor"), world["river"], "2023/24")
    # governors read their own group's ledger
    assert len(support_records(store, Viewer(Role.GOVERNOR, world["river"], "G"), world["river"])) == 5


def test_support_recorded_in_a_cluster_is_the_partnership_s_too(store: Store, world: dict[str, int]) -> None:
    # the cluster has one member, so record in the partnership's cluster via a second member first
    groups.add_memberships(store, world["north"], [BEECH], "2020-09-01")
    assert record(store, leader(world["north"]), world["north"], ASH, BEECH, hours=3) == []
    assert support_records(store, leader(world["river"]), world["river"])["hours"].tolist() == [3.0]
    assert support_records(store, leader(world["elm"]), world["elm"]).empty


def test_balance_for_a_year_by_hand(store: Store, world: dict[str, int]) -> None:
    write_ledger(store, world["river"])
    df = support_balance(store, leader(world["river"]), world["river"], "2023/24")
    assert list(df.columns) == BALANCE_COLUMNS
    assert df.values.tolist() == [
        [ASH, "Ash Primary School", 18.0, 10.0, 8.0, "net giver"],
        [BEECH, "Beech Academy", 14.0, 12.0, 2.0, "balanced"],
        [CEDAR, "Cedar School", 0.0, 10.0, -10.0, "net taker"],
    ]


def test_balance_over_all_years_by_hand(store: Store, world: dict[str, int]) -> None:
    write_ledger(store, world["river"])
    df = support_balance(store, ADMIN, world["river"])
    assert df[["urn", "given", "received", "balance", "position"]].values.tolist() == [
        [CEDAR, 20.0, 10.0, 10.0, "net giver"],
        [ASH, 18.0, 10.0, 8.0, "net giver"],
        [BEECH, 14.0, 32.0, -18.0, "net taker"],
    ]


def test_balance_without_records_lists_every_member(store: Store, world: dict[str, int]) -> None:
    df = support_balance(store, ADMIN, world["river"], "2020/21")
    assert df[["urn", "given", "received", "position"]].values.tolist() == [
        [ASH, 0.0, 0.0, NO_SUPPORT], [BEECH, 0.0, 0.0, NO_SUPPORT], [CEDAR, 0.0, 0.0, NO_SUPPORT],
        [DAMSON, 0.0, 0.0, NO_SUPPORT],
    ]


def test_network_frames_add_up_each_pair(store: Store, world: dict[str, int]) -> None:
    write_ledger(store, world["river"])
    assert record(store, ADMIN, world["river"], ASH, BEECH, hours=3, start="2024-02-01") == []
    records = support_records(store, ADMIN, world["river"], "2023/24")
    edges, nodes = network_frames(records, support_balance(store, ADMIN, world["river"], "2023/24"))
    assert edges.values.tolist() == [[ASH, BEECH, 15.0], [BEECH, ASH, 10.0], [ASH, CEDAR, 6.0], [BEECH, CEDAR, 4.0]]
    assert nodes.values.tolist() == [[ASH, "Ash Primary School", 21.0, 10.0], [BEECH, "Beech Academy", 14.0, 15.0],
                                     [CEDAR, "Cedar School", 0.0, 10.0]]


# ------------------------------------------------------------------------------------------------ pure helpers


@pytest.mark.parametrize(("given", "received", "words"), [
    (0, 0, "no support recorded"), (10, 0, "net giver"), (0, 10, "net taker"), (10, 9, "balanced"),
    (11, 9, "balanced"), (12, 9, "net giver"), (9, 12, "net taker"),
])
def test_position_in_words(given: float, received: float, words: str) -> None:
    # 11/9: |2| <= 10% of 20; 12/9: |3| > 10% of 21 = 2.1
    assert position(given, received) == words


def test_balance_frame_keeps_a_former_member_named_in_a_record() -> None:
    records = pd.DataFrame({"giver_urn": [DAMSON], "taker_urn": [ASH], "hours": [5.0]})
    df = balance_frame(records, [ASH], {ASH: "Ash", DAMSON: "Damson"})
    assert df.values.tolist() == [[DAMSON, "Damson", 5.0, 0.0, 5.0, "net giver"], [ASH, "Ash", 0.0, 5.0, -5.0,
                                                                                   "net taker"]]


@pytest.mark.parametrize(("period", "today", "expected"), [
    ("2023/24", date(2024, 1, 10), date(2024, 1, 10)),
    ("2023/24", date(2026, 11, 26), date(2024, 8, 31)),
    ("2023/24", date(2020, 5, 1), date(2023, 9, 1)),
    (None, date(2026, 11, 26), date(2026, 11, 26)),
])
def test_the_form_starts_on_a_date_within_the_year(period: str | None, today: date, expected: date) -> None:
    assert default_start(period, today) == expected
