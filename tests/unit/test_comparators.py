"""Comparators the DfE's way, on hand-computed cases: Progress 8 bands against 0, a group's phase mix, special
schools with their own kind, no share over 100%, and phases the key stages say (issue 10, points 12-15)."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.comparators import (
    P8_BANDS,
    band_from_file,
    comparison_scopes,
    group_comparator,
    p8_band,
    pooling_words,
)
from metrics.registry import load_registry
from metrics.scorecard import Subject, applicable, build_group_scorecard, build_school_scorecard, encode_rows
from metrics.sentences import describe

REG = load_registry()
P = ["2016/17", "2017/18", "2018/19"]
NOW = "2018/19"
OBS_COLS = ["urn", "measure", "period", "value", "numerator", "denominator", "ci_low", "ci_high", "status",
            "status_code"]


def _obs(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(OBS_COLS, r, strict=True)) for r in rows], columns=OBS_COLS)


def _bench(rows: list[tuple[str, str, float]]) -> dict[tuple[str, str, str], float]:
    """(measure, scope, value) for this period -> the benchmark index the builders take."""
    return {(m, NOW, scope): v for m, scope, v in rows}


def _school(subject: Subject, measures: list[str], obs: pd.DataFrame, bench: dict):
    codes = list(measures)
    return build_school_scorecard(subject, NOW, P, [REG.get(m) for m in measures], encode_rows(obs, None, codes, P),
                                  codes, bench)


def _group(subject: Subject, measures: list[str], obs: pd.DataFrame, bench: dict):
    codes = [*measures, "pupils"] if "pupils" not in measures else list(measures)
    return build_group_scorecard(subject, NOW, P, [REG.get(m) for m in measures], encode_rows(obs, None, codes, P),
                                 codes, bench, {}, {u: f"School {u}" for u in subject.members})


# ------------------------------------------------------------------------------ point 12: Progress 8 bands


@pytest.mark.parametrize("score,lo,hi,band", [
    (0.50, 0.01, 0.99, "Well above average"),   # 0.5 or higher, lower limit above 0
    (0.49, 0.01, 0.97, "Above average"),        # above 0, under 0.5, lower limit above 0
    (0.24, 0.00, 0.48, "Average"),              # lower limit exactly 0: the interval includes 0
    (-0.30, -0.60, 0.00, "Average"),            # upper limit exactly 0: includes 0
    (0.90, -0.10, 1.90, "Average"),             # a high score with a wide interval is still average
    (-0.50, -0.90, -0.10, "Below average"),     # -0.5 or higher but under 0, upper limit below 0
    (-0.51, -0.90, -0.10, "Well below average"),  # lower than -0.5, upper limit below 0
    (0.30, None, None, None),                   # no interval: no band
])
def test_progress8_band_follows_dfe_rule(score, lo, hi, band):
    assert p8_band(score, lo, hi) == band


def test_band_as_the_files_give_it():
    # performance tables: P8_BANDING 1..5 (1 = well above); EES progress8_banding: DfE's words
    assert [band_from_file(c) for c in ("1", "2", "3", "4", "5")] == list(P8_BANDS)
    assert band_from_file("Well below average") == "Well below average"
    assert band_from_file(" above  AVERAGE ") == "Above average"
    assert [band_from_file(c) for c in ("SUPP", "NA", "z", "", None, "6")] == [None] * 6


def test_progress8_is_judged_against_zero_not_the_national_mean():
    """Two real North Yorkshire cases (815_2019_ks4provisional): URN 121681 scored +0.24 (0.00 to +0.48), DfE band
    3 'Average'; URN 121718 scored -0.29 (-0.56 to -0.02), band 4 'Below average'. Against the state-funded mean
    -0.03 the first looked 'above' and the second 'in line'."""
    bench = _bench([("progress8", "state_funded", -0.03)])
    a = _school(Subject("school", 1, "A", "secondary", (1,)), ["progress8"],
                _obs([(1, "progress8", NOW, 0.24, 25.68, 107.0, 0.0, 0.48, "ok", None)]), bench).rows[0]
    b = _school(Subject("school", 2, "B", "secondary", (2,)), ["progress8"],
                _obs([(2, "progress8", NOW, -0.29, -25.23, 87.0, -0.56, -0.02, "ok", None)]), bench).rows[0]
    assert (a.significance, a.band, a.national, a.comparator) == ("in line", "Average", -0.03,
                                                                   "national, state-funded schools")
    assert (b.significance, b.band, b.national) == ("below", "Below average", -0.03)


def test_the_sentence_gives_dfe_band_and_the_national_as_context():
    bench = _bench([("progress8", "state_funded", -0.03)])
    row = _school(Subject("school", 1, "A", "secondary", (1,)), ["progress8"],
                  _obs([(1, "progress8", NOW, 0.24, 25.68, 107.0, 0.0, 0.48, "ok", None)]), bench).rows[0]
    text = describe(row, REG.get("progress8"))
    assert text.startswith("Progress 8 was +0.24: Average, DfE's band (its 95% range, +0.00 to +0.48, includes 0, "
                           "the national average for all pupils). The national figure for state-funded schools is "
                           "-0.03.")
    assert "clearly" not in text


def test_a_group_progress8_band_uses_its_combined_interval():
    # two schools: 0.5 (se 0.1, n 200) and 0.3 (se 0.1, n 200): value 0.4; se = sqrt(20^2 + 20^2) / 400 = 0.0707;
    # interval 0.4 -/+ 1.96 x 0.0707 = 0.261 to 0.539: wholly above 0, score under 0.5 -> Above average
    subject = Subject("group", 9, "G", None, (1, 2), "partnership", ("secondary", "secondary"))
    obs = _obs([(1, "progress8", NOW, 0.5, 100.0, 200.0, 0.304, 0.696, "ok", None),
                (2, "progress8", NOW, 0.3, 60.0, 200.0, 0.104, 0.496, "ok", None)])
    codes = ["progress8", "pupils"]
    rows = encode_rows(obs, None, codes, P)
    rows["se"] = 0.1
    card = build_group_scorecard(subject, NOW, P, [REG.get("progress8")], rows, codes,
                                 _bench([("progress8", "state_funded", -0.03)]), {}, {1: "A", 2: "B"})
    p8 = card.rows[0]
    assert p8.value == pytest.approx(0.4)
    assert (p8.ci_low, p8.ci_high) == (pytest.approx(0.4 - 1.959964 * 0.0707107, rel=1e-5),
                                       pytest.approx(0.4 + 1.959964 * 0.0707107, rel=1e-5))
    assert (p8.band, p8.significance) == ("Above average", "above")


# ------------------------------------------------------------------------------ point 13: a group's phase mix


ABSENCE = [("overall_absence", "primary", 4.0), ("overall_absence", "secondary", 5.5),
           ("overall_absence", "state_funded", 4.7)]


def _absence_group(phases: tuple[str, str], values: tuple[float, float], pupils: tuple[int, int]):
    subject = Subject("group", 9, "G", None, (1, 2), "trust", phases)
    obs = _obs([(u, "overall_absence", NOW, v, None, None, None, None, "ok", None)
                for u, v in zip((1, 2), values, strict=True)]
               + [(u, "pupils", NOW, float(n), None, None, None, None, "ok", None)
                  for u, n in zip((1, 2), pupils, strict=True)])
    return _group(subject, ["overall_absence", "pupils"], obs, _bench(ABSENCE)).rows[0]


def test_a_secondary_only_trust_is_compared_with_secondary_schools():
    row = _absence_group(("secondary", "secondary"), (5.0, 6.0), (600, 400))
    assert row.value == pytest.approx(5.4)  # (5.0 x 600 + 6.0 x 400) / 1000, weighted by pupils on roll
    assert (row.national, row.national_scope, row.comparator) == (5.5, "secondary", "national, secondary schools")


def test_a_mixed_group_is_compared_with_its_pupil_weighted_mix():
    # 700 primary pupils, 300 secondary: 0.7 x 4.0 + 0.3 x 5.5 = 4.45
    row = _absence_group(("primary", "secondary"), (4.2, 5.2), (700, 300))
    assert row.national == pytest.approx(4.45)
    assert row.national_scope == "mix"
    assert row.comparator == "national, weighted to this group's mix: 70% primary, 30% secondary"
    # each member against its own phase, as on its own card: the primary (4.2 > 4.0) is worse; the secondary is not
    assert row.member_nationals == ((1, 4.0), (2, 5.5))
    assert row.below_national == 1


def test_the_mix_weighs_each_phase_by_the_measures_own_cohort():
    # FSM: primary 10% of 200, secondary 20% of 800; national primary 23.0, secondary 27.7
    # weights are the cohorts (200, 800), not the schools: 0.2 x 23.0 + 0.8 x 27.7 = 26.76
    subject = Subject("group", 9, "G", None, (1, 2), "trust", ("primary", "secondary"))
    obs = _obs([(1, "fsm_pct", NOW, 10.0, 20.0, 200.0, None, None, "ok", None),
                (2, "fsm_pct", NOW, 20.0, 160.0, 800.0, None, None, "ok", None)])
    bench = _bench([("fsm_pct", "primary", 23.0), ("fsm_pct", "secondary", 27.7), ("fsm_pct", "state_funded", 25)])
    row = _group(subject, ["fsm_pct"], obs, bench).rows[0]
    assert row.value == pytest.approx(18.0)  # pooled: 180 / 1000
    assert row.national == pytest.approx(26.76)
    assert row.comparator == "national, weighted to this group's mix: 80% secondary, 20% primary"


def test_the_mix_counts_schools_when_pupil_numbers_are_missing():
    comp = group_comparator(_bench(ABSENCE), REG.get("overall_absence"), NOW,
                            [("primary", None), ("primary", 300.0), ("secondary", 100.0)])
    assert comp.value == pytest.approx((4.0 * 2 + 5.5) / 3)
    assert comp.words == (
        "national, weighted to this group's mix: 67% primary, 33% secondary (by number of schools: some have "
        "no pupil numbers)")


# ------------------------------------------------------------------------------ point 14: special schools


def test_a_special_schools_card_has_the_key_stages_it_reports():
    names = [m.id for m in applicable(REG, "special", {"progress8", "basics_94", "destinations_sustained"})]
    assert {"progress8", "basics_94", "destinations_sustained", "overall_absence"} <= set(names)
    assert "ks2_rwm_expected" not in names  # not reported: not shown
    assert "progress8" not in [m.id for m in applicable(REG, "special")]  # phases alone leave KS4 out


def test_a_special_school_is_compared_with_special_schools_only():
    bench = _bench([("basics_94", "state_funded", 64.4), ("overall_absence", "special", 8.0)] + ABSENCE)
    subject = Subject("school", 5, "Special School", "special", (5,))
    obs = _obs([(5, "basics_94", NOW, 12.0, 3.0, 25.0, None, None, "ok", None),
                (5, "overall_absence", NOW, 9.1, None, None, None, None, "ok", None)])
    basics, absence = _school(subject, ["basics_94", "overall_absence"], obs, bench).rows
    assert (basics.national, basics.significance, basics.flag) == (None, None, False)  # not mainstream's 64.4%
    assert basics.comparator == ("no national figure for special schools is published for this measure "
                                 "(never compared with mainstream)")
    assert (absence.national, absence.comparator) == (8.0, "national, special schools")


def test_no_share_over_100_is_shown():
    # the census's national special-school row: (2,014 + 122,268) SEN pupils / 121,738 on roll = 102.1%
    bench = _bench([("sen_pct", "special", 124282 / 121738 * 100), ("sen_pct", "state_funded", 14.9)])
    subject = Subject("school", 5, "Special School", "special", (5,))
    obs = _obs([(5, "sen_pct", NOW, 100.0, 59.0, 59.0, None, None, "ok", None)])
    row = _school(subject, ["sen_pct"], obs, bench).rows[0]
    assert row.national is None
    assert row.comparator == ("The national figure for Pupils with special educational needs came to 102.1%, which "
                              "is impossible for a share of pupils, so it is not shown")
    bad = _school(Subject("school", 6, "S", "primary", (6,)), ["fsm_pct"],
                  _obs([(6, "fsm_pct", NOW, 100.4, 251.0, 250.0, None, None, "ok", None)]), {}).rows[0]
    assert (bad.value, bad.display, bad.status) == (None, "–", "missing")
    assert bad.level_label.startswith("The school's value for Pupils eligible for free school meals came to 100.4%")


def test_the_card_says_what_a_group_pools():
    assert pooling_words([(3, "special"), (4, "special")], False) == (
        "Mainstream schools only: 2 special schools are shown on their own cards")
    assert pooling_words([(3, "special"), (4, "alternative")], True) == (
        "All schools, including 1 special school and 1 alternative provision school: each compared with its own "
        "kind nationally")
    assert pooling_words([], False) == ""


# ------------------------------------------------------------------------------ point 15: phase from the files


def test_a_middle_school_gets_its_ks2_results_compared_with_primaries():
    # a middle school deemed secondary (GIAS) reports KS2: its card has KS2, compared with primary schools
    names = [m.id for m in applicable(REG, "secondary", {"ks2_rwm_expected", "progress8"})]
    assert "ks2_rwm_expected" in names and "progress8" in names
    assert comparison_scopes("secondary", REG.get("ks2_rwm_expected")) == ["primary", "state_funded", "all"]
    bench = _bench([("ks2_rwm_expected", "primary", 65.0), ("ks2_rwm_expected", "secondary", 40.0)])
    row = _school(Subject("school", 7, "Middle", "secondary", (7,)), ["ks2_rwm_expected"],
                  _obs([(7, "ks2_rwm_expected", NOW, 70.0, 42.0, 60.0, None, None, "ok", None)]), bench).rows[0]
    assert (row.national, row.comparator) == (65.0, "national, primary schools")


def test_an_all_through_school_has_no_phase_benchmark_of_its_own():
    # it spans both phases: state-funded schools, never the primary row for its absence
    assert comparison_scopes("all_through", REG.get("overall_absence")) == ["state_funded", "all"]
    assert comparison_scopes("all_through", REG.get("ks2_rwm_expected")) == ["state_funded", "all"]
    assert comparison_scopes(None, REG.get("overall_absence")) == ["primary", "state_funded", "all"]
    assert comparison_scopes("alternative", REG.get("overall_absence")) == ["alternative"]


def test_published_words_for_progress8_give_dfes_band_not_a_contradiction():
    # -0.02 (-0.04 to -0.01) is below 0 yet above the state-funded -0.03: parents read DfE's band, never
    # "clearly lower than schools nationally (-0.03)"
    from metrics.publication import comparison_words

    row = _school(Subject("school", 1, "A", "secondary", (1,)), ["progress8"],
                  _obs([(1, "progress8", NOW, -0.02, -4.0, 200.0, -0.04, -0.01, "ok", None)]),
                  _bench([("progress8", "state_funded", -0.03)])).rows[0]
    assert comparison_words(row, REG.get("progress8")) == (
        "below average: DfE's band for Progress 8, where 0 is the average for all pupils nationally")


def test_a_cohort_of_215_is_never_insufficient_data():
    # no phase known and so no national percentile: the card says why it has no position, not "insufficient data"
    row = _school(Subject("school", 8, "Unknown phase", None, (8,)), ["progress8"],
                  _obs([(8, "progress8", NOW, 0.1, 21.5, 215.0, -0.05, 0.25, "ok", None)]), {}).rows[0]
    assert row.level is None and row.cohort == 215.0
    assert row.level_label == ("No national position: the school's phase is not known (import GIAS or the school "
                               "information file)")
    tiny = _school(Subject("school", 8, "Tiny", None, (8,)), ["progress8"],
                   _obs([(8, "progress8", NOW, 0.1, 0.5, 5.0, -1.0, 1.2, "ok", None)]), {}).rows[0]
    assert tiny.level_label == "Insufficient data"  # a cohort under the minimum (6) still is


def test_a_progress8_flag_says_below_zero_in_dfes_words():
    # -0.84 (-1.15 to -0.54), in the bottom fifth (8th percentile): the real URN 142061's score, DfE band 5
    bench = _bench([("progress8", "state_funded", -0.03)])
    obs = _obs([(1, "progress8", NOW, -0.84, -57.12, 68.0, -1.15, -0.54, "ok", None)])
    stats = pd.DataFrame([{"urn": 1, "measure": "progress8", "period": NOW, "percentile": 8.0}])
    codes = ["progress8"]
    row = build_school_scorecard(Subject("school", 1, "A", "secondary", (1,)), NOW, P, [REG.get("progress8")],
                                 encode_rows(obs, stats, codes, P), codes, bench).rows[0]
    assert row.flag_reasons[0] == ("significantly below 0, the national average for all pupils (-0.84; DfE's band: "
                                   "well below average)")
