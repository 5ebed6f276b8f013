"""The impact event study (metrics/impact.py): hand-computed numbers, a planted effect recovered, coverage with no
effect, a planted pre-trend caught, an independent pandas computation, minimum numbers and the missing years."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metrics.impact import estimate_impact, event_rows, prepare_panel, sentence
from metrics.registry import Polarity

YEARS = range(2013, 2019)
# the tiny panel of test 1: two treated schools (1 joins 2016, 2 joins 2017), four candidates, 14 joins in 2017
TINY = {
    1: [50, 52, 51, 56, 57, 58],
    2: [40, 41, 42, 41, 46, 47],
    11: [45, 46, 47, 48, 49, 50],
    12: [60, 60, 61, 61, 62, 62],
    13: [30, 32, 31, 33, 34, 35],
    14: [55, 54, 56, 55, 50, 52],
}
TINY_PUPILS = {1: 100, 2: 300, 11: 120, 12: 150, 13: 90, 14: 200}


def tiny() -> pd.DataFrame:
    return pd.DataFrame([(u, y, v, TINY_PUPILS[u]) for u, vs in TINY.items() for y, v in zip(YEARS, vs, strict=True)],
                        columns=["urn", "year", "value", "weight"])


def tiny_result():  # noqa: ANN201 - the result type is the module's
    cands = {1: [11, 12, 13, 14], 2: [11, 12, 13, 14]}
    return estimate_impact(tiny(), {1: 2016, 2: 2017}, cands, {1: 2016, 2: 2017, 14: 2017}, min_schools=2)


def test_hand_computed_tiny_panel() -> None:
    """Every number worked by hand.

    School 1 (joined 2016) is measured from 2014 (k = −2), value 52. Its comparisons' changes from 2014:
    11: 2013 −1, 2015 +1, 2016 +2, 2017 +3, 2018 +4; 12: 0, +1, +1, +2, +2; 13: −2, −1, +1, +2, +3; 14 (joins
    2017): 2013 +1, 2015 +2, and from 2016 on not used (2016 is its own dip year, 2017 it has joined).
      k = −3: (50 − 52) − (−1 + 0 − 2 + 1)/4 = −2 + 0.5 = −1.5
      k = −1: (51 − 52) − (1 + 1 − 1 + 2)/4 = −1 − 0.75 = −1.75
      k =  0: (56 − 52) − (2 + 1 + 1)/3 = 4 − 4/3 = 2.6667
      k = +1: (57 − 52) − (3 + 2 + 2)/3 = 5 − 7/3 = 2.6667
      k = +2: (58 − 52) − (4 + 2 + 3)/3 = 6 − 3 = 3
    School 2 (joined 2017) from 2015, value 42; changes from 2015: 11: 2014 −1, 2016 +1, 2017 +2, 2018 +3;
    12: −1, 0, +1, +1; 13: +1, +2, +3, +4; 14: 2014 −2 only (2016 is its dip year).
      k = −3: (41 − 42) − (−1 − 1 + 1 − 2)/4 = −1 + 0.75 = −0.25
      k = −1: (41 − 42) − (1 + 0 + 2)/3 = −2
      k =  0: (46 − 42) − (2 + 1 + 3)/3 = 2
      k = +1: (47 − 42) − (3 + 1 + 4)/3 = 5 − 8/3 = 2.3333
    Pooled k = 0, weights 100 and 300: (100 × 8/3 + 300 × 2)/400 = 2.16667.
      ψ_1 = 100 × (8/3 − 13/6)/400 = 0.125, ψ_2 = 300 × (2 − 13/6)/400 = −0.125;
      se = √(2/1 × (0.125² + 0.125²)) = 0.25; interval 2.16667 ± t(1) 12.7062 × 0.25.
    Pooled k = +1: (100 × 8/3 + 300 × 7/3)/400 = 2.41667; ψ = ±0.0625, se = √(2 × 2 × 0.0625²) = 0.125.
    After: school 1 (8/3 + 3)/2 = 2.8333 (k = +1, +2), school 2 7/3 (k = +1): (283.33 + 700)/400 = 2.45833;
      ψ = ±100 × (17/6 − 59/24)/400 = ±0.09375, se = √(2 × 2 × 0.09375²) = 0.1875."""
    r = tiny_result()
    s1, s2 = r.per_school
    assert (s1.urn, s1.joined, s2.urn, s2.joined) == (1, 2016, 2, 2017)
    assert s1.att == pytest.approx({-3: -1.5, -1: -1.75, 0: 8 / 3, 1: 8 / 3, 2: 3.0})
    assert s2.att == pytest.approx({-3: -0.25, -1: -2.0, 0: 2.0, 1: 7 / 3})
    p0, p1 = r.point(0), r.point(1)
    assert (p0.estimate, p0.se, p0.schools, p0.pupils) == pytest.approx((13 / 6, 0.25, 2, 400))
    assert (p0.low, p0.high) == pytest.approx((13 / 6 - 12.7062047 * 0.25, 13 / 6 + 12.7062047 * 0.25))
    assert p0.controls == pytest.approx(3.0)
    assert (p1.estimate, p1.se) == pytest.approx((29 / 12, 0.125))
    assert (r.after.estimate, r.after.se, r.after.schools) == pytest.approx((59 / 24, 0.1875, 2))
    assert r.per_school[0].att_after == pytest.approx(17 / 6)
    ref = r.point(-2)
    assert (ref.estimate, ref.shown, ref.pupils) == (0.0, True, 400)
    assert r.point(2).schools == 1 and not r.point(2).shown  # only school 1 has k = +2: below min_schools 2
    assert [p.k for p in r.points] == list(range(-3, 5))


def test_fewer_than_three_comparisons_drop_the_school() -> None:
    """With 13 taken out, school 1's k = 0 has only 11 and 12 (14 is in its dip year): 2 < 3, so it drops out."""
    r = estimate_impact(tiny(), {1: 2016, 2: 2017}, {1: [11, 12, 14], 2: [11, 12, 13, 14]}, {14: 2017},
                        min_schools=1)
    p0 = r.point(0)
    assert (p0.schools, p0.few_controls, p0.shown) == (1, 1, False)  # school 2 alone, below the floor of 2
    assert 0 not in r.per_school[0].att and r.per_school[1].att[0] == pytest.approx(2.0)
    assert r.per_school[0].att[-1] == pytest.approx(-1.0 - (1 + 1 + 2) / 3)  # 14 still counts at k = −1 (2015)


