"""The caching seam between Streamlit and the store: one Store per process, built on first use.

When no store exists, the demo is built once per process in a background thread (so it survives the
visitor who started it leaving), and every session shows its progress until it is ready.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from data.db.store import Store, default_path


@dataclass
class _Build:
    thread: threading.Thread | None = None
    message: str = "Starting…"
    fraction: float = 0.0
    error: str | None = None


_BUILD = _Build()
_LOCK = threading.Lock()


def _run_build(path: Path) -> None:
    from data.demo import build as demo

    def progress(message: str, fraction: float) -> None:
        _BUILD.message, _BUILD.fraction = message, min(max(fraction, 0.0), 1.0)

    try:
        # JOINTLY_DEMO_SCHOOLS lets tests build a small demo; people get the default size
        schools = int(os.environ.get("JOINTLY_DEMO_SCHOOLS", demo.DEFAULT_SCHOOLS))
        demo.build_demo(path, schools=schools, progress=progress)
    except Exception as exc:  # shown to every waiting visitor, in words
        _BUILD.error = f"The demo data could not be built: {exc}"


def _wait_for_demo(path: Path) -> None:
    """Start the demo build if nobody has, show its progress, and rerun until the store exists."""
    with _LOCK:
        if _BUILD.thread is None or (not _BUILD.thread.is_alive() and _BUILD.error is None and not path.exists()):
            _BUILD.thread = threading.Thread(target=_run_build, args=(path,), name="demo-build", daemon=True)
            _BUILD.thread.start()
    st.info("No store yet: building the synthetic demo England (made-up schools, DfE file formats). "
            "This happens once and takes under a minute.")
    if _BUILD.error:
        st.error(_BUILD.error)
        st.stop()
    st.progress(_BUILD.fraction, text=_BUILD.message)
    time.sleep(0.5)
    st.rerun()


@st.cache_resource(show_spinner=False)
def _open(path: str, read_only: bool) -> Store:
    store = Store.open(path, read_only=read_only)
    if store.rebuilt:  # an import was interrupted before its derived tables were rebuilt: Store.open rebuilt them
        logging.getLogger(__name__).warning("%s: %s", path, store.rebuilt)
    return store


def public_site() -> bool:
    """True for a parents-only site ($JOINTLY_PUBLIC_SITE=1): the store is opened read-only, nobody signs in, and
    only published results are shown. Run it on a copy of the staff store (docs/deploy.md)."""
    return os.environ.get("JOINTLY_PUBLIC_SITE", "").strip().lower() in ("1", "true", "yes")


def get_store() -> Store:
    """The app's store; shows the demo being built first when $JOINTLY_DB (or the default file) does not exist.
    A parents-only site opens an existing store read-only and never builds one."""
    path = default_path()
    if public_site():
        if not path.exists():
            st.error("No results have been published here yet.")
            st.stop()
        return _open(str(path), True)
    if not path.exists():
        _wait_for_demo(path)
    return _open(str(path), False)
