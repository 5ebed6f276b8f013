"""Who supports whom: a circular network of givers and takers, and the same ledger as a giver × taker matrix."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from charts._common import SMALL, base_layout, empty_figure, format_number, hours, plotly_text, short_label, wrap
from charts._prep import BALANCED_WORDS, GIVER_WORDS, TAKER_WORDS, support_tables
from charts.alt import NO_SUPPORT, network_alt
from charts.palette import BALANCED, BLACK, GIVER, INK, MUTED, TAKER, WHITE

# balance kind -> (marker symbol, colour, legend name)
NODE_STYLE: dict[str, tuple[str, str, str]] = {
    GIVER_WORDS: ("triangle-up", GIVER, "▲ net giver (gave more hours than received)"),
    TAKER_WORDS: ("triangle-down", TAKER, "▼ net taker (received more hours than gave)"),
    BALANCED_WORDS: ("circle", BALANCED, "● balanced"),
}
EDGE_COLOUR = "#8C8C8C"
MIN_WIDTH, MAX_WIDTH = 1.0, 9.0
MIN_NODE, MAX_NODE = 14.0, 40.0
TRIM = 0.07  # keep line ends off the node markers (the circle has radius 1)
TWIN_OFFSET = 0.03  # A→B and B→A are drawn side by side, each shifted to its own right
MATRIX_SCALE = [[0.0, "#EAF4FB"], [1.0, "#56B4E9"]]  # light enough that black cell text stays above 4.5:1


def circle_layout(urns: list[int]) -> dict[int, tuple[float, float]]:
    """Positions on the unit circle in urn order, the first at the top, going clockwise; one school at the centre."""
    ordered = sorted(urns)
    if len(ordered) == 1:
        return {ordered[0]: (0.0, 0.0)}
    out = {}
    for i, u in enumerate(ordered):
        a = math.pi / 2 - 2 * math.pi * i / len(ordered)
        out[u] = (round(math.cos(a), 9), round(math.sin(a), 9))
    return out


def _label_position(x: float, y: float) -> str:
    if x > 0.3:
        return "middle right"
    if x < -0.3:
        return "middle left"
    return "top center" if y >= 0 else "bottom center"


def edge_width(h: float, most: float) -> float:
    """Line width in pixels, in proportion to hours, to the nearest half pixel (so edges share a few traces)."""
    w = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * (h / most if most > 0 else 0.0)
    return round(w * 2) / 2


def node_size(total: float, most: float) -> float:
    """Marker size by total hours given and received; area grows with hours (size with their square root)."""
    return round(MIN_NODE + (MAX_NODE - MIN_NODE) * (math.sqrt(total / most) if most > 0 else 0.0), 2)


def support_network(edges: pd.DataFrame, nodes: pd.DataFrame) -> go.Figure:
    """Schools on a circle (sorted by urn); a line from giver to taker for each link, its width by hours and an
    arrowhead near the taker; each school's marker sized by its total hours, shaped and coloured by its balance.

    edges: giver, taker (urns), hours (several rows for one pair are added up; self-support is left out).
    nodes: urn, name, given, received (hours)."""
    n, e = support_tables(edges, nodes)
    if n.empty:
        return empty_figure(NO_SUPPORT.rstrip("."), height=200)
    pos = circle_layout(n["urn"].tolist())
    name = {u: plotly_text(s) for u, s in zip(n["urn"], n["name"], strict=True)}  # escaped: drawn by plotly
    pairs = set(zip(e["giver"], e["taker"], strict=True))
    most_edge = float(e["hours"].max()) if len(e) else 0.0
    fig = go.Figure()

    by_width: dict[float, tuple[list[float | None], list[float | None]]] = {}
    heads: dict[str, list] = {"x": [], "y": [], "angle": [], "size": [], "text": []}
    for g, t, h in zip(e["giver"], e["taker"], e["hours"], strict=True):
        (x0, y0), (x1, y1) = pos[g], pos[t]
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        off = TWIN_OFFSET if (t, g) in pairs else 0.0
        ox, oy = uy * off, -ux * off  # to the right of the direction of travel
        sx, sy = x0 + ux * TRIM + ox, y0 + uy * TRIM + oy
        ex, ey = x1 - ux * TRIM + ox, y1 - uy * TRIM + oy
        w = edge_width(float(h), most_edge)
        xs, ys = by_width.setdefault(w, ([], []))
        xs += [round(sx, 6), round(ex, 6), None]
        ys += [round(sy, 6), round(ey, 6), None]
        # the arrowhead sits a little before the taker's end; plotly marker angles run clockwise from north
        heads["x"].append(round(ex - ux * 0.06, 6))
        heads["y"].append(round(ey - uy * 0.06, 6))
        heads["angle"].append(round(math.degrees(math.atan2(ux, uy)), 3))
        heads["size"].append(round(7 + w * 1.2, 2))
        heads["text"].append(f"{name[g]} → {name[t]}: {hours(float(h))}")
    for k, w in enumerate(sorted(by_width)):
        xs, ys = by_width[w]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", line={"color": EDGE_COLOUR, "width": w}, hoverinfo="skip",
            name="support given → received (wider = more hours)", legendgroup="edges", showlegend=k == 0,
        ))
    if heads["x"]:
        fig.add_trace(go.Scatter(
            x=heads["x"], y=heads["y"], mode="markers", name="arrow: towards the school supported",
            marker={"symbol": "triangle-up", "size": heads["size"], "angle": heads["angle"], "color": INK,
                    "opacity": 1, "line": {"width": 0}},
            hovertext=heads["text"], hovertemplate="%{hovertext}<extra></extra>", legendgroup="edges",
            showlegend=False,
        ))
    most_total = float(n["total"].max()) if len(n) else 0.0
    for kind in (GIVER_WORDS, TAKER_WORDS, BALANCED_WORDS):
        part = n[n["kind"] == kind]
        if part.empty:
            continue
        symbol, colour, legend = NODE_STYLE[kind]
        xy = [pos[u] for u in part["urn"]]
        fig.add_trace(go.Scatter(
            x=[p[0] for p in xy], y=[p[1] for p in xy], mode="markers+text", name=legend,
            text=[short_label(s, 24) for s in part["name"]], textposition=[_label_position(*p) for p in xy],
            textfont={"size": SMALL, "color": INK},
            # opacity 1: with sizes given per point plotly would otherwise draw them at 0.7, off the palette
            marker={"symbol": symbol, "color": colour, "size": [node_size(v, most_total) for v in part["total"]],
                    "opacity": 1, "line": {"color": WHITE, "width": 1.5}},
            customdata=[[plotly_text(s), plotly_text(w)] for s, w in zip(part["name"], part["words"], strict=True)],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
        ))
    for ax in (fig.layout.xaxis, fig.layout.yaxis):
        ax.update(visible=False, range=[-1.6, 1.6], fixedrange=True, showgrid=False, zeroline=False)
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.02, "yanchor": "top",
                              "font": {"size": SMALL}}, hovermode="closest")
    return base_layout(fig, description=network_alt(nodes, edges), height=560)


def support_matrix(edges: pd.DataFrame, nodes: pd.DataFrame) -> go.Figure:
    """Hours given (rows: giver) to each school (columns: taker), schools in urn order, hours written in each cell.

    Blank cells had no support; the diagonal is always blank (self-support is left out)."""
    n, e = support_tables(edges, nodes)
    if n.empty or e.empty:
        return empty_figure(NO_SUPPORT.rstrip("."), height=200)
    urns = n["urn"].tolist()
    at = {u: i for i, u in enumerate(urns)}
    labels = [f"{s} ({u})" if (n["name"] == s).sum() > 1 else s for s, u in zip(n["name"], urns, strict=True)]
    keys = [plotly_text(s) for s in labels]  # the categories as plotly draws them: escaped
    z = np.full((len(urns), len(urns)), np.nan)
    for g, t, h in zip(e["giver"], e["taker"], e["hours"], strict=True):
        z[at[g], at[t]] = h
    text = [["" if np.isnan(v) else format_number(v) for v in row] for row in z]
    hover = [[f"{keys[i]} → {keys[j]}: {'no support' if np.isnan(z[i, j]) else hours(float(z[i, j]))}"
              for j in range(len(urns))] for i in range(len(urns))]
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=keys, y=keys, text=text, texttemplate="%{text}",
        textfont={"color": BLACK, "size": SMALL + 1}, hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        hoverongaps=False, colorscale=MATRIX_SCALE, zmin=0, zmax=float(np.nanmax(z)), xgap=1, ygap=1,
        colorbar={"title": {"text": "hours"}, "thickness": 12, "outlinewidth": 0},
    ))
    fig.update_xaxes(side="top", type="category", title={"text": "Received support", "font": {"color": MUTED}},
                     tickvals=keys, ticktext=[wrap(s, 12, 3) for s in labels], tickangle=0, showgrid=False,
                     fixedrange=True, tickfont={"size": SMALL})
    fig.update_yaxes(type="category", autorange="reversed", title={"text": "Gave support", "font": {"color": MUTED}},
                     tickvals=keys, ticktext=[short_label(s, 30) for s in labels], showgrid=False, fixedrange=True)
    description = "Support matrix: hours given (rows) to each school (columns). " + network_alt(nodes, edges)
    height = max(36 * len(urns) + 140, 260)
    return base_layout(fig, description=description, height=height, top=90)
