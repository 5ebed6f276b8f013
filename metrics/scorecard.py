"""Scorecard assembly: every measure of a school's or a group's scorecard, set beside its comparators.

Pure: the store hands over DataFrames of observations, precomputed school statistics (percentiles,
families, expectations), national benchmarks and targets; this module decides what they mean.
Every calculation is stated in docs/method.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from metrics.comparators import (
    OVER_100,
    OWN_KIND,
    P8_WELL,
    Comparator,
    banded_against_zero,
    comparator_of_shares,
    group_comparator,
    national_for,
    p8_band,
    refused_share,
    school_comparator,
    scope_phrase,
    significance_reference,
)
from metrics.formula import evaluate, stored_formula
from metrics.numbers import finite, five_numbers
from metrics.registry import Measure, Polarity, Registry, Rollup, Status, Uncertainty
from metrics.rollup import rollup_sums, sums_table
from metrics.timeline import change_note, comparable, gap_at, is_period, previous

Z95 = 1.959964
BenchIndex = Mapping[tuple[str, str, str], float]  # national value by (measure, period, scope)
LEVELS = ("Cause for concern", "Needs attention", "Steady", "Good", "Strong")
INSUFFICIENT = "Insufficient data"
NOT_JUDGED = "Context (not judged)"
LOCAL_ONLY = "Local measure (no national comparison)"
CHANGE_BAND = 10.0  # percentile points of movement that count as improving or declining
BOTTOM_FIFTH = 20.0
DECLINE_MIN_MEASURES = 3  # "declining on several measures"
DECLINE_MIN_DROP = 10.0  # percentile points lost over the two years, so noise alone rarely flags
STRONG_PERCENTILE = 60.0  # support matching: a school this high (by polarity) is strong on a measure
DFE_MIN_YEARS = 3
DFE_MIN_SCHOOLS = 3
DFE_MAX_YEARS = 5


@dataclass(frozen=True)
class Subject:
    """Whose scorecard: a school (urn) or a group (group_id, with its member URNs)."""

    kind: str  # "school" or "group"
    id: int
    name: str
    phase: str | None = None
    members: tuple[int, ...] = ()
    group_kind: str | None = None
    member_phases: tuple[str | None, ...] = ()  # a group's members' phases, in the order of `members`


@dataclass(frozen=True)
class TrendPoint:
    period: str
    value: float | None
    status: str
    urn: int | None = None  # the earlier URN this year's result is of (a school's history across URNs); None: its own


@dataclass(frozen=True)
class Spread:
    min: float
    q1: float
    median: float
    q3: float
    max: float


class MemberCells(Sequence):
    """A group row's cells of its members, kept as arrays and read as the tuple of tuples they stand for: (urn,
    value, status) for `member_values`, (urn, national) for `member_nationals`.

    A 500-school card has 46 rows of 500 cells each: building 23,000 tuples per card (and again for the nationals)
    was a third of its time, and most readers want one measure's cells or a yes/no over them. The tuples are made
    the first time anything iterates or indexes them, once; `numbers()` and `any_value()` answer from the arrays.
    Equal to the tuple it stands for (and to another MemberCells of the same cells)."""

    __slots__ = ("_urns", "_values", "_statuses", "_items")

    def __init__(self, urns: np.ndarray, numbers: np.ndarray, statuses: np.ndarray | None = None) -> None:
        self._urns = np.asarray(urns, dtype=np.int64)
        self._values = np.asarray(numbers, dtype=float)
        self._statuses = statuses
        self._items: tuple | None = None

    def _all(self) -> tuple:
        if self._items is None:
            columns = [self._urns.tolist(), _numbers(self._values)]
            if self._statuses is not None:
                columns.append(np.asarray(self._statuses, dtype=object).tolist())
            self._items = tuple(zip(*columns, strict=True))
        return self._items

    def numbers(self) -> np.ndarray:
        """The values (or nationals) as floats, NaN where none, in the members' order."""
        return self._values

    def urns(self) -> np.ndarray:
        return self._urns

    def any_value(self) -> bool:
        """Whether any member has a value (a finite number)."""
        return bool(np.isfinite(self._values).any())

    def __len__(self) -> int:
        return len(self._urns)

    def __getitem__(self, i):  # noqa: ANN001, ANN204 (an index or a slice, as a tuple's)
        return self._all()[i]

    def __iter__(self):  # noqa: ANN204
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MemberCells | tuple | list):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())

    def __reduce__(self):  # noqa: ANN204 (pickled and deep-copied as the arrays, not the tuples)
        return (MemberCells, (self._urns, self._values, self._statuses))


class MemberGrid(Mapping):
    """(urn, measure) -> each member's level (or its level's words), kept as one array per measure over the members
    and read as the dict it stands for: 23,000 entries for a 500-school card, only the few a page shows looked up.
    Iterates as that dict did (measure by measure, members in URN order); equal to it."""

    __slots__ = ("_urns", "_at", "_by_measure", "_levels")

    def __init__(self, urns: Sequence[int], positions: Mapping[int, int], by_measure: Mapping[str, np.ndarray],
                 levels: bool) -> None:
        self._urns = tuple(urns)
        self._at = positions
        self._by_measure = dict(by_measure)
        self._levels = levels  # a level array (0: none) reads as int | None; a words array as str

    def __getitem__(self, key: tuple[int, str]):  # noqa: ANN204 (an int, None or a str)
        try:
            urn, measure = key
            column, i = self._by_measure[measure], self._at[urn]
        except (KeyError, TypeError, ValueError):
            raise KeyError(key) from None
        return (int(column[i]) or None) if self._levels else column[i]

    def __iter__(self):  # noqa: ANN204
        return ((u, m) for m in self._by_measure for u in self._urns)

    def __len__(self) -> int:
        return len(self._by_measure) * len(self._urns)

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self):  # noqa: ANN204
        return (MemberGrid, (self._urns, dict(self._at), self._by_measure, self._levels))


