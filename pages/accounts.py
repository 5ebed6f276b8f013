"""Accounts: who may sign in, with what role and group. For data managers (admins); the data layer
(data.services.accounts.admin_*) refuses anyone else, and records every change in the change history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.services.access import AccessDenied
from data.services.accounts import (
    LEAST_POWERFUL_FIRST,
    MIN_PASSWORD,
    accounts_for,
    admin_add_user,
    admin_remove_user,
    admin_set_password,
    admin_set_role,
)
from metrics.text import markdown_text
from ui.context import current_viewer, group_options
from ui.messages import Kind, flash, show_flashed
from ui.router import hand_over
from ui.store import get_store

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_ACCOUNT = "accounts_chosen"
KEY_ADDED = "_accounts_added"  # an account was just added: the next run starts the form afresh
NEW_FIELDS = ("new_email", "new_name", "new_role", "new_group", "new_school", "new_password")
NO_GROUP = 0
# offered least powerful first, and the form starts on the first: admin is only ever a deliberate choice
ROLE_WORDS = {"governor": "Governor or trustee: one group, optionally one school",
              "leader": "Leader: one group (and the groups in it); with a school, its head",
              "admin": "Data manager (admin): every group, imports, accounts"}
SCHOOL_LABEL = "School URN (optional: a governor's school, or the school a leader is head of)"


def _done(problems: list[str], success: str) -> None:
    """Keep what happened for the rerun that follows: the problems (nothing was changed), or the success."""
    if problems:
        flash(Kind.ERROR, "Nothing was changed:", problems)
    else:
        flash(Kind.SUCCESS, success)  # inert: an email would otherwise be drawn as a mailto link


def _role_shown(account: dict) -> str:
    """The role as the list says it: a leader with a school is that school's head."""
    if account["role"] == "leader" and account["school_urn"]:
        return f"Head of {account['school_name'] or 'school ' + str(account['school_urn'])}"
    return str(account["role"])


def _school(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


store = get_store()
viewer = current_viewer()
st.title("Accounts")
try:
    accounts = accounts_for(store, viewer)
except AccessDenied as refused:
    st.error(markdown_text(refused.title))
    st.stop()
st.caption("Who may sign in, and what they see. Parents need no account. Every change here is in the change "
           "history. An account without a password signs in with the school's own sign-in (single sign-on) only.")
if store.is_demo():
    st.info("This is the demo: people choose who they are with 'Viewing as' in the sidebar. Accounts made here are "
            "kept, but sign-in is used only once real data is loaded.")
show_flashed()
groups = group_options(store, viewer)
group_ids = [NO_GROUP, *groups]
group_label = lambda g: "No group (admins see every group)" if g == NO_GROUP else groups[g]  # noqa: E731

# ------------------------------------------------------------------------------------------------ the list
if accounts:
    st.dataframe(pd.DataFrame({
        "Email": [a["email"] for a in accounts],
        "Name": [a["display_name"] or "–" for a in accounts],
        "Role": [_role_shown(a) for a in accounts],
        "Group": [a["group_name"] or ("every group" if a["role"] == "admin" else "–") for a in accounts],
        "School (URN)": [a["school_urn"] or "–" for a in accounts],
        "Signs in with": ["password or school sign-in" if a["has_password"] else "school sign-in only"
                          for a in accounts],
        "Failed sign-ins (24 h)": [a["failed_sign_ins_24h"] for a in accounts],
        "Last sign-in (UTC)": [a["last_sign_in"] or "never" for a in accounts],
    }).astype(str), hide_index=True, width="stretch", key="accounts_table")
else:
    st.info("No accounts yet: add the first one below.")

# ------------------------------------------------------------------------------------------------ add
st.header("Add an account")
if st.session_state.pop(KEY_ADDED, False):  # added: start afresh (after a problem, what was typed stays)
    for key in NEW_FIELDS:
        st.session_state.pop(key, None)
# not clear_on_submit: that empties the form in the browser on every press, problems or not
with st.form("add_account"):
    c1, c2 = st.columns(2)
    email = c1.text_input("Email", placeholder="name@school.example", key="new_email")
    name = c2.text_input("Name (optional)", key="new_name")
    role = c1.selectbox("Role", LEAST_POWERFUL_FIRST, format_func=ROLE_WORDS.get, key="new_role")
    group = c2.selectbox("Group", group_ids, format_func=group_label, key="new_group")
    school = c1.text_input(SCHOOL_LABEL, max_chars=6, key="new_school")
    password = c2.text_input(f"Password (optional, at least {MIN_PASSWORD} characters)", type="password",
                             help="Leave empty for an account that signs in with the school's own sign-in only.",
                             key="new_password")
    if st.form_submit_button("Add the account", type="primary"):
        if school.strip() and _school(school) is None:
            problems = [f"The school URN is a number of six digits, not {school.strip()!r}."]
        else:
            problems = admin_add_user(store, viewer, email=email, role=role,
                                      group=None if group == NO_GROUP else group, display_name=name,
                                      password=password or None, school_urn=_school(school))
        _done(problems, f"Added {email.strip().lower()}.")
        st.session_state[KEY_ADDED] = not problems
        st.rerun()

# ------------------------------------------------------------------------------------------------ change
if accounts:
    st.header("Change an account")
    emails = [a["email"] for a in accounts]
    chosen = st.selectbox("Account", emails, key=KEY_ACCOUNT)
    account = next(a for a in accounts if a["email"] == chosen)
    role_tab, password_tab, remove_tab = st.tabs(["Role and group", "Password", "Remove"])
    with role_tab, st.form("set_role"):
        c1, c2, c3 = st.columns(3)
        new_role = c1.selectbox("Role", LEAST_POWERFUL_FIRST, index=LEAST_POWERFUL_FIRST.index(account["role"]),
                                format_func=ROLE_WORDS.get)
        current = account["group_id"] if account["group_id"] in groups else NO_GROUP
        new_group = c2.selectbox("Group", group_ids, index=group_ids.index(current), format_func=group_label)
        new_school = c3.text_input(SCHOOL_LABEL, value=str(account["school_urn"] or ""), max_chars=6)
        if st.form_submit_button("Save the role"):
            problems = admin_set_role(store, viewer, chosen, new_role, None if new_group == NO_GROUP else new_group,
                                      school_urn=_school(new_school))
            _done(problems, f"{chosen} is now a {new_role}.")
            st.rerun()
    with password_tab, st.form("set_password", clear_on_submit=True):
        st.caption("Failed sign-ins never lock an account: they make the next attempt from the same place wait.")
        new_password = st.text_input(f"New password (at least {MIN_PASSWORD} characters)", type="password")
        if st.form_submit_button("Set the password"):
            problems = admin_set_password(store, viewer, chosen, new_password)
            _done(problems, f"New password set for {chosen}.")
            st.rerun()
    with remove_tab, st.form("remove_account"):
        sure = st.checkbox(f"Yes, remove {markdown_text(chosen)}: they can no longer sign in", key="remove_sure")
        if st.form_submit_button("Remove the account"):
            problems = admin_remove_user(store, viewer, chosen) if sure else ["Tick the box to confirm."]
            _done(problems, f"Removed {chosen}.")
            st.rerun()
