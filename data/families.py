"""A school's family of similar schools with the user's own variables, weights and size.

The default family (equal weights, 30 schools) is precomputed at import (``data.derived``); this
reads the standardised context stored then and finds a custom family in one pass (~10 ms).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from data.store import Store, StoreError
from metrics.families import DEFAULT_FAMILY_SIZE, FAMILY_VARIABLES, nearest_to


def family(store: Store, urn: int, *, weights: Mapping[str, float] | None = None,
           size: int = DEFAULT_FAMILY_SIZE, period: str | None = None) -> pd.DataFrame:
    """The school's `size` most similar same-phase schools on the weighted context variables (a weight of 0
    leaves a variable out). Columns: rank, urn, name, distance, then each variable's value.

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
    if period is None:
        phase = store.query("SELECT any_value(phase) FROM school_context WHERE urn = ?", [urn])[0][0]
    else:
        phase = store.query("SELECT any_value(phase) FROM context_by_year WHERE urn = ? AND period = ?",
                            [urn, period])[0][0]
    if phase is None:
        year = "" if period is None else f" in {period}"
        raise StoreError(f"no context (pupils, FSM, EAL, SEN) is known for URN {urn}{year}, so it has no family")
    if period is None:
        ctx = store.query_df("SELECT urn, variable, value, z FROM school_context WHERE phase = ?", [phase])
    else:
        ctx = store.query_df("SELECT urn, variable, value, z FROM context_by_year WHERE phase = ? AND period = ?",
                             [phase, period])
    z = ctx.pivot_table(index="urn", columns="variable", values="z", aggfunc="first").reindex(
        columns=list(FAMILY_VARIABLES))
    raw = ctx.pivot_table(index="urn", columns="variable", values="value", aggfunc="first").reindex(
        columns=list(FAMILY_VARIABLES))
    w = np.array([float(weights.get(v, 0.0)) for v in FAMILY_VARIABLES])
    urns = z.index.to_numpy()
    me = int(np.flatnonzero(urns == urn)[0])
    idx, dist = nearest_to(z.to_numpy(dtype=float), me, w, size)
    names = dict(store.query("SELECT urn, name FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                             [urns[idx].tolist()]))
    out = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "urn": urns[idx],
                        "name": [names.get(int(u)) for u in urns[idx]], "distance": dist})
    for v in FAMILY_VARIABLES:
        if weights.get(v, 0) > 0:
            out[v] = raw[v].to_numpy()[idx]
    return out
