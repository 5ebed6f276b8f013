"""Similar schools: the school's family (adjustable), how it compares, and where it is working well."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.alt import funnel_alt
from charts.funnel import funnel_plot
from data import scope
from data.store import StoreError
from metrics.families import DEFAULT_FAMILY_SIZE, FAMILY_VARIABLES
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
from ui.store import get_store

VARIABLE_LABELS = {"disadvantaged_pct": "Disadvantaged pupils (%)", "eal_pct": "English as an additional language (%)",
                   "sen_pct": "Special educational needs (%)", "pupils": "Pupils on roll",
                   "ks4_prior_attainment": "Prior attainment (KS2, secondary only)"}

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

with st.expander("How similar schools are chosen (adjust the family)"):
    st.caption("Schools of the same phase nearest on these context measures, each standardised; a weight of 0 "
               "leaves a measure out. See docs/method.md, 'Families of similar schools'.")
    size = st.slider("Family size", 5, 50, DEFAULT_FAMILY_SIZE, key="family_size")
    weights = {v: st.slider(VARIABLE_LABELS[v], 0.0, 3.0, float(w), 0.5, key=f"w_{v}")
               for v, w in FAMILY_VARIABLES.items()}
try:
    fam = scope.similar_schools(store, viewer, urn, weights=weights, size=size, period=period)
except StoreError as exc:
    st.info(markdown_text(exc.title))
    st.stop()

st.subheader(f"{markdown_text(card.subject.name)} and its {len(fam)} most similar schools")
values = scope.school_values(store, viewer, urn, fam["urn"].tolist(), period, measure.id)
values = values[values["status"] == "ok"][["urn", "value", "denominator"]].rename(columns={"denominator": "cohort"})
names = {urn: card.subject.name, **dict(zip(fam["urn"], fam["name"], strict=True))}
plot = values.assign(name=values["urn"].map(names)).dropna(subset=["cohort"])
row = next(r for r in card.rows if r.measure == measure.id)
if row.national is not None and len(plot) >= 3:
    kind = "rate" if measure.scale == 100 else "mean"
    if kind == "rate" or measure.sd:
        st.plotly_chart(funnel_plot(plot, national=row.national, kind=kind, scale=measure.scale, sd=measure.sd,
                                    highlight=urn, title=f"{measure.label}: family against national"),
                        alt=funnel_alt(plot, measure.label, row.national, urn, kind=kind, scale=measure.scale,
                                       sd=measure.sd), width="stretch", key="funnel")
        st.caption("Points outside the funnel lines differ from national by more than chance would explain "
                   "(95% and 99.8% limits); small schools vary more, so their limits are wider.")
shown = fam.merge(values, on="urn", how="left").dropna(axis=1, how="all")  # e.g. no prior attainment for primaries
shown["value"] = shown["value"].map(measure.format_value) if "value" in shown else "–"
context_cols = {v: VARIABLE_LABELS[v] for v in FAMILY_VARIABLES if v in shown}
st.dataframe(shown.rename(columns={"rank": "Rank", "urn": "URN", "name": "School", "distance": "Distance",
                                   "value": measure.label, "cohort": "Pupils", **context_cols}),
             hide_index=True, width="stretch", key="family_table",
             column_config={"Distance": st.column_config.NumberColumn(format="%.2f", help="0 = identical context"),
                            **{label: st.column_config.NumberColumn(format="%.1f") for label in context_cols.values()}})

st.subheader("Where it is working well")
partners = scope.partners(store, viewer, urn, measure.id, period)
if not partners:
    st.info(f"No school in its groups or family is strong on {markdown_text(measure.label)} this year.")
else:
    st.dataframe(pd.DataFrame([{
        "School": p.name, "How related": p.relation, measure.label: p.display,
        "Better than (nationally)": f"{p.percentile:.0f}%",
        "Distance": "–" if p.distance_km is None else f"{p.distance_km:g} km",
        "Head": p.head_name or "–", "Telephone": p.telephone or "–", "Website": p.website or "–",
    } for p in partners]), hide_index=True, width="stretch", key="partners")
