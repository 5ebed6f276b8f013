"""Issue 12 points 7 and 9: results snapshots, so the app serves while the data changes.

Writers build the next snapshot beside the results file and swap it in (data.db.snapshot); app processes and read
commands open the results read-only and move to a new snapshot when they open the path again. Every test runs real
stores, the real CLI and (where it says so) real other processes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import PERF, snapshot

from data.cli import main
from data.db import snapshot as snapshots
from data.db.store import MIGRATIONS_DIR, Store
from data.ingest import importers
from data.ingest.importers import import_file, import_files

REPO = Path(__file__).resolve().parents[2]
SPINE, KS4, CENSUS = PERF / "815_spine.csv", PERF / "815_2018_ks4final.csv", PERF / "815_2018_census.csv"


def run_cli(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "JOINTLY_DB": str(db), **env}, stdin=subprocess.DEVNULL, timeout=600)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def imports(store: Store) -> list[tuple]:
    return store.query("SELECT import_id, file_name, outcome FROM imports ORDER BY import_id")


@pytest.fixture
def real_db(tmp_path: Path) -> Path:
    """A real store (the spine and a KS4 file of one LA), closed, at tmp/jointly.duckdb."""
    path = tmp_path / "jointly.duckdb"
    with Store(path) as s:
        assert all(r.ok for r in import_files(s, [SPINE, KS4], "2017/18"))
    return path


def test_a_second_writer_waits_then_says_another_import_is_running(real_db: Path) -> None:
    # issue 12 point 7
    before = digest(real_db)
    with snapshots.writer_lock(real_db):  # an import running in this process
        done = run_cli(real_db, "import", "--period", "2017/18", str(CENSUS), JOINTLY_WRITER_WAIT_S="1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (f"error: another import (or another change to the results) is running on {real_db}: "
                           "waited 1 s; try again when it has finished; nothing was changed\n")
    assert digest(real_db) == before and not snapshots.next_path(real_db).exists()


def test_a_reader_keeps_its_snapshot_while_a_writer_swaps_in_the_next(real_db: Path, monkeypatch) -> None:
    # issue 12 point 7: the reader (an app process's Store) reads the file it opened, whole, with no error; a new
    # open reads the new one, under another generation (caches keyed by it cannot mix the two)
    monkeypatch.setenv("JOINTLY_DB", str(real_db))
    reader = Store.open(real_db, read_only=True)
    try:
        old = (imports(reader), reader.generation, snapshots.current_id(real_db))
        assert main(["import", "--period", "2017/18", str(CENSUS)]) == 0
        assert imports(reader) == old[0]
        with Store.open(real_db, read_only=True) as new:
            assert [r[2] for r in imports(new)] == ["ok"] * 3 and imports(new)[:2] == old[0]
            assert new.generation != old[1] and new.snapshot == snapshots.current_id(real_db) != old[2]
    finally:
        reader.close()
    assert not snapshots.next_path(real_db).exists()


def test_an_app_process_imports_through_a_next_snapshot(real_db: Path) -> None:
    # issue 12 point 7: the Data page's import on a read-only Store is written to the next snapshot and swapped in
    app = Store.open(real_db, read_only=True)
    try:
        before = imports(app)
        report = import_file(app, CENSUS, "2017/18")
        assert report.ok, report.message
        assert imports(app) == before  # this rerun's snapshot
        with Store(real_db, read_only=True) as now:
            assert len(imports(now)) == 3 and now.derived_pending() is None
            assert now.query("SELECT count(*) FROM observations WHERE measure = 'fsm_pct'")[0][0] > 0
    finally:
        app.close()


def test_an_import_failing_half_way_leaves_the_current_snapshot_as_it_was(real_db: Path, monkeypatch) -> None:
    # issue 12 point 7: the file's establishments are written, then its values fail (a full disk, say): the
    # transaction rolls back and the failure is logged, as before snapshots; nothing else of the file is kept
    with Store(real_db, read_only=True) as s:
        kept = snapshot(s)
        log = imports(s)

    def fail(*args: object, **kwargs: object) -> dict:
        raise OSError("No space left on device")

    monkeypatch.setattr(importers, "_write_observations", fail)
    app = Store.open(real_db, read_only=True)
    try:
        report = import_file(app, CENSUS, "2017/18")
    finally:
        app.close()
    assert not report.ok and "nothing was written" in report.message
    with Store(real_db, read_only=True) as s:
        assert snapshot(s) == kept
        assert imports(s)[:-1] == log and imports(s)[-1][2] == "failed"
    assert not snapshots.next_path(real_db).exists()


def test_a_stale_next_snapshot_is_removed_by_the_next_writer(real_db: Path) -> None:
    # issue 12 point 7: a writer killed before its swap leaves `.next` (and perhaps its log): never swapped in
    nxt = snapshots.next_path(real_db)
    nxt.write_bytes(b"half of a killed writer's snapshot")
    Path(f"{nxt}.wal").write_bytes(b"and its log")
    done = run_cli(real_db, "import", "--period", "2017/18", str(CENSUS))
    assert done.returncode == 0, done.stderr
    assert not nxt.exists() and not Path(f"{nxt}.wal").exists()
    with Store(real_db, read_only=True) as s:
        assert [r[2] for r in imports(s)] == ["ok"] * 3


def test_a_read_only_open_migrates_a_file_older_than_the_code(real_db: Path, tmp_path: Path, monkeypatch) -> None:
    # issue 12 point 7: migrations when the code is newer than the file are a writer's work, swapped in
    newer = tmp_path / "migrations"
    newer.mkdir()
    for f in MIGRATIONS_DIR.glob("*.sql"):
        (newer / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (newer / "9999_snapshot_test.sql").write_text("CREATE TABLE snapshot_test (x INTEGER);", encoding="utf-8")
    monkeypatch.setattr("data.db.store.MIGRATIONS_DIR", newer)
    before = snapshots.current_id(real_db)
    with Store.open(real_db, read_only=True) as s:
        assert s.schema_version() == 9999 and s.query("SELECT count(*) FROM snapshot_test") == [(0,)]
    assert snapshots.current_id(real_db) != before and not snapshots.next_path(real_db).exists()


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from ui.store import _current
    # an app process: reads the store read-only until told to stop, moving to each new snapshot as a rerun would
    seen, errors = set(), []
    print('open', flush=True)
    while not Path(sys.argv[2]).exists():
        try:
            seen.add(_current(sys.argv[1]).query('SELECT count(*) FROM imports')[0][0])
        except Exception as exc:
            errors.append(repr(exc))
        time.sleep(0.2)
    print(len(seen), errors, flush=True)
""")


