"""Results snapshots: every write to the results file goes to the next snapshot, swapped in whole.

App processes open the results file read-only (DuckDB lets many processes do that at once). A writer (an import,
undo-import, rebuild, optimize, forget-period, the demo build, a migration) takes the writer lock beside the file,
copies the current snapshot to `<path>.next`, writes there, checkpoints, closes and fsyncs it, and renames it onto
the path: `os.replace` is atomic on POSIX, so a reader opens either the old file or the new one, never half of
one. A crash before the rename leaves the current snapshot untouched and a stale `.next`, which the next writer
removes. Readers notice a swap by the file's identity (inode and modification time: one `os.stat`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

from data.db.errors import StoreError

if TYPE_CHECKING:
    from data.db.store import Store

T = TypeVar("T")

# how long a second writer waits for the first before saying so (an import of a national year takes minutes; a
# command waits a while, then says another is running rather than hanging without a word)
WRITER_WAIT_S = float(os.environ.get("JOINTLY_WRITER_WAIT_S", "60"))


@dataclass(frozen=True)
class SnapshotId:
    """Which file is at a path now: a swap gives a new inode (and a new modification time)."""

    inode: int
    mtime_ns: int

    def number(self) -> int:
        """One integer for caches keyed by it: the modification time in ns, distinct per snapshot."""
        return self.mtime_ns


class WriterBusy(StoreError):
    """Another process holds the writer lock for longer than we wait."""


def next_path(path: Path) -> Path:
    """Where the next snapshot of `path` is built."""
    return path.with_name(path.name + ".next")


def lock_path(path: Path) -> Path:
    """The writer lock beside the results file (its content means nothing; the lock is on the open file)."""
    return path.with_name(path.name + ".lock")


def current_id(path: Path) -> SnapshotId | None:
    """The identity of the snapshot at `path` now, or None when there is none: one stat, cheap for every rerun."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return SnapshotId(st.st_ino, st.st_mtime_ns)


def _wal(path: Path) -> Path:
    return Path(f"{path}.wal")


_names = itertools.count()


def _read_name(path: Path, n: int) -> Path:
    return path.with_name(f".{path.name}.read-{os.getpid()}-{n}")


