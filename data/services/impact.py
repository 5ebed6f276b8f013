"""Has working together made a difference? The reads behind metrics.impact's event study, for a group or for the
support a group's schools received.

Each read is made once per store generation and kept (schools.kept): a measure's national panel (every school's
value and cohort in every year, an earlier URN's results standing in for its successor's years before it), the
year each school first joined a group of a kind, and each treated school's family in the year it is measured from.
Unscoped: pages read through data.services.scope, which checks who may see the group first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store
from data.services import groups as groups_svc
from data.services import schools
from metrics.impact import REFERENCE, EventPoint, ImpactResult, LeftOut, Panel, estimate_impact, prepare_panel, sentence
from metrics.registry import Measure, load_registry
from metrics.timeline import period_of, start_year

# The measures the question is asked of (issue 15): national outcomes with a value every year they are published
IMPACT_MEASURES = ("attainment8", "progress8", "basics_94", "basics_95", "ks2_rwm_expected", "overall_absence",
                   "persistent_absence")
NEVER = float("nan")
BEFORE_RECORDS = -10_000.0  # a membership with no start date: in the group since before any results (never a control)


@dataclass(frozen=True)
class GroupImpact:
    """The event study of one group's joiners on one measure, with who they are."""

    group_id: int
    group_name: str
    kind: str
    measure: Measure
    result: ImpactResult
    schools: tuple[tuple[int, str, int], ...]  # (urn, name, academic start year it joined), every joiner studied
    about: str  # what was compared, in words ("schools that joined the trust" / "schools that received support")

    @property
    def unit(self) -> str:
        """What the differences are counted in: percentage points for a rate, else points of the score."""
        return "percentage points" if self.measure.unit == "%" else "points"

    @property
    def words(self) -> str:
        """The pooled effect in a sentence (metrics.impact.sentence), judged by the measure's polarity."""
        m = self.measure
        return sentence(self.result, m.label, self.unit, m.polarity, decimals=2 if m.id == "progress8" else 1)


def academic_year(day: date | str) -> int:
    """The academic year (its start) a day falls in: 1 September to 31 August."""
    d = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return d.year - (d.month < 9)


def _panel_frame(store: Store, measure: str) -> pd.DataFrame:
    """Every school's value and cohort of the measure each year, under its own URN; a year it has no row for is
    its nearest earlier URN's (a converter academy's results before conversion), as its card reads them."""
    obs = store.query_df(
        "SELECT urn, period, value, denominator AS weight FROM observations "
        "WHERE level = 'school' AND measure = ? AND status = 'ok' AND value IS NOT NULL", [measure])
    line = store.query_df("SELECT urn, ancestor_urn, depth, until_period FROM school_lineage")
    obs["year"] = [start_year(p) for p in obs["period"]]
    if len(line):
        old = obs.merge(line, left_on="urn", right_on="ancestor_urn", suffixes=("_old", ""))
        old = old[old["until_period"].isna() | (old["period"] <= old["until_period"].fillna(""))]
        old = old.sort_values("depth").drop_duplicates(["urn", "year"])
        own = set(zip(obs["urn"].tolist(), obs["year"].tolist(), strict=True))
        old = old[[(u, y) not in own for u, y in zip(old["urn"].tolist(), old["year"].tolist(), strict=True)]]
        obs = pd.concat([obs[["urn", "year", "value", "weight"]], old[["urn", "year", "value", "weight"]]],
                        ignore_index=True)
    return obs[["urn", "year", "value", "weight"]].astype({"urn": "int64", "year": "int64", "value": "float64",
                                                          "weight": "float64"})


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
        out = {int(u): BEFORE_RECORDS if undated or d is None else float(academic_year(d)) for u, d, undated in rows}
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


