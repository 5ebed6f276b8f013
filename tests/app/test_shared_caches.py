"""The pages' shared caches (issue 14: st.cache_resource instead of st.cache_data) give what the scoped reads give,
never one viewer's answer to another, never a caller's change to the next caller, and move on with every write."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import streamlit as st

from data.db.store import Store
from data.outputs.reports import scorecard_csv
from data.services import governance, scope
from data.services.access import AccessDenied, Role, Viewer
from metrics.registry import Perspective
from ui import context, measures, reports, views
from ui import shared as ui_shared
from ui.frames import school_details, school_table
from ui.store import is_demo

ADMIN = Viewer(Role.ADMIN)


@pytest.fixture()
def shared(demo_store: Store) -> Iterator[Store]:
    """The demo store with every cache of the process empty before and after."""
    st.cache_resource.clear()
    st.cache_data.clear()
    ui_shared.clear_all()
    yield demo_store
    st.cache_resource.clear()
    st.cache_data.clear()
    ui_shared.clear_all()


def _two_groups(store: Store) -> tuple[int, int, str]:
    """Two groups with members that share no school, and a year they both have."""
    groups = list(scope.groups(store, ADMIN))
    period = scope.periods(store, ADMIN)[-1]
    first = groups[0]
    own = set(scope.members(store, ADMIN, first, period)["urn"])
    other = next(g for g in groups[1:] if own.isdisjoint(scope.members(store, ADMIN, g, period)["urn"])
                 and not scope.members(store, ADMIN, g, period).empty)
    return first, other, period


def test_the_cards_and_tables_are_the_scoped_reads(shared: Store) -> None:
    gid, _other, period = _two_groups(shared)
    leader = Viewer(Role.LEADER, gid, "Leader")
    assert context.group_card(shared, leader, gid, period) == scope.group_scorecard(shared, leader, gid, period)
    urn = int(scope.members(shared, leader, gid, period)["urn"].iloc[0])
    card = scope.school_scorecard(shared, leader, urn, period)
    assert context.school_card(shared, leader, urn, period) == card
    reg = scope.registry(shared, leader, urn=urn)
    found = scope.local_authority_values(shared, leader, [urn], period, [r.measure for r in card.rows])
    la = {m: f.value for (_u, m), f in found.items()}
    for view in views.school_perspectives(shared, leader, urn, period):
        rows = [r for r in card.rows if r.perspective == view.perspective.value]
        pd.testing.assert_frame_equal(view.table, school_table(rows, reg, la))
        pd.testing.assert_frame_equal(view.details, school_details(rows, reg))
    assert [v.perspective for v in views.school_perspectives(shared, leader, urn, period)] == [
        p for p in Perspective if any(r.perspective == p.value for r in card.rows)]
    assert views.school_info(shared, leader, urn) == scope.school(shared, leader, urn)
    fam = views.similar_schools(shared, leader, urn, weights={"disadvantaged_pct": 1.0, "pupils": 2.0}, size=12,
                                period=period, same_kind=True)
    direct = scope.similar_schools(shared, leader, urn, weights={"disadvantaged_pct": 1.0, "pupils": 2.0}, size=12,
                                   period=period, same_kind=True)
    pd.testing.assert_frame_equal(fam, direct)
    assert fam.attrs == direct.attrs
    others = [int(u) for u in fam["urn"]]
    mid = next(r.measure for r in card.rows if r.value is not None)
    pd.testing.assert_frame_equal(views.school_values(shared, leader, urn, others, period, mid),
                                  scope.school_values(shared, leader, urn, others, period, mid))
    csv, _xlsx = reports.scorecard_downloads(shared, leader, gid, period, None)
    assert csv == scorecard_csv(scope.group_scorecard(shared, leader, gid, period), scope.registry(shared, leader, gid))
    assert measures.chosen_measures(shared, leader, gid) == scope.chosen_measures(shared, leader, gid)
    assert measures.edit_refusal(shared, leader, gid) == governance.edit_refusal(shared, leader, gid)
    assert is_demo(shared) is shared.is_demo() is True


def test_one_viewer_never_gets_what_another_may_not_see(shared: Store) -> None:
    gid, other, period = _two_groups(shared)
    mine, theirs = Viewer(Role.LEADER, gid, "Mine"), Viewer(Role.LEADER, other, "Theirs")
    urn = int(scope.members(shared, mine, gid, period)["urn"].iloc[0])
    # the first viewer fills every cache...
    context.group_card(shared, mine, gid, period)
    context.school_card(shared, mine, urn, period)
    context.members_table(shared, mine, gid, period)
    views.school_info(shared, mine, urn)
    views.school_perspectives(shared, mine, urn, period)
    reports.scorecard_downloads(shared, mine, gid, period, None)
    measures.chosen_measures(shared, mine, gid)
    # ...and the other, asking for the same, is refused as the scoped reads refuse them
    for read in (lambda: context.group_card(shared, theirs, gid, period),
                 lambda: context.school_card(shared, theirs, urn, period),
                 lambda: context.members_table(shared, theirs, gid, period),
                 lambda: views.school_info(shared, theirs, urn),
                 lambda: views.school_perspectives(shared, theirs, urn, period),
                 lambda: reports.scorecard_downloads(shared, theirs, gid, period, None),
                 lambda: measures.chosen_measures(shared, theirs, gid)):
        with pytest.raises(AccessDenied):
            read()
    assert gid not in context.group_options(shared, theirs)


def test_a_callers_change_is_not_the_next_callers(shared: Store) -> None:
    gid, _other, period = _two_groups(shared)
    leader = Viewer(Role.LEADER, gid, "Leader")
    table = context.members_table(shared, leader, gid, period)
    table["added"] = 1
    table.loc[table.index[0], "name"] = "Changed"
    again = context.members_table(shared, leader, gid, period)
    assert "added" not in again and "Changed" not in set(again["name"])
    options = context.group_options(shared, leader)
    options.clear()
    assert context.group_options(shared, leader)
    years = context.group_years(shared, leader, gid)
    years.append("2099/00")
    assert "2099/00" not in context.group_years(shared, leader, gid)


def test_a_write_moves_the_caches_on(shared: Store) -> None:
    gid, _other, _period = _two_groups(shared)
    leader = Viewer(Role.LEADER, gid, "Leader")
    before = measures.chosen_measures(shared, leader, gid)
    wanted = [m.id for m in governance.applicable_measures(shared, leader, gid)][:3]
    assert wanted != before
    assert governance.choose_measures(shared, leader, gid, wanted) == []
    assert measures.chosen_measures(shared, leader, gid) == wanted == scope.chosen_measures(shared, leader, gid)


# ui.shared, the decorator itself: what st.cache_resource gave the pages (one value per key, shared, bounded,
# thread-safe, exceptions not kept), without its hashing and replay


class Somewhere:
    """Stands where a Store stands in a cache's arguments: only which object it is counts."""


