"""Pupil groups' results and the disadvantage gap, for a school or a group. Pure: rows in, numbers and words out.

A pupil group's value for a school or a group pools the group's own pupils, as every value does (docs/method.md,
"Group roll-up"): Σ numerator / Σ cohort over the schools whose row for that group is `ok` and has a cohort, never
a mean of schools' values. The **gap** is DfE's (the `DIFFN_*` columns): the disadvantaged pupils' value minus the
value of *non-disadvantaged pupils nationally*; the **within** gap, beside it, is the disadvantaged pupils' value
minus the same school's (or group's) other pupils'. A gap is in the measure's units ("points" for a percentage).
National values rest on hundreds of thousands of pupils, so they are taken as exact: the gap's interval is the
disadvantaged value's interval moved by the national value; the within gap's combines both groups' standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from metrics.periods import period_start_year
from metrics.pupil_groups import BY_ID, PUPIL_GROUPS
from metrics.registry import STATUSES, Measure, Polarity, Rollup, Status, Uncertainty
from metrics.scorecard import Z95, intervals
from metrics.timeline import comparable as _comparable

DISADVANTAGED = "disadvantaged"
OTHERS = "not_disadvantaged"

# The measures a disadvantage summary leads with, by phase, first shown first: what DfE's own tables put first
# (Attainment 8 at KS4, and Progress 8 in years it exists; the expected standard in RWM at KS2).
HEADLINE = {"secondary": ("attainment8", "progress8", "basics_94"),
            "primary": ("ks2_rwm_expected", "ks2_reading_progress", "ks2_maths_progress")}
# Topics in the order a pupil-group view shows them, each with its groups in order
# Every measure a gap is kept for (a target can be set on its gap)
GAP_MEASURES = frozenset(m for ms in HEADLINE.values() for m in ms)
TOPICS: tuple[tuple[str, str], ...] = (("disadvantage", "Disadvantage"), ("sex", "Boys and girls"),
                                       ("first_language", "First language"), ("sen", "Special educational needs"),
                                       ("prior_attainment", "Prior attainment"), ("mobility", "Mobility"))
TOPIC_GROUPS: dict[str, tuple[str, ...]] = {t: tuple(g.id for g in PUPIL_GROUPS if g.topic == t) for t, _ in TOPICS}


@dataclass(frozen=True)
class GroupValue:
    """One pupil group's value of one measure in one year, for a school or a group of schools."""

    pupil_group: str
    period: str
    value: float | None
    cohort: float | None  # the group's pupils that the value rests on (Σ of the pooled schools' cohorts)
    status: str  # ok, or the commonest status of the schools' rows (suppressed, missing ...)
    ci_low: float | None = None
    ci_high: float | None = None
    schools: int = 0  # schools pooled
    without_cohort: int = 0  # schools with a value but no cohort: left out of the pooling, never averaged in

    @property
    def se(self) -> float | None:
        """The value's standard error, from its 95% interval (None without one)."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / (2 * Z95)


def _f(x: object) -> float | None:
    """A number, or None for a missing one (None, NaN)."""
    if x is None:
        return None
    v = float(x)  # type: ignore[arg-type]
    return None if math.isnan(v) else v


def pool(measure: Measure, pupil_group: str, period: str, rows: Iterable[Mapping]) -> GroupValue:
    """The pooled value of one pupil group from the rows of its schools (keys: urn, value, numerator, denominator,
    status, ci_low, ci_high): Σ numerator / Σ denominator over the `ok` rows with a cohort (see `pool_arrays`)."""
    rows = list(rows)

    def col(k: str) -> np.ndarray:
        return np.array([np.nan if _f(r.get(k)) is None else _f(r.get(k)) for r in rows], dtype=float)

    codes = np.array([status_code(r.get("status")) for r in rows], dtype=np.int64)
    p = pool_arrays(measure, np.zeros(len(rows), dtype=np.int64), 1, codes, col("value"), col("numerator"),
                    col("denominator"), col("ci_low"), col("ci_high"))
    return p.one(0, pupil_group, period)


STATUS_AT = {s: i for i, s in enumerate(STATUSES)}  # a status's index in STATUSES


def status_code(status: object) -> int:
    """A status's index in STATUSES (0 = ok), -1 for anything else."""
    return STATUS_AT.get(str(status), -1)


