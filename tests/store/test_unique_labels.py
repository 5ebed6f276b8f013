"""Labels are unique across the national measures and a group's local measures (case and spaces ignored): the form
and define_local_measure refuse a clash in words and write nothing; a store that already holds one (written before
the rule) loads with every measure shown under a label of its own, the clash said, and no grid cell hidden."""

from __future__ import annotations

import pytest
from conftest import snapshot

from charts._prep import grid_cells
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups as groups_svc
from data.services import local_measures
from data.services.access import Role, Viewer
from data.services.governance import check_definition, define_measure
from data.services.local_measures import define_local_measure
from data.services.scorecards import registry_for, scorecard
from metrics.registry import load_registry
from ui.frames import grid_frame

EVERY = ["primary", "secondary"]
EVENTS = {"id": "community_events", "label": "Community events",
          "description": "Events the school ran for families and the local community in the year.",
          "perspective": "partnership_community", "unit": "events", "format": ".0f", "polarity": "higher_better",
          "phases": EVERY, "rollup": "sum", "min_cohort": 1}
NATIONAL_CLASH = "label 'progress  8' is already the label of the national measure progress8: a local measure " \
                 "needs its own (labels are unique, ignoring case and spaces)"


@pytest.fixture
def groups(store: Store) -> tuple[int, int]:
    one = groups_svc.create_group(store, "partnership", "Riverside Partnership")
    other = groups_svc.create_group(store, "trust", "Hilltop Trust")
    assert define_local_measure(store, one, EVENTS, actor="governor@example") == []
    return one, other


def test_a_local_measure_may_not_take_a_national_label(store: Store, groups: tuple[int, int]) -> None:
    # issue 12 point 5
    one, _ = groups
    before = snapshot(store)
    issues = define_local_measure(store, one, {**EVENTS, "id": "our_p8", "label": "progress  8", "unit": "score",
                                               "rollup": "weighted_mean"}, actor="governor@example")
    assert [(i.measure, i.field, i.message) for i in issues] == [("our_p8", "label", NATIONAL_CLASH)]
    assert issues[0].for_page() == "“progress  8” is already the name of a national measure: choose another name."
    assert snapshot(store) == before  # nothing written, nothing audited


def test_a_local_measure_may_not_take_its_own_groups_label_but_another_group_may(store: Store,
                                                                                 groups: tuple[int, int]) -> None:
    # issue 12 point 5
    one, other = groups
    twin = {**EVENTS, "id": "family_events", "label": "  COMMUNITY   events "}
    issues = define_local_measure(store, one, twin, actor="governor@example")
    assert [(i.measure, i.field, i.message) for i in issues] == [
        ("family_events", "label", "label '  COMMUNITY   events ' is also the label of measure community_events "
                                   "(labels are unique, ignoring case and spaces)")]
    assert [d["id"] for d in local_measures.local_measures(store, one)] == ["community_events"]
    # another group never shares a scorecard with this one: the same words are its own measure's
    assert define_local_measure(store, other, twin, actor="hilltop@example") == []
    # re-saving a measure under its own label is no clash
    assert define_local_measure(store, one, {**EVENTS, "description": EVENTS["description"] + " (every term)"},
                                actor="governor@example") == []


def test_the_governors_form_refuses_a_national_label_in_words(store: Store, groups: tuple[int, int]) -> None:
    # issue 12 point 5
    one, _ = groups
    governor = Viewer(Role.GOVERNOR, one, "governor of Riverside")
    clash = {**EVENTS, "id": "our_p8", "label": "progress  8"}
    assert [i.message for i in check_definition(store, governor, one, clash)] == [NATIONAL_CLASH]
    before = snapshot(store)
    assert [i.message for i in define_measure(store, governor, one, clash)] == [NATIONAL_CLASH]
    assert snapshot(store) == before


def test_a_store_that_already_holds_a_clash_shows_every_measure_and_says_what_clashes(demo_store: Store) -> None:
    # issue 12 point 5: written straight to the store, as a store from before the rule holds it
    group = groups_svc.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    assert group is not None
    own = {d["id"]: d for d in local_measures.local_measures(demo_store, group.group_id)}
    local = own["student_leadership_participation"]
    local_measures.write_local_measure(demo_store, group.group_id, {**local, "label": "Progress 8"},
                                       actor="old-version")
    local_measures.write_local_measure(demo_store, group.group_id, {**own["community_events"], "label": "progress 8"},
                                       actor="old-version")

    reg = registry_for(demo_store, [group.group_id])
    labels = [m.label for m in reg.measures]
    assert len({lab.casefold() for lab in labels}) == len(labels)  # every label its own
    assert reg.get("progress8").label == "Progress 8"  # the national measure keeps its name
    assert reg.get("student_leadership_participation").label == "Progress 8 (student_leadership_participation)"
    assert reg.get("community_events").label == "progress 8 (community_events)"
    assert reg.problems == (
        "Local measure community_events is named “progress 8”, as the national measure progress8 is: it is shown "
        "as “progress 8 (community_events)” until it is renamed on the Measures page.",
        "Local measure student_leadership_participation is named “Progress 8”, as the national measure progress8 "
        "is: it is shown as “Progress 8 (student_leadership_participation)” until it is renamed on the Measures "
        "page.",
    )
    assert load_registry().problems == ()

    # the latest year with Progress 8 results (DfE published none for 2024/25 and 2025/26)
    period = demo_store.query("SELECT max(period) FROM observations WHERE measure = 'progress8' AND status = 'ok' "
                              "AND value IS NOT NULL")[0][0]
    card = scorecard(demo_store, group=str(group.group_id), period=period,
                     measures=["progress8", "student_leadership_participation"])
    frame = grid_frame(card, registry=reg)
    cells, _rows, measures = grid_cells(frame)
    shown = {(r.measure, u) for r in card.rows for u, v, _ in r.member_values if v is not None}
    assert len(shown) > 0 and len(measures) == 2
    assert len(cells) == len(frame) >= len(shown)  # one cell per school and measure: none merged away
