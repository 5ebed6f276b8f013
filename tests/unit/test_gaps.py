"""The disadvantage gap (metrics/gaps.py) against hand computations (docs/method.md, "The disadvantage gap")."""

from __future__ import annotations

import math

import pytest

from metrics.gaps import (
    DISADVANTAGED,
    OTHERS,
    GroupValue,
    change_since,
    gap_of,
    gap_sentence,
    member_gaps,
    pool,
    widening_flag,
)
from metrics.registry import load_registry

REG = load_registry()
A8 = REG.get("attainment8")  # a cohort-weighted mean with a pupil-level sd of 19
RWM = REG.get("ks2_rwm_expected")  # a pooled rate, Wilson
P8 = REG.get("progress8")  # no value for 2024/25 and 2025/26 (DfE's gap)


def row(urn: int, value: float | None, num: float | None, den: float | None, status: str = "ok", **ci: float) -> dict:
    return dict(urn=urn, value=value, numerator=num, denominator=den, status=status, **ci)


# Two schools. A: disadvantaged Attainment 8 36.4 over 50 pupils, others 48.0 over 150. B: disadvantaged 30.0 over
# 10, others 50.0 over 40. England: non-disadvantaged pupils 50.3, disadvantaged 34.9.
DIS = [row(1, 36.4, 1820, 50), row(2, 30.0, 300, 10)]
OTH = [row(1, 48.0, 7200, 150), row(2, 50.0, 2000, 40)]


def test_group_gap_pools_pupils_and_compares_with_non_disadvantaged_pupils_nationally() -> None:
    dis = pool(A8, DISADVANTAGED, "2023/24", DIS)
    # (1,820 + 300) / 60 = 35.333, never the mean of 36.4 and 30.0 (33.2)
    assert dis.value == pytest.approx(2120 / 60) and dis.cohort == 60 and dis.schools == 2
    # se: sqrt((50 x 19/sqrt 50)^2 + (10 x 19/sqrt 10)^2) / 60 = 19 / sqrt 60 = 2.4529; +-1.96 se = 4.8076
    assert dis.ci_low == pytest.approx(35.3333 - 4.8076, abs=1e-3)
    assert dis.ci_high == pytest.approx(35.3333 + 4.8076, abs=1e-3)
    oth = pool(A8, OTHERS, "2023/24", OTH)
    assert oth.value == pytest.approx(9200 / 190)  # 48.421
    g = gap_of(A8, "2023/24", dis, oth, 50.3, 34.9)
    # gap = 35.333 - 50.3 = -14.967, interval moved by the national value: -19.774 to -10.159
    assert g.gap == pytest.approx(-14.9667, abs=1e-4)
    assert (g.gap_low, g.gap_high) == (pytest.approx(-19.7742, abs=1e-3), pytest.approx(-10.1591, abs=1e-3))
    # within: 35.333 - 48.421 = -13.088, +-1.96 x sqrt(2.4529^2 + (19/sqrt 190)^2) = +-1.96 x 2.8137 = 5.5149
    assert g.within == pytest.approx(-13.0877, abs=1e-4)
    assert g.within_high - g.within == pytest.approx(5.5149, abs=1e-3)


def test_a_rate_pools_counts_with_a_wilson_interval_and_leaves_out_values_without_cohorts() -> None:
    # 12 of 20 and 3 of 5 pool to 15 / 25 = 60%; Wilson 95%: centre (0.6 + 3.8415/50) / 1.15366 = 0.58668,
    # half-width 1.96 x sqrt(0.0096 + 0.0015366) / 1.15366 = 0.17929 -> 40.74% to 76.60%
    rows = [row(1, 60, 12, 20), row(2, 60, 3, 5), row(3, None, None, None, "suppressed"), row(4, 50, None, None)]
    g = pool(RWM, DISADVANTAGED, "2023/24", rows)
    assert g.value == pytest.approx(60.0) and g.cohort == 25
    assert (g.ci_low, g.ci_high) == (pytest.approx(40.739, abs=1e-2), pytest.approx(76.597, abs=1e-2))
    assert g.without_cohort == 1  # school 4's 50% has no cohort: counted, never averaged in
    none = pool(RWM, DISADVANTAGED, "2023/24", [row(3, None, None, None, "suppressed"), row(5, None, None, None,
                                                                                            "suppressed")])
    assert none.value is None and none.status == "suppressed"


def test_one_school_keeps_its_published_interval() -> None:
    g = pool(P8, DISADVANTAGED, "2022/23", [row(1, -0.45, -0.45 * 40, 40, ci_low=-0.80, ci_high=-0.10)])
    assert (g.value, g.ci_low, g.ci_high) == (pytest.approx(-0.45), -0.80, -0.10)


def _gap(period: str, value: float | None, cohort: float, national: float) -> object:
    se = 19 / math.sqrt(cohort)
    d = GroupValue(DISADVANTAGED, period, value, cohort, "ok" if value is not None else "missing",
                   None if value is None else value - 1.96 * se, None if value is None else value + 1.96 * se, 1)
    o = GroupValue(OTHERS, period, None, None, "missing")
    return gap_of(A8, period, d, o, national)


