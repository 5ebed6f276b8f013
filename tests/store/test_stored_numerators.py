"""The store's own invariant: a value stored with its parts is its parts, numerator = value x denominator / scale.

Roll-ups pool sum(numerator) / sum(denominator) x scale, so a numerator on another scale than its measure's turns a
group's 27% into 0.27 ("0%" on the page). Checked on the demo, which every importer of today's formats writes.
"""

from __future__ import annotations

from data.db.store import Store
from data.services import schools
from metrics.registry import load_registry


def test_every_stored_numerator_is_on_its_measures_scale(demo_store: Store) -> None:
    registry = load_registry()
    rows = demo_store.query(
        "SELECT measure, source_kind, urn, period, value, numerator, denominator FROM observations "
        "WHERE level = 'school' AND status = 'ok' AND numerator IS NOT NULL AND denominator > 0")
    assert rows
    bad = []
    for measure, kind, urn, period, value, num, den in rows:
        if measure not in registry:
            continue  # a group's local measure: its values come from the group's own file
        scale = registry.get(measure).scale
        # DfE rounds published percentages (destinations to whole points) and scores to one decimal
        slack = 0.51 if scale == 100 else 0.06 + 0.001 * abs(value)
        if abs(value - num / den * scale) > slack:
            bad.append((measure, kind, urn, period, value, num, den))
    assert not bad, f"{len(bad)} values off their measure's scale, e.g. {bad[:3]}"


def test_a_groups_disadvantaged_rate_pools_the_pupils(demo_store: Store) -> None:
    """KS2 RWM of disadvantaged pupils for a trust: sum of pupils reaching it / sum of pupils, as a percentage."""
    from data.services.scorecards import scorecard

    period = schools.periods(demo_store)[-1]
    trusts = demo_store.query(
        "SELECT g.group_id FROM groups g JOIN memberships m USING (group_id) WHERE g.kind = 'trust' "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5")
    checked = 0
    for (gid,) in trusts:
        card = scorecard(demo_store, group=str(gid), period=period)
        row = next((r for r in card.rows if r.measure == "ks2_rwm_expected_disadvantaged"), None)
        if row is None or row.value is None:
            continue
        counted = [u for u, v, st in row.member_values if v is not None and st == "ok"]
        parts = demo_store.query(
            "SELECT sum(numerator), sum(denominator) FROM observations WHERE level = 'school' AND period = ? "
            "AND measure = 'ks2_rwm_expected_disadvantaged' AND status = 'ok' AND urn IN (SELECT unnest(?))",
            [period, counted])[0]
        assert abs(row.value - parts[0] / parts[1] * 100) < 1e-9 and 1 < row.value <= 100
        checked += 1
    assert checked
