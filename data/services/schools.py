"""Schools and their results: establishments, observations and the statistics computed at import, the national
benchmarks and cut points, the years the store holds. Functions of a Store: the SQL over its tables lives here."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from data.db.store import Store
from metrics.registry import STATUSES

T = TypeVar("T")
KEPT_BYTES = 64 * 2**20  # what one Store keeps of read rows in memory (a 500-school group's card: about 7 MB)


class _Kept:
    """Reads of one Store kept in memory until its generation moves, least recently used dropped past `limit`
    bytes. Streamlit runs sessions on threads: the dict is only touched under the lock (a read runs outside it,
    on a cursor of its own)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.generation: int | None = None
        self.items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self.bytes = 0

    def _at(self, generation: int) -> bool:
        """Move to `generation` (dropping everything kept from an earlier one); False when it is an earlier one."""
        if self.generation is None or generation > self.generation:
            self.generation, self.items, self.bytes = generation, OrderedDict(), 0
        return generation == self.generation

    def get(self, generation: int, key: Hashable) -> tuple[bool, object]:
        with self.lock:
            if not self._at(generation) or key not in self.items:
                return False, None
            self.items.move_to_end(key)
            return True, self.items[key][0]

    def put(self, generation: int, key: Hashable, value: object, size: int) -> None:
        with self.lock:
            if not self._at(generation) or size > self.limit:  # a read from before a write is never kept
                return
            old = self.items.pop(key, None)
            self.bytes += size - (old[1] if old else 0)
            self.items[key] = (value, size)
            while self.bytes > self.limit:
                _k, (_v, n) = self.items.popitem(last=False)
                self.bytes -= n


_KEPT: weakref.WeakKeyDictionary[Store, _Kept] = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def kept(store: Store, key: Hashable, compute: Callable[[], T], size: Callable[[T], int]) -> T:
    """`compute()`, read once per store generation and kept in memory (bounded by bytes, `size` of each value):
    a write (an import, a local value, a forgotten period) moves the generation and drops everything kept. The
    key must say everything the value depends on (the schools, years and measures asked for): the value is the
    same whoever asks; who may ask is decided before (data.services.scope). Callers must not change the value."""
    with _KEPT_LOCK:
        box = _KEPT.get(store)
        if box is None:
            box = _KEPT[store] = _Kept(KEPT_BYTES)
    generation = store.generation  # before the read: a write during it leaves the value unkept
    hit, value = box.get(generation, key)
    if hit:
        return value  # type: ignore[return-value]
    value = compute()
    box.put(generation, key, value, size(value))
    return value


def forget_kept(store: Store) -> None:
    """Drop everything kept for this store (the next reads go to the store): for benchmarks of a cold read."""
    with _KEPT_LOCK:
        _KEPT.pop(store, None)


def kept_bytes(store: Store) -> int:
    """How many bytes of reads this store keeps in memory now."""
    with _KEPT_LOCK:
        box = _KEPT.get(store)
    return box.bytes if box is not None else 0


def frame_bytes(df: pd.DataFrame) -> int:
    """A DataFrame's size in memory, its text counted."""
    return int(df.memory_usage(index=False, deep=True).sum())


def establishment(store: Store, urn: int) -> dict | None:
    df = store.query_df("SELECT * FROM establishments WHERE urn = ?", [urn])
    return None if df.empty else df.iloc[0].to_dict()


def establishments(store: Store, urns: Sequence[int] | None = None) -> pd.DataFrame:
    if urns is None:
        return store.query_df("SELECT * FROM establishments ORDER BY urn")
    return store.query_df(
        "SELECT e.* FROM establishments e WHERE e.urn IN (SELECT unnest(?::INTEGER[])) ORDER BY e.urn",
        [list(urns)],
    )


def school_brief(store: Store, urn: int) -> tuple[str, str | None] | None:
    """(name, phase) of a school, or None: the narrow read a scorecard needs."""
    rows = store.query("SELECT coalesce(name, 'School ' || urn), phase FROM establishments WHERE urn = ?", [urn])
    return rows[0] if rows else None


def school_observations(store: Store, urns: Sequence[int],
    periods: Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
    *,
    fast: bool = False,
) -> pd.DataFrame:
    """Observations for these schools. Reads only the row groups their `ord` range covers.
    `fast`: through Arrow, missing text as NaN (see query_df)."""
    where, params = _school_filter(store, urns, periods, measures)
    where = f"level = 'school' AND {where}"
    return store.query_df(
        "SELECT urn, measure, period, value, numerator, denominator, ci_low, ci_high, status, status_code, "  # noqa: S608
        f"source_kind FROM observations WHERE {where}",
        params, fast=fast,
    )


