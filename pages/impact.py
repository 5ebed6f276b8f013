"""Impact: has joining the group made a difference? The event study of the schools that joined it, against similar
schools that had not (yet) joined a group of its kind, with the caveats in plain words; then the same comparison for
the schools its support reached. For leaders, governors and data managers."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from charts.impact import year_words
from data.db.errors import StoreError
from data.services.access import AccessDenied
from metrics.impact import REFERENCE, GroupImpact, event_frame, reading
from metrics.text import markdown_text
from metrics.timeline import period_of
from ui.context import choose_group, current_viewer
from ui.impact import group_impact, impact_chart, impact_measures
from ui.router import hand_over
from ui.store import get_store

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_MEASURE = "impact_measure"


def _number(x: float) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:+.2f}"


def _say(found: GroupImpact) -> None:
    """The sentence, in a box whose colour and icon repeat its words (never the only cue)."""
    words = markdown_text(found.words)
    verdict = reading(found.result, found.measure.polarity)
    if verdict == "better":
        st.success(words, icon=":material/trending_up:")
    elif verdict == "worse":
        st.error(words, icon=":material/trending_down:")
    elif verdict == "not reliable":
        st.warning(words, icon=":material/warning:")
    else:
        st.info(words, icon=":material/info:")
    r = found.result
    note = st.warning if r.pretrend_ok is False else st.caption
    note(markdown_text("Check before joining: " + r.pretrend_words))


def _rests_on(found: GroupImpact) -> None:
    after = {e.urn: e.att_after for e in found.result.per_school}
    studied = pd.DataFrame({
        "School": [n for _u, n, _g in found.schools],
        "URN": [u for u, _n, _g in found.schools],
        "Joined": [period_of(g) for _u, _n, g in found.schools],
        f"Its own difference after joining ({found.unit})": [
            _number(after.get(u, float("nan"))) for u, _n, _g in found.schools],
    })
    # each school's own event study: its difference from its comparison schools in each year relative to joining
    own = {e.urn: e.att for e in found.result.per_school}
    for k in (p.k for p in found.result.points if p.k is not None and p.k != REFERENCE):
        studied[year_words(k)] = [_number(own.get(u, {}).get(k, float("nan"))) for u, _n, _g in found.schools]
    left = {x.urn: x.reason for x in found.result.left_out}
    studied["Left out because"] = [left.get(u, "") for u in studied["URN"]]
    st.dataframe(studied, hide_index=True, width="stretch")


store = get_store()
viewer = current_viewer()
st.title("Impact of joining")
st.caption("Has working together made a difference? For the schools that joined this group, how their results "
           "changed beside similar schools that had not (yet) joined a group of the same kind — year by year from "
           "two years before joining. It shows how they moved, not proof that joining caused it.")
try:
    group_id = choose_group(store, viewer)
    if group_id is None:
        st.stop()
    measures = impact_measures(store, viewer, group_id)
    if not measures:
        st.info("There are no results yet for the measures this compares (Attainment 8, Progress 8, English and "
                "maths, KS2 expected standard, absence).")
        st.stop()
    by_id = {m.id: m for m in measures}
    mid = st.selectbox("Measure", list(by_id), format_func=lambda i: by_id[i].label, key=KEY_MEASURE,
                       bind="query-params")
    found = group_impact(store, viewer, group_id, mid)
except (AccessDenied, StoreError) as problem:
    st.info(markdown_text(problem.title[:1].upper() + problem.title[1:] + "."))
    st.stop()

st.subheader(f"{by_id[mid].label}: the schools that joined", anchor=False)
_say(found)
st.plotly_chart(impact_chart(store, viewer, group_id, mid), config={"displayModeBar": False},
                key="impact_chart")
points = event_frame(found)
shown = points[points["shown"]]
st.caption(markdown_text(
    f"Each point is the difference, in {found.unit}, between how these schools' results changed since two years "
    "before joining and how their similar schools' changed over the same years; the line through it is its 95% "
    "interval. The year before joining is the dip year, shown but not used to judge. "
    f"{len(shown)} of {len(points)} points have enough schools to show."))

table = pd.DataFrame({
    "Year": [year_words(k) if isinstance(k, int) else "After joining (+1 to +3)" for k in points["relative_year"]],
    "Academic years": points["academic_years"],
    f"Difference ({found.unit})": [_number(x) if s else "not shown" for x, s in
                                   zip(points["estimate"].astype(float), points["shown"], strict=True)],
    "95% interval": [f"{_number(lo)} to {_number(hi)}" if s else "" for lo, hi, s in
                     zip(points["low"].astype(float), points["high"].astype(float), points["shown"], strict=True)],
    "Schools": points["schools"], "Pupils": points["pupils"],
    "Spread across schools (lowest to highest)": [
        "" if x.spread is None or not x.shown else f"{_number(x.spread.low)} to {_number(x.spread.high)}"
        for x in (*found.result.points, found.result.after)],
    "Note": points["note"],
})
with st.expander("The numbers behind the chart", icon=":material/table:"):
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button("Download these numbers (CSV)", points.to_csv(index=False).encode("utf-8"),
                       file_name=f"impact_{group_id}_{mid}.csv", mime="text/csv", key="impact_csv")
with st.expander(f"The schools it rests on ({len(found.schools)} joined on a known date)", icon=":material/school:"):
    _rests_on(found)
with st.expander("What this can and cannot show", icon=":material/help:"):
    for caveat in found.result.caveats:
        st.markdown("- " + markdown_text(caveat))

st.subheader("Support received", anchor=False)
st.caption("The same comparison for the group's schools that received support recorded on this measure, against "
           "similar schools that received none on it. Support goes to the schools that need it and other things "
           "change at the same time: this is an association, not proof.")
try:
    support = group_impact(store, viewer, group_id, mid, support=True)
except (AccessDenied, StoreError) as problem:
    st.info(markdown_text(problem.title[:1].upper() + problem.title[1:] + "."))
    st.stop()
if not support.schools:
    st.info(markdown_text(f"No support on {by_id[mid].label} is recorded for the schools of {found.group_name}."))
else:
    _say(support)
    st.plotly_chart(impact_chart(store, viewer, group_id, mid, support=True), config={"displayModeBar": False},
                    key="impact_support_chart")
    with st.expander(f"The schools it rests on ({len(support.schools)} received support)", icon=":material/school:"):
        _rests_on(support)
