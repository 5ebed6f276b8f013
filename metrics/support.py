"""Support matching: for a school's weak measure, the schools strong on it that could help.

Pure: candidates (dicts) in, an ordered list of partners out. Only schools within the travel distance the user
set (None: anywhere) are suggested. Partners in the school's own groups come first (strongest first); then
similar schools of its phase and kind, most similar intake first. Each says in one sentence why it was suggested.

With a pupil-group focus (`Focus`: DfE's universal RISE names schools in the top quarter for disadvantaged
outcomes), "strong" is that group's value at or beyond the top-quarter cut of its phase nationally (`top_quarter`,
over schools whose group has at least the measure's `min_cohort` pupils), and a school whose group is smaller than
that is never named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from metrics.pupil_groups import BY_ID
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
    pupil_group: str | None = None  # the pupils the value is of (None: all pupils)
    cohort: float | None = None  # with a pupil group: how many of its pupils the value rests on


TOP_QUARTER = 75.0  # a pupil-group focus: the percentile (by polarity) a school's group value must reach


@dataclass(frozen=True)
class Focus:
    """Partners strong for one pupil group: the national top-quarter cut of that group's values in the phase."""

    pupil_group: str
    phase: str | None  # the phase the schools are ranked within (the measure's comparison phase)
    cut: float | None  # the value at the top quarter's edge (None: no school ranked)
    schools: int  # schools ranked: those with at least the measure's min_cohort pupils in the group


def top_quarter(measure: Measure, values: np.ndarray) -> float | None:
    """The top quarter's edge of these values by the measure's polarity: the 75th percentile (linear interpolation,
    as numpy and DuckDB's quantile_cont take it) for higher-is-better, the 25th for lower-is-better."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return None
    q = TOP_QUARTER if measure.polarity is not Polarity.LOWER_BETTER else 100.0 - TOP_QUARTER
    return float(np.percentile(v, q))


def mid_rank_percentiles(ranked: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's mid-rank percentile among `ranked` (those below, plus half of those tied, over all), as
    school_stats ranks schools; NaN for a missing value or an empty ranking."""
    r = np.sort(np.asarray(ranked, dtype=float)[~np.isnan(np.asarray(ranked, dtype=float))])
    v = np.asarray(values, dtype=float)
    if not len(r):
        return np.full(len(v), np.nan)
    below = np.searchsorted(r, v, side="left")
    ties = np.searchsorted(r, v, side="right") - below
    return np.where(np.isnan(v), np.nan, (below + 0.5 * ties) / len(r) * 100)


def in_top_quarter(measure: Measure, focus: Focus, value: float | None, cohort: float | None) -> bool:
    """Whether a school's pupil-group value is strong: a cohort of at least min_cohort and at or beyond the cut."""
    if focus.cut is None or value is None or value != value or cohort is None or cohort != cohort:
        return False
    if cohort < measure.min_cohort:
        return False  # a small group's value is too uncertain to name the school as strong
    return value <= focus.cut if measure.polarity is Polarity.LOWER_BETTER else value >= focus.cut


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
           similarity: float | None = None, distance_km: float | None = None, focus: Focus | None = None) -> str:
    """Why a school is suggested, in one sentence: "Attainment 8 of 52.1 against your 41.3, with a similar intake
    (similarity 0.8), 12 km away"; with a focus, "Disadvantaged pupils here reached 58% (top quarter of primary
    schools nationally for disadvantaged pupils; yours: 31%), a school in ..., 4.2 km away"."""
    if focus is None:
        words = f"{measure.label} of {measure.format_value(value)}"
        if own_value is not None:
            words += f" against your {measure.format_value(own_value)}"
    else:
        label = group_words(focus.pupil_group)
        # a share is reached ("reached 58%"); a score is an average over the pupils, of the named measure
        did = (f"reached {measure.format_value(value)}" if measure.unit == "%"
               else f"scored on average {measure.format_value(value)} on {measure.label}")
        phase = f"{focus.phase.replace('_', ' ')} schools" if focus.phase else "schools"
        yours = measure.format_value(own_value) if own_value is not None else "not published"
        words = (f"{label[:1].upper()}{label[1:]} here {did} (top quarter of {phase} nationally for {label}; "
                 f"yours: {yours})")
    if group:
        words += f", a school in {group}"
    if similarity is not None and similarity == similarity:
        words += f", with a similar intake (similarity {similarity:.2f})"
    if distance_km is not None and distance_km == distance_km:
        # the pupil-group sentence gives a tenth of a km, the precision of the distance column beside it
        far = f"{distance_km:.1f}" if focus is not None else f"{distance_km:.0f}"
        words += f", {far} km away" if distance_km >= 1 else ", less than 1 km away"
    else:
        words += " (how far away is not known)"
    return words + "."


def group_words(pupil_group: str) -> str:
    """A pupil group as words inside a sentence: "disadvantaged pupils", "pupils with an EHC plan"."""
    g = BY_ID.get(pupil_group)
    label = g.label if g else pupil_group.replace("_", " ")
    return label[:1].lower() + label[1:]


def match_partners(measure: Measure, in_group: Iterable[Mapping], similar: Iterable[Mapping],
                   limit: int = 10, min_percentile: float = STRONG_PERCENTILE, *, own_value: float | None = None,
                   max_km: float | None = None, focus: Focus | None = None) -> list[Partner]:
    """Candidates carry: urn, name, percentile (raw), value, distance_km, contact fields; group ones a
    `group` name, similar ones a `similarity`. A partner must be strong (at or above `min_percentile`) and within
    `max_km` (None: anywhere).

    With a `focus`, value, percentile and `cohort` are the pupil group's, and strong is `in_top_quarter`
    (`min_percentile` is not used); `own_value` is the asking school's own value for that group."""
    def partner(c: Mapping, relation: str, group: str | None) -> Partner | None:
        adj = adjusted_percentile(c.get("percentile"), measure)
        if focus is not None:
            if adj is None or not in_top_quarter(measure, focus, c.get("value"), c.get("cohort")):
                return None
        elif adj is None or adj < min_percentile:
            return None
        if not within(c.get("distance_km"), max_km):
            return None
        if not better(measure, c.get("value"), own_value):
            return None  # strong nationally, yet no better than the school it would help
        sim = c.get("similarity")
        return Partner(int(c["urn"]), c.get("name") or "A school without a name in the files", relation,
                       c.get("value"), measure.format_value(c.get("value")), adj, c.get("distance_km"),
                       c.get("head_name"), c.get("telephone"), c.get("website"), c.get("town"), c.get("postcode"),
                       sim, reason(measure, c.get("value"), own_value, group=group, similarity=sim,
                                   distance_km=c.get("distance_km"), focus=focus),
                       focus.pupil_group if focus else None, c.get("cohort") if focus else None)

    far = 1e9  # an unknown distance sorts last
    group_partners = [p for c in in_group if (p := partner(c, f"in {c.get('group')}", c.get("group")))]
    group_partners.sort(key=lambda p: (-p.percentile, p.distance_km if p.distance_km is not None else far, p.urn))
    seen = {p.urn for p in group_partners}
    similar_partners = [p for c in similar if int(c["urn"]) not in seen
                        and (p := partner(c, "similar school", None))]
    similar_partners.sort(key=lambda p: (-(p.similarity if p.similarity is not None else -1.0),
                                         p.distance_km if p.distance_km is not None else far, p.urn))
    return (group_partners + similar_partners)[:limit]
