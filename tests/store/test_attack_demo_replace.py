"""Issue 9 point 5: `python -m data demo` never replaces a store that is not a demo store.

The attack: one command (`demo`) aimed at a production $JOINTLY_DB. Each test runs the real CLI in a subprocess
against a real store (a real DfE file imported into it) and checks the file itself afterwards.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PERF, snapshot

from data.db.errors import StoreError
from data.db.store import Store
from data.demo import build as demo
from data.ingest.importers import import_file

REPO = Path(__file__).resolve().parents[2]
KS4P = PERF / "815_2019_ks4provisional.csv"
SMALL_DEMO = ("--schools", "120", "--years", "1", "--seed", "7")
BACKUP_NAME = re.compile(r"^jointly\.duckdb\.backup-\d{8}T\d{6}Z(-\d+)?$")
STATE_BACKUP_NAME = re.compile(r"^jointly\.state\.sqlite\.backup-\d{8}T\d{6}Z$")


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOINTLY_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def beside(path: Path) -> set[str]:
    """Every file next to the store other than the store itself and its companions: the state store and the
    results' writer lock (data.db.snapshot: an empty file, the lock is on it while open)."""
    companions = {path.name, path.with_suffix(".state.sqlite").name, f"{path.name}.lock"}
    return {p.name for p in path.parent.iterdir()} - companions


@pytest.fixture
def real_store(tmp_path: Path) -> Path:
    """A production-like store: one real KS4 file imported, nothing marked as a demo."""
    path = tmp_path / "jointly.duckdb"
    with Store(path) as s:
        report = import_file(s, KS4P, "2018/19")
        assert report.ok, report.message
    return path


