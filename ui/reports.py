"""The Reports page's process-wide parts: the board report's worker pool, and the scorecard's downloads built once
per store state, viewer and card (ui.shared: bytes, never changed)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import streamlit as st

from data.db.store import Store
from data.outputs.reports import scorecard_csv, scorecard_xlsx
from data.services.access import Viewer
from ui.context import group_card, registry, school_card
from ui.shared import shared


@st.cache_resource(show_spinner=False)
def board_report_pool() -> ThreadPoolExecutor:
    """Board reports build here, two at a time at most (each drives a browser to draw its charts)."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="board-report")


@shared(max_entries=32)
def _downloads(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str,
               urn: int | None) -> tuple[bytes, bytes]:
    card = group_card(_store, viewer, group_id, period) if urn is None else school_card(_store, viewer, urn, period)
    reg = registry(_store, viewer, group_id)
    return scorecard_csv(card, reg), scorecard_xlsx(card, reg)


def scorecard_downloads(store: Store, viewer: Viewer, group_id: int, period: str,
                        urn: int | None) -> tuple[bytes, bytes]:
    """The CSV and the Excel workbook of the group's card (`urn` None) or a member school's, with the group's
    registry, as the viewer may see them: built once per store state (the Excel file's own timestamp is when)."""
    return _downloads(store, store.generation, viewer.scope, int(group_id), period,
                      None if urn is None else int(urn))
