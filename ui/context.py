"""Shared page furniture: the viewer, the URL-bound selectors (group, period, school, measure) and cached
loaders. Widget keys are constants; the ones bound to the URL make every view shareable.

The chosen group, year and school are also kept in the session (KEY_KEPT), because the URL alone loses them:
Streamlit drops a bound selector's query parameter when its value is the default, and Back returns to an address
written before the choice was made. A selector starts on, in order: what the URL says, what was chosen on any page
this session, then its own default (a group's year: the latest its schools have results for, not the store's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from data.db.store import Store
from data.services import scope
from data.services.access import Role, Viewer
from metrics.registry import Measure, Registry
from metrics.scorecard import Scorecard
from ui.shared import shared

KEY_GROUP = "group"
KEY_PERIOD = "period"
KEY_SCHOOL = "school"
KEY_MEASURE = "measure"
KEY_ROLE = "viewing_as"
KEY_VIEWER = "_viewer"
KEY_VIEW_GROUP = "viewing_group"
KEY_KEPT = "_kept_choices"  # {selector key: value}: the choices that carry across pages, Back and reruns
KEY_RESTORING = "_restoring_choice"  # (key, value) being put back after Back: tried once, never in a loop
KEY_FORCED = "_forced_choices"  # the selectors whose kept choice the run after Back puts back over the URL
ROLES = [Role.LEADER, Role.GOVERNOR, Role.ADMIN, Role.PUBLIC]


def current_viewer() -> Viewer:
    """The viewer app.py established for this run (pages take it from here)."""
    return st.session_state[KEY_VIEWER]


def viewer_selector(store: Store) -> Viewer:
    """The demo's 'viewing as' choice (until accounts arrive): a role and, for leaders and governors, a group.
    A parent or visitor is asked for nothing more: they read only what groups have published."""
    side = st.sidebar
    side.markdown("**Viewing as** (demo: choose who you are)")
    # kept across pages like the group and year (a page run straight from pages/ starts without the URL's choice)
    wanted_role = _start_on(KEY_ROLE, ROLES, ROLES[0], lambda r: r.label)
    role = side.selectbox("Role", ROLES, format_func=lambda r: r.label, key=KEY_ROLE, bind="query-params",
                          on_change=_remember, args=(KEY_ROLE,))
    role = _keep(KEY_ROLE, role, wanted_role)
    if role is Role.ADMIN:
        return Viewer(role, None, "Data manager")
    if role is Role.PUBLIC:
        return Viewer(role, None, "Parent or visitor")
    groups = group_options(store, Viewer(Role.ADMIN))  # the demo: any group may be chosen to view as
    if not groups:
        return Viewer(role, None, role.label)
    flagship = next((gid for gid, name in groups.items() if name.startswith("Northbridge Learning")), None)
    ids = list(groups)
    default = flagship if flagship in ids else ids[0]
    wanted_group = _start_on(KEY_VIEW_GROUP, ids, default, lambda g: groups[g])
    gid = side.selectbox("Group", ids, format_func=lambda g: groups[g], key=KEY_VIEW_GROUP, bind="query-params",
                         on_change=_remember, args=(KEY_VIEW_GROUP,))
    gid = _keep(KEY_VIEW_GROUP, gid, wanted_group)
    return Viewer(role, gid, f"{role.label} of {groups[gid]}")


# Every cache here is a process's, shared by its sessions (ui.shared: no pickling and no copy on a hit, which
# st.cache_data paid on every rerun, e.g. a whole Scorecard's, nor st.cache_resource's hashing and replay): each key
# holds the store's generation and the viewer's scope, so one viewer is never given what another may see. What is
# shared is never changed: the frozen results as they are, and a fresh shell (a dict, a list, a shallow DataFrame
# copy, copy-on-write) around what a caller could.
@shared(max_entries=32)
def _groups_cached(_store: Store, generation: int, viewer: Viewer) -> dict[int, str]:
    return scope.groups(_store, viewer)


def group_options(store: Store, viewer: Viewer) -> dict[int, str]:
    """The groups the viewer may open, labelled as the URL carries them (cached per store state and viewer)."""
    return dict(_groups_cached(store, store.generation, viewer.scope))


def _kept() -> dict:
    return st.session_state.setdefault(KEY_KEPT, {})


def _remember(key: str) -> None:
    """A selector's on_change: keep what the person chose (before the run, so a choice of the default sticks)."""
    _kept()[key] = st.session_state.get(key)


def _start_on(key: str, options: Sequence[object], default: object, label: Callable[[object], str]) -> object | None:
    """Put a bound selector on the choice kept this session when the URL does not name one of its options (a page
    switch, Back, a default dropped from the URL); on `default` when nothing valid was kept. Set through session
    state before the widget exists, so the widget and its URL parameter follow. Returns the value wanted (None: the
    URL decides)."""
    forced = st.session_state.get(KEY_FORCED, set())
    said = st.query_params.get(key)
    if key not in forced and said is not None and said in {label(o) for o in options}:
        return None  # the URL says which: the binding sets it (a shared link opens what it names)
    forced.discard(key)
    kept = _kept().get(key)
    want = kept if kept in options else default
    st.session_state[key] = want
    return want


def _keep(key: str, value: object, wanted: object | None) -> object:
    """Keep the selector's value for other pages; when Back's address (written before the choice) put it back on its
    default over the kept choice, run once more on the kept choice (Streamlit lets a history entry's URL win over
    session state in that run), which also writes the choice back into the URL, so a reload keeps it."""
    if wanted is not None and value != wanted and st.session_state.get(KEY_RESTORING) != (key, wanted):
        st.session_state[KEY_RESTORING] = (key, wanted)
        # the next run puts every kept choice back over what the restored address (or its leftovers) says
        st.session_state[KEY_FORCED] = set(_kept())
        st.rerun()
    if value == wanted:
        st.session_state.pop(KEY_RESTORING, None)
    _kept()[key] = value
    return value


