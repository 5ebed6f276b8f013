"""The state store: what people write (accounts, audit, targets, consents, publications, ...), shared by processes.

SQLite in WAL mode by default (a file beside the results file; nothing to install), PostgreSQL when
JOINTLY_STATE_URL=postgresql://... (several hosts). Our SQL is one dialect both run (docs/data.md, "Two stores"):
`?` placeholders, `INSERT ... RETURNING`, `ON CONFLICT ... DO UPDATE`. Every write transaction moves the
generation of each table it wrote, in the same transaction, so every process's mirror (data/db/mirror.py) knows
what to reload.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from data.db.errors import QueryFailed, StoreError, StoreUnavailable  # noqa: E402 (after the module's docs)

MIGRATIONS_DIR = Path(__file__).with_name("state_migrations")
PEOPLE_GROUP_IDS_FROM = 10_000_000  # groups people make; trusts from imports stay below
# The sources of groups people made (in the app, by `groups create`, by the demo): in a store from before the state
# store they sit in the results file's groups table beside the imported trusts, and move-state moves them.
PEOPLE_SOURCES = ("manual", "demo", "people")

# Every state table. The bookkeeping ones (sign-in counters and keys) never change what a page shows.
STATE_TABLES = (
    "accounts", "signin_key", "signin_failures", "sign_in_counts", "signin_generations", "audit_log", "targets",
    "scorecard_measures", "local_measures", "local_values", "local_pupil_group_values", "support_records",
    "publications", "publication_items", "publication_school_values", "publication_schools", "publication_consents",
    "publication_left_out", "publication_gaps", "publication_group_values", "group_invitations", "groups",
    "memberships", "settings",
)
ANY_WRITE, DATA_WRITE = "*", "*data"
_BUMP = "UPDATE state_generations SET generation = generation + 1 WHERE table_name = ?"
# Identity columns, for copying rows with their ids (move-state) and moving the numbering on after it.
ID_COLUMNS = {"audit_log": "audit_id", "support_records": "support_id", "publications": "publication_id",
              "publication_consents": "consent_id", "group_invitations": "invitation_id", "groups": "group_id"}
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's write before it says so

_WRITES = re.compile(r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|(?<!DO\s)UPDATE|DELETE\s+FROM)\s+([A-Za-z_][A-Za-z0-9_]*)",
                     re.IGNORECASE)


class StateError(StoreError):
    """A state store problem said in words (the store cannot be opened, a write named no state table)."""


class StateConflict(QueryFailed):
    """The state store refused a write that breaks a rule it holds (a UNIQUE key, a CHECK): nothing was changed."""


def _driver_error(exc: Exception) -> StoreError:
    """A SQLite or psycopg error as a titled StoreError (the driver's text kept as `detail`), as data.db.errors
    does for DuckDB's: a driver error never leaves data/db unwrapped."""
    detail = f"{type(exc).__name__}: {exc}"
    name = type(exc).__name__
    if isinstance(exc, sqlite3.IntegrityError) or name in ("IntegrityError", "UniqueViolation", "CheckViolation",
                                                              "NotNullViolation", "ForeignKeyViolation"):
        return StateConflict("the change conflicts with what is stored already; nothing was changed", detail)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
        return StoreUnavailable("the state store is busy with another process's write: nothing was changed; try "
                                "again", detail)
    if name in ("OperationalError", "ConnectionTimeout") and not isinstance(exc, sqlite3.Error):
        return StoreUnavailable("the state store cannot be reached: nothing was changed; try again", detail)
    return QueryFailed("the state store could not run the question (a fault in Jointly, not in your data)", detail)


def _drivers() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


def state_url_for(results_path: Path) -> str:
    """$JOINTLY_STATE_URL, else a SQLite file beside the results file (`<name>.state.sqlite`)."""
    env = os.environ.get("JOINTLY_STATE_URL", "").strip()
    if env:
        return env
    return "sqlite:///" + str(Path(results_path).with_suffix(".state.sqlite").resolve())


def sqlite_path(url: str) -> Path | None:
    """The file a sqlite:/// URL names (None for another kind of URL)."""
    return Path(unquote(url[len("sqlite:///"):])) if url.startswith("sqlite:///") else None


def sqlite_files(path: Path) -> tuple[Path, Path, Path]:
    """A SQLite database file and the two SQLite keeps beside it in WAL mode: everything to remove with it."""
    return path, Path(f"{path}-wal"), Path(f"{path}-shm")


def written_tables(sql: str) -> set[str]:
    """The tables a statement of our own writes (INSERT INTO t, UPDATE t, DELETE FROM t)."""
    return {m.group(1).lower() for m in _WRITES.finditer(sql)}


def _plain(value: object) -> object:
    """A parameter as both drivers take it: an aware datetime as naive UTC (what DuckDB stored before)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return value.item()  # type: ignore[union-attr]
    return value


def native(sql: str, dialect: str) -> str:
    """Our `?` placeholders in the driver's own: psycopg's %s (a literal %, as in LIKE 'a%', doubled)."""
    return sql.replace("%", "%%").replace("?", "%s") if dialect == "postgresql" else sql


def _params(params: Sequence | None) -> list:
    return [_plain(p) for p in (params or ())]


def _timestamp(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode())


def _date(raw: bytes) -> date:
    return date.fromisoformat(raw.decode()[:10])


# SQLite's own adapters are deprecated (3.12): ours, stated once. Values come back typed by the declared type.
sqlite3.register_adapter(datetime, lambda v: _plain(v).isoformat(" "))  # type: ignore[union-attr]
sqlite3.register_adapter(date, lambda v: v.isoformat())
sqlite3.register_converter("TIMESTAMP", _timestamp)
sqlite3.register_converter("DATE", _date)
sqlite3.register_converter("BOOLEAN", lambda raw: raw not in (b"0", b""))


class StateCursor:
    """One write transaction's cursor: `?` placeholders; records which state tables it wrote."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self._raw = raw
        self._dialect = dialect
        self.tables: set[str] = set()
        self.rowcount = -1

    def _sql(self, sql: str) -> str:
        written = written_tables(sql)
        unknown = written - set(STATE_TABLES)
        if unknown:
            raise StateError(f"a state transaction may write state tables only, not {', '.join(sorted(unknown))}")
        self.tables |= written
        return native(sql, self._dialect)  # our SQL has no literal `?`

    def execute(self, sql: str, params: Sequence = ()) -> StateCursor:
        try:
            self._raw.execute(self._sql(sql), _params(params))
        except _drivers() as exc:
            raise _driver_error(exc) from exc
        self.rowcount = self._raw.rowcount
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> StateCursor:
        rows = [_params(r) for r in rows]
        try:
            if rows:
                self._raw.executemany(self._sql(sql), rows)
            else:
                self._sql(sql)
        except _drivers() as exc:
            raise _driver_error(exc) from exc
        self.rowcount = self._raw.rowcount
        return self

    def fetchall(self) -> list[tuple]:
        return [tuple(r) for r in self._raw.fetchall()]

    def fetchone(self) -> tuple | None:
        row = self._raw.fetchone()
        return None if row is None else tuple(row)


class StateStore:
    """The state store behind one URL; thread-safe (one connection per thread, one writer at a time per process)."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
        else:
            raise StateError(f"JOINTLY_STATE_URL must start with sqlite:/// or postgresql://, not {url[:30]!r}")
        self._local = threading.local()
        self._conns: list[Any] = []
        self._conns_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Open the state store at `url`, creating or migrating its schema."""
        store = cls(url)
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    def __repr__(self) -> str:
        return f"StateStore({self.where()})"

    def where(self) -> str:
        """The store in words, without a password."""
        path = sqlite_path(self.url)
        if path is not None:
            return str(path)
        u = urlparse(self.url)
        return f"postgresql://{u.hostname or ''}{':' + str(u.port) if u.port else ''}{u.path}"

    # ------------------------------------------------------------------ connections

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            path = sqlite_path(self.url)
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                      detect_types=sqlite3.PARSE_DECLTYPES, check_same_thread=False)
                con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
                con.execute("PRAGMA foreign_keys = OFF")
            except sqlite3.Error as exc:
                raise StateError(f"cannot open the state store {path}: {exc}") from exc
            return con
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is in requirements.txt
            raise StateError("JOINTLY_STATE_URL names PostgreSQL but psycopg is not installed: "
                             "pip install -r requirements.txt") from exc
        try:
            return psycopg.connect(self.url, autocommit=True, options="-c TimeZone=UTC")
        except psycopg.Error as exc:
            raise StateError(f"cannot open the state store {self.where()}: {str(exc).strip()}") from exc

    def _con(self) -> Any:
        if self._closed:
            raise StateError(f"the state store {self.where()} is closed")
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
            with self._conns_lock:
                self._conns.append(con)
        return con

    def close(self) -> None:
        self._closed = True
        with self._conns_lock:
            for con in self._conns:
                try:
                    con.close()
                except Exception:  # noqa: S110 (closing what may already be gone)
                    pass
            self._conns.clear()

    # ------------------------------------------------------------------ reads and writes

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """A read straight from the state store (`?` placeholders); a driver error as a titled StoreError."""
        try:
            return self._query(sql, params)
        except _drivers() as exc:
            raise _driver_error(exc) from exc

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        con = self._con()
        if self.dialect == "postgresql":
            with con.cursor() as cur:
                cur.execute(native(sql, self.dialect), _params(params))
                return [tuple(r) for r in cur.fetchall()] if cur.description else []
        cur = con.execute(sql, _params(params))
        try:
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def generations(self) -> dict[str, int]:
        """Every table's generation (and '*', '*data'): one small read, made once per rerun."""
        return {str(t): int(g) for t, g in self.query("SELECT table_name, generation FROM state_generations")}

    def generation(self) -> int:
        """Moves on with every committed write."""
        rows = self.query("SELECT generation FROM state_generations WHERE table_name = ?", [ANY_WRITE])
        return int(rows[0][0]) if rows else 0

    @contextmanager
    def transaction(self, *, changes_data: bool = True) -> Iterator[StateCursor]:
        """One write transaction: commit on success, roll back on any exception. The generation of every table
        written (and '*', and '*data' unless `changes_data` is False) moves on in the same transaction."""
        with self._write_lock:
            con = self._con()
            raw = con.cursor()
            try:
                self._begin(raw)
                cur = StateCursor(raw, self.dialect)
                try:
                    yield cur
                    self._bump(raw, cur.tables, changes_data)
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
            finally:
                raw.close()

    def _begin(self, raw: Any) -> None:
        if self.dialect == "sqlite":
            # IMMEDIATE takes the write lock now (waiting up to busy_timeout for another process's write), so a
            # read inside the transaction is never overtaken by another writer before this one writes
            deadline = time.monotonic() + BUSY_TIMEOUT_S
            while True:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    if time.monotonic() > deadline:
                        raise StateError("another process has been writing to the state store for "
                                         f"{BUSY_TIMEOUT_S:.0f} s: nothing was changed; try again") from exc
                    time.sleep(0.05)
        raw.execute("BEGIN")
        # one writer at a time, as SQLite: the '*' row's lock is held to the commit, so ids are handed out in
        # commit order (the mirror loads append-only tables by id) and the generations move in that order
        raw.execute(native(_BUMP, self.dialect), [ANY_WRITE])

    def _bump(self, raw: Any, tables: set[str], changes_data: bool) -> None:
        names = sorted(tables) + ([DATA_WRITE] if changes_data and tables else [])
        if self.dialect == "sqlite":
            names.append(ANY_WRITE)
        if not names:
            return
        for name in names:
            raw.execute(native(_BUMP, self.dialect), [name])

    # ------------------------------------------------------------------ schema

    def _ddl(self, sql: str) -> list[str]:
        if self.dialect == "sqlite":
            ident = "INTEGER PRIMARY KEY AUTOINCREMENT"
            sql = sql.replace("{id}", ident).replace("{group_id}", ident)
        else:
            sql = sql.replace("{id}", "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY").replace(
                "{group_id}", f"INTEGER GENERATED BY DEFAULT AS IDENTITY (START WITH {PEOPLE_GROUP_IDS_FROM}) "
                              "PRIMARY KEY")
        lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]

    def migrate(self) -> int:
        """Apply every state migration not yet applied, each in one transaction with its version row."""
        con = self._con()
        raw = con.cursor()
        try:
            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                version = int(path.name.split("_", 1)[0])
                self._begin_schema(raw)
                try:
                    raw.execute("CREATE TABLE IF NOT EXISTS state_schema_version (version INTEGER PRIMARY KEY, "
                                "name VARCHAR NOT NULL)")
                    raw.execute(native("SELECT count(*) FROM state_schema_version WHERE version = ?", self.dialect),
                                [version])
                    if raw.fetchone()[0]:
                        raw.execute("COMMIT")
                        continue
                    for statement in self._ddl(path.read_text(encoding="utf-8")):
                        raw.execute(statement)
                    if version == 1:
                        for name in (*STATE_TABLES, ANY_WRITE, DATA_WRITE):
                            raw.execute(native("INSERT INTO state_generations (table_name, generation) "
                                               "VALUES (?, 0)", self.dialect), [name])
                        if self.dialect == "sqlite":  # people's groups are numbered from 10,000,000
                            raw.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('groups', ?)",
                                        [PEOPLE_GROUP_IDS_FROM - 1])
                    raw.execute(native("INSERT INTO state_schema_version (version, name) VALUES (?, ?)",
                                       self.dialect), [version, path.name])
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
            raw.execute("SELECT max(version) FROM state_schema_version")
            return int(raw.fetchone()[0] or 0)
        except sqlite3.Error as exc:
            raise StateError(f"the state store {self.where()} could not be set up: {exc}") from exc
        finally:
            raw.close()

    def _begin_schema(self, raw: Any) -> None:
        if self.dialect == "sqlite":
            self._begin(raw)
        else:
            raw.execute("BEGIN")
            # two processes opening a new store at once: one creates the schema, the other then finds it
            raw.execute("SELECT pg_advisory_xact_lock(7212026)")

    def columns(self, table: str) -> list[str]:
        """A state table's column names, in order."""
        if self.dialect == "sqlite":
            return [r[1] for r in self.query(f"PRAGMA table_info({table})")]  # table: one of STATE_TABLES
        return [r[0] for r in self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", [table])]

    def reset_ids(self, cur: StateCursor) -> None:
        """After rows were copied in with their ids: number new rows after the highest (PostgreSQL's identity
        sequences do not follow explicit ids; SQLite's AUTOINCREMENT does, and keeps 10,000,000 for groups)."""
        if self.dialect != "postgresql":
            return
        for table, column in ID_COLUMNS.items():
            floor = PEOPLE_GROUP_IDS_FROM if table == "groups" else 1
            cur._raw.execute(  # noqa: SLF001 (a setval is no table write: no generation to move)
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608 (module constants)
                f"greatest(coalesce((SELECT max({column}) FROM {table}), 0) + 1, %s), false)", [floor])


def copy_store(src_results: Path, dst_results: Path) -> None:
    """Copy a store, both files: the results file (and its WAL) and, when it is a SQLite file beside it, the
    state store (with its WAL: a copy taken through SQLite's backup, so it is consistent while others write)."""
    src_results, dst_results = Path(src_results), Path(dst_results)
    dst_results.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src_results, dst_results)
    wal = Path(f"{src_results}.wal")
    if wal.exists():
        shutil.copy2(wal, f"{dst_results}.wal")
    src_state = src_results.with_suffix(".state.sqlite")
    dst_state = dst_results.with_suffix(".state.sqlite")
    for stale in sqlite_files(dst_state):
        stale.unlink(missing_ok=True)
    if src_state.exists():
        src = sqlite3.connect(str(src_state))
        dst = sqlite3.connect(str(dst_state))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()


