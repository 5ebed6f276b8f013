"""Pupil groups' results and the disadvantage gap of a school or a group: reads of `pupil_group_observations`.

Unscoped (each function takes the Store first); pages read through data.services.scope. The numbers are made by
metrics.gaps from the rows read here: a group pools each pupil group's own pupils (Σ numerator / Σ cohort), and
each earlier year counts the schools that were in the group that year, as the group's scorecard does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store
from data.services.schools import ord_filter
from data.services.scorecards import group_subject, members_then, registry_for, school_subject, window
from metrics.gaps import (
    DISADVANTAGED,
    HEADLINE,
    OTHERS,
    TOPIC_GROUPS,
    TOPICS,
    Gap,
    GapChange,
    GapTarget,
    GroupValue,
    MemberGap,
    Pooled,
    change_since,
    gap_of,
    member_gaps,
    pool,
    pool_arrays,
    track_gap_target,
    widening_flag,
    widening_words,
)
from metrics.registry import STATUSES, Measure, Registry
from metrics.scorecard import Subject

# National pupil-group values: the state-funded schools' figure first (DfE's comparator for the gap), then all schools
NATIONAL_SCOPES = ("state_funded", "all")
GAP_SCOPE = "gap"
_ROW_COLUMNS = ["urn", "measure", "period", "pupil_group", "value", "numerator", "denominator", "ci_low", "ci_high",
                "status"]


def school_group_rows(store: Store, urns: Sequence[int], periods: Sequence[str], measures: Sequence[str],
                      groups: Sequence[str] | None = None) -> pd.DataFrame:
    """The schools' own pupil-group rows (not DfE's published gaps) for these years and measures: urn, measure,
    period, pupil_group, value, numerator, denominator, ci_low, ci_high, status; and their positions `m` (in
    `measures`), `p` (in `periods`) and `st` (in STATUSES, -1 for none), which is what makes a 500-school read fast
    (as schools.member_rows)."""
    if not urns or not periods or not measures:
        return pd.DataFrame(columns=[*_ROW_COLUMNS, "m", "p", "st", "dis"])
    urns = [int(u) for u in urns]
    # rows are clustered by `ord` (the recluster keeps each group's schools together): the range skips the rest;
    # a row written before its school had an ord (none at write time) is read too
    where_ord, params = ord_filter(store, urns)
    where_ord = f"({where_ord} OR ord IS NULL)" if where_ord != "true" else where_ord
    params.update(urns=urns, periods=list(periods), measures=list(measures), statuses=list(STATUSES),
                  all_groups=groups is None, groups=list(groups or []))
    sql = f"""
        SELECT urn, measure, period, pupil_group, value, numerator, denominator, ci_low, ci_high, status,
               (list_position($measures, measure) - 1)::SMALLINT AS m,
               (list_position($periods, period) - 1)::SMALLINT AS p,
               (coalesce(list_position($statuses, status), 0) - 1)::SMALLINT AS st,
               pupil_group = 'disadvantaged' AS dis
        FROM pupil_group_observations
        WHERE level = 'school' AND scope IS NULL AND {where_ord} AND urn IN (SELECT unnest($urns::INTEGER[]))
          AND period IN (SELECT unnest($periods::VARCHAR[])) AND measure IN (SELECT unnest($measures::VARCHAR[]))
          AND ($all_groups OR pupil_group IN (SELECT unnest($groups::VARCHAR[])))
    """  # noqa: S608 (where_ord is fixed text from ord_filter; values are bound)
    cur = store.cursor()
    try:
        return cur.sql(sql, params=params).to_arrow_table().to_pandas()
    finally:
        cur.close()


def national_group_values(store: Store, periods: Sequence[str], measures: Sequence[str]) \
        -> dict[tuple[str, str, str], float]:
    """England's value of each (measure, period, pupil group): state-funded schools' where published, else all
    schools'."""
    if not periods or not measures:
        return {}
    df = store.query_df("""
        SELECT measure, period, pupil_group, scope, value FROM pupil_group_observations
        WHERE level = 'national' AND status = 'ok' AND value IS NOT NULL
          AND scope IN (SELECT unnest(?::VARCHAR[]))
          AND period IN (SELECT unnest(?::VARCHAR[])) AND measure IN (SELECT unnest(?::VARCHAR[]))
    """, [list(NATIONAL_SCOPES), list(periods), list(measures)])
    out: dict[tuple[str, str, str], float] = {}
    rank: dict[tuple[str, str, str], int] = {}
    for r in df.itertuples(index=False):
        key, at = (r.measure, r.period, r.pupil_group), NATIONAL_SCOPES.index(r.scope)
        if key not in rank or at < rank[key]:
            out[key], rank[key] = float(r.value), at
    return out


