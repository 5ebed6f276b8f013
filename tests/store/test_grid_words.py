"""The overview's grid and map say each member's level in the words of the school's own card (issue 11 point 7:
levels never contradict their own words): a first year's cells are "this year only", not a bare "Good"."""

from __future__ import annotations

from data.db.store import Store
from data.services import groups as groups_svc
from data.services import schools
from data.services.scorecards import registry_for, scorecard
from ui.frames import grid_frame, map_frame


def test_grid_and_map_cells_say_what_the_school_card_says(demo_store: Store) -> None:  # issue 11 point 7
    first = schools.periods(demo_store)[0]  # no earlier year: every level there is a status-only level
    groups = groups_svc.groups(demo_store)
    checked = status_only = 0
    for gid in groups[groups["members"] > 1]["group_id"]:
        if len(groups_svc.group_members(demo_store, int(gid), first)) < 2 or checked > 300:
            continue
        card = scorecard(demo_store, group=int(gid), period=first)
        reg = registry_for(demo_store, [int(gid)])
        grid = grid_frame(card, registry=reg)
        if grid.empty:  # no member with a judged result that year
            continue
        est = schools.establishments(demo_store, [u for u, _ in card.members])
        for row in grid.itertuples():
            school = next(r for r in scorecard(demo_store, school=int(row.urn), period=first).rows
                          if r.measure == row.measure_id)
            assert row.level_label == school.level_label, (row.school, row.measure)
            checked += 1
            status_only += "this year only" in row.level_label
        measure = grid["measure_id"].iloc[0]
        shown = map_frame(card, est, measure, registry=reg).set_index("urn")["level_label"]
        assert all(shown[u] == w for (u, m), w in card.member_labels.items() if m == measure and u in shown.index)
    assert checked > 30 and status_only > 0
