"""Impact of joining a group (or of receiving support): an event study by difference-in-differences.

Pure: the store hands over a long panel of one measure (urn, year, value, weight), the treated schools with the
academic year each joined, each one's candidate comparison schools (its family) and the year every school first
joined any group of that kind. Each treated school is compared with the nearest of its candidates that had not
joined yet, from two years before joining (k = −2) to each year k; the schools' differences are pooled with
their pupils as weights and a standard error clustered by school. docs/method.md ("Has joining made a
difference?") states every choice; years are academic years by their start (2024 = 2024/25).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.numbers import five_numbers
from metrics.registry import Measure, Polarity
from metrics.timeline import period_of

EVENT_TIMES = tuple(range(-3, 5))
REFERENCE = -2  # not −1: the year before joining is the known pre-conversion dip (regression to the mean)
DIP = -1
MATCH_YEARS = (-3,)  # the pre-join year comparisons are matched on: never the starting year (regression to the mean)
AFTER = (1, 2, 3)  # "the three years after joining"
MISSING_YEARS = (2019, 2020)  # 2019/20 and 2020/21: no performance tables (exams cancelled)
CONTROLS = 10
MIN_CONTROLS = 3
MIN_SCHOOLS = 5
ANTICIPATION = 1  # a comparison school's own dip year (the year before it joins) is not used either
LEVEL = 0.95


@dataclass(frozen=True)
class Spread:
    """The spread of the schools' own effects (unweighted): min, quartiles, max."""

    low: float
    q1: float
    median: float
    q3: float
    high: float


@dataclass(frozen=True)
class EventPoint:
    """The pooled difference at one event time k (or, with k None, the pooled "after" effect).

    `estimate`, `se`, `low`, `high` are NaN when the point is not shown; `schools` and `pupils` are what it rests
    on even then. `few_controls`: treated schools left out here for fewer than the minimum matched comparisons;
    `borrowed`: schools whose pupil numbers came from another year (see `pupil_weights`)."""

    k: int | None
    estimate: float
    se: float
    low: float
    high: float
    schools: int
    pupils: float
    shown: bool
    reason: str
    spread: Spread | None = None
    few_controls: int = 0
    borrowed: int = 0
    controls: float = float("nan")  # mean matched comparison schools per treated school
    no_pupils: int = 0  # schools with an ATT here but no pupil numbers in any year: left out, never weighed as 1


@dataclass(frozen=True)
class SchoolEffect:
    """One treated school's own difference: joined in `joined` (start year), its mean ATT over the after years
    it has (NaN when it has none), and its ATT per event time."""

    urn: int
    joined: int
    att_after: float
    att: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LeftOut:
    urn: int
    joined: int
    reason: str


@dataclass(frozen=True)
class ImpactResult:
    measure: str
    points: tuple[EventPoint, ...]
    after: EventPoint
    pretrend_ok: bool | None  # None: too few schools before joining to check
    pretrend_words: str
    pretrend_p: float  # the joint test's p-value over the shown pre-join points (NaN when not checked)
    caveats: tuple[str, ...]
    per_school: tuple[SchoolEffect, ...]
    spread: Spread | None  # of the schools' after effects
    left_out: tuple[LeftOut, ...]

    @property
    def verdict(self) -> str:
        """'reliable', 'not reliable', or 'not checked' when no pre-join year could be shown."""
        return {True: "reliable", False: "not reliable", None: "not checked"}[self.pretrend_ok]

    def point(self, k: int) -> EventPoint:
        return next(p for p in self.points if p.k == k)


@dataclass(frozen=True)
class Panel:
    """A measure's panel, wide: one row per school, one column per year with results (missing years dropped).

    Built once per measure (`prepare_panel`) so the store's precomputation pays the pivot once for every group."""

    urns: np.ndarray  # sorted
    years: np.ndarray  # sorted start years, the missing years left out
    values: np.ndarray  # schools x years, NaN where no value
    weights: np.ndarray  # schools x years, NaN where pupils unknown
    z: np.ndarray  # values standardised within each year over all schools with a value
    missing_years: tuple[int, ...]

    def rows(self, urns: Iterable[int]) -> np.ndarray:
        """Row index of each URN, −1 when the panel does not hold it."""
        u = np.asarray(list(urns), dtype=np.int64)
        if not len(self.urns):
            return np.full(len(u), -1, dtype=np.int64)
        at = np.clip(np.searchsorted(self.urns, u), 0, len(self.urns) - 1)
        return np.where(self.urns[at] == u, at, -1)


