"""Similar schools: the school's family (adjustable), how it compares, and where it is working well."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.db.errors import StoreError
from metrics.families import DEFAULT_FAMILY_SIZE, FAMILY_VARIABLES, KIND_LABELS
from metrics.support import DEFAULT_MAX_KM
from metrics.text import markdown_text
from ui.context import (
    choose_group_and_period,
    choose_measure,
    choose_school,
    current_viewer,
    group_card,
    registry,
    school_card,
)
from ui.funnel import school_funnel
from ui.router import hand_over
from ui.store import get_store
from ui.support import support_partners
from ui.views import school_values, similar_schools

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

VARIABLE_LABELS = {"disadvantaged_pct": "Disadvantaged pupils (%)", "eal_pct": "English as an additional language (%)",
                   "sen_support_pct": "SEN support (%)", "ehcp_pct": "Education, health and care plans (%)",
                   "pupils": "Pupils on roll", "ks4_prior_attainment": "Prior attainment (KS2, secondary only)",
                   "fsm_pct": "Free school meals now (%)", "sen_pct": "All special educational needs (%)"}
PHASE_WORDS = {"primary": "primary", "secondary": "secondary", "special": "special", "alternative": "alternative",
               "nursery": "nursery", "post16": "16 to 19"}
KEY_ALL_KINDS = "family_all_kinds"

store = get_store()
viewer = current_viewer()
st.title("Similar schools")
group_id, period, c3 = choose_group_and_period(store, viewer, third_column=True)
with c3:
    urn = choose_school(viewer, list(group_card(store, viewer, group_id, period).members))
if urn is None:
    st.stop()
reg = registry(store, viewer, group_id)
card = school_card(store, viewer, urn, period)
judged = [reg.get(r.measure) for r in card.rows if r.polarity != "context" and r.value is not None
          and r.measure in reg and not reg.get(r.measure).formula and reg.get(r.measure).owner == "national"]
measure = choose_measure(judged)
if measure is None:
    st.info("This school has no results to compare this year.")
    st.stop()

on_by_default = [VARIABLE_LABELS[v].split(" (")[0] for v, w in FAMILY_VARIABLES.items() if w > 0]
with st.expander("How similar schools are chosen (adjust the family)", icon=":material/tune:"):
    st.caption("Schools of the same phase and the same kind of school, nearest on the context measures ticked "
               "below, each standardised across the phase. By default: " + ", ".join(on_by_default) + ", equally "
               "weighted: the measures DfE's own similar-schools service uses that the DfE files carry (it also uses "
               "pupil stability and two area measures, POLAR4 and IDACI, which are in no file Jointly imports). "
               "Free school meals now and all special needs overlap those, so they are off unless you tick them.")
    size = st.slider("Family size", 5, 50, DEFAULT_FAMILY_SIZE, key="family_size")
    weights: dict[str, float] = {}
    for v, w in FAMILY_VARIABLES.items():
        c_use, c_weight = st.columns([2, 3], vertical_alignment="center")
        use = c_use.checkbox(VARIABLE_LABELS[v], value=w > 0, key=f"use_{v}")
        weight = c_weight.slider(f"Weight: {VARIABLE_LABELS[v]}", 0.5, 3.0, float(w or 1.0), 0.5,
                                 key=f"w_{v}", disabled=not use, label_visibility="collapsed")
        weights[v] = weight if use else 0.0
    all_kinds = st.checkbox("Include every kind of school of the phase (grammar, middle, university technical "
                            "college and studio schools with comprehensives)", value=False, key=KEY_ALL_KINDS)
if not any(w > 0 for w in weights.values()):
    st.info("Tick at least one context measure to find similar schools.")
    st.stop()
try:
    fam = similar_schools(store, viewer, urn, weights=weights, size=size, period=period, same_kind=not all_kinds)
except StoreError as exc:
    st.info(markdown_text(exc.title[:1].upper() + exc.title[1:] + "."))
    st.stop()

phase = PHASE_WORDS.get(fam.attrs.get("phase", ""), "")
kind = KIND_LABELS.get(fam.attrs.get("kind", ""), "")
st.subheader(f"{markdown_text(card.subject.name)} and its {len(fam)} most similar schools")
own_kind = {"mainstream": f"mainstream (non-selective) {phase} schools", "selective": "selective (grammar) schools",
            "middle": "middle schools", "utc": "university technical colleges", "studio": "studio schools",
            "special": "special schools", "alternative": "alternative provision, including pupil referral units",
            }.get(fam.attrs.get("kind", ""), f"{kind}s")
st.caption(("Compared with every kind of " + phase + " school." if all_kinds else
            f"Compared with schools of its own kind: {own_kind}. Tick 'Include every kind of school' above to widen "
            "it.")
           + " Similarity score: 1 / (1 + the typical difference in standard deviations across the ticked measures,"
           " weighted); 1 means the same context.")
names = {urn: card.subject.name, **dict(zip(fam["urn"], fam["name"], strict=True))}
row = next(r for r in card.rows if r.measure == measure.id)
values = school_funnel(school_values(store, viewer, urn, fam["urn"].tolist(), period, measure.id), names,
                       measure, row, urn, title=f"{measure.label}: family against national", key="funnel")
shown = fam.drop(columns=["distance"]).merge(values, on="urn", how="left").dropna(axis=1, how="all")
shown["value"] = shown["value"].map(measure.format_value) if "value" in shown else "–"
shown["kind"] = shown["kind"].map(lambda k: KIND_LABELS.get(k, "other kind of school").capitalize())
if not all_kinds:
    shown = shown.drop(columns=["kind"])
context_cols = {v: VARIABLE_LABELS[v] for v in FAMILY_VARIABLES if v in shown}
st.dataframe(shown.rename(columns={"rank": "Rank", "urn": "URN", "name": "School", "similarity": "Similarity score",
                                   "kind": "Kind of school", "value": measure.label, "cohort": "Pupils",
                                   **context_cols}),
             hide_index=True, width="stretch", key="family_table",
             column_config={"Similarity score": st.column_config.NumberColumn(
                 format="%.2f", help="1 = the same context; lower is less alike"),
                 **{label: st.column_config.NumberColumn(format="%.1f") for label in context_cols.values()}})

st.subheader("Where it is working well")
partners = support_partners(store, viewer, urn, measure.id, period, DEFAULT_MAX_KM)
if not partners:
    st.info(f"No school within {DEFAULT_MAX_KM:.0f} km in its groups or with a similar intake is strong on "
            f"{markdown_text(measure.label)} this year and better than it. The Support page looks farther on "
            "request.")
else:
    st.caption(f"Schools within {DEFAULT_MAX_KM:.0f} km strong on {markdown_text(measure.label)}; the Support page "
               "sets another distance.")
    st.dataframe(pd.DataFrame([{
        "School": p.name, "Why suggested": p.reason, "How related": p.relation, measure.label: p.display,
        "Better than (nationally)": f"{p.percentile:.0f}%", "Distance (km)": p.distance_km,
        "Similarity score": p.similarity, "Head": p.head_name or "–", "Telephone": p.telephone or "–",
        "Website": p.website or "–",
    } for p in partners]), hide_index=True, width="stretch", key="partners", column_config={
        "Distance (km)": st.column_config.NumberColumn(format="%.1f"),
        "Similarity score": st.column_config.NumberColumn(format="%.2f"),
    })