@dataclass(frozen=True)
class Pooled:
    """Pooled values of many (key) cells at once: arrays indexed by key."""

    value: np.ndarray
    cohort: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    schools: np.ndarray
    without_cohort: np.ndarray
    status: np.ndarray  # per key: the commonest status of its rows (STATUSES index; -1 for no row)

    def one(self, k: int, pupil_group: str, period: str) -> GroupValue:
        """The GroupValue of key `k`: without a value, its status is the commonest of its rows' (missing for none,
        or when the only values had no cohort)."""
        v = self.value[k]
        if np.isnan(v):
            code = int(self.status[k])
            status = STATUSES[code] if code > 0 and not self.without_cohort[k] else Status.MISSING.value
            return GroupValue(pupil_group, period, None, None, status, without_cohort=int(self.without_cohort[k]))
        lo, hi = self.lo[k], self.hi[k]
        return GroupValue(pupil_group, period, float(v), float(self.cohort[k]), Status.OK.value,
                          None if np.isnan(lo) else float(lo), None if np.isnan(hi) else float(hi),
                          int(self.schools[k]), int(self.without_cohort[k]))


def pool_arrays(measure: Measure, key: np.ndarray, n: int, status: np.ndarray, value: np.ndarray, num: np.ndarray,
                den: np.ndarray, ci_low: np.ndarray, ci_high: np.ndarray) -> Pooled:
    """Pool rows into `n` cells (row i into cell key[i]) at once: Σ numerator / Σ denominator × scale over the `ok`
    rows with a value, a numerator and a positive cohort; rows with a value but no cohort are counted, never
    averaged in.

    A cell of one school is that school's own value as the file gave it, with its own interval (the file's
    published one, else Wilson or normal: metrics.scorecard.intervals); a cell of several is Wilson on the pooled
    counts for a rate, else the schools' standard errors combined with their cohort weights, √Σ(nᵢ·seᵢ)² / Σnᵢ,
    as a group's value's interval is."""
    ok = (status == 0) & ~np.isnan(value)
    parts = ok & ~np.isnan(num) & (np.nan_to_num(den) > 0)
    k = key[parts]
    s_num = np.bincount(k, weights=num[parts], minlength=n)
    s_den = np.bincount(k, weights=den[parts], minlength=n)
    schools = np.bincount(k, minlength=n)
    without = np.bincount(key[ok & ~parts], minlength=n)
    ns = len(STATUSES)
    known = status >= 0
    by_status = np.bincount(key[known] * ns + status[known], minlength=n * ns).reshape(n, ns)
    commonest = np.where(by_status.sum(axis=1) > 0, by_status.argmax(axis=1), -1)
    with np.errstate(all="ignore"):
        pooled = np.where(schools > 0, s_num / s_den * measure.scale, np.nan)
    lo_r, hi_r = intervals(measure, value[parts], num[parts], den[parts], ci_low[parts], ci_high[parts])
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    single = schools[k] == 1
    lo[k[single]], hi[k[single]] = lo_r[single], hi_r[single]
    pooled[k[single]] = value[parts][single]  # one school: the file's own cell, never re-derived from rounded parts
    many = np.flatnonzero(schools > 1)
    if len(many) and measure.uncertainty is not Uncertainty.NONE:
        if measure.rollup is Rollup.POOLED_RATIO:
            lo_w, hi_w = intervals(measure, pooled[many], np.clip(s_num[many], 0, s_den[many]), s_den[many],
                                   np.full(len(many), np.nan), np.full(len(many), np.nan))
            lo[many], hi[many] = lo_w, hi_w
        else:
            se = (hi_r - lo_r) / (2 * Z95)
            nse2 = np.bincount(k, weights=np.nan_to_num((den[parts] * se) ** 2), minlength=n)
            unknown = np.bincount(k, weights=np.isnan(se).astype(float), minlength=n)
            with np.errstate(all="ignore"):
                half = Z95 * np.sqrt(nse2) / s_den
            good = many[unknown[many] == 0]
            lo[good], hi[good] = pooled[good] - half[good], pooled[good] + half[good]
    return Pooled(pooled, np.where(schools > 0, s_den, np.nan), lo, hi, schools, without, commonest)


