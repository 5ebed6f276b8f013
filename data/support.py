"""Reads for support matching: the school's group partners and its family, with distances and contacts."""

from __future__ import annotations

import numpy as np

from data.formats import parse_period
from data.scorecards import registry_for
from data.store import Store, StoreError
from metrics.families import haversine_km
from metrics.support import Partner, match_partners

_CONTACT = "e.name, e.head_name, e.telephone, e.website, e.town, e.postcode, e.latitude, e.longitude"


def support_partners(store: Store, urn: int, measure: str, period: str, limit: int = 10, *,
                     groups: list[int] | None = None) -> list[Partner]:
    """Schools strong on `measure` that could support school `urn`: its own groups first, then similar schools.
    `groups` limits the "own groups" to these (data.scope passes the ones the viewer may see)."""
    period = parse_period(period)
    me = store.establishment(urn)
    if me is None:
        raise StoreError(f"no school with URN {urn} in the store")
    if groups is None:
        groups = store.memberships(urn)["group_id"].tolist()
    groups = [int(g) for g in groups]
    registry = registry_for(store, groups)
    if measure not in registry:
        raise StoreError(f"unknown measure {measure!r}")
    m = registry.get(measure)
    in_group = store.query_df(
        f"""
        SELECT DISTINCT ON (e.urn) e.urn, g.name AS "group", s.percentile, o.value, {_CONTACT}
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
    similar = store.query_df(
        f"""
        SELECT f.rank, e.urn, s.percentile, o.value, {_CONTACT}
        FROM families f
        JOIN establishments e ON e.urn = f.neighbour
        JOIN school_stats s ON s.urn = f.neighbour AND s.measure = $measure AND s.period = $period
        LEFT JOIN observations o ON o.level = 'school' AND o.urn = f.neighbour AND o.measure = $measure
             AND o.period = $period
        WHERE f.urn = $urn ORDER BY f.rank
        """, {"urn": urn, "measure": measure, "period": period})  # noqa: S608
    lat, lon = me.get("latitude"), me.get("longitude")
    for df in (in_group, similar):
        if len(df) and lat == lat and lat is not None:
            df["distance_km"] = np.round(haversine_km(float(lat), float(lon), df["latitude"].to_numpy(dtype=float),
                                                      df["longitude"].to_numpy(dtype=float)), 1)
        else:
            df["distance_km"] = None
    clean = lambda df: df.astype(object).where(df.notna(), None).to_dict("records")  # noqa: E731
    return match_partners(m, clean(in_group), clean(similar), limit)
