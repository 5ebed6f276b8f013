"""Change history: every change made to a group's scorecard, targets, local measures, support records,
publications and accounts (who, when, before → after). For the group's leaders and for data managers; the data
layer (data.services.scope.audit_log) decides which entries a viewer receives."""

from __future__ import annotations

import streamlit as st

from data.outputs.reports import frame_csv
from data.services import scope
from data.services.access import AccessDenied
from ui.context import KEY_GROUP, current_viewer, group_options
from ui.frames import audit_frame
from ui.router import hand_over
from ui.store import get_store

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

ALL_GROUPS = 0
KEY_ACTIONS = "history_actions"
LIMIT = 1000

store = get_store()
viewer = current_viewer()
st.title("Change history")
st.caption("Every change people made, newest first: who, when, and what it was before and after. Nothing here "
           "can be edited or deleted.")
groups = group_options(store, viewer)
ids = ([ALL_GROUPS] if viewer.is_admin or len(groups) > 1 else []) + list(groups)
if not ids:
    st.info("There is no group you can see yet.")
    st.stop()
everything = "Every change (including store settings)" if viewer.is_admin else "All my groups"
choice = st.selectbox("Group", ids, format_func=lambda g: everything if g == ALL_GROUPS else groups[g], key=KEY_GROUP,
                      bind="query-params")
try:
    log = scope.audit_log(store, viewer, None if choice == ALL_GROUPS else choice, limit=LIMIT)
except AccessDenied as exc:
    st.warning(exc.title)
    st.stop()
table = audit_frame(log)
actions = sorted(table["Action"].unique())
shown = st.multiselect("Kinds of change", actions, default=actions, key=KEY_ACTIONS,
                       help="Sign-ins are not changes: they are counted apart (failed ones are on the Accounts page).")
table = table[table["Action"].isin(shown)]
if table.empty:
    st.info("No changes recorded yet." if log.empty else "No change of these kinds.")
else:
    st.caption(f"{len(table):,} changes" + (f" (the latest {LIMIT:,})" if len(log) == LIMIT else "") + ".")
    st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 640), key="history_table",
                 column_config={"When": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
                                "Before": st.column_config.TextColumn(width="medium"),
                                "After": st.column_config.TextColumn(width="medium")})
    # names, labels and notes in it came from people: frame_csv writes them so no spreadsheet runs one as a formula
    st.download_button("Download as CSV", frame_csv(table), "change_history.csv",
                       mime="text/csv", key="history_csv")
