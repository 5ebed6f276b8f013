"""The demo's pupil groups: each school's pupils split by disadvantage, sex, first language, prior attainment,
mobility and SEN, with each group's results, so that every split adds up to the school's own total.

Cohorts are drawn from the school's context; results are fitted so that the groups' numerators sum to the total's
(a score's mean x pupils, a rate's pupils reaching it): pooling groups gives back the school. The disadvantage gap
of a school depends on its disadvantaged share (wider where few pupils are disadvantaged), its region (narrower in
London), a persistent school effect and a small trend of its own, so some schools narrow it and others widen it.
Shapes: realdata/NATIONAL_SHAPES.md and the national rows of the real 2018/19 ks4final (Attainment 8 of
disadvantaged pupils 36.7 against 50.1, grade 4+ in English and maths 44.5% against 71.5%, prior attainment bands
14/44/42%). Every draw uses its own random stream, so the rest of the demo is the same with or without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from data.demo.world import _LONDON

if TYPE_CHECKING:
    from data.demo.world import _World

# Each split of the pupils (its groups, in the files' order). A split's groups partition the cohort exactly.
KS4_SPLITS: dict[str, tuple[str, ...]] = {
    "disadvantage": ("dis", "nondis"), "sex": ("boys", "girls"), "language": ("eal", "noteal"),
    "prior": ("lo", "mid", "hi"), "mobility": ("mob", "nmob"), "sen": ("ehc", "senk", "nosen"),
}
KS2_SPLITS: dict[str, tuple[str, ...]] = {k: v for k, v in KS4_SPLITS.items() if k != "sen"}
KS4_GROUPS = tuple(g for gs in KS4_SPLITS.values() for g in gs)
KS2_GROUPS = tuple(g for gs in KS2_SPLITS.values() for g in gs)

# The results each split moves, and how far: per measure, each group's shift (logit units for bounded scores and
# rates, points for Progress 8 and KS2 progress). The disadvantage row is scaled by each school's own gap factor.
_KS4_SHIFT: dict[str, dict[str, tuple[float, ...]]] = {
    "att8": {"disadvantage": (-0.55, 0), "sex": (-0.25, 0), "language": (0.05, 0), "prior": (-0.95, 0, 0.9),
             "mobility": (-0.6, 0), "sen": (-1.9, -0.8, 0)},
    "aps": {"disadvantage": (-0.6, 0), "sex": (-0.22, 0), "language": (0.1, 0), "prior": (-0.95, 0, 0.95),
            "mobility": (-0.6, 0), "sen": (-1.9, -0.8, 0)},
    "p8": {"disadvantage": (-0.5, 0), "sex": (-0.47, 0), "language": (0.55, 0), "prior": (-0.17, 0, 0.02),
           "mobility": (-0.6, 0), "sen": (-1.3, -0.55, 0)},
    "b94": {"disadvantage": (-1.1, 0), "sex": (-0.33, 0), "language": (-0.05, 0), "prior": (-2.4, 0, 2.4),
            "mobility": (-0.9, 0), "sen": (-2.7, -1.2, 0)},
    "b95": {"disadvantage": (-1.1, 0), "sex": (-0.3, 0), "language": (0.0, 0), "prior": (-2.6, 0, 2.3),
            "mobility": (-0.9, 0), "sen": (-2.7, -1.2, 0)},
    "eb_entry": {"disadvantage": (-0.8, 0), "sex": (-0.5, 0), "language": (0.4, 0), "prior": (-2.0, 0, 1.5),
                 "mobility": (-0.7, 0), "sen": (-2.5, -1.0, 0)},
    "eb94": {"disadvantage": (-1.0, 0), "sex": (-0.4, 0), "language": (0.3, 0), "prior": (-2.5, 0, 2.0),
             "mobility": (-0.8, 0), "sen": (-2.8, -1.2, 0)},
    "eb95": {"disadvantage": (-1.1, 0), "sex": (-0.4, 0), "language": (0.3, 0), "prior": (-2.8, 0, 2.2),
             "mobility": (-0.8, 0), "sen": (-2.8, -1.2, 0)},
    "hum": {"disadvantage": (-0.5, 0), "sex": (-0.1, 0), "language": (0.2, 0), "prior": (-1.2, 0, 1.0),
            "mobility": (-0.4, 0), "sen": (-1.5, -0.6, 0)},
    "lang": {"disadvantage": (-0.7, 0), "sex": (-0.5, 0), "language": (0.6, 0), "prior": (-1.8, 0, 1.4),
             "mobility": (-0.5, 0), "sen": (-2.0, -0.9, 0)},
    "sci": {"disadvantage": (-0.4, 0), "sex": (0.0, 0), "language": (0.1, 0), "prior": (-1.0, 0, 1.0),
            "mobility": (-0.3, 0), "sen": (-1.5, -0.6, 0)},
}
_KS2_SHIFT: dict[str, dict[str, tuple[float, ...]]] = {
    "rwm": {"disadvantage": (-0.8, 0), "sex": (-0.3, 0), "language": (-0.05, 0), "prior": (-3.0, 0, 2.3),
            "mobility": (-0.7, 0)},
    "rwmh": {"disadvantage": (-1.1, 0), "sex": (-0.2, 0), "language": (0.1, 0), "prior": (-3.0, 0, 2.3),
             "mobility": (-0.7, 0)},
    "readprog": {"disadvantage": (-1.0, 0), "sex": (-0.6, 0), "language": (0.8, 0), "prior": (0.4, 0, -0.3),
                 "mobility": (-1.0, 0)},
    "writprog": {"disadvantage": (-1.0, 0), "sex": (-2.0, 0), "language": (1.4, 0), "prior": (0.4, 0, -0.3),
                 "mobility": (-1.0, 0)},
    "matprog": {"disadvantage": (-1.1, 0), "sex": (1.0, 0), "language": (2.5, 0), "prior": (0.4, 0, -0.3),
                "mobility": (-1.0, 0)},
}
# Bounded scores: (lowest, highest) of the scale the shift works on; counts are rates on (0, 1); the rest additive.
_BOUNDED = {"att8": (0.0, 90.0), "aps": (0.0, 9.0)}
_KS4_COUNTS = ("b94", "b95", "eb_entry", "eb94", "eb95", "hum", "lang", "sci")
_KS2_COUNTS = ("rwm", "rwmh")
# Sampling noise of a group's mean with n pupils: this / sqrt(n), in the shift's units (a pupil's spread)
_PUPIL_SD = {"att8": 0.8, "aps": 0.8, "p8": 1.28, "readprog": 5.8, "writprog": 5.5, "matprog": 5.3}
_RATE_SD = 0.9
# The disadvantage gap by region (index of world._REGIONS): London's is narrowest, the South's widest.
_REGION_GAP = np.array([1.05, 1.05, 1.0, 1.05, 0.95, 1.1, 0.7, 1.15, 1.1])


def _expit(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    """The log-odds of a proportion."""
    return np.log(p / (1.0 - p))


def gap_traits(w: _World) -> tuple[np.ndarray, np.ndarray]:
    """Each school's persistent gap effect (standard normal) and its own trend per year, the same every year."""
    cached = getattr(w, "_gap_traits", None)
    if cached is None:
        rng = np.random.default_rng([w.seed, 1313])
        n = len(w.s)
        cached = (rng.standard_normal(n), rng.normal(0.0, 0.08, n))
        w._gap_traits = cached  # type: ignore[attr-defined]
    return cached


