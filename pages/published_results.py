"""Results for parents: find a partnership and read the results it chose to publish. Public, no sign-in.

Only published, current publications are ever read here (data.services.publications.find_publications / published):
a withdrawn, replaced or unknown id in the URL gets one plain sentence and no data, never a fallback.
"""

from __future__ import annotations

import streamlit as st

from ui.published import current_publication, escape, render_publication, search_publications
from ui.router import hand_over
from ui.store import get_store

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_FIND = "find"
PARAM_PUBLICATION = "publication"
PARAM_SCHOOL = "school"  # a member school's URN: its own page, so a parent can share it
NOT_AVAILABLE = ("This page is not available: the results may have been withdrawn or replaced. "
                 "Search again below.")
FIND_LABEL = "Find a partnership: type its name, a school's name, a town or a postcode"


def _open(publication_id: int) -> None:
    st.query_params[PARAM_PUBLICATION] = str(publication_id)
    st.query_params.pop(PARAM_SCHOOL, None)
    st.rerun()


def _school_in_address() -> int | None:
    """The school the address asks for (a URN), or None for the whole partnership; anything else is ignored."""
    text = st.query_params.get(PARAM_SCHOOL, "")
    return int(text) if text.strip().isdigit() and len(text.strip()) <= 9 else None


def _choose(urn: int | None) -> None:
    """The chooser's pick goes into the address (the page reruns with it)."""
    if urn is None:
        st.query_params.pop(PARAM_SCHOOL, None)
    else:
        st.query_params[PARAM_SCHOOL] = str(urn)


def _towns(towns: object) -> str:
    if isinstance(towns, str):
        return towns
    names = [str(t) for t in (towns or []) if t]
    if len(names) > 4:
        return ", ".join(names[:4]) + f" and {len(names) - 4} more"
    return ", ".join(names)


store = get_store()
st.title("Results for parents")
wanted = st.query_params.get(PARAM_PUBLICATION)
if wanted is None:  # on a publication's own page its results come first (a phone's first screen is small)
    st.caption("Groups of schools that work together can choose to share their results here, in plain words. "
               "No sign-in is needed.")
else:
    pub = current_publication(store, int(wanted)) if wanted.strip().isdigit() else None
    if pub is None:
        st.info(NOT_AVAILABLE, icon=":material/info:")
    else:
        render_publication(pub, school=_school_in_address(), on_choose=_choose)
    if st.button("Back to the search", icon=":material/arrow_back:", key="close_publication"):
        del st.query_params[PARAM_PUBLICATION]
        st.query_params.pop(PARAM_SCHOOL, None)
        st.rerun()
    st.divider()
    st.subheader("Find another partnership")
if wanted is None:
    st.subheader("Find a partnership")

text = st.text_input(FIND_LABEL, key=KEY_FIND, bind="query-params", placeholder="For example: Harrowby or HG1",
                     max_chars=100)
query = (text or "").strip()
matches = search_publications(store, query)
if not matches:
    if query:
        st.info(f"No published results match “{escape(query)}”. Try part of a school's name, a town or the first "
                "half of a postcode. Not every group of schools publishes its results here.")
    else:
        st.info("No partnership has published its results here yet.")
else:
    st.markdown(f"**{len(matches)} published result{'s' if len(matches) != 1 else ''}**"
                + (f" for “{escape(query)}”" if query else "") + ":")
    for m in matches:
        pid = int(m["publication_id"])
        towns = _towns(m.get("towns"))
        schools = int(m.get("schools") or 0)
        with st.container(border=True):
            st.markdown(f"**{escape(m['group_name'])}** · school year {escape(m['period'])}\n\n"
                        f"{schools} school{'s' if schools != 1 else ''}" + (f" in {escape(towns)}" if towns else ""))
            if st.button("Read the results", key=f"open_{pid}", icon=":material/arrow_forward:"):
                _open(pid)
