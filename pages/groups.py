"""Groups: make and keep a partnership, federation, cluster or hub — its schools with the dates they joined and
left, its name, the group it sits in, closing it. For data managers (any group) and leaders (their own group and
the groups in it); the data layer (data.services.group_admin) decides who may do what and records every change."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data.db.errors import StoreError
from data.services import scope
from data.services.access import AccessDenied
from data.services.group_admin import (
    EARLIEST,
    KIND_WORDS,
    KINDS,
    add_schools,
    answer_invitation,
    close_group,
    create_group,
    find_schools,
    group_detail,
    invitations,
    manageable_groups,
    record_left,
    rename_group,
    reopen_group,
    set_parent,
)
from metrics.school_words import phase_words
from metrics.text import markdown_text
from ui.context import current_viewer
from ui.messages import Kind, flash, show_flashed
from ui.router import hand_over
from ui.store import get_store
from ui.widgets import label_from

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_CHOSEN = "groups_chosen"
KEY_SEARCH = "groups_search"
KEY_PICKED = "groups_picked"
KEY_JOINED = "groups_joined"
KEY_NEXT = "_groups_choose_next"  # the group to show after the rerun a change causes
NOT_INSIDE = 0
LATEST = dt.date.today() + dt.timedelta(days=365)  # the data layer refuses later dates too


def _attempt(change, success: str | None = None) -> None:
    """Make a change and keep what happened for the rerun that follows: the refusal in words, or the success."""
    try:
        result = change()
    except StoreError as refused:  # AccessDenied too: the data layer's words are for the person on the page
        flash(Kind.ERROR, "Nothing was changed: " + refused.title)
    else:
        flash(Kind.SUCCESS, success(result) if callable(success) else success)
        # chosen again before the selector is drawn: Streamlit's browser side keeps a renamed option's old label
        # otherwise (streamlit/streamlit#13788)
        st.session_state.setdefault(KEY_NEXT, st.session_state.get(KEY_CHOSEN))
    st.rerun()


def _day(value: dt.date | None) -> str:
    return f"{value:%d %b %Y}" if value else "–"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


store = get_store()
viewer = current_viewer()
st.title("Groups")
try:
    groups = manageable_groups(store, viewer)
    waiting = invitations(store, viewer)
except AccessDenied as refused:
    st.error(markdown_text(refused.title))
    st.stop()
st.caption("Partnerships, federations, clusters and hubs are made and kept here: which schools are in them, from "
           "when to when. Trusts and their schools come from the DfE's files (import them on the Data page). A "
           "school a leader adds is invited, and joins when its head or a data manager accepts. Every change is in "
           "the change history. Agreeing to publish results jointly is a separate step, on the publish page.")

# ------------------------------------------------------------------------------------------------ invitations
if waiting:
    st.header("Invitations waiting for an answer")
    for inv in waiting:
        with st.container(border=True):
            st.markdown(f"**{markdown_text(inv.school_name)}** is invited to join **{markdown_text(inv.group_name)}** "
                        f"from {_day(inv.joined)} (asked by {markdown_text(inv.invited_by)} on "
                        f"{_day(inv.invited_at)}).")
            yes, no = st.columns(2)
            if yes.button("Accept: join the group", key=f"accept_{inv.invitation_id}", type="primary"):
                _attempt(lambda i=inv: answer_invitation(store, viewer, i.invitation_id, True),
                         f"{inv.school_name} is now a member of {inv.group_name} from {_day(inv.joined)}.")
            if no.button("Decline", key=f"decline_{inv.invitation_id}"):
                _attempt(lambda i=inv: answer_invitation(store, viewer, i.invitation_id, False),
                         f"{inv.school_name} declined to join {inv.group_name}.")

# ------------------------------------------------------------------------------------------------ the list
by_id = {g.group_id: g for g in groups}
if groups:
    st.dataframe(pd.DataFrame({
        "Group": [g.name for g in groups],
        "Kind": [g.kind_words for g in groups],
        "Inside": [g.parent_name or "–" for g in groups],
        "Schools now": [g.members for g in groups],
        "Status": [f"closed on {_day(g.close_date)}" if g.closed else "open" for g in groups],
        "Kept by": ["the DfE's files" if g.dfe else "people, in Jointly" for g in groups],
    }), hide_index=True, width="stretch", height=min(36 + 35 * len(groups), 300), key="groups_table")
elif viewer.is_admin:
    st.info("No groups yet: create the first partnership below, or import the DfE's trusts on the Data page.")
else:
    st.info("Your account has no group yet: a data manager gives it one on the Accounts page.")

# ------------------------------------------------------------------------------------------------ create
changeable = {g.group_id: g.name for g in groups if not g.dfe and not g.closed}
visible_open = {g.group_id: g.name for g in groups if not g.closed}
parents = [NOT_INSIDE, *visible_open] if viewer.is_admin else list(visible_open)
if viewer.is_admin or parents:
    with st.expander("Create a group", expanded=not groups), st.form("create_group", clear_on_submit=True):
        c1, c2 = st.columns(2)
        name = c1.text_input("Name", max_chars=120, placeholder="e.g. Riverside Schools Partnership",
                             key="create_name")
        kind = c2.selectbox("Kind", KINDS, format_func=lambda k: KIND_WORDS[k].capitalize(), key="create_kind")
        parent = c1.selectbox("Inside", parents, key="create_parent",
                              format_func=lambda g: "Not inside another group" if g == NOT_INSIDE else visible_open[g],
                              help="A cluster or hub may sit inside a bigger group, e.g. a trust's clusters.")
        opened = c2.date_input("Opened on", value="today", min_value=EARLIEST, max_value=LATEST,
                               format="DD/MM/YYYY", key="create_opened")
        if st.form_submit_button("Create the group", type="primary"):
            def made(gid: int, text: str = name) -> str:
                st.session_state[KEY_NEXT] = gid  # open the new group below, ready for its schools
                return f"Created {' '.join(text.split())}: now add its schools."

            _attempt(lambda: create_group(store, viewer, kind, name, parent_id=None if parent == NOT_INSIDE else parent,
                                          opened=opened), made)

if not groups:
    show_flashed()
    st.stop()

# ------------------------------------------------------------------------------------------------ one group
st.header("A group's schools")
ids = list(by_id)
if st.session_state.get(KEY_NEXT) in by_id:
    st.session_state[KEY_CHOSEN] = st.session_state.pop(KEY_NEXT)
st.session_state.pop(KEY_NEXT, None)
if st.session_state.get(KEY_CHOSEN) not in by_id:
    st.session_state[KEY_CHOSEN] = viewer.group_id if viewer.group_id in by_id else ids[0]
chosen = st.selectbox("Group", ids, key=KEY_CHOSEN,
                      format_func=lambda g: by_id[g].name + (" (closed)" if by_id[g].closed else ""))
detail = group_detail(store, viewer, chosen)
group = detail.group
status = f"closed on {_day(group.close_date)}" if group.closed else "open"
inside = f"inside {markdown_text(group.parent_name)}" if group.parent_name else "not inside another group"
st.markdown(f"**{markdown_text(group.name)}**: {group.kind_words}, {status}, {inside}.")
show_flashed()  # here, beside what was changed (the page is long), not at its top
if detail.children:
    st.caption("Groups in it: " + markdown_text(", ".join(detail.children)) + ". Their schools count in it too.")
if group.dfe:
    st.info("This group comes from the DfE's files: its schools and its name change when a newer file is imported on "
            "the Data page.", icon=":material/info:")
if group.closed:
    st.warning(f"This group closed on {_day(group.close_date)}. Its results before then stay in its history.",
               icon=":material/archive:")

if detail.stays:
    through = any(s.subgroup for s in detail.stays)  # a column only when a nested group brings schools in
    members = pd.DataFrame({
        "School": [s.name for s in detail.stays],
        "URN": [str(s.urn) for s in detail.stays],
        "Phase": [phase_words(s.phase) or "–" for s in detail.stays],
        "Town and postcode": [" ".join(x for x in (s.town, s.postcode) if x) or "–" for s in detail.stays],
        "Trust": [", ".join(s.trusts) or "–" for s in detail.stays],
        "Joined": [_day(s.joined) if s.joined else "before our records" for s in detail.stays],
        "Left": [_day(s.left) if s.left else "still a member" for s in detail.stays],
        **({"Through": [s.subgroup or "–" for s in detail.stays]} if through else {}),
    })
    st.dataframe(members, hide_index=True, width="stretch", key="group_members_table",
                 column_config={"School": st.column_config.TextColumn(width="medium"),
                                "Trust": st.column_config.TextColumn(width="medium"),
                                "URN": st.column_config.TextColumn(width="small")})
else:
    st.info("No schools in this group yet.")
if detail.invitations:
    st.markdown("**Invited, not answered yet**")
    for inv in detail.invitations:
        st.markdown(f"- {markdown_text(inv.school_name)}: joins on {_day(inv.joined)} when its head accepts "
                    f"(asked by {markdown_text(inv.invited_by)})")

if not detail.can_change:
    st.stop()

tab_names = ["Add schools", "A school left", "Rename", "Inside another group"] + (
    ["Close or reopen"] if detail.can_close else [])
tabs = st.tabs(tab_names)

with tabs[0]:
    if group.closed:
        st.info("Reopen the group before adding schools.")
    else:
        st.text_input("Find schools by name, URN, town or postcode", key=KEY_SEARCH, max_chars=80,
                      placeholder="e.g. Ashby, 100001 or AB1 2CD")
        hits = find_schools(store, viewer, st.session_state.get(KEY_SEARCH, ""))
        if st.session_state.get(KEY_SEARCH, "").strip() and not hits:
            st.info("No school in the store matches that.")
        if hits:
            labels = {h.urn: f"{h.name} ({(phase_words(h.phase) or 'phase not known').lower()}) · "
                      f"{h.town or 'no town'} {h.postcode or ''} · URN {h.urn}"
                      + (f" · {', '.join(h.trusts)}" if h.trusts else " · no trust")
                      + ("" if h.open else " · closed") for h in hits}
            with st.form("add_schools", clear_on_submit=True):
                picked = st.multiselect("Schools to add", list(labels), format_func=label_from(labels), key=KEY_PICKED)
                joined = st.date_input("Joined on", value="today", min_value=EARLIEST, max_value=LATEST,
                                       format="DD/MM/YYYY", key=KEY_JOINED,
                                       help="A past date is fine: the school's results count from that year.")
                years = scope.periods(store, viewer)
                if years:  # a school counts from the year it joined: say what today's date means for the results
                    st.caption(f"Results count from the academic year a school joined; the newest results here "
                               f"are for {years[-1]}. Give the date each school really joined (e.g. 1 September "
                               f"{years[-1][:4]}): a school joining today counts from next year's results.")
                verb = "Add to the group" if viewer.is_admin else "Invite to the group"
                if st.form_submit_button(verb, type="primary"):
                    def added(done, day: dt.date = joined) -> str:
                        parts = []
                        if done.joined:
                            parts.append(f"{_plural(len(done.joined), 'school')} joined {group.name} from {_day(day)}.")
                        if done.invited:
                            parts.append(f"{_plural(len(done.invited), 'school')} invited: each joins when its head "
                                         "or a data manager accepts.")
                        return " ".join(parts)

                    _attempt(lambda: add_schools(store, viewer, group.group_id, picked, joined), added)

with tabs[1]:
    current = {s.urn: s.name for s in detail.stays if s.left is None and s.subgroup is None}
    if not current:
        st.info("No school is a member now.")
    else:
        with st.form("school_left"):
            urn = st.selectbox("School", list(current), format_func=current.get, key="left_school")
            left = st.date_input("Left on", value="today", min_value=EARLIEST, max_value=LATEST,
                                 format="DD/MM/YYYY", key="left_date",
                                 help="Its results still count for the years it was a member.")
            if st.form_submit_button("Record that it left"):
                _attempt(lambda: record_left(store, viewer, group.group_id, urn, left),
                         f"{current.get(urn, 'The school')} left {group.name} on {_day(left)}; its stay is kept.")

with tabs[2], st.form("rename_group"):
    new_name = st.text_input("New name", value=group.name, max_chars=120, key="rename_name")
    if st.form_submit_button("Rename"):
        _attempt(lambda: rename_group(store, viewer, group.group_id, new_name),
                 f"{group.name} is now called {' '.join(new_name.split())}.")

with tabs[3]:
    choices = ([NOT_INSIDE] if viewer.is_admin else []) + list(detail.parent_choices)
    if not choices:
        st.info("There is no group of yours it could sit inside.")
    else:
        with st.form("nest_group"):
            now = group.parent_id if group.parent_id in choices else choices[0]
            target = st.selectbox("Inside", choices, index=choices.index(now), key="nest_parent",
                                  format_func=lambda g: "Not inside another group" if g == NOT_INSIDE
                                  else detail.parent_choices[g])
            if st.form_submit_button("Save"):
                where = "not inside another group" if target == NOT_INSIDE else \
                    f"inside {detail.parent_choices[target]}"
                _attempt(lambda: set_parent(store, viewer, group.group_id, None if target == NOT_INSIDE else target),
                         f"{group.name} is now {where}.")

if detail.can_close:
    with tabs[4], st.form("close_group"):
        if group.closed:
            st.caption("Reopening gives back the memberships the closing ended; schools that left on their own stay "
                       "left.")
            if st.form_submit_button("Reopen the group"):
                _attempt(lambda: reopen_group(store, viewer, group.group_id),
                         lambda n: f"{group.name} is open again; {_plural(n, 'school')} continue as members.")
        else:
            st.caption("Closing ends every school's membership on that day. The group, its schools' results and its "
                       "history are kept, and shown as closed.")
            on = st.date_input("Closed on", value="today", min_value=EARLIEST, max_value=LATEST,
                               format="DD/MM/YYYY", key="close_date")
            sure = st.checkbox("Yes, close this group", key="close_sure")
            if st.form_submit_button("Close the group"):
                if sure:
                    _attempt(lambda: close_group(store, viewer, group.group_id, on),
                             lambda n: f"{group.name} closed on {_day(on)}; {_plural(n, 'membership')} ended then.")
                else:
                    flash(Kind.ERROR, "Nothing was changed: Tick the box to confirm.")
                    st.rerun()
