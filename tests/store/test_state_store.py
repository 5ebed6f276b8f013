"""The state store's contract (docs/data.md, "Two stores"), on SQLite and on PostgreSQL: one write transaction at a
time, the generations every process's mirror reads, the shared dialect, and the mirror the pages read through."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from data.db.state import PEOPLE_GROUP_IDS_FROM, StateError, StateStore, state_url_for
from data.db.store import Store
from data.services import governance, groups, imports

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh state store's URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite'}"
    from pgcluster import fresh_database

    return fresh_database(request.getfixturevalue("pg_admin_url"))


def test_every_committed_write_moves_its_tables_generations_and_a_rollback_none(url: str) -> None:  # issue 12 point 8
    s = StateStore.open(url)
    try:
        before = s.generations()
        with s.transaction() as cur:
            cur.execute("INSERT INTO targets (owner_kind, owner_id, measure, period, value, set_by) "
                        "VALUES ('group', 1, 'attainment8', '2023/24', 50.0, 'me')")
        after = s.generations()
        assert after["targets"] == before["targets"] + 1 and after["*"] > before["*"]
        assert after["*data"] == before["*data"] + 1 and after["accounts"] == before["accounts"]
        assert s.generation() == after["*"]
        with pytest.raises(ZeroDivisionError), s.transaction() as cur:
            cur.execute("INSERT INTO targets (owner_kind, owner_id, measure, period, value) "
                        "VALUES ('group', 1, 'attainment8', '2024/25', 1.0)")
            _ = 1 / 0
        assert s.generations() == after  # nothing of a rolled-back write, not even its generations
        assert s.query("SELECT count(*) FROM targets") == [(1,)]
        with s.transaction(changes_data=False) as cur:  # sign-in bookkeeping: the data generation stays
            cur.execute("INSERT INTO signin_failures (key, at_time) VALUES (?, ?)", ["k", datetime.now(UTC)])
        last = s.generations()
        assert last["*data"] == after["*data"] and last["signin_failures"] == after["signin_failures"] + 1
    finally:
        s.close()


def test_the_shared_dialect_runs_alike_on_both(url: str) -> None:  # issue 12 point 8
    s = StateStore.open(url)
    try:
        with s.transaction() as cur:
            gid = cur.execute("INSERT INTO groups (kind, name, source) VALUES (?, ?, 'manual') RETURNING group_id",
                              ["partnership", "100% Readers"]).fetchall()[0][0]
            second = cur.execute("INSERT INTO groups (kind, name, source) VALUES (?, ?, 'manual') RETURNING group_id",
                                 ["partnership", "Other"]).fetchone()[0]
            cur.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                        "value = excluded.value", ["k", "1"])
            cur.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                        "value = excluded.value", ["k", "2"])
            cur.execute("INSERT INTO publication_consents (group_id, urn, agreed, recorded_by, recorded_at) "
                        "VALUES (?, ?, ?, ?, ?)", [gid, 100001, True, "me", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)])
            cur.execute("DELETE FROM settings WHERE key = ?", ["nothing"])
            assert cur.rowcount == 0
        assert gid == PEOPLE_GROUP_IDS_FROM and second == gid + 1  # people's groups never collide with trusts
        # a literal % beside ? placeholders (psycopg's %s), and values typed alike by both drivers
        assert s.query("SELECT name FROM groups WHERE name LIKE '100%' AND group_id = ?", [gid]) == [("100% Readers",)]
        assert s.query("SELECT value FROM settings WHERE key = 'k'") == [("2",)]
        agreed, at = s.query("SELECT agreed, recorded_at FROM publication_consents")[0]
        assert agreed is True and at == datetime(2026, 1, 2, 3, 4, 5)  # naive UTC, as DuckDB held it
    finally:
        s.close()


def test_a_state_transaction_refuses_to_write_a_results_table(url: str) -> None:  # issue 12 point 8
    s = StateStore.open(url)
    try:
        with pytest.raises(StateError, match="state tables only, not observations"), s.transaction() as cur:
            cur.execute("DELETE FROM observations WHERE urn = ?", [1])
    finally:
        s.close()


def test_opening_twice_migrates_once(url: str) -> None:  # issue 12 point 8
    StateStore.open(url).close()
    s = StateStore.open(url)
    try:
        migrations = len(list((REPO / "data" / "db" / "state_migrations").glob("*.sql")))
        assert s.query("SELECT count(*) FROM state_schema_version") == [(migrations,)]
    finally:
        s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Two Stores over one results file and one state store, as two app processes hold them."""
    if request.param == "postgresql":
        from pgcluster import fresh_database

        monkeypatch.setenv("JOINTLY_STATE_URL", fresh_database(request.getfixturevalue("pg_admin_url")))
    else:
        monkeypatch.delenv("JOINTLY_STATE_URL", raising=False)
    path = tmp_path / "r.duckdb"
    with Store(path) as first, first.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase, ord) VALUES (100001, 'Ash', 'primary', 1)")
    a = Store(path, read_only=True)
    b = Store(path, read_only=True)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_each_store_reads_its_own_write_at_once_and_the_others_after_refresh(two_stores) -> None:  # issue 12 point 8
    a, b = two_stores
    gen_b = b.generation
    gid = groups.create_group(a, "partnership", "Ash Partnership", actor="a")
    groups.add_memberships(a, gid, [100001], "2020-09-01", actor="a")
    governance.set_target(a, "group", gid, "attainment8", "2023/24", 48.5, actor="a")
    assert groups.find_group(a, gid).name == "Ash Partnership" and groups.group_members(a, gid) == [100001]
    assert governance.targets(a, "group", gid, "2023/24") == {"attainment8": 48.5}
    assert groups.find_group(b, gid) is None  # not yet: b reads its mirror as it was
    assert b.refresh() and b.generation != gen_b
    assert groups.find_group(b, gid).name == "Ash Partnership" and groups.group_members(b, gid) == [100001]
    assert governance.targets(b, "group", gid, "2023/24") == {"attainment8": 48.5}
    assert not b.refresh()  # nothing new: nothing reloaded, the generation stays
    # the mirror keeps DuckDB's column types: a page's read is the read it was
    kinds = dict(b.query("SELECT column_name, data_type FROM information_schema.columns "
                         "WHERE table_name = 'audit_log' AND table_catalog LIKE 'jointly_state_mirror%'"))
    assert kinds["at_time"] == "TIMESTAMP" and kinds["audit_id"] == "INTEGER"
    assert b.query("SELECT typeof(at_time) FROM audit_log LIMIT 1") == [("TIMESTAMP",)]
    actions = imports.audit_log(b)["action"].tolist()
    assert actions[:3] == ["set", "add", "create"]  # every write audited, in the state store, newest first


