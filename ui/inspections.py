"""Ofsted inspections on the school card and the group overview: grades in Ofsted's words, each framework labelled,
counted across a group and never averaged. No colour carries meaning here: every grade is its words."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import streamlit as st

from data.db.store import Store
from data.services.access import Viewer
from data.services.inspections import group_inspections, school_inspections
from metrics.inspections import (
    AREA_BY_ID,
    LEGACY_OVERALL,
    Framework,
    GroupInspections,
    Inspection,
    SchoolInspections,
    concern_words,
)
from metrics.text import markdown_text
from ui.shared import derived, shared
from ui.tables import arrow_table

REPORT_CARD_TITLE = "Report card (Ofsted's framework from November 2025: no overall grade)"
LEGACY_TITLE = "Older 1–4 grades (Ofsted's framework before report cards: a different scale, never converted)"


def _day(d: date | None) -> str:
    return "–" if d is None else f"{d.day} {d:%b %Y}"


@shared(max_entries=64)
def _school(_store: Store, generation: int, viewer: Viewer, urn: int) -> SchoolInspections:
    return school_inspections(_store, viewer, urn)


@shared(max_entries=32)  # frozen records, only read: shared, not unpickled
def _group(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str) -> GroupInspections:
    return group_inspections(_store, viewer, group_id, period)


def _facts(i: Inspection) -> str:
    """'Inspected 11 Nov 2025 (S5 Inspection), published 15 Jan 2026', in Markdown-safe words."""
    words = f"Inspected {_day(i.start_date)}"
    if i.type:
        words += f" ({i.type})"
    if i.publication_date:
        words += f", published {_day(i.publication_date)}"
    if i.urn_at_time:
        words += f"; this inspection was of URN {i.urn_at_time}, the school before it became this one"
    concern = concern_words(i.concern)
    if concern:
        words += f". Category of concern: {concern}"
    return markdown_text(words + ".")


@derived(max_entries=256)
def _grades(i: Inspection) -> pa.Table:
    """An inspection's grades as st.dataframe sends them, made once per inspection record (the records are the
    shared SchoolInspections' own, held per store state and viewer)."""
    rows = [{"Area": AREA_BY_ID[g.area].label, "Grade": g.label, "Date of grade": _day(g.graded_on)}
            for g in i.grades]
    return arrow_table(pd.DataFrame(rows))


def _grades_table(i: Inspection, key: str) -> None:
    st.dataframe(_grades(i), hide_index=True, width="stretch", key=key)


def school_inspections_panel(store: Store, viewer: Viewer, urn: int) -> None:
    """The school's latest report card, its latest 1-4 grade with its date, and its latest ungraded inspection."""
    held = _school(store, store.generation, viewer.scope, int(urn))
    st.subheader("Ofsted inspections")
    if not held.history:
        st.info("No Ofsted inspection of this school is in the store: import Ofsted's management information on "
                "the Data page.")
        return
    card = held.report_card
    st.markdown(f"**{markdown_text(REPORT_CARD_TITLE)}**")
    if card is None:
        st.caption("Not yet inspected under report cards.")
    else:
        st.markdown(_facts(card))
        _grades_table(card, "inspection_report_card")
    st.markdown(f"**{markdown_text(LEGACY_TITLE)}**")
    legacy, newest = held.legacy, held.latest(Framework.OEIF)
    if legacy is None and newest is None:
        st.caption("No 1–4 grade in the store.")
    if legacy is not None:
        overall = legacy.grade(LEGACY_OVERALL)
        st.markdown(markdown_text(f"Overall effectiveness: {overall.label if overall else '–'}, from the inspection "
                                  f"of {_day(legacy.start_date)}."))
    if newest is not None and newest is not legacy:
        # since September 2024 Ofsted's graded inspections give sub-judgements without an overall grade
        st.markdown(markdown_text(f"Latest 1–4 inspection, {_day(newest.start_date)}: no overall effectiveness "
                                  "grade was given."))
    shown = [x for x in (newest, legacy if legacy is not newest else None) if x is not None]
    for n, i in enumerate(shown):
        with st.expander(f"1–4 grades of the inspection of {_day(i.start_date)}"):
            st.markdown(_facts(i))
            _grades_table(i, f"inspection_legacy_{n}")
    ungraded = held.ungraded
    if ungraded is not None:
        st.markdown(markdown_text(f"Latest ungraded inspection, {_day(ungraded.start_date)}: "
                                  f"{ungraded.outcome or 'outcome not given'}."))


def group_inspections_panel(store: Store, viewer: Viewer, group_id: int, period: str) -> None:
    """Each report-card area across the group's schools, counted; then their newest 1-4 overall grade, counted."""
    counts = _group(store, store.generation, viewer.scope, int(group_id), period)
    st.subheader("Ofsted inspections across the group")
    st.caption(f"The latest inspection of each of the {counts.schools} member schools in {period}, counted by grade "
               "(never averaged). Report cards and the older 1–4 grades are different scales and are not converted "
               "into each other.")
    areas, legacy = _group_lines(counts)
    st.markdown(_REPORT_CARD_HEADING)
    for line in areas:
        st.markdown(line)
    st.markdown(_LEGACY_HEADING)
    st.markdown(legacy)


_REPORT_CARD_HEADING = f"**{markdown_text(REPORT_CARD_TITLE)}**"
_LEGACY_HEADING = f"**{markdown_text(LEGACY_TITLE)}**"


@derived(max_entries=64)
def _group_lines(counts: GroupInspections) -> tuple[tuple[str, ...], str]:
    """The group's counts in Markdown lines (each area's, then the 1-4 overall grade's), made once per record."""
    return (tuple(f"- {markdown_text(area.sentence() + '.')}" for area in counts.report_card),
            f"- {markdown_text(counts.legacy_overall.sentence() + '.')}")
