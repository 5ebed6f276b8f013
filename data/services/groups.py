"""Groups and memberships: the reads of who belongs to which group, and the writes that make a group or add
schools to one (in the state store, audited). Functions of a Store: the SQL over its tables lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from data.db.errors import StoreError
from data.db.state import StateCursor
from data.db.store import Store, merge_memberships

GROUP_KINDS = ("trust", "federation", "partnership", "cluster", "hub", "sponsor", "other")


@dataclass(frozen=True)
class Group:
    group_id: int
    kind: str
    name: str
    code: str | None
    parent_id: int | None


def groups(store: Store, kind: str | None = None) -> pd.DataFrame:
    sql = (
        "SELECT g.*, (SELECT count(DISTINCT m.urn) FROM memberships m WHERE m.group_id = g.group_id) AS members "
        "FROM groups g"
    )
    if kind is None:
        return store.query_df(sql + " ORDER BY g.name")
    return store.query_df(sql + " WHERE g.kind = ? ORDER BY g.name", [kind])


def find_group(store: Store, id_or_name: str | int) -> Group | None:
    """A group by numeric id, GIAS code (e.g. TR00261) or exact name (case-insensitive)."""
    text = str(id_or_name).strip()
    if text.isdigit():
        rows = store.query("SELECT group_id, kind, name, code, parent_id FROM groups WHERE group_id = ?",
                           [int(text)])
        if rows:
            return Group(*rows[0])
    rows = store.query(
        "SELECT group_id, kind, name, code, parent_id FROM groups "
        "WHERE lower(name) = lower(?) OR lower(code) = lower(?) ORDER BY group_id",
        [text, text],
    )
    return Group(*rows[0]) if rows else None


@dataclass(frozen=True)
class _Memberships:
    """Every group's subgroups and every membership, read once per store generation (`_memberships`): a page asks
    who is in a group a dozen times per request, and each was a recursive query (measured: ~15% of a group's first
    overview). Dates are days since 1970 (datetime64[D] as int64), open ends at the extremes, as the SQL's
    coalesce(start_date, DATE '0001-01-01') and coalesce(end_date, DATE '9999-12-31')."""

    children: dict[int, tuple[int, ...]]  # group id -> the groups whose parent it is
    urn: dict[int, np.ndarray]  # group id -> its memberships' URNs, each membership a row
    start: dict[int, np.ndarray]
    end: dict[int, np.ndarray]
    dated: dict[int, bool]  # group id -> whether any of its own memberships has a start or end date

    def tree(self, group_id: int, include_subgroups: bool) -> list[int]:
        """The group and, with subgroups, every group nested in it (each once, whatever the parent links)."""
        found, todo = [int(group_id)], [int(group_id)]
        seen = {int(group_id)}
        while include_subgroups and todo:
            for child in self.children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    found.append(child)
                    todo.append(child)
        return found

    def members(self, group_id: int, include_subgroups: bool, bounds: Sequence[tuple[str, str]]) -> list[list[int]]:
        """For each (first day, last day) of `bounds`, the URNs whose membership overlaps it, ascending, each once."""
        tree = [g for g in self.tree(group_id, include_subgroups) if g in self.urn]
        if not tree:
            return [[] for _ in bounds]
        urn = np.concatenate([self.urn[g] for g in tree])
        start = np.concatenate([self.start[g] for g in tree])
        end = np.concatenate([self.end[g] for g in tree])
        out = []
        for first, last in bounds:
            overlap = (start <= _day(last)) & (end >= _day(first))
            out.append(np.unique(urn[overlap]).tolist())
        return out


_OPEN_START, _OPEN_END = "0001-01-01", "9999-12-31"


def _day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


def _memberships(store: Store) -> _Memberships:
    def read() -> _Memberships:
        parents = store.query("SELECT group_id, parent_id FROM groups WHERE parent_id IS NOT NULL ORDER BY group_id")
        children: dict[int, list[int]] = {}
        for gid, parent in parents:
            children.setdefault(int(parent), []).append(int(gid))
        df = store.query_df(
            "SELECT group_id, urn, coalesce(start_date, DATE '0001-01-01') AS s, "
            "coalesce(end_date, DATE '9999-12-31') AS e, start_date IS NOT NULL OR end_date IS NOT NULL AS d "
            "FROM memberships ORDER BY group_id, urn", fast=True)
        gid = df["group_id"].to_numpy(dtype=np.int64)
        urn = df["urn"].to_numpy(dtype=np.int64)
        start = df["s"].to_numpy().astype("datetime64[D]").astype(np.int64)
        end = df["e"].to_numpy().astype("datetime64[D]").astype(np.int64)
        dated = df["d"].to_numpy(dtype=bool)
        ids, first = np.unique(gid, return_index=True)
        bounds = [*first.tolist(), len(gid)]
        at = {int(g): slice(bounds[i], bounds[i + 1]) for i, g in enumerate(ids.tolist())}
        return _Memberships({k: tuple(v) for k, v in children.items()}, {g: urn[k] for g, k in at.items()},
                            {g: start[k] for g, k in at.items()}, {g: end[k] for g, k in at.items()},
                            {g: bool(dated[k].any()) for g, k in at.items()})

    return store.remembered(("memberships_index",), read)


def group_members(store: Store, group_id: int, period: str | None = None, *,
                  include_subgroups: bool = True) -> list[int]:
    """URNs of the group's members; with a period, those whose membership overlaps that year."""
    from metrics.periods import period_bounds

    bounds = period_bounds(period) if period else (_OPEN_START, _OPEN_END)
    return _memberships(store).members(group_id, include_subgroups, [bounds])[0]


