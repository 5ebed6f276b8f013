"""A real browser (Debian's chromium driven by Playwright) reads the pages of a store whose group, schools, local
measures, support notes and commentary carry Markdown, HTML, maths and Streamlit directives (tests/hostile.py), and
checks the DOM itself (issue 9, point 3): no link to evil.example, no image from it, no KaTeX, no icon, colour, bold,
italic, strike-through or code made from the words, in the page or in plotly's SVG; and the words are on the page
as written. Screenshots of each page are saved for people to look at (hostile_*.png)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from serving import launched_browser, running_server, wait_until_idle

from data.demo.build import build_demo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # tests/hostile.py, shared with the AppTest and store tests
from hostile import EVIL, MEASURE_LABEL, Hostile, plant  # noqa: E402

SHOTS = ROOT / "tests" / "e2e" / "screenshots"
LEADER = "?viewing_as=Leader"  # the demo's 'viewing as' starts on the flagship group, the hostile one
PUBLIC = "?viewing_as=Parent+or+visitor+%28no+sign-in%29"
WORD_JOINER = "\u2060"

# Everything the hostile words could have become, found in the DOM (main page and plotly's SVG alike).
FINDINGS_JS = """(evil) => {
  const out = [];
  const root = document.querySelector("[data-testid='stApp']");
  for (const a of root.querySelectorAll("a")) {
    const href = a.getAttribute("href") || a.getAttribute("xlink:href") || "";
    if (href.includes(evil)) out.push("link " + href);
  }
  for (const img of root.querySelectorAll("img, image")) {
    const src = img.getAttribute("src") || img.getAttribute("href") || img.getAttribute("xlink:href") || "";
    if (src.includes(evil) || src === "x") out.push("image " + src);
  }
  if (root.querySelector(".katex, math")) out.push("KaTeX");
  for (const el of root.querySelectorAll("strong, b, em, i, del, s, code")) {
    const t = el.textContent.trim();
    if (["B", "u", "s", "c", "a"].includes(t)) out.push(el.tagName.toLowerCase() + " " + t);
  }
  for (const el of root.querySelectorAll(".stMarkdownColoredText")) out.push("colour " + el.textContent);
  for (const el of root.querySelectorAll("[role='img'][aria-label='home icon']")) out.push("icon home");
  for (const el of root.querySelectorAll("svg tspan")) {
    const style = el.getAttribute("style") || "";
    if (style.includes("bold") && el.textContent.includes("evil")) out.push("plotly bold " + el.textContent);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> tuple[Path, Hostile]:
    work = tmp_path_factory.mktemp("hostile_e2e")
    db = work / "demo.duckdb"
    build_demo(db, schools=300, years=3)
    return db, plant(db, work)


@pytest.fixture(scope="module")
def server(hostile_store):
    with running_server("app.py", {"JOINTLY_DB": str(hostile_store[0])}) as (url, _pid):
        yield url


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _wait_until_idle(page) -> None:
    wait_until_idle(page, timeout=60, settle=1.5)  # then a moment for plotly to draw its SVG


def _open(browser, url: str, shot: str, *, expand: bool = True):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(url)
    _wait_until_idle(page)
    if expand:  # an expander's body is drawn only once it is open: open them all
        for summary in page.locator("[data-testid='stExpander'] summary").all():
            summary.click()
        time.sleep(1.0)
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"hostile_{shot}.png"), full_page=True)
    return page


def _shown_as_written(page) -> str:
    """The page's text as a reader sees it (the escape's invisible word joiners taken out)."""
    return page.locator("[data-testid='stApp']").inner_text().replace(WORD_JOINER, "")


@pytest.mark.parametrize(("name", "path", "words"), [
    ("group_overview", "", "Northbridge Learning **B** [x](https://evil.example)"),
    ("school_scorecard", "school_scorecard", "**B** [x](https://evil.example) ![i](https://evil.example/i.png)"),
    ("measures", "measures", MEASURE_LABEL),
    ("support", "support", "**B** [x](https://evil.example)"),
    ("publish", "publish", "**B** [x](https://evil.example)"),
])
def test_staff_pages_show_the_words_and_draw_nothing_from_them(server, browser, name, path, words) -> None:
    page = _open(browser, f"{server}/{path}{LEADER}", name)
    assert page.evaluate(FINDINGS_JS, EVIL) == []
    assert words in _shown_as_written(page)
    page.close()


def test_the_parents_page_shows_the_words_and_draws_nothing_from_them(server, browser, hostile_store) -> None:
    page = _open(browser, f"{server}/{PUBLIC}&publication={hostile_store[1].publication_id}", "parents")
    assert page.evaluate(FINDINGS_JS, EVIL) == []
    text = _shown_as_written(page)
    assert "<img src=x onerror=alert(1)> $x^2$ :red[r] :material/home:" in text  # the commentary, as written
    assert "- item" in text and "# heading" in text  # its lines are lines, not a list or a heading
    page.close()
