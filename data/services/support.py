"""Reads for support matching: the school's group partners and similar schools nearby, with distances and contacts.

Like with like: a partner is of the school's own phase (as the measure compares schools: school_stats.phase) and
kind (metrics.families.school_kind: an alternative provision or special school is never offered as a model to a
mainstream school, nor a grammar to a comprehensive), and within the travel distance the user set."""

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
from metrics.support import DEFAULT_MAX_KM, Partner, match_partners

__all__ = ["DEFAULT_MAX_KM", "support_partners"]

_CONTACT = "e.name, e.head_name, e.telephone, e.website, e.town, e.postcode, e.latitude, e.longitude"


def support_partners(store: Store, urn: int, measure: str, period: str, limit: int = 10, *,
                     groups: list[int] | None = None, max_km: float | None = DEFAULT_MAX_KM) -> list[Partner]:
    """Schools strong on `measure` that could support school `urn`, within `max_km` of it (None: anywhere): its own
    groups first, then similar schools. `groups` limits the "own groups" to these (data.services.scope passes the ones
    the
    viewer may see)."""
    period = parse_period(period)
    if max_km is not None and not (max_km > 0):
        raise StoreError(f"a travel distance is more than 0 km, not {max_km:g} km")
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
    mine = store.query("SELECT s.phase, o.value FROM school_stats s LEFT JOIN observations o ON o.level = 'school' "
                       "AND o.urn = s.urn AND o.measure = s.measure AND o.period = s.period "
                       "WHERE s.urn = ? AND s.measure = ? AND s.period = ?", [urn, measure, period])
    phase, own_value = mine[0] if mine else (None, None)
    in_group = store.query_df(
        f"""
        SELECT DISTINCT ON (e.urn) e.urn, g.name AS "group", s.percentile, s.phase, o.value, {_CONTACT}
        FROM memberships mine
        JOIN memberships other ON other.group_id = mine.group_id AND other.urn <> mine.urn
        JOIN groups g ON g.group_id = mine.group_id
        JOIN establishments e ON e.urn = other.urn
        JOIN school_stats s ON s.urn = other.urn AND s.measure = $measure AND s.period = $period
        LEFT JOIN observations o ON o.level = 'school' AND o.urn = other.urn AND o.measure = $measure
             AND o.period = $period
        WHERE mine.urn = $urn AND other.end_date IS NULL AND mine.end_date IS NULL
          AND list_contains($groups::INTEGER[], mine.group_id)
        ORDER BY e.urn, s.percentile DESC
        """, {"urn": urn, "measure": measure, "period": period, "groups": groups})  # noqa: S608 (_CONTACT is fixed text)
    pool = similar_intakes(store, urn, period)
    if pool.empty:  # no context that year: the latest year's
        pool = similar_intakes(store, urn)
    cur = store.cursor()
    try:
        with registered(cur, "_pool", pool):
            similar = cur.execute(
                f"""
                SELECT p.urn, p.similarity, s.percentile, s.phase, o.value, {_CONTACT}
                FROM _pool p
                JOIN establishments e ON e.urn = p.urn
                JOIN school_stats s ON s.urn = p.urn AND s.measure = $measure AND s.period = $period
                LEFT JOIN observations o ON o.level = 'school' AND o.urn = p.urn AND o.measure = $measure
                     AND o.period = $period
                """, {"measure": measure, "period": period}).df()  # noqa: S608 (_CONTACT is fixed text)
        kind_of = school_kinds(cur, [int(urn), *in_group["urn"].tolist()])
    finally:
        cur.close()
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
    return match_partners(m, _records(in_group), _records(similar), limit, own_value=own_value, max_km=max_km)


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN) where a value is missing."""
    return df.astype(object).where(df.notna(), None).to_dict("records")
