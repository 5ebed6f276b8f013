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


def interval(measure: Measure, value: float | None, num: float | None, den: float | None,
             ci_low: float | None, ci_high: float | None) -> tuple[float | None, float | None, str | None]:
    """The value's 95% interval: published if the file gave one, else Wilson (rates) or normal (means)."""
    if ci_low is not None and ci_high is not None:
        return ci_low, ci_high, "published"
    if value is None or not den or den <= 0:
        return None, None, None
    if measure.uncertainty == "wilson" or (measure.rollup is Rollup.POOLED_RATIO and measure.scale == 100):
        n = num if num is not None else value * den / measure.scale
        p_num = min(max(n, 0.0), den)
        lo, hi = wilson(p_num, den, measure.scale)
        return lo, hi, "wilson"
    if measure.uncertainty == "normal" and measure.sd:
        half = Z95 * measure.sd / math.sqrt(den)
        return value - half, value + half, "normal"
    return None, None, None


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
            status=o.get("status", Status.MISSING.value), status_code=o.get("status_code") or None,
            ci_low=lo, ci_high=hi, uncertainty=how, national=national, national_scope=scope, percentile=pct,
            family_median=_f(s.get("family_median")), family_rank=_int(s.get("family_rank")),
            family_size=_int(s.get("family_size")), expected=_f(s.get("expected")), residual=_f(s.get("residual")),
            trend=trend, change=None if value is None or prev_value is None else value - prev_value,
            level=level, level_label=_level_label(m, level), significance=sig, flag=bool(reasons),
            flag_reasons=tuple(reasons), target=target, target_met=target_met(m, value, target),
        ))
    return Scorecard(subject, period, tuple(rows), "school values as published")


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
    """Roll-up sums per (measure, period) over the members, vectorised."""
    if obs.empty:
        return {}
    df = obs.merge(weights, on=["urn", "period"], how="left") if not weights.empty else obs.assign(weight=np.nan)
    ok = (df["status"] == Status.OK.value) & df["value"].notna()
    parts = ok & df["numerator"].notna() & (df["denominator"] > 0)
    has_w = ok & df["weight"].notna()
    df = df.assign(
        _ok=ok.astype(int), _parts=parts.astype(int), _v=df["value"].where(ok, 0.0),
        _num=df["numerator"].where(parts, 0.0), _den=df["denominator"].where(parts, 0.0),
        _hw=has_w.astype(int), _wv=(df["value"] * df["weight"]).where(has_w, 0.0), _w=df["weight"].where(has_w, 0.0),
    )
    agg = df.groupby(["measure", "period"], sort=False).agg(
        total=("urn", "size"), ok=("_ok", "sum"), with_parts=("_parts", "sum"), sum_value=("_v", "sum"),
        sum_num=("_num", "sum"), sum_den=("_den", "sum"), weighted=("_hw", "sum"), sum_wvalue=("_wv", "sum"),
        sum_w=("_w", "sum"))
    common = df.groupby(["measure", "period"], sort=False)["status"].agg(lambda s: s.value_counts().index[0])
    out = {}
    for key, r in agg.iterrows():
        out[key] = Sums(int(r.total), int(r.ok), int(r.with_parts), float(r.sum_value), float(r.sum_num),
                        float(r.sum_den), int(r.weighted), float(r.sum_wvalue), float(r.sum_w), str(common[key]))
    return out


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
    current = obs[obs["period"] == period]
    cur_stats = stats[stats["period"] == period]
    se_by = dict(zip(zip(cur_stats["urn"], cur_stats["measure"], strict=True), cur_stats["se"], strict=True))
    exp_by = dict(zip(zip(cur_stats["urn"], cur_stats["measure"], strict=True), cur_stats["expected"], strict=True))
    by_measure = {m: part for m, part in current.groupby("measure", sort=False)}
    member_flags = _member_flags(measures, obs, stats, periods, bench, subject, names)
    group_phase_of = {m.id: (m.phases[0].value if m.phases else None) for m in measures}

    values_by_period: dict[str, list[float | None]] = {}
    rows = []
    for m in measures:
        trend_vals = []
        for p in periods:
            g = rollup_sums(m, sums.get((m.id, p), Sums()))
            trend_vals.append((p, g))
        g = trend_vals[-1][1]
        part = by_measure.get(m.id, current.iloc[0:0])
        value, how = g.value, g.method
        if method == "dfe_trust" and m.rollup is not Rollup.SUM and m.judged:
            value, how = dfe_trust_value(m, part, years_in_trust or {})
        phase = group_phase_of[m.id]
        national, scope = pick_national(bench, m, period, None)
        cohort = g.cohort
        num = None if value is None or not cohort else value * cohort / m.scale
        lo, hi, unc = _group_interval(m, value, num, cohort, part, se_by)
        sig = significance(national, lo, hi) if m.judged else None
        pct = percentile_in(quantiles.get((m.id, period, phase or "")), value)
        adj_series = [adjusted_percentile(percentile_in(quantiles.get((m.id, p, phase or "")), gv.value), m)
                      for p, gv in trend_vals]
        values_by_period[m.id] = adj_series
        adj = adj_series[-1]
        level = level_of(adj, adj_series[-2] if len(adj_series) > 1 else None) if value is not None else None
        vals = part.loc[(part["status"] == Status.OK.value) & part["value"].notna(), "value"]
        spread = None
        if len(vals):
            q = np.quantile(vals.to_numpy(dtype=float), [0, 0.25, 0.5, 0.75, 1])
            spread = Spread(*(float(x) for x in q))
        below = None
        if national is not None and m.judged:
            below = int((vals < national).sum() if m.polarity is Polarity.HIGHER_BETTER else (vals > national).sum())
        exp_parts = [(exp_by.get((int(u), m.id)), d) for u, d in zip(part["urn"], part["denominator"], strict=True)]
        exp_parts = [(e, d) for e, d in exp_parts if _f(e) is not None and _f(d)]
        expected = (sum(e * d for e, d in exp_parts) / sum(d for _, d in exp_parts)) if exp_parts else None
        prev_value = trend_vals[-2][1].value if len(trend_vals) > 1 else None
        rows.append(ScorecardRow(
            measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, polarity=m.polarity.value,
            period=period, value=value, display=m.format_value(value), cohort=cohort, numerator=num,
            denominator=cohort,
            status=Status.OK.value if value is not None else (g.status.value if g.value is None
                                                               else Status.MISSING.value),
            status_code=None, ci_low=lo, ci_high=hi, uncertainty=unc, national=national, national_scope=scope,
            percentile=pct, family_median=None, family_rank=None, family_size=None, expected=expected,
            residual=None if expected is None or value is None else value - expected,
            trend=tuple(TrendPoint(p, gv.value, gv.status.value) for p, gv in trend_vals),
            change=None if value is None or prev_value is None else value - prev_value,
            level=level, level_label=_level_label(m, level), significance=sig, flag=False, flag_reasons=(),
            target=targets.get(m.id), target_met=target_met(m, value, targets.get(m.id)),
            rollup_method=how, schools_reporting=g.schools_reporting, schools_total=len(subject.members),
            spread=spread, below_national=below,
            member_values=tuple((int(u), _f(v), str(s)) for u, v, s in
                                zip(part["urn"], part["value"], part["status"], strict=True)),
        ))
    declining = {m.id for m in measures if m.judged and _declining(
        values_by_period[m.id], [t.value for t in next(r for r in rows if r.measure == m.id).trend], m)}
    flagged = []
    for r in rows:
        m = next(x for x in measures if x.id == r.measure)
        if not m.judged:
            flagged.append(r)
            continue
        reasons = _flag_reasons(m, r.value, r.national, r.significance, adjusted_percentile(r.percentile, m),
                                group_phase_of[m.id], m.id in declining, len(declining),
                                [(t.period, t.value) for t in r.trend])
        flagged.append(_replace(r, flag=bool(reasons), flag_reasons=tuple(reasons)))
    label = ("DfE trust method where available" if method == "dfe_trust"
             else "pooled: pupils of all member schools counted together")
    members = tuple((u, names.get(u, f"School {u}")) for u in subject.members)
    return Scorecard(subject, period, tuple(flagged), label, members, tuple(member_flags))


