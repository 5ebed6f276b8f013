"""The router: page config, the store, the viewer, and navigation by role — run by app.py, and by a page run directly.

On Streamlit 1.67 a deep link to a freshly started server runs the `pages/` file it names directly, skipping app.py
(the server has not run `st.navigation` yet). Each page therefore starts with `hand_over()`: run outside the router,
it runs the router instead, which sets the viewer up and runs that same page through the navigation.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from data.db.errors import QueryFailed, StoreError, StoreUnavailable
from data.services.access import AccessDenied, Role
from metrics.text import markdown_text
from ui.context import KEY_VIEWER, viewer_selector
from ui.server import install, upload_window
from ui.signin import PUBLIC, sign_in_first, signed_in_viewer
from ui.store import get_store, is_demo, public_site

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
_RUNNING = threading.local()  # set while route() runs a page: each session's script runs on its own thread


@dataclass(frozen=True)
class PageSpec:
    """A page of the app as data (a test can read it without a running server): its script in pages/ and its place."""

    script: str
    title: str
    icon: str | None = None
    url_path: str = ""  # "": Streamlit's, from the script's name
    default: bool = False
    visibility: str = "visible"

    @property
    def path(self) -> str:
        """The address the page answers at."""
        return self.url_path or self.script.removesuffix(".py")

    def page(self) -> st.Page:
        # an absolute path: a page run directly makes its own folder the script's, and a relative one would not
        # resolve; made in the run (a Page made outside a running script has no title)
        kw = {"url_path": self.url_path} if self.url_path else {}
        return st.Page(PAGES_DIR / self.script, title=self.title, icon=self.icon, default=self.default,
                       visibility=self.visibility, **kw)


OVERVIEW = PageSpec("group_overview.py", "Group overview", ":material/dashboard:", default=True)
SCHOOL = PageSpec("school_scorecard.py", "School scorecard", ":material/school:")
SIMILAR = PageSpec("similar_schools.py", "Similar schools", ":material/diversity_3:")
SUPPORT = PageSpec("support.py", "Support", ":material/volunteer_activism:")
MEASURES = PageSpec("measures.py", "Measures and targets", ":material/tune:")
REPORTS = PageSpec("reports.py", "Reports", ":material/description:")
IMPACT = PageSpec("impact.py", "Impact of joining", ":material/insights:")
DATA = PageSpec("data_import.py", "Data", ":material/upload_file:")
ACCOUNTS = PageSpec("accounts.py", "Accounts", ":material/manage_accounts:")
GROUPS = PageSpec("groups.py", "Groups", ":material/group_work:", url_path="groups")
HISTORY = PageSpec("change_history.py", "Change history", ":material/history:")
PUBLISH = PageSpec("publish.py", "Publish results", ":material/campaign:")
PARENTS = PageSpec("published_results.py", "Results for parents", ":material/family_restroom:")
# The public's only page must also answer at /published_results (shared links): a hidden home page runs the same
# script at "/", so the visible one keeps its own path.
PUBLIC_HOME = PageSpec("published_results.py", "Results for parents", url_path="parents", default=True,
                       visibility="hidden")

PAGES_BY_ROLE = {
    Role.LEADER: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, IMPACT, MEASURES, REPORTS, GROUPS, PUBLISH, HISTORY, PARENTS],
    Role.GOVERNOR: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, IMPACT, MEASURES, REPORTS, PARENTS],
    Role.ADMIN: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, IMPACT, MEASURES, REPORTS, DATA, GROUPS, ACCOUNTS, PUBLISH,
                 HISTORY, PARENTS],
    Role.PUBLIC: [PUBLIC_HOME, PARENTS],
}


def hand_over() -> None:
    """First line of every page: run through the router, nothing happens; run directly (a deep link to a fresh
    server), the router runs instead (it runs this page, for this viewer) and this run ends there."""
    if getattr(_RUNNING, "page", False):
        return
    ctx = get_script_run_ctx()
    # the page asked for: the navigation opens it (a deep link's address names it too; a test's run of the file
    # does not), if the viewer's role has it — else the role's own first page, as any address outside it does
    _RUNNING.asked = Path(ctx.main_script_path).name if ctx is not None else None
    try:
        route()
    finally:
        _RUNNING.asked = None
    st.stop()


def route() -> None:
    """One script run of the app: config, guard, store, viewer, then the page the address names, as the viewer may
    see it."""
    # an emoji favicon is drawn in the page (a data: URL); a Material one is fetched from Google by every visitor
    st.set_page_config(page_title="Jointly", page_icon="🤝", layout="wide")
    # uploads, metrics and headers guarded even under plain `streamlit run app.py` (serve.py does it at start)
    install()

    # after this run the session may upload only if the page it ran offered this viewer an uploader (ui.server):
    # a run that stops early (sign-in, the demo being built) closes uploads too
    with upload_window():
        try:
            _serve()
        except (StoreUnavailable, QueryFailed) as problem:  # the store failed us, not the viewer: words, and the log
            logging.getLogger(__name__).warning("%s: %s", problem.title, problem.detail)
            st.error(markdown_text(problem.title[:1].upper() + problem.title[1:] + "."), icon=":material/error:")


def _serve() -> None:
    """The store, the viewer, and the page the address names, as the viewer may see it."""
    store = get_store()  # shows the demo being built, with progress, on first run
    if is_demo(store):
        st.sidebar.warning("Demo data: a synthetic England. Schools, names and results are made up.")
    # the demo has a "viewing as" choice; real data needs signing in (a signed-out visitor is the public); a
    # parents-only site (read-only store) has no sign-in at all
    if public_site():
        viewer = PUBLIC
    elif is_demo(store):
        viewer = viewer_selector(store)
    else:
        viewer = signed_in_viewer(store)
    st.session_state[KEY_VIEWER] = viewer
    try:
        specs = PAGES_BY_ROLE[viewer.role]
        pages = [spec.page() for spec in specs]
        asked = next((p for s, p in zip(specs, pages, strict=True) if s.script == getattr(_RUNNING, "asked", None)),
                     None)
        if viewer.role is Role.PUBLIC and not public_site() and not is_demo(store):
            # a signed-out deep link to a staff page asks to sign in there, then opens it (not "Page not found")
            staff = dict.fromkeys(s for role in (Role.ADMIN, Role.LEADER, Role.GOVERNOR) for s in PAGES_BY_ROLE[role])
            pages = [*pages, *sign_in_first([s.page() for s in staff if s not in specs])]
        _RUNNING.page = True
        try:
            # every page listed (the default folds all past the tenth behind "View more": an admin has 13)
            chosen = st.navigation(pages, expanded=True)
            if asked is not None and (chosen.title, chosen.url_path) != (asked.title, asked.url_path):
                st.switch_page(asked)  # the page file run directly, no address naming it (a test's run of the file)
            chosen.run()
        finally:
            _RUNNING.page = False
    except (StoreUnavailable, QueryFailed):  # the store failed, not the viewer's choice: said by route()
        raise
    except AccessDenied as refused:  # the data layer said no (a page offers only what the viewer may see): say why
        st.warning(markdown_text(refused.title), icon=":material/lock:")
    except StoreError as problem:  # e.g. a group with no member schools in the chosen year: said in words
        # a title may name a group or a school (people's words): shown as written
        st.info(markdown_text(problem.title[:1].upper() + problem.title[1:] + "."), icon=":material/info:")
