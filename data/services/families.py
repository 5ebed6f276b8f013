"""A school's family of similar schools with the user's own variables, weights and size.

The default family (DfE's variables at equal weights, 30 schools of the same phase and kind) is precomputed at
import (``data.ingest.derived``); this reads the standardised context stored then and finds a custom family in one pass
(docs/benchmarks.md, "Adjusted families").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store
from metrics.families import DEFAULT_FAMILY_SIZE, FAMILY_VARIABLES, nearest_to, similarity


def family(store: Store, urn: int, *, weights: Mapping[str, float] | None = None,
           size: int = DEFAULT_FAMILY_SIZE, period: str | None = None, same_kind: bool = True) -> pd.DataFrame:
    """The school's `size` most similar same-phase schools on the weighted context variables (a weight of 0
    leaves a variable out); of its own kind (`same_kind`: no grammar, middle, UTC or studio school for a
    comprehensive) unless asked for every kind of the phase. Columns: rank, urn, name, distance, similarity, kind,
    then each variable's value. attrs: the school's phase and kind, and the variables that counted.

    `period`: that year's neighbours, on that year's context (context_by_year: the year's own values, or the nearest
    earlier year's); None: the store's latest year (school_context)."""
    weights = dict(FAMILY_VARIABLES if weights is None else weights)
    unknown = sorted(set(weights) - set(FAMILY_VARIABLES))
    if unknown:
        raise StoreError(f"unknown family variable(s) {', '.join(unknown)}; use {', '.join(FAMILY_VARIABLES)}")
    if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
        raise StoreError("family weights must be 0 or more, and at least one above 0")
    if not 1 <= size <= 200:
        raise StoreError(f"a family has 1 to 200 schools, not {size}")
    return _family(store, urn, weights, size, period, same_kind)


def similar_intakes(store: Store, urn: int, period: str | None = None) -> pd.DataFrame:
    """Every school of the school's phase and kind with its similarity to it on the default variables and weights
    (the partner suggestions' pool): columns urn, similarity. Empty when the school has no context."""
    try:
        out = _family(store, urn, dict(FAMILY_VARIABLES), 10**9, period, True)
    except StoreError:
        return pd.DataFrame({"urn": pd.Series(dtype="int64"), "similarity": pd.Series(dtype="float64")})
    return out[["urn", "similarity"]]


def _family(store: Store, urn: int, weights: dict[str, float], size: int, period: str | None,
            same_kind: bool) -> pd.DataFrame:
    """family() without the checks of what a person asked for."""
    # the school's phase and the phase's context in one read (each is a scan of a table of every school)
    if period is None:
        ctx = store.query_df("SELECT urn, variable, value, z, kind, phase FROM school_context WHERE phase = "
                             "(SELECT any_value(phase) FROM school_context WHERE urn = ?)", [urn])
    else:
        ctx = store.query_df("SELECT urn, variable, value, z, kind, phase FROM context_by_year WHERE period = ? "
                             "AND phase = (SELECT any_value(phase) FROM context_by_year WHERE urn = ? AND period = ?)",
                             [period, urn, period])
    if ctx.empty:
        year = "" if period is None else f" in {period}"
        raise StoreError(f"no context (pupils, FSM, EAL, SEN) is known for URN {urn}{year}, so it has no family")
    phase = str(ctx["phase"].iat[0])
    # one row per school and variable -> schools x variables, by position (a pivot_table was most of the time)
    variables = list(FAMILY_VARIABLES)
    col = ctx["variable"].map({v: i for i, v in enumerate(variables)})
    ctx = ctx[col.notna()]
    col = col[col.notna()].to_numpy(dtype=np.int64)
    urns, row = np.unique(ctx["urn"].to_numpy(), return_inverse=True)
    z = np.full((len(urns), len(variables)), np.nan)
    raw = np.full((len(urns), len(variables)), np.nan)
    z[row, col] = ctx["z"].to_numpy(dtype=float)
    raw[row, col] = ctx["value"].to_numpy(dtype=float)
    kinds = np.full(len(urns), "other", dtype=object)
    kinds[row] = ctx["kind"].fillna("other").to_numpy()
    # a variable no school of the phase has (prior attainment for primaries) cannot count, nor weigh in the score
    known = ~np.isnan(z).all(axis=0)
    w = np.array([float(weights.get(v, 0.0)) for v in variables]) * known
    if not (w > 0).any():
        raise StoreError("none of the chosen context measures is known for schools of this phase: choose another")
    me = int(np.flatnonzero(urns == urn)[0])
    idx, dist = nearest_to(z, me, w, size, allowed=(kinds == kinds[me]) if same_kind else None)
    names = dict(store.query("SELECT urn, name FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                             [urns[idx].tolist()]))
    out = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "urn": urns[idx],
                        "name": [names.get(int(u)) for u in urns[idx]], "distance": dist,
                        "similarity": similarity(dist, w), "kind": kinds[idx]})
    for i, (v, counted) in enumerate(zip(variables, w > 0, strict=True)):
        if counted:
            out[v] = raw[idx, i]
    out.attrs = {"phase": phase, "kind": str(kinds[me]), "variables": [v for v, c in zip(FAMILY_VARIABLES, w > 0,
                                                                                        strict=True) if c]}
    return out