def test_the_least_recently_used_entry_goes_first() -> None:
    calls: list[int] = []

    @ui_shared.shared(max_entries=2)
    def square(_store: object, generation: int, x: int) -> int:
        calls.append(x)
        return x * x

    store = Somewhere()
    assert [square(store, 1, 2), square(store, 1, 3), square(store, 1, 2)] == [4, 9, 4]
    assert calls == [2, 3]  # 2 again was a hit, and is now the most recently used
    assert square(store, 1, 4) == 16  # a third key: 3, the least recently used, is dropped
    assert len(square.cache) == 2
    assert square(store, 1, 2) == 4 and calls == [2, 3, 4]
    assert square(store, 1, 3) == 9 and calls == [2, 3, 4, 3]
    assert square(store, 2, 3) == 9 and calls == [2, 3, 4, 3, 3]  # another generation: another key


def test_the_key_is_the_plain_arguments_and_which_store() -> None:
    calls: list[tuple] = []

    @ui_shared.shared(max_entries=8)
    def read(_store: object, generation: int, viewer: Viewer, ident: int, method: str = "pooled",
             _card: object = None) -> list[int]:
        calls.append((generation, ident, method))
        return [ident]

    one, two = Somewhere(), Somewhere()
    leader = Viewer(Role.LEADER, 7, "Ann")
    first = read(one, 3, leader.scope, 5)
    # the same key however it is called, and whatever the unhashed `_card` is: the same object back
    assert read(one, 3, leader.scope, 5, "pooled") is first
    assert read(one, 3, Viewer(Role.LEADER, 7, "Bob").scope, ident=5, _card=object()) is first
    assert len(calls) == 1
    read(two, 3, leader.scope, 5)  # another Store at the same generation: its own entry
    read(one, 3, Viewer(Role.GOVERNOR, 7).scope, 5)  # another viewer's scope: its own entry
    assert len(calls) == 3
    with pytest.raises(TypeError, match="read"):
        read(one, 3, leader.scope, [5])  # a list is no key: said, with the function's name


def test_an_exception_is_not_kept() -> None:
    tries: list[int] = []

    @ui_shared.shared(max_entries=4)
    def flaky(generation: int) -> str:
        tries.append(generation)
        if len(tries) == 1:
            raise AccessDenied("not yet")
        return "read"

    with pytest.raises(AccessDenied):
        flaky(1)
    assert flaky(1) == "read" and flaky(1) == "read"
    assert tries == [1, 1]


def test_clear_all_empties_every_shared_cache(shared: Store) -> None:
    @ui_shared.shared(max_entries=4)
    def double(generation: int) -> int:
        return 2 * generation

    gid, _other, period = _two_groups(shared)
    leader = Viewer(Role.LEADER, gid, "Leader")
    card = context.group_card(shared, leader, gid, period)
    assert context.group_card(shared, leader, gid, period) is card  # a hit shares the one object
    double(1)
    assert len(double.cache) == 1 and len(context._card.cache) == 1
    ui_shared.clear_all()
    assert len(double.cache) == 0 and len(context._card.cache) == 0
    again = context.group_card(shared, leader, gid, period)
    assert again is not card and again == card  # read afresh, the same card


def test_concurrent_calls_compute_each_key_once() -> None:
    import threading
    import time

    computed: list[int] = []
    guard = threading.Lock()

    @ui_shared.shared(max_entries=64)
    def slow(generation: int, ident: int) -> tuple[int, int]:
        with guard:
            computed.append(ident)
        if ident == 3:
            raise ValueError("three is refused, every time")
        time.sleep(0.05)  # long enough for every thread to ask while the first computes
        return (generation, ident)

    start = threading.Barrier(16)
    results: list[object] = []
    errors: list[BaseException] = []

    def ask(n: int) -> None:
        start.wait()
        for i in range(200):
            ident = (n + i) % 6
            try:
                value = slow(1, ident)
            except ValueError as exc:
                with guard:
                    errors.append(exc)
                continue
            with guard:
                results.append(value)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) + len(errors) == 16 * 200
    assert len(errors) == sum(1 for n in range(16) for i in range(200) if (n + i) % 6 == 3)
    # every key that succeeds was computed once, and every caller got the one object
    assert sorted(i for i in computed if i != 3) == [0, 1, 2, 4, 5]
    assert {id(v) for v in results} == {id(slow(1, i)) for i in (0, 1, 2, 4, 5)}
    assert computed.count(3) == len(errors)  # an exception is never kept: each caller of 3 computed it again
