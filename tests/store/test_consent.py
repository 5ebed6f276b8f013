"""Consent to joint publication (issue 11, point 2): who may record a school's answer, the latest answer wins, every
answer is dated and audited with its group, and migration 0017's rebuild of the accounts table keeps every row."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from data.db.errors import StoreError
from data.db.state import StateConflict, move_state
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.consent import (
    AGREED,
    DECLINED,
    NOT_ASKED,
    REFUSED_ROLE,
    consents,
    member_urns,
    record_consent,
    record_consents,
)

MIGRATIONS = Path(__file__).resolve().parents[2] / "data" / "db" / "migrations"
ADMIN = Viewer(Role.ADMIN, None, "Data manager", "dm@la.example")
HEAD_EMAIL = "head@school.example"


@pytest.fixture()
def world(demo_store: Store) -> dict:
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    other = groups.find_group(demo_store, "Copperham Schools Alliance")
    assert group and other
    members = member_urns(demo_store, group.group_id)  # today's members
    head_school, other_school = members[0], members[1]
    with demo_store.transaction() as cur:  # a school's head: a leader account with a school (0017 allows it)
        cur.execute("INSERT INTO accounts (email, display_name, role, group_id, school_urn) "
                    "VALUES (?, 'Head', 'leader', ?, ?)", [HEAD_EMAIL, group.group_id, head_school])
    return {"store": demo_store, "gid": group.group_id, "other": other.group_id, "members": members,
            "head_school": head_school, "other_school": other_school,
            "head": Viewer(Role.LEADER, group.group_id, "Head", HEAD_EMAIL),
            "leader": Viewer(Role.LEADER, group.group_id, "Leader", "leader@school.example"),
            "governor": Viewer(Role.GOVERNOR, group.group_id, "Governor", school_urn=head_school),
            "stranger": Viewer(Role.LEADER, other.group_id, "Other leader")}


def _consent_rows(store: Store) -> list[tuple]:
    return store.query("SELECT * FROM publication_consents ORDER BY consent_id")


def test_a_head_records_only_their_own_schools_answer(world: dict) -> None:  # issue 11 point 2
    s, gid = world["store"], world["gid"]
    assert record_consent(s, world["head"], gid, world["head_school"], False, "The governors want to wait.") == []
    assert consents(s, world["head"], gid)[world["head_school"]].answer == DECLINED
    before = _consent_rows(s)
    refused = record_consent(s, world["head"], gid, world["other_school"], True)
    assert refused == ["As a school's head you can record only your own school's answer."]
    assert _consent_rows(s) == before  # nothing written


def test_others_are_refused_in_words_and_nothing_is_written(world: dict) -> None:  # issue 11 point 2
    s, gid, school = world["store"], world["gid"], world["head_school"]
    before = _consent_rows(s)
    assert record_consent(s, world["leader"], gid, school, True) == [REFUSED_ROLE]  # a leader who is no head
    assert record_consent(s, world["governor"], gid, school, True) == [REFUSED_ROLE]
    assert record_consent(s, Viewer(Role.PUBLIC), gid, school, True) == ["There is no such group."]
    assert record_consent(s, world["stranger"], gid, school, True) == [
        "You can record answers only for your own group's schools."]
    outsider = next(u for u in groups.group_members(s, world["other"]) if u not in world["members"])
    name = schools.school_brief(s, outsider)[0]
    group_name = groups.find_group(s, gid).name
    assert record_consent(s, ADMIN, gid, outsider, True) == [
        f"{name} is not a member of {group_name}, so its answer cannot be recorded here."]
    assert record_consent(s, ADMIN, gid, school, True, "x" * 301) == [
        "The note is 301 characters long: keep it to 300 or fewer."]
    assert record_consents(s, ADMIN, gid, {school: True, outsider: True}) != []  # all or nothing
    assert _consent_rows(s) == before
    assert consents(s, Viewer(Role.PUBLIC), gid) == {} and consents(s, world["stranger"], gid) == {}


def test_the_latest_answer_wins_and_every_answer_is_kept(world: dict) -> None:  # issue 11 point 2
    s, gid, school = world["store"], world["gid"], world["head_school"]
    first = len(_consent_rows(s))
    assert consents(s, ADMIN, gid)[school].answer == AGREED  # the demo's heads agreed
    assert record_consent(s, ADMIN, gid, school, False, "Withdrawn after the governors met") == []
    now = consents(s, ADMIN, gid)[school]
    assert (now.answer, now.agreed, now.recorded_by, now.note) == (
        DECLINED, False, "Data manager <dm@la.example>", "Withdrawn after the governors met")
    assert now.recorded_at is not None
    assert record_consent(s, world["head"], gid, school, True) == []
    now = consents(s, ADMIN, gid)[school]
    assert (now.answer, now.recorded_by) == (AGREED, "Head <head@school.example>")
    rows = s.query("SELECT agreed FROM publication_consents WHERE group_id = ? AND urn = ? ORDER BY consent_id",
                   [gid, school])
    assert [r[0] for r in rows][-3:] == [True, False, True] and len(_consent_rows(s)) == first + 2


def test_a_school_never_asked_says_so(world: dict) -> None:  # issue 11 point 2
    s, gid = world["store"], world["gid"]
    newcomer = next(u for u in groups.group_members(s, world["other"]) if u not in world["members"])
    groups.add_memberships(s, gid, [newcomer], "2026-09-01", None, actor="test", source="test")
    answer = consents(s, ADMIN, gid)[newcomer]
    assert (answer.answer, answer.recorded_by, answer.recorded_at) == (NOT_ASKED, None, None)


def test_each_answer_is_audited_with_its_group_in_the_same_write(world: dict) -> None:  # issue 11 point 2
    s, gid, school = world["store"], world["gid"], world["head_school"]
    assert record_consent(s, ADMIN, gid, school, False, "Not this year") == []
    cid = s.query("SELECT max(consent_id) FROM publication_consents")[0][0]
    row = s.query("SELECT actor, action, entity, entity_id, group_id, before_json, after_json FROM audit_log "
                  "WHERE entity = 'publication_consent' ORDER BY audit_id DESC LIMIT 1")[0]
    assert row[:5] == ("Data manager <dm@la.example>", "record_consent", "publication_consent", str(cid), gid)
    assert json.loads(row[5]) == {"urn": school, "answer": "agreed"}
    after = json.loads(row[6])
    assert (after["urn"], after["answer"], after["note"]) == (school, "declined", "Not this year")


def _old_store(path: Path) -> None:
    """A store as it was before 0017 (migrations 0001 to 0016 applied), with accounts of every role."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP DEFAULT current_timestamp)")
    for sql in sorted(MIGRATIONS.glob("*.sql")):
        version = int(sql.name.split("_", 1)[0])
        if version >= 17:
            continue
        con.execute(sql.read_text())
        con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, sql.name])
    con.execute("INSERT INTO groups (kind, name) VALUES ('partnership', 'Two Towns')")
    con.execute("INSERT INTO accounts (email, display_name, role, group_id, school_urn, password_hash, "
                "failed_attempts, last_sign_in) VALUES "
                "('a@x.example', 'Admin', 'admin', NULL, NULL, 'hash-a', 0, TIMESTAMP '2026-11-30 09:00:00'), "
                "('l@x.example', 'Leader', 'leader', 1, NULL, NULL, 0, NULL), "
                "('g@x.example', 'Governor', 'governor', 1, 100001, 'hash-g', 0, NULL)")
    con.close()