def published_gaps(store: Store, urns: Sequence[int], periods: Sequence[str], measures: Sequence[str]) \
        -> dict[tuple[int, str, str], float]:
    """DfE's own published disadvantage gaps (DIFFN_*, *_diffn) of these schools, by (urn, measure, period)."""
    if not urns or not periods or not measures:
        return {}
    rows = store.query("""
        SELECT urn, measure, period, value FROM pupil_group_observations
        WHERE level = 'school' AND scope = ? AND status = 'ok' AND value IS NOT NULL
          AND urn IN (SELECT unnest(?::INTEGER[])) AND period IN (SELECT unnest(?::VARCHAR[]))
          AND measure IN (SELECT unnest(?::VARCHAR[]))
    """, [GAP_SCOPE, list(map(int, urns)), list(periods), list(measures)])
    return {(int(u), m, p): float(v) for u, m, p, v in rows}


# ----------------------------------------------------------------------------------------------- composed reads


@dataclass(frozen=True)
class GapRow:
    """One measure's disadvantage gap for a school or a group: every year of the window, its change, the flag."""

    measure: str
    label: str
    trend: tuple[Gap, ...]  # one per year of the window, oldest first
    change: GapChange  # against the comparable year before
    earlier: GapChange  # against the comparable year two years before (the parents' words)
    flag: str | None  # the reason, when the gap widened significantly while behind
    members: tuple[MemberGap, ...] = ()  # a group's members, most narrowing first
    target: GapTarget | None = None  # the group's target on this gap: the first for this year or later

    @property
    def now(self) -> Gap:
        return self.trend[-1]


@dataclass(frozen=True)
class Disadvantage:
    """How disadvantaged pupils do, for a school or a group, in one year."""

    subject: Subject
    period: str
    periods: tuple[str, ...]
    rows: tuple[GapRow, ...]
    pooling: str = ""
    flags: tuple[tuple[int, str], ...] = field(default_factory=tuple)  # members' widening-gap reasons (groups)

    def row(self, measure: str) -> GapRow | None:
        return next((r for r in self.rows if r.measure == measure), None)


@dataclass(frozen=True)
class _Read:
    subject: Subject
    periods: list[str]
    then: dict[str, list[int]]  # the schools pooled in each year
    registry: Registry
    pooling: str


def _subject(store: Store, *, school: int | None, group: int | None, period: str,
             include_special: bool = False) -> _Read:
    periods = window(store, period)
    if school is not None:
        subject = school_subject(store, int(school))
        return _Read(subject, periods, {p: [subject.id] for p in periods}, registry_for(store, []), "")
    subject, pooling = group_subject(store, str(group), period, include_special=include_special)
    then = members_then(store, subject, periods) or {p: list(subject.members) for p in periods}
    return _Read(subject, periods, then, registry_for(store, [subject.id]), pooling)


def _ordered_measures(read: _Read, phases: Sequence[str | None]) -> list[str]:
    """The headline measures, the phase most members are in first."""
    primary = sum(1 for p in phases if p == "primary")
    secondary = sum(1 for p in phases if p in ("secondary", "all_through", "middle_deemed_secondary"))
    first, second = ("primary", "secondary") if primary > secondary else ("secondary", "primary")
    return [m for m in (*HEADLINE[first], *HEADLINE[second]) if m in read.registry]


