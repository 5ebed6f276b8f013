"""The group at a glance: schools × measures, each cell coloured by level and showing its value and level shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from charts._common import SMALL, base_layout, empty_figure, plotly_text, short_label, wrap
from charts._prep import grid_cells
from charts.alt import grid_alt
from charts.palette import INK, LEVEL_COLOURS, LEVEL_ORDER, LEVEL_WORDS, level_symbol, level_text_colour

ROW_PX = 30
LABEL_WIDTH = 14  # characters per line of a measure label on the axis
LABEL_LINES = 3
NAME_CHARS = 34  # school names on the axis; the full name is in the hover
LEGEND_PX = 64


def _legend_name(level: int | None, cells: pd.DataFrame) -> str:
    words = LEVEL_WORDS[level]
    if level is None:
        reasons = set(cells.loc[cells["level"].isna(), "level_label"])
        if reasons - {LEVEL_WORDS[None]}:
            words = "No level (insufficient data, not judged or not published)"
    return f"{level_symbol(level)} {words}"


def level_grid(df: pd.DataFrame, *, height: int | None = None) -> go.Figure:
    """Schools (rows, in the order given) × measures (columns, in the order given), one heatmap trace per level.

    df columns: school, urn, measure, level (1..5 or None/NaN), level_label, display. Each level is its own trace
    so that its colour is exact and its text colour (black or white) is chosen for contrast; a cell reads
    "value shape" (e.g. "45.1 ▲") so colour is never the only cue. A school without a row for a measure leaves
    that cell blank. The legend lists all six colours with their shapes and words, whether used or not."""
    cells, rows, measures = grid_cells(df)
    if cells.empty:
        return empty_figure(height=height or 160)
    r_at = {r: i for i, r in enumerate(rows)}
    m_at = {m: j for j, m in enumerate(measures)}
    ri = cells["row"].map(r_at).to_numpy()
    mj = cells["measure"].map(m_at).to_numpy()
    shape = (len(rows), len(measures))
    # categories as plotly shows them: names and labels are people's words, escaped (escaping keeps them distinct)
    row_keys, measure_keys = [plotly_text(r) for r in rows], [plotly_text(m) for m in measures]

    fig = go.Figure()
    for level in LEVEL_ORDER:
        mine = np.array([lv == level for lv in cells["level"]], dtype=bool)
        if not mine.any():
            continue
        z = np.full(shape, np.nan)
        text = np.full(shape, "", dtype=object)
        hover = np.full(shape, "", dtype=object)
        for i, j, c in zip(ri[mine], mj[mine], cells[mine].itertuples(index=False), strict=True):
            z[i, j] = 1.0
            text[i, j] = f"{plotly_text(c.display)} {level_symbol(level)}"
            hover[i, j] = (f"<b>{plotly_text(c.school)}</b><br>{plotly_text(c.measure)}<br>"
                           f"Value: {plotly_text(c.display)}<br>Level: {plotly_text(c.level_label)} "
                           f"{level_symbol(level)}")
        colour = LEVEL_COLOURS[level]
        fig.add_trace(go.Heatmap(
            z=z.tolist(), x=measure_keys, y=row_keys, text=text.tolist(), hovertext=hover.tolist(),
            texttemplate="%{text}", textfont={"color": level_text_colour(level), "size": SMALL + 1},
            hovertemplate="%{hovertext}<extra></extra>", hoverongaps=False,
            colorscale=[[0.0, colour], [1.0, colour]], zmin=0, zmax=1, showscale=False,
            xgap=2, ygap=2, name=LEVEL_WORDS[level], showlegend=False,
        ))
    # the legend: one invisible-point trace per level, always all six, worst to best
    for level in LEVEL_ORDER:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=_legend_name(level, cells), hoverinfo="skip",
            marker={"symbol": "square", "size": 14, "color": LEVEL_COLOURS[level], "line": {"color": INK, "width": 1}},
            showlegend=True, legendgroup=f"level{level}",
        ))

    label_lines = max(wrap(m, LABEL_WIDTH, LABEL_LINES).count("<br>") + 1 for m in measures)
    top = label_lines * 17 + 14
    fig.update_xaxes(side="top", type="category", categoryorder="array", categoryarray=measure_keys,
                     tickvals=measure_keys, ticktext=[wrap(m, LABEL_WIDTH, LABEL_LINES) for m in measures],
                     tickangle=0, showgrid=False, fixedrange=True, tickfont={"size": SMALL})
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=row_keys, autorange="reversed",
                     tickvals=row_keys, ticktext=[short_label(r, NAME_CHARS) for r in rows], showgrid=False,
                     fixedrange=True)
    fig.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.01, "yanchor": "top",
                "itemclick": False, "itemdoubleclick": False, "font": {"size": SMALL}},
        hovermode="closest",
    )
    auto = len(rows) * ROW_PX + top + LEGEND_PX + 16
    return base_layout(fig, description=grid_alt(df), height=height or max(auto, 200), top=top)
