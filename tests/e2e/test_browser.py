"""A real browser (Debian's chromium driven by Playwright) opens every page of the app on a small demo store,
checks that no error element appears, and saves a screenshot of each page for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from serving import launched_browser, running_server, wait_until_idle

from data.demo.build import FLAGSHIP_PARTNERSHIP, build_demo
from data.services import groups, schools

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
PAGES = ["group_overview", "school_scorecard", "similar_schools", "support", "measures", "reports", "data_import",
         "accounts", "publish", "change_history", "published_results"]
ADMIN = "?viewing_as=Data+manager+%28admin%29"
PUBLIC = "?viewing_as=Parent+or+visitor+%28no+sign-in%29"


@pytest.fixture(scope="module")
def e2e_store(tmp_path_factory) -> tuple[Path, int]:
    """A small demo store in which the flagship partnership has published its headline results: (path, id)."""
    from data.db.store import Store
    from data.services.access import Role, Viewer
    from data.services.publications import publish
    from data.services.scorecards import scorecard

    db = tmp_path_factory.mktemp("e2e") / "demo.duckdb"
    build_demo(db, schools=300, years=3)
    with Store(db) as s:
        group = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
        period = schools.periods(s)[-1]
        card = scorecard(s, group=FLAGSHIP_PARTNERSHIP, period=period)
        measures = [r.measure for r in card.rows if r.value is not None][:8]
        pub, problems = publish(s, Viewer(Role.LEADER, group.group_id, "Leader"), group.group_id, period, measures,
                                {measures[0]: "Our schools work together on this."})
        assert pub is not None, problems
    return db, pub.publication_id


@pytest.fixture(scope="module")
def server(e2e_store):
    with running_server("app.py", {"JOINTLY_DB": str(e2e_store[0])}) as (url, _pid):
        yield url


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _wait_until_idle(page) -> None:
    wait_until_idle(page, settle=1.0)  # then let charts, tables and maps paint


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_without_an_error(server, browser, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    # tall: Streamlit scrolls inside its own container, so a full-page screenshot shows only the viewport
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(f"{server}/{'' if name == 'group_overview' else name}{ADMIN}")
    _wait_until_idle(page)
    errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.first.inner_text()
    assert page.locator("h1").first.inner_text().strip()
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.close()


def test_group_overview_on_a_phone(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server)
    _wait_until_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "group_overview_phone.png"), full_page=True)
    page.close()


def test_results_for_parents_on_a_phone(server, browser, e2e_store):
    """A parent on a phone, with no sign-in, opens a published page: one readable column and no error."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    # the parents' page is the only page, so the default, for a visitor: it is served at the app's root
    page.goto(f"{server}/{PUBLIC}&publication={e2e_store[1]}")
    _wait_until_idle(page)
    errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.first.inner_text()
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_text("Download these results (CSV)").count() == 1
    main = page.locator("[data-testid='stMainBlockContainer']")
    assert main.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "nothing is wider than the phone"
    page.screenshot(path=str(SHOTS / "published_results_phone.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("name", ["group_overview", "school_scorecard"])
def test_the_disadvantaged_view_leads_the_card(server, browser, e2e_store, name):
    """Issue 13: the overview and the school card open on how disadvantaged pupils do: the gap's tiles and its
    sentence first, and the results by pupil group further down, drawn in the browser with no error."""
    from data.db.store import Store
    from data.services import pupil_groups

    page = browser.new_page(viewport={"width": 1400, "height": 3400})
    page.goto(f"{server}/{'' if name == 'group_overview' else name}{ADMIN}")
    wait_until_idle(page, timeout=120, settle=1.0)  # the card and its pupil groups: allow a busy machine
    errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.first.inner_text()
    headings = [h.strip() for h in page.locator("h3").all_inner_texts()]
    assert headings[0] == "How do disadvantaged pupils do?"
    assert "Results by pupil group" in headings
    with Store(e2e_store[0], read_only=True) as s:
        period = schools.periods(s)[-1]
        if name == "group_overview":
            gid = groups.find_group(s, page.locator("h2").first.inner_text().strip()).group_id
            d = pupil_groups.disadvantage(s, group=gid, period=period)
        else:
            # the school shown: the card's heading is its name
            name_shown = page.locator("h2").first.inner_text().strip()
            urns = [u for (u,) in s.query("SELECT urn FROM establishments WHERE name = ?", [name_shown])]
            assert len(urns) == 1, urns
            urn = urns[0]
            d = pupil_groups.disadvantage(s, school=urn, period=period)
    lead = next((r for r in d.rows if r.now.gap is not None), d.rows[0])
    gap_tile = page.locator("[data-testid='stMetric']").filter(has_text="Gap (")
    from metrics.gaps import format_gap
    from metrics.registry import load_registry

    assert format_gap(load_registry().get(lead.measure), lead.now.gap) in gap_tile.first.inner_text()
    assert page.get_by_text("Disadvantaged pupils in", exact=False).count() >= 1
    page.screenshot(path=str(SHOTS / f"disadvantage_{name}.png"), full_page=True)
    page.close()


def test_parents_read_the_gap_in_plain_words(server, browser, e2e_store):
    """Issue 13: the parents' page says how the partnership's disadvantaged pupils did, in words fixed at
    publication, and a school's page gives its own disadvantaged pupils' cell or why it is not shown."""
    from data.db.store import Store
    from data.services import publications

    with Store(e2e_store[0], read_only=True) as s:
        pub = publications.published(s, e2e_store[1])
    assert pub is not None and pub.gaps, "the e2e publication carries a gap"
    page = browser.new_page(viewport={"width": 1400, "height": 3000})
    page.goto(f"{server}/{PUBLIC}&publication={e2e_store[1]}")
    wait_until_idle(page, timeout=120, settle=1.0)
    errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.first.inner_text()
    said = pub.gaps[0].sentence
    assert page.get_by_text(said[:60], exact=False).count() >= 1
    page.screenshot(path=str(SHOTS / "disadvantage_published_results.png"), full_page=True)
    page.close()
