"""The time rules on hand-worked cases: academic-year arithmetic, a measure's definitions and DfE's gaps in the
registry, what may be compared, the validator's time rules, and the scorecard's change (method.md, "Time rules")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from data.ingest.formats import normalise_header
from metrics.registry import load_registry
from metrics.scorecard import Subject, _declining, build_group_scorecard, build_school_scorecard, encode_rows
from metrics.sentences import describe
from metrics.timeline import (
    TimelineError,
    comparable,
    following,
    previous,
    span,
    start_year,
    window,
    years_words,
)
from metrics.validation import validate_definitions

REG = load_registry()
NO_TABLES = ("There are no performance tables for 2019/20 and 2020/21: exams and tests were cancelled because of "
             "COVID-19, and DfE published no school results for those years.")
NO_P8 = ("There are no Progress 8 scores for 2024/25 and 2025/26: these pupils had no KS2 tests (cancelled in 2020 "
         "and 2021 because of COVID-19), so DfE has no starting point to measure their progress from.")
NO_KS2_PROGRESS = ("There are no KS2 progress scores for 2023/24 and 2024/25: these pupils had no KS1 assessments "
                   "(cancelled in 2020 and 2021 because of COVID-19), so DfE has no starting point to measure their "
                   "progress from.")
NO_EBACC = ("There are no EBacc measures from 2025/26: the government removed the English Baccalaureate from school "
            "performance measures after 2024/25.")


# ------------------------------------------------------------------------------ academic years


def test_academic_year_arithmetic() -> None:
    assert previous("2021/22") == "2020/21" and following("2099/00") == "2100/01" and previous("2000/01") == "1999/00"
    assert span("2018/19", "2021/22") == ["2018/19", "2019/20", "2020/21", "2021/22"]
    assert span("2021/22", "2018/19") == []
    assert window("2021/22", 3) == ["2019/20", "2020/21", "2021/22"]  # gap years stay, as gaps
    assert years_words("2019/20", "2020/21") == "2019/20 and 2020/21"
    assert years_words("2010/11", "2014/15") == "2010/11 to 2014/15"
    assert years_words(None, "2014/15") == "until 2014/15" and years_words("2025/26", None) == "from 2025/26"
    for bad in ("2018/20", "2018-19", "18/19", ""):
        with pytest.raises(TimelineError):
            start_year(bad)


# ------------------------------------------------------------------------------ the registry's definitions and gaps


def test_persistent_absence_has_three_definitions_and_a_file_is_read_by_its_years() -> None:
    assert [(d.id, d.start, d.end) for d in REG.get("persistent_absence").definitions] == [
        ("threshold_20", None, "2009/10"), ("threshold_15", "2010/11", "2014/15"), ("threshold_10", "2015/16", None)]
    assert REG.definition("persistent_absence", "2013/14").id == "threshold_15"
    assert REG.definition("persistent_absence", "2015/16").id == "threshold_10"
    assert REG.definition("attainment8", "2015/16") is None  # one definition throughout

    def column(period: str) -> tuple[str, ...]:
        return next(s.value for m, s in REG.for_kind("abs", period) if m.id == "persistent_absence")

    assert column("2013/14") == ("PPERSABS15",) and column("2014/15") == ("PPERSABS15",)
    assert column("2015/16") == ("PPERSABS10",) and column("2009/10") == ("PPERSABS20",)
    # the header is no longer conflated: a 15% column keeps its own name
    assert normalise_header("PPERSABS15") == "PPERSABS15" and normalise_header("ppersabs20") == "PPERSABS20"


@pytest.mark.parametrize(("measure", "period", "reason"), [
    ("progress8", "2019/20", NO_TABLES), ("progress8", "2020/21", NO_TABLES), ("attainment8", "2020/21", NO_TABLES),
    ("ks2_rwm_expected", "2019/20", NO_TABLES), ("ks2_reading_progress", "2020/21", NO_TABLES),
    ("progress8", "2024/25", NO_P8), ("progress8", "2025/26", NO_P8), ("progress8_disadvantaged", "2025/26", NO_P8),
    ("ks2_reading_progress", "2023/24", NO_KS2_PROGRESS), ("ks2_maths_progress", "2024/25", NO_KS2_PROGRESS),
    ("ebacc_entry", "2025/26", NO_EBACC), ("ebacc_aps", "2030/31", NO_EBACC), ("ebacc_94", "2025/26", NO_EBACC),
])
def test_each_dfe_gap_has_its_sentence(measure: str, period: str, reason: str) -> None:
    gap = REG.gap(measure, period)
    assert gap is not None and gap.reason == reason and gap.source


@pytest.mark.parametrize(("measure", "period"), [
    ("progress8", "2018/19"), ("progress8", "2021/22"), ("progress8", "2023/24"), ("progress8", "2026/27"),
    ("ks2_reading_progress", "2022/23"), ("ks2_reading_progress", "2025/26"), ("ks2_rwm_expected", "2023/24"),
    ("ebacc_entry", "2024/25"), ("persistent_absence", "2019/20"), ("pupils", "2020/21"),
    ("destinations_sustained", "2019/20"),
])
def test_years_outside_the_gaps_have_none(measure: str, period: str) -> None:
    assert REG.gap(measure, period) is None


# ------------------------------------------------------------------------------ comparable


@pytest.mark.parametrize(("measure", "now", "before", "ok", "why"), [
    ("attainment8", "2023/24", "2022/23", True, ""),  # the normal case
    ("attainment8", "2021/22", "2020/21", False, f"{NO_TABLES} So 2021/22 has no change to show against 2020/21."),
    ("attainment8", "2021/22", "2018/19", False, f"{NO_TABLES} So 2021/22 is not compared with 2018/19."),
    ("persistent_absence", "2015/16", "2014/15", False,
     "Persistent absence changed definition in 2015/16: pupils missing 15% or more of sessions 2010/11 to 2014/15, "
     "pupils missing 10% or more of sessions from 2015/16. So 2015/16 is not compared with 2014/15."),
    ("persistent_absence", "2016/17", "2015/16", True, ""),
    ("progress8", "2024/25", "2023/24", False, NO_P8),
    ("progress8", "2026/27", "2025/26", False, f"{NO_P8} So 2026/27 has no change to show against 2025/26."),
    ("attainment8", "2023/24", "2021/22", False,
     "2023/24 is compared only with 2022/23, the year before it, not with 2021/22."),
    ("ebacc_entry", "2025/26", "2024/25", False, NO_EBACC),
])
def test_comparable(measure: str, now: str, before: str, ok: bool, why: str) -> None:
    assert comparable(REG.get(measure), now, before) == (ok, why)


# ------------------------------------------------------------------------------ the validator's time rules

BASE = {"id": "staff_absence", "label": "Staff absence", "description": "Share of staff days lost to absence.",
        "perspective": "staff_leadership", "unit": "%", "polarity": "lower_better", "phases": ["primary"],
        "rollup": "weighted_mean", "sources": [{"kind": "swf", "value": "STAFFABS"}]}


def _issues(**fields: object) -> list[tuple[str | None, str]]:
    return [(i.field, i.message) for i in validate_definitions([{**BASE, **fields}], source="test")]


def test_good_definitions_and_gaps_have_no_issues() -> None:
    assert _issues(definitions=[{"id": "old", "label": "days", "until": "2014/15"},
                                {"id": "new", "label": "sessions", "from": "2016/17", "columns": {"swf": "STAFFABS2"}}],
                   gaps=[{"from": "2015/16", "until": "2015/16",
                          "reason": "DfE collected no staff absence in 2015/16."}]) == []


def test_overlapping_definitions_are_refused() -> None:
    assert _issues(definitions=[{"id": "old", "label": "days", "until": "2016/17"},
                                {"id": "new", "label": "sessions", "from": "2015/16"}]) == [
        ("definitions[1].from", "definitions 1 and 2 overlap: a year can have only one definition")]


def test_unknown_years_are_refused() -> None:
    assert _issues(definitions=[{"id": "old", "label": "days", "until": "2014-15"}],
                   gaps=[{"from": "2019/21", "reason": "There were no results in those pandemic years."}]) == [
        ("definitions[0].until", "definition 1 until '2014-15' is not an academic year like 2018/19"),
        ("gaps[0].from", "gap 1 from '2019/21' is not an academic year like 2018/19")]
    assert _issues(gaps=[{"from": "2021/22", "until": "2019/20", "reason": "There were no results in those years."}]
                   ) == [("gaps[0].until", "gap 1 ends in 2019/20, before it starts in 2021/22")]


def test_a_gap_without_a_sentence_is_refused() -> None:
    assert _issues(gaps=[{"from": "2019/20", "until": "2020/21"}]) == [
        ("gaps[0].reason", "gap 1 needs a reason: the sentence, in DfE's terms, that says why there is no value for "
                           "those years")]


def test_years_between_definitions_need_a_gap() -> None:
    assert _issues(definitions=[{"id": "old", "label": "days", "until": "2014/15"},
                                {"id": "new", "label": "sessions", "from": "2016/17"}]) == [
        ("definitions[1].from", "2015/16 is in no definition and no gap says why")]


def test_definition_columns_name_a_source_kind_of_the_measure() -> None:
    assert _issues(definitions=[{"id": "old", "label": "days", "columns": {"abs": "X"}}]) == [
        ("definitions[0].columns", "columns name kind 'abs', which is not one of this measure's sources")]


# ------------------------------------------------------------------------------ the scorecard's change

OBS_COLS = ["urn", "measure", "period", "value", "numerator", "denominator", "ci_low", "ci_high", "status",
            "status_code"]
STAT_COLS = ["urn", "measure", "period", "phase", "percentile"]


def _card(measure: str, periods: list[str], values: dict[str, float], pct: dict[str, float] | None = None):
    obs = pd.DataFrame([(7, measure, p, v, None, 100.0, None, None, "ok", None) for p, v in values.items()],
                       columns=OBS_COLS)
    stats = pd.DataFrame([(7, measure, p, "secondary", x) for p, x in (pct or {}).items()], columns=STAT_COLS)
    subject = Subject("school", 7, "Seven School", "secondary", (7,))
    return build_school_scorecard(subject, periods[-1], periods, [REG.get(measure)],
                                  encode_rows(obs, stats, [measure], periods), [measure], {}).rows[0]


def test_school_change_only_on_the_comparable_year_before() -> None:
    # normal: 2023/24 - 2022/23 = 48.0 - 46.5 = +1.5; percentile 55 -> 70 is a +15 move: Steady band 2 lifted to Good
    row = _card("attainment8", ["2022/23", "2023/24"], {"2022/23": 46.5, "2023/24": 48.0},
                {"2022/23": 55.0, "2023/24": 70.0})
    assert (row.change, row.change_note, row.level) == (pytest.approx(1.5), None, 5)
    assert "Up 1.5 on last year (better)." in describe(row, REG.get("attainment8"))
    # definition change: the same +15 percentile move does not count, level is the band alone (70 -> band 3 -> 4)
    row = _card("persistent_absence", ["2014/15", "2015/16"], {"2014/15": 9.0, "2015/16": 12.0},
                {"2014/15": 50.0, "2015/16": 35.0})
    assert row.change is None and row.level == 4 and row.change_note.startswith("Persistent absence changed")
    assert "on last year" not in describe(row, REG.get("persistent_absence"))


def test_trend_keeps_gap_years_as_gaps() -> None:
    periods = ["2018/19", "2019/20", "2020/21", "2021/22"]
    row = _card("progress8", periods, {"2018/19": 0.1, "2021/22": 0.3})
    assert [(t.value, t.status) for t in row.trend] == [(0.1, "ok"), (None, "not_applicable"),
                                                        (None, "not_applicable"), (0.3, "ok")]
    assert row.change is None and row.change_note == f"{NO_TABLES} So 2021/22 has no change to show against 2020/21."


def test_no_decline_across_a_definition_change() -> None:
    """Persistent absence 5.0 -> 9.0 -> 14.0 (worse each year) with its adjusted percentile 70 -> 60 -> 50 (20 points
    lost) is a decline over 2016/17-2018/19; over 2013/14-2015/16 the last step crosses the 10% definition: none."""
    pa = REG.get("persistent_absence")
    assert _declining([70.0, 60.0, 50.0], [5.0, 9.0, 14.0], pa, ["2016/17", "2017/18", "2018/19"])
    assert not _declining([70.0, 60.0, 50.0], [5.0, 9.0, 14.0], pa, ["2013/14", "2014/15", "2015/16"])
    # not consecutive years: no decline either
    assert not _declining([70.0, 60.0, 50.0], [5.0, 9.0, 14.0], pa, ["2015/16", "2017/18", "2018/19"])


def test_group_change_and_member_levels_follow_the_same_rule() -> None:
    periods = ["2014/15", "2015/16"]
    obs = pd.DataFrame([(u, "persistent_absence", p, v, None, 100.0, None, None, "ok", None)
                        for u, p, v in ((1, "2014/15", 9.0), (1, "2015/16", 12.0), (2, "2014/15", 11.0),
                                        (2, "2015/16", 14.0))], columns=OBS_COLS)
    stats = pd.DataFrame([(u, "persistent_absence", p, "secondary", x) for u, p, x in (
        (1, "2014/15", 80.0), (1, "2015/16", 40.0), (2, "2014/15", 60.0), (2, "2015/16", 60.0))], columns=STAT_COLS)
    codes = ["persistent_absence", "pupils"]
    subject = Subject("group", 3, "Two", None, (1, 2), "partnership")
    card = build_group_scorecard(subject, "2015/16", periods, [REG.get("persistent_absence")],
                                 encode_rows(obs, stats, codes, periods), codes, {}, {}, {1: "A", 2: "B"})
    row = card.rows[0]
    assert row.value == pytest.approx(13.0) and row.change is None  # (12 + 14) / 2, no change across definitions
    assert row.change_note.startswith("Persistent absence changed definition in 2015/16")
    # school 1: adjusted percentile 100 - 40 = 60 -> band 3 (level 4); the 40-point rise from 100 - 80 = 20 would
    # lift it to 5, but the years are not comparable: level 4 stands
    assert card.member_levels[(1, "persistent_absence")] == 4


# ------------------------------------------------------------------------------ charts and the card's cells


def test_trend_chart_breaks_at_a_new_definition_and_marks_dfe_gaps() -> None:
    from charts.trend import sparkline, trend_chart

    periods = ["2013/14", "2014/15", "2015/16", "2016/17"]
    fig = trend_chart(periods, {"School": [20.0, 19.0, 12.0, 11.0]}, unit="%", breaks=["2015/16"])
    assert [list(t.y) for t in fig.data] == [[20.0, 19.0, None, None], [None, None, 12.0, 11.0]]  # never joined
    assert [t.showlegend for t in fig.data] == [True, False] and {t.name for t in fig.data} == {"School"}
    assert "The line is broken before 2015/16: a new definition starts there." in fig.layout.meta["description"]

    periods = ["2018/19", "2019/20", "2020/21", "2021/22"]
    gaps = {"2019/20": NO_TABLES, "2020/21": NO_TABLES}
    fig = trend_chart(periods, {"School": [0.1, None, None, 0.3]}, unit="score", gaps=gaps)
    assert list(fig.data[0].y) == [0.1, None, None, 0.3] and fig.data[0].connectgaps is False
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(0.5, 1.5), (1.5, 2.5)]  # a band over each gap year
    assert [(a.x, a.text, a.hovertext) for a in fig.layout.annotations if a.text == "No DfE data"] == [
        ("2019/20", "No DfE data", NO_TABLES), ("2020/21", "No DfE data", NO_TABLES)]
    assert fig.layout.meta["description"].count(NO_TABLES) == 1
    small = sparkline(periods, [0.1, None, None, 0.3], gaps=gaps)
    assert len(small.layout.shapes) == 2 and NO_TABLES in small.layout.meta["description"]


def test_the_cards_trend_cell_joins_only_comparable_years_and_the_tile_has_no_arrow() -> None:
    from ui.frames import change_caption, delta_arrow, trend_cells

    row = _card("persistent_absence", ["2013/14", "2014/15", "2015/16", "2016/17"],
                {"2013/14": 20.0, "2014/15": 19.0, "2015/16": 12.0, "2016/17": 11.0})
    assert trend_cells(row, REG.get("persistent_absence")) == (
        [12.0, 11.0], "2015/16 to 2016/17; earlier years are not comparable (a gap in DfE's data, a missing year or "
                      "a new definition)")
    assert (row.change, delta_arrow(row), change_caption(row)) == (pytest.approx(-1.0), "auto", "")
    row = _card("persistent_absence", ["2014/15", "2015/16"], {"2014/15": 9.0, "2015/16": 12.0})
    assert delta_arrow(row) == "off" and change_caption(row).startswith("No change shown: Persistent absence changed")


# ------------------------------------------------------------------------------ DfE's own files agree with the gaps

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"  # as tests/conftest.py REALDATA
KS4_2425 = REALDATA / "ees_ks4_2024-25_hal609"


@pytest.mark.skipif(not KS4_2425.exists(), reason="the shared real data is not beside the repository")
def test_dfes_2024_25_files_have_no_progress8_where_the_registry_says_so() -> None:
    """Every Progress 8 cell of DfE's 2024/25 KS4 files is `z` (not applicable): 5,755 schools in the information
    file, 7 in DfE's own test fixture of the school-level file; Attainment 8 is published beside it."""
    import csv
    import json

    with open(KS4_2425 / "202425_information_about_schools_provisional.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5755 and {r["time_period"] for r in rows} == {"202425"}
    assert {r["progress8_diffn"] for r in rows} == {"z"} and {r["progress8_banding"] for r in rows} == {"z"}
    fixture = json.loads((REALDATA / "ees_ks4_2024-25_sap-public" /
                          "202425_performance_tables_schools_final_Total_Current_Year.json").read_text("utf-8"))
    assert len(fixture) == 7 and {r["progress8_average"] for r in fixture} == {"z"}
    assert all(r["attainment8_average"] not in ("z", "x", "c") for r in fixture)
    assert REG.gap("progress8", "2024/25").reason == NO_P8 and REG.gap("attainment8", "2024/25") is None
