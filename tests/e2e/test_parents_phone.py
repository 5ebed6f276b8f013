"""A parent on a phone (390 x 844) opens the demo's own publication, signed out: the summary is on the first
screen, nothing is wider than the phone, and the map does not capture the mouse wheel (a wheel over it scrolls the
page). Screenshots of the summary and of a secondary and a primary school's page, on a phone and a desktop."""

from __future__ import annotations

from pathlib import Path

import pytest
from serving import launched_browser, running_server, wait_until_idle

from data.demo.build import FLAGSHIP_PARTNERSHIP, build_demo

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
PUBLIC = "?viewing_as=Parent+or+visitor+%28no+sign-in%29"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
# Streamlit scrolls inside its own container, so a full-page screenshot shows only the viewport: a tall one shows all
TALL = 3200
# the nearest ancestor of an element that scrolls (Streamlit scrolls its own container, not the document)
SCROLLER = """e => { for (let n = e.parentElement; n; n = n.parentElement) {
    const s = getComputedStyle(n); if (/(auto|scroll)/.test(s.overflowY) && n.scrollHeight > n.clientHeight) return n; }
    return document.scrollingElement; }"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """A small demo store, as shipped: its own publication of the flagship partnership."""
    from data.db.store import Store
    from data.services.publications import find_publications, published

    db = tmp_path_factory.mktemp("parents") / "demo.duckdb"
    build_demo(db, schools=300, years=3)
    with Store(db, read_only=True) as s:
        pid = int(find_publications(s, FLAGSHIP_PARTNERSHIP)[0]["publication_id"])
        pub = published(s, pid)
    schools = sorted(pub.schools, key=lambda x: x.urn)
    return {"db": db, "pid": pid, "pub": pub,
            "secondary": next(x for x in schools if x.phase == "secondary"),
            "primary": next(x for x in schools if x.phase == "primary")}


@pytest.fixture(scope="module")
def server(demo):
    with running_server("app.py", {"JOINTLY_DB": str(demo["db"])}) as (url, _pid):
        yield url


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _open(browser, url: str, viewport: dict):  # noqa: ANN001, ANN202 - Playwright objects
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    wait_until_idle(page, timeout=120, settle=1.5)
    errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.first.inner_text()
    return page


def test_the_summary_is_the_first_screen_of_a_phone(server, browser, demo):  # issue 11 point 16
    page = _open(browser, f"{server}/{PUBLIC}&publication={demo['pid']}", PHONE)
    period = demo["pub"].period
    status = page.get_by_text(f"{period}, ", exact=False).first
    headlines = page.locator("[data-testid='stMarkdownContainer'] ul").first
    chooser = page.get_by_text("Choose a school to see its own page").first
    for what, el in (("the year and DfE's status", status), ("the headline results", headlines),
                     ("the school chooser", chooser)):
        box = el.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (what, box)
    assert headlines.locator("li").count() >= 3
    wide = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert wide[0] <= wide[1] + 1, f"the page is wider than the phone: {wide}"
    main = page.locator("[data-testid='stMainBlockContainer']")
    assert main.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "nothing is wider than the phone"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "parents_summary_phone.png"))  # the first screen only: what a parent sees
    page.close()
    page = _open(browser, f"{server}/{PUBLIC}&publication={demo['pid']}", {**PHONE, "height": TALL})
    page.wait_for_timeout(1500)  # the map's points
    page.screenshot(path=str(SHOTS / "parents_summary_phone_full.png"))
    page.close()


def test_a_wheel_over_the_map_scrolls_the_page(server, browser, demo):  # issue 11 point 16
    page = _open(browser, f"{server}/{PUBLIC}&publication={demo['pid']}", PHONE)
    deck = page.locator("[data-testid='stDeckGlJsonChart']").first
    deck.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # the map draws its points
    scroller = deck.evaluate_handle(SCROLLER)
    before = scroller.evaluate("n => n.scrollTop")
    box = deck.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 100))
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(800)
    after = scroller.evaluate("n => n.scrollTop")
    assert after > before + 100, f"the wheel over the map did not scroll the page ({before} -> {after})"
    page.close()


@pytest.mark.parametrize("phase", ["secondary", "primary"])
def test_a_schools_page_on_a_phone_and_a_desktop(server, browser, demo, phase):  # issue 11 point 16
    school = demo[phase]
    url = f"{server}/{PUBLIC}&publication={demo['pid']}&school={school.urn}"
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = _open(browser, url, viewport)
        heading = page.get_by_role("heading", name=school.name).first
        box = heading.bounding_box()
        assert box is not None and box["y"] + box["height"] <= viewport["height"], "a school's page opens on it"
        assert page.get_by_role("link", name=f"{school.name}'s inspection reports, on Ofsted's website").count() == 1
        if phase == "primary":
            assert page.get_by_text("No result").count() == 0
        wide = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert wide[0] <= wide[1] + 1
        page.screenshot(path=str(SHOTS / f"parents_{phase}_{name}.png"))
        page.close()
    page = _open(browser, url, {**PHONE, "height": TALL})
    page.screenshot(path=str(SHOTS / f"parents_{phase}_phone_full.png"))
    page.close()


def test_the_summary_on_a_desktop(server, browser, demo):  # issue 11 point 16
    page = _open(browser, f"{server}/{PUBLIC}&publication={demo['pid']}", DESKTOP)
    page.screenshot(path=str(SHOTS / "parents_summary_desktop.png"))
    page.close()
