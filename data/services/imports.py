"""The Data page's reads and checked writes on imports, as the viewer may: what the store can show and cannot yet,
and undoing an import. Data managers (admins) only; the work itself is data.ingest's. Below them, the logs of
imports and of recorded changes, unscoped: pages read them through data.services.scope, which decides who sees what."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from data.db.store import Store
from data.ingest import store_check, undo
from data.ingest.store_check import DEMO_WHY, OK, REAL_STORE_COMMANDS, SEVERITY_WORDS, Finding
from data.ingest.undo import UndoDone, UndoPlan
from data.services.access import AccessDenied, Viewer

CHECK_ADMINS_ONLY = "Only an admin can check what the store holds."
UNDO_ADMINS_ONLY = "Only an admin can undo an import."
# the check's words, for the page that shows its findings
__all__ = ["DEMO_WHY", "OK", "REAL_STORE_COMMANDS", "SEVERITY_WORDS", "audit_log", "import_log", "store_findings",
           "undo_for", "undo_plan", "undoable_imports"]


def store_findings(store: Store, viewer: Viewer) -> list[Finding]:
    """What the store can show and what it cannot yet (data.ingest.store_check), for the Data page."""
    if not viewer.is_admin:
        raise AccessDenied(CHECK_ADMINS_ONLY)
    return store_check.check_store(store)


def undo_plan(store: Store, viewer: Viewer, import_id: int) -> UndoPlan:
    """What undoing the import would do, or why not: for the Data page's confirmation."""
    if not viewer.is_admin:
        raise AccessDenied(UNDO_ADMINS_ONLY)
    return undo.plan(store, import_id, numbered=False)


def undoable_imports(store: Store, viewer: Viewer) -> list[tuple[int, str]]:
    """(import id, the import in words) of the imports that may be undone, newest first."""
    if not viewer.is_admin:
        raise AccessDenied(UNDO_ADMINS_ONLY)
    return undo.undoable(store)


def undo_for(store: Store, viewer: Viewer, import_id: int) -> UndoDone:
    """Undo an import as the viewer (the page keeps no backup file: the file can be imported again)."""
    if not viewer.is_admin:
        raise AccessDenied(UNDO_ADMINS_ONLY)
    return undo.undo_import(store, viewer.actor, import_id)


def import_log(store: Store, limit: int = 200) -> pd.DataFrame:
    # an undone import (data/ingest/undo.py) shows as 'undone'
    return store.query_df("SELECT i.* REPLACE (CASE WHEN u.import_id IS NULL THEN i.outcome ELSE 'undone' END "
                         "AS outcome) FROM imports i LEFT JOIN imports_undone u USING (import_id) "
                         "ORDER BY import_id DESC LIMIT ?", [limit])


def audit_log(store: Store, limit: int = 200, *, group_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Recorded changes, newest first: all of them, or those to these groups' data. Unscoped: pages read
    it through data.services.scope.audit_log, which decides the groups."""
    sql = ("SELECT a.audit_id, a.at_time, a.actor, a.action, a.entity, a.entity_id, a.group_id, "
           "g.name AS group_name, a.before_json, a.after_json FROM audit_log a LEFT JOIN groups g USING (group_id)")
    if group_ids is None:
        return store.query_df(sql + " ORDER BY a.audit_id DESC LIMIT ?", [limit])
    return store.query_df(sql + " WHERE list_contains(?::INTEGER[], a.group_id) ORDER BY a.audit_id DESC LIMIT ?",
                          [[int(g) for g in group_ids], limit])
