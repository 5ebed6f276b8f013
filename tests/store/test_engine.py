"""The scorecard engine end to end on a small synthetic demo store: every value checked against an
independent computation from the stored rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data.db.errors import StoreError
from data.db.state import copy_store
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import governance, groups, schools
from data.services.scorecards import scorecard
from data.services.support import support_partners
from metrics.families import DEFAULT_FAMILY_SIZE

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"measure", "label", "value", "cohort", "status", "national", "ci_low", "ci_high", "percentile",
        "family_median", "family_rank", "expected", "residual", "trend", "change", "level", "significance", "flag",
        "flag_reasons", "target", "target_met"}


@pytest.fixture(scope="module")
def demo(demo_master, tmp_path_factory) -> Path:
    """This module's own copy of the session's demo store (300 schools, 3 years): these tests write to it."""
    path = tmp_path_factory.mktemp("engine") / "demo.duckdb"
    copy_store(demo_master, path)
    return path


@pytest.fixture()
def st(demo):
    s = Store(demo)
    yield s
    s.close()


def _latest(st: Store) -> str:
    return schools.periods(st)[-1]


def test_group_pooled_rate_matches_an_independent_sum(st):
    period = _latest(st)
    g = groups.find_group(st, FLAGSHIP_PARTNERSHIP)
    # the group's values pool its mainstream schools (special schools and AP keep their own cards: method.md)
    members = [u for (u,) in st.query("SELECT urn FROM establishments WHERE urn IN (SELECT unnest(?)) AND "
                                      "coalesce(phase, '') NOT IN ('special', 'alternative') ORDER BY urn",
                                      [groups.group_members(st, g.group_id, period)])]
    card = scorecard(st, group=FLAGSHIP_PARTNERSHIP, period=period, measures=["ks2_rwm_expected", "attainment8"])
    num, den, mean = st.query(
        "SELECT sum(numerator), sum(denominator), avg(value) FROM observations WHERE level = 'school' "
        "AND measure = 'ks2_rwm_expected' AND period = ? AND status = 'ok' AND urn IN (SELECT unnest(?))",
        [period, members])[0]
    rwm, att8 = card.rows
    assert rwm.value == pytest.approx(num / den * 100)
    assert rwm.value != pytest.approx(mean)  # pooled, not the mean of the schools' rates
    # EES files give each school's Attainment 8 total (attainment8_sum) beside its rounded average: the pooled
    # value is the totals over the cohorts, within rounding of the cohort-weighted mean of the averages
    wsum, wden, rounded = st.query(
        "SELECT sum(coalesce(numerator, value * denominator)), sum(denominator), "
        "sum(value * denominator) / sum(denominator) FROM observations WHERE level = 'school' "
        "AND measure = 'attainment8' AND period = ? AND status = 'ok' AND urn IN (SELECT unnest(?))",
        [period, members])[0]
    assert att8.value == pytest.approx(wsum / wden)  # cohort-weighted
    assert abs(att8.value - rounded) < 0.05
    assert rwm.schools_total == len(members)
    assert {u for u, _v, _s in rwm.member_values} <= set(members)


def test_formula_measure_is_the_formula_on_group_totals(st):
    period = _latest(st)
    card = scorecard(st, group=FLAGSHIP_PARTNERSHIP, period=period,
                     measures=["support_balance", "support_hours_given", "support_hours_received"])
    balance, given, received = card.rows
    assert balance.value == pytest.approx(given.value - received.value)
    mine = {u: v for u, v, _ in given.member_values}
    theirs = {u: v for u, v, _ in received.member_values}
    for u, v, status in balance.member_values:
        if status == "ok":
            assert v == pytest.approx(mine[u] - theirs[u])
    assert balance.level_label == "Context (not judged)" and balance.national is None


def test_school_card_has_every_column_and_reads_the_precomputed_stats(st):
    period = _latest(st)
    urn = st.query("SELECT urn FROM school_stats WHERE measure = 'attainment8' AND period = ? "
                   "AND family_rank IS NOT NULL AND expected IS NOT NULL ORDER BY urn LIMIT 1", [period])[0][0]
    card = scorecard(st, school=urn, period=period)
    row = next(r for r in card.rows if r.measure == "attainment8")
    assert KEYS <= set(row.to_dict())
    pct, med, rank, exp = st.query("SELECT percentile, family_median, family_rank, expected FROM school_stats "
                                   "WHERE urn = ? AND measure = 'attainment8' AND period = ?", [urn, period])[0]
    assert (row.percentile, row.family_median, row.family_rank, row.expected) == (pct, med, rank, exp)
    assert row.residual == pytest.approx(row.value - exp)
    # the percentile, recomputed independently: schools of the phase below, plus half the ties (all-through
    # schools are compared with secondaries outside KS2, docs/method.md)
    phase = {"all_through": "secondary"}.get(schools.school_brief(st, urn)[1], schools.school_brief(st, urn)[1])
    below, ties, n = st.query(
        "SELECT count(*) FILTER (WHERE o.value < x.v), count(*) FILTER (WHERE o.value = x.v), count(*) "
        "FROM observations o JOIN establishments e USING (urn), (SELECT value AS v FROM observations "
        "WHERE level = 'school' AND urn = ? AND measure = 'attainment8' AND period = ?) x "
        "WHERE o.level = 'school' AND o.measure = 'attainment8' AND o.period = ? AND o.status = 'ok' "
        "AND replace(e.phase, 'all_through', 'secondary') = ?", [urn, period, period, phase])[0]
    assert pct == pytest.approx((below + 0.5 * ties) / n * 100)


def test_family_median_is_the_median_of_the_stored_family(st):
    period = _latest(st)
    urn = st.query("SELECT urn FROM school_stats WHERE measure = 'attainment8' AND period = ? "
                   "AND family_size > 5 ORDER BY urn LIMIT 1", [period])[0][0]
    # the family stored at import (data.ingest.derived), read as it is stored
    fam = st.query_df("SELECT f.rank, f.neighbour AS urn, f.distance, e.phase FROM families f "
                      "JOIN establishments e ON e.urn = f.neighbour WHERE f.urn = ? ORDER BY f.rank", [urn])
    assert len(fam) == min(DEFAULT_FAMILY_SIZE, len(fam)) and fam["distance"].is_monotonic_increasing
    assert set(fam["phase"]) <= {"secondary", "all_through"}
    vals = st.query("SELECT value FROM observations WHERE level = 'school' AND measure = 'attainment8' "
                    "AND period = ? AND status = 'ok' AND urn IN (SELECT unnest(?))", [period, fam["urn"].tolist()])
    med = st.query("SELECT family_median FROM school_stats WHERE urn = ? AND measure = 'attainment8' "
                   "AND period = ?", [urn, period])[0][0]
    assert med == pytest.approx(float(np.median([v for (v,) in vals])))


def test_expected_is_the_stored_regression_on_the_stored_context(st):
    period = _latest(st)
    reg = st.query("SELECT variables, coefficients FROM regressions WHERE measure = 'attainment8' "
                   "AND period = ? AND phase = 'secondary'", [period])
    assert reg, "a regression was fitted"
    variables, coef = reg[0]
    urn, expected = st.query("SELECT s.urn, s.expected FROM school_stats s JOIN establishments e USING (urn) "
                             "WHERE s.measure = 'attainment8' AND s.period = ? AND e.phase = 'secondary' "
                             "AND s.expected IS NOT NULL ORDER BY s.urn LIMIT 1", [period])[0]
    z = dict(st.query("SELECT variable, z FROM school_context WHERE urn = ?", [urn]))
    assert expected == pytest.approx(coef[0] + sum(c * z.get(v, 0.0) for v, c in zip(variables, coef[1:],
                                                                                       strict=True)))


def test_targets_and_chosen_measures_shape_the_card(st):
    period = _latest(st)
    g = groups.find_group(st, FLAGSHIP_PARTNERSHIP)
    governance.set_scorecard_measures(st, "group", g.group_id, ["attainment8", "overall_absence"], actor="governor")
    governance.set_target(st, "group", g.group_id, "overall_absence", period, 99.0, actor="governor")
    try:
        card = scorecard(st, group=FLAGSHIP_PARTNERSHIP, period=period)
        assert [r.measure for r in card.rows] == ["attainment8", "overall_absence"]
        absence = card.rows[1]
        assert absence.target == 99.0 and absence.target_met is True  # lower is better: under 99% meets it
    finally:
        governance.set_scorecard_measures(st, "group", g.group_id, [], actor="governor")
        governance.set_target(st, "group", g.group_id, "overall_absence", period, None, actor="governor")
    assert ("governor", "set", "target") in st.query("SELECT actor, action, entity FROM audit_log")


def test_dfe_trust_method_uses_only_schools_three_years_in_the_trust(st):
    period = _latest(st)
    trust = st.query("SELECT g.group_id FROM groups g JOIN memberships m USING (group_id) WHERE g.kind = 'trust' "
                     "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1")[0][0]
    card = scorecard(st, group=str(trust), period=period, measures=["attainment8"], method="dfe_trust")
    years = groups.membership_years(st, trust, period)
    row = card.rows[0]
    assert row.rollup_method.startswith("DfE trust method")
    if row.value is not None:
        rows = st.query("SELECT urn, value, denominator FROM observations WHERE level = 'school' AND status = 'ok' "
                        "AND measure = 'attainment8' AND period = ? AND urn IN (SELECT unnest(?))",
                        [period, list(years)])
        use = [(v, d * min(years[u], 5)) for u, v, d in rows if years[u] >= 3 and d]
        assert row.value == pytest.approx(sum(v * w for v, w in use) / sum(w for _, w in use))


def test_support_partners_are_strong_and_own_groups_come_first(st):
    period = _latest(st)
    urn = st.query("SELECT s.urn FROM school_stats s JOIN memberships m USING (urn) WHERE s.measure = 'attainment8' "
                   "AND s.period = ? AND s.percentile < 30 ORDER BY s.urn LIMIT 1", [period])[0][0]
    partners = support_partners(st, urn, "attainment8", period)
    assert partners, "someone strong on Attainment 8 is in its groups or family"
    assert all(p.percentile >= 60 for p in partners)
    kinds = [p.relation.startswith("in ") for p in partners]
    assert kinds == sorted(kinds, reverse=True)  # group partners first
    assert urn not in {p.urn for p in partners}
    with pytest.raises(StoreError, match="unknown measure"):
        support_partners(st, urn, "no_such_measure", period)


def test_a_scorecard_request_only_reads(st):
    before = st.query("SELECT (SELECT count(*) FROM observations), (SELECT count(*) FROM school_stats), "
                      "(SELECT count(*) FROM audit_log)")
    scorecard(st, group=FLAGSHIP_PARTNERSHIP, period=_latest(st))
    assert st.query("SELECT (SELECT count(*) FROM observations), (SELECT count(*) FROM school_stats), "
                    "(SELECT count(*) FROM audit_log)") == before


def test_bad_requests_say_what_is_wrong(st):
    with pytest.raises(StoreError, match="no school results for 2001/02"):
        scorecard(st, group=FLAGSHIP_PARTNERSHIP, period="2001/02")
    with pytest.raises(StoreError, match="no group with id, code or exact name 'Nobody'"):
        scorecard(st, group="Nobody", period=_latest(st))
    with pytest.raises(StoreError, match="unknown measure"):
        scorecard(st, school=int(st.query("SELECT min(urn) FROM establishments")[0][0]), period=_latest(st),
                  measures=["progress9"])


def test_cli_json_has_the_plain_keys_for_a_group(demo):
    env = {**os.environ, "JOINTLY_DB": str(demo)}
    out = subprocess.run([sys.executable, "-m", "data", "scorecard", "--group", FLAGSHIP_PARTNERSHIP, "--period",
                          "2024/25", "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and rows
    assert KEYS | {"spread", "below_national", "member_values", "rollup_method"} <= set(rows[0])


def test_custom_family_equals_the_stored_one_with_default_weights_and_changes_with_them(st):
    from data.services.families import family

    urn = st.query("SELECT urn FROM families GROUP BY urn HAVING count(*) = 30 ORDER BY urn LIMIT 1")[0][0]
    stored = st.query_df("SELECT f.neighbour AS urn, f.distance FROM families f JOIN establishments e "
                         "ON e.urn = f.neighbour WHERE f.urn = ? ORDER BY f.rank", [urn])
    custom = family(st, urn)
    assert custom["urn"].tolist() == stored["urn"].tolist()
    assert custom["distance"].to_numpy() == pytest.approx(stored["distance"].to_numpy())
    fsm_only = family(st, urn, weights={"disadvantaged_pct": 1.0}, size=5)
    assert list(fsm_only.columns) == ["rank", "urn", "name", "distance", "similarity", "kind", "disadvantaged_pct"]
    mine = st.query("SELECT value FROM school_context WHERE urn = ? AND variable = 'disadvantaged_pct'", [urn])[0][0]
    # with one variable the family is the five schools closest on it
    z = dict(st.query("SELECT urn, z FROM school_context WHERE variable = 'disadvantaged_pct' AND phase = "
                      "(SELECT any_value(phase) FROM school_context WHERE urn = ?)", [urn]))
    gaps = sorted((abs(v - z[urn]), u) for u, v in z.items() if u != urn)[:5]
    assert fsm_only["urn"].tolist() == [u for _, u in gaps]
    assert mine is not None
    with pytest.raises(StoreError, match="unknown family variable"):
        family(st, urn, weights={"height": 1})
    with pytest.raises(StoreError, match="at least one above 0"):
        family(st, urn, weights={"eal_pct": 0})
