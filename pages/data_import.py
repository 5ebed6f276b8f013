"""Data: what the store holds, importing DfE files, and the import and audit logs. For data managers (admins).

app.py lists this page only for admins; the page refuses anyone else as well, and the import itself is
refused in the data layer (data.services.governance), so no route round the navigation can write."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.db.errors import StoreError
from data.services import governance, scope
from data.services.imports import (
    DEMO_WHY,
    OK,
    REAL_STORE_COMMANDS,
    SEVERITY_WORDS,
    store_findings,
    undo_for,
    undo_plan,
    undoable_imports,
)
from metrics.text import markdown_text
from ui.context import current_viewer
from ui.messages import Kind, flash, show_flashed
from ui.router import hand_over
from ui.server import UPLOAD_CAP_MB, open_uploads
from ui.store import get_store

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_FILES = "data_import_files"
KEY_PERIOD = "data_import_period"
KEY_IMPORT = "data_import_go"
KEY_REPORTS = "_data_import_reports"  # the last import's reports, shown until the next one
KEY_UNDO_CHOICE = "data_undo_choice"
KEY_UNDO_ASK = "data_undo_ask"
KEY_UNDO_YES = "data_undo_yes"
KEY_UNDO_NO = "data_undo_no"
KEY_UNDO_ASKING = "_data_undo_asking"  # the import whose undo waits for a yes
PLACE_UNDO = "undo"  # where an undo's outcome is said, on the rerun after it
OUTCOME_WORDS = {"ok": "Imported", "failed": "Failed: nothing written",
                 "pending": "Values stored; derived tables pending (rebuilt at the next open)",
                 "undone": "Undone: its values are as they were before it"}
REFUSAL = ("This page is for data managers: only an admin can import files and read the logs. Ask your data manager "
           "if something needs importing.")

store = get_store()
viewer = current_viewer()
st.title("Data")
if not viewer.is_admin:
    st.error(REFUSAL)
    st.stop()

# ---------------------------------------------------------------- (a) what's in the store
st.header("What's in the store")
info = scope.store_info(store, viewer)
if store.is_demo():
    st.info("This is the synthetic demo: made-up schools and results, in the DfE's file formats.")
row1 = st.columns(4)
row1[0].metric("Schools", f"{info.establishments:,}", help=f"{info.establishments_with_location:,} with a map "
               "location")
row1[1].metric("Groups", f"{sum(info.groups.values()):,}", help=f"{info.memberships:,} memberships")
row1[2].metric("School values", f"{info.observations:,}", help=f"Over {info.measures} measures")
row1[3].metric("Benchmarks", f"{info.benchmarks:,}", help="Local-authority and national values")
row2 = st.columns(4)
row2[0].metric("Academic years", f"{len(info.periods)}",
               help=", ".join(info.periods) if info.periods else "No results yet")
row2[1].metric("Imports", f"{info.imports:,}")
row2[2].metric("Failed imports", f"{info.failed_imports:,}", help="A failed import wrote nothing")
row2[3].metric("Local measures", f"{info.local_measures:,}")
if info.groups:
    st.caption("Groups by kind: " + ", ".join(f"{n:,} {kind}" for kind, n in info.groups.items()) + ".")
st.caption("Years with results: " + (", ".join(info.periods) if info.periods else "none yet") + ".")

# ---------------------------------------------------------------- (a2) what the store can show (after every import)
st.header("What the store can show")
for finding in store_findings(store, viewer):  # sentences quote group names from the files: shown as written
    show = st.success if finding.severity == OK else st.warning
    show(f"{SEVERITY_WORDS[finding.severity]}: {markdown_text(finding.text())}")

# ---------------------------------------------------------------- (b) upload DfE files


def upload_files() -> None:
    """The uploader, the Import button and the last import's reports."""
    st.caption("Performance tables (Compare School Performance) CSVs, GIAS establishments, groups and links, EES "
               "school-level files and Ofsted's list. Each file is checked completely and imported in one step: "
               "a file with a problem writes nothing.")
    # the page stopped above for anyone but an admin: only an admin's session may upload, up to the server's cap
    open_uploads(UPLOAD_CAP_MB)
    files = st.file_uploader("DfE files", type=["csv", "xlsx"], accept_multiple_files=True, key=KEY_FILES)
    period = st.text_input("Academic year", key=KEY_PERIOD, placeholder="e.g. 2018/19",
                           help="Performance-tables files carry no year: give it here. Leave it blank for EES and "
                                "GIAS files, which carry their own.")
    if st.button("Import", key=KEY_IMPORT, type="primary", disabled=not files):
        bar = st.progress(0.0, text="Starting…")

        def progress(i: int, name: str) -> None:
            bar.progress(i / len(files), text=f"Importing {name} ({i + 1} of {len(files)})")

        reports = governance.import_uploads(store, viewer, [(f.name, f.getvalue()) for f in files], period,
                                            progress=progress)
        bar.progress(1.0, text=f"Done: {sum(r.ok for r in reports)} of {len(reports)} files imported.")
        st.session_state[KEY_REPORTS] = reports
        st.rerun()  # so the counts and the check above include what was just imported
    for report in st.session_state.get(KEY_REPORTS, []):
        if report.ok:
            st.success(f"Imported {markdown_text(report.file)}.")
            st.code(report.summary(), language=None)
            if report.problems:
                st.caption(f"{len(report.problems)} values could not be read and were stored as missing:")
                st.dataframe(pd.DataFrame([{"Line": p.line, "Column": p.column or "", "Problem": p.message}
                                           for p in report.problems]).astype({"Line": "Int64"}), hide_index=True)
        else:
            # the message quotes the file (its name, a cell): shown as written
            st.error(f"Not imported: {markdown_text(report.message.rstrip('.'))}. Nothing from this file was "
                     "written: the store is as it was.")
    if not files and not st.session_state.get(KEY_REPORTS):
        st.info("Choose one or more files to import.")
    if st.session_state.get(KEY_REPORTS):
        st.caption("What the store can show now is above, under What the store can show.")