def _pool_units(m: Measure, window: Sequence[str], periods: Sequence[str],
                units: Sequence[tuple[int | None, dict[str, set[int]]]], rows: pd.DataFrame) -> Pooled:
    """Every unit's pupil groups in every year of `periods` pooled at once (metrics.gaps.pool_arrays): cell
    (u · len(periods) + year) · 2 + (0 disadvantaged, 1 other pupils).

    A unit is (urn, None) for one school's own rows or (None, {period: urns}) for a group pooling those schools
    in each year."""
    n_p, n_u = len(periods), len(units)
    # this measure's rows in these years only (a member's part reads the last years of the window): `periods` is
    # the window's tail, so a row's year in it is its position in the window less the years before
    first = len(window) - n_p
    df = rows[rows["p"].to_numpy() >= first] if first else rows  # `rows`: this measure's (see disadvantage)
    p_i = df["p"].to_numpy(dtype=np.int64) - first
    g_i = np.where(df["dis"].to_numpy(dtype=bool), 0, 1)
    urn = df["urn"].to_numpy(dtype=np.int64)
    keys, take = [], []
    ones = [(u, one) for u, (one, _) in enumerate(units) if one is not None]
    if ones:  # every school unit at once: a row goes to the unit of its own school
        at = np.array([one for _, one in ones], dtype=np.int64)
        order = np.argsort(at)
        pos = np.searchsorted(at[order], urn)
        hit = (pos < len(at)) & (at[order][np.minimum(pos, len(at) - 1)] == urn)
        idx = np.flatnonzero(hit)
        unit = np.array([u for u, _ in ones], dtype=np.int64)[order][pos[idx]]
        take.append(idx)
        keys.append((unit * n_p + p_i[idx]) * 2 + g_i[idx])
    for u, (one, then) in enumerate(units):
        if one is not None:
            continue
        # the schools in the group that year: (urn, year) pairs, matched in one pass
        pairs = np.fromiter((u_ * n_p + pi for pi, p in enumerate(periods) for u_ in then.get(p, ())),
                            dtype=np.int64)
        mask = np.isin(urn * n_p + p_i, pairs)
        idx = np.flatnonzero(mask)
        take.append(idx)
        keys.append((u * n_p + p_i[idx]) * 2 + g_i[idx])
    idx = np.concatenate(take) if take else np.array([], dtype=np.int64)
    key = np.concatenate(keys) if keys else np.array([], dtype=np.int64)

    def col(c: str) -> np.ndarray:
        return df[c].to_numpy(dtype=float, na_value=np.nan)[idx]

    status = df["st"].to_numpy(dtype=np.int64)[idx]
    return pool_arrays(m, key, n_u * n_p * 2, status, col("value"), col("numerator"), col("denominator"),
                       col("ci_low"), col("ci_high"))


def _gap_trends(m: Measure, window: Sequence[str], periods: Sequence[str],
                units: Sequence[tuple[int | None, dict[str, set[int]]]], rows: pd.DataFrame,
                nat: dict[tuple[str, str, str], float],
                published: dict[tuple[int, str, str], float]) -> list[tuple[Gap, ...]]:
    """Each unit's gap in each year of `periods`, oldest first, one trend per unit in order (see _pool_units)."""
    n_p = len(periods)
    pooled = _pool_units(m, window, periods, units, rows)
    out = []
    for u, (one, _) in enumerate(units):
        trend = []
        for pi, p in enumerate(periods):
            k = (u * n_p + pi) * 2
            trend.append(gap_of(m, p, pooled.one(k, DISADVANTAGED, p), pooled.one(k + 1, OTHERS, p),
                                nat.get((m.id, p, OTHERS)), nat.get((m.id, p, DISADVANTAGED)),
                                published.get((one, m.id, p)) if one is not None else None))
        out.append(tuple(trend))
    return out


