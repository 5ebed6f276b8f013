"""People's words made inert for each place they are shown: Streamlit Markdown, plotly's SVG text, a spreadsheet.

Measure labels, descriptions, commentary, notes, group and school names come from people and from imported
files (real DfE names carry `*`, `_`, `[`, `$` and `<`). Each function here returns text that the medium shows
exactly as written and never acts on: no link, image, maths, colour, emphasis, icon, emoji or formula.
Pure: the pages (ui/, pages/), the charts (charts/) and the reports (data/outputs/reports.py) share these.
"""

from __future__ import annotations

import html
import re

# Every ASCII punctuation character: CommonMark lets any of them be backslash-escaped (then shown as itself), so
# escaping them all leaves no emphasis, link, image, heading, list, table, maths ($), HTML or entity (&) to find.
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
# Streamlit's Markdown also acts on text *after* the escapes are read, so escapes cannot stop these: GFM autolinks
# (https://…, www.…, name@host), emoji shortcodes (:smile:), icons (:material/home:) and colour directives
# (:red[…]). A word joiner (U+2060, invisible, no width) after each ':', before each '@' and after 'www' breaks
# their patterns and changes nothing a reader sees.
WORD_JOINER = "\u2060"
_WWW = re.compile(r"(?i)(www)(?=\\\.)")
_NEWLINES = re.compile(r"\r\n|\r|\n")

# OWASP's CSV-injection list: a spreadsheet cell whose text starts with one of these may be run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number ("-0.25", "+3", "1,234.5", "-12%") is read as a number, never as a formula: left alone.
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?%?")


def markdown_text(text: object) -> str:
    """Text Streamlit shows exactly as written, in a Markdown body or a widget label; '' for None.

    Line breaks are kept as one space: a label or a sentence is one line, and a new line would let '-' or '1.'
    start a list."""
    if text is None:
        return ""
    out = _PUNCTUATION.sub(r"\\\1", _NEWLINES.sub(" ", str(text)))
    out = out.replace("\\:", "\\:" + WORD_JOINER).replace("\\@", WORD_JOINER + "\\@")
    return _WWW.sub(lambda m: m.group(1) + WORD_JOINER, out)


def plotly_text(text: object) -> str:
    """Text a plotly title, axis label, legend or hover shows as written; '' for None.

    plotly reads a small HTML (<b>, <br>, <a href>, <span style>) and entities in every text, a newline as <br>,
    '$…$' as maths and '%{…}' as a template field in hover templates: the tags and entities become entities
    plotly shows as characters, '$' and the '%' of '%{' become numeric entities, and a new line a space."""
    if text is None:
        return ""
    out = html.escape(_NEWLINES.sub(" ", str(text)), quote=False)
    return out.replace("$", "&#36;").replace("%{", "&#37;{")


def spreadsheet_text(text: object) -> str:
    """A CSV cell a spreadsheet program shows as text, never runs as a formula: text starting with = + - @, a tab
    or a carriage return gets a leading apostrophe (OWASP's advice); a plain number such as '-0.25' is kept."""
    text = "" if text is None else str(text)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def formula_like(text: object) -> bool:
    """True for text a spreadsheet could read as a formula (see spreadsheet_text)."""
    return isinstance(text, str) and spreadsheet_text(text) != text
