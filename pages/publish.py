"""Publish results: a group's leaders choose results for parents, add a few words, preview exactly what parents
will see, publish it, and withdraw it later. For leaders and admins; the data layer checks the viewer again."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.services import scope
from data.services.access import Role
from data.services.consent import AGREED, DECLINED, MAX_NOTE, NOT_ASKED, consents, may_record, record_consents
from data.services.publications import MAX_COMMENTARY, build_publication, publication_history, publish, withdraw
from metrics.text import markdown_text
from ui.context import choose_group_and_period, current_viewer, group_card
from ui.frames import headline_rows
from ui.messages import Kind, flash, show_flashed
from ui.published import render_publication
from ui.router import hand_over
from ui.store import get_store
from ui.widgets import label_from

hand_over()  # a deep link to a fresh server runs this file directly: the router runs it instead

KEY_MEASURES = "publish_measures"
KEY_CHOSEN_FOR = "_publish_measures_for"  # the (group, year) the chosen measures belong to
KEY_NOTE = "publish_note_"  # + measure id: one commentary box per chosen measure
KEY_PUBLISH = "publish_button"
KEY_WITHDRAW = "withdraw_"  # + publication id
PLACE_HISTORY = "history"  # where a withdrawal's message is said (made in a callback, shown on the next run)
PLACE_CONSENT = "consent"  # the same, after recording schools' answers
KEY_CONSENT_SCHOOLS = "consent_schools"
KEY_CONSENT_ANSWER = "consent_answer"
KEY_CONSENT_NOTE = "consent_note"
KEY_CONSENT_BUTTON = "consent_record"
PAGE_PATH = "publish"  # this page's own path in the app's address (app.py: the file's name)
ANSWER_WORDS = {AGREED: "Agreed", NOT_ASKED: "Not asked yet", DECLINED: "Declined"}
CHOICES = {"agrees": "Agrees to publish jointly", "declines": "Does not agree (or withdraws)"}
DEFAULT_MEASURES = 8
PUBLIC_PAGE = "pages/published_results.py"
STATUS_WORDS = {
    "published": "Published: parents can read it",
    "replaced": "Replaced by a later version",
    "withdrawn": "Withdrawn: no longer shown to parents",
}


def public_path(publication_id: int) -> str:
    """The parents' page for one publication, as a path under the app's address."""
    return f"published_results?publication={publication_id}"


def app_address() -> str | None:
    """The app's own address as the person's browser reached it (Streamlit's st.context.url, without this page's
    path), or from the request's Host header; None when neither is known."""
    url = st.context.url
    if url:
        base = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        return base.removesuffix(f"/{PAGE_PATH}")
    host = str(st.context.headers.get("Host") or "").strip()
    if host and all(c.isalnum() or c in ".-:[]" for c in host):  # a host name and port, nothing else
        scheme = "https" if str(st.context.headers.get("X-Forwarded-Proto") or "").lower() == "https" else "http"
        return f"{scheme}://{host}"
    return None


def public_address(publication_id: int) -> str:
    """The full address of the parents' page for one publication, to copy and share (a path when the app's own
    address is unknown)."""
    base = app_address()
    return f"{base}/{public_path(publication_id)}" if base else public_path(publication_id)


def _record_answers(group_id: int, names: dict[int, str], only: int | None) -> None:
    """Runs before the page is drawn, so the table and the preview already show the new answers. `only`: the one
    school this person may answer for (a head's own), else the schools chosen in the form."""
    chosen = [only] if only is not None else list(st.session_state.get(KEY_CONSENT_SCHOOLS) or [])
    agreed = st.session_state.get(KEY_CONSENT_ANSWER) == "agrees"
    if not chosen:
        flash(Kind.ERROR, "Choose the school whose answer you are recording.", place=PLACE_CONSENT)
        return
    problems = record_consents(get_store(), current_viewer(), group_id, {int(u): agreed for u in chosen},
                               str(st.session_state.get(KEY_CONSENT_NOTE) or ""))
    if problems:
        flash(Kind.ERROR, "Not recorded:", problems, place=PLACE_CONSENT)
        return
    who = ", ".join(names.get(int(u), "the school") for u in chosen)
    flash(Kind.SUCCESS, f"Recorded: {who} {'agree' if agreed else 'do not agree'} to publish jointly."
          if len(chosen) > 1 else f"Recorded: {who} {'agrees' if agreed else 'does not agree'} to publish jointly.",
          place=PLACE_CONSENT)
    if only is None:
        st.session_state[KEY_CONSENT_SCHOOLS] = []
    st.session_state[KEY_CONSENT_NOTE] = ""


