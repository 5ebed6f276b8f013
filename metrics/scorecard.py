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

from metrics.registry import Measure, Polarity, Registry, Rollup, Status
from metrics.rollup import Sums, national_scopes, rollup_sums

Z95 = 1.959964
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


@dataclass(frozen=True)
class TrendPoint:
    period: str
    value: float | None
    status: str


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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["trend"] = [asdict(t) for t in self.trend]
        d["flag_reasons"] = list(self.flag_reasons)
        d["member_values"] = [{"urn": u, "value": v, "status": s} for u, v, s in self.member_values]
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

    @property
    def below_national_any(self) -> int:
        """'No school left behind': members below national on at least one judged measure."""
        below: set[int] = set()
        for r in self.rows:
            if r.national is None or r.polarity == Polarity.CONTEXT.value:
                continue
            for urn, v, _s in r.member_values:
                if v is not None and _worse(v, r.national, r.polarity):
                    below.add(urn)
        return len(below)


# ------------------------------------------------------------------------------------------ helpers


def _f(v: object) -> float | None:
    if v is None:
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


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


def pick_national(benchmarks: Iterable[Mapping], measure: Measure, period: str,
                  phase: str | None) -> tuple[float | None, str | None]:
    """The national value for this phase: the phase's own row if published, else state-funded, else all.

    Counts that add up (pupils, FTE) have none: the national row holds England's total, not a comparator."""
    if measure.rollup is Rollup.SUM:
        return None, None
    rows = {b["scope"]: b for b in benchmarks
            if b["measure"] == measure.id and b["period"] == period and b.get("level", "national") == "national"}
    for scope in national_scopes(phase, measure):
        b = rows.get(scope)
        if b is not None and _f(b.get("value")) is not None:
            return _f(b["value"]), scope
    return None, None


