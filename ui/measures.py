"""The Measures and targets page's reads, cached per store state and viewer (ui.shared, shared by the
process's sessions): every save moves the store's generation on (data.db.store), so the next rerun reads afresh.

Each key holds the store's generation and the viewer's scope (the reads inside decide what the viewer may see and
edit), and a caller gets a fresh shell (a list, a dict, a shallow DataFrame copy) around what is shared."""

from __future__ import annotations

import pandas as pd

from data.db.store import Store
from data.services import governance, scope
from data.services.access import Viewer
from metrics.registry import Measure
from ui.shared import shared


@shared(max_entries=64)
def _refusal(_store: Store, generation: int, viewer: Viewer, group_id: int) -> str | None:
    return governance.edit_refusal(_store, viewer, group_id)


def edit_refusal(store: Store, viewer: Viewer, group_id: int) -> str | None:
    """Why the viewer may not edit this group, in words; None when they may (governance.edit_refusal)."""
    return _refusal(store, store.generation, viewer.scope, int(group_id))


@shared(max_entries=64)
def _applicable(_store: Store, generation: int, viewer: Viewer, group_id: int) -> tuple[Measure, ...]:
    return tuple(governance.applicable_measures(_store, viewer, group_id))


def applicable_measures(store: Store, viewer: Viewer, group_id: int) -> list[Measure]:
    """The measures that apply to the group's members (governance.applicable_measures), in registry order."""
    return list(_applicable(store, store.generation, viewer.scope, int(group_id)))


@shared(max_entries=64)
def _chosen(_store: Store, generation: int, viewer: Viewer, group_id: int) -> tuple[str, ...]:
    return tuple(scope.chosen_measures(_store, viewer, group_id))


def chosen_measures(store: Store, viewer: Viewer, group_id: int) -> list[str]:
    """The measures the group chose for its scorecard, in order (scope.chosen_measures)."""
    return list(_chosen(store, store.generation, viewer.scope, int(group_id)))


@shared(max_entries=64)
def _gap_targets(_store: Store, generation: int, viewer: Viewer, group_id: int,
                 ) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    return tuple((m, tuple(v)) for m, v in scope.gap_targets(_store, viewer, group_id).items())


def gap_targets(store: Store, viewer: Viewer, group_id: int) -> dict[str, list[tuple[str, float]]]:
    """The group's targets on its disadvantage gaps, by measure (scope.gap_targets)."""
    return {m: list(v) for m, v in _gap_targets(store, store.generation, viewer.scope, int(group_id))}


@shared(max_entries=64)
def _local_measures(_store: Store, generation: int, viewer: Viewer, group_id: int) -> tuple[dict, ...]:
    return tuple(scope.local_measures(_store, viewer, group_id))


def local_measures(store: Store, viewer: Viewer, group_id: int) -> list[dict]:
    """The group's own local measure definitions (scope.local_measures), each a fresh dict."""
    return [dict(d) for d in _local_measures(store, store.generation, viewer.scope, int(group_id))]


@shared(max_entries=64)
def _uploadable(_store: Store, generation: int, viewer: Viewer, group_id: int) -> tuple[Measure, ...]:
    return tuple(governance.uploadable_measures(_store, viewer, group_id))


def uploadable_measures(store: Store, viewer: Viewer, group_id: int) -> list[Measure]:
    """The group's local measures whose values are uploaded (governance.uploadable_measures)."""
    return list(_uploadable(store, store.generation, viewer.scope, int(group_id)))


@shared(max_entries=64)
def _template(_store: Store, generation: int, viewer: Viewer, group_id: int, measure_id: str,
              period: str | None) -> str:
    return governance.upload_template(_store, viewer, group_id, measure_id, period)


def upload_template(store: Store, viewer: Viewer, group_id: int, measure_id: str, period: str | None) -> str:
    """The CSV template for one of the group's uploaded measures (governance.upload_template)."""
    return _template(store, store.generation, viewer.scope, int(group_id), measure_id, period)


@shared(max_entries=64)
def _local_values(_store: Store, generation: int, viewer: Viewer, group_id: int, measure_id: str) -> pd.DataFrame:
    return governance.local_values(_store, viewer, group_id, measure_id)


def local_values(store: Store, viewer: Viewer, group_id: int, measure_id: str) -> pd.DataFrame:
    """The stored values of one of the group's local measures (governance.local_values)."""
    return _local_values(store, store.generation, viewer.scope, int(group_id), measure_id).copy(deep=False)


@shared(max_entries=64)
def _group_values(_store: Store, generation: int, viewer: Viewer, group_id: int, measure_id: str) -> pd.DataFrame:
    return scope.local_group_values(_store, viewer, group_id, measure_id)


def local_group_values(store: Store, viewer: Viewer, group_id: int, measure_id: str) -> pd.DataFrame:
    """One of the group's local measures' values by pupil group (scope.local_group_values)."""
    return _group_values(store, store.generation, viewer.scope, int(group_id), measure_id).copy(deep=False)
