"""AppTest: the app opens on an existing store, and builds the demo (with progress) when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.ingest.importers import import_files
from data.services import groups
from ui import shared

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata" / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"
EES = ROOT.parent / "shared" / "realdata" / "ees_school_census_2022-23_sample"


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    shared.clear_all()
    yield
    st.cache_resource.clear()
    shared.clear_all()


@pytest.fixture()
def real_store(tmp_path, monkeypatch):
    path = tmp_path / "real.duckdb"
    with Store(path) as s:
        reports = import_files(s, [EES / "spc_school_level_2022-23_north_yorkshire.csv"])
        assert all(r.ok for r in reports)
    monkeypatch.setenv("JOINTLY_DB", str(path))
    return path


def _signed_in(at: AppTest, email: str, password: str) -> AppTest:
    at.sidebar.text_input(key="signin_email").input(email)
    at.sidebar.text_input(key="signin_password").input(password)
    return at.sidebar.button[0].click().run()  # the form's submit button


def test_a_real_store_starts_public_and_ignores_viewing_as(real_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["viewing_as"] = "Data manager (admin)"  # tampering: only the demo has "viewing as"
    at.run()
    assert not at.exception
    assert not any("Demo data" in w.value for w in at.sidebar.warning)
    assert at.title[0].value == "Results for parents"
    assert not [s for s in at.selectbox if s.key == "viewing_as"]
    assert [t.label for t in at.sidebar.text_input] == ["Email", "Password"]


def test_signing_in_with_a_local_account_opens_the_leaders_app(real_store):
    from data.services.accounts import NO_MATCH, add_user

    with Store(real_store) as s:
        group = "ELEVATE MULTI ACADEMY TRUST"
        members = groups.group_members(s, groups.find_group(s, group).group_id, "2022/23")
        assert add_user(s, "test", email="head@elevate.example", role="admin", password="correct horse battery") == []
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    wrong = _signed_in(at, "head@elevate.example", "not the password")
    assert [e.value for e in wrong.sidebar.error] == [NO_MATCH]
    assert wrong.title[0].value == "Results for parents"

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["group"] = group
    at.run()
    at = _signed_in(at, "head@elevate.example", "correct horse battery")
    assert not at.exception
    assert at.title[0].value == "Group overview"
    assert at.header[0].value == group
    assert f"{len(members)} member schools in 2022/23" in at.caption[0].value


def test_first_run_builds_the_demo_with_progress(tmp_path, monkeypatch):
    path = tmp_path / "nothing-yet.duckdb"
    monkeypatch.setenv("JOINTLY_DB", str(path))
    monkeypatch.setenv("JOINTLY_DEMO_SCHOOLS", "150")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert path.exists()
    assert any("Demo data" in w.value for w in at.sidebar.warning)
    assert at.title[0].value == "Group overview"
