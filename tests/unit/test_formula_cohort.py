"""Issue 9 point 1 by hand: a formula measure rests on no more pupils than its smallest input (docs/method.md,
"Publication and suppression", the formula example), on staff scorecards and in what parents see."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from metrics.registry import load_registry
from metrics.scorecard import INSUFFICIENT, Subject, build_group_scorecard, build_school_scorecard, encode_rows
from metrics.suppression import SECONDARY, Cell, suppress

REG = load_registry()
P = ["2016/17", "2017/18", "2018/19"]
OBS_COLS = ["urn", "measure", "period", "value", "numerator", "denominator", "ci_low", "ci_high", "status",
            "status_code"]
BASICS, P8 = REG.get("basics_94"), REG.get("progress8")
AGAIN = replace(BASICS, id="basics_again", label="Basics again", owner="9", formula="basics_94 * 1")
MIXED = replace(P8, id="mixed", label="Mixed", owner="9", formula="basics_94 / 100 + progress8")


def _obs(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(OBS_COLS, r, strict=True)) for r in rows], columns=OBS_COLS)


def test_a_schools_formula_has_its_smallest_inputs_cohort_and_says_insufficient_data() -> None:
    # basics 3 of 4 pupils (75%); Progress 8 over 30 pupils: `mixed` uses both, so it rests on 4 pupils
    obs = _obs([(1, "basics_94", "2018/19", 75.0, 3.0, 4.0, None, None, "ok", None),
                (1, "progress8", "2018/19", 0.2, 6.0, 30.0, None, None, "ok", None)])
    codes = ["basics_94", "progress8"]
    card = build_school_scorecard(Subject("school", 1, "A", "secondary"), "2018/19", P, [BASICS, AGAIN, MIXED],
                                  encode_rows(obs, None, codes, P), codes, {}, inputs={m.id: m for m in (BASICS, P8)})
    basics, again, mixed = card.rows
    assert (basics.cohort, again.cohort, mixed.cohort) == (4.0, 4.0, 4.0)
    assert again.value == 75.0 and mixed.value == pytest.approx(0.95)
    assert again.level_label == INSUFFICIENT and mixed.level_label == INSUFFICIENT


def test_a_groups_formula_has_its_smallest_inputs_pooled_cohort() -> None:
    # basics pooled over 30 + 4 = 34 pupils, Progress 8 over 200 + 50 = 250: `mixed` rests on 34
    obs = _obs([(1, "basics_94", "2018/19", 60.0, 18.0, 30.0, None, None, "ok", None),
                (2, "basics_94", "2018/19", 75.0, 3.0, 4.0, None, None, "ok", None),
                (1, "progress8", "2018/19", 0.5, 100.0, 200.0, None, None, "ok", None),
                (2, "progress8", "2018/19", -0.4, -20.0, 50.0, None, None, "ok", None)])
    codes = ["basics_94", "progress8", "pupils"]
    card = build_group_scorecard(Subject("group", 9, "Two", None, (1, 2), "partnership"), "2018/19", P,
                                 [AGAIN, MIXED], encode_rows(obs, None, codes, P), codes, {}, {}, {1: "A", 2: "B"},
                                 inputs={m.id: m for m in (BASICS, P8)})
    again, mixed = card.rows
    assert again.value == pytest.approx(21 / 34 * 100) and again.cohort == 34.0
    assert mixed.cohort == 34.0


def test_the_formula_example_in_the_method() -> None:
    """mentoring_pct = mentoring * 1 over A 18 of 30, B 3 of 4, C 10 of 25, D 9 of 12 (minimum 6). The formula's
    cells have their input's denominators, so it hides B (4 pupils) like the input does; and it hides D too,
    because the input hides D (secondary), whatever the formula's own rule would choose."""
    data = {"A": (18, 30), "B": (3, 4), "C": (10, 25), "D": (9, 12)}
    mentoring = suppress([Cell(k, n, d) for k, (n, d) in data.items()], 6)
    assert mentoring.hidden == {"B": "fewer than 6 pupils", "D": SECONDARY}
    # the formula's cells: value x (smallest input denominator) / 100, the smallest input denominator
    formula = [Cell(k, n / d * 100 * d / 100, d) for k, (n, d) in data.items()]
    s = suppress(formula, 6, inherited=mentoring.hidden)
    assert s.hidden == mentoring.hidden and s.total_hidden is None
    # had the formula been weighed by pupils on roll (A 300, B 120, C 250, D 200), nothing would be hidden
    assert suppress([Cell(k, n / d * w, w) for (k, (n, d)), w in zip(data.items(), (300, 120, 250, 200),
                                                                      strict=True)], 6).hidden == {}
