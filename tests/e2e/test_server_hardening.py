"""Attacks on the Streamlit server's own endpoints (issue 9, points 11 and 17), against real servers: anonymous
uploads (refused with 403 before the body is read, memory unchanged), the staff upload that must still work, the
metrics endpoint, host-config's Streamlit Cloud origins and the security headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import PERF
from serving import launched_browser
from visitor import ROOT, anonymous_session, multipart, put_upload, real_copy_with_admin, rss_mb, running_server

from data.demo.build import build_demo

SHOTS = ROOT / "tests" / "e2e" / "screenshots"
ADMIN = "viewing_as=Data+manager+%28admin%29"
MB = 1024 * 1024
HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
           "content-security-policy": "frame-ancestors 'none'", "referrer-policy": "strict-origin-when-cross-origin",
           "permissions-policy": "geolocation=(), camera=(), microphone=()"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("hardening") / "demo.duckdb"
    build_demo(db, schools=120, years=2)
    return db


@pytest.fixture(scope="module")
def guarded(demo_db):
    """The documented server: `streamlit run serve.py` on the demo store: (url, pid)."""
    with running_server("serve.py", {"JOINTLY_DB": str(demo_db)}) as served:
        yield served


@pytest.fixture(scope="module")
def real(demo_db, tmp_path_factory):
    """The same server on a real store with a signed-in admin (the demo's Data page offers no uploader):
    (url, pid, the admin's sign-in cookie as "name=value")."""
    db, cookie = real_copy_with_admin(demo_db, tmp_path_factory.mktemp("hardening_real"))
    with running_server("serve.py", {"JOINTLY_DB": str(db)}) as (url, pid):
        yield url, pid, cookie


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _flood(url: str, pid: int, session_id: str, files: int, size_mb: int) -> tuple[list[int], float, float]:
    """PUT `files` files of `size_mb` MB for one session: (statuses, RSS before, RSS after) in MB."""
    body, content_type = multipart(b"7" * (size_mb * MB))
    before = rss_mb(pid)
    statuses = [put_upload(url, session_id, body, content_type)[0] for _ in range(files)]
    time.sleep(0.5)
    return statuses, before, rss_mb(pid)


def test_the_first_visitor_of_a_fresh_server_cannot_upload(demo_db):
    """The very first session of a fresh server PUTs 10 MB as soon as it exists (its first script run still going),
    then 8 x 10 MB: every PUT is refused with 403 before a byte of its body is read, and memory stays put."""
    with running_server("serve.py", {"JOINTLY_DB": str(demo_db)}) as (url, pid):
        with anonymous_session(url) as visit:
            body, content_type = multipart(b"7" * (10 * MB))
            assert put_upload(url, visit.session_id, body, content_type) == (403, True)
            visit.run()  # memory is compared once the first run (which loads the store) is over
            statuses, before, after = _flood(url, pid, visit.session_id, files=8, size_mb=10)
    assert statuses == [403] * 8
    assert after - before < 20, f"the server grew from {before:.0f} MB to {after:.0f} MB"


def test_an_anonymous_visitor_cannot_upload_on_plain_streamlit_run(demo_db):
    """`streamlit run app.py` (no serve.py): app.py's first run installs the same guard on the running server."""
    with running_server("app.py", {"JOINTLY_DB": str(demo_db)}) as (url, pid):
        with anonymous_session(url) as first:
            first.run()  # a whole run, so app.py has installed the guard
            statuses, before, after = _flood(url, pid, first.session_id, files=8, size_mb=10)
        assert statuses == [403] * 8
        assert after - before < 20, f"the server grew from {before:.0f} MB to {after:.0f} MB"
        with anonymous_session(url) as later:
            body, content_type = multipart(b"7" * MB)
            assert put_upload(url, later.session_id, body, content_type) == (403, True)
        assert json.load(urllib.request.urlopen(f"{url}/_stcore/host-config"))["allowedOrigins"] == []
        assert _status(f"{url}/_stcore/metrics") == 404


def test_the_parents_only_site_takes_no_uploads(demo_db, tmp_path):
    """JOINTLY_PUBLIC_SITE=1: no page has an uploader, and even a session on it is refused."""
    public = tmp_path / "public.duckdb"
    subprocess.run([sys.executable, "-m", "data", "export-public", str(public)], cwd=ROOT, check=True,
                   env={**os.environ, "JOINTLY_DB": str(demo_db)}, capture_output=True)
    with running_server("serve.py", {"JOINTLY_DB": str(public), "JOINTLY_PUBLIC_SITE": "1"}) as (url, _):
        # "viewing as" and the Data page's address mean nothing on this site
        with anonymous_session(url, ADMIN, page="data_import") as visit:
            visit.run(ADMIN, page="data_import")
            body, content_type = multipart(b"7" * MB)
            assert put_upload(url, visit.session_id, body, content_type) == (403, True)


def test_only_the_page_with_an_uploader_opens_uploads_and_only_to_its_cap(real):
    """A signed-in admin's session on the Data page may upload (up to 100 MB: 101 MB is refused before the body);
    the same session, moved to another page, may not."""
    url, _, cookie = real
    with anonymous_session(url, page="data_import", cookie=cookie) as visit:
        visit.run(page="data_import")
        small, content_type = multipart(b"URN,x\n1,2\n")
        assert put_upload(url, visit.session_id, small, content_type) == (204, False)
        huge, content_type = multipart(b"7" * (101 * MB))
        assert put_upload(url, visit.session_id, huge, content_type) == (413, True)
        visit.run(page="")  # the group overview: no uploader
        assert put_upload(url, visit.session_id, small, content_type) == (403, True)


def test_a_leader_on_measures_and_targets_may_upload_up_to_its_5_mb(guarded):
    """A leader's session on *Measures and targets* (its local-measure uploader takes 5 MB): a small CSV passes,
    6 MB is refused with 413 before the body; a visitor on the same page is refused with 403."""
    url, _ = guarded
    leader = "viewing_as=Leader"
    with anonymous_session(url, leader, page="measures") as visit:
        visit.run(leader, page="measures")
        small, content_type = multipart(b"URN,period,value\n100001,2024/25,3\n")
        assert put_upload(url, visit.session_id, small, content_type) == (204, False)
        six, content_type = multipart(b"7" * (6 * MB))
        assert put_upload(url, visit.session_id, six, content_type) == (413, True)
    visitor = "viewing_as=Parent+or+visitor+%28no+sign-in%29"
    with anonymous_session(url, visitor, page="measures") as visit:
        visit.run(visitor, page="measures")
        small, content_type = multipart(b"URN,period,value\n100001,2024/25,3\n")
        assert put_upload(url, visit.session_id, small, content_type) == (403, True)


def _status(address: str) -> int:
    try:
        return urllib.request.urlopen(address).status
    except urllib.error.HTTPError as answer:
        return answer.code


def test_metrics_are_not_served(guarded):
    url, _ = guarded
    for path in ("/_stcore/metrics", "/_stcore/metrics/", "//_stcore//metrics", "/_stcore/metrics?families=x"):
        assert _status(url + path) == 404, path


def test_host_config_lists_no_streamlit_cloud_origins(guarded):
    url, _ = guarded
    config = json.load(urllib.request.urlopen(f"{url}/_stcore/host-config"))
    assert config["allowedOrigins"] == []


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/_stcore/host-config", "/parents", "/nowhere"])
def test_every_response_carries_the_security_headers(guarded, path):
    url, _ = guarded
    try:
        answer = urllib.request.urlopen(url + path)
    except urllib.error.HTTPError as refused:
        answer = refused
    assert {name: answer.headers.get(name) for name in HEADERS} == HEADERS


def test_cross_origin_calls_are_not_allowed(guarded):
    """enableCORS and XSRF protection (both on): another site's page cannot read answers or upload."""
    url, _ = guarded
    request = urllib.request.Request(f"{url}/_stcore/host-config", headers={"Origin": "https://evil.example"})
    answer = urllib.request.urlopen(request)
    assert answer.headers.get("Access-Control-Allow-Origin") in (None, url)


def test_an_admin_uploads_and_imports_a_real_dfe_file(real, browser):
    """The upload that must keep working: a signed-in data manager on a real store's Data page picks a real DfE
    file in the browser (Playwright set_input_files), and the import says what it stored."""
    url, _, cookie = real
    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    name, value = cookie.split("=", 1)
    context.add_cookies([{"name": name, "value": value, "url": url}])
    page = context.new_page()
    page.goto(f"{url}/data_import")
    page.wait_for_selector("[data-testid='stFileUploaderDropzoneInput']", state="attached", timeout=60_000)
    page.set_input_files("[data-testid='stFileUploaderDropzoneInput']", str(PERF / "815_2018_census.csv"))
    page.get_by_text("815_2018_census.csv").first.wait_for(timeout=30_000)
    page.get_by_placeholder("e.g. 2018/19").fill("2017/18")
    page.get_by_placeholder("e.g. 2018/19").press("Enter")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Imported 815_2018_census.csv.").wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "data_import_upload.png"), full_page=True)
    context.close()
