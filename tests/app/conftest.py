"""AppTest fixtures: one small synthetic demo store per test session, copied for each test that writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.access import Role
from data.demo import FLAGSHIP_PARTNERSHIP, build_demo

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("appdemo") / "demo.duckdb"
    build_demo(path, schools=300, years=3)
    return path


@pytest.fixture()
def demo_db(demo_master, tmp_path, monkeypatch) -> Path:
    """A private copy of the demo store for this test, selected with JOINTLY_DB."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_master, path)
    monkeypatch.setenv("JOINTLY_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield path
    st.cache_resource.clear()
    st.cache_data.clear()


def open_app(page: str | None = None, *, role: str = "leader", group: str = FLAGSHIP_PARTNERSHIP,
             timeout: float = 60) -> AppTest:
    """Run the app as a role (and, for leaders and governors, a group by name), optionally on one page.

    The role and group are set through the URL (the selectors are bound to query parameters): AppTest drops
    the entry script's sidebar widgets from its tree after a rerun under st.navigation, the URL does not."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params["viewing_as"] = Role(role).label
    if role != "admin":
        at.query_params["viewing_group"] = group
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    return at