def prepare_panel(long: pd.DataFrame, *, missing_years: Sequence[int] = MISSING_YEARS) -> Panel:
    """The wide panel from a long one with columns urn, year, value, weight (weight may be NaN or absent).

    Rows in a missing year are dropped whatever they hold (no results were published: a value there is an
    error, never used); rows without a value are dropped; a duplicated (urn, year) keeps its last row."""
    df = long.loc[:, [c for c in ("urn", "year", "value", "weight") if c in long.columns]].copy()
    if "weight" not in df.columns:
        df["weight"] = np.nan
    df["urn"] = df["urn"].astype(np.int64)
    df["year"] = df["year"].astype(np.int64)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["weight"] = pd.to_numeric(df["weight"], errors="coerce").astype(float)
    df = df[~df["year"].isin(list(missing_years)) & df["value"].notna()]
    df = df.drop_duplicates(["urn", "year"], keep="last")
    urns = np.unique(df["urn"].to_numpy())
    years = np.unique(df["year"].to_numpy())
    r = np.searchsorted(urns, df["urn"].to_numpy())
    c = np.searchsorted(years, df["year"].to_numpy())
    values = np.full((len(urns), len(years)), np.nan)
    weights = np.full((len(urns), len(years)), np.nan)
    values[r, c] = df["value"].to_numpy()
    w = df["weight"].to_numpy()
    weights[r, c] = np.where(w > 0, w, np.nan)  # no pupils is no weight: unknown, not zero
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(values, axis=0) if len(urns) else np.zeros(len(years))
        sd = np.nanstd(values, axis=0) if len(urns) else np.ones(len(years))
    sd = np.where((sd > 0) & np.isfinite(sd), sd, 1.0)
    return Panel(urns, years, values, weights, (values - mean) / sd, tuple(int(y) for y in missing_years))


def _column(panel: Panel, years: np.ndarray) -> np.ndarray:
    """Column of each year in the panel, −1 where the panel has no such year (a missing year, or out of range)."""
    if not len(panel.years):
        return np.full(len(years), -1)
    at = np.clip(np.searchsorted(panel.years, years), 0, len(panel.years) - 1)
    return np.where(panel.years[at] == years, at, -1)


