"""A school's or a group's scorecard for one year, as a table (the full dashboard comes later)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.scorecards import registry_for, scorecard
from data.store import StoreError
from ui.store import get_store

store = get_store()
st.title("Scorecard")
info = store.info()
if not info.periods:
    st.info("No results in the store yet: import DfE files with `python -m data import`.")
    st.stop()
groups = store.groups()
groups = groups[groups["members"] > 0]
period = st.selectbox("Academic year", list(reversed(info.periods)), key="period")
options = {f"{r.name} ({r.kind}, {r.members} schools)": r.group_id for r in groups.itertuples()}
if not options:
    st.info("No groups in the store yet.")
    st.stop()
label = st.selectbox("Group", list(options), key="group")
try:
    card = scorecard(store, group=str(options[label]), period=period)
except StoreError as exc:
    st.warning(exc.title)
    st.stop()
st.caption(f"{len(card.subject.members)} member schools in {period}; {card.method}.")
registry = registry_for(store, [card.subject.id])
table = pd.DataFrame([{
    "Measure": r.label, "Group value": r.display, "National": registry.get(r.measure).format_value(r.national),
    "Level": r.level_label, "Schools reporting": f"{r.schools_reporting} of {r.schools_total}", "Status": r.status,
    "How combined": r.rollup_method,
} for r in card.rows])
st.dataframe(table, hide_index=True, width="stretch")