def member_rows(store: Store, urns: Sequence[int], periods: Sequence[str], measures: Sequence[str], *,
                with_codes: bool = False, lineage: bool = True) -> pd.DataFrame:
    """Everything a scorecard reads about these schools, in one pass: each observation of `measures` in
    `periods`, with its precomputed statistics. Text is sent as positions, which is what makes a 500-school
    read fast (measured: strings cost more than the scan): `m` indexes `measures`, `p` indexes `periods`,
    `st` indexes metrics.registry.STATUSES (-1 for none). `with_codes` adds the file's status codes and each
    value's version (provisional, revised, final: text, for one school's card).

    Read once per store generation for the same request and kept in memory (`kept`): the frame handed back is a
    copy (pandas copies on write, so changing it never changes what is kept)."""
    urns = [int(u) for u in urns]
    key = ("member_rows", tuple(urns), tuple(periods), tuple(measures), with_codes, lineage)
    return kept(store, key, lambda: _member_rows(store, urns, periods, measures, with_codes=with_codes,
                                                  lineage=lineage), frame_bytes).copy(deep=False)


def _member_rows(store: Store, urns: list[int], periods: Sequence[str], measures: Sequence[str], *,
                 with_codes: bool, lineage: bool) -> pd.DataFrame:
    """member_rows' read from the store."""
    line = _lineage_rows(store, urns) if lineage else []
    if line:
        return _member_rows_with_lineage(store, urns, line, periods, measures, with_codes=with_codes)
    o_ord, params = ord_filter(store, urns, "o.") if urns else ("false", {})
    s_ord = ord_filter(store, urns, "s.")[0] if urns else "false"
    params.update(urns=urns, periods=list(periods), measures=list(measures), statuses=list(STATUSES))
    sql = f"""
        SELECT o.urn, (list_position($measures, o.measure) - 1)::SMALLINT AS m,
               (list_position($periods, o.period) - 1)::SMALLINT AS p,
               o.value, o.numerator, o.denominator, o.ci_low, o.ci_high,
               (coalesce(list_position($statuses, o.status), 0) - 1)::SMALLINT AS st,
               s.percentile, s.se, s.expected, s.residual, s.family_median, s.family_rank, s.family_size
               {", o.status_code, o.version" if with_codes else ""}
        FROM observations o
        LEFT JOIN school_stats s ON {s_ord} AND s.urn = o.urn AND s.measure = o.measure
             AND s.period = o.period
        WHERE o.level = 'school' AND {o_ord} AND o.urn IN (SELECT unnest($urns::INTEGER[]))
          AND o.period IN (SELECT unnest($periods::VARCHAR[]))
          AND o.measure IN (SELECT unnest($measures::VARCHAR[]))
    """  # noqa: S608 (o_ord and s_ord are fixed text from ord_filter; values are bound)
    cur = store.cursor()
    try:
        df = cur.sql(sql, params=params).to_arrow_table().to_pandas()
    finally:
        cur.close()
    for c in ("status_code", "version") if with_codes else ():
        df[c] = df[c].astype(object)  # kept as Python text: a card reads it every time, never converts it again
    return df


def _lineage_rows(store: Store, urns: Sequence[int]) -> list[tuple[int, int, int, str | None]]:
    """(urn, earlier urn, depth, last year it stands for) for these schools' earlier URNs (data.ingest.lineage's
    derived table), leaving out earlier URNs that are among `urns` themselves (their rows come as their own)
    and URNs the store holds nothing for; an earlier URN stands for the nearest of `urns` in its line only
    (a group holding a school's old and middle URNs counts the oldest's rows once, under the middle one)."""
    if not urns or not store.remembered(("lineage_any",), lambda: bool(store.query(
            "SELECT count(*) FROM (SELECT 1 FROM school_lineage LIMIT 1)")[0][0])):
        return []  # no school has an earlier URN (no links file yet): no read at all
    rows = store.query(
        "SELECT l.urn, l.ancestor_urn, l.depth, l.until_period FROM school_lineage l "
        "JOIN establishments e ON e.urn = l.ancestor_urn "
        "WHERE l.urn IN (SELECT unnest(?::INTEGER[])) ORDER BY l.urn, l.depth", [list(urns)])
    own = set(urns)
    nearest: dict[int, tuple[int, int, int, str | None]] = {}
    for u, a, d, t in rows:  # an earlier URN stands for the nearest of these schools in its line, once
        if a not in own and (a not in nearest or d < nearest[a][2]):
            nearest[int(a)] = (int(u), int(a), int(d), t)
    return sorted(nearest.values())