def disadvantage(store: Store, *, school: int | None = None, group: int | None = None, period: str,
                 include_special: bool = False, names: dict[int, str] | None = None,
                 targets: dict[str, list[tuple[str, float]]] | None = None) -> Disadvantage:
    """How disadvantaged pupils do in a school or a group: each headline measure's gap (DfE's way), its within gap,
    trend and change, the widening flag, and for a group each member's part in it."""
    if (school is None) == (group is None):
        raise StoreError("say which school or which group")
    read = _subject(store, school=school, group=group, period=period, include_special=include_special)
    subject, periods = read.subject, read.periods
    phases = [subject.phase] if subject.kind == "school" else list(subject.member_phases)
    measures = _ordered_measures(read, phases)
    urns = sorted({u for us in read.then.values() for u in us} | set(subject.members))
    then = {p: set(us) for p, us in read.then.items()}
    rows = school_group_rows(store, urns, periods, measures, [DISADVANTAGED, OTHERS])
    nat = national_group_values(store, periods, measures)
    # DfE's own gaps are shown beside a school's (a group has none of its own)
    published = published_gaps(store, urns, periods, measures) if subject.kind == "school" else {}
    if names is None and subject.kind == "group":
        names = dict(store.query("SELECT urn, coalesce(name, 'School ' || urn) FROM establishments "
                                 "WHERE urn IN (SELECT unnest(?::INTEGER[]))", [list(subject.members)]))
    # each measure's rows, in one pass (not a string comparison per measure)
    by_measure = {int(k): g for k, g in rows.groupby("m", sort=False)} if len(rows) else {}
    out, flags = [], []
    for mid in measures:
        m = read.registry.get(mid)
        mine_rows = by_measure.get(measures.index(mid))
        if mine_rows is None:
            continue
        if subject.kind == "school":
            trend = _gap_trends(m, periods, periods, [(subject.id, {})], mine_rows, nat, published)[0]
        else:
            trend = _gap_trends(m, periods, periods, [(None, then)], mine_rows, nat, published)[0]
            # a member's part needs only this year and the one before (its change and its flag), all at once
            mine = _pool_units(m, periods, periods[-2:], [(u, {}) for u in subject.members], mine_rows)
        if all(g.disadvantaged.value is None for g in trend):
            continue
        members: tuple[MemberGap, ...] = ()
        if subject.kind == "group":
            tail = periods[-2:]
            members = tuple(member_gaps(m, trend[-1], list(subject.members), names or {}, mine, tail,
                                        (nat.get((m.id, tail[0], OTHERS)) if len(tail) == 2 else None,
                                         nat.get((m.id, period, OTHERS)))))
            flags += [(mg.urn, why) for mg in members if mg.change.direction == "widened"
                      and (why := widening_words(m, mg.change, mg.gap)) is not None]
        change = change_since(m, trend, 1)
        aims = [(p, v) for p, v in (targets or {}).get(mid, []) if p >= period]
        target = track_gap_target(m, trend[-1], change, *aims[0]) if aims else None
        out.append(GapRow(mid, m.label, trend, change, change_since(m, trend, 2), widening_flag(m, trend), members,
                          target))
    return Disadvantage(subject, period, tuple(periods), tuple(out), read.pooling, tuple(sorted(flags)))


@dataclass(frozen=True)
class GroupCell:
    """One pupil group's value of a measure for a school or a group, beside England's for the same pupils."""

    pupil_group: str
    value: GroupValue
    national: float | None


def pupil_group_view(store: Store, *, school: int | None = None, group: int | None = None, measure: str,
                     period: str, include_special: bool = False) -> dict[str, tuple[GroupCell, ...]]:
    """Every pupil group's value of one measure in one year, by topic (disadvantage, sex, first language, SEN, prior
    attainment, mobility), pooled over the school's or group's pupils in that group; topics with no value left out."""
    if (school is None) == (group is None):
        raise StoreError("say which school or which group")
    read = _subject(store, school=school, group=group, period=period, include_special=include_special)
    if measure not in read.registry:
        raise StoreError(f"unknown measure {measure!r}")
    m = read.registry.get(measure)
    urns = read.then.get(period, list(read.subject.members))
    rows = school_group_rows(store, urns, [period], [measure])
    nat = national_group_values(store, [period], [measure])
    by = {g: df.to_dict("records") for g, df in rows.groupby("pupil_group")} if len(rows) else {}
    out: dict[str, tuple[GroupCell, ...]] = {}
    for topic, _ in TOPICS:
        cells = tuple(GroupCell(g, pool(m, g, period, by.get(g, [])), nat.get((measure, period, g)))
                      for g in TOPIC_GROUPS[topic])
        if any(c.value.value is not None or c.value.status != "missing" for c in cells if by.get(c.pupil_group)):
            out[topic] = cells
    return out


def measures_with_groups(store: Store, urns: Sequence[int], period: str) -> list[str]:
    """The measures any of these schools has pupil-group values for in the year, most rows first."""
    if not urns:
        return []
    rows = store.query("""
        SELECT measure, count(*) AS n FROM pupil_group_observations
        WHERE level = 'school' AND scope IS NULL AND period = ? AND urn IN (SELECT unnest(?::INTEGER[]))
        GROUP BY measure ORDER BY n DESC, measure
    """, [period, list(map(int, urns))])
    return [m for m, _ in rows]


