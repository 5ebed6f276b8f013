"""The parents-only copy (`python -m data export-public OUT`), for a parents' host that cannot reach the staff's
state store: a results file and a state file beside it that hold only what was published.

OUT is the results file (DuckDB): Jointly's schema with no schools, observations or imports, and the demo mark when
the store is the demo. Beside it, `OUT` with the suffix `.state.sqlite` is the state store the parents' site opens
with it (JOINTLY_DB=OUT, no JOINTLY_STATE_URL): the current published versions with their measures, school values,
schools and left-out schools, and nothing else: no accounts, audit log, targets, consents, support records, groups,
settings, withdrawn or replaced versions. Who published or withdrew a version and the cells' fingerprints are blank
(PRIVATE_COLUMNS), and the fingerprints' key is not copied. A parents-only site (JOINTLY_PUBLIC_SITE=1) on this pair
cannot show anything else, even if its code had a bug.
"""

from __future__ import annotations

from pathlib import Path

from data.db.errors import StoreError
from data.db.state import StateStore, sqlite_path
from data.db.store import Store

PUBLIC_TABLES = ("publications", "publication_items", "publication_school_values", "publication_schools",
                 "publication_left_out", "publication_gaps", "publication_group_values")
# Columns blank in the parents' copy: who published, replaced or withdrew a version (parents read what was
# published, never who did it), and the cells' fingerprints (the staff store's own bookkeeping).
PERSON_COLUMNS = {"publications": ("created_by", "status_changed_by")}
PRIVATE_COLUMNS = {**PERSON_COLUMNS, "publication_school_values": ("fingerprint",),
                   "publication_group_values": ("fingerprint",)}


def public_state_path(out: str | Path) -> Path:
    """The state file that goes with the export OUT: where a parents' site on OUT looks for it by default."""
    return Path(out).with_suffix(".state.sqlite")


def _sidecars(path: Path) -> tuple[Path, Path]:
    return Path(f"{path}-wal"), Path(f"{path}-shm")


def _refuse_target(store: Store, out: Path, state_out: Path) -> None:
    """The export never lands on the staff's own files, a folder, or a state file a process has open."""
    own = {store.path.resolve()}
    staff_state = sqlite_path(store.state.url)
    if staff_state is not None:
        own.add(staff_state.resolve())
    for target in (out, state_out):
        if target.resolve() in own:
            raise StoreError(f"{target} is the staff's own store: export the parents' copy to another file; nothing "
                             "was written")
        if target.is_dir():
            raise StoreError(f"{target} is a folder: name the file to write, e.g. {target / 'public.duckdb'}; "
                             "nothing was written")
    # SQLite keeps these beside a file while a process has it open: a file replaced under them would be read
    # with the old one's log, so a parents' site still running on the old copy must stop first
    if any(p.exists() for p in _sidecars(state_out)):
        raise StoreError(f"{state_out} is open in another program (a parents' site on the previous copy?): stop it, "
                         "or export to a new name and point the site at it; nothing was replaced")


def _published_rows(store: Store) -> dict[str, tuple[list[str], list[tuple]]]:
    """Each public table's columns and the rows of the current published versions, read from the state store in
    one transaction (a withdrawal at that moment is either wholly in or wholly out)."""
    out: dict[str, tuple[list[str], list[tuple]]] = {}
    with store.state.transaction(changes_data=False) as cur:
        ids = [int(r[0]) for r in cur.execute("SELECT publication_id FROM publications WHERE status = 'published' "
                                              "ORDER BY publication_id").fetchall()]
        marks = ", ".join("?" * len(ids))  # one placeholder per id, counted here
        for table in PUBLIC_TABLES:  # fixed names, never user text
            columns = store.state.columns(table)
            blank = {columns.index(c) for c in PRIVATE_COLUMNS.get(table, ())}
            rows = [] if not ids else cur.execute(
                f"SELECT {', '.join(columns)} FROM {table} WHERE publication_id IN ({marks}) "  # noqa: S608
                "ORDER BY publication_id", ids).fetchall()
            out[table] = (columns, [tuple(None if i in blank else v for i, v in enumerate(r)) for r in rows])
    return out


def export_public(store: Store, out: str | Path) -> dict[str, int]:
    """Write the parents-only pair OUT and its state file (module docstring); returns rows copied per table.

    Both are written beside their targets first and moved into place whole, the state file first: a parents'
    site that opens the pair between the two moves finds the new publications with the old results file, which
    holds nothing but the schema and the demo mark."""
    out = Path(out)
    state_out = public_state_path(out)
    _refuse_target(store, out, state_out)
    part = out.with_name(out.name + ".part")
    state_part = state_out.with_name(state_out.name + ".part")
    leftovers = (part, Path(f"{part}.wal"), state_part, *_sidecars(state_part))
    for stale in leftovers:
        stale.unlink(missing_ok=True)
    rows = _published_rows(store)
    demo = store.is_demo()
    try:
        state = StateStore.open("sqlite:///" + str(state_part.resolve()))
        try:
            with Store(part, state=state) as dest:
                with dest.transaction() as cur:
                    for table, (columns, values) in rows.items():
                        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                                        f"VALUES ({', '.join('?' * len(columns))})", values)
                if demo:
                    with dest.results_transaction() as cur:
                        cur.execute("INSERT INTO settings (key, value) VALUES ('demo', 'true')")
                dest.checkpoint()
        finally:
            state.close()  # the last connection: SQLite folds its log into the file and removes it
        state_part.replace(state_out)
        part.replace(out)
    finally:
        for stale in leftovers:
            stale.unlink(missing_ok=True)
    return {table: len(values) for table, (_, values) in rows.items()}
