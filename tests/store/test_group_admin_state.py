"""Groups people make live in the state store (issue 12 point 1 with point 8): written there with ids from ten
million up, read back through the mirror as one `groups`/`memberships` with the DfE's trusts, seen by another app
process at its next rerun, and their race-sensitive checks read inside the state transaction, so a process whose
view is a moment old makes no duplicate name, no nesting loop, no second answer to one invitation."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from data.db.errors import StoreError
from data.db.store import Store
from data.services import group_admin as ga
from data.services.access import Role, Viewer

REPO = Path(__file__).resolve().parents[2]
ADMIN = Viewer(Role.ADMIN, None, "Ada Admin", "ada@example.org")
SCHOOLS = [(100001, "Ashby Academy"), (100002, "Brook Primary School"), (100003, "Castle School")]
TRUST_ID = 4242  # an imported trust's id, as GIAS files give the store (below ten million)


@pytest.fixture
def world(store: Store) -> dict:
    with store.results_transaction() as cur:  # what an import writes: schools and a trust with its members
        cur.executemany("INSERT INTO establishments (urn, name, status, phase) VALUES (?, ?, 'open', 'primary')",
                        SCHOOLS)
        cur.execute("INSERT INTO groups (group_id, kind, name, code, source) VALUES (?, 'trust', 'Oak Trust', "
                    "'TR00001', 'gias_groups')", [TRUST_ID])
        cur.execute("INSERT INTO memberships (group_id, urn, start_date, source) VALUES (?, 100001, DATE "
                    "'2015-09-01', 'gias_groups')", [TRUST_ID])
    gid = ga.create_group(store, ADMIN, "partnership", "Riverside Partnership", opened="2024-09-01")
    other = ga.create_group(store, ADMIN, "cluster", "Hill Cluster")
    return {"gid": gid, "other": other}


@pytest.fixture
def pair(store: Store, world: dict) -> Iterator[tuple[Store, Store]]:
    """Two app processes on the same two stores, each opening the results file read-only as app processes do, each
    with its own connection and mirror, read at its last rerun. (The writer that built the world closes first.)"""
    store.close()
    first, second = Store(store.path, read_only=True), Store(store.path, read_only=True)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def refusal(fn) -> str:
    with pytest.raises(StoreError) as caught:
        fn()
    return caught.value.title


# issue 12 point 1
def test_a_group_people_make_is_written_to_the_state_store(store: Store, world: dict) -> None:
    gid = world["gid"]
    assert gid >= 10_000_000  # never an imported trust's id
    assert store.state.query("SELECT kind, name, source FROM groups WHERE group_id = ?", [gid]) == [
        ("partnership", "Riverside Partnership", "people")]
    done = ga.add_schools(store, ADMIN, gid, [100001, 100002], "2024-09-01")
    assert done.joined == (100001, 100002)
    assert sorted(store.state.query("SELECT urn FROM memberships WHERE group_id = ?", [gid])) == [(100001,),
                                                                                                (100002,)]
    # the trust stays the results file's: the state store holds none of it
    assert store.state.query("SELECT count(*) FROM groups WHERE group_id = ?", [TRUST_ID]) == [(0,)]
    assert store.state.query("SELECT count(*) FROM memberships WHERE group_id = ?", [TRUST_ID]) == [(0,)]
    # and the mirror shows both as one groups table, this process's own write at once
    names = {g.name: g for g in ga.manageable_groups(store, ADMIN)}
    assert {"Oak Trust", "Riverside Partnership", "Hill Cluster"} <= set(names)
    assert names["Oak Trust"].dfe and not names["Riverside Partnership"].dfe
    assert names["Riverside Partnership"].members == 2
    assert "Oak Trust" in ga.group_detail(store, ADMIN, gid).stays[0].trusts


# issue 12 point 1
def test_every_change_to_a_group_is_in_the_state_store_with_its_audit_entry(store: Store, world: dict) -> None:
    gid, other = world["gid"], world["other"]
    ga.rename_group(store, ADMIN, gid, "Riverside Schools")
    ga.set_parent(store, ADMIN, other, gid)
    ga.add_schools(store, ADMIN, gid, [100001], "2024-09-01")
    ga.record_left(store, ADMIN, gid, 100001, "2025-07-31")
    assert ga.close_group(store, ADMIN, other, "2025-08-31") == 0
    assert ga.reopen_group(store, ADMIN, other) == 0
    lee = Viewer(Role.LEADER, gid, "Lee", "lee@example.org")
    assert ga.add_schools(store, lee, gid, [100002], "2025-09-01").invited == (100002,)
    head = Viewer(Role.LEADER, gid, "Hal", "hal@example.org", school_urn=100002)
    ga.answer_invitation(store, head, ga.invitations(store, head)[0].invitation_id, True)
    assert store.state.query("SELECT name, parent_id, status FROM groups WHERE group_id IN (?, ?) ORDER BY group_id",
                             [gid, other]) == [("Riverside Schools", None, "open"), ("Hill Cluster", gid, "open")]
    stays = store.state.query("SELECT urn, start_date, end_date FROM memberships WHERE group_id = ? ORDER BY urn",
                              [gid])
    assert [(u, str(s)[:10], None if e is None else str(e)[:10]) for u, s, e in stays] == [
        (100001, "2024-09-01", "2025-07-31"), (100002, "2025-09-01", None)]
    assert store.state.query("SELECT answer FROM group_invitations") == [("accepted",)]
    actions = [r[0] for r in store.state.query("SELECT action FROM audit_log WHERE group_id IN (?, ?) "
                                               "ORDER BY audit_id", [gid, other])]
    assert actions == ["create", "create", "rename", "nest", "add", "leave", "close", "reopen", "invite", "accept"]


# issue 12 point 1
def test_another_process_sees_a_new_group_at_its_next_rerun(pair: tuple[Store, Store]) -> None:
    store, second = pair
    gid = ga.create_group(store, ADMIN, "hub", "Valley Hub")
    assert gid not in [g.group_id for g in ga.manageable_groups(second, ADMIN)]  # its rerun began before
    second.refresh()  # its next rerun
    assert "Valley Hub" in [g.name for g in ga.manageable_groups(second, ADMIN)]


# issue 12 point 1
def test_a_name_another_process_took_a_moment_ago_is_refused(pair: tuple[Store, Store], world: dict) -> None:
    store, second = pair
    ga.create_group(store, ADMIN, "hub", "Valley Hub")
    # the second process's view is a moment old: its own check passes, the one inside the transaction does not
    assert refusal(lambda: ga.create_group(second, ADMIN, "hub", "valley hub")) == (
        "Another group is already called Valley Hub: choose another name.")
    assert refusal(lambda: ga.rename_group(second, ADMIN, world["other"], "VALLEY HUB")) == (
        "Another group is already called Valley Hub: choose another name.")
    assert store.state.query("SELECT count(*) FROM groups WHERE lower(name) = 'valley hub'") == [(1,)]


# issue 12 point 1
def test_two_processes_cannot_nest_two_groups_in_each_other(pair: tuple[Store, Store], world: dict) -> None:
    store, second = pair
    gid, other = world["gid"], world["other"]
    ga.set_parent(store, ADMIN, other, gid)  # Hill Cluster inside Riverside Partnership
    # the second process still sees Hill Cluster on its own: nesting Riverside inside it would close a loop
    assert refusal(lambda: ga.set_parent(second, ADMIN, gid, other)) == (
        "Hill Cluster is inside Riverside Partnership, so Riverside Partnership cannot be nested inside it: a group "
        "cannot contain itself.")
    assert store.state.query("SELECT group_id, parent_id FROM groups WHERE group_id IN (?, ?) ORDER BY group_id",
                             [gid, other]) == [(gid, None), (other, gid)]


# issue 12 point 1
def test_an_invitation_is_answered_once_and_a_closed_group_takes_no_one(store: Store, world: dict) -> None:
    gid = world["gid"]
    lee = Viewer(Role.LEADER, gid, "Lee", "lee@example.org")
    ga.add_schools(store, lee, gid, [100003], "2025-09-01")
    store.close()
    with Store(store.path, read_only=True) as first, Store(store.path, read_only=True) as second:
        pending = ga.invitations(second, ADMIN)[0]
        ga.answer_invitation(first, ADMIN, pending.invitation_id, True)
        assert refusal(lambda: ga.answer_invitation(second, ADMIN, pending.invitation_id, False)) == (
            "That invitation has been answered already, or withdrawn.")
        assert refusal(lambda: ga.withdraw_invitation(second, ADMIN, pending.invitation_id)) == (
            "That invitation has been answered already, or withdrawn.")
        ga.close_group(first, ADMIN, gid, dt.date.today())
        assert refusal(lambda: ga.add_schools(second, ADMIN, gid, [100002])) == (
            "Riverside Partnership is closed: reopen it before changing who is in it.")
        assert first.state.query("SELECT urn FROM memberships WHERE group_id = ?", [gid]) == [(100003,)]
        assert first.state.query("SELECT answer FROM group_invitations") == [("accepted",)]


# issue 12 point 1
def test_a_trust_stays_the_dfes_and_is_refused_in_words(store: Store, world: dict) -> None:
    assert refusal(lambda: ga.rename_group(store, ADMIN, TRUST_ID, "Elm Trust")).startswith(
        "Oak Trust is a trust: its schools and its name come from the DfE's files")
    assert refusal(lambda: ga.add_schools(store, ADMIN, TRUST_ID, [100002])).startswith("Oak Trust is a trust")
    # a group of people may still be nested in a trust (the trust's clusters)
    ga.set_parent(store, ADMIN, world["other"], TRUST_ID)
    assert store.state.query("SELECT parent_id FROM groups WHERE group_id = ?", [world["other"]]) == [(TRUST_ID,)]
    assert [g.name for g in ga.manageable_groups(store, ADMIN) if g.parent_id == TRUST_ID] == ["Hill Cluster"]


RACER = r"""
import json, sys, time
from data.db.store import Store
from data.services import group_admin as ga
from data.services.access import Role, Viewer

