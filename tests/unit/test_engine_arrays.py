"""The engine's array forms give what the one-at-a-time rules give (issue 14 point 1): the group's national mix
(`mix_comparator` against metrics.comparators.group_comparator, to the last bit) and the codes' kinds (`_kinds_of`
against np.unique)."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.comparators import group_comparator
from metrics.registry import load_registry
from metrics.scorecard import _kinds_of, mix_comparator

REG = load_registry()
PERIOD = "2024/25"
KINDS = [None, "primary", "secondary", "special", "alternative", "all-through", "middle"]


def _bench(rng: np.random.Generator, measure_id: str) -> dict[tuple[str, str, str], float]:
    """National values for some scopes only (so that some members have none of their kind)."""
    scopes = ["primary", "secondary", "special", "alternative", "state_funded", "all"]
    return {(measure_id, PERIOD, s): float(rng.uniform(0, 100)) for s in scopes if rng.random() < 0.7}


@pytest.mark.parametrize("seed", range(40))
def test_the_mix_is_group_comparators(seed: int) -> None:
    rng = np.random.default_rng(seed)
    measure = REG.measures[seed % len(REG.measures)]
    bench = _bench(rng, measure.id)
    n = int(rng.integers(0, 60))
    kind = rng.integers(0, len(KINDS), n)
    weight = rng.uniform(1, 300, n) * rng.choice([1.0, 1.0, 1.0 / 3], n)  # not whole numbers: order matters
    if seed % 5 == 0 and n:
        weight[rng.integers(0, n)] = np.nan  # a member with no pupil numbers: by number of schools
    want = group_comparator(bench, measure, PERIOD, [(KINDS[k], float(w)) for k, w in zip(kind, weight,
                                                                                           strict=True)])
    assert mix_comparator(bench, measure, PERIOD, KINDS, kind, weight) == want


@pytest.mark.parametrize("seed", range(20))
def test_kinds_of_is_unique_with_its_inverse(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(-1, [5, 300, 10**9][seed % 3], int(rng.integers(0, 800)))
    found, back = _kinds_of(keys)
    want, want_back = np.unique(keys, return_inverse=True)
    assert found.tolist() == want.tolist() and back.tolist() == want_back.reshape(-1).tolist()
