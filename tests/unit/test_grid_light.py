"""The overview's light grid (charts.grid.grid_figure): every cell keeps its value, its level's shape, colour, text
colour and words, as the per-level grid (level_grid) draws them, in a fraction of the bytes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from charts.grid import CODES, HOVER, code_colourscale, grid_figure, level_grid
from charts.palette import LEVEL_COLOURS, LEVEL_ORDER, LEVEL_WORDS, as_level, level_symbol, level_text_colour
from metrics.text import plotly_text

LONG = "Percentage of pupils achieving grade 5 or above in English and mathematics GCSEs"
KB = 1024


@pytest.fixture
def grid_df() -> pd.DataFrame:
    rows = [
        ("Oak Academy", 100001, "Progress 8", 1, "Cause for concern", "-0.61"),
        ("Oak Academy", 100001, LONG, 2, "Needs attention (this year only: no earlier year to compare)", "38.0%"),
        ("Oak Academy", 100001, "Disadvantaged", None, "Context (not judged)", "31.2%"),
        ("Ash <b>School</b> & Co", 100002, "Progress 8", 5, "Strong", "+0.72"),
        ("Ash <b>School</b> & Co", 100002, LONG, float("nan"), "Insufficient data", "–"),
        ("Ash <b>School</b> & Co", 100002, "Disadvantaged", None, "Context (not judged)", "12.0%"),
        ("Elm School", 100003, "Progress 8", 3, "Steady", "0.01"),
        ("Elm School", 100003, LONG, 4, "Good", "61.5%"),
        # Elm has no "Disadvantaged" row: its cell stays blank
        ("Oak Academy", 100001, "Progress 8", 5, "Strong", "9.99"),  # a repeat: the first row wins
        ("Fir School", 100004, "Disadvantaged", 5, "Strong", "1%"),  # a row whose only cell is white on blue
    ]
    return pd.DataFrame(rows, columns=["school", "urn", "measure", "level", "level_label", "display"])


def _heatmaps(fig) -> list:
    return [t for t in fig.data if t.type == "heatmap"]


def _at(matrix, i: int, j: int) -> object:
    """A cell of a trace's (row-trimmed) matrix: what plotly reads, None when the row stops before it."""
    if matrix is None or i >= len(matrix) or j >= len(matrix[i]):
        return None
    return matrix[i][j]


def _colour_of(code: float) -> str:
    """The colour plotly paints for z = code on the figure's stepped scale (zmin -0.5, zmax 5.5)."""
    scale = code_colourscale()
    x = (code + 0.5) / len(CODES)
    return next(c for (lo, c), (hi, _) in zip(scale[::2], scale[1::2], strict=True) if lo <= x <= hi)


def _drawn(fig) -> dict[tuple[int, int], tuple[str, str]]:
    """(row, column) -> (text drawn, its colour), over every heatmap; each cell's text is drawn once."""
    out: dict[tuple[int, int], tuple[str, str]] = {}
    for t in _heatmaps(fig):
        for i, row in enumerate(t.text or ()):
            for j, words in enumerate(row):
                if words:
                    assert (i, j) not in out, "a cell's text is drawn twice"
                    out[(i, j)] = (words, t.textfont.color)
    return out


def _hover(fig, i: int, j: int) -> str | None:
    """The hover plotly shows for a cell of the first trace, the template filled in as plotly.js fills it."""
    main = _heatmaps(fig)[0]
    if _at(main.z, i, j) is None:
        return None
    value, level = main.customdata[i][j]
    return (HOVER.replace("%{y}", main.y[i]).replace("%{x}", main.x[j]).replace("%{customdata[0]}", value)
            .replace("%{customdata[1]}", level).replace("<extra></extra>", ""))


def test_every_cell_keeps_its_value_shape_colour_and_level_words(grid_df: pd.DataFrame) -> None:
    fig = grid_figure(grid_df)
    main, *others = _heatmaps(fig)
    rows, measures = list(main.y), list(main.x)
    drawn = _drawn(fig)
    first = grid_df.drop_duplicates(["urn", "measure"])
    assert len(drawn) == len(first)  # every cell, and only they, has words
    for r in first.itertuples(index=False):
        level = as_level(r.level)
        i, j = rows.index(plotly_text(r.school)), measures.index(plotly_text(r.measure))
        assert main.z[i][j] == CODES[level] and _colour_of(main.z[i][j]) == LEVEL_COLOURS[level]
        words, colour = drawn[(i, j)]
        assert words == f"{plotly_text(r.display)} {level_symbol(level)}"  # "45.1 ▲": colour is never alone
        assert colour == level_text_colour(level)  # black or white, for contrast
        assert list(main.customdata[i][j]) == [plotly_text(r.display),
                                                f"{plotly_text(r.level_label)} {level_symbol(level)}"]
    i, j = rows.index("Elm School"), measures.index("Disadvantaged")
    assert _at(main.z, i, j) is None and (i, j) not in drawn and _hover(fig, i, j) is None  # blank, no hover
    assert main.hoverongaps is False and main.showscale is False
    # a second trace only for the other text colour, with no hover and no second copy of the names
    assert [t.textfont.color for t in others] == ["#FFFFFF"]
    assert all(t.hoverinfo == "skip" and t.x is None and t.y is None for t in others)


def test_no_arrays_of_empty_cells_are_sent(grid_df: pd.DataFrame) -> None:
    spec = json.loads(pio.to_json(grid_figure(grid_df), validate=False))
    heatmaps = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == 2
    for t in heatmaps:
        for row in t["text"]:
            assert not row or row[-1] != ""  # no trailing padding
    assert "null" not in json.dumps([t["text"] for t in heatmaps])  # plotly would write "null" in the cell


