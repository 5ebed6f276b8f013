"""Each school's own local authority average: the LA benchmark DfE publishes beside the national one.

The LA rows are in `observations` at level 'la' (the performance tables' LA footer rows, EES files'
"Local authority" rows), keyed by the LA's number (`area_code`, text) or, in CFR files, by its name. A school's
LA average is the row of its own LA (establishments.la_code / la_name) for the measure and year, of the same kind
of schools as the national figure the school is compared with (metrics.comparators.national_for): a secondary
school beside "national, secondary schools" gets its LA's secondary schools. Only when its LA publishes no figure
of that kind does it take the next of the school's comparison scopes the LA has (own phase, state-funded, all
schools), and the figure says which (LaFigure.scope). Unscoped: pages read it through
data.services.scope.local_authority_values. The rule is stated in docs/method.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from data.db.store import Store
from data.services import schools
from metrics.comparators import comparison_scopes, national_for, over_100
from metrics.registry import Measure, Rollup, load_registry


@dataclass(frozen=True)
class LaFigure:
    """One school's LA average for one measure and year, and which schools of the LA it covers."""

    value: float
    scope: str  # a benchmark scope: primary, secondary, special, state_funded, all, ...


def la_values(store: Store, urns: Sequence[int], period: str,
              measures: Sequence[Measure | str]) -> dict[tuple[int, str], float]:
    """Each school's own LA's benchmark value by (urn, measure id), for one period; absent when its LA has none."""
    return {k: f.value for k, f in la_figures(store, urns, period, measures).items()}


def la_figures(store: Store, urns: Sequence[int], period: str,
               measures: Sequence[Measure | str]) -> dict[tuple[int, str], LaFigure]:
    """Each school's own LA's benchmark, with its scope, by (urn, measure id), for one period.

    A measure given by id is looked up among the national measures (a group's local measures have no LA figure).
    The scope is the national comparator's, else the next of the school's comparison scopes that its LA has (see
    the module's docstring). Counts that add up (pupils, FTE) have no LA average, as they have no national one,
    and a share over 100% is never returned."""
    national = load_registry()
    chosen: list[Measure] = []
    for m in measures:
        if isinstance(m, Measure):
            chosen.append(m)
        elif m in national:
            chosen.append(national.get(m))
    chosen = [m for m in chosen if m.rollup is not Rollup.SUM]
    school_ids = sorted({int(u) for u in urns})
    if not chosen or not school_ids:
        return {}
    by_id = {m.id: m for m in chosen}
    # the LA's own rows: its number as the file wrote it ('815', '0815'), or its name (CFR's LA rows). Two equi-joins
    # (one per way of naming the LA), not one join on an OR: an OR condition stops DuckDB from hashing the join, and
    # the school card's LA column took 1.3 s of CPU that way (measured, issue 12 load benchmark)
    rows = store.query(
        "WITH la AS (SELECT o.area_code, o.measure, o.scope, o.value FROM observations o WHERE o.level = 'la' "
        "AND o.period = $period AND o.measure IN (SELECT unnest($measures::VARCHAR[])) AND o.status = 'ok' "
        "AND o.value IS NOT NULL), "
        "schools AS (SELECT urn, phase, la_code, la_name FROM establishments "
        "WHERE urn IN (SELECT unnest($urns::INTEGER[]))) "
        "SELECT urn, phase, measure, scope, value FROM ("
        "SELECT 0 AS pref, s.urn, s.phase, l.measure, l.scope, l.value FROM schools s "
        "JOIN la l ON try_cast(trim(l.area_code) AS INTEGER) = s.la_code "
        "UNION ALL "
        "SELECT 1 AS pref, s.urn, s.phase, l.measure, l.scope, l.value FROM schools s "
        "JOIN la l ON upper(trim(l.area_code)) = upper(trim(s.la_name)) WHERE s.la_name IS NOT NULL"
        ") ORDER BY pref",
        {"period": period, "measures": list(by_id), "urns": school_ids})
    phases: dict[int, str | None] = {}
    found: dict[tuple[int, str], dict[str, float]] = {}
    for urn, phase, measure, scope, value in rows:
        phases[int(urn)] = phase
        # two files may carry the same LA figure (a footer row and an EES row): the first read is kept
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