@dataclass(frozen=True)
class Gap:
    """The disadvantage gap of one measure in one year, DfE's way, with the within gap beside it."""

    measure: str
    period: str
    disadvantaged: GroupValue
    others: GroupValue  # the same school's or group's other pupils
    national_others: float | None  # non-disadvantaged pupils nationally: the gap's comparator (DfE's definition)
    national_disadvantaged: float | None
    gap: float | None  # disadvantaged minus non-disadvantaged pupils nationally
    gap_low: float | None
    gap_high: float | None
    within: float | None  # disadvantaged minus the same school's or group's other pupils
    within_low: float | None
    within_high: float | None
    published: float | None = None  # DfE's own published gap (a school's DIFFN_*), to check ours against


def gap_of(measure: Measure, period: str, dis: GroupValue, others: GroupValue, national_others: float | None,
           national_dis: float | None = None, published: float | None = None) -> Gap:
    """The gap (disadvantaged minus non-disadvantaged pupils nationally, with the disadvantaged value's interval moved
    by the national value, taken as exact) and the within gap (with √(se_d² + se_o²))."""
    gap = lo = hi = None
    if dis.value is not None and national_others is not None:
        gap = dis.value - national_others
        if dis.ci_low is not None and dis.ci_high is not None:
            lo, hi = dis.ci_low - national_others, dis.ci_high - national_others
    within = w_lo = w_hi = None
    if dis.value is not None and others.value is not None:
        within = dis.value - others.value
        if dis.se is not None and others.se is not None:
            half = Z95 * math.hypot(dis.se, others.se)
            w_lo, w_hi = within - half, within + half
    return Gap(measure.id, period, dis, others, national_others, national_dis, gap, lo, hi, within, w_lo, w_hi,
               published)


_COMPARABLE: dict[tuple[int, str, str], tuple[Measure, tuple[bool, str]]] = {}


def comparable(measure: Measure, now: str, before: str) -> tuple[bool, str]:
    """metrics.timeline.comparable, remembered: a group's summary asks it for every member and year. Keyed by the
    measure object itself (hashing a Measure costs more than the answer), kept beside it so the key stays its own."""
    key = (id(measure), now, before)
    hit = _COMPARABLE.get(key)
    if hit is not None and hit[0] is measure:
        return hit[1]
    if len(_COMPARABLE) > 4096:
        _COMPARABLE.clear()
    answer = _comparable(measure, now, before)
    _COMPARABLE[key] = (measure, answer)
    return answer


def behind(measure: Measure, gap: float | None) -> bool | None:
    """Whether the disadvantaged pupils are behind non-disadvantaged pupils nationally (by the measure's polarity)."""
    if gap is None:
        return None
    return gap < 0 if measure.polarity is Polarity.HIGHER_BETTER else gap > 0


def shortfall(measure: Measure, gap: float | None) -> float | None:
    """How far behind, as a positive number (0 when not behind): what "narrowing" makes smaller."""
    if gap is None:
        return None
    return max(-gap, 0.0) if measure.polarity is Polarity.HIGHER_BETTER else max(gap, 0.0)


def comparable_back(measure: Measure, periods: Sequence[str], period: str, steps: int) -> bool:
    """Whether `period` may be compared with the year `steps` academic years before it: every year between is in
    `periods` and each is comparable with the one before (same definition, no DfE gap year between)."""
    if period not in periods:
        return False
    i = list(periods).index(period)
    if i - steps < 0:
        return False
    chain = list(periods)[i - steps:i + 1]
    return all(comparable(measure, b, a)[0] for a, b in zip(chain, chain[1:], strict=False))


@dataclass(frozen=True)
class GapChange:
    """How the gap moved since an earlier comparable year, in words a reader can check."""

    since: str | None  # the earlier year compared with, or None
    before: float | None  # the gap then
    change: float | None  # gap now minus gap then (signed, in the measure's units)
    direction: str | None  # 'narrowed', 'widened', 'unchanged' or None
    significant: bool = False  # the change is larger than chance allows (95%, the two years' intervals combined)
    note: str | None = None  # why there is no change: a DfE gap year or a new definition


