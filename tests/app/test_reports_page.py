"""AppTest: the Reports page offers the scorecard as CSV and Excel (the very bytes data.outputs.reports builds) and
builds the board report PDF in the background, polled until it is ready; chart failures never show a traceback."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import open_app
from openpyxl import load_workbook
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.outputs import reports
from data.services import schools
from data.services.scorecards import scorecard

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _png() -> bytes:
    """A small real PNG, standing in for a chart drawn by kaleido."""
    buf = io.BytesIO()
    Image.new("RGB", (60, 30), "white").save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture()
def served(monkeypatch) -> dict[str, tuple[bytes, str]]:
    """Every file the app hands to Streamlit's media store (download buttons), by file name: (bytes, mimetype)."""
    files: dict[str, tuple[bytes, str]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes) and filename:
            files[filename] = (path_or_data, mimetype)
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files


def _expected(db: Path) -> tuple[str, object]:
    with Store(db) as s:  # the app's connection may be open: same settings
        period = schools.periods(s)[-1]
        return period, scorecard(s, group=FLAGSHIP_PARTNERSHIP, period=period)


def test_governor_downloads_the_scorecard_as_csv_and_excel(demo_db, served) -> None:
    at = open_app("reports.py", role="governor")
    period, card = _expected(demo_db)
    assert at.title[0].value == "Reports"
    assert at.header[0].value == FLAGSHIP_PARTNERSHIP
    assert [h.value for h in at.subheader] == ["Download the scorecard", "Board report (PDF)"]
    labels = [b.label for b in at.download_button]
    assert labels == ["Scorecard as CSV", "Scorecard as Excel"]
    stem = f"northbridge-learning-partnership-{period.replace('/', '-')}-scorecard"
    data, mime = served[f"{stem}.csv"]
    assert mime == "text/csv"
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert table["measure"].tolist() == [r.measure for r in card.rows]
    values = dict(zip(table["measure"], table["value"], strict=True))
    assert all(pd.isna(values[r.measure]) if r.value is None else values[r.measure] == pytest.approx(r.value)
               for r in card.rows)
    xlsx, mime = served[f"{stem}.xlsx"]
    assert mime == XLSX_MIME
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["Scorecard", "Members", "Watch list", "About"]
    assert wb["Members"].max_row == len(card.members) + 1
    assert not at.exception


def test_one_school_can_be_chosen(demo_db, served) -> None:
    at = open_app("reports.py", role="leader")
    box = at.selectbox(key="report_school")
    assert box.options[0] == "The whole group"
    at = box.select_index(1).run()
    assert not at.exception
    school = box.options[1].rsplit(" (", 1)[0]
    assert at.header[0].value == school
    assert at.caption[0].value.startswith(f"A member of {FLAGSHIP_PARTNERSHIP}")
    assert [b.label for b in at.download_button] == ["Scorecard as CSV", "Scorecard as Excel"]


def _poll(at: AppTest, seconds: float = 30) -> AppTest:
    """Rerun until the board report's download button appears (the fragment polls once a second in a browser)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if any(b.label.startswith("Download the board report") for b in at.download_button):
            return at
        assert not at.error, [e.value for e in at.error]
        time.sleep(0.2)
    raise AssertionError("the board report did not finish")


def test_board_report_builds_in_the_background_and_is_offered(demo_db, served, monkeypatch) -> None:
    drawn: list[str] = []

    def quick(figure, width=1000, height=None, scale=2.0):  # stands in for kaleido (slow)
        drawn.append(figure.layout.meta["description"] if figure.layout.meta else "")
        time.sleep(0.3)
        return _png()

    monkeypatch.setattr(reports, "render_png", quick)
    at = open_app("reports.py", role="governor")
    at = next(b for b in at.button if b.label == "Prepare the board report").click().run()
    assert not at.exception
    assert len(at.get("progress")) == 1  # drawing takes 0.3 s a chart: still running on this run
    at = _poll(at)
    assert drawn, "no chart was drawn"
    assert any("ready" in s.value for s in at.success)
    assert not at.main.warning  # the page itself; the sidebar carries the demo banner
    name = next(n for n in served if n.endswith("board-report.pdf"))
    pdf, mime = served[name]
    assert mime == "application/pdf" and pdf.startswith(b"%PDF")


def test_board_report_without_charts_says_so_in_words(demo_db, served, monkeypatch) -> None:
    def broken(figure, width=1000, height=None, scale=2.0):
        raise RuntimeError("Kaleido requires Google Chrome to be installed.")

    monkeypatch.setattr(reports, "render_png", broken)
    at = open_app("reports.py", role="leader")
    at = next(b for b in at.button if b.label == "Prepare the board report").click().run()
    at = _poll(at)
    assert [w.value for w in at.main.warning] == [reports.NO_CHARTS]
    assert not at.exception and not at.error
    pdf, _ = served[next(n for n in served if n.endswith("board-report.pdf"))]
    assert pdf.startswith(b"%PDF")
