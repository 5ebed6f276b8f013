"""Suppression for anything public: which schools' values (and whether the group total) may be shown.

Pure: standard library only. The rule is stated in docs/method.md ("Publication and suppression").

A *cell* is one school's value of one measure as numerator / denominator (for a rate: pupils who met it /
pupils counted; for a mean: value x cohort / scale). The group total is sum of numerators / sum of
denominators over the cells that have a value and a positive denominator (the "contributing" cells), so a
reader who sees the total and every shown school can work out the *sum* of the hidden numerators. We assume
the worst: they also know every school's denominator.

1. Primary: a cell with a denominator below the minimum cohort, or with a value but no known denominator,
   is hidden.
2. Secondary (only when the group total is shown): the hidden contributing cells must be (a) none, or at
   least two that (b) together reach the minimum cohort. While that fails, one more shown cell is hidden:
   the smallest denominator first, ties by key. This choice looks only at denominators, never at values, so
   the pattern of hidden cells tells a reader nothing about the hidden values.
3. The total is hidden instead of shown when (a)-(b) cannot hold even with every cell hidden (the whole group
   is below the minimum: then every cell with a value is below it too, and all are hidden), or when (c) the
   hidden cells' combined value sits at a bound: for a percentage, 0% or 100% (every hidden school would then
   be known to be 0% or 100%). The cells chosen in step 2 stay hidden either way.

With (a)-(c), for every hidden cell there are two different fillings of the hidden numerators, both within
bounds and both adding up to the known sum, that give that cell different values: it cannot be pinned down.
When (c) hides the total, a reader who knows the rule learns only that the hidden schools all share one of
the two extremes, not which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SECONDARY = "hidden so that another small group's value cannot be worked out from the total"
RATE = (0.0, 1.0)  # numerator per unit of denominator: a share of pupils
_EPS = 1e-9


@dataclass(frozen=True)
class Cell:
    """One school's value of one measure. key = str(urn)."""

    key: str
    numerator: float | None
    denominator: float | None

    @property
    def has_value(self) -> bool:
        return self.numerator is not None

    @property
    def contributes(self) -> bool:
        """Counted in the group total: a value and a positive denominator."""
        return self.numerator is not None and self.denominator is not None and self.denominator > 0


@dataclass(frozen=True)
class Suppressed:
    hidden: dict[str, str]  # key -> the reason in words
    total_hidden: str | None = None  # the reason when the group total must be hidden

    def is_hidden(self, key: str) -> bool:
        return key in self.hidden


def primary_reason(cell: Cell, min_cohort: int) -> str | None:
    """Why this cell is hidden on its own, in words; None when it may be shown."""
    if cell.denominator is None:
        return (f"the number of pupils is not known, so it may be fewer than {min_cohort}"
                if cell.has_value else None)
    if cell.denominator < min_cohort:
        return f"fewer than {_pupils(min_cohort)}"
    return None


def _pupils(n: int) -> str:
    return f"{n} pupil" if n == 1 else f"{n} pupils"


def _sums(cells: Sequence[Cell]) -> tuple[int, float, float]:
    group = [c for c in cells if c.contributes]
    return (len(group), sum(float(c.numerator) for c in group),  # type: ignore[arg-type]
            sum(float(c.denominator) for c in group))  # type: ignore[arg-type]


def protects(cells: Sequence[Cell], min_cohort: int) -> bool:
    """(a)-(b): these hidden cells' contributing members are none, or at least two reaching the minimum."""
    n, _num, den = _sums(cells)
    return n == 0 or (n >= 2 and den >= min_cohort)


def at_bound(cells: Sequence[Cell], bounds: tuple[float | None, float | None] = RATE) -> bool:
    """(c): the contributing cells' combined value is the lowest or highest possible (pins every one)."""
    n, num, den = _sums(cells)
    if n == 0:
        return False
    lo, hi = bounds
    tol = _EPS * max(1.0, abs(den))
    return (lo is not None and num <= lo * den + tol) or (hi is not None and num >= hi * den - tol)


def suppress(cells: Sequence[Cell], min_cohort: int, *, total_published: bool = True,
             bounds: tuple[float | None, float | None] = RATE) -> Suppressed:
    """Which cells (and whether the total) to hide. Deterministic; see the module docstring for the rule.

    `bounds` are the lowest and highest numerator per unit of denominator (a share: 0 and 1; None: no bound,
    e.g. a progress score): they decide when a hidden group's combined value would pin every member.
    """
    keys = [c.key for c in cells]
    if len(set(keys)) != len(keys):
        raise ValueError("each cell needs its own key")
    hidden: dict[str, str] = {}
    for c in cells:
        why = primary_reason(c, min_cohort)
        if why:
            hidden[c.key] = why
    if not total_published:
        return Suppressed(hidden)
    candidates = sorted((c for c in cells if c.contributes and c.key not in hidden),
                        key=lambda c: (float(c.denominator), c.key))  # type: ignore[arg-type]
    chosen = lambda: [c for c in cells if c.key in hidden]  # noqa: E731
    while not protects(chosen(), min_cohort) and candidates:
        hidden[candidates.pop(0).key] = SECONDARY
    if not protects(chosen(), min_cohort) or (any(c.has_value for c in cells)
                                              and _sums(cells)[2] < min_cohort):
        return Suppressed(hidden, f"fewer than {_pupils(min_cohort)} in all the schools together")
    if at_bound(chosen(), bounds):
        return Suppressed(hidden, "hidden so that the results of schools with few pupils cannot be worked out "
                                  "from it")
    return Suppressed(hidden)
