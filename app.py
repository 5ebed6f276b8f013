"""Jointly: balanced scorecards for groups of schools. Router only: config, store, viewer, navigation by role."""

from __future__ import annotations

import streamlit as st

from data.access import Role
from ui.context import KEY_VIEWER, viewer_selector
from ui.store import get_store

st.set_page_config(page_title="Jointly", page_icon=":material/handshake:", layout="wide")

OVERVIEW = st.Page("pages/group_overview.py", title="Group overview", icon=":material/dashboard:", default=True)
SCHOOL = st.Page("pages/school_scorecard.py", title="School scorecard", icon=":material/school:")
SIMILAR = st.Page("pages/similar_schools.py", title="Similar schools", icon=":material/diversity_3:")
SUPPORT = st.Page("pages/support.py", title="Support", icon=":material/volunteer_activism:")
MEASURES = st.Page("pages/measures.py", title="Measures and targets", icon=":material/tune:")
REPORTS = st.Page("pages/reports.py", title="Reports", icon=":material/description:")
DATA = st.Page("pages/data_import.py", title="Data", icon=":material/upload_file:")

PAGES_BY_ROLE = {
    Role.LEADER: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS],
    Role.GOVERNOR: [OVERVIEW, SCHOOL, MEASURES, REPORTS],
    Role.ADMIN: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS, DATA],
}

store = get_store()  # shows the demo being built, with progress, on first run
if store.is_demo():
    st.sidebar.warning("Demo data: a synthetic England. Schools, names and results are made up.")
viewer = viewer_selector(store)
st.session_state[KEY_VIEWER] = viewer
st.navigation(PAGES_BY_ROLE[viewer.role]).run()
