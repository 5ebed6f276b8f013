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
        reports = import_files(s, [REALDATA / "815_2019_census.csv", REALDATA / "815_2019_ks4provisional.csv"],
                               "2018/19")
        reports += import_files(s, [EES / "spc_school_level_2022-23_north_yorkshire.csv"])
        assert all(r.ok for r in reports)
    monkeypatch.setenv("JOINTLY_DB", str(path))
    return path


def test_app_opens_on_a_real_store_without_the_demo_banner(real_store):
    with Store(real_store, read_only=True) as s:
        schools = s.query("SELECT count(*) FROM establishments")[0][0]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "What's in the store"
    assert at.metric[0].value == f"{schools:,}"
    assert not any("Demo data" in w.value for w in at.sidebar.warning)


def test_scorecard_page_rolls_up_a_trust(real_store):
    with Store(real_store, read_only=True) as s:  # the expected total, read before the app holds the file
        members = s.group_members(s.find_group("ELEVATE MULTI ACADEMY TRUST").group_id, "2022/23")
        expected = s.school_observations(members, ["2022/23"], ["pupils"])["value"].sum()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/scorecard_table.py").run()
    assert not at.exception
    at.selectbox(key="period").select("2022/23").run()
    trust = next(o for o in at.selectbox(key="group").options if o.startswith("ELEVATE MULTI ACADEMY TRUST"))
    at.selectbox(key="group").select(trust).run()
    assert not at.exception
    table = at.dataframe[0].value
    pupils = table.loc[table["Measure"] == "Pupils on roll", "Group value"].iloc[0]
    assert pupils == f"{expected:,.0f}"


def test_first_run_builds_the_demo_with_progress(tmp_path, monkeypatch):
    path = tmp_path / "nothing-yet.duckdb"
    monkeypatch.setenv("JOINTLY_DB", str(path))
    monkeypatch.setenv("JOINTLY_DEMO_SCHOOLS", "150")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert path.exists()
    assert any("Demo data" in w.value for w in at.sidebar.warning)
    assert at.title[0].value == "What's in the store"
    assert int(at.metric[0].value.replace(",", "")) >= 150
