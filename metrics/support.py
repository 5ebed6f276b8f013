"""Support matching: for a school's weak measure, the schools strong on it that could help.

Pure: candidates (dicts) in, an ordered list of partners out. Only schools within the travel distance the user
set (None: anywhere) are suggested. Partners in the school's own groups come first (strongest first); then
similar schools of its phase and kind, most similar intake first. Each says in one sentence why it was suggested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from metrics.registry import Measure, Polarity
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
    similarity: float | None = None  # metrics.families.similarity: 1 = identical context
    reason: str = ""  # one sentence: why this school was suggested


DEFAULT_MAX_KM = 30.0  # the travel distance partners are looked for within, unless the user sets another


def within(distance_km: float | None, max_km: float | None) -> bool:
    """Whether a school this far away may be suggested: anywhere (None) takes all, a distance needs a known one."""
    return max_km is None or (distance_km is not None and distance_km == distance_km and distance_km <= max_km)


def better(measure: Measure, value: float | None, own_value: float | None) -> bool:
    """Whether a value is better than the school's own by the measure's polarity (unknown: not excluded)."""
    if value is None or own_value is None or value != value or own_value != own_value:
        return True
    return value < own_value if measure.polarity is Polarity.LOWER_BETTER else value > own_value


def reason(measure: Measure, value: float | None, own_value: float | None, *, group: str | None = None,
           similarity: float | None = None, distance_km: float | None = None) -> str:
    """Why a school is suggested, in one sentence: "Attainment 8 of 52.1 against your 41.3, with a similar intake
    (similarity 0.8), 12 km away"."""
    words = f"{measure.label} of {measure.format_value(value)}"
    if own_value is not None:
        words += f" against your {measure.format_value(own_value)}"
    if group:
        words += f", a school in {group}"
    if similarity is not None and similarity == similarity:
        words += f", with a similar intake (similarity {similarity:.2f})"
    if distance_km is not None and distance_km == distance_km:
        words += f", {distance_km:.0f} km away" if distance_km >= 1 else ", less than 1 km away"
    else:
        words += " (how far away is not known)"
    return words + "."


def match_partners(measure: Measure, in_group: Iterable[Mapping], similar: Iterable[Mapping],
                   limit: int = 10, min_percentile: float = STRONG_PERCENTILE, *, own_value: float | None = None,
                   max_km: float | None = None) -> list[Partner]:
    """Candidates carry: urn, name, percentile (raw), value, distance_km, contact fields; group ones a
    `group` name, similar ones a `similarity`. A partner must be strong (at or above `min_percentile`) and within
    `max_km` (None: anywhere)."""
    def partner(c: Mapping, relation: str, group: str | None) -> Partner | None:
        adj = adjusted_percentile(c.get("percentile"), measure)
        if adj is None or adj < min_percentile or not within(c.get("distance_km"), max_km):
            return None
        if not better(measure, c.get("value"), own_value):
            return None  # strong nationally, yet no better than the school it would help
        sim = c.get("similarity")
        return Partner(int(c["urn"]), c.get("name") or "A school without a name in the files", relation,
                       c.get("value"), measure.format_value(c.get("value")), adj, c.get("distance_km"),
                       c.get("head_name"), c.get("telephone"), c.get("website"), c.get("town"), c.get("postcode"),
                       sim, reason(measure, c.get("value"), own_value, group=group, similarity=sim,
                                   distance_km=c.get("distance_km")))

    far = 1e9  # an unknown distance sorts last
    group_partners = [p for c in in_group if (p := partner(c, f"in {c.get('group')}", c.get("group")))]
    group_partners.sort(key=lambda p: (-p.percentile, p.distance_km if p.distance_km is not None else far, p.urn))
    seen = {p.urn for p in group_partners}
    similar_partners = [p for c in similar if int(c["urn"]) not in seen
                        and (p := partner(c, "similar school", None))]
    similar_partners.sort(key=lambda p: (-(p.similarity if p.similarity is not None else -1.0),
                                         p.distance_km if p.distance_km is not None else far, p.urn))
    return (group_partners + similar_partners)[:limit]