def group_joiners(store: Store, group_id: int) -> tuple[dict[int, int], list[LeftOut]]:
    """The schools that joined the group on a known date (urn -> the academic year of joining), and those left out:
    a school already in another group of the kind before (it moved between groups: another question), or one with
    no start date."""
    group = groups_svc.find_group(store, group_id)
    if group is None:
        raise StoreError(f"no group with id, code or exact name {group_id!r} in the store")
    rows = store.query("SELECT urn, min(start_date), bool_or(start_date IS NULL) FROM memberships "
                       "WHERE group_id = ? GROUP BY urn ORDER BY urn", [group.group_id])
    first = first_joined(store, group.kind)
    joined: dict[int, int] = {}
    left: list[LeftOut] = []
    for u, d, undated in rows:
        if undated or d is None:
            left.append(LeftOut(int(u), 0, "no date of joining is recorded"))
            continue
        g = academic_year(d)
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
        joined, left = group_joiners(store, found.group_id)
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
        rows = store.query("SELECT taker_urn, group_id, min(start_date) FROM support_records WHERE measure = ? "
                           "GROUP BY taker_urn, group_id", [m.id])
        first: dict[int, float] = {}
        mine: dict[int, int] = {}
        for u, gid, d in rows:
            y = academic_year(d)
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


def event_frame(impact: GroupImpact) -> pd.DataFrame:
    """The numbers behind the chart, one row per year relative to joining and one for the pooled effect (the CSV)."""
    rows = []
    for p in (*impact.result.points, impact.result.after):
        rows.append({"measure": impact.measure.id, "relative_year": "after (+1 to +3)" if p.k is None else p.k,
                     "academic_years": "" if p.k is None else _years(impact, p.k), "shown": p.shown,
                     "estimate": p.estimate if p.shown else None, "low": p.low if p.shown else None,
                     "high": p.high if p.shown else None, "schools": p.schools, "pupils": round(p.pupils),
                     "note": p.reason})
    return pd.DataFrame(rows)


def _years(impact: GroupImpact, k: int) -> str:
    years = sorted({g + k for _u, _n, g in impact.schools})
    return ", ".join(period_of(y) for y in years)


def impact_measures(store: Store) -> list[Measure]:
    """The measures the store has results for that the question is asked of, in IMPACT_MEASURES' order."""
    have = set(schools.kept(store, ("impact_have",), lambda: [r[0] for r in store.query(
        "SELECT DISTINCT measure FROM observations WHERE level = 'school' AND measure IN "
        "(SELECT unnest(?::VARCHAR[]))", [list(IMPACT_MEASURES)])], lambda v: 512))
    registry = load_registry()
    return [registry.get(m) for m in IMPACT_MEASURES if m in have and m in registry]


def joiners_by_group(store: Store, kind: str | None = None) -> Sequence[tuple[int, str, int]]:
    """(group id, name, schools that joined on a known date) for every group (of a kind), most joiners first."""
    rows = store.query(
        "SELECT g.group_id, g.name, count(DISTINCT m.urn) FILTER (WHERE m.start_date IS NOT NULL) AS n "
        "FROM groups g JOIN memberships m USING (group_id) WHERE ? IS NULL OR g.kind = ? "
        "GROUP BY ALL ORDER BY n DESC, g.group_id", [kind, kind])
    return [(int(g), str(n), int(c)) for g, n, c in rows]



def _point_json(p: EventPoint) -> dict:
    shown = p.shown
    return {"relative_year": p.k, "shown": shown, "estimate": p.estimate if shown else None,
            "low": p.low if shown else None, "high": p.high if shown else None,
            "se": p.se if shown and p.se == p.se else None, "schools": p.schools, "pupils": round(p.pupils),
            "note": p.reason or None}


def impact_json(impact: GroupImpact) -> dict:
    """The CLI's JSON: per relative year the estimate, its interval, the schools and pupils it rests on; the pooled
    effect; the pre-join check; the caveats; the schools studied and those left out."""
    r = impact.result
    after = {e.urn: e.att_after for e in r.per_school if e.att_after == e.att_after}  # NaN: none after joining
    return {
        "group": {"id": impact.group_id, "name": impact.group_name, "kind": impact.kind},
        "measure": impact.measure.id, "label": impact.measure.label, "unit": impact.unit, "about": impact.about,
        "event_study": [_point_json(p) for p in r.points],
        "pooled_effect": {**_point_json(r.after), "relative_years": "+1 to +3", "words": impact.words},
        "pretrend": {"verdict": r.verdict, "words": r.pretrend_words,
                     "p_value": r.pretrend_p if r.pretrend_p == r.pretrend_p else None},
        "caveats": list(r.caveats),
        "schools": [{"urn": u, "name": n, "joined": period_of(g), "effect_after": after.get(u)}
                    for u, n, g in impact.schools],
        "left_out": [{"urn": x.urn, "reason": x.reason} for x in r.left_out],
    }
