"""Undoing an import: its values return to what they were before it (issue 11 point 4; docs/data.md, "Undoing an
import").

At import (data.ingest.importers.import_file, inside its transaction) `track` copies the tables the file may write and
`record` keeps, keyed by the import, the rows it replaced (import_archive_<table>) and the keys of the rows it
added (import_added). Observations are archived where they are replaced (data.ingest.importers._write_observations) and
name the rows they added by their own import_id. `undo_import` removes what the import added and puts back what it
replaced, and rebuilds the derived tables, all in one transaction with its audit line. It refuses, in words, while a
later import that is not undone replaced some of the same rows (undo that one first), or when the rows were
changed since in another way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from data.db.errors import StoreError
from data.db.store import Store

# Every table an import writes besides observations, with the columns left out of a row's identity: the clustering
# position and the update time change without the values changing (Store.recluster, every upsert).
TRACKED: dict[str, tuple[str, ...]] = {
    "establishments": ("ord", "updated_at"),
    "groups": ("created_at",),
    "memberships": (),
    "pupil_group_observations": ("ord",),
    "trust_published": (),
    "trust_published_info": (),
    "trust_published_members": (),
    "inspections": (),
    "inspection_grades": (),
    "school_links": (),
    "school_lineage": (),
    "establishment_reasons": (),
}
OBS_ARCHIVE = "import_archive_observations"


@dataclass(frozen=True)
class UndoPlan:
    """What undoing one import would do, or why it cannot be undone (`refusal` set)."""

    import_id: int
    file_name: str
    finished_at: datetime | None
    values_removed: int  # rows the import added that would go (observations and every other table)
    values_restored: int  # rows it replaced that would come back
    refusal: str | None = None
    numbered: bool = True  # imports named by their number (the CLI's), else by file and time (the Data page)

    def sentence(self) -> str:
        """The plan in words, for the confirmation (CLI prompt, the Data page)."""
        if self.refusal:
            return self.refusal
        what = _named(self.import_id, self.file_name, self.finished_at, self.numbered)
        back = (f" and puts back the {self.values_restored:,} it replaced, as they were before it"
                if self.values_restored else " (it replaced nothing)")
        return (f"Undoing {what} removes the {self.values_removed:,} values and records it added{back}; "
                "percentiles, families and expectations are then recomputed.")


@dataclass(frozen=True)
class UndoDone:
    """What an undo did."""

    import_id: int
    file_name: str
    values_removed: int
    values_restored: int


# ---------------------------------------------------------------------------- at import


@dataclass(frozen=True)
class Tracked:
    """The copies `track` made of the tables an import may write, with the columns each row's key uses."""

    tables: dict[str, tuple[str, ...]]
    # the years a table's rows are compared in (the import writes no other year's rows of it); absent: every row
    periods: dict[str, list[str]] = field(default_factory=dict)


def track(cur, tables: tuple[str, ...] | None = None, periods: dict[str, frozenset[str]] | None = None) -> Tracked:
    """Copy each tracked table (or those named; of `periods`' years only, where given) into a temporary table, inside
    the import's transaction."""
    out: dict[str, tuple[str, ...]] = {}
    years = {t: sorted(p) for t, p in (periods or {}).items()}
    for table in tables if tables is not None else tuple(TRACKED):
        columns = _key_columns(cur, table)
        where, params = _in_years(years.get(table))
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _undo_before_{table} AS SELECT * FROM {table}{where}",  # noqa: S608
                    params)
        out[table] = columns
    return Tracked(out, {t: p for t, p in years.items() if t in out})


def _in_years(years: list[str] | None) -> tuple[str, list]:
    """The WHERE clause (and its parameter) keeping only these years' rows; none for every row."""
    return ("", []) if years is None else (" WHERE list_contains(?::VARCHAR[], period)", [years])


