"""Reports built from a scorecard: CSV and Excel for analysis, and a board-ready PDF for governors.

No Streamlit and no plotly import here: the page builds the chart figures (charts/) and hands them over;
they are drawn to PNG through their own ``to_image`` (kaleido driving Chromium). When that fails, the PDF is
still built, with tables only, and says so. fpdf2's core fonts are Latin-1: every text goes through
``latin1`` first, so a "–" or "→" from a measure label never breaks a report.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from data.db.store import Store
from metrics.impact import GroupImpact
from metrics.numbers import DEFAULT_FORMAT, NumberFormat
from metrics.registry import Measure, Perspective, Registry
from metrics.scorecard import INSUFFICIENT, LEVELS, LOCAL_ONLY, NOT_JUDGED, Scorecard, ScorecardRow
from metrics.text import formula_like, spreadsheet_text

CHROMIUM = "/usr/bin/chromium"
TREND_LIMIT = 4  # trend charts in the PDF: the flagged measures, at most this many

# One row per measure: the scorecard's own field names, so a CSV reads like the JSON the CLI prints.
CSV_COLUMNS = [
    "measure", "label", "perspective", "perspective_label", "unit", "polarity", "period", "value", "display",
    "cohort", "numerator", "denominator", "status", "ci_low", "ci_high", "national", "national_scope", "percentile",
    "family_median", "family_rank", "family_size", "expected", "residual", "change", "level", "level_label",
    "significance", "flag", "flag_reasons", "target", "target_met", "rollup_method", "schools_reporting",
    "schools_total", "below_national",
]

_INT_COLUMNS = ("family_rank", "family_size", "level", "schools_reporting", "schools_total", "below_national")

# The Excel scorecard sheet: (header, ScorecardRow field or None for a computed column, numeric in the measure's
# own format?)
XLSX_COLUMNS: list[tuple[str, str, bool]] = [
    ("Perspective", "perspective_label", False),
    ("Measure", "label", False),
    ("Value", "value", True),
    ("National", "national", True),
    ("National percentile", "percentile", False),
    ("Similar schools (median)", "family_median", True),
    ("Expected for this intake", "expected", True),
    ("Change on last year", "change", True),
    ("Level", "level_label", False),
    ("Flagged", "flag", False),
    ("Flag reasons", "flag_reasons", False),
    ("Target", "target", True),
    ("Target met", "target_met", False),
    ("Unit", "unit", False),
    ("Measure id", "measure", False),
]

LEVEL_MEANINGS: list[tuple[str, str]] = [
    (LEVELS[0], "Usually in the bottom fifth of schools nationally (below the 20th percentile), or in the next "
                "fifth and falling."),
    (LEVELS[1], "Usually between the 20th and 40th percentile; or lower but improving; or around the middle "
                "and falling."),
    (LEVELS[2], "Usually around the middle (40th–60th percentile); or just below and improving; or just above "
                "and falling."),
    (LEVELS[3], "Usually between the 60th and 80th percentile; or around the middle and improving; or in the "
                "top fifth and falling."),
    (LEVELS[4], "In the top fifth nationally (80th percentile and above), or between the 60th and 80th "
                "percentile and improving."),
    (INSUFFICIENT, "Too few pupils to judge fairly, a result that was not published, or no national comparison "
                   "this year: no level is given."),
    (NOT_JUDGED, "Describes the school's intake or size (for example free school meals); never judged good or "
                 "bad."),
    (LOCAL_ONLY, "A measure the group chose for itself; there is no national comparison, so no level."),
]
LEVEL_METHOD = ("Each level combines where a result stands among schools nationally in the same phase (its "
                "percentile, turned round where lower is better) with its change since last year: five bands of "
                "20 percentile points, one level up when the result rose 10 or more percentile points on the "
                "year before and one level down when it fell 10 or more.")
FLAG_METHOD = ("A measure is flagged only when the result is significantly below national (allowing for chance) "
               "and in the bottom fifth, or when it has got worse two years running on several measures.")
NO_CHARTS = ("Charts could not be drawn on this computer (the chart renderer was not available), so this report "
             "shows tables only.")

# Characters outside Latin-1 that measure labels, reasons and names use, said in Latin-1.
_LATIN1 = str.maketrans({
    "–": "-", "—": "-", "−": "-", "‐": "-", "≥": ">=", "≤": "<=", "→": "->", "←": "<-", "↑": "up", "↓": "down",
    "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "-", "⚑": "!", "▲": "^", "▼": "v", "●": "o",
    "≈": "~", "≠": "!=", "€": "EUR", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
})


def latin1(text: object) -> str:
    """Text fpdf2's core fonts can set: common symbols spelt out, anything else outside Latin-1 as '?'."""
    return str(text).translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


