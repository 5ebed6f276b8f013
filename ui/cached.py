"""The group overview's heavy figures, built once per (store state, viewer, group, year, pooling, choice) and shared.

Shared (ui.shared), never copied: a figure is never changed after it is built (st.plotly_chart and
st.pydeck_chart only read it), so every rerun and every session with the same key gets the same object instead of
a pickled copy. The key holds the viewer's scope, so one viewer is never served a figure made from another's rows;
the card and registry passed in (unhashed) are the ones that key determines (ui.context caches them on the same
key).
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import pydeck as pdk

from charts.alt import map_alt
from charts.grid import grid_figure
from charts.maps import schools_map
from data.db.store import Store
from data.services import scope
from data.services.access import Viewer
from metrics.registry import Registry
from metrics.scorecard import Scorecard
from ui.frames import grid_frame, map_frame
from ui.shared import shared
from ui.store import get_store


@dataclass(frozen=True)
class Grid:
    """The overview's schools × measures grid: the figure and its words for screen readers."""

    figure: go.Figure
    alt: str


@dataclass(frozen=True)
class Map:
    """The overview's map coloured by one measure: the deck (None when no member has a location) and its words."""

    deck: pdk.Deck | None
    alt: str


def shared_deck(deck: pdk.Deck) -> pdk.Deck:
    """The deck, its JSON made once: st.pydeck_chart asks for deck.to_json() at every rerun, and pydeck's own
    serialiser walks every record each time. The deck is never changed after this (it is shared, read only)."""
    spec = deck.to_json()
    deck.to_json = lambda: spec  # type: ignore[method-assign]
    return deck


def shared_figure(figure: go.Figure) -> go.Figure:
    """The figure, its dict made once: st.plotly_chart asks for figure.to_dict() (a deep copy of every array) at
    every rerun. The figure is never changed after this (it is shared, read only); plotly.io.to_json only reads
    the dict (it holds lists, no numpy arrays to encode in place)."""
    spec = figure.to_dict()
    figure.to_dict = lambda: spec  # type: ignore[method-assign]
    return figure


@shared(max_entries=64)
def _grid(generation: int, viewer: Viewer, group_id: int, period: str, include_special: bool,
          measures: tuple[str, ...], _card: Scorecard, _reg: Registry) -> Grid | None:
    grid = grid_frame(_card, registry=_reg, measures=list(measures))
    if grid.empty:
        return None
    figure = grid_figure(grid)
    return Grid(shared_figure(figure), figure.layout.meta["description"])  # grid_alt(grid), as the builder said


def overview_grid(store: Store, viewer: Viewer, group_id: int, period: str, card: Scorecard, reg: Registry, *,
                  include_special: bool, measures: list[str]) -> Grid | None:
    """The grid of the group card `card` (group_card(store, viewer, group_id, period, include_special=…)) for the
    chosen measures, or None when no member has a value for them."""
    return _grid(store.generation, viewer.scope, int(group_id), period, bool(include_special), tuple(measures),
                 card, reg)


@shared(max_entries=64)
def _map(generation: int, viewer: Viewer, group_id: int, period: str, include_special: bool, measure: str,
         measure_label: str, _store: Store, _card: Scorecard, _reg: Registry) -> Map:
    places = map_frame(_card, scope.members(_store, viewer, group_id, period), measure, registry=_reg)
    alt = map_alt(places, measure_label)
    if not places["latitude"].notna().any():
        return Map(None, alt)
    return Map(shared_deck(schools_map(places, measure_label=measure_label)), alt)


def overview_map(store: Store, viewer: Viewer, group_id: int, period: str, card: Scorecard, reg: Registry, *,
                 include_special: bool, measure: str) -> Map:
    """The members on a map coloured by `measure`'s level (the card's levels, the members' GIAS locations)."""
    return _map(store.generation, viewer.scope, int(group_id), period, bool(include_special), measure,
                reg.get(measure).label, store, card, reg)


def snapshot_of(store: Store) -> tuple[int, int]:
    """Which store, in which state, a page's run read: a fragment of that page compares it with the store now."""
    return id(store), store.generation


def page_is_current(seen: tuple[int, int]) -> bool:
    """False when a fragment rerunning on its own would draw from a store the page's last full run did not read (a
    new snapshot, or what people wrote since): the fragment then asks for the whole page instead."""
    return snapshot_of(get_store()) == seen
