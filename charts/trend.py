"""Values over time: a tiny sparkline for a table cell or card, and a full line chart of several series."""

from __future__ import annotations

from collections.abc import Sequence

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

SCHOOL = LEVEL_COLOURS[5]  # the school's own line: blue, solid


def _texts(values: list[str]) -> list[str]:
    """Formatted values for a hover: a local measure's unit is a governor's words, escaped for plotly."""
    return [plotly_text(v) for v in values]


def _ys(values: Sequence[float | None], n: int) -> list[float | None]:
    """Values as floats with None for gaps (NaN and missing become None), padded or cut to n periods."""
    out = [finite(v) for v in list(values)[:n]]
    return out + [None] * (n - len(out))


def sparkline(periods: list[str], values: list[float | None], *, national: list[float | None] | None = None,
              unit: str = "", height: int = 80) -> go.Figure:
    """A small line with markers and no axes; None leaves a gap; an optional dashed grey national line.

    Hover gives each period's value in words ("2023/24: 45.1%"); the y-range includes national when given."""
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
            customdata=_texts(format_series(nat, unit)),
            hovertemplate="%{x}: national %{customdata}<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        x=periods, y=ys, mode="lines+markers", name="Value", connectgaps=False,
        line={"color": SCHOOL, "width": 2}, marker={"color": SCHOOL, "size": 6},
        customdata=_texts(format_series(ys, unit)),
        hovertemplate="%{x}: %{customdata}<extra></extra>",
    ))
    fig.update_xaxes(visible=False, type="category", fixedrange=True)
    fig.update_yaxes(visible=False, fixedrange=True)
    known = [v for v in ys + (_ys(national, len(periods)) if national is not None else []) if v is not None]
    if known:
        lo, hi = min(known), max(known)
        pad = (hi - lo) * 0.15 or max(abs(hi) * 0.05, 1e-9)
        fig.update_yaxes(range=[lo - pad, hi + pad])
    fig.update_layout(showlegend=False, hovermode="closest", hoverlabel={"font": {"size": SMALL}})
    return base_layout(fig, description=trend_alt("Trend", periods, ys, unit), height=height, margin=2)


def trend_chart(periods: list[str], series: dict[str, list[float | None]], *, unit: str = "",
                title: str = "") -> go.Figure:
    """Several named series over the same periods (e.g. school, family median, national), in the order given.

    Each series differs by colour, dash and marker shape, so none relies on colour alone; None leaves a gap."""
    periods = [str(p) for p in periods]
    if not periods or not series:
        return empty_figure(title=title, height=200)
    fig = go.Figure()
    lines = []
    for k, (name, values) in enumerate(series.items()):
        ys = _ys(values, len(periods))
        i = k % len(SERIES_COLOURS)
        colour = SERIES_COLOURS[i]
        fig.add_trace(go.Scatter(
            x=periods, y=ys, mode="lines+markers", name=plotly_text(name), connectgaps=False,
            line={"color": colour, "width": 2.5 if k == 0 else 2, "dash": SERIES_DASHES[i]},
            marker={"color": colour, "size": 9 if k == 0 else 8, "symbol": SERIES_SYMBOLS[i]},
            customdata=_texts(format_series(ys, unit)),
            hovertemplate=f"{plotly_text(name)}<br>%{{x}}: %{{customdata}}<extra></extra>",
        ))
        lines.append(trend_alt(str(name), periods, ys, unit))
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
