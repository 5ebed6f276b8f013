"""move-state: a single-file store from before the state store (what people wrote inside the DuckDB file) is moved
into its state store losslessly, after backups, and a second run moves nothing twice; until it is run, opening the
store says so in one sentence (exit 2 from the CLI)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from data.cli import main
from data.db.errors import StoreError
from data.db.state import LOCAL_NAMES, STATE_TABLES, StateStore, _key, copy_store, state_url_for
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups
from data.services.accounts import add_user


def _state_rows(store: StateStore) -> dict[str, list[tuple]]:
    """Every state table's rows, in a stable order, as values both stores give back the same way."""
    out = {}
    for table in STATE_TABLES:
        cols = store.columns(table)
        out[table] = sorted((_key(r) for r in store.query(f"SELECT {', '.join(cols)} FROM {table}")), key=repr)  # noqa: S608
    return out


def _fold_into_results(path: Path) -> dict[str, int]:
    """Make `path` what a store was before the state store: every state row written into the results file's own
    tables (as the code before issue 12 kept them), and no state store beside it. Returns rows per table."""
    state = StateStore.open(state_url_for(path))
    rows = {t: (state.columns(t), state.query(f"SELECT {', '.join(state.columns(t))} FROM {t}"))  # noqa: S608
            for t in STATE_TABLES}
    state.close()
    con = duckdb.connect(str(path))
    try:
        for table, (cols, values) in rows.items():
            if not values:
                continue
            if table == "local_values":
                con.executemany(
                    "INSERT INTO observations (ord, level, urn, measure, period, value, numerator, denominator, "
                    "status, source_kind) SELECT (SELECT ord FROM establishments WHERE urn = ?), 'school', ?, ?, ?, "
                    "?, ?, ?, ?, 'local'", [[r[1], r[1], r[0], r[2], r[3], r[4], r[5], r[6]] for r in values])
                continue
            if table == "local_pupil_group_values":  # by pupil group: rows of pupil_group_observations, as above
                con.executemany(
                    "INSERT INTO pupil_group_observations (ord, level, urn, measure, period, pupil_group, value, "
                    "numerator, denominator, status, source_kind) SELECT (SELECT ord FROM establishments WHERE urn = "
                    "?), 'school', ?, ?, ?, ?, ?, ?, ?, ?, 'local'",
                    [[r[1], r[1], r[0], r[2], r[3], r[4], r[5], r[6], r[7]] for r in values])
                continue
            con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",  # noqa: S608
                            [list(r) for r in values])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    state_file = path.with_suffix(".state.sqlite")
    for f in (state_file, Path(f"{state_file}-wal"), Path(f"{state_file}-shm")):
        f.unlink(missing_ok=True)
    return {t: len(v) for t, (_c, v) in rows.items()}


@pytest.fixture()
def old_store(demo_master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """A copy of the demo store (publications, consents, audit, local measures, partnerships) with accounts added,
    then folded back into one file as a store from before the state store; JOINTLY_DB names it."""
    path = tmp_path / "old.duckdb"
    copy_store(demo_master, path)
    with Store(path) as s:
        gid = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        assert add_user(s, "test", email="head@school.example", role="leader", group=str(gid)) == []
        assert add_user(s, "test", email="boss@trust.example", role="admin") == []
        before = _state_rows(s.state)
    assert before["publications"] and before["audit_log"] and before["accounts"] and before["local_values"]
    assert before["local_pupil_group_values"]
    assert before["groups"] and before["memberships"] and before["publication_consents"]
    counts = _fold_into_results(path)
    monkeypatch.setenv("JOINTLY_DB", str(path))
    monkeypatch.delenv("JOINTLY_STATE_URL", raising=False)
    return path, {"rows": before, "counts": counts}


def test_an_unmoved_store_says_so_and_move_state_moves_every_row_once(old_store, capsys) -> None:  # issue 12 point 8
    path, seen = old_store
    with pytest.raises(StoreError, match="move-state"):
        Store(path)
    assert main(["info"]) == 2
    err = capsys.readouterr().err
    assert "python -m data move-state" in err and "Traceback" not in err and err.count("\n") == 1

    assert main(["move-state"]) == 2  # no terminal to ask at, no --yes: nothing moved
    assert "add --yes" in capsys.readouterr().err
    assert main(["move-state", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "moved" in out and "backups kept" in out
    backups = sorted(path.parent.glob("old.duckdb.backup-*"))
    assert len(backups) == 1
    # the backup is the store as it was: every state row still in it
    con = duckdb.connect(str(backups[0]), read_only=True)
    assert con.execute("SELECT count(*) FROM audit_log").fetchall()[0][0] == seen["counts"]["audit_log"]
    con.close()

    with Store(path) as s:
        after = _state_rows(s.state)
        assert after == seen["rows"]  # every row of every state table, equal in every column
        # and the pages' reads see them as before, through the mirror
        assert s.query("SELECT count(*) FROM audit_log")[0][0] == seen["counts"]["audit_log"]
        assert s.query("SELECT count(*) FROM observations WHERE source_kind = 'local'")[0][0] == \
            seen["counts"]["local_values"]
        assert groups.find_group(s, seen["rows"]["groups"][0][2]) is not None
        assert s.unmoved_state() == []

    assert main(["move-state", "--yes"]) == 0  # idempotent: a second run finds nothing and changes nothing
    assert "nothing to move" in capsys.readouterr().out
    with Store(path) as s:
        assert _state_rows(s.state) == seen["rows"]
        # new ids follow the moved ones
        gid = groups.create_group(s, "partnership", "A partnership made after the move")
        assert gid >= 10_000_000 and gid not in {r[0][1] for r in seen["rows"]["groups"]}


def test_a_move_cut_short_after_the_state_commit_adds_nothing_twice(old_store) -> None:  # issue 12 point 8
    path, seen = old_store
    from data.db.state import move_state

    # the state commit happened, the results file was not emptied (a kill in between): run again
    real = duckdb.connect

    def refuse_rw(database: str = ":memory:", read_only: bool = False, **kw):  # noqa: ANN202, FBT001, FBT002
        state = path.with_suffix(".state.sqlite")
        if str(database) == str(path) and not read_only and state.exists() and sqlite3.connect(
                str(state)).execute("SELECT count(*) FROM audit_log").fetchall()[0][0]:
            raise duckdb.IOException("killed")
        return real(database, read_only=read_only, **kw)

    duckdb.connect = refuse_rw
    try:
        with pytest.raises(duckdb.IOException):
            move_state(path)
    finally:
        duckdb.connect = real
    done = move_state(path)
    assert done.total == sum(len(v) for v in seen["rows"].values())
    with Store(path) as s:
        assert _state_rows(s.state) == seen["rows"]


def test_local_values_moved_keep_their_names(old_store) -> None:  # issue 12 point 8
    path, seen = old_store
    assert main(["move-state", "--yes"]) == 0
    with Store(path) as s:
        got = s.state.query(f"SELECT {', '.join(LOCAL_NAMES)} FROM local_values")
        assert sorted(_key(r) for r in got) == sorted(seen["rows"]["local_values"])
