"""metrics.text: people's words made inert for Streamlit's Markdown, plotly's text and spreadsheets, and still the
same words. (What Streamlit and plotly then draw is checked in a real browser: tests/e2e/test_hostile_browser.py.)"""

from __future__ import annotations

import html
import re

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from charts.maps import schools_map
from metrics.text import WORD_JOINER, markdown_text, plotly_text, spreadsheet_text

PUNCTUATION = r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"""
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(PUNCTUATION),
                max_size=80)


def read_markdown_escapes(text: str) -> str:
    """What CommonMark shows for escaped text: a backslash before punctuation is dropped; the joiners are unseen."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace(WORD_JOINER, "")


@given(words)
def test_markdown_text_reads_back_as_the_words(text: str) -> None:
    # a word joiner is unseen wherever it comes from, the person's own text included (hypothesis found '\u2060')
    seen = re.sub(r"\r\n|\r|\n", " ", text).replace(WORD_JOINER, "")
    assert read_markdown_escapes(markdown_text(text)) == seen


@given(words)
def test_markdown_text_leaves_no_punctuation_unescaped(text: str) -> None:
    out = markdown_text(text)
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", out)  # take out every escaped character
    assert not any(c in PUNCTUATION for c in bare)
    assert "\n" not in out and "\r" not in out


def test_markdown_text_breaks_what_streamlit_reads_after_the_escapes() -> None:
    """Autolinks (https://, www., name@host), :shortcodes:, :material/icons: and :colour[…] are found in the text
    once escapes are read: a word joiner after each colon, before each @ and after www breaks each pattern."""
    words = "https://e.x www.e.x a@e.x :smile: :material/home: :red[r]"
    text_node = re.sub(r"\\(.)", r"\1", markdown_text(words))  # the text Streamlit's plugins search
    assert "https:" + WORD_JOINER + "//" in text_node and "www" + WORD_JOINER + "." in text_node
    assert "a" + WORD_JOINER + "@" in text_node and ":" + WORD_JOINER + "smile:" + WORD_JOINER in text_node
    assert not re.search(r"https?://|www\.|\w@\w|:[\w/-]+:|:red\[", text_node)
    assert text_node.replace(WORD_JOINER, "") == words  # a reader sees the words unchanged
    assert markdown_text(None) == ""


@given(words)
def test_plotly_text_reads_back_as_the_words_and_has_no_tag(text: str) -> None:
    out = plotly_text(text)
    assert "<" not in out and ">" not in out and "$" not in out and "%{" not in out
    assert html.unescape(out) == re.sub(r"\r\n|\r|\n", " ", text)


def test_spreadsheet_text_quotes_formulas_not_numbers() -> None:
    assert spreadsheet_text('=HYPERLINK("https://evil.example","x")') == '\'=HYPERLINK("https://evil.example","x")'
    assert [spreadsheet_text(t) for t in ("-0.25", "+3", "@x", "x=1")] == ["-0.25", "+3", "'@x", "x=1"]


def test_the_map_tooltip_is_text_not_html() -> None:
    """deck.gl sets a tooltip's 'text' as innerText and its 'html' as innerHTML: school names go in 'text' only."""
    deck = schools_map(pd.DataFrame([{"urn": 1, "name": "<img src=x onerror=alert(1)>", "latitude": 54.0,
                                      "longitude": -1.5, "level": None, "level_label": "", "display": "1"}]),
                       measure_label="<b>x</b>")
    assert set(deck._tooltip) == {"text"}
