"""Measures and targets: a group's governors choose the scorecard's measures and their order, set targets,
define local measures and upload their values. Every write goes through data.services.governance, which decides
who may edit; every problem is shown at once, in words, and nothing is written while there is one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.db.errors import StoreError
from data.services import governance, scope
from metrics.gaps import format_gap
from metrics.pupil_groups import PUPIL_GROUPS
from metrics.pupil_groups import label as group_label
from metrics.registry import Measure, Perspective, Phase, Polarity, Rollup
from metrics.text import markdown_text
from metrics.validation import Issue
from ui.context import choose_group, choose_period, current_viewer, group_card, registry
from ui.disadvantage import disadvantage_of
from ui.measures import (
    applicable_measures,
    chosen_measures,
    edit_refusal,
    gap_targets,
    local_group_values,
    local_measures,
    local_values,
    upload_template,
    uploadable_measures,
)
from ui.messages import Kind, flash, show_flashed
from ui.router import hand_over
from ui.server import open_uploads
from ui.store import get_store
from ui.widgets import forget_when_changed

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_PICK = {p: f"measures_pick_{p.value}" for p in Perspective}
KEY_ORDER = "measures_order"
KEY_TARGETS = "measures_targets"
KEY_SAVE_MEASURES = "measures_save"
KEY_SAVE_TARGETS = "measures_save_targets"
KEY_GAP_MEASURE = "measures_gap_measure"
KEY_GAP_YEAR = "measures_gap_year"
KEY_GAP_VALUE = "measures_gap_value"
KEY_SAVE_GAP = "measures_save_gap"
KEY_START_FROM = "measures_define_start"
KEY_DEFINE = {f: f"measures_define_{f}" for f in ("id", "label", "description", "perspective", "unit", "format",
                                                   "polarity", "phases", "rollup", "min_cohort", "source", "formula")}
KEY_SAVE_DEFINITION = "measures_define_save"
KEY_UPLOAD_MEASURE = "measures_upload_measure"
KEY_UPLOAD_FILE = "measures_upload_file"
KEY_COMMIT = "measures_upload_commit"

NEW = ""  # "start from": a new measure
UPLOADED = "Values we will upload"
FORMULA = "A formula from other measures"
MAX_UPLOAD_MB = 5
POLARITY_WORDS = {Polarity.HIGHER_BETTER: "Higher is better", Polarity.LOWER_BETTER: "Lower is better",
                  Polarity.CONTEXT: "Context (not judged)"}
ROLLUP_WORDS = {Rollup.POOLED_RATIO: "Pooled: all schools' numerators ÷ all their denominators",
                Rollup.WEIGHTED_MEAN: "Weighted: each school's value weighted by its cohort",
                Rollup.SUM: "Sum: the schools' counts added up"}
# how a local measure's numbers are written, in words (the definition keeps Python's format spec)
NUMBER_FORMATS = {".0f": "Whole numbers", ".1f": "One decimal place", ".2f": "Two decimal places",
                  ",.0f": "Whole numbers, with commas for thousands"}
FIELD_WORDS = {"id": "Id", "label": "Name", "description": "Description", "perspective": "Scorecard area",
               "unit": "Unit", "format": "How numbers are written", "polarity": "Which way is better",
               "phases": "Phases",
               "rollup": "Group value", "min_cohort": "Minimum cohort", "formula": "Formula", "scale": "Scale",
               "owner": "Group"}


def _say(section: str, kind: Kind, text: str | list[str]) -> None:
    """Keep a save's outcome for the rerun, said in its own section: the success, or every problem found."""
    if kind is Kind.ERROR:
        problems = [text] if isinstance(text, str) else text
        flash(kind, f"Not saved: {len(problems)} problem(s). Nothing was written.", problems, place=section)
    else:
        flash(kind, str(text), place=section)


