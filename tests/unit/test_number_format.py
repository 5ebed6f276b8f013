"""One number format per measure (issue 12 point 5): for every national measure, the school table, the overview
grid, the chart's hover and words, the PDF table, the CSV and the workbook write the same value the same way, the
way the measure declares (Measure.number)."""

from __future__ import annotations

import csv
import io

import pytest

from charts.alt import funnel_alt, trend_alt
from charts.funnel import funnel_kind, funnel_plot
from charts.trend import sparkline, trend_chart
from data.outputs.reports import board_pdf, excel_format, latin1, scorecard_csv
from metrics.numbers import NumberFormat
from metrics.registry import Measure, load_registry
from metrics.scorecard import Scorecard, ScorecardRow, Subject, TrendPoint
from metrics.text import plotly_text
from ui.frames import grid_frame, school_table

REG = load_registry()
ASH, BEECH, CEDAR = 100001, 100002, 100003
PERIODS = ("2022/23", "2023/24")
# a large value with many decimals, one that rounds to zero from below, and an ordinary one
VALUES = (1234.5678, -0.004, 45.15)


def _row(m: Measure, value: float) -> ScorecardRow:
    return ScorecardRow(
        measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
        period=PERIODS[-1], value=value, display=m.format_value(value), cohort=120.0, numerator=None,
        denominator=None, status="ok", status_code=None, ci_low=None, ci_high=None, uncertainty=None,
        national=value, national_scope="national", percentile=None, family_median=None, family_rank=None,
        family_size=None, expected=None, residual=None,
        trend=tuple(TrendPoint(p, value, "ok") for p in PERIODS), change=None, level=3, level_label="Average",
        significance=None, flag=False, flag_reasons=(), target=value, target_met=True, rollup_method="pooled",
        schools_reporting=3, schools_total=3, member_values=((ASH, value, "ok"), (BEECH, value, "ok")))


def _card(rows: list[ScorecardRow]) -> Scorecard:
    return Scorecard(subject=Subject("group", 7, "Riverside Partnership", None, (ASH, BEECH), "partnership"),
                     period=PERIODS[-1], rows=tuple(rows), method="pooled",
                     members=((ASH, "Ash Primary"), (BEECH, "Beech Academy")),
                     member_levels={(u, r.measure): 3 for r in rows for u in (ASH, BEECH)})


@pytest.mark.parametrize("value", VALUES)
def test_every_output_writes_a_national_measures_value_in_its_own_format(value: float) -> None:
    # issue 12 point 4: the grid wrote 45% where the table wrote 45.1%; the charts chose their own decimals
    rows = [_row(m, value) for m in REG.measures]
    card = _card(rows)
    table = school_table(rows, REG, {m.id: value for m in REG.measures})
    grid = grid_frame(card, registry=REG).set_index(["measure_id", "urn"])["display"]
    csv_rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(scorecard_csv(card, REG).decode("utf-8-sig")))}
    pdf = board_pdf(card, REG, compress=False).decode("latin-1")
    for m, (_, shown) in zip(REG.measures, table.iterrows(), strict=True):
        words = m.format_value(value)
        assert words == m.number.text(value)
        # the school card's table: value, national, local authority and target
        assert (shown["Value"], shown["National"], shown["Local authority"]) == (words, words, words), m.id
        assert shown["Target"] == f"{words} (met)", m.id
        # the overview grid (judged measures only: context is never in the grid)
        if m.judged:
            assert grid[(m.id, ASH)] == words and grid[(m.id, BEECH)] == words, m.id
        # the charts: the trend chart's hover and its words, the sparkline's hover, the funnel's hover and words
        fig = trend_chart(list(PERIODS), {"Ash Primary": [value, value]}, unit=m.unit, number=m.number)
        assert fig.data[0].customdata == (plotly_text(words),) * 2, m.id
        assert trend_alt(m.label, PERIODS, [value, value], m.unit, number=m.number).endswith(
            f": {words}, {words}; unchanged."), m.id
        assert sparkline(list(PERIODS), [value, value], unit=m.unit, number=m.number).data[0].customdata == \
            (plotly_text(words),) * 2, m.id
        # the CSV's display column and the workbook's number format (the numbers themselves are written in full)
        assert csv_rows[m.id]["display"] == words and float(csv_rows[m.id]["value"]) == value, m.id
        assert excel_format(m) == m.number.excel(), m.id
    # the PDF's headline table: each measure's value, national and target cells
    for m in REG.measures:
        assert pdf.count(_pdf(m.format_value(value))) >= 3, m.id


def _pdf(text: str) -> str:
    """Text as fpdf2 writes it uncompressed: Latin-1, with parentheses and backslashes escaped."""
    return latin1(text).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


@pytest.mark.parametrize("measure", ["basics_94", "attainment8", "progress8"])
def test_the_funnel_plot_writes_values_in_the_measures_format(measure: str) -> None:
    # issue 12 point 4
    import pandas as pd

    m = REG.get(measure)
    values = [41.234, 44.55, 47.449] if m.unit == "%" or m.id == "attainment8" else [-0.236, 0.004, 0.5]
    df = pd.DataFrame({"urn": [ASH, BEECH, CEDAR], "name": ["Ash", "Beech", "Cedar"], "value": values,
                       "cohort": [120, 150, 180]})
    kind, sd = funnel_kind(m.scale), m.sd or 1.0
    fig = funnel_plot(df, national=values[1], kind=kind, scale=m.scale, sd=sd, highlight=ASH, number=m.number)
    hovers = " ".join(str(t.hovertemplate) + str(t.customdata) + str(t.name) for t in fig.data)
    for v in values:
        assert plotly_text(m.format_value(v)) in hovers, (measure, v)
    words = funnel_alt(df, m.label, values[1], ASH, kind=kind, scale=m.scale, sd=sd, number=m.number)
    assert f"national value of {m.format_value(values[1])}" in words
    assert f"Highlighted: Ash, {m.format_value(values[0])}" in words


def test_the_one_format_by_hand() -> None:
    # issue 12 point 4: the cases docs/method.md ("The registry") works through
    assert NumberFormat(".1f", "%").text(45.15) == "45.1%"  # 45.15 is 45.149999… in binary
    assert NumberFormat("+.2f", "score").text(-0.004) == "+0.00"  # rounds to zero: zero, never -0.00
    assert NumberFormat(",.0f", "£").text(7579.4) == "£7,579"
    assert NumberFormat(",.0f", "£").text(-250) == "-£250"
    assert NumberFormat(".1f", "hours").text(None) == "–"
    assert NumberFormat("+.1f").excel() == "+0.0;-0.0;0.0"
    assert NumberFormat(",.0f", "£").excel() == '"£"#,##0'
