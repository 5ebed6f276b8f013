"""The state store's tables, mirrored into a Store's DuckDB connection, so every read stays one DuckDB query.

The mirror is an in-memory database attached to the Store's connection (`jointly_state_mirror`): DuckDB's TEMP
tables belong to one connection and a Store reads through a cursor per call, which is a connection of its own, while
an attached database is seen by all of them. Each state table is a table there with the results file's column types
(cast on load); `groups`, `memberships` and `settings` are views, the results file's rows UNION ALL the state's, and
`observations` is the results file's rows UNION ALL the local measures' values (`pupil_group_observations` the same,
with their values by pupil group). Every read cursor searches the mirror
first, so `FROM accounts` or `FROM groups` reads what it read before. Only the tables whose generation moved are
reloaded; append-only tables load only their new rows.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from data.db.state import LOCAL_TABLES, STATE_TABLES, StateStore

CATALOG = "jointly_state_mirror"
SCHEMA = "state"
_NUMBERS = itertools.count(1)  # two Stores over one file share DuckDB's instance: each mirror has a name of its own

# state table -> (mirror table, view over the results file's rows and it, or None)
_UNION = {"groups": ("state_groups", "groups"), "memberships": ("state_memberships", "memberships"),
          "settings": ("state_settings", "settings"), "local_values": ("local_observations", "observations"),
          "local_pupil_group_values": ("local_pupil_group_observations", "pupil_group_observations")}
# append-only tables and their increasing key: a reload reads only rows past the highest it holds
APPEND_ONLY = {"audit_log": "audit_id", "publication_consents": "consent_id", "publication_items": "publication_id",
               "publication_school_values": "publication_id", "publication_schools": "publication_id",
               "publication_left_out": "publication_id", "publication_gaps": "publication_id",
               "publication_group_values": "publication_id"}
_ARROW = {"INTEGER": pa.int64(), "BIGINT": pa.int64(), "SMALLINT": pa.int64(), "DOUBLE": pa.float64(),
          "FLOAT": pa.float64(), "BOOLEAN": pa.bool_(), "VARCHAR": pa.string()}
_LOCAL_TEXT = ("measure", "period", "status", "pupil_group")  # a local value's text columns; urn is a number


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    name: str
    duck_type: str


class Mirror:
    """The state tables inside one DuckDB connection, kept at the generations it last loaded."""

    def __init__(self, con: duckdb.DuckDBPyConnection, state: StateStore) -> None:
        self._con = con
        self.state = state
        self._lock = threading.Lock()
        self.results = str(con.execute("SELECT current_database()").fetchall()[0][0])
        self.catalog = f"{CATALOG}_{next(_NUMBERS)}"
        # a schema of its own (not `main`): catalogue reads of the results file's tables (`table_schema = 'main'`,
        # as data.ingest.undo makes them) never see the mirror's tables and views of the same names
        self.search_path = f"{self.catalog}.{SCHEMA},{_quote(self.results)}.main"
        self.loaded: dict[str, int] = {}  # table -> generation loaded
        con.execute(f"ATTACH ':memory:' AS {self.catalog} (READ_WRITE)")
        con.execute(f"CREATE SCHEMA {self.catalog}.{SCHEMA}")
        # a local measure's values take the types of the results table they are shown in
        self._columns = {t: self._results_columns(LOCAL_TABLES[t][0] if t in LOCAL_TABLES else t)
                         for t in STATE_TABLES}

    def _results_columns(self, table: str) -> list[Column]:
        rows = self._con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
            "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [self.results, table]).fetchall()
        return [Column(str(n), str(t)) for n, t in rows]

    def target(self, table: str) -> str:
        """The mirror's table for a state table."""
        return f"{self.catalog}.{SCHEMA}.{_UNION[table][0] if table in _UNION else table}"

    def view(self, name: str) -> str:
        """The mirror's full name of a table or view (`memberships`: the results file's rows and the state's)."""
        return f"{self.catalog}.{SCHEMA}.{name}"

    def detach(self) -> None:
        """Drop the mirror from the connection (another Store may share its DuckDB instance)."""
        try:
            self._con.execute(f"DETACH {self.catalog}")
        except duckdb.Error:  # noqa: S110 (the connection is closing anyway)
            pass

    def refresh(self, generations: dict[str, int] | None = None) -> set[str]:
        """Reload every state table whose generation moved since it was loaded; returns those tables."""
        generations = self.state.generations() if generations is None else generations
        # a table the results file does not have (a store older than its migration) has no types to load into
        changed = {t for t in STATE_TABLES if self._columns[t] and (t not in self.loaded
                                                                    or self.loaded[t] != generations.get(t, 0))}
        if not changed:
            return set()
        with self._lock:
            cur = self._con.cursor()
            try:
                for table in sorted(changed):
                    self._load(cur, table)
                    self.loaded[table] = generations.get(table, 0)
                if not self._views_made:
                    self._make_views(cur)
            finally:
                cur.close()
        return changed

    _views_made = False

    def _load(self, cur: duckdb.DuckDBPyConnection, table: str) -> None:
        key = APPEND_ONLY.get(table)
        target = self.target(table)
        if key is not None and table in self.loaded:
            top = cur.execute(f"SELECT max({key}) FROM {target}").fetchall()[0][0]  # noqa: S608 (constants)
            rows, names = self._read(table, f" WHERE {key} > ?", [top if top is not None else -1])
            self._insert(cur, table, target, rows, names, replace=False)
            held = cur.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]  # noqa: S608
            if held == self.state.query(f"SELECT count(*) FROM {table}")[0][0]:  # noqa: S608
                return
            # rows were deleted or came in out of order after all: load the table whole
        rows, names = self._read(table)
        self._insert(cur, table, target, rows, names, replace=True)

    def _read(self, table: str, where: str = "", params: list | None = None) -> tuple[list[tuple], list[str]]:
        if table in LOCAL_TABLES:
            names = list(LOCAL_TABLES[table][1])
        else:
            held = set(self.state.columns(table))
            names = [c.name for c in self._columns[table] if c.name in held]
        sql = f"SELECT {', '.join(names)} FROM {table}{where}"  # noqa: S608 (names from the schemas)
        return self.state.query(sql, params or []), names

    def _insert(self, cur: duckdb.DuckDBPyConnection, table: str, target: str, rows: list[tuple],
                names: list[str], *, replace: bool) -> None:
        types = {c.name: c.duck_type for c in self._columns[table]}
        arrays = []
        for i, name in enumerate(names):
            values = [r[i] for r in rows]
            local = table in LOCAL_TABLES
            kind = "VARCHAR" if local and name in _LOCAL_TEXT else (
                "INTEGER" if local and name == "urn" else "DOUBLE" if local else types[name])
            arrow = _ARROW.get(kind)
            if arrow is None:  # dates, timestamps: as text, cast by DuckDB
                values = [None if v is None else str(v) for v in values]
                arrow = pa.string()
            elif arrow == pa.bool_():
                values = [None if v is None else bool(v) for v in values]
            elif arrow == pa.string():
                values = [None if v is None else str(v) for v in values]
            arrays.append(pa.array(values, type=arrow))
        batch = pa.table(arrays, names=names) if names else pa.table({})
        cur.register("_mirror_in", batch)
        try:
            if table in LOCAL_TABLES:
                select = self._local_select(table)
            else:
                select = ", ".join(f"CAST(s.{_quote(c.name)} AS {c.duck_type}) AS {_quote(c.name)}" if c.name in names
                                   else f"CAST(NULL AS {c.duck_type}) AS {_quote(c.name)}"
                                   for c in self._columns[table])
            source = "_mirror_in s"
            if table in LOCAL_TABLES:
                source += (f" LEFT JOIN {_quote(self.results)}.main.establishments e ON e.urn = s.urn")
            if replace:
                cur.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {select} FROM {source}"  # noqa: S608
                            + (" ORDER BY e.ord NULLS LAST, s.period" if table in LOCAL_TABLES else ""))
            else:
                cur.execute(f"INSERT INTO {target} SELECT {select} FROM {source}")  # noqa: S608
        finally:
            cur.unregister("_mirror_in")

    def _local_select(self, table: str) -> str:
        """A local measure's value as a row of observations (or of pupil_group_observations, with its pupil group):
        level 'school', source_kind 'local', scope and intervals NULL, as write_local_values wrote it."""
        given = {"ord": "e.ord", "level": "'school'", "source_kind": "'local'",
                 **{c: f"s.{c}" for c in LOCAL_TABLES[table][1]}}
        return ", ".join(f"CAST({given.get(c.name, 'NULL')} AS {c.duck_type}) AS {_quote(c.name)}"
                         for c in self._columns[table])

    def _make_views(self, cur: duckdb.DuckDBPyConnection) -> None:
        for table, (mirrored, view) in _UNION.items():
            base = LOCAL_TABLES[table][0] if table in LOCAL_TABLES else table
            if not self._columns[table]:
                continue
            cols = ", ".join(_quote(c.name) for c in self._columns[table])
            cur.execute(
                f"CREATE OR REPLACE VIEW {self.catalog}.{SCHEMA}.{view} AS "  # noqa: S608 (names from the schemas)
                f"SELECT {cols} FROM {_quote(self.results)}.main.{base} UNION ALL "
                f"SELECT {cols} FROM {self.catalog}.{SCHEMA}.{mirrored}")
        self._views_made = True