def record(cur, tracked: Tracked, import_id: int) -> dict[str, int]:
    """Keep what the import replaced and the keys of what it added; drop the copies. Returns rows kept per table."""
    kept: dict[str, int] = {}
    for table, columns in tracked.tables.items():
        _sync_archive(cur, table, f"import_archive_{table}")
        key = _key_sql(columns)
        before, archive = f"_undo_before_{table}", f"import_archive_{table}"
        # each row's digest is computed once per side (a wide file's re-import compares ~340,000 pupil-group rows);
        # keys are compared as multisets (EXCEPT ALL): two identical rows are two rows
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _undo_kb AS SELECT {key} AS k, * FROM {before}")  # noqa: S608
        where, params = _in_years(tracked.periods.get(table))
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _undo_ka AS SELECT {key} AS k FROM {table}{where}",  # noqa: S608
                    params)
        cur.execute("""
            CREATE OR REPLACE TEMP TABLE _undo_gone AS
            SELECT k AS row_key FROM _undo_kb EXCEPT ALL SELECT k AS row_key FROM _undo_ka
        """)  # (table and column names from TRACKED and the catalogue)
        cur.execute(f"""
            INSERT INTO {archive} BY NAME
            SELECT ? AS archived_by, k AS row_key, b.* EXCLUDE (k) FROM _undo_kb b
            WHERE k IN (SELECT row_key FROM _undo_gone)
        """, [import_id])  # noqa: S608
        cur.execute("""
            INSERT INTO import_added SELECT ?, ?, row_key FROM (
                SELECT k AS row_key FROM _undo_ka EXCEPT ALL SELECT k AS row_key FROM _undo_kb)
        """, [import_id, table])
        n = cur.execute(f"SELECT count(*) FROM {archive} WHERE archived_by = ?", [import_id]).fetchall()[0][0]  # noqa: S608
        added = cur.execute("SELECT count(*) FROM import_added WHERE import_id = ? AND table_name = ?",
                            [import_id, table]).fetchall()[0][0]
        if n or added:
            cur.execute("INSERT INTO import_key_columns VALUES (?, ?, ?)", [import_id, table, json.dumps(columns)])
        kept[table] = int(n)
        cur.execute(f"DROP TABLE {before}")
        for temp in ("_undo_gone", "_undo_kb", "_undo_ka"):
            cur.execute(f"DROP TABLE IF EXISTS {temp}")  # noqa: S608 (literal names)
    return kept


def archive_replaced_observations(cur, import_id: int) -> None:
    """Keep the stored observations the incoming rows (registered as _obs_in) are about to replace: called by
    data.ingest.importers._write_observations just before its DELETEs, with the same match."""
    _sync_archive(cur, "observations", OBS_ARCHIVE)
    # two statements, each one semi-join (a school row matches only the first, an area's only the second): one
    # statement OR-ing the two scanned the whole table row by row (3.4 s of a 4,867-row file's import)
    cur.execute(f"""
        INSERT INTO {OBS_ARCHIVE} BY NAME
        SELECT ? AS archived_by, o.* FROM observations o
        WHERE o.level = 'school' AND EXISTS (SELECT 1 FROM _obs_in s WHERE s.level = 'school' AND o.urn = s.urn
                                             AND o.measure = s.measure AND o.period = s.period)
    """, [import_id])  # noqa: S608
    cur.execute(f"""
        INSERT INTO {OBS_ARCHIVE} BY NAME
        SELECT ? AS archived_by, o.* FROM observations o
        WHERE o.level <> 'school' AND EXISTS (SELECT 1 FROM _obs_in s WHERE s.level <> 'school' AND o.level = s.level
                      AND o.area_code IS NOT DISTINCT FROM s.area_code AND o.scope IS NOT DISTINCT FROM s.scope
                      AND o.measure = s.measure AND o.period = s.period)
    """, [import_id])  # noqa: S608


# ---------------------------------------------------------------------------- undo


def undoable(store: Store) -> list[tuple[int, str]]:
    """(import id, the import in words) of the imports that may be undone, newest first (the demo's own files are
    rebuilt, never undone one by one)."""
    rows = store.query("""
        SELECT import_id, file_name, coalesce(period, ''), finished_at FROM imports
        WHERE outcome IN ('ok', 'pending') AND import_id NOT IN (SELECT import_id FROM imports_undone)
          AND coalesce(actor, '') <> 'demo'
        ORDER BY import_id DESC
    """)
    return [(int(i), f"{name}{' (' + period + ')' if period else ''}, imported "
             f"{at:%d %b %Y %H:%M}" if at else name) for i, name, period, at in rows]


def plan(store: Store, import_id: int, *, numbered: bool = True) -> UndoPlan:
    """What undoing the import would do, or the sentence refusing it."""
    cur = store.cursor()
    try:
        return _plan(cur, import_id, numbered)
    finally:
        cur.close()