def test_every_command_works_while_an_app_process_reads_the_store(real_db: Path, tmp_path: Path) -> None:
    # issue 12 point 9: import, info, users add, export-public, undo-import, rebuild, optimize and forget-period,
    # each while another process reads the results read-only (as the app does), and that process sees no error
    stop = tmp_path / "stop"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(real_db), str(stop)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        for args in (["import", "--period", "2017/18", str(CENSUS)], ["info"],
                     ["users", "add", "head@example.org", "--role", "admin"],
                     ["export-public", str(tmp_path / "public.duckdb")], ["undo-import", "3", "--yes"],
                     ["rebuild"], ["optimize"], ["forget-period", "2017/18", "--yes"]):
            done = run_cli(real_db, *args)
            assert done.returncode == 0, f"{args}: {done.stderr}"
            assert "Traceback" not in done.stdout + done.stderr
        stop.touch()
        said = holder.communicate(timeout=60)
        assert said[0].strip().endswith("[]"), said  # the reader saw no error
        assert int(said[0].split()[0]) >= 2, said  # and more than one snapshot
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with Store(real_db, read_only=True) as s:
        assert [r[2] for r in imports(s)] == ["ok"] * 3 and s.query("SELECT count(*) FROM imports_undone")[0][0] == 1
        assert s.query("SELECT count(*) FROM observations WHERE period = '2017/18'")[0][0] == 0


def test_the_app_moves_to_the_new_snapshot_and_keeps_its_state_store(real_db: Path) -> None:
    # issue 12 point 7: ui.store opens the new snapshot once a writer swapped it in, over the same state store
    import streamlit as st

    from ui import shared
    from ui.store import _current

    st.cache_resource.clear()
    shared.clear_all()
    try:
        first = _current(str(real_db))
        assert _current(str(real_db)) is first  # nothing swapped: the same Store, one stat
        assert run_cli(real_db, "import", "--period", "2017/18", str(CENSUS)).returncode == 0
        second = _current(str(real_db))
        assert second is not first and second.state_store() is first.state_store()
        assert len(imports(second)) == 3 and len(imports(first)) == 2  # the old Store still answers
        assert second.generation != first.generation
    finally:
        st.cache_resource.clear()
        shared.clear_all()