def _format_words(spec: str) -> str:
    """A number format as the form offers it: its words and an example (never the spec itself)."""
    try:
        example = format(1234.567, spec)
    except (ValueError, TypeError):
        example = ""
    words = NUMBER_FORMATS.get(spec, "As the measure was defined")
    return f"{words} (for example {example})" if example else words


def _issue_lines(issues: list[Issue]) -> str:
    # a message may quote what was typed (an id, a label, a formula): shown as written
    return "\n".join(f"- **{markdown_text(FIELD_WORDS.get(i.field or '', 'Measure'))}**: "
                     f"{markdown_text(i.for_page())}" for i in issues)


# ------------------------------------------------------------------------------ callbacks (run before the rerun)


def _save_measures(gid: int, ids: list[str]) -> None:
    problems = governance.choose_measures(get_store(), current_viewer(), gid, ids)
    if problems:
        _say("measures", Kind.ERROR, problems)
    else:
        _say("measures", Kind.SUCCESS, f"Saved: the scorecard now shows {len(ids)} measures in this order.")


def _save_targets(gid: int, period: str, targets: dict[str, float | None]) -> None:
    problems = governance.set_targets(get_store(), current_viewer(), gid, period, targets)
    if problems:
        _say("targets", Kind.ERROR, problems)
    else:
        _say("targets", Kind.SUCCESS, f"Targets for {period} saved.")


def _save_gap_target(gid: int, measure: str, period: str, value: str) -> None:
    problems = governance.set_gap_target(get_store(), current_viewer(), gid, measure, period, value)
    if problems:
        _say("gap_targets", Kind.ERROR, problems)
    else:
        _say("gap_targets", Kind.SUCCESS, f"Gap target for {period} saved." if str(value).strip()
             else f"Gap target for {period} cleared.")


def _load_definition(gid: int) -> None:
    """Fill the form with one of the group's measures (to correct it), or empty it for a new one."""
    mid = st.session_state.get(KEY_START_FROM, NEW)
    defs = {d["id"]: d for d in scope.local_measures(get_store(), current_viewer(), gid)}
    d = defs.get(mid, {})
    for field in ("id", "label", "description", "unit", "formula"):
        st.session_state[KEY_DEFINE[field]] = str(d.get(field, ""))
    st.session_state[KEY_DEFINE["format"]] = str(d.get("format", ".0f"))
    for field, enum in (("perspective", Perspective), ("polarity", Polarity), ("rollup", Rollup)):
        st.session_state[KEY_DEFINE[field]] = enum(d[field]) if d.get(field) in set(enum) else None
    st.session_state[KEY_DEFINE["phases"]] = [Phase(p) for p in d.get("phases", []) if p in set(Phase)]
    st.session_state[KEY_DEFINE["min_cohort"]] = int(d.get("min_cohort", 6))
    st.session_state[KEY_DEFINE["source"]] = FORMULA if d.get("formula") else UPLOADED


def _save_definition(gid: int, definition: dict) -> None:
    issues = governance.define_measure(get_store(), current_viewer(), gid, definition)
    if issues:
        _say("define", Kind.ERROR, [f"{FIELD_WORDS.get(i.field or '', 'Measure')}: {i.for_page()}" for i in issues])
    else:
        uploads = "" if definition.get("formula") else " and can take uploads below"
        _say("define", Kind.SUCCESS, f"Saved {definition['label']} ({definition['id']}). It is now in the measure "
                                     f"lists above{uploads}.")


def _commit(gid: int, mid: str, content: bytes, filename: str) -> None:
    result = governance.upload_values(get_store(), current_viewer(), gid, mid, content, filename=filename)
    if result.issues:
        _say("upload", Kind.ERROR, [str(i) for i in result.issues])
    else:
        by_group = sum(r.pupil_group is not None for r in result.rows)
        _say("upload", Kind.SUCCESS, f"Stored {len(result.rows)} rows from {filename}"
                                     + (f" ({by_group} of them by pupil group)." if by_group else "."))


# ------------------------------------------------------------------------------ the page