def world(seed: int, *, effect: float = 0.0, pretrend: float = 0.0, schools: int = 300, treated: int = 40,
          family: int = 30, years: range = range(2012, 2026), dip: float = -1.5,
          later: int = 60) -> tuple[pd.DataFrame, dict[int, int], dict[int, list[int]], dict[int, float]]:
    """A synthetic England: school and year effects, noise, staggered joins, a dip the year before joining, an
    `effect` from the year of joining on, and for the treated a `pretrend` a year before joining (a slope that
    stops at joining). `later` other schools join later and are not-yet-treated comparisons until then."""
    rng = np.random.default_rng(seed)
    urns = np.arange(100001, 100001 + schools)
    a = rng.normal(50, 8, schools)
    b = {y: rng.normal(0, 1) for y in years}
    joins = {int(u): int(rng.integers(2015, 2025)) for u in urns[:treated]}
    first = {int(u): float(rng.integers(2016, 2030)) for u in urns[treated:treated + later]}
    first.update({u: float(g) for u, g in joins.items()})
    pupils = rng.integers(60, 260, schools)
    rows = []
    for i, u in enumerate(urns):
        g = first.get(int(u))
        for y in years:
            v = a[i] + b[y] + rng.normal(0, 2)
            if g is not None:
                k = y - g
                v += dip * (k == -1)
                if int(u) in joins:
                    v += effect * (k >= 0) + pretrend * min(k, 0)
            rows.append((int(u), y, v, float(pupils[i])))
    panel = pd.DataFrame(rows, columns=["urn", "year", "value", "weight"])
    others = np.array([u for u in urns if int(u) not in joins])
    cands = {u: [int(c) for c in rng.choice(others, family, replace=False)] for u in joins}
    return panel, joins, cands, first


