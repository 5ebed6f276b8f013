"""Issue 14: who is in a group is read once per store generation and answered in memory (groups._memberships); the
answers are the recursive SQL's, on the demo's groups and on nested, cyclic, dated and empty ones, and a write is
seen by the next read."""

from __future__ import annotations

import pytest

from data.db.store import Store
from data.services import groups
from metrics.periods import period_bounds

# the reads as they were: the group and the groups nested in it, joined to the memberships
TREE = """WITH RECURSIVE tree(group_id) AS (
            SELECT ?::INTEGER UNION
            SELECT g.group_id FROM groups g JOIN tree t ON g.parent_id = t.group_id WHERE ?)"""
PERIODS = ("2014/15", "2018/19", "2021/22", "2022/23", "2023/24", "2024/25", "2025/26")


def sql_members(store: Store, gid: int, period: str | None, sub: bool) -> list[int]:
    start, end = period_bounds(period) if period else ("0001-01-01", "9999-12-31")
    return [r[0] for r in store.query(
        TREE + """ SELECT DISTINCT m.urn FROM memberships m JOIN tree t USING (group_id)
        WHERE coalesce(m.start_date, DATE '0001-01-01') <= ?::DATE
          AND coalesce(m.end_date, DATE '9999-12-31') >= ?::DATE ORDER BY m.urn""", [gid, sub, end, start])]


def sql_dated(store: Store, gid: int, sub: bool) -> bool:
    return bool(store.query(TREE + """ SELECT count(*) FROM memberships m JOIN tree t USING (group_id)
        WHERE m.start_date IS NOT NULL OR m.end_date IS NOT NULL""", [gid, sub])[0][0])


def same_as_sql(store: Store, ids: list[int]) -> int:
    checked = 0
    for gid in ids:
        for sub in (True, False):
            for period in (None, *PERIODS):
                assert groups.group_members(store, gid, period, include_subgroups=sub) == \
                    sql_members(store, gid, period, sub), (gid, period, sub)
                checked += 1
            by = groups.group_members_by_period(store, gid, list(PERIODS), include_subgroups=sub)
            assert by == {p: sql_members(store, gid, p, sub) for p in PERIODS}
            assert groups.memberships_dated(store, gid, include_subgroups=sub) == sql_dated(store, gid, sub)
    return checked


def test_every_demo_group_as_the_sql(demo_store: Store) -> None:
    ids = [r[0] for r in demo_store.query("SELECT group_id FROM groups ORDER BY group_id")]
    assert len(ids) > 30
    assert same_as_sql(demo_store, [*ids, 999_999_999]) > 500  # an unknown group: no members, as the SQL


def test_nested_cyclic_and_dated_groups_and_the_next_write(store: Store) -> None:
    top = groups.create_group(store, "trust", "Top")
    mid = groups.create_group(store, "hub", "Middle", parent_id=top)
    low = groups.create_group(store, "cluster", "Low", parent_id=mid)
    empty = groups.create_group(store, "other", "Empty", parent_id=top)
    groups.add_memberships(store, top, [100, 101])
    groups.add_memberships(store, mid, [102, 103], start_date="2019-01-15", end_date="2022-08-31")
    groups.add_memberships(store, low, [104, 100], start_date="2023-09-01")
    groups.add_memberships(store, low, [105], end_date="2018-09-01")
    ids = [top, mid, low, empty]
    same_as_sql(store, ids)
    assert groups.group_members(store, top, "2020/21") == [100, 101, 102, 103]
    assert groups.group_members(store, top, "2024/25", include_subgroups=False) == [100, 101]
    # a write is seen by the next read (the store's generation moved)
    groups.add_memberships(store, empty, [110], start_date="2025-09-01")
    assert groups.group_members(store, top, "2025/26") == [100, 101, 104, 110]
    # a cycle (the bottom made the top's parent): every group once, as the SQL's UNION
    with store.transaction() as cur:
        cur.execute("UPDATE groups SET parent_id = ? WHERE group_id = ?", [low, top])
    assert same_as_sql(store, ids) == len(ids) * 2 * (1 + len(PERIODS))
    assert groups.group_members(store, mid, None) == [100, 101, 102, 103, 104, 105, 110]


@pytest.mark.parametrize("gid", [0, -1])
def test_no_such_group(store: Store, gid: int) -> None:
    assert groups.group_members(store, gid) == []
    assert groups.group_members_by_period(store, gid, ["2024/25"]) == {"2024/25": []}
    assert not groups.memberships_dated(store, gid)
