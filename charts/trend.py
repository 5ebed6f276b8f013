"""Values over time: a tiny sparkline for a table cell or card, and a full line chart of several series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from charts._common import FONT_SIZE, SMALL, base_layout, empty_figure, finite, format_series, plotly_text
from charts.alt import trend_alt
from charts.palette import (
    LEVEL_COLOURS,
    MUTED,
    SERIES_COLOURS,
    SERIES_DASHES,
    SERIES_SYMBOLS,
)
from metrics.numbers import NumberFormat

SCHOOL = LEVEL_COLOURS[5]  # the school's own line: blue, solid


def _texts(values: list[str]) -> list[str]:
    """Formatted values for a hover: a local measure's unit is a governor's words, escaped for plotly."""
    return [plotly_text(v) for v in values]


def _ys(values: Sequence[float | None], n: int) -> list[float | None]:
    """Values as floats with None for gaps (NaN and missing become None), padded or cut to n periods."""
    out = [finite(v) for v in list(values)[:n]]
    return out + [None] * (n - len(out))


GAP_FILL = "rgba(120, 120, 120, 0.12)"  # a DfE gap year: a light band behind the lines, named in words too
GAP_WORDS = "No DfE data"


def _segments(periods: list[str], ys: list[float | None], breaks: Sequence[str]) -> list[list[float | None]]:
    """The series cut at each break (a period that starts a new definition): one list per stretch, None elsewhere,
    so the line is never joined across the break."""
    starts = [0] + [periods.index(b) for b in breaks if b in periods and periods.index(b) > 0] + [len(periods)]
    starts = sorted(set(starts))
    return [[y if a <= i < b else None for i, y in enumerate(ys)] for a, b in zip(starts, starts[1:], strict=False)]


def _mark_gaps(fig: go.Figure, periods: list[str], gaps: Mapping[str, str], *, words: bool) -> None:
    """A grey band behind each DfE gap year; with `words`, 'No DfE data' above it and DfE's reason on hover."""
    for period, reason in gaps.items():
        if period not in periods:
            continue
        i = periods.index(period)
        # the shape add_vrect makes (x in data, y over the whole plot), added directly: add_vrect first works out
        # which subplots it spans, about six times the time, for the same rectangle
        fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, xref="x", y0=0, y1=1, yref="y domain",
                      fillcolor=GAP_FILL, line={"width": 0}, layer="below")
        if words:
            fig.add_annotation(x=period, y=1.0, yref="paper", yanchor="bottom", text=GAP_WORDS, showarrow=False,
                               font={"size": SMALL, "color": MUTED}, hovertext=plotly_text(reason))


def _gap_words(gaps: Mapping[str, str], breaks: Sequence[str]) -> str:
    """The gaps and breaks in words, for the chart's description (its alt text)."""
    reasons = list(dict.fromkeys(gaps.values()))
    out = " ".join(reasons)
    if breaks:
        out += (" " if out else "") + f"The line is broken before {', '.join(breaks)}: a new definition starts there."
    return out


def sparkline(periods: list[str], values: list[float | None], *, national: list[float | None] | None = None,
              unit: str = "", height: int = 80, gaps: Mapping[str, str] | None = None,
              breaks: Sequence[str] = (), number: NumberFormat | None = None) -> go.Figure:
    """A small line with markers and no axes; None leaves a gap; an optional dashed grey national line.

    Hover gives each period's value in words ("2023/24: 45.1%"); the y-range includes national when given.
    `gaps` (period -> DfE's reason) are grey bands; `breaks` (periods starting a new definition) cut the line."""
    periods = [str(p) for p in periods]
    ys = _ys(values, len(periods))
    if not periods:
        return empty_figure(height=height)
    fig = go.Figure()
    if national is not None:
        nat = _ys(national, len(periods))
        fig.add_trace(go.Scatter(
            x=periods, y=nat, mode="lines", name="National", connectgaps=False,
            line={"color": MUTED, "width": 1.5, "dash": "dash"},
            customdata=_texts(format_series(nat, unit, number)),
            hovertemplate="%{x}: national %{customdata}<extra></extra>",
        ))
    for part in _segments(periods, ys, breaks):
        fig.add_trace(go.Scatter(
            x=periods, y=part, mode="lines+markers", name="Value", connectgaps=False,
            line={"color": SCHOOL, "width": 2}, marker={"color": SCHOOL, "size": 6},
            customdata=_texts(format_series(part, unit, number)),
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        ))
    _mark_gaps(fig, periods, gaps or {}, words=False)
    fig.update_xaxes(visible=False, type="category", fixedrange=True)
    fig.update_yaxes(visible=False, fixedrange=True)
    known = [v for v in ys + (_ys(national, len(periods)) if national is not None else []) if v is not None]
    if known:
        lo, hi = min(known), max(known)
        pad = (hi - lo) * 0.15 or max(abs(hi) * 0.05, 1e-9)
        fig.update_yaxes(range=[lo - pad, hi + pad])
    fig.update_layout(showlegend=False, hovermode="closest", hoverlabel={"font": {"size": SMALL}})
    description = trend_alt("Trend", periods, ys, unit, number=number)
    extra = _gap_words(gaps or {}, breaks)
    return base_layout(fig, description=f"{description} {extra}" if extra else description, height=height, margin=2)


def trend_chart(periods: list[str], series: dict[str, list[float | None]], *, unit: str = "",
                title: str = "", gaps: Mapping[str, str] | None = None, breaks: Sequence[str] = (),
                number: NumberFormat | None = None) -> go.Figure:
    """Several named series over the same periods (e.g. school, family median, national), in the order given.

    Each series differs by colour, dash and marker shape, so none relies on colour alone; None leaves a gap.
    `gaps` (period -> DfE's reason) are grey bands named "No DfE data" with the reason on hover; `breaks` (periods
    that start a new definition) cut every line there, so unlike is never joined to like. `number`
    (Measure.number): hover and words in the measure's own format, as its tables show it."""
    periods = [str(p) for p in periods]
    if not periods or not series:
        return empty_figure(title=title, height=200)
    fig = go.Figure()
    lines = []
    for k, (name, values) in enumerate(series.items()):
        ys = _ys(values, len(periods))
        i = k % len(SERIES_COLOURS)
        colour = SERIES_COLOURS[i]
        for j, part in enumerate(_segments(periods, ys, breaks)):
            fig.add_trace(go.Scatter(
                x=periods, y=part, mode="lines+markers", name=plotly_text(name), connectgaps=False,
                legendgroup=f"series{k}", showlegend=j == 0,
                line={"color": colour, "width": 2.5 if k == 0 else 2, "dash": SERIES_DASHES[i]},
                marker={"color": colour, "size": 9 if k == 0 else 8, "symbol": SERIES_SYMBOLS[i]},
                customdata=_texts(format_series(part, unit, number)),
                hovertemplate=f"{plotly_text(name)}<br>%{{x}}: %{{customdata}}<extra></extra>",
            ))
        lines.append(trend_alt(str(name), periods, ys, unit, number=number))
    _mark_gaps(fig, periods, gaps or {}, words=True)
    extra = _gap_words(gaps or {}, breaks)
    if extra:
        lines.append(extra)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=periods, showgrid=False,
                     showline=True, title=None)
    fig.update_yaxes(title={"text": plotly_text(unit) if unit not in ("", "score") else None}, showgrid=True,
                     zeroline=False)
    fig.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                "font": {"size": FONT_SIZE - 1}},
        hovermode="closest",
    )
    description = (f"{title}. " if title else "") + " ".join(lines)
    return base_layout(fig, description=description, title=title, height=340, top=80 if title else 40)
