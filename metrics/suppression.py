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

Across versions (a visitor may have kept every version of the same group, year and measure: replaced and
withdrawn ones too), each version with a shown total is one equation over its hidden cells. A hidden cell is
the same unknown in two versions when its (numerator, denominator) did not change, which we know from a keyed
fingerprint of each cell (`Seen.cells`); otherwise the two are different unknowns. Then (numbered as in
docs/method.md):

5. A cell hidden in any earlier version stays hidden (while it has a value).
6. A cell whose current value an earlier version showed (same fingerprint) is known: it does not protect
   anyone, so rule 2 counts only the hidden cells not known (the "unknowns") and never chooses a known cell.
7. The new total is shown only if its unknowns are, for every earlier version that showed its total, either
   exactly that version's unknowns (the same equation again: nothing new) or none of them (an equation over
   other unknowns). Otherwise it is hidden. So the published equations fall into separate blocks, each one
   equation that rules 1-3 protect on its own, and no combination of versions pins a hidden cell. An earlier
   version without fingerprints (published before they were kept) that showed a total over hidden cells hides
   the new total: nothing can be compared with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

SECONDARY = "hidden so that another small group's value cannot be worked out from the total"
CARRIED = "hidden as in an earlier version of these results, so that the versions cannot be compared to work it out"
VERSIONS = ("hidden so that it cannot be compared with an earlier version of these results to work out a school's "
            "result")
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
class Seen:
    """One earlier version of the same measure (group and year) as a visitor may have kept it."""

    hidden: frozenset[str]  # keys shown as suppressed
    shown: frozenset[str]  # keys whose value was shown
    total_shown: bool
    cells: Mapping[str, str] | None  # key -> fingerprint of each counted cell; None: not recorded (older versions)


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
             bounds: tuple[float | None, float | None] = RATE, inherited: Mapping[str, str] | None = None,
             earlier: Sequence[Seen] = (), fingerprints: Mapping[str, str] | None = None) -> Suppressed:
    """Which cells (and whether the total) to hide. Deterministic; see the module docstring for the rule.

    `bounds` are the lowest and highest numerator per unit of denominator (a share: 0 and 1; None: no bound,
    e.g. a progress score): they decide when a hidden group's combined value would pin every member.
    `inherited`: cells hidden for another reason (a formula's hidden inputs), key -> reason. `earlier`: the
    versions a visitor may have seen, oldest first, with `fingerprints` (key -> fingerprint of each counted cell
    now) to compare them (rules 5-7). With neither, this is the single-version rule.
    """
    keys = [c.key for c in cells]
    if len(set(keys)) != len(keys):
        raise ValueError("each cell needs its own key")
    if earlier and fingerprints is None:
        raise ValueError("comparing with earlier versions needs the cells' fingerprints")
    fingerprints = fingerprints or {}
    hidden: dict[str, str] = {}
    for c in cells:
        why = primary_reason(c, min_cohort)
        if why:
            hidden[c.key] = why
    for c in cells:
        if c.has_value and c.key not in hidden:
            why = (inherited or {}).get(c.key) or (CARRIED if any(c.key in e.hidden for e in earlier) else None)
            if why:
                hidden[c.key] = why
    if not total_published:
        return Suppressed(hidden)
    known = _known(fingerprints, earlier)
    candidates = sorted((c for c in cells if c.contributes and c.key not in hidden and c.key not in known),
                        key=lambda c: (float(c.denominator), c.key))  # type: ignore[arg-type]
    unknowns = lambda: [c for c in cells if c.key in hidden and c.key not in known]  # noqa: E731
    while not protects(unknowns(), min_cohort) and candidates:
        hidden[candidates.pop(0).key] = SECONDARY
    if any(c.has_value for c in cells) and _sums(cells)[2] < min_cohort:
        return Suppressed(hidden, f"fewer than {_pupils(min_cohort)} in all the schools together")
    if not protects(unknowns(), min_cohort):
        # every school that could protect the hidden ones was shown, unchanged, in an earlier version
        return Suppressed(hidden, VERSIONS if any(c.key in known for c in cells if c.contributes)
                          else f"fewer than {_pupils(min_cohort)} in all the schools together")
    if at_bound(unknowns(), bounds):
        return Suppressed(hidden, "hidden so that the results of schools with few pupils cannot be worked out "
                                  "from it")
    now = {(c.key, fingerprints.get(c.key)) for c in unknowns() if c.contributes}
    if any(_clashes(now, e, earlier[:i]) for i, e in enumerate(earlier) if e.total_shown):
        return Suppressed(hidden, VERSIONS)
    return Suppressed(hidden)


def _known(fingerprints: Mapping[str, str], earlier: Sequence[Seen]) -> set[str]:
    """Keys whose current cell an earlier version showed: the same fingerprint, or (for an older version that
    kept none) shown at all, assuming the worst (unchanged)."""
    return {k for e in earlier for k in e.shown
            if e.cells is None or (k in e.cells and fingerprints.get(k) == e.cells[k])}


def _unknowns(e: Seen, before: Sequence[Seen]) -> set[tuple[str, str]] | None:
    """The (key, fingerprint) unknowns of an earlier version's total; None when it kept no fingerprints."""
    if e.cells is None:
        return None
    cells = e.cells
    known = _known(cells, before)
    return {(k, cells[k]) for k in e.hidden if k in cells and k not in known}


def _clashes(now: Set[tuple[str, str | None]], e: Seen, before: Sequence[Seen]) -> bool:
    """Rule 7: the new total's unknowns overlap an earlier shown total's without being exactly the same."""
    then = _unknowns(e, before)
    if then is None:
        return bool(now) and bool(e.hidden)
    return bool(now & then) and now != then
