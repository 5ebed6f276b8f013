"""A deep link is the very first request a fresh server gets (issue 12 point 2).

On Streamlit 1.67 a server that has not run `st.navigation` yet runs the `pages/` file a deep link names directly,
skipping app.py and the viewer it sets up. Each page hands over to the router (ui.router.hand_over). Here a NEW
server is started for every page, and its first request is the deep link: the page must land with the router's
viewer — its own title once, the navigation of that viewer's role, no error — never a traceback or a page drawn
twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from serving import launched_browser, running_server, wait_until_idle

from data.demo.build import build_demo
from data.services.access import Role
from ui.router import PAGES_BY_ROLE

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
ADMIN = "Data manager (admin)"
PARENT = "Parent or visitor (no sign-in)"
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
# a page whose heading says more than its name in the navigation
HEADINGS = {"Support": "Support between schools"}


def _staff_pages() -> list[tuple[str, str]]:
    """(url path, title) of every page an admin has: every staff page there is."""
    return [(p.path, p.title) for p in PAGES_BY_ROLE[Role.ADMIN]]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("deep") / "demo.duckdb"
    build_demo(db, schools=300, years=3)
    return db


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _nav_titles(page) -> list[str]:  # noqa: ANN001 - a Playwright Page
    # each link reads "<icon name>\n\n<title>": the title is its last line
    links = page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
    return [t.strip().splitlines()[-1].strip() for t in links]


def _titles_on(page) -> list[str]:  # noqa: ANN001
    return [t.replace("\u2060", "").strip() for t in page.locator("h1").all_inner_texts()]


@pytest.mark.parametrize(("path", "title"), _staff_pages(), ids=[p for p, _ in _staff_pages()])
def test_a_deep_link_is_a_fresh_servers_first_request(demo_store: Path, browser, path: str,
                                                      title: str) -> None:  # issue 12 point 2
    with running_server("serve.py", {"JOINTLY_DB": str(demo_store)}) as (url, _pid):
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(f"{url}/{path}?viewing_as={ADMIN.replace(' ', '+')}")
        wait_until_idle(page, timeout=60)
        errors = page.locator(ERRORS)
        assert errors.count() == 0, errors.first.inner_text()
        # the router ran: the admin's navigation, this page current, its title drawn once
        assert _nav_titles(page) == [p.title for p in PAGES_BY_ROLE[Role.ADMIN]]
        assert _titles_on(page).count(HEADINGS.get(title, title)) == 1, _titles_on(page)
        assert "Viewing as" in page.locator("[data-testid='stSidebar']").inner_text()
        page.screenshot(path=str(SHOTS / f"deep_link_{path}.png"))
        page.close()


def test_a_parents_deep_link_lands_with_the_public_viewer(demo_store: Path, browser) -> None:  # issue 12 point 2
    with running_server("serve.py", {"JOINTLY_DB": str(demo_store)}) as (url, _pid):
        page = browser.new_page(viewport={"width": 390, "height": 1200})
        page.goto(f"{url}/published_results?viewing_as={PARENT.replace(' ', '+')}")
        wait_until_idle(page, timeout=60)
        assert page.locator(ERRORS).count() == 0
        assert _titles_on(page).count("Results for parents") == 1, _titles_on(page)
        # a parent's navigation: no staff page is offered
        assert not set(_nav_titles(page)) & {"Data", "Accounts", "Groups", "Publish results"}
        page.close()


def test_a_signed_out_deep_link_on_a_real_store_asks_to_sign_in(demo_store: Path, browser,
                                                                  tmp_path: Path) -> None:  # issue 12 point 2
    from visitor import real_copy_with_admin

    real, _cookie = real_copy_with_admin(demo_store, tmp_path)
    with running_server("serve.py", {"JOINTLY_DB": str(real)}) as (url, _pid):
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(f"{url}/data_import")
        wait_until_idle(page, timeout=60)
        assert page.locator(ERRORS).count() == 0
        body = page.locator("[data-testid='stMainBlockContainer']").inner_text().replace("\u2060", "")
        assert "Sign in to see this page" in body
        page.close()