store = get_store()
viewer = current_viewer()
st.title("Measures and targets")
st.caption("Choose what your group's scorecard shows, set targets, and add measures of your own.")
left, right = st.columns(2)
with left:
    gid = choose_group(store, viewer)
with right:
    period = choose_period(store, viewer)
if gid is None:
    st.stop()
refusal = edit_refusal(store, viewer, gid)
editable = refusal is None
if not editable:
    st.warning(markdown_text(refusal))
reg = registry(store, viewer, gid)

# ---------------------------------------------------------------- (a) the scorecard's measures
st.header("The scorecard's measures")
options = applicable_measures(store, viewer, gid)  # not by year: a choice holds for every year
saved = [m for m in chosen_measures(store, viewer, gid) if m in reg]
offered = [m.id for m in options] + [m for m in saved if m not in {o.id for o in options}]
default = saved or [m.id for p in Perspective for m in options if m.judged and m.perspective is p]
if saved:
    st.caption(f"Your saved choice: {len(saved)} measures. Add or remove measures in each area, then set the order.")
else:
    st.caption("No choice saved yet: the scorecard shows every measure that applies. Below, every judged "
               "measure is ticked to start from.")
forget_when_changed("measures.pick", gid, list(KEY_PICK.values()))
chosen: set[str] = set()
for p in Perspective:
    ids = [m for m in offered if reg.get(m).perspective is p]
    if not ids:
        continue
    picked = st.multiselect(p.label, ids, default=[m for m in default if m in ids],
                            format_func=lambda m: reg.get(m).label + ("" if reg.get(m).owner == "national"
                                                                      else " (local)"),
                            key=KEY_PICK[p], placeholder="No measures in this area", disabled=not editable)
    chosen.update(picked)
base = [m for m in default if m in chosen] + [m for m in offered if m in chosen and m not in default]
st.subheader("Order on the scorecard")
if not base:
    st.info("No measures chosen: choose at least one above.")
    ordered: list[str] = []
else:
    st.caption("Change a Position number to move a measure; the scorecard and reports show them in this order.")
    forget_when_changed("measures.order", (gid, tuple(base)), [KEY_ORDER])
    table = pd.DataFrame({"Position": range(1, len(base) + 1),
                          "Measure": [reg.get(m).label for m in base],
                          "Area": [reg.get(m).perspective.label for m in base]}, index=base)
    edited = st.data_editor(table, key=KEY_ORDER, hide_index=True, disabled=["Measure", "Area"],
                            column_config={"Position": st.column_config.NumberColumn(min_value=1, step=1,
                                                                                      required=True)})
    ordered = list(edited.sort_values("Position", kind="stable").index)
st.button("Save the measures", key=KEY_SAVE_MEASURES, type="primary", disabled=not editable or not ordered,
          on_click=_save_measures, args=(gid, ordered))
show_flashed("measures")

# ---------------------------------------------------------------- (b) targets
st.header("Targets")
card = None
if period is None:
    st.info("Targets are set for an academic year: once results are imported, choose one above.")
else:
    try:
        card = group_card(store, viewer, gid, period)
    except StoreError as exc:
        st.info(f"No scorecard for this group in {period}: {markdown_text(exc.title)}.")
judged = [r for r in card.rows if r.polarity != Polarity.CONTEXT.value] if card is not None else []
if card is not None and not judged:
    st.info("The scorecard has no judged measures to set targets for: choose some above.")