def change_since(measure: Measure, trend: Sequence[Gap], steps: int = 1) -> GapChange:
    """The latest gap against the one `steps` comparable years before: narrowed when the shortfall is smaller.

    Only across comparable years (metrics.timeline: no change across a DfE gap year or a change of definition);
    a change is *significant* when it exceeds 1.96·√(se_now² + se_then²) (two independent estimates)."""
    if not trend:
        return GapChange(None, None, None, None)
    periods = [g.period for g in trend]
    now = trend[-1]
    i = len(trend) - 1 - steps
    if i < 0:
        return GapChange(None, None, None, None)
    if not comparable_back(measure, periods, now.period, steps):
        why = next((comparable(measure, b, a)[1] for a, b in zip(periods[i:], periods[i + 1:], strict=False)
                    if not comparable(measure, b, a)[0]), None)
        return GapChange(None, None, None, None, note=why)
    then = trend[i]
    if now.gap is None or then.gap is None:
        return GapChange(then.period, then.gap, None, None)
    change = now.gap - then.gap
    a, b = shortfall(measure, now.gap), shortfall(measure, then.gap)
    direction = "unchanged" if abs(change) < 1e-9 or a == b else ("narrowed" if a < b else "widened")  # type: ignore[operator]
    sig = False
    se_now, se_then = now.disadvantaged.se, then.disadvantaged.se
    if se_now is not None and se_then is not None:
        sig = abs(change) > Z95 * math.hypot(se_now, se_then)
    return GapChange(then.period, then.gap, change, direction, sig)


def widening_flag(measure: Measure, trend: Sequence[Gap], change: GapChange | None = None) -> str | None:
    """A flag's reason when the gap widened significantly on the comparable year before, while behind; else None.
    `change`: change_since(measure, trend, 1), when the caller has it already."""
    if not trend:
        return None
    return widening_words(measure, change if change is not None else change_since(measure, trend, 1), trend[-1].gap)


def widening_words(measure: Measure, ch: GapChange, gap: float | None) -> str | None:
    """The widening flag's reason for a change `ch` to a gap now of `gap` (see widening_flag), or None."""
    if ch.direction != "widened" or not ch.significant or not behind(measure, gap):
        return None
    return (f"{measure.label}: the disadvantage gap widened from {format_gap(measure, ch.before)} to "
            f"{format_gap(measure, gap)} {points(measure)} since {ch.since}, more than chance would explain")


def points(measure: Measure) -> str:
    """The unit a gap is counted in: percentage points for a percentage, else the measure's points."""
    return "percentage points" if measure.unit == "%" else "points"


def format_gap(measure: Measure, x: float | None) -> str:
    """A gap as a reader sees it: signed, in the measure's precision ("−14.2", "+0.31")."""
    if x is None:
        return "–"
    decimals = 2 if measure.unit == "score" and "progress" in measure.id else 1
    return f"{x:+.{decimals}f}".replace("-", "−")


@dataclass(frozen=True)
class MemberGap:
    """One member school's part in its group's gap."""

    urn: int
    name: str
    disadvantaged: GroupValue
    gap: float | None
    share: float | None  # its disadvantaged pupils' share of the group's pooled cohort
    pull: float | None  # share × (its gap − the group's gap): how far it moves the group's gap (Σ pull = 0)
    change: GapChange = field(default_factory=lambda: GapChange(None, None, None, None))

    @property
    def effect(self) -> str | None:
        """'narrows' when the school's own gap is smaller than the group's (it pulls the group's gap in), else
        'widens'; None without a value."""
        if self.pull is None:
            return None
        return "narrows" if self.pull > 0 else ("widens" if self.pull < 0 else None)


