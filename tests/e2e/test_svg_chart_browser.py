"""charts/svg.py's bar charts drawn by Chromium with the site's font stack (issue 16): every text, measured by the
browser rather than by the builder's estimate, lies inside the viewBox and clear of every other text."""

from __future__ import annotations

import pytest
from serving import launched_browser

from charts.svg import Bar, Reference, bar_chart

FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"  # as the site's CSS
CASES = {
    "percentages": ([Bar("Ashdown Community Primary School and Nursery of the Holy Trinity", 50, "50%"),
                     Bar('B <x> & "q"', 100, "100%", note="24 pupils"),
                     Bar("Cedar", None, "Not shown: fewer than 6 pupils"), Bar("Dale", -20, "-20%"),
                     Bar("Elm", 61, "61%")],
                    [Reference("England", 62, "62%"), Reference("The partnership", 58, "58%")]),
    "wide values": ([Bar("A", 100, "100.0%"), Bar("B", 99.9, "99.9%"), Bar("W", -1.25, "−1.25 (well below)")],
                    [Reference("England", -1.0, "−1.00")]),
    "money and a name with no spaces": ([Bar("A", 7579, "£7,579"), Bar("B", 8000, "£8,000 per pupil"),
                                         Bar("M" * 80, 3, "WWWWW")],
                                        [Reference("England at the far right edge", 8000, "£8,000")]),
    "words inside, past zero and under the bar": ([Bar("Ash", 100, "100% (all)"), Bar("Birch", -1, "-1 (below)"),
                                                   Bar("Cedar", -100, "-100 (far below the average of all)")],
                                                  [Reference("England", 50, "50")]),
}
MEASURE = """() => [...document.querySelectorAll('svg')].map(svg => ({
    width: svg.viewBox.baseVal.width, height: svg.viewBox.baseVal.height,
    boxes: [...svg.querySelectorAll('text')].map(t => { const b = t.getBBox();
        return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; })}))"""


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


@pytest.mark.parametrize("width", [640, 400, 300])
def test_every_text_fits_and_none_overlaps(browser, width):
    charts = [bar_chart(bars, title=name, id_prefix=f"c{i}", references=refs, lower_is_better=True, width=width)
              for i, (name, (bars, refs)) in enumerate(CASES.items())]
    page = browser.new_page(viewport={"width": 700, "height": 900})
    page.set_content(f'<!doctype html><html lang="en"><body style="font-family: {FONTS}; margin: 0">'
                     + "".join(f'<div style="width: {width}px">{c}</div>' for c in charts) + "</body></html>")
    drawn = page.evaluate(MEASURE)
    page.close()
    assert len(drawn) == len(CASES)
    for name, chart in zip(CASES, drawn, strict=True):
        boxes = chart["boxes"]
        assert len(boxes) >= 5, name
        outside = [b["text"] for b in boxes if b["x"] < -0.5 or b["x"] + b["w"] > chart["width"] + 0.5
                   or b["y"] < -0.5 or b["y"] + b["h"] > chart["height"] + 0.5]
        assert outside == [], f"{name}: drawn outside the chart: {outside}"
        overlapping = [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                       if a["x"] < b["x"] + b["w"] - 0.5 and b["x"] < a["x"] + a["w"] - 0.5
                       and a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5]
        assert overlapping == [], f"{name}: texts over each other: {overlapping}"
