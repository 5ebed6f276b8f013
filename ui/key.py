"""A plain key to levels, flags and targets, shared by the group overview and the school scorecard.

Our own words only (no text from a file or a person), in the English a parent or a new governor reads: what each
level means, what "this year only" and "no level" mean, what ⚑ and the target marks mean. The rules behind them are
docs/method.md ("Performance level", "Early warning flags").
"""

from __future__ import annotations

import streamlit as st

from charts.palette import LEVEL_SYMBOLS

KEY_TITLE = "What the levels and flags mean"
FLAG = "⚑"
MET = "✓ met"
NOT_MET = "✗ not met"

# Each level with its symbol, worst last, as the grid and the map draw them (the colour is never the only cue).
LEVEL_MEANINGS: tuple[tuple[int | None, str, str], ...] = (
    (5, "Strong", "among the best of schools like it in England this year (better than about 80 in every 100 of "
                  "them), or nearly that and improving on last year"),
    (4, "Good", "better than most schools like it (better than about 60 to 80 in every 100), or around the middle "
                "and improving"),
    (3, "Steady", "around the middle of schools like it (better than about 40 to 60 in every 100)"),
    (2, "Needs attention", "below the middle (better than only about 20 to 40 in every 100), or around the middle "
                           "and getting worse"),
    (1, "Cause for concern", "among the lowest fifth of schools like it, and clearly below the national average "
                             "where that can be told"),
    (None, "Insufficient data", "too few pupils to judge fairly, or no result this year"),
)

NOTES: tuple[str, ...] = (
    "**this year only**: there is no earlier year to compare with (the first year we have results for, a year "
    "without national results, or a measure whose definition changed), so the level comes from this year alone.",
    "A result that is **in line with the national average** once chance is allowed for (a small year group "
    "varies a lot) is never *Strong* nor *Cause for concern*.",
    "Special schools and alternative provision are compared only with schools of their own kind. **No level** "
    "means no national figure for their kind is published for that measure.",
    f"**{FLAG} flagged**: a result to look at first: clearly below the national average and among the lowest "
    "fifth, or worse two years running on several measures. The reasons are listed beside it.",
    f"**Target**: the goal the governors set for this year; **{MET}** when reached, **{NOT_MET}** when not.",
)


def key_lines() -> list[str]:
    """The key as Markdown lines: one per level (symbol, words, meaning), then the notes."""
    levels = [f"- {LEVEL_SYMBOLS[lvl]} **{words}**: {meaning}." for lvl, words, meaning in LEVEL_MEANINGS]
    return levels + [f"- {note}" for note in NOTES]


_KEY_TEXT = "\n".join(key_lines())  # our own constant words: joined once, not at every rerun


def level_key(*, expanded: bool = False) -> None:
    """The key, folded away under its title."""
    with st.expander(KEY_TITLE, expanded=expanded):
        st.markdown(_KEY_TEXT)
