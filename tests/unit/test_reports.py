"""Reports from a hand-made scorecard: the CSV reads back to the same values, the workbook has its sheets,
headers, values and number formats, and the PDF is a PDF with the group's name, Latin-1-safe text and its charts
(or, when charts cannot be drawn, a sentence saying so)."""

from __future__ import annotations

import csv
import io
import shutil
import threading
from dataclasses import replace

import pytest
from openpyxl import load_workbook
from PIL import Image

from data.outputs import reports
from data.outputs.reports import (
    CSV_COLUMNS,
    NO_CHARTS,
    XLSX_COLUMNS,
    BoardReportJob,
    Progress,
    ReportFigure,
    board_pdf,
    build_board_report,
    excel_format,
    latin1,
    member_table,
    report_file_name,
    scorecard_csv,
    scorecard_xlsx,
    trend_specs,
)
from metrics.registry import load_registry
from metrics.scorecard import Scorecard, ScorecardRow, Subject, TrendPoint, WatchItem

GROUP = "Riverside Partnership"
ASH, BEECH = 100001, 100002
REGISTRY = load_registry().with_local([{
    "id": "support_spend", "label": "Support – spend per pupil (£)", "description": "Money spent on support ≥ £0.",
    "perspective": "partnership_community", "unit": "£", "format": ",.0f", "polarity": "context",
    "phases": ["primary", "secondary"], "rollup": "weighted_mean", "owner": "7"}])


def _trend(*values: float | None) -> tuple[TrendPoint, ...]:
    periods = ["2021/22", "2022/23", "2023/24"][-len(values):]
    return tuple(TrendPoint(p, v, "ok" if v is not None else "missing") for p, v in zip(periods, values,
                                                                                       strict=True))


def _row(measure: str, **kw: object) -> ScorecardRow:
    m = REGISTRY.get(measure)
    value = kw.pop("value", 50.0)
    base = dict(
        measure=measure, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
        period="2023/24", value=value, display=m.format_value(value), cohort=120.0, numerator=None,
        denominator=None, status="ok", status_code=None, ci_low=None, ci_high=None, uncertainty=None,
        national=None, national_scope=None, percentile=None, family_median=None, family_rank=None,
        family_size=None, expected=None, residual=None, trend=_trend(value), change=None, level=None,
        level_label="Context (not judged)", significance=None, flag=False, flag_reasons=(), target=None,
        target_met=None, rollup_method="pooled", schools_reporting=2, schools_total=2,
        member_values=((ASH, value, "ok"), (BEECH, value, "ok")))
    base.update(kw)
    return ScorecardRow(**base)  # type: ignore[arg-type]


ROWS = (
    _row("attainment8", value=44.5, national=46.5, percentile=31.25, family_median=45.0, expected=45.1,
         change=-1.2, level=2, level_label="Needs attention", target=47.0, target_met=False,
         trend=_trend(46.0, 45.7, 44.5), member_values=((ASH, 40.0, "ok"), (BEECH, 49.0, "ok"))),
    _row("basics_94", value=50.7, national=66.6, percentile=16.0, level=1, level_label="Cause for concern", flag=True,
         flag_reasons=("significantly below national (50.7% against 66.6%)",
                       "worse for two years running (64.4% → 57.4% → 50.7%), one of 3 measures declining"),
         trend=_trend(64.4, 57.4, 50.7), member_values=((ASH, 48.0, "ok"), (BEECH, None, "suppressed"))),
    _row("teacher_salary", value=45352.0, national=45834.0),
    _row("progress8", value=None, status="not_applicable", level_label="Not applicable",
         member_values=((ASH, None, "not_applicable"), (BEECH, None, "not_applicable"))),
    _row("support_spend", value=1234.5, level_label="Local measure (no national comparison)"),
)
CARD = Scorecard(
    subject=Subject("group", 7, GROUP, None, (ASH, BEECH), "partnership"), period="2023/24", rows=ROWS,
    method="pooled: pupils of all member schools counted together",
    members=((ASH, "Ash Primary – North"), (BEECH, "Beech Academy")),
    watchlist=(WatchItem(ASH, "Ash Primary – North", (("basics_94", "Grade 4+ in English and maths: significantly "
                                                                    "worse than national (48% against 66.6%)"),)),),
)


def _png(width: int = 120, height: int = 60) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ text


def test_latin1_spells_out_what_core_fonts_cannot_set() -> None:
    assert latin1("Support – spend ≥ £5 → “up” … ✓") == 'Support - spend >= £5 -> "up" ... ?'
    assert latin1("Café £45,421 × 2") == "Café £45,421 × 2"  # Latin-1 already: untouched