def _member_rows_with_lineage(store: Store, urns: list[int], line: list[tuple[int, int, int, str | None]],
                              periods: Sequence[str], measures: Sequence[str], *,
                              with_codes: bool) -> pd.DataFrame:
    """member_rows when some schools have earlier URNs: a school's own row wins; a year it has no row for is
    the nearest earlier URN's (up to the last year that URN ran), under the school's own URN, with the URN
    the row came from in `src`. One read of the schools and their earlier URNs together (re-clustered side
    by side: one `ord` range), then the choice in memory (measured: a third of doing it in SQL)."""
    sources = sorted({*urns, *(a for _u, a, _d, _t in line)})
    df = _member_rows(store, sources, periods, measures, with_codes=with_codes, lineage=False)
    urn = df["urn"].to_numpy().astype(np.int64)
    m, p = df["m"].to_numpy().astype(np.int64), df["p"].to_numpy().astype(np.int64)
    own = _sorted_in(urn, np.asarray(urns, dtype=np.int64))
    # each earlier URN stands for one school (_lineage_rows keeps the nearest), up to the last period (index;
    # `periods` run oldest first) it ran: '2013/14' < '2014/15' as text
    src = np.array([a for _u, a, _d, _t in line], dtype=np.int64)
    order = np.argsort(src)
    src = src[order]
    stand_for = np.array([u for u, _a, _d, _t in line], dtype=np.int64)[order]
    depth = np.array([d for _u, _a, d, _t in line], dtype=np.int64)[order]
    last_p = np.array([len(periods) - 1 if t is None else max((k for k, x in enumerate(periods) if x <= t),
                                                               default=-1) for _u, _a, _d, t in line],
                      dtype=np.int64)[order]
    at = np.flatnonzero(~own)
    k = np.searchsorted(src, urn[at])
    at, k = at[p[at] <= last_p[k]], k[p[at] <= last_p[k]]
    # the nearest earlier URN first; then one row per (school, measure, period), and none where it has its own
    pick = np.lexsort((depth[k], p[at], m[at], stand_for[k]))
    at, k = at[pick], k[pick]
    key = stand_for[k] * 2**24 + m[at] * 2**12 + p[at]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    mine = urn[own] * 2**24 + m[own] * 2**12 + p[own]
    take = first & ~_sorted_in(key, mine)
    earlier = df.iloc[at[take]].copy()
    earlier["urn"] = stand_for[k[take]].astype(df["urn"].dtype)
    out = pd.concat([df[own], earlier], ignore_index=True)
    out["src"] = np.concatenate([urn[own], urn[at[take]]]).astype(np.int32)
    return out


def _school_filter(store: Store, urns: Sequence[int], periods: Sequence[str] | None,
                   measures: Sequence[str] | None) -> tuple[str, dict]:
    """WHERE text and parameters for rows of these schools (optionally periods and measures), with the
    `ord` range that lets zone maps skip other groups' row groups. The text is fixed; values are bound."""
    urns = [int(u) for u in urns]
    ord_sql, params = ord_filter(store, urns) if urns else ("false", {})
    clauses = [ord_sql, "urn IN (SELECT unnest($urns::INTEGER[]))"]
    params["urns"] = urns
    _period_measure_clauses(clauses, params, periods, measures)
    return " AND ".join(clauses), params


def _period_measure_clauses(clauses: list[str], params: dict, periods: Sequence[str] | None,
                            measures: Sequence[str] | None) -> None:
    """Add the optional period and measure conditions (fixed text; the values bound as $periods, $measures)."""
    if periods is not None:
        clauses.append("period IN (SELECT unnest($periods::VARCHAR[]))")
        params["periods"] = list(periods)
    if measures is not None:
        clauses.append("measure IN (SELECT unnest($measures::VARCHAR[]))")
        params["measures"] = list(measures)


