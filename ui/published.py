"""The parents' page body: one publication, in plain words, readable on a phone.

Drawn both for the public page and for the leaders' preview, so that what a leader previews is exactly what
parents will see. Everything here is read from the frozen Publication: never from the live store, which may
hold results the group did not choose to publish.

Phone-first: one column throughout (no st.columns, no wide tables); each school's values are a short list. The
top is a summary that fits a phone's first screen (the partnership, its schools, the year and DfE's status, a few
headline results); then the whole partnership's results, or one school's page (chosen from a list; the address
names the school, so a parent can share it).
Every piece of text that came from people or files (names, measure labels, the leaders' commentary, websites) is
escaped, so it is shown as written and never read as Markdown or HTML (links, images, maths or colours).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable

import pandas as pd
import pydeck as pdk
import streamlit as st

from charts.maps import schools_map
from data.db.store import Store
from data.services.publications import find_publications, published
from metrics import parents_words as words
from metrics.parents_words import (
    Runs,
    by_perspective,
    glossary_terms,
    headline_items,
    phase_words,
    web_address,
    year_words,
)
from metrics.publication import (
    Publication,
    PublishedGap,
    PublishedGroupValue,
    PublishedItem,
    PublishedSchool,
    PublishedSchoolValue,
)
from metrics.text import markdown_text


@st.cache_resource(show_spinner=False, max_entries=64)
def _found(_store: Store, generation: int, text: str) -> tuple[dict, ...]:
    return tuple(find_publications(_store, text))


def search_publications(store: Store, text: str) -> list[dict]:
    """The current publications matching `text` (publications.find_publications: public, the same for every
    visitor), read once per store state and text; each a fresh dict."""
    return [dict(m) for m in _found(store, store.generation, str(text))]


@st.cache_resource(show_spinner=False, max_entries=64)
def _published(_store: Store, generation: int, publication_id: int) -> Publication | None:
    return published(_store, publication_id)


def current_publication(store: Store, publication_id: int) -> Publication | None:
    """The publication parents may read, or None (publications.published), read once per store state: a
    Publication is frozen, shared as it is."""
    return _published(store, store.generation, int(publication_id))


PREVIEW_BANNER = "Preview — this is exactly what parents will see once you publish."
DOWNLOAD_LABEL = "Download these results (CSV)"
EACH_SCHOOL = "Each school"
GLOSSARY_TITLE = "What the words on this page mean"
WHOLE = 0  # the chooser's "whole partnership" (no URN is 0)
WHOLE_PARTNERSHIP = "The whole partnership"
CHOOSE_SCHOOL = "Choose a school to see its own page"
SKIP_MAP = "Skip the map"
RESULTS_ANCHOR = "the-results"
MAP_HEIGHT = 300  # px: on a phone, leaves the page above and below it in view
# The public static site (python -m data publish-site), where the same results are served to parents without
# Jointly running: $JOINTLY_SITE_URL names its address; unset, the page links nowhere.
SITE_URL_ENV = "JOINTLY_SITE_URL"
SITE_LINK_WORDS = "These results on the partnerships' public website"


def escape(text: object) -> str:
    """Text shown exactly as written in Markdown or a label; '' for None (metrics.text.markdown_text: the one
    escape every page uses)."""
    return markdown_text(text)


def _md(runs: Runs) -> str:
    """A shared sentence (metrics.parents_words, its people's words already escaped) in Markdown: its strong parts
    in bold."""
    return "".join(f"**{text}**" if strong else text for text, strong in runs)


def school_lines(values: Iterable[PublishedSchoolValue]) -> str:
    """Each school's value (or 'Not shown' and why) as a list; schools with no result at all (a primary school
    missing this year) are gathered into one line per reason, so the list stays short on a phone; a school the
    measure is not for (a primary school and GCSEs) is not listed at all (metrics.parents_words.listed_values)."""
    listed, absent = words.listed_values(values)
    lines = [f"- {_md(words.school_value_line(v, escape))}" for v in listed]
    lines += [f"- {words.no_result_line(reason, names, escape)}" for reason, names in absent.items()]
    return "\n".join(lines)


def map_frame(schools: Iterable[PublishedSchool]) -> pd.DataFrame:
    """The schools as charts.maps.schools_map wants them: no level (a parent's map is not a league table), the
    phase in words and the town in the tooltip."""
    return pd.DataFrame([{
        "urn": s.urn, "name": s.name, "latitude": s.latitude, "longitude": s.longitude, "level": None,
        "level_label": phase_words(s.phase), "display": s.town or "–",
    } for s in schools], columns=["urn", "name", "latitude", "longitude", "level", "level_label", "display"])


def _about(pub: Publication, *, preview: bool) -> str:
    return _md(words.about_words(pub, preview=preview, esc=escape))


def link_html(url: str | None, words: str) -> str | None:
    """A plain link that opens in the same tab, its address and words escaped (they come from files); None unless
    the address is a web address (never javascript: or anything else)."""
    address = web_address(url)
    if address is None:
        return None
    return f'<a href="{html.escape(address, quote=True)}">{html.escape(words)}</a>'


def school_links(school: PublishedSchool) -> list[str]:
    """The school's website and its Ofsted reports, as links whose words say where they go."""
    host = words.address_host(school.website)
    links = [link_html(school.website, f"{school.name}'s own website ({host})"),
             link_html(school.ofsted_url, f"{school.name}'s inspection reports, on Ofsted's website")]
    return [x for x in links if x]


def site_link(pub: Publication) -> str | None:
    """The link to this publication's page on the public static site ($JOINTLY_SITE_URL), or None when no site
    address is set (or it is not a web address). The address and words are Jointly's own: nothing from users."""
    base = os.environ.get(SITE_URL_ENV, "").strip().rstrip("/")
    if not base:
        return None
    return link_html(f"{base}/{words.publication_page(pub.group_id, pub.period)}", SITE_LINK_WORDS)


def parents_map(schools: Iterable[PublishedSchool], group_name: str) -> tuple[pdk.Deck, str] | None:
    """The schools' map and its words for screen readers, or None when no school has a position. One small layer
    of points; the mouse wheel and a trackpad scroll the page, never zoom the map (a map that captures the wheel
    traps a reader scrolling past it); dragging, pinching, double-clicking and the keyboard still move it."""
    places = map_frame(schools)
    located = places[pd.to_numeric(places["latitude"], errors="coerce").notna()
                     & pd.to_numeric(places["longitude"], errors="coerce").notna()]
    if located.empty:
        return None
    deck = schools_map(located, measure_label="Town")
    # charts.maps fits the points to about 400 px; a phone's map is narrower, so one step out keeps every school in
    deck.initial_view_state.zoom = max(float(deck.initial_view_state.zoom) - 1, 5.0)
    deck.views = [pdk.View(type="MapView", controller={"scrollZoom": False, "dragPan": True, "touchZoom": True,
                                                       "doubleClickZoom": True, "keyboard": True})]
    names = ", ".join(f"{r.name} in {r.display}" if r.display != "–" else str(r.name) for r in located.itertuples())
    return deck, f"Map of {group_name}'s {words.plural(len(located), 'school')}: {names}."


def schools_words(pub: Publication) -> str:
    """'3 schools: A, B and C' (metrics.parents_words.schools_words), the names escaped for Markdown."""
    return words.schools_words(pub, escape)


def _summary(pub: Publication) -> None:
    """The first screen: which year and how settled, the schools, a few headline results."""
    st.markdown(f"**{escape(year_words(pub))}**", help=words.status_help(pub))
    said = schools_words(pub)
    if said:
        st.markdown(said)
    if pub.left_out_words:
        st.caption(escape(pub.left_out_words))
    heads = headline_items(pub)
    if heads:
        st.markdown("\n".join(f"- {_md(words.headline_words(i, escape))}" for i in heads))


def _choose_school(pub: Publication, *, preview: bool, school: int | None,
                   on_choose: Callable[[int | None], None] | None) -> int | None:
    """The school chooser: the whole partnership or one school (the chosen one's page follows)."""
    schools = sorted(pub.schools, key=lambda s: str(s.name))
    names = {s.urn: s.name for s in schools}
    options = [WHOLE, *names]  # WHOLE (0, never a URN) for the partnership: a None choice would show as empty
    key = f"published_school_{'preview' if preview else pub.publication_id}"
    if on_choose is not None:
        st.session_state[key] = school if school in names else WHOLE  # the address decides (a shared link)

    def chosen() -> None:
        if on_choose is not None:
            urn = st.session_state[key]
            on_choose(urn if urn in names else None)

    picked = st.selectbox(CHOOSE_SCHOOL, options, format_func=lambda u: names.get(u, WHOLE_PARTNERSHIP), key=key,
                          on_change=chosen)
    return picked if picked in names else None


def _school_page(pub: Publication, school: PublishedSchool) -> None:
    """One school's page: where it is, its links, and each chosen result that is for a school like it."""
    st.subheader(escape(school.name))
    st.markdown(words.school_where(school, escape))
    links = school_links(school)
    if links:  # plain links in the same tab (Streamlit's own links open a new one); one a line, for thumbs
        st.html("".join(f"<p>{link}</p>" for link in links))
    shown, not_for = words.school_items(pub, school.urn)
    for heading, items in shown:
        st.markdown(f"##### {escape(heading)}")
        for item, mine in items:
            st.markdown(f"**{escape(item.label)}**  \n" + _school_value_words(item, mine))
            groups = words.school_group_values(pub, item, school.urn)
            if groups:
                st.markdown("  \n".join(group_value_words(v) for v in groups))
            definition = words.definition_of(item)
            if definition:  # once, beside the measure (the page lists each measure once)
                st.caption(escape(definition))
    if not_for:
        st.caption(words.not_on_page_words(not_for, escape))


def _school_value_words(item: PublishedItem, v: PublishedSchoolValue) -> str:
    """'This school: 58% (30 pupils)', then on a line below 'Local authority average: 60% · England: 62% · The
    partnership: 58%'."""
    own, others = words.school_value_words(item, v, escape)
    return _md(own) + "  \n" + others


def group_value_words(v: PublishedGroupValue) -> str:
    """'Disadvantaged pupils at this school: 40% (10 pupils)', or 'Not shown (fewer than 6 pupils)': words, never
    a colour alone."""
    return words.group_value_words(v, escape)


def gap_words(gap: PublishedGap) -> str:
    """The gap's sentence as published (its words were fixed then), escaped."""
    return _md(words.gap_words(escape(gap.sentence)))


def _item(item: PublishedItem, values: list[PublishedSchoolValue], gap: PublishedGap | None = None) -> None:
    st.markdown(f"#### {escape(item.label)}")
    definition = words.definition_of(item)
    if definition:
        st.markdown(f"**{words.WHAT_THIS_MEANS}:** {escape(definition)}")
    value = words.partnership_value_words(item, escape)
    national = (f" · **{words.ENGLAND}:** {escape(item.national_display)}"
                if item.national_display and not item.suppressed else "")
    st.markdown(f"**{words.THE_PARTNERSHIP}:** {value}{national}")
    compare = words.comparison_lines(item, escape)
    if compare:
        st.markdown("\n".join(f"- {_md(line)}" for line in compare))
    if gap is not None and gap.sentence:
        st.markdown(gap_words(gap))
    said = words.commentary_lines(item)
    if said:
        quote = "\n".join(f"> {escape(line)}" if line else ">" for line in said)
        st.markdown(f"**{words.LEADERS_SAY}:**\n\n" + quote)
    if any(v.applies for v in values):
        with st.expander(EACH_SCHOOL):
            st.markdown(school_lines(values))


def _map(pub: Publication) -> None:
    drawn = parents_map(pub.schools, pub.group_name)
    if drawn is None:
        return
    deck, alt = drawn
    # keyboard and screen-reader users can pass the map: the link jumps to the results below it
    st.markdown(f"[{SKIP_MAP}](#{RESULTS_ANCHOR})")
    st.pydeck_chart(deck, height=MAP_HEIGHT, alt=alt)
    st.caption("Touch or hover over a dot to see the school's name. The background map is loaded from CARTO "
               "when your device is online.")


def render_publication(pub: Publication, *, preview: bool = False, school: int | None = None,
                       on_choose: Callable[[int | None], None] | None = None) -> int | None:
    """The parents' page for one publication (with a banner when it is the leaders' preview): the summary, then
    the whole partnership's results or, with `school`, that school's page. `on_choose(urn or None)` is called when
    the reader picks another school (the public page puts it in the address). Returns the school shown."""
    if preview:
        st.info(PREVIEW_BANNER, icon=":material/visibility:")
    st.header(escape(words.title_words(pub)))
    link = site_link(pub)
    if link:  # the same results on the static site, which parents can read without Jointly running
        st.html(f"<p>{link}</p>")
    known = {s.urn for s in pub.schools}
    if on_choose is None:  # the leaders' preview: the chooser's own state says (there is no address to follow)
        school = st.session_state.get(f"published_school_{'preview' if preview else pub.publication_id}")
    if school not in known:  # the partnership's page: its summary first
        _summary(pub)
    else:  # a school's page (a shared link): the year and status, then the school itself
        st.markdown(f"**{escape(year_words(pub))}**", help=words.status_help(pub))
    chosen = _choose_school(pub, preview=preview, school=school, on_choose=on_choose)

    values: dict[str, list[PublishedSchoolValue]] = {}
    for v in pub.school_values:
        values.setdefault(v.measure, []).append(v)
    if chosen is not None:
        _school_page(pub, next(s for s in pub.schools if s.urn == chosen))
    else:
        st.markdown(_about(pub, preview=preview))
        st.markdown("\n".join(f"- {_md(words.school_line(s, escape))}"
                              for s in sorted(pub.schools, key=lambda s: str(s.name))))
        _map(pub)
        sections = by_perspective(pub.items)
        st.subheader("The partnership's results", anchor=RESULTS_ANCHOR)
        if not sections:
            st.info("The partnership has not chosen any results to share for this year.")
        for heading, items in sections:
            st.markdown(f"### {escape(heading)}")
            for item in items:
                _item(item, values.get(item.measure, []), pub.gap(item.measure))

    with st.expander(GLOSSARY_TITLE, icon=":material/menu_book:"):
        terms = glossary_terms(pub)
        status = words.status_term(pub)
        if status:
            terms.append(status)
        st.markdown("\n".join(f"- **{escape(term)}:** {escape(said)}" for term, said in terms))
    st.download_button(DOWNLOAD_LABEL, pub.csv_bytes(), file_name=words.csv_file_name(pub), mime="text/csv",
                       icon=":material/download:",
                       key=f"publication_csv_{'preview' if preview else pub.publication_id}")
    return chosen
