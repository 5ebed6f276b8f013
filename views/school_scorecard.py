"""School scorecard: every measure by perspective, beside national, similar schools and the expectation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import scope
from metrics.registry import Perspective
from metrics.sentences import describe
from metrics.text import markdown_text
from ui.context import choose_group_and_period, choose_school, current_viewer, group_card, registry, school_card
from ui.frames import trend_cells
from ui.inspections import school_inspections_panel
from ui.store import get_store

VERSION_WORDS = {"provisional": "Provisional", "revised": "Revised", "final": "Final"}

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
reg = registry(store, viewer, group_id)
info = scope.school(store, viewer, urn)
st.header(markdown_text(card.subject.name))
facts = [markdown_text(x) for x in (info.get("type_name"), info.get("phase"), info.get("town"), info.get("postcode"))
         if isinstance(x, str) and x]
head = info.get("head_name")
st.caption(" · ".join(facts) + (f" · Head: {markdown_text(head)}" if isinstance(head, str) else ""))
if card.lineage:  # the school's earlier URNs, whose results its trend shows (data.lineage)
    st.caption(markdown_text(card.lineage))

flagged = [r for r in card.rows if r.flag]
if flagged:
    st.warning(f"{len(flagged)} measure(s) flagged: " + "; ".join(markdown_text(r.label) for r in flagged) +
               ". The reasons are under each perspective.")

for perspective in Perspective:
    rows = [r for r in card.rows if r.perspective == perspective.value]
    if not rows:
        continue
    st.subheader(perspective.label)
    table = pd.DataFrame([{
        "Measure": r.label,
        "Value": r.display,
        # which of DfE's figures the value is (provisional, revised, final); "–" when the file does not say
        "Version": VERSION_WORDS.get(r.version or "", "–"),
        "National": reg.get(r.measure).format_value(r.national),
        "Compared with": ("DfE band: " + r.band + "; " if r.band else "") + (r.comparator or "–"),
        "Similar schools (median)": reg.get(r.measure).format_value(r.family_median),
        "Expected for this intake": reg.get(r.measure).format_value(r.expected),
        "95% range": "–" if r.ci_low is None else
                     f"{reg.get(r.measure).format_value(r.ci_low)} to {reg.get(r.measure).format_value(r.ci_high)}",
        "Level": r.level_label,
        "Target": "–" if r.target is None else
                  f"{reg.get(r.measure).format_value(r.target)} ({'met' if r.target_met else 'not met'})",
        # only years that can be compared are joined: a gap or a new definition starts the line afresh
        "Trend": trend_cells(r, reg.get(r.measure))[0],
        "Trend years": trend_cells(r, reg.get(r.measure))[1],
    } for r in rows])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Trend": st.column_config.LineChartColumn(
            "Trend", help="The latest years that can be compared with each other, oldest first (see Trend years)"),
    }, key=f"table_{perspective.value}")
    with st.expander(f"{perspective.label} in words"):
        for r in rows:
            said = f" These are DfE's {r.version} figures." if r.version in VERSION_WORDS else ""
            st.markdown(f"- {markdown_text(describe(r, reg.get(r.measure)) + said)}")
            for reason in r.flag_reasons:
                st.markdown(f"    - ⚑ {markdown_text(reason)}")

school_inspections_panel(store, viewer, urn)  # latest report card and 1-4 grades, in Ofsted's words
