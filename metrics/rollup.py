"""Combining school observations into a group value. Pure: records or sums in, numbers out.

Rates are always recomputed as sum(numerator) / sum(denominator) — never the mean of school
percentages. Cohort-weighted means are the same formula, because the store keeps
numerator = value x cohort / scale for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from metrics.registry import Measure, Rollup, Status


@dataclass(frozen=True)
class GroupValue:
    value: float | None
    cohort: float | None  # sum of the contributing denominators (pupils), when known
    status: Status
    schools_reporting: int  # schools whose value is in the group value
    schools_total: int
    method: str  # how the value was made, in words


@dataclass(frozen=True)
class Sums:
    """What a roll-up needs from the members' rows for one measure and period."""

    total: int = 0  # member rows
    ok: int = 0  # rows with status ok and a value
    with_parts: int = 0  # ok rows that also have numerator and a positive denominator
    sum_value: float = 0.0
    sum_num: float = 0.0
    sum_den: float = 0.0
    weighted: int = 0  # ok rows with a pupils weight
    sum_wvalue: float = 0.0
    sum_w: float = 0.0
    commonest_status: str = Status.MISSING.value


def _clean(v: object) -> object:
    """NaN (how pandas says 'no value') becomes None, so it is never read as a number."""
    return None if isinstance(v, float) and v != v else v


def sums_of(rows: Iterable[Mapping], weights: Mapping[int, float] | None = None) -> Sums:
    rows = [{k: _clean(v) for k, v in r.items()} for r in rows]
    ok = [r for r in rows if r.get("status") == Status.OK.value and r.get("value") is not None]
    parts = [r for r in ok if r.get("numerator") is not None and r.get("denominator")]
    w = [(float(r["value"]), float(weights[int(r["urn"])])) for r in ok
         if weights and weights.get(int(r["urn"])) is not None]
    counts = Counter(r.get("status") for r in rows if r.get("status"))
    return Sums(
        total=len(rows), ok=len(ok), with_parts=len(parts),
        sum_value=sum(float(r["value"]) for r in ok),
        sum_num=sum(float(r["numerator"]) for r in parts), sum_den=sum(float(r["denominator"]) for r in parts),
        weighted=len(w), sum_wvalue=sum(v * x for v, x in w), sum_w=sum(x for _, x in w),
        commonest_status=counts.most_common(1)[0][0] if counts else Status.MISSING.value,
    )


def rollup_sums(measure: Measure, s: Sums) -> GroupValue:
    """The group value from members' sums: pooled, cohort-weighted, pupil-weighted, or summed."""
    if not s.ok:
        return GroupValue(None, None, Status(s.commonest_status), 0, s.total, "no school has a value")
    if measure.rollup is Rollup.SUM:
        return GroupValue(s.sum_value, None, Status.OK, s.ok, s.total, "sum of schools' values")
    if s.with_parts == s.ok and s.sum_den > 0:
        value = s.sum_num / s.sum_den * measure.scale  # numerator = value x denominator / scale
        method = ("pooled: all pupils together, sum of numerators / sum of denominators"
                  if measure.rollup is Rollup.POOLED_RATIO else "cohort-weighted mean of schools' values")
        return GroupValue(value, s.sum_den, Status.OK, s.ok, s.total, method)
    # No cohort in the file (absence, workforce): weight by pupils on roll, else a plain mean.
    if s.weighted == s.ok and s.sum_w > 0:
        return GroupValue(s.sum_wvalue / s.sum_w, s.sum_w, Status.OK, s.ok, s.total, "mean weighted by pupils on roll")
    return GroupValue(s.sum_value / s.ok, None, Status.OK, s.ok, s.total, "unweighted mean (no cohort sizes known)")


def rollup(measure: Measure, rows: Iterable[Mapping], weights: Mapping[int, float] | None = None) -> GroupValue:
    """Group value of one measure from its members' observations (keys: urn, value, numerator,
    denominator, status). `weights` (e.g. pupils on roll) serve when a row has no denominator."""
    return rollup_sums(measure, sums_of(rows, weights))


def national_scopes(school_phase: str | None, measure: Measure) -> list[str]:
    """Benchmark scopes to try, best first: the school's phase (or, for a group, the measure's own phase),
    then state-funded, then all schools."""
    phase = school_phase if school_phase is not None else (measure.phases[0].value if measure.phases else None)
    first = [phase] if phase in ("primary", "secondary", "special") else []
    return [*first, "state_funded", "all"]
