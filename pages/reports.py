"""Reports: the scorecard to download as CSV or Excel, and a board-ready PDF built outside the page rerun.
For leaders, governors and admins."""

from __future__ import annotations

import streamlit as st

from charts.alt import grid_alt, trend_alt
from charts.grid import level_grid
from charts.trend import trend_chart
from data.outputs.reports import (
    BoardReport,
    BoardReportJob,
    Progress,
    ReportFigure,
    build_board_report,
    data_as_of,
    report_file_name,
    trend_specs,
)
from metrics.registry import Registry
from metrics.scorecard import Scorecard
from metrics.text import markdown_text
from ui.context import choose_group_and_period, current_viewer, group_card, registry, school_card
from ui.frames import grid_frame, headline_rows
from ui.impact import group_impact, impact_measures
from ui.reports import board_report_pool, scorecard_downloads
from ui.router import hand_over
from ui.store import get_store

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_REPORT_SCHOOL = "report_school"
KEY_CSV = "report_csv"
KEY_XLSX = "report_xlsx"
KEY_PREPARE = "report_prepare"
KEY_PDF = "report_pdf"
KEY_JOBS = "_board_report_jobs"
WHOLE_GROUP = 0
DEMO_NOTE = "Demo data: a synthetic England. Schools, names and results are made up."
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _figures(card: Scorecard, reg: Registry) -> list[ReportFigure]:
    """The charts the PDF includes: the schools x measures level grid (groups), then the flagged measures' trends."""
    out = []
    headline = [r.measure for rows in headline_rows(card).values() for r in rows if r.polarity != "context"]
    grid = grid_frame(card, registry=reg, measures=headline[:10])
    if not grid.empty:
        out.append(ReportFigure("Schools and measures", level_grid(grid), grid_alt(grid), landscape=True,
                                width=1600))
    for spec in trend_specs(card, registry=reg):
        values = next(iter(spec.series.values()))
        out.append(ReportFigure(spec.title, trend_chart(spec.periods, spec.series, unit=spec.unit, number=spec.number),
                                trend_alt(spec.title, spec.periods, values, spec.unit, number=spec.number),
                                section="How the flagged measures have moved", height=340))
    return out


def _impacts(card: Scorecard, group_id: int) -> list:
    """A group's board report includes whether joining made a difference (the Impact page's numbers), per measure
    the store has results for; a school's report does not."""
    if card.subject.kind != "group":
        return []
    store, viewer = get_store(), current_viewer()
    return [group_impact(store, viewer, group_id, m.id) for m in impact_measures(store, viewer, group_id)]


def _start(card: Scorecard, reg: Registry, key: str, group_id: int) -> None:
    """Draw the figures now (quick) and leave the slow part, drawing them to images and the PDF, to the pool.
    A second click while this report is still being built does not start another."""
    running = st.session_state.get(KEY_JOBS, {}).get(key)
    if running is not None and not running.done:
        return
    figures = _figures(card, reg)
    impacts = _impacts(card, group_id)
    store = get_store()
    data_date = data_as_of(store)
    note = DEMO_NOTE if store.is_demo() else None

    def build(progress: Progress) -> BoardReport:
        return build_board_report(card, reg, figures, data_date=data_date, note=note, progress=progress,
                                  impacts=impacts)

    st.session_state.setdefault(KEY_JOBS, {})[key] = BoardReportJob(build, board_report_pool())


def _show_job(key: str, file_name: str, polling: bool) -> None:
    job: BoardReportJob | None = st.session_state.get(KEY_JOBS, {}).get(key)
    if job is None:
        return
    if not job.done:
        st.progress(job.progress.fraction, text=job.progress.message)
        return
    if polling:
        st.rerun()  # once, to show the result outside the polling fragment (which then stops)
    if job.error:
        st.error(markdown_text(job.error) + " Try again; if it keeps failing, the CSV and Excel downloads have the "
                 "same figures.")
        return
    report = job.result
    assert report is not None
    if report.note:
        st.warning(report.note)
    st.success(f"The board report is ready: {report.charts_drawn} chart(s) drawn.")
    st.download_button("Download the board report (PDF)", data=report.pdf, file_name=file_name,
                       mime="application/pdf", key=KEY_PDF, type="primary", icon=":material/download:")


store = get_store()
viewer = current_viewer()
st.title("Reports")
group_id, period, c3 = choose_group_and_period(store, viewer, third_column=True)
group = group_card(store, viewer, group_id, period)
names = dict(group.members)
with c3:
    urn = st.selectbox("School (optional)", [WHOLE_GROUP] + sorted(names, key=lambda u: names[u]),
                       format_func=lambda u: "The whole group" if u == WHOLE_GROUP else f"{names[u]} ({u})",
                       key=KEY_REPORT_SCHOOL)
card = group if urn == WHOLE_GROUP else school_card(store, viewer, urn, period)
reg = registry(store, viewer, group_id)
st.header(markdown_text(card.subject.name))
if card.subject.kind == "group":
    st.caption(f"{len(card.members)} member schools in {period}. Group values: {card.method}.")
else:
    st.caption(f"A member of {markdown_text(group.subject.name)}, {period}.")
if not any(r.value is not None for r in card.rows):
    st.info(f"No results for {markdown_text(card.subject.name)} in {period} yet: the downloads would be empty.")
    st.stop()

st.subheader("Download the scorecard")
left, right = st.columns(2)
csv, xlsx = scorecard_downloads(store, viewer, group_id, period, None if urn == WHOLE_GROUP else urn)
left.download_button("Scorecard as CSV", data=csv, file_name=report_file_name(
    card, "scorecard", "csv"), mime="text/csv", key=KEY_CSV, icon=":material/table:", on_click="ignore")
right.download_button("Scorecard as Excel", data=xlsx, file_name=report_file_name(
    card, "scorecard", "xlsx"), mime=XLSX_MIME, key=KEY_XLSX, icon=":material/table_view:", on_click="ignore")
st.caption("CSV: one row per measure, every figure in full (value, national, percentile, similar schools, "
           "expected, level, flag reasons, target). Excel: the same as a formatted sheet"
           + (", with each member school's values and the watch list on their own sheets." if
              card.subject.kind == "group" else "."))

st.subheader("Board report (PDF)")
st.markdown("A report for governors and trustees: a title page with the method, the headline measures by "
            "perspective with levels in words, the level grid and trends of the flagged measures as charts, "
            + ("whether joining the group made a difference, the schools to watch and why"
               if card.subject.kind == "group" else "the flagged measures and why")
            + ", and a glossary of the levels.")
job_key = f"{card.subject.kind}:{card.subject.id}:{period}"
if st.button("Prepare the board report", key=KEY_PREPARE, icon=":material/picture_as_pdf:"):
    _start(card, reg, job_key, group_id)
pending = st.session_state.get(KEY_JOBS, {}).get(job_key)
pdf_name = report_file_name(card, "board-report", "pdf")
if pending is not None and not pending.done:
    st.fragment(run_every=1)(_show_job)(job_key, pdf_name, True)
else:
    _show_job(job_key, pdf_name, False)
