"""Jointly: balanced scorecards for groups of schools. Router only: config, store, viewer, navigation by role.

The page scripts live in views/, not pages/: Streamlit runs a pages/ file directly for a deep link on a
fresh server, skipping this router (and the viewer it sets up).
"""

from __future__ import annotations

import streamlit as st

from data.access import AccessDenied, Role
from data.store import StoreError
from metrics.text import markdown_text
from ui.context import KEY_VIEWER, viewer_selector
from ui.server import install, upload_window
from ui.signin import PUBLIC, sign_in_first, signed_in_viewer
from ui.store import get_store, public_site

# an emoji favicon is drawn in the page (a data: URL); a Material one is fetched from Google by every visitor
st.set_page_config(page_title="Jointly", page_icon="🤝", layout="wide")
install()  # uploads, metrics and headers guarded even under plain `streamlit run app.py` (serve.py does it at start)

OVERVIEW = st.Page("views/group_overview.py", title="Group overview", icon=":material/dashboard:", default=True)
SCHOOL = st.Page("views/school_scorecard.py", title="School scorecard", icon=":material/school:")
SIMILAR = st.Page("views/similar_schools.py", title="Similar schools", icon=":material/diversity_3:")
SUPPORT = st.Page("views/support.py", title="Support", icon=":material/volunteer_activism:")
MEASURES = st.Page("views/measures.py", title="Measures and targets", icon=":material/tune:")
REPORTS = st.Page("views/reports.py", title="Reports", icon=":material/description:")
DATA = st.Page("views/data_import.py", title="Data", icon=":material/upload_file:")
ACCOUNTS = st.Page("views/accounts.py", title="Accounts", icon=":material/manage_accounts:")
GROUPS = st.Page("views/groups.py", title="Groups", icon=":material/group_work:", url_path="groups")
HISTORY = st.Page("views/change_history.py", title="Change history", icon=":material/history:")
PUBLISH = st.Page("views/publish.py", title="Publish results", icon=":material/campaign:")
PARENTS = st.Page("views/published_results.py", title="Results for parents", icon=":material/family_restroom:")
# The public's only page must also answer at /published_results (shared links): a hidden home page runs the same
# script at "/", so the visible one keeps its own path.
PUBLIC_HOME = st.Page("views/published_results.py", title="Results for parents", url_path="parents", default=True,
                      visibility="hidden")

PAGES_BY_ROLE = {
    Role.LEADER: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS, GROUPS, PUBLISH, HISTORY, PARENTS],
    Role.GOVERNOR: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS, PARENTS],
    Role.ADMIN: [OVERVIEW, SCHOOL, SIMILAR, SUPPORT, MEASURES, REPORTS, DATA, GROUPS, ACCOUNTS, PUBLISH, HISTORY,
                 PARENTS],
    Role.PUBLIC: [PUBLIC_HOME, PARENTS],
}

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
            staff = dict.fromkeys(p for role in (Role.ADMIN, Role.LEADER, Role.GOVERNOR) for p in PAGES_BY_ROLE[role])
            pages = [*pages, *sign_in_first([p for p in staff if p not in pages])]
        st.navigation(pages).run()
    except AccessDenied as refused:  # the data layer said no (a page offers only what the viewer may see): say why
        st.warning(markdown_text(refused.title), icon=":material/lock:")
    except StoreError as problem:  # e.g. a group with no member schools in the chosen year: said in words
        # a title may name a group or a school (people's words): shown as written
        st.info(markdown_text(problem.title[:1].upper() + problem.title[1:] + "."), icon=":material/info:")
