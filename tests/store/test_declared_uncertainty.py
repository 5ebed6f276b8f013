"""A declared uncertainty is obeyed by the engine (issue 12 point 3): a measure declared `uncertainty = "none"` gets
no interval and no "significantly" words on any school card, group card, watch list or sentence, national or local.
Before, a pooled share on a 0-100 scale was given a Wilson interval whatever it declared."""

from __future__ import annotations

from dataclasses import replace

import pytest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, local_measures, schools, scorecards
from data.services.scorecards import scorecard
from metrics.registry import Registry, Uncertainty, load_registry
from metrics.scorecard import Scorecard
from metrics.sentences import describe


def _words(card: Scorecard, measure: str, reg: Registry) -> list[str]:
    """Everything a card says about one measure: its flag reasons, its watch-list reasons and its sentence."""
    row = next(r for r in card.rows if r.measure == measure)
    out = [*row.flag_reasons, describe(row, reg.get(measure))]
    return out + [why for item in card.watchlist for mid, why in item.reasons if mid == measure]


def _assert_no_interval(card: Scorecard, measure: str, reg: Registry) -> None:
    row = next(r for r in card.rows if r.measure == measure)
    assert (row.ci_low, row.ci_high, row.uncertainty, row.significance) == (None, None, None, None), card.subject
    said = " ".join(_words(card, measure, reg))
    assert "significantly" not in said and "clearly" not in said and "chance" not in said, said


def test_a_national_measure_declared_none_has_no_interval_anywhere(demo_store: Store,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 12 point 3: the national registry as a file declaring basics_94 with uncertainty = "none"
    period = schools.periods(demo_store)[-1]
    flagged = [int(u) for (u,) in demo_store.query(
        "SELECT urn FROM observations WHERE measure = 'basics_94' AND period = ? AND status = 'ok' "
        "AND level = 'school' ORDER BY value LIMIT 12", [period])]
    before = [scorecard(demo_store, school=u, period=period, measures=["basics_94"]) for u in flagged]
    assert any(c.rows[0].ci_low is not None and c.rows[0].significance for c in before)  # as declared: wilson
    national = load_registry()
    declared = Registry(tuple(replace(m, uncertainty=Uncertainty.NONE) if m.id == "basics_94" else m
                              for m in national.measures))
    monkeypatch.setattr(scorecards, "load_registry", lambda: declared)
    for u in flagged:
        _assert_no_interval(scorecard(demo_store, school=u, period=period, measures=["basics_94"]), "basics_94",
                            declared)
    for gid in groups.groups(demo_store)["group_id"].head(8):
        if not groups.group_members(demo_store, int(gid), period):
            continue
        card = scorecard(demo_store, group=str(int(gid)), period=period)
        if any(r.measure == "basics_94" for r in card.rows):
            _assert_no_interval(card, "basics_94", declared)


def test_a_local_measure_declared_none_has_no_interval_anywhere(demo_store: Store) -> None:
    # issue 12 point 3: the flagship's pooled share of pupils, redeclared without an interval
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    assert group is not None
    mid = "student_leadership_participation"
    local = next(d for d in local_measures.local_measures(demo_store, group.group_id) if d["id"] == mid)
    period = schools.periods(demo_store)[-1]  # the demo's local values run to its last year
    card = scorecard(demo_store, group=str(group.group_id), period=period, measures=[mid])
    assert card.rows[0].ci_low is not None  # declared wilson: it has one
    local_measures.write_local_measure(demo_store, group.group_id, {**local, "uncertainty": "none"},
                                       actor="governor@example")
    reg = scorecards.registry_for(demo_store, [group.group_id])
    _assert_no_interval(scorecard(demo_store, group=str(group.group_id), period=period, measures=[mid]), mid, reg)
    for urn, value, _ in card.rows[0].member_values[:6]:
        if value is not None:
            school = scorecard(demo_store, school=urn, period=period, measures=[mid], local_groups=[group.group_id])
            _assert_no_interval(school, mid, reg)
