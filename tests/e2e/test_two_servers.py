"""Issue 12, "Done when": two app servers on one store, a national year imported from the command line while
clients drive both.

A real store (North Yorkshire's performance tables for 2017/18, an admin, a partnership of three schools) is served
by two `streamlit run serve.py` processes. While `python -m data import` brings in 2018/19 (the DfE's national
download format), websocket sessions speaking Streamlit's own protocol rerun the group overview and a school's
scorecard on both servers, and a browser records through server 1 a new account and through server 2 the schools'
agreement to publish jointly. Every rerun must finish without an error and be answered from one snapshot: the old
(no 2018/19 anywhere in what it drew) or the new (2018/19 offered); every write from either server must be in the
state store afterwards, and each server must serve the new year after the import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from serving import MAIN, launched_browser, serving_store, wait_until_idle
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[2]
NY = ROOT.parent / "shared" / "realdata" / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"
ADMIN = ("data.manager@example.org", "a-long-admin-password")
NEWCOMER = "governor.two@example.org"
PARTNERSHIP = "Two Servers Partnership"
SIDEBAR = "[data-testid='stSidebar']"
EXCEPTION = "[data-testid='stException']"
NEW_YEAR = b"2018/19"


def _cli(db: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "data", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, env={**os.environ, "JOINTLY_DB": str(db)}, timeout=600)
    assert done.returncode == 0, f"python -m data {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def real_store(tmp_path_factory) -> tuple[Path, list[tuple[int, str]]]:
    """A real store of 2017/18 with an admin and a partnership of three secondary schools: (path, the schools)."""
    from data.db.store import Store

    if not NY.exists():
        pytest.fail(f"the real DfE files are missing: {NY}")
    db = tmp_path_factory.mktemp("two_servers") / "trust.duckdb"
    _cli(db, "users", "add", ADMIN[0], "--role", "admin", "--password-stdin", stdin=ADMIN[1] + "\n")
    _cli(db, "import", "--period", "2017/18", str(NY / "815_spine.csv"), str(NY / "815_2018_ks4final.csv"),
         str(NY / "815_2018_census.csv"))
    with Store(db, read_only=True) as s:
        schools = [(int(u), str(n)) for u, n in s.query(
            "SELECT e.urn, e.name FROM establishments e JOIN observations o USING (urn) "
            "WHERE o.measure = 'attainment8' AND o.value IS NOT NULL ORDER BY e.urn LIMIT 3")]
    assert len(schools) == 3
    _cli(db, "groups", "create", PARTNERSHIP, "--kind", "partnership")
    _cli(db, "groups", "add", PARTNERSHIP, *[str(u) for u, _ in schools], "--joined", "2015-09-01")
    return db, schools


def _server(db: Path, folder: Path, name: str):  # noqa: ANN202 - serving_store's context manager
    """`streamlit run serve.py` over the store: (its URL, its log)."""
    return serving_store(db, folder, name)


class Driver:
    """One websocket session on one server rerunning pages in turn, as a browser tab does: for every finished rerun,
    whether it drew an error and whether the new year appeared in what it drew."""

    def __init__(self, url: str, cookie: str, pages: tuple[str, ...]) -> None:
        self.url, self.cookie, self.pages = url, cookie, pages
        self.runs: list[tuple[str, bool, bool]] = []  # (page, error shown, new year seen)
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drive, daemon=True)

    def _drive(self) -> None:
        from websockets.sync.client import connect

        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        try:
            with connect(ws_url, origin=self.url, subprotocols=["streamlit"], max_size=None,
                         additional_headers={"Cookie": self.cookie}) as ws:
                k = 0
                while not self.stop.is_set():
                    page = self.pages[k % len(self.pages)]
                    k += 1
                    self.runs.append((page, *self._rerun(ws, page)))
                    time.sleep(0.5)  # a person's pause: the servers also serve the browser's two tabs
        except Exception as exc:  # noqa: BLE001 - any failure of the session is the test's finding
            self.failures.append(repr(exc))

    @staticmethod
    def _rerun(ws, page: str) -> tuple[bool, bool]:  # noqa: ANN001 - a websockets ClientConnection
        rerun = BackMsg()
        rerun.rerun_script.page_name = page
        ws.send(rerun.SerializeToString())
        error = seen = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            message = ForwardMsg()
            message.ParseFromString(ws.recv(timeout=120))
            kind = message.WhichOneof("type")
            if kind == "delta":
                raw = message.SerializeToString()
                seen = seen or NEW_YEAR in raw
                element = message.delta.new_element
                error = error or (message.delta.WhichOneof("type") == "new_element"
                                  and element.WhichOneof("type") in ("exception", "alert")
                                  and (element.WhichOneof("type") == "exception" or element.alert.format == 1))
            elif kind == "script_finished":
                if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                return error, seen
        raise AssertionError(f"a rerun of {page} did not finish")


def _sign_in(page, url: str) -> None:  # noqa: ANN001 - a Playwright Page
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator(f"{MAIN} h1").first).to_have_text("Results for parents", timeout=180_000)
    side = page.locator(SIDEBAR)
    side.get_by_role("textbox", name="Email").fill(ADMIN[0])
    side.get_by_role("textbox", name="Password").fill(ADMIN[1])
    side.get_by_role("button", name="Sign in", exact=True).click()
    side.get_by_text("Signed in as").wait_for(timeout=180_000)
    wait_until_idle(page, timeout=180)


def _go(page, title: str) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    page.locator("[data-testid='stSidebarNavLink']").filter(has_text=title).first.click()
    expect(page.locator(f"{MAIN} h1").first).to_have_text(title, timeout=180_000)
    wait_until_idle(page, timeout=180)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def _pick(page, box, option: str) -> None:  # noqa: ANN001
    from playwright.sync_api import Error

    for _ in range(6):
        box.click()
        found = page.get_by_role("option").filter(has_text=option).first
        try:
            found.click(timeout=5_000)
            wait_until_idle(page)
            return
        except Error:
            page.keyboard.press("Escape")
            wait_until_idle(page)
    raise AssertionError(f"no option {option!r}")


def _fill_account(page):  # noqa: ANN001, ANN202 - through server 1; returns the button that adds it
    _go(page, "Accounts")
    form = page.locator(MAIN).locator("[data-testid='stForm']").first
    form.get_by_role("textbox", name="Email").fill(NEWCOMER)
    _pick(page, form.get_by_role("combobox", name="Role", exact=True), "Leader:")
    _pick(page, form.get_by_role("combobox", name="Group", exact=True), PARTNERSHIP)
    return form.get_by_role("button", name="Add the account")


def _fill_consent(page, schools: list[tuple[int, str]]):  # noqa: ANN001, ANN202 - through server 2; the button
    _go(page, "Publish results")
    _pick(page, page.locator(MAIN).get_by_role("combobox", name="Group", exact=True), PARTNERSHIP)
    page.get_by_text("Record a school's answer").click()
    box = page.locator(MAIN).get_by_role("combobox", name="Schools", exact=True)
    for _, name in schools[:2]:
        _pick(page, box, name)
    page.keyboard.press("Escape")
    return page.locator(MAIN).get_by_role("button", name="Record the answer")


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def test_two_servers_serve_one_store_while_a_national_year_is_imported(real_store, browser, tmp_path) -> None:
    # issue 12 done
    from data.db.store import Store
    from data.services import schools as schools_svc
    from data.services.accounts import COOKIE_NAME, session_cookie

    db, schools = real_store
    with Store(db, read_only=True) as s:
        cookie = f"{COOKIE_NAME}={session_cookie(s, ADMIN[0])}"
    with ExitStack() as stack:
        (url1, log1), (url2, log2) = (stack.enter_context(_server(db, tmp_path, n)) for n in ("one", "two"))
        drivers = [Driver(u, cookie, ("group_overview", "school_scorecard")) for u in (url1, url2)]
        for d in drivers:
            d.thread.start()
        time.sleep(5)  # every driver has rerun on the old snapshot
        page1 = browser.new_page()
        page2 = browser.new_page()
        _sign_in(page1, url1)
        _sign_in(page2, url2)
        add, record = _fill_account(page1), _fill_consent(page2, schools)
        print("\nsigned in on both servers, both forms filled", flush=True)
        importing = subprocess.Popen(
            [sys.executable, "-m", "data", "import", "--period", "2018/19", str(NY / "815_2019_ks4provisional.csv"),
             str(NY / "815_2019_census.csv"), str(NY / "815_2019_cfr.csv")],
            cwd=ROOT, env={**os.environ, "JOINTLY_DB": str(db)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        time.sleep(1)  # the import has begun
        add.click()
        record.click()
        page1.get_by_text("Added governor").wait_for(timeout=180_000)
        page2.get_by_text("Recorded:").wait_for(timeout=180_000)
        writes_during_import = importing.poll() is None
        print(f"account added through server 1, consent recorded through server 2; importing: "
              f"{writes_during_import}", flush=True)
        out, err = importing.communicate(timeout=600)
        assert importing.returncode == 0, out + err
        time.sleep(8)  # every driver reruns on the new snapshot
        for d in drivers:
            d.stop.set()
        for d in drivers:
            d.thread.join(150)
        for p in (page1, page2):
            p.reload()
            wait_until_idle(p, timeout=180)
            assert p.locator(EXCEPTION).count() == 0
        logs = log1.read_text() + log2.read_text()

    assert "Traceback" not in logs, logs[logs.index("Traceback"):]
    for d in drivers:
        assert d.failures == [], d.failures
        assert d.runs and not any(error for _, error, _ in d.runs), d.runs
        seen = [new for _, _, new in d.runs]
        # old snapshot, then new, never back: each rerun drew one snapshot whole
        assert seen[0] is False and seen[-1] is True, seen
        assert seen == sorted(seen), seen
    split = [(sum(not new for *_, new in d.runs), sum(new for *_, new in d.runs)) for d in drivers]
    print(f"reruns per session (old snapshot, new): {split}; writes finished while the import ran: "
          f"{writes_during_import}")
    assert writes_during_import  # both writes went through while the next snapshot was being built

    with Store(db, read_only=True) as s:
        assert s.query("SELECT role FROM accounts WHERE email = ?", [NEWCOMER]) == [("leader",)]
        agreed = {u for (u,) in s.query("SELECT urn FROM publication_consents WHERE agreed")}
        assert {u for u, _ in schools[:2]} <= agreed
        assert "2018/19" in schools_svc.periods(s)
