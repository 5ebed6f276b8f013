"""Issue 14 point 4: an import rebuilds the derived tables of its own years only, equal to a whole rebuild."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import derived_rows

from data.db.store import Store
from data.demo.files import write_demo_files
from data.ingest import importers
from data.ingest.derived import forget_period, refresh_derived
from data.ingest.importers import after_imports, import_file


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str | None]]:
    """The session demo's own files (same size and seed: the same bytes build_demo imported)."""
    return write_demo_files(tmp_path_factory.mktemp("demo_files"), schools=300, years=3)


def _close(a: object, b: object) -> bool:
    """Equal, floats to within rounding: two whole rebuilds read rows in different orders, so a regression's sums
    (and a residual near zero) differ in their last bits."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def assert_same(got: dict[str, list[tuple]], want: dict[str, list[tuple]]) -> None:
    """Every derived table has the same rows (sorted), floats within rounding."""
    assert got.keys() == want.keys()
    for table in want:
        assert len(got[table]) == len(want[table]), table
        bad = [(g, w) for g, w in zip(got[table], want[table], strict=True) if not _close(g, w)]
        assert bad == [], (table, bad[:3])


def _year(files: list[tuple[Path, str | None]], period: str) -> list[Path]:
    """That year's results files (not GIAS or Ofsted: those describe schools, not a year)."""
    return [p for p, per in files if per == period]


def _reimport(store: Store, paths: list[Path], seen: list[str | None],
              monkeypatch: pytest.MonkeyPatch) -> None:
    """Import the files one by one, then the derived work once, as `python -m data import` does; note the year the
    rebuild started from."""
    real = importers.rebuild_since

    def spy(s: Store, reports: list) -> str | None:
        seen.append(real(s, reports))
        return seen[-1]

    monkeypatch.setattr(importers, "rebuild_since", spy)
    reports = [import_file(store, p, None, recluster=False, demo_files=True) for p in paths]
    assert all(r.ok for r in reports), [r.summary() for r in reports if not r.ok]
    after_imports(store, reports)


@pytest.mark.parametrize("which", ["latest", "earliest"])
def test_a_years_import_rebuilds_from_its_year_and_equals_a_whole_rebuild(
        demo_store: Store, demo_files: list[tuple[Path, str | None]], monkeypatch: pytest.MonkeyPatch,
        which: str) -> None:
    periods = sorted(p for (p,) in demo_store.query("SELECT DISTINCT period FROM school_stats"))
    period = periods[-1] if which == "latest" else periods[0]
    paths = _year(demo_files, period)
    assert paths
    forget_period(demo_store, period, actor="test")
    before = derived_rows(demo_store)
    assert not any(r for r in before["school_stats"] if period in r)
    seen: list[str | None] = []
    _reimport(demo_store, paths, seen, monkeypatch)
    assert seen == [period]  # a partial rebuild: from the year imported on
    partial = derived_rows(demo_store)
    assert any(r[3] == period for r in partial["school_stats"])
    refresh_derived(demo_store)  # the whole rebuild, over the same observations
    assert_same(derived_rows(demo_store), partial)
    if which == "latest":  # the earlier years' rows were left as they were, and are what a whole rebuild gives
        for table, rows in before.items():
            if table not in ("families", "school_context"):
                assert_same({table: [r for r in rows if period not in r]},
                            {table: [r for r in partial[table] if period not in r]})


def test_a_change_to_schools_context_rebuilds_every_year(demo_store: Store) -> None:
    report = importers.ImportReport(file="x.csv", observations=5, periods=["2024/25"], import_id=10**6)
    assert importers.rebuild_since(demo_store, [report]) == "2024/25"
    report.context_changed = True  # a school's phase, type, admissions or ages changed, or a school was added
    assert importers.rebuild_since(demo_store, [report]) is None
    with demo_store.results_transaction() as cur:
        before = importers._context_basis(cur)
        cur.execute("UPDATE establishments SET updated_at = now(), name = name || ' '")  # nothing derived reads
        assert importers._context_basis(cur) == before
        urn, type_name = cur.execute("SELECT urn, type_name FROM establishments WHERE phase = 'secondary' "
                                     "ORDER BY urn LIMIT 1").fetchall()[0]
        cur.execute("UPDATE establishments SET type_name = 'Foundation special school' WHERE urn = ?", [urn])
        assert importers._context_basis(cur) != before  # now a special school: another kind
        cur.execute("UPDATE establishments SET type_name = ? WHERE urn = ?", [type_name, urn])
        assert importers._context_basis(cur) == before
        cur.execute("UPDATE establishments SET phase = NULL WHERE urn = ?", [urn])
        assert importers._context_basis(cur) != before


def test_a_pending_import_not_among_these_rebuilds_every_year(demo_store: Store) -> None:
    with demo_store.results_transaction() as cur:  # an import killed between its commit and its derived tables
        cur.execute("UPDATE imports SET outcome = 'pending' WHERE import_id = (SELECT min(import_id) FROM imports)")
    report = importers.ImportReport(file="x.csv", observations=5, periods=["2024/25"], import_id=10**6)
    assert importers.rebuild_since(demo_store, [report]) is None
    with demo_store.results_transaction() as cur:
        cur.execute("UPDATE imports SET outcome = 'ok' WHERE outcome = 'pending'")
    assert importers.rebuild_since(demo_store, [report]) == "2024/25"