@pytest.fixture
def holder(request: pytest.FixtureRequest) -> Iterator[callable]:
    """Start another process that holds a store open (as the app does) until the test ends."""
    procs: list[subprocess.Popen] = []

    def hold(path: Path, *, read_only: bool = False) -> None:
        code = ("import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == '1'); "
                "print('open', flush=True); sys.stdin.read()")
        p = subprocess.Popen([sys.executable, "-c", code, str(path), "1" if read_only else "0"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout.readline().strip() == "open"

    yield hold
    for p in procs:
        p.stdin.close()
        p.wait(timeout=30)


def test_demo_refuses_a_real_store_and_leaves_it_byte_identical(real_store: Path) -> None:
    before = digest(real_store)
    with Store(real_store, read_only=True) as s:
        schools = s.query("SELECT count(*) FROM establishments")[0][0]
    done = run_cli(real_store, "demo", *SMALL_DEMO)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {real_store} is a real store ({schools} schools, 1 imports); `python -m data demo` only replaces a "
        f"demo store. To build a demo elsewhere: JOINTLY_DB=/path/demo.duckdb python -m data demo; to replace this "
        f"store anyway: --replace (a backup is kept)\n")
    assert digest(real_store) == before
    assert beside(real_store) == set()  # no backup, no half-built demo


def test_build_demo_itself_refuses_a_real_store(real_store: Path) -> None:
    """The app's first-run build and any other caller go through build_demo: it refuses too, before any work."""
    before = digest(real_store)
    with pytest.raises(StoreError, match="is a real store"):
        demo.build_demo(real_store, schools=60, years=1)
    assert digest(real_store) == before
    assert beside(real_store) == set()


def test_replace_keeps_a_backup_that_opens_with_the_same_data(real_store: Path) -> None:
    with Store(real_store, read_only=True) as s:
        kept = snapshot(s)
        log = s.query("SELECT * FROM imports ORDER BY ALL")
    done = run_cli(real_store, "demo", "--replace", *SMALL_DEMO)
    assert done.returncode == 0, done.stderr
    backups = [name for name in beside(real_store) if BACKUP_NAME.match(name)]
    state_backups = [name for name in beside(real_store) if STATE_BACKUP_NAME.match(name)]
    # no .wal left beside either; what people wrote in the real store (its state store) is kept too
    assert len(backups) == 1 and len(state_backups) == 1 and beside(real_store) == {*backups, *state_backups}
    assert f"kept as {real_store.parent / backups[0]} (and what people wrote in it as " \
           f"{real_store.parent / state_backups[0]})" in done.stdout
    with Store(real_store.parent / backups[0], read_only=True) as b:
        assert snapshot(b) == kept
        assert b.query("SELECT * FROM imports ORDER BY ALL") == log
    with Store(real_store, read_only=True) as s:
        assert s.is_demo()


def test_a_store_held_open_by_another_process_is_never_replaced(real_store: Path, holder) -> None:
    holder(real_store)
    done = run_cli(real_store, "demo", "--replace", *SMALL_DEMO)
    assert done.returncode == 2
    assert done.stderr == (f"error: another program (the app?) has the store {real_store} open: stop it first; "
                           "nothing was replaced\n")
    assert "Traceback" not in done.stdout + done.stderr
    assert beside(real_store) == set()


def test_a_demo_store_read_elsewhere_is_replaced_and_the_reader_keeps_its_snapshot(tmp_path: Path) -> None:
    # issue 12 point 7: a parents' site or an app process reads the store read-only; the new demo is swapped in
    # beside it (a new file at the path) and the reader reads the one it opened until it opens the path again
    path = tmp_path / "jointly.duckdb"
    with Store(path) as s:
        s.set_setting("demo", "true", actor="demo")
    reader = Store(path, read_only=True)
    try:
        done = run_cli(path, "demo", *SMALL_DEMO)
        assert done.returncode == 0, done.stderr
        assert reader.setting("demo_schools") is None  # the snapshot it opened, whole, no error
        with Store(path, read_only=True) as s:
            assert s.setting("demo_schools") == "120" and s.generation != reader.generation
    finally:
        reader.close()
    assert beside(path) == set()


@pytest.mark.parametrize("content", [b"", b"id,name\n1,not a database\n" * 50])
def test_a_file_that_is_not_a_store_is_refused_even_with_replace(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "jointly.duckdb"
    path.write_bytes(content)
    done = run_cli(path, "demo", "--replace", *SMALL_DEMO)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {path} is not a Jointly store (")
    assert done.stderr.endswith("): nothing was replaced; move it away or choose another JOINTLY_DB\n")
    assert path.read_bytes() == content and beside(path) == set()


def test_a_demo_store_is_replaced_without_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "jointly.duckdb"
    with Store(path) as s:
        s.set_setting("demo", "true", actor="demo")
        s.set_setting("demo_seed", "1", actor="demo")
    done = run_cli(path, "demo", *SMALL_DEMO)
    assert done.returncode == 0, done.stderr
    assert beside(path) == set()
    with Store(path, read_only=True) as s:
        assert (s.is_demo(), s.setting("demo_seed"), s.setting("demo_schools")) == (True, "7", "120")


def _people_state(path: Path) -> dict[str, list]:
    """What the demo writes to the state store, without ids (a new build numbers afresh)."""
    with Store(path, read_only=True) as s:
        return {"groups": s.state.query("SELECT kind, name, source FROM groups ORDER BY 1, 2, 3"),
                "memberships": s.state.query("SELECT g.name, m.urn FROM memberships m JOIN groups g USING (group_id) "
                                             "ORDER BY 1, 2"),
                "consents": s.state.query("SELECT count(*) FROM publication_consents"),
                "local_measures": s.state.query("SELECT measure_id FROM local_measures ORDER BY 1"),
                "local_values": s.state.query("SELECT count(*) FROM local_values"),
                "publications": s.state.query("SELECT count(*) FROM publications")}


def test_a_demo_built_again_replaces_the_old_demos_state_and_keeps_accounts(tmp_path: Path) -> None:
    """Issue 12: the demo's partnerships, clusters, consents, local measures and publications live in the state
    store. Building the demo again replaces them (never a second copy beside the first), and an account someone
    made on the old demo is still there."""
    from data.services.accounts import add_user

    path = tmp_path / "jointly.duckdb"
    assert run_cli(path, "demo", *SMALL_DEMO).returncode == 0
    first = _people_state(path)
    assert first["groups"] and first["consents"][0][0] > 0 and first["local_measures"]
    with Store(path) as s:
        add_user(s, "cli", email="head@example.org", role="admin", password="a long enough passphrase 1")
    done = run_cli(path, "demo", *SMALL_DEMO)
    assert done.returncode == 0, done.stderr
    assert _people_state(path) == first
    with Store(path, read_only=True) as s:
        assert s.state.query("SELECT email, role FROM accounts") == [("head@example.org", "admin")]
