"""Reads for support matching: the school's group partners and similar schools nearby, with distances and contacts.

Like with like: a partner is of the school's own phase (as the measure compares schools: school_stats.phase) and
kind (metrics.families.school_kind: an alternative provision or special school is never offered as a model to a
mainstream school, nor a grammar to a comprehensive), and within the travel distance the user set.

With a pupil group (`pupil_group="disadvantaged"`), a partner is strong for that group's pupils: its group's value is
in the top quarter of its phase nationally (`pupil_group_focus`: one national ranking per measure, year and phase,
over the schools whose group has at least the measure's min_cohort pupils) and better than the school's own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store, registered
from data.ingest.derived import school_kinds
from data.services import groups as groups_svc
from data.services import schools
from data.services.families import similar_intakes
from data.services.scorecards import registry_for
from metrics.families import haversine_km
from metrics.periods import parse_period
from metrics.pupil_groups import BY_ID
from metrics.registry import Measure, Phase
from metrics.support import DEFAULT_MAX_KM, Focus, Partner, match_partners, mid_rank_percentiles, top_quarter

__all__ = ["DEFAULT_MAX_KM", "partner_measures", "pupil_group_focus", "pupil_group_ranking", "support_partners"]

_CONTACT = "e.name, e.head_name, e.telephone, e.website, e.town, e.postcode, e.latitude, e.longitude"


def support_partners(store: Store, urn: int, measure: str, period: str, limit: int = 10, *,
                     groups: list[int] | None = None, max_km: float | None = DEFAULT_MAX_KM,
                     pupil_group: str | None = None) -> list[Partner]:
    """Schools strong on `measure` that could support school `urn`, within `max_km` of it (None: anywhere): its own
    groups first, then similar schools. `groups` limits the "own groups" to these (data.services.scope passes the ones
    the viewer may see). With `pupil_group`, strong and better are of that group's pupils (see the module's note)."""
    period = parse_period(period)
    if max_km is not None and not (max_km > 0):
        raise StoreError(f"a travel distance is more than 0 km, not {max_km:g} km")
    if pupil_group is not None and pupil_group not in BY_ID:
        raise StoreError(f"unknown pupil group {pupil_group!r}")
    me = schools.establishment(store, urn)
    if me is None:
        raise StoreError(f"no school with URN {urn} in the store")
    if groups is None:
        groups = groups_svc.memberships(store, urn)["group_id"].tolist()
    groups = [int(g) for g in groups]
    registry = registry_for(store, groups)
    if measure not in registry:
        raise StoreError(f"unknown measure {measure!r}")
    m = registry.get(measure)
    in_group = store.query_df(
        f"""
        SELECT DISTINCT ON (e.urn) e.urn, g.name AS "group", {_CONTACT}
        FROM memberships mine
        JOIN memberships other ON other.group_id = mine.group_id AND other.urn <> mine.urn
        JOIN groups g ON g.group_id = mine.group_id
        JOIN establishments e ON e.urn = other.urn
        WHERE mine.urn = $urn AND other.end_date IS NULL AND mine.end_date IS NULL
          AND list_contains($groups::INTEGER[], mine.group_id)
        ORDER BY e.urn, g.name
        """, {"urn": urn, "groups": groups})  # noqa: S608 (_CONTACT is fixed text)
    pool = similar_intakes(store, urn, period)
    if pool.empty:  # no context that year: the latest year's
        pool = similar_intakes(store, urn)
    cur = store.cursor()
    try:
        with registered(cur, "_pool", pool):
            similar = cur.execute(f"SELECT p.urn, p.similarity, {_CONTACT} FROM _pool p "  # noqa: S608 (fixed text)
                                  "JOIN establishments e ON e.urn = p.urn").df()
        kind_of = school_kinds(cur, [int(urn), *in_group["urn"].tolist()])
    finally:
        cur.close()
    focus = None
    if pupil_group is None:
        values = _all_pupils(store, m, period, [int(urn), *in_group["urn"], *similar["urn"]])
        phase = values.loc[int(urn), "phase"] if int(urn) in values.index else None
        own_value = values.loc[int(urn), "value"] if int(urn) in values.index else None
        values = values.drop(index=int(urn), errors="ignore")
    else:
        ranked = pupil_group_ranking(store, m, period, pupil_group)
        phase = ranked.loc[int(urn), "phase"] if int(urn) in ranked.index else _comparison_phase(m, me.get("phase"))
        focus = pupil_group_focus(m, ranked, pupil_group, phase)
        own_value = ranked.loc[int(urn), "own"] if int(urn) in ranked.index else None
        values = ranked.drop(index=int(urn), errors="ignore")
    own_value = None if own_value is None or own_value != own_value else float(own_value)
    in_group = in_group.join(values, on="urn", how="inner")
    similar = similar.join(values, on="urn", how="inner")
    lat, lon = me.get("latitude"), me.get("longitude")
    own_kind = kind_of.get(int(urn))
    # like with like: the measure's own comparison phase, and the same kind of school (pool is of the kind already)
    in_group = in_group[(in_group["phase"] == phase) & (in_group["urn"].map(kind_of) == own_kind)].copy()
    similar = similar[similar["phase"] == phase].copy()
    for df in (in_group, similar):
        if len(df) and lat == lat and lat is not None:
            df["distance_km"] = np.round(haversine_km(
                float(lat), float(lon), df["latitude"].to_numpy(dtype=float), df["longitude"].to_numpy(dtype=float)),
                1)
        else:
            df["distance_km"] = pd.Series([None] * len(df), index=df.index, dtype=object)
    return match_partners(m, _records(in_group), _records(similar), limit, own_value=own_value, max_km=max_km,
                          focus=focus)


def _all_pupils(store: Store, m: Measure, period: str, urns: list[int]) -> pd.DataFrame:
    """These schools' percentile (within the measure's comparison phase), phase and value of the measure, by urn."""
    return store.query_df("""
        SELECT s.urn, s.percentile, s.phase, o.value
        FROM school_stats s
        LEFT JOIN observations o ON o.level = 'school' AND o.urn = s.urn AND o.measure = s.measure
             AND o.period = s.period
        WHERE s.measure = ? AND s.period = ? AND s.urn IN (SELECT unnest(?::INTEGER[]))
    """, [m.id, period, urns]).drop_duplicates("urn").set_index("urn")


def _comparison_phase(m: Measure, phase: object) -> str | None:
    """The phase a school of this GIAS phase is compared within on this measure, as school_stats ranks it
    (data/ingest/derived.py): an all-through school, or a key stage outside the school's phase, goes with the
    measure's first phase (primary for a KS2 measure, else secondary)."""
    if phase is None or phase != phase:
        return None
    first = "primary" if m.phases and m.phases[0] is Phase.PRIMARY else "secondary"
    if phase == "all_through" or (phase == "primary" and Phase.PRIMARY not in m.phases) \
            or (phase == "secondary" and Phase.SECONDARY not in m.phases):
        return first
    return str(phase)


