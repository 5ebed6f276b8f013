"""A group's view of each member is the member's own card (issue 12 point 4), on every demo group and year.

For every group of the demo store and every year it has members: each member's value and status in the group's
grid, its level and the level's words, its flags in the watch list (the same reasons, in the same words) and
whether "no school left behind" counts it below national are what the member's own school card shows. One rule
path (metrics.scorecard.judge_members) decides them all; a school is a one-member group.
"""

from __future__ import annotations

import time

from data.db.store import Store, StoreError
from data.services import groups as groups_svc
from data.services import schools
from data.services.scorecards import scorecard
from metrics.registry import Polarity
from metrics.scorecard import Scorecard, ScorecardRow


def _worse(value: float | None, against: float | None, polarity: str) -> bool:
    """Worse than `against` by polarity (False when either is unknown): the test's own reading, by hand."""
    if value is None or against is None:
        return False
    return value < against if polarity == "higher_better" else value > against if polarity == "lower_better" else False


def _own_below(mine: ScorecardRow) -> bool:
    """Whether the member's own card shows it worse than national ('worse_than_national'; a card without the
    field compared only in its tile: value against its national)."""
    if hasattr(mine, "worse_than_national"):
        return bool(mine.worse_than_national)
    return _worse(mine.value, mine.national, mine.polarity)


def disagreements(store: Store, group_id: int, period: str, cards: dict[tuple[int, str], Scorecard]) -> list[str]:
    """Every way the group's card of `period` says something about a member that the member's own card does not."""
    try:
        card = scorecard(store, group=str(group_id), period=period)
    except StoreError:
        return []  # no member schools that year
    name = card.subject.name
    watch = {(w.urn, m): reason for w in card.watchlist for m, reason in w.reasons}
    out: list[str] = []
    for urn in card.subject.members:
        if (urn, period) not in cards:
            cards[(urn, period)] = scorecard(store, school=urn, period=period)
        own = {r.measure: r for r in cards[(urn, period)].rows}
        for r in card.rows:
            mine = own.get(r.measure)
            shown = {u: (v, s) for u, v, s in r.member_values}
            if mine is None or r.rollup_method and r.rollup_method.startswith("formula"):
                continue
            where = f"{period} {name}: school {urn} {r.measure}"
            if urn in shown and shown[urn] != (mine.value, mine.status):
                out.append(f"{where}: {shown[urn]} in the grid, {(mine.value, mine.status)} on its own card")
            if r.polarity == Polarity.CONTEXT.value:
                continue
            if urn in shown and (card.member_levels.get((urn, r.measure)),
                                 card.member_labels.get((urn, r.measure))) != (mine.level, mine.level_label):
                out.append(f"{where}: {card.member_labels.get((urn, r.measure))!r} in the grid, "
                           f"{mine.level_label!r} on its own card")
            said = f"{mine.label}: {'; '.join(mine.flag_reasons)}" if mine.flag else None
            if watch.get((urn, r.measure)) != said:
                out.append(f"{where}: the watch list says {watch.get((urn, r.measure))!r}, its own card {said!r}")
            nat = dict(r.member_nationals).get(urn)
            value = shown.get(urn, (None, None))[0]
            counted = _worse(value, nat, r.polarity)
            if urn in shown and counted != _own_below(mine):
                out.append(f"{where}: {'counted' if counted else 'not counted'} below national by the group "
                           f"({value} against {nat}), its own card {mine.value} against {mine.national} "
                           f"({mine.level_label})")
    return out


def test_every_group_sees_each_member_as_its_own_card_does(demo_store: Store) -> None:  # issue 12 point 4
    t = time.perf_counter()
    cards: dict[tuple[int, str], Scorecard] = {}
    problems: list[str] = []
    groups = groups_svc.groups(demo_store)["group_id"].tolist()
    for period in schools.periods(demo_store):
        for gid in groups:
            problems += disagreements(demo_store, int(gid), period, cards)
    print(f"{len(groups)} groups x {len(schools.periods(demo_store))} years, {len(cards)} school cards, "
          f"{time.perf_counter() - t:.0f} s")
    assert len(cards) > 300  # every member of every group in every year with results: the walk really happened
    assert problems == [], f"{len(problems)} disagreements, e.g.\n" + "\n".join(problems[:30])