def _plan(cur, import_id: int, numbered: bool = True) -> UndoPlan:
    found = cur.execute("SELECT file_name, outcome, finished_at, actor FROM imports WHERE import_id = ?",
                        [import_id]).fetchall()
    if not found:
        return UndoPlan(import_id, "", None, 0, 0, f"There is no import {import_id}: see the import log for the "
                        "imports this store has had.")
    name, outcome, at, actor = found[0]
    refuse = lambda why: UndoPlan(import_id, name, at, 0, 0, why, numbered)  # noqa: E731
    this = _named(import_id, name, at, numbered)
    This = this[0].upper() + this[1:]  # noqa: N806
    if outcome == "failed":
        return refuse(f"{This} failed and wrote nothing, so there is nothing to undo.")
    if cur.execute("SELECT count(*) FROM imports_undone WHERE import_id = ?", [import_id]).fetchall()[0][0]:
        return refuse(f"{This} has already been undone.")
    if actor == "demo":
        return refuse(f"{This} is one of the files the demo was built from: to start again, "
                      "rebuild the demo.")
    later = _later_replacements(cur, import_id)
    if later:
        said = "; ".join(f"{_named(y, f, t, numbered)} replaced {n:,} of them" for y, f, t, n in later)
        y, f, t, _ = later[-1]
        return refuse(f"{This} cannot be undone yet: later imports replaced some of the values "
                      f"it wrote ({said}). Undo {_named(y, f, t, numbered)} first, then this one.")
    changed = _changed_since(cur, import_id)
    if changed:
        return refuse(f"{This} cannot be undone: {changed:,} of the rows it wrote were changed "
                      "or removed since in another way (a year forgotten, a group edited), so undoing it could not "
                      "put the store back as it was.")
    removed = cur.execute("SELECT count(*) FROM observations WHERE import_id = ?", [import_id]).fetchall()[0][0]
    removed += cur.execute("SELECT count(*) FROM import_added WHERE import_id = ?", [import_id]).fetchall()[0][0]
    restored = cur.execute(f"SELECT count(*) FROM {OBS_ARCHIVE} WHERE archived_by = ?",  # noqa: S608
                           [import_id]).fetchall()[0][0]
    for table in TRACKED:
        restored += cur.execute(f"SELECT count(*) FROM import_archive_{table} WHERE archived_by = ?",  # noqa: S608
                                [import_id]).fetchall()[0][0]
    return UndoPlan(import_id, name, at, int(removed), int(restored), None, numbered)


def _named(import_id: int, file_name: str, at: datetime | None, numbered: bool) -> str:
    """An import in words: 'import 12 (file.csv)' for the CLI, 'the import of file.csv on 1 Dec 2026 at 14:20'."""
    if numbered:
        return f"import {import_id} ({file_name})"
    return f"the import of {file_name}" + (f" on {at:%-d %b %Y} at {at:%H:%M}" if at else "")


def _later_replacements(cur, import_id: int) -> list[tuple[int, str, datetime | None, int]]:
    """Later imports, not undone, that replaced rows this import wrote: (import id, file, when, rows), oldest
    first."""
    counts: dict[int, int] = {}
    for y, n in cur.execute(f"""
        SELECT archived_by, count(*) FROM {OBS_ARCHIVE}
        WHERE import_id = ? AND archived_by > ? AND archived_by NOT IN (SELECT import_id FROM imports_undone)
        GROUP BY archived_by
    """, [import_id, import_id]).fetchall():  # noqa: S608
        counts[int(y)] = counts.get(int(y), 0) + int(n)
    for table in TRACKED:
        for y, n in cur.execute(f"""
            SELECT a.archived_by, count(*) FROM import_archive_{table} a
            JOIN import_added k ON k.row_key = a.row_key AND k.table_name = ? AND k.import_id = ?
            WHERE a.archived_by > ? AND a.archived_by NOT IN (SELECT import_id FROM imports_undone)
            GROUP BY a.archived_by
        """, [table, import_id, import_id]).fetchall():  # noqa: S608
            counts[int(y)] = counts.get(int(y), 0) + int(n)
    names = {int(i): (f, t) for i, f, t in cur.execute(
        "SELECT import_id, file_name, finished_at FROM imports WHERE list_contains(?::INTEGER[], import_id)",
        [list(counts)]).fetchall()} if counts else {}
    return [(y, *names.get(y, ("", None)), n) for y, n in sorted(counts.items())]


def _changed_since(cur, import_id: int) -> int:
    """Rows this import added that are no longer in their table, though no later import replaced them."""
    logged = cur.execute("SELECT coalesce(observations, 0) + coalesce(benchmarks, 0) FROM imports "
                         "WHERE import_id = ?", [import_id]).fetchall()[0][0]
    held = cur.execute("SELECT count(*) FROM observations WHERE import_id = ?", [import_id]).fetchall()[0][0]
    replaced = cur.execute(f"SELECT count(*) FROM {OBS_ARCHIVE} WHERE import_id = ? AND archived_by > ?",  # noqa: S608
                           [import_id, import_id]).fetchall()[0][0]
    missing = max(0, int(logged) - int(held) - int(replaced))
    for table in TRACKED:
        columns = _recorded_columns(cur, import_id, table)
        if columns is None:
            continue
        key = _key_sql(columns)
        missing += cur.execute(f"""
            SELECT count(*) FROM (SELECT row_key FROM import_added WHERE import_id = ? AND table_name = ?
                                  EXCEPT ALL SELECT {key} FROM {table})
        """, [import_id, table]).fetchall()[0][0]  # noqa: S608
    return int(missing)


