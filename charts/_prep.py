"""Tidying the DataFrames pages hand over, shared by a chart and its alt text so the two always agree."""

from __future__ import annotations

import numpy as np
import pandas as pd

from charts._common import finite, hours
from charts.palette import LEVEL_WORDS, as_level

GIVER_WORDS = "net giver"
TAKER_WORDS = "net taker"
BALANCED_WORDS = "balanced"


def grid_cells(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One row per (school, measure) with a clean `level` (1..5 or None), `row` (the school's label), and the
    row and column orders: both in order of first appearance, so the page decides the order.

    Two schools with the same name get their URN after it; a repeated (school, measure) keeps its first row."""
    if df is None or df.empty:
        return pd.DataFrame(columns=["row", "urn", "measure", "level", "level_label", "display"]), [], []
    cells = pd.DataFrame({
        "school": df["school"].astype(str).to_numpy(),
        "urn": df["urn"].to_numpy() if "urn" in df.columns else df["school"].astype(str).to_numpy(),
        "measure": df["measure"].astype(str).to_numpy(),
        "level": pd.Series([as_level(v) for v in df["level"]] if "level" in df.columns else [None] * len(df),
                           dtype=object),
        "level_label": list(df["level_label"]) if "level_label" in df.columns else [None] * len(df),
        "display": list(df["display"]) if "display" in df.columns else [None] * len(df),
    })
    cells["level_label"] = [lab if isinstance(lab, str) and lab else LEVEL_WORDS[lv]
                            for lab, lv in zip(cells["level_label"], cells["level"], strict=True)]
    cells["display"] = [d if isinstance(d, str) and d else "–" for d in cells["display"]]
    cells = cells.drop_duplicates(["urn", "measure"], keep="first").reset_index(drop=True)
    names_per_school = cells.drop_duplicates("urn").groupby("school")["urn"].transform("count")
    shared = set(cells.drop_duplicates("urn").loc[names_per_school > 1, "school"])
    cells["row"] = [f"{s} ({u})" if s in shared else s for s, u in zip(cells["school"], cells["urn"], strict=True)]
    rows = list(dict.fromkeys(cells["row"]))
    measures = list(dict.fromkeys(cells["measure"]))
    return cells, rows, measures


def _amount(v: object) -> float:
    x = finite(v)
    return x if x is not None and x > 0 else 0.0


def support_tables(edges: pd.DataFrame, nodes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes sorted by urn (name, given, received, total, balance, kind, words) and edges summed per
    (giver, taker), sorted, without self-support or empty links.

    A school named in an edge but missing from `nodes` is added as "School <urn>"; a node's given or received
    hours, when missing, are the sums of its edges."""
    e = pd.DataFrame(columns=["giver", "taker", "hours"]) if edges is None else edges
    e = pd.DataFrame({
        "giver": pd.to_numeric(e["giver"], errors="coerce"),
        "taker": pd.to_numeric(e["taker"], errors="coerce"),
        "hours": [_amount(h) for h in e["hours"]],
    }).dropna(subset=["giver", "taker"])
    e = e[(e["giver"] != e["taker"]) & (e["hours"] > 0)].astype({"giver": "int64", "taker": "int64"})
    e = (e.groupby(["giver", "taker"], as_index=False, sort=True)["hours"].sum()
         .sort_values(["giver", "taker"]).reset_index(drop=True))

    n = pd.DataFrame(columns=["urn", "name", "given", "received"]) if nodes is None else nodes
    names: dict[int, str] = {}
    given: dict[int, float | None] = {}
    received: dict[int, float | None] = {}
    for row in n.itertuples(index=False):
        urn = finite(getattr(row, "urn", None))
        if urn is None or int(urn) in names:
            continue
        u = int(urn)
        name = getattr(row, "name", None)
        names[u] = str(name) if isinstance(name, str) and name else f"School {u}"
        given[u] = finite(getattr(row, "given", None))
        received[u] = finite(getattr(row, "received", None))
    for u in pd.concat([e["giver"], e["taker"]]).tolist():
        names.setdefault(int(u), f"School {int(u)}")
    gave_edges = e.groupby("giver")["hours"].sum().to_dict()
    took_edges = e.groupby("taker")["hours"].sum().to_dict()
    urns = sorted(names)
    g = [given.get(u) if given.get(u) is not None else float(gave_edges.get(u, 0.0)) for u in urns]
    r = [received.get(u) if received.get(u) is not None else float(took_edges.get(u, 0.0)) for u in urns]
    out = pd.DataFrame({"urn": urns, "name": [names[u] for u in urns], "given": g, "received": r},
                       columns=["urn", "name", "given", "received"])
    out["given"] = out["given"].astype(float)
    out["received"] = out["received"].astype(float)
    out["total"] = out["given"] + out["received"]
    out["balance"] = out["given"] - out["received"]
    # a hair's tolerance so that float noise from summing hours never turns a balanced school into a giver
    out["kind"] = np.select([out["balance"] > 1e-6, out["balance"] < -1e-6], [GIVER_WORDS, TAKER_WORDS],
                            default=BALANCED_WORDS).astype(object) if len(out) else pd.Series(dtype=object)
    out["words"] = [f"{k}: gave {hours(a)}, received {hours(b)}"
                    for k, a, b in zip(out["kind"], out["given"], out["received"], strict=True)]
    return out.reset_index(drop=True), e
