"""The overview map's frame, built with one merge (ui.frames.map_frame), is the frame the member-by-member loop built:
the same schools in the same order, the same coordinates, levels, words and values, for every group and measure of
the demo."""

from __future__ import annotations

import pandas as pd
from pandas.testing import assert_frame_equal

from data.db.store import Store
from data.services import groups as groups_svc
from data.services import schools
from data.services.scorecards import registry_for, scorecard
from metrics.numbers import NO_VALUE
from metrics.registry import Registry
from metrics.scorecard import Scorecard
from ui.frames import cell_words, map_frame


def _map_frame_loop(card: Scorecard, establishments: pd.DataFrame, measure: str, *,
                    registry: Registry) -> pd.DataFrame:
    """The map's frame as the overview built it before issue 14: one establishments look-up per member."""
    row = next((r for r in card.rows if r.measure == measure), None)
    values = {u: v for u, v, _ in row.member_values} if row else {}
    est = establishments.set_index("urn")
    data = []
    for urn, name in card.members:
        if urn not in est.index:
            continue
        e = est.loc[urn]
        level = card.member_levels.get((urn, measure))
        data.append({"urn": urn, "name": name, "latitude": e["latitude"], "longitude": e["longitude"],
                     "level": level, "level_label": cell_words(card, urn, measure),
                     "display": registry.get(row.measure).number.text(values.get(urn)) if row else NO_VALUE})
    return pd.DataFrame(data, columns=["urn", "name", "latitude", "longitude", "level", "level_label", "display"])


def test_map_frame_is_the_loop_s(demo_store: Store) -> None:
    groups = groups_svc.groups(demo_store)
    periods = schools.periods(demo_store)
    compared = 0
    for gid in groups[groups["members"] > 1]["group_id"].head(12):
        for period in (periods[0], periods[-1]):
            if len(groups_svc.group_members(demo_store, int(gid), period)) < 2:
                continue
            card = scorecard(demo_store, group=int(gid), period=period)
            reg = registry_for(demo_store, [int(gid)])
            est = schools.establishments(demo_store, [u for u, _ in card.members])
            # every measure of the card, one it lacks, and a table that misses a member
            for measure in [r.measure for r in card.rows] + ["no_such_measure"]:
                for table in (est, est.iloc[1:]):
                    assert_frame_equal(map_frame(card, table, measure, registry=reg),
                                       _map_frame_loop(card, table, measure, registry=reg), check_dtype=False)
                    compared += 1
    assert compared > 100


def test_map_frame_of_no_members_or_no_places(demo_store: Store) -> None:
    period = schools.periods(demo_store)[-1]
    gid = next(int(g) for g in groups_svc.groups(demo_store)["group_id"]
               if groups_svc.group_members(demo_store, int(g), period))
    card = scorecard(demo_store, group=gid, period=period)
    reg = registry_for(demo_store, [gid])
    est = schools.establishments(demo_store, [u for u, _ in card.members])
    nowhere = map_frame(card, est.iloc[0:0], card.rows[0].measure, registry=reg)
    assert nowhere.empty and list(nowhere.columns) == list(_map_frame_loop(card, est, "x", registry=reg).columns)
