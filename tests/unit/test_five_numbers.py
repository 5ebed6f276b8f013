"""metrics.numbers.five_numbers: np.quantile(x, [0, .25, .5, .75, 1]) (numpy's linear method) to the last bit, from
one sort, for the spread of every measure of a card (a card computes 46 of them: numpy's own costs ~60 µs each)."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.numbers import five_numbers

QS = [0, 0.25, 0.5, 0.75, 1]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 50, 99, 100, 101, 500, 1001])
def test_equal_to_numpy_bit_for_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    for draw in (rng.normal(50, 20, n), rng.integers(-5, 5, n).astype(float), np.round(rng.uniform(0, 100, n), 1),
                 rng.lognormal(0, 3, n), np.full(n, 7.25), rng.normal(0, 1e-300, n), rng.normal(1e300, 1e299, n)):
        want = [float(x) for x in np.quantile(draw, QS)]
        got = five_numbers(draw)
        assert [x.hex() for x in got] == [x.hex() for x in want], (n, draw[:5])


def test_hand_computed() -> None:
    # sorted 1 2 3 4: virtual indexes 0, 0.75, 1.5, 2.25, 3 -> 1, 1.75, 2.5, 3.25, 4
    assert five_numbers(np.array([4.0, 1.0, 3.0, 2.0])) == (1.0, 1.75, 2.5, 3.25, 4.0)
    assert five_numbers(np.array([9.5])) == (9.5,) * 5
    before = np.array([3.0, 1.0, 2.0])
    five_numbers(before)
    assert before.tolist() == [3.0, 1.0, 2.0]  # the caller's values are left as they were
