"""Issue 14 point 4: families by a k-d tree are exactly the brute force's (same neighbours, same order, ties alike)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from data.db.store import Store
from metrics.families import DEFAULT_FAMILY_SIZE, FAMILY_VARIABLES, nearest

VARIABLES = list(FAMILY_VARIABLES)


def _same(z: np.ndarray, weights: np.ndarray, k: int, groups: np.ndarray | None = None) -> None:
    """The k-d tree's families equal the brute force's: indices exactly, distances to rounding."""
    i_brute, d_brute = nearest(z, weights, k, groups=groups, brute=True)
    i_tree, d_tree = nearest(z, weights, k, groups=groups)
    assert np.array_equal(i_brute, i_tree)
    assert np.array_equal(np.isinf(d_brute), np.isinf(d_tree))
    finite = np.isfinite(d_brute)
    assert np.allclose(d_brute[finite], d_tree[finite], rtol=1e-9, atol=1e-7)


@pytest.mark.parametrize("n", [5, 31, 40, 700, 3000])
def test_kdtree_equals_brute_force_on_hard_cases(n: int) -> None:
    rng = np.random.default_rng(n)
    z = rng.normal(size=(n, len(VARIABLES)))
    z[rng.random(z.shape) < 0.1] = np.nan  # unknown values count as the average
    z[: n // 10] = np.nan  # schools with no context at all: identical points, ties everywhere
    z[n // 10: n // 5] = z[n // 5]  # a run of identical contexts elsewhere
    z[:, 3] = np.round(z[:, 3], 1)  # coarse values: exact ties in one variable
    weights = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    kinds = rng.choice(["mainstream", "selective", "special"], size=n, p=[0.85, 0.1, 0.05])
    _same(z, weights, DEFAULT_FAMILY_SIZE)
    _same(z, weights, DEFAULT_FAMILY_SIZE, kinds)
    _same(z, np.array([0.5, 2.0, 1.0, 0.0, 1.0, 1.0, 3.0, 1.0]), 50, kinds)  # other weights and sizes (adjusted)


def _stored_families(con: duckdb.DuckDBPyConnection, limit_periods: int | None = None) -> int:
    """Every year and phase's families formed again from the stored context (z and kind), by the k-d tree and by the
    brute force, equal each other and those the import stored; returns how many schools were compared. (The same
    check on the 24,000-school bench store: `bench/bench_families.py`.)"""
    ctx = con.execute("SELECT urn, phase, period, variable, z, kind FROM context_by_year").df()
    fam = con.execute("SELECT urn, period, rank, neighbour FROM family_by_year").df()
    periods = sorted(ctx["period"].unique())[-limit_periods:] if limit_periods else sorted(ctx["period"].unique())
    compared = 0
    for period in periods:
        for _phase, block in ctx[ctx["period"] == period].groupby("phase"):
            wide = block.pivot_table(index="urn", columns="variable", values="z", aggfunc="first")
            wide = wide.reindex(columns=VARIABLES)
            urns = wide.index.to_numpy()
            # a school with no context left no rows; the import put it in the block all the same
            z = wide.to_numpy(dtype=float)
            known = ~np.isnan(z).all(axis=0)
            weights = np.array([FAMILY_VARIABLES[v] for v in VARIABLES]) * known
            kinds = block.groupby("urn")["kind"].first().reindex(urns).to_numpy()
            idx, _ = nearest(z, weights, DEFAULT_FAMILY_SIZE, groups=kinds)
            assert np.array_equal(idx, nearest(z, weights, DEFAULT_FAMILY_SIZE, groups=kinds, brute=True)[0])
            got = pd.DataFrame([(u, r + 1, urns[j]) for i, u in enumerate(urns) for r, j in enumerate(idx[i])
                                if j >= 0], columns=["urn", "rank", "neighbour"])
            stored = fam[(fam["period"] == period) & fam["urn"].isin(urns)][["urn", "rank", "neighbour"]]
            if len(stored) != len(got):  # a block holding schools with no context rows: not reconstructible here
                continue
            left = got.sort_values(["urn", "rank"]).reset_index(drop=True)
            right = stored.sort_values(["urn", "rank"]).reset_index(drop=True).astype(left.dtypes.to_dict())
            pd.testing.assert_frame_equal(left, right)
            compared += len(urns)
    return compared


def test_kdtree_families_equal_those_the_demo_stored(demo_store: Store, tmp_path: Path) -> None:
    demo_store.close()  # the fixture's copy (conftest.demo_store), read here as a plain file
    with duckdb.connect(str(tmp_path / "demo_store.duckdb"), read_only=True) as con:
        assert _stored_families(con) > 500
