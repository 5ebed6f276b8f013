"""Group overview: the group at a glance — headline tiles, schools x measures, who to watch, the map."""

from __future__ import annotations

import streamlit as st

from charts.maps import map_legend
from charts.palette import LEVEL_WORDS
from metrics.registry import Measure
from metrics.text import markdown_text
from ui.cached import overview_grid, overview_map, page_is_current, snapshot_of
from ui.context import (
    choose_group_and_period,
    choose_measure,
    current_viewer,
    group_card,
    registry,
)
from ui.disadvantage import disadvantage_panel, pupil_group_section
from ui.frames import (
    change_caption,
    delta_arrow,
    grid_measures,
    headline_rows,
    vs_national,
    widest_measure,
)
from ui.inspections import group_inspections_panel
from ui.key import FLAG, MET, NOT_MET, level_key
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
st.header(markdown_text(card.subject.name))
st.caption(f"{len(card.members)} member schools in {period}. Group values: {card.method}."
           + (f" {markdown_text(card.pooling)}." if card.pooling else ""))
for problem in reg.problems:  # a stored local measure the registry had to rename or leave out, said (issue 12 point 5)
    st.warning(markdown_text(problem))
if card.pooling:  # only a group with special schools or alternative provision has the choice
    st.toggle("Pool special schools and alternative provision with the rest", key=KEY_SPECIAL,
              help="Off: the group's values are its mainstream schools'; each special school keeps its own card.")

# issue 13: the overview leads with how disadvantaged pupils do, and which members narrow or widen the gap
include = st.session_state.get(KEY_SPECIAL, False)
disadvantage_panel(store, viewer, "group", group_id, period, reg, include_special=include,
                   subject_words=card.subject.name)

tiles = headline_rows(card)
if not tiles:
    st.info(f"No results for {markdown_text(card.subject.name)} in {period} yet.")
for perspective, rows in tiles.items():
    st.subheader(perspective.label)
    cols = st.columns(len(rows))
    for col, r in zip(cols, rows, strict=True):
        # a metric's value is Markdown too, and a local measure's unit is a governor's words
        col.metric(markdown_text(r.label), markdown_text(r.display), delta=vs_national(r, reg),
                   delta_color="normal" if r.polarity == "higher_better" else "inverse", delta_arrow=delta_arrow(r),
                   help=f"{markdown_text(reg.get(r.measure).description)} National: "
                        f"{markdown_text(reg.get(r.measure).format_value(r.national))} "
                        f"({markdown_text(r.comparator or 'none')}).",
                   border=True)
        col.caption(f"Level: **{r.level_label}**" + (f" · {FLAG} flagged" if r.flag else "")
                    + (f" · DfE band: {markdown_text(r.band)}" if r.band else "")
                    + (f" · {markdown_text(r.comparator)}" if r.national_scope == "mix" else ""))
        if r.target is not None and r.target_met is not None:  # the governors' target: words and a mark, no colour
            col.caption(f"Target {markdown_text(reg.get(r.measure).format_value(r.target))}: "
                        + (MET if r.target_met else NOT_MET))
        if r.change_note:  # our own sentence (the registry's DfE reason), shown as text: no change arrow
            col.caption(markdown_text(change_caption(r)))

level_key()  # what the levels, "this year only", ⚑ and the target marks mean, in plain words
show_trust_published(card, reg)  # DfE's own figure for this trust, beside the roll-up (DfE trusts only)

below = card.below_national_any
st.subheader("No school left behind")
st.markdown(f"**{below} of {len(card.members)}** member schools are below national on at least one measure.")

st.subheader("Schools and measures")
available = grid_measures(card)
labels = {r.measure: r.label for r in available}
headline = [r.measure for rows in tiles.values() for r in rows if r.measure in labels]
chosen = st.multiselect("Measures in the grid", list(labels), default=headline[:10] or list(labels)[:10],
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
if not card.watchlist:
    st.success("No member school is flagged this year.")
for item in card.watchlist:
    with st.expander(f"{markdown_text(item.name)} ({item.urn}): {len(item.reasons)} concern(s)"):
        for _measure, reason in item.reasons:
            st.markdown(f"- {markdown_text(reason)}")

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
    measure = choose_measure(judged, label="Colour the map by", default=widest_measure(card))
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
map_section([reg.get(r.measure) for r in card.rows if r.polarity != "context" and r.value is not None
             and r.measure in reg])