def test_planted_effect_is_recovered() -> None:
    """+2.0 from the year of joining, a −1.5 dip the year before, 40 staggered joiners: recovered within its
    interval, which excludes 0 (seed 7: after effect 2.01, interval 1.17 to 2.85, 33 schools: the 7 joining in 2021
    or 2022 start in a year without results and are left out). Over seeds 5000–5099 the interval held 2.0 in 96 of
    100 runs, mean estimate 2.05 (matching on k = −3 alone, the default)."""
    panel, joins, cands, first = world(7, effect=2.0)
    r = estimate_impact(panel, joins, cands, first)
    assert r.after.shown and r.after.low < 2.0 < r.after.high and r.after.low > 0
    assert r.after.estimate == pytest.approx(2.0, abs=0.6)
    assert r.verdict == "reliable"
    dip = r.point(-1)  # the dip year shows the dip (measured from k = −2), and is not part of the check
    assert dip.high < 0
    words = sentence(r, "Attainment 8", "points", Polarity.HIGHER_BETTER)
    assert words.startswith("In the three years after joining, these schools' Attainment 8 rose by ")
    assert f"the interval is {r.after.low:.1f} to {r.after.high:.1f}." in words and "(better)" in words


def test_no_effect_covers_zero_in_most_seeds() -> None:
    """No effect, 200 seeds (smaller worlds, 30 joiners each): the after effect's 95% interval covers zero in at
    least 180 of them (90%). With the default matching it covered zero in 189 of 200 (94.5%); the estimates' mean
    was −0.03."""
    covered = 0
    start = time.perf_counter()
    for seed in range(200):
        panel, joins, cands, first = world(1000 + seed, schools=150, treated=30, family=25, later=30,
                                           years=range(2013, 2025))
        r = estimate_impact(panel, joins, cands, first)
        assert r.after.shown
        covered += r.after.low <= 0 <= r.after.high
    assert covered >= 180, covered
    assert time.perf_counter() - start < 10


def test_planted_pretrend_is_not_reliable() -> None:
    """Treated schools rising 1.5 points a year for years before joining: k = −3 sits below 0, so "not reliable",
    and the words claim no effect."""
    panel, joins, cands, first = world(11, effect=2.0, pretrend=1.5)
    r = estimate_impact(panel, joins, cands, first)
    assert r.pretrend_ok is False and r.verdict == "not reliable"
    assert r.point(-3).high < 0
    assert "not reliable" in r.pretrend_words
    assert "not reliable" in sentence(r, "Attainment 8", "points", Polarity.HIGHER_BETTER)


def _lookup(s: pd.Series, urns: pd.Series, years: pd.Series) -> pd.Series:
    """s[(urn, year)] row by row, NaN where absent."""
    return pd.Series([s.get((a, b), np.nan) for a, b in zip(urns, years, strict=True)], index=urns.index)