def _when(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    ts = pd.Timestamp(value)
    return f"{ts.day} {ts:%B %Y, %H:%M}"


def _withdraw(publication_id: int, label: str) -> None:
    """Runs before the page is drawn, so the history below already shows the withdrawal."""
    problems = withdraw(get_store(), current_viewer(), publication_id)
    if problems:
        flash(Kind.ERROR, "Not withdrawn:", problems, place=PLACE_HISTORY)
    else:
        flash(Kind.SUCCESS, f"Withdrawn: {label} is no longer shown to parents.", place=PLACE_HISTORY)


store = get_store()
viewer = current_viewer()
st.title("Publish results")
if viewer.role not in (Role.LEADER, Role.ADMIN):
    st.info("Results are published by a group's leaders. Published results are on the 'Results for parents' page.")
    st.stop()
st.caption("Choose the results your partnership shares with parents, add a few words about them if you wish, "
           "check the preview and publish. Parents see a plain-language page, with results for very small groups "
           "of pupils hidden; they do not need to sign in. You can withdraw it at any time.")
group_id, period, _ = choose_group_and_period(store, viewer)
card = group_card(store, viewer, group_id, period)
st.header(markdown_text(card.subject.name))

# ------------------------------------------------------------------------------------------- consent
st.subheader("1. The schools that agree to publish jointly")
answers = consents(store, viewer, group_id, period)
school_names = {u: c.name for u, c in answers.items()}
agreed_count = sum(c.agreed for c in answers.values())
st.caption(f"A school's results go into the joint publication only if the school has agreed: its head or a data "
           f"manager records the answer. {agreed_count} of {len(answers)} schools have agreed.")
show_flashed(PLACE_CONSENT)
if answers:
    ordered = sorted(answers.values(), key=lambda c: (c.answer != AGREED, c.name))
    st.dataframe(pd.DataFrame({
        "School": [c.name for c in ordered],
        "Answer": [ANSWER_WORDS.get(c.answer, c.answer) for c in ordered],
        "Recorded by": [c.recorded_by or "–" for c in ordered],
        "When": [_when(c.recorded_at) if c.recorded_at else "–" for c in ordered],
        "Note": [c.note or "" for c in ordered],
    }), hide_index=True, width="stretch", key="consent_table")
allowed = [u for u in sorted(answers, key=lambda u: school_names[u]) if may_record(store, viewer, group_id, u)]
if allowed:
    # a plain box, not an expander: it stays open while a school is chosen (each choice reruns the page)
    with st.container(border=True):
        st.markdown("**Record a school's answer**")
        only = allowed[0] if len(allowed) == 1 and not viewer.is_admin else None
        if only is not None:
            st.markdown(f"Your school: **{markdown_text(school_names[only])}**")
        else:
            st.multiselect("Schools", allowed, format_func=school_names.get, key=KEY_CONSENT_SCHOOLS,
                           placeholder="Choose one or more schools")
        st.radio("Their answer", list(CHOICES), format_func=CHOICES.get, key=KEY_CONSENT_ANSWER, horizontal=True)
        st.text_input("Note (optional)", max_chars=MAX_NOTE, key=KEY_CONSENT_NOTE,
                      placeholder="For example: agreed at the heads' meeting on 12 November")
        st.button("Record the answer", icon=":material/how_to_reg:", key=KEY_CONSENT_BUTTON,
                  on_click=_record_answers, args=(int(group_id), school_names, only))
else:
    st.caption("Each school's head, or a data manager, records the school's answer.")

# ------------------------------------------------------------------------------------------- choose
st.subheader(f"2. Choose the results to share for {period}")
rows = [r for r in card.rows if r.value is not None]
labels = {r.measure: r.label for r in rows}
if not labels:
    st.info(f"{markdown_text(card.subject.name)} has no results in {period} to publish yet.")
    st.stop()
saved = [m for m in scope.chosen_measures(store, viewer, group_id) if m in labels]
headline = [r.measure for group in headline_rows(card).values() for r in group]
default = saved or headline[:DEFAULT_MEASURES] or list(labels)[:DEFAULT_MEASURES]
st.caption("Starts with the measures your governors chose for the scorecard" if saved else
           f"Starts with up to {DEFAULT_MEASURES} headline results, a few from each area of the scorecard.")
if st.session_state.get(KEY_CHOSEN_FOR) != (group_id, period) or KEY_MEASURES not in st.session_state:
    # another group or year: start again from its own default, not the last group's choice
    st.session_state[KEY_MEASURES] = default
    st.session_state[KEY_CHOSEN_FOR] = (group_id, period)
chosen = st.multiselect("Results to publish", list(labels), format_func=label_from(labels), key=KEY_MEASURES,
                        placeholder="Choose one or more results")

commentary: dict[str, str] = {}
if chosen:
    with st.expander("Add a few words for parents (optional)", icon=":material/edit_note:"):
        st.caption(f"Up to {MAX_COMMENTARY} characters about each result: what it shows, what the schools are doing "
                   "about it. Write for parents: no jargon, and nothing that could identify a pupil.")
        for mid in chosen:
            note = st.text_area(f"About {markdown_text(labels[mid])}", max_chars=MAX_COMMENTARY, key=f"{KEY_NOTE}{mid}",
                                height=90)
            if note and note.strip():
                commentary[mid] = note.strip()

# ------------------------------------------------------------------------------------------- preview
st.subheader("3. Check the preview")
pub, problems = build_publication(store, viewer, group_id, period, list(chosen), commentary)
if problems:
    st.warning("Before you publish:\n\n" + "\n".join(f"- {markdown_text(p)}" for p in problems))
if pub is not None:
    if pub.left_out_words:
        st.warning(markdown_text(f"{pub.left_out_words} To include a school, record its agreement in step 1."),
                   icon=":material/group_remove:")
    # the page as parents will read it, at its full length: no inner scroll box
    with st.container(border=True):
        render_publication(pub, preview=True)

# ------------------------------------------------------------------------------------------- publish
st.subheader("4. Publish")
st.caption("Publishing makes a fixed copy of these results. Publishing again for the same year makes a new version "
           "that replaces the last one; later changes to the data do not change what parents see.")
if st.button("Publish", type="primary", icon=":material/campaign:", key=KEY_PUBLISH,
             disabled=pub is None or not chosen):
    done, refused = publish(store, viewer, group_id, period, list(chosen), commentary)
    if done is None:
        st.error("Not published:\n\n" + "\n".join(f"- {markdown_text(p)}" for p in refused))
    else:
        address = public_address(done.publication_id)
        full = address.startswith(("http://", "https://"))
        st.success(f"Published version {done.version} of {markdown_text(done.group_name)}'s results for "
                   f"{done.period}. Parents can read them now, without signing in, at this address"
                   + (" (copy it with the button at its right):" if full else " (after the app's own address):"))
        st.code(address, language=None)
        st.page_link(PUBLIC_PAGE, label="Open the parents' page", icon=":material/family_restroom:",
                     query_params={"publication": str(done.publication_id)})

# ------------------------------------------------------------------------------------------- history
st.subheader("History")
show_flashed(PLACE_HISTORY)
history = publication_history(store, viewer, group_id)
if not history:
    st.info(f"{markdown_text(card.subject.name)} has not published any results yet.")
else:
    st.dataframe(pd.DataFrame({
        "Year": [h["period"] for h in history],
        "Version": [int(h["version"]) for h in history],
        "Status": [STATUS_WORDS.get(str(h["status"]), str(h["status"]).capitalize()) for h in history],
        "Date": [_when(h["created_at"]) for h in history],
        "By": [h.get("created_by") or "–" for h in history],
        "Parents' page": [public_address(h["publication_id"]) if h["status"] == "published" else "–"
                          for h in history],
    }), hide_index=True, width="stretch", key="publish_history")
    for h in history:
        if h["status"] != "published":
            continue
        label = f"version {h['version']} for {h['period']}"
        st.button(f"Withdraw {label}", key=f"{KEY_WITHDRAW}{h['publication_id']}", icon=":material/unpublished:",
                  on_click=_withdraw, args=(int(h["publication_id"]), label),
                  help="Parents will no longer see these results. The record stays in this history.")
