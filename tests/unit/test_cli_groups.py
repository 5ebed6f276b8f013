"""`python -m data groups`: list as before, and create|add|remove|show|rename|nest|close|reopen a group of people,
acting as an admin; bad input is one sentence on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import subprocess
import sys
from pathlib import Path

import pytest

from data.cli import main
from data.db.store import Store
from data.services import groups

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store with three schools, two of them in a trust from the DfE's files, selected with JOINTLY_DB."""
    path = tmp_path / "cli.duckdb"
    with Store(path) as s:
        with s.results_transaction() as cur:
            cur.executemany(
                "INSERT INTO establishments (urn, name, town, postcode, status) VALUES (?, ?, ?, ?, 'open')",
                [(100001, "Ashby Academy", "Ashby", "AB1 2CD"), (100002, "Brook School", "Brook", "AB2 3EF"),
                 (100003, "Castle School", "Castle", "CT1 1AA")])
        trust = groups.create_group(s, "trust", "Oak Trust", code="TR00001", source="gias_groups")
        groups.add_memberships(s, trust, [100001], "2015-09-01")
    monkeypatch.setenv("JOINTLY_DB", str(path))
    return path


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# issue 11 point 1
def test_create_add_show_rename_remove_close(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(capsys, "groups", "create", "--kind", "partnership", "Riverside Partnership")
    assert (code, err) == (0, "") and out.startswith("created Riverside Partnership (partnership, id ")
    assert run(capsys, "groups", "add", "Riverside Partnership", "100001", "100002", "--joined", "2025-03-15") == (
        0, "added 2 schools to Riverside Partnership from 2025-03-15\n", "")
    code, out, _ = run(capsys, "groups", "show", "riverside partnership")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Riverside Partnership: partnership, open, id ")
    assert lines[1:4] == ["inside: no other group", "groups in it: none", "schools: 2 now, 2 ever"]
    assert "100001  Ashby Academy" in lines[4] and "joined 2025-03-15" in lines[4] and "trust Oak Trust" in lines[4]
    assert "100002  Brook School" in lines[5] and "still a member" in lines[5]
    assert run(capsys, "groups", "rename", "Riverside Partnership", "Riverside Schools")[0] == 0
    assert run(capsys, "groups", "remove", "Riverside Schools", "100002", "--left", "2025-12-31")[0] == 0
    assert run(capsys, "groups", "create", "--kind", "cluster", "--name", "North",
               "--parent", "Riverside Schools")[0] == 0
    assert run(capsys, "groups", "close", "Riverside Schools", "--on", "2026-08-31")[0] == 0
    with Store(db) as s:
        gid = groups.find_group(s, "Riverside Schools").group_id
        assert s.query("SELECT urn, start_date, end_date FROM memberships WHERE group_id = ? ORDER BY urn", [gid]) == [
            (100001, dt.date(2025, 3, 15), dt.date(2026, 8, 31)), (100002, dt.date(2025, 3, 15), dt.date(2025, 12, 31))]
        assert s.query("SELECT status, close_date FROM groups WHERE group_id = ?", [gid]) == [
            ("closed", dt.date(2026, 8, 31))]
        assert groups.find_group(s, "North").parent_id == gid
        log = s.query("SELECT actor, action, group_id, after_json FROM audit_log WHERE group_id = ? ORDER BY audit_id",
                      [gid])
    assert [a for _, a, _, _ in log] == ["create", "add", "rename", "leave", "close"]
    assert {actor for actor, _, _, _ in log} == {f"cli:{getpass.getuser()}"}
    assert json.loads(log[1][3]) == {"urns": [100001, 100002], "start_date": "2025-03-15"}
    # listing is as it was, with or without `list`
    code, out, _ = run(capsys, "groups")
    assert code == 0 and "partnership     2 schools  Riverside Schools" in out
    assert "trust           1 schools  Oak Trust" in out
    assert run(capsys, "groups", "--kind", "trust")[1] == run(capsys, "groups", "list", "--kind", "trust")[1]
    assert "Riverside" not in run(capsys, "groups", "--kind", "trust")[1]


# issue 11 point 1
@pytest.mark.parametrize(("argv", "said"), [
    (["create", "--kind", "trust", "My Trust"], "Trusts and school sponsors come from the DfE's files"),
    (["create", "--kind", "partnership"], "A group needs a name."),
    (["create", "--kind", "club", "X"], "not 'club'"),
    (["add", "Nowhere", "100001"], "there is no group 'Nowhere'"),
    (["add", "Oak Trust", "100002"], "Oak Trust is a trust: its schools and its name come from the DfE's files"),
    (["add", "P", "1234567"], "A URN is six digits, not '1234567'."),
    (["add", "P", "999999"], "There is no school with URN 999999 in the store."),
    (["add", "P", "100001", "--joined", "15/03/2025"], "The joining date '15/03/2025' is not a date"),
    (["add", "P", "100003"], "Castle School is already a member of P on"),
    (["remove", "P", "100002"], "Brook School is not a member of P."),
    (["remove", "P", "100003", "--left", "2020-01-01"], "it cannot leave before that"),
    (["nest", "P", "P"], "P cannot be nested inside itself."),
    (["close", "Oak Trust"], "Oak Trust is a trust"),
    (["reopen", "P"], "P is open."),
])
def test_bad_input_is_one_sentence_and_exit_2(db: Path, capsys: pytest.CaptureFixture, argv: list[str],
                                              said: str) -> None:
    assert run(capsys, "groups", "create", "--kind", "partnership", "P")[0] == 0
    assert run(capsys, "groups", "add", "P", "100003", "--joined", "2024-09-01")[0] == 0
    with Store(db) as s:
        before = s.query("SELECT * FROM memberships ORDER BY ALL"), s.query("SELECT * FROM groups ORDER BY ALL")
    code, out, err = run(capsys, "groups", *argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and said in err and err.count("\n") == 1, err
    with Store(db) as s:  # nothing was written
        after = s.query("SELECT * FROM memberships ORDER BY ALL"), s.query("SELECT * FROM groups ORDER BY ALL")
    assert after == before


# issue 11 point 1
def test_the_real_command_line_says_it_without_a_traceback(db: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "data", "groups", "add", "Nowhere", "100001"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: there is no group 'Nowhere'")
    missing = subprocess.run([sys.executable, "-m", "data", "groups", "show"], cwd=REPO, capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode == 2 and "the following arguments are required: GROUP" in missing.stderr
