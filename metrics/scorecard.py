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
    banded_against_zero,
    group_comparator,
    national_for,
    over_100,
    p8_band,
    refused_share,
    school_comparator,
    scope_phrase,
    significance_reference,
)
from metrics.formula import evaluate, stored_formula
from metrics.numbers import finite
from metrics.registry import Measure, Polarity, Registry, Rollup, Status
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
            if r.polarity == Polarity.CONTEXT.value:
                continue
            own = dict(r.member_nationals)
            for urn, v, _s in r.member_values:
                nat = own.get(urn, r.national) if own else r.national
                if v is not None and nat is not None and _worse(v, nat, r.polarity):
                    below.add(urn)
        return len(below)


# ------------------------------------------------------------------------------------------ helpers


_f = finite  # a number, or None when missing


def _worse(a: float, b: float, polarity: str) -> bool:
    return a < b if polarity == Polarity.HIGHER_BETTER.value else a > b if polarity == Polarity.LOWER_BETTER.value \
        else False


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


def intervals(measure: Measure, value: np.ndarray, num: np.ndarray, den: np.ndarray, ci_low: np.ndarray,
              ci_high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% intervals for many values at once (NaN where none is known): published where the file gave one,
    else Wilson for rates, else normal for means with a known pupil-level sd."""
    value, num, den = (np.asarray(a, dtype=float) for a in (value, num, den))
    lo, hi = np.asarray(ci_low, dtype=float).copy(), np.asarray(ci_high, dtype=float).copy()
    todo = (np.isnan(lo) | np.isnan(hi)) & ~np.isnan(value) & (den > 0)
    lo[np.isnan(lo) | np.isnan(hi)] = np.nan
    hi[np.isnan(lo)] = np.nan
    with np.errstate(all="ignore"):
        if measure.uncertainty == "wilson" or (measure.rollup is Rollup.POOLED_RATIO and measure.scale == 100):
            k = np.where(np.isnan(num), value * den / measure.scale, num)
            p = np.clip(k, 0, den) / den
            z2 = Z95**2
            centre = (p + z2 / (2 * den)) / (1 + z2 / den)
            half = Z95 * np.sqrt(p * (1 - p) / den + z2 / (4 * den * den)) / (1 + z2 / den)
            lo = np.where(todo, np.maximum(centre - half, 0.0) * measure.scale, lo)
            hi = np.where(todo, np.minimum(centre + half, 1.0) * measure.scale, hi)
        elif measure.uncertainty == "normal" and measure.sd:
            half = Z95 * measure.sd / np.sqrt(den)
            lo = np.where(todo, value - half, lo)
            hi = np.where(todo, value + half, hi)
    return lo, hi


def interval(measure: Measure, value: float | None, num: float | None, den: float | None,
             ci_low: float | None, ci_high: float | None) -> tuple[float | None, float | None, str | None]:
    """The value's 95% interval and how it was found: published, wilson or normal (see `intervals`)."""
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
    """Status (national percentile, by polarity) x change (percentile movement) -> level 1..5.

    Status band: 0 below the 20th percentile, 1 to the 40th, 2 to the 60th, 3 to the 80th, 4 above.
    Change: +1 when up 10 or more percentile points on the previous period, -1 when down 10 or more.
    Level = band + change, kept within 0..4, plus one.
    """
    if adj_now is None:
        return None
    band = min(int(adj_now // 20), 4)
    change = 0
    if adj_before is not None:
        delta = adj_now - adj_before
        change = 1 if delta >= CHANGE_BAND else -1 if delta <= -CHANGE_BAND else 0
    return min(max(band + change, 0), 4) + 1


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
    if phase in OWN_KIND and national is None:
        return Judgement(None, f"No level: no national figure for {scope_phrase(phase)} to compare with")
    level = level_of(adj_now, adj_before)
    if level is None:
        return Judgement(None, _position_words(measure, None, status, value, small, phase))
    low, high = LEVEL_BOUNDS[versus_national(significance_words, measure.polarity)]
    level = min(max(level, low), high)
    words = LEVELS[level - 1]
    if adj_before is None:
        return Judgement(level, f"{words} ({POSITION_ONLY if compared else STATUS_ONLY})", True)
    return Judgement(level, words)


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


def steps_comparable(measure: Measure, periods: Sequence[str], steps: int) -> bool:
    """Whether the window's last `steps` + 1 periods are consecutive academic years, each comparable with the one
    before (same definition, no DfE gap): what a decline over those years needs."""
    last = list(periods)[-(steps + 1):]
    if len(last) < steps + 1 or not all(is_period(p) for p in last):
        return False
    return all(comparable(measure, b, a)[0] for a, b in zip(last, last[1:], strict=False))


def change_and_note(measure: Measure, period: str, periods: Sequence[str], value: float | None,
                    values: Sequence[float | None], statuses: Sequence[str]) -> tuple[float | None, str | None]:
    """The change on the academic year before, or None with the reason in a sentence (see metrics.timeline).

    Only that year, under the same definition, outside DfE's gaps. A window that does not reach back to it (the
    store's first year) gives no note, unless DfE's own gap explains the missing year."""
    if not is_period(period):
        return None, None
    before = previous(period)
    pi = prior_index(periods, period)
    ok, why = comparable(measure, period, before)
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


def _declining(adj: list[float | None], values: list[float | None], measure: Measure,
               periods: Sequence[str] | None = None) -> bool:
    """Three consecutive periods, each worse than the one before (the value itself, by polarity, and its
    national percentile), losing DECLINE_MIN_DROP percentile points in all. With `periods`, the three must be
    consecutive academic years under one definition, with no DfE gap (like is compared with like)."""
    if len(adj) < 3 or any(a is None for a in adj[-3:]) or any(v is None for v in values[-3:]):
        return False
    if periods is not None and not steps_comparable(measure, periods, 2):
        return False
    a, b, c = adj[-3:]
    x, y, z = values[-3:]
    sign = 1.0 if measure.polarity is Polarity.HIGHER_BETTER else -1.0
    worse_values = sign * (y - x) < 0 and sign * (z - y) < 0  # type: ignore[operator]
    return worse_values and b < a and c < b and (a - c) >= DECLINE_MIN_DROP  # type: ignore[operator]


def _flag_reasons(measure: Measure, value: float | None, national: float | None, sig: str | None,
                  adj: float | None, phase: str | None, declining: bool, n_declining: int,
                  history: list[tuple[str, float | None]]) -> list[str]:
    reasons: list[str] = []
    worse_sig = (sig == "below" and measure.polarity is Polarity.HIGHER_BETTER) or (
        sig == "above" and measure.polarity is Polarity.LOWER_BETTER)
    if worse_sig and adj is not None and adj < BOTTOM_FIFTH and value is not None and national is not None:
        where = f"{phase} schools" if phase else "schools"
        if banded_against_zero(measure):  # DfE's rule: below 0, the national average for all pupils
            reasons.append(f"significantly below 0, the national average for all pupils ({measure.format_value(value)}"
                           f"; DfE's band: {p8_band_words(value)})")
        else:
            reasons.append(f"significantly {'below' if measure.polarity is Polarity.HIGHER_BETTER else 'above'} "
                           f"national ({measure.format_value(value)} against {measure.format_value(national)})")
        reasons.append(f"in the bottom fifth of {where} nationally (better than only {adj:.0f}% of them)")
    if declining and n_declining >= DECLINE_MIN_MEASURES:
        path = " → ".join(measure.format_value(v) for _, v in history[-3:])
        reasons.append(f"worse for two years running ({path}), one of {n_declining} measures declining")
    return reasons


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
    """Readable observations (+ statistics) -> the coded rows the builders take (as Store.member_rows gives).
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
    """One school's scorecard from its coded rows (see Store.member_rows). `periods` lists the window, oldest
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

    # the stored version of each value (Store.member_rows with codes); rows read without it have none
    versions = rows["version"].to_numpy() if "version" in rows.columns else None

    def version(mi: int, pi: int) -> str | None:
        i = by.get((mi, pi))
        v = versions[i] if versions is not None and i is not None else None
        return v if isinstance(v, str) and v else None

    def stored(mid: str, pi: int) -> float | None:
        return get(pos[mid], pi, "value") if mid in pos and status(pos[mid], pi) == Status.OK.value else None

    # which URN each row is of (Store.member_rows with lineage): an earlier URN's rows stand for the school's past
    sources = rows["src"].to_numpy() if "src" in rows.columns else None

    def source(mi: int, pi: int) -> int | None:
        i = by.get((mi, pi))
        u = int(sources[i]) if sources is not None and i is not None else None
        return u if u is not None and u != subject.id else None

    by_id = {**(inputs or {}), **{m.id: m for m in measures}}
    value_at = _Values(by_id, stored)
    cohort_at = _Cohorts(by_id, value_at, lambda mid, pi: get(pos[mid], pi, "denominator") if mid in pos else None)
    hist = {}
    for m in measures:
        if m.formula:
            continue
        mi = pos[m.id]
        hist[m.id] = ([adjusted_percentile(get(mi, pi, "percentile"), m) for pi in range(len(periods))],
                      [get(mi, pi, "value") for pi in range(len(periods))])
    declining = {m.id for m in measures if m.judged and not m.formula and _declining(*hist[m.id], m, periods)}
    prior = prior_index(periods, period)
    out = []
    for m in measures:
        if m.formula:
            out.append(_formula_row(m, period, periods, value_at, targets, cohort_at=cohort_at))
            continue
        mi = pos[m.id]
        st = status(mi, last)
        value = get(mi, last, "value") if st == Status.OK.value else None
        num, den = get(mi, last, "numerator"), get(mi, last, "denominator")
        refused = refused_share(m, value, "The school's value") if over_100(m, value) else None  # type: ignore
        if refused:
            value, st = None, Status.MISSING.value
        lo, hi, how = interval(m, value, num, den, get(mi, last, "ci_low"), get(mi, last, "ci_high"))
        comp = school_comparator(bench, m, period, subject.phase)
        national, scope = comp.value, comp.scope
        reference = significance_reference(m, national)  # Progress 8: against 0, as DfE does
        sig = significance(reference, lo, hi) if m.judged else None
        pct = get(mi, last, "percentile")
        adj_hist, val_hist = hist[m.id]
        small = den is not None and den < m.min_cohort
        trend = tuple(TrendPoint(p, val_hist[pi], trend_status(m, p, status(mi, pi), (mi, pi) in by),
                                 source(mi, pi)) for pi, p in enumerate(periods))
        # change, and the level's change part, only against the comparable year before (metrics.timeline)
        change, note = change_and_note(m, period, periods, value, val_hist, [t.status for t in trend])
        before_adj = adj_hist[prior] if prior is not None and change is not None else None
        judged = judge_level(m, value=value, status=st, small=small, adj_now=adj_hist[-1], adj_before=before_adj,
                             significance_words=sig, phase=subject.phase, national=national,
                             compared=change is not None)
        reasons = _flag_reasons(m, value, reference, sig, adj_hist[-1], subject.phase, m.id in declining,
                                len(declining), [(t.period, t.value) for t in trend]) if m.judged and not small else []
        target = targets.get(m.id)
        rank, size = get(mi, last, "family_rank"), get(mi, last, "family_size")
        out.append(ScorecardRow(
            measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
            period=period, value=value, display=m.format_value(value), cohort=den, numerator=num, denominator=den,
            status=st, status_code=status_codes.get(m.id), ci_low=lo, ci_high=hi, uncertainty=how,
            national=national, national_scope=scope, percentile=pct, family_median=get(mi, last, "family_median"),
            family_rank=None if rank is None else int(rank), family_size=None if size is None else int(size),
            expected=get(mi, last, "expected"), residual=get(mi, last, "residual"), trend=trend,
            change=change,
            level=judged.level, level_label=refused or judged.label,
            significance=sig, flag=bool(reasons),
            flag_reasons=tuple(reasons), target=target, target_met=target_met(m, value, target),
            change_note=note, band=p8_band(value, lo, hi) if banded_against_zero(m) else None,
            comparator=comp.words, version=version(mi, last),
            lineage=lineage if any(t.urn is not None for t in trend) else None,
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
    use = ok & (np.nan_to_num(dens) > 0) & (yrs >= DFE_MIN_YEARS)
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
    """A group's scorecard: each measure rolled up from the members' coded rows (see Store.member_rows), with
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
    member_nat = {m.id: {int(u): _reference_of(m, national_for(bench, m, period, member_phase.get(u))[0])
                         for u in subject.members} for m in measures if not m.formula}
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
        # the mix's weights: each reporting member's pupils in this measure (cohort), else its pupils on roll
        w_now = np.where(np.nan_to_num(den) > 0, den, weight[idx])
        comp = group_comparator(bench, m, period, [(member_phase.get(int(u)), float(w)) for u, w, k in
                                                   zip(urns_now.tolist(), w_now.tolist(), ok.tolist(), strict=True)
                                                   if k])
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
        kinds = sorted({str(member_phase.get(int(u))) for u, k in zip(urns_now.tolist(), ok.tolist(), strict=True)
                        if k})
        own_kind = kinds[0] if kinds and set(kinds) <= OWN_KIND else None
        g_status = Status.OK.value if val is not None else g.status.value
        judged = judge_level(m, value=val, status=g_status, small=False, adj_now=adj_series[-1],
                             adj_before=adj_series[prior] if prior is not None and change is not None else None,
                             significance_words=sig, phase=own_kind if own_kind and national is None else phase,
                             national=national, compared=change is not None)
        good = vals[ok]
        spread = Spread(*(float(x) for x in np.quantile(good, [0, 0.25, 0.5, 0.75, 1]))) if len(good) else None
        below = None
        own_nat = np.array([np.nan if (x := member_nat[m.id].get(int(u))) is None else x for u in urns_now],
                           dtype=float)
        if m.judged and not np.isnan(own_nat[ok]).all():
            with np.errstate(invalid="ignore"):  # NaN: a member with no national of its kind is never "below"
                below = int(np.sum(vals[ok] < own_nat[ok]) if m.polarity is Polarity.HIGHER_BETTER
                            else np.sum(vals[ok] > own_nat[ok]))
        exp = a["expected"][idx].astype(float)
        use = ~np.isnan(exp) & (np.nan_to_num(den) > 0)
        expected = float(np.sum(exp[use] * den[use]) / np.sum(den[use])) if use.any() else None
        declining = m.judged and _declining(adj_series, [t.value for t in trend], m, periods)
        member_st = [STATUS_ORDER[x] if x >= 0 else Status.MISSING.value for x in st[idx].tolist()]
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
            member_values=tuple(zip(a["urn"][idx].tolist(), [None if v != v else v for v in vals.tolist()],
                                    member_st, strict=True)),
            band=p8_band(val, lo, hi) if banded_against_zero(m) else None, comparator=comp.words,
            member_nationals=tuple((int(u), member_nat[m.id].get(int(u))) for u in urns_now.tolist()),
        )))
    n_declining = sum(1 for _, d, _ in built if d)
    out = []
    for m, declining, fields in built:
        if isinstance(fields, ScorecardRow):
            out.append(fields)
            continue
        reasons = _flag_reasons(m, fields["value"], significance_reference(m, fields["national"]),
                                fields["significance"],
                                adjusted_percentile(fields["percentile"], m), phase_of[m.id], declining, n_declining,
                                [(t.period, t.value) for t in fields["trend"]]) if m.judged else []
        out.append(ScorecardRow(**fields, flag=bool(reasons), flag_reasons=tuple(reasons)))
    label = ("DfE trust method where available" if method == "dfe_trust"
             else "pooled: pupils of all member schools counted together")
    label += ("; each earlier year counts the schools in the group that year (membership dates), under the URN "
              "each had then" if period_members is not None
              else "; the trend is that of today's members (like for like: no membership dates are known)")
    members = tuple((u, names.get(u, f"School {u}")) for u in subject.members)
    watch = _member_flags([m for m in measures if not m.formula], a, m_arr, p_arr, ok_all, pos, cur, bounds, n_p,
                          member_nat, names, periods)
    judged = _member_levels([m for m in measures if m.judged and not m.formula], a, m_arr, p_arr, st, pos, period,
                            periods, member_phase, bench, subject.members)
    levels = {k: j.level for k, j in judged.items()}
    words = {k: j.label for k, j in judged.items()}
    return Scorecard(subject, period, tuple(out), label, members, tuple(watch), levels, member_labels=words)


def _member_levels(measures: Sequence[Measure], a: Mapping[str, np.ndarray], m_arr: np.ndarray, p_arr: np.ndarray,
                   st: np.ndarray, pos: Mapping[str, int], period: str, periods: Sequence[str],
                   member_phase: Mapping[int, str | None], bench: BenchIndex,
                   members: Sequence[int]) -> dict[tuple[int, str], Judgement]:
    """Each member's level on each judged measure this period, by the very rule of its own card (judge_level, with
    the change from change_and_note and the significance against its own kind's national value)."""
    n_p = len(periods)
    if not measures or not n_p:
        return {}
    by_code = {pos[m.id]: m for m in measures}
    sel = np.flatnonzero(np.isin(m_arr, list(by_code)) & np.isin(a["urn"].astype(np.int64),
                                                                  np.asarray(members, dtype=np.int64)))
    key = a["urn"][sel].astype(np.int64) * 4096 + m_arr[sel]
    uniq, inv = np.unique(key, return_inverse=True)
    col = p_arr[sel]
    # a (school, measure) x period matrix of what the school's own card reads from its rows
    val = np.full((len(uniq), n_p), np.nan)
    pct = np.full((len(uniq), n_p), np.nan)
    sts = np.full((len(uniq), n_p), -2, dtype=np.int64)  # -2: no row that year
    val[inv, col] = a["value"][sel]
    pct[inv, col] = a["percentile"][sel]
    sts[inv, col] = st[sel]
    last = sel[col == n_p - 1]
    now = np.searchsorted(uniq, a["urn"][last].astype(np.int64) * 4096 + m_arr[last])
    parts = {c: np.full(len(uniq), np.nan) for c in ("numerator", "denominator", "ci_low", "ci_high")}
    for c, arr in parts.items():
        arr[now] = a[c][last]
    out: dict[tuple[int, str], Judgement] = {}
    for code in np.unique(uniq % 4096).tolist():
        m = by_code[int(code)]
        ks = np.flatnonzero(uniq % 4096 == code)
        v_now = np.where(sts[ks, -1] == 0, val[ks, -1], np.nan)
        lo, hi = intervals(m, v_now, parts["numerator"][ks], parts["denominator"][ks], parts["ci_low"][ks],
                           parts["ci_high"][ks])
        for j, k in enumerate(ks.tolist()):
            urn = int(uniq[k] // 4096)
            phase = member_phase.get(urn)
            national = national_for(bench, m, period, phase)[0]
            statuses = [trend_status(m, p, STATUS_ORDER[x] if x >= 0 else Status.MISSING.value, x != -2)
                        for p, x in zip(periods, sts[k].tolist(), strict=True)]
            # this year's status as the card reads it (no DfE-gap wording: the card says "No data" then too)
            x_now = int(sts[k, -1])
            status_now = STATUS_ORDER[x_now] if x_now >= 0 else Status.MISSING.value
            value = _f(v_now[j])
            if over_100(m, value):
                value, status_now = None, Status.MISSING.value
            den = _f(parts["denominator"][k])
            small = den is not None and den < m.min_cohort
            values = [_f(x) for x in val[k].tolist()]
            change, _note = change_and_note(m, period, periods, value, values, statuses)
            prior = prior_index(periods, period)
            adj = [adjusted_percentile(_f(x), m) for x in pct[k].tolist()]
            sig = significance(significance_reference(m, national), _f(lo[j]) if value is not None else None,
                               _f(hi[j]) if value is not None else None)
            out[(urn, m.id)] = judge_level(m, value=value, status=status_now, small=small, adj_now=adj[-1],
                                           adj_before=adj[prior] if prior is not None and change is not None
                                           else None, significance_words=sig, phase=phase, national=national,
                                           compared=change is not None)
    return out


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
    errors combined with their cohort weights (sqrt(sum (n_i se_i)^2) / sum n_i)."""
    if value is None or not den:
        return None, None, None
    if m.rollup is Rollup.POOLED_RATIO and num is not None:
        lo, hi = wilson(min(max(num, 0.0), den), den, m.scale)
        return lo, hi, "wilson"
    if m.rollup is Rollup.WEIGHTED_MEAN:
        use = ok & (np.nan_to_num(dens) > 0)
        if use.any() and not np.isnan(ses[use]).any():
            se = float(np.sqrt(np.sum((dens[use] * ses[use]) ** 2)) / np.sum(dens[use]))
            return value - Z95 * se, value + Z95 * se, "combined"
    return None, None, None


def _member_flags(measures: Sequence[Measure], a: Mapping[str, np.ndarray], m_arr: np.ndarray, p_arr: np.ndarray,
                  ok_all: np.ndarray, pos: Mapping[str, int], cur: np.ndarray, bounds: np.ndarray, n_p: int,
                  member_nat: Mapping[str, Mapping[int, float | None]],
                  names: Mapping[int, str], periods: Sequence[str] | None = None) -> list[WatchItem]:
    """Each member's flags, vectorised, by the same rules as a school's own scorecard: significantly worse than
    national and in the bottom fifth; or declining for two years on several measures (consecutive academic years
    under one definition, with no DfE gap)."""
    judged = [m for m in measures if m.judged]
    steady = {pos[m.id] for m in judged if periods is None or steps_comparable(m, periods, 2)}
    reasons: dict[int, list[tuple[str, str]]] = {}
    if n_p >= 3 and judged:
        # a (school, measure) matrix of the last three periods' adjusted percentiles and signed values
        jcodes = np.array([pos[m.id] for m in judged])
        sel = np.flatnonzero(np.isin(m_arr, jcodes) & (p_arr >= n_p - 3))
        pair = a["urn"][sel].astype(np.int64) * 4096 + m_arr[sel]
        uniq, inv = np.unique(pair, return_inverse=True)
        col = p_arr[sel] - (n_p - 3)
        pct = np.full((len(uniq), 3), np.nan)
        val = np.full((len(uniq), 3), np.nan)
        pct[inv, col] = a["percentile"][sel]
        val[inv, col] = np.where(ok_all[sel], a["value"][sel], np.nan)
        u_m = (uniq % 4096).astype(int)
        higher = np.zeros(4096, dtype=bool)
        for m in judged:
            higher[pos[m.id]] = m.polarity is Polarity.HIGHER_BETTER
        hb = higher[u_m][:, None]
        adj = np.where(hb, pct, 100.0 - pct)
        sv = np.where(hb, val, -val)
        with np.errstate(invalid="ignore"):
            dec = ((adj[:, 1] < adj[:, 0]) & (adj[:, 2] < adj[:, 1]) & (adj[:, 0] - adj[:, 2] >= DECLINE_MIN_DROP)
                   & (sv[:, 1] < sv[:, 0]) & (sv[:, 2] < sv[:, 1]) & np.isin(u_m, list(steady)))
        u_urn = uniq // 4096
        counts = pd.Series(dec.astype(int)).groupby(u_urn).sum()
        by_code = {pos[m.id]: m for m in judged}
        # this year's cohort: a measure whose own card says "Insufficient data" is counted as declining (as the card
        # counts it) but never flagged
        den_now = np.full(len(uniq), np.nan)
        now_rows = sel[col == 2]
        den_now[np.searchsorted(uniq, a["urn"][now_rows].astype(np.int64) * 4096 + m_arr[now_rows])] = \
            a["denominator"][now_rows]
        for k in np.flatnonzero(dec):
            urn, n = int(u_urn[k]), int(counts[u_urn[k]])
            if n >= DECLINE_MIN_MEASURES:
                m = by_code[int(u_m[k])]
                if den_now[k] < m.min_cohort:
                    continue
                reasons.setdefault(urn, []).append(
                    (m.id, f"{m.label}: worse for two years running, one of {n} measures declining"))
    for m in judged:
        # each member against its own phase's national value (Progress 8: against 0), as on its own card
        own = member_nat.get(m.id, {})
        idx = cur[bounds[pos[m.id]]:bounds[pos[m.id] + 1]]
        nat = np.array([np.nan if (x := own.get(int(u))) is None else x for u in a["urn"][idx]], dtype=float)
        adj = a["percentile"][idx].astype(float)
        adj = adj if m.polarity is Polarity.HIGHER_BETTER else 100.0 - adj
        # never a school whose own card has no level here: a small cohort, or a share over 100% (not shown at all)
        den = a["denominator"][idx].astype(float)
        vals_now = a["value"][idx].astype(float)
        with np.errstate(invalid="ignore"):
            shown = ~(den < m.min_cohort) & ~((m.unit == "%") & (vals_now > OVER_100))
        cand = ok_all[idx] & (adj < BOTTOM_FIFTH) & ~np.isnan(nat) & shown
        if not cand.any():
            continue
        idx, nat = idx[cand], nat[cand]
        vals = a["value"][idx].astype(float)
        lo, hi = intervals(m, vals, a["numerator"][idx], a["denominator"][idx], a["ci_low"][idx], a["ci_high"][idx])
        worse = hi < nat if m.polarity is Polarity.HIGHER_BETTER else lo > nat
        for urn, v, n in zip(a["urn"][idx][worse].tolist(), vals[worse].tolist(), nat[worse].tolist(), strict=True):
            against = ("below 0, the national average for all pupils (" + m.format_value(v) + ")"
                       if banded_against_zero(m) else
                       f"worse than national ({m.format_value(v)} against {m.format_value(n)})")
            reasons.setdefault(int(urn), []).append(
                (m.id, f"{m.label}: significantly {against} and in the bottom fifth"))
    return [WatchItem(u, names.get(u, f"School {u}"), tuple(rs)) for u, rs in sorted(reasons.items())]


def p8_band_words(value: float) -> str:
    """The band of a score already known to be significantly below 0: below or well below average."""
    return "well below average" if value < -P8_WELL else "below average"


def _reference_of(measure: Measure, national: float | None) -> float | None:
    """What a member's value is judged against: 0 for Progress 8 (DfE's rule), else its own national value."""
    return significance_reference(measure, national)


def applicable(registry: Registry, phase: str | None, reported: Iterable[str] = ()) -> list[Measure]:
    """The registry's measures that apply to a phase (all of them when the phase is unknown), in registry order,
    plus every measure the school reports results for: a special school's or alternative provision's KS4 and
    destinations, a middle school's KS2, an all-through school's both key stages."""
    if phase is None:
        return list(registry.measures)
    have = set(reported)
    return [m for m in registry.measures if any(p.value == phase for p in m.phases) or m.id in have]
