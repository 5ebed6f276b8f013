"""Combining school observations into a group value. Pure: lists of dicts in, numbers out.

Rates are always recomputed as sum(numerator) / sum(denominator) — never the mean of school
percentages. Cohort-weighted means are the same formula, because the store keeps
numerator = value x cohort for them.
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


def rollup(measure: Measure, rows: Iterable[Mapping], weights: Mapping[int, float] | None = None) -> GroupValue:
    """Group value of one measure from its members' observations (keys: urn, value, numerator,
    denominator, status). `weights` (e.g. pupils on roll) serve when a row has no denominator."""
    rows = [{k: _clean(v) for k, v in r.items()} for r in rows]
    ok = [r for r in rows if r.get("status") == Status.OK.value and r.get("value") is not None]
    status = Status.OK if ok else _commonest_status(rows)
    if not ok:
        return GroupValue(None, None, status, 0, len(rows), "no school has a value")
    if measure.rollup is Rollup.SUM:
        total = sum(float(r["value"]) for r in ok)
        return GroupValue(total, None, Status.OK, len(ok), len(rows), "sum of schools' values")
    with_parts = [r for r in ok if r.get("numerator") is not None and r.get("denominator")]
    if len(with_parts) == len(ok):
        num = sum(float(r["numerator"]) for r in ok)
        den = sum(float(r["denominator"]) for r in ok)
        value = num / den * measure.scale  # the store keeps numerator = value x denominator / scale
        method = ("pooled: all pupils together, sum of numerators / sum of denominators"
                  if measure.rollup is Rollup.POOLED_RATIO else "cohort-weighted mean of schools' values")
        return GroupValue(value, den, Status.OK, len(ok), len(rows), method)
    # No cohort in the file (absence, workforce): weight by the given weights, else a plain mean.
    w = {int(r["urn"]): float(weights[int(r["urn"])]) for r in ok
         if weights and weights.get(int(r["urn"])) is not None}
    if len(w) == len(ok) and sum(w.values()) > 0:
        value = sum(float(r["value"]) * w[int(r["urn"])] for r in ok) / sum(w.values())
        return GroupValue(value, sum(w.values()), Status.OK, len(ok), len(rows), "mean weighted by pupils on roll")
    value = sum(float(r["value"]) for r in ok) / len(ok)
    return GroupValue(value, None, Status.OK, len(ok), len(rows), "unweighted mean (no cohort sizes known)")


def _clean(v: object) -> object:
    """NaN (how pandas says 'no value') becomes None, so it is never read as a number."""
    return None if isinstance(v, float) and v != v else v


def _commonest_status(rows: list[Mapping]) -> Status:
    counts = Counter(r.get("status") for r in rows if r.get("status"))
    if not counts:
        return Status.MISSING
    return Status(counts.most_common(1)[0][0])


def national_scopes(school_phase: str | None, measure: Measure) -> list[str]:
    """Benchmark scopes to try, best first: the school's phase (or, for a group, the measure's own phase),
    then state-funded, then all schools."""
    phase = school_phase if school_phase is not None else (measure.phases[0].value if measure.phases else None)
    first = [phase] if phase in ("primary", "secondary", "special") else []
    return [*first, "state_funded", "all"]
