"""The scorecard engine on hand-computed cases: intervals, levels, flags, percentiles, group roll-ups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics.registry import load_registry
from metrics.scorecard import (
    LEVELS,
    Subject,
    build_group_scorecard,
    build_school_scorecard,
    dfe_trust_value,
    encode_rows,
    interval,
    level_of,
    percentile_in,
    significance,
    target_met,
    wilson,
)

REG = load_registry()
P = ["2016/17", "2017/18", "2018/19"]
OBS_COLS = ["urn", "measure", "period", "value", "numerator", "denominator", "ci_low", "ci_high", "status",
            "status_code"]
STAT_COLS = ["urn", "measure", "period", "phase", "percentile", "n_compared", "se", "expected", "residual",
             "family_median", "family_rank", "family_size"]


def test_wilson_interval_by_hand():
    # 8 of 10: centre (0.8 + 1.92/10)/(1 + 3.84/10) = 0.7168; half 1.96*sqrt(0.016 + 0.00096)/1.384 = 0.1844
    lo, hi = wilson(8, 10)
    assert (lo, hi) == (pytest.approx(49.02, abs=0.05), pytest.approx(94.33, abs=0.05))


def test_interval_prefers_the_published_ci_then_wilson_then_normal():
    assert interval(REG.get("progress8"), 0.14, 16.2, 116, -0.09, 0.38) == (-0.09, 0.38, "published")
    lo, hi, how = interval(REG.get("basics_94"), 80.0, 8, 10, None, None)
    assert how == "wilson" and lo == pytest.approx(49.02, abs=0.05)
    lo, hi, how = interval(REG.get("attainment8"), 50.0, 50 * 100, 100, None, None)
    assert how == "normal" and (lo, hi) == (pytest.approx(50 - 1.96 * 1.9, abs=0.01),
                                            pytest.approx(50 + 1.96 * 1.9, abs=0.01))  # sd 19 / sqrt(100)
    assert interval(REG.get("overall_absence"), 4.0, None, None, None, None) == (None, None, None)


def test_significance_against_national():
    assert significance(-0.03, 0.05, 0.4) == "above"
    assert significance(64.4, 49.0, 60.0) == "below"
    assert significance(-0.03, -0.09, 0.38) == "in line"
    assert significance(None, 1, 2) is None


@pytest.mark.parametrize("now,before,level", [
    (10, None, 1), (10, 30, 1), (10, 0, 2),       # bottom fifth; improving lifts it one level
    (50, 50, 3), (50, 30, 4), (50, 70, 2),        # middle: steady, improving, declining
    (90, 90, 5), (90, 70, 5), (90, 75, 5), (85, 99, 4),  # top fifth; a 14-point fall drops one level
    (39.9, 39.9, 2), (40, 40, 3), (100, None, 5), (None, 50, None),
])
def test_levels_grid(now, before, level):
    assert level_of(now, before) == level


def test_level_words():
    assert LEVELS == ("Cause for concern", "Needs attention", "Steady", "Good", "Strong")


def test_percentile_of_a_value_in_national_quantiles():
    q = [float(i) for i in range(101)]  # 0..100: percentile equals value
    assert percentile_in(q, 37.5) == pytest.approx(37.5)
    assert percentile_in(q, -5) == 0.0 and percentile_in(q, 500) == 100.0
    tied = [float(i) for i in range(50)] + [50.0] * 11 + [float(i) for i in range(51, 91)]
    assert percentile_in(tied, 50.0) == pytest.approx(55.0)  # the middle of the 50th..60th cut points
    assert percentile_in(None, 3) is None


def test_target_met_follows_polarity():
    assert target_met(REG.get("basics_94"), 65.0, 60.0) is True
    assert target_met(REG.get("overall_absence"), 4.5, 4.0) is False
    assert target_met(REG.get("overall_absence"), 3.9, 4.0) is True
    assert target_met(REG.get("pupils"), 300, 200) is None  # context measures are not judged
    assert target_met(REG.get("basics_94"), None, 60.0) is None


def _obs(rows):
    return pd.DataFrame([dict(zip(OBS_COLS, r, strict=True)) for r in rows], columns=OBS_COLS)


def _stats(rows):
    return pd.DataFrame([dict(zip(STAT_COLS, r, strict=True)) for r in rows], columns=STAT_COLS)


def school_card(subject, measures, obs, stats, targets=None):
    codes = [m.id for m in measures]
    return build_school_scorecard(subject, "2018/19", P, measures, encode_rows(obs, stats, codes, P), codes, BENCH,
                                  targets)


BENCH = pd.DataFrame([
    {"level": "national", "scope": "state_funded", "measure": "basics_94", "period": p, "value": 64.4} for p in P
] + [{"level": "national", "scope": "state_funded", "measure": "progress8", "period": p, "value": -0.03} for p in P])


def test_school_flag_needs_significance_and_bottom_fifth():
    subject = Subject("school", 1, "Low School", "secondary", (1,))
    measures = [REG.get("basics_94"), REG.get("progress8")]
    obs = _obs([
        (1, "basics_94", "2018/19", 40.0, 80.0, 200.0, None, None, "ok", None),  # 40% of 200: clearly below 64.4
        (1, "progress8", "2018/19", -0.20, -20.0, 100.0, -0.45, 0.05, "ok", None),  # below, but CI spans national
    ])
    stats = _stats([
        (1, "basics_94", "2018/19", "secondary", 8.0, 3000, 3.5, 55.0, -15.0, 60.0, 28, 31),
        (1, "progress8", "2018/19", "secondary", 15.0, 3000, 0.13, -0.1, -0.1, 0.0, 25, 31),
    ])
    card = school_card(subject, measures, obs, stats, {"basics_94": 50.0})
    basics, p8 = card.rows
    assert basics.flag and basics.flag_reasons == (
        "significantly below national (40.0% against 64.4%)",
        "in the bottom fifth of secondary schools nationally (better than only 8% of them)",
    )
    assert basics.significance == "below" and basics.uncertainty == "wilson"
    # one year only: the level is this year's position alone, and says so (issue 11 point 7)
    assert basics.level == 1 and basics.level_label == "Cause for concern (this year only: no earlier year to compare)"
    assert (basics.target, basics.target_met) == (50.0, False)
    assert (basics.family_median, basics.family_rank, basics.family_size) == (60.0, 28, 31)
    assert (basics.expected, basics.residual) == (55.0, -15.0)
    # P8 is in the bottom fifth too, but not significantly below: no flag
    assert not p8.flag and p8.significance == "in line" and p8.flag_reasons == ()


def test_small_cohort_is_insufficient_data_not_a_failure():
    subject = Subject("school", 2, "Tiny School", "primary", (2,))
    obs = _obs([(2, "basics_94", "2018/19", 0.0, 0.0, 4.0, None, None, "ok", None)])
    stats = _stats([(2, "basics_94", "2018/19", "primary", 1.0, 3000, None, None, None, None, None, None)])
    row = school_card(subject, [REG.get("basics_94")], obs, stats).rows[0]
    assert row.level is None and row.level_label == "Insufficient data" and not row.flag


def _declining_school(measures):
    """Three years, each measure falling 30 -> 20 -> 5 percentile points, while still above national
    (so only the decline rule can flag it)."""
    obs, stats = [], []
    for m in measures:
        for p, v, pct in zip(P, [90.0, 85.0, 80.0], [30.0, 20.0, 5.0], strict=True):
            obs.append((3, m, p, v, v, 100.0, None, None, "ok", None))
            stats.append((3, m, p, "secondary", pct, 3000, None, None, None, None, None, None))
    return _obs(obs), _stats(stats)


def test_decline_flag_needs_several_measures():
    subject = Subject("school", 3, "Slipping School", "secondary", (3,))
    three = ["basics_94", "basics_95", "ebacc_entry"]
    obs, stats = _declining_school(three)
    rows = school_card(subject, [REG.get(m) for m in three], obs, stats).rows
    assert all(r.flag for r in rows)
    assert rows[0].flag_reasons == ("worse for two years running (90.0% → 85.0% → 80.0%), one of 3 measures declining",)
    assert [t.value for t in rows[0].trend] == [90.0, 85.0, 80.0] and rows[0].change == -5.0
    two = three[:2]
    obs, stats = _declining_school(two)
    rows = school_card(subject, [REG.get(m) for m in two], obs, stats).rows
    assert not any(r.flag for r in rows)  # declining on two measures only: not "several"


def test_group_card_pools_rates_and_weights_progress8():
    subject = Subject("group", 9, "Two Schools", None, (1, 2), "partnership")
    obs = _obs([
        (1, "basics_94", "2018/19", 30.0, 30.0, 100.0, None, None, "ok", None),
        (2, "basics_94", "2018/19", 90.0, 9.0, 10.0, None, None, "ok", None),
        (1, "progress8", "2018/19", 0.5, 100.0, 200.0, 0.3, 0.7, "ok", None),
        (2, "progress8", "2018/19", -0.4, -20.0, 50.0, -0.8, 0.0, "ok", None),
        (1, "basics_94", "2017/18", 40.0, 40.0, 100.0, None, None, "ok", None),
        (2, "basics_94", "2017/18", None, None, None, None, "SUPP", "suppressed", "SUPP"),
    ])
    stats = _stats([
        (1, "progress8", "2018/19", "secondary", 80.0, 3000, 0.1, 0.2, 0.3, None, None, None),
        (2, "progress8", "2018/19", "secondary", 20.0, 3000, 0.2, 0.0, -0.4, None, None, None),
    ])
    quantiles = {("basics_94", "2018/19", "secondary"): [float(i) for i in range(101)],
                 ("basics_94", "2017/18", "secondary"): [float(i) for i in range(101)]}
    codes = ["basics_94", "progress8", "pupils"]
    card = build_group_scorecard(subject, "2018/19", P, [REG.get("basics_94"), REG.get("progress8")],
                                 encode_rows(obs, stats, codes, P), codes, BENCH, quantiles, {1: "Alpha", 2: "Beta"})
    basics, p8 = card.rows
    assert basics.value == pytest.approx(39 / 110 * 100)  # pooled, not (30 + 90) / 2
    assert basics.percentile == pytest.approx(39 / 110 * 100)  # quantiles 0..100: percentile = value
    assert [t.value for t in basics.trend] == [None, 40.0, pytest.approx(35.4545, rel=1e-4)]
    assert basics.change == pytest.approx(39 / 110 * 100 - 40.0)
    assert basics.spread.min == 30.0 and basics.spread.max == 90.0 and basics.spread.median == 60.0
    assert basics.below_national == 1  # 30% is below 64.4%; 90% is not
    assert basics.member_values == ((1, 30.0, "ok"), (2, 90.0, "ok"))
    assert p8.value == pytest.approx(0.32)  # (0.5*200 - 0.4*50) / 250
    assert p8.expected == pytest.approx((0.2 * 200 + 0.0 * 50) / 250)
    # combined interval: se = sqrt((200*0.1)^2 + (50*0.2)^2) / 250 = 0.08944
    assert (p8.ci_high - p8.value) == pytest.approx(1.959964 * 0.089443, rel=1e-4)
    assert card.members == ((1, "Alpha"), (2, "Beta"))
    assert card.below_national_any == 2  # Alpha is below on basics, Beta on P8


def test_dfe_trust_method_by_hand():
    m = REG.get("progress8")
    urns, values = np.array([1, 2, 3, 4]), np.array([0.5, -0.4, 0.1, 1.0])
    dens, ok = np.array([100.0, 50.0, 200.0, 80.0]), np.array([True] * 4)
    years = {1: 3, 2: 7, 3: 4, 4: 1}  # school 4 joined last year: left out; 7 years counts as 5
    value, how = dfe_trust_value(m, urns, values, dens, ok, years)
    expected = (0.5 * 100 * 3 - 0.4 * 50 * 5 + 0.1 * 200 * 4) / (100 * 3 + 50 * 5 + 200 * 4)
    assert value == pytest.approx(expected)
    assert how.startswith("DfE trust method: 3 schools")
    value, how = dfe_trust_value(m, urns, values, dens, ok, {1: 3, 2: 2, 3: 4, 4: 1})
    assert value is None and "needs 3" in how


def test_without_a_level_the_card_says_why():
    subject = Subject("school", 4, "Quiet School", "secondary", (4,))
    obs = _obs([
        (4, "progress8", "2018/19", None, None, None, None, None, "not_applicable", "NA"),
        (4, "basics_94", "2018/19", None, None, None, None, None, "suppressed", "SUPP"),
    ])
    rows = school_card(subject, [REG.get("progress8"), REG.get("basics_94"), REG.get("attainment8"),
                                 REG.get("pupils")], obs, None).rows
    assert [r.level_label for r in rows] == [
        "Not applicable (not published or no entries)", "Suppressed (too few pupils to publish)", "No data",
        "Context (not judged)"]
    assert [r.status for r in rows] == ["not_applicable", "suppressed", "missing", "missing"]


def test_member_levels_follow_each_schools_own_percentile_and_change():
    subject = Subject("group", 9, "Two Schools", None, (1, 2), "partnership")
    obs = _obs([
        (1, "basics_94", "2017/18", 50.0, 50.0, 100.0, None, None, "ok", None),
        (1, "basics_94", "2018/19", 60.0, 60.0, 100.0, None, None, "ok", None),
        (2, "basics_94", "2018/19", 60.0, 3.0, 5.0, None, None, "ok", None),  # cohort 5: too small for a level
    ])
    stats = _stats([
        (1, "basics_94", "2017/18", "secondary", 30.0, 3000, None, None, None, None, None, None),
        (1, "basics_94", "2018/19", "secondary", 50.0, 3000, None, None, None, None, None, None),
        (2, "basics_94", "2018/19", "secondary", 50.0, 3000, None, None, None, None, None, None),
    ])
    codes = ["basics_94", "pupils"]
    card = build_group_scorecard(subject, "2018/19", P, [REG.get("basics_94")], encode_rows(obs, stats, codes, P),
                                 codes, BENCH, {}, {1: "Alpha", 2: "Beta"})
    assert card.member_levels == {(1, "basics_94"): 4, (2, "basics_94"): None}  # 50th, up 20 points: Good


def test_plain_language_sentence_for_a_measure():
    from metrics.sentences import describe

    subject = Subject("school", 1, "Low School", "secondary", (1,))
    obs = _obs([(1, "basics_94", "2017/18", 45.0, 90.0, 200.0, None, None, "ok", None),
                (1, "basics_94", "2018/19", 40.0, 80.0, 200.0, None, None, "ok", None),
                (1, "progress8", "2018/19", None, None, None, None, None, "suppressed", "SUPP")])
    stats = _stats([(1, "basics_94", "2017/18", "secondary", 12.0, 3000, 3.5, 56.0, -11.0, 61.0, 27, 31),
                    (1, "basics_94", "2018/19", "secondary", 8.0, 3000, 3.5, 55.0, -15.0, 60.0, 28, 31)])
    basics, p8 = school_card(subject, [REG.get("basics_94"), REG.get("progress8")], obs, stats,
                             {"basics_94": 50.0}).rows
    assert describe(basics, REG.get("basics_94")) == (
        "Grade 4+ in English and maths was 40.0%, clearly below the national 64.4%. Schools with a similar intake "
        "typically reach 55.0%. Among 31 similar schools it ranks 28 (their middle value is 60.0%). Better than 8% "
        "of schools nationally. Down 5.0 points on last year (worse). Level: Cause for concern. Target 50.0%: not met.")
    assert describe(p8, REG.get("progress8")) == (
        "Progress 8 is not published because too few pupils were included (fewer than 6).")
