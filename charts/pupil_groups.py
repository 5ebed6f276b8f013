"""Pupil groups side by side: one small chart per topic (disadvantage, sex, first language, ...), each group's value
with its 95% interval beside England's for the same pupils. Pure figure builders: rows in, a figure out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from charts._common import FONT_SIZE, base_layout, empty_figure, plotly_text
from charts.palette import INK, MUTED, SERIES_COLOURS
from metrics.numbers import NumberFormat, finite

HERE = SERIES_COLOURS[0]  # the school's or group's pupils: blue filled circles
NATIONAL = MUTED  # England's pupils in the same group: dark grey hollow diamonds


def pupil_group_chart(topics: Mapping[str, Sequence[Mapping[str, object]]], *, label: str, subject: str,
                      number: NumberFormat | None = None, unit: str = "") -> go.Figure:
    """Small multiples, one row per topic: for each group a filled circle for `subject`'s value (with its interval
    as a bar) and a hollow diamond for England's. `topics` maps a topic's title to rows with keys group (its
    label), value, low, high, national, cohort, words (what the value is, or why there is none).

    Shape and fill tell the two apart as well as colour; the description lists every value in words."""
    shown = {t: rows for t, rows in topics.items() if rows}
    if not shown:
        return empty_figure("No pupil-group values for this measure and year.", title=label, height=180)
    # one scale for every topic, so a gap in one reads against a gap in another
    fig = make_subplots(rows=len(shown), cols=1, subplot_titles=[plotly_text(t) for t in shown], shared_xaxes=True,
                        vertical_spacing=min(0.12, 0.5 / len(shown)))
    lines = []
    fmt = (lambda v: number.text(v)) if number is not None else (lambda v: f"{v:.1f}{unit}")
    for i, (topic, rows) in enumerate(shown.items(), start=1):
        names = [plotly_text(str(r["group"])) for r in rows]
        vals = [finite(r.get("value")) for r in rows]
        lows = [finite(r.get("low")) for r in rows]
        highs = [finite(r.get("high")) for r in rows]
        nats = [finite(r.get("national")) for r in rows]
        plus = [None if v is None or h is None else h - v for v, h in zip(vals, highs, strict=True)]
        minus = [None if v is None or lo is None else v - lo for v, lo in zip(vals, lows, strict=True)]
        fig.add_trace(go.Scatter(
            x=vals, y=names, mode="markers", name=plotly_text(subject), showlegend=i == 1, legendgroup="here",
            marker={"color": HERE, "size": 11, "symbol": "circle", "line": {"color": INK, "width": 1}},
            error_x={"type": "data", "array": plus, "arrayminus": minus, "color": HERE, "thickness": 2},
            customdata=[plotly_text(str(r.get("words", ""))) for r in rows],
            hovertemplate="%{y}: %{customdata}<extra></extra>"), row=i, col=1)
        fig.add_trace(go.Scatter(
            x=nats, y=names, mode="markers", name="England, same pupils", showlegend=i == 1, legendgroup="nat",
            marker={"color": NATIONAL, "size": 12, "symbol": "diamond-open", "line": {"width": 2}},
            hovertemplate="%{y}, England: %{x}<extra></extra>"), row=i, col=1)
        parts = []
        for r, v, n in zip(rows, vals, nats, strict=True):
            said = f"{r['group']}: {fmt(v)}" if v is not None else f"{r['group']}: {r.get('words') or 'no value'}"
            if n is not None:
                said += f" (England {fmt(n)})"
            parts.append(said)
        lines.append(f"{topic}: " + "; ".join(parts) + ".")
        fig.update_yaxes(autorange="reversed", row=i, col=1)
    fig.update_xaxes(showgrid=True, zeroline=False)
    # the legend under the title, above the first topic's own title
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "yref": "container", "yanchor": "top",
                              "y": 0.97, "font": {"size": FONT_SIZE - 1}}, hovermode="closest")
    fig.update_annotations(xanchor="left", x=0, font={"size": FONT_SIZE})  # topic titles, left as headings are
    description = f"{label} by pupil group, {subject} beside England. " + " ".join(lines)
    return base_layout(fig, description=description, title=label, height=120 + 110 * len(shown), top=90)
