"""DfE's published figure for this trust, beside Jointly's own roll-up: a section of the group pages."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import streamlit as st

from metrics.registry import Registry
from metrics.scorecard import Scorecard, ScorecardRow
from metrics.text import markdown_text
from ui.shared import derived
from ui.tables import arrow_table

TITLE = "DfE's published figure for this trust"
# Why DfE gives no figure, in words (the file's symbol follows in brackets)
_NO_FIGURE = {"not_applicable": "none: not applicable", "suppressed": "suppressed", "missing": "not available",
              "low_coverage": "low reliability"}
COLUMNS = ["Measure", "Jointly's roll-up", "DfE's published figure", "Version", "Schools DfE counted",
           "Pupils DfE counted"]


def _figure(r: ScorecardRow, reg: Registry) -> str:
    if r.dfe_published is not None:
        return reg.get(r.measure).format_value(r.dfe_published) if r.measure in reg else f"{r.dfe_published:g}"
    return _NO_FIGURE.get(r.dfe_published_status or "", "not available")


def published_frame(card: Scorecard, reg: Registry) -> pd.DataFrame:
    """One line per measure DfE publishes for the trust: its figure beside Jointly's roll-up (plain text cells)."""
    lines = []
    for r in card.rows:
        if r.dfe_published_status is None:
            continue
        lines.append({
            "Measure": r.label,
            "Jointly's roll-up": r.display,
            "DfE's published figure": _figure(r, reg),
            "Version": (r.dfe_published_version or "not said").capitalize(),
            "Schools DfE counted": "" if r.dfe_published_schools is None else str(r.dfe_published_schools),
            "Pupils DfE counted": "" if r.dfe_published_cohort is None else f"{r.dfe_published_cohort:,}",
        })
    return pd.DataFrame(lines, columns=COLUMNS)


def counting_sentence(counted: int, members: int, period: str) -> str:
    """How many schools each figure stands for: DfE's and Jointly's rarely count the same ones."""
    return (f"DfE's figures count {counted} school{'s' if counted != 1 else ''}; Jointly's roll-up has {members} "
            f"member school{'s' if members != 1 else ''} in {period}.")


@derived(max_entries=64)
def _section(card: Scorecard, reg: Registry) -> tuple[pa.Table | None, str | None, str]:
    """The section's table as st.dataframe sends it (None: DfE publishes nothing for this trust this year) and its
    two captions, made once per card (ui.shared.derived: the card and registry are ui.context's shared objects)."""
    frame = published_frame(card, reg)
    if frame.empty:
        return None, None, ""
    counted = next((r.dfe_published_schools for r in card.rows if r.dfe_published_schools is not None), None)
    return (arrow_table(frame), counting_sentence(counted, len(card.members), card.period) if counted is not None
            else None,
            "DfE's figure is its own: it weights each school's result by its pupils and its years in the trust, "
            "and counts only the schools in the trust for three years or more. Jointly's roll-up pools every "
            f"member's pupils this year ({markdown_text(card.method)}). The two can differ; neither is mixed "
            "into the other.")


def show_trust_published(card: Scorecard, reg: Registry) -> None:
    """The section, when DfE publishes figures for this group's trust this year; nothing otherwise."""
    table, counted, method = _section(card, reg)
    if table is None:
        return
    st.subheader(TITLE)
    st.dataframe(table, hide_index=True, width="stretch")
    if counted is not None:
        st.caption(counted)
    st.caption(method)
