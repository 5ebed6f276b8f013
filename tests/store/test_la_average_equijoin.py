"""The LA average's read as two equi-joins gives what the one join on an OR gave (issue 14: the OR stopped DuckDB
from hashing the join, 1.3 s of the school card's cold cost), on the demo and on the real North Yorkshire files."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from conftest import PERF

from data.db.store import Store
from data.ingest.importers import import_file
from data.services import schools
from data.services.la_average import LaFigure, la_figures
from metrics.comparators import comparison_scopes, national_for, over_100
from metrics.registry import Rollup, load_registry

# the read before issue 14, word for word but for the parameters' names: one join on an OR of the two ways an LA
# row names its LA (its number as the file wrote it, or its name)
OR_JOIN = (
    "SELECT e.urn, e.phase, o.measure, o.scope, o.value FROM establishments e JOIN observations o "
    "ON o.level = 'la' AND (try_cast(trim(o.area_code) AS INTEGER) = e.la_code "
    "OR upper(trim(o.area_code)) = upper(trim(e.la_name))) "
    "WHERE e.urn IN (SELECT unnest($urns::INTEGER[])) AND o.period = $period "
    "AND o.measure IN (SELECT unnest($measures::VARCHAR[])) AND o.status = 'ok' AND o.value IS NOT NULL")


def or_join_figures(store: Store, urns: Sequence[int], period: str, measures: Sequence[str],
                    ) -> dict[tuple[int, str], LaFigure]:
    """la_figures as it was, the OR join and the same choice of scope after it."""
    national = load_registry()
    by_id = {m: national.get(m) for m in measures if m in national and national.get(m).rollup is not Rollup.SUM}
    rows = store.query(OR_JOIN, {"period": period, "measures": list(by_id), "urns": sorted({int(u) for u in urns})})
    phases: dict[int, str | None] = {}
    found: dict[tuple[int, str], dict[str, float]] = {}
    for urn, phase, measure, scope, value in rows:
        phases[int(urn)] = phase
        found.setdefault((int(urn), measure), {}).setdefault(scope, float(value))
    bench = schools.national_index(store)
    out: dict[tuple[int, str], LaFigure] = {}
    for (urn, mid), by_scope in found.items():
        m = by_id[mid]
        phase = phases[urn]
        _value, scope = national_for(bench, m, period, phase)
        own = comparison_scopes(phase, m)
        for s in ([scope] if scope is not None else []) + [s for s in own if s != scope]:
            v = by_scope.get(s)
            if v is not None and not over_100(m, v):
                out[(urn, mid)] = LaFigure(v, s)
                break
    return out


def _every_school_and_year(store: Store) -> list[tuple[list[int], str]]:
    urns = [int(u) for (u,) in store.query("SELECT urn FROM establishments ORDER BY urn")]
    periods = [str(p) for (p,) in store.query("SELECT DISTINCT period FROM observations WHERE level = 'la' "
                                              "ORDER BY period")]
    return [(urns, p) for p in periods]


def _same(store: Store) -> int:
    """Both reads agree for every school, LA year and national measure; returns how many figures were compared."""
    measures = [m.id for m in load_registry().measures]
    compared = 0
    for urns, period in _every_school_and_year(store):
        new = la_figures(store, urns, period, measures)
        old = or_join_figures(store, urns, period, measures)
        assert new == old, period
        compared += len(new)
    return compared


def test_the_demo_gets_the_same_la_figures_as_the_or_join(demo_store: Store) -> None:
    assert _same(demo_store) > 1000


def test_the_real_north_yorkshire_files_get_the_same_la_figures(tmp_path) -> None:
    store = Store(tmp_path / "real.duckdb")
    try:
        for name in ("815_2019_ks4provisional.csv", "815_2019_census.csv"):
            report = import_file(store, PERF / name, "2018/19")
            assert report.ok, report.message
        assert _same(store) > 10
    finally:
        store.close()


@pytest.mark.parametrize("way", ["number", "zero-padded number", "name"])
def test_each_way_of_naming_the_la_matches_once(tmp_path, way: str) -> None:
    """A school whose LA row names it by number, by a zero-padded number or by name gets it once, as before."""
    store = Store(tmp_path / "s.duckdb")
    code = {"number": "815", "zero-padded number": "0815", "name": " north yorkshire "}[way]
    try:
        with store.results_transaction() as cur:
            cur.execute("INSERT INTO establishments (urn, name, la_code, la_name, phase) VALUES "
                        "(100001, 'Sec', 815, 'North Yorkshire', 'secondary')")
            cur.executemany("INSERT INTO observations (level, area_code, scope, measure, period, value, status) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", [
                                ("national", "E92000001", "secondary", "attainment8", "2024/25", 45.0, "ok"),
                                ("la", code, "secondary", "attainment8", "2024/25", 47.5, "ok")])
        new = la_figures(store, [100001], "2024/25", ["attainment8"])
        assert new == or_join_figures(store, [100001], "2024/25", ["attainment8"])
        assert new == {(100001, "attainment8"): LaFigure(47.5, "secondary")}
    finally:
        store.close()