def _remove_stray_names(path: Path) -> None:
    """Remove the names a process that died between linking and unlinking left behind (each pins an old file)."""
    for stray in path.parent.glob(f".{path.name}.read-*"):
        pid = stray.name.rsplit(".read-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            stray.unlink(missing_ok=True)


def open_read_only(path: Path) -> tuple[duckdb.DuckDBPyConnection, SnapshotId | None]:
    """A read-only connection to the snapshot at `path` now, and that snapshot's identity.

    DuckDB keeps one database instance per file name in a process and hands it back to the next connect while any
    connection to it lives, even after the file was replaced (duckdb/duckdb#15912): the app would read the old
    snapshot for ever. So the file is opened through a hard link of its own name (unlinked at once: the connection
    keeps the file), which is also how its identity is read without a race with the next swap.
    """
    path = Path(path)
    wal = _wal(path)
    if wal.exists() and wal.stat().st_size:  # a store from before snapshots with unfinished writes: its log
        return duckdb.connect(str(path), read_only=True), current_id(path)  # is found only beside its own name
    name = _read_name(path, next(_names))
    try:
        os.link(path, name)
    except FileNotFoundError:
        raise duckdb.IOException(f"there is no store file at {path}") from None
    except OSError:  # links not allowed here (a read-only folder): open the name itself, as before snapshots
        return duckdb.connect(str(path), read_only=True), current_id(path)
    try:
        st = os.stat(name)
        con = duckdb.connect(str(name), read_only=True)
    finally:
        name.unlink(missing_ok=True)
    if next(_names) % 64 == 0:
        _remove_stray_names(path)
    return con, SnapshotId(st.st_ino, st.st_mtime_ns)


@contextmanager
def writer_lock(path: Path, *, wait_s: float | None = None) -> Iterator[None]:
    """Hold the exclusive writer lock of the results file at `path` (flock: per open file, so two threads of one
    process exclude each other too; released by the kernel if the holder dies). Waits up to `wait_s` seconds,
    then raises WriterBusy in one sentence."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    limit = WRITER_WAIT_S if wait_s is None else wait_s
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + limit
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise WriterBusy(f"another import (or another change to the results) is running on {path}: "
                                     f"waited {limit:.0f} s; try again when it has finished; nothing was changed"
                                     ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def writer_busy(path: Path) -> bool:
    """Whether another writer holds the lock now (without waiting or taking it)."""
    try:
        with writer_lock(path, wait_s=0):
            return False
    except WriterBusy:
        return True


def fast_copy(src: Path, dst: Path) -> None:
    """Copy a file in the kernel (copy_file_range: a reflink where the file system offers one), else by chunks."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        size = os.fstat(fin.fileno()).st_size
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError:  # not offered across these file systems: copy through user space instead
            fin.seek(done)
            fout.seek(done)
            while chunk := fin.read(1 << 24):
                fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fold_wal(path: Path) -> None:
    """Move a write-ahead log left beside the current file (a process killed while it held the file read-write,
    before snapshots) into the file, so a copy of the file holds everything committed."""
    wal = _wal(path)
    if not wal.exists():
        return
    if wal.stat().st_size:
        try:
            con = duckdb.connect(str(path))
        except duckdb.Error as exc:
            raise StoreError(f"the store {path} has unfinished writes in {wal.name} and another program has it open:"
                             " stop it once so they can be kept; nothing was changed", str(exc)) from exc
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()
    wal.unlink(missing_ok=True)


def prepare_next(path: Path) -> Path:
    """Under the writer lock: remove a stale next snapshot (a writer that died) and copy the current one to it."""
    nxt = next_path(path)
    for stale in (nxt, _wal(nxt)):
        stale.unlink(missing_ok=True)
    if path.exists():
        fold_wal(path)
        fast_copy(path, nxt)
    return nxt


def swap_in(path: Path, nxt: Path) -> None:
    """Make the closed, checkpointed next snapshot the current one: fsync it, rename it onto `path`, fsync the
    folder (so the rename itself survives a power cut)."""
    if _wal(nxt).exists() and _wal(nxt).stat().st_size:
        raise StoreError(f"the next snapshot of {path} did not checkpoint cleanly: the store is as it was")
    _wal(nxt).unlink(missing_ok=True)
    _fsync_path(nxt)
    os.replace(nxt, path)
    _fsync_path(path.parent, directory=True)


def discard(nxt: Path) -> None:
    """Throw away a next snapshot that will not be swapped in."""
    for p in (nxt, _wal(nxt)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextmanager
def next_snapshot(path: Path, *, wait_s: float | None = None, state: object | None = None) -> Iterator[Store]:
    """A writer Store over the next snapshot of the results at `path`: whatever the block commits is swapped in
    whole when it ends without an exception; on an exception (or a kill) the current snapshot is as it was.

    `state` is the StateStore of a Store already open on `path` (the app's), shared rather than opened again."""
    from data.db.store import Store

    path = Path(path)
    with writer_lock(path, wait_s=wait_s):
        nxt = prepare_next(path)
        store: Store | None = None
        try:
            store = Store(path, file=nxt, state=state)
            yield store
            store.checkpoint()
            store.close()
            store = None
            swap_in(path, nxt)
        except BaseException:
            if store is not None:
                with contextlib.suppress(Exception):
                    store.close()
            discard(nxt)
            raise


@contextmanager
def results_writer(store: Store, *, wait_s: float | None = None) -> Iterator[Store]:
    """A Store that may write the results: `store` itself when it may (a writer over a next snapshot, or a
    read-write Store a test or a single process holds), else a next snapshot of its file, swapped in when the
    block ends. The caller's read-only Store keeps showing the snapshot it opened; the app's next rerun opens the
    new one (ui.store.get_store)."""
    if not store.read_only:
        yield store
        return
    with next_snapshot(store.path, wait_s=wait_s, state=store.state_store()) as writer:
        yield writer


def write_results(store: Store, work: Callable[[Store], T], *, wait_s: float | None = None) -> T:
    """Run `work` (results writes) on results_writer(store): one snapshot for all of it."""
    with results_writer(store, wait_s=wait_s) as writer:
        return work(writer)


def _latest_migration() -> set[int]:
    from data.db.store import MIGRATIONS_DIR

    return {int(p.name.split("_", 1)[0]) for p in MIGRATIONS_DIR.glob("*.sql")}


def bring_up_to_date(path: Path, *, rebuild: bool = True, state: object | None = None) -> str | None:
    """Before a read-only open: when the code has migrations the file lacks, or (with `rebuild`) an interrupted
    import left derived tables pending, a writer does that work in a next snapshot and swaps it in. Returns what
    was rebuilt, in words (None: nothing). A rebuild gives way to a running writer (its import rebuilds them)."""
    path = Path(path)
    if not path.exists():
        return None
    con, _ = open_read_only(path)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        applied = ({r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
                   if "schema_version" in tables else set())
        since = (con.execute("SELECT min(import_id) FROM imports WHERE outcome = 'pending'").fetchall()[0][0]
                 if "imports" in tables else None)
    finally:
        con.close()
    migrate = not _latest_migration() <= applied
    if not migrate and not (rebuild and since is not None):
        return None
    try:
        with next_snapshot(path, wait_s=None if migrate else 0, state=state) as writer:  # its open migrates
            if not rebuild or writer.derived_pending() is None:
                return None
            try:
                return writer.rebuild_derived()
            except Exception as exc:  # the rebuild is one transaction: the snapshot is discarded, still marked
                raise StoreError(f"the derived tables pending since import {since} could not be rebuilt; the "
                                 "imported values are kept: try `python -m data rebuild`", str(exc)) from exc
    except WriterBusy:
        if migrate:
            raise
        return None
