"""Families of similar schools, and context-adjusted expectations. Pure numerics (numpy).

A school's family is its N nearest schools of the same phase on standardised context
(weighted Euclidean distance between z-scores). The expectation for a measure is a national
least-squares regression of the measure on the same context.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

# Context variables (measure ids) and their default weights in the family distance.
FAMILY_VARIABLES: dict[str, float] = {
    "disadvantaged_pct": 1.0,
    "eal_pct": 1.0,
    "sen_pct": 1.0,
    "pupils": 1.0,
    "ks4_prior_attainment": 1.0,
}
DEFAULT_FAMILY_SIZE = 30


@dataclass(frozen=True)
class Standardised:
    z: np.ndarray  # schools x variables, NaN where unknown
    means: np.ndarray
    sds: np.ndarray


def standardise(x: np.ndarray) -> Standardised:
    """z-scores per column, ignoring NaN. A constant or empty column gets mean 0 and sd 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column has no mean: handled below
        means = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
        sds = np.nanstd(x, axis=0) if len(x) else np.ones(x.shape[1])
    means = np.where(np.isnan(means), 0.0, means)
    sds = np.where((sds == 0) | np.isnan(sds), 1.0, sds)
    return Standardised((x - means) / sds, means, sds)


def nearest(z: np.ndarray, weights: np.ndarray, k: int, *, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the k nearest other rows: (indices, distances), each rows x k, nearest first.

    Unknown values (NaN) count as the phase average (z = 0). Rows with fewer than k others get -1 / inf padding.
    """
    n = len(z)
    k_eff = min(k, max(n - 1, 0))
    idx = np.full((n, k), -1, dtype=np.int64)
    dist = np.full((n, k), np.inf)
    if k_eff == 0:
        return idx, dist
    zf = np.where(np.isnan(z), 0.0, z) * np.sqrt(weights)
    sq = (zf**2).sum(axis=1)
    for start in range(0, n, chunk):
        block = zf[start:start + chunk]
        # squared distances by |a|^2 + |b|^2 - 2ab: one matrix product per chunk
        d2 = sq[start:start + chunk, None] + sq[None, :] - 2.0 * block @ zf.T
        np.maximum(d2, 0.0, out=d2)
        rows = np.arange(len(block))
        d2[rows, start + rows] = np.inf  # a school is not its own neighbour
        part = np.argpartition(d2, k_eff - 1, axis=1)[:, :k_eff]
        pd2 = np.take_along_axis(d2, part, axis=1)
        order = np.lexsort((part, pd2), axis=1)  # by distance, ties by index: deterministic
        idx[start:start + chunk, :k_eff] = np.take_along_axis(part, order, axis=1)
        dist[start:start + chunk, :k_eff] = np.sqrt(np.take_along_axis(pd2, order, axis=1))
    return idx, dist


def nearest_to(z: np.ndarray, row: int, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k rows nearest to one row (not itself), nearest first: (indices, distances). Same distance as
    `nearest`: weighted Euclidean on z-scores, unknown values as the average (z = 0)."""
    zf = np.where(np.isnan(z), 0.0, z)
    d = np.sqrt(((zf - zf[row]) ** 2 * weights).sum(axis=1))
    d[row] = np.inf
    k = min(k, len(z) - 1)
    order = np.lexsort((np.arange(len(d)), d))[:k]  # by distance, ties by position: deterministic
    return order, d[order]


def family_stats(values: np.ndarray, family: np.ndarray, higher_better: bool) -> tuple[np.ndarray, ...]:
    """Per school: (median of its family's values, its rank within family + itself, how many had values).

    Rank 1 is best by the measure's polarity; NaN values are ignored; a school without a value gets no rank.
    """
    vals = np.where(family >= 0, values[np.clip(family, 0, None)], np.nan)
    size = np.sum(~np.isnan(vals), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a family with no values has no median: NaN
        median = np.nanmedian(vals, axis=1) if len(vals) else np.zeros(0)
    better = vals > values[:, None] if higher_better else vals < values[:, None]
    rank = np.where(np.isnan(values), np.nan, 1 + np.sum(better, axis=1))
    return median, rank, size


@dataclass(frozen=True)
class Fit:
    coefficients: np.ndarray  # intercept first
    fitted: np.ndarray
    r2: float
    residual_sd: float
    n: int


def fit_expectation(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> Fit | None:
    """Weighted least squares of y on [1, x]; rows with any NaN are left out of the fit.

    Returns fitted values for every row whose x is complete (NaN otherwise), or None when there are
    too few schools to fit (fewer than 20, or fewer than 5 per coefficient).
    """
    design = np.column_stack([np.ones(len(x)), x])
    complete_x = ~np.isnan(design).any(axis=1)
    use = complete_x & ~np.isnan(y)
    if w is not None:
        use &= ~np.isnan(w) & (w > 0)
    n = int(use.sum())
    if n < max(20, 5 * design.shape[1]):
        return None
    sw = np.sqrt(w[use]) if w is not None else np.ones(n)
    coef, *_ = np.linalg.lstsq(design[use] * sw[:, None], y[use] * sw, rcond=None)
    fitted = np.where(complete_x, design @ coef, np.nan)
    resid = y[use] - fitted[use]
    ss_res = float(np.sum(resid**2))
    ss_tot = float(np.sum((y[use] - y[use].mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
    return Fit(coef, fitted, r2, float(np.sqrt(ss_res / max(n - design.shape[1], 1))), n)


def haversine_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km from one point to many."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0088 * 2 * np.arcsin(np.sqrt(a))