def test_file_names_are_safe() -> None:
    assert report_file_name(CARD, "scorecard", "csv") == "riverside-partnership-2023-24-scorecard.csv"


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_reads_back_with_the_scorecard_s_values() -> None:
    data = scorecard_csv(CARD, REGISTRY)
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads '£' and '–'
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == [*CSV_COLUMNS, "description"]
    assert [r["measure"] for r in rows] == [r.measure for r in ROWS]

    def num(text: str) -> float | None:
        return float(text) if text else None

    for got, row in zip(rows, ROWS, strict=True):
        for field in ("value", "national", "percentile", "family_median", "expected", "change", "target"):
            assert num(got[field]) == getattr(row, field), (row.measure, field)
        assert got["label"] == row.label
        assert got["level"] == ("" if row.level is None else str(row.level))
        assert got["level_label"] == row.level_label
        assert got["flag"] == str(row.flag)
        assert got["flag_reasons"] == "; ".join(row.flag_reasons)
    spend = rows[-1]
    assert spend["label"] == "Support – spend per pupil (£)" and spend["display"] == "£1,234"
    assert spend["perspective_label"] == "Partnership & community"
    assert spend["description"] == "Money spent on support ≥ £0."
    assert "→" in rows[1]["flag_reasons"]


# ------------------------------------------------------------------------------------------------ Excel


@pytest.mark.parametrize(("spec", "unit", "expected"), [
    (".1f", "%", '0.0"%"'), ("+.2f", "score", "+0.00;-0.00;0.00"), (",.0f", "£", '"£"#,##0'),
    (".0f", "pupils", "0"), (",.1f", "FTE", "#,##0.0"),
])
def test_excel_formats_follow_the_registry(spec: str, unit: str, expected: str) -> None:
    assert excel_format(replace(REGISTRY.get("attainment8"), format=spec, unit=unit)) == expected


def test_workbook_has_its_sheets_headers_values_and_formats() -> None:
    wb = load_workbook(io.BytesIO(scorecard_xlsx(CARD, REGISTRY)))
    assert wb.sheetnames == ["Scorecard", "Members", "Watch list", "About"]
    ws = wb["Scorecard"]
    assert [c.value for c in ws[1]] == [h for h, _, _ in XLSX_COLUMNS]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=2)]
    assert [r["Measure id"] for r in rows] == [r.measure for r in ROWS]
    a8 = rows[0]
    assert (a8["Perspective"], a8["Measure"], a8["Value"], a8["National"], a8["National percentile"]) == (
        "Pupil outcomes", "Attainment 8", 44.5, 46.5, 31.25)
    assert (a8["Level"], a8["Flagged"], a8["Target"], a8["Target met"]) == ("Needs attention", "no", 47.0, "not met")
    assert rows[1]["Flag reasons"] == "; ".join(ROWS[1].flag_reasons)
    assert rows[3]["Value"] is None
    value_col = header.index("Value") + 1
    assert ws.cell(2, value_col).number_format == excel_format(REGISTRY.get("attainment8"))
    assert ws.cell(3, value_col).number_format == '0.0"%"'
    assert ws.cell(4, value_col).number_format == '"£"#,##0'

    members = wb["Members"]
    assert [c.value for c in members[1]] == ["URN", "School", "Attainment 8", "Grade 4+ in English and maths",
                                              "Average teacher salary", "Support – spend per pupil (£)"]
    assert [[c.value for c in r] for r in members.iter_rows(min_row=2)] == [
        [ASH, "Ash Primary – North", 40.0, 48.0, 45352.0, 1234.5],
        [BEECH, "Beech Academy", 49.0, None, 45352.0, 1234.5],
    ]
    assert [[c.value for c in r] for r in wb["Watch list"].iter_rows()] == [
        ["URN", "School", "Measure", "Reason"],
        [ASH, "Ash Primary – North", "Grade 4+ in English and maths", CARD.watchlist[0].reasons[0][1]],
    ]
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    assert about["Group"] == GROUP and about["Academic year"] == "2023/24" and about["Member schools"] == "2"


def test_a_school_workbook_has_no_member_sheets() -> None:
    school = replace(CARD, subject=Subject("school", ASH, "Ash Primary – North", "primary", (ASH,)), members=(),
                     watchlist=())
    assert load_workbook(io.BytesIO(scorecard_xlsx(school, REGISTRY))).sheetnames == ["Scorecard", "About"]


def test_member_table_leaves_out_measures_no_school_has() -> None:
    assert list(member_table(CARD).columns) == ["URN", "School", "Attainment 8", "Grade 4+ in English and maths",
                                                "Average teacher salary", "Support – spend per pupil (£)"]


# ------------------------------------------------------------------------------------------------ PDF