def test_same_grid_as_the_per_level_figure(grid_df: pd.DataFrame) -> None:
    """Rows, columns, ticks, height, legend, alt text, cell words and hover: as level_grid has them."""
    new, old = grid_figure(grid_df), level_grid(grid_df)
    assert list(new.data[0].y) == list(old.layout.yaxis.categoryarray)
    assert list(new.data[0].x) == list(old.layout.xaxis.categoryarray)
    for axis in ("xaxis", "yaxis"):
        a, b = new.layout[axis], old.layout[axis]
        assert list(a.ticktext) == list(b.ticktext)
        assert [list(b.categoryarray)[k] for k in a.tickvals] == list(b.tickvals)  # positions of the same ticks
        assert (a.side, a.autorange, a.type, a.fixedrange) == (b.side, b.autorange, b.type, b.fixedrange)
    assert new.layout.height == old.layout.height and new.layout.margin == old.layout.margin
    assert new.layout.meta == old.layout.meta and new.layout.legend == old.layout.legend
    legend = [(t.name, t.marker.color) for t in new.data if t.showlegend]
    assert legend == [(t.name, t.marker.color) for t in old.data if t.showlegend]
    assert [n for n, _ in legend] == [f"{level_symbol(k)} {n.split(' ', 1)[1]}" for k, (n, _) in
                                      zip(LEVEL_ORDER, legend, strict=True)]
    assert any(LEVEL_WORDS[k] in n for k, (n, _) in zip(LEVEL_ORDER[:5], legend, strict=False))
    drawn = _drawn(new)
    for t in _heatmaps(old):
        for i, row in enumerate(t.text):
            for j, words in enumerate(row):
                if words:
                    assert drawn[(i, j)] == (words, t.textfont.color)
                    assert _hover(new, i, j) == t.hovertext[i][j]
    assert grid_figure(grid_df, height=333).layout.height == 333
    assert grid_figure(grid_df).to_json() == grid_figure(grid_df.copy()).to_json()  # deterministic


def test_same_named_schools_and_empty_grid() -> None:
    df = pd.DataFrame({"school": ["St Mary's", "St Mary's"], "urn": [1, 2], "measure": ["P8", "P8"],
                       "level": [1, 5], "level_label": ["Cause for concern", "Strong"], "display": ["1", "2"]})
    fig = grid_figure(df)
    assert list(fig.data[0].y) == ["St Mary's (1)", "St Mary's (2)"]
    assert _drawn(fig) == {(0, 0): ("1 ▼▼", "#000000"), (1, 0): ("2 ▲▲", "#FFFFFF")}
    empty = grid_figure(pd.DataFrame(columns=["school", "urn", "measure", "level", "level_label", "display"]))
    assert len(empty.data) == 0 and empty.layout.meta["description"] == "No values for this selection"


def _frame(schools: int, measures: int, *, phased: bool = False, seed: int = 14) -> pd.DataFrame:
    """A grid with names, values and level words as long as real ones: every school has every measure, or
    (`phased`) as in a partnership of primaries and secondaries: the first two measures (absence) for all, the next
    three (GCSE) for the fifth that are secondaries, the rest (KS2) for the primaries."""
    rng = np.random.default_rng(seed)
    words = {1: "Cause for concern", 2: "Needs attention", 3: "Steady", 4: "Good", 5: "Strong", None: "No data"}
    data = []
    for s in range(schools):
        name = f"Teaselton Rise Church of England Academy {s}"  # 40+ characters, as many names are
        secondary = s % 5 == 0
        for m in range(measures):
            if phased and m >= 2 and (m < 5) != secondary:
                continue
            level = [1, 2, 3, 4, 5, None][int(rng.integers(0, 6))]
            label = words[level] + (" (this year only: no earlier year to compare)" if rng.random() < 0.05 else "")
            data.append({"school": name, "urn": 100000 + s, "measure": f"Grade 5+ in English and maths {m}",
                         "level": level, "level_label": label, "display": f"{rng.uniform(0, 100):.1f}%"})
    return pd.DataFrame(data)


@pytest.mark.parametrize(("schools", "measures", "phased", "bound"),
                         [(10, 10, False, 30 * KB), (500, 6, True, 150 * KB)])
def test_grid_json_is_small(schools: int, measures: int, phased: bool, bound: int) -> None:
    """The bytes st.plotly_chart sends (its spec is plotly's JSON of the figure): 10 schools with ten measures each
    under 30 KB; a 500-school partnership's grid of the overview's six usual measures under 150 KB."""
    df = _frame(schools, measures, phased=phased)
    light = len(pio.to_json(grid_figure(df), validate=False).encode())
    assert light <= bound
    assert len(pio.to_json(level_grid(df), validate=False).encode()) > 3 * light


def test_a_full_grid_is_a_fifth_of_the_per_level_figure() -> None:
    """Every one of 500 schools with every one of ten measures: the light grid is under a fifth of the bytes."""
    df = _frame(500, 10)
    light = len(pio.to_json(grid_figure(df), validate=False).encode())
    assert light * 5 < len(pio.to_json(level_grid(df), validate=False).encode())


def test_a_shared_figure_sends_what_the_figure_sends(grid_df: pd.DataFrame) -> None:
    """ui.cached.shared_figure makes the dict st.plotly_chart asks for once: the same JSON, every time, unchanged."""
    from ui.cached import shared_figure

    fig = shared_figure(grid_figure(grid_df))
    first = pio.to_json(fig.to_dict(), validate=False)
    assert first == pio.to_json(grid_figure(grid_df), validate=False)
    assert pio.to_json(fig.to_dict(), validate=False) == first and fig.to_dict() is fig.to_dict()
