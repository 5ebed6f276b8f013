"""The router: page config, the store, the viewer, and navigation by role — run by app.py, and by a page run directly.

On Streamlit 1.67 a deep link to a freshly started server runs the `pages/` file it names directly, skipping app.py
(the server has not run `st.navigation` yet). Each page therefore starts with `hand_over()`: run outside the router,
it runs the router instead, which sets the viewer up and runs that same page through the navigation.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from data.db.errors import StoreError
from data.services.access import AccessDenied, Role
from metrics.text import markdown_text
from ui.context import KEY_VIEWER, viewer_selector
from ui.server import install, upload_window
from ui.signin import PUBLIC, sign_in_first, signed_in_viewer
from ui.store import get_store, public_site

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
_RUNNING = threading.local()  # set while route() runs a page: each session's script runs on its own thread


def _page(name: str, title: str, icon: str | None = None, **kw) -> st.Page:
    # an absolute path: a page run directly makes its own folder the script's, and a relative one would not resolve
    return st.Page(PAGES_DIR / name, title=title, icon=icon, **kw)


OVERVIEW = _page("group_overview.py", "Group overview", ":material/dashboard:", default=True)
SCHOOL = _page("school_scorecard.py", "School scorecard", ":material/school:")
SIMILAR = _page("similar_schools.py", "Similar schools", ":material/diversity_3:")
SUPPORT = _page("support.py", "Support", ":material/volunteer_activism:")
MEASURES = _page("measures.py", "Measures and targets", ":material/tune:")
REPORTS = _page("reports.py", "Reports", ":material/description:")
DATA = _page("data_import.py", "Data", ":material/upload_file:")
ACCOUNTS = _page("accounts.py", "Accounts", ":material/manage_accounts:")
GROUPS = _page("groups.py", "Groups", ":material/group_work:", url_path="groups")
HISTORY = _page("change_history.py", "Change history", ":material/history:")
PUBLISH = _page("publish.py", "Publish results", ":material/campaign:")
PARENTS = _page("published_results.py", "Results for parents", ":material/family_restroom:")
# The public's only page must also answer at /published_results (shared links): a hidden home page runs the same
# script at "/", so the visible one keeps its own path.
PUBLIC_HOME = _page("published_results.py", "Results for parents", url_path="parents", default=True,
                    visibility="hidden")

PAGES_BY_ROLE = {
    Role.LEADER: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS, GROUPS, PUBLISH, HISTORY, PARENTS],
    Role.GOVERNOR: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS, PARENTS],
    Role.ADMIN: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS, DATA, GROUPS, ACCOUNTS, PUBLISH, HISTORY,
                 PARENTS],
    Role.PUBLIC: [PUBLIC_HOME, PARENTS],
}


def hand_over() -> None:
    """First line of every page: run through the router, nothing happens; run directly (a deep link to a fresh
    server), the router runs instead (it runs this page, for this viewer) and this run ends there."""
    if getattr(_RUNNING, "page", False):
        return
    route()
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
        store = get_store()  # shows the demo being built, with progress, on first run
        if store.is_demo():
            st.sidebar.warning("Demo data: a synthetic England. Schools, names and results are made up.")
        # the demo has a "viewing as" choice; real data needs signing in (a signed-out visitor is the public); a
        # parents-only site (read-only store) has no sign-in at all
        if public_site():
            viewer = PUBLIC
        elif store.is_demo():
            viewer = viewer_selector(store)
        else:
            viewer = signed_in_viewer(store)
        st.session_state[KEY_VIEWER] = viewer
        try:
            pages = PAGES_BY_ROLE[viewer.role]
            if viewer.role is Role.PUBLIC and not public_site() and not store.is_demo():
                # a signed-out deep link to a staff page asks to sign in there, then opens it (not "Page not found")
                staff = dict.fromkeys(p for role in (Role.ADMIN, Role.LEADER, Role.GOVERNOR)
                                      for p in PAGES_BY_ROLE[role])
                pages = [*pages, *sign_in_first([p for p in staff if p not in pages])]
            _RUNNING.page = True
            try:
                st.navigation(pages).run()
            finally:
                _RUNNING.page = False
        except AccessDenied as refused:  # the data layer said no (a page offers only what the viewer may see): say why
            st.warning(markdown_text(refused.title), icon=":material/lock:")
        except StoreError as problem:  # e.g. a group with no member schools in the chosen year: said in words
            # a title may name a group or a school (people's words): shown as written
            st.info(markdown_text(problem.title[:1].upper() + problem.title[1:] + "."), icon=":material/info:")