def _take(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """a[rows, cols], NaN where a column is −1."""
    out = a[rows, np.clip(cols, 0, None)] if a.size else np.full(len(rows), np.nan)
    return np.where(cols >= 0, out, np.nan)


def pupil_weights(panel: Panel, rows: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each school's pupils in a year: that year's, else the nearest year's it has (the earlier on a tie), else NaN.

    Returns (weights, borrowed). A plain weight of 1 is never used: a school with no pupil numbers in any year
    has no weight and is left out of the pooled estimates (and counted)."""
    w = _take(panel.weights, rows, _column(panel, years))
    borrowed = np.isnan(w)
    if borrowed.any() and len(panel.years):
        need = np.flatnonzero(borrowed)
        dist = np.abs(panel.years[None, :] - years[need, None]).astype(float)
        dist += (panel.years[None, :] > years[need, None]) * 0.5  # the earlier year wins a tie
        dist[np.isnan(panel.weights[rows[need]])] = np.inf
        best = np.argmin(dist, axis=1)
        found = np.isfinite(dist[np.arange(len(need)), best])
        w[need] = np.where(found, panel.weights[rows[need], best], np.nan)
    return w, borrowed & ~np.isnan(w)


def weighted_mean_se(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and its standard error clustered by unit (one value per cluster here).

    Influence form: ψ_i = w_i (x_i − θ) / Σw; var = n/(n−1) Σ ψ_i². NaN se for fewer than two units."""
    total = float(np.sum(w))
    theta = float(np.sum(w * x) / total)
    n = len(x)
    if n < 2:
        return theta, float("nan")
    psi = w * (x - theta) / total
    return theta, float(np.sqrt(n / (n - 1) * np.sum(psi**2)))


def _t(n: int) -> float:
    from scipy.stats import t  # lazily: only the precomputation at import needs it

    return float(t.ppf(0.5 + LEVEL / 2, n - 1))


def _spread(x: np.ndarray) -> Spread | None:
    if not len(x):
        return None
    return Spread(*five_numbers(x))


@dataclass(frozen=True)
class _Pairs:
    """Every (treated school, candidate) pair, flattened: positions into the treated list and panel rows."""

    t: np.ndarray  # index into the treated arrays
    c: np.ndarray  # panel row of the candidate
    c_urn: np.ndarray
    c_join: np.ndarray  # the candidate's first join year of this kind, +inf when never


def _pairs(panel: Panel, t_urn: np.ndarray, candidates: Mapping[int, Iterable[int]],
           first_joined: Mapping[int, float], treated: Mapping[int, int]) -> _Pairs:
    ti, cu = [], []
    for pos, u in enumerate(t_urn):
        cs = [int(c) for c in candidates.get(int(u), ()) if int(c) != int(u)]
        cs = list(dict.fromkeys(cs))  # a candidate listed twice counts once
        ti.extend([pos] * len(cs))
        cu.extend(cs)
    ti_a = np.asarray(ti, dtype=np.int64)
    cu_a = np.asarray(cu, dtype=np.int64)
    rows = panel.rows(cu_a)
    keep = rows >= 0
    joins = np.array([first_joined.get(int(c), np.nan) for c in cu_a[keep]], dtype=float)
    joins = np.where(np.isnan(joins), np.inf, joins)
    # a treated school is never a never-joined comparison, even when the caller's first_joined left it out
    joins = np.fmin(joins, np.array([treated.get(int(c), np.inf) for c in cu_a[keep]], dtype=float))
    return _Pairs(ti_a[keep], rows[keep], cu_a[keep], joins)


def _att_at(panel: Panel, k: int, t_rows: np.ndarray, t_g: np.ndarray, pairs: _Pairs, *, reference: int,
            controls: int, min_controls: int, anticipation: int,
            match_years: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """ATT_i(k) for every treated school (NaN where it has none) and its number of matched comparisons (−1 where
    the school itself has no value in the year compared)."""
    n = len(t_rows)
    att = np.full(n, np.nan)
    col_t = _column(panel, t_g + k)
    col_r = _column(panel, t_g + reference)
    y_it = _take(panel.values, t_rows, col_t)
    y_ir = _take(panel.values, t_rows, col_r)
    has_i = ~np.isnan(y_it) & ~np.isnan(y_ir)
    p = pairs.t
    y_ct = _take(panel.values, pairs.c, col_t[p])
    y_cr = _take(panel.values, pairs.c, col_r[p])
    last = np.maximum(t_g[p] + k, t_g[p] + reference)  # the later of the two years compared
    ok = has_i[p] & ~np.isnan(y_ct) & ~np.isnan(y_cr) & (pairs.c_join > last + anticipation)
    # distance on the pre-join years' standardised results, the year being estimated never among them
    d2 = np.zeros(len(p))
    used = np.zeros(len(p))
    for m in [m for m in match_years if m != k] or [reference]:  # the starting year when nothing else is left
        col = _column(panel, t_g + m)
        zi = _take(panel.z, t_rows, col)[p]
        zc = _take(panel.z, pairs.c, col[p])
        both = ~np.isnan(zi) & ~np.isnan(zc)
        d2 += np.where(both, (zi - zc) ** 2, 0.0)
        used += both
    dist = np.where(used > 0, d2 / np.maximum(used, 1), np.inf)
    sel = np.flatnonzero(ok)
    if not len(sel):
        return att, np.where(has_i, 0, -1)
    order = sel[np.lexsort((pairs.c_urn[sel], dist[sel], p[sel]))]  # by school, then distance, then URN
    grp = p[order]
    start = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    rank = np.arange(len(order)) - np.repeat(start, np.diff(np.r_[start, len(order)]))
    take = order[rank < controls]
    diff_c = y_ct[take] - y_cr[take]
    counts = np.bincount(p[take], minlength=n)
    sums = np.bincount(p[take], weights=diff_c, minlength=n)
    enough = has_i & (counts >= min_controls)
    with np.errstate(invalid="ignore", divide="ignore"):
        att = np.where(enough, (y_it - y_ir) - sums / counts, np.nan)
    return att, np.where(has_i, counts, -1)


def _pool(k: int | None, att: np.ndarray, w: np.ndarray, borrowed: np.ndarray, few: int, counts: np.ndarray,
          min_schools: int, min_controls: int, what: str) -> EventPoint:
    """Pool the schools' ATTs at one event time; not shown below the minimum (never below 2: no interval)."""
    use = ~np.isnan(att) & ~np.isnan(w)
    unweighed = int((~np.isnan(att) & np.isnan(w)).sum())
    n = int(use.sum())
    pupils = float(np.sum(w[use]))
    spread = _spread(att[use])
    ctrl = float(np.mean(counts[use])) if n and not np.isnan(counts[use]).all() else float("nan")
    nan = float("nan")
    common = dict(spread=spread, few_controls=few, borrowed=int(borrowed[use].sum()), controls=ctrl,
                  no_pupils=unweighed)
    need = max(min_schools, 2)
    if n < need:
        reason = (f"not shown: {n} school{'s' if n != 1 else ''} with results {what} and at least "
                  f"{min_controls} matched comparison schools; at least {need} are needed")
        if unweighed:
            reason += f" ({unweighed} more have no pupil numbers in any year)"
        return EventPoint(k, nan, nan, nan, nan, n, pupils, False, reason, **common)
    est, se = weighted_mean_se(att[use], w[use])
    half = _t(n) * se
    return EventPoint(k, est, se, est - half, est + half, n, pupils, True, "", **common)


def _when(k: int) -> str:
    if k == 0:
        return "in the year of joining"
    return f"{abs(k)} year{'s' if abs(k) != 1 else ''} {'before' if k < 0 else 'after'} joining"


def estimate_impact(panel: Panel | pd.DataFrame, treated: Mapping[int, int], candidates: Mapping[int, Iterable[int]],
                    first_joined: Mapping[int, float], *, measure: str = "", controls: int = CONTROLS,
                    min_controls: int = MIN_CONTROLS, min_schools: int = MIN_SCHOOLS,
                    event_times: Sequence[int] = EVENT_TIMES, after: Sequence[int] = AFTER,
                    reference: int = REFERENCE, anticipation: int = ANTICIPATION,
                    match_years: Sequence[int] = MATCH_YEARS,
                    missing_years: Sequence[int] = MISSING_YEARS) -> ImpactResult:
    """The event study of `treated` (urn → academic start year of joining) against not-yet- and never-joined schools.

    `candidates`: urn → its candidate comparison schools (its family); `first_joined`: urn → the year it first
    joined any group of this kind (absent or NaN: never). A treated school without a value in its reference year
    (k = −2, including one that falls in a missing year) is left out of everything and listed in `left_out`.
    `panel` may be the long DataFrame (prepared here) or a `Panel` built once with `prepare_panel`.
    `match_years`: the event times whose standardised values choose the nearest comparisons (the year being
    estimated is never among them; the starting year stands in when nothing else is left)."""
    if isinstance(panel, pd.DataFrame):
        panel = prepare_panel(panel, missing_years=missing_years)
    items = sorted((int(u), int(g)) for u, g in treated.items())
    t_urn = np.array([u for u, _ in items], dtype=np.int64)
    t_g = np.array([g for _, g in items], dtype=np.int64)
    rows = panel.rows(t_urn)
    left: list[LeftOut] = []
    ref_years = t_g + reference
    ref_vals = _take(panel.values, np.clip(rows, 0, None), _column(panel, ref_years))
    for u, g, r, v in zip(t_urn, t_g, rows, ref_vals, strict=True):
        if r < 0:
            left.append(LeftOut(int(u), int(g), "no results for this measure"))
        elif int(g + reference) in set(missing_years):
            left.append(LeftOut(int(u), int(g), f"its starting year ({period_of(int(g + reference))}, two years "
                                                f"before joining) has no published results"))
        elif np.isnan(v):
            left.append(LeftOut(int(u), int(g), f"no result in {period_of(int(g + reference))}, two years before "
                                                f"joining"))
    gone = {lo.urn for lo in left}
    keep = np.array([u not in gone for u in t_urn], dtype=bool)
    t_urn, t_g, rows = t_urn[keep], t_g[keep], rows[keep]
    pairs = _pairs(panel, t_urn, candidates, first_joined, treated)

    att_by_k: dict[int, np.ndarray] = {}
    w_by_k: dict[int, np.ndarray] = {}
    points: list[EventPoint] = []
    for k in event_times:
        if k == reference:
            w_ref, _ = pupil_weights(panel, rows, t_g + reference)
            points.append(EventPoint(k, 0.0, 0.0, 0.0, 0.0, len(t_urn), float(np.nansum(w_ref)), True,
                                     "the starting point: every difference is measured from this year", None))
            continue
        att, counts = _att_at(panel, k, rows, t_g, pairs, reference=reference, controls=controls,
                              min_controls=min_controls, anticipation=anticipation, match_years=match_years)
        w, borrowed = pupil_weights(panel, rows, t_g + k)
        few = int(((counts >= 0) & (counts < min_controls)).sum())
        att_by_k[k], w_by_k[k] = att, w
        points.append(_pool(k, att, w, borrowed, few, counts, min_schools, min_controls,
                            _when(k)))
    # the after effect: each school's mean over the after years it has, weighted by its mean pupils over them
    stack = np.array([att_by_k[k] for k in after if k in att_by_k]) if after else np.zeros((0, len(t_urn)))
    wstack = np.array([w_by_k[k] for k in after if k in w_by_k]) if after else np.zeros((0, len(t_urn)))
    with np.errstate(all="ignore"):
        have = ~np.isnan(stack)
        n_have = have.sum(axis=0)
        att_after = np.where(n_have > 0, np.nansum(stack, axis=0) / np.maximum(n_have, 1), np.nan)
        w_after = np.where(n_have > 0, np.nansum(np.where(have, wstack, 0.0), axis=0)
                           / np.maximum((have & ~np.isnan(wstack)).sum(axis=0), 1), np.nan)
    w_after = np.where(w_after > 0, w_after, np.nan)
    after_pt = _pool(None, att_after, w_after, np.zeros(len(t_urn), bool), 0, np.full(len(t_urn), np.nan), min_schools,
                     min_controls, "in the years after joining")

    pre = [p for p in points if p.k is not None and p.k < DIP and p.k != reference]
    ok, words, pval = _pretrend(pre, att_by_k, w_by_k)
    per_school = tuple(SchoolEffect(int(u), int(g), float(a),
                                    {k: float(att_by_k[k][i]) for k in att_by_k if not np.isnan(att_by_k[k][i])})
                       for i, (u, g, a) in enumerate(zip(t_urn, t_g, att_after, strict=True)))
    good = att_after[~np.isnan(att_after) & ~np.isnan(w_after)]
    return ImpactResult(measure, tuple(points), after_pt, ok, words, pval,
                        _caveats(left, points, missing_years), per_school, _spread(good), tuple(left))


def _pretrend(pre: list[EventPoint], att_by_k: Mapping[int, np.ndarray],
              w_by_k: Mapping[int, np.ndarray]) -> tuple[bool | None, str, float]:
    """The pre-join check: every shown pre-join point's interval holds 0, and a joint Wald test does not reject."""
    shown = [p for p in pre if p.shown]
    if not shown:
        return (None, "The years before joining could not be checked (too few schools have results three years "
                      "before joining), so it cannot be said whether the comparison schools were a fair match.",
                float("nan"))
    b = np.array([p.estimate for p in shown])
    # covariance of the pre-join points by the same clustered influence form, over the schools each pair shares
    psi = []
    for p in shown:
        a, w = att_by_k[p.k], w_by_k[p.k]
        use = ~np.isnan(a) & ~np.isnan(w)
        v = np.zeros(len(a))
        v[use] = w[use] * (a[use] - p.estimate) / np.sum(w[use])
        psi.append(v)
    m = np.array(psi)
    n = int(np.any([~np.isnan(att_by_k[p.k]) & ~np.isnan(w_by_k[p.k]) for p in shown], axis=0).sum())
    cov = m @ m.T * (n / max(n - 1, 1))
    from scipy.stats import chi2  # lazily, as _t

    try:
        stat = float(b @ np.linalg.solve(cov, b))
        pval = float(chi2.sf(stat, len(b)))
    except np.linalg.LinAlgError:
        pval = float("nan")
    outside = [p for p in shown if p.low > 0 or p.high < 0]
    if outside or (pval == pval and pval < 1 - LEVEL and len(b) > 1):
        first = (outside or shown)[0]
        return (False, f"Before joining, these schools were already moving apart from the comparison schools "
                       f"({_when(int(first.k or 0))}: {_num(first.estimate)}, interval {_num(first.low)} to "
                       f"{_num(first.high)}), so the comparison is not reliable.", pval)
    return (True, "Before joining, these schools and the comparison schools moved alike (no clear difference "
                  f"{_when(int(shown[0].k or 0))}), so the comparison is a fair one.", pval)


def _caveats(left: list[LeftOut], points: list[EventPoint], missing_years: Sequence[int]) -> tuple[str, ...]:
    gaps = " and ".join(period_of(y) for y in sorted(missing_years))
    out = [
        "Each school is compared from two years before it joined, not the year before: schools often join after "
        "a poor year, and measuring from that dip would make an ordinary recovery look like the group's doing. "
        "The year before joining is shown, marked as the dip year, but not used.",
        f"{gaps} had no published results; those years are left out, never filled in.",
        "The comparison schools are each school's similar schools that had not joined a group of this kind by the "
        "years compared, matched on their results in the years before joining.",
        "This shows how these schools changed beside similar schools, not proof that joining caused it: schools "
        "choose to join, and other things may have changed at the same time.",
        "The intervals treat each joining school as one unit; when joining schools share comparison schools they "
        "are somewhat too narrow.",
    ]
    if left:
        out.append(f"{len(left)} school{'s are' if len(left) != 1 else ' is'} left out because "
                   f"{'they have' if len(left) != 1 else 'it has'} no result two years before joining "
                   f"(some because that year had no published results).")
    unweighed = max((p.no_pupils for p in points), default=0)
    if unweighed:
        out.append(f"{unweighed} school{'s have' if unweighed != 1 else ' has'} no pupil numbers in any year and "
                   f"{'are' if unweighed != 1 else 'is'} left out of the pooled figures rather than counted as one "
                   "pupil each.")
    borrowed = sum(p.borrowed for p in points)
    if borrowed:
        out.append(f"Pupil numbers were not known for {borrowed} school-year{'s' if borrowed != 1 else ''}; the "
                   "nearest year's were used to weigh them.")
    return tuple(out)


def _num(x: float, decimals: int = 1) -> str:
    """A signed number with a true minus sign, as the sentences print it."""
    text = f"{abs(x):.{decimals}f}"
    return ("−" if x < 0 and float(text) != 0 else "") + text


def reading(result: ImpactResult, polarity: Polarity | str) -> str:
    """The pooled after effect in a word or two: 'too few schools', 'not reliable' (the pre-join check failed), 'no
    clear difference' (the interval holds 0), else 'better' or 'worse' by the measure's polarity."""
    a = result.after
    if not a.shown:
        return "too few schools"
    if result.pretrend_ok is False:
        return "not reliable"
    if a.low <= 0 <= a.high:
        return "no clear difference"
    return "better" if (a.estimate > 0) == (Polarity(polarity) != Polarity.LOWER_BETTER) else "worse"


def sentence(result: ImpactResult, measure_label: str, unit: str, polarity: Polarity | str,
             *, decimals: int = 1) -> str:
    """The plain words for the pooled after effect, as `reading` judges it."""
    a = result.after
    years = "three years" if tuple(AFTER) == (1, 2, 3) else "years"
    judged = reading(result, polarity)
    if judged == "too few schools":
        return f"There are too few schools to say whether joining made a difference to {measure_label} ({a.reason})."
    if judged == "not reliable":
        return (f"Before joining, these schools' {measure_label} was already changing differently from similar "
                f"schools', so the comparison is not reliable and no effect is claimed.")
    interval = f"{_num(a.low, decimals)} to {_num(a.high, decimals)}"
    if judged == "no clear difference":
        return (f"In the {years} after joining, there is no clear difference between these schools' {measure_label} "
                f"and that of similar schools that had not joined: the interval {interval} {unit} includes zero.")
    verb = "rose" if a.estimate > 0 else "fell"
    text = (f"In the {years} after joining, these schools' {measure_label} {verb} by "
            f"{_num(abs(a.estimate), decimals)} {unit} more than similar schools that had not joined ({judged}); "
            f"the interval is {interval}.")
    if result.pretrend_ok is None:
        text += " The years before joining could not be checked."
    return text


def point_label(k: int | None, *, reference: int = REFERENCE) -> str:
    """The words for an event time, as the chart's axis, the CSV and the CLI print it."""
    if k is None:
        return "the three years after joining (pooled)" if tuple(AFTER) == (1, 2, 3) else "after joining (pooled)"
    text = _when(k)
    if k == reference:
        return f"{text} (starting point)"
    return f"{text} (dip year, not used in the check)" if k == DIP else text


def event_rows(result: ImpactResult) -> list[dict[str, object]]:
    """One plain record per event time and one for the pooled after effect: the numbers behind the chart (CSV,
    JSON, the CLI). Numbers not shown are None, never NaN, so every writer prints them as empty."""
    def num(x: float) -> float | None:
        return None if x != x else float(x)

    rows = []
    for p in (*result.points, result.after):
        rows.append({"measure": result.measure, "k": p.k, "label": point_label(p.k), "estimate": num(p.estimate),
                     "low": num(p.low), "high": num(p.high), "se": num(p.se), "schools": p.schools,
                     "pupils": num(p.pupils), "shown": p.shown, "reason": p.reason,
                     "spread_min": num(p.spread.low) if p.spread else None,
                     "spread_median": num(p.spread.median) if p.spread else None,
                     "spread_max": num(p.spread.high) if p.spread else None})
    return rows


# ------------------------------------------------------------------------------------- a group's event study


@dataclass(frozen=True)
class GroupImpact:
    """The event study of one group's joiners on one measure, with who they are."""

    group_id: int
    group_name: str
    kind: str
    measure: Measure
    result: ImpactResult
    schools: tuple[tuple[int, str, int], ...]  # (urn, name, academic start year it joined), every joiner studied
    about: str  # what was compared, in words ("schools that joined the trust" / "schools that received support")

    @property
    def unit(self) -> str:
        """What the differences are counted in: percentage points for a rate, else points of the score."""
        return "percentage points" if self.measure.unit == "%" else "points"

    @property
    def words(self) -> str:
        """The pooled effect in a sentence (metrics.impact.sentence), judged by the measure's polarity."""
        m = self.measure
        return sentence(self.result, m.label, self.unit, m.polarity, decimals=2 if m.id == "progress8" else 1)


def event_frame(impact: GroupImpact) -> pd.DataFrame:
    """The numbers behind the chart (event_rows), one row per year relative to joining and one for the pooled effect,
    with the academic years each relative year stands for: the page's table and its CSV."""
    rows = event_rows(impact.result)
    return pd.DataFrame({
        "measure": impact.measure.id,
        "relative_year": ["after (+1 to +3)" if r["k"] is None else r["k"] for r in rows],
        "academic_years": ["" if r["k"] is None else _years(impact, r["k"]) for r in rows],
        "shown": [r["shown"] for r in rows],
        **{c: [r[c] for r in rows] for c in ("estimate", "low", "high", "schools")},
        "pupils": [round(r["pupils"] or 0) for r in rows], "note": [r["reason"] for r in rows]})


def _years(impact: GroupImpact, k: int) -> str:
    years = sorted({g + k for _u, _n, g in impact.schools})
    return ", ".join(period_of(y) for y in years)


def _point_json(row: Mapping[str, object]) -> dict:
    """An event_rows record as the CLI's JSON writes it."""
    return {"relative_year": row["k"], "shown": row["shown"], "estimate": row["estimate"], "low": row["low"],
            "high": row["high"], "se": row["se"], "schools": row["schools"], "pupils": round(row["pupils"] or 0),
            "note": row["reason"] or None}


def impact_json(impact: GroupImpact) -> dict:
    """The CLI's JSON: per relative year the estimate, its interval, the schools and pupils it rests on; the pooled
    effect; the pre-join check; the caveats; the schools studied and those left out."""
    r = impact.result
    after = {e.urn: e.att_after for e in r.per_school if e.att_after == e.att_after}  # NaN: none after joining
    *points, pooled = event_rows(r)
    return {
        "group": {"id": impact.group_id, "name": impact.group_name, "kind": impact.kind},
        "measure": impact.measure.id, "label": impact.measure.label, "unit": impact.unit, "about": impact.about,
        "event_study": [_point_json(p) for p in points],
        "pooled_effect": {**_point_json(pooled), "relative_years": "+1 to +3", "words": impact.words},
        "pretrend": {"verdict": r.verdict, "words": r.pretrend_words,
                     "p_value": r.pretrend_p if r.pretrend_p == r.pretrend_p else None},
        "caveats": list(r.caveats),
        "schools": [{"urn": u, "name": n, "joined": period_of(g), "effect_after": after.get(u)}
                    for u, n, g in impact.schools],
        "left_out": [{"urn": x.urn, "reason": x.reason} for x in r.left_out],
    }
