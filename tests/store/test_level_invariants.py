"""Levels never contradict their own words or each other, walked over the whole demo (issue 11 point 7).

Every demo group's card and every member school's own card, in the store's first year (one year of data: the
window holds nothing earlier) and its latest: the grid's level of a member is the member's own card's level, in the
same words; the watch list flags only what the member's own card flags; a level keeps within how the value stands
against national; a flag has a level; the sentence says the card's level; the colour is the level's colour.
"""

from __future__ import annotations

import time

import pytest

from charts.palette import LEVEL_COLOURS, LEVEL_WORDS
from data.db.errors import StoreError
from data.db.store import Store
from data.services import groups, schools
from data.services.scorecards import registry_for, scorecard
from metrics.comparators import OWN_KIND
from metrics.scorecard import LEVEL_BOUNDS, LEVELS, Scorecard, ScorecardRow, versus_national
from metrics.sentences import describe


def _row_contradictions(where: str, r: ScorecardRow, measure) -> list[str]:
    """What one card row says that its other words contradict."""
    out = []
    if r.level is not None:
        low, high = LEVEL_BOUNDS[versus_national(r.significance, r.polarity)]
        if not low <= r.level <= high:
            out.append(f"{where}: level {r.level_label} while {r.significance} against national")
        if not r.level_label.startswith(LEVELS[r.level - 1]):
            out.append(f"{where}: level {r.level} worded {r.level_label!r}")
        if LEVEL_WORDS[r.level] != LEVELS[r.level - 1] or LEVEL_COLOURS.get(r.level) is None:
            out.append(f"{where}: the level's colour and words differ")
    elif r.level_label in LEVELS:
        out.append(f"{where}: no level but worded {r.level_label!r}")
    if r.flag and r.level is None:
        out.append(f"{where}: flagged ({'; '.join(r.flag_reasons)}) but no level ({r.level_label})")
    if r.flag and any("bottom fifth" in x for x in r.flag_reasons) and (r.level or 0) > 2:
        out.append(f"{where}: flagged in the bottom fifth but {r.level_label}")
    if measure is not None and measure.judged and r.value is not None:  # without a value it says why there is none
        sentence = describe(r, measure)
        if f"Level: {r.level_label}." not in sentence:
            out.append(f"{where}: the sentence does not say the card's level: {sentence}")
        if r.significance == "in line" and ("clearly below" in sentence or "clearly above" in sentence):
            out.append(f"{where}: in line but the sentence says clearly: {sentence}")
    return out


def walk(store: Store, period: str) -> tuple[list[str], int, int]:
    """Every contradiction on every demo group card and its members' own cards in `period`, with the numbers of
    group cards and school cards read."""
    problems: list[str] = []
    n_groups = n_schools = 0
    school_cards: dict[int, Scorecard] = {}
    for gid in groups.groups(store)["group_id"].tolist():
        try:
            card = scorecard(store, group=str(gid), period=period)
        except StoreError:
            continue  # no member schools that year
        n_groups += 1
        reg = registry_for(store, [int(gid)])
        name = card.subject.name
        for r in card.rows:
            problems += _row_contradictions(f"{name} {r.measure}", r, reg.get(r.measure) if r.measure in reg else None)
        flagged = {(w.urn, m) for w in card.watchlist for m, _ in w.reasons}
        for urn in card.subject.members:
            if urn not in school_cards:
                school_cards[urn] = scorecard(store, school=urn, period=period)
                n_schools += 1
                mine_reg = registry_for(store, groups.groups_of(store, urn))
                for r in school_cards[urn].rows:
                    problems += _row_contradictions(f"school {urn} {r.measure}", r,
                                                    mine_reg.get(r.measure) if r.measure in mine_reg else None)
            own = {r.measure: r for r in school_cards[urn].rows}
            for (u, m), level in card.member_levels.items():
                if u != urn or m not in own:
                    continue
                mine = own[m]
                if level != mine.level or card.member_labels.get((u, m)) != mine.level_label:
                    problems.append(f"{name}: school {urn} {m} is {card.member_labels.get((u, m))!r} in the grid, "
                                    f"{mine.level_label!r} on its own card")
            for u, m in flagged:
                if u == urn and m in own and not own[m].flag:
                    problems.append(f"{name}: watch list flags school {urn} on {m}, its own card does not "
                                    f"({own[m].level_label})")
    return problems, n_groups, n_schools


@pytest.mark.parametrize("which", ["first", "latest"])
def test_no_level_contradicts_another_on_the_demo(demo_store: Store, which: str) -> None:  # issue 11 point 7
    periods = schools.periods(demo_store)
    period = periods[0] if which == "first" else periods[-1]
    t = time.perf_counter()
    problems, n_groups, n_schools = walk(demo_store, period)
    seconds = time.perf_counter() - t
    print(f"{period}: {n_groups} group cards and {n_schools} school cards walked in {seconds:.1f} s")
    assert n_groups > 20 and n_schools > 50  # the 300-school demo: 31 groups and 100 schools in its first year
    assert problems == [], f"{len(problems)} contradictions, e.g.\n" + "\n".join(problems[:20])


def test_alternative_provision_on_the_demo_is_judged_only_against_its_own_kind(demo_store: Store) -> None:
    # issue 11 point 7: a PRU's absence is never ranked "Strong" with no national figure for alternative provision
    period = schools.periods(demo_store)[-1]
    urns = [u for u, p in demo_store.query("SELECT urn, phase FROM establishments") if p in OWN_KIND]
    assert urns
    seen = 0
    for urn in urns:
        for r in scorecard(demo_store, school=urn, period=period).rows:
            if r.value is None or r.polarity == "context" or r.level_label.startswith("Local"):
                continue
            seen += 1
            if r.national is None:
                assert r.level is None and r.level_label.startswith("No level: no national figure for"), (urn, r)
            else:
                assert r.national_scope in OWN_KIND, (urn, r.measure, r.national_scope)
    assert seen
