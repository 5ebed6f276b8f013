"""The Impact page's reads and figures, cached per store state and viewer (the reads inside are scoped by the viewer):
changing the measure back, or another tab's rerun, redraws without estimating anything again. What is cached is
never changed (a frozen result; a figure st.plotly_chart copies; a caller gets a shallow copy of a frame)."""

from __future__ import annotations

import plotly.graph_objects as go

from charts.impact import impact_figure
from data.db.store import Store
from data.services import scope
from data.services.access import Viewer
from metrics.impact import GroupImpact, event_frame
from metrics.registry import Measure
from ui.shared import shared


@shared(max_entries=64)
def _impact(_store: Store, generation: int, viewer: Viewer, group_id: int, measure: str, support: bool) -> GroupImpact:
    read = scope.support_impact if support else scope.group_impact
    return read(_store, viewer, group_id, measure)


def group_impact(store: Store, viewer: Viewer, group_id: int, measure: str, *, support: bool = False) -> GroupImpact:
    """The event study of the group's joiners (or of the schools its support reached) on the measure."""
    return _impact(store, store.generation, viewer.scope, int(group_id), measure, support)


@shared(max_entries=64)
def _figure(_store: Store, generation: int, viewer: Viewer, group_id: int, measure: str, support: bool) -> go.Figure:
    found = _impact(_store, generation, viewer, group_id, measure, support)
    return impact_figure(event_frame(found), measure_label=found.measure.label, unit=found.unit,
                         description=found.words)


def impact_chart(store: Store, viewer: Viewer, group_id: int, measure: str, *, support: bool = False) -> go.Figure:
    return _figure(store, store.generation, viewer.scope, int(group_id), measure, support)


@shared(max_entries=32)
def _measures(_store: Store, generation: int, viewer: Viewer, group_id: int) -> tuple[Measure, ...]:
    return tuple(scope.impact_measures(_store, viewer, group_id))


def impact_measures(store: Store, viewer: Viewer, group_id: int) -> list[Measure]:
    return list(_measures(store, store.generation, viewer.scope, int(group_id)))