def group_members_by_period(store: Store, group_id: int, periods: Sequence[str], *,
                            include_subgroups: bool = True) -> dict[str, list[int]]:
    """For each academic year, the URNs whose membership overlaps it (as group_members), in one read."""
    from metrics.periods import period_bounds

    found = _memberships(store).members(group_id, include_subgroups, [period_bounds(p) for p in periods])
    return dict(zip(periods, found, strict=True))


def memberships_dated(store: Store, group_id: int, *, include_subgroups: bool = True) -> bool:
    """Whether any of the group's memberships has a start or end date (then its past can be told by year)."""
    index = _memberships(store)
    return any(index.dated.get(g, False) for g in index.tree(group_id, include_subgroups))


def groups_of(store: Store, urn: int) -> list[int]:
    """Ids of every group the school has ever belonged to."""
    return [r[0] for r in store.query("SELECT DISTINCT group_id FROM memberships WHERE urn = ? ORDER BY 1",
                                      [urn])]


def memberships(store: Store, urn: int) -> pd.DataFrame:
    return store.query_df(
        "SELECT g.group_id, g.kind, g.name, m.start_date, m.end_date FROM memberships m "
        "JOIN groups g USING (group_id) WHERE m.urn = ? ORDER BY m.start_date NULLS FIRST, g.name",
        [urn],
    )


def membership_years(store: Store, group_id: int, period: str) -> dict[int, int]:
    """Full academic years each member has been in the group by the end of `period` (99 when the start
    date is unknown). A school joining on 1 September counts that year; later in the year, from the next."""
    from metrics.periods import period_bounds, period_start_year

    start, end = period_bounds(period)
    rows = store.query(
        "SELECT urn, min(start_date) FROM memberships WHERE group_id = ? "
        "AND coalesce(start_date, DATE '0001-01-01') <= ?::DATE "
        "AND coalesce(end_date, DATE '9999-12-31') >= ?::DATE "
        "GROUP BY urn", [group_id, end, start])
    last = period_start_year(period)
    out = {}
    for urn, joined in rows:
        if joined is None:
            out[int(urn)] = 99
            continue
        first = joined.year if (joined.month, joined.day) <= (9, 1) else joined.year + 1
        out[int(urn)] = max(last - first + 1, 0)
    return out


