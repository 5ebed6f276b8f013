"""In a real browser: the chosen year and school carry across pages, Back and reload (issue 11 point 5), and the
School scorecard's table is read whole at 1,400 px, with no sideways scrolling (issue 11 point 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from serving import MAIN, launched_browser, running_server, wait_until_idle

from data.db.state import copy_store

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"


@pytest.fixture(scope="module")
def server(demo_master: Path, tmp_path_factory):
    db = tmp_path_factory.mktemp("keeps") / "demo.duckdb"
    copy_store(demo_master, db)
    with running_server("app.py", {"JOINTLY_DB": str(db)}) as (url, _pid):
        yield url


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _idle(page) -> None:  # noqa: ANN001 - a Playwright Page
    wait_until_idle(page, timeout=180, settle=1.0)


def _chosen(page) -> dict[str, str]:  # noqa: ANN001
    """Each selector's label and the option it shows, on the page's main area."""
    out = {}
    for box in page.locator(f"{MAIN} [data-testid='stSelectbox']").all():
        out[box.locator("label").inner_text().strip()] = box.locator("input").input_value()
    return out


def _choose(page, label: str, option: str) -> None:  # noqa: ANN001
    page.locator(f"{MAIN} [data-testid='stSelectbox']").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    _idle(page)


def _options(page, label: str) -> list[str]:  # noqa: ANN001
    page.locator(f"{MAIN} [data-testid='stSelectbox']").filter(has_text=label).click()
    names = [o.inner_text().strip() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    return names


def _go(page, title: str) -> None:  # noqa: ANN001
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
    _idle(page)


def test_year_and_school_survive_pages_back_and_reload(server, browser) -> None:  # issue 11 point 5
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)  # the demo's leader of the flagship partnership, on the group overview
    _idle(page)
    years = _options(page, "Academic year")
    assert _chosen(page)["Academic year"] == years[0]  # the group's latest year first
    older = years[-1]
    _choose(page, "Academic year", older)
    _go(page, "School scorecard")
    assert _chosen(page)["Academic year"] == older
    school = _options(page, "School")[-1]
    _choose(page, "School", school)
    _go(page, "Similar schools")
    assert _chosen(page)["Academic year"] == older and _chosen(page)["School"] == school
    page.go_back()
    _idle(page)
    assert _chosen(page)["Academic year"] == older and _chosen(page)["School"] == school, page.url
    page.go_back()
    _idle(page)
    assert _chosen(page)["Academic year"] == older, page.url
    page.reload()
    _idle(page)
    assert _chosen(page)["Academic year"] == older, page.url
    page.close()


def test_the_scorecard_table_needs_no_sideways_scrolling_at_1400(server, browser) -> None:  # issue 11 point 8
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(f"{server}/school_scorecard")
    _idle(page)
    grids = [g for g in page.locator(f"{MAIN} [data-testid='stDataFrame']").all() if g.is_visible()]
    assert grids
    for grid in grids:
        scroll, client = grid.evaluate("e => { const s = e.querySelector('.dvn-scroller');"
                                       " return [s.scrollWidth, s.clientWidth]; }")
        assert client > 0 and scroll <= client, (scroll, client)
    assert page.locator("[data-testid='stException']").count() == 0
    headers = page.locator(f"{MAIN} [data-testid='stDataFrame']").first.inner_text()
    assert "Local authority (" in headers or page.locator(f"{MAIN}").inner_text().count("Local authority")
    page.screenshot(path=str(SHOTS / "school_scorecard_1400.png"), full_page=True)
    page.close()
