"""AppTest: the app opens on an existing store, and builds the demo (with progress) when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.importers import import_files
from data.store import Store

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata" / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"
EES = ROOT.parent / "shared" / "realdata" / "ees_school_census_2022-23_sample"


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture()
def real_store(tmp_path, monkeypatch):
    path = tmp_path / "real.duckdb"
    with Store(path) as s:
        reports = import_files(s, [EES / "spc_school_level_2022-23_north_yorkshire.csv"])
        assert all(r.ok for r in reports)
    monkeypatch.setenv("JOINTLY_DB", str(path))
    return path


def test_real_store_opens_on_the_overview_without_the_demo_banner(real_store):
    with Store(real_store, read_only=True) as s:  # the expected total, read before the app holds the file
        members = s.group_members(s.find_group("ELEVATE MULTI ACADEMY TRUST").group_id, "2022/23")
        pupils = s.school_observations(members, ["2022/23"], ["pupils"])["value"].sum()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["viewing_as"] = "Data manager (admin)"  # the viewer and group travel in the URL
    at.query_params["group"] = "ELEVATE MULTI ACADEMY TRUST"
    at.run()
    assert not at.exception
    assert not any("Demo data" in w.value for w in at.sidebar.warning)
    assert not at.exception
    assert at.title[0].value == "Group overview"
    assert at.header[0].value == "ELEVATE MULTI ACADEMY TRUST"
    assert f"{len(members)} member schools in 2022/23" in at.caption[0].value
    # only census context for this store: no judged tiles, a clear sentence instead
    assert any("No results" in i.value or "No school values" in i.value for i in at.info)
    assert pupils > 0


def test_first_run_builds_the_demo_with_progress(tmp_path, monkeypatch):
    path = tmp_path / "nothing-yet.duckdb"
    monkeypatch.setenv("JOINTLY_DB", str(path))
    monkeypatch.setenv("JOINTLY_DEMO_SCHOOLS", "150")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert path.exists()
    assert any("Demo data" in w.value for w in at.sidebar.warning)
    assert at.title[0].value == "Group overview"