def test_the_accounts_rebuild_keeps_every_row_and_lets_a_head_have_a_school(tmp_path: Path) -> None:
    # issue 11 point 2
    path = tmp_path / "old.duckdb"
    _old_store(path)
    con = duckdb.connect(str(path))
    before = con.execute("SELECT * FROM accounts ORDER BY email").fetchall()
    with pytest.raises(duckdb.ConstraintException):  # before 0017 a leader could not have a school
        con.execute("INSERT INTO accounts (email, role, group_id, school_urn) VALUES ('h@x.example', 'leader', 1, 1)")
    con.close()
    # issue 12 point 8: opening migrates the results file (0017 rebuilds its accounts), then asks for move-state,
    # which moves the accounts to the state store, where the same rules hold
    with pytest.raises(StoreError, match="move-state"):
        Store(path)
    assert move_state(path).rows["accounts"] == 3
    with Store(path) as s:
        assert s.schema_version() >= 17
        assert s.query("SELECT * FROM accounts ORDER BY email") == before
        with s.transaction() as cur:
            cur.execute("INSERT INTO accounts (email, role, group_id, school_urn) "
                        "VALUES ('h@x.example', 'leader', 1, 7)")
        assert s.query("SELECT role, school_urn FROM accounts WHERE email = 'h@x.example'") == [("leader", 7)]
        for bad in ("INSERT INTO accounts (email, role, group_id, school_urn) VALUES ('b@x.example', 'admin', NULL, 7)",
                    "INSERT INTO accounts (email, role, group_id) VALUES ('B@x.example', 'leader', 1)",
                    "INSERT INTO accounts (email, role, group_id) VALUES ('c@x.example', 'admin', 1)"):
            with pytest.raises(StateConflict, match="(?i)constraint"), s.transaction() as cur:
                cur.execute(bad)  # the other rules still hold, in the state store's words
        assert s.state.query("SELECT count(*) FROM accounts") == [(4,)]


def test_the_command_line_shows_and_records_answers(demo_db: Path, capsys) -> None:  # issue 11 point 2
    from data.cli import main

    with Store(demo_db) as s:
        group = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
        members = member_urns(s, group.group_id)
        outsider = next(u for u in groups.group_members(s, groups.find_group(s, "Copperham Schools Alliance").group_id)
                        if u not in members)
        before = _consent_rows(s)
    assert main(["consent", FLAGSHIP_PARTNERSHIP]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{FLAGSHIP_PARTNERSHIP}: {len(members)} of {len(members)} schools agree to publish jointly")
    assert main(["consent", FLAGSHIP_PARTNERSHIP, str(members[0]), "--decline", "--note", "Not this year"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"recorded: 1 school does not agree to publish jointly with {FLAGSHIP_PARTNERSHIP}")
    assert f"{len(members) - 1} of {len(members)} schools agree" in out and "declined" in out
    for argv, words in ((["consent", FLAGSHIP_PARTNERSHIP, str(outsider), "--agree"], "is not a member of"),
                        (["consent", FLAGSHIP_PARTNERSHIP, str(members[0])], "--agree or --decline"),
                        (["consent", "No Such Group"], "there is no group 'No Such Group'")):
        assert main(argv) == 2, argv
        assert words in capsys.readouterr().err
    with Store(demo_db) as s:
        rows = _consent_rows(s)
        assert len(rows) == len(before) + 1
        assert (rows[-1][2], rows[-1][3], rows[-1][6]) == (members[0], False, "Not this year")