def _replace(row: ScorecardRow, **changes: object) -> ScorecardRow:
    from dataclasses import replace

    return replace(row, **changes)


def _group_interval(m: Measure, value: float | None, num: float | None, den: float | None, part: pd.DataFrame,
                    se_by: Mapping[tuple[int, str], float]) -> tuple[float | None, float | None, str | None]:
    """A group's 95% interval: Wilson on the pooled counts for rates; for means, the members' standard
    errors combined with their cohort weights (sqrt(sum (n_i se_i)^2) / sum n_i)."""
    if value is None or not den:
        return None, None, None
    if m.rollup is Rollup.POOLED_RATIO and num is not None:
        lo, hi = wilson(min(max(num, 0.0), den), den, m.scale)
        return lo, hi, "wilson"
    if m.rollup is Rollup.WEIGHTED_MEAN:
        ok = part[(part["status"] == Status.OK.value) & (part["denominator"] > 0)]
        terms = [(d, se_by.get((int(u), m.id))) for u, d in zip(ok["urn"], ok["denominator"], strict=True)]
        if terms and all(_f(se) is not None for _, se in terms):
            se = math.sqrt(sum((d * se) ** 2 for d, se in terms)) / sum(d for d, _ in terms)
            return value - Z95 * se, value + Z95 * se, "combined"
    return None, None, None