def test_state_url_defaults_beside_the_results_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 12 point 8
    monkeypatch.delenv("JOINTLY_STATE_URL", raising=False)
    assert state_url_for(tmp_path / "jointly.duckdb") == f"sqlite:///{(tmp_path / 'jointly.state.sqlite').resolve()}"
    monkeypatch.setenv("JOINTLY_STATE_URL", "postgresql://h/db")
    assert state_url_for(tmp_path / "jointly.duckdb") == "postgresql://h/db"


WRITER = textwrap.dedent("""
    import sys
    from data.db.store import Store
    from data.services import governance
    path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = Store(path, read_only=True)
    for i in range(n):
        governance.set_target(s, "school", 100001, f"m_{who}_{i}", "2023/24", float(i), actor=who)
    s.refresh()
    print(len(s.query("SELECT * FROM targets")))
    s.close()
""")


def test_two_processes_write_one_sqlite_state_store_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 12 point 8: no "database is locked" reaches anyone; each sees the other's writes after a refresh
    monkeypatch.delenv("JOINTLY_STATE_URL", raising=False)
    path = tmp_path / "r.duckdb"
    Store(path).close()
    n = 60
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, str(n)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in ("one", "two")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err
    with Store(path, read_only=True) as s:
        assert s.query("SELECT count(*) FROM targets") == [(2 * n,)]
        assert s.query("SELECT count(*) FROM audit_log WHERE entity = 'target'") == [(2 * n,)]
        assert {r[0] for r in s.query("SELECT DISTINCT actor FROM audit_log")} == {"one", "two"}
    # the one that finished last saw every write of both
    assert max(int(out.strip().splitlines()[-1]) for out, _ in outs) == 2 * n


def test_a_refused_write_is_a_titled_conflict_and_writes_nothing(url: str) -> None:  # issue 12 point 8
    from data.db.state import StateConflict

    s = StateStore.open(url)
    try:
        with s.transaction() as cur:
            cur.execute("INSERT INTO accounts (email, role) VALUES ('a@x.example', 'admin')")
        before = s.generations()
        with pytest.raises(StateConflict, match="conflicts with what is stored") as caught, s.transaction() as cur:
            cur.execute("INSERT INTO targets (owner_kind, owner_id, measure, period, value) "
                        "VALUES ('group', 1, 'attainment8', '2023/24', 1.0)")
            cur.execute("INSERT INTO accounts (email, role) VALUES ('a@x.example', 'admin')")  # the key is taken
        assert caught.value.detail  # the driver's words, for the log
        assert s.query("SELECT count(*) FROM targets") == [(0,)] and s.generations() == before
    finally:
        s.close()