def member_gaps(measure: Measure, group: Gap, urns: Sequence[int], names: Mapping[int, str], pooled: Pooled,
                periods: Sequence[str], national: tuple[float | None, float | None]) -> list[MemberGap]:
    """Each member's gap, its share of the group's disadvantaged pupils, its pull on the group's gap, and its change
    on the year before, all at once from `pooled` (member u's disadvantaged pupils in periods[i] at cell
    (u · len(periods) + i) · 2, for the year and the one before it, or the year alone; `national`: non-disadvantaged
    pupils nationally the year before and the year).

    The group's gap is Σ shareᵢ·gapᵢ over the pooled schools (the national comparator is one number), so
    pullᵢ = shareᵢ·(gapᵢ − gap) shows which schools narrow it (pull > 0 for a higher-is-better measure) and which
    widen it; the pulls add up to zero (up to the files' rounding of each school's value). Turned round for a
    lower-is-better measure. The change follows change_since's rules (comparable years only; significant beyond
    1.96·√(se_now² + se_then²))."""
    n, n_p = len(urns), len(periods)  # one year (a store's first) or two
    now = (np.arange(n, dtype=np.int64) * n_p + n_p - 1) * 2
    before = now - 2 if n_p == 2 else now
    nan = float("nan")
    n_then, n_now = (nan if x is None else x for x in national)
    with np.errstate(all="ignore"):
        gap_now, gap_then = pooled.value[now] - n_now, pooled.value[before] - n_then
        se_now = (pooled.hi[now] - pooled.lo[now]) / (2 * Z95)
        se_then = (pooled.hi[before] - pooled.lo[before]) / (2 * Z95)
        change = gap_now - gap_then
        sig = np.abs(change) > Z95 * np.hypot(se_now, se_then)
        sign = 1.0 if measure.polarity is Polarity.HIGHER_BETTER else -1.0
        short_now, short_then = np.maximum(-sign * gap_now, 0.0), np.maximum(-sign * gap_then, 0.0)
        total = group.disadvantaged.cohort
        share = pooled.cohort[now] / total if total else np.full(n, nan)
        pull = sign * share * (gap_now - (nan if group.gap is None else group.gap))
    ok, why = comparable(measure, periods[-1], periods[-2]) if len(periods) == 2 else (False, None)
    out = []
    # a member with no row for this measure (a primary school on a GCSE measure) shares one empty value
    empty = GroupValue(DISADVANTAGED, periods[-1], None, None, Status.MISSING.value)
    has_row = (pooled.status[now] >= 0) | (pooled.without_cohort[now] > 0)
    for u, urn in enumerate(urns):
        d = pooled.one(int(now[u]), DISADVANTAGED, periods[-1]) if has_row[u] else empty
        g = None if math.isnan(gap_now[u]) else float(gap_now[u])
        if n_p < 2:  # no year before in the store: nothing to compare with, and nothing to say why
            ch = GapChange(None, None, None, None)
        elif not ok:
            ch = GapChange(None, None, None, None, note=why)
        elif g is None or math.isnan(gap_then[u]):
            ch = GapChange(periods[-2], None if math.isnan(gap_then[u]) else float(gap_then[u]), None, None)
        else:
            direction = ("unchanged" if abs(change[u]) < 1e-9 or short_now[u] == short_then[u]
                         else "narrowed" if short_now[u] < short_then[u] else "widened")
            ch = GapChange(periods[-2], float(gap_then[u]), float(change[u]), direction, bool(sig[u]))
        has = d.value is not None and not math.isnan(share[u])
        out.append(MemberGap(int(urn), names.get(int(urn), f"School {urn}"), d, g,
                             float(share[u]) if has else None,
                             float(pull[u]) if has and not math.isnan(pull[u]) else None, ch))
    return sorted(out, key=lambda x: (x.pull is None, -(x.pull or 0.0), x.urn))


