"""The School scorecard's table (issue 11 point 8): a real trend line, each number in its measure's format, the
school's own local authority average beside national, and the columns a head reads first, first."""

from __future__ import annotations

import json
import math
from pathlib import Path

from conftest import open_app

from data.db.store import Store
from data.services import schools, scope
from data.services.access import Role, Viewer
from metrics.registry import load_registry
from metrics.scorecard import TrendPoint
from ui.frames import SCHOOL_COLUMNS, SCHOOL_WIDTHS, shown, trend_values

ADMIN = Viewer(Role.ADMIN, None, "admin")
REG = load_registry()


def test_trend_cells_are_finite_numbers_at_the_measures_precision() -> None:  # issue 11 point 8
    from dataclasses import replace

    from metrics.scorecard import ScorecardRow

    p8 = REG.get("progress8")
    base = ScorecardRow(**{f: None for f in ScorecardRow.__dataclass_fields__ if f not in (
        "trend", "member_values", "member_nationals", "flag_reasons")}, trend=(), flag_reasons=())
    row = replace(base, measure="progress8", trend=(
        TrendPoint("2021/22", -0.2547, "ok"), TrendPoint("2022/23", -0.3612, "ok"), TrendPoint("2023/24", 0.04, "ok")))
    assert trend_values(row, p8) == [-0.25, -0.36, 0.04]  # +.2f, as the table: the line's hover agrees with it
    nan = replace(row, trend=(TrendPoint("2022/23", -0.25, "ok"), TrendPoint("2023/24", math.nan, "ok")))
    assert trend_values(nan, p8) == []  # a NaN is no number: one year is left, and one year draws no line
    one = replace(row, trend=(TrendPoint("2023/24", 0.1, "ok"),))
    assert trend_values(one, p8) == []


def test_numbers_in_the_measures_format_and_never_minus_zero() -> None:  # issue 11 point 8
    assert shown(REG.get("ks2_reading_progress"), -0.04) == "+0.0"  # format +.1f: -0.04 rounds to zero
    assert shown(REG.get("ks2_reading_progress"), -0.06) == "-0.1"
    assert shown(REG.get("teacher_salary"), 41234.4) == "£41,234"
    assert shown(REG.get("ks2_rwm_expected"), 61.5) == "62%"
    assert shown(REG.get("attainment8"), None) == "–"


def _la_expected(store: Store, urn: int, measure: str, period: str, scope_: str) -> float | None:
    """An independent read of the school's own LA row (its LA's number, the national comparator's scope)."""
    rows = store.query("SELECT o.value FROM observations o JOIN establishments e ON e.urn = ? "
                       "WHERE o.level = 'la' AND try_cast(o.area_code AS INTEGER) = e.la_code AND o.measure = ? "
                       "AND o.period = ? AND o.scope = ? AND o.status = 'ok'", [urn, measure, period, scope_])
    return rows[0][0] if rows else None


def test_the_page_shows_value_national_la_level_target_and_trend_first(demo_store: Store,
                                                                       demo_db: Path) -> None:  # issue 11 point 8
    at = open_app("school_scorecard.py", role="admin")
    urn = next(s for s in at.selectbox if s.label == "School").value
    period = next(s for s in at.selectbox if s.label == "Academic year").value
    card = scope.school_scorecard(demo_store, ADMIN, urn, period)
    reg = scope.registry(demo_store, ADMIN, urn=urn)
    la_name = schools.establishment(demo_store, urn)["la_name"]
    tables = [d for d in at.dataframe if "Trend" in d.value.columns]
    assert tables and all(list(d.value.columns)[:len(SCHOOL_COLUMNS)] == list(SCHOOL_COLUMNS) for d in tables)
    # the heading names the school's own LA; the widths given out fit the 938 px a 1,400 px window gives the table
    config = json.loads(tables[0].proto.columns)
    assert config["Local authority"]["label"] == f"Local authority ({la_name})"
    assert sum(SCHOOL_WIDTHS.values()) <= 938
    shown_rows = {r["Measure"]: r for d in tables for r in d.value.to_dict("records")}
    by_label = {r.label: r for r in card.rows}
    checked_la = 0
    for label, cells in shown_rows.items():
        r = by_label[label]
        m = reg.get(r.measure)
        assert cells["Value"] == shown(m, r.value) and cells["National"] == shown(m, r.national)
        assert all(isinstance(v, float) and math.isfinite(v) for v in cells["Trend"])
        if r.national_scope is not None:
            expected = _la_expected(demo_store, urn, r.measure, period, r.national_scope)
            if expected is not None:
                assert cells["Local authority"] == shown(m, expected), label
                checked_la += 1
    assert checked_la >= 3  # the demo's LA rows are shown (they were in the store and never on the page)
