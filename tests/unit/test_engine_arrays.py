"""The engine's array forms give what the one-at-a-time rules give (issue 14 point 1): the group's national mix
(`mix_comparator` against metrics.comparators.group_comparator, to the last bit) and the codes' kinds (`_kinds_of`
against np.unique), and a card's member cells and grid, kept as arrays, read as the tuples and dict they stand for."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from metrics.comparators import group_comparator
from metrics.registry import load_registry
from metrics.scorecard import MemberCells, MemberGrid, _kinds_of, cells_of, mix_comparator

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


def test_member_cells_read_as_their_tuples_and_are_made_only_when_read() -> None:
    urns = np.array([100003, 100001, 100002])
    values = np.array([41.25, np.nan, np.inf])  # a missing value and a non-finite one both read as None
    statuses = np.array(["ok", "missing", "ok"], dtype=object)
    cells = MemberCells(urns, values, statuses)
    want = ((100003, 41.25, "ok"), (100001, None, "missing"), (100002, None, "ok"))
    assert cells._items is None and cells.any_value() and len(cells) == 3  # asked from the arrays: nothing made
    got_urns, got_values = cells_of(cells)
    assert got_urns.tolist() == [100003, 100001, 100002] and np.isnan(got_values[1])
    assert cells._items is None
    assert cells == want and want == cells and list(cells) == list(want) and cells[1] == want[1]
    assert cells[-2:] == want[-2:] and hash(cells) == hash(want) and repr(cells) == repr(want)
    assert type(cells[0][0]) is int and type(cells[0][1]) is float  # Python numbers, as the tuples held
    assert cells != ((100003, 41.25, "ok"),) and (cells == "x") is False
    for back in (pickle.loads(pickle.dumps(cells)), copy.deepcopy(cells)):
        assert isinstance(back, MemberCells) and back == want
    nationals = MemberCells(urns, np.array([46.0, 46.0, np.nan]))
    assert nationals == ((100003, 46.0), (100001, 46.0), (100002, None))
    assert cells_of(((5, None, "ok"), (6, 2.5, "ok")))[1].tolist()[1] == 2.5  # plain tuples too
    assert not MemberCells(np.array([], dtype=np.int64), np.array([])).any_value()


def test_a_member_grid_reads_as_its_dict() -> None:
    urns = (100001, 100002)
    positions = {100001: 0, 100002: 1}
    levels = MemberGrid(urns, positions, {"attainment8": np.array([4, 0]), "progress8": np.array([0, 2])}, True)
    want = {(100001, "attainment8"): 4, (100002, "attainment8"): None,
            (100001, "progress8"): None, (100002, "progress8"): 2}
    assert dict(levels) == want and levels == want and want == levels and list(levels) == list(want)
    assert levels.get((100002, "progress8")) == 2 and levels.get((100002, "nope")) is None
    assert levels.get((999, "progress8")) is None and levels.get("junk") is None and len(levels) == 4
    assert type(levels[(100001, "attainment8")]) is int and repr(levels) == repr(want)
    words = MemberGrid(urns, positions, {"attainment8": np.array(["Good", "Steady"], dtype=object)}, False)
    assert dict(words) == {(100001, "attainment8"): "Good", (100002, "attainment8"): "Steady"}
    for back in (pickle.loads(pickle.dumps(levels)), copy.deepcopy(levels)):
        assert back == want
