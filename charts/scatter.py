"""A measure against a context variable (e.g. Attainment 8 against % disadvantaged), the family picked out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from charts._common import SMALL, base_layout, empty_figure, format_number, plotly_text
from charts.alt import scatter_alt
from charts.palette import FAINT, HIGHLIGHT, INK, LEVEL_COLOURS, MUTED

FAMILY = LEVEL_COLOURS[5]
GL_ABOVE = 4000  # beyond this many points, WebGL keeps the page responsive
GROUPS = (  # drawn in this order, so the family sits on top of the rest
    ("other", "Other schools", "circle", FAINT, 6),
    ("family", "Family of similar schools", "diamond", FAMILY, 9),
)


def context_scatter(df: pd.DataFrame, *, x_label: str, y_label: str, highlight: int | None = None,
                    fit: tuple[float, float] | None = None, title: str = "") -> go.Figure:
    """df columns: urn, name, x, y and optional group ("family" / "other"); rows without x or y are left out.

    fit is (a, b) for the line y = a + b·x, drawn across the range of x. The highlighted school (urn) is a
    labelled yellow star; the family are blue diamonds, other schools small grey circles."""
    if df is None or df.empty:
        return empty_figure(title=title, height=200)
    d = df.copy()
    d["x"] = pd.to_numeric(d["x"], errors="coerce").astype(float)
    d["y"] = pd.to_numeric(d["y"], errors="coerce").astype(float)
    d = d[np.isfinite(d["x"]) & np.isfinite(d["y"])].sort_values("urn", kind="stable")
    if d.empty:
        return empty_figure(title=title, height=200)
    d["name"] = d["name"].astype(str)
    if "group" not in d.columns:
        d["group"] = "other"
    d["group"] = np.where(d["group"] == "family", "family", "other")
    hl = d[d["urn"] == highlight] if highlight is not None else d.iloc[0:0]
    rest = d.drop(hl.index)

    # the axis labels and names are people's words (measure labels, school names): escaped for plotly
    x_text, y_text = plotly_text(x_label), plotly_text(y_label)
    fig = go.Figure()
    for key, name, symbol, colour, size in GROUPS:
        part = rest[rest["group"] == key]
        if part.empty:
            continue
        kind = go.Scattergl if len(part) > GL_ABOVE else go.Scatter
        fig.add_trace(kind(
            x=part["x"].tolist(), y=part["y"].tolist(), mode="markers", name=name,
            marker={"symbol": symbol, "color": colour, "size": size, "line": {"color": "#FFFFFF", "width": 0.5}},
            customdata=[[plotly_text(n), format_number(x), format_number(y)] for n, x, y in
                        zip(part["name"], part["x"], part["y"], strict=True)],
            hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{x_text}: %{{customdata[1]}}<br>"
                           f"{y_text}: %{{customdata[2]}}<extra>{name}</extra>"),
        ))
    if fit is not None:
        a, b = float(fit[0]), float(fit[1])
        x0, x1 = float(d["x"].min()), float(d["x"].max())
        fig.add_trace(go.Scatter(
            x=[x0, x1], y=[a + b * x0, a + b * x1], mode="lines",
            name=f"Fitted line: y = {format_number(a)} {'-' if b < 0 else '+'} {format_number(abs(b))}·x",
            line={"color": MUTED, "width": 1.5, "dash": "dash"}, hoverinfo="skip",
        ))
    for r in hl.itertuples(index=False):
        fig.add_trace(go.Scatter(
            x=[r.x], y=[r.y], mode="markers+text", name=plotly_text(r.name), text=[plotly_text(r.name)],
            textposition="top center",
            textfont={"color": INK, "size": SMALL + 1},
            marker={"symbol": "star", "size": 18, "color": HIGHLIGHT, "line": {"color": INK, "width": 1.5}},
            hovertemplate=(f"<b>{plotly_text(r.name)}</b><br>{x_text}: {format_number(r.x)}<br>"
                           f"{y_text}: {format_number(r.y)}<extra></extra>"),
        ))
    fig.update_xaxes(title={"text": x_text}, showline=True, zeroline=False)
    fig.update_yaxes(title={"text": y_text}, zeroline=False)
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                              "font": {"size": SMALL}}, hovermode="closest")
    description = scatter_alt(df, x_label=x_label, y_label=y_label, highlight=highlight)
    return base_layout(fig, description=description, title=title, height=440, top=80 if title else 40)