def _member_flags(measures: Sequence[Measure], all_obs: pd.DataFrame, stats: pd.DataFrame, periods: Sequence[str],
                  bench: list[dict], subject: Subject, names: Mapping[int, str]) -> list[WatchItem]:
    """Each member's flags, vectorised: significantly worse than national and in the bottom fifth, or
    declining for two years on several measures."""
    current = all_obs[all_obs["period"] == periods[-1]]
    if current.empty:
        return []
    judged = {m.id: m for m in measures if m.judged}
    reasons: dict[int, list[tuple[str, str]]] = {}
    st = stats[stats["measure"].isin(list(judged))]
    if st.empty:
        return []
    piv = st.pivot_table(index=["urn", "measure"], columns="period", values="percentile", aggfunc="first")
    piv = piv.reindex(columns=list(periods))
    higher = piv.index.get_level_values("measure").map(
        lambda mid: judged[mid].polarity is Polarity.HIGHER_BETTER).to_numpy()
    adj = np.where(higher[:, None], piv.to_numpy(dtype=float), 100.0 - piv.to_numpy(dtype=float))
    if adj.shape[1] >= 3:
        a, b, c = adj[:, -3], adj[:, -2], adj[:, -1]
        vals = all_obs.pivot_table(index=["urn", "measure"], columns="period", values="value", aggfunc="first")
        vals = vals.reindex(index=piv.index, columns=list(periods)).to_numpy(dtype=float)
        signed = np.where(higher[:, None], vals, -vals)  # higher is better on this scale
        x, y, z = signed[:, -3], signed[:, -2], signed[:, -1]
        dec = (b < a) & (c < b) & ((a - c) >= DECLINE_MIN_DROP) & (y < x) & (z < y)
    else:
        dec = np.zeros(len(adj), dtype=bool)
    dec_idx = piv.index[dec]
    dec_count = pd.Series(1, index=dec_idx).groupby(level="urn").sum() if len(dec_idx) else pd.Series(dtype=int)
    for urn, mid in dec_idx:
        n = int(dec_count.get(urn, 0))
        if n >= DECLINE_MIN_MEASURES:
            reasons.setdefault(int(urn), []).append(
                (mid, f"{judged[mid].label}: worse for two years running, one of {n} measures declining"))
    cur = current[current["measure"].isin(list(judged)) & (current["status"] == Status.OK.value)]
    cur_stats = stats[stats["period"] == periods[-1]].set_index(["urn", "measure"])
    for r in cur.itertuples(index=False):
        m = judged[r.measure]
        key = (r.urn, r.measure)
        pct = _f(cur_stats["percentile"].get(key)) if key in cur_stats.index else None
        adj_now = adjusted_percentile(pct, m)
        if adj_now is None or adj_now >= BOTTOM_FIFTH:
            continue
        national, _ = pick_national(bench, m, periods[-1], None)
        lo, hi, _how = interval(m, _f(r.value), _f(r.numerator), _f(r.denominator), _f(r.ci_low), _f(r.ci_high))
        sig = significance(national, lo, hi)
        worse = (sig == "below" and m.polarity is Polarity.HIGHER_BETTER) or (
            sig == "above" and m.polarity is Polarity.LOWER_BETTER)
        if worse:
            reasons.setdefault(int(r.urn), []).append(
                (m.id, f"{m.label}: significantly worse than national ({m.format_value(_f(r.value))} against "
                       f"{m.format_value(national)}) and in the bottom fifth"))
    return [WatchItem(u, names.get(u, f"School {u}"), tuple(rs)) for u, rs in sorted(reasons.items())]


def applicable(registry: Registry, phase: str | None) -> list[Measure]:
    """The registry's measures that apply to a phase (all of them when the phase is unknown)."""
    if phase is None:
        return list(registry.measures)
    return [m for m in registry.measures if any(p.value == phase for p in m.phases)]
