"""In a real browser: the Impact page for the demo trust planted to help (issue 15) draws its event-study chart and
says, in words, that results rose and that this is better, with no exception shown."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from serving import MAIN, launched_browser, running_server, wait_until_idle

from data.db.state import copy_store
from data.db.store import Store
from data.demo.world import PLANTED_EFFECTS, planted_trusts
from metrics.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
MEASURE = "ks2_rwm_expected"


@pytest.fixture(scope="module")
def helping_trust(demo: Path) -> str:
    """The name of the trust the demo plants a helping effect on (the largest planted effect), from its world."""
    world = planted_trusts()[max(PLANTED_EFFECTS)]  # GIAS's capitals
    with Store(demo, read_only=True) as store:  # the name as the store (and the group chooser) spells it
        return str(store.query("SELECT name FROM groups WHERE lower(name) = lower(?)", [world])[0][0])


@pytest.fixture(scope="module")
def demo(full_demo_master: Path, tmp_path_factory) -> Path:
    """A copy of the full demo (conftest) for the server to open."""
    db = tmp_path_factory.mktemp("impact_browser") / "jointly.duckdb"
    copy_store(full_demo_master, db)
    return db


@pytest.fixture(scope="module")
def server(demo: Path):
    with running_server("serve.py", {"JOINTLY_DB": str(demo)}) as (url, _pid):
        yield url


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def test_the_helping_trust_rose_and_it_is_drawn(server: str, browser, helping_trust: str) -> None:  # issue 15
    assert max(PLANTED_EFFECTS) > 0
    label = load_registry().get(MEASURE).label  # the measure's selector carries its label in the address
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    query = urlencode({"viewing_as": "Leader", "viewing_group": helping_trust, "impact_measure": label})
    page.goto(f"{server}/impact?{query}")
    wait_until_idle(page, timeout=180, settle=1.0)
    page.wait_for_selector(f"{MAIN} [data-testid='stPlotlyChart'] svg.main-svg", timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    main = page.locator(MAIN)
    assert main.locator("[data-testid='stSelectbox']").filter(has_text="Measure").locator("input").input_value() \
        == label
    group = main.locator("[data-testid='stSelectbox']").filter(has_text="Group").first.locator("input").input_value()
    assert group == helping_trust, group
    said = main.locator("[data-testid='stAlert']").first.inner_text()
    assert "rose" in said and "better" in said, said
    assert main.locator("[data-testid='stPlotlyChart'] svg.main-svg").count() >= 1
    # the chart's points are drawn (plotly's scatter points), not an empty figure's message
    assert main.locator("[data-testid='stPlotlyChart'] .scatterlayer .point").count() > 0
    page.screenshot(path=str(SHOTS / "impact_helping_trust.png"), full_page=True)
    page.close()
