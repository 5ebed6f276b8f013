"""Issue 9 point 9: periods are validated where files come in, and `python -m data forget-period P` removes one.

The attacks: a file imported as year 0000/01 or 2999/00 (a typo in --period, a folder named 0000-0001, an EES
`time_period` of 299900), then the careless admin's way back out of a wrong year.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import EES_CENSUS, PERF, derived_rows, read_csv_rows, snapshot

from data.cli import main
from data.db.store import Store
from data.ingest.importers import import_file, import_files
from metrics.periods import period_range

REPO = Path(__file__).resolve().parents[2]
KS4P = PERF / "815_2019_ks4provisional.csv"  # 2018/19
OLDER = [PERF / "815_2018_ks4final.csv", PERF / "815_2018_census.csv"]  # 2017/18


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOINTLY_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)


@pytest.mark.parametrize("period", ["0000/01", "2999/00", "1989/90"])
def test_an_import_for_an_impossible_year_is_refused_with_the_range(tmp_path: Path, period: str) -> None:
    db = tmp_path / "s.duckdb"
    done = run_cli(db, "import", "--period", period, str(KS4P))
    first, last = period_range()
    assert done.returncode == 2
    assert (f"FAILED {KS4P.name}: {KS4P.name}: period {period!r} is not a year Jointly can hold: Jointly takes "
            f"academic years from {first} to {last}") in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    with Store(db, read_only=True) as s:
        assert s.query("SELECT count(*) FROM observations")[0][0] == 0


def test_a_folder_named_like_an_impossible_year_gives_no_period(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "0000-0001"
    folder.mkdir()
    (folder / KS4P.name).write_bytes(KS4P.read_bytes())
    report = import_file(store, folder / KS4P.name)
    assert not report.ok and "has no year column: give the academic year with --period" in report.message
    assert store.query("SELECT count(*) FROM observations")[0][0] == 0


def test_an_ees_row_for_year_2999_is_a_located_problem_and_stores_nothing(tmp_path: Path, store: Store) -> None:
    """EES files carry their year per row (`time_period`): a row claiming 299900 is skipped with its line."""
    import csv

    header, rows = read_csv_rows(EES_CENSUS)
    rows[2][header.index("time_period")] = "299900"
    path = tmp_path / EES_CENSUS.name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    report = import_file(store, path)
    first, last = period_range()
    assert report.ok and report.periods == ["2022/23"]
    assert [(p.line, p.column, p.message) for p in report.problems if p.column == "time_period"] == [
        (4, "time_period", f"period '299900' is not a year Jointly can hold: Jointly takes academic years from "
                           f"{first} to {last}; row skipped")]
    assert store.query("SELECT DISTINCT period FROM observations") == [("2022/23",)]


@pytest.fixture
def two_years(tmp_path: Path) -> Path:
    db = tmp_path / "jointly.duckdb"
    with Store(db) as s:
        assert all(r.ok for r in import_files(s, OLDER, "2017/18"))
        assert import_file(s, KS4P, "2018/19").ok
    return db


def test_forget_period_removes_one_year_and_rebuilds(two_years: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    with Store(two_years, read_only=True) as s:
        before = snapshot(s)
        counts = dict(s.query("SELECT level = 'school', count(*) FROM observations WHERE period = '2017/18' "
                              "GROUP BY ALL"))
        stats_of_year = s.query("SELECT count(*) FROM school_stats WHERE period = '2017/18'")[0][0]
        assert counts[True] > 0 and counts[False] > 0 and stats_of_year > 0
    monkeypatch.setenv("JOINTLY_DB", str(two_years))
    assert main(["forget-period", "2017-18", "--yes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"removed {counts[True]:,} school values, 0 local measure values, {counts[False]:,} "
                          "benchmarks and ")
    backup = Path(re.search(r"kept as (\S+)\n", out).group(1))
    with Store(two_years, read_only=True) as s:
        assert s.query("SELECT count(*) FROM observations WHERE period = '2017/18'")[0][0] == 0
        for table in ("school_stats", "national_quantiles", "regressions"):
            assert s.query(f"SELECT count(*) FROM {table} WHERE period = '2017/18'")[0][0] == 0  # noqa: S608
        after = snapshot(s)
        assert after["observations"] == [r for r in before["observations"] if r[6] != "2017/18"]
        # the year's pupil-group values (the 2017/18 wide file's groups, issue 13) go with its Total values
        assert any(r[6] == "2017/18" for r in before["pupil_group_observations"])
        assert after["pupil_group_observations"] == [r for r in before["pupil_group_observations"]
                                                     if r[6] != "2017/18"]
        valued = ("observations", "pupil_group_observations")
        assert {k: v for k, v in after.items() if k not in valued} == {
            k: v for k, v in before.items() if k not in valued}
        audit = s.query("SELECT actor, action, entity, entity_id, before_json FROM audit_log "
                        "WHERE action = 'forget'")
        assert [(a, b, c, d) for a, b, c, d, _ in audit] == [("cli", "forget", "period", "2017/18")]
        assert json.loads(audit[0][4])["school_values"] == counts[True]
        forgotten = derived_rows(s, without_ord=True)
    with Store(tmp_path / "only-2018-19.duckdb") as clean:  # what the store would be had 2017/18 never come in
        assert import_file(clean, KS4P, "2018/19").ok
        assert forgotten == derived_rows(clean, without_ord=True)
    with Store(backup, read_only=True) as b:
        assert snapshot(b) == before


def test_forget_period_asks_first_and_refuses_without_a_terminal(two_years: Path) -> None:
    with Store(two_years, read_only=True) as s:
        before = snapshot(s)
    done = run_cli(two_years, "forget-period", "2017/18")
    assert done.returncode == 2
    assert done.stderr == ("error: forget-period removes every value of 2017/18: add --yes to confirm (no terminal "
                           "to ask at); nothing was removed\n")
    # nothing written beside the store (no backup): only the results file, its state store and its writer lock
    assert {p.name for p in two_years.parent.iterdir()} - {two_years.with_suffix(".state.sqlite").name,
                                                            two_years.name + ".lock"} == {two_years.name}
    with Store(two_years, read_only=True) as s:
        assert snapshot(s) == before


@pytest.mark.parametrize(("period", "message"), [
    ("2999/00", "error: period '2999/00' is not a year Jointly can hold: Jointly takes academic years from {first} "
                "to {last}\n"),
    ("2012/13", "error: the store holds no values for 2012/13: nothing was removed\n"),
    ("last year", "error: period 'last year' is not an academic year like 2018/19\n"),
])
def test_forget_period_refuses_a_year_it_cannot_remove(two_years: Path, period: str, message: str) -> None:
    with Store(two_years, read_only=True) as s:
        before = snapshot(s)
    done = run_cli(two_years, "forget-period", period, "--yes")
    first, last = period_range()
    assert (done.returncode, done.stderr) == (2, message.format(first=first, last=last))
    with Store(two_years, read_only=True) as s:
        assert snapshot(s) == before


@pytest.mark.parametrize(("typed", "code", "left"), [("yes\n", 1, True), ("2017/18\n", 0, False)])
def test_forget_period_at_a_terminal_removes_only_when_the_year_is_typed(two_years: Path, typed: str, code: int,
                                                                         left: bool) -> None:
    """At a terminal (a pseudo-terminal here) it asks, and only the year itself, typed back, confirms."""
    import pty

    controller, terminal = pty.openpty()
    env = {**os.environ, "JOINTLY_DB": str(two_years)}
    proc = subprocess.Popen([sys.executable, "-m", "data", "forget-period", "2017/18"], cwd=REPO, env=env,
                            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(terminal)
    os.write(controller, typed.encode())
    out, err = proc.communicate(timeout=300)
    os.close(controller)
    assert proc.returncode == code, err
    assert "Type 2017/18 to confirm: " in out and "Traceback" not in err
    assert ("nothing was removed" in out) is left
    with Store(two_years, read_only=True) as s:
        assert (s.query("SELECT count(*) FROM observations WHERE period = '2017/18'")[0][0] > 0) is left
    assert len(list(two_years.parent.glob("jointly.duckdb.backup-*"))) == (0 if left else 1)


def test_forget_period_removes_that_years_local_values_from_the_state_store(two_years: Path) -> None:
    """A local measure's values live in the state store (issue 12): forgetting 2017/18 counts and removes its value
    there too, and keeps the 2018/19 one."""
    from data.ingest.derived import forget_period, period_counts
    from data.services.groups import add_membership, create_group
    from data.services.local_measures import write_local_measure, write_local_values

    with Store(two_years) as s:
        urn = s.query("SELECT min(urn) FROM observations WHERE period = '2017/18' AND level = 'school'")[0][0]
        gid = create_group(s, "trust", "Forgetful Trust")
        add_membership(s, gid, urn)
        write_local_measure(s, gid, {"id": "reading_club", "label": "Reading club attendance", "unit": "%",
                                     "polarity": "higher_is_better"}, actor="g")
        write_local_values(s, "reading_club", pd.DataFrame({"urn": [urn, urn], "period": ["2017/18", "2018/19"],
                                                           "value": [40.0, 55.0]}), actor="g")
        assert period_counts(s, "2017/18").local_values == 1
        done = forget_period(s, "2017/18", actor="cli")
        assert done.local_values == 1
        assert s.state.query("SELECT period, value FROM local_values") == [("2018/19", 55.0)]
        assert s.query("SELECT period, value FROM observations WHERE measure = 'reading_club'") == [("2018/19", 55.0)]
        audit = s.query("SELECT before_json FROM audit_log WHERE action = 'forget'")
        assert json.loads(audit[0][0])["local_values"] == 1