path, role, start, pairs = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])
admin = Viewer(Role.ADMIN, None, f"racer {role}")
out = {"made": [], "nested": [], "refused": 0}
with Store(path, read_only=True) as store:
    while time.time() < start:  # both processes begin at once
        time.sleep(0.001)
    for i, (a, b) in enumerate(pairs):
        try:
            out["made"].append(ga.create_group(store, admin, "cluster", f"Race Cluster {i}"))
        except ga.GroupChangeRefused:
            out["refused"] += 1
        child, parent = (a, b) if role == "one" else (b, a)
        try:
            ga.set_parent(store, admin, child, parent)
            out["nested"].append([child, parent])
        except ga.GroupChangeRefused:
            out["refused"] += 1
print(json.dumps(out))
"""


# issue 12 point 1
def test_two_real_processes_racing_make_no_duplicate_name_and_no_loop(store: Store, world: dict) -> None:
    """Two processes at once: each creates the same twelve names and nests each pair of groups the other way
    round. Every name exists once; of each pair one nesting holds, the other is refused in words; nothing else."""
    pairs = [[ga.create_group(store, ADMIN, "hub", f"Left {i}"), ga.create_group(store, ADMIN, "hub", f"Right {i}")]
             for i in range(12)]
    store.close()
    start = time.time() + 3  # both have opened their stores by then
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(store.path), role, str(start), json.dumps(pairs)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for role in ("one", "two")]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=240)
        assert p.returncode == 0, stderr
        results.append(json.loads(stdout))
    made = [g for r in results for g in r["made"]]
    assert len(made) == 12 and sum(r["refused"] for r in results) == 12 + 12
    with Store(store.path, read_only=True) as after:
        names = [r[0] for r in after.state.query("SELECT name FROM groups WHERE name LIKE 'Race Cluster %'")]
        assert sorted(names) == sorted(f"Race Cluster {i}" for i in range(12))
        parents = dict(after.state.query("SELECT group_id, parent_id FROM groups"))
        for a, b in pairs:  # exactly one of the two nestings of each pair
            assert (parents[a] == b) != (parents[b] == a), (a, b, parents[a], parents[b])
        assert sum(len(r["nested"]) for r in results) == 12
