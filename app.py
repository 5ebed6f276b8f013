"""Jointly: balanced scorecards for groups of schools. Router only: config, store, navigation."""

from __future__ import annotations

import streamlit as st

from ui.store import get_store

st.set_page_config(page_title="Jointly", page_icon="🤝", layout="wide")

store = get_store()
if store.is_demo():
    st.sidebar.warning("Demo data: a synthetic England. Schools, names and results are made up.")

pages = [
    st.Page("pages/store_overview.py", title="What's in the store", icon="🗄️", default=True),
    st.Page("pages/scorecard_table.py", title="Scorecard", icon="📋"),
]
st.navigation(pages).run()
