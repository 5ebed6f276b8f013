"""The group overview's headline cards show the group's targets, met or not, in words and a symbol; the overview
and the school scorecard carry a plain key to levels and flags (issue 11 point 12)."""

from __future__ import annotations

from conftest import open_app

from data.db.errors import StoreError
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import governance, groups, schools
from data.services.scorecards import scorecard
from metrics.registry import load_registry
from metrics.text import markdown_text
from ui.frames import headline_rows

KEY_TITLE = "What the levels and flags mean"


STEP = {True: -1.0, False: 1.0}  # a target 1 short of the value (by polarity) is met, 1 beyond it is not


def _set_targets(db) -> dict[str, tuple]:
    """In every year, a met target on the overview's first headline card and a missed one on its second: what the
    page should then say, by year."""
    reg = load_registry()
    expected = {}
    with Store(db) as s:
        gid = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        for period in schools.periods(s):
            try:
                card = scorecard(s, group=FLAGSHIP_PARTNERSHIP, period=period)
            except StoreError:
                continue  # no members that year
            tiles = [r for rows in headline_rows(card).values() for r in rows]
            if len(tiles) < 2:
                continue
            met, missed = tiles[0], tiles[1]
            hit = met.value + STEP[met.polarity == "higher_better"]
            miss = missed.value - STEP[missed.polarity == "higher_better"]
            governance.set_target(s, "group", gid, met.measure, period, hit, actor="test")
            governance.set_target(s, "group", gid, missed.measure, period, miss, actor="test")
            expected[period] = (f"Target {markdown_text(reg.get(met.measure).format_value(hit))}: ✓ met",
                                f"Target {markdown_text(reg.get(missed.measure).format_value(miss))}: ✗ not met")
    return expected


def test_headline_cards_show_the_target_and_whether_it_is_met(demo_db) -> None:  # issue 11 point 12
    expected = _set_targets(demo_db)
    at = open_app(role="governor")
    period = at.selectbox(key="period").value
    captions = [c.value for c in at.caption]
    met_words, missed_words = expected[period]
    assert met_words in captions and missed_words in captions, captions
    # a card without a target says nothing about one
    assert sum(c.startswith("Target") for c in captions) == 2


def test_the_overview_has_a_plain_key_to_levels_and_flags(demo_db) -> None:  # issue 11 point 12
    at = open_app(role="governor")
    key = next(e for e in at.expander if e.label == KEY_TITLE)
    words = " ".join(m.value for m in key.markdown)
    for term in ("Strong", "Good", "Steady", "Needs attention", "Cause for concern", "this year only", "⚑",
                 "Insufficient data", "▲▲", "▼▼"):
        assert term in words, term
    assert "percentile" not in words.lower()  # parents' English: "out of every 100 schools", not statistics


def test_the_school_scorecard_has_the_same_key(demo_db) -> None:  # issue 11 point 12
    at = open_app("school_scorecard.py", role="governor")
    assert any(e.label == KEY_TITLE for e in at.expander)
