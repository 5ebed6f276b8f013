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

import math
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


# ------------------------------------------------------------------------------------------ pupil groups
#
# Each school's value of a measure also has a disadvantaged cell D and a not-disadvantaged cell N, with
# D + N = T (numerators and cohorts), T being the school's cell above; the group's pooled disadvantaged value is
# one more equation, sum of D. The rule (docs/method.md, "Pupil-group cells"):
#
# 8. A group cell is hidden when its cohort is below the minimum (or unknown), or when the school's total T is.
# 9. Hidden in pairs: when one of a school's two cells is hidden, so is the other (T - N would give D).
# 10. The pooled disadvantaged value is suppressed over the D cells as a total is (rules 2-3: secondary hiding,
#     smallest disadvantaged cohort first, or the pooled value hidden); each D hidden this way hides its N (9).
# 11. Then every hidden cell is checked against everything published: the equations (each shown school total
#     D + N = T, the pooled D, the group total) over bounded unknowns form a network (each unknown is in at most
#     two of them), so a hidden cell can take another value exactly when its arc lies on a cycle of the residual
#     network (a circulation moves it while every equation holds). A school whose hidden pair its own shown
#     total pins (0% or 100% of its pupils) has its total hidden (and the totals are suppressed again); any
#     other pinned cell hides the pooled disadvantaged value.

GROUP_PAIR = "hidden because the school's other pupils' result is hidden, so that neither can be worked out"
GROUP_TOTAL = "hidden because the school's result for all its pupils is hidden"
GROUP_SECONDARY = ("hidden so that another school's small group of disadvantaged pupils cannot be worked out from "
                   "the partnership's value")
GROUP_PINS = ("hidden so that a small group of pupils' result cannot be worked out from it")
DIS, OTH = "disadvantaged", "not_disadvantaged"


@dataclass(frozen=True)
class GroupSuppressed:
    """What to hide of the pupil-group cells: per (key, group) the reason; and the pooled disadvantaged value."""

    hidden: dict[tuple[str, str], str]
    pooled_hidden: str | None  # the reason, when the group's pooled disadvantaged value must be hidden
    totals: Suppressed  # the school totals' suppression the cells were decided with (it may hide more than asked)

    def is_hidden(self, key: str, group: str) -> bool:
        return (key, group) in self.hidden


def _span(cell: Cell, bounds: tuple[float | None, float | None]) -> tuple[float, float]:
    lo, hi = bounds
    den = float(cell.denominator or 0.0)
    return (-math.inf if lo is None else lo * den, math.inf if hi is None else hi * den)


def _moves(arcs: Sequence[tuple[str, str, float, float, float]]) -> list[bool]:
    """Per arc (tail, head, flow, low, high) of a feasible flow: whether some circulation in the residual network
    changes it (its flow is not determined by the equations at the nodes and the bounds)."""
    def below(f: float, hi: float) -> bool:
        return f < hi - 1e-9 * max(1.0, abs(hi)) if math.isfinite(hi) else True

    def above(f: float, lo: float) -> bool:
        return f > lo + 1e-9 * max(1.0, abs(lo)) if math.isfinite(lo) else True

    residual: dict[str, list[tuple[str, int]]] = {}  # node -> (next node, arc) it can push flow to
    for j, (a, b, g, lo_j, hi_j) in enumerate(arcs):
        if below(g, hi_j):
            residual.setdefault(a, []).append((b, j))
        if above(g, lo_j):
            residual.setdefault(b, []).append((a, j))

    def reach(start: str, goal: str, skip: int) -> bool:
        seen, todo = {start}, [start]
        while todo:
            x = todo.pop()
            if x == goal:
                return True
            for q, j in residual.get(x, ()):
                if j != skip and q not in seen:
                    seen.add(q)
                    todo.append(q)
        return False

    out = []
    for i, (u, v, f, lo, hi) in enumerate(arcs):
        up = below(f, hi) and reach(v, u, i)
        down = above(f, lo) and reach(u, v, i)
        out.append(up or down)
    return out


def _pinned(totals: Sequence[Cell], shown_total: bool, dis: Mapping[str, Cell], oth: Mapping[str, Cell],
            hidden: Mapping[tuple[str, str], str], t_hidden: Set[str], pooled: bool,
            bounds: tuple[float | None, float | None]) -> set[tuple[str, str]]:
    """Rule 11: the hidden cells (key, group; group 'total' for a school total) that the published equations pin."""
    arcs: list[tuple[str, str, float, float, float]] = []
    names: list[tuple[str, str]] = []

    def arc(tail: str, head: str, cell: Cell, name: tuple[str, str]) -> None:
        lo, hi = _span(cell, bounds)
        arcs.append((tail, head, float(cell.numerator), lo, hi))  # type: ignore[arg-type]
        names.append(name)

    ground, e1, e2 = "ground", "pooled", "total"
    to_pool = e1 if pooled else ground
    for t in totals:
        k = t.key
        d, n = dis.get(k), oth.get(k)
        d_in = d is not None and d.contributes and (k, DIS) in hidden
        n_in = n is not None and n.contributes and (k, OTH) in hidden
        school = f"school:{k}"
        # a school with both groups counted has D + N = T: its node holds that equation (T hidden: T flows on
        # into the group total when that is shown; T shown: a known sum). Otherwise each cell stands alone.
        # (a group with no pupils is simply absent: then the other group is the whole school)
        parts = [c for c in (d, n) if not (c is not None and not c.has_value and c.denominator == 0)]
        both = t.contributes and bool(parts) and all(c is not None and c.contributes for c in parts)
        if k in t_hidden and t.contributes:
            arc(school if both else ground, e2 if shown_total else ground, t, (k, "total"))
        if d_in:
            arc(to_pool, school if both else ground, d, (k, DIS))  # type: ignore[arg-type]
        if n_in:
            arc(ground, school if both else ground, n, (k, OTH))  # type: ignore[arg-type]
    return {name for name, free in zip(names, _moves(arcs), strict=True) if not free}