if card is not None and judged:
    st.caption(f"Targets for {period}. Type a number in the Target column (leave it empty for no target), then "
               "save. A target is met when the group's value is at least the target (at most, where lower is "
               "better).")

    def met(r) -> str:
        if r.target is None:
            return "No target"
        if r.target_met is None:
            return "No value yet"
        return "Met" if r.target_met else "Not met"

    targets = pd.DataFrame({
        "Measure": [r.label for r in judged],
        "Current value": [r.display for r in judged],
        "National": [reg.get(r.measure).format_value(r.national) if r.measure in reg else "–" for r in judged],
        "Target": [r.target for r in judged],
        "Met?": [met(r) for r in judged],
    }, index=[r.measure for r in judged]).astype({"Target": "float64"})
    forget_when_changed("measures.targets", (gid, period, tuple(targets.index)), [KEY_TARGETS], store=store)
    edited_targets = st.data_editor(targets, key=KEY_TARGETS, hide_index=True,
                                    disabled=["Measure", "Current value", "National", "Met?"],
                                    column_config={"Target": st.column_config.NumberColumn(
                                        help="The group's target for this year, in the measure's unit")})
    st.button("Save the targets", key=KEY_SAVE_TARGETS, type="primary", disabled=not editable,
              on_click=_save_targets,
              args=(gid, period, {m: (None if pd.isna(v) else float(v))
                                  for m, v in edited_targets["Target"].items()}))
    show_flashed("targets")

# ---------------------------------------------------------------- (b2) targets on the disadvantage gap (issue 13)
st.subheader("Targets on the disadvantage gap")
gaps = disadvantage_of(store, viewer, "group", gid, period) if card is not None and period is not None else None
with_gap = [r for r in gaps.rows if r.now.gap is not None] if gaps is not None else []
if gaps is not None and not with_gap:
    st.info(f"No disadvantage gap to set a target on in {period}: no results for disadvantaged pupils yet.")
if gaps is not None and with_gap:
    st.caption("An aim for a gap some years ahead, such as halving it by 2029/30. A gap is DfE's: disadvantaged "
               "pupils' result minus other pupils' nationally, so −7 means 7 points behind. Leave the target empty "
               "and save to clear it.")
    kept = gap_targets(store, viewer, gid)
    by_id = {r.measure: r for r in with_gap}
    c1, c2, c3 = st.columns(3)
    # the options are the labels themselves (AppTest and the URL keep a choice by what it shows)
    labelled = {r.label: r.measure for r in with_gap}
    gap_measure = labelled[c1.selectbox("Gap in", list(labelled), key=KEY_GAP_MEASURE)]
    now = by_id[gap_measure].now
    aim_year = c2.text_input("By the year", value=f"{int(period[:4]) + 4}/{(int(period[:4]) + 5) % 100:02d}",
                             key=KEY_GAP_YEAR, help="An academic year like 2029/30, up to ten years ahead")
    aim = c3.text_input("Target gap", key=KEY_GAP_VALUE,
                        help=f"Today's gap is {format_gap(reg.get(gap_measure), now.gap)}; half of it is "
                             f"{format_gap(reg.get(gap_measure), now.gap / 2)}")
    st.caption(markdown_text(f"{by_id[gap_measure].label}: the gap is {format_gap(reg.get(gap_measure), now.gap)} "
                             f"in {period}; halving it would be {format_gap(reg.get(gap_measure), now.gap / 2)}."))
    st.button("Save the gap target", key=KEY_SAVE_GAP, disabled=not editable, on_click=_save_gap_target,
              args=(gid, gap_measure, aim_year, aim))
    show_flashed("gap_targets")
    if kept:
        st.dataframe(pd.DataFrame([{"Gap in": reg.get(mid).label if mid in reg else mid, "By": year,
                                    "Target gap": format_gap(reg.get(mid), value) if mid in reg else str(value),
                                    "Where it stands": (by_id[mid].target.words if mid in by_id
                                                        and by_id[mid].target else "")}
                                   for mid, aims in kept.items() for year, value in aims]),
                     hide_index=True, width="stretch", key="gap_targets_table")

# ---------------------------------------------------------------- (c) define a local measure
st.header("Define a local measure")
st.caption("A measure your group holds itself to account on, beside the national ones. Values come from a CSV "
           "you upload (below), or from a formula over other measures. The form is checked as you type.")
