"""Group overview: the group at a glance — headline tiles, schools x measures, who to watch, the map."""

from __future__ import annotations

import streamlit as st

from charts.maps import map_legend
from charts.palette import LEVEL_WORDS
from metrics.registry import Measure
from ui.cached import overview_grid, overview_map, page_is_current, snapshot_of
from ui.context import (
    choose_group_and_period,
    choose_measure,
    current_viewer,
    group_card,
    registry,
)
from ui.disadvantage import disadvantage_panel, pupil_group_section
from ui.inspections import group_inspections_panel
from ui.key import level_key
from ui.overview import overview_parts
from ui.router import hand_over
from ui.store import get_store
from ui.trust_published import show_trust_published
from ui.widgets import label_from

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_SPECIAL = "include_special"

store = get_store()
viewer = current_viewer()
st.title("Group overview")
group_id, period, _ = choose_group_and_period(store, viewer)
card = group_card(store, viewer, group_id, period, include_special=st.session_state.get(KEY_SPECIAL, False))
reg = registry(store, viewer, group_id)
parts = overview_parts(card, reg)  # the card's words and tiles, made once per card (ui.overview)
st.header(parts.name)
st.caption(f"{len(card.members)} member schools in {period}. Group values: {card.method}." + parts.pooling)
for problem in parts.problems:  # a stored local measure the registry had to rename or leave out (issue 12 point 5)
    st.warning(problem)
if card.pooling:  # only a group with special schools or alternative provision has the choice
    st.toggle("Pool special schools and alternative provision with the rest", key=KEY_SPECIAL,
              help="Off: the group's values are its mainstream schools'; each special school keeps its own card.")

# issue 13: the overview leads with how disadvantaged pupils do, and which members narrow or widen the gap
include = st.session_state.get(KEY_SPECIAL, False)
disadvantage_panel(store, viewer, "group", group_id, period, reg, include_special=include,
                   subject_words=card.subject.name)

if not parts.tiles:
    st.info(f"No results for {parts.name} in {period} yet.")
for perspective, tiles in parts.tiles:
    st.subheader(perspective)
    for col, tile in zip(st.columns(len(tiles)), tiles, strict=True):
        col.metric(**tile.metric)
        for words in tile.captions:  # its level (and flag, band), the governors' target, why no change is shown
            col.caption(words)

level_key()  # what the levels, "this year only", ⚑ and the target marks mean, in plain words
show_trust_published(card, reg)  # DfE's own figure for this trust, beside the roll-up (DfE trusts only)

st.subheader("No school left behind")
st.markdown(f"**{parts.below} of {len(card.members)}** member schools are below national on at least one measure.")

st.subheader("Schools and measures")
labels = parts.grid_labels
chosen = st.multiselect("Measures in the grid", list(labels), default=list(parts.grid_default),
                        format_func=label_from(labels), key="grid_measures")
# one light figure, built once per card and choice of measures (ui.cached), however often the page reruns
grid = overview_grid(store, viewer, group_id, period, card, reg, include_special=include, measures=chosen)
if grid is None:
    st.info("No school values to compare for this year.")
else:
    st.plotly_chart(grid.figure, alt=grid.alt, width="stretch", key="grid")
    st.caption("Each cell shows the school's value and its level: "
               + "; ".join(f"{words}" for lvl, words in LEVEL_WORDS.items() if lvl) + ".")

st.subheader("Schools to watch")
if not parts.watchlist:
    st.success("No member school is flagged this year.")
for heading, lines in parts.watchlist:
    with st.expander(heading):
        for line in lines:
            st.markdown(line)

group_inspections_panel(store, viewer, group_id, period)  # grades by area, counted, never averaged

pupil_group_section(store, viewer, "group", group_id, period, reg, include_special=include,
                    subject_words=card.subject.name)

seen = snapshot_of(store)


@st.fragment
def map_section(judged: list[Measure]) -> None:
    """The map and its "Colour the map by" choice: changing it reruns only this part of the page (with the card
    of the page's last run, unless the store has moved on since: then the whole page runs again)."""
    if not page_is_current(seen):
        st.rerun(scope="app")
    measure = choose_measure(judged, label="Colour the map by", default=parts.widest)
    if measure is None:
        return
    shown = overview_map(store, viewer, group_id, period, card, reg, include_special=include, measure=measure.id)
    if shown.deck is not None:
        st.pydeck_chart(shown.deck, alt=shown.alt, height=420)
        st.caption("Colours, from concern to strong: " + " · ".join(
            words for _colour, words in map_legend(list(LEVEL_WORDS))) + ". Hover a school for its value. "
                   "The background map is loaded from CARTO when the browser is online.")
    else:
        st.info("No map locations for these schools: import the GIAS establishments file to place them.")


st.subheader("Map")
map_section(list(parts.judged))
