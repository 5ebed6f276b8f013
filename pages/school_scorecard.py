"""School scorecard: every measure by perspective, beside national, the local authority and the school's target;
similar schools, the expectation and the rest in each perspective's words."""

from __future__ import annotations

import streamlit as st

from metrics.school_words import school_kind
from metrics.text import markdown_text
from ui.context import (
    choose_group_and_period,
    choose_school,
    current_viewer,
    group_card,
    school_card,
    school_registry,
)
from ui.disadvantage import disadvantage_panel, pupil_group_section
from ui.frames import SCHOOL_WIDTHS, TREND_COLOUR, la_label
from ui.inspections import school_inspections_panel
from ui.key import level_key
from ui.router import hand_over
from ui.store import get_store
from ui.views import school_info, school_perspectives

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

store = get_store()
viewer = current_viewer()
st.title("School scorecard")
group_id, period, c3 = choose_group_and_period(store, viewer, third_column=True)
members = list(group_card(store, viewer, group_id, period).members)
with c3:
    urn = choose_school(viewer, members)
if urn is None:
    st.stop()
card = school_card(store, viewer, urn, period)
# the registry the card was built with: every group of the school this viewer may see, not only the chosen group
# (a school in a trust's cluster carries the cluster's own measures too)
reg = school_registry(store, viewer, urn)
info = school_info(store, viewer, urn)
la_name = info.get("la_name") if isinstance(info.get("la_name"), str) else None
st.header(markdown_text(card.subject.name))
facts = [markdown_text(x) for x in (*school_kind(info), f"Local authority: {la_name}" if la_name else None,
                                    info.get("town"), info.get("postcode")) if isinstance(x, str) and x]
head = info.get("head_name")
st.caption(" · ".join(facts) + (f" · Head: {markdown_text(head)}" if isinstance(head, str) else ""))
if card.lineage:  # the school's earlier URNs, whose results its trend shows (data.ingest.lineage)
    st.caption(markdown_text(card.lineage))

# issue 13: the card leads with how disadvantaged pupils do (the gap, DfE's way), then every perspective
disadvantage_panel(store, viewer, "school", urn, period, reg, subject_words=card.subject.name)

flagged = [r for r in card.rows if r.flag]
if flagged:
    st.warning(f"{len(flagged)} measure(s) flagged: " + "; ".join(markdown_text(r.label) for r in flagged) +
               ". The reasons are under each perspective.")

la_heading = la_label(la_name)
columns = {
    "Measure": st.column_config.TextColumn("Measure", width=SCHOOL_WIDTHS["Measure"]),
    "Value": st.column_config.TextColumn("Value", width=SCHOOL_WIDTHS["Value"], help=f"The school's value in {period}"),
    "National": st.column_config.TextColumn(
        "National", width=SCHOOL_WIDTHS["National"],
        help="England's figure for schools of this kind (which schools: under the table, 'Compared with')"),
    "Local authority": st.column_config.TextColumn(
        la_heading, width=SCHOOL_WIDTHS["Local authority"],
        help=f"The average of the school's own local authority{f' ({la_name})' if la_name else ''}, for the same "
             "kind of schools as the national figure, as DfE publishes it"),
    "Level": st.column_config.TextColumn(
        "Level", width=SCHOOL_WIDTHS["Level"],
        help="The measure's level; the words under the table say when it rests on this year alone"),
    "Target": st.column_config.TextColumn("Target", width=SCHOOL_WIDTHS["Target"],
                                          help="The group's target for this year, and whether it was met"),
    "Trend": st.column_config.LineChartColumn(
        "Trend", width=SCHOOL_WIDTHS["Trend"], color=TREND_COLOUR,
        help="The latest years that can be compared with each other, oldest first (the years are in the words "
             "below the table); no line for a single year"),
}
# each perspective's table, words and details, built once per store state, viewer, school and year (ui.views)
for view in school_perspectives(store, viewer, urn, period):
    perspective = view.perspective
    st.subheader(perspective.label)
    st.dataframe(view.table_arrow, hide_index=True, width="stretch", column_config=columns,
                 key=f"table_{perspective.value}")
    with st.expander(f"{perspective.label} in words"):
        for line in view.lines:
            st.markdown(line)
        st.dataframe(view.details_arrow, hide_index=True, width="stretch", key=f"details_{perspective.value}")

pupil_group_section(store, viewer, "school", urn, period, reg, subject_words=card.subject.name)

school_inspections_panel(store, viewer, urn)  # latest report card and 1-4 grades, in Ofsted's words

level_key()