def target_met(measure: Measure, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None or not measure.judged:
        return None
    return value >= target if measure.polarity is Polarity.HIGHER_BETTER else value <= target


def _declining(adj: list[float | None], values: list[float | None], measure: Measure) -> bool:
    """Three consecutive periods, each worse than the one before (the value itself, by polarity, and its
    national percentile), losing DECLINE_MIN_DROP percentile points in all."""
    if len(adj) < 3 or any(a is None for a in adj[-3:]) or any(v is None for v in values[-3:]):
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
        reasons.append(f"significantly {'below' if measure.polarity is Polarity.HIGHER_BETTER else 'above'} "
                       f"national ({measure.format_value(value)} against {measure.format_value(national)})")
        reasons.append(f"in the bottom fifth of {where} nationally (better than only {adj:.0f}% of them)")
    if declining and n_declining >= DECLINE_MIN_MEASURES:
        path = " → ".join(measure.format_value(v) for _, v in history[-3:])
        reasons.append(f"worse for two years running ({path}), one of {n_declining} measures declining")
    return reasons


# ------------------------------------------------------------------------------------------ school


def build_school_scorecard(subject: Subject, period: str, periods: Sequence[str], measures: Sequence[Measure],
                           obs: pd.DataFrame, stats: pd.DataFrame, benchmarks: pd.DataFrame,
                           targets: Mapping[str, float] | None = None) -> Scorecard:
    """One school's scorecard. `periods` lists the window, oldest first, ending with `period`."""
    targets = targets or {}
    bench = benchmarks.to_dict("records")
    by = {(r["measure"], r["period"]): r for r in obs.to_dict("records")}
    st = {(r["measure"], r["period"]): r for r in stats.to_dict("records")}
    before = periods[:-1]
    prev = before[-1] if before else None
    # declining measures are counted first: a flag needs several of them
    adj_hist: dict[str, list[float | None]] = {}
    val_hist: dict[str, list[float | None]] = {}
    for m in measures:
        adj_hist[m.id] = [adjusted_percentile(_f(st.get((m.id, p), {}).get("percentile")), m) for p in periods]
        val_hist[m.id] = [_f(by.get((m.id, p), {}).get("value")) for p in periods]
    declining = {m.id for m in measures if m.judged and _declining(adj_hist[m.id], val_hist[m.id], m)}
    rows = []
    for m in measures:
        o = by.get((m.id, period), {})
        s = st.get((m.id, period), {})
        value = _f(o.get("value")) if o.get("status") == Status.OK.value else None
        num, den = _f(o.get("numerator")), _f(o.get("denominator"))
        lo, hi, how = interval(m, value, num, den, _f(o.get("ci_low")), _f(o.get("ci_high")))
        national, scope = pick_national(bench, m, period, subject.phase)
        sig = significance(national, lo, hi) if m.judged else None
        pct = _f(s.get("percentile"))
        adj = adjusted_percentile(pct, m)
        adj_prev = adj_hist[m.id][-2] if len(periods) > 1 else None
        small = den is not None and den < m.min_cohort
        level = None if (small or value is None) else level_of(adj, adj_prev)
        trend = tuple(TrendPoint(p, _f(by.get((m.id, p), {}).get("value")),
                                 by.get((m.id, p), {}).get("status", Status.MISSING.value)) for p in periods)
        prev_value = _f(by.get((m.id, prev), {}).get("value")) if prev else None
        history = [(p, t.value) for p, t in zip(periods, trend, strict=True)]
        reasons = _flag_reasons(m, value, national, sig, adj, subject.phase, m.id in declining, len(declining),
                                history) if m.judged and not small else []
        target = targets.get(m.id)
        rows.append(ScorecardRow(
            measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
            period=period, value=value, display=m.format_value(value), cohort=den, numerator=num, denominator=den,
            status=o.get("status", Status.MISSING.value), status_code=_text(o.get("status_code")),
            ci_low=lo, ci_high=hi, uncertainty=how, national=national, national_scope=scope, percentile=pct,
            family_median=_f(s.get("family_median")), family_rank=_int(s.get("family_rank")),
            family_size=_int(s.get("family_size")), expected=_f(s.get("expected")), residual=_f(s.get("residual")),
            trend=trend, change=None if value is None or prev_value is None else value - prev_value,
            level=level, level_label=_level_label(m, level), significance=sig, flag=bool(reasons),
            flag_reasons=tuple(reasons), target=target, target_met=target_met(m, value, target),
        ))
    return Scorecard(subject, period, tuple(rows), "school values as published")


def _text(v: object) -> str | None:
    return v if isinstance(v, str) and v else None


def _int(v: object) -> int | None:
    f = _f(v)
    return None if f is None else int(f)


def _level_label(m: Measure, level: int | None) -> str:
    if not m.judged:
        return NOT_JUDGED
    if m.owner != "national" and not level:
        return LOCAL_ONLY
    return LEVELS[level - 1] if level else INSUFFICIENT


# ------------------------------------------------------------------------------------------ group


def _sums_table(obs: pd.DataFrame, weights: pd.DataFrame) -> dict[tuple[str, str], Sums]:
    """Roll-up sums per (measure, period) over the members, vectorised (the same fields as `sums_of`)."""
    if obs.empty:
        return {}
    df = obs.merge(weights, on=["urn", "period"], how="left") if len(weights) else obs.assign(weight=np.nan)
    value = df["value"].to_numpy(dtype=float)
    num = df["numerator"].to_numpy(dtype=float)
    den = df["denominator"].to_numpy(dtype=float)
    w = df["weight"].to_numpy(dtype=float)
    ok = (df["status"].to_numpy() == Status.OK.value) & ~np.isnan(value)
    parts = ok & ~np.isnan(num) & (np.nan_to_num(den) > 0)
    has_w = ok & ~np.isnan(w)
    frame = pd.DataFrame({
        "measure": df["measure"], "period": df["period"], "total": 1, "ok": ok.astype(int),
        "with_parts": parts.astype(int), "sum_value": np.where(ok, value, 0.0), "sum_num": np.where(parts, num, 0.0),
        "sum_den": np.where(parts, den, 0.0), "weighted": has_w.astype(int),
        "sum_wvalue": np.where(has_w, value * w, 0.0), "sum_w": np.where(has_w, w, 0.0),
    })
    agg = frame.groupby(["measure", "period"], sort=False).sum()
    # the commonest status, ties to the alphabetically first (as sums_of does)
    counts = df.groupby(["measure", "period", "status"], sort=False).size().reset_index(name="n")
    counts = counts.sort_values(["n", "status"], ascending=[False, True]).drop_duplicates(["measure", "period"])
    common = dict(zip(zip(counts["measure"], counts["period"], strict=True), counts["status"], strict=True))
    return {(m, p): Sums(int(t), int(o), int(wp), float(sv), float(sn), float(sd), int(wt), float(swv), float(sw),
                         str(common[(m, p)]))
            for (m, p), t, o, wp, sv, sn, sd, wt, swv, sw in zip(
                agg.index, agg["total"], agg["ok"], agg["with_parts"], agg["sum_value"], agg["sum_num"],
                agg["sum_den"], agg["weighted"], agg["sum_wvalue"], agg["sum_w"], strict=True)}


def dfe_trust_value(measure: Measure, rows: pd.DataFrame, years: Mapping[int, int]) -> tuple[float | None, str]:
    """The DfE multi-academy-trust method: schools in the trust for DFE_MIN_YEARS+ full years, each weighted
    by cohort x years in trust (capped at DFE_MAX_YEARS); needs DFE_MIN_SCHOOLS such schools."""
    ok = rows[(rows["status"] == Status.OK.value) & rows["value"].notna() & (rows["denominator"] > 0)]
    ok = ok[ok["urn"].map(lambda u: years.get(int(u), 0) >= DFE_MIN_YEARS)]
    if len(ok) < DFE_MIN_SCHOOLS:
        return None, (f"DfE trust method not available: {len(ok)} schools have results and "
                      f"{DFE_MIN_YEARS}+ full years in the trust (needs {DFE_MIN_SCHOOLS})")
    w = ok["denominator"] * ok["urn"].map(lambda u: min(years[int(u)], DFE_MAX_YEARS))
    return float((ok["value"] * w).sum() / w.sum()), (
        f"DfE trust method: {len(ok)} schools with {DFE_MIN_YEARS}+ full years in the trust, "
        "weighted by pupils x years in trust")


def build_group_scorecard(subject: Subject, period: str, periods: Sequence[str], measures: Sequence[Measure],
                          obs: pd.DataFrame, stats: pd.DataFrame, benchmarks: pd.DataFrame,
                          quantiles: Mapping[tuple[str, str, str], Sequence[float]],
                          weights: pd.DataFrame, names: Mapping[int, str],
                          targets: Mapping[str, float] | None = None, method: str = "pooled",
                          years_in_trust: Mapping[int, int] | None = None) -> Scorecard:
    """A group's scorecard: each measure rolled up from the members, with spread and a watch list.

    `obs` holds the members' observations for every period in `periods` (oldest first, ending with `period`);
    `stats` their precomputed school statistics; `weights` pupils on roll (urn, period, weight).
    The trend is that of today's members (like for like), not of the group as it was each year.
    """
    targets = targets or {}
    bench = benchmarks.to_dict("records")
    sums = _sums_table(obs, weights)
    cur_stats = stats.loc[stats["period"] == period, ["urn", "measure", "percentile", "se", "expected"]]
    current = obs[obs["period"] == period].merge(cur_stats, on=["urn", "measure"], how="left")
    by_measure = {m: part for m, part in current.groupby("measure", sort=False)}
    empty = current.iloc[0:0]
    national_of = {m.id: pick_national(bench, m, period, None) for m in measures}
    member_flags = _member_flags(measures, obs, stats, periods, national_of, current, names)
    phase_of = {m.id: (m.phases[0].value if m.phases else None) for m in measures}

    rows = []
    for m in measures:
        trend_vals = [(p, rollup_sums(m, sums.get((m.id, p), Sums()))) for p in periods]
        g = trend_vals[-1][1]
        part = by_measure.get(m.id, empty)
        value, how = g.value, g.method
        if method == "dfe_trust" and m.rollup is not Rollup.SUM and m.judged:
            value, how = dfe_trust_value(m, part, years_in_trust or {})
        phase = phase_of[m.id]
        national, scope = national_of[m.id]
        cohort = g.cohort
        num = None if value is None or not cohort else value * cohort / m.scale
        vals = part["value"].to_numpy(dtype=float)
        status = part["status"].to_numpy()
        den = part["denominator"].to_numpy(dtype=float)
        ok = (status == Status.OK.value) & ~np.isnan(vals)
        lo, hi, unc = _group_interval(m, value, num, cohort, ok, den, part["se"].to_numpy(dtype=float))
        sig = significance(national, lo, hi) if m.judged else None
        adj_series = [adjusted_percentile(percentile_in(quantiles.get((m.id, p, phase or "")), gv.value), m)
                      for p, gv in trend_vals]
        adj = adj_series[-1]
        pct = percentile_in(quantiles.get((m.id, period, phase or "")), value)
        level = level_of(adj, adj_series[-2] if len(adj_series) > 1 else None) if value is not None else None
        spread = Spread(*(float(x) for x in np.quantile(vals[ok], [0, 0.25, 0.5, 0.75, 1]))) if ok.any() else None
        below = None
        if national is not None and m.judged:
            below = int(np.sum(vals[ok] < national) if m.polarity is Polarity.HIGHER_BETTER
                        else np.sum(vals[ok] > national))
        exp = part["expected"].to_numpy(dtype=float)
        use = ~np.isnan(exp) & (np.nan_to_num(den) > 0)
        expected = float(np.sum(exp[use] * den[use]) / np.sum(den[use])) if use.any() else None
        prev_value = trend_vals[-2][1].value if len(trend_vals) > 1 else None
        trend = tuple(TrendPoint(p, gv.value, gv.status.value) for p, gv in trend_vals)
        declining = m.judged and _declining(adj_series, [t.value for t in trend], m)
        rows.append((m, declining, dict(
            measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
            period=period, value=value, display=m.format_value(value), cohort=cohort, numerator=num,
            denominator=cohort,
            status=Status.OK.value if value is not None else (g.status.value if g.value is None
                                                               else Status.MISSING.value),
            status_code=None, ci_low=lo, ci_high=hi, uncertainty=unc, national=national, national_scope=scope,
            percentile=pct, family_median=None, family_rank=None, family_size=None, expected=expected,
            residual=None if expected is None or value is None else value - expected, trend=trend,
            change=None if value is None or prev_value is None else value - prev_value,
            level=level, level_label=_level_label(m, level), significance=sig,
            target=targets.get(m.id), target_met=target_met(m, value, targets.get(m.id)),
            rollup_method=how, schools_reporting=g.schools_reporting, schools_total=len(subject.members),
            spread=spread, below_national=below,
            member_values=tuple(zip(part["urn"].astype(int).tolist(),
                                    [None if v != v else v for v in vals.tolist()], status.tolist(), strict=True)),
        )))
    n_declining = sum(1 for _, d, _ in rows if d)
    out = []
    for m, declining, fields in rows:
        reasons = _flag_reasons(m, fields["value"], fields["national"], fields["significance"],
                                adjusted_percentile(fields["percentile"], m), phase_of[m.id], declining, n_declining,
                                [(t.period, t.value) for t in fields["trend"]]) if m.judged else []
        out.append(ScorecardRow(**fields, flag=bool(reasons), flag_reasons=tuple(reasons)))
    label = ("DfE trust method where available" if method == "dfe_trust"
             else "pooled: pupils of all member schools counted together")
    members = tuple((u, names.get(u, f"School {u}")) for u in subject.members)
    return Scorecard(subject, period, tuple(out), label, members, tuple(member_flags))


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


def _member_flags(measures: Sequence[Measure], obs: pd.DataFrame, stats: pd.DataFrame, periods: Sequence[str],
                  national_of: Mapping[str, tuple[float | None, str | None]], current: pd.DataFrame,
                  names: Mapping[int, str]) -> list[WatchItem]:
    """Each member's flags, vectorised: significantly worse than national and in the bottom fifth, or
    declining for two years on several measures (the same rules as a school's own scorecard)."""
    judged = {m.id: m for m in measures if m.judged}
    reasons: dict[int, list[tuple[str, str]]] = {}
    last3 = list(periods[-3:])
    if len(last3) == 3:
        key = ["urn", "measure", "period"]
        pct = stats[stats["measure"].isin(judged) & stats["period"].isin(last3)].set_index(key)["percentile"]
        val = obs[obs["measure"].isin(judged) & obs["period"].isin(last3)].set_index(key)["value"]
        both = pd.concat([pct.unstack("period").reindex(columns=last3).add_prefix("p"),
                          val.unstack("period").reindex(columns=last3).add_prefix("v")], axis=1, join="inner")
        if len(both):
            higher = np.array([judged[mid].polarity is Polarity.HIGHER_BETTER
                               for mid in both.index.get_level_values("measure")])
            p = both[[f"p{x}" for x in last3]].to_numpy(dtype=float)
            v = both[[f"v{x}" for x in last3]].to_numpy(dtype=float)
            adj = np.where(higher[:, None], p, 100.0 - p)
            sv = np.where(higher[:, None], v, -v)  # higher is better on this scale
            dec = ((adj[:, 1] < adj[:, 0]) & (adj[:, 2] < adj[:, 1]) & (adj[:, 0] - adj[:, 2] >= DECLINE_MIN_DROP)
                   & (sv[:, 1] < sv[:, 0]) & (sv[:, 2] < sv[:, 1]))
            dec_idx = both.index[dec]
            per_school = pd.Series(1, index=dec_idx.get_level_values("urn")).groupby(level=0).sum()
            for urn, mid in dec_idx:
                n = int(per_school[urn])
                if n >= DECLINE_MIN_MEASURES:
                    reasons.setdefault(int(urn), []).append(
                        (mid, f"{judged[mid].label}: worse for two years running, one of {n} measures declining"))
    for mid, part in current[current["measure"].isin(judged)].groupby("measure", sort=False):
        m = judged[mid]
        national = national_of[mid][0]
        if national is None:
            continue
        adj = part["percentile"].to_numpy(dtype=float)
        adj = adj if m.polarity is Polarity.HIGHER_BETTER else 100.0 - adj
        vals = part["value"].to_numpy(dtype=float)
        ok = (part["status"].to_numpy() == Status.OK.value) & (adj < BOTTOM_FIFTH)
        if not ok.any():
            continue
        lo, hi = intervals(m, vals, part["numerator"], part["denominator"], part["ci_low"], part["ci_high"])
        worse = hi < national if m.polarity is Polarity.HIGHER_BETTER else lo > national
        for urn, v in zip(part["urn"].to_numpy()[ok & worse], vals[ok & worse], strict=True):
            reasons.setdefault(int(urn), []).append(
                (m.id, f"{m.label}: significantly worse than national ({m.format_value(float(v))} against "
                       f"{m.format_value(national)}) and in the bottom fifth"))
    return [WatchItem(u, names.get(u, f"School {u}"), tuple(rs)) for u, rs in sorted(reasons.items())]


def applicable(registry: Registry, phase: str | None) -> list[Measure]:
    """The registry's measures that apply to a phase (all of them when the phase is unknown)."""
    if phase is None:
        return list(registry.measures)
    return [m for m in registry.measures if any(p.value == phase for p in m.phases)]
