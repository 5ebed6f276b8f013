"""Chart builders: real figures and decks from small hand-made frames, checked for structure, words and colours."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from charts import alt
from charts.funnel import STYLE, funnel_limits, funnel_plot
from charts.grid import level_grid
from charts.limits import ABOVE_95, ABOVE_998, BELOW_95, BELOW_998, WITHIN, Z95, Z998
from charts.maps import RECORD_KEYS, map_legend, schools_map
from charts.network import support_matrix, support_network
from charts.palette import (
    LEVEL_COLOURS,
    LEVEL_WORDS,
    as_level,
    contrast_ratio,
    hex_to_rgb,
    level_symbol,
    level_text_colour,
)
from charts.scatter import context_scatter
from charts.trend import sparkline, trend_chart
from metrics.scorecard import INSUFFICIENT, LEVELS

REPO = Path(__file__).resolve().parents[2]
LEVEL_KEYS = [1, 2, 3, 4, 5, None]
PERIODS = ["2020/21", "2021/22", "2022/23", "2023/24", "2024/25"]


# ------------------------------------------------------------------------------------------ palette


def _linear(colour: str) -> np.ndarray:
    c = np.array(hex_to_rgb(colour)) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) from linear sRGB."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(
        linear_rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def test_palette_has_six_distinct_colours_words_and_symbols() -> None:
    assert list(LEVEL_COLOURS) == LEVEL_KEYS
    assert len(set(LEVEL_COLOURS.values())) == 6
    assert LEVEL_WORDS == {1: "Cause for concern", 2: "Needs attention", 3: "Steady", 4: "Good", 5: "Strong",
                           None: "Insufficient data"}
    assert [LEVEL_WORDS[k] for k in (1, 2, 3, 4, 5)] == list(LEVELS) and LEVEL_WORDS[None] == INSUFFICIENT
    assert [level_symbol(k) for k in LEVEL_KEYS] == ["▼▼", "▼", "●", "▲", "▲▲", "○"]


@pytest.mark.parametrize("raw, level", [(3, 3), (3.0, 3), (np.int64(5), 5), (np.float64(1.0), 1), (None, None),
                                        (float("nan"), None), (pd.NA, None), (0, None), (6, None), (2.5, None),
                                        ("x", None), (True, None)])
def test_levels_are_read_from_any_scalar(raw: object, level: int | None) -> None:
    assert as_level(raw) == level
    assert level_symbol(raw) == level_symbol(level)


def test_contrast_ratio_by_hand() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the classic near miss


@pytest.mark.parametrize("level", LEVEL_KEYS)
def test_text_on_every_level_colour_meets_wcag_aa(level: int | None) -> None:
    text = level_text_colour(level)
    assert text in ("#000000", "#FFFFFF")
    assert contrast_ratio(text, LEVEL_COLOURS[level]) >= 4.5


def test_level_text_colours_and_ratios() -> None:
    ratios = {k: round(contrast_ratio(level_text_colour(k), LEVEL_COLOURS[k]), 2) for k in LEVEL_KEYS}
    assert [level_text_colour(k) for k in LEVEL_KEYS] == ["#000000"] * 4 + ["#FFFFFF", "#000000"]
    assert ratios == {1: 5.43, 2: 9.32, 3: 16.67, 4: 9.1, 5: 5.19, None: 7.37}


def test_lightness_rises_to_steady_from_both_ends() -> None:
    """The documented order: a diverging scheme, lightest at 'Steady', darker towards both ends."""
    light = {k: _lab(_linear(LEVEL_COLOURS[k]))[0] for k in LEVEL_KEYS}
    assert light[1] < light[2] < light[3] > light[4] > light[5]
    assert light[None] < light[3]  # "no level" is never mistaken for "Steady"


@pytest.mark.parametrize("deficiency", sorted(CVD))
def test_colours_stay_apart_for_colour_blind_readers(deficiency: str) -> None:
    m = np.array(CVD[deficiency])
    lab = {k: _lab(m @ _linear(c)) for k, c in LEVEL_COLOURS.items()}
    gaps = [float(np.linalg.norm(lab[a] - lab[b])) for a, b in itertools.combinations(LEVEL_KEYS, 2)]
    assert min(gaps) >= 15  # ΔE*ab: clearly different, not just noticeably


# ------------------------------------------------------------------------------------------ grid

LONG = "Pupils achieving grade 5 or above in English and mathematics GCSEs"


@pytest.fixture
def grid_df() -> pd.DataFrame:
    rows = [
        ("Oak Academy", 100001, "Progress 8", 1, "Cause for concern", "-0.61"),
        ("Oak Academy", 100001, LONG, 2, "Needs attention", "38.0%"),
        ("Oak Academy", 100001, "Disadvantaged", None, "Context (not judged)", "31.2%"),
        ("Ash School", 100002, "Progress 8", 5, "Strong", "+0.72"),
        ("Ash School", 100002, LONG, float("nan"), "Insufficient data", "–"),
        ("Ash School", 100002, "Disadvantaged", None, "Context (not judged)", "12.0%"),
        ("Elm School", 100003, "Progress 8", 3, "Steady", "0.01"),
        ("Elm School", 100003, LONG, 4, "Good", "61.5%"),
        # Elm has no "Disadvantaged" row: its cell stays blank
        ("Oak Academy", 100001, "Progress 8", 5, "Strong", "9.99"),  # a repeat: the first row wins
    ]
    return pd.DataFrame(rows, columns=["school", "urn", "measure", "level", "level_label", "display"])


def _cell(fig, row: str, measure: str) -> list[tuple[object, str, str, str]]:
    """(trace, colour, text, hover) of every heatmap trace that fills this cell."""
    out = []
    for t in fig.data:
        if t.type != "heatmap":
            continue
        i, j = list(t.y).index(row), list(t.x).index(measure)
        z = t.z[i][j]
        if z is not None and not (isinstance(z, float) and math.isnan(z)):
            out.append((t, t.colorscale[0][1], t.text[i][j], t.hovertext[i][j]))
    return out


def test_grid_cells_are_coloured_by_level_and_say_value_and_shape(grid_df: pd.DataFrame) -> None:
    fig = level_grid(grid_df)
    first = grid_df.drop_duplicates(["urn", "measure"])
    for r in first.itertuples(index=False):
        (trace, colour, text, hover), = _cell(fig, r.school, r.measure)
        level = as_level(r.level)
        assert colour == LEVEL_COLOURS[level] and trace.colorscale[-1][1] == LEVEL_COLOURS[level]
        assert trace.name == LEVEL_WORDS[level]
        assert text == f"{r.display} {level_symbol(level)}"
        assert trace.textfont.color == level_text_colour(level)
        assert hover == (f"<b>{r.school}</b><br>{r.measure}<br>Value: {r.display}<br>"
                         f"Level: {r.level_label} {level_symbol(level)}")
    assert _cell(fig, "Elm School", "Disadvantaged") == []
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert [t.name for t in heatmaps] == [LEVEL_WORDS[k] for k in LEVEL_KEYS]  # all six present, worst first
    assert all(t.showscale is False and t.hoverongaps is False for t in heatmaps)


def test_grid_rows_columns_and_labels(grid_df: pd.DataFrame) -> None:
    fig = level_grid(grid_df)
    assert list(fig.layout.yaxis.categoryarray) == ["Oak Academy", "Ash School", "Elm School"]
    assert list(fig.layout.xaxis.categoryarray) == ["Progress 8", LONG, "Disadvantaged"]
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.xaxis.side == "top"
    long_tick = fig.layout.xaxis.ticktext[1]
    assert long_tick.count("<br>") == 2 and long_tick.endswith("…")
    assert all(len(line) <= 18 for line in long_tick.split("<br>"))
    assert fig.layout.meta["description"].startswith("Grid of 3 schools by 3 measures")


def test_grid_legend_lists_every_level_with_words_and_shape(grid_df: pd.DataFrame) -> None:
    fig = level_grid(grid_df)
    legend = [t for t in fig.data if t.showlegend]
    assert [t.marker.color for t in legend] == [LEVEL_COLOURS[k] for k in LEVEL_KEYS]
    for k, t in zip(LEVEL_KEYS[:5], legend, strict=False):
        assert t.name == f"{level_symbol(k)} {LEVEL_WORDS[k]}"
    # some cells have no level because they are context, not for want of data: the legend says so
    assert legend[-1].name.startswith("○ No level")
    only_levels = level_grid(grid_df[grid_df["level"].notna()])
    assert [t.name for t in only_levels.data if t.showlegend][-1] == "○ Insufficient data"


def test_grid_height_follows_rows_unless_given(grid_df: pd.DataFrame) -> None:
    many = pd.concat([grid_df.assign(school=f"School {i}", urn=200000 + i) for i in range(20)])
    assert level_grid(many).layout.height > level_grid(grid_df).layout.height >= 200
    assert level_grid(grid_df, height=333).layout.height == 333


def test_grid_tells_apart_schools_with_the_same_name() -> None:
    df = pd.DataFrame({"school": ["St Mary's", "St Mary's"], "urn": [1, 2], "measure": ["P8", "P8"],
                       "level": [1, 2], "level_label": ["Cause for concern", "Needs attention"],
                       "display": ["1", "2"]})
    assert list(level_grid(df).layout.yaxis.categoryarray) == ["St Mary's (1)", "St Mary's (2)"]


def test_empty_grid_says_so() -> None:
    empty = pd.DataFrame(columns=["school", "urn", "measure", "level", "level_label", "display"])
    fig = level_grid(empty)
    assert len(fig.data) == 0
    assert [a.text for a in fig.layout.annotations] == ["No values for this selection"]
    assert fig.layout.meta["description"] == "No values for this selection"


def test_figures_are_deterministic(grid_df: pd.DataFrame) -> None:
    assert level_grid(grid_df).to_json() == level_grid(grid_df.copy()).to_json()
    edges, nodes = _ledger()
    assert support_network(edges, nodes).to_json() == support_network(edges.iloc[::-1], nodes.iloc[::-1]).to_json()


# ------------------------------------------------------------------------------------------ trend


def test_sparkline_keeps_gaps_and_draws_national_dashed() -> None:
    fig = sparkline(PERIODS, [45.1, None, 46.0, float("nan"), 47.25], national=[46, 46, None, 46.5, 46.5],
                    unit="%", height=90)
    national, value = fig.data
    assert list(value.y) == [45.1, None, 46.0, None, 47.25]
    assert value.connectgaps is False and value.mode == "lines+markers"
    assert list(value.customdata) == ["45.10%", "no value", "46.00%", "no value", "47.25%"]
    assert national.line.dash == "dash" and list(national.y) == [46, 46, None, 46.5, 46.5]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.layout.height == 90 and fig.layout.showlegend is False
    lo, hi = fig.layout.yaxis.range
    assert lo < 45.1 and hi > 47.25


def test_trend_chart_tells_series_apart_without_colour() -> None:
    series = {"Oak Academy": [45.1, 46.0, None, 47.2, 48.0], "Family median": [44, 44.5, 45, 45.2, 45.1],
              "National": [46.0, 46.2, 46.1, 46.4, 46.3]}
    fig = trend_chart(PERIODS, series, unit="score", title="Attainment 8")
    assert [t.name for t in fig.data] == list(series)
    for attr in (lambda t: t.line.dash, lambda t: t.marker.symbol, lambda t: t.line.color):
        assert len({attr(t) for t in fig.data}) == 3
    assert list(fig.data[0].y) == [45.1, 46.0, None, 47.2, 48.0]
    assert fig.layout.title.text == "Attainment 8"
    assert "Oak Academy from 2020/21 to 2024/25: 45.1, 46.0, no value, 47.2, 48.0; rising." in \
        fig.layout.meta["description"]


# ------------------------------------------------------------------------------------------ funnel


def test_funnel_limits_by_hand() -> None:
    lo, hi = funnel_limits(60.0, np.array([100.0]), "rate", 100.0, None, 1.96)
    # 60 ± 1.96·sqrt(0.6·0.4/100)·100 = 60 ± 9.6017
    assert lo[0] == pytest.approx(50.3983, abs=1e-3) and hi[0] == pytest.approx(69.6017, abs=1e-3)
    lo, hi = funnel_limits(60.0, np.array([100.0, 400.0]), "rate", 100.0, None, Z95)
    assert lo == pytest.approx([50.40, 55.20], abs=0.01) and hi == pytest.approx([69.60, 64.80], abs=0.01)
    lo, hi = funnel_limits(0.0, np.array([25.0]), "mean", 1.0, 1.0, 2.0)  # 0 ± 2·1/5
    assert (lo[0], hi[0]) == pytest.approx((-0.4, 0.4))
    lo, hi = funnel_limits(0.6, np.array([1000.0]), "rate", 1.0, None, Z998)  # a proportion on a 0..1 scale
    assert hi[0] == pytest.approx(0.6 + Z998 * math.sqrt(0.00024)) == pytest.approx(0.6479, abs=1e-4)
    lo, hi = funnel_limits(2.0, np.array([10.0, 0.0]), "rate", 100.0, None, Z998)  # kept within 0..100
    assert lo[0] == 0.0 and math.isnan(lo[1]) and math.isnan(hi[1])


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "median"}, "kind"), ({"kind": "mean"}, "sd"), ({"kind": "rate", "national": 160.0}, "within")])
def test_funnel_limits_refuse_what_they_cannot_draw(kwargs: dict, message: str) -> None:
    args = {"national": 60.0, "cohorts": np.array([10.0]), "scale": 100.0, "sd": None, "z": Z95, **kwargs}
    with pytest.raises(ValueError, match=message):
        funnel_limits(**args)


@pytest.fixture
def funnel_df() -> pd.DataFrame:
    # national 60%, n = 100: 95% limits 50.40..69.60, 99.8% limits 44.86..75.14
    return pd.DataFrame({
        "urn": [1, 2, 3, 4, 5, 6, 7, 8],
        "name": ["High", "Above", "Middle", "Below", "Low", "Mine", "No value", "No pupils"],
        "value": [80.0, 72.0, 61.0, 48.0, 40.0, 58.0, None, 50.0],
        "cohort": [100, 100, 100, 100, 100, 100, 100, 0],
    })


def test_funnel_outliers_get_their_own_symbols(funnel_df: pd.DataFrame) -> None:
    fig = funnel_plot(funnel_df, national=60.0, kind="rate", highlight=6, title="Grade 5+ English and maths")
    points = {t.name: t for t in fig.data if t.mode == "markers"}
    assert set(points) == {WITHIN, ABOVE_95, ABOVE_998, BELOW_95, BELOW_998}
    expect = {ABOVE_998: "High", ABOVE_95: "Above", WITHIN: "Middle", BELOW_95: "Below", BELOW_998: "Low"}
    for status, name in expect.items():
        t = points[status]
        assert [c[0] for c in t.customdata] == [name]
        assert t.marker.symbol == STYLE[status][0]
    assert len({t.marker.symbol for t in points.values()}) == 5
    star, = (t for t in fig.data if t.mode == "markers+text")
    assert star.marker.symbol == "star" and list(star.text) == ["Mine"] and star.name == "Mine (within limits)"
    shown = sum(len(t.x) for t in fig.data if t.mode in ("markers", "markers+text"))
    assert shown == 6  # no value and no pupils are left out


def test_funnel_draws_both_limits_around_national(funnel_df: pd.DataFrame) -> None:
    fig = funnel_plot(funnel_df, national=60.0, kind="rate")
    lines = [t for t in fig.data if t.mode == "lines"]
    assert sorted({t.name for t in lines}) == ["95% limits", "99.8% limits", "National 60%"]
    upper95 = next(t for t in lines if t.name == "95% limits")
    x, y = np.array(upper95.x), np.array(upper95.y)
    assert np.all(np.diff(y) < 0)  # the funnel narrows as cohorts grow
    assert np.interp(100, x, y) == pytest.approx(69.60, abs=0.05)
    assert {t.line.dash for t in lines if t.name != "National 60%"} == {"dash", "dot"}
    desc = fig.layout.meta["description"]
    assert "6 schools" in desc and "2 above the 95% limit (1 of them above 99.8%)" in desc
    assert "2 below the 95% limit (1 of them below 99.8%), 2 within the limits" in desc


def test_funnel_of_means_and_empty_funnel() -> None:
    df = pd.DataFrame({"urn": [1, 2], "name": ["a", "b"], "value": [0.9, -0.1], "cohort": [25, 25]})
    fig = funnel_plot(df, national=0.0, kind="mean", sd=1.0)  # limits ±0.39 and ±0.62 at n = 25
    assert {t.name for t in fig.data if t.mode == "markers"} == {ABOVE_998, WITHIN}
    empty = funnel_plot(df.iloc[0:0], national=0.0, kind="mean", sd=1.0)
    assert [a.text for a in empty.layout.annotations] == ["No values for this selection"]


# ------------------------------------------------------------------------------------------ scatter


def test_context_scatter_highlight_groups_and_fit() -> None:
    df = pd.DataFrame({"urn": [1, 2, 3, 4, 5], "name": ["A", "B", "C", "D", "E"],
                       "x": [10.0, 20.0, 30.0, 40.0, None], "y": [50.0, 48.0, 45.0, 41.0, 30.0],
                       "group": ["family", "other", "family", "other", "family"]})
    fig = context_scatter(df, x_label="% disadvantaged", y_label="Attainment 8", highlight=3, fit=(52.0, -0.25))
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["Family of similar schools"].x) == [10.0]
    assert list(by_name["Other schools"].x) == [20.0, 40.0]
    star = by_name["C"]
    assert star.marker.symbol == "star" and list(star.text) == ["C"]
    line = next(t for t in fig.data if t.mode == "lines")
    assert list(line.x) == [10.0, 40.0] and list(line.y) == [49.5, 42.0]
    assert fig.layout.xaxis.title.text == "% disadvantaged" and fig.layout.yaxis.title.text == "Attainment 8"
    assert "Scatter of 4 schools" in fig.layout.meta["description"]


# ------------------------------------------------------------------------------------------ network


def _ledger() -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.DataFrame({"urn": [4, 1, 2, 3], "name": ["Dale", "Oak", "Ash", "Elm"],
                          "given": [5.0, 40.0, 12.0, 5.0], "received": [0.0, 12.0, 45.0, 5.0]})
    edges = pd.DataFrame({"giver": [1, 2, 3, 4, 1, 3], "taker": [2, 1, 2, 3, 2, 3],
                          "hours": [30.0, 12.0, 5.0, 5.0, 10.0, 99.0]})  # 1→2 twice; 3→3 is no support
    return edges, nodes


def test_network_nodes_say_their_balance_in_shape_colour_and_words() -> None:
    edges, nodes = _ledger()
    fig = support_network(edges, nodes)
    node_traces = {t.name.split(" (")[0]: t for t in fig.data if t.mode == "markers+text"}
    assert set(node_traces) == {"▲ net giver", "▼ net taker", "● balanced"}
    giver, taker, balanced = node_traces["▲ net giver"], node_traces["▼ net taker"], node_traces["● balanced"]
    assert (giver.marker.symbol, giver.marker.color) == ("triangle-up", LEVEL_COLOURS[5])
    assert (taker.marker.symbol, taker.marker.color) == ("triangle-down", LEVEL_COLOURS[1])
    assert (balanced.marker.symbol, balanced.marker.color) == ("circle", LEVEL_COLOURS[None])
    assert [list(c) for c in giver.customdata] == [["Oak", "net giver: gave 40 h, received 12 h"],
                                                    ["Dale", "net giver: gave 5 h, received 0 h"]]
    assert [list(c) for c in taker.customdata] == [["Ash", "net taker: gave 12 h, received 45 h"]]
    assert [list(c) for c in balanced.customdata] == [["Elm", "balanced: gave 5 h, received 5 h"]]
    # the busiest school (Ash, 57 h) is the largest marker; size grows with total hours
    sizes = dict(zip([c[0] for t in node_traces.values() for c in t.customdata],
                     [s for t in node_traces.values() for s in t.marker.size], strict=True))
    assert sizes["Ash"] == 40 and sizes["Ash"] > sizes["Oak"] > sizes["Elm"] > sizes["Dale"]
    assert all(t.marker.opacity == 1 for t in node_traces.values())
    # urn order round the circle, the first at the top
    assert (giver.x[0], giver.y[0]) == pytest.approx((0.0, 1.0))


def test_network_shows_direction_and_hours() -> None:
    edges, nodes = _ledger()
    fig = support_network(edges, nodes)
    pos = {}
    for t in fig.data:
        if t.mode == "markers+text":
            for (name, _), x, y in zip(t.customdata, t.x, t.y, strict=True):
                pos[name] = np.array([x, y])
    heads = next(t for t in fig.data if t.mode == "markers" and t.marker.symbol == "triangle-up")
    assert list(heads.hovertext) == ["Oak → Ash: 40 h", "Ash → Oak: 12 h", "Elm → Ash: 5 h", "Dale → Elm: 5 h"]
    for text, x, y, angle in zip(heads.hovertext, heads.x, heads.y, heads.marker.angle, strict=True):
        giver, taker = text.split(":")[0].split(" → ")
        at = np.array([x, y])
        assert np.linalg.norm(at - pos[taker]) < np.linalg.norm(at - pos[giver])
        pointing = np.array([math.sin(math.radians(angle)), math.cos(math.radians(angle))])
        towards = (pos[taker] - pos[giver]) / np.linalg.norm(pos[taker] - pos[giver])
        assert float(pointing @ towards) == pytest.approx(1.0)
    widths = sorted(t.line.width for t in fig.data if t.mode == "lines")
    assert widths[0] == 1.0 + 8 * 5 / 40 and widths[-1] == 9.0  # 5 h and 40 h, in proportion
    assert "Largest link: Oak to Ash, 40 h." in fig.layout.meta["description"]


def test_support_matrix_sums_and_cells() -> None:
    edges, nodes = _ledger()
    fig = support_matrix(edges, nodes)
    hm = fig.data[0]
    assert list(hm.y) == ["Oak", "Ash", "Elm", "Dale"] == list(hm.x)  # urn order: givers down, takers across
    z = np.array(hm.z, dtype=float)
    assert np.nansum(z) == 30 + 10 + 12 + 5 + 5  # self-support left out
    assert z[0, 1] == 40 and hm.text[0][1] == "40" and hm.text[1][0] == "12" and hm.text[0][0] == ""
    assert np.nansum(z, axis=1).tolist() == [40, 12, 5, 5]  # hours given, by giver
    assert hm.hovertext[3][2] == "Dale → Elm: 5 h"


def test_network_without_support_says_so() -> None:
    none = pd.DataFrame(columns=["giver", "taker", "hours"])
    no_nodes = pd.DataFrame(columns=["urn", "name", "given", "received"])
    assert [a.text for a in support_network(none, no_nodes).layout.annotations] == [
        "No support recorded for this selection"]
    assert len(support_matrix(none, no_nodes).data) == 0
    assert alt.network_alt(no_nodes, none) == "No support recorded for this selection."


# ------------------------------------------------------------------------------------------ map


@pytest.fixture
def map_df() -> pd.DataFrame:
    return pd.DataFrame({
        "urn": [3, 1, 2, 4], "name": ["Elm", "Oak", "Ash", "Nowhere"],
        "latitude": [54.0, 53.9, 54.1, None], "longitude": [-1.6, -1.4, -1.5, -1.5],
        "level": [5, 1, np.nan, 3], "level_label": ["Strong", "Cause for concern", "Insufficient data", "Steady"],
        "display": ["+0.6", "-0.7", "–", "0.0"], "phase": ["secondary"] * 4, "pupils": [900, 800, 700, 600],
    })


def test_map_layer_is_lean_and_coloured_by_level(map_df: pd.DataFrame) -> None:
    deck = schools_map(map_df, measure_label="Progress 8")
    layer, = deck.layers
    assert layer.type == "ScatterplotLayer"
    assert [r["urn"] for r in layer.data] == [1, 2, 3]  # Nowhere has no coordinates
    assert all(set(r) == set(RECORD_KEYS) for r in layer.data)
    assert [r["fill"] for r in layer.data] == [hex_to_rgb(LEVEL_COLOURS[k]) for k in (1, None, 5)]
    spec = json.loads(deck.to_json())
    spec_layer = spec["layers"][0]
    assert spec_layer["radiusUnits"] == "pixels" and spec_layer["radiusMinPixels"] > 0
    assert spec_layer["getLineColor"] == [255, 255, 255] and spec_layer["stroked"] is True
    assert "mapbox" not in json.dumps(spec) and spec["mapProvider"] == "carto"
    # Streamlit reads the tooltip from Deck._tooltip (it is not part of to_json)
    assert deck._tooltip == {"text": "{name}\nProgress 8: {display} ({level_label})"}
    view = spec["initialViewState"]
    assert (view["latitude"], view["longitude"]) == pytest.approx((54.0, -1.5))
    assert 5 <= view["zoom"] <= 12


def test_map_view_zoom_is_clamped() -> None:
    one = pd.DataFrame({"urn": [1], "name": ["a"], "latitude": [52.0], "longitude": [-1.0], "level": [2],
                        "level_label": ["Needs attention"], "display": ["1"]})
    assert json.loads(schools_map(one, measure_label="x").to_json())["initialViewState"]["zoom"] == 12
    england = pd.DataFrame({"urn": [1, 2], "name": ["a", "b"], "latitude": [49.9, 60.8], "longitude": [-8.0, 1.8],
                            "level": [2, 3], "level_label": ["", ""], "display": ["1", "2"]})
    assert json.loads(schools_map(england, measure_label="x").to_json())["initialViewState"]["zoom"] == 5
    nowhere = schools_map(one.assign(latitude=None), measure_label="x {odd}")
    assert nowhere.layers[0].data == [] and "{odd}" not in nowhere._tooltip["text"]


def test_map_legend_lists_levels_present_in_order() -> None:
    assert map_legend([5, 1, np.nan, 1, None, 3.0]) == [
        ("#D55E00", "Cause for concern"), ("#E5E5E5", "Steady"), ("#0072B2", "Strong"),
        ("#999999", "Insufficient data")]
    assert map_legend([]) == []


# ------------------------------------------------------------------------------------------ alt text


def test_grid_alt_counts_cells_by_level(grid_df: pd.DataFrame) -> None:
    assert alt.grid_alt(grid_df) == (
        "Grid of 3 schools by 3 measures, coloured by performance level: 1 cell Cause for concern, "
        "1 cell Needs attention, 1 cell Steady, 1 cell Good, 1 cell Strong, 2 cells Context (not judged), "
        "1 cell Insufficient data. Most cells Cause for concern: Oak Academy (1).")


@pytest.mark.parametrize("values, ending", [
    ([45.1, 46.0, None, 47.2], "45.1, 46.0, no value, 47.2; rising."),
    ([47.2, None, 45.0, 45.1], "47.2, no value, 45.0, 45.1; falling."),
    ([45.0, 46.0, 45.0, None], "45, 46, 45, no value; unchanged."),
    ([None, None, 45.25, None], "no value, no value, 45.25, no value."),
])
def test_trend_alt_says_values_and_direction(values: list, ending: str) -> None:
    assert alt.trend_alt("Attainment 8", PERIODS[:4], values) == f"Attainment 8 from 2020/21 to 2023/24: {ending}"


def test_trend_alt_edges() -> None:
    assert alt.trend_alt("Absence", ["2024/25"], [5.25], "%") == "Absence in 2024/25: 5.25%."
    assert alt.trend_alt("Absence", [], []) == "Absence: no values."
    assert alt.trend_alt("Absence", PERIODS[:2], [None, None]) == "Absence from 2020/21 to 2021/22: no values."


def test_funnel_alt_names_the_highlighted_school(funnel_df: pd.DataFrame) -> None:
    text = alt.funnel_alt(funnel_df, "Grade 5+", 60.0, 6, kind="rate")
    assert text == ("Funnel plot of 6 schools: Grade 5+ against cohort size, with 95% and 99.8% limits around the "
                    "national value of 60%. 2 above the 95% limit (1 of them above 99.8%), 2 below the 95% limit "
                    "(1 of them below 99.8%), 2 within the limits. Highlighted: Mine, 58% with a cohort of 100, "
                    "within limits.")


def test_funnel_alt_without_limits_compares_with_national(funnel_df: pd.DataFrame) -> None:
    """Without the kind of funnel (or with a mean but no sd) the text counts schools either side of national."""
    expected = ("Funnel plot of 6 schools: Grade 5+ against cohort size, around the national value of 60%: "
                "3 above it, 3 below it, 0 level with it. Highlighted: Mine, 58% with a cohort of 100.")
    assert alt.funnel_alt(funnel_df, "Grade 5+", 60.0, 6) == expected
    assert alt.funnel_alt(funnel_df, "Grade 5+", 60.0, 6, kind="mean").startswith(
        "Funnel plot of 6 schools: Grade 5+ against cohort size, around the national value of 60: 3 above it")
    assert alt.funnel_alt(funnel_df, "Grade 5+").endswith("without a national value to compare with.")


def test_network_alt_names_givers_and_takers() -> None:
    edges, nodes = _ledger()
    assert alt.network_alt(nodes, edges) == (
        "Support network of 4 schools with 4 support links, 62 h in all. "
        "Net givers: Oak (gave 40 h, received 12 h) and Dale (gave 5 h, received 0 h). "
        "Net takers: Ash (gave 12 h, received 45 h). Balanced: Elm (gave 5 h, received 5 h). "
        "Largest link: Oak to Ash, 40 h.")


def test_map_alt_counts_levels_and_missing_locations(map_df: pd.DataFrame) -> None:
    assert alt.map_alt(map_df, "Progress 8") == (
        "Map of 3 schools coloured by Progress 8 level: 1 Cause for concern, 1 Strong, 1 Insufficient data. "
        "1 school without a location is not shown.")
    assert alt.map_alt(map_df.iloc[0:0], "Progress 8") == "No values for this selection."


# ------------------------------------------------------------------------------------------ layering


def test_importing_charts_loads_neither_streamlit_nor_duckdb() -> None:
    modules = ["charts", "charts.palette", "charts.grid", "charts.trend", "charts.funnel", "charts.scatter",
               "charts.network", "charts.maps", "charts.alt"]
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'duckdb', 'data'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
