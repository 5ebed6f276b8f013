"""The store's plumbing: one DuckDB file (the results) with the state store mirrored into it, its migrations,
transactions, the audit line every write gives, and its own settings.

The domain's reads and checked writes are functions of a Store in the sub-package that owns them (groups and
schools in ``data.services.groups`` and ``data.services.schools``, targets in ``data.services.governance``, ...);
the Store keeps none. All SQL in Jointly lives in ``data/``. Values are always bound as parameters; a cursor is
opened per call because Streamlit serves sessions on threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from data.db.errors import StoreError, driver_error
from data.db.state import StateCursor

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DEFAULT_DB = Path(__file__).parents[1] / "store" / "jointly.duckdb"

_AUDIT_SQL = ("INSERT INTO audit_log (actor, action, entity, entity_id, group_id, before_json, after_json) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)")

def default_path() -> Path:
    """The store file: $JOINTLY_DB, else data/store/jointly.duckdb (git-ignored)."""
    env = os.environ.get("JOINTLY_DB")
    return Path(env) if env else DEFAULT_DB


@dataclass(frozen=True)
class StoreFile:
    """What sits at a store path, read without changing it: a Jointly store, and whether it is the demo."""

    path: Path
    demo: bool
    schools: int
    imports: int
    observations: int


def _locked(exc: Exception) -> bool:
    # DuckDB's words when another process holds the OS lock on the file (read-write, or read-only against a writer)
    return "Could not set lock" in str(exc) or "Conflicting lock" in str(exc)


def _held_error(path: Path, exc: Exception) -> StoreError:
    return StoreError(f"another program (the app?) has the store {path} open: stop it first; nothing was replaced",
                      str(exc))


def _not_a_store(path: Path, why: str) -> StoreError:
    return StoreError(f"{path} is not a Jointly store ({why}): nothing was replaced; move it away or choose another "
                      "JOINTLY_DB")


def inspect_store_file(path: Path) -> StoreFile:
    """Read an existing store file read-only: is it marked as the demo, and how much does it hold.

    Raises StoreError when another process holds it, or when it is not a DuckDB file, is unreadable, or lacks
    Jointly's tables. The demo mark is the settings row build_demo writes, never the file's name.
    """
    from data.db.snapshot import open_read_only

    try:
        con, _ = open_read_only(path)  # a name of its own: never an instance this process opened before a swap
    except duckdb.Error as exc:
        if _locked(exc):
            raise _held_error(path, exc) from exc
        raise _not_a_store(path, str(exc).removeprefix("IO Error: ")) from exc
    except OSError as exc:
        raise _not_a_store(path, exc.strerror or str(exc)) from exc
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"establishments", "imports", "observations"} <= tables:
            raise _not_a_store(path, "a DuckDB file without Jointly's tables")
        demo = "settings" in tables and con.execute(
            "SELECT count(*) FROM settings WHERE key = 'demo' AND value = 'true'").fetchall()[0][0] > 0
        schools, imports, observations = con.execute(
            "SELECT (SELECT count(*) FROM establishments), (SELECT count(*) FROM imports), "
            "(SELECT count(*) FROM observations)").fetchall()[0]
    finally:
        con.close()
    return StoreFile(path, bool(demo), int(schools), int(imports), int(observations))


def backup_store(path: Path, *, now: datetime | None = None) -> Path:
    """Copy the store to `<name>.backup-<UTC time>` beside it, complete and checked, and return the copy's path.

    Run it under the writer lock (data.db.snapshot): the file at `path` is then a whole snapshot nobody writes
    (writers write the next one; a swap checkpoints first), so a copy holds everything committed, while app
    processes keep reading it. A process holding the file read-write (from before snapshots) refuses it; a log of
    unfinished writes such a process left is folded in first. The copy is opened and its counts compared first.
    """
    from data.db.snapshot import fast_copy, fold_wal

    original = inspect_store_file(path)  # refuses a file another process holds read-write
    fold_wal(path)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.backup-{stamp}")
    n = 1
    while target.exists():  # two backups in one second (a move straight after an import): number the second
        n += 1
        target = path.with_name(f"{path.name}.backup-{stamp}-{n}")
    try:
        fast_copy(path, target)
        copy = inspect_store_file(target)
    except (OSError, StoreError) as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"the backup of {path} could not be written: nothing was replaced", str(exc)) from exc
    if (copy.schools, copy.imports, copy.observations) != (original.schools, original.imports, original.observations):
        target.unlink(missing_ok=True)
        raise StoreError(f"the backup of {path} does not match the store: nothing was replaced")
    return target


def claim_for_demo(path: Path, *, replace: bool, keep_backup: bool) -> Path | None:
    """Check that a new demo may be moved to `path`; with `keep_backup`, back up a real store first.

    A missing file may be written. A demo store may be replaced, a real store only with `replace` (and then a
    backup is kept), and never while another process holds the file or when it is not a Jointly store at all.
    Returns the backup's path, if one was written. Raises StoreError with the sentence to show.
    """
    if not path.exists():
        return None
    found = inspect_store_file(path)
    if not found.demo and not replace:
        raise StoreError(
            f"{path} is a real store ({found.schools:,} schools, {found.imports:,} imports); `python -m data demo` "
            "only replaces a demo store. To build a demo elsewhere: JOINTLY_DB=/path/demo.duckdb python -m data "
            "demo; to replace this store anyway: --replace (a backup is kept)")
    if found.demo or not keep_backup:
        # inspect_store_file's shared open is the check that no process holds the file read-write (its writes would
        # go to a file no longer at the path); app processes reading it move to the new demo at their next rerun
        return None
    return backup_store(path)


@dataclass(frozen=True)
class StoreInfo:
    path: str
    schema_version: int
    establishments: int
    establishments_with_location: int
    groups: dict[str, int]
    memberships: int
    observations: int
    benchmarks: int
    periods: list[str]
    measures: int
    imports: int
    failed_imports: int
    local_measures: int
    pending_imports: int = 0
    derived_pending_since: int | None = None  # the first import whose derived tables are not rebuilt yet


class Store:
    """Owns the DuckDB connection: plumbing only. Open with ``Store.open()``; every method takes its own cursor."""

    def __init__(self, path: str | Path, *, read_only: bool = False, file: str | Path | None = None,
                 state: object | None = None) -> None:
        """`path` names the results (the state store's default place derives from it); `file` is the file the
        connection opens when it is not `path` itself: a writer's next snapshot (data.db.snapshot). `state` is a
        StateStore to share (a writer's next snapshot shares the app's) instead of opening one."""
        from data.db import snapshot

        self.path = Path(path)
        self.file = Path(file) if file is not None else self.path
        self.read_only = read_only
        self.writer = file is not None  # over a next snapshot: its writes are swapped in whole when it closes
        self._shared_state = state
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # read-only: through a name of its own, so DuckDB's per-path instance cache never hands back the
            # snapshot this process opened before a swap (data.db.snapshot.open_read_only)
            if read_only:
                self._con, self.snapshot = snapshot.open_read_only(self.path)
            else:
                self._con = duckdb.connect(str(self.file), read_only=False)
                self.snapshot = snapshot.current_id(self.file)  # which snapshot this connection has: a swap moves it
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the store at {self.path}", str(exc)) from exc
        self._write_lock = threading.Lock()
        # bumped by every committed write: in-memory caches check it. It starts from the snapshot's id, so a Store
        # over the next snapshot never repeats a generation (a cache key) of the one before
        self._generation = self.snapshot.number() if self.snapshot is not None else 0
        self._memo: dict[Hashable, tuple[int, object]] = {}
        self.rebuilt: str | None = None  # what Store.open rebuilt on opening, in words (None: nothing)
        if not read_only:
            self.migrate()
        self._lock_down()
        self._attach_state(state)  # state: engineer A's hook (data/db/state.py, data/db/mirror.py)

    def _lock_down(self) -> None:
        """No SQL run through this connection may read or write files, fetch extensions, or change these
        settings back: imports read files in Python and hand DuckDB DataFrames, so nothing needs more."""
        cur = self._con.cursor()
        try:
            if cur.execute("SELECT current_setting('lock_configuration')").fetchall()[0][0]:
                if self.writer:  # DuckDB handed back an instance still open on an earlier file of this name
                    raise StoreError(f"the next snapshot of {self.path} is still open in this process: nothing was "
                                     "changed")
                return  # another Store in this process opened the same file: that instance is locked already
            cur.execute("SET enable_external_access = false")
            cur.execute("SET autoinstall_known_extensions = false")
            cur.execute("SET autoload_known_extensions = false")
            cur.execute("SET lock_configuration = true")
        finally:
            cur.close()

    @classmethod
    def open(cls, path: str | Path | None = None, *, read_only: bool = False, rebuild: bool = True,
             state: object | None = None) -> Store:
        """Open the store; a read-write open first rebuilds derived tables an interrupted import left pending
        (and says so in `rebuilt`), so nothing serves stale percentiles or families in silence. A read-only open
        (the app's, `info`'s) has a writer bring the file up to the code first (data.db.snapshot.bring_up_to_date:
        migrations, and with `rebuild` that rebuild, in a next snapshot swapped in), then opens it read-only."""
        if read_only:
            from data.db import snapshot

            rebuilt = snapshot.bring_up_to_date(Path(path or default_path()), rebuild=rebuild, state=state)
            store = cls(path or default_path(), read_only=True, state=state)
            store.rebuilt = rebuilt
            return store
        store = cls(path or default_path(), read_only=read_only, state=state)
        since = store.derived_pending() if not read_only and rebuild else None
        if since is not None:
            try:
                store.rebuilt = store.rebuild_derived()
            except Exception as exc:  # the rebuild is one transaction: the store is as it was, still marked
                store.close()
                raise StoreError(f"the derived tables pending since import {since} could not be rebuilt; the "
                                 "imported values are kept: try `python -m data rebuild`", str(exc)) from exc
            except BaseException:
                store.close()
                raise
        return store

    def close(self) -> None:
        if getattr(self, "_mirror", None) is not None:  # state: the mirror goes with this Store
            self._mirror.detach()
        self._con.close()
        if getattr(self, "_owns_state", False):  # state: a shared StateStore is its owner's to close
            self.state.close()

    def state_store(self) -> object | None:
        """The StateStore this Store holds (shared with a writer's next snapshot), or None before it has one."""
        return getattr(self, "state", None) or self._shared_state

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    @property
    def generation(self) -> int:
        """How many writes this Store has committed: a cache key that changes whenever the data does."""
        return self._generation

    def remembered(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A small value computed from the store, kept until the next write (the generation changes): for reads
        every page makes many times, such as which groups a viewer may see."""
        gen = self._generation
        hit = self._memo.get(key)
        if hit is not None and hit[0] == gen:
            return hit[1]  # type: ignore[return-value]
        value = compute()
        if len(self._memo) > 10_000:  # viewers x schools at most: never grows without bound
            self._memo.clear()
        self._memo[key] = (gen, value)
        return value

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own (the caller closes it): the store's plumbing; other reads use `reading()`."""
        try:
            cur = self._con.cursor()
            mirror = getattr(self, "_mirror", None)
            if mirror is not None:  # the state's mirror first: `FROM accounts`, `FROM groups` read what they did
                cur.execute(f"SET search_path = '{mirror.search_path}'")
            return cur
        except duckdb.Error as exc:  # a closed store: said in words, not as the driver's ConnectionException
            raise driver_error(exc) from exc

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for several reads in a row, closed afterwards; a driver error in the block leaves it
        as a titled StoreError (the driver's text in `detail`)."""
        cur = self.cursor()
        try:
            yield cur
        except duckdb.Error as exc:
            raise driver_error(exc) from exc
        finally:
            cur.close()

    @contextmanager
    def results_transaction(self, *, changes_data: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction on the results file (imports, derived tables, recluster, undo, migrations, the
        demo): commit on success, roll back on any exception; a commit moves the generation on. Its cursor sees
        the results file only (not the state's mirror), so its writes reach the file's own tables; audit lines
        it gives `audit()` are written to the state store once the results commit."""
        with self._write_lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            self.__dict__.setdefault("_held_audit", {})[id(cur)] = []  # state: audit lines for after the commit
            try:
                yield cur
            except BaseException:
                self._held_audit.pop(id(cur), None)
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
                if changes_data:
                    self._generation += 1
            finally:
                cur.close()
        held = self._held_audit.pop(id(cur), [])
        if held and getattr(self, "state", None) is not None:
            with self.transaction() as scur:
                for line in held:
                    scur.execute(_AUDIT_SQL, line)

    @contextmanager
    def transaction(self, *, changes_data: bool = True) -> Iterator[StateCursor]:
        """One write transaction on the state store (what people write): commit on success, roll back on any
        exception. On commit the mirror reloads the tables written, so this process reads its own write at once,
        and the generation moves on (so caches of what pages show are recomputed) unless `changes_data` is False:
        writes only to the store's own records that no page's cached read depends on (a sign-in's counters)."""
        with self.state.transaction(changes_data=changes_data) as cur:
            yield cur
        self.refresh(moved_here=changes_data and bool(cur.tables))

    def _attach_state(self, state: object | None) -> None:
        """Open (or share) the state store and mirror it into this connection; refuse a store whose results file
        still holds what people wrote (a single-file store from before issue 12) until it is moved."""
        from data.db.mirror import Mirror
        from data.db.state import StateStore, state_url_for

        self._mirror = None
        self._owns_state = False
        unmoved = self.unmoved_state()  # before the state store is opened (or made): nothing is written then
        if unmoved and not self.allow_unmoved:
            self._con.close()
            raise StoreError(
                f"the store {self.path} still holds what people wrote ({', '.join(unmoved[:4])}"
                f"{', ...' if len(unmoved) > 4 else ''}) in its results file: run `python -m data move-state` "
                "once to move it to the state store (a backup is kept)")
        self._owns_state = state is None
        self.state = state if isinstance(state, StateStore) else StateStore.open(state_url_for(self.path))
        self._data_generation: int | None = None
        try:
            self._mirror = Mirror(self._con, self.state)
            self.refresh()
        except BaseException:
            self._con.close()
            if self._owns_state:
                self.state.close()
            raise

    allow_unmoved = False  # move-state opens such a store to move it (data.db.state.move_state)

    def unmoved_state(self) -> list[str]:
        """The state tables whose rows are still in the results file (a store from before the state store)."""
        from data.db.state import LOCAL_TABLES, PEOPLE_SOURCES, STATE_TABLES

        cur = self._con.cursor()
        try:
            have = {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables WHERE "
                                              "table_catalog = current_database() AND table_schema = 'main'"
                                              ).fetchall()}
            marks = ", ".join("?" * len(PEOPLE_SOURCES))
            found = []
            for table in STATE_TABLES:
                base = LOCAL_TABLES[table][0] if table in LOCAL_TABLES else table
                if base not in have:
                    continue
                if table in LOCAL_TABLES:  # a local measure's values: the results table's rows marked 'local'
                    sql = f"SELECT count(*) FROM (SELECT 1 FROM {base} WHERE source_kind = 'local' LIMIT 1)"  # noqa: S608
                    params: list = []
                elif table == "groups":
                    sql = f"SELECT count(*) FROM (SELECT 1 FROM groups WHERE source IN ({marks}) LIMIT 1)"  # noqa: S608
                    params = list(PEOPLE_SOURCES)
                elif table == "memberships":
                    sql = (f"SELECT count(*) FROM (SELECT 1 FROM memberships WHERE group_id IN "  # noqa: S608
                           f"(SELECT group_id FROM groups WHERE source IN ({marks})) LIMIT 1)")
                    params = list(PEOPLE_SOURCES)
                elif table == "settings":
                    sql = "SELECT count(*) FROM settings WHERE key = 'publication_key'"
                    params = []
                else:
                    sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)"  # noqa: S608 (STATE_TABLES)
                    params = []
                if cur.execute(sql, params).fetchall()[0][0]:
                    found.append(table)
            return found
        finally:
            cur.close()

    def refresh(self, *, moved_here: bool = False) -> bool:
        """Reload the mirror's tables whose state generation moved (another process wrote, or this one); move the
        generation on when what pages show changed. Cheap when nothing did: one small read. Called once per rerun
        (ui.store.get_store)."""
        mirror = getattr(self, "_mirror", None)
        if mirror is None:
            return False
        from data.db.state import DATA_WRITE

        gens = self.state.generations()
        changed = mirror.refresh(gens)
        data = gens.get(DATA_WRITE, 0)
        moved = moved_here or (self._data_generation is not None and data != self._data_generation)
        self._data_generation = data
        if moved:
            self._generation += 1
        return bool(changed)

    def query_df(self, sql: str, params: Sequence[object] | dict | None = None, *, fast: bool = False) -> pd.DataFrame:
        """A query's rows as a DataFrame; missing text is None. `fast` goes through Arrow instead (measured:
        2.5x faster for 60,000 rows) and gives missing text as NaN: for hot reads whose consumers expect it."""
        with self.reading() as cur:
            if fast:
                return cur.sql(sql, params=params or None).to_arrow_table().to_pandas()
            return cur.execute(sql, params or []).df()

    def query(self, sql: str, params: Sequence[object] | dict | None = None) -> list[tuple]:
        """A query's rows as tuples; a driver error becomes a titled StoreError."""
        with self.reading() as cur:
            return cur.execute(sql, params or []).fetchall()

    # ------------------------------------------------------------------ migrations

    def schema_version(self) -> int:
        rows = self.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        )
        if not rows[0][0]:
            return 0
        return int(self.query("SELECT coalesce(max(version), 0) FROM schema_version")[0][0])

    def migrate(self) -> int:
        """Apply every migration not yet applied, each in its own transaction. Returns the version."""
        with self.results_transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
            )
        # by the set applied, not the highest: a store made while a lower-numbered migration was still being
        # written (parallel branches) gets it too, instead of skipping it for ever
        applied = {r[0] for r in self.query("SELECT version FROM schema_version")}
        for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
            version = int(path.name.split("_", 1)[0])
            if version in applied:
                continue
            with self.results_transaction() as cur:
                cur.execute(path.read_text(encoding="utf-8"))
                cur.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, path.name])
            applied.add(version)
        return self.schema_version()

    # ------------------------------------------------------------------ what the store holds

    def info(self) -> StoreInfo:
        one = lambda sql: self.query(sql)[0][0]  # noqa: E731
        kinds = dict(self.query("SELECT kind, count(*) FROM groups GROUP BY kind ORDER BY kind"))
        periods = [r[0] for r in self.query("SELECT DISTINCT period FROM observations ORDER BY period")]
        return StoreInfo(
            path=str(self.path),
            schema_version=self.schema_version(),
            establishments=one("SELECT count(*) FROM establishments"),
            establishments_with_location=one("SELECT count(*) FROM establishments WHERE latitude IS NOT NULL"),
            groups=kinds,
            memberships=one("SELECT count(*) FROM memberships"),
            observations=one("SELECT count(*) FROM observations WHERE level = 'school'"),
            benchmarks=one("SELECT count(*) FROM observations WHERE level <> 'school'"),
            periods=periods,
            measures=one("SELECT count(DISTINCT measure) FROM observations"),
            imports=one("SELECT count(*) FROM imports WHERE outcome = 'ok'"),
            failed_imports=one("SELECT count(*) FROM imports WHERE outcome = 'failed'"),
            local_measures=one("SELECT count(*) FROM local_measures"),
            pending_imports=one("SELECT count(*) FROM imports WHERE outcome = 'pending'"),
            derived_pending_since=self.derived_pending(),
        )

    def derived_pending(self) -> int | None:
        """The first import whose observations are committed but whose derived tables are not rebuilt yet."""
        return self.query("SELECT min(import_id) FROM imports WHERE outcome = 'pending'")[0][0]

    def rebuild_derived(self) -> str:
        """Re-cluster and recompute every derived table (the work an import does after its commit); the
        pending imports turn 'ok' in the same transaction as the derived tables. Returns what was done, in words."""
        from data.ingest.derived import refresh_derived

        if self.read_only:  # an app process's Store: the rebuild is written to the next snapshot, swapped in whole
            from data.db.snapshot import write_results

            return write_results(self, lambda writer: writer.rebuild_derived())
        since = self.derived_pending()
        self.recluster()
        timings = refresh_derived(self)
        what = f"pending since import {since}" if since is not None else "up to date"
        return f"derived tables rebuilt (they were {what}) in {sum(timings.values()):.1f} s"

    # ------------------------------------------------------------------ writes

    def audit(self, cur: StateCursor | duckdb.DuckDBPyConnection, actor: str, action: str, entity: str,
              entity_id: object, before: object = None, after: object = None, *, group_id: int | None = None) -> None:
        """Record one write in the audit log, inside the caller's transaction: who, what, before and after, and
        the group whose data it changed (None for store-wide changes). Given a results transaction's cursor, the
        line is written to the state store right after that transaction commits (never for a rolled-back one)."""
        line = [actor, action, entity, None if entity_id is None else str(entity_id),
                None if group_id is None else int(group_id),
                None if before is None else json.dumps(before, default=str),
                None if after is None else json.dumps(after, default=str)]
        held = self.__dict__.get("_held_audit", {}).get(id(cur))
        if held is not None:
            held.append(line)
            return
        cur.execute(_AUDIT_SQL, line)

    def setting(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM settings WHERE key = ?", [key])
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: str, *, actor: str = "system") -> None:
        """Set a setting of the results file (the demo's marks): written by the demo build and migrations."""
        with self.results_transaction() as cur:
            before = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
            cur.execute("INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [key, value])
            self.audit(cur, actor, "set", "setting", key, before[0][0] if before else None, value)

    def is_demo(self) -> bool:
        """True only for the built-in synthetic demo store."""
        return self.setting("demo") == "true"

    def recluster(self) -> None:
        """Give schools an `ord` that keeps each group's members together, and re-sort observations (and the
        tables read by it: school_stats, pupil_group_observations).

        Whole-table work: run after imports that change memberships (the importers do), never in a page.
        A school takes the position of its largest current group, so reading a group touches few row groups.
        """
        # the groups people make (the state's mirror) count too: their members are read together as a trust's are
        mirror = getattr(self, "_mirror", None)
        memberships = mirror.view("memberships") if mirror is not None else "memberships"
        with self.results_transaction() as cur:
            cur.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE _ord AS
                WITH sizes AS (
                    SELECT group_id, count(DISTINCT urn) AS n FROM {memberships} WHERE end_date IS NULL
                    GROUP BY group_id
                ), current AS (
                    SELECT m.urn, arg_max(m.group_id, s.n * 1000000000 - m.group_id) AS group_id
                    FROM {memberships} m JOIN sizes s USING (group_id) WHERE m.end_date IS NULL GROUP BY m.urn
                ), anchor AS (
                    -- a school's earlier URNs (data.ingest.lineage) sit right after it (under its latest URN),
                    -- so reading its series reads one short range
                    SELECT ancestor_urn AS urn, arg_max(urn, depth) AS anchor, max(depth) AS depth FROM school_lineage
                    WHERE ancestor_urn NOT IN (SELECT urn FROM current) GROUP BY ancestor_urn
                )
                SELECT e.urn, row_number() OVER (ORDER BY b.group_id NULLS LAST, coalesce(k.la_code, e.la_code),
                                                 coalesce(a.anchor, e.urn), coalesce(a.depth, 0))::INTEGER AS ord
                FROM establishments e LEFT JOIN anchor a USING (urn)
                LEFT JOIN establishments k ON k.urn = a.anchor
                LEFT JOIN current b ON b.urn = coalesce(a.anchor, e.urn)
                """  # noqa: S608 (memberships: the mirror's name, a constant)
            )
            cur.execute("UPDATE establishments SET ord = o.ord FROM _ord o WHERE establishments.urn = o.urn")
            cur.execute(
                """
                CREATE OR REPLACE TEMP TABLE _obs AS
                SELECT o.* REPLACE (e.ord AS ord)
                FROM observations o LEFT JOIN establishments e ON o.level = 'school' AND e.urn = o.urn
                """
            )
            cur.execute("DELETE FROM observations")
            cur.execute("INSERT INTO observations SELECT * FROM _obs ORDER BY ord NULLS LAST, measure, period")
            cur.execute("DROP TABLE _obs")
            # school_stats carries the same clustering key: stale keys would make range reads miss rows
            cur.execute("""
                CREATE OR REPLACE TEMP TABLE _stats AS
                SELECT s.* REPLACE (e.ord AS ord) FROM school_stats s LEFT JOIN establishments e USING (urn)
            """)
            cur.execute("DELETE FROM school_stats")
            cur.execute("INSERT INTO school_stats SELECT * FROM _stats ORDER BY ord NULLS LAST, measure, period")
            cur.execute("DROP TABLE _stats")
            # pupil-group values too (issue 13): their reads take the same ord range
            cur.execute("""
                CREATE OR REPLACE TEMP TABLE _pgo AS
                SELECT o.* REPLACE (e.ord AS ord)
                FROM pupil_group_observations o LEFT JOIN establishments e ON o.level = 'school' AND e.urn = o.urn
            """)
            cur.execute("DELETE FROM pupil_group_observations")
            cur.execute("INSERT INTO pupil_group_observations SELECT * FROM _pgo "
                        "ORDER BY ord NULLS LAST, measure, period, pupil_group")
            cur.execute("DROP TABLE _pgo")
            cur.execute("DROP TABLE _ord")
        self.checkpoint()
        if mirror is not None:  # local measures' values carry their school's `ord`: load them again with the new one
            mirror.loaded.pop("local_values", None)
            mirror.loaded.pop("local_pupil_group_values", None)
            self.refresh()

    def checkpoint(self) -> None:
        cur = self.cursor()
        try:
            cur.execute("CHECKPOINT")
        finally:
            cur.close()


@contextmanager
def registered(cur: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame) -> Iterator[None]:
    """Expose a DataFrame to SQL as `name` for the duration of the block."""
    cur.register(name, df)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # an aborted transaction refuses even this; the rollback cleans up
            cur.unregister(name)


# Sources whose file lists every stay of a school in a group, closed ones included (GIAS's trust membership
# history): their ranges for a (group, school) replace the ranges they gave before, so a later file can close one.
HISTORY_SOURCES = frozenset({"gias_trust_membership"})
# GIAS's current-membership sources: where a history source covers a (group, school), their open-ended ranges
# only restate what the history says (alllinks' Joined date is its Date Joined Group) and never reopen a stay
CURRENT_SOURCES = frozenset({"gias_links", "gias_establishments"})


def merge_memberships(cur: duckdb.DuckDBPyConnection, rows: pd.DataFrame, source: str) -> int:
    """Add membership ranges (columns group_id, urn, start_date, end_date), merging each (group, school)'s
    overlapping or touching ranges into one.

    Dated evidence replaces undated: a range with a start or an end date drops the stored range with neither
    for the same group and school (and an undated range adds nothing where a dated one is known). A history
    source (HISTORY_SOURCES) replaces its own earlier ranges, and GIAS's current-membership ranges
    (CURRENT_SOURCES), for the pairs it names; a current-membership range adds nothing to a pair the history
    covers (it cannot reopen a closed stay). Other groups' memberships
    and other pairs are never touched. Idempotent: re-adding ranges already covered changes nothing. Returns how
    many (group, school) pairs' ranges changed.
    """
    df = rows[["group_id", "urn", "start_date", "end_date"]].copy()
    df["start_date"] = pd.to_datetime(df["start_date"], errors="coerce").dt.date
    df["end_date"] = pd.to_datetime(df["end_date"], errors="coerce").dt.date
    df["group_id"] = df["group_id"].astype("int32")
    df["urn"] = df["urn"].astype("int32")
    with registered(cur, "_mem_in", df):
        cur.execute("""
            CREATE OR REPLACE TEMP TABLE _mem_before AS
            SELECT m.* FROM memberships m SEMI JOIN (SELECT DISTINCT group_id, urn FROM _mem_in) k
            ON m.group_id = k.group_id AND m.urn = k.urn
        """)
        cur.execute("""
            CREATE OR REPLACE TEMP TABLE _mem_after AS
            WITH dated_in AS (
                SELECT DISTINCT group_id, urn FROM _mem_in WHERE start_date IS NOT NULL OR end_date IS NOT NULL
            ), dated_before AS (
                SELECT DISTINCT group_id, urn FROM _mem_before WHERE start_date IS NOT NULL OR end_date IS NOT NULL
            ), history_before AS (
                SELECT DISTINCT group_id, urn FROM _mem_before WHERE list_contains($history_sources, source)
            ), kept AS (
                -- stored ranges the incoming dated evidence does not replace
                SELECT b.* FROM _mem_before b
                WHERE (NOT ((b.start_date IS NULL AND b.end_date IS NULL) OR (b.source = $source AND $history)
                            OR (list_contains($current_sources, b.source) AND $history))
                       OR NOT EXISTS (SELECT 1 FROM dated_in d WHERE d.group_id = b.group_id AND d.urn = b.urn))
            ), incoming AS (
                -- an undated range says nothing a dated one for the same pair does not say better; a current-
                -- membership file says nothing the history does not
                SELECT i.* FROM _mem_in i
                WHERE (i.start_date IS NOT NULL OR i.end_date IS NOT NULL OR NOT EXISTS (
                        SELECT 1 FROM (SELECT * FROM dated_in UNION SELECT * FROM dated_before) d
                        WHERE d.group_id = i.group_id AND d.urn = i.urn))
                  AND NOT ($current AND EXISTS (
                        SELECT 1 FROM history_before h WHERE h.group_id = i.group_id AND h.urn = i.urn))
            ), ranges AS (
                SELECT group_id, urn, coalesce(start_date, DATE '0001-01-01') AS s,
                       coalesce(end_date, DATE '9999-12-31') AS e, source FROM kept
                UNION ALL
                SELECT group_id, urn, coalesce(start_date, DATE '0001-01-01'),
                       coalesce(end_date, DATE '9999-12-31'), $source FROM incoming
            ), ordered AS (
                SELECT *, max(e) OVER (PARTITION BY group_id, urn ORDER BY s, e
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
                FROM ranges
            ), islands AS (
                -- a new island starts when a range begins after the day following every earlier end
                SELECT *, sum(CASE WHEN prev_end IS NULL OR s > prev_end + INTERVAL 1 DAY THEN 1 ELSE 0 END)
                          OVER (PARTITION BY group_id, urn ORDER BY s, e) AS island
                FROM ordered
            )
            SELECT group_id, urn,
                   -- an unknown start (GIAS's current-trust columns) gives way to a known one (a Joined date)
                   coalesce(min(s) FILTER (WHERE s > DATE '0001-01-01'), NULL) AS start_date,
                   nullif(max(e), DATE '9999-12-31') AS end_date,
                   -- an island the history contributes to is the history's (a later history file replaces it)
                   coalesce(min(source) FILTER (WHERE list_contains($history_sources, source)), min(source))
                       AS source
            FROM islands GROUP BY group_id, urn, island
        """, {"source": source, "history": source in HISTORY_SOURCES, "current": source in CURRENT_SOURCES,
              "history_sources": sorted(HISTORY_SOURCES), "current_sources": sorted(CURRENT_SOURCES)})
        # pairs (group, school) whose ranges differ: one added, extended, closed or replaced
        changed = cur.execute("""
            SELECT count(*) FROM (
                SELECT DISTINCT group_id, urn FROM (
                    (SELECT group_id, urn, start_date, end_date FROM _mem_after
                     EXCEPT SELECT group_id, urn, start_date, end_date FROM _mem_before)
                    UNION ALL
                    (SELECT group_id, urn, start_date, end_date FROM _mem_before
                     EXCEPT SELECT group_id, urn, start_date, end_date FROM _mem_after)))
        """).fetchall()[0][0]
        if changed:
            cur.execute("""
                DELETE FROM memberships m USING (SELECT DISTINCT group_id, urn FROM _mem_in) k
                WHERE m.group_id = k.group_id AND m.urn = k.urn
            """)
            cur.execute("INSERT INTO memberships (group_id, urn, start_date, end_date, source) "
                        "SELECT group_id, urn, start_date, end_date, source FROM _mem_after")
        cur.execute("DROP TABLE _mem_before")
        cur.execute("DROP TABLE _mem_after")
        return int(changed)
