"""The Accounts page's form (issue 11 point 11): what was typed survives a validation error, the role never
falls back to admin (the least powerful role is the default, and admin must be chosen), and a leader can be the
head of one of the group's schools, on the page and from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from conftest import app_on, button, table
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.services import groups
from data.services.access import Role, Viewer
from data.services.accounts import add_user, list_users
from ui import shared
from ui.signin import KEY_SIGNED_IN

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "accounts.py")
ADMIN = Viewer(Role.ADMIN, None, "Ada Admin", "admin@example.org")
GROUP = "Riverside Partnership"
HEAD_SCHOOL = (100002, "Birch Academy")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real store with an admin and a partnership of two schools, selected with JOINTLY_DB."""
    path = tmp_path / "accounts.duckdb"
    with Store(path) as s:
        s.set_setting("demo", "false")
        with s.results_transaction() as cur:
            cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Primary', 'primary'), "
                        "(?, ?, 'secondary')", list(HEAD_SCHOOL))
        group = groups.create_group(s, "partnership", GROUP)
        groups.add_memberships(s, group, [100001, HEAD_SCHOOL[0]])
        assert add_user(s, "setup", email=ADMIN.email, role="admin", password="admin-password-123") == []
    with app_on(path, monkeypatch):
        yield path


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[KEY_SIGNED_IN] = ADMIN  # signed in: the router checks the account in the store each run
    at.run()
    assert not at.exception, at.exception
    return at


def _accounts(path: Path) -> dict[str, dict]:
    st.cache_resource.clear()  # the page's store holds the file: read it through a fresh one after the page
    shared.clear_all()
    with Store(path) as s:
        return {a["email"]: a for a in list_users(s)}


def _group_id(path: Path) -> int:
    st.cache_resource.clear()
    shared.clear_all()
    with Store(path) as s:
        return groups.find_group(s, GROUP).group_id


def test_the_role_starts_on_the_least_powerful_and_admin_must_be_chosen(db: Path) -> None:
    # issue 11 point 11: a fresh form offers governor (not admin, which the first option used to be)
    group = _group_id(db)
    at = _page()
    role = at.selectbox(key="new_role")
    assert role.value == Role.GOVERNOR.value
    assert role.options[-1].startswith("Data manager (admin)")  # listed last, chosen only on purpose
    at.text_input(key="new_email").input("quick@example.org")
    at.selectbox(key="new_group").select(group)
    at = button(at, "Add the account").click().run()
    assert not at.exception and at.success, [e.value for e in at.error]
    assert _accounts(db)["quick@example.org"]["role"] == "governor"


def test_what_was_typed_survives_a_validation_error(db: Path) -> None:
    # issue 11 point 11: a too-short password is refused; email, name, role, group and school stay as typed, and
    # the role is still the one chosen (it used to be cleared, and the role select fell back to admin)
    at = _page()
    at.text_input(key="new_email").input("Head@Example.org")
    at.text_input(key="new_name").input("Hana Head")
    at.selectbox(key="new_role").select("leader")
    at.text_input(key="new_school").input(str(HEAD_SCHOOL[0]))
    at.text_input(key="new_password").input("short")
    at = button(at, "Add the account").click().run()
    assert not at.exception
    assert at.error and "Nothing was changed" in at.error[0].value
    assert at.text_input(key="new_email").value == "Head@Example.org"
    assert at.text_input(key="new_name").value == "Hana Head"
    assert at.selectbox(key="new_role").value == "leader"
    assert at.text_input(key="new_school").value == str(HEAD_SCHOOL[0])
    assert "head@example.org" not in _accounts(db)


def test_a_leader_can_be_the_head_of_a_school_in_the_group_and_the_form_clears_once_added(db: Path) -> None:
    # issue 11 point 11: "Head of <school>"
    group = _group_id(db)
    at = _page()
    at.text_input(key="new_email").input("head@example.org")
    at.selectbox(key="new_role").select("leader")
    at.selectbox(key="new_group").select(group)
    at.text_input(key="new_school").input(str(HEAD_SCHOOL[0]))
    at.text_input(key="new_password").input("a-long-enough-password")
    at = button(at, "Add the account").click().run()
    assert not at.exception and at.success, [e.value for e in at.error]
    head = _accounts(db)["head@example.org"]
    assert (head["role"], head["school_urn"]) == ("leader", HEAD_SCHOOL[0])
    shown = table(at, "Email").set_index("Email").loc["head@example.org"]
    assert shown["Role"] == f"Head of {HEAD_SCHOOL[1]}"
    # added: the form is empty again, on the least powerful role
    assert at.text_input(key="new_email").value == ""
    assert at.selectbox(key="new_role").value == Role.GOVERNOR.value


def test_a_school_outside_the_group_is_refused_in_words(db: Path) -> None:
    # issue 11 point 11
    group = _group_id(db)
    at = _page()
    at.text_input(key="new_email").input("head@example.org")
    at.selectbox(key="new_role").select("leader")
    at.selectbox(key="new_group").select(group)
    at.text_input(key="new_school").input("999999")
    at = button(at, "Add the account").click().run()
    assert at.error and "999999" in at.error[0].value


def test_users_add_gives_a_leader_a_school_from_the_command_line(db: Path) -> None:
    # issue 11 point 11: `python -m data users add … --school URN` for a leader too
    env = {**os.environ, "JOINTLY_DB": str(db)}
    run = subprocess.run([sys.executable, "-m", "data", "users", "add", "cli.head@example.org", "--role", "leader",
                          "--group", GROUP, "--school", str(HEAD_SCHOOL[0])], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    head = _accounts(db)["cli.head@example.org"]
    assert (head["role"], head["school_urn"]) == ("leader", HEAD_SCHOOL[0])
    # an admin is never given a school: refused in words, exit code 2
    run = subprocess.run([sys.executable, "-m", "data", "users", "add", "cli.admin@example.org", "--role", "admin",
                          "--school", str(HEAD_SCHOOL[0])], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.strip(), run.stderr
