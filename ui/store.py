"""The caching seam between Streamlit and the store: one Store per process, built on first use."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from data.store import Store, default_path


def _build_demo_with_progress(path: Path) -> None:
    from data import demo

    st.info("No store yet: building the synthetic demo England (made-up schools, DfE file formats). "
            "This happens once and takes under a minute.")
    bar = st.progress(0.0, text="Starting…")
    # JOINTLY_DEMO_SCHOOLS lets tests build a small demo; people get the default size
    schools = int(os.environ.get("JOINTLY_DEMO_SCHOOLS", demo.DEFAULT_SCHOOLS))
    demo.build_demo(path, schools=schools,
                    progress=lambda msg, frac: bar.progress(min(max(frac, 0.0), 1.0), text=msg))
    bar.empty()


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Store:
    return Store.open(path)


def get_store() -> Store:
    """The app's store; builds the demo first when $JOINTLY_DB (or the default file) does not exist."""
    path = default_path()
    if not path.exists():
        _build_demo_with_progress(path)
    return _open(str(path))
