"""The board report's worker pool: one per process (st.cache_resource), so reports build off the script thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import streamlit as st


@st.cache_resource(show_spinner=False)
def board_report_pool() -> ThreadPoolExecutor:
    """Board reports build here, two at a time at most (each drives a browser to draw its charts)."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="board-report")
