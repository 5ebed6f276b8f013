"""Families of similar schools and context-adjusted expectations, on toy sets computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.families import family_stats, fit_expectation, haversine_km, nearest, standardise


def test_standardise_gives_z_scores_and_keeps_unknowns():
    s = standardise(np.array([[1.0, 10.0], [3.0, np.nan], [5.0, 30.0]]))
    assert s.means.tolist() == [3.0, 20.0]
    assert s.z[:, 0].tolist() == pytest.approx([-1.224745, 0.0, 1.224745], rel=1e-5)  # sd of 1,3,5 = 1.633
    assert np.isnan(s.z[1, 1])


def test_family_on_a_toy_set():
    # five schools on one standardised variable: 0, 1, 1.5, 5, 9
    z = np.array([[0.0], [1.0], [1.5], [5.0], [9.0]])
    idx, dist = nearest(z, np.array([1.0]), k=2)
    assert idx.tolist() == [[1, 2], [2, 0], [1, 0], [2, 1], [3, 2]]
    assert dist.ravel().tolist() == pytest.approx([1.0, 1.5, 0.5, 1.0, 0.5, 1.5, 3.5, 4.0, 4.0, 7.5])


def test_weights_change_the_family():
    # school 0 is near school 1 on variable A, near school 2 on variable B
    z = np.array([[0.0, 0.0], [0.1, 3.0], [3.0, 0.1]])
    assert nearest(z, np.array([1.0, 1.0]), k=1)[0][0, 0] == 1  # tie broken by the smaller sum of squares...
    assert nearest(z, np.array([10.0, 1.0]), k=1)[0][0, 0] == 1  # A weighs more: school 1 (close on A)
    assert nearest(z, np.array([1.0, 10.0]), k=1)[0][0, 0] == 2  # B weighs more: school 2


def test_small_phase_pads_the_family():
    idx, dist = nearest(np.array([[0.0], [1.0]]), np.array([1.0]), k=3)
    assert idx.tolist() == [[1, -1, -1], [0, -1, -1]]
    assert np.isinf(dist[0, 1])


def test_family_median_and_rank_follow_polarity():
    values = np.array([50.0, 60.0, 70.0, np.nan])
    family = np.array([[1, 2], [0, 2], [0, 1], [0, 1]])
    med, rank, size = family_stats(values, family, higher_better=True)
    assert med.tolist() == [65.0, 60.0, 55.0, 55.0]
    assert rank[:3].tolist() == [3, 2, 1] and np.isnan(rank[3])
    assert size.tolist() == [2, 2, 2, 2]
    _, rank_low, _ = family_stats(values, family, higher_better=False)  # e.g. absence: lowest is best
    assert rank_low[:3].tolist() == [1, 2, 3]


def test_expectation_recovers_a_known_line():
    x = np.linspace(-2, 2, 40)[:, None]
    y = 10 + 3 * x[:, 0]
    fit = fit_expectation(x, y)
    assert fit.coefficients.tolist() == pytest.approx([10.0, 3.0])
    assert fit.r2 == pytest.approx(1.0)
    assert fit_expectation(x[:10], y[:10]) is None  # too few schools to fit


def test_haversine_london_to_york():
    assert haversine_km(51.5074, -0.1278, np.array([53.9590]), np.array([-1.0815]))[0] == pytest.approx(281, abs=2)
