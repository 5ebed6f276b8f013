"""Shared page furniture: the viewer, the URL-bound selectors (group, period, school, measure) and cached
loaders. Widget keys are constants; the ones bound to the URL make every view shareable."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import scope
from data.access import Role, Viewer
from data.store import Store
from metrics.registry import Measure, Registry
from metrics.scorecard import Scorecard

KEY_GROUP = "group"
KEY_PERIOD = "period"
KEY_SCHOOL = "school"
KEY_MEASURE = "measure"
KEY_ROLE = "viewing_as"
KEY_VIEWER = "_viewer"
KEY_VIEW_GROUP = "viewing_group"
ROLES = [Role.LEADER, Role.GOVERNOR, Role.ADMIN, Role.PUBLIC]


def current_viewer() -> Viewer:
    """The viewer app.py established for this run (pages take it from here)."""
    return st.session_state[KEY_VIEWER]


def viewer_selector(store: Store) -> Viewer:
    """The demo's 'viewing as' choice (until accounts arrive): a role and, for leaders and governors, a group.
    A parent or visitor is asked for nothing more: they read only what groups have published."""
    side = st.sidebar
    side.markdown("**Viewing as** (demo: choose who you are)")
    role = side.selectbox("Role", ROLES, format_func=lambda r: r.label, key=KEY_ROLE, bind="query-params")
    if role is Role.ADMIN:
        return Viewer(role, None, "Data manager")
    if role is Role.PUBLIC:
        return Viewer(role, None, "Parent or visitor")
    groups = group_options(store, Viewer(Role.ADMIN))  # the demo: any group may be chosen to view as
    if not groups:
        return Viewer(role, None, role.label)
    flagship = next((gid for gid, name in groups.items() if name.startswith("Northbridge Learning")), None)
    ids = list(groups)
    gid = side.selectbox("Group", ids, index=ids.index(flagship) if flagship in ids else 0,
                         format_func=lambda g: groups[g], key=KEY_VIEW_GROUP, bind="query-params")
    return Viewer(role, gid, f"{role.label} of {groups[gid]}")


@st.cache_data(show_spinner=False, max_entries=32)
def _groups_cached(_store: Store, generation: int, viewer: Viewer) -> dict[int, str]:
    return scope.groups(_store, viewer)


def group_options(store: Store, viewer: Viewer) -> dict[int, str]:
    """The groups the viewer may open, labelled as the URL carries them (cached per store state and viewer)."""
    return _groups_cached(store, store.generation, viewer.scope)


def choose_period(store: Store, viewer: Viewer) -> str | None:
    periods = list(reversed(scope.periods(store, viewer)))
    if not periods:
        st.info("No results in the store yet: an admin can import DfE files on the Data page.")
        return None
    return st.selectbox("Academic year", periods, key=KEY_PERIOD, bind="query-params")


def choose_group(store: Store, viewer: Viewer) -> int | None:
    """A group the viewer may see (their own, or any for an admin)."""
    groups = group_options(store, viewer)
    if not groups:
        st.info("There is no group with member schools that you can see yet.")
        return None
    ids = list(groups)
    default = viewer.group_id if viewer.group_id in groups else ids[0]
    return st.selectbox("Group", ids, index=ids.index(default), format_func=lambda g: groups[g], key=KEY_GROUP,
                        bind="query-params")


def choose_group_and_period(store: Store, viewer: Viewer, *, third_column: bool = False):
    """The group and year every group page starts with, side by side (and a third column for a school when
    asked). Stops the page, after saying why, when either is unavailable. Returns (group_id, period, column)."""
    cols = st.columns(3 if third_column else 2)
    with cols[0]:
        group_id = choose_group(store, viewer)
    with cols[1]:
        period = choose_period(store, viewer)
    if group_id is None or period is None:
        st.stop()
    return group_id, period, cols[2] if third_column else None


def choose_school(viewer: Viewer, members: list[tuple[int, str]]) -> int | None:
    """One of the members, by name; a governor given one school starts on it."""
    if not members:
        st.info("This group has no member schools in this year.")
        return None
    names = dict(members)
    ids = [u for u, _ in sorted(members, key=lambda m: m[1])]
    index = ids.index(viewer.school_urn) if viewer.school_urn in names else 0
    return st.selectbox("School", ids, index=index, format_func=lambda u: f"{names[u]} ({u})", key=KEY_SCHOOL,
                        bind="query-params")


def choose_measure(measures: list[Measure], *, label: str = "Measure", default: str | None = None) -> Measure | None:
    if not measures:
        return None
    by_id = {m.id: m for m in measures}
    ids = list(by_id)
    index = ids.index(default) if default in by_id else 0
    mid = st.selectbox(label, ids, index=index, format_func=lambda i: by_id[i].label, key=KEY_MEASURE,
                       bind="query-params")
    return by_id[mid]


# Cached per viewer as well as per request: the scoped read decides what this viewer may see, so one viewer's
# answer is never served to another.
@st.cache_data(show_spinner=False, max_entries=64)
def _card(_store: Store, generation: int, viewer: Viewer, kind: str, ident: int, period: str,
          method: str, include_special: bool = False) -> Scorecard:
    if kind == "school":
        return scope.school_scorecard(_store, viewer, ident, period)
    return scope.group_scorecard(_store, viewer, ident, period, method=method, include_special=include_special)


def group_card(store: Store, viewer: Viewer, group_id: int, period: str, method: str = "pooled", *,
               include_special: bool = False) -> Scorecard:
    """A group's scorecard as this viewer may see it, cached per (store state, viewer, group, period, method,
    whether special schools are pooled)."""
    return _card(store, store.generation, viewer.scope, "group", group_id, period, method, include_special)


def school_card(store: Store, viewer: Viewer, urn: int, period: str) -> Scorecard:
    return _card(store, store.generation, viewer.scope, "school", urn, period, "pooled")


@st.cache_resource(show_spinner=False, max_entries=64)  # a Registry is immutable: share it, do not copy it
def _registry(_store: Store, generation: int, viewer: Viewer, group_id: int | None) -> Registry:
    return scope.registry(_store, viewer, group_id)


def registry(store: Store, viewer: Viewer, group_id: int | None) -> Registry:
    """National measures and the group's own local measures, as this viewer may see them."""
    return _registry(store, store.generation, viewer.scope, group_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _members(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str | None) -> pd.DataFrame:
    return scope.members(_store, viewer, group_id, period)


def members_table(store: Store, viewer: Viewer, group_id: int, period: str | None = None) -> pd.DataFrame:
    """The group's member schools with their GIAS details (names, addresses, coordinates, contacts), cached."""
    return _members(store, store.generation, viewer.scope, group_id, period)
