"""The caching seam between Streamlit and the store: each process reads the results read-only, and moves to a new
snapshot at the first rerun after a writer swapped one in (data.db.snapshot).

A rerun keeps the Store it started with to its end (so no rerun sees half of an import); the Store of an earlier
snapshot is never closed under a rerun that still reads it: it is dropped, and the garbage collector closes it
when the last rerun holding it has finished.

When no store exists, one process builds the demo (it holds the results' writer lock while it does, in a
background thread that survives the visitor who started it leaving); every session of every process shows the
build's progress until it is ready, then opens it read-only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from data.db import snapshot
from data.db.errors import StoreError
from data.db.store import Store, default_path
from metrics.text import markdown_text


@dataclass
class _Build:
    thread: threading.Thread | None = None
    message: str = "Starting…"
    fraction: float = 0.0
    error: str | None = None


_BUILD = _Build()
_LOCK = threading.Lock()


def _progress_path(path: Path) -> Path:
    """Where the process building the demo says how far it is, for the other processes' visitors."""
    return path.with_name(path.name + ".progress")


def _run_build(path: Path) -> None:
    from data.demo import build as demo

    shared = _progress_path(path)

    def progress(message: str, fraction: float) -> None:
        _BUILD.message, _BUILD.fraction = message, min(max(fraction, 0.0), 1.0)
        with contextlib.suppress(OSError):  # the other processes' progress bar only: never stops the build
            part = shared.with_name(shared.name + ".part")
            part.write_text(json.dumps({"message": _BUILD.message, "fraction": _BUILD.fraction}), encoding="utf-8")
            os.replace(part, shared)

    try:
        # JOINTLY_DEMO_SCHOOLS lets tests build a small demo; people get the default size
        schools = int(os.environ.get("JOINTLY_DEMO_SCHOOLS", demo.DEFAULT_SCHOOLS))
        while True:
            try:
                demo.build_demo(path, schools=schools, progress=progress, only_if_missing=True)
                break
            except snapshot.WriterBusy:  # another process builds it (or imports): wait for it, then look again
                if path.exists():
                    break
    except Exception as exc:  # shown to every waiting visitor, in words
        _BUILD.error = f"The demo data could not be built: {exc}"
    finally:
        shared.unlink(missing_ok=True)


def _elsewhere(path: Path) -> tuple[str, float]:
    """How far another process's demo build is, as it last said."""
    try:
        said = json.loads(_progress_path(path).read_text(encoding="utf-8"))
        return str(said["message"]), min(max(float(said["fraction"]), 0.0), 1.0)
    except (OSError, ValueError, KeyError, TypeError):
        return "Another process is building it…", 0.0


def _wait_for_demo(path: Path) -> None:
    """Start the demo build if no process has, show its progress, and rerun until the store exists."""
    with _LOCK:
        mine = _BUILD.thread is not None and _BUILD.thread.is_alive()
        # another process holds the writer lock: it builds, this one waits (build_demo would wait for it anyway)
        building_elsewhere = not mine and snapshot.writer_busy(path)
        if not mine and not building_elsewhere and _BUILD.error is None and not path.exists():
            _BUILD.thread = threading.Thread(target=_run_build, args=(path,), name="demo-build", daemon=True)
            _BUILD.thread.start()
            mine = True
    st.info("No store yet: building the synthetic demo England (made-up schools, DfE file formats). "
            "This happens once and takes under a minute.")
    if _BUILD.error:
        st.error(_BUILD.error)
        st.stop()
    message, fraction = (_BUILD.message, _BUILD.fraction) if mine else _elsewhere(path)
    st.progress(fraction, text=markdown_text(message))  # a file's name, as written: its underscores are no markup
    time.sleep(0.5)
    st.rerun()


@dataclass
class _Served:
    """The Store a process serves for one results path, and the snapshot it reads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    store: Store | None = None
    snapshot: snapshot.SnapshotId | None = None


@st.cache_resource(show_spinner=False)
def _served(path: str) -> _Served:
    return _Served()


def _current(path: str) -> Store:
    """The Store over the snapshot at `path` now: the one already open unless a writer swapped in another (one
    os.stat tells), else a new Store over the new file sharing the first one's state store."""
    served = _served(path)
    now = snapshot.current_id(Path(path))
    held = served.store
    if held is not None and now == served.snapshot:
        return held
    with served.lock:  # one open per swap, however many sessions rerun at that moment
        held = served.store
        if held is not None and snapshot.current_id(Path(path)) == served.snapshot:
            return held
        store = Store.open(path, read_only=True, state=held.state_store() if held is not None else None)
        if store.rebuilt:  # an import was interrupted before its derived tables were rebuilt: a writer rebuilt them
            logging.getLogger(__name__).warning("%s: %s", path, store.rebuilt)
        # the Store before is not closed: reruns that started on it still read it, and its last one drops it
        served.store, served.snapshot = store, store.snapshot
        return store


# One thread of the process asks the state store what moved, for every rerun of every session. Each rerun runs on a
# new thread and the state store keeps a connection per thread (data.db.state): asked from the rerun's own thread,
# every rerun opened a SQLite connection (and its pragmas) and left it open. Asked here, one connection serves them
# all, and the questions are answered one at a time. (Its thread starts at the first question.)
_REFRESHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-refresh")


def _pinned(path: str) -> Store:
    """The Store this rerun started with (the first get_store of a rerun chooses it), so every read of one rerun
    comes from one snapshot; outside a script run, the current one."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return _current(path)
    run = ctx.cursors  # a new dict at every (re)run of this session's script: the rerun's identity
    pin = getattr(ctx, "_jointly_store", None)
    if pin is not None and pin[0] is run and pin[1] == path:
        return pin[2]
    store = _current(path)
    refresh = getattr(store, "refresh", None)
    if refresh is not None:  # what people wrote in other processes: once per rerun (data.db.mirror)
        _REFRESHER.submit(refresh).result()
    ctx._jointly_store = (run, path, store)  # type: ignore[attr-defined]  # lives and dies with the session
    return store


def public_site() -> bool:
    """True for a parents-only site ($JOINTLY_PUBLIC_SITE=1): the store is opened read-only, nobody signs in, and
    only published results are shown. Run it on a copy of the staff store (docs/deploy.md)."""
    return os.environ.get("JOINTLY_PUBLIC_SITE", "").strip().lower() in ("1", "true", "yes")


# whether each open Store is the demo, as of its generation: a results file's setting, which only a writer's next
# snapshot (another Store) or a write through this one (the generation moves on) can change
_DEMO: weakref.WeakKeyDictionary[Store, tuple[int, bool]] = weakref.WeakKeyDictionary()


def is_demo(store: Store) -> bool:
    """True for the built-in synthetic demo store, asked of the store once per store state (the router asks on
    every rerun, and the answer was a query each time)."""
    gen = store.generation
    known = _DEMO.get(store)
    if known is not None and known[0] == gen:
        return known[1]
    answer = store.is_demo()
    _DEMO[store] = (gen, answer)
    return answer


def get_store() -> Store:
    """The app's store, read-only, at the snapshot this rerun started with; shows the demo being built first when
    $JOINTLY_DB (or the default file) does not exist. A parents-only site never builds one."""
    path = default_path()
    if public_site():
        if not path.exists():
            st.error("No results have been published here yet.")
            st.stop()
        return _pinned(str(path))
    if not path.exists():
        _wait_for_demo(path)
    try:
        return _pinned(str(path))
    except StoreError as problem:  # state: e.g. a store from before the state store, to move first (move-state)
        st.error(problem.title[:1].upper() + problem.title[1:], icon=":material/database:")
        st.stop()
        raise
