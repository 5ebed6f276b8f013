"""Families of similar schools, and context-adjusted expectations. Pure numerics (numpy).

A school's family is its N nearest schools of the same phase and kind (a comprehensive is not compared with
a grammar, middle, UTC or studio school unless asked) on standardised context (weighted Euclidean distance
between z-scores). The variables are those of DfE's own similar-schools model that our files carry. The
expectation for a measure is a national least-squares regression of the measure on the same context.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from metrics.comparators import comparable_for_level

# Context variables (measure ids) and their default weights in the family distance. The ones on by default are
# DfE's similar-schools variables that our files carry (DFE-Digital/sap-sector, SimilarSchools*ValuesEntry:
# PPPerc, PercentEAL, PercentSchSupport, PercentageStatementOrEHP, NumberOfPupils, KS2 prior attainment for
# secondaries); DfE weighs them equally once standardised. FSM now and all SEN overlap those, so they are offered
# but off. DfE's pupil stability, POLAR4 and IDACI are in no file Jointly imports.
FAMILY_VARIABLES: dict[str, float] = {
    "disadvantaged_pct": 1.0,
    "eal_pct": 1.0,
    "sen_support_pct": 1.0,
    "ehcp_pct": 1.0,
    "pupils": 1.0,
    "ks4_prior_attainment": 1.0,
    "fsm_pct": 0.0,
    "sen_pct": 0.0,
}
DEFAULT_WEIGHTS = FAMILY_VARIABLES
DEFAULT_FAMILY_SIZE = 30

# Kinds of school within a phase: a family holds one kind unless the user asks for all kinds of the phase.
KIND_LABELS: dict[str, str] = {
    "mainstream": "mainstream (non-selective) school",
    "selective": "selective (grammar) school",
    "middle": "middle school",
    "utc": "university technical college",
    "studio": "studio school",
    "special": "special school",
    "alternative": "alternative provision (including pupil referral units)",
    "nursery": "nursery school",
    "post16": "16 to 19 provider",
    "other": "other kind of school",
}


def school_kind(phase: str | None, type_name: str | None, admissions_policy: str | None,
                age_low: int | None, age_high: int | None) -> str:
    """The kind of school from GIAS's words: special, AP, UTC, studio, selective, middle or mainstream. Special and
    alternative provision are decided as levels decide them (metrics.comparators.comparable_for_level: by GIAS type
    too, so a pupil referral unit whose row gives a mainstream phase is never a mainstream school's partner)."""
    own = comparable_for_level(phase, type_name)
    if own in ("special", "alternative"):
        return str(own)
    if phase in ("nursery", "post16"):
        return str(phase)
    words = (type_name or "").lower()
    if "university technical college" in words:
        return "utc"
    if "studio school" in words:
        return "studio"
    if (admissions_policy or "").strip().lower().startswith("selective"):
        return "selective"
    # GIAS's middle schools (deemed primary or secondary) start at 7 to 10 and end at 12 to 14
    if age_low is not None and age_high is not None and age_low == age_low and age_high == age_high \
            and 7 <= age_low <= 10 and 12 <= age_high <= 14:
        return "middle"
    return "mainstream" if phase in ("primary", "secondary", "all_through") else "other"


def similarity(distance: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Similarity score 1 / (1 + typical gap), the gap being the distance over the root of the weights' sum: the
    root-mean-square difference in standard deviations. 1 = identical context; NaN where there is no school."""
    total = float(np.sum(weights))
    d = np.asarray(distance, dtype=float)
    with np.errstate(invalid="ignore"):
        score = 1.0 / (1.0 + d / np.sqrt(total)) if total > 0 else np.full(d.shape, np.nan)
    return np.where(np.isfinite(d), score, np.nan)


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


def nearest(z: np.ndarray, weights: np.ndarray, k: int, *, chunk: int = 512,
            groups: np.ndarray | None = None, brute: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the k nearest other rows: (indices, distances), each rows x k, nearest first.

    Unknown values (NaN) count as the phase average (z = 0). Rows with fewer than k others get -1 / inf padding.
    `groups` (one label per row): each row's neighbours come from rows with its own label only (its kind).
    A k-d tree finds each row's candidates; `brute` compares every pair instead (the same families: the reference).
    """
    if groups is not None:
        idx = np.full((len(z), k), -1, dtype=np.int64)
        dist = np.full((len(z), k), np.inf)
        for label in np.unique(groups):
            rows = np.flatnonzero(groups == label)
            sub_idx, sub_dist = nearest(z[rows], weights, k, chunk=chunk, brute=brute)
            idx[rows] = np.where(sub_idx >= 0, rows[np.clip(sub_idx, 0, None)], -1)
            dist[rows] = sub_dist
        return idx, dist
    n = len(z)
    k_eff = min(k, max(n - 1, 0))
    idx = np.full((n, k), -1, dtype=np.int64)
    dist = np.full((n, k), np.inf)
    if k_eff == 0:
        return idx, dist
    zf = np.where(np.isnan(z), 0.0, z) * np.sqrt(weights)
    sq = (zf**2).sum(axis=1)
    if brute or n <= k_eff + 1 + _SPARE:
        _brute_rows(zf, sq, k_eff, chunk, np.arange(n), idx, dist)
    else:
        _kdtree_rows(zf, sq, k_eff, chunk, idx, dist)
    return idx, dist


# Candidates a k-d tree returns beyond the k nearest: room to see that the k-th is not tied with the next.
_SPARE = 8


def _brute_rows(zf: np.ndarray, sq: np.ndarray, k_eff: int, chunk: int, wanted: np.ndarray, idx: np.ndarray,
                dist: np.ndarray) -> None:
    """Every pair's distance for the `wanted` rows; fills those rows of idx and dist. The matrix product is taken
    chunk by chunk as always (its rounding is the same whichever rows are then used), each row on its own after."""
    for start in np.unique((wanted // chunk) * chunk):
        start = int(start)
        take = wanted[(wanted >= start) & (wanted < start + chunk)]
        at = take - start
        # squared distances by |a|^2 + |b|^2 - 2ab: one matrix product per chunk
        d2 = sq[take, None] + sq[None, :] - 2.0 * (zf[start:start + chunk] @ zf.T)[at]
        np.maximum(d2, 0.0, out=d2)
        d2[np.arange(len(take)), take] = np.inf  # a school is not its own neighbour
        part = np.argpartition(d2, k_eff - 1, axis=1)[:, :k_eff]
        pd2 = np.take_along_axis(d2, part, axis=1)
        order = np.lexsort((part, pd2), axis=1)  # by distance, ties by index: deterministic
        idx[take, :k_eff] = np.take_along_axis(part, order, axis=1)
        dist[take, :k_eff] = np.sqrt(np.take_along_axis(pd2, order, axis=1))


def _kdtree_rows(zf: np.ndarray, sq: np.ndarray, k_eff: int, chunk: int, idx: np.ndarray, dist: np.ndarray) -> None:
    """Each row's k nearest by a k-d tree (scipy.spatial.cKDTree), giving the families the brute force gives.

    The tree proposes k + 1 + _SPARE candidates; their distances are then computed as the brute force computes them
    and ordered the same way (distance, then index). A row is settled only when nothing is within rounding of its
    k-th distance (the next candidate, the farthest candidate, any two of its family): a near-tie there could
    fall either way, so such rows (duplicated contexts, mostly) are computed by the brute force itself."""
    from scipy.spatial import cKDTree  # lazily: the app's pages never form families, so its startup stays lean

    n = len(zf)
    q = k_eff + 1 + _SPARE
    used = zf[:, (zf != 0).any(axis=0)]  # a column of zeros (weight 0, or nobody known) only slows the tree
    _, cand = cKDTree(used).query(used, k=q)
    cand = cand.astype(np.int64)
    d2 = sq[:, None] + sq[cand] - 2.0 * np.einsum("nd,nqd->nq", zf, zf[cand])
    np.maximum(d2, 0.0, out=d2)
    d2[cand == np.arange(n)[:, None]] = np.inf  # itself
    order = np.lexsort((cand, d2), axis=1)
    cand = np.take_along_axis(cand, order, axis=1)
    d2 = np.take_along_axis(d2, order, axis=1)
    # rounding of |a|^2 + |b|^2 - 2ab is far below this; true gaps this small are ties to be settled by brute force
    tol = 1e-9 * (1.0 + sq + sq.max())
    kth = d2[:, k_eff - 1]
    # the next candidate (the k+1-th other row; the last column when the row itself was not among its candidates)
    nxt = d2[:, k_eff]
    farthest = np.where(np.isinf(d2[:, -1]), d2[:, -2], d2[:, -1])
    # within the family, two rows of one context are tied exactly here and in the brute force (same numbers in, same
    # out), ordered by index in both; any other gap within rounding is settled by the brute force
    gaps = np.diff(d2[:, :k_eff], axis=1)
    twins = (gaps == 0) & (zf[cand[:, 1:k_eff]] == zf[cand[:, :k_eff - 1]]).all(axis=2)
    settled = (nxt - kth > tol) & (farthest - kth > tol) & ((gaps > tol[:, None]) | twins).all(axis=1)
    idx[:, :k_eff] = cand[:, :k_eff]
    dist[:, :k_eff] = np.sqrt(d2[:, :k_eff])
    unsettled = np.flatnonzero(~settled)
    if len(unsettled):
        _brute_rows(zf, sq, k_eff, chunk, unsettled, idx, dist)


def nearest_to(z: np.ndarray, row: int, weights: np.ndarray, k: int, *,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k rows nearest to one row (not itself), nearest first: (indices, distances). Same distance as
    `nearest`: weighted Euclidean on z-scores, unknown values as the average (z = 0). `allowed` (booleans per
    row): only those rows may be neighbours (the same kind of school)."""
    zf = np.where(np.isnan(z), 0.0, z)
    d = np.sqrt(((zf - zf[row]) ** 2 * weights).sum(axis=1))
    d[row] = np.inf
    if allowed is not None:
        d[~allowed] = np.inf
    k = min(k, int(np.isfinite(d).sum()))
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
