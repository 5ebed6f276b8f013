"""Pages read only through the viewer-scoped reads (data.services.scope.READS) and the checked writes: never
straight from the Store, the engine or the importers. Parsed, not run: a page that reaches round the scope fails
here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from data.services.scope import READS

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])

READ_NAMES = {module: set(names) for module, names in READS.items()}
# What else a page may import from the data layer, and why.
ALLOWED = {
    # modules used by name: their attributes are checked below
    "data.services": {"scope", "governance"},
    "data.demo": {"build"},
    "data.db": {"snapshot"},  # ui/store.py: which snapshot is current, and the writer lock (issue 12 point 7)
    "data.db.snapshot": {"SnapshotId", "current_id", "WriterBusy", "writer_busy"},
    "data.services.access": {"Role", "Viewer", "AccessDenied"},  # who is looking: no data
    "data.db.store": {"Store", "StoreError", "default_path"},  # types, errors and where the store file is
    # the titled errors pages catch to say what went wrong in words; the router tells the store's failures apart
    "data.db.errors": {"StoreError", "StoreUnavailable", "QueryFailed"},
    "data.services.accounts": READ_NAMES["data.services.accounts"] | {
        "sign_in", "viewer_for_email", "current_viewer_of",  # make the Viewer: the sign-in itself
        "admin_add_user", "admin_set_role", "admin_set_password", "admin_remove_user",  # checked writes (admins)
        "ACCOUNT_ROLES", "MIN_PASSWORD",
        # the sign-in cookie (issue 11 point 6): made for, and read back into, the signed-in Viewer; its words
        "session_cookie", "viewer_from_cookie", "revoke_cookies", "COOKIE_NAME", "COOKIE_LIFE", "COOKIE_REFRESH",
        "LEAST_POWERFUL_FIRST"},
    "data.demo.build": {"build_demo", "DEFAULT_SCHOOLS"},  # ui/store.py builds the demo store on first run
    "data.services.scope": READ_NAMES["data.services.scope"],
    "data.services.governance": READ_NAMES["data.services.governance"] | {
        # checked writes, each taking the viewer, and pure helpers on what the form holds
        "choose_measures", "set_targets", "define_measure", "upload_values", "import_uploads", "edit_refusal",
        "form_definition", "REFUSED_EDIT",
        "set_gap_target"},  # issue 13: a target on a disadvantage gap, checked and audited
    # the types the scoped disadvantage reads return (issue 13): records, no data of their own
    "data.services.pupil_groups": {"Disadvantage", "GapRow", "GroupCell"},
    "data.services.support_log": READ_NAMES["data.services.support_log"] | {
        "record_support",  # the checked write
        "KIND_LABELS", "KINDS", "MAX_NOTES", "default_start", "local_support_measures", "network_frames",
        "weak_rows"},  # words, limits and pure functions of frames the scoped reads returned
    "data.services.publications": READ_NAMES["data.services.publications"] | {"publish", "withdraw", "MAX_COMMENTARY"},
    "data.services.inspections": READ_NAMES["data.services.inspections"],
    # the checked write, taking the viewer (issue 11 point 4)
    "data.services.imports": READ_NAMES["data.services.imports"] | {
        "undo_for", "SEVERITY_WORDS", "OK", "DEMO_WHY", "REAL_STORE_COMMANDS"},  # and the check's words
    "data.services.consent": READ_NAMES["data.services.consent"] | {
        "record_consent", "record_consents",  # checked writes, each taking the viewer (issue 11 point 2)
        "AGREED", "DECLINED", "NOT_ASKED", "MAX_NOTE"},
    "data.services.group_admin": READ_NAMES["data.services.group_admin"] | {
        # checked writes, each taking the viewer, and the words and limits of the form
        "create_group", "rename_group", "set_parent", "close_group", "reopen_group", "add_schools", "record_left",
        "answer_invitation", "withdraw_invitation", "KINDS", "KIND_WORDS", "EARLIEST"},
    # pure functions of a Scorecard the scoped reads returned; data_as_of is the last import's date, which every
    # publication prints for parents anyway
    "data.outputs.reports": {"BoardReport", "BoardReportJob", "Progress", "ReportFigure", "TREND_LIMIT", "board_pdf",
                     "build_board_report", "data_as_of", "member_table", "render_png", "report_file_name",
                     "scorecard_csv", "scorecard_table", "scorecard_xlsx", "trend_specs", "latin1", "excel_format",
                     "frame_csv"},  # frame_csv: a CSV of a frame a scoped read returned (formulas written as text)
}
# the questions a page may ask the Store itself: "is this the demo?", and (ui/store.py, for the server log) whether
# opening it rebuilt derived tables an interrupted import had left pending
STORE_METHODS = {"is_demo", "rebuilt", "snapshot"}  # snapshot: which file a Store reads (ui/store.py)
STORE_NAMES = {"store", "_store"}
PACKAGES = {"data", "data.db", "data.ingest", "data.services", "data.outputs", "data.demo"}  # a module by name


def _uses(tree: ast.AST) -> list[tuple[int, str]]:
    """Every data-layer name the file uses: (line, 'module.name'), plus 'Store.method' for calls on a store."""
    found: list[tuple[int, str]] = []
    modules: dict[str, str] = {}  # a local name bound to a data module -> the module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "data":
            for alias in node.names:
                found.append((node.lineno, f"{node.module}.{alias.name}"))
                if node.module in PACKAGES:
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "data":
                    found.append((node.lineno, f"import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            if isinstance(base, ast.Name) and base.id in modules:
                found.append((node.lineno, f"{modules[base.id]}.{node.attr}"))
            elif isinstance(base, ast.Name) and base.id in STORE_NAMES and not node.attr.startswith("__"):
                found.append((node.lineno, f"Store.{node.attr}"))
            elif isinstance(base, ast.Call) and getattr(base.func, "id", None) == "get_store":
                found.append((node.lineno, f"Store.{node.attr}"))
    return found


def _allowed(use: str) -> bool:
    if use.startswith("import "):
        return False
    module, _, name = use.rpartition(".")
    if module == "Store":
        return name in STORE_METHODS or name == "generation"  # the cache key: a number, no data
    return name in ALLOWED.get(module, set())


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_read_only_through_the_scoped_reads(path: Path) -> None:
    uses = _uses(ast.parse(path.read_text(encoding="utf-8")))
    wrong = [f"line {line}: {use}" for line, use in uses if not _allowed(use)]
    assert wrong == [], f"{path.name} reaches round data.services.scope: {wrong}"


def test_the_check_notices_a_page_reading_the_store_directly() -> None:
    # the unscoped reads (data.services.schools, groups, ...) are functions of the Store: a page may not call them
    page = ("from data.services import schools, scope\nfrom data.services.scorecards import scorecard\n"
            "store = get_store()\nrows = schools.school_observations(store, [1])\nok = scope.groups(store, viewer)\n"
            "x = get_store().query('SELECT 1')\ny = store.query_df('SELECT 1')\n")
    wrong = [use for _, use in _uses(ast.parse(page)) if not _allowed(use)]
    assert sorted(wrong) == ["Store.query", "Store.query_df", "data.services.schools",
                             "data.services.schools.school_observations", "data.services.scorecards.scorecard"]


# Pages cache nothing and never name the store's plumbing: st.cache_data / st.cache_resource and the store's
# generation (a cache key) belong to ui/, and the Store class stays in data/ and ui/ (issue 12 points 1 and 6).
PAGE_SCRIPTS = sorted((ROOT / "pages").glob("*.py"))


def _plumbing(tree: ast.AST) -> list[str]:
    """What in a page script is caching or store plumbing: the data.db.store import, .generation, st.cache_*."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "data.db.store":
            found += [f"line {node.lineno}: imports data.db.store.{a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute) and node.attr in ("generation", "cache_data", "cache_resource"):
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


@pytest.mark.parametrize("path", PAGE_SCRIPTS, ids=lambda p: p.name)
def test_pages_cache_nothing_and_name_no_store_plumbing(path: Path) -> None:  # issue 12 point 6
    assert _plumbing(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_plumbing_check_notices_a_page_that_caches() -> None:  # issue 12 point 6
    page = ("from data.db.store import Store\nimport streamlit as st\n@st.cache_data\ndef f(_s: Store, g: int):\n"
            "    pass\nf(store, store.generation)\n")
    assert _plumbing(ast.parse(page)) == ["line 1: imports data.db.store.Store", "line 3: .cache_data",
                                          "line 6: .generation"]
