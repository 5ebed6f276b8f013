"""Groups made and kept in the app (data/services/group_admin.py): every write, its audit entry, who may make it, and
how the
dates people give drive which years a school counts. A small world of real rows in a fresh store: five schools,
a trust from the DfE's files holding two of them, and the admin's partnership."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from data.db.errors import StoreError
from data.db.store import Store
from data.services import access, groups, scope
from data.services import group_admin as ga
from data.services.access import AccessDenied, Role, Viewer

ADMIN = Viewer(Role.ADMIN, None, "Ada Admin", "ada@example.org")
PUBLIC = Viewer(Role.PUBLIC, None, "parent")
# (urn, name, town, postcode, status): made up for the test, written straight into the store
SCHOOLS = [
    (100001, "Ashby Academy", "Ashby", "AB1 2CD", "open"),
    (100002, "Brook Primary School", "Brookfield", "AB1 9XY", "open"),
    (100003, "Castle 100% School", "Castleton", "CT4 5EF", "open"),
    (100004, "Dale Old School", "Ashby", "AB1 7QQ", "closed"),
    (100005, "Elm Secondary", "Elmfield", "EL5 6GH", "open"),
]


@pytest.fixture
def world(store: Store) -> dict:
    with store.results_transaction() as cur:
        cur.executemany("INSERT INTO establishments (urn, name, town, postcode, status, phase, la_name) "
                        "VALUES (?, ?, ?, ?, ?, 'secondary', 'Northshire')", SCHOOLS)
    trust = groups.create_group(store, "trust", "Oak Trust", code="TR00001", source="gias_groups")
    groups.add_memberships(store, trust, [100001, 100002], "2015-09-01")
    gid = ga.create_group(store, ADMIN, "partnership", "Riverside Partnership", opened="2024-09-01")
    other = ga.create_group(store, ADMIN, "cluster", "Hill Cluster")
    return {"trust": trust, "gid": gid, "other": other}


def leader(group: int, urn: int | None = None) -> Viewer:
    return Viewer(Role.LEADER, group, "Lee Leader", "lee@example.org", school_urn=urn)


def governor(group: int) -> Viewer:
    return Viewer(Role.GOVERNOR, group, "Gov")


def audits(store: Store) -> list[dict]:
    rows = store.query("SELECT actor, action, entity, entity_id, group_id, before_json, after_json FROM audit_log "
                       "ORDER BY audit_id")
    return [{"actor": a, "action": b, "entity": c, "entity_id": d, "group_id": e,
             "before": None if f is None else json.loads(f), "after": None if g is None else json.loads(g)}
            for a, b, c, d, e, f, g in rows]


def stays(store: Store, gid: int) -> list[tuple]:
    return store.query("SELECT urn, start_date, end_date FROM memberships WHERE group_id = ? ORDER BY ALL", [gid])


def refused(fn, kind: type[Exception] = StoreError) -> str:
    with pytest.raises(kind) as caught:
        fn()
    return caught.value.title


# issue 11 point 1
def test_an_admin_creates_a_partnership_dated_and_audited(store: Store, world: dict) -> None:
    row = store.query("SELECT kind, name, parent_id, status, open_date, source FROM groups WHERE group_id = ?",
                      [world["gid"]])
    assert row == [("partnership", "Riverside Partnership", None, "open", dt.date(2024, 9, 1), "people")]
    entry = [a for a in audits(store) if a["action"] == "create" and a["group_id"] == world["gid"]]
    assert entry == [{"actor": "Ada Admin <ada@example.org>", "action": "create", "entity": "group",
                      "entity_id": str(world["gid"]), "group_id": world["gid"], "before": None,
                      "after": {"kind": "partnership", "name": "Riverside Partnership", "parent": None,
                                "open_date": "2024-09-01"}}]
    # the admin's list of groups (a remembered read) knows it at once
    assert world["gid"] in [g.group_id for g in ga.manageable_groups(store, ADMIN)]


# issue 11 point 1
def test_creating_refuses_trusts_bad_kinds_names_and_people_who_may_not(store: Store, world: dict) -> None:
    assert "come from the DfE's files" in refused(lambda: ga.create_group(store, ADMIN, "trust", "My Trust"))
    assert "not 'club'" in refused(lambda: ga.create_group(store, ADMIN, "club", "X"))
    assert refused(lambda: ga.create_group(store, ADMIN, "hub", "  \n ")) == "A group needs a name."
    assert "already called Riverside Partnership" in refused(
        lambda: ga.create_group(store, ADMIN, "hub", "riverside partnership"))
    assert "not a date" in refused(lambda: ga.create_group(store, ADMIN, "hub", "New", opened="1/9/2025"))
    assert "Governors" in refused(lambda: ga.create_group(store, governor(world["gid"]), "hub", "G"), AccessDenied)
    assert "Parents" in refused(lambda: ga.create_group(store, PUBLIC, "hub", "P"), AccessDenied)
    # a leader creates only inside their own group
    assert "inside their own group" in refused(lambda: ga.create_group(store, leader(world["gid"]), "hub", "L"),
                                               AccessDenied)
    assert "only your own group" in refused(
        lambda: ga.create_group(store, leader(world["gid"]), "hub", "L", parent_id=world["other"]), AccessDenied)
    sub = ga.create_group(store, leader(world["gid"]), "cluster", "Riverside north", parent_id=world["gid"])
    assert store.query("SELECT parent_id FROM groups WHERE group_id = ?", [sub]) == [(world["gid"],)]
    assert store.query("SELECT count(*) FROM groups WHERE name IN ('My Trust', 'X', 'New', 'G', 'P', 'L')") == [(0,)]


# issue 11 point 1
def test_renaming_by_admin_and_the_groups_leader_only(store: Store, world: dict) -> None:
    gid = world["gid"]
    ga.rename_group(store, leader(gid), gid, "Riverside Schools Partnership")
    assert groups.find_group(store, gid).name == "Riverside Schools Partnership"
    last = audits(store)[-1]
    assert (last["action"], last["group_id"], last["before"], last["after"]) == (
        "rename", gid, {"name": "Riverside Partnership"}, {"name": "Riverside Schools Partnership"})
    assert last["actor"] == "Lee Leader <lee@example.org>"
    assert ga.OWN_GROUPS in refused(lambda: ga.rename_group(store, leader(world["other"]), gid, "Mine"), AccessDenied)
    assert "Governors" in refused(lambda: ga.rename_group(store, governor(gid), gid, "Mine"), AccessDenied)
    assert "Parents" in refused(lambda: ga.rename_group(store, PUBLIC, gid, "Mine"), AccessDenied)
    assert "a trust" in refused(lambda: ga.rename_group(store, ADMIN, world["trust"], "Elm Trust"))
    ga.rename_group(store, ADMIN, gid, "Riverside")
    assert groups.find_group(store, gid).name == "Riverside"
    assert store.query("SELECT count(*) FROM groups WHERE name = 'Mine' OR name = 'Elm Trust'") == [(0,)]


# issue 11 point 1
def test_nesting_refuses_itself_cycles_and_other_peoples_groups(store: Store, world: dict) -> None:
    gid, other = world["gid"], world["other"]
    sub = ga.create_group(store, ADMIN, "cluster", "Riverside north", parent_id=gid)
    subsub = ga.create_group(store, ADMIN, "cluster", "Riverside north east", parent_id=sub)
    assert "inside itself" in refused(lambda: ga.set_parent(store, ADMIN, gid, gid))
    assert "cannot contain itself" in refused(lambda: ga.set_parent(store, ADMIN, gid, subsub))
    # a leader moves groups only among their own
    ga.set_parent(store, leader(gid), subsub, gid)
    assert groups.find_group(store, subsub).parent_id == gid
    assert audits(store)[-1]["after"] == {"parent": "Riverside Partnership"}
    assert ga.OWN_GROUPS in refused(lambda: ga.set_parent(store, leader(gid), sub, other), AccessDenied)
    assert "data manager" in refused(lambda: ga.set_parent(store, leader(gid), sub, None), AccessDenied)
    # an admin nests the cluster in the trust (a trust's clusters) but never the trust in anything
    ga.set_parent(store, ADMIN, other, world["trust"])
    assert groups.find_group(store, other).parent_id == world["trust"]
    assert "a trust" in refused(lambda: ga.set_parent(store, ADMIN, world["trust"], gid))
    ga.set_parent(store, ADMIN, other, None)
    assert groups.find_group(store, other).parent_id is None
    # the parent's choices never offer the group itself or one inside it
    assert set(ga.group_detail(store, ADMIN, gid).parent_choices) == {world["trust"], other}


# issue 11 point 1
def test_adding_schools_with_the_date_they_joined(store: Store, world: dict) -> None:
    gid = world["gid"]
    gen = store.generation
    added = ga.add_schools(store, ADMIN, gid, ["100001", 100005], joined="2025-03-15")
    assert added == ga.Added((100001, 100005), ())
    assert store.generation > gen  # the pages' caches are recomputed
    assert stays(store, gid) == [(100001, dt.date(2025, 3, 15), None), (100005, dt.date(2025, 3, 15), None)]
    last = audits(store)[-1]
    assert (last["action"], last["entity"], last["group_id"], last["after"]) == (
        "add", "membership", gid, {"urns": [100001, 100005], "start_date": "2025-03-15"})
    # the school joined in March 2025: it counts in 2024/25 (the year it joined), not before; a full year in 2025/26
    assert groups.group_members(store, gid, "2024/25") == [100001, 100005]
    assert groups.group_members(store, gid, "2023/24") == []
    assert groups.membership_years(store, gid, "2024/25") == {100001: 0, 100005: 0}
    assert groups.membership_years(store, gid, "2025/26") == {100001: 1, 100005: 1}
    # today is the default date
    ga.add_schools(store, ADMIN, gid, [100003])
    assert stays(store, gid)[1] == (100003, dt.date.today(), None)


# issue 11 point 1
def test_adding_refuses_members_unknown_schools_and_bad_dates_all_or_nothing(store: Store, world: dict) -> None:
    gid = world["gid"]
    ga.add_schools(store, ADMIN, gid, [100001], joined="2025-03-15")
    before = stays(store, gid)
    said = refused(lambda: ga.add_schools(store, ADMIN, gid, [100002, 100001, 999999], joined="2025-06-01"))
    assert said == ("There is no school with URN 999999 in the store. Ashby Academy is already a member of Riverside "
                    "Partnership on 01 June 2025 (since 15 March 2025).")
    assert "joins Riverside Partnership on 15 March 2025 already" in refused(
        lambda: ga.add_schools(store, ADMIN, gid, [100001], joined="2024-01-01"))
    assert refused(lambda: ga.add_schools(store, ADMIN, gid, ["12345"])) == "A URN is six digits, not '12345'."
    assert "more than a year ahead" in refused(lambda: ga.add_schools(store, ADMIN, gid, [100002], joined="2099-09-01"))
    assert "before 1 September 1990" in refused(
        lambda: ga.add_schools(store, ADMIN, gid, [100002], joined="1980-09-01"))
    assert "is not a date" in refused(lambda: ga.add_schools(store, ADMIN, gid, [100002], joined="2025-02-30"))
    assert refused(lambda: ga.add_schools(store, ADMIN, gid, [100004])) == (
        "Dale Old School closed: a closed school cannot join a group.")
    assert stays(store, gid) == before  # Brook Primary was not added by the refused call
    # a trust's membership is the DfE's
    assert "a trust" in refused(lambda: ga.add_schools(store, ADMIN, world["trust"], [100005]))
    assert "a trust" in refused(lambda: ga.record_left(store, ADMIN, world["trust"], 100001))
    assert stays(store, world["trust"]) == [(100001, dt.date(2015, 9, 1), None), (100002, dt.date(2015, 9, 1), None)]


# issue 11 point 1
def test_a_leader_invites_and_the_head_accepts(store: Store, world: dict) -> None:
    gid = world["gid"]
    added = ga.add_schools(store, leader(gid), gid, [100002, 100005], joined="2025-09-01")
    assert added == ga.Added((), (100002, 100005))
    assert stays(store, gid) == []  # invited, not members: partnerships are voluntary
    assert audits(store)[-1]["action"] == "invite"
    waiting = ga.invitations(store, leader(world["trust"], urn=100002))
    assert [(i.urn, i.group_name, i.joined) for i in waiting] == [(100002, "Riverside Partnership",
                                                                  dt.date(2025, 9, 1))]
    assert "already and has not answered" in refused(lambda: ga.add_schools(store, leader(gid), gid, [100002]))
    # the head of another school cannot answer for this one
    assert "Only the head of Brook Primary School" in refused(
        lambda: ga.answer_invitation(store, leader(None, urn=100005), waiting[0].invitation_id, True), AccessDenied)
    ga.answer_invitation(store, leader(world["trust"], urn=100002), waiting[0].invitation_id, True)
    assert stays(store, gid) == [(100002, dt.date(2025, 9, 1), None)]
    entry = audits(store)[-1]
    assert (entry["action"], entry["group_id"], entry["actor"]) == ("accept", gid, "Lee Leader <lee@example.org>")
    assert "answered already" in refused(
        lambda: ga.answer_invitation(store, ADMIN, waiting[0].invitation_id, True))
    # Elm's invitation: declined by an admin for it; nothing joins
    elm = ga.invitations(store, ADMIN)[0]
    ga.answer_invitation(store, ADMIN, elm.invitation_id, False)
    assert stays(store, gid) == [(100002, dt.date(2025, 9, 1), None)]
    assert ga.invitations(store, ADMIN) == []
    # a head adding their own school joins at once
    assert ga.add_schools(store, leader(gid, urn=100003), gid, [100003], joined="2025-09-01") == ga.Added((100003,), ())
    # withdrawn by the leader before it is answered ("remove" of an invited school)
    ga.add_schools(store, leader(gid), gid, [100005])
    ga.record_left(store, leader(gid), gid, 100005)
    assert ga.invitations(store, ADMIN) == [] and audits(store)[-1]["action"] == "withdraw"


# issue 11 point 1
def test_recording_a_school_leaving_keeps_its_stay(store: Store, world: dict) -> None:
    gid = world["gid"]
    ga.add_schools(store, ADMIN, gid, [100001, 100005], joined="2022-09-01")
    assert "cannot leave before" in refused(lambda: ga.record_left(store, leader(gid), gid, 100005, "2022-08-31"))
    ga.record_left(store, leader(gid), gid, 100005, "2024-12-31")
    assert stays(store, gid) == [(100001, dt.date(2022, 9, 1), None), (100005, dt.date(2022, 9, 1),
                                                                       dt.date(2024, 12, 31))]
    last = audits(store)[-1]
    assert (last["action"], last["group_id"], last["before"], last["after"]) == (
        "leave", gid, {"urn": 100005, "end_date": None}, {"urn": 100005, "end_date": "2024-12-31"})
    # the years it was a member keep it; the years after do not
    assert groups.group_members(store, gid, "2023/24") == [100001, 100005]
    assert groups.group_members(store, gid, "2025/26") == [100001]
    assert "left Riverside Partnership on 31 December 2024 already" in refused(
        lambda: ga.record_left(store, ADMIN, gid, 100005))
    assert "is not a member" in refused(lambda: ga.record_left(store, ADMIN, gid, 100002))
    assert ga.OWN_GROUPS in refused(lambda: ga.record_left(store, leader(world["other"]), gid, 100001), AccessDenied)
    assert "Governors" in refused(lambda: ga.record_left(store, governor(gid), gid, 100001), AccessDenied)
    # it stays in the group's list, with both dates
    shown = [(s.urn, s.joined, s.left) for s in ga.group_detail(store, ADMIN, gid).stays]
    assert shown == [(100001, dt.date(2022, 9, 1), None), (100005, dt.date(2022, 9, 1), dt.date(2024, 12, 31))]


# issue 11 point 1
def test_closing_keeps_the_past_and_reopening_continues_it(store: Store, world: dict) -> None:
    gid = world["gid"]
    ga.add_schools(store, ADMIN, gid, [100001, 100005], joined="2022-09-01")
    ga.record_left(store, ADMIN, gid, 100005, "2023-08-31")
    ga.add_schools(store, leader(gid), gid, [100002])  # an invitation the closing withdraws
    assert "Only a data manager" in refused(lambda: ga.close_group(store, leader(gid), gid), AccessDenied)
    assert ga.close_group(store, ADMIN, gid, "2024-08-31") == 1
    row = store.query("SELECT status, close_date FROM groups WHERE group_id = ?", [gid])
    assert row == [("closed", dt.date(2024, 8, 31))]
    assert stays(store, gid) == [(100001, dt.date(2022, 9, 1), dt.date(2024, 8, 31)),
                                 (100005, dt.date(2022, 9, 1), dt.date(2023, 8, 31))]
    assert groups.group_members(store, gid, "2023/24") == [100001]  # its past is as it was
    assert groups.group_members(store, gid, "2024/25") == []
    assert ga.invitations(store, ADMIN) == []
    summary = next(g for g in ga.manageable_groups(store, ADMIN) if g.group_id == gid)
    assert summary.closed and summary.close_date == dt.date(2024, 8, 31)
    assert "is closed: reopen it" in refused(lambda: ga.add_schools(store, ADMIN, gid, [100003]))
    assert "already closed" in refused(lambda: ga.close_group(store, ADMIN, gid))
    assert audits(store)[-1]["after"] == {"status": "closed", "close_date": "2024-08-31", "stays_ended": [100001]}
    # reopened: the stay the closing ended continues; the school that left on its own stays left
    assert ga.reopen_group(store, ADMIN, gid) == 1
    assert stays(store, gid) == [(100001, dt.date(2022, 9, 1), None), (100005, dt.date(2022, 9, 1),
                                                                       dt.date(2023, 8, 31))]
    assert store.query("SELECT status, close_date FROM groups WHERE group_id = ?", [gid]) == [("open", None)]
    assert audits(store)[-1]["action"] == "reopen"
    assert "a trust" in refused(lambda: ga.close_group(store, ADMIN, world["trust"]))


# issue 11 point 1
def test_searching_for_schools_by_name_urn_town_or_postcode(store: Store, world: dict) -> None:
    def found(text: str) -> list[int]:
        return [h.urn for h in ga.find_schools(store, ADMIN, text)]

    assert found("ab19xy") == [100002]  # a postcode without its space
    assert found("AB1") == [100001, 100002, 100004]  # open schools first, the closed one last
    assert found("ashby") == [100001, 100004]  # by name or town
    assert found("100005") == [100005]
    assert found("100%") == [100003]  # % is a character to find, not a wildcard
    assert found("_") == []
    assert found("   ") == []
    hit = ga.find_schools(store, leader(world["gid"]), "brook")[0]
    assert hit == ga.SchoolHit(100002, "Brook Primary School", "secondary", "Brookfield", "AB1 9XY", "Northshire",
                               True, ("Oak Trust",))
    assert "Governors" in refused(lambda: ga.find_schools(store, governor(world["gid"]), "brook"), AccessDenied)
    assert "Parents" in refused(lambda: ga.find_schools(store, PUBLIC, "brook"), AccessDenied)


# issue 11 point 1
def test_the_new_partnership_is_seen_by_its_leader_once_it_has_schools(store: Store, world: dict) -> None:
    gid = world["gid"]
    mine = leader(gid)
    assert scope.groups(store, mine) == {}  # no member schools yet: nothing to open
    assert access.school_groups(store, ADMIN, 100001) == [world["trust"]]
    ga.add_schools(store, ADMIN, gid, [100001, 100005], joined="2024-09-01")
    assert scope.groups(store, mine) == {gid: "Riverside Partnership"}
    assert access.school_groups(store, ADMIN, 100001) == [world["trust"], gid]
    assert sorted(scope.members(store, mine, gid)["urn"]) == [100001, 100005]
    # a sub-group made inside it is the leader's too
    sub = ga.create_group(store, mine, "cluster", "Riverside north", parent_id=gid)
    assert sub in [g.group_id for g in ga.manageable_groups(store, mine)]
    assert [g.group_id for g in ga.manageable_groups(store, leader(world["other"]))] == [world["other"]]
    assert "Governors" in refused(lambda: ga.manageable_groups(store, governor(gid)), AccessDenied)
    assert ga.OWN_GROUPS in refused(lambda: ga.group_detail(store, leader(world["other"]), gid), AccessDenied)


def test_a_school_in_no_trust_today_shows_its_last_trust_until_when(store: Store, world: dict) -> None:
    # issue 11 point 1: a census year's membership ends with that year; "no trust" would hide that the school was in
    # one. Brook left Oak Trust on 31 Aug 2023 and is in no trust now; Ashby is still in it; Elm was never in one.
    with store.transaction() as cur:  # the fixture's trust is made with groups.create_group: in the state store
        cur.execute("UPDATE memberships SET end_date = ? WHERE group_id = ? AND urn = 100002",
                    [dt.date(2023, 8, 31), world["trust"]])
    other = groups.create_group(store, "trust", "Pine Trust", code="TR00002", source="gias_groups")
    groups.add_memberships(store, other, [100002], "2019-09-01", "2021-08-31")  # an earlier trust: not the latest stay
    hits = {h.urn: h.trusts for h in ga.find_schools(store, ADMIN, "AB1")}
    assert hits[100001] == ("Oak Trust",)
    assert hits[100002] == ("Oak Trust (until 31 Aug 2023)",)
    assert ga.find_schools(store, ADMIN, "Elm")[0].trusts == ()
    ga.add_schools(store, ADMIN, world["gid"], [100002], "2024-09-01")
    assert [s.trusts for s in ga.group_detail(store, ADMIN, world["gid"]).stays] == [("Oak Trust (until 31 Aug 2023)",)]