def test_change_narrowed_widened_and_significance() -> None:
    # 2022/23: 30.0 over 200 against 50.0 -> -20.0; 2023/24: 36.0 over 200 against 50.0 -> -14.0: narrowed by 6.0,
    # beyond 1.96 x sqrt(2 x 19^2/200) = 3.72 (significant)
    trend = [_gap("2022/23", 30.0, 200, 50.0), _gap("2023/24", 36.0, 200, 50.0)]
    ch = change_since(A8, trend, 1)
    assert (ch.since, ch.before, ch.direction, ch.significant) == ("2022/23", pytest.approx(-20.0), "narrowed", True)
    assert ch.change == pytest.approx(6.0)
    # widened by 2.0 only: not significant, so no flag
    small = [_gap("2022/23", 30.0, 200, 50.0), _gap("2023/24", 28.0, 200, 50.0)]
    assert change_since(A8, small, 1).direction == "widened" and not change_since(A8, small, 1).significant
    assert widening_flag(A8, small) is None
    big = [_gap("2022/23", 36.0, 200, 50.0), _gap("2023/24", 30.0, 200, 50.0)]
    said = widening_flag(A8, big)
    assert said == ("Attainment 8: the disadvantage gap widened from −14.0 to −20.0 points since 2022/23, more than "
                    "chance would explain")


def test_no_change_across_a_dfe_gap_year() -> None:
    d = GroupValue(DISADVANTAGED, "2023/24", -0.4, 50, "ok", -0.7, -0.1, 1)
    none = GroupValue(DISADVANTAGED, "2024/25", None, None, "not_applicable")
    o = GroupValue(OTHERS, "2023/24", None, None, "missing")
    trend = [gap_of(P8, "2023/24", d, o, 0.15), gap_of(P8, "2024/25", none, o, None)]
    ch = change_since(P8, trend, 1)
    assert ch.change is None and ch.direction is None and "no Progress 8 scores for 2024/25" in (ch.note or "")


def test_members_pulls_add_up_to_zero_and_say_who_narrows() -> None:
    import numpy as np

    from metrics.gaps import pool_arrays

    group = gap_of(A8, "2023/24", pool(A8, DISADVANTAGED, "2023/24", DIS), pool(A8, OTHERS, "2023/24", OTH), 50.3)
    # each member's disadvantaged pupils in 2022/23 (cell (u*2+0)*2) and 2023/24 (cell (u*2+1)*2): A 34.0 then
    # 36.4 (narrowed by 2.4: -16.0 to -13.9 against 50.0 then 50.3), B 30.0 both years
    key = np.array([2, 0, 6, 4])
    value = np.array([36.4, 34.0, 30.0, 30.0])
    den = np.array([50.0, 50.0, 10.0, 10.0])
    pooled = pool_arrays(A8, key, 8, np.zeros(4, dtype=np.int64), value, value * den, den, np.full(4, np.nan),
                         np.full(4, np.nan))
    mg = member_gaps(A8, group, [1, 2], {1: "A", 2: "B"}, pooled, ["2022/23", "2023/24"], (50.0, 50.3))
    # A: 50/60 x (-13.9 - -14.967) = +0.889 (narrows); B: 10/60 x (-20.3 - -14.967) = -0.889 (widens)
    assert [(m.urn, m.name, m.effect) for m in mg] == [(1, "A", "narrows"), (2, "B", "widens")]
    assert mg[0].pull == pytest.approx(50 / 60 * (-13.9 + 14.9667), abs=1e-3)
    assert sum(m.pull for m in mg) == pytest.approx(0.0, abs=1e-9)
    a = mg[0].change
    assert (a.since, a.direction) == ("2022/23", "narrowed") and a.change == pytest.approx(-13.9 - -16.0)
    # 2.1 points on 50 pupils a year: within chance (1.96 x sqrt(2) x 19/sqrt 50 = 7.45)
    assert not a.significant
    assert mg[1].change.direction == "widened" and mg[1].change.change == pytest.approx(-0.3)


def test_the_gap_in_plain_words() -> None:
    now, then = _gap("2024/25", 41.0, 300, 50.0), _gap("2022/23", 38.0, 300, 50.0)
    trend = [then, _gap("2023/24", 40.0, 300, 50.0), now]
    said = gap_sentence(A8, "the partnership", now, change_since(A8, trend, 2))
    assert said == ("Disadvantaged pupils in the partnership scored on average 9.0 points below other pupils "
                    "nationally (Attainment 8: 41.0 against 50.0); in 2022/23 the gap was 12.0 points, so it has "
                    "narrowed.")


def test_members_in_a_store_with_one_year_have_no_change() -> None:
    import numpy as np

    from metrics.gaps import pool_arrays

    group = gap_of(A8, "2023/24", pool(A8, DISADVANTAGED, "2023/24", DIS), pool(A8, OTHERS, "2023/24", OTH), 50.3)
    key = np.array([0, 2])  # one year: member u's disadvantaged pupils at cell u * 2
    value, den = np.array([36.4, 30.0]), np.array([50.0, 10.0])
    pooled = pool_arrays(A8, key, 4, np.zeros(2, dtype=np.int64), value, value * den, den, np.full(2, np.nan),
                         np.full(2, np.nan))
    mg = member_gaps(A8, group, [1, 2], {}, pooled, ["2023/24"], (None, 50.3))
    assert [(m.urn, m.gap, m.change.change, m.change.note) for m in mg] == [
        (1, pytest.approx(-13.9), None, None), (2, pytest.approx(-20.3), None, None)]
