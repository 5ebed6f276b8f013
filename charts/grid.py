"""The group at a glance: schools × measures, each cell coloured by level and showing its value and level shape.

Two builders draw the same grid: `grid_figure`, one light heatmap the overview sends to the browser (a level code per
cell on a stepped colour scale, each cell's words once, no arrays of empty strings), and `level_grid`, one heatmap per
level, which the board PDF prints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from charts._common import SMALL, base_layout, empty_figure, plotly_text, short_label, wrap
from charts._prep import grid_cells
from charts.alt import grid_alt
from charts.palette import (
    INK,
    LEVEL_COLOURS,
    LEVEL_ORDER,
    LEVEL_SYMBOLS,
    LEVEL_WORDS,
    level_symbol,
    level_text_colour,
)

ROW_PX = 30
LABEL_WIDTH = 14  # characters per line of a measure label on the axis
LABEL_LINES = 3
NAME_CHARS = 34  # school names on the axis; the full name is in the hover
LEGEND_PX = 64
# the light grid's z: a code per level, 0 for "no level", on a colour scale of one flat band per code
CODES: dict[int | None, int] = {None: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
HOVER = "<b>%{y}</b><br>%{x}<br>Value: %{customdata[0]}<br>Level: %{customdata[1]}<extra></extra>"


def _legend_name(level: int | None, cells: pd.DataFrame) -> str:
    words = LEVEL_WORDS[level]
    if level is None:
        reasons = set(cells.loc[cells["level"].isna(), "level_label"])
        if reasons - {LEVEL_WORDS[None]}:
            words = "No level (insufficient data, not judged or not published)"
    return f"{level_symbol(level)} {words}"


def code_colourscale() -> list[list[float | str]]:
    """Plotly's colour scale for the codes 0..5 on zmin=-0.5, zmax=5.5: one flat band of each level's colour."""
    n = len(CODES)
    scale: list[list[float | str]] = []
    for level, code in sorted(CODES.items(), key=lambda kv: kv[1]):
        scale += [[code / n, LEVEL_COLOURS[level]], [(code + 1) / n, LEVEL_COLOURS[level]]]
    return scale


def _trimmed(rows: list[list[object]], empty: object = None) -> list[list[object]]:
    """Each row without its trailing empty cells (plotly reads a missing cell as empty): no padding is sent."""
    out = []
    for row in rows:
        end = len(row)
        while end and (row[end - 1] is None if empty is None else isinstance(row[end - 1], str)
                       and row[end - 1] == empty):
            end -= 1
        out.append(row[:end])
    return out


def _positions(cells: pd.DataFrame, rows: list[str], measures: list[str]) -> tuple:
    """Each cell's row and column index, the grid's shape, and the categories as plotly shows them (names and labels
    are people's words, escaped: escaping keeps them distinct)."""
    r_at = {r: i for i, r in enumerate(rows)}
    m_at = {m: j for j, m in enumerate(measures)}
    ri = cells["row"].map(r_at).to_numpy()
    mj = cells["measure"].map(m_at).to_numpy()
    return ri, mj, (len(rows), len(measures)), [plotly_text(r) for r in rows], [plotly_text(m) for m in measures]


def grid_figure(df: pd.DataFrame, *, height: int | None = None) -> go.Figure:
    """The grid `level_grid` draws, as one light figure: the same rows, columns, colours, cell words ("45.1 ▲"),
    text colours, hover words, legend and alt text, in a fraction of the bytes.

    One heatmap holds every cell: z is the level's code on a stepped colour scale, the hover reads the school and
    measure from the axes and the value and level words from customdata, and the cell text is drawn in the colour
    most levels take. Cells whose level needs the other text colour (white on "Strong"'s dark blue) are drawn by a
    second heatmap holding only them, with no hover of its own."""
    cells, rows, measures = grid_cells(df)
    if cells.empty:
        return empty_figure(height=height or 160)
    ri, mj, shape, row_keys, measure_keys = _positions(cells, rows, measures)
    levels = list(cells["level"])
    shown = [plotly_text(d) for d in cells["display"]]
    symbols = [LEVEL_SYMBOLS[lv] for lv in levels]
    words = [f"{d} {s}" for d, s in zip(shown, symbols, strict=True)]
    hover = [[d, f"{plotly_text(lab)} {s}"] for d, lab, s in zip(shown, cells["level_label"], symbols, strict=True)]
    ink = [level_text_colour(lv) for lv in levels]
    # the main trace's text colour: the one most cells need (ties: the colour of the first level in legend order)
    order = {level_text_colour(lv): k for k, lv in reversed(list(enumerate(LEVEL_ORDER)))}
    colours = sorted(set(ink), key=lambda c: (-ink.count(c), order[c]))

    def matrix(values: list[object], keep: np.ndarray | None = None, empty: object = None) -> list[list[object]]:
        """The cells' values laid out rows × columns, `empty` where a cell is empty (or not kept)."""
        flat = np.empty(len(values), dtype=object)
        flat[:] = values  # one object per cell, even when the values are lists
        sel = np.ones(len(values), dtype=bool) if keep is None else keep
        m = np.full(shape, empty, dtype=object)
        m[ri[sel], mj[sel]] = flat[sel]
        return m.tolist()

    codes = [CODES[lv] for lv in levels]
    style = {"showscale": False, "xgap": 2, "ygap": 2, "showlegend": False, "texttemplate": "%{text}"}
    inked = np.array(ink, dtype=object)
    fig = go.Figure()
    # "" (not None) between cells: plotly writes a None as "null"; a row's trailing empty cells are not sent at all
    fig.add_trace(go.Heatmap(
        x=measure_keys, y=row_keys, z=matrix(codes), colorscale=code_colourscale(), zmin=-0.5,
        zmax=len(CODES) - 0.5, text=_trimmed(matrix(words, inked == colours[0], ""), ""),
        customdata=_trimmed(matrix(hover)), hovertemplate=HOVER, hoverongaps=False,
        textfont={"color": colours[0], "size": SMALL + 1}, name="Schools and measures", **style))
    for colour in colours[1:]:
        # its cells only, on the axes' own rows and columns (no x or y: the first trace set the categories, in this
        # order, so no second copy of the names), with no hover (the first trace answers for every cell)
        fig.add_trace(go.Heatmap(
            z=_trimmed(matrix(codes, inked == colour)), colorscale=code_colourscale(), zmin=-0.5,
            zmax=len(CODES) - 0.5, text=_trimmed(matrix(words, inked == colour, ""), ""), hoverinfo="skip",
            textfont={"color": colour, "size": SMALL + 1}, name=f"Cell text in {colour}", **style))
    _legend(fig, cells)
    return _layout(fig, df, rows, measures, row_keys, measure_keys, height, light=True)


def level_grid(df: pd.DataFrame, *, height: int | None = None) -> go.Figure:
    """Schools (rows, in the order given) × measures (columns, in the order given), one heatmap trace per level.

    df columns: school, urn, measure, level (1..5 or None/NaN), level_label, display. Each level is its own trace
    so that its colour is exact and its text colour (black or white) is chosen for contrast; a cell reads
    "value shape" (e.g. "45.1 ▲") so colour is never the only cue. A school without a row for a measure leaves
    that cell blank. The legend lists all six colours with their shapes and words, whether used or not."""
    cells, rows, measures = grid_cells(df)
    if cells.empty:
        return empty_figure(height=height or 160)
    ri, mj, shape, row_keys, measure_keys = _positions(cells, rows, measures)

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
    _legend(fig, cells)
    return _layout(fig, df, rows, measures, row_keys, measure_keys, height)


def _legend(fig: go.Figure, cells: pd.DataFrame) -> None:
    """The legend: one invisible-point trace per level, always all six, worst to best."""
    for level in LEVEL_ORDER:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=_legend_name(level, cells), hoverinfo="skip",
            marker={"symbol": "square", "size": 14, "color": LEVEL_COLOURS[level], "line": {"color": INK, "width": 1}},
            showlegend=True, legendgroup=f"level{level}",
        ))


