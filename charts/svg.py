"""Small inline SVG charts for the parents' static site (issue 16): pure builders, data in, an `<svg>` string out.

The site's Content-Security-Policy forbids inline styles, so nothing here writes a `style` attribute or a `<style>`
element: colours and sizes are presentation attributes (fill, stroke, font-size), and every element carries a class
name the site's CSS may refine. Every text that comes from people (school names, labels, the words of a value) is
XML-escaped. Colour never carries meaning alone: each bar has its value in words at its end, each reference line
its name and value, and `<desc>` says all of it again for a screen reader.

The drawing scales with its viewBox (`width="100%"`, no height: the browser keeps the aspect ratio), so text is
sized against the `width` given: at the default 640, labels are 20 units (GOV.UK's desktop body size, 19 px, when
the chart is shown 640 px wide) and half that on a 320 px phone. Labels sit above their bars, not in a column to
their left, so a long school name uses the whole width and the bars keep theirs; a page that wants larger text on
phones passes a smaller `width` (the same words, fewer units across). The table beside each chart on the site
holds the same numbers at the page's own text size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from charts.palette import INK, MUTED, SERIES_COLOURS, WHITE

BAR = SERIES_COLOURS[0]  # Okabe-Ito blue #0072B2: 5.2:1 against white (a graphic needs 3:1; white text on it 4.5:1)
BAR_TEXT = INK  # #222222: 15.9:1 on white
NOTE_TEXT = MUTED  # #595959: 7:1 on white
# a reference line is told from another by its words first, and by its dash and shade as well
REFERENCE_STROKES: tuple[str, ...] = (INK, MUTED)
REFERENCE_DASHES: tuple[str, ...] = ("8 5", "3 3", "12 4 3 4")

FONT = 20  # a label, a value
SMALL = 17  # a note, a reference's label, the polarity line
GAP = 8  # between a bar's end and its value
BAR_HEIGHT = 24
ROW_GAP = 16
LINE = 1.25  # line height in ems

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")  # an XML id (NCName) that is also a safe HTML id
# characters XML 1.0 cannot hold at all (controls other than tab and newlines): a hostile label must not break the page
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)


@dataclass(frozen=True)
class Bar:
    """One row: `label` (a school's name), its `value` (None when there is none to show), `display` (the value as
    the page writes it, e.g. "58%"; for a row with no value, the words shown in place of the bar, e.g. "Not
    shown: fewer than 6 pupils") and an optional `note` written under the bar (e.g. "24 pupils")."""

    label: str
    value: float | None
    display: str
    note: str | None = None


@dataclass(frozen=True)
class Reference:
    """A dashed vertical line across every row (England, the partnership): its `label`, `value` and `display`."""

    label: str
    value: float
    display: str


def text(value: str) -> str:
    """Text safe inside an element or a double- or single-quoted attribute: & < > " ' escaped, and characters XML
    cannot hold removed."""
    clean = _NOT_XML.sub("", value)
    return (clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def nice_ceiling(x: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7 or 8 times a power of ten) at least `x` > 0."""
    power = 10.0 ** math.floor(math.log10(x))
    for step in _NICE:
        if step * power >= x * (1 - 1e-12):  # 100 stays 100 despite log10's rounding
            return step * power
    return 10 * power  # unreachable: 10 x power >= x always


def scale_of(values: Sequence[float]) -> tuple[float, float]:
    """(low, high) of the axis: from 0, or from a rounded minimum when a value is negative, to a rounded maximum
    covering every value; (0, 1) when there is nothing above zero or below it."""
    lo = min([0.0, *values])
    hi = max([0.0, *values])
    low = -nice_ceiling(-lo) if lo < 0 else 0.0
    high = nice_ceiling(hi) if hi > 0 else 0.0
    if low == high:  # every value 0, or none at all: any span draws them at the zero line
        high = 1.0
    return low, high


def _num(x: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros ("12.5", "300")."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _advance(c: str) -> float:
    """A character's advance in ems, a little over the widest of the faces the site's font stack meets (DejaVu Sans
    on Linux: digits 0.64, % 0.95; Roboto, San Francisco, Segoe UI and Arial are narrower)."""
    if c in "%@MWmw":
        return 1.0
    if c in " il.,:;'|!()[]jtf-":
        return 0.4
    if c.isupper():
        return 0.78
    return 0.66  # digits, most small letters, and anything else


def text_width(words: str, size: float) -> float:
    """About how wide `words` are at `size`, erring wide: room kept for a value must hold it on any face."""
    return sum(_advance(c) for c in words) * size


def _lines(words: str, size: float, width: float) -> list[str]:
    """`words` wrapped to `width` units at `size`, by the same widths as text_width (a word wider than a line is
    split where it must be)."""
    lines: list[str] = []
    line = ""
    for word in words.split():
        while text_width(word, size) > width:  # a long word (or a name with no spaces) is cut to fit
            if line:
                lines.append(line)
                line = ""
            cut = next((i for i in range(len(word) - 1, 0, -1) if text_width(word[:i], size) <= width), 1)
            lines.append(word[:cut])
            word = word[cut:]
        joined = f"{line} {word}" if line else word
        if text_width(joined, size) <= width:
            line = joined
        else:
            lines.append(line)
            line = word
    if line or not lines:
        lines.append(line)
    return lines


def _finite(value: float | None) -> float | None:
    # NaN and infinities have no length to draw: the row shows its words, as for a value that is not shown
    return value if value is not None and math.isfinite(value) else None


def _value_spot(value: float, end: float, zero: float, bar: float, need: float,
                width: float) -> tuple[float, str, bool] | None:
    """Where a bar's words go on its row: (x, text-anchor, inside the bar?), or None when nowhere on the row has
    room. First just beyond the bar's end; then inside it, at its end; then on the other side of the zero line
    (empty on this row: the bar goes the other way)."""
    if value >= 0:
        if end + GAP + need <= width:
            return end + GAP, "start", False
        if need + 2 * GAP <= bar:
            return end - GAP, "end", True
        if zero - GAP - need >= 0:
            return zero - GAP, "end", False
        return None
    if end - GAP - need >= 0:
        return end - GAP, "end", False
    if need + 2 * GAP <= bar:
        return end + GAP, "start", True
    if zero + GAP + need <= width:
        return zero + GAP, "start", False
    return None


def bar_chart(bars: Sequence[Bar], *, title: str, id_prefix: str, references: Sequence[Reference] = (),
              lower_is_better: bool = False, width: int = 640) -> str:
    """A horizontal bar chart, one row per bar in the order given, as an `<svg>` string; "" when `bars` is empty
    (a template then shows no chart: `{% if chart %}`).

    Each row is its label (wrapped over lines when long), then its bar with the display text at its end (after the
    end for a positive value, before it for a negative one; where that has no room, inside the bar's end, else on
    the empty side of the zero line, else on lines under the bar), then its note. A bar with no value (None, NaN
    or infinite) is a row with its words where the bar would be. References are dashed vertical lines, each named
    with its value on a line of its own above the rows (a non-finite reference is left out).

    `id_prefix` makes the ids `<prefix>-title` and `<prefix>-desc`: it must be an XML name (letters, digits,
    _ . -, not starting with a digit) and unique on the page. `lower_is_better` adds a line saying so under the
    chart and in the description.
    """
    if not bars:
        return ""
    if not _ID.fullmatch(id_prefix):
        raise ValueError(f"id_prefix must be an XML name (a letter or _, then letters, digits, _ . -): {id_prefix!r}")
    if width < 200:
        raise ValueError(f"a chart needs at least 200 units across, not {width}")
    shown = [(b, v) for b in bars if (v := _finite(b.value)) is not None]
    refs = [r for r in references if math.isfinite(r.value)]
    low, high = scale_of([*(v for _, v in shown), *(r.value for r in refs)])

    # room for the words at the bars' ends: after positive bars on the right, before negative ones on the left,
    # at most a third of the width each way
    right_room = max([text_width(b.display, FONT) for b, v in shown if v >= 0] or [0.0])
    left_room = max([text_width(b.display, FONT) for b, v in shown if v < 0] or [0.0])
    right = min(width / 3, right_room + GAP + 2) if right_room else 2.0
    left = min(width / 3, left_room + GAP + 2) if left_room else 2.0
    plot_w = width - left - right

    def x_of(v: float) -> float:
        return left + (v - low) / (high - low) * plot_w

    zero = x_of(0.0)
    shapes: list[str] = []  # bars, then the lines over them
    words: list[str] = []  # every text, last, so that it reads over the lines (with a white halo)
    on_bars: list[str] = []  # values written inside their bars
    y = 4.0

    # one line per reference above the rows, so that two close values never write over each other
    ref_marks = []
    for i, r in enumerate(refs):
        x = x_of(r.value)
        for line in _lines(f"{r.label}: {r.display}", SMALL, width - 2):  # wrapped only when wider than the chart
            w = text_width(line, SMALL)
            if x - w / 2 < 1:  # centred on its line where it can be, else kept inside the chart
                anchor, tx = "start", max(1.0, min(x - 4, width - 1 - w))
            elif x + w / 2 > width - 1:
                anchor, tx = "end", min(width - 1.0, max(x + 4, w + 1))
            else:
                anchor, tx = "middle", x
            y += SMALL * LINE
            words.append(f'<text class="reference-label" x="{_num(tx)}" y="{_num(y)}" font-size="{SMALL}" '
                         f'fill="{INK}" text-anchor="{anchor}">{text(line)}</text>')
        ref_marks.append((i, x, y + 4))
    rows_top = y + (8 if refs else 0)
    y = rows_top

    for b in bars:
        for line in _lines(b.label, FONT, width - 2):
            y += FONT * LINE
            words.append(f'<text class="label" x="1" y="{_num(y)}" font-size="{FONT}" fill="{BAR_TEXT}">'
                         f'{text(line)}</text>')
        top = y + 6
        baseline = top + BAR_HEIGHT / 2 + FONT * 0.35  # the text's middle on the bar's middle
        value = _finite(b.value)
        if value is None:  # the words where the bar would be, over as many lines as they need
            for n, line in enumerate(_lines(b.display, FONT, width - left)):
                if n:
                    baseline += FONT * LINE
                    top += FONT * LINE
                words.append(f'<text class="not-shown" x="{_num(left)}" y="{_num(baseline)}" font-size="{FONT}" '
                             f'fill="{NOTE_TEXT}" font-style="italic">{text(line)}</text>')
        else:
            end = x_of(value)
            x0, x1 = sorted((zero, end))
            shapes.append(f'<rect class="bar" x="{_num(x0)}" y="{_num(top)}" width="{_num(x1 - x0)}" '
                          f'height="{BAR_HEIGHT}" fill="{BAR}"/>')
            spot = _value_spot(value, end, zero, x1 - x0, text_width(b.display, FONT), width)
            if spot is None:  # no room on the bar's row: the value on lines of its own under the bar
                for line in _lines(b.display, FONT, width - 2):
                    top += FONT * LINE
                    words.append(f'<text class="value" x="1" y="{_num(top + BAR_HEIGHT)}" font-size="{FONT}" '
                                 f'fill="{BAR_TEXT}">{text(line)}</text>')
            else:
                x, anchor, inside = spot
                # inside the bar: white on the bar's blue (5.2:1), drawn without the white halo
                (on_bars if inside else words).append(
                    f'<text class="value{" inside" if inside else ""}" x="{_num(x)}" y="{_num(baseline)}" '
                    f'font-size="{FONT}" fill="{WHITE if inside else BAR_TEXT}" text-anchor="{anchor}">'
                    f'{text(b.display)}</text>')
        y = top + BAR_HEIGHT
        if b.note:
            for line in _lines(b.note, SMALL, width - 2):
                y += SMALL * LINE
                words.append(f'<text class="note" x="1" y="{_num(y)}" font-size="{SMALL}" fill="{NOTE_TEXT}">'
                             f'{text(line)}</text>')
        y += ROW_GAP
    rows_bottom = y - ROW_GAP / 2

    # the zero line when bars go both ways, so a negative bar reads as below zero and not as short
    if low < 0:
        shapes.append(f'<line class="zero" x1="{_num(zero)}" y1="{_num(rows_top)}" x2="{_num(zero)}" '
                      f'y2="{_num(rows_bottom)}" stroke="{MUTED}" stroke-width="1.5"/>')
    for i, x, y_label in ref_marks:
        shapes.append(f'<line class="reference" x1="{_num(x)}" y1="{_num(y_label)}" x2="{_num(x)}" '
                      f'y2="{_num(rows_bottom)}" stroke="{REFERENCE_STROKES[i % len(REFERENCE_STROKES)]}" '
                      f'stroke-width="2" stroke-dasharray="{REFERENCE_DASHES[i % len(REFERENCE_DASHES)]}"/>')
    polarity = "Lower values are better." if lower_is_better else ""
    if polarity:
        y += SMALL * LINE - ROW_GAP / 2
        words.append(f'<text class="polarity" x="1" y="{_num(y)}" font-size="{SMALL}" fill="{NOTE_TEXT}">'
                     f'{polarity}</text>')
        y += 8
    height = math.ceil(y)

    said = [f"{b.label}: {b.display}" + (f" ({b.note})" if b.note else "") + "." for b in bars]
    said += [f"{r.label}: {r.display}." for r in refs]
    if polarity:
        said.append(polarity)
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-labelledby="{title_id} {desc_id}">'
            f'<title id="{title_id}">{text(title)}</title><desc id="{desc_id}">{text(" ".join(said))}</desc>'
            f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="{WHITE}"/>')
    halo = f'<g class="words" stroke="{WHITE}" stroke-width="4" stroke-linejoin="round" paint-order="stroke">'
    return head + "".join(shapes) + "".join(on_bars) + halo + "".join(words) + "</g></svg>"
