"""The impact event study as a chart: the difference each year relative to joining, with its interval.

Pure: a DataFrame (data.services.impact.event_frame's rows) in, a plotly Figure out. Every mark has words: the
years are labelled ("2 years before", "joined", "1 year after"), the starting year and the dip year say what they
are, and a point left out says why in its hover; the figure's description repeats the sentence the page shows.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from charts._common import SMALL, base_layout, empty_figure, plotly_text
from charts.palette import GRID, INK, LEVEL_COLOURS, MUTED

POINT = LEVEL_COLOURS[5]  # blue: an estimate
BEFORE = MUTED  # the years before joining: grey, a check rather than a result
REFERENCE_K = -2
DIP_K = -1


def year_words(k: int) -> str:
    """'2 years before', 'joined', '1 year after': a relative year in words."""
    if k == 0:
        return "year joined"
    n = abs(k)
    return f"{n} year{'s' if n != 1 else ''} {'before' if k < 0 else 'after'}"


def impact_figure(points: pd.DataFrame, *, measure_label: str, unit: str, description: str,
                  height: int = 340) -> go.Figure:
    """Estimates by year relative to joining (k) with 95% intervals, zero marked, joining marked between −1 and 0.

    `points`: one row per k with `relative_year` (int), `shown`, `estimate`, `low`, `high`, `schools`, `note`
    (the pooled row, whose relative year is text, is left out: the page states it in words)."""
    rows = points[points["relative_year"].map(lambda k: isinstance(k, int | float) and not isinstance(k, bool))]
    rows = rows.sort_values("relative_year")
    shown = rows[rows["shown"].astype(bool)]
    if shown.empty or len(shown) == 1 and int(shown["relative_year"].iloc[0]) == REFERENCE_K:
        return empty_figure("Too few schools for any year to be shown", title=measure_label, height=height)
    fig = go.Figure()
    ks = [int(k) for k in rows["relative_year"]]
    for before, colour, name in ((True, BEFORE, "before joining (a check: should be near 0)"),
                                 (False, POINT, "after joining")):
        part = shown[(shown["relative_year"] < 0) == before]
        if part.empty:
            continue
        est = part["estimate"].astype(float)
        hover = [_hover(int(k), e, lo, hi, int(n), unit) for k, e, lo, hi, n in
                 zip(part["relative_year"], est, part["low"], part["high"], part["schools"], strict=True)]
        fig.add_trace(go.Scatter(
            x=part["relative_year"].astype(int).tolist(), y=est.tolist(), mode="markers", name=name,
            marker={"color": colour, "size": 11, "symbol": "circle" if not before else "diamond"},
            error_y={"type": "data", "symmetric": False, "array": (part["high"].astype(float) - est).tolist(),
                     "arrayminus": (est - part["low"].astype(float)).tolist(), "color": colour, "thickness": 2},
            hovertext=hover, hoverinfo="text"))
    hidden = rows[~rows["shown"].astype(bool)]
    if not hidden.empty:  # a year with too few schools: a hollow mark on zero, its reason in the hover
        fig.add_trace(go.Scatter(
            x=hidden["relative_year"].astype(int).tolist(), y=[0.0] * len(hidden), mode="markers",
            name="not shown (too few schools)", marker={"color": MUTED, "size": 9, "symbol": "circle-open"},
            hovertext=[plotly_text(f"{year_words(int(k))}: {n}") for k, n in
                       zip(hidden["relative_year"], hidden["note"], strict=True)], hoverinfo="text"))
    fig.add_hline(y=0, line={"color": INK, "width": 1})
    fig.add_vline(x=-0.5, line={"color": MUTED, "width": 1, "dash": "dash"})
    fig.add_annotation(x=-0.5, y=1, yref="paper", text="joined", showarrow=False, xanchor="left", xshift=4,
                       font={"size": SMALL, "color": MUTED})
    if DIP_K in ks:
        fig.add_vrect(x0=DIP_K - 0.4, x1=DIP_K + 0.4, fillcolor=GRID, opacity=0.35, line_width=0, layer="below")
    # the starting year and the dip year say so under their tick: an annotation in the plot sat on the points' bars
    fig.update_xaxes(tickmode="array", tickvals=ks, ticktext=[_tick(k) for k in ks],
                     title={"text": "Years relative to joining"})
    fig.update_yaxes(title={"text": plotly_text(f"Difference ({unit})")}, zeroline=False)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.3})
    return base_layout(fig, description=description, title=measure_label, height=height, top=48)


def _tick(k: int) -> str:
    """A tick's label: the year in words, and under it what the starting year and the dip year are."""
    note = {REFERENCE_K: "(measured from)", DIP_K: "(dip year)"}.get(k)
    return year_words(k) + (f"<br>{note}" if note else "")


def _hover(k: int, est: float, lo: float, hi: float, n: int, unit: str) -> str:
    if k == REFERENCE_K:
        return plotly_text(f"{year_words(k)}: the starting point (0 by definition), {n} schools")
    if any(not math.isfinite(float(x)) for x in (est, lo, hi)):
        return plotly_text(f"{year_words(k)}: no estimate")
    words = f"{year_words(k)}: {est:+.2f} {unit} (interval {lo:+.2f} to {hi:+.2f}), {n} schools"
    if k == DIP_K:
        words += "; the dip year, not used to judge"
    return plotly_text(words)
