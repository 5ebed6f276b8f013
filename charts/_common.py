"""What every chart shares: a small fixed template, number formatting, label wrapping, the empty figure."""

from __future__ import annotations

from collections.abc import Iterable

import plotly.graph_objects as go

from charts.palette import GRID, INK, MUTED, WHITE
from metrics.numbers import (
    NumberFormat,
    finite,  # noqa: F401 (re-exported for the chart modules)
)
from metrics.text import plotly_text  # noqa: F401 (re-exported: every name or label a chart shows goes through it)

FONT = "Source Sans Pro, Source Sans 3, Arial, sans-serif"  # Streamlit's own face first
FONT_SIZE = 14
SMALL = 12
NO_VALUES = "No values for this selection"
NO_VALUE_WORDS = "no value"  # one missing value, in a hover or a chart's words

# A fixed, small template instead of plotly's default: the figure does not change when someone sets
# plotly.io.templates.default, and its JSON stays lean.
TEMPLATE = go.layout.Template(layout=go.Layout(
    font={"family": FONT, "size": FONT_SIZE, "color": INK},
    paper_bgcolor=WHITE,
    plot_bgcolor=WHITE,
    hoverlabel={"font": {"family": FONT, "size": FONT_SIZE}, "bgcolor": WHITE, "bordercolor": MUTED},
    xaxis={"gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID, "ticks": "", "automargin": True},
    yaxis={"gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID, "ticks": "", "automargin": True},
    legend={"font": {"size": SMALL + 1}},
    colorway=["#0072B2"],
))


def base_layout(fig: go.Figure, *, description: str, title: str = "", height: int | None = None,
                margin: int = 8, top: int | None = None) -> go.Figure:
    """Apply the shared look: template, small margins, the title (if any) and the description in layout.meta."""
    fig.update_layout(
        template=TEMPLATE,
        meta={"description": description},
        margin={"l": margin, "r": margin, "b": margin, "t": top if top is not None else (48 if title else margin)},
    )
    if title:
        # a title is usually a measure's label: a person's words, escaped
        fig.update_layout(title={"text": plotly_text(title), "x": 0, "xanchor": "left",
                                 "font": {"size": FONT_SIZE + 3}})
    if height is not None:
        fig.update_layout(height=height)
    return fig


def empty_figure(message: str = NO_VALUES, *, title: str = "", height: int = 160) -> go.Figure:
    """A figure with no data that says so in words."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": FONT_SIZE + 1, "color": MUTED})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, description=message, title=title, height=height)


def decimals_for(values: Iterable[object]) -> int:
    """The fewest decimals (0 to 2) that show every value as it would show with two: one setting for a whole
    series, so that 45.1, 46 and 47.2 read 45.1, 46.0, 47.2. Values of 1,000 or more need none."""
    need = 0
    for v in values:
        x = finite(v)
        if x is None or abs(x) >= 1000:
            continue
        need = max(need, next(d for d in (0, 1, 2) if round(x, d) == round(x, 2)))
    return need


def format_number(value: object, unit: str = "", decimals: int | None = None) -> str:
    """A value for hover and alt text when the page has not formatted it: '45.1%', '£7,579', '-0.25', '12 h'.

    Decimals as given, else the fewest (up to two) this value needs; units that read as words (pupils, FTE,
    hours) follow the number; 'score' and 'ratio' are left unsaid."""
    x = finite(value)
    if x is None:
        return NO_VALUE_WORDS
    if unit == "£":
        return f"£{x:,.0f}" if abs(x) >= 100 else f"£{x:,.2f}"
    d = decimals_for([x]) if decimals is None else decimals
    text = f"{x:,.{d}f}"
    if float(text.replace(",", "")) == 0:
        text = text.lstrip("-")
    if unit == "%":
        return f"{text}%"
    if unit in ("", "score", "ratio"):
        return text
    if unit == "hours":
        return f"{text} h"
    return f"{text} {unit}"


def format_series(values: Iterable[object], unit: str = "", number: NumberFormat | None = None) -> list[str]:
    """Each value formatted with the same number of decimals: the measure's own format when the chart is given it
    (`number`: Measure.number, so hover and alt text read as the tables, PDF and CSV do), else the fewest decimals
    the series needs."""
    xs = list(values)
    if number is not None:
        return [number.text(v, missing=NO_VALUE_WORDS) for v in xs]
    d = decimals_for(xs)
    return [format_number(v, unit, d) for v in xs]


def measure_number(value: object, unit: str = "", number: NumberFormat | None = None) -> str:
    """One value of a measure: in its own format when the chart is given it, else as format_number writes it."""
    return number.text(value, missing=NO_VALUE_WORDS) if number is not None else format_number(value, unit)


def hours(value: float) -> str:
    """'40 h', '7.5 h'."""
    return format_number(value, "hours")


def truncate(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters, with an ellipsis (escape it with plotly_text, or use short_label)."""
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"


def short_label(text: object, limit: int) -> str:
    """A person's words cut to `limit` characters and escaped for plotly (cut first, so no entity is cut)."""
    return plotly_text(truncate(str(text), limit))


def wrap(text: str, width: int = 14, lines: int = 3) -> str:
    """Break a label at spaces into at most `lines` lines of about `width` characters (<br> between them);
    what does not fit ends with an ellipsis. Each line is escaped for plotly: only the <br> are markup."""
    out: list[str] = []
    current = ""
    for word in str(text).split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = f"{current} {word}"
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    out = [truncate(line, width + 4) for line in out]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1].rstrip("…")[: width - 1].rstrip() + "…"
    return "<br>".join(plotly_text(line) for line in out)


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def join_words(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    xs = list(items)
    if len(xs) <= 1:
        return "".join(xs)
    return ", ".join(xs[:-1]) + " and " + xs[-1]
