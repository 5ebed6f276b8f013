"""Streamlit's Deploy button and developer menu are hidden for everyone (issue 11 point 9), however the app is
started: `streamlit run serve.py` from another working directory (Streamlit reads the config.toml beside the
script it runs), `streamlit run app.py` as the test servers do, for a signed-out visitor and for a signed-in admin.
A server started with the developer toolbar shows both, so the check can tell."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from serving import MAIN, free_port, launched_browser, server_answers, wait_until_idle

from data.db.store import Store
from data.services.accounts import add_user

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
ADMIN = ("admin@example.org", "admin-password-123")
SIDEBAR = "[data-testid='stSidebar']"
DEPLOY = "[data-testid='stAppDeployButton']"
DEVELOPER_ITEMS = ("Rerun", "Clear cache", "Deploy", "Developer", "Report a bug", "Get help")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """A real (not demo) store with one admin: signed out is the public, signed in the admin."""
    path = tmp_path_factory.mktemp("toolbar") / "real.duckdb"
    with Store(path) as s:
        s.set_setting("demo", "false")
        assert add_user(s, "test", email=ADMIN[0], role="admin", password=ADMIN[1]) == []
    return path


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


@contextmanager
def _server(db: Path, script: Path, cwd: Path, *flags: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
         str(port), "--server.fileWatcherType", "none", *flags],
        cwd=cwd, env={**os.environ, "JOINTLY_DB": str(db)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    try:
        assert server_answers(url, timeout=120), f"{script.name} from {cwd} did not start"
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _menu_text(page) -> str:  # noqa: ANN001 - a Playwright Page
    """What the ⋮ menu offers (opened, read, closed)."""
    page.get_by_role("button", name="Main menu").click()
    menu = page.locator("[data-testid='stMainMenuPopover']")
    menu.wait_for(timeout=10_000)
    time.sleep(0.3)
    text = menu.inner_text()
    page.keyboard.press("Escape")
    return text


def _look(browser, url: str, name: str) -> dict[str, tuple[int, str]]:  # noqa: ANN001
    """(Deploy buttons, menu text) for a signed-out visitor and for the admin, with a screenshot of each."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen = {}
    page.goto(url)
    page.locator(f"{MAIN} h1").first.wait_for(timeout=90_000)
    wait_until_idle(page, timeout=90)
    seen["public"] = (page.locator(DEPLOY).count(), _menu_text(page))
    side = page.locator(SIDEBAR)
    side.get_by_role("textbox", name="Email").fill(ADMIN[0])
    side.get_by_role("textbox", name="Password").fill(ADMIN[1])
    side.get_by_role("button", name="Sign in", exact=True).click()
    side.get_by_text("Signed in as").wait_for(timeout=90_000)
    wait_until_idle(page, timeout=90)
    seen["admin"] = (page.locator(DEPLOY).count(), _menu_text(page))
    page.get_by_role("button", name="Main menu").click()
    page.locator("[data-testid='stMainMenuPopover']").wait_for(timeout=10_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"toolbar_{name}.png"))
    context.close()
    return seen


@pytest.mark.parametrize("how", ["serve.py from another directory", "app.py from the repository"])
def test_no_deploy_button_and_no_developer_items_for_anyone(db, browser, tmp_path, how):
    # issue 11 point 9
    script, cwd = (ROOT / "serve.py", tmp_path) if how.startswith("serve.py") else (ROOT / "app.py", ROOT)
    with _server(db, script, cwd) as url:
        seen = _look(browser, url, "serve" if script.name == "serve.py" else "app")
    for who, (deploys, menu) in seen.items():
        assert deploys == 0, (how, who)
        assert not [item for item in DEVELOPER_ITEMS if item in menu], (how, who, menu)
        assert menu.strip(), (how, who)  # the menu itself is there (print, settings): only developer items went


def test_the_check_sees_them_on_a_developer_toolbar(db, browser, tmp_path):
    # issue 11 point 9: the same look on a server told to show the developer toolbar finds them
    with _server(db, ROOT / "serve.py", tmp_path, "--client.toolbarMode", "developer") as url:
        seen = _look(browser, url, "developer_control")
    for who, (deploys, menu) in seen.items():
        assert deploys == 1 or [item for item in DEVELOPER_ITEMS if item in menu], (who, menu)