# ---------------------------------------------------------------------------------------------- move-state


@dataclass(frozen=True)
class Moved:
    """What move-state did: rows moved per state table, and the backups it kept first."""

    rows: dict[str, int]
    backup: Path | None
    state_backup: Path | None
    state: str

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _people_rows(table: str, names: list[str]) -> tuple[str, list]:
    """The SELECT (over the results file) of a state table's rows that are still there, and its parameters."""
    marks = ", ".join("?" * len(PEOPLE_SOURCES))
    cols = ", ".join(names)
    if table in LOCAL_TABLES:  # a local measure's values: rows of a results table with source_kind 'local'
        base, local_names = LOCAL_TABLES[table]
        return f"SELECT {', '.join(local_names)} FROM {base} WHERE source_kind = 'local'", []  # noqa: S608
    if table == "groups":
        return f"SELECT {cols} FROM groups WHERE source IN ({marks})", list(PEOPLE_SOURCES)  # noqa: S608
    if table == "memberships":
        return (f"SELECT {cols} FROM memberships WHERE group_id IN (SELECT group_id FROM groups "  # noqa: S608
                f"WHERE source IN ({marks}))"), list(PEOPLE_SOURCES)
    if table == "settings":
        return f"SELECT {cols} FROM settings WHERE key = 'publication_key'", []  # noqa: S608
    return f"SELECT {cols} FROM {table}", []  # noqa: S608 (STATE_TABLES)


