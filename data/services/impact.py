"""Has working together made a difference? The reads behind metrics.impact's event study, for a group or for the
support a group's schools received.

Each read is made once per store generation and kept (schools.kept): a measure's national panel (every school's
value and cohort in every year, an earlier URN's results standing in for its successor's years before it), the
year each school first joined a group of a kind, and each treated school's family in the year it is measured from.
Unscoped: pages read through data.services.scope, which checks who may see the group first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store
from data.services import groups as groups_svc
from data.services import schools
from data.services.groups import Group
from metrics.impact import REFERENCE, GroupImpact, ImpactResult, LeftOut, Panel, estimate_impact, prepare_panel
from metrics.registry import Measure, load_registry
from metrics.timeline import academic_year_of, start_year

# The measures the question is asked of (issue 15): national outcomes with a value every year they are published
IMPACT_MEASURES = ("attainment8", "progress8", "basics_94", "basics_95", "ks2_rwm_expected", "overall_absence",
                   "persistent_absence")
BEFORE_RECORDS = -10_000.0  # a membership with no start date: in the group since before any results (never a control)


def _panel_frame(store: Store, measure: str) -> pd.DataFrame:
    """Every school's value and cohort of the measure each year, under its own URN; a year it has no row for is
    its nearest earlier URN's (a converter academy's results before conversion, up to the last year that URN stands
    for), as its card reads them. One query: the country's rows of one measure, the choice made in SQL."""
    return store.query_df("""
        WITH own AS (
            SELECT urn, period, value, denominator AS weight FROM observations
            WHERE level = 'school' AND measure = $measure AND status = 'ok' AND value IS NOT NULL
        ), earlier AS (  -- an earlier URN's rows, for the years its successor has none of its own
            SELECT l.urn, o.period, o.value, o.weight FROM school_lineage l JOIN own o ON o.urn = l.ancestor_urn
            WHERE (l.until_period IS NULL OR o.period <= l.until_period)
              AND NOT EXISTS (SELECT 1 FROM own x WHERE x.urn = l.urn AND x.period = o.period)
            QUALIFY row_number() OVER (PARTITION BY l.urn, o.period ORDER BY l.depth, l.ancestor_urn) = 1
        )
        SELECT urn::BIGINT AS urn, CAST(substr(period, 1, 4) AS BIGINT) AS year, value::DOUBLE AS value,
               weight::DOUBLE AS weight
        FROM (SELECT * FROM own UNION ALL SELECT * FROM earlier)
    """, {"measure": measure}, fast=True)


def national_panel(store: Store, measure: str) -> Panel:
    """The measure's panel for every school (metrics.impact.prepare_panel), kept per store generation."""
    return schools.kept(store, ("impact_panel", measure), lambda: prepare_panel(_panel_frame(store, measure)),
                        lambda p: int(p.values.nbytes * 3 + p.urns.nbytes + 1024))


def _successors(store: Store) -> dict[int, int]:
    """Each earlier URN's latest successor (the school it became)."""
    rows = store.query("SELECT ancestor_urn, urn, depth FROM school_lineage ORDER BY depth DESC")
    return {int(a): int(u) for a, u, _d in rows}


def first_joined(store: Store, kind: str) -> dict[int, float]:
    """The academic year each school first joined any group of this kind (a membership without a start date: before
    any results). An earlier URN counts as joined when the school it became did (it never serves as a comparison
    for its own successor's joining)."""
    def compute() -> dict[int, float]:
        rows = store.query(
            "SELECT m.urn, min(m.start_date), bool_or(m.start_date IS NULL) FROM memberships m "
            "JOIN groups g USING (group_id) WHERE g.kind = ? GROUP BY m.urn", [kind])
        out = {int(u): BEFORE_RECORDS if undated or d is None else float(academic_year_of(d)) for u, d, undated in rows}
        for old, new in _successors(store).items():
            if new in out:
                out[old] = min(out.get(old, out[new]), out[new])
        return out
    return schools.kept(store, ("impact_first_joined", kind), compute, lambda d: 256 + 64 * len(d))


def families_at(store: Store, treated: Mapping[int, int]) -> dict[int, list[int]]:
    """Each treated school's family (its nearest same-phase schools on context) in the year it is measured from
    (two years before joining), else the nearest year it has one, else its earlier URN's."""
    urns = sorted(treated)
    line = store.query("SELECT urn, ancestor_urn FROM school_lineage WHERE urn IN (SELECT unnest(?::INTEGER[])) "
                       "ORDER BY depth", [urns]) if urns else []
    ancestors: dict[int, list[int]] = {}
    for u, a in line:
        ancestors.setdefault(int(u), []).append(int(a))
    asked = sorted({*urns, *(a for v in ancestors.values() for a in v)})
    fam = store.query_df("SELECT urn, period, rank, neighbour FROM family_by_year "
                         "WHERE urn IN (SELECT unnest(?::INTEGER[])) ORDER BY urn, period, rank", [asked])
    fam["year"] = [start_year(p) for p in fam["period"]]
    by_urn = {int(u): g for u, g in fam.groupby("urn", sort=False)}
    out: dict[int, list[int]] = {}
    for u in urns:
        want = treated[u] + REFERENCE
        for source in (u, *ancestors.get(u, [])):
            g = by_urn.get(source)
            if g is None or g.empty:
                continue
            year = min(g["year"].unique().tolist(), key=lambda y: (abs(y - want), -y))
            out[u] = [int(n) for n in g.loc[g["year"] == year, "neighbour"].tolist() if int(n) != u]
            break
    return out