st.header("Import DfE files")
if store.is_demo():
    # no uploader that would only refuse: why, and how to start a real store
    st.warning(f"{DEMO_WHY}. To use real files, start a real store of its own (a new file, made on first use) and "
               "open the app on it:")
    st.code("\n".join(REAL_STORE_COMMANDS), language="bash")
else:
    upload_files()

# ---------------------------------------------------------------- (c) the import log, and undoing an import
st.header("Import log")
log = scope.import_log(store, viewer)
if log.empty:
    st.info("Nothing has been imported yet.")
else:
    st.dataframe(pd.DataFrame({
        "When": log["finished_at"].fillna(log["started_at"]),
        "File": log["file_name"],
        "Kind": log["kind"].fillna("–"),
        "Year": log["period"].fillna("–"),
        "Outcome": log["outcome"].map(OUTCOME_WORDS).fillna(log["outcome"]),
        "School values": log["observations"],
        "Benchmarks": log["benchmarks"],
        "Problems": log["problems"],
        "Message": log["message"].fillna(""),
        "By": log["actor"].fillna(""),
    }), hide_index=True)
show_flashed(PLACE_UNDO)
undoable = dict(undoable_imports(store, viewer))
if undoable:
    st.subheader("Undo an import")
    st.caption("Its values return to what they were before it: what it added goes, what it replaced comes back, "
               "and percentiles, families and expectations are recomputed. Of two imports of the same values, the "
               "later one is undone first.")
    chosen = st.selectbox("Import to undo", list(undoable), format_func=lambda i: undoable[i],
                          key=KEY_UNDO_CHOICE)
    plan = undo_plan(store, viewer, int(chosen))
    if plan.refusal:
        st.info(plan.refusal)
    elif st.session_state.get(KEY_UNDO_ASKING) != plan.import_id:
        if st.button("Undo this import…", key=KEY_UNDO_ASK):
            st.session_state[KEY_UNDO_ASKING] = plan.import_id
            st.rerun()
    else:
        st.warning(f"{markdown_text(plan.sentence())} To have its values back afterwards, import the same file "
                   "again. Undo it?")
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Yes, undo it", key=KEY_UNDO_YES, type="primary"):
            st.session_state.pop(KEY_UNDO_ASKING, None)
            try:
                done = undo_for(store, viewer, plan.import_id)
            except StoreError as refused:  # another import came in since the plan was shown: nothing was changed
                st.error(f"{markdown_text(refused.title)} Nothing was changed.")
            else:
                back = f" and the {done.values_restored:,} it replaced were put back" if done.values_restored else ""
                flash(Kind.SUCCESS, f"Undone: the import of {done.file_name}. The {done.values_removed:,} values "
                                    f"and records it added were removed{back}.", place=PLACE_UNDO)
                st.rerun()
        if no.button("Cancel", key=KEY_UNDO_NO):
            st.session_state.pop(KEY_UNDO_ASKING, None)
            st.rerun()

# ---------------------------------------------------------------- (d) the change history
st.header("Change history")
st.caption("Every change people made (scorecard choices, targets, local measures, support, publications, accounts) "
           "is on the Change history page.")
