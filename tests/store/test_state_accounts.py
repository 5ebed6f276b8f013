"""Issue 12 point 8: accounts, sign-in throttling and consents are in the state store that every app process shares.

Two app processes are two Stores, each with its own results file (a host's copy of the snapshot) and its own
DuckDB mirror, over ONE state store (JOINTLY_STATE_URL): failed sign-ins counted through either brake the next
attempt through the other, a password changed through one is the one the other checks at its next sign-in, and a
consent recorded through one is what the other reads after its refresh. One test makes the second process a real
one (a subprocess). Before the state store, each results file kept its own accounts and counters, so none held."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from data.db.store import Store
from data.services.access import Role, Viewer
from data.services.accounts import (
    CLIENT_FREE,
    NO_MATCH,
    add_user,
    remove_user,
    set_password,
    set_role,
    sign_in,
    throttle_wait,
    too_many,
)
from data.services.consent import AGREED, DECLINED, NOT_ASKED, consents, record_consent

REPO = Path(__file__).resolve().parents[2]
SECRET = "correct horse battery staple"
NEW_SECRET = "a different horse, stapled"
T0 = datetime(2026, 12, 1, 9, 0)
ADMIN = Viewer(Role.ADMIN, None, "Dee Manager", "dm@example.org")
TRUST = 4001  # a trust as GIAS gives it: in the results, below the people-made ids
SCHOOLS = (100001, 100002)


def _results(path: Path) -> None:
    """A results file as an import leaves it: two schools and the trust they belong to."""
    with Store(path) as s, s.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Primary', 'primary'), "
                    "(100002, 'Beech Primary', 'primary')")
        cur.execute("INSERT INTO groups (group_id, kind, name, source) VALUES (?, 'trust', 'Oak Trust', 'gias')",
                    [TRUST])
        cur.execute("INSERT INTO memberships (group_id, urn, start_date, source) VALUES (?, 100001, DATE '2019-09-01', "
                    "'gias'), (?, 100002, DATE '2019-09-01', 'gias')", [TRUST, TRUST])


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          state_backend: str | None) -> Iterator[tuple[Path, Path, str]]:
    """Two results files (copies of one snapshot) and the one state store both name: a SQLite file of their own,
    or a fresh PostgreSQL database (conftest's state_backend: this module runs on both)."""
    state_url = state_backend or f"sqlite:///{tmp_path / 'shared' / 'jointly.state.sqlite'}"
    (tmp_path / "shared").mkdir()
    monkeypatch.setenv("JOINTLY_STATE_URL", state_url)
    first, second = tmp_path / "host1" / "jointly.duckdb", tmp_path / "host2" / "jointly.duckdb"
    first.parent.mkdir()
    second.parent.mkdir()
    _results(first)
    shutil.copy(first, second)  # the results only: what people write is shared, never copied
    yield first, second, state_url


@pytest.fixture
def two(hosts: tuple[Path, Path, str]) -> Iterator[tuple[Store, Store]]:
    """Two app processes' Stores, one over each results file, and an admin with a password made through the first."""
    a, b = Store(hosts[0]), Store(hosts[1])
    try:
        assert add_user(a, "cli", email="head@example.org", role="admin", password=SECRET) == []
        yield a, b
    finally:
        a.close()
        b.close()


def test_failures_counted_through_both_processes_stop_the_next_attempt(two: tuple[Store, Store]) -> None:
    # issue 12 point 8
    a, b = two
    client = "198.51.100.7"
    for i in range(CLIENT_FREE):  # the free failures, shared out between the two processes
        store = a if i % 2 else b
        assert sign_in(store, "head@example.org", f"guess {i}", client=client, now=T0) == (None, NO_MATCH)
    # neither process alone has seen CLIENT_FREE failures: only the shared count brakes this attempt, in both
    assert throttle_wait(a, "head@example.org", client, T0) == 1
    assert throttle_wait(b, "head@example.org", client, T0) == 1
    assert sign_in(a, "head@example.org", SECRET, client=client, now=T0) == (None, too_many(1))
    assert sign_in(b, "head@example.org", SECRET, client=client, now=T0) == (None, too_many(1))
    assert throttle_wait(b, "head@example.org", "198.51.100.8", T0) == 0  # another client is not braked


def test_a_password_changed_through_one_process_is_the_one_the_other_checks(two: tuple[Store, Store]) -> None:
    # issue 12 point 8
    a, b = two
    viewer, message = sign_in(b, "head@example.org", SECRET, client="192.0.2.1", now=T0)
    assert (viewer.email if viewer else None, message) == ("head@example.org", "")
    assert set_password(a, "cli", "head@example.org", NEW_SECRET) == []
    # b has not refreshed since: its sign-in still checks the hash the state store holds now
    assert sign_in(b, "head@example.org", SECRET, client="192.0.2.1", now=T0) == (None, NO_MATCH)
    viewer, message = sign_in(b, "head@example.org", NEW_SECRET, client="192.0.2.1", now=T0)
    assert (viewer.email if viewer else None, message) == ("head@example.org", "")


def test_the_last_admin_rule_holds_across_processes(two: tuple[Store, Store]) -> None:
    # issue 12 point 8
    a, b = two
    assert add_user(b, "cli", email="second@example.org", role="admin") == []
    # each process's mirror still shows two admins; the rule is read again inside the state transaction
    assert remove_user(a, "cli", "second@example.org") == []
    assert set_role(b, "cli", "head@example.org", "leader", TRUST) != []
    assert remove_user(b, "cli", "head@example.org") != []
    assert a.state.query("SELECT email, role FROM accounts ORDER BY email") == [("head@example.org", "admin")]
    # and an email taken through one process is refused through the other, before and after its refresh
    assert add_user(a, "cli", email="new@example.org", role="leader", group=TRUST) == []
    assert add_user(b, "cli", email="new@example.org", role="leader", group=TRUST) == [
        "There is already an account for new@example.org."]


def test_a_consent_recorded_through_one_process_is_read_by_the_other_after_refresh(two: tuple[Store, Store]) -> None:
    # issue 12 point 8
    a, b = two
    assert consents(b, ADMIN, TRUST)[100001].answer == NOT_ASKED
    assert record_consent(a, ADMIN, TRUST, 100001, True, "Heads' meeting") == []
    assert consents(a, ADMIN, TRUST)[100001].answer == AGREED  # the writer reads its own write at once
    b.refresh()
    answer = consents(b, ADMIN, TRUST)[100001]
    assert (answer.answer, answer.recorded_by, answer.note) == (AGREED, ADMIN.actor, "Heads' meeting")
    assert record_consent(b, ADMIN, TRUST, 100001, False) == []
    a.refresh()
    assert {u: c.answer for u, c in consents(a, ADMIN, TRUST).items()} == {100001: DECLINED, 100002: NOT_ASKED}
    # the audit line's "before" is the answer the other process recorded, read inside the transaction
    befores = [r[0] for r in a.state.query("SELECT before_json FROM audit_log WHERE action = 'record_consent' "
                                           "ORDER BY audit_id")]
    assert befores == [None, '{"urn": 100001, "answer": "agreed"}']


_CHILD = """
import sys
from datetime import datetime
from data.db.store import Store
from data.services.accounts import sign_in
with Store(sys.argv[1]) as s:
    for i in range(int(sys.argv[2])):
        print(sign_in(s, "head@example.org", f"guess {i}", client="203.0.113.5", now=datetime(2026, 12, 1, 9, 0))[1])
"""


def test_failures_in_another_process_brake_this_one(hosts: tuple[Path, Path, str]) -> None:
    # issue 12 point 8
    with Store(hosts[0]) as a:
        assert add_user(a, "cli", email="head@example.org", role="admin", password=SECRET) == []
        assert throttle_wait(a, "head@example.org", "203.0.113.5", T0) == 0
        # a second app process, on the other host's results file, meets a guesser while this one stays open
        out = subprocess.run([sys.executable, "-c", _CHILD, str(hosts[1]), str(CLIENT_FREE + 1)], cwd=REPO,
                             capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
        assert out == [NO_MATCH] * CLIENT_FREE + [too_many(1)]
        assert sign_in(a, "head@example.org", SECRET, client="203.0.113.5", now=T0) == (None, too_many(1))
        viewer, message = sign_in(a, "head@example.org", SECRET, client="192.0.2.9", now=T0)
        assert (viewer.email if viewer else None, message) == ("head@example.org", "")


def test_an_email_taken_by_another_process_during_the_hash_is_refused_in_words(two: tuple[Store, Store],
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 12 point 8
    from data.services import accounts

    a, b = two
    real_hash = accounts._hash

    def hash_while_the_other_process_adds(password: str) -> str:
        # the other app process adds the same email while this one hashes (the slow step between check and write)
        monkeypatch.setattr(accounts, "_hash", real_hash)
        assert add_user(b, "cli", email="race@example.org", role="admin") == []
        return real_hash(password)

    monkeypatch.setattr(accounts, "_hash", hash_while_the_other_process_adds)
    assert add_user(a, "cli", email="race@example.org", role="admin", password=SECRET) == [
        "There is already an account for race@example.org."]
    assert a.state.query("SELECT email, password_hash IS NULL FROM accounts WHERE email = 'race@example.org'") == [
        ("race@example.org", 1)]  # the first one's account, untouched