def _same(value: object) -> object:
    """A value as both stores give it back, for comparing rows (a float is exact; a bool is not an int)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, datetime):
        return ("ts", _plain(value).isoformat())  # type: ignore[union-attr]
    if isinstance(value, date):
        return ("date", value.isoformat())
    if isinstance(value, int | float):
        return ("num", float(value))
    return value


def _key(row: Sequence) -> tuple:
    return tuple(_same(v) for v in row)


def move_state(results_path: Path, *, url: str | None = None, now: datetime | None = None) -> Moved:
    """Move what people wrote out of a single-file store's results file into its state store, losslessly.

    Under the results' writer lock and only while no other process holds the file: a backup of the results file
    (and of a SQLite state store that already exists) first; then, in ONE state transaction, every state row still
    in the results file that the state store does not already hold (so running it twice, or again after a crash,
    adds nothing twice); then every moved row is checked to be in the state store, equal in every column, and only
    then, in one DuckDB transaction, taken out of the results file. Returns the rows moved per table."""
    import duckdb

    from data.db.errors import StoreError
    from data.db.store import backup_store, inspect_store_file

    results_path = Path(results_path)
    url = url or state_url_for(results_path)
    inspect_store_file(results_path)  # a Jointly store, and nobody holding it (else a sentence)
    with _results_lock(results_path):
        probe = duckdb.connect(str(results_path), read_only=True)
        try:
            tables = {r[0] for r in probe.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            found = {}
            for table in STATE_TABLES:
                base = LOCAL_TABLES[table][0] if table in LOCAL_TABLES else table
                if base not in tables:
                    continue
                cols = [r[0] for r in probe.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY "
                    "ordinal_position", [base]).fetchall()]
                sql, params = _people_rows(table, cols)
                found[table] = (cols, sql, params)
            table_rows = {t: probe.execute(sql, params).fetchall() for t, (_c, sql, params) in found.items()}
            local = sum(probe.execute(
                f"SELECT count(*) FROM {LOCAL_TABLES[t][0]} WHERE source_kind = 'local' AND ("  # noqa: S608
                "ci_low IS NOT NULL OR ci_high IS NOT NULL OR status_code IS NOT NULL)").fetchall()[0][0]
                for t in found if t in LOCAL_TABLES)
        finally:
            probe.close()
        if local:
            raise StoreError(f"{local} local measure values in {results_path} carry confidence intervals or "
                             "status codes the state store has no place for: nothing was moved")
        for table, (_base, local_names) in LOCAL_TABLES.items():
            lv = table_rows.get(table, [])
            keys = {tuple(r[:local_names.index("value")]) for r in lv}  # the key: every column before the value
            if len(keys) != len(lv):
                raise StoreError(f"{results_path} holds a local measure's value twice for one school and year"
                                 f"{' and pupil group' if 'pupil_group' in local_names else ''}: nothing was moved")
        if not any(table_rows.values()):
            return Moved({}, None, None, StateStore(url).where())
        backup = backup_store(results_path, now=now)
        state_backup = backup_sqlite_state(url, now)
        state = StateStore.open(url)
        try:
            moved: dict[str, int] = {}
            with state.transaction() as cur:
                for table, rows in table_rows.items():
                    if not rows:
                        continue
                    names = list(LOCAL_TABLES[table][1]) if table in LOCAL_TABLES else found[table][0]
                    held = set(state.columns(table))
                    lost = [c for c in names if c not in held]
                    if lost:
                        raise StoreError(f"the state store's {table} has no column {lost[0]}: nothing was moved")
                    have: dict[tuple, int] = {}
                    for r in cur.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall():  # noqa: S608
                        have[_key(r)] = have.get(_key(r), 0) + 1
                    new = []
                    for r in rows:
                        k = _key(r)
                        if have.get(k, 0):
                            have[k] -= 1  # already moved (a second run, or a run a crash cut short)
                        else:
                            new.append(list(r))
                    cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 (schema names)
                                    f"VALUES ({', '.join('?' * len(names))})", new)
                    moved[table] = len(rows)  # taken out of the results file: each is checked below
                state.reset_ids(cur)
            for table, rows in table_rows.items():  # every row is there, equal in every column
                names = list(LOCAL_TABLES[table][1]) if table in LOCAL_TABLES else found[table][0]
                there: dict[tuple, int] = {}
                for r in state.query(f"SELECT {', '.join(names)} FROM {table}"):  # noqa: S608
                    there[_key(r)] = there.get(_key(r), 0) + 1
                for r in rows:
                    if not there.get(_key(r), 0):
                        raise StoreError(f"a row of {table} did not arrive in the state store intact: the results "
                                         f"file is unchanged (backup {backup})")
                    there[_key(r)] -= 1
        finally:
            state.close()
        con = duckdb.connect(str(results_path))
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                marks = ", ".join("?" * len(PEOPLE_SOURCES))
                for table in found:
                    if table in LOCAL_TABLES:
                        con.execute(f"DELETE FROM {LOCAL_TABLES[table][0]} WHERE source_kind = 'local'")  # noqa: S608
                    elif table == "groups":
                        continue  # after their memberships
                    elif table == "memberships":
                        con.execute(f"DELETE FROM memberships WHERE group_id IN (SELECT group_id FROM groups "  # noqa: S608
                                    f"WHERE source IN ({marks}))", list(PEOPLE_SOURCES))
                    elif table == "settings":
                        con.execute("DELETE FROM settings WHERE key = 'publication_key'")
                    else:
                        con.execute(f"DELETE FROM {table}")  # noqa: S608 (STATE_TABLES)
                if "groups" in found:
                    con.execute(f"DELETE FROM groups WHERE source IN ({marks})", list(PEOPLE_SOURCES))  # noqa: S608
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return Moved(moved, backup, state_backup, StateStore(url).where())


LOCAL_NAMES = ("measure", "urn", "period", "value", "numerator", "denominator", "status")
LOCAL_GROUP_NAMES = ("measure", "urn", "period", "pupil_group", "value", "numerator", "denominator", "status")
# The state tables of local measures' values, each with the results table whose rows they were and are shown as
# (source_kind 'local', through the mirror's views) and its columns in the state store, the key first.
LOCAL_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "local_values": ("observations", LOCAL_NAMES),
    "local_pupil_group_values": ("pupil_group_observations", LOCAL_GROUP_NAMES),
}


@contextmanager
def _results_lock(path: Path) -> Iterator[None]:
    """The results' writer lock (data.db.snapshot), so no import runs while the state moves out."""
    try:
        from data.db import snapshot
    except ImportError:  # pragma: no cover - the snapshot module comes with issue 12 point 7
        yield
        return
    lock = getattr(snapshot, "writer_lock", None)
    if lock is None:  # pragma: no cover
        yield
        return
    with lock(path):
        yield