def ord_filter(store: Store, urns: list[int], alias: str = "") -> tuple[str, dict]:
    """A predicate on `ord` (of the table `alias`, e.g. "o.") that lets zone maps skip row groups holding none
    of these schools (only when every school has an ord; the range then holds them all by construction;
    otherwise `true`, which takes no alias)."""
    known, ords = store.remembered(("urn_ord",), lambda: _urn_ords(store))
    asked = np.unique(np.asarray(urns, dtype=np.int64))
    at = np.clip(np.searchsorted(known, asked), 0, max(len(known) - 1, 0))
    found = ords[at][(known[at] == asked)] if len(known) else np.zeros(0, dtype=np.int64)
    if len(found) == len(urns) and len(found):
        return f"{alias}ord BETWEEN $lo AND $hi", {"lo": int(found.min()), "hi": int(found.max())}
    return "true", {}


def _urn_ords(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """(URNs ascending, each one's ord) of the schools that have an ord: ord_filter's look-up, once per store state."""
    df = store.query_df("SELECT urn, ord FROM establishments WHERE ord IS NOT NULL ORDER BY urn", fast=True)
    return df["urn"].to_numpy(dtype=np.int64), df["ord"].to_numpy(dtype=np.int64)


def school_stats(store: Store, urns: Sequence[int], periods: Sequence[str] | None = None,
                 measures: Sequence[str] | None = None) -> pd.DataFrame:
    """Precomputed statistics (percentile, se, expected, residual, family median/rank) for these schools."""
    where, params = _school_filter(store, urns, periods, measures)
    return store.query_df(
        "SELECT urn, measure, period, phase, percentile, n_compared, se, expected, residual, family_median, "  # noqa: S608
        f"family_rank, family_size FROM school_stats WHERE {where}",
        params, fast=True,
    )


def national_quantiles(store: Store, periods: Sequence[str], measures: Sequence[str] | None = None,
                       ) -> dict[tuple[str, str, str], np.ndarray]:
    """The 101 national cut points per (measure, period, phase), as arrays (read through Arrow: fast)."""
    cur = store.cursor()
    try:
        tbl = cur.sql(
            "SELECT measure, period, phase, quantiles FROM national_quantiles "
            "WHERE period IN (SELECT unnest($periods::VARCHAR[])) "
            "AND ($all OR measure IN (SELECT unnest($measures::VARCHAR[])))",
            params={"periods": list(periods), "measures": list(measures or []), "all": measures is None},
        ).to_arrow_table()
    finally:
        cur.close()
    if tbl.num_rows == 0:
        return {}
    flat = tbl["quantiles"].combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(tbl.num_rows, -1)
    keys = zip(tbl["measure"].to_pylist(), tbl["period"].to_pylist(), tbl["phase"].to_pylist(), strict=True)
    return {k: flat[i] for i, k in enumerate(keys)}


def periods(store: Store) -> list[str]:
    """Academic years with school results, oldest first (from the small table computed at import)."""
    return [r[0] for r in store.query("SELECT DISTINCT period FROM national_quantiles ORDER BY period")]


def benchmarks(store: Store, periods: Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
    level: str = "national",
    *,
    fast: bool = False,
) -> pd.DataFrame:
    clauses = ["level = $level"]
    params: dict[str, object] = {"level": level}
    _period_measure_clauses(clauses, params, periods, measures)
    return store.query_df(
        "SELECT level, area_code, scope, measure, period, value, numerator, denominator, status, status_code "
        "FROM observations WHERE " + " AND ".join(clauses) + " ORDER BY measure, period, scope",  # noqa: S608
        params, fast=fast,
    )


def national_index(store: Store) -> dict[tuple[str, str, str], float]:
    """Every national benchmark value by (measure, period, scope), held in memory until the next write
    (they change only at import; reading them costs more than a whole school's scorecard otherwise)."""
    def compute() -> dict[tuple[str, str, str], float]:
        rows = store.query("SELECT measure, period, scope, value FROM observations "
                           "WHERE level = 'national' AND value IS NOT NULL")
        return {(m, p, sc): float(v) for m, p, sc, v in rows}

    return store.remembered(("national_index",), compute)


def _sorted_in(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """np.isin by binary search (measured: 28 ms against np.isin's 164 ms, 120,000 keys in 120,000)."""
    if not len(among):
        return np.zeros(len(values), dtype=bool)
    among = np.sort(among)
    at = np.clip(np.searchsorted(among, values), 0, len(among) - 1)
    return among[at] == values