def group_joiners(store: Store, group: Group) -> tuple[dict[int, int], list[LeftOut]]:
    """The schools that joined the group on a known date (urn -> the academic year of joining), and those left out:
    a school already in another group of the kind before (it moved between groups: another question), or one with
    no start date."""
    rows = store.query("SELECT urn, min(start_date), bool_or(start_date IS NULL) FROM memberships "
                       "WHERE group_id = ? GROUP BY urn ORDER BY urn", [group.group_id])
    first = first_joined(store, group.kind)
    joined: dict[int, int] = {}
    left: list[LeftOut] = []
    for u, d, undated in rows:
        if undated or d is None:
            left.append(LeftOut(int(u), 0, "no date of joining is recorded"))
            continue
        g = academic_year_of(d)
        if first.get(int(u), g) < g:
            left.append(LeftOut(int(u), g, f"it was in another {group.kind} before it joined this one"))
            continue
        joined[int(u)] = g
    return joined, left


def group_impact(store: Store, group: str | int, measure: str) -> GroupImpact:
    """The event study of the schools that joined a group, on one measure, against similar schools that had not
    (yet) joined any group of its kind (metrics.impact; docs/method.md)."""
    found = groups_svc.find_group(store, group)
    if found is None:
        raise StoreError(f"no group with id, code or exact name {group!r} in the store")
    m = _measure(measure)

    def compute() -> GroupImpact:
        joined, left = group_joiners(store, found)
        result = _estimate(store, m, joined, first_joined(store, found.kind))
        result = replace(result, left_out=tuple(left) + result.left_out)
        return GroupImpact(found.group_id, found.name, found.kind, m, result, _who(store, joined),
                           f"schools that joined {found.name}")
    return schools.kept(store, ("impact_group", found.group_id, m.id), compute, lambda _r: 64 * 1024)


def support_impact(store: Store, group: str | int, measure: str) -> GroupImpact:
    """The same comparison for the group's schools that received support on the measure (the support ledger: the
    academic year their first such support began) against similar schools that had received none on it — an
    association, not proof: support goes to schools that need it, and other things change at the same time."""
    found = groups_svc.find_group(store, group)
    if found is None:
        raise StoreError(f"no group with id, code or exact name {group!r} in the store")
    m = _measure(measure)

    def compute() -> GroupImpact:
        rows = store.query("SELECT taker_urn, group_id, min(start_date)::DATE FROM support_records WHERE measure = ? "
                           "GROUP BY taker_urn, group_id", [m.id])
        first: dict[int, float] = {}
        mine: dict[int, int] = {}
        for u, gid, d in rows:
            y = academic_year_of(d)
            first[int(u)] = min(first.get(int(u), y), y)
            if int(gid) == found.group_id:
                mine[int(u)] = min(mine.get(int(u), y), y)
        treated = {u: g for u, g in mine.items() if first[u] == g}  # its first support on the measure was here
        result = _estimate(store, m, treated, first)
        return GroupImpact(found.group_id, found.name, found.kind, m, result, _who(store, treated),
                           f"schools that received support on {m.label} in {found.name}")
    return schools.kept(store, ("impact_support", found.group_id, m.id), compute, lambda _r: 64 * 1024)


def _estimate(store: Store, m: Measure, treated: Mapping[int, int], first: Mapping[int, float]) -> ImpactResult:
    panel = national_panel(store, m.id)
    return estimate_impact(panel, treated, families_at(store, treated), first, measure=m.id)


def _measure(measure: str) -> Measure:
    registry = load_registry()
    if measure not in registry:
        raise StoreError(f"unknown measure {measure!r}; the impact of joining is measured on: "
                         + ", ".join(IMPACT_MEASURES))
    return registry.get(measure)


def _who(store: Store, joined: Mapping[int, int]) -> tuple[tuple[int, str, int], ...]:
    urns = sorted(joined)
    names = dict(store.query("SELECT urn, coalesce(name, 'School ' || urn) FROM establishments "
                             "WHERE urn IN (SELECT unnest(?::INTEGER[]))", [urns])) if urns else {}
    return tuple((u, names.get(u, f"School {u}"), joined[u]) for u in urns)


def impact_measures(store: Store) -> list[Measure]:
    """The measures the store has results for that the question is asked of, in IMPACT_MEASURES' order."""
    have = set(schools.kept(store, ("impact_have",), lambda: [r[0] for r in store.query(
        "SELECT DISTINCT measure FROM observations WHERE level = 'school' AND measure IN "
        "(SELECT unnest(?::VARCHAR[]))", [list(IMPACT_MEASURES)])], lambda v: 512))
    registry = load_registry()
    return [registry.get(m) for m in IMPACT_MEASURES if m in have and m in registry]