own = {d["id"]: d for d in local_measures(store, viewer, gid)}
forget_when_changed("measures.define", gid, [KEY_START_FROM, *KEY_DEFINE.values()])
st.session_state.setdefault(KEY_DEFINE["format"], ".0f")  # defaults set here, not as value=: "Start from" fills them
st.session_state.setdefault(KEY_DEFINE["min_cohort"], 6)
form, checks = st.columns([3, 2], gap="large")
with form:
    st.selectbox("Start from", [NEW, *own], format_func=lambda m: "A new measure" if m == NEW else
                 f"Correct {own[m]['label']} ({m})", key=KEY_START_FROM, on_change=_load_definition, args=(gid,))
    fields: dict[str, object] = {
        "id": st.text_input("Id", key=KEY_DEFINE["id"], placeholder="e.g. community_events",
                            help="Lowercase letters, digits and underscores, starting with a letter. Unique."),
        "label": st.text_input("Name", key=KEY_DEFINE["label"], placeholder="e.g. Community events"),
        "description": st.text_area("Description, in plain words for parents", key=KEY_DEFINE["description"],
                                    placeholder="What the measure shows, and why it matters (20 to 500 characters)"),
        "perspective": st.selectbox("Scorecard area", list(Perspective), format_func=lambda p: p.label, index=None,
                                    key=KEY_DEFINE["perspective"], placeholder="Choose an area"),
        "unit": st.text_input("Unit", key=KEY_DEFINE["unit"], placeholder="e.g. %, hours, events"),
        "format": st.selectbox("How numbers are written", [*NUMBER_FORMATS, *(
            [st.session_state[KEY_DEFINE["format"]]] if st.session_state[KEY_DEFINE["format"]] not in NUMBER_FORMATS
            else [])], format_func=_format_words, key=KEY_DEFINE["format"]),
        "polarity": st.selectbox("Which way is better", list(Polarity), format_func=lambda p: POLARITY_WORDS[p],
                                 index=None, key=KEY_DEFINE["polarity"], placeholder="Choose"),
        "phases": st.multiselect("Phases it applies to", list(Phase), format_func=lambda p: p.value.replace("_", " "),
                                 key=KEY_DEFINE["phases"], placeholder="Choose one or more phases"),
        "rollup": st.selectbox("The group's value", list(Rollup), format_func=lambda r: ROLLUP_WORDS[r], index=None,
                               key=KEY_DEFINE["rollup"], placeholder="Choose how schools' values combine"),
        "min_cohort": st.number_input("Minimum cohort", min_value=0, max_value=1000, step=1,
                                      key=KEY_DEFINE["min_cohort"],
                                      help="Schools with fewer pupils than this are shown as too few to judge"),
    }
    source = st.radio("Where the values come from", [UPLOADED, FORMULA], key=KEY_DEFINE["source"], horizontal=True)
    if source == FORMULA:
        fields["formula"] = st.text_input("Formula", key=KEY_DEFINE["formula"],
                                          placeholder="e.g. support_hours_given - support_hours_received",
                                          help="Arithmetic (+ − × ÷, brackets) over measure ids: national measures "
                                               "and your group's own")
definition = governance.form_definition({k: (v.value if isinstance(v, Perspective | Polarity | Rollup) else
                                             [p.value for p in v] if k == "phases" else v)
                                         for k, v in fields.items()})
issues = governance.check_definition(store, viewer, gid, definition)
with checks:
    st.subheader("Checks")
    if issues:
        st.markdown(f"**{len(issues)} thing(s) to put right before saving:**\n\n" + _issue_lines(issues))
    else:
        st.success("No problems: ready to save." + (" This replaces your group's measure with the same id."
                                                    if definition.get("id") in own else ""))
    st.button("Save the measure", key=KEY_SAVE_DEFINITION, type="primary", disabled=bool(issues) or not editable,
              on_click=_save_definition, args=(gid, definition))
    show_flashed("define")

