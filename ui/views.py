"""What the school scorecard and Similar schools pages show, read and laid out once per store state and viewer and
shared by every rerun of every session (ui.shared): a rerun that changes nothing they depend on, or comes
back to a choice made before, draws them without reading or computing anything again.

Each key holds the store's generation and the viewer's scope (the reads inside are scoped by the viewer), so one
viewer is never given what another may see. What is shared is never changed: the frozen scorecard parts as they
are, and a fresh shell around what a caller could change (a shallow DataFrame copy, copy-on-write; a new list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from data.db.store import Store
from data.services import scope
from data.services.access import Viewer
from metrics.registry import Perspective
from metrics.sentences import describe
from metrics.text import markdown_text
from ui.context import school_card, school_la_values, school_registry
from ui.frames import VERSION_WORDS, school_details, school_table, trend_cells
from ui.shared import shared
from ui.tables import arrow_table


@dataclass(frozen=True)
class PerspectiveView:
    """One perspective of a school's card as the page draws it: its table, its lines in words (Markdown, the
    person's words escaped), and the details table under them; both tables also as st.dataframe sends them
    (ui.tables: converted once, where the page's rerun converted them each time)."""

    perspective: Perspective
    table: pd.DataFrame
    lines: tuple[str, ...]
    details: pd.DataFrame
    table_arrow: pa.Table
    details_arrow: pa.Table


@shared(max_entries=64)
def _school(_store: Store, generation: int, viewer: Viewer, urn: int) -> Mapping[str, object]:
    return scope.school(_store, viewer, urn)


def school_info(store: Store, viewer: Viewer, urn: int) -> dict:
    """One school of the viewer's groups, with its GIAS details (scope.school), cached per store state and viewer."""
    return dict(_school(store, store.generation, viewer.scope, int(urn)))


@shared(max_entries=64)
def _perspectives(_store: Store, generation: int, viewer: Viewer, urn: int, period: str,
                  ) -> tuple[PerspectiveView, ...]:
    card = school_card(_store, viewer, urn, period)
    reg = school_registry(_store, viewer, urn)
    la = school_la_values(_store, viewer, urn, period, [r.measure for r in card.rows])
    out = []
    for perspective in Perspective:
        rows = [r for r in card.rows if r.perspective == perspective.value]
        if not rows:
            continue
        lines = []
        for r in rows:
            said = f" These are DfE's {r.version} figures." if r.version in VERSION_WORDS else ""
            years = trend_cells(r, reg.get(r.measure))[1]
            lines.append(f"- {markdown_text(describe(r, reg.get(r.measure)) + said + f' Trend: {years}.')}")
            lines.extend(f"    - ⚑ {markdown_text(reason)}" for reason in r.flag_reasons)
        table, details = school_table(rows, reg, la), school_details(rows, reg)
        out.append(PerspectiveView(perspective, table, tuple(lines), details, arrow_table(table),
                                   arrow_table(details)))
    return tuple(out)


def school_perspectives(store: Store, viewer: Viewer, urn: int, period: str) -> list[PerspectiveView]:
    """The school card's perspectives with rows, in order: each one's table, words and details, as the viewer may
    see them (the card, its registry and its LA averages as ui.context reads them)."""
    return [PerspectiveView(v.perspective, v.table.copy(deep=False), v.lines, v.details.copy(deep=False),
                            v.table_arrow, v.details_arrow)
            for v in _perspectives(store, store.generation, viewer.scope, int(urn), period)]


@shared(max_entries=64)
def _family(_store: Store, generation: int, viewer: Viewer, urn: int, weights: tuple[tuple[str, float], ...],
            size: int, period: str, same_kind: bool) -> pd.DataFrame:
    return scope.similar_schools(_store, viewer, urn, weights=dict(weights), size=size, period=period,
                                 same_kind=same_kind)


def similar_schools(store: Store, viewer: Viewer, urn: int, *, weights: Mapping[str, float], size: int, period: str,
                    same_kind: bool) -> pd.DataFrame:
    """The school's family of similar schools (scope.similar_schools), cached; its attrs (phase, kind) kept."""
    return _family(store, store.generation, viewer.scope, int(urn), tuple(weights.items()), int(size),
                   period, bool(same_kind)).copy(deep=False)


@shared(max_entries=64)
def _values(_store: Store, generation: int, viewer: Viewer, urn: int, compare_with: tuple[int, ...], period: str,
            measure: str) -> pd.DataFrame:
    return scope.school_values(_store, viewer, urn, list(compare_with), period, measure)


def school_values(store: Store, viewer: Viewer, urn: int, compare_with: list[int], period: str,
                  measure: str) -> pd.DataFrame:
    """One measure's results for the school and the schools it is compared with (scope.school_values), cached."""
    return _values(store, store.generation, viewer.scope, int(urn), tuple(int(u) for u in compare_with), period,
                   measure).copy(deep=False)
