"""Issue 9 point 8: derived tables are never stale in silence.

The attack: `python -m data import` killed with SIGKILL after its import transaction committed and before the
derived tables (percentiles, families, expectations) were rebuilt. Since issue 12 the import and its derived tables
are one next snapshot, so the store is as it was; a store an import left pending (before snapshots) carries a mark,
its import log does not say "ok", and the next open rebuilds to exactly what a clean import gives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import PERF, derived_rows

from data.cli import main
from data.db.store import Store
from data.ingest.importers import import_file, import_files

REPO = Path(__file__).resolve().parents[2]
FILES = [PERF / "815_spine.csv", PERF / "815_2018_ks4final.csv", PERF / "815_2018_census.csv"]


def observations(store: Store) -> list[tuple]:
    """Every stored value with its clustering key (`ord`, which a rebuild re-sorts) and its import."""
    return store.query("SELECT * FROM observations ORDER BY ALL")


def outcomes(store: Store) -> list[str]:
    return [r[0] for r in store.query("SELECT outcome FROM imports ORDER BY import_id")]


def test_an_import_killed_before_its_swap_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    # issue 12 point 7: the import's values and its derived tables go into one next snapshot; killed while the
    # derived tables are rebuilt, the store at the path is byte for byte the one before, and the next writer removes
    # the stale next snapshot and imports cleanly
    db = tmp_path / "killed.duckdb"
    env = {**os.environ, "JOINTLY_DB": str(db)}
    first = subprocess.run([sys.executable, "-m", "data", "import", "--period", "2017/18", str(FILES[0])], cwd=REPO,
                           env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = db.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "data", "import", "--period", "2017/18", *map(str, FILES[1:])],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = []
    for line in proc.stdout:
        said.append(line)
        if line.startswith("imported 2, 3 into the next snapshot"):
            proc.send_signal(signal.SIGKILL)  # the values are in the next snapshot; the rebuild has just begun
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(said) + proc.stderr.read()
    assert db.read_bytes() == before and Path(f"{db}.next").exists()  # as it was; the stale next is left

    with Store(db, read_only=True) as s:  # as the killed process left it: one import, derived tables up to date
        assert outcomes(s) == ["ok"] and s.derived_pending() is None
    out = subprocess.run([sys.executable, "-m", "data", "import", "--period", "2017/18", *map(str, FILES[1:])],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert not Path(f"{db}.next").exists()
    with Store(db, read_only=True) as s:
        assert outcomes(s) == ["ok"] * 3 and s.derived_pending() is None
        repaired, repaired_data = derived_rows(s), observations(s)
    with Store(tmp_path / "clean.duckdb") as clean:
        assert all(r.ok for r in import_files(clean, FILES, "2017/18"))
        assert repaired == derived_rows(clean) and repaired_data == observations(clean)
    assert repaired["school_stats"] and repaired["families"]  # the comparison is of something


def test_a_store_left_pending_is_rebuilt_by_the_next_open(tmp_path: Path) -> None:
    """A store an import left pending (a process killed after its commit, before snapshots; or a caller's rebuild
    that never came): the next open rebuilds, a read-only one through a next snapshot (issue 12 point 7)."""
    db = tmp_path / "pending.duckdb"
    with Store(db) as s:
        assert all(r.ok for r in import_files(s, FILES, "2017/18", recluster=False))
        assert outcomes(s) == ["pending"] * 3 and s.query("SELECT count(*) FROM school_stats")[0][0] == 0
    with Store.open(db, read_only=True) as s:  # as the app opens it
        assert s.rebuilt is not None and s.rebuilt.startswith("derived tables rebuilt (they were pending since "
                                                              "import 1)")
        assert outcomes(s) == ["ok"] * 3 and s.derived_pending() is None
        repaired = derived_rows(s)
    with Store(tmp_path / "clean.duckdb") as clean:
        assert all(r.ok for r in import_files(clean, FILES, "2017/18"))
        assert repaired == derived_rows(clean)


def test_the_log_says_pending_until_the_derived_tables_are_rebuilt(store: Store, tmp_path: Path,
                                                                    monkeypatch, capsys) -> None:
    report = import_file(store, FILES[1], "2017/18", recluster=False)  # the caller's rebuild never came
    assert report.ok
    assert outcomes(store) == ["pending"] and store.info().derived_pending_since == report.import_id
    assert (store.info().imports, store.info().pending_imports) == (0, 1)
    store.close()
    monkeypatch.setenv("JOINTLY_DB", str(store.path))
    assert main(["info"]) == 0
    assert f"derived tables: pending since import {report.import_id}\n" in capsys.readouterr().out
    assert main(["rebuild"]) == 0
    assert capsys.readouterr().out.startswith(f"derived tables rebuilt (they were pending since import "
                                              f"{report.import_id}) in ")
    assert main(["info"]) == 0
    assert "derived tables: up to date\n" in capsys.readouterr().out
    with Store(store.path, read_only=True) as s:
        assert outcomes(s) == ["ok"] and s.query("SELECT count(*) FROM school_stats")[0][0] > 0


def test_a_clean_import_is_ok_and_an_open_rebuilds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as s:
        import_file(s, FILES[1], "2017/18")
        assert outcomes(s) == ["ok"]
    with Store.open(db) as s:
        assert s.rebuilt is None and s.info().derived_pending_since is None