def undo_import(store: Store, actor: str, import_id: int, *, backup: str | None = None) -> UndoDone:
    """Undo one import and rebuild the derived tables in one transaction (audited). Raises StoreError with the
    refusal's sentence when it cannot be undone; nothing is changed then. On a read-only Store (an app
    process's) the undo is written to the next snapshot of the results, swapped in whole (data.db.snapshot)."""
    from data.ingest.derived import refresh_derived_in

    if store.read_only:
        from data.db.snapshot import write_results

        return write_results(store, lambda w: undo_import(w, actor, import_id, backup=backup))
    with store.results_transaction() as cur:
        p = _plan(cur, import_id)
        if p.refusal:
            raise StoreError(p.refusal)
        for table in TRACKED:
            _restore_table(cur, table, import_id)
        cur.execute("DELETE FROM observations WHERE import_id = ?", [import_id])
        cur.execute(f"""
            INSERT INTO observations BY NAME
            SELECT a.* EXCLUDE (archived_by, ord), e.ord FROM {OBS_ARCHIVE} a
            LEFT JOIN establishments e ON a.level = 'school' AND e.urn = a.urn
            WHERE a.archived_by = ?
        """, [import_id])  # noqa: S608
        cur.execute(f"DELETE FROM {OBS_ARCHIVE} WHERE archived_by = ?", [import_id])  # noqa: S608
        cur.execute("DELETE FROM import_added WHERE import_id = ?", [import_id])
        cur.execute("DELETE FROM import_key_columns WHERE import_id = ?", [import_id])
        cur.execute("INSERT INTO imports_undone (import_id, undone_by, backup) VALUES (?, ?, ?)",
                    [import_id, actor, backup])
        store.audit(cur, actor, "undo", "import", import_id,
                    {"file": p.file_name, "rows_added": p.values_removed},
                    {"rows_removed": p.values_removed, "rows_restored": p.values_restored, "backup": backup})
        refresh_derived_in(cur)  # the derived tables of the store as it is now, in the same transaction
    return UndoDone(import_id, p.file_name, p.values_removed, p.values_restored)


def _restore_table(cur, table: str, import_id: int) -> None:
    """Remove the rows the import added to `table` and put back those it replaced."""
    archive = f"import_archive_{table}"
    columns = _recorded_columns(cur, import_id, table)
    if columns is not None:
        key = _key_sql(columns)
        cur.execute(f"""
            DELETE FROM {table} WHERE {key} IN (
                SELECT row_key FROM import_added WHERE import_id = ? AND table_name = ?)
        """, [import_id, table])  # noqa: S608
    live = {r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                      [table]).fetchall()}
    kept = [r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                      "ORDER BY ordinal_position", [archive]).fetchall()
            if r[0] in live]
    names = ", ".join(f'"{c}"' for c in kept)
    cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {archive} WHERE archived_by = ?",  # noqa: S608
                [import_id])
    cur.execute(f"DELETE FROM {archive} WHERE archived_by = ?", [import_id])  # noqa: S608


# ---------------------------------------------------------------------------- keys and archives


def _key_columns(cur, table: str) -> tuple[str, ...]:
    """The table's columns that make a row's identity (all but TRACKED's left-out ones), in the catalogue's order."""
    return tuple(r[0] for r in cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
        "ORDER BY ordinal_position", [table]).fetchall() if r[0] not in TRACKED[table])


def _recorded_columns(cur, import_id: int, table: str) -> tuple[str, ...] | None:
    rows = cur.execute("SELECT columns FROM import_key_columns WHERE import_id = ? AND table_name = ?",
                       [import_id, table]).fetchall()
    return tuple(json.loads(rows[0][0])) if rows else None


def _key_sql(columns: tuple[str, ...]) -> str:
    """A row's key: the md5 of its listed columns as text (names from the catalogue, quoted)."""
    fields = ", ".join(f'"{c}" := "{c}"' for c in columns)
    return f"md5(CAST(struct_pack({fields}) AS VARCHAR))"


def _sync_archive(cur, table: str, archive: str) -> None:
    """Give the archive every column its table has now (a later migration may have added one)."""
    have = {r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                      [archive]).fetchall()}
    for name, kind in cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
                                  [table]).fetchall():
        if name not in have:
            cur.execute(f'ALTER TABLE {archive} ADD COLUMN "{name}" {kind}')  # noqa: S608 (from the catalogue)