def test_pdf_has_the_group_and_latin1_safe_text() -> None:
    pdf = board_pdf(CARD, REGISTRY, data_date="26 November 2026", note="Demo data", compress=False)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = pdf.decode("latin-1")
    assert GROUP in text
    assert "Support - spend per pupil \\(\xa3\\)" in text  # "–" spelt "-", "£" kept as Latin-1 (PDF escapes "(")
    assert "\xa31,234" in text
    assert "64.4% -> 57.4% -> 50.7%" in text  # "→" from a flag reason
    assert "26 November 2026" in text
    assert "Glossary of levels" in text and "Cause for concern" in text
    assert "Ash Primary - North \\(100001\\)" in text  # the watch list
    assert "/Subtype /Image" not in text


def test_the_report_with_charts_embeds_each_image() -> None:
    said: list[tuple[str, float]] = []
    figures = [ReportFigure("Schools and measures", object(), "Grid of 2 schools", landscape=True),
               ReportFigure("Attainment 8", object(), "Attainment 8 falling", section="Trends"),
               ReportFigure("Grade 4+", object(), "Grade 4+ falling", section="Trends")]
    report = build_board_report(CARD, REGISTRY, figures, data_date="1 May 2024", compress=False,
                                progress=lambda m, f: said.append((m, f)),
                                render=lambda fig, width, height: _png(width // 10 + len(said), 40))
    assert (report.charts_drawn, report.charts_missing, report.note) == (3, (), None)
    assert report.pdf.count(b"/Subtype /Image") == 3
    assert said[0][0].startswith("Drawing chart 1 of 3") and said[-1] == ("Ready", 1.0)
    assert [f for _, f in said] == sorted(f for _, f in said)


def test_when_charts_cannot_be_drawn_the_report_says_so() -> None:
    calls: list[str] = []

    def broken(fig: object, width: int, height: int | None) -> bytes:
        calls.append("x")
        raise RuntimeError("Kaleido requires Google Chrome to be installed.")

    figures = [ReportFigure("Schools and measures", object()), ReportFigure("Attainment 8", object())]
    report = build_board_report(CARD, REGISTRY, figures, render=broken, compress=False)
    assert calls == ["x"]  # the first failure stops the rest: no waiting on a missing browser again
    assert report.charts_drawn == 0
    assert report.charts_missing == ("Schools and measures", "Attainment 8")
    assert report.note == NO_CHARTS
    assert "Chrome" in report.detail
    assert report.pdf.startswith(b"%PDF") and b"Charts could not be drawn" in report.pdf


def test_a_broken_image_counts_as_a_chart_not_drawn() -> None:
    report = build_board_report(CARD, REGISTRY, [ReportFigure("Grid", object())], render=lambda *a, **k: b"junk")
    assert report.charts_missing == ("Grid",) and report.pdf.startswith(b"%PDF")


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("google-chrome") is None,
                    reason="kaleido needs Chromium or Chrome")
def test_real_charts_are_drawn_with_kaleido() -> None:
    from charts.trend import trend_chart

    fig = trend_chart(["2021/22", "2022/23", "2023/24"], {GROUP: [64.4, 57.4, 50.7]}, unit="%")
    report = build_board_report(CARD, REGISTRY, [ReportFigure("Grade 4+", fig, "Falling")], compress=False)
    assert (report.charts_drawn, report.problem) == (1, None), report.detail
    assert report.pdf.count(b"/Subtype /Image") == 1


# ------------------------------------------------------------------------------------------------ charts chosen


def test_trend_specs_are_the_flagged_measures_with_a_trend() -> None:
    [spec] = trend_specs(CARD)
    assert (spec.measure, spec.title, spec.periods, spec.unit) == (
        "basics_94", "Grade 4+ in English and maths", ["2021/22", "2022/23", "2023/24"], "%")
    assert spec.series == {GROUP: [64.4, 57.4, 50.7]}


def test_without_flagged_measures_the_watch_list_chooses() -> None:
    calm = replace(CARD, rows=tuple(replace(r, flag=False, flag_reasons=()) for r in ROWS))
    assert [s.measure for s in trend_specs(calm)] == ["basics_94"]
    quiet = replace(calm, watchlist=())
    assert trend_specs(quiet) == []


# ------------------------------------------------------------------------------------------------ the job


def test_the_job_reports_progress_then_its_result() -> None:
    go = threading.Event()

    def build(progress: Progress) -> reports.BoardReport:
        progress("Drawing", 0.5)
        go.wait(5)
        return build_board_report(CARD, REGISTRY)

    job = BoardReportJob(build)
    while job.progress.message != "Drawing":
        pass
    assert not job.done and job.result is None and job.error is None and job.progress.fraction == 0.5
    go.set()
    assert job.wait(10)
    assert job.result is not None and job.result.pdf.startswith(b"%PDF") and job.error is None


def test_a_failed_job_says_why_in_words() -> None:
    def build(progress: Progress) -> reports.BoardReport:
        raise ValueError("no rows")

    job = BoardReportJob(build)
    assert job.wait(5)
    assert job.result is None
    assert job.error == "The board report could not be built: no rows"