def gap_sentence(measure: Measure, subject: str, g: Gap, earlier: GapChange | None = None) -> str:
    """The gap in plain words: "Disadvantaged pupils in the partnership scored on average 9.0 points below other
    pupils nationally (Attainment 8: 36.4 against 45.4); in 2022/23 it was 12.0."""
    if g.gap is None or g.national_others is None or g.disadvantaged.value is None:
        return f"There is no {measure.label} gap to report for disadvantaged pupils in {subject} in {g.period}."
    size = abs(g.gap)
    unit = points(measure)
    if size < 0.05:
        where = "the same as other pupils nationally"
    else:
        ahead = not behind(measure, g.gap)
        where = f"{size:.1f} {unit} {'above' if ahead else 'below'} other pupils nationally"
        if measure.polarity is Polarity.LOWER_BETTER:
            where = f"{size:.1f} {unit} {'better' if ahead else 'worse'} than other pupils nationally"
    if measure.unit == "%":  # a share: "were 9.0 percentage points below ... in Grade 4+ (30.1% against 77.2%)"
        said = (f"Disadvantaged pupils in {subject} were {where} in {measure.label} "
                f"({measure.format_value(g.disadvantaged.value)} against {measure.format_value(g.national_others)})")
    else:
        said = (f"Disadvantaged pupils in {subject} scored on average {where} ({measure.label}: "
                f"{measure.format_value(g.disadvantaged.value)} against {measure.format_value(g.national_others)})")
    if earlier is not None and earlier.before is not None and earlier.since is not None:
        said += f"; in {earlier.since} the gap was {abs(earlier.before):.1f} {unit}"
        if earlier.direction in ("narrowed", "widened"):
            said += f", so it has {earlier.direction}"
    return said + "."


def group_label(pupil_group: str) -> str:
    """The reader's label of a pupil group."""
    g = BY_ID.get(pupil_group)
    return g.label if g else pupil_group


# --------------------------------------------------------------------------------------------- targets on a gap

GAP_TARGET_PREFIX = "gap:"  # a target on a measure's disadvantage gap is stored under "gap:<measure id>"
# how wide a gap can be: a percentage runs 0-100, Attainment 8 0-90, a progress score within +-5 (DfE's scales)
GAP_LIMITS = {"%": 100.0, "attainment8": 90.0, "progress8": 10.0}


def gap_target_key(measure_id: str) -> str:
    """The targets table's key for a target on this measure's gap."""
    return GAP_TARGET_PREFIX + measure_id


def gap_limit(measure: Measure) -> float:
    """The widest a gap of this measure can be (either way)."""
    return GAP_LIMITS.get("%" if measure.unit == "%" else measure.id, GAP_LIMITS["progress8"]
                          if "progress" in measure.id else 100.0)


@dataclass(frozen=True)
class GapTarget:
    """Where a gap stands against its target: met, or what is left to close and at what pace."""

    period: str  # the year the target is for
    value: float  # the target gap (signed, as gaps are)
    met: bool | None
    years_left: int | None
    per_year: float | None  # how much the shortfall must shrink each year from now to meet it
    on_track: bool | None  # last year's narrowing at least that pace (None without a change to go on)
    words: str


def track_gap_target(measure: Measure, now: Gap, change: GapChange, target_period: str, target: float) -> GapTarget:
    """A gap against its target ("halve it by 2029/30"): met when its shortfall is no larger than the target's;
    otherwise the narrowing still needed per year to the target's year, and whether last year's pace keeps up."""
    unit = points(measure)
    goal = f"Target: a gap of {format_gap(measure, target)} {unit} by {target_period}"
    if now.gap is None:
        return GapTarget(target_period, target, None, None, None, None, f"{goal}; no gap to compare in {now.period}.")
    have, want = shortfall(measure, now.gap), shortfall(measure, target)
    assert have is not None and want is not None
    if have <= want:
        return GapTarget(target_period, target, True, None, None, None,
                         f"{goal}: met in {now.period} ({format_gap(measure, now.gap)}).")
    years = period_start_year(target_period) - period_start_year(now.period)
    if years <= 0:
        return GapTarget(target_period, target, False, 0, None, None,
                         f"{goal}: not met ({format_gap(measure, now.gap)} in {now.period}).")
    per_year = (have - want) / years
    on_track = None
    pace = ""
    if change.change is not None and change.before is not None:
        narrowed = (shortfall(measure, change.before) or 0.0) - have
        on_track = narrowed >= per_year
        pace = (f"; it narrowed by {narrowed:.1f} since {change.since}" if narrowed > 0 else
                f"; it widened by {-narrowed:.1f} since {change.since}" if narrowed < 0 else
                f"; it did not move since {change.since}")
        pace += ", on track" if on_track else ", not on track"
    return GapTarget(target_period, target, False, years, per_year, on_track,
                     f"{goal}: {have - want:.1f} {unit} still to close in {years} "
                     f"year{'s' if years != 1 else ''}, {per_year:.1f} a year{pace}.")