def create_group(store: Store, kind: str, name: str, *, code: str | None = None, parent_id: int | None = None,
                 actor: str = "system", source: str = "manual") -> int:
    if kind not in GROUP_KINDS:
        raise StoreError(f"group kind {kind!r} is not one of {', '.join(GROUP_KINDS)}")
    if not name.strip():
        raise StoreError("a group needs a name")
    with store.transaction() as cur:  # a group people make: in the state store, numbered from 10,000,000
        gid = cur.execute(
            "INSERT INTO groups (kind, name, code, parent_id, source) VALUES (?, ?, ?, ?, ?) RETURNING group_id",
            [kind, name.strip(), code, parent_id, source],
        ).fetchall()[0][0]
        store.audit(cur, actor, "create", "group", gid, None, {"kind": kind, "name": name, "parent_id": parent_id},
                    group_id=gid)
    return int(gid)


def add_membership(store: Store, group_id: int, urn: int, start_date: str | None = None, end_date: str | None = None,
                   *, actor: str = "system", source: str = "manual") -> None:
    add_memberships(store, group_id, [urn], start_date, end_date, actor=actor, source=source)


def add_memberships(store: Store, group_id: int, urns: Sequence[int], start_date: str | None = None,
                    end_date: str | None = None, *, actor: str = "system", source: str = "manual") -> int:
    """Add schools to a group for a date range (open-ended when None), in one transaction."""
    if end_date and start_date and end_date < start_date:
        raise StoreError(f"a membership cannot end ({end_date}) before it starts ({start_date})")
    rows = pd.DataFrame({"group_id": group_id, "urn": list(urns), "start_date": start_date,
                         "end_date": end_date})
    if not store.query("SELECT count(*) FROM groups WHERE group_id = ?", [group_id])[0][0]:
        raise StoreError(f"no group with id {group_id}")
    with store.transaction() as cur:
        changed = merge_state_memberships(cur, int(group_id), rows, source)
        store.audit(cur, actor, "add", "membership", group_id, None,
                    {"urns": list(urns), "start_date": start_date, "end_date": end_date}, group_id=group_id)
    return changed


def merge_state_memberships(cur: StateCursor, group_id: int, rows: pd.DataFrame, source: str) -> int:
    """merge_memberships for a group's memberships in the state store: the same rule, worked out in a DuckDB of
    its own over the group's stored ranges (read inside the write transaction), then the changed schools' ranges
    replaced. Returns how many (group, school) pairs' ranges changed."""
    cols = "group_id, urn, start_date, end_date, source, ended_with_group"
    stored = cur.execute(f"SELECT {cols} FROM memberships WHERE group_id = ?", [group_id]).fetchall()  # noqa: S608
    scratch = duckdb.connect()
    try:
        scratch.execute("CREATE TABLE memberships (group_id INTEGER, urn INTEGER, start_date DATE, end_date DATE, "
                        "source VARCHAR, ended_with_group BOOLEAN DEFAULT false)")
        if stored:
            scratch.executemany(f"INSERT INTO memberships ({cols}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                                [list(r) for r in stored])
        changed = merge_memberships(scratch, rows, source)
        if not changed:
            return 0
        urns = sorted({int(u) for u in rows["urn"]})
        after = scratch.execute(f"SELECT {cols} FROM memberships WHERE urn IN (SELECT unnest(?::INTEGER[])) "  # noqa: S608
                                "ORDER BY urn, start_date NULLS FIRST", [urns]).fetchall()
    finally:
        scratch.close()
    for at in range(0, len(urns), 500):  # placeholders counted here, at most 500 a statement
        part = urns[at:at + 500]
        cur.execute(f"DELETE FROM memberships WHERE group_id = ? AND urn IN ({', '.join('?' * len(part))})",  # noqa: S608
                    [group_id, *part])
    cur.executemany(f"INSERT INTO memberships ({cols}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                    [[int(g), int(u), s, e, src, bool(w) if w is not None else False]
                     for g, u, s, e, src, w in after])
    return int(changed)
