"""Issue 9 point 8: derived tables are never stale in silence.

The attack: `python -m data import` killed with SIGKILL after its import transaction committed and before the
derived tables (percentiles, families, expectations) were rebuilt. The store must carry a mark, the import log
must not say "ok", and the next read-write open must rebuild to exactly what a clean import gives.
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


def test_an_import_killed_after_its_commit_is_rebuilt_on_the_next_open(tmp_path: Path) -> None:
    db = tmp_path / "killed.duckdb"
    env = {**os.environ, "JOINTLY_DB": str(db)}
    proc = subprocess.Popen([sys.executable, "-m", "data", "import", "--period", "2017/18", *map(str, FILES)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = []
    for line in proc.stdout:
        said.append(line)
        if line.startswith("committed import"):
            proc.send_signal(signal.SIGKILL)  # the values are stored; the rebuild has just begun
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(said) + proc.stderr.read()

    with Store(db, read_only=True) as s:  # as the killed process left it (read-only: nothing is repaired)
        assert outcomes(s) == ["pending"] * 3
        assert s.derived_pending() == 1
        assert s.query("SELECT count(*) FROM school_stats")[0][0] == 0  # stale (here: empty) derived tables
    out = subprocess.run([sys.executable, "-m", "data", "info"], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "imports: 0 ok, 3 pending, 0 failed" in out.stdout
    assert "derived tables: pending since import 1\n" in out.stdout

    with Store.open(db) as s:  # the next read-write open, as the CLI and the app make it
        assert s.rebuilt is not None and s.rebuilt.startswith("derived tables rebuilt (they were pending since "
                                                              "import 1)")
        assert outcomes(s) == ["ok"] * 3 and s.derived_pending() is None
        repaired, repaired_data = derived_rows(s), observations(s)
    with Store(tmp_path / "clean.duckdb") as clean:
        assert all(r.ok for r in import_files(clean, FILES, "2017/18"))
        assert repaired == derived_rows(clean) and repaired_data == observations(clean)
    assert repaired["school_stats"] and repaired["families"]  # the comparison is of something


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