@shared(max_entries=64)
def _group_years(_store: Store, generation: int, viewer: Viewer, group_id: int) -> tuple[str, ...]:
    return tuple(scope.periods(_store, viewer, group_id))


def group_years(store: Store, viewer: Viewer, group_id: int) -> list[str]:
    """The years the group's schools have results for, oldest first (cached per store state and viewer)."""
    return list(_group_years(store, store.generation, viewer.scope, int(group_id)))


def choose_period(store: Store, viewer: Viewer, group_id: int | None = None) -> str | None:
    """The academic year: the group's years with results, starting on its latest (the group chosen on this page
    when not given); every year of the store when the group has none."""
    if group_id is None:
        chosen = st.session_state.get(KEY_GROUP)
        group_id = chosen if isinstance(chosen, int) and chosen in group_options(store, viewer) else None
    periods = list(reversed(group_years(store, viewer, group_id))) if group_id is not None else []
    if not periods:
        periods = list(reversed(scope.periods(store, viewer)))
    if not periods:
        st.info("No results in the store yet: an admin can import DfE files on the Data page.")
        return None
    wanted = _start_on(KEY_PERIOD, periods, periods[0], str)
    period = st.selectbox("Academic year", periods, key=KEY_PERIOD, bind="query-params",
                          on_change=_remember, args=(KEY_PERIOD,))
    return _keep(KEY_PERIOD, period, wanted)


def choose_group(store: Store, viewer: Viewer) -> int | None:
    """A group the viewer may see (their own, or any for an admin)."""
    groups = group_options(store, viewer)
    if not groups:
        st.info("There is no group with member schools that you can see yet.")
        return None
    ids = list(groups)
    default = viewer.group_id if viewer.group_id in groups else ids[0]
    wanted = _start_on(KEY_GROUP, ids, default, lambda g: groups[g])
    gid = st.selectbox("Group", ids, format_func=lambda g: groups[g], key=KEY_GROUP, bind="query-params",
                       on_change=_remember, args=(KEY_GROUP,))
    return _keep(KEY_GROUP, gid, wanted)


def choose_group_and_period(store: Store, viewer: Viewer, *, third_column: bool = False):
    """The group and year every group page starts with, side by side (and a third column for a school when
    asked). Stops the page, after saying why, when either is unavailable. Returns (group_id, period, column)."""
    cols = st.columns(3 if third_column else 2)
    with cols[0]:
        group_id = choose_group(store, viewer)
    with cols[1]:
        period = choose_period(store, viewer, group_id)
    if group_id is None or period is None:
        st.stop()
    return group_id, period, cols[2] if third_column else None


def choose_school(viewer: Viewer, members: list[tuple[int, str]]) -> int | None:
    """One of the members, by name: the school chosen on another page when it is one of them; else a governor's
    own school, else the first by name."""
    if not members:
        st.info("This group has no member schools in this year.")
        return None
    names = dict(members)
    ids = [u for u, _ in sorted(members, key=lambda m: m[1])]
    default = viewer.school_urn if viewer.school_urn in names else ids[0]

    def label(u: int) -> str:
        return f"{names[u]} ({u})"

    wanted = _start_on(KEY_SCHOOL, ids, default, label)
    urn = st.selectbox("School", ids, format_func=label, key=KEY_SCHOOL, bind="query-params",
                       on_change=_remember, args=(KEY_SCHOOL,))
    return _keep(KEY_SCHOOL, urn, wanted)


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
@shared(max_entries=64)  # a Scorecard is frozen: shared, never copied
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


@shared(max_entries=64)  # a Registry is immutable: share it, do not copy it
def _registry(_store: Store, generation: int, viewer: Viewer, group_id: int | None) -> Registry:
    return scope.registry(_store, viewer, group_id)


def registry(store: Store, viewer: Viewer, group_id: int | None) -> Registry:
    """National measures and the group's own local measures, as this viewer may see them."""
    return _registry(store, store.generation, viewer.scope, group_id)


@shared(max_entries=32)
def _members(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str | None) -> pd.DataFrame:
    return scope.members(_store, viewer, group_id, period)


def members_table(store: Store, viewer: Viewer, group_id: int, period: str | None = None) -> pd.DataFrame:
    """The group's member schools with their GIAS details (names, addresses, coordinates, contacts), cached."""
    # a shallow copy: the caller may add or change columns (copy-on-write), the shared frame stays as read
    return _members(store, store.generation, viewer.scope, group_id, period).copy(deep=False)


@shared(max_entries=64)  # immutable, as above
def _school_registry(_store: Store, generation: int, viewer: Viewer, urn: int) -> Registry:
    return scope.registry(_store, viewer, urn=urn)


def school_registry(store: Store, viewer: Viewer, urn: int) -> Registry:
    """The registry a school's card is built with: national measures and the local measures of every group of the
    school this viewer may see (the chosen group's registry does not know a nested cluster's own measures)."""
    return _school_registry(store, store.generation, viewer.scope, int(urn))


@shared(max_entries=64)
def _la_values(_store: Store, generation: int, viewer: Viewer, urn: int, period: str,
               measures: tuple[str, ...]) -> dict[str, float]:
    found = scope.local_authority_values(_store, viewer, [urn], period, list(measures))
    return {m: f.value for (_u, m), f in found.items()}


def school_la_values(store: Store, viewer: Viewer, urn: int, period: str, measures: Sequence[str]) -> dict[str, float]:
    """The school's own local authority averages for these measures in the year, by measure, cached."""
    return dict(_la_values(store, store.generation, viewer.scope, int(urn), period, tuple(measures)))