# ---------------------------------------------------------------- (d) upload local measure values
st.header("Upload local measure values")
uploadable = uploadable_measures(store, viewer, gid)
if not uploadable:
    st.info("This group has no local measure with uploaded values yet: define one above.")
    st.stop()
by_id: dict[str, Measure] = {m.id: m for m in uploadable}
mid = st.selectbox("Measure", list(by_id), format_func=lambda m: f"{by_id[m].label} ({m})", key=KEY_UPLOAD_MEASURE)
measure = by_id[mid]
needs = ("URN, period, numerator and denominator (the value is worked out)" if measure.rollup is Rollup.POOLED_RATIO
         else "URN, period, value and cohort" if measure.rollup is Rollup.WEIGHTED_MEAN else "URN, period and value")
st.caption(f"One row per school and year. Fill in {needs}. Other columns (a school name, notes) are ignored.")
st.caption("By pupil group too: a row with a pupil_group holds that group's own value and cohort (leave it empty for "
           "the whole school). Groups: " + "; ".join(f"{g.id} ({g.label})" for g in PUPIL_GROUPS) + ".")
st.download_button("Download the CSV template", upload_template(store, viewer, gid, mid, period),
                   file_name=f"{mid}.csv", mime="text/csv")
if editable:  # a viewer who may not edit this group sees the uploader greyed out, and their session may not upload
    open_uploads(MAX_UPLOAD_MB)
upload = st.file_uploader("Upload the filled-in CSV", type=["csv"], max_upload_size=MAX_UPLOAD_MB,
                          key=KEY_UPLOAD_FILE, help=f"A CSV file of up to {MAX_UPLOAD_MB} MB", disabled=not editable)
if upload is not None:
    content = upload.getvalue()
    result = governance.check_upload(store, viewer, gid, mid, content, filename=upload.name)
    st.subheader("What the file holds")
    if result.rows:
        st.dataframe(pd.DataFrame([{"Line": r.line, "URN": r.urn, "Year": r.period,
                                    "Pupil group": group_label(r.pupil_group) if r.pupil_group else "Whole school",
                                    "Value": r.value, "Numerator": r.numerator, "Denominator": r.denominator}
                                   for r in result.rows]), hide_index=True)
    else:
        st.info("No row of the file could be read as a value.")
    if result.issues:
        st.error(f"{len(result.issues)} problem(s) in {markdown_text(upload.name)}: nothing has been written. "
                 "Correct the file and upload it again.")
        st.dataframe(pd.DataFrame([{"Line": i.line, "Column": i.field or "", "Problem": i.message}
                                   for i in result.issues]).astype({"Line": "Int64"}), hide_index=True)
    elif result.rows:
        st.success(f"{len(result.rows)} rows checked: no problems.")
        st.button(f"Commit {len(result.rows)} rows", key=KEY_COMMIT, type="primary", disabled=not editable,
                  on_click=_commit, args=(gid, mid, content, upload.name))
show_flashed("upload")
st.subheader(f"Values stored for {markdown_text(measure.label)}")
stored = local_values(store, viewer, gid, mid)
if stored.empty:
    st.info("No values stored yet for this measure.")
else:
    st.dataframe(stored.rename(columns={"period": "Year", "urn": "URN", "school": "School", "value": "Value",
                                        "numerator": "Numerator", "denominator": "Denominator",
                                        "status": "Status"}), hide_index=True)
by_group = local_group_values(store, viewer, gid, mid)
if not by_group.empty:
    st.subheader(f"Values stored by pupil group for {markdown_text(measure.label)}")
    st.dataframe(by_group.assign(pupil_group=[group_label(g) for g in by_group["pupil_group"]])
                 .sort_values(["period", "urn"], ascending=[False, True], kind="stable")
                 .rename(columns={"period": "Year", "urn": "URN", "pupil_group": "Pupil group", "value": "Value",
                                  "numerator": "Numerator", "denominator": "Denominator", "status": "Status"}),
                 hide_index=True)
