"""Funnel plot: each school's value against its cohort, with 95% and 99.8% control limits around national.

The plot does not know a measure's polarity, so "above" and "below" are drawn in neutral dark greys with ▲/▼
shapes (open between the 95% and 99.8% limits, filled beyond 99.8%), never as good or bad colours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from charts._common import SMALL, base_layout, empty_figure, format_number, measure_number, plotly_text
from charts.alt import funnel_alt
from charts.limits import (
    ABOVE_95,
    ABOVE_998,
    BELOW_95,
    BELOW_998,
    NOT_COMPARED,
    WITHIN,
    Z95,
    Z998,
    funnel_limits,
    funnel_points,
)
from charts.palette import FAINT, HIGHLIGHT, INK, MUTED
from metrics.numbers import NumberFormat

__all__ = ["funnel_limits", "funnel_plot", "funnel_kind", "funnel_unavailable", "STYLE"]

# status -> (marker symbol, colour, size)
STYLE: dict[str, tuple[str, str, int]] = {
    ABOVE_998: ("triangle-up", INK, 11),
    ABOVE_95: ("triangle-up-open", INK, 11),
    WITHIN: ("circle", FAINT, 7),
    BELOW_95: ("triangle-down-open", INK, 11),
    BELOW_998: ("triangle-down", INK, 11),
    NOT_COMPARED: ("circle", FAINT, 7),
}
CURVE_POINTS = 120


def funnel_kind(scale: float) -> str:
    """A percentage of pupils is a rate (binomial limits); anything else is an average (limits need the pupils' sd)."""
    return "rate" if scale == 100 else "mean"


def funnel_unavailable(df: pd.DataFrame, *, label: str, national: float | None, scale: float,
                       sd: float | None) -> str | None:
    """Why no funnel plot can be drawn for these schools' values (None: it can). df columns: value, cohort."""
    with_cohort = df[df["value"].notna() & (pd.to_numeric(df["cohort"], errors="coerce") > 0)] \
        if "cohort" in df else df.iloc[0:0]
    if with_cohort.empty:
        return f"{label} has no cohort: a funnel plot needs one (how many pupils each school's result is from)."
    if funnel_kind(scale) == "mean" and not sd:
        return (f"{label} is an average, and a funnel plot of an average needs the spread of pupils' scores, which "
                "is not published for it: so there is no funnel plot.")
    if national is None or not np.isfinite(national):
        return f"There is no national figure for {label} this year to centre a funnel plot on."
    if len(with_cohort) < 3:
        return f"Fewer than three of these schools have a result for {label} with a cohort: too few for a funnel plot."
    return None


def _curve_cohorts(cohorts: np.ndarray) -> np.ndarray:
    """Cohort sizes to draw the limits at: log-spaced from a little below the smallest to a little above the
    largest, so the funnel's mouth is smooth."""
    lo = max(float(cohorts.min()) * 0.9, 1.0)
    hi = max(float(cohorts.max()) * 1.05, lo + 1.0)
    return np.unique(np.round(np.geomspace(lo, hi, CURVE_POINTS), 3))


def funnel_plot(df: pd.DataFrame, *, national: float, kind: str, scale: float = 100.0, sd: float | None = None,
                highlight: int | None = None, title: str = "", number: NumberFormat | None = None) -> go.Figure:
    """x = cohort, y = value, one trace per status (within limits, above/below the 95% and 99.8% limits), the
    national line and both pairs of limits; the highlighted school (urn) as a labelled star.

    df columns: urn, name, value, cohort. kind "rate" (limits from the binomial normal approximation, kept within
    0..scale) or "mean" (needs sd, the pupil-level standard deviation). Rows without a value or a positive cohort
    are left out. With no national value the points are drawn without limits. `number` (Measure.number): values in
    the measure's own format, as its tables show them."""
    pts = funnel_points(df, national=national, kind=kind, scale=scale, sd=sd)
    if pts.empty:
        return empty_figure(title=title, height=200)
    unit = "%" if kind == "rate" and scale == 100 else ""
    fig = go.Figure()
    has_national = national is not None and np.isfinite(national)
    if has_national:
        xs = _curve_cohorts(pts["cohort"].to_numpy())
        for z, dash, label in ((Z998, "dot", "99.8% limits"), (Z95, "dash", "95% limits")):
            lower, upper = funnel_limits(national, xs, kind, scale, sd, z)
            for k, ys in enumerate((upper, lower)):
                fig.add_trace(go.Scatter(
                    x=xs, y=ys, mode="lines", name=label, legendgroup=label, showlegend=k == 0,
                    line={"color": MUTED, "width": 1.2, "dash": dash},
                    hovertemplate=f"{label}: %{{y:.3~f}} at a cohort of %{{x:.0f}}<extra></extra>",
                ))
        fig.add_trace(go.Scatter(
            x=[xs[0], xs[-1]], y=[national, national], mode="lines",
            name=f"National {measure_number(national, unit, number)}",
            line={"color": INK, "width": 1.5}, hoverinfo="skip",
        ))
    hl = pts[pts["urn"] == highlight] if highlight is not None else pts.iloc[0:0]
    rest = pts.drop(hl.index)
    for status in (WITHIN, NOT_COMPARED, ABOVE_95, ABOVE_998, BELOW_95, BELOW_998):
        part = rest[rest["status"] == status]
        if part.empty:
            continue
        symbol, colour, size = STYLE[status]
        fig.add_trace(go.Scatter(
            x=part["cohort"].tolist(), y=part["value"].tolist(), mode="markers", name=status,
            marker={"symbol": symbol, "color": colour, "size": size, "line": {"color": colour, "width": 1.5}},
            customdata=[[plotly_text(n), measure_number(v, unit, number), format_number(c)] for n, v, c in
                        zip(part["name"], part["value"], part["cohort"], strict=True)],
            hovertemplate=f"<b>%{{customdata[0]}}</b><br>%{{customdata[1]}} from a cohort of %{{customdata[2]}}"
                          f"<br>{status}<extra></extra>",
        ))
    for r in hl.itertuples(index=False):
        fig.add_trace(go.Scatter(
            x=[r.cohort], y=[r.value], mode="markers+text", name=f"{plotly_text(r.name)} ({r.status})",
            text=[plotly_text(r.name)], textposition="top center", textfont={"color": INK, "size": SMALL + 1},
            marker={"symbol": "star", "size": 18, "color": HIGHLIGHT, "line": {"color": INK, "width": 1.5}},
            hovertemplate=(f"<b>{plotly_text(r.name)}</b><br>{measure_number(r.value, unit, number)} from a cohort of "
                           f"{format_number(r.cohort)}<br>{r.status}<extra></extra>"),
        ))
    fig.update_xaxes(title={"text": "Cohort (pupils)"}, showline=True, zeroline=False)
    fig.update_yaxes(title={"text": unit or None}, zeroline=False)
    fig.update_layout(legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "font": {"size": SMALL}},
                      hovermode="closest")
    description = funnel_alt(df, title, national, highlight, kind=kind, scale=scale, sd=sd, number=number)
    return base_layout(fig, description=description, title=title, height=440)