def pupil_group_ranking(store: Store, m: Measure, period: str, pupil_group: str) -> pd.DataFrame:
    """Every school's value of the measure for the pupil group in the year, nationally, by urn: `own` (its value
    whatever its cohort), and, where the group has at least min_cohort pupils, `value`, `cohort` and its mid-rank
    `percentile` within its comparison phase; with its `phase`. One read and one numpy ranking per phase."""
    rows = store.query_df("""
        SELECT p.urn, e.phase AS gias_phase, p.value, p.denominator AS cohort
        FROM pupil_group_observations p
        JOIN establishments e ON e.urn = p.urn
        -- a school's own value of the group (scope NULL), not DfE's published gap (scope 'gap')
        WHERE p.level = 'school' AND p.scope IS NULL AND coalesce(p.source_kind, '') <> 'local'
          AND p.measure = ? AND p.period = ? AND p.pupil_group = ?
          AND p.status = 'ok' AND p.value IS NOT NULL
    """, [m.id, period, pupil_group]).drop_duplicates("urn")
    phases = {ph: _comparison_phase(m, ph) for ph in rows["gias_phase"].dropna().unique()}
    rows["phase"] = rows["gias_phase"].map(phases)
    rows["own"] = rows["value"]
    # a group smaller than min_cohort (or of unknown size) is never ranked, so never named as strong
    small = ~(rows["cohort"].astype(float) >= m.min_cohort)
    rows.loc[small, ["value", "cohort"]] = np.nan
    rows["percentile"] = np.nan
    for _, block in rows[~small].groupby("phase"):
        values = block["value"].to_numpy(dtype=float)
        rows.loc[block.index, "percentile"] = mid_rank_percentiles(values, values)
    return rows.drop(columns="gias_phase").set_index("urn")


def pupil_group_focus(m: Measure, ranked: pd.DataFrame, pupil_group: str, phase: str | None) -> Focus:
    """The top-quarter cut of the phase's ranked schools (`_group_values`) for the pupil group."""
    values = ranked.loc[(ranked["phase"] == phase) & ranked["percentile"].notna(), "value"].to_numpy(dtype=float)
    return Focus(pupil_group, phase, top_quarter(m, values), len(values))


def partner_measures(store: Store, urn: int, period: str, pupil_group: str, *,
                     groups: list[int] | None = None) -> list[str]:
    """The judged national measures the school has a DfE value of for the pupil group in the year (partners can be
    looked for on these), in the registry's order; `groups` as in support_partners."""
    period = parse_period(period)
    if groups is None:
        groups = groups_svc.memberships(store, urn)["group_id"].tolist()
    have = {r[0] for r in store.query(
        # DfE's results only: a top quarter is national, and a local measure's values are the group's own
        "SELECT DISTINCT measure FROM pupil_group_observations WHERE level = 'school' AND scope IS NULL "
        "AND coalesce(source_kind, '') <> 'local' "
        "AND urn = ? AND period = ? AND pupil_group = ? AND status = 'ok' AND value IS NOT NULL",
        [int(urn), period, pupil_group])}
    return [m.id for m in registry_for(store, [int(g) for g in groups]).measures if m.judged and m.id in have]


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN) where a value is missing."""
    return df.astype(object).where(df.notna(), None).to_dict("records")