def suppress_groups(totals: Sequence[Cell], dis: Mapping[str, Cell], oth: Mapping[str, Cell], min_cohort: int, *,
                    total_published: bool = True, bounds: tuple[float | None, float | None] = RATE,
                    pooled_published: bool = True, inherited: Mapping[str, str] | None = None,
                    earlier: Sequence[Seen] = (), fingerprints: Mapping[str, str] | None = None,
                    dis_earlier: Sequence[Seen] = (), dis_fingerprints: Mapping[str, str] | None = None,
                    carried: Set[tuple[str, str]] = frozenset()) -> GroupSuppressed:
    """Which pupil-group cells (and whether the pooled disadvantaged value) to hide beside the school totals
    `totals`, suppressed here with `suppress` (and its other arguments); see rules 8-11 above. Keys as in totals.

    Across versions: `dis_earlier` are the earlier versions of the D cells and the pooled value (`Seen`, with
    `dis_fingerprints` of the D cells now), to which rules 5-7 apply as to any total; `carried`: the (key, group)
    cells an earlier version hid, hidden again (rule 5)."""
    extra = dict(inherited or {})
    while True:
        s = suppress(totals, min_cohort, total_published=total_published, bounds=bounds, inherited=extra,
                     earlier=earlier, fingerprints=fingerprints)
        g, pooled_hidden = _group_cells(totals, s, dis, oth, min_cohort, total_published and s.total_hidden is None,
                                        bounds, pooled_published, dis_earlier, dis_fingerprints, carried)
        if pooled_hidden == "school":  # rule 11: a school's own shown total pins its hidden pair
            for k in g:
                extra.setdefault(k, GROUP_PINS)
            continue
        return GroupSuppressed(g, pooled_hidden, s)  # type: ignore[arg-type]


def _group_cells(totals: Sequence[Cell], s: Suppressed, dis: Mapping[str, Cell], oth: Mapping[str, Cell],
                 min_cohort: int, shown_total: bool, bounds: tuple[float | None, float | None],
                 pooled_published: bool, dis_earlier: Sequence[Seen] = (),
                 dis_fingerprints: Mapping[str, str] | None = None,
                 carried: Set[tuple[str, str]] = frozenset()) -> tuple[dict, str | None]:
    """(hidden group cells, the pooled value's reason or None) for these totals' suppression; or (the keys whose
    totals must be hidden, "school") when a shown total pins its hidden pair."""
    hidden: dict[tuple[str, str], str] = {}
    keys = [t.key for t in totals]
    for k in keys:
        for grp, cells in ((DIS, dis), (OTH, oth)):
            c = cells.get(k)
            if c is None or not c.has_value:
                continue
            why = (GROUP_TOTAL if s.is_hidden(k) else primary_reason(c, min_cohort)
                   or (CARRIED if (k, grp) in carried else None))
            if why:
                hidden[(k, grp)] = why

    def pair() -> None:
        for k in keys:
            for a, b in ((DIS, OTH), (OTH, DIS)):
                c, other = (dis if a == DIS else oth).get(k), (oth if a == DIS else dis).get(k)
                if other is None or not other.has_value:
                    continue
                # a cell the file itself withheld (pupils, but no value) is as good as hidden: T - N would give it
                withheld = c is not None and not c.has_value and c.denominator != 0 and not s.is_hidden(k)
                if withheld or ((k, a) in hidden and c is not None and c.contributes):
                    hidden.setdefault((k, b), GROUP_PAIR)

    pair()
    pooled_why: str | None = None
    if pooled_published:
        d_cells = [dis.get(k, Cell(k, None, None)) for k in keys]
        inherited = {k: why for (k, grp), why in hidden.items() if grp == DIS}
        p = suppress(d_cells, min_cohort, bounds=bounds, inherited=inherited, earlier=dis_earlier,
                     fingerprints=dis_fingerprints if dis_earlier else None)
        for k, why in p.hidden.items():
            if dis[k].has_value if k in dis else False:
                hidden.setdefault((k, DIS), GROUP_SECONDARY if why == SECONDARY else why)
        pair()
        pooled_why = p.total_hidden
        if pooled_why is None and not any(c.contributes for c in d_cells):
            pooled_why = "no disadvantaged pupils' results"
    t_hidden = set(s.hidden)
    pinned = _pinned(totals, shown_total, dis, oth, hidden, t_hidden, pooled_published and pooled_why is None,
                     bounds)
    alone = _pinned(totals, shown_total, dis, oth, hidden, t_hidden, False, bounds)
    schools = {k for k, grp in alone if grp in (DIS, OTH) and k not in t_hidden}
    if schools:
        return {k: GROUP_PINS for k in sorted(schools)}, "school"
    if pinned - alone:
        pooled_why = GROUP_PINS
    return hidden, pooled_why
