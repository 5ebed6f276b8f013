"""Support: record who gave support to whom, see each school's giving and taking, and find a partner school
strong where another is weak. Leaders and admins record; governors read the ledger and the suggestions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.db.errors import StoreError
from data.services.access import Role
from data.services.support_log import (
    KIND_LABELS,
    KINDS,
    MAX_NOTES,
    default_start,
    local_support_measures,
    record_support,
    weak_rows,
)
from metrics.families import DEFAULT_FAMILY_SIZE, FAMILY_VARIABLES
from metrics.gaps import DISADVANTAGED
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
from ui.support import (
    ledger_tables,
    pupil_group_measures,
    support_alt,
    support_figure,
    support_ledger,
    support_partners,
)
from ui.views import school_values, similar_schools

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_FORM = "support_form"
KEY_GIVER = "support_giver"
KEY_TAKER = "support_taker"
KEY_KIND = "support_kind"
KEY_AIM = "support_measure"
KEY_START = "support_start"
KEY_END = "support_end"
KEY_HOURS = "support_hours"
KEY_NOTES = "support_notes"
KEY_TAB = "support_view"
KEY_KM = "partner_km"
KEY_ANYWHERE = "partner_anywhere"
KEY_FOCUS = "partner_focus"
ALL_PUPILS = "all"
FOCI = {ALL_PUPILS: "all pupils' results", DISADVANTAGED: "disadvantaged pupils' results"}
NO_MEASURE = ""

store = get_store()
viewer = current_viewer()
st.title("Support between schools")
reader = viewer.role is Role.GOVERNOR  # governors read the ledger and the suggestions; leaders record support
if reader:
    st.caption("Support between the group's schools, as recorded by the group's leaders, and partner schools "
               "strong where one of the group's schools is weak. Recording support is for the leaders.")
else:
    st.caption("Every school is both a giver and a taker of support: record it here, see the balance across the "
               "group, and find a partner school that is strong where another school is weak.")
group_id, period, _ = choose_group_and_period(store, viewer)
card = group_card(store, viewer, group_id, period)
reg = registry(store, viewer, group_id)
members = list(card.members)
names = dict(members)
st.header(markdown_text(card.subject.name))

# ------------------------------------------------------------------------------------------- record support
st.subheader(f"Support given and received in {period}")
recorder = None if reader else st.expander("Record support", icon=":material/add_circle:")
ledger = st.container()  # drawn below the form but filled after it, so a record just saved is already in it
if recorder is None:
    pass  # no form for governors: data.services.support_log.record_support refuses them as well
elif len(members) < 2:
    recorder.info(f"{markdown_text(card.subject.name)} needs at least two member schools in {period} before "
                  "support can be recorded.")
else:
    ids = [u for u, _ in sorted(members, key=lambda m: m[1])]
    aims = [NO_MEASURE] + [m.id for m in reg.measures if m.judged]
    with recorder, st.form(KEY_FORM):
        c1, c2 = st.columns(2)
        giver = c1.selectbox("School giving support", ids, format_func=lambda u: names[u], key=KEY_GIVER)
        taker = c2.selectbox("School receiving support", ids, index=1, format_func=lambda u: names[u], key=KEY_TAKER)
        c3, c4 = st.columns(2)
        kind = c3.selectbox("Type of support", KINDS, format_func=lambda k: KIND_LABELS[k], key=KEY_KIND)
        aim = c4.selectbox("Measure it aimed at (optional)", aims, key=KEY_AIM,
                           format_func=lambda m: "No particular measure" if m == NO_MEASURE else reg.get(m).label)
        c5, c6, c7 = st.columns(3)
        start = c5.date_input("Start date", value=default_start(period), format="DD/MM/YYYY", key=KEY_START)
        end = c6.date_input("End date (optional)", value=None, format="DD/MM/YYYY", key=KEY_END,
                            help="Leave empty for support on a single day.")
        hours = c7.number_input("Hours", min_value=0.0, value=None, step=0.5, key=KEY_HOURS,
                                help="Hours of staff time given, in all (up to 2,000 in one record).")
        notes = st.text_area("Notes (optional)", max_chars=MAX_NOTES, key=KEY_NOTES,
                             placeholder="What was done, by whom, and what came of it")
        submitted = st.form_submit_button("Record support", type="primary")
    if submitted:
        problems = record_support(store, viewer, group_id=group_id, giver=giver, taker=taker, kind=kind,
                                  start_date=start, end_date=end, hours=hours, measure=aim or None, notes=notes)
        if problems:
            recorder.error("The support was not recorded:\n\n" + "\n".join(f"- {markdown_text(p)}" for p in problems))
        else:
            recorder.success(f"Recorded: {markdown_text(names[giver])} gave {hours:g} hours of "
                             f"{KIND_LABELS[kind].lower()} to {markdown_text(names[taker])}, from {start:%d %B %Y}.")

# ------------------------------------------------------------------------------------------- the ledger
with ledger:
    try:
        records, balance, (edges, nodes) = support_ledger(store, viewer, group_id, period)
    except StoreError as exc:
        st.error(markdown_text(exc.title))
        st.stop()
    listed, balances = ledger_tables(store, viewer, group_id, period, reg)
    if records.empty:
        st.info(f"No support has been recorded for {markdown_text(card.subject.name)} in {period} yet."
                + (" The group's leaders record it here." if reader else " Open 'Record support' above to add "
                   "some: it then appears here as a network, a matrix and each school's balance."))
    else:
        alt = support_alt(store, viewer, group_id, period)
        # only the open tab is drawn (the choice is in the URL, so a shared link opens on the same tab)
        net_tab, matrix_tab, list_tab = st.tabs(["Network", "Matrix", "Records"], key=KEY_TAB, bind="query-params")
        if net_tab.open is not False:
            with net_tab:
                st.plotly_chart(support_figure("network", store, viewer, group_id, period), alt=alt,
                                width="stretch", key="support_network")
                st.caption(markdown_text(alt))
        if matrix_tab.open is not False:
            with matrix_tab:
                st.plotly_chart(support_figure("matrix", store, viewer, group_id, period),
                                alt="Support matrix: hours given (rows) to each school (columns). " + alt,
                                width="stretch", key="support_matrix")
                st.caption("Rows gave support; columns received it. Each cell says the hours.")
        with list_tab:
            st.dataframe(listed, hide_index=True, width="stretch", key="support_list",
                column_config={"Hours": st.column_config.NumberColumn(format="%.1f")})

    st.markdown("**Each school's balance**")
    st.dataframe(balances, hide_index=True, width="stretch", key="support_balance", column_config={
        "Hours given": st.column_config.NumberColumn(format="%.1f"),
        "Hours received": st.column_config.NumberColumn(format="%.1f"),
        "Balance (given minus received)": st.column_config.NumberColumn(format="%+.1f"),
    })
    st.caption("A net giver gave more hours than it received; a net taker received more; balanced means the two are "
               "within a tenth of each other.")

    local = [m for m in local_support_measures(reg, group_id) if any(r.measure == m.id for r in card.rows)]
    if local:
        st.markdown(f"**{markdown_text(card.subject.name)}'s own support measures** (reported by the schools)")
        rows = {r.measure: r for r in card.rows}
        table: dict[str, list[object]] = {"School": [n for _, n in members]}
        for m in local:
            values = {u: v for u, v, _ in rows[m.id].member_values}
            table[m.label] = [m.format_value(values.get(u)) for u, _ in members]
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", key="support_local")
        st.caption("Group totals: " + "; ".join(f"{markdown_text(m.label)}: {markdown_text(rows[m.id].display)}"
                                                for m in local) + ".")

# ------------------------------------------------------------------------------------------- partners
st.subheader("Suggested partners")
st.caption("For a school's weak measure, schools strong on it and better than it, of the same phase and kind of "
           "school: in its own groups first, then schools with a similar intake nearby.")
urn = choose_school(viewer, members)
if urn is None:
    st.stop()
focus = st.radio("Look for partners strong on", list(FOCI), format_func=FOCI.__getitem__, key=KEY_FOCUS,
                 horizontal=True, help="Disadvantaged pupils' results: schools whose disadvantaged pupils are in the "
                 "top quarter of schools of the same phase nationally, as DfE's RISE teams look for.")
pupil_group = None if focus == ALL_PUPILS else DISADVANTAGED
school = school_card(store, viewer, urn, period)
weak = weak_rows(school)
if pupil_group is None:
    if not weak:
        st.success(f"{markdown_text(names[urn])} has no flagged measure and none at level 1 or 2 in {period}.")
        st.stop()
    st.markdown(f"**{markdown_text(names[urn])}**: {len(weak)} measure(s) flagged or at *Cause for concern* or "
                "*Needs attention*.")
    choices = [reg.get(r.measure) for r in weak if r.measure in reg]
else:
    have = [m for m in pupil_group_measures(store, viewer, urn, period, pupil_group) if m in reg]
    if not have:
        st.info(f"DfE publishes no results of {markdown_text(names[urn])}'s disadvantaged pupils in {period} "
                "(none in the files imported, or every one suppressed), so there is nothing to match partners on.")
        st.stop()
    weak_ids = {r.measure for r in weak}
    # the school's weak measures first: those are where a partner is most wanted
    choices = [reg.get(m) for m in sorted(have, key=lambda m: m not in weak_ids)]
    st.markdown(f"**{markdown_text(names[urn])}**: disadvantaged pupils' results on {len(have)} measure(s) in "
                f"{period}" + (f", {len(weak_ids & set(have))} of them weak for the school as a whole (listed first)."
                               if weak_ids & set(have) else "."))
c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
with c1:
    measure = choose_measure(choices, label="Weak measure" if pupil_group is None else "Measure")
if measure is None:
    st.stop()
anywhere = c3.checkbox("Anywhere in England", key=KEY_ANYWHERE, help="Suggest schools however far away they are.")
km = c2.number_input("Travel distance (km)", min_value=1, max_value=1000, value=int(DEFAULT_MAX_KM), step=5,
                     key=KEY_KM, disabled=anywhere, help=f"How far from the school to look: {DEFAULT_MAX_KM:.0f} km "
                     "unless you set another distance.")
max_km = None if anywhere else float(km)
row = next((r for r in school.rows if r.measure == measure.id), None)
if pupil_group is None and row is not None:
    st.caption(f"{markdown_text(measure.label)}: {markdown_text(row.display)} "
               f"(national {markdown_text(measure.format_value(row.national))}), level "
               f"{row.level_label}"
               + (". Flagged: " + "; ".join(map(markdown_text, row.flag_reasons)) if row.flag_reasons else "") + ".")
elif pupil_group is not None:
    st.caption(f"Partners for {markdown_text(measure.label)}: schools whose disadvantaged pupils are in the top "
               "quarter of schools of the same phase nationally (among schools with at least "
               f"{measure.min_cohort} disadvantaged pupils taking it; a smaller group is never named), and better "
               f"than {markdown_text(names[urn])}'s disadvantaged pupils.")
try:
    partners = support_partners(store, viewer, urn, measure.id, period, max_km, pupil_group)
except StoreError as exc:
    st.error(markdown_text(exc.title))
    st.stop()
where = "anywhere in England" if max_km is None else f"within {max_km:g} km"
if not partners:
    if pupil_group is None:
        st.info(f"No school {where} in {markdown_text(names[urn])}'s groups or with a similar intake is strong on "
                f"{markdown_text(measure.label)} in {period} (at or above the 60th percentile nationally) and better "
                "than it." + ("" if max_km is None else " Try a longer travel distance, or anywhere in England."))
    else:
        st.info(f"No school {where} in {markdown_text(names[urn])}'s groups or with a similar intake has "
                f"disadvantaged pupils in the top quarter nationally on {markdown_text(measure.label)} in {period} "
                "and ahead of this school's." + ("" if max_km is None else " Try a longer travel distance, or "
                                                 "anywhere in England."))
else:
    st.caption(f"{len(partners)} suggested partner(s) {where}. Similarity score: how alike the two schools' "
               "intakes are (1 = the same context; see Similar schools for how it is worked out). Distance (km): "
               "as the crow flies.")
    # the reasons first, whole (a table cell would cut them off); then the contacts to get in touch
    st.markdown("\n".join(f"{i}. **{markdown_text(p.name)}**: {markdown_text(p.reason)}"
                           for i, p in enumerate(partners, start=1)))
    better_than = ("Better than (% of schools)" if pupil_group is None
                   else "Disadvantaged pupils better than (% of schools)")
    st.dataframe(pd.DataFrame([{
        "School": p.name, "Head": p.head_name or "–", "Telephone": p.telephone or "–",
        "Website": p.website or "–", "Distance (km)": p.distance_km, "Similarity score": p.similarity,
        "Town": p.town or "–", "Postcode": p.postcode or "–", better_than: round(p.percentile),
        "How related": p.relation, "Value": p.display,
        **({} if pupil_group is None else {"Disadvantaged pupils": p.cohort}),
        "Why suggested": p.reason,
    } for p in partners]), hide_index=True, width="stretch", key="support_partners", column_config={
        "Distance (km)": st.column_config.NumberColumn(format="%.1f"),
        "Similarity score": st.column_config.NumberColumn(
            format="%.2f", help="How alike the intakes are: 1 = the same context; blank for a school of its own "
            "groups that is not among its similar schools."),
        "Value": st.column_config.TextColumn(help="Of all pupils" if pupil_group is None
                                             else "Of the school's disadvantaged pupils"),
        "Disadvantaged pupils": st.column_config.NumberColumn(format="%d", help="How many disadvantaged pupils "
                                                              "the value is of"),
    })
# the weak measure in a funnel plot: the school, its similar schools and the suggested partners against national
# (all pupils' results: no place beside partners chosen for their disadvantaged pupils)
if pupil_group is None and row is not None:
    family_names: dict[int, str] = {}
    try:
        fam = similar_schools(store, viewer, urn, weights=FAMILY_VARIABLES, size=DEFAULT_FAMILY_SIZE, period=period,
                              same_kind=True)
        family_names = {int(u): n for u, n in zip(fam["urn"], fam["name"], strict=True)}
    except StoreError:  # no context for this school: its partners alone
        pass
    others = list(dict.fromkeys([*family_names, *(p.urn for p in partners)]))
    plot_names = {**family_names, **{p.urn: p.name for p in partners}, urn: names[urn]}
    school_funnel(school_values(store, viewer, urn, others, period, measure.id), plot_names, measure, row, urn,
                  title=f"{measure.label}: family and partners against national",  # the school: the star
                  key="partner_funnel")
