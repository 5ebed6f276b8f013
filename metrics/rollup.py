"""Combining school observations into a group value. Pure: records or sums in, numbers out.

Rates are always recomputed as sum(numerator) / sum(denominator) — never the mean of school
percentages. Cohort-weighted means are the same formula, because the store keeps
numerator = value x cohort / scale for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from metrics.registry import STATUSES, Measure, Rollup, Status


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
    """The sums of one measure and period from readable rows (urn, value, numerator, denominator, status):
    the same computation as `sums_table`, which it calls."""
    rows = [{k: _clean(v) for k, v in r.items()} for r in rows]
    pos = {s: i for i, s in enumerate(STATUSES)}
    nan = float("nan")

    def num(r: Mapping, key: str) -> float:
        v = r.get(key)
        return nan if v is None else float(v)

    w = np.array([float(weights[int(r["urn"])]) if weights and weights.get(int(r["urn"])) is not None else nan
                  for r in rows])
    zeros = np.zeros(len(rows), dtype=np.int64)
    return sums_table(zeros, zeros, np.array([pos.get(r.get("status"), -1) for r in rows], dtype=np.int64),
                      np.array([num(r, "value") for r in rows]), np.array([num(r, "numerator") for r in rows]),
                      np.array([num(r, "denominator") for r in rows]), w, 1, 1)[0][0]


def sums_table(m: np.ndarray, p: np.ndarray, st: np.ndarray, value: np.ndarray, num: np.ndarray, den: np.ndarray,
                weight: np.ndarray, n_m: int, n_p: int) -> list[list[Sums]]:
    """Roll-up sums for every (measure, period) at once with bincount. `st` indexes STATUSES (-1 for none);
    `weight` is each row's pupils on roll (NaN when unknown). Returns sums[measure][period]."""
    key = m.astype(np.int64) * n_p + p
    n = n_m * n_p
    ok = (st == 0) & ~np.isnan(value)
    parts = ok & ~np.isnan(num) & (den > 0)
    has_w = ok & ~np.isnan(weight)

    def tot(w: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(key, weights=w, minlength=n)

    total, n_ok, n_parts, n_w = tot(), tot(ok.astype(float)), tot(parts.astype(float)), tot(has_w.astype(float))
    s_val = tot(np.where(ok, value, 0.0))
    s_num, s_den = tot(np.where(parts, num, 0.0)), tot(np.where(parts, den, 0.0))
    s_wv, s_w = tot(np.where(has_w, value * weight, 0.0)), tot(np.where(has_w, weight, 0.0))
    # the commonest status, ties to the alphabetically first (as sums_of does)
    alpha = sorted(range(len(STATUSES)), key=lambda i: STATUSES[i])
    counts = np.bincount(key * len(STATUSES) + np.clip(st, 0, None), minlength=n * len(STATUSES))
    counts = counts.reshape(n, len(STATUSES))[:, alpha]
    common = [STATUSES[alpha[i]] for i in counts.argmax(axis=1)]
    return [[Sums(int(total[k]), int(n_ok[k]), int(n_parts[k]), float(s_val[k]), float(s_num[k]), float(s_den[k]),
                  int(n_w[k]), float(s_wv[k]), float(s_w[k]),
                  common[k] if total[k] else Status.MISSING.value)
             for k in range(mi * n_p, (mi + 1) * n_p)] for mi in range(n_m)]


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
