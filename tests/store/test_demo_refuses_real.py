"""Issue 11 point 3: a demo store refuses real DfE, GIAS and Ofsted files, from the importer and the CLI, with one
sentence saying why and how to start a real store; the demo builder still imports its own files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EES_CENSUS, GIAS_SAMPLE, PERF, imports_log, snapshot

from data.db.state import copy_store
from data.db.store import Store
from data.ingest.importers import DEMO_REFUSAL, import_file

REPO = Path(__file__).resolve().parents[2]
KS4P = PERF / "815_2019_ks4provisional.csv"
REAL_FILES = [(KS4P, "2018/19"), (GIAS_SAMPLE, None), (EES_CENSUS, None)]


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOINTLY_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


@pytest.mark.parametrize(("path", "period"), REAL_FILES, ids=lambda v: getattr(v, "name", v))
def test_the_demo_store_refuses_a_real_file_and_stays_as_it_was(demo_store: Store, path: Path,
                                                                 period: str | None) -> None:
    # issue 11 point 3
    before, log = snapshot(demo_store), imports_log(demo_store)
    report = import_file(demo_store, path, period)
    assert not report.ok
    assert report.message == DEMO_REFUSAL
    assert "made-up schools must never receive real schools' results" in report.summary()
    assert snapshot(demo_store) == before and imports_log(demo_store) == log


def test_the_refusal_says_how_to_start_a_real_store() -> None:
    # issue 11 point 3: the exact commands, with the store they write to
    assert "JOINTLY_DB=data/store/real.duckdb python -m data import FILE…" in DEMO_REFUSAL
    assert "JOINTLY_DB=data/store/real.duckdb streamlit run app.py" in DEMO_REFUSAL


def test_the_cli_refuses_with_exit_2_and_one_sentence(demo_master: Path, tmp_path: Path) -> None:
    # issue 11 point 3
    db = tmp_path / "demo.duckdb"
    copy_store(demo_master, db)
    with Store(db) as s:
        before, log = snapshot(s), imports_log(s)
    done = run_cli(db, "import", "--period", "2018/19", str(KS4P))
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr == f"error: {db}: {DEMO_REFUSAL}. Nothing was imported\n"
    assert "Traceback" not in done.stderr
    with Store(db) as s:
        assert snapshot(s) == before and imports_log(s) == log


def test_there_is_no_cli_flag_that_lets_real_files_into_the_demo(demo_master: Path, tmp_path: Path) -> None:
    # issue 11 point 3: the demo's own files get through by an internal parameter, never a command-line flag
    db = tmp_path / "demo.duckdb"
    copy_store(demo_master, db)
    done = run_cli(db, "import", "--demo-files", "--period", "2018/19", str(KS4P))
    assert done.returncode == 2 and "unrecognized arguments: --demo-files" in done.stderr


def test_a_real_store_still_imports_the_same_file(tmp_path: Path) -> None:
    # issue 11 point 3: the refusal is the demo's alone
    done = run_cli(tmp_path / "real.duckdb", "import", "--period", "2018/19", str(KS4P))
    assert done.returncode == 0, done.stderr
    with Store(tmp_path / "real.duckdb") as s:
        assert not s.is_demo()
        assert s.query("SELECT count(*) FROM observations WHERE level = 'school'")[0][0] == 576


def test_the_demo_builder_imports_its_own_files(demo_store: Store) -> None:
    # issue 11 point 3: the builder (data.demo.build) still imports its generated files, every one of them ok
    outcomes = demo_store.query("SELECT outcome, count(*) FROM imports GROUP BY outcome")
    assert demo_store.is_demo()
    assert dict(outcomes).keys() == {"ok"} and dict(outcomes)["ok"] > 5