def _layout(fig: go.Figure, df: pd.DataFrame, rows: list[str], measures: list[str], row_keys: list[str],
            measure_keys: list[str], height: int | None, *, light: bool = False) -> go.Figure:
    """Axes (schools down, measures across the top, in the order given), legend, height and alt text.

    `light`: the categories' order is the first trace's (its x and y are every column and row, in order) and the
    ticks are at their positions (0, 1, …), rather than two more copies of every name in the layout."""
    order = ({"categoryorder": "trace", "tickvals": list(range(len(measures)))} if light else
             {"categoryorder": "array", "categoryarray": measure_keys, "tickvals": measure_keys})
    row_order = ({"categoryorder": "trace", "tickvals": list(range(len(rows)))} if light else
                 {"categoryorder": "array", "categoryarray": row_keys, "tickvals": row_keys})
    label_lines = max(wrap(m, LABEL_WIDTH, LABEL_LINES).count("<br>") + 1 for m in measures)
    top = label_lines * 17 + 14
    fig.update_xaxes(side="top", type="category", **order,
                     ticktext=[wrap(m, LABEL_WIDTH, LABEL_LINES) for m in measures], tickangle=0, showgrid=False,
                     fixedrange=True, tickfont={"size": SMALL})
    fig.update_yaxes(type="category", **row_order, autorange="reversed",
                     ticktext=[short_label(r, NAME_CHARS) for r in rows], showgrid=False, fixedrange=True)
    fig.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.01, "yanchor": "top",
                "itemclick": False, "itemdoubleclick": False, "font": {"size": SMALL}},
        hovermode="closest",
    )
    auto = len(rows) * ROW_PX + top + LEGEND_PX + 16
    return base_layout(fig, description=grid_alt(df), height=height or max(auto, 200), top=top)
