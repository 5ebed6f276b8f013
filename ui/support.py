"""The Support page's reads and figures, cached per store state and viewer (the reads inside are scoped by the
viewer): reruns of the page, such as choosing another school for partners or switching tabs, then redraw without
reading or building anything again.

The caches are the process's (ui.shared), shared by its sessions and never copied on a hit: what they hold
is never changed (a figure is drawn as it is; st.plotly_chart copies it), and a caller gets a fresh shell around what
it could change (shallow DataFrame copies, copy-on-write; a new list)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa

from charts.alt import network_alt
from charts.network import support_matrix, support_network
from data.db.store import Store
from data.services import scope
from data.services.access import Viewer
from data.services.support_log import network_frames, support_balance, support_records
from metrics.registry import Registry
from metrics.support import Partner
from ui.shared import shared
from ui.tables import arrow_table

Ledger = tuple[pd.DataFrame, pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame]]


@shared(max_entries=32)
def _ledger(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str) -> Ledger:
    records = support_records(_store, viewer, group_id, period)
    balance = support_balance(_store, viewer, group_id, period)
    return records, balance, network_frames(records, balance)


def support_ledger(store: Store, viewer: Viewer, group_id: int, period: str) -> Ledger:
    """The year's records and balances, and the network's edges and nodes."""
    records, balance, (edges, nodes) = _ledger(store, store.generation, viewer.scope, group_id, period)
    return records.copy(deep=False), balance.copy(deep=False), (edges.copy(deep=False), nodes.copy(deep=False))


@shared(max_entries=32)
def _alt(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str) -> str:
    edges, nodes = _ledger(_store, generation, viewer, group_id, period)[2]
    return network_alt(nodes, edges)


def support_alt(store: Store, viewer: Viewer, group_id: int, period: str) -> str:
    """The network in words (charts.alt.network_alt of the ledger's nodes and edges), made once per ledger."""
    return _alt(store, store.generation, viewer.scope, group_id, period)


@shared(max_entries=32)
def _tables(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str,
            _reg: Registry) -> tuple[pa.Table, pa.Table]:
    records, balance, _network = _ledger(_store, generation, viewer, group_id, period)
    listed = pd.DataFrame({
        "From": records["giver"], "To": records["taker"], "Type": records["kind_label"],
        "Measure": [_reg.get(m).label if isinstance(m, str) and m in _reg else "–" for m in records["measure"]],
        "Start": records["start_date"], "End": records["end_date"], "Hours": records["hours"],
        "Notes": records["notes"], "Recorded by": records["recorded_by"],
    })
    balances = pd.DataFrame({
        "School": balance["name"], "Hours given": balance["given"], "Hours received": balance["received"],
        "Balance (given minus received)": balance["balance"], "In words": balance["position"],
    })
    return arrow_table(listed), arrow_table(balances)


def ledger_tables(store: Store, viewer: Viewer, group_id: int, period: str, reg: Registry,
                  ) -> tuple[pa.Table, pa.Table]:
    """The records and each school's balance as the page's tables show them, as st.dataframe sends them (ui.tables),
    made once per ledger; `reg` is the group's registry (ui.context.registry for this viewer and group)."""
    return _tables(store, store.generation, viewer.scope, group_id, period, reg)


@shared(max_entries=32)
def _figure(kind: str, _store: Store, generation: int, viewer: Viewer, group_id: int, period: str) -> go.Figure:
    edges, nodes = _ledger(_store, generation, viewer, group_id, period)[2]
    return support_network(edges, nodes) if kind == "network" else support_matrix(edges, nodes)


def support_figure(kind: str, store: Store, viewer: Viewer, group_id: int, period: str) -> go.Figure:
    """The network ("network") or the matrix figure, built only when its tab is open (about 35 ms each)."""
    return _figure(kind, store, store.generation, viewer.scope, group_id, period)


@shared(max_entries=64)  # Partner is frozen
def _partners(_store: Store, generation: int, viewer: Viewer, urn: int, measure: str, period: str,
              max_km: float | None, pupil_group: str | None) -> list[Partner]:
    return scope.partners(_store, viewer, urn, measure, period, max_km=max_km, pupil_group=pupil_group)


def support_partners(store: Store, viewer: Viewer, urn: int, measure: str, period: str,
                     max_km: float | None, pupil_group: str | None = None) -> list[Partner]:
    """Suggested partners within max_km (None: anywhere); with a pupil group, strong for that group's pupils."""
    return list(_partners(store, store.generation, viewer.scope, urn, measure, period, max_km, pupil_group))


@shared(max_entries=64)
def _group_measures(_store: Store, generation: int, viewer: Viewer, urn: int, period: str,
                    pupil_group: str) -> list[str]:
    return scope.pupil_group_partner_measures(_store, viewer, urn, period, pupil_group)


def pupil_group_measures(store: Store, viewer: Viewer, urn: int, period: str, pupil_group: str) -> list[str]:
    """The measures the school has the pupil group's value of in the year: what partners can be looked for on."""
    return list(_group_measures(store, store.generation, viewer.scope, urn, period, pupil_group))