def gap_factor(w: _World, y: int, share: np.ndarray) -> np.ndarray:
    """How wide each school's disadvantage gap is this year, relative to the nation's (1 = typical)."""
    effect, trend = gap_traits(w)
    mid = (w.years[0] + w.years[-1]) / 2
    region = w.las["region"].to_numpy()[w.s["la"].to_numpy()]
    by_share = np.clip(1 + 0.9 * (0.25 - share), 0.6, 1.5)  # affluent schools' few disadvantaged pupils lag most
    return _REGION_GAP[region] * by_share * np.exp(0.28 * effect + trend * (y - mid))


def fit_means(total: np.ndarray, n: np.ndarray, shift: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Group means lo + (hi - lo) * expit(L + shift_g), L per school so that the groups' pupils times their means sum
    to the total's pupils times its mean exactly (n and shift: groups x schools)."""
    big_n = n.sum(axis=0)
    span = hi - lo
    t = np.clip((np.nan_to_num(total, nan=lo) - lo) / span, 1e-9, 1 - 1e-9)
    base = np.divide((n * shift).sum(axis=0), big_n, out=np.zeros(len(t)), where=big_n > 0)
    L = _logit(t) - base
    for _ in range(30):  # Newton on a monotone sum of logistics; damped so a saturated school cannot overshoot
        p = _expit(L + shift)
        f = (n * p).sum(axis=0) - big_n * t
        fp = (n * p * (1 - p)).sum(axis=0)
        step = np.divide(f, fp, out=np.zeros(len(t)), where=fp > 1e-12)
        L = L - np.clip(step, -2, 2)
    means = lo + span * _expit(L + shift)
    flat = (t <= 1e-9) | (t >= 1 - 1e-9)  # at either end of the scale every group is there too
    means[:, flat] = np.broadcast_to(np.clip(total, lo, hi), means.shape)[:, flat]
    return np.where(n > 0, means, np.nan)


def split_count(count: np.ndarray, n: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """A total count (pupils reaching a threshold) split over the groups, whole pupils, none above its group's size,
    summing to the total exactly: rates expit(L + shift) fitted, then the largest remainders round up."""
    count = np.asarray(count, dtype=float)
    big_n = n.sum(axis=0)
    rate = np.divide(count, big_n, out=np.zeros(len(count)), where=big_n > 0)
    means = fit_means(rate, n, shift, 0.0, 1.0)
    want = np.where(n > 0, np.nan_to_num(means) * n, 0.0)
    floor = np.minimum(np.floor(want + 1e-9), n)
    left = np.round(count - floor.sum(axis=0)).astype(int)
    frac = np.where(floor < n, want - floor, -1.0)
    rank = np.empty_like(frac, dtype=int)
    order = np.argsort(-frac, axis=0, kind="stable")
    np.put_along_axis(rank, order, np.arange(n.shape[0])[:, None].repeat(n.shape[1], axis=1), axis=0)
    return floor + ((rank < left[None, :]) & (floor < n))


def _partition(rng: np.random.Generator, total: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Whole pupils per group (groups x schools) summing to each school's total, by the given probabilities."""
    probs = np.clip(probs, 0, None)
    probs = probs / probs.sum(axis=0, keepdims=True)
    out = np.zeros(probs.shape, dtype=int)
    left = np.asarray(total, dtype=int).copy()
    rest = np.ones(probs.shape[1])
    for g in range(probs.shape[0] - 1):  # sequential binomials: a multinomial per school, vectorised
        p = np.clip(np.divide(probs[g], rest, out=np.zeros_like(rest), where=rest > 1e-12), 0, 1)
        out[g] = rng.binomial(left, p)
        left -= out[g]
        rest -= probs[g]
    out[-1] = left
    return out


def _results(rng: np.random.Generator, d: dict[str, np.ndarray], cohorts: dict[str, np.ndarray],
             splits: dict[str, tuple[str, ...]], shifts: dict[str, dict[str, tuple[float, ...]]],
             counts: tuple[str, ...], weight_of: dict[str, str], factor: np.ndarray, total_of: dict[str, str]) -> None:
    """Every group's result for each measure, fitted to the school's total (written into d as <measure>_<group>).

    cohorts holds n_<group> (and p8n_<group>) pupils; weight_of names a measure's pupils when not n (Progress 8);
    total_of the school's total column for a measure; factor each school's disadvantage gap factor."""
    for measure, per_split in shifts.items():
        for split, groups in splits.items():
            wcol = weight_of.get(measure, "n")
            n = np.stack([cohorts[f"{wcol}_{g}"] for g in groups]).astype(float)
            shift = np.array(per_split[split], dtype=float)[:, None] * np.ones((1, n.shape[1]))
            if split == "disadvantage":
                shift = shift * factor[None, :]
            else:  # a school's own split moves a little from year to year
                shift = shift + 0.08 * np.abs(shift).max() * rng.standard_normal(shift.shape)
            sd = _PUPIL_SD.get(measure, _RATE_SD)
            shift = shift + sd / np.sqrt(np.maximum(n, 1)) * rng.standard_normal(shift.shape)
            total = np.asarray(d[total_of.get(measure, measure)], dtype=float)
            if measure in counts:
                parts = split_count(total, n, shift)
            elif measure in _BOUNDED:
                parts = fit_means(total, n, shift, *_BOUNDED[measure])
            else:  # additive: centred on the total by the groups' weights
                big_n = n.sum(axis=0)
                centre = np.divide((n * shift).sum(axis=0), big_n, out=np.zeros(n.shape[1]), where=big_n > 0)
                parts = np.where(n > 0, total[None, :] + shift - centre[None, :], np.nan)
            for g, row in zip(groups, parts, strict=True):
                d[f"{measure}_{g}"] = row


def simulate(w: _World, y: int, d: dict[str, np.ndarray], k2: np.ndarray) -> None:
    """Add the year's pupil-group cohorts and results to d (the year's columns, see data.demo.simulation).

    KS4 columns: n4_<g> (pupils), p8n_<g> (pupils in Progress 8), att8_, p8_, aps_, b94_, b95_, eb_entry_, eb94_,
    eb95_, hum_, lang_, sci_<g>; KS2: n2_<g>, rwm_<g>, rwmh_<g>, readprog_, writprog_, matprog_<g>. tdis, p8pup_dis,
    att8_dis, p8_dis (KS4) and ndis2, rwm_dis (KS2) are the disadvantaged group's."""
    rng = np.random.default_rng([w.seed, y, 13])
    s = w.s
    nor = np.maximum(d["nor"], 1).astype(float)
    boys_p = d["norb"] / nor
    eal_p = d["eal"] / nor
    london = w.las["region"].to_numpy()[s["la"].to_numpy()] == _LONDON
    zf = s["zf"].to_numpy()

    # ---- KS4 cohorts
    tpup = d["tpup"]
    c4: dict[str, np.ndarray] = {"n_dis": d["tdis"], "n_nondis": tpup - d["tdis"]}
    boys = rng.binomial(tpup, np.clip(boys_p, 0, 1))
    c4.update(n_boys=boys, n_girls=tpup - boys)
    eal = rng.binomial(tpup, np.clip(eal_p * 1.05, 0, 1))
    c4.update(n_eal=eal, n_noteal=tpup - eal)
    z = (d["ks2aps"] - 28.6) / 1.9
    lo, mid, hi = _partition(rng, tpup, np.stack([np.exp(-1.15 - 0.8 * z), np.ones_like(z), np.exp(-0.05 + 0.8 * z)]))
    c4.update(n_lo=lo, n_mid=mid, n_hi=hi)
    mob = rng.binomial(tpup, np.clip(0.035 + 0.01 * zf + 0.025 * london, 0.005, 0.3))
    c4.update(n_mob=mob, n_nmob=tpup - mob)
    ehc_p, senk_p = d["sene"] / nor, d["senk"] / nor
    ehc, senk, nosen = _partition(rng, tpup, np.stack([ehc_p, senk_p, np.clip(1 - ehc_p - senk_p, 0, 1)]))
    c4.update(n_ehc=ehc, n_senk=senk, n_nosen=nosen)
    for groups in KS4_SPLITS.values():  # pupils in Progress 8: the total's, shared out by group size
        n = np.stack([c4[f"n_{g}"] for g in groups]).astype(float)
        for g, row in zip(groups, split_count(d["p8pup"], n, np.zeros_like(n)), strict=True):
            c4[f"p8n_{g}"] = row.astype(int)
    share4 = np.divide(d["tdis"], tpup, out=np.full(len(tpup), 0.25), where=tpup > 0)
    tot4 = {"att8": "att8", "aps": "ebaccaps", "p8": "p8", **{c: c for c in _KS4_COUNTS}}
    _results(rng, d, c4, KS4_SPLITS, _KS4_SHIFT, _KS4_COUNTS, {"p8": "p8n"}, gap_factor(w, y, share4), tot4)
    for g in KS4_GROUPS:
        d[f"n4_{g}"], d[f"p8n_{g}"] = c4[f"n_{g}"], c4[f"p8n_{g}"]
    d["p8pup_dis"] = d["p8n_dis"]

    # ---- KS2 cohorts
    telig = d["telig"]
    c2: dict[str, np.ndarray] = {"n_dis": d["ndis2"], "n_nondis": telig - d["ndis2"]}
    boys = rng.binomial(telig, np.clip(boys_p, 0, 1))
    c2.update(n_boys=boys, n_girls=telig - boys)
    eal = rng.binomial(telig, np.clip(eal_p, 0, 1))
    c2.update(n_eal=eal, n_noteal=telig - eal)
    lo, mid, hi = _partition(rng, telig, np.stack([np.exp(-1.35 - 0.6 * k2), np.ones_like(k2),
                                                   np.exp(-0.55 + 0.6 * k2)]))
    c2.update(n_lo=lo, n_mid=mid, n_hi=hi)
    mob = rng.binomial(telig, np.clip(0.07 + 0.02 * zf + 0.04 * london, 0.01, 0.4))
    c2.update(n_mob=mob, n_nmob=telig - mob)
    share2 = np.divide(d["ndis2"], telig, out=np.full(len(telig), 0.25), where=telig > 0)
    tot2 = {"rwm": "rwm", "rwmh": "rwm_high", "readprog": "readprog", "writprog": "writprog", "matprog": "matprog"}
    _results(rng, d, c2, KS2_SPLITS, _KS2_SHIFT, _KS2_COUNTS, {}, gap_factor(w, y, share2), tot2)
    for g in KS2_GROUPS:
        d[f"n2_{g}"] = c2[f"n_{g}"]
    d["rwm_high_dis"] = d["rwmh_dis"]
