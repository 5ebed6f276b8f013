"""Support matching: for a school's weak measure, the schools strong on it that could help.

Pure: candidates (dicts) in, an ordered list of partners out. Partners in the school's own groups
come first (strongest first); then similar schools from its family, nearest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from metrics.registry import Measure
from metrics.scorecard import STRONG_PERCENTILE, adjusted_percentile


@dataclass(frozen=True)
class Partner:
    urn: int
    name: str
    relation: str  # "in <group>" or "similar school (family rank n)"
    value: float | None
    display: str
    percentile: float  # on the 'higher is better' scale
    distance_km: float | None
    head_name: str | None
    telephone: str | None
    website: str | None
    town: str | None
    postcode: str | None


def match_partners(measure: Measure, in_group: Iterable[Mapping], similar: Iterable[Mapping],
                   limit: int = 10, min_percentile: float = STRONG_PERCENTILE) -> list[Partner]:
    """Candidates carry: urn, name, percentile (raw), value, distance_km, contact fields; group ones a
    `group` name, similar ones a `rank`. A partner must be strong: at or above `min_percentile`."""
    def partner(c: Mapping, relation: str) -> Partner | None:
        adj = adjusted_percentile(c.get("percentile"), measure)
        if adj is None or adj < min_percentile:
            return None
        return Partner(int(c["urn"]), c.get("name") or f"School {c['urn']}", relation, c.get("value"),
                       measure.format_value(c.get("value")), adj, c.get("distance_km"), c.get("head_name"),
                       c.get("telephone"), c.get("website"), c.get("town"), c.get("postcode"))

    group_partners = [p for c in in_group if (p := partner(c, f"in {c.get('group')}"))]
    group_partners.sort(key=lambda p: (-p.percentile, p.distance_km if p.distance_km is not None else 1e9, p.urn))
    seen = {p.urn for p in group_partners}
    similar_partners = [p for c in similar if int(c["urn"]) not in seen
                        and (p := partner(c, f"similar school (family rank {c.get('rank')})"))]
    similar_partners.sort(key=lambda p: (p.distance_km if p.distance_km is not None else 1e9, -p.percentile, p.urn))
    return (group_partners + similar_partners)[:limit]