def cells_of(cells: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """A row's member cells (MemberCells, or tuples whose first two are urn and a number) as two arrays: the URNs
    and the numbers, NaN where none."""
    if isinstance(cells, MemberCells):
        return cells.urns(), cells.numbers()
    return (np.array([c[0] for c in cells], dtype=np.int64),
            np.array([np.nan if c[1] is None else c[1] for c in cells], dtype=float))


@dataclass(frozen=True)
class ScorecardRow:
    measure: str
    label: str
    perspective: str
    unit: str
    polarity: str
    period: str
    value: float | None
    display: str
    cohort: float | None
    numerator: float | None
    denominator: float | None
    status: str
    status_code: str | None
    ci_low: float | None
    ci_high: float | None
    uncertainty: str | None  # how the interval was found: published, wilson, normal
    national: float | None
    national_scope: str | None
    percentile: float | None  # national, same phase: share of schools with a lower value
    family_median: float | None
    family_rank: int | None
    family_size: int | None
    expected: float | None
    residual: float | None
    trend: tuple[TrendPoint, ...]  # oldest first, up to 5 previous periods then this one
    change: float | None  # value minus the previous period's value
    level: int | None  # 1..5, see LEVELS
    level_label: str
    significance: str | None  # "above", "below", "in line" (vs national, 95%) or None when unknown
    flag: bool
    flag_reasons: tuple[str, ...]
    target: float | None
    target_met: bool | None
    # groups only
    rollup_method: str | None = None
    schools_reporting: int | None = None
    schools_total: int | None = None
    spread: Spread | None = None
    below_national: int | None = None
    member_values: tuple[tuple[int, float | None, str], ...] = field(default=())
    # why there is no change on the year before (a DfE gap, a new definition, no result that year); None: compared
    change_note: str | None = None
    band: str | None = None  # DfE's Progress 8 band (against 0), for progress8 and its variants
    comparator: str | None = None  # which national value `national` is, in words
    member_nationals: tuple[tuple[int, float | None], ...] = field(default=())  # each member's own national
    version: str | None = None  # which of DfE's figures the value is: provisional, revised, final (None: not said)

    # DfE's own published figure for this trust (group cards of a DfE trust), shown beside the roll-up, never mixed in
    dfe_published: float | None = None
    dfe_published_status: str | None = None  # ok, or why DfE gives no figure (not_applicable: z)
    dfe_published_version: str | None = None  # provisional / revised / final
    dfe_published_schools: int | None = None  # the schools DfE's figure counts (in the trust 3 years or more)
    lineage: str | None = None  # the school's earlier URNs, in words, when its trend shows their results
    dfe_published_cohort: int | None = None  # the pupils it covers
    # worse than what the value is judged against (its own kind's national; 0 for Progress 8), by polarity: what
    # its groups' "below national" counts (None: not judged, or no value or national to compare)
    worse_than_national: bool | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["trend"] = [asdict(t) for t in self.trend]
        d["flag_reasons"] = list(self.flag_reasons)
        d["member_values"] = [{"urn": u, "value": v, "status": s} for u, v, s in self.member_values]
        d["member_nationals"] = [{"urn": u, "national": v} for u, v in self.member_nationals]
        return d


@dataclass(frozen=True)
class WatchItem:
    """A member school flagged on at least one measure, with every reason."""

    urn: int
    name: str
    reasons: tuple[tuple[str, str], ...]  # (measure id, reason)


@dataclass(frozen=True)
class Scorecard:
    subject: Subject
    period: str
    rows: tuple[ScorecardRow, ...]
    method: str  # the roll-up method for a group, in words
    members: tuple[tuple[int, str], ...] = ()  # (urn, name)
    watchlist: tuple[WatchItem, ...] = ()
    member_levels: Mapping[tuple[int, str], int | None] = field(default_factory=dict)  # (urn, measure) -> level
    pooling: str = ""  # which members the group's values pool, in words (empty: every member)
    lineage: str | None = None  # a school's history across URNs in words (data.ingest.lineage); None: GIAS links none
    # each member's level in words, as on its own card ("Good (this year only: ...)", "No level: ..."): the grid's
    member_labels: Mapping[tuple[int, str], str] = field(default_factory=dict)

    @property
    def below_national_any(self) -> int:
        """'No school left behind': members below national on at least one judged measure (each member against
        its own phase's national value, as on its own card)."""
        below: set[int] = set()
        for r in self.rows:
            if r.polarity == Polarity.CONTEXT.value or not r.member_values:
                continue
            urns, values = cells_of(r.member_values)
            national = np.nan if r.national is None else r.national
            nationals = np.full(len(urns), national)
            if len(r.member_nationals):  # each member against its own kind's national, where the row gives it
                own_urns, own = cells_of(r.member_nationals)
                if np.array_equal(own_urns, urns):
                    nationals = own
                else:
                    by_urn = dict(zip(own_urns.tolist(), own.tolist(), strict=True))
                    nationals = np.array([by_urn.get(u, national) for u in urns.tolist()], dtype=float)
            urns = urns.tolist()
            # one comparison per measure over its members (worse_than is False where either side is unknown)
            below.update(u for u, worse in zip(urns, worse_than(values, nationals, Polarity(r.polarity)), strict=True)
                         if worse)
        return len(below)


# ------------------------------------------------------------------------------------------ helpers


_f = finite  # a number, or None when missing


def adjusted_percentile(percentile: float | None, measure: Measure) -> float | None:
    """Percentile on a 'higher is better' scale: lower-better measures are turned round."""
    if percentile is None or not measure.judged:
        return None
    return percentile if measure.polarity is Polarity.HIGHER_BETTER else 100.0 - percentile


def wilson(num: float, den: float, scale: float = 100.0) -> tuple[float, float]:
    """95% Wilson score interval for num/den, on the measure's scale."""
    p, n, z2 = num / den, den, Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (max(centre - half, 0.0) * scale, min(centre + half, 1.0) * scale)


_NO_INTERVAL, _WILSON, _NORMAL, _PUBLISHED = range(4)  # how a measure's intervals are made (`_interval_kind`)


def _interval_kind(measure: Measure) -> int:
    if measure.uncertainty is Uncertainty.NONE:
        return _NO_INTERVAL
    if measure.uncertainty == "wilson" or (measure.rollup is Rollup.POOLED_RATIO and measure.scale == 100):
        return _WILSON
    if measure.uncertainty == "normal" and measure.sd:
        return _NORMAL
    return _PUBLISHED


def intervals(measure: Measure, value: np.ndarray, num: np.ndarray, den: np.ndarray, ci_low: np.ndarray,
              ci_high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% intervals for many values at once (NaN where none is known): published where the file gave one,
    else Wilson for rates, else normal for means with a known pupil-level sd. A measure declared
    `uncertainty = "none"` gets none at all (so no significance, no flag on chance, no "significantly")."""
    return _intervals(_interval_kind(measure), measure.scale, measure.sd, value, num, den, ci_low, ci_high)


def _intervals(kind: int, scale: float | np.ndarray, sd: float | np.ndarray | None, value: np.ndarray,
               num: np.ndarray, den: np.ndarray, ci_low: np.ndarray, ci_high: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray]:
    """`intervals` for values that share a kind of interval; `scale` and `sd` one number, or one per value (the
    same arithmetic, element by element: many measures' values at once)."""
    value, num, den = (np.asarray(a, dtype=float) for a in (value, num, den))
    if kind == _NO_INTERVAL:
        return np.full(value.shape, np.nan), np.full(value.shape, np.nan)
    lo, hi = np.asarray(ci_low, dtype=float).copy(), np.asarray(ci_high, dtype=float).copy()
    todo = (np.isnan(lo) | np.isnan(hi)) & ~np.isnan(value) & (den > 0)
    lo[np.isnan(lo) | np.isnan(hi)] = np.nan
    hi[np.isnan(lo)] = np.nan
    with np.errstate(all="ignore"):
        if kind == _WILSON:
            k = np.where(np.isnan(num), value * den / scale, num)
            p = np.clip(k, 0, den) / den
            z2 = Z95**2
            centre = (p + z2 / (2 * den)) / (1 + z2 / den)
            half = Z95 * np.sqrt(p * (1 - p) / den + z2 / (4 * den * den)) / (1 + z2 / den)
            lo = np.where(todo, np.maximum(centre - half, 0.0) * scale, lo)
            hi = np.where(todo, np.minimum(centre + half, 1.0) * scale, hi)
        elif kind == _NORMAL:
            half = Z95 * sd / np.sqrt(den)
            lo = np.where(todo, value - half, lo)
            hi = np.where(todo, value + half, hi)
    return lo, hi


def _pair_intervals(ms: Sequence[Measure], n_u: int, value: np.ndarray, num: np.ndarray, den: np.ndarray,
                    ci_low: np.ndarray, ci_high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`intervals` of every (measure, member) pair (measure-major, `n_u` members each), one call per kind of
    interval instead of one per measure."""
    kinds = np.repeat(np.array([_interval_kind(m) for m in ms], dtype=np.int64), n_u)
    scale = np.repeat(np.array([m.scale for m in ms], dtype=float), n_u)
    sd = np.repeat(np.array([m.sd or np.nan for m in ms], dtype=float), n_u)
    lo, hi = np.full(len(value), np.nan), np.full(len(value), np.nan)
    for kind in np.unique(kinds).tolist():
        at = kinds == kind
        lo[at], hi[at] = _intervals(kind, scale[at], sd[at], value[at], num[at], den[at], ci_low[at], ci_high[at])
    return lo, hi


def interval(measure: Measure, value: float | None, num: float | None, den: float | None,
             ci_low: float | None, ci_high: float | None) -> tuple[float | None, float | None, str | None]:
    """The value's 95% interval and how it was found: published, wilson or normal (see `intervals`)."""
    if measure.uncertainty is Uncertainty.NONE:  # declared: none, whatever the file carries
        return None, None, None
    if ci_low is not None and ci_high is not None:
        return ci_low, ci_high, "published"
    nan = float("nan")
    lo, hi = intervals(measure, np.array([nan if value is None else value]), np.array([nan if num is None else num]),
                       np.array([nan if den is None else den]), np.array([nan]), np.array([nan]))
    if np.isnan(lo[0]):
        return None, None, None
    how = "normal" if measure.uncertainty == "normal" and measure.rollup is not Rollup.POOLED_RATIO else "wilson"
    return float(lo[0]), float(hi[0]), how


def significance(national: float | None, lo: float | None, hi: float | None) -> str | None:
    if national is None or lo is None or hi is None:
        return None
    if lo > national:
        return "above"
    if hi < national:
        return "below"
    return "in line"


def level_of(adj_now: float | None, adj_before: float | None) -> int | None:
    """Status (national percentile, by polarity) x change (percentile movement) -> level 1..5 (`levels_of`, for one).

    Status band: 0 below the 20th percentile, 1 to the 40th, 2 to the 60th, 3 to the 80th, 4 above.
    Change: +1 when up 10 or more percentile points on the previous period, -1 when down 10 or more.
    Level = band + change, kept within 0..4, plus one.
    """
    if adj_now is None:
        return None
    return int(levels_of(np.array([adj_now]), np.array([np.nan if adj_before is None else adj_before]))[0])


STATUS_ONLY = "this year only: no earlier year to compare"
POSITION_ONLY = "this year's position only: last year's national position is not known"
# The levels a value may take given how it stands against national once chance is allowed for (95% interval, by
# polarity): the ends of the scale need evidence that the school differs from national, as the flag does.
LEVEL_BOUNDS = {"better": (3, 5), "in line": (2, 4), "worse": (1, 3), None: (1, 5)}


def versus_national(significance_words: str | None, polarity: Polarity | str) -> str | None:
    """'above'/'below'/'in line' against national turned into 'better'/'worse'/'in line' by the measure's polarity."""
    pol = Polarity(polarity)
    if significance_words == "in line":
        return "in line"
    if significance_words not in ("above", "below") or pol is Polarity.CONTEXT:
        return None
    return "better" if (significance_words == "above") == (pol is Polarity.HIGHER_BETTER) else "worse"


@dataclass(frozen=True)
class Judgement:
    """A value's level (1..5, None for none) and the words shown for it."""

    level: int | None
    label: str
    status_only: bool = False  # the level is from this year's position alone (no comparable earlier year)


def judge_level(measure: Measure, *, value: float | None, status: str, small: bool, adj_now: float | None,
                adj_before: float | None, significance_words: str | None, phase: str | None,
                national: float | None, compared: bool = False) -> Judgement:
    """The one level rule, for a school's card, a group's card and each member's cell on the group overview.

    Status (national percentile by polarity) x change (against the comparable year before) -> level_of; without a
    comparable earlier year (`compared`: change_and_note found one), status alone, labelled so (as the California
    School Dashboard did in 2022); `adj_before` is that year's percentile (None when unknown). The level
    is then kept within LEVEL_BOUNDS of how the value stands against national (never "Cause for concern" in line
    with national). No level for a small cohort, no value, or a special school or alternative provision with no
    national figure of its own kind (they are never judged against mainstream schools)."""
    if not measure.judged or measure.owner != "national" or value is None or small:
        return Judgement(None, _position_words(measure, None, status, value, small, phase))
    alone = phase in OWN_KIND and national is None
    level = None if alone else level_of(adj_now, adj_before)
    if level is not None:
        code = {"above": 1, "below": -1, "in line": 0}.get(significance_words or "", SIG_UNKNOWN)
        level = int(bounded_levels(np.array([level]), np.array([code]), measure.polarity)[0])
    status_only = level is not None and adj_before is None
    return Judgement(level, _level_words(measure, level, status_only, compared, status, value, small, phase, alone),
                     status_only)


def percentile_in(quantiles: Sequence[float] | None, value: float | None) -> float | None:
    """Where a value sits in a national distribution given by its 101 percentile cut points."""
    if quantiles is None or value is None or len(quantiles) < 2:
        return None
    q = np.asarray(quantiles, dtype=float)
    if value <= q[0]:
        return 0.0
    if value >= q[-1]:
        return 100.0
    # several cut points may be equal (ties): take the middle of the flat stretch
    lo = np.searchsorted(q, value, side="left")
    hi = np.searchsorted(q, value, side="right")
    if hi > lo:
        return float((lo + hi - 1) / 2 / (len(q) - 1) * 100)
    frac = (value - q[lo - 1]) / (q[lo] - q[lo - 1])
    return float((lo - 1 + frac) / (len(q) - 1) * 100)


def index_benchmarks(benchmarks: Iterable[Mapping] | pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """National benchmark values by (measure, period, scope), for constant-time lookups."""
    if isinstance(benchmarks, pd.DataFrame):
        df = benchmarks
        if "level" in df.columns:
            df = df[df["level"] == "national"]
        return {(str(m), str(p), str(sc)): float(v) for m, p, sc, v in
                zip(df["measure"], df["period"], df["scope"], df["value"], strict=True) if _f(v) is not None}
    return {(b["measure"], b["period"], b["scope"]): float(b["value"]) for b in benchmarks
            if b.get("level", "national") == "national" and _f(b.get("value")) is not None}


def pick_national(bench: BenchIndex | Iterable[Mapping], measure: Measure, period: str,
                  phase: str | None) -> tuple[float | None, str | None]:
    """The national value for a school of this phase (see metrics.comparators.comparison_scopes): its own
    phase's row if published, else state-funded, else all; special schools and alternative provision only
    their own kind's. Counts that add up (pupils, FTE) have none: England's total is not a comparator."""
    index = bench if isinstance(bench, Mapping) else index_benchmarks(bench)
    return national_for(index, measure, period, phase)


def target_met(measure: Measure, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None or not measure.judged:
        return None
    return value >= target if measure.polarity is Polarity.HIGHER_BETTER else value <= target


def prior_index(periods: Sequence[str], period: str) -> int | None:
    """Where the academic year before `period` sits in the window (None when the window does not hold it)."""
    if not is_period(period):
        return None
    before = previous(period)
    return periods.index(before) if before in periods else None


def _kinds_of(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True) for small non-negative (and -1) integer codes, by a table instead of a
    sort (measured: several times faster on a 500-school group's codes)."""
    keys = np.asarray(keys, dtype=np.int64) + 1
    if not len(keys):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    top = int(keys.max())
    if keys.min() < 0 or top > 4 * len(keys) + 65_536:
        found, back = np.unique(keys, return_inverse=True)
        return found - 1, back.reshape(-1)
    present = np.zeros(top + 1, dtype=bool)
    present[keys] = True
    found = np.flatnonzero(present)
    at = np.cumsum(present) - 1
    return found - 1, at[keys]


_COMPARED: dict[tuple[int, str, str], tuple[Measure, tuple[bool, str]]] = {}


def _comparable(measure: Measure, now: str, before: str) -> tuple[bool, str]:
    """metrics.timeline.comparable, remembered per measure object and pair of years (a card asks the same question
    of each measure several times). The measure is held with its answer, so its id is never another's."""
    key = (id(measure), now, before)
    hit = _COMPARED.get(key)
    if hit is not None and hit[0] is measure:
        return hit[1]
    answer = comparable(measure, now, before)
    if len(_COMPARED) > 4096:  # measures of registries no longer used: never grows without bound
        _COMPARED.clear()
    _COMPARED[key] = (measure, answer)
    return answer


def steps_comparable(measure: Measure, periods: Sequence[str], steps: int) -> bool:
    """Whether the window's last `steps` + 1 periods are consecutive academic years, each comparable with the one
    before (same definition, no DfE gap): what a decline over those years needs."""
    last = list(periods)[-(steps + 1):]
    if len(last) < steps + 1 or not all(is_period(p) for p in last):
        return False
    return all(_comparable(measure, b, a)[0] for a, b in zip(last, last[1:], strict=False))


def change_and_note(measure: Measure, period: str, periods: Sequence[str], value: float | None,
                    values: Sequence[float | None], statuses: Sequence[str]) -> tuple[float | None, str | None]:
    """The change on the academic year before, or None with the reason in a sentence (see metrics.timeline).

    Only that year, under the same definition, outside DfE's gaps. A window that does not reach back to it (the
    store's first year) gives no note, unless DfE's own gap explains the missing year."""
    if not is_period(period):
        return None, None
    before = previous(period)
    pi = prior_index(periods, period)
    ok, why = _comparable(measure, period, before)
    if not ok:
        return None, why
    if pi is None:
        return None, None
    prev = values[pi]
    if value is None:
        return None, None
    note = change_note(measure, period, before, prev is not None, statuses[pi])
    return (None, note) if note else (value - prev, None)  # type: ignore[operator]


def trend_breaks(measure: Measure, trend: Sequence[TrendPoint]) -> tuple[dict[str, str], list[str]]:
    """Where a trend line must not join: DfE's gap years (period -> DfE's sentence) and the periods that start a new
    definition (two values side by side that measure different things)."""
    gaps = {t.period: g.reason for t in trend if is_period(t.period) and (g := gap_at(measure.gaps, t.period))}
    breaks = [b.period for a, b in zip(trend, trend[1:], strict=False)
              if a.value is not None and b.value is not None and is_period(a.period) and is_period(b.period)
              and not comparable(measure, b.period, a.period)[0]]
    return gaps, breaks


def comparable_run(measure: Measure, trend: Sequence[TrendPoint]) -> tuple[TrendPoint, ...]:
    """The trend's latest unbroken stretch: consecutive years with values, each comparable with the one before
    (what a one-line sparkline may join)."""
    run: list[TrendPoint] = []
    for t in reversed(trend):
        if t.value is None or not is_period(t.period):
            break
        if run and not comparable(measure, run[-1].period, t.period)[0]:
            break
        run.append(t)
    return tuple(reversed(run))


def trend_status(measure: Measure, period: str, status: str, has_row: bool) -> str:
    """A trend point's status: a year DfE published nothing for is 'not_applicable' (a gap, not a missing file)."""
    if not has_row and is_period(period) and gap_at(measure.gaps, period) is not None:
        return Status.NOT_APPLICABLE.value
    return status


# ------------------------------------------------------------------------------------------ the one rule path
#
# Levels, flags and comparisons are decided here once, on arrays of values (one element per school, or one for a
# group's own rolled-up value): a school's card is a one-member group's, so a group's grid, its watch list and its
# "no school left behind" count read exactly what each member's own card says (tests/store/test_rule_agreement.py).

SIG_UNKNOWN = -9  # significance_codes: no interval, no value or nothing to compare with
SIG_WORDS = {1: "above", -1: "below", 0: "in line", SIG_UNKNOWN: None}


def significance_codes(reference: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """`significance` on arrays: 1 above, -1 below, 0 in line, SIG_UNKNOWN where any of the three is NaN."""
    reference, lo, hi = (np.asarray(x, dtype=float) for x in (reference, lo, hi))
    with np.errstate(invalid="ignore"):
        code = np.where(lo > reference, 1, np.where(hi < reference, -1, 0))
    return np.where(np.isnan(reference) | np.isnan(lo) | np.isnan(hi), SIG_UNKNOWN, code)


def worse_than(values: np.ndarray, references: np.ndarray, polarity: Polarity) -> np.ndarray:
    """Whether each value is worse than its reference by the measure's polarity (False where either is NaN or the
    measure is context): 'below national' in the grid, the group's spread and "no school left behind"."""
    values, references = np.asarray(values, dtype=float), np.asarray(references, dtype=float)
    with np.errstate(invalid="ignore"):
        if polarity is Polarity.HIGHER_BETTER:
            return values < references
        if polarity is Polarity.LOWER_BETTER:
            return values > references
    return np.zeros(values.shape, dtype=bool)


def levels_of(adj_now: np.ndarray, adj_before: np.ndarray) -> np.ndarray:
    """`level_of` on arrays: 0 where adj_now is unknown; no change part where adj_before is unknown."""
    adj_now, adj_before = np.asarray(adj_now, dtype=float), np.asarray(adj_before, dtype=float)
    with np.errstate(invalid="ignore"):
        band = np.minimum(np.floor_divide(np.nan_to_num(adj_now), 20.0), 4)
        delta = adj_now - adj_before
        step = np.where(delta >= CHANGE_BAND, 1, np.where(delta <= -CHANGE_BAND, -1, 0))  # NaN: no change part
    return np.where(np.isnan(adj_now), 0, np.clip(band + step, 0, 4) + 1).astype(np.int64)


def _signs(polarity: Polarity | np.ndarray, n: int) -> np.ndarray:
    """+1 higher is better, -1 lower is better, 0 context: one polarity for all, or one sign per element."""
    if isinstance(polarity, Polarity):
        sign = 1 if polarity is Polarity.HIGHER_BETTER else -1 if polarity is Polarity.LOWER_BETTER else 0
        return np.full(n, sign, dtype=np.int64)
    return np.asarray(polarity, dtype=np.int64)


def bounded_levels(levels: np.ndarray, sig: np.ndarray, polarity: Polarity | np.ndarray) -> np.ndarray:
    """Levels kept within LEVEL_BOUNDS of how each value stands against national (significance codes, by
    polarity, or one `_signs` sign per level): never an end of the scale without evidence that the value differs
    from national."""
    levels, sig = np.asarray(levels), np.asarray(sig)
    up = _signs(polarity, len(levels))
    better, worse, in_line = (up != 0) & (sig == up), (up != 0) & (sig == -up), sig == 0
    low = np.where(better, LEVEL_BOUNDS["better"][0], np.where(in_line, LEVEL_BOUNDS["in line"][0],
                                                                 np.where(worse, LEVEL_BOUNDS["worse"][0], 1)))
    high = np.where(better, LEVEL_BOUNDS["better"][1], np.where(in_line, LEVEL_BOUNDS["in line"][1],
                                                                  np.where(worse, LEVEL_BOUNDS["worse"][1], 5)))
    return np.where(levels > 0, np.clip(levels, low, high), 0)


def decline_mask(adj: np.ndarray, values: np.ndarray, polarity: Polarity | np.ndarray,
                 steady: bool | np.ndarray = True) -> np.ndarray:
    """Rows (schools) whose last three periods (columns: adjusted percentiles, values) are each worse than the one
    before, by the value itself (polarity) and its percentile, losing DECLINE_MIN_DROP percentile points in all.
    `steady`: the three are consecutive academic years under one definition, with no DfE gap (steps_comparable)."""
    adj, values = np.atleast_2d(np.asarray(adj, dtype=float)), np.atleast_2d(np.asarray(values, dtype=float))
    n = adj.shape[0]
    up = _signs(polarity, n)
    if adj.shape[1] < 3:
        return np.zeros(n, dtype=bool)
    a, v = adj[:, -3:], values[:, -3:] * up[:, None]
    with np.errstate(invalid="ignore"):  # NaN anywhere: no decline
        return ((v[:, 1] < v[:, 0]) & (v[:, 2] < v[:, 1]) & (a[:, 1] < a[:, 0]) & (a[:, 2] < a[:, 1])
                & (a[:, 0] - a[:, 2] >= DECLINE_MIN_DROP) & (up != 0) & np.asarray(steady, dtype=bool))


def bottom_fifth_mask(measure: Measure, value: np.ndarray, reference: np.ndarray, sig: np.ndarray,
                      adj_now: np.ndarray) -> np.ndarray:
    """The first flag: significantly worse than what the value is judged against and in the bottom fifth."""
    up = 1 if measure.polarity is Polarity.HIGHER_BETTER else -1
    if not measure.judged:
        return np.zeros(np.shape(value), dtype=bool)
    with np.errstate(invalid="ignore"):
        return (sig == -up) & (adj_now < BOTTOM_FIFTH) & ~np.isnan(value) & ~np.isnan(reference)


def _declining(adj: list[float | None], values: list[float | None], measure: Measure,
               periods: Sequence[str] | None = None) -> bool:
    """`decline_mask` for one series (None for unknown), over the window `periods` when given."""
    steady = periods is None or steps_comparable(measure, periods, 2)
    nan = float("nan")
    return bool(decline_mask(np.array([[nan if x is None else x for x in adj]]),
                             np.array([[nan if x is None else x for x in values]]), measure.polarity, steady)[0])


def flag_words(measure: Measure, value: float | None, reference: float | None, adj: float | None,
               phase: str | None, *, low: bool, declining: bool, n_declining: int,
               path: Sequence[float | None]) -> list[str]:
    """The reasons, in words, for flags already decided (`bottom_fifth_mask`, `decline_mask`): the same sentences
    on a school's card, its group's card and its group's watch list."""
    reasons: list[str] = []
    if low and value is not None and reference is not None and adj is not None:
        where = f"{phase} schools" if phase else "schools"
        if banded_against_zero(measure):  # DfE's rule: below 0, the national average for all pupils
            reasons.append(f"significantly below 0, the national average for all pupils ({measure.format_value(value)}"
                           f"; DfE's band: {p8_band_words(value)})")
        else:
            reasons.append(f"significantly {'below' if measure.polarity is Polarity.HIGHER_BETTER else 'above'} "
                           f"national ({measure.format_value(value)} against {measure.format_value(reference)})")
        reasons.append(f"in the bottom fifth of {where} nationally (better than only {adj:.0f}% of them)")
    if declining and n_declining >= DECLINE_MIN_MEASURES:
        steps = " → ".join(measure.format_value(v) for v in list(path)[-3:])
        reasons.append(f"worse for two years running ({steps}), one of {n_declining} measures declining")
    return reasons


@dataclass(frozen=True)
class Judged:
    """What the one rule decides about one school's value on one measure this period (see `judge_members`)."""

    value: float | None  # this year's value as the card shows it (None: no value, or a share over 100% refused)
    status: str  # this year's status as the card reads it
    small: bool  # a cohort below the measure's minimum
    national: float | None  # its own kind's national value (None: none published)
    reference: float | None  # what it is judged against: 0 for Progress 8 (DfE's rule), else `national`
    significance: str | None  # against `reference`, 95%
    change: float | None  # on the comparable academic year before
    change_note: str | None  # why there is no change
    level: int | None
    label: str
    status_only: bool
    below: bool | None  # worse than `reference` (by polarity); None when not judged or either is unknown
    declining: bool  # this measure alone: worse two years running (decline_mask)
    reasons: tuple[str, ...]  # its flags in words (empty: not flagged)


def _pair_changes(ms: Sequence[Measure], n_u: int, period: str, periods: Sequence[str], value: np.ndarray,
                  values: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """`change_and_note` on arrays, for every (measure, member) pair (measure-major, `n_u` members each) at once:
    each school's change on the comparable year before (NaN: none) and why not. `values` and `codes` are the pairs x
    window matrices of values and status codes (-2: no row). Each measure's comparability is asked once, and the
    note worked out once per (measure, kind of last year) found: a few among many schools."""
    n = len(value)
    if not is_period(period):
        return np.full(n, np.nan), [None] * n
    before = previous(period)
    answers = [_comparable(m, period, before) for m in ms]
    pi = prior_index(periods, period)
    if pi is None:
        notes: list[str | None] = []
        for ok, why in answers:
            notes += [None if ok else why] * n_u
        return np.full(n, np.nan), notes
    comparable_pair = np.repeat(np.array([ok for ok, _ in answers], dtype=bool), n_u)
    prev = values[:, pi]
    has = ~np.isnan(value)
    each = np.repeat(np.arange(len(ms), dtype=np.int64), n_u)
    # the note depends on the measure, whether last year has a value and its status (-1: no value this year)
    key = np.where(has & comparable_pair, each * 128 + (prev == prev).astype(np.int64) * 64 + codes[:, pi] + 2, -1)
    found, back = _kinds_of(key)
    said: list[str | None] = []
    for k in found.tolist():
        if k < 0:
            said.append(None)
            continue
        j, k = divmod(k, 128)
        c = k % 64 - 2
        status = trend_status(ms[j], periods[pi], STATUS_ORDER[c] if c >= 0 else Status.MISSING.value, c != -2)
        said.append(change_note(ms[j], period, before, k >= 64, status))
    notes = np.array(said, dtype=object)[back.reshape(-1)] if n else np.zeros(0, dtype=object)
    quiet = np.array([x is None for x in said], dtype=bool)[back.reshape(-1)] if n else np.zeros(0, dtype=bool)
    for j, (ok, why) in enumerate(answers):
        if not ok:
            notes[j * n_u:(j + 1) * n_u] = why
    change = np.where(has & quiet & comparable_pair, value - prev, np.nan)
    return change, notes.tolist()


def judge_members(measures: Sequence[Measure], rows: Mapping[str, np.ndarray], pos: Mapping[str, int],
                  periods: Sequence[str], period: str, phases: Mapping[int, str | None], bench: BenchIndex,
                  members: Sequence[int]) -> MemberJudgements:
    """The one rule path: every member's level, words, significance, change, 'below national' and flags on every
    (stored) measure, decided at once on a (measure, member) x window array of its coded rows (ROW_COLUMNS).

    A school's own card is this with one member; a group's grid, watch list and spread read it for today's members:
    the same values, the same rules, the same words. `phases` gives each member's kind (its national value and
    ranking are its own kind's); `rows` may hold other schools' rows (left out)."""
    ms = [m for m in measures if not m.formula and m.id in pos]
    urns = np.asarray(sorted({int(u) for u in members}), dtype=np.int64)
    n_u, n_m, n_p = len(urns), len(ms), len(periods)
    found = MemberJudgements(tuple(urns.tolist()), {}, {u: i for i, u in enumerate(urns.tolist())})
    if not n_u or not n_m or not n_p:
        return found
    with np.errstate(invalid="ignore"):  # NaN is "unknown" throughout: comparisons with it are False
        return _judge(found, ms, rows, pos, periods, period, phases, bench, urns)


def _judge(found: MemberJudgements, ms: Sequence[Measure], rows: Mapping[str, np.ndarray], pos: Mapping[str, int],
           periods: Sequence[str], period: str, phases: Mapping[int, str | None], bench: BenchIndex,
           urns: np.ndarray) -> MemberJudgements:
    """judge_members' work: measure by measure what needs the measure's own parameters, then every rule on all
    (measure, member) pairs at once."""
    n_u, n_m, n_p = len(urns), len(ms), len(periods)
    n = n_u * n_m
    code_to_j = np.full(max(pos.values()) + 1, -1, dtype=np.int64)
    for j, m in enumerate(ms):
        code_to_j[pos[m.id]] = j
    urn, mc, pc = (np.asarray(rows[c]).astype(np.int64) for c in ("urn", "m", "p"))
    ui = np.clip(np.searchsorted(urns, urn), 0, n_u - 1)
    mj = code_to_j[np.clip(mc, 0, len(code_to_j) - 1)]
    keep = (urns[ui] == urn) & (mc >= 0) & (mc < len(code_to_j)) & (mj >= 0) & (pc >= 0) & (pc < n_p)
    cell, col = mj[keep] * n_u + ui[keep], pc[keep]  # pairs measure-major: each measure's members side by side
    val = np.full((n, n_p), np.nan)
    pct = np.full((n, n_p), np.nan)
    sts = np.full((n, n_p), -2, dtype=np.int64)  # -2: no row that year
    val[cell, col] = np.asarray(rows["value"], dtype=float)[keep]
    pct[cell, col] = np.asarray(rows["percentile"], dtype=float)[keep]
    sts[cell, col] = np.asarray(rows["st"]).astype(np.int64)[keep]
    now = col == n_p - 1
    parts = {c: np.full(n, np.nan) for c in ("numerator", "denominator", "ci_low", "ci_high")}
    for c, arr in parts.items():
        arr[cell[now]] = np.asarray(rows[c], dtype=float)[keep][now]
    member_phase = [phases.get(int(u)) for u in urns.tolist()]
    kinds = sorted(set(member_phase), key=str)  # each member's national value is its kind's: looked up per kind
    kind_of = np.array([kinds.index(p) for p in member_phase], dtype=np.int64)
    own_kind = np.tile(np.array([p in OWN_KIND for p in member_phase], dtype=bool), n_m)
    missing = STATUS_ORDER.index(Status.MISSING.value)
    # each pair's measure's parameters
    each = np.repeat(np.arange(n_m), n_u)
    judged = np.array([m.judged for m in ms])[each]
    may = np.array([m.judged and m.owner == "national" for m in ms])[each]
    up = np.array([_signs(m.polarity, 1)[0] for m in ms])[each]
    share = np.array([m.unit == "%" for m in ms])[each]
    min_cohort = np.array([m.min_cohort for m in ms], dtype=float)[each]
    steady = np.array([n_p >= 3 and steps_comparable(m, periods, 2) for m in ms])[each]
    # this year's value as a card shows it: a share over 100% is impossible, never shown, judged or flagged
    raw = np.where(sts[:, -1] == 0, val[:, -1], np.nan)
    refused = share & (raw > OVER_100)
    value = np.where(refused, np.nan, raw)
    code_now = np.where(refused | (sts[:, -1] < 0), missing, sts[:, -1])
    small = parts["denominator"] < min_cohort
    nat, ref = np.full(n, np.nan), np.full(n, np.nan)
    lo, hi = _pair_intervals(ms, n_u, value, parts["numerator"], parts["denominator"], parts["ci_low"],
                             parts["ci_high"])
    for j, m in enumerate(ms):
        k = slice(j * n_u, (j + 1) * n_u)
        nat[k] = np.array([np.nan if (x := national_for(bench, m, period, p)[0]) is None else x for p in kinds],
                          dtype=float)[kind_of]
        ref[k] = 0.0 if banded_against_zero(m) else nat[k]
    change, notes = _pair_changes(ms, n_u, period, periods, value, val, sts)
    lo, hi = np.where(np.isnan(value), np.nan, lo), np.where(np.isnan(value), np.nan, hi)
    sig = np.where(judged, significance_codes(ref, lo, hi), SIG_UNKNOWN)
    adj = np.where(judged[:, None], np.where(up[:, None] > 0, pct, 100.0 - pct), np.nan)
    pi = prior_index(periods, period)
    compared = ~np.isnan(change)
    before = np.where(compared, adj[:, pi], np.nan) if pi is not None else np.full(n, np.nan)
    alone = own_kind & np.isnan(nat)  # special or AP with no national of its own kind: never judged on mainstream
    leveled = may & ~np.isnan(value) & ~small & ~alone
    level = np.where(leveled, bounded_levels(levels_of(adj[:, -1], before), sig, up), 0)
    known = judged & ~np.isnan(value) & ~np.isnan(ref)
    below = known & (up * (value - ref) < 0)
    dec = judged & decline_mask(adj, val, up, steady)
    low = judged & (sig == -up) & (adj[:, -1] < BOTTOM_FIFTH) & known & ~small & ~refused
    # "several measures": each member's judged measures declining this year (a small cohort counts, never flags)
    n_declining = np.tile(dec.reshape(n_m, n_u).sum(axis=0), n_m)
    decline = dec & ~small & ~refused
    flagged = low | (decline & (n_declining >= DECLINE_MIN_MEASURES))
    status_only = (level > 0) & np.isnan(before)
    status_words = np.array(STATUS_ORDER, dtype=object)
    statuses = status_words[code_now].tolist()
    n_s = len(STATUS_ORDER)
    # what decides a level's words, as one code per pair (few kinds among many schools): worked out once each
    word_key = (((((((level * 2 + status_only) * 2 + compared) * n_s + code_now) * 2 + np.isnan(value)) * 2 + small)
                 * len(kinds) + np.tile(kind_of, n_m)) * 2 + alone).astype(np.int64)
    for j, m in enumerate(ms):
        k = slice(j * n_u, (j + 1) * n_u)
        found_keys, back = _kinds_of(word_key[k])
        words = []
        for key in found_keys.tolist():
            key, by_itself = divmod(key, 2)
            key, kind = divmod(key, len(kinds))
            key, tiny = divmod(key, 2)
            key, none = divmod(key, 2)
            key, code = divmod(key, n_s)
            key, comp = divmod(key, 2)
            lvl, so = divmod(key, 2)
            words.append(_level_words(m, lvl or None, bool(so), bool(comp), STATUS_ORDER[code],
                                      None if none else 0.0, bool(tiny), kinds[kind], bool(by_itself)))
        labels = np.array(words, dtype=object)[back.reshape(-1)].tolist()
        for i in np.flatnonzero(refused[k]).tolist():
            labels[i] = refused_share(m, float(raw[j * n_u + i]), "The school's value")
        reasons: dict[int, tuple[str, ...]] = {}
        for i in np.flatnonzero(flagged[k]).tolist():
            x = j * n_u + i
            reasons[i] = tuple(flag_words(m, _f(value[x]), _f(ref[x]), _f(adj[x, -1]), member_phase[i],
                                          low=bool(low[x]), declining=bool(decline[x]),
                                          n_declining=int(n_declining[x]), path=[_f(v) for v in val[x].tolist()]))
        found.by_measure[m.id] = dict(
            value=value[k], status=statuses[k], small=small[k], national=nat[k], reference=ref[k],
            significance=sig[k], change=change[k], change_note=notes[k], level=level[k], label=labels,
            status_only=status_only[k], below=below[k], known=known[k], declining=dec[k], reasons=reasons)
    return found


@dataclass(frozen=True)
class MemberJudgements:
    """`judge_members`' answer: for each measure, arrays over `urns` (members in URN order)."""

    urns: tuple[int, ...]
    by_measure: dict[str, dict]
    positions: Mapping[int, int] = field(default_factory=dict)  # where each URN sits in `urns`

    def index(self, urn: int) -> int:
        return self.positions[int(urn)]

    def one(self, urn: int, measure: str) -> Judged:
        """One member's judgement on one measure, as a record."""
        d, i = self.by_measure[measure], self.index(urn)
        return Judged(value=_f(d["value"][i]), status=d["status"][i], small=bool(d["small"][i]),
                      national=_f(d["national"][i]), reference=_f(d["reference"][i]),
                      significance=SIG_WORDS[int(d["significance"][i])], change=_f(d["change"][i]),
                      change_note=d["change_note"][i], level=int(d["level"][i]) or None, label=d["label"][i],
                      status_only=bool(d["status_only"][i]),
                      below=bool(d["below"][i]) if d["known"][i] else None, declining=bool(d["declining"][i]),
                      reasons=d["reasons"].get(i, ()))

    def levels(self, measure: str) -> dict[int, int | None]:
        d = self.by_measure[measure]
        return {u: (int(x) or None) for u, x in zip(self.urns, d["level"].tolist(), strict=True)}

    def labels(self, measure: str) -> dict[int, str]:
        return dict(zip(self.urns, self.by_measure[measure]["label"], strict=True))


def _level_words(m: Measure, level: int | None, status_only: bool, compared: bool, status: str,
                 value: float | None, small: bool, phase: str | None, own_kind_alone: bool) -> str:
    """A level in words, or why there is none (the words of every level Jointly shows)."""
    if level is not None:
        words = LEVELS[level - 1]
        return f"{words} ({POSITION_ONLY if compared else STATUS_ONLY})" if status_only else words
    if m.judged and m.owner == "national" and value is not None and not small and own_kind_alone:
        return f"No level: no national figure for {scope_phrase(phase)} to compare with"
    return _position_words(m, None, status, value, small, phase)


def formula_inputs(measures: Iterable[Measure], by_id: Mapping[str, Measure]) -> list[str]:
    """Every measure id that the formula measures among `measures` need, directly or through other formulas."""
    out: list[str] = []
    todo = [m for m in measures if m.formula]
    seen: set[str] = set()
    while todo:
        m = todo.pop()
        if m.id in seen:
            continue
        seen.add(m.id)
        for name in stored_formula(m.formula).names:
            if name not in out:
                out.append(name)
            if name in by_id and by_id[name].formula:
                todo.append(by_id[name])
    return out


class _Values:
    """A measure's value in a period, computing formula measures from their inputs (memoised).
    `base(measure_id, period_index)` gives stored values; formulas never read their own output."""

    def __init__(self, by_id: Mapping[str, Measure], base) -> None:
        self.by_id = by_id
        self.base = base
        self.memo: dict[tuple[str, int], float | None] = {}

    def __call__(self, mid: str, pi: int) -> float | None:
        key = (mid, pi)
        if key not in self.memo:
            m = self.by_id.get(mid)
            if m is not None and m.formula:
                f = stored_formula(m.formula)
                self.memo[key] = evaluate(f, {n: self(n, pi) for n in f.names})
            else:
                self.memo[key] = self.base(mid, pi)
        return self.memo[key]


class _Cohorts:
    """A measure's cohort in a period; a formula's is the smallest cohort of the inputs it uses that have a value
    (its result rests on no more pupils than that), None when none of them has a known cohort (memoised)."""

    def __init__(self, by_id: Mapping[str, Measure], values: _Values, base) -> None:
        self.by_id, self.values, self.base = by_id, values, base
        self.memo: dict[tuple[str, int], float | None] = {}

    def __call__(self, mid: str, pi: int) -> float | None:
        key = (mid, pi)
        if key not in self.memo:
            m = self.by_id.get(mid)
            if m is not None and m.formula:
                known = [c for n in stored_formula(m.formula).names
                         if self.values(n, pi) is not None and (c := self(n, pi)) is not None]
                self.memo[key] = min(known) if known else None
            else:
                self.memo[key] = self.base(mid, pi) if self.values(mid, pi) is not None else None
        return self.memo[key]


def _formula_row(m: Measure, period: str, periods: Sequence[str], value_at, targets: Mapping[str, float],
                 member_values: tuple = (), schools_total: int | None = None, cohort_at=None) -> ScorecardRow:
    """A formula measure's row: its value and trend, computed; no national comparators (it is local).
    Its cohort is its smallest input cohort (`cohort_at`), so a tiny input shows as insufficient data."""
    trend = tuple(TrendPoint(p, value_at(m.id, pi), Status.OK.value if value_at(m.id, pi) is not None
                             else Status.MISSING.value) for pi, p in enumerate(periods))
    value = trend[-1].value
    prev = trend[-2].value if len(trend) > 1 else None
    cohort = cohort_at(m.id, len(periods) - 1) if cohort_at is not None and value is not None else None
    small = cohort is not None and cohort < m.min_cohort
    return ScorecardRow(
        measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
        period=period, value=value, display=m.format_value(value), cohort=cohort, numerator=None,
        denominator=cohort,
        status=trend[-1].status, status_code=None, ci_low=None, ci_high=None, uncertainty=None, national=None,
        national_scope=None, percentile=None, family_median=None, family_rank=None, family_size=None, expected=None,
        residual=None, trend=trend, change=None if value is None or prev is None else value - prev, level=None,
        level_label=INSUFFICIENT if small and m.judged else _level_label(m, None), significance=None, flag=False,
        flag_reasons=(),
        target=targets.get(m.id), target_met=target_met(m, value, targets.get(m.id)),
        rollup_method=f"formula on the group's values: {m.formula}" if schools_total is not None else None,
        schools_total=schools_total, member_values=member_values)


# ------------------------------------------------------------------------------------------ school


ROW_COLUMNS = ("urn", "m", "p", "value", "numerator", "denominator", "ci_low", "ci_high", "st", "percentile", "se",
               "expected", "residual", "family_median", "family_rank", "family_size")
STATUS_ORDER = tuple(s.value for s in Status)  # `st` indexes this (the store's STATUSES)


def encode_rows(obs: pd.DataFrame, stats: pd.DataFrame | None, codes: Sequence[str],
                periods: Sequence[str]) -> pd.DataFrame:
    """Readable observations (+ statistics) -> the coded rows the builders take (as schools.member_rows gives).
    For tests and small callers; the store produces coded rows directly."""
    df = obs.copy()
    if stats is not None and len(stats):
        keep = ["urn", "measure", "period", "percentile", "se", "expected", "residual", "family_median",
                "family_rank", "family_size"]
        df = df.merge(stats[[c for c in keep if c in stats.columns]], on=["urn", "measure", "period"], how="left")
    pos_m = {c: i for i, c in enumerate(codes)}
    pos_p = {c: i for i, c in enumerate(periods)}
    pos_s = {c: i for i, c in enumerate(STATUS_ORDER)}
    df = df[df["measure"].isin(pos_m) & df["period"].isin(pos_p)]
    out = pd.DataFrame({"urn": df["urn"].astype("int32"), "m": df["measure"].map(pos_m).astype("int16"),
                        "p": df["period"].map(pos_p).astype("int16"),
                        "st": df["status"].map(lambda x: pos_s.get(x, -1)).astype("int16")})
    for c in ROW_COLUMNS:
        if c not in out.columns:
            out[c] = pd.to_numeric(df[c], errors="coerce").astype(float) if c in df.columns else np.nan
    return out[list(ROW_COLUMNS)].reset_index(drop=True)




def build_school_scorecard(subject: Subject, period: str, periods: Sequence[str], measures: Sequence[Measure],
                           rows: pd.DataFrame, codes: Sequence[str], benchmarks: pd.DataFrame | BenchIndex,
                           targets: Mapping[str, float] | None = None,
                           status_codes: Mapping[str, str] | None = None,
                           inputs: Mapping[str, Measure] | None = None, lineage: str | None = None) -> Scorecard:
    """One school's scorecard from its coded rows (see schools.member_rows). `periods` lists the window, oldest
    first, ending with `period`; `codes` the measure ids that `m` indexes (including formula inputs, whose
    definitions are in `inputs`). Rows from the school's earlier URNs carry that URN in `src`: their trend
    points say so, and `lineage` (the history in words) goes on the card and on each row they feed."""
    targets = targets or {}
    status_codes = status_codes or {}
    bench = benchmarks if isinstance(benchmarks, Mapping) else index_benchmarks(benchmarks)
    pos = {c: i for i, c in enumerate(codes)}
    cols = {c: rows[c].to_numpy() for c in ROW_COLUMNS}
    by: dict[tuple[int, int], int] = {(int(m), int(p)): i for i, (m, p) in enumerate(zip(cols["m"], cols["p"],
                                                                                        strict=True))}
    last = len(periods) - 1

    def get(mi: int, pi: int, col: str) -> float | None:
        i = by.get((mi, pi))
        return None if i is None else _f(cols[col][i])

    def status(mi: int, pi: int) -> str:
        i = by.get((mi, pi))
        return STATUS_ORDER[cols["st"][i]] if i is not None and cols["st"][i] >= 0 else Status.MISSING.value

    # the stored version of each value (schools.member_rows with codes); rows read without it have none
    versions = rows["version"].to_numpy() if "version" in rows.columns else None

    def version(mi: int, pi: int) -> str | None:
        i = by.get((mi, pi))
        v = versions[i] if versions is not None and i is not None else None
        return v if isinstance(v, str) and v else None

    def stored(mid: str, pi: int) -> float | None:
        return get(pos[mid], pi, "value") if mid in pos and status(pos[mid], pi) == Status.OK.value else None

    # which URN each row is of (schools.member_rows with lineage): an earlier URN's rows stand for the school's past
    sources = rows["src"].to_numpy() if "src" in rows.columns else None

    def source(mi: int, pi: int) -> int | None:
        i = by.get((mi, pi))
        u = int(sources[i]) if sources is not None and i is not None else None
        return u if u is not None and u != subject.id else None

    by_id = {**(inputs or {}), **{m.id: m for m in measures}}
    value_at = _Values(by_id, stored)
    cohort_at = _Cohorts(by_id, value_at, lambda mid, pi: get(pos[mid], pi, "denominator") if mid in pos else None)
    # the school is a one-member group: its levels, words, flags and comparisons are judge_members', as in its
    # groups' grids and watch lists (every row is the school's: an earlier URN's rows stand under its own URN)
    own = {**cols, "urn": np.full(len(rows), subject.id, dtype=np.int64)}
    found = judge_members(measures, own, pos, periods, period, {subject.id: subject.phase}, bench, [subject.id])
    out = []
    for m in measures:
        if m.formula:
            out.append(_formula_row(m, period, periods, value_at, targets, cohort_at=cohort_at))
            continue
        mi = pos[m.id]
        j = found.one(subject.id, m.id)
        value = j.value
        num, den = get(mi, last, "numerator"), get(mi, last, "denominator")
        lo, hi, how = interval(m, value, num, den, get(mi, last, "ci_low"), get(mi, last, "ci_high"))
        comp = school_comparator(bench, m, period, subject.phase)
        trend = tuple(TrendPoint(p, get(mi, pi, "value"), trend_status(m, p, status(mi, pi), (mi, pi) in by),
                                 source(mi, pi)) for pi, p in enumerate(periods))
        target = targets.get(m.id)
        rank, size = get(mi, last, "family_rank"), get(mi, last, "family_size")
        out.append(ScorecardRow(
            measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
            period=period, value=value, display=m.format_value(value), cohort=den, numerator=num, denominator=den,
            status=j.status, status_code=status_codes.get(m.id), ci_low=lo, ci_high=hi, uncertainty=how,
            national=comp.value, national_scope=comp.scope, percentile=get(mi, last, "percentile"),
            family_median=get(mi, last, "family_median"),
            family_rank=None if rank is None else int(rank), family_size=None if size is None else int(size),
            expected=get(mi, last, "expected"), residual=get(mi, last, "residual"), trend=trend,
            change=j.change, level=j.level, level_label=j.label, significance=j.significance, flag=bool(j.reasons),
            flag_reasons=j.reasons, target=target, target_met=target_met(m, value, target),
            change_note=j.change_note, band=p8_band(value, lo, hi) if banded_against_zero(m) else None,
            comparator=comp.words, version=version(mi, last),
            lineage=lineage if any(t.urn is not None for t in trend) else None, worse_than_national=j.below,
        ))
    return Scorecard(subject, period, tuple(out), "school values as published", lineage=lineage)


STATUS_WORDS = {
    Status.NOT_APPLICABLE.value: "Not applicable (not published or no entries)",
    Status.SUPPRESSED.value: "Suppressed (too few pupils to publish)",
    Status.MISSING.value: "No data",
    Status.LOW_COVERAGE.value: "Low coverage (too few pupils included)",
}


NO_PHASE = "No national position: the school's phase is not known (import GIAS or the school information file)"
NO_POSITION = "No national position: no schools of this phase to compare with this year"


def _position_words(m: Measure, level: int | None, status: str, value: float | None, small: bool,
                    phase: str | None) -> str:
    """The level in words; a value with a cohort large enough but no national percentile is not 'insufficient
    data': it says why it has no position (an unknown phase, or no schools of its phase to compare with)."""
    label = _level_label(m, level, status)
    if label == INSUFFICIENT and value is not None and not small and m.owner == "national":
        return NO_PHASE if phase is None else NO_POSITION
    return label


def _level_label(m: Measure, level: int | None, status: str = Status.OK.value) -> str:
    """The level in words; without a level, why not (context, local, the file's status, or a small cohort)."""
    if not m.judged:
        return NOT_JUDGED
    if level:
        return LEVELS[level - 1]
    if m.owner != "national":
        return LOCAL_ONLY
    return STATUS_WORDS.get(status, INSUFFICIENT)


# ------------------------------------------------------------------------------------------ group


def dfe_trust_value(measure: Measure, urns: np.ndarray, values: np.ndarray, dens: np.ndarray, ok: np.ndarray,
                    years: Mapping[int, int]) -> tuple[float | None, str]:
    """The DfE multi-academy-trust method: schools in the trust for DFE_MIN_YEARS+ full years, each weighted
    by cohort x years in trust (capped at DFE_MAX_YEARS); needs DFE_MIN_SCHOOLS such schools."""
    yrs = np.array([years.get(int(u), 0) for u in urns], dtype=float)
    use = ok & (dens > 0) & (yrs >= DFE_MIN_YEARS)
    n = int(use.sum())
    if n < DFE_MIN_SCHOOLS:
        return None, (f"DfE trust method not available: {n} schools have results and "
                      f"{DFE_MIN_YEARS}+ full years in the trust (needs {DFE_MIN_SCHOOLS})")
    w = dens[use] * np.minimum(yrs[use], DFE_MAX_YEARS)
    return float(np.sum(values[use] * w) / np.sum(w)), (
        f"DfE trust method: {n} schools with {DFE_MIN_YEARS}+ full years in the trust, "
        "weighted by pupils x years in trust")


def build_group_scorecard(subject: Subject, period: str, periods: Sequence[str], measures: Sequence[Measure],
                          rows: pd.DataFrame, codes: Sequence[str], benchmarks: pd.DataFrame | BenchIndex,
                          quantiles: Mapping[tuple[str, str, str], Sequence[float]], names: Mapping[int, str],
                          targets: Mapping[str, float] | None = None, method: str = "pooled",
                          years_in_trust: Mapping[int, int] | None = None,
                          inputs: Mapping[str, Measure] | None = None,
                          period_members: Mapping[str, Sequence[int]] | None = None) -> Scorecard:
    """A group's scorecard: each measure rolled up from the members' coded rows (see schools.member_rows), with
    spread and a watch list. `codes` must include "pupils": the weight for rows without a cohort.

    The trend of each earlier year counts the schools that were in the group that year (`period_members`, by
    membership dates; `rows` then holds their rows too), each under the URN it had then. Without it (no dates
    known) the trend is that of today's members (like for like). Everything about members (spread, levels,
    flags) is of today's members, on their own history.
    """
    targets = targets or {}
    bench = benchmarks if isinstance(benchmarks, Mapping) else index_benchmarks(benchmarks)
    a = {c: rows[c].to_numpy() for c in ROW_COLUMNS}
    m_arr, p_arr, st = a["m"].astype(np.int64), a["p"].astype(np.int64), a["st"].astype(np.int64)
    value = a["value"].astype(float)
    ok_all = (st == 0) & ~np.isnan(value)
    n_p = len(periods)
    weight = _pupil_weights(a["urn"], m_arr, p_arr, value, ok_all, codes.index("pupils") if "pupils" in codes else -1,
                            n_p)
    then = _in_group_then(a["urn"], p_arr, periods, period_members)
    sums = sums_table(m_arr[then], p_arr[then], st[then], value[then], a["numerator"][then].astype(float),
                      a["denominator"][then].astype(float), weight[then], len(codes), n_p)
    if period_members is not None:  # from here on: today's members only
        now = np.isin(a["urn"].astype(np.int64), np.asarray(subject.members, dtype=np.int64))
        a = {c: v[now] for c, v in a.items()}
        m_arr, p_arr, st, value, ok_all, weight = m_arr[now], p_arr[now], st[now], value[now], ok_all[now], weight[now]
    last = n_p - 1
    cur = np.flatnonzero(p_arr == last)
    cur = cur[np.argsort(m_arr[cur], kind="stable")]
    bounds = np.searchsorted(m_arr[cur], np.arange(len(codes) + 1))
    pos = {c: i for i, c in enumerate(codes)}
    # each member is compared with its own phase's national value; the group with its members' phase mix
    member_phase = dict(zip(subject.members, subject.member_phases, strict=False))
    # each member's level, words, flags and 'below national', by the one rule path (as on its own card)
    found = judge_members([m for m in measures if not m.formula], a, pos, periods, period, member_phase, bench,
                          subject.members)
    found_urns = np.asarray(found.urns, dtype=np.int64)
    # each current row's member's kind, as a position in `row_kinds` (phases as the members have them)
    row_kinds = sorted({member_phase.get(u) for u in found.urns}, key=str)
    member_kind = np.array([row_kinds.index(member_phase.get(u)) for u in found.urns], dtype=np.int64)
    row_kind = member_kind[np.searchsorted(found_urns, a["urn"][cur].astype(np.int64))] if len(found_urns) \
        else np.zeros(len(cur), dtype=np.int64)
    phase_of = {m.id: (m.phases[0].value if m.phases else None) for m in measures}
    by_id = {**(inputs or {}), **{m.id: m for m in measures}}
    # a formula's group value is the formula on the group's rolled-up inputs (e.g. sum of hours / sum of teachers)
    group_value = _Values(by_id, lambda mid, pi: rollup_sums(by_id[mid], sums[pos[mid]][pi]).value
                          if mid in pos and mid in by_id else None)
    group_cohort = _Cohorts(by_id, group_value, lambda mid, pi: rollup_sums(by_id[mid], sums[pos[mid]][pi]).cohort
                            if mid in pos and mid in by_id else None)

    built = []
    for m in measures:
        if m.formula:
            built.append((m, False, _formula_fields(m, period, periods, group_value, targets, subject,
                                                    _member_formula_values(m, by_id, a, m_arr, ok_all, cur, bounds,
                                                                           pos, subject), group_cohort)))
            continue
        mi = pos[m.id]
        idx = cur[bounds[mi]:bounds[mi + 1]]
        vals, den, ok = value[idx], a["denominator"][idx].astype(float), ok_all[idx]
        trend_vals = [(p, rollup_sums(m, sums[mi][pi])) for pi, p in enumerate(periods)]
        g = trend_vals[-1][1]
        val, how = g.value, g.method
        if method == "dfe_trust" and m.rollup is not Rollup.SUM and m.judged:
            val, how = dfe_trust_value(m, a["urn"][idx], vals, den, ok, years_in_trust or {})
        urns_now = a["urn"][idx]
        kind_now = row_kind[bounds[mi]:bounds[mi + 1]]
        # the mix's weights: each reporting member's pupils in this measure (cohort), else its pupils on roll
        w_now = np.where(den > 0, den, weight[idx])
        comp = mix_comparator(bench, m, period, row_kinds, kind_now[ok], w_now[ok])
        national, scope = comp.value, comp.scope
        # the group's percentile and flags sit among schools of its largest phase (the measure's own if unknown)
        main_scope = comp.shares[0][0] if comp.shares else None
        phase = main_scope if main_scope in ("primary", "secondary", "special", "alternative") else phase_of[m.id]
        phase_of[m.id] = phase
        cohort = g.cohort
        num = None if val is None or not cohort else val * cohort / m.scale
        lo, hi, unc = _group_interval(m, val, num, cohort, ok, den, a["se"][idx].astype(float))
        sig = significance(significance_reference(m, national), lo, hi) if m.judged else None
        adj_series = [adjusted_percentile(percentile_in(quantiles.get((m.id, p, phase or "")), gv.value), m)
                      for p, gv in trend_vals]
        pct = percentile_in(quantiles.get((m.id, period, phase or "")), val)
        trend = tuple(TrendPoint(p, gv.value, trend_status(m, p, gv.status.value, gv.value is not None))
                      for p, gv in trend_vals)
        # change, and the level's change part, only against the comparable year before (metrics.timeline)
        change, note = change_and_note(m, period, periods, val, [t.value for t in trend], [t.status for t in trend])
        prior = prior_index(periods, period)
        # a group of special schools or alternative provision only is judged as they are: never on mainstream ranks
        kinds = sorted({str(row_kinds[i]) for i in np.unique(kind_now[ok]).tolist()})
        own_kind = kinds[0] if kinds and set(kinds) <= OWN_KIND else None
        g_status = Status.OK.value if val is not None else g.status.value
        judged = judge_level(m, value=val, status=g_status, small=False, adj_now=adj_series[-1],
                             adj_before=adj_series[prior] if prior is not None and change is not None else None,
                             significance_words=sig, phase=own_kind if own_kind and national is None else phase,
                             national=national, compared=change is not None)
        good = vals[ok]
        spread = Spread(*five_numbers(good)) if len(good) else None
        # how many reporting members their own cards show worse than national (a member with no national of its
        # kind is never "below"; None when no member has one)
        mine = found.by_measure[m.id]
        at = np.searchsorted(found_urns, urns_now.astype(np.int64))  # every row is a member's (judge_members)
        known = ok & mine["known"][at]
        below = int(np.count_nonzero(mine["below"][at] & known)) if m.judged and known.any() else None
        exp = a["expected"][idx].astype(float)
        use = ~np.isnan(exp) & (den > 0)
        expected = float(np.sum(exp[use] * den[use]) / np.sum(den[use])) if use.any() else None
        declining = m.judged and _declining(adj_series, [t.value for t in trend], m, periods)
        built.append((m, declining, dict(
            measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
            period=period, value=val, display=m.format_value(val), cohort=cohort, numerator=num, denominator=cohort,
            status=Status.OK.value if val is not None else (g.status.value if g.value is None
                                                             else Status.MISSING.value),
            status_code=None, ci_low=lo, ci_high=hi, uncertainty=unc, national=national, national_scope=scope,
            percentile=pct, family_median=None, family_rank=None, family_size=None, expected=expected,
            residual=None if expected is None or val is None else val - expected, trend=trend,
            change=change, change_note=note,
            level=judged.level, level_label=judged.label,
            significance=sig, target=targets.get(m.id), target_met=target_met(m, val, targets.get(m.id)),
            rollup_method=how, schools_reporting=g.schools_reporting, schools_total=len(subject.members),
            spread=spread, below_national=below,
            # each member's value and status as its own card shows them (a share over 100% is never shown)
            member_values=MemberCells(urns_now, mine["value"][at], np.asarray(mine["status"], dtype=object)[at]),
            band=p8_band(val, lo, hi) if banded_against_zero(m) else None, comparator=comp.words,
            member_nationals=MemberCells(urns_now, mine["reference"][at]),
        )))
    n_declining = sum(1 for _, d, _ in built if d)
    out = []
    for m, declining, fields in built:
        if isinstance(fields, ScorecardRow):
            out.append(fields)
            continue
        # the group's own value, judged by the rules its members' values are (a one-element array)
        ref = significance_reference(m, fields["national"])
        adj = adjusted_percentile(fields["percentile"], m)
        code = {"above": 1, "below": -1, "in line": 0}.get(fields["significance"] or "", SIG_UNKNOWN)
        low = bool(bottom_fifth_mask(m, np.array([np.nan if fields["value"] is None else fields["value"]]),
                                     np.array([np.nan if ref is None else ref]), np.array([code]),
                                     np.array([np.nan if adj is None else adj]))[0])
        reasons = flag_words(m, fields["value"], ref, adj, phase_of[m.id], low=low, declining=declining,
                             n_declining=n_declining, path=[t.value for t in fields["trend"]]) if m.judged else []
        below_ref = worse_than(np.array([np.nan if fields["value"] is None else fields["value"]]),
                               np.array([np.nan if ref is None else ref]), m.polarity)[0]
        fields["worse_than_national"] = bool(below_ref) if m.judged and fields["value"] is not None \
            and ref is not None else None
        out.append(ScorecardRow(**fields, flag=bool(reasons), flag_reasons=tuple(reasons)))
    label = ("DfE trust method where available" if method == "dfe_trust"
             else "pooled: pupils of all member schools counted together")
    label += ("; each earlier year counts the schools in the group that year (membership dates), under the URN "
              "each had then" if period_members is not None
              else "; the trend is that of today's members (like for like: no membership dates are known)")
    members = tuple((u, names.get(u, f"School {u}")) for u in subject.members)
    # the watch list: each member's flags as its own card gives them, one line per measure
    judged = [m for m in measures if m.judged and not m.formula]
    flags: dict[int, list[tuple[str, str]]] = {}
    for m in judged:
        for i, reasons in sorted(found.by_measure[m.id]["reasons"].items()):
            flags.setdefault(found.urns[i], []).append((m.id, f"{m.label}: {'; '.join(reasons)}"))
    watch = [WatchItem(u, names.get(u, f"School {u}"), tuple(rs)) for u, rs in sorted(flags.items())]
    levels = MemberGrid(found.urns, found.positions, {m.id: found.by_measure[m.id]["level"] for m in judged}, True)
    words = MemberGrid(found.urns, found.positions,
                       {m.id: np.asarray(found.by_measure[m.id]["label"], dtype=object) for m in judged}, False)
    return Scorecard(subject, period, tuple(out), label, members, tuple(watch), levels, member_labels=words)


def _numbers(values: np.ndarray) -> list[float | None]:
    """`finite` of each element, at once: Python floats, None where not a finite number."""
    out = np.asarray(values, dtype=float).astype(object)
    out[~np.isfinite(np.asarray(values, dtype=float))] = None
    return out.tolist()


def mix_comparator(bench: BenchIndex, measure: Measure, period: str, kinds: Sequence[str | None],
                   kind: np.ndarray, weight: np.ndarray) -> Comparator:
    """metrics.comparators.group_comparator on arrays: the members with a value this period, each as a position
    in `kinds` (its phase) and its weight, in the same order. The same sums in the same order (np.bincount adds
    in order), so the same Comparator to the last bit; the rare group with no national figure of its kind at all
    is handed to group_comparator itself (tests/unit/test_engine_arrays.py)."""
    kind, weight = np.asarray(kind, dtype=np.int64), np.asarray(weight, dtype=float)
    if not len(kind):
        return group_comparator(bench, measure, period, [])
    found = [national_for(bench, measure, period, k)[1] for k in kinds]
    scopes = sorted({s for s in found if s is not None})
    code = np.array([-1 if s is None else scopes.index(s) for s in found], dtype=np.int64)[kind]
    use = code >= 0
    if not use.any():  # no national figure: the words say which kinds there are, one member of each suffices
        return group_comparator(bench, measure, period, [(kinds[k], 1.0) for k in np.unique(kind).tolist()])
    with np.errstate(invalid="ignore"):
        weights_known = bool(np.all(weight > 0))
    sums = np.bincount(code[use], weights=weight[use] if weights_known else np.ones(int(use.sum())),
                       minlength=len(scopes))
    first = np.unique(code[use], return_index=True)
    by_scope = {scopes[int(c)]: float(sums[int(c)]) for _i, c in sorted(zip(first[1].tolist(), first[0].tolist(),
                                                                              strict=True))}
    return comparator_of_shares(bench, measure, period, by_scope, len(kind) - int(use.sum()), weights_known)


def _formula_fields(m: Measure, period: str, periods: Sequence[str], value_at, targets: Mapping[str, float],
                    subject: Subject, member_values: tuple, cohort_at=None) -> ScorecardRow:
    return _formula_row(m, period, periods, value_at, targets, member_values, len(subject.members), cohort_at)


def _member_formula_values(m: Measure, by_id: Mapping[str, Measure], a: Mapping[str, np.ndarray], m_arr: np.ndarray,
                           ok_all: np.ndarray, cur: np.ndarray, bounds: np.ndarray, pos: Mapping[str, int],
                           subject: Subject) -> tuple:
    """Each member's value of a formula measure this period, from its own inputs."""
    per_school: dict[int, dict[str, float]] = {}
    for name in formula_inputs([m], by_id):
        if name not in pos or (name in by_id and by_id[name].formula):
            continue
        idx = cur[bounds[pos[name]]:bounds[pos[name] + 1]]
        for u, v, ok in zip(a["urn"][idx].tolist(), a["value"][idx].tolist(), ok_all[idx].tolist(), strict=True):
            if ok:
                per_school.setdefault(int(u), {})[name] = v
    out = []
    for u in subject.members:
        known = per_school.get(int(u), {})
        v = _Values(by_id, lambda mid, _pi, known=known: known.get(mid))(m.id, 0)
        out.append((int(u), v, Status.OK.value if v is not None else Status.MISSING.value))
    return tuple(out)


def _in_group_then(urn: np.ndarray, p: np.ndarray, periods: Sequence[str],
                   period_members: Mapping[str, Sequence[int]] | None) -> np.ndarray:
    """Which rows count in the group's value of their own year: the school was a member that year (all rows
    when no membership dates are known)."""
    if period_members is None:
        return np.ones(len(urn), dtype=bool)
    keep = np.zeros(len(urn), dtype=bool)
    u = urn.astype(np.int64)
    for pi, period in enumerate(periods):
        members = np.asarray(list(period_members.get(period, ())), dtype=np.int64)
        keep |= (p == pi) & np.isin(u, members)
    return keep


def _pupil_weights(urn: np.ndarray, m: np.ndarray, p: np.ndarray, value: np.ndarray, ok: np.ndarray,
                   pupils_code: int, n_p: int) -> np.ndarray:
    """Each row's school's pupils on roll in that row's period (NaN when unknown)."""
    out = np.full(len(urn), np.nan)
    if pupils_code < 0:
        return out
    src = np.flatnonzero((m == pupils_code) & ok)
    if not len(src):
        return out
    keys = urn[src].astype(np.int64) * n_p + p[src]
    order = np.argsort(keys)
    keys, vals = keys[order], value[src][order]
    want = urn.astype(np.int64) * n_p + p
    at = np.clip(np.searchsorted(keys, want), 0, len(keys) - 1)
    hit = keys[at] == want
    out[hit] = vals[at[hit]]
    return out


def _group_interval(m: Measure, value: float | None, num: float | None, den: float | None, ok: np.ndarray,
                    dens: np.ndarray, ses: np.ndarray) -> tuple[float | None, float | None, str | None]:
    """A group's 95% interval: Wilson on the pooled counts for rates; for means, the members' standard
    errors combined with their cohort weights (sqrt(sum (n_i se_i)^2) / sum n_i). None for a measure declared
    `uncertainty = "none"`."""
    if value is None or not den or m.uncertainty is Uncertainty.NONE:
        return None, None, None
    if m.rollup is Rollup.POOLED_RATIO and num is not None:
        lo, hi = wilson(min(max(num, 0.0), den), den, m.scale)
        return lo, hi, "wilson"
    if m.rollup is Rollup.WEIGHTED_MEAN:
        use = ok & (dens > 0)
        if use.any() and not np.isnan(ses[use]).any():
            se = float(np.sqrt(np.sum((dens[use] * ses[use]) ** 2)) / np.sum(dens[use]))
            return value - Z95 * se, value + Z95 * se, "combined"
    return None, None, None


def p8_band_words(value: float) -> str:
    """The band of a score already known to be significantly below 0: below or well below average."""
    return "well below average" if value < -P8_WELL else "below average"


def applicable(registry: Registry, phase: str | None, reported: Iterable[str] = ()) -> list[Measure]:
    """The registry's measures that apply to a phase (all of them when the phase is unknown), in registry order,
    plus every measure the school reports results for: a special school's or alternative provision's KS4 and
    destinations, a middle school's KS2, an all-through school's both key stages."""
    if phase is None:
        return list(registry.measures)
    have = set(reported)
    return [m for m in registry.measures if any(p.value == phase for p in m.phases) or m.id in have]