def independent(panel: pd.DataFrame, joins: dict[int, int], cands: dict[int, list[int]], first: dict[int, float],
                *, m: int = 10, min_c: int = 3, match: tuple[int, ...] = (-3,)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The method written again with pandas merges and groupby, sharing nothing with metrics.impact:
    (per school and k: att, weight), (per k: estimate, se)."""
    p = panel[~panel.year.isin([2019, 2020]) & panel.value.notna()].copy()
    p["z"] = p.groupby("year").value.transform(lambda v: (v - v.mean()) / (v.std(ddof=0) or 1.0))
    val = p.set_index(["urn", "year"]).value
    z = p.set_index(["urn", "year"]).z
    pairs = pd.DataFrame([(u, joins[u], c) for u in joins for c in dict.fromkeys(cands[u]) if c != u],
                         columns=["urn", "g", "c"])
    pairs["cj"] = pairs.c.map(first).fillna(np.inf)
    out = []
    for k in range(-3, 5):
        if k == -2:
            continue
        q = pairs.copy()
        q["t"], q["r"] = q.g + k, q.g - 2
        q["yit"], q["yir"] = _lookup(val, q.urn, q.t), _lookup(val, q.urn, q.r)
        q["yct"], q["ycr"] = _lookup(val, q.c, q.t), _lookup(val, q.c, q.r)
        q = q[q.yit.notna() & q.yir.notna() & q.yct.notna() & q.ycr.notna() & (q.cj > q[["t", "r"]].max(axis=1) + 1)]
        d2, used = 0.0, 0
        for mk in [x for x in match if x != k] or [-2]:  # never the year estimated; else the starting year
            zi, zc = _lookup(z, q.urn, q.g + mk), _lookup(z, q.c, q.g + mk)
            d2 = d2 + ((zi - zc) ** 2).fillna(0.0)
            used = used + (zi.notna() & zc.notna()).astype(int)
        q["dist"] = (d2 / used).where(used > 0, np.inf)
        q = q.sort_values(["urn", "dist", "c"])
        q = q[q.groupby("urn").cumcount() < m]
        q["dc"] = q.yct - q.ycr
        s = q.groupby("urn").agg(n=("dc", "size"), dc=("dc", "mean"), yit=("yit", "first"), yir=("yir", "first"))
        s = s[s.n >= min_c]
        s["att"] = (s.yit - s.yir) - s.dc
        s["k"] = k
        s["w"] = [panel.set_index(["urn", "year"]).weight.get((u, joins[u] + k)) for u in s.index]
        out.append(s.reset_index()[["urn", "k", "att", "w"]])
    per = pd.concat(out)
    rows = []
    for k, grp in per.groupby("k"):
        w, x = grp.w.to_numpy(), grp.att.to_numpy()
        theta = (w * x).sum() / w.sum()
        n = len(x)
        se = np.sqrt(n / (n - 1) * (((w * (x - theta)) / w.sum()) ** 2).sum())
        rows.append((k, theta, se, n))
    return per, pd.DataFrame(rows, columns=["k", "estimate", "se", "n"]).set_index("k")


@pytest.mark.parametrize("match", [(-3,), (-3, -2)])
def test_equals_an_independent_computation(match: tuple[int, ...]) -> None:
    """A random panel with holes (10% of values missing, and values planted in 2019 and 2020 that must be ignored),
    families of 25 matched down to 10 by the pre-join years: every ATT_i(k) and pooled estimate and se equal the
    pandas computation above to 1e-9."""
    panel, joins, cands, first = world(3, effect=1.0, schools=300, treated=60, family=25)
    rng = np.random.default_rng(5)
    panel.loc[rng.random(len(panel)) < 0.10, "value"] = np.nan
    per, pooled = independent(panel, joins, cands, first, match=match)
    r = estimate_impact(panel, joins, cands, first, match_years=match)
    mine = {(s.urn, k): a for s in r.per_school for k, a in s.att.items()}
    theirs = {(int(u), int(k)): a for u, k, a in zip(per.urn, per.k, per.att, strict=True)}
    assert mine.keys() == theirs.keys() and len(mine) > 150
    assert all(abs(mine[key] - theirs[key]) < 1e-9 for key in mine)
    for p in r.points:
        if p.k == -2:
            continue
        assert p.schools == pooled.n[p.k]
        assert (p.estimate if p.shown else None) == (pytest.approx(pooled.estimate[p.k], abs=1e-9) if p.shown else None)
        if p.shown:
            assert p.se == pytest.approx(pooled.se[p.k], abs=1e-9)
            t = stats.t.ppf(0.975, p.schools - 1)
            assert p.low == pytest.approx(pooled.estimate[p.k] - t * pooled.se[p.k], abs=1e-9)


def test_too_few_schools_show_nothing() -> None:
    """4 treated schools (the minimum is 5): no event point, no after effect, and the words say why."""
    panel, joins, cands, first = world(2, effect=2.0, treated=4)
    r = estimate_impact(panel, joins, cands, first)
    assert [p.k for p in r.points if p.shown] == [-2]  # only the starting point, which is 0 by definition
    assert not r.after.shown and np.isnan(r.after.estimate)
    assert r.after.schools == 4
    assert "4 schools" in r.after.reason and "at least 5 are needed" in r.after.reason
    assert r.verdict == "not checked"
    assert sentence(r, "Attainment 8", "points", "higher_better").startswith("There are too few schools to say")


def test_missing_years_are_left_out() -> None:
    """2019 and 2020 have no results: values planted there change nothing; a school joining in 2022 (k = −2 is
    2020) and one joining in 2021 (k = −2 is 2019) are left out and listed; no school's ATT sits in 2019/2020."""
    panel, joins, cands, first = world(4, effect=2.0)
    movers = list(joins)[:2]
    joins = {**joins, movers[0]: 2022, movers[1]: 2021}
    first = {**first, movers[0]: 2022.0, movers[1]: 2021.0}
    clean = panel[~panel.year.isin([2019, 2020])]
    garbage = panel.copy()
    garbage.loc[garbage.year.isin([2019, 2020]), "value"] = 1e6
    a = estimate_impact(clean, joins, cands, first)
    b = estimate_impact(garbage, joins, cands, first)
    assert [(p.estimate, p.se, p.schools) for p in a.points] == [(p.estimate, p.se, p.schools) for p in b.points]
    gone = {(lo.urn, lo.joined) for lo in a.left_out}
    assert {(movers[0], 2022), (movers[1], 2021)} <= gone and {g for _, g in gone} == {2021, 2022}
    assert len(gone) == sum(g in (2021, 2022) for g in joins.values())
    assert "2020/21" in next(lo.reason for lo in a.left_out if lo.urn == movers[0])
    assert all(s.joined + k not in (2019, 2020) for s in a.per_school for k in s.att)
    assert len(a.per_school) == len(joins) - len(gone)
    assert a.after.schools == sum(not np.isnan(s.att_after) for s in a.per_school)
    assert any("2019/20 and 2020/21" in c for c in a.caveats)
    assert any(f"{len(gone)} schools are left out" in c for c in a.caveats)


def test_absence_polarity_and_no_clear_difference() -> None:
    """Lower is better: a planted fall in absence reads "fell … (better)"; no effect reads "no clear difference"."""
    panel, joins, cands, first = world(8, effect=-2.0)
    r = estimate_impact(panel, joins, cands, first)
    words = sentence(r, "overall absence", "percentage points", Polarity.LOWER_BETTER)
    assert "overall absence fell by " in words and "(better)" in words
    panel, joins, cands, first = world(9, effect=0.0)
    r = estimate_impact(panel, joins, cands, first)
    if r.after.low <= 0 <= r.after.high:
        assert "no clear difference" in sentence(r, "Attainment 8", "points", Polarity.HIGHER_BETTER)


def test_unknown_pupils_borrow_the_nearest_year() -> None:
    """School 2's pupils unknown in 2017: its k = 0 weight is 2016's (earlier on a tie with 2018), and counted."""
    df = tiny()
    df.loc[(df.urn == 2) & (df.year == 2017), "weight"] = np.nan
    df.loc[(df.urn == 2) & (df.year == 2016), "weight"] = 500
    r = estimate_impact(df, {1: 2016, 2: 2017}, {1: [11, 12, 13, 14], 2: [11, 12, 13, 14]}, {14: 2017},
                        min_schools=2)
    assert r.point(0).estimate == pytest.approx((100 * 8 / 3 + 500 * 2) / 600)
    assert r.point(0).borrowed == 1 and r.point(0).pupils == 600
    assert any("nearest year" in c for c in r.caveats)


def test_speed_sixty_schools_against_a_national_panel() -> None:
    """60 treated schools, families of 30, against 24,000 schools × 12 years (every one with a join year or
    none): the estimate on a prepared panel well under a second; printed for the report."""
    rng = np.random.default_rng(1)
    n, years = 24000, np.arange(2013, 2025)
    urns = np.arange(100000, 100000 + n)
    long = pd.DataFrame({"urn": np.repeat(urns, len(years)), "year": np.tile(years, n)})
    long["value"] = np.repeat(rng.normal(50, 8, n), len(years)) + rng.normal(0, 2, len(long))
    long["weight"] = 150.0
    joins = {int(u): int(rng.integers(2015, 2024)) for u in urns[:60]}
    first = {**{int(u): float(g) for u, g in joins.items()},
             **{int(u): float(rng.integers(2014, 2030)) for u in urns[60:]}}
    cands = {u: [int(c) for c in rng.choice(urns[60:], 30, replace=False)] for u in joins}
    t0 = time.perf_counter()
    panel = prepare_panel(long)
    t1 = time.perf_counter()
    r = estimate_impact(panel, joins, cands, first)
    t2 = time.perf_counter()
    print(f"prepare_panel {1000 * (t1 - t0):.0f} ms, estimate_impact {1000 * (t2 - t1):.1f} ms")
    # joiners in 2021 and 2022 start in a year without results (2019/20, 2020/21): left out; the rest count
    assert r.after.schools == sum(g not in (2021, 2022) for g in joins.values())
    assert t2 - t1 < 0.5


def test_no_pupil_numbers_are_never_weighed_as_one() -> None:
    """School 2 with no pupil numbers in any year: left out of every pooled figure (school 1 alone is below the
    minimum of 2), said in the reason and the caveats; with a minimum of 1 school the floor of 2 still holds."""
    df = tiny()
    df.loc[df.urn == 2, "weight"] = np.nan
    r = estimate_impact(df, {1: 2016, 2: 2017}, {1: [11, 12, 13, 14], 2: [11, 12, 13, 14]}, {14: 2017},
                        min_schools=1)
    assert (r.point(0).schools, r.point(0).no_pupils, r.point(0).shown) == (1, 1, False)
    assert "at least 2 are needed (1 more have no pupil numbers in any year)" in r.point(0).reason
    assert any("1 school has no pupil numbers in any year" in c for c in r.caveats)


def test_a_treated_school_is_a_comparison_only_before_it_joins() -> None:
    """School 2 (joins 2017) as one of school 1's candidates, though first_joined leaves it out: it counts at
    k = −1 (2015: its change from 2014 is 42 − 41 = +1, so ATT₁(−1) = −1 − (1 + 1 − 1 + 1)/4 = −1.5) but not at
    k = +1 (2017, joined), where ATT₁(+1) stays 5 − 7/3 (as a never-joined school it would be 5 − 12/4 = 2)."""
    r = estimate_impact(tiny(), {1: 2016, 2: 2017}, {1: [2, 11, 12, 13], 2: [11, 12, 13, 14]}, {14: 2017},
                        min_schools=2)
    assert r.per_school[0].att[-1] == pytest.approx(-1.5)
    assert r.per_school[0].att[1] == pytest.approx(8 / 3)


def test_event_rows_are_the_numbers_behind_the_chart() -> None:
    """The tiny panel's rows: one per event time and the pooled one, not-shown numbers as None (never NaN)."""
    rows = event_rows(tiny_result())
    assert [r["k"] for r in rows] == [-3, -2, -1, 0, 1, 2, 3, 4, None]
    by_k = {r["k"]: r for r in rows}
    assert by_k[0]["estimate"] == pytest.approx(13 / 6) and by_k[0]["schools"] == 2 and by_k[0]["pupils"] == 400
    assert by_k[-1]["label"] == "1 year before joining (dip year, not used in the check)"
    assert by_k[-2]["label"] == "2 years before joining (starting point)"
    assert by_k[None]["label"] == "the three years after joining (pooled)"
    assert by_k[None]["estimate"] == pytest.approx(59 / 24)
    assert by_k[3]["estimate"] is None and by_k[3]["shown"] is False and by_k[3]["schools"] == 0


def test_matching_on_levels_and_weaker_joiners() -> None:
    """Joiners 16 points (2 sd) below their families, no effect, 60 seeds: matching on k = −3 and −2 (the default)
    picks comparisons whose k = −2 was low partly by chance, and their recovery biases the after effect down (mean
    −0.32 when written); matching on k = −3 alone (its noise is not the starting year's) does not (mean −0.08,
    as with no gap). Both intervals still held zero in 55 and 57 of the 60."""
    means = {}
    for years in ((-3, -2), (-3,)):
        est = []
        for seed in range(60):
            panel, joins, cands, first = world(seed, schools=300, treated=40, family=30)
            panel.loc[panel.urn.isin(list(joins)), "value"] -= 16.0
            est.append(estimate_impact(panel, joins, cands, first, match_years=years).after.estimate)
        means[years] = float(np.mean(est))
    assert means[(-3, -2)] < -0.2
    assert abs(means[(-3,)]) < 0.2
