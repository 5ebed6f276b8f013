"""Levels never contradict their own words or each other (issue 11 point 7), on hand-computed cases.

One rule (metrics.scorecard.judge_level) for a school's card, a group's card and each member's cell on the group
overview; its cases are the table in docs/method.md ("Performance level")."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.comparators import comparable_for_level, same_kind
from metrics.registry import load_registry

REG = load_registry()


# issue 11 point 7
@pytest.mark.parametrize(("phase", "type_name", "kind"), [
    ("secondary", "Academy converter", "secondary"),
    ("primary", "Community school", "primary"),
    # GIAS types name alternative provision even when a phase is given (an AP academy may say "Secondary")
    ("secondary", "Pupil referral unit", "alternative"),
    ("secondary", "Academy alternative provision converter", "alternative"),
    ("secondary", "Academy alternative provision sponsor led", "alternative"),
    (None, "Free schools alternative provision", "alternative"),
    ("alternative", None, "alternative"),
    ("primary", "Community special school", "special"),
    ("special", "Academy special converter", "special"),
    ("all_through", "Academy converter", "all_through"),
    (None, None, None),
])
def test_comparable_for_level_names_the_kind_a_school_is_compared_with(phase, type_name, kind) -> None:
    assert comparable_for_level(phase, type_name) == kind


# issue 11 point 7
def test_alternative_provision_is_never_like_a_mainstream_school() -> None:
    pru = ("secondary", "Pupil referral unit")
    assert not same_kind(pru, ("primary", "Community school"))
    assert not same_kind(pru, ("secondary", "Academy converter"))
    assert same_kind(pru, ("alternative", "Academy alternative provision converter"))
    assert not same_kind(("special", None), ("alternative", None))
    assert same_kind(("secondary", "Academy converter"), ("secondary", "Community school"))
    assert not same_kind(("secondary", None), ("primary", None))
    assert not same_kind((None, None), ("primary", None))  # an unknown kind is like nothing


# ------------------------------------------------------------------------------ the one level rule, by hand

from metrics.scorecard import (  # noqa: E402
    LEVEL_BOUNDS,
    STATUS_ONLY,
    Subject,
    build_group_scorecard,
    build_school_scorecard,
    encode_rows,
    judge_level,
)
from metrics.sentences import describe  # noqa: E402

P = ["2017/18", "2018/19"]
NOW = "2018/19"
OBS_COLS = ["urn", "measure", "period", "value", "numerator", "denominator", "ci_low", "ci_high", "status",
            "status_code"]
STAT_COLS = ["urn", "measure", "period", "phase", "percentile"]
BASICS = REG.get("basics_94")
ABSENCE = REG.get("overall_absence")
NAT = 64.4  # basics_94, state-funded, both years
BENCH = {("basics_94", p, "state_funded"): NAT for p in P}


def _cards(rows: list[tuple], pct: list[tuple], phases: dict[int, str], periods: list[str] = P,
           bench: dict | None = None, measure: str = "basics_94"):
    """Each school's own card and the group card of all of them, from (urn, period, value, num, den) rows and
    (urn, period, percentile) statistics."""
    bench = BENCH if bench is None else bench
    obs = pd.DataFrame([(u, measure, p, v, n, d, None, None, "ok", None) for u, p, v, n, d in rows], columns=OBS_COLS)
    stats = pd.DataFrame([(u, measure, p, phases[u], x) for u, p, x in pct], columns=STAT_COLS)
    m = REG.get(measure)
    schools = {}
    for u, phase in phases.items():
        mine = obs[obs["urn"] == u]
        schools[u] = build_school_scorecard(Subject("school", u, f"School {u}", phase, (u,)), periods[-1], periods,
                                            [m], encode_rows(mine, stats, [measure], periods), [measure], bench).rows[0]
    codes = [measure, "pupils"]
    subject = Subject("group", 9, "Group", None, tuple(phases), "partnership", tuple(phases.values()))
    # national cut points 0, 1, ..., 100: a group's percentile is its value
    quantiles = {(measure, p, ph): [float(i) for i in range(101)] for p in periods for ph in set(phases.values())}
    group = build_group_scorecard(subject, periods[-1], periods, [m], encode_rows(obs, stats, codes, periods), codes,
                                  bench, quantiles, {u: f"School {u}" for u in phases})
    return schools, group


# issue 11 point 7
@pytest.mark.parametrize(("adj_now", "adj_before", "sig", "level"), [
    # status band (percentile // 20) + change (+1 up 10 or more, -1 down 10 or more), then the bounds of the row
    (10, 10, "in line", 2),     # band 0, level 1 -> in line is at least Needs attention
    (10, 30, "in line", 2),     # band 0 - 1 -> level 1 -> 2
    (90, 90, "in line", 4),     # band 4, level 5 -> in line is at most Good
    (30, 30, "in line", 2),     # band 1: Needs attention, inside the bounds
    (50, 30, "in line", 4),     # band 2 + 1: Good
    (10, 10, "below", 1),       # clearly worse and bottom fifth: Cause for concern
    (70, 70, "below", 3),       # clearly worse, 70th percentile (band 3, Good) -> at most Steady
    (90, 70, "below", 3),       # band 4 + 1 -> 5 -> 3
    (30, 30, "above", 3),       # clearly better, 30th percentile (Needs attention) -> at least Steady
    (90, 90, "above", 5),       # clearly better, top fifth: Strong
    (10, 10, None, 1),          # no interval known: the grid alone
    (90, 90, None, 5),
])
def test_a_level_never_contradicts_how_the_value_stands_against_national(adj_now, adj_before, sig, level) -> None:
    j = judge_level(BASICS, value=50.0, status="ok", small=False, adj_now=adj_now, adj_before=adj_before,
                    significance_words=sig, phase="secondary", national=NAT, compared=True)
    assert j.level == level and not j.status_only


# issue 11 point 7
def test_the_bounds_follow_polarity() -> None:
    # absence 'above' national is worse: at most Steady even at the 90th (adjusted) percentile
    j = judge_level(ABSENCE, value=6.0, status="ok", small=False, adj_now=90, adj_before=90, significance_words="above",
                    phase="secondary", national=4.7, compared=True)
    assert j.level == 3 and j.label == "Steady"
    assert LEVEL_BOUNDS["in line"] == (2, 4)


# issue 11 point 7
def test_one_year_of_data_gives_a_status_only_level_on_the_card_and_in_the_grid() -> None:
    # one year in the store: 80 of 100 (80%, Wilson 71.1% to 86.7%, clearly above 64.4%) at the 70th percentile,
    # band 3 -> Good, status only; 55 of 100 (Wilson 45.2% to 64.39%: clearly below) at the 30th -> band 1 -> Needs
    # attention. The group: 135 of 200 = 67.5% (Wilson 60.7% to 73.6%: in line) at the 67.5th percentile -> Good
    schools, group = _cards([(1, NOW, 80.0, 80.0, 100.0), (2, NOW, 55.0, 55.0, 100.0)],
                            [(1, NOW, 70.0), (2, NOW, 30.0)], {1: "secondary", 2: "secondary"}, periods=[NOW])
    assert (schools[1].level, schools[1].level_label) == (4, f"Good ({STATUS_ONLY})")
    assert (schools[2].level, schools[2].level_label) == (2, f"Needs attention ({STATUS_ONLY})")
    # the overview grid has the same levels and words (it was all "Insufficient data" with one year)
    assert group.member_levels == {(1, "basics_94"): 4, (2, "basics_94"): 2}
    assert group.member_labels[(1, "basics_94")] == schools[1].level_label
    assert (group.rows[0].level, group.rows[0].level_label) == (4, f"Good ({STATUS_ONLY})")


# issue 11 point 7
def test_in_line_with_national_is_never_cause_for_concern_and_the_words_agree() -> None:
    # 11 of 20 = 55%: Wilson (0.55 + 3.8415/40) / 1.19207 = 0.5419, half 1.96 sqrt(0.012375 + 0.002401) / 1.19207
    # = 0.1999 -> 34.2% to 74.2%, which holds 64.4%: in line. At the 10th percentile (band 0) the grid alone says
    # Cause for concern; in line, it is Needs attention. 14 of 20 = 70% at the 90th: Good, not Strong.
    schools, group = _cards([(1, "2017/18", 55.0, 11.0, 20.0), (1, NOW, 55.0, 11.0, 20.0),
                             (2, "2017/18", 70.0, 14.0, 20.0), (2, NOW, 70.0, 14.0, 20.0)],
                            [(1, "2017/18", 10.0), (1, NOW, 10.0), (2, "2017/18", 90.0), (2, NOW, 90.0)],
                            {1: "secondary", 2: "secondary"})
    low, high = schools[1], schools[2]
    assert low.significance == "in line" and (low.ci_low, low.ci_high) == (pytest.approx(34.2, abs=0.05),
                                                                          pytest.approx(74.2, abs=0.05))
    assert (low.level, low.level_label, low.flag) == (2, "Needs attention", False)
    assert (high.level, high.level_label) == (4, "Good")
    sentence = describe(low, BASICS)
    assert "in line with the national 64.4% once chance is allowed for" in sentence
    assert "Level: Needs attention." in sentence
    assert group.member_levels == {(1, "basics_94"): 2, (2, "basics_94"): 4}
    assert not group.watchlist


# issue 11 point 7
def test_alternative_provision_without_its_own_national_gets_no_level() -> None:
    # a PRU's 31.7% absence at the 37th percentile among alternative provision (adjusted 63: band 3, Good) with only
    # a secondary national in the store: no level, in words; with an alternative-provision national (35.0%), Good
    bench = {("overall_absence", p, "secondary"): 4.7 for p in P}
    rows = [(1, p, 31.7, None, None) for p in P]
    pct = [(1, p, 37.0) for p in P]
    schools, group = _cards(rows, pct, {1: "alternative"}, bench=bench, measure="overall_absence")
    assert schools[1].level is None
    assert schools[1].level_label == "No level: no national figure for alternative provision schools to compare with"
    assert group.member_levels == {(1, "overall_absence"): None}
    assert group.member_labels[(1, "overall_absence")] == schools[1].level_label
    assert group.rows[0].level is None and group.rows[0].level_label == schools[1].level_label
    bench.update({("overall_absence", p, "alternative"): 35.0 for p in P})
    schools, group = _cards(rows, pct, {1: "alternative"}, bench=bench, measure="overall_absence")
    assert (schools[1].level, schools[1].national, schools[1].national_scope) == (4, 35.0, "alternative")
    assert group.member_levels == {(1, "overall_absence"): 4}


# issue 11 point 7
def test_the_watch_list_never_flags_a_school_whose_card_says_insufficient_data() -> None:
    # 0 of 4 (0%, Wilson 0% to 49.0%: clearly below 64.4%) at the 2nd percentile: flagged by the old watch list,
    # but a cohort of 4 is under the minimum of 6: its own card says Insufficient data and raises no flag
    schools, group = _cards([(1, "2017/18", 0.0, 0.0, 4.0), (1, NOW, 0.0, 0.0, 4.0), (2, NOW, 40.0, 80.0, 200.0)],
                            [(1, "2017/18", 2.0), (1, NOW, 2.0), (2, NOW, 5.0)], {1: "secondary", 2: "secondary"})
    assert (schools[1].level_label, schools[1].flag) == ("Insufficient data", False)
    assert schools[2].flag  # 80 of 200 = 40%: clearly below and in the bottom fifth
    assert [w.urn for w in group.watchlist] == [2]
    assert group.member_levels[(1, "basics_94")] is None