def backup_sqlite_state(url: str, now: datetime | None) -> Path | None:
    """A copy of a SQLite state store that already exists, beside it (SQLite's backup: consistent while open)."""
    path = sqlite_path(url)
    if path is None or not path.exists():
        return None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.backup-{stamp}")
    src, dst = sqlite3.connect(str(path)), sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


def copy_state(src: StateStore, dst: StateStore) -> dict[str, int]:
    """Copy every state table's rows from one state store into another that holds none yet (SQLite to PostgreSQL,
    say), in one transaction, ids kept; returns rows per table."""
    copied: dict[str, int] = {}
    with dst.transaction() as cur:
        for table in STATE_TABLES:
            if dst.query(f"SELECT count(*) FROM {table}")[0][0]:  # noqa: S608 (STATE_TABLES)
                raise StateError(f"the state store {dst.where()} already holds {table}: nothing was copied")
            copied[table] = _copy_rows(src, dst, cur, table)
        dst.reset_ids(cur)
    return copied


def _copy_rows(src: StateStore, dst: StateStore, cur: StateCursor, table: str, *, new_ids: bool = False) -> int:
    """Insert src's rows of a state table into dst inside dst's open transaction `cur`, the columns both have (the
    identity column left out with `new_ids`, so dst numbers them); returns how many."""
    names = [c for c in src.columns(table) if c in set(dst.columns(table))]
    if new_ids:
        names = [c for c in names if c != ID_COLUMNS.get(table)]
    rows = src.query(f"SELECT {', '.join(names)} FROM {table}")  # noqa: S608 (schema names)
    if rows:
        cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608
                        f"VALUES ({', '.join('?' * len(names))})", [list(r) for r in rows])
    return len(rows)


# What a new demo keeps of the state store it replaces: the accounts people made on it (and their sign-in
# bookkeeping) and the audit log, to which the new demo's own lines are added.
KEPT_BY_A_NEW_DEMO = ("accounts", "signin_key", "signin_failures", "sign_in_counts", "signin_generations",
                      "audit_log")


def replace_state(src: StateStore, dst: StateStore, *, keep: Sequence[str] = KEPT_BY_A_NEW_DEMO) -> dict[str, int]:
    """Make `dst` hold `src`'s rows, in one transaction on `dst`: every state table not in `keep` emptied and
    refilled with src's rows (ids kept); the audit log, when kept, gains src's lines (numbered after dst's); the
    other kept tables stay as they are. A failure leaves `dst` as it was. Returns rows written per table."""
    written: dict[str, int] = {}
    with dst.transaction() as cur:
        for table in STATE_TABLES:
            if table in keep and table != "audit_log":
                continue
            if table not in keep:
                cur.execute(f"DELETE FROM {table}")  # noqa: S608 (STATE_TABLES)
            # the audit log, kept: src's lines after dst's, numbered by dst
            written[table] = _copy_rows(src, dst, cur, table, new_ids=table in keep)
        dst.reset_ids(cur)
    return written
