"""The disadvantage gap of a school and a group on the demo store, against an independent SQL computation, and
targets on a gap (issue 13)."""

from __future__ import annotations

import math

import pytest

from data.db.store import Store
from data.services import governance, groups, pupil_groups, schools
from data.services.access import Role, Viewer

Z = 1.959964  # as metrics.scorecard.Z95


def _group_with_pupils(store: Store, period: str, measure: str) -> tuple[int, list[int]]:
    """The group (of 3+ members) whose members have the most disadvantaged pupils in the measure that year."""
    rows = store.query("""
        SELECT m.group_id, count(DISTINCT o.urn), sum(o.denominator)
        FROM memberships m JOIN pupil_group_observations o ON o.urn = m.urn
        WHERE o.measure = ? AND o.period = ? AND o.pupil_group = 'disadvantaged' AND o.scope IS NULL
          AND o.status = 'ok' AND (m.end_date IS NULL OR m.end_date > current_date)
        GROUP BY ALL HAVING count(DISTINCT o.urn) >= 3 ORDER BY 3 DESC LIMIT 1
    """, [measure, period])
    gid = int(rows[0][0])
    return gid, [int(u) for u in groups.group_members(store, gid, period)]


def test_group_gap_equals_an_independent_sum_over_its_members(demo_store: Store) -> None:
    period = schools.periods(demo_store)[-1]
    measure = "ks2_rwm_expected"  # a pooled rate: Σ pupils who reached it / Σ pupils
    gid, members = _group_with_pupils(demo_store, period, measure)
    d = pupil_groups.disadvantage(demo_store, group=gid, period=period)
    row = d.row(measure)
    assert row is not None
    pooled = set(d.subject.members)  # mainstream members (special schools keep their own cards)
    k, n = demo_store.query("""
        SELECT sum(numerator), sum(denominator) FROM pupil_group_observations
        WHERE level = 'school' AND scope IS NULL AND measure = ? AND period = ? AND pupil_group = 'disadvantaged'
          AND status = 'ok' AND value IS NOT NULL AND numerator IS NOT NULL AND denominator > 0
          AND urn IN (SELECT unnest(?::INTEGER[]))
    """, [measure, period, sorted(pooled & set(members))])[0]
    national = demo_store.query("""
        SELECT value FROM pupil_group_observations WHERE level = 'national' AND scope = 'state_funded'
          AND measure = ? AND period = ? AND pupil_group = 'not_disadvantaged'
    """, [measure, period])[0][0]
    g = row.now
    assert g.disadvantaged.value == pytest.approx(k / n * 100) and g.disadvantaged.cohort == n
    assert g.national_others == national
    assert g.gap == pytest.approx(k / n * 100 - national)
    # Wilson on the pooled counts, moved by the national value
    p, z2 = k / n, Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    assert g.gap_low == pytest.approx((centre - half) * 100 - national, abs=1e-9)
    assert g.gap_high == pytest.approx((centre + half) * 100 - national, abs=1e-9)
    # each member's pull: its share of the pooled pupils times (its gap - the group's); they add up to 0, up to the
    # files' rounding (a school's own value is the file's rounded cell; the pooled one is Σ counts / Σ pupils)
    assert sum(mg.pull for mg in row.members if mg.pull is not None) == pytest.approx(0.0, abs=0.05)
    one = next(mg for mg in row.members if mg.pull is not None)
    own = pupil_groups.disadvantage(demo_store, school=one.urn, period=period).row(measure).now
    assert one.gap == pytest.approx(own.gap)
    assert one.share == pytest.approx(own.disadvantaged.cohort / n)
    # one rule path: each member's change in the group's summary is its own card's (vectorised there, not here)
    for mg in row.members:
        mine = pupil_groups.disadvantage(demo_store, school=mg.urn, period=period).row(measure)
        if mine is None:
            assert mg.gap is None
            continue
        c = mine.change
        assert (mg.change.since, mg.change.direction, mg.change.significant) == (c.since, c.direction,
                                                                                 c.significant), mg.urn
        assert mg.change.change == pytest.approx(c.change), mg.urn


def test_a_school_gap_is_its_own_rows(demo_store: Store) -> None:
    period = schools.periods(demo_store)[-1]
    urn, value, den = demo_store.query("""
        SELECT urn, value, denominator FROM pupil_group_observations WHERE level = 'school' AND scope IS NULL
          AND measure = 'ks2_rwm_expected' AND period = ? AND pupil_group = 'disadvantaged' AND status = 'ok'
        ORDER BY denominator DESC, urn LIMIT 1
    """, [period])[0]
    g = pupil_groups.disadvantage(demo_store, school=int(urn), period=period).row("ks2_rwm_expected").now
    assert g.disadvantaged.value == pytest.approx(value) and g.disadvantaged.cohort == den
    assert g.disadvantaged.schools == 1


def test_gap_targets_are_checked_kept_and_tracked(demo_store: Store) -> None:
    period = schools.periods(demo_store)[-1]
    gid, _ = _group_with_pupils(demo_store, period, "ks2_rwm_expected")
    lead = Viewer(Role.LEADER, gid, "leader")
    assert governance.set_gap_target(demo_store, lead, gid, "ks2_rwm_expected", "2029/30", "-7") == []
    assert governance.gap_targets(demo_store, "group", gid) == {"ks2_rwm_expected": [("2029/30", -7.0)]}
    problems = governance.set_gap_target(demo_store, lead, gid, "pupils", "2029/30", "-7")
    assert problems[0].startswith("There is no disadvantage gap of 'pupils' to set a target for")
    assert governance.set_gap_target(demo_store, lead, gid, "ks2_rwm_expected", "2029-30", "-7") == [
        "The year of the target, '2029-30', is not an academic year like 2029/30."]
    assert governance.set_gap_target(demo_store, lead, gid, "ks2_rwm_expected", "2029/30", "-170") == [
        "A gap in Expected standard in reading, writing and maths (KS2) cannot be -170: it lies between -100 and "
        "100 percentage points."]
    assert governance.set_gap_target(demo_store, lead, gid, "ks2_rwm_expected", "2029/30", "half") == [
        "The target for the gap, 'half', is not a number."]
    other = Viewer(Role.LEADER, gid + 1, "someone else")
    assert governance.set_gap_target(demo_store, other, gid, "ks2_rwm_expected", "2029/30", "-5") != []
    row = pupil_groups.disadvantage(demo_store, group=gid, period=period,
                                    targets=governance.gap_targets(demo_store, "group", gid)).row("ks2_rwm_expected")
    t = row.target
    assert t is not None and t.period == "2029/30" and t.value == -7.0
    if row.now.gap is not None and row.now.gap < -7.0:
        years = int("2029") - int(period[:4])
        assert t.met is False and t.years_left == years
        assert t.per_year == pytest.approx((-7.0 - row.now.gap) / years)
    # clearing it (a blank) removes it
    assert governance.set_gap_target(demo_store, lead, gid, "ks2_rwm_expected", "2029/30", "") == []
    assert governance.gap_targets(demo_store, "group", gid) == {}
