"""Issue 9, point 16: text from an imported file or a person is never a spreadsheet formula. Schools imported from a
GIAS file as =HYPERLINK(…), @SUM(1+1) and +1-2, and a local measure labelled =1+1, go into the staff Excel report
and every CSV download: read back, no cell is a formula and the text is intact (Excel keeps a leading apostrophe's
meaning in a CSV: the cell is text); numbers, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hostile import FORMULA_LABEL, FORMULA_SCHOOLS, Hostile, plant
from openpyxl import load_workbook

from data.db.state import copy_store
from data.db.store import Store
from data.outputs.reports import frame_csv, scorecard_csv, scorecard_xlsx
from data.services import governance, scope
from data.services.access import Role, Viewer
from data.services.publications import published
from metrics.text import FORMULA_STARTS, formula_like, spreadsheet_text
from ui.frames import audit_frame


@pytest.fixture(scope="module")
def planted(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Hostile]:
    work = tmp_path_factory.mktemp("formulas")
    db = work / "hostile.duckdb"
    copy_store(demo_master, db)
    return db, plant(db, work)


def _cards(db: Path, h: Hostile):
    """The group's card and each formula-named school's card, with the group's registry, as a leader sees them."""
    leader = Viewer(Role.LEADER, h.group_id, "Leader")
    with Store(db, read_only=True) as s:
        reg = scope.registry(s, leader, h.group_id)
        group = scope.group_scorecard(s, leader, h.group_id, h.period)
        schools = [scope.school_scorecard(s, leader, urn, h.period) for urn, name in h.schools.items()
                   if name in FORMULA_SCHOOLS]
    return reg, [group, *schools]


def test_the_excel_report_has_no_formula_and_keeps_the_text(planted) -> None:
    db, h = planted
    reg, cards = _cards(db, h)
    for card in cards:
        wb = load_workbook(io.BytesIO(scorecard_xlsx(card, reg)))  # data_only=False: a formula would stay one
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        assert [c.coordinate for c in cells if c.data_type == "f"] == []
        texts = {c.value for c in cells if isinstance(c.value, str)}
        assert FORMULA_LABEL in texts  # the local measure's label, as written
        if card.subject.kind == "group":
            assert set(FORMULA_SCHOOLS) <= texts  # the Members sheet names every school as written
        else:
            assert card.subject.name in texts  # the About sheet names the school
        # a text a spreadsheet would run is marked as text for Excel too (its quote prefix survives editing)
        assert all(c.quotePrefix for c in cells if formula_like(c.value))
        numbers = [c.value for c in cells if c.data_type == "n"]
        assert numbers and all(isinstance(v, int | float) for v in numbers)


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _no_formula(rows: list[list[str]]) -> None:
    """No CSV cell a spreadsheet would run: text starting with = + - @ tab or CR is quoted; numbers are numbers."""
    cells = [c for row in rows for c in row]
    assert [c for c in cells if c.startswith(FORMULA_STARTS) and spreadsheet_text(c) == "'" + c] == []


def test_every_csv_download_writes_formulas_as_text(planted) -> None:
    db, h = planted
    reg, cards = _cards(db, h)
    leader = Viewer(Role.LEADER, h.group_id, "Leader")
    downloads: dict[str, bytes] = {f"scorecard {c.subject.name}": scorecard_csv(c, reg) for c in cards}
    with Store(db, read_only=True) as s:
        pub = published(s, h.publication_id)
        assert pub is not None
        downloads["parents' CSV"] = pub.csv_bytes()
        downloads["change history"] = frame_csv(audit_frame(scope.audit_log(s, leader, h.group_id)))
        for m in governance.uploadable_measures(s, leader, h.group_id):
            downloads[f"template {m.id}"] = governance.upload_template(s, leader, h.group_id, m.id).encode()
    for name, content in downloads.items():
        rows = _rows(content)
        _no_formula(rows)
        assert rows, name
    cells = {c for content in downloads.values() for row in _rows(content) for c in row}
    assert "'" + FORMULA_LABEL in cells  # the label, marked as text, otherwise as written
    assert {"'" + n for n in FORMULA_SCHOOLS} <= cells  # the schools, in the parents' CSV and the change history
    assert "'=2+2 and -3" in cells  # a leader's commentary
    group_csv = _rows(downloads[f"scorecard {cards[0].subject.name}"])
    header = group_csv[0]
    changes = [row[header.index("change")] for row in group_csv[1:]]
    assert any(v.startswith("-") and float(v) < 0 for v in changes if v)  # a fall on last year: still a number


def test_the_helper_leaves_numbers_and_plain_words_alone() -> None:
    assert [spreadsheet_text(t) for t in ("-0.25", "+3", "-1,234.5", "-12%", "Northbridge", "", None)] == \
        ["-0.25", "+3", "-1,234.5", "-12%", "Northbridge", "", ""]
    assert [spreadsheet_text(t) for t in ("=1+1", "+1-2", "-3 hours", "@SUM(1)", "\t=1", "\r=1")] == \
        ["'=1+1", "'+1-2", "'-3 hours", "'@SUM(1)", "'\t=1", "'\r=1"]
