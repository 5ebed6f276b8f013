"""Jointly: balanced scorecards for groups of schools. Router only: config, navigation, store, run."""

from __future__ import annotations

import streamlit as st

from ui.store import get_store

st.set_page_config(page_title="Jointly", page_icon=":material/handshake:", layout="wide")

pages = [
    st.Page("pages/store_overview.py", title="What's in the store", icon=":material/storage:", default=True),
    st.Page("pages/scorecard_table.py", title="Scorecard", icon=":material/table_chart:"),
]
page = st.navigation(pages)  # before any slow work, so the sidebar never shows the raw pages/ folder
store = get_store()  # builds the demo, with progress, on first run
if store.is_demo():
    st.sidebar.warning("Demo data: a synthetic England. Schools, names and results are made up.")
page.run()