# ------------------------------------------------------------------------------------------------ tables


def scorecard_table(card: Scorecard) -> pd.DataFrame:
    """The scorecard as one row per measure with the scorecard's own field names (CSV_COLUMNS)."""
    rows = []
    for r in card.rows:
        d = r.to_dict()
        d["perspective_label"] = _perspective_label(r.perspective)
        d["flag_reasons"] = "; ".join(r.flag_reasons)
        rows.append({c: d.get(c) for c in CSV_COLUMNS})
    table = pd.DataFrame(rows, columns=CSV_COLUMNS)
    # whole numbers stay whole ("2", not "2.0") with gaps where there is none
    return table.astype({c: "Int64" for c in _INT_COLUMNS})


def scorecard_csv(card: Scorecard, registry: Registry | None = None) -> bytes:
    """The scorecard as CSV (UTF-8 with a byte-order mark, so Excel reads '£' and '–' correctly).

    Numbers are written in full; empty cells are missing values. With a registry, each measure's description
    is added as the last column. Text a spreadsheet would run as a formula is written as text (csv_text)."""
    table = scorecard_table(card)
    if registry is not None:
        table["description"] = [registry.get(m).description if m in registry else "" for m in table["measure"]]
    buf = io.StringIO()
    csv_text(table).to_csv(buf, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8-sig")


def csv_text(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names a spreadsheet shows as text, never runs (labels, names and notes
    come from people and imported files: '=HYPERLINK(…)' would be a link). Numbers are left as numbers."""
    out = table.rename(columns=lambda c: spreadsheet_text(c) if isinstance(c, str) else c)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: spreadsheet_text(v) if isinstance(v, str) else v)
    return out


def frame_csv(table: pd.DataFrame) -> bytes:
    """Any table a page offers as a CSV download (e.g. the change history), its text made safe (csv_text)."""
    return csv_text(table).to_csv(index=False).encode("utf-8")


def member_table(card: Scorecard) -> pd.DataFrame:
    """A group's member schools (rows) by measure (columns, labels): each school's own value."""
    names = dict(card.members)
    rows = [r for r in card.rows if any(v is not None for _, v, _ in r.member_values)]
    data: dict[str, list[object]] = {"URN": [u for u, _ in card.members], "School": [n for _, n in card.members]}
    for r in rows:
        values = {u: v for u, v, _ in r.member_values}
        data[r.label] = [values.get(u) for u in names]
    return pd.DataFrame(data)


def excel_format(measure: Measure | None, unit: str = "") -> str:
    """The measure's own number format (Measure.number) as an Excel number format: '.1f' + '%' -> 0.0"%"."""
    return (measure.number if measure is not None else NumberFormat(DEFAULT_FORMAT, unit)).excel()


def _number(registry: Registry, r: ScorecardRow) -> NumberFormat:
    """A row's number format: its measure's; the registry's default for a row the registry does not know."""
    return registry.get(r.measure).number if r.measure in registry else NumberFormat(DEFAULT_FORMAT, r.unit)


def scorecard_xlsx(card: Scorecard, registry: Registry) -> bytes:
    """The scorecard as an Excel workbook: 'Scorecard' (one row per measure), 'Members' (a group's schools by
    measure), 'Watch list' (a group's flagged schools and why) and 'About' (what, when, how)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Scorecard"
    table = scorecard_table(card)
    ws.append([h for h, _, _ in XLSX_COLUMNS])
    for rec, row in zip(table.to_dict("records"), card.rows, strict=True):
        measure = registry.get(row.measure) if row.measure in registry else None
        cells = []
        for _header, key, _numeric in XLSX_COLUMNS:
            v = rec[key]
            if key == "flag":
                v = "yes" if v else "no"
            elif key == "target_met":
                v = None if v is None else ("met" if v else "not met")
            elif key == "flag_reasons":
                v = v or None
            cells.append(_cell(v))
        ws.append(cells)
        fmt = excel_format(measure, row.unit)
        for col, (_h, key, numeric) in enumerate(XLSX_COLUMNS, start=1):
            if numeric:
                ws.cell(ws.max_row, col).number_format = fmt
            elif key == "percentile":
                ws.cell(ws.max_row, col).number_format = "0"
    _finish_sheet(ws, Font, Alignment, get_column_letter, widths={"Measure": 44, "Flag reasons": 60})

    if card.subject.kind == "group":
        members = wb.create_sheet("Members")
        mt = member_table(card)
        members.append(list(mt.columns))
        for rec in mt.itertuples(index=False):
            members.append([_cell(v) for v in rec])
        by_label = {r.label: r for r in card.rows}
        for col, label in enumerate(mt.columns[2:], start=3):
            r = by_label[label]
            fmt = excel_format(registry.get(r.measure) if r.measure in registry else None, r.unit)
            for i in range(2, members.max_row + 1):
                members.cell(i, col).number_format = fmt
        _finish_sheet(members, Font, Alignment, get_column_letter, widths={"School": 44}, default=16)

        watch = wb.create_sheet("Watch list")
        watch.append(["URN", "School", "Measure", "Reason"])
        labels = {r.measure: r.label for r in card.rows}
        for item in card.watchlist:
            for mid, reason in item.reasons:
                watch.append([item.urn, item.name, labels.get(mid, mid), reason])
        _finish_sheet(watch, Font, Alignment, get_column_letter, widths={"School": 44, "Measure": 44, "Reason": 90})

    about = wb.create_sheet("About")
    for key, value in _about(card):
        about.append([key, value])
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 100
    for cell in about["A"]:
        cell.font = Font(bold=True)
    text_not_formulas(about)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(v: object) -> object:
    """A value openpyxl can write: None for NaN, plain Python numbers."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()  # type: ignore[union-attr]
    return v


def text_not_formulas(ws: Any) -> None:
    """Every text cell of the sheet stays text: openpyxl makes a str starting with '=' a formula (data_type 'f'),
    so it is set back to a string; and a text Excel could read as a formula (= + - @, a tab or a carriage return
    first) gets Excel's quote prefix, so it stays text when someone edits the cell."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and (cell.data_type == "f" or formula_like(cell.value)):
                cell.data_type = "s"
                cell.quotePrefix = True


def _finish_sheet(ws: Any, Font: Any, Alignment: Any, get_column_letter: Callable[[int], str], *,  # noqa: N803
                  widths: dict[str, int], default: int = 14) -> None:
    """Bold header row, frozen under the header, a filter on it, and readable column widths."""
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    text_not_formulas(ws)
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for col, cell in enumerate(ws[1], start=1):
        ws.column_dimensions[get_column_letter(col)].width = widths.get(str(cell.value), default)


def _about(card: Scorecard) -> list[tuple[str, str]]:
    subject = "Group" if card.subject.kind == "group" else "School"
    out = [(subject, card.subject.name), ("Academic year", card.period)]
    if card.subject.kind == "group":
        out += [("Member schools", str(len(card.members))), ("Group values", card.method)]
    out += [("Levels", LEVEL_METHOD), ("Flags", FLAG_METHOD), ("Prepared", f"{date.today():%d %B %Y}")]
    return out


def report_file_name(card: Scorecard, kind: str, extension: str) -> str:
    """'northbridge-learning-partnership-2024-25-scorecard.csv': the subject and year, safe in any file system."""
    # anything but letters and digits becomes one hyphen
    slug = re.sub(r"[^a-z0-9]+", "-", f"{card.subject.name} {card.period} {kind}".lower()).strip("-")
    return f"{slug}.{extension}"


def _perspective_label(value: str) -> str:
    try:
        return Perspective(value).label
    except ValueError:
        return value


# ------------------------------------------------------------------------------------------------ charts


@dataclass(frozen=True)
class TrendSpec:
    """What one trend chart in the PDF shows (charts.trend.trend_chart's arguments)."""

    measure: str
    title: str
    periods: list[str]
    series: dict[str, list[float | None]]
    unit: str
    number: NumberFormat | None = None  # the measure's own format (Measure.number): hover and words as the tables


@dataclass(frozen=True)
class ReportFigure:
    """A chart for the PDF: a plotly figure (anything with ``to_image``), its title and words for it."""

    title: str
    figure: Any
    alt: str = ""
    section: str = ""  # figures of one section share a heading and follow each other on the page
    landscape: bool = False
    width: int = 1000  # drawn at this many CSS pixels wide…
    height: int | None = None  # …and this tall (the figure's own height when None)


def trend_specs(card: Scorecard, limit: int = TREND_LIMIT, registry: Registry | None = None) -> list[TrendSpec]:
    """Trend charts for the measures that need the board's eye: the flagged ones; for a group with no flagged
    measure of its own, those its watch list names most often."""
    wanted = [r for r in card.rows if r.flag]
    if not wanted and card.watchlist:
        counts: dict[str, int] = {}
        for item in card.watchlist:
            for mid, _reason in item.reasons:
                counts[mid] = counts.get(mid, 0) + 1
        by_id = {r.measure: r for r in card.rows}
        wanted = [by_id[m] for m in sorted(counts, key=lambda m: -counts[m]) if m in by_id]
    out = []
    for r in wanted:
        if sum(t.value is not None for t in r.trend) < 2:
            continue  # one point is not a trend
        out.append(TrendSpec(r.measure, r.label, [t.period for t in r.trend],
                             {card.subject.name: [t.value for t in r.trend]}, r.unit,
                             _number(registry, r) if registry is not None else None))
        if len(out) >= limit:
            break
    return out


def render_png(figure: Any, width: int = 1000, height: int | None = None, scale: float = 2.0) -> bytes:
    """A plotly figure drawn as PNG by kaleido, which drives Chromium (BROWSER_PATH; /usr/bin/chromium if there).
    Raises whatever kaleido raises when no browser can be started: callers fall back to tables."""
    if Path(CHROMIUM).exists():
        os.environ.setdefault("BROWSER_PATH", CHROMIUM)
    if height is None:
        height = getattr(getattr(figure, "layout", None), "height", None) or 500
    return figure.to_image(format="png", width=width, height=height, scale=scale)


# ------------------------------------------------------------------------------------------------ the PDF


@dataclass
class Progress:
    """Where a background build has got to: read by the page while the build runs (simple values: thread-safe
    enough for a progress bar)."""

    message: str = "Waiting to start"
    fraction: float = 0.0

    def __call__(self, message: str, fraction: float) -> None:
        self.message, self.fraction = message, min(max(fraction, 0.0), 1.0)


@dataclass(frozen=True)
class BoardReport:
    pdf: bytes
    charts_drawn: int
    charts_missing: tuple[str, ...] = ()  # titles of charts that could not be drawn
    problem: str | None = None  # why not, in words (the renderer's own message is in `detail`)
    detail: str = field(default="", repr=False)

    @property
    def note(self) -> str | None:
        return NO_CHARTS if self.charts_missing else None


def data_as_of(store: Store) -> str | None:
    """When the store's data last changed: the finish of the latest successful import, as '26 November 2026'."""
    rows = store.query("SELECT max(finished_at) FROM imports WHERE outcome = 'ok'")
    at = rows[0][0] if rows else None
    return f"{at:%d %B %Y}" if isinstance(at, datetime | date) else None


def build_board_report(card: Scorecard, registry: Registry, figures: Sequence[ReportFigure] = (), *,
                       data_date: str | None = None, note: str | None = None,
                       progress: Callable[[str, float], None] | None = None,
                       render: Callable[..., bytes] | None = None, compress: bool = True,
                       impacts: Sequence[GroupImpact] = ()) -> BoardReport:
    """The board report as PDF bytes, drawing each figure to PNG first (slow: a browser per chart).

    Meant to run outside the page rerun (a background thread): `progress(message, fraction)` reports as it
    goes. When a chart cannot be drawn the rest are not tried, and the PDF says charts could not be drawn.
    `render` defaults to render_png; `compress=False` leaves the PDF's text readable in its bytes (tests).
    """
    say = progress or (lambda _m, _f: None)
    draw = render or render_png
    images: list[tuple[ReportFigure, bytes]] = []
    missing: list[str] = []
    problem, detail = None, ""
    for i, fig in enumerate(figures):
        if problem is not None:
            missing.append(fig.title)
            continue
        say(f"Drawing chart {i + 1} of {len(figures)}: {fig.title}", 0.05 + 0.8 * i / max(len(figures), 1))
        try:
            png = draw(fig.figure, width=fig.width, height=fig.height)
            _image_size(png)  # a broken image counts as a chart not drawn, not as a failed report
            images.append((fig, png))
        except Exception as exc:  # noqa: BLE001 — any renderer failure means "tables only", said in words
            problem, detail = NO_CHARTS, f"{type(exc).__name__}: {exc}"
            missing.append(fig.title)
    say("Setting out the pages", 0.9)
    pdf = board_pdf(card, registry, images, data_date=data_date, note=note,
                    charts_missing=len(missing) > 0, compress=compress, impacts=impacts)
    say("Ready", 1.0)
    return BoardReport(pdf, len(images), tuple(missing), problem, detail)


def _image_size(png: bytes) -> tuple[float, float]:
    """(width, height) in pixels of an image fpdf2 can embed; raises when it cannot."""
    from fpdf.image_parsing import get_img_info, load_image

    info = get_img_info("chart", load_image(io.BytesIO(png)))
    return float(info["w"]), float(info["h"])


class _Doc:
    """A thin layer over FPDF: Latin-1 text, the house headings, and a footer with page numbers."""

    def __init__(self, title: str, compress: bool) -> None:
        from fpdf import FPDF

        class _PDF(FPDF):
            def footer(inner) -> None:  # noqa: N805 — fpdf calls this with the document
                inner.set_y(-12)
                inner.set_font("Helvetica", size=8)
                inner.set_text_color(89, 89, 89)
                inner.cell(0, 6, latin1(f"{title} - page {inner.page_no()} of {{nb}}"), align="C")
                inner.set_text_color(0, 0, 0)

        self.pdf = _PDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_compression(compress)
        self.pdf.set_auto_page_break(True, margin=16)
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_title(latin1(title))
        self.pdf.set_creator("Jointly")
        self.pdf.set_lang("en-GB")

    def page(self, landscape: bool = False) -> None:
        self.pdf.add_page(orientation="L" if landscape else "P")

    def heading(self, text: str, size: int = 16, space: float = 4) -> None:
        if self.pdf.get_y() > self.pdf.h - 40:
            self.pdf.add_page()
        self.pdf.set_font("Helvetica", "B", size)
        self.pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(space / 2)
        self.pdf.set_font("Helvetica", size=10)

    def text(self, text: str, size: int = 10, style: str = "") -> None:
        self.pdf.set_font("Helvetica", style, size)
        self.pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)
        self.pdf.set_font("Helvetica", size=10)

    def table(self, header: list[str], rows: list[list[str]], widths: Sequence[float], size: int = 9) -> None:
        from fpdf.fonts import FontFace

        self.pdf.set_font("Helvetica", size=size)
        with self.pdf.table(col_widths=tuple(widths), text_align="LEFT", line_height=size * 0.5,
                            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                            repeat_headings=1, width=self.pdf.epw) as t:
            for values in [header, *rows]:
                row = t.row()
                for v in values:
                    row.cell(latin1(v))
        self.pdf.ln(3)

    def image(self, fig: ReportFigure, png: bytes, heading: str | None = None) -> None:
        """The chart at the page's width (smaller when it would not fit a page), its heading kept with it and
        its words under it."""
        w_px, h_px = _image_size(png)
        ratio = h_px / w_px
        extra = (8 if heading else 0) + (10 if fig.alt else 2)

        def fit() -> tuple[float, float, float]:
            room = self.pdf.h - self.pdf.b_margin - self.pdf.get_y() - extra
            width = self.pdf.epw
            return room, width, width * ratio

        room, width, height = fit()
        if height > room and room < 0.6 * (self.pdf.h - self.pdf.t_margin - self.pdf.b_margin - extra):
            self.pdf.add_page(orientation="L" if fig.landscape else "P")
            room, width, height = fit()
        if height > room:
            height, width = room, room / ratio
        if heading:
            self.heading(heading, size=11, space=1)
        self.pdf.image(io.BytesIO(png), x=self.pdf.l_margin, w=width, h=height,
                       alt_text=latin1(fig.alt or fig.title), title=latin1(fig.title))
        self.pdf.ln(2)
        if fig.alt:
            self.text(fig.alt, size=8, style="I")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def board_pdf(card: Scorecard, registry: Registry, images: Sequence[tuple[ReportFigure, bytes]] = (), *,
              data_date: str | None = None, note: str | None = None, charts_missing: bool = False,
              compress: bool = True, impacts: Sequence[GroupImpact] = ()) -> bytes:
    """The board report's pages: a title page (who, which year, the data's date, the method), the headline
    measures by perspective, the level grid and trend charts (when drawn), whether joining the group made a
    difference (a group's, when `impacts` are given), the watch list with its reasons and a glossary of the levels."""
    subject = card.subject
    is_group = subject.kind == "group"
    title = f"Board report: {subject.name}, {card.period}"
    doc = _Doc(title, compress)

    doc.page()
    doc.pdf.ln(30)
    doc.heading("Board report", size=26, space=8)
    doc.heading(subject.name, size=18)
    doc.text(f"Academic year {card.period}", size=13)
    doc.pdf.ln(6)
    facts = [("Data as of", data_date or "not known"), ("Prepared", f"{date.today():%d %B %Y}")]
    if is_group:
        facts += [("Member schools", str(len(card.members))), ("Group values", card.method)]
    for key, value in facts:
        doc.text(f"{key}: {value}", size=11)
    if note:
        doc.pdf.ln(2)
        doc.text(note, size=11, style="B")
    if charts_missing:
        doc.text(NO_CHARTS, size=10, style="I")
    doc.pdf.ln(6)
    doc.heading("How to read this report", size=13)
    doc.text("Every measure is set beside the national value for schools of the same phase, the middle of a "
             "family of similar schools, and what schools with a similar intake typically achieve. Small cohorts "
             "are shown as uncertain, not as failures.")
    doc.text(LEVEL_METHOD)
    doc.text(FLAG_METHOD)
    doc.text("The glossary at the end says what each level means.")

    doc.page()
    doc.heading("Headline measures")
    doc.text("Each measure's value this year, the national value and its level in words. Context measures "
             "describe the intake and are not judged.", size=9)
    rows_by_perspective: dict[str, list[ScorecardRow]] = {}
    for r in card.rows:
        if r.value is not None:
            rows_by_perspective.setdefault(r.perspective, []).append(r)
    if not rows_by_perspective:
        doc.text(f"No results for {subject.name} in {card.period}.")
    for perspective in [p.value for p in Perspective] + sorted(set(rows_by_perspective) - {p.value for p in
                                                                                           Perspective}):
        rows = rows_by_perspective.get(perspective)
        if not rows:
            continue
        doc.heading(_perspective_label(perspective), size=12, space=2)
        body = []
        for r in rows:
            fmt = _number(registry, r).text
            level = r.level_label + (" (flagged)" if r.flag else "")
            target = "–" if r.target is None else f"{fmt(r.target)} ({'met' if r.target_met else 'not met'})"
            body.append([r.label, r.display, fmt(r.national), level, target])
        doc.table(["Measure", "Value", "National", "Level", "Target"], body, (78, 22, 22, 38, 20))

    if images:
        section = None
        for fig, png in images:
            if fig.section != section or not fig.section:
                section = fig.section
                doc.page(landscape=fig.landscape)
                doc.heading(fig.section or fig.title, size=14)
            doc.image(fig, png, heading=fig.title if fig.section and fig.title != fig.section else None)
    elif charts_missing:
        doc.heading("Charts", size=14)
        doc.text(NO_CHARTS)

    if impacts:
        _impact_pages(doc, impacts)

    doc.page()
    doc.heading("Measures to watch" + (" across the group" if is_group else ""))
    doc.text(FLAG_METHOD, size=9)
    flagged = [r for r in card.rows if r.flag]
    if not flagged:
        doc.text("No measure is flagged this year.")
    for r in flagged:
        doc.heading(r.label, size=11, space=1)
        for reason in r.flag_reasons:
            doc.text(f"- {reason}", size=9)
    if is_group:
        doc.pdf.ln(3)
        doc.heading("Schools to watch")
        if not card.watchlist:
            doc.text("No member school is flagged this year.")
        labels = {r.measure: r.label for r in card.rows}
        for item in card.watchlist:
            doc.heading(f"{item.name} ({item.urn})", size=11, space=1)
            for mid, reason in item.reasons:
                text = reason if reason.startswith(labels.get(mid, "\0")) else f"{labels.get(mid, mid)}: {reason}"
                doc.text(f"- {text}", size=9)
    doc.pdf.ln(3)
    doc.heading("Glossary of levels", size=14)
    doc.text(LEVEL_METHOD, size=9)
    doc.table(["Level", "What it means"], [[w, m] for w, m in LEVEL_MEANINGS], (45, 135))
    return doc.output()


def impact_table(impacts: Sequence[GroupImpact]) -> list[list[str]]:
    """One line per measure: its pooled difference after joining, the interval, what it rests on and its reading."""
    body = []
    for imp in impacts:
        a, r = imp.result.after, imp.result
        if a.shown:
            effect, interval = f"{a.estimate:+.2f} {imp.unit}", f"{a.low:+.2f} to {a.high:+.2f}"
        else:
            effect, interval = "not shown", "too few schools"
        reading = {"not reliable": "not reliable (differed before joining)",
                   "not checked": "years before joining not checked"}.get(r.verdict, "fair comparison")
        body.append([imp.measure.label, effect, interval, f"{a.schools} ({round(a.pupils):,} pupils)", reading])
    return body


def _impact_pages(doc: _Doc, impacts: Sequence[GroupImpact]) -> None:
    doc.page()
    doc.heading("Has joining made a difference?")
    doc.text(f"{impacts[0].group_name}: how each measure changed for the schools that joined it, beside similar "
             "schools that had not yet joined a group of the same kind, from two years before joining to the three "
             "years after (docs/method.md). An association, not proof.", size=9)
    doc.table(["Measure", "Difference after joining", "95% interval", "Schools", "Reading"], impact_table(impacts),
              (62, 34, 32, 28, 34))
    doc.pdf.ln(2)
    for imp in impacts:
        doc.text(f"- {imp.words}", size=9)
    doc.heading("What this can and cannot show", size=11, space=1)
    for caveat in impacts[0].result.caveats[:5]:  # the method's own; each measure's counts are in its line above
        doc.text(f"- {caveat}", size=9)


# ------------------------------------------------------------------------------------------------ running it


class BoardReportJob:
    """A board report being built outside the page rerun: its progress while it runs, then the result or the
    reason it failed, in words. The page keeps the job in its session and polls it; nothing here knows about
    Streamlit. `executor` bounds how many build at once (each drives a browser); without one, a thread of its own.
    """

    def __init__(self, build: Callable[[Progress], BoardReport], executor: Executor | None = None) -> None:
        self.progress = Progress("Waiting for another report to finish", 0.0)
        if executor is None:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="board-report")
            self._future = executor.submit(build, self.progress)
            executor.shutdown(wait=False)  # the thread ends with the build
        else:
            self._future = executor.submit(build, self.progress)

    @property
    def done(self) -> bool:
        return self._future.done()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the build ends (or `timeout` seconds pass); True when it has ended."""
        try:
            self._future.exception(timeout)
        except TimeoutError:
            return False
        return True

    @property
    def result(self) -> BoardReport | None:
        if not self._future.done() or self._future.exception() is not None:
            return None
        return self._future.result()

    @property
    def error(self) -> str | None:
        """Why the build failed, in words (the page shows this, never a traceback)."""
        if not self._future.done():
            return None
        exc = self._future.exception()
        return None if exc is None else f"The board report could not be built: {exc}"
