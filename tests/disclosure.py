"""An independent disclosure checker: given every version of a measure a visitor may have kept, can any hidden
school's result be worked out? Written for the tests, sharing nothing with metrics.suppression.

The reader's knowledge, assuming the worst (as DfE's statistical disclosure control does): every school's
denominator, which schools' results changed between versions (so a result unchanged between two versions is one
unknown, a changed one two), every shown value, and every shown total. A shown total is one linear equation:
sum of the counted schools' numerators = total x sum of their denominators. Each unknown numerator lies between
`lo` and `hi` times its denominator. A hidden result is *determined* when the smallest and the largest value it
can take under all those equations and bounds (two linear programs, scipy's HiGHS) are the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

Unknown = tuple[str, float, float]  # (school, numerator, denominator): one result as it stood in some versions


@dataclass(frozen=True)
class Version:
    """One version as published: each counted school's true (numerator, denominator), which were shown, and
    whether the total was."""

    cells: Mapping[str, tuple[float, float]]  # counted schools only (a value and a positive denominator)
    shown: frozenset[str]
    total_shown: bool


@dataclass(frozen=True)
class Range:
    unknown: Unknown
    low: float
    high: float

    @property
    def determined(self) -> bool:
        return self.high - self.low <= 1e-6 * max(1.0, self.unknown[2])


def ranges(versions: Sequence[Version], lo: float = 0.0, hi: float | None = 1.0) -> list[Range]:
    """The range each hidden result (never shown in any version) can take, given everything published."""
    shown: set[Unknown] = set()
    hidden: list[Unknown] = []
    for v in versions:
        for key, (num, den) in v.cells.items():
            u = (key, float(num), float(den))
            if key in v.shown:
                shown.add(u)
            elif u not in hidden:
                hidden.append(u)
    hidden = [u for u in hidden if u not in shown]
    if not hidden:
        return []
    col = {u: i for i, u in enumerate(hidden)}
    rows, rhs = [], []
    for v in versions:
        if not v.total_shown:
            continue
        # total x sum of the denominators, less every result the reader knows: the sum of the unknowns
        row = np.zeros(len(hidden))
        rest = 0.0
        for key, (num, den) in v.cells.items():
            u = (key, float(num), float(den))
            if u in col:
                row[col[u]] += 1.0
                rest += num
        rows.append(row)
        rhs.append(rest)
    bounds = [(lo * u[2], None if hi is None else hi * u[2]) for u in hidden]
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    out = []
    for u, i in col.items():
        c = np.zeros(len(hidden))
        c[i] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status in (0, 3) and high.status in (0, 3), (low.message, high.message)
        out.append(Range(u, low.fun if low.status == 0 else -np.inf, -high.fun if high.status == 0 else np.inf))
    return out


def determined(versions: Sequence[Version], lo: float = 0.0, hi: float | None = 1.0) -> list[Range]:
    """The hidden results a reader holding all these versions can work out exactly ([] when none)."""
    return [r for r in ranges(versions, lo, hi) if r.determined]



def _system(names: Sequence[str], unknowns: Mapping[str, tuple[float | None, float | None]],
            equations: Sequence[tuple[Mapping[str, float], float]]) -> tuple[np.ndarray | None, np.ndarray | None,
                                                                            list]:
    """The equations as linprog's A_eq, b_eq (None without any) and the unknowns' bounds, in `names`' order."""
    col = {n: i for i, n in enumerate(names)}
    rows, rhs = [], []
    for coefs, total in equations:
        row = np.zeros(len(names))
        for m, a in coefs.items():
            row[col[m]] += a
        if row.any():
            rows.append(row)
            rhs.append(total)
    return (np.array(rows) if rows else None), (np.array(rhs) if rows else None), list(unknowns.values())


def system_ranges(unknowns: Mapping[str, tuple[float | None, float | None]],
                  equations: Sequence[tuple[Mapping[str, float], float]],
                  only: Sequence[str] | None = None) -> dict[str, tuple[float, float]]:
    """The smallest and largest value of each unknown (name -> (low bound, high bound); None: none) under every
    equation ({unknown: coefficient}, number: the weighted sum equals the number) and the bounds, by linear
    programming: the general form of `ranges`, for pupil-group cells (D + N - T = 0 at a school, the pooled D)."""
    names = list(unknowns)
    if not names:
        return {}
    a_eq, b_eq, bounds = _system(names, unknowns, equations)
    col = {n: i for i, n in enumerate(names)}
    out = {}
    for n, i in col.items():
        if only is not None and n not in only:
            continue
        c = np.zeros(len(names))
        c[i] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status in (0, 3) and high.status in (0, 3), (low.message, high.message)
        out[n] = (low.fun if low.status == 0 else -np.inf, -high.fun if high.status == 0 else np.inf)
    return out


def pinned_unknowns(unknowns: Mapping[str, tuple[float | None, float | None]],
                    equations: Sequence[tuple[Mapping[str, float], float]], tries: int = 4) -> list[str]:
    """The unknowns of `system_ranges` whose smallest and largest values are equal, found faster: a few random
    objectives first (any unknown that differs between two optimal points is not pinned), then the two linear
    programs of `system_ranges` for the rest only."""
    names = list(unknowns)
    if not names:
        return []
    a_eq, b_eq, bounds = _system(names, unknowns, equations)
    col = {n: i for i, n in enumerate(names)}
    rng = np.random.default_rng(0)
    points = []
    for _ in range(tries):
        c = rng.normal(size=len(names))
        for sign in (1.0, -1.0):
            r = linprog(sign * c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if r.status == 0:
                points.append(r.x)
    rest = [n for n in names if not points or np.ptp([p[col[n]] for p in points]) <= 1e-6 * max(
        1.0, *(abs(b) for b in bounds[col[n]] if b is not None))]
    if not rest:
        return []
    full = system_ranges(unknowns, equations, rest)
    return sorted(n for n in rest if full[n][1] - full[n][0] <= 1e-6)
