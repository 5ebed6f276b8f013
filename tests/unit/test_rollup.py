"""Hand-computed group roll-ups (docs/method.md, "Group roll-up")."""

from __future__ import annotations

import pytest

from metrics.registry import load_registry
from metrics.rollup import national_scopes, rollup
from metrics.scorecard import pick_national

REG = load_registry()


def obs(urn, value, num=None, den=None, status="ok", measure="basics_94", period="2018/19"):
    return {"urn": urn, "measure": measure, "period": period, "value": value, "numerator": num,
            "denominator": den, "status": status}


def test_pooled_rate_is_sum_num_over_sum_den_not_mean_of_rates():
    # 30 of 100 pupils (30%) and 9 of 10 pupils (90%): pooled 39/110 = 35.45%, the mean of rates would be 60%
    g = rollup(REG.get("basics_94"), [obs(1, 30.0, 30, 100), obs(2, 90.0, 9, 10)])
    assert g.value == pytest.approx(39 / 110 * 100)
    assert g.value != pytest.approx(60.0)
    assert g.cohort == 110
    assert (g.schools_reporting, g.schools_total) == (2, 2)
    assert g.method.startswith("pooled")


def test_progress8_group_value_is_cohort_weighted_mean():
    # P8 +0.50 with 200 pupils and -0.40 with 50 pupils: (0.5*200 - 0.4*50) / 250 = 0.32
    rows = [obs(1, 0.5, 0.5 * 200, 200, measure="progress8"), obs(2, -0.4, -0.4 * 50, 50, measure="progress8")]
    g = rollup(REG.get("progress8"), rows)
    assert g.value == pytest.approx(0.32)
    assert g.method == "cohort-weighted mean of schools' values"


def test_suppressed_members_do_not_contribute_but_are_counted():
    rows = [obs(1, 50.0, 50, 100), obs(2, None, None, None, status="suppressed")]
    g = rollup(REG.get("basics_94"), rows)
    assert g.value == pytest.approx(50.0)
    assert (g.schools_reporting, g.schools_total) == (1, 2)


def test_all_suppressed_gives_no_value_and_that_status():
    rows = [obs(1, None, status="suppressed"), obs(2, None, status="suppressed"), obs(3, None, status="missing")]
    g = rollup(REG.get("basics_94"), rows)
    assert g.value is None and g.status.value == "suppressed" and g.schools_reporting == 0


def test_sum_rollup_for_counts():
    g = rollup(REG.get("pupils"), [obs(1, 210.0, measure="pupils"), obs(2, 1043.0, measure="pupils")])
    assert g.value == 1253.0


def test_rates_without_cohort_are_weighted_by_pupils_when_known():
    # absence 4% in a school of 100 pupils and 10% in a school of 300: (4*100 + 10*300) / 400 = 8.5
    rows = [obs(1, 4.0, measure="overall_absence"), obs(2, 10.0, measure="overall_absence")]
    g = rollup(REG.get("overall_absence"), rows, weights={1: 100, 2: 300})
    assert g.value == pytest.approx(8.5)
    assert g.method == "mean weighted by pupils on roll"
    plain = rollup(REG.get("overall_absence"), rows)
    assert plain.value == pytest.approx(7.0)
    assert plain.method.startswith("unweighted mean")


def test_national_picks_phase_row_then_state_funded_then_all():
    m = REG.get("overall_absence")
    assert national_scopes("primary", m) == ["primary", "state_funded", "all"]
    bench = [
        {"measure": "overall_absence", "period": "2018/19", "scope": "primary", "value": 4.0},
        {"measure": "overall_absence", "period": "2018/19", "scope": "state_funded", "value": 4.7},
        {"measure": "progress8", "period": "2018/19", "scope": "all", "value": None},
        {"measure": "progress8", "period": "2018/19", "scope": "state_funded", "value": -0.03},
    ]
    assert pick_national(bench, m, "2018/19", "primary") == (4.0, "primary")
    assert pick_national(bench, m, "2018/19", "secondary") == (4.7, "state_funded")
    assert pick_national(bench, REG.get("progress8"), "2018/19", "secondary") == (-0.03, "state_funded")
    assert pick_national(bench, m, "2017/18", "primary") == (None, None)


