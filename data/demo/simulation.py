"""The demo's results over years: each school's outcomes from its context, a persistent school effect, a trend,
noise and DfE's real gap years."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    pass
from data.demo import pupil_groups
from data.demo.world import (
    _B_ABS,
    _B_ATT8,
    _B_KS2,
    _B_P8,
    _B_PROG,
    _LONDON,
    _R2_ABS,
    _R2_ATT8,
    _R2_KS2,
    _R2_P8,
    _R2_PROG,
    ABSENCE_FACTOR,
    ALL,
    AP,
    ATT8_SHIFT,
    BASICS_SHIFT,
    FSM_RATIO,
    KS2_SHIFT,
    LATEST_START,
    PRI,
    SEC,
    SPE,
    _expit,
    _World,
    joining_shift,
)

# ---------------------------------------------------------------------------------------------- yearly values


def _simulate_year(w: _World, y: int) -> pd.DataFrame:
    """Every number of one academic year, for every school (NaN where the school has none)."""
    s = w.s
    n = len(s)
    rng = np.random.default_rng([w.seed, y])  # a year's noise does not depend on how many years are built
    g = rng.standard_normal
    phase = s["phase"].to_numpy()
    oy, cy = s["open_year"].to_numpy(), s["close_year"].to_numpy()
    present = (oy <= y) & (y <= cy)
    since = np.where(oy > 0, y - oy, 99)
    t = y - LATEST_START
    mid = (w.years[0] + w.years[-1]) / 2
    d: dict[str, np.ndarray] = {"present": present, "since": since}

    ramp = np.where(np.isin(phase, (SEC, ALL)), 5, 7)
    nor = s["nor_base"].to_numpy() * np.exp(s["growth"].to_numpy() * t + 0.03 * g(n))
    nor = np.where(since < ramp, s["nor_base"].to_numpy() * (since + 1) / ramp, nor)
    nor = np.maximum(np.round(nor), 8).astype(int)
    d["nor"] = nor
    boys_p = np.where(phase == SPE, 0.72, np.where(phase == AP, 0.7, 0.51))
    d["norb"] = rng.binomial(nor, boys_p)
    d["norg"] = nor - d["norb"]

    # Context: disadvantage drifts up a little nationally; current FSM rose faster (universal credit).
    p_ever = _expit(s["fsm_logit"].to_numpy() + 0.04 * (y - 2020) + 0.12 * g(n))
    d["fsmever"] = rng.binomial(nor, p_ever)
    ratio = FSM_RATIO.get(y, 0.63 if y < 2018 else 0.92)
    d["fsm"] = rng.binomial(d["fsmever"], np.clip(ratio * np.exp(0.06 * g(n)), 0, 1))
    d["uncfl"] = rng.binomial(nor, 0.004)
    d["eal"] = rng.binomial(nor - d["uncfl"], _expit(s["eal_logit"].to_numpy() + 0.04 * g(n)))
    d["engfl"] = nor - d["uncfl"] - d["eal"]
    d["senk"] = rng.binomial(nor, _expit(s["senk_logit"].to_numpy() + 0.03 * (y - 2020) + 0.08 * g(n)))
    d["sene"] = rng.binomial(nor - d["senk"], _expit(s["ehcp_logit"].to_numpy() + 0.05 * (y - 2020) + 0.1 * g(n)))

    x = np.c_[s["zf"], s["ze"], s["zs"]]
    u, v, trend = s["u"].to_numpy(), s["v"].to_numpy(), s["trend"].to_numpy()
    drift = trend * (y - mid)
    joining = joining_shift(w, y)  # what joining a trust did (data.demo.world: planted, for the Impact page)

    # ---- KS4: P8 from context + school effect + trend + noise; Att8 from context and P8 (NATIONAL_SHAPES).
    p = x @ _B_P8 + np.sqrt(1 - _R2_P8) * (0.85 * u + drift + 0.5 * g(n)) + 0.3 * joining
    # bigger secondaries do a little better (pupils on roll correlates +0.3 with Att8)
    size = np.log(s["nor_base"].to_numpy()) - np.log(1000)
    a = np.c_[x, p] @ _B_ATT8 + np.sqrt(1 - _R2_ATT8) * (0.62 * v + 0.62 * g(n) + 1.4 * size) + joining
    main4 = np.isin(phase, (SEC, ALL))  # P8 is relative to the nation each year: centre on mainstream schools
    p, a = p - p[main4].mean(), a - a[main4].mean()
    special = phase == SPE
    ks4 = s["has_ks4"].to_numpy() & present
    tpup = np.where(ks4 & (since >= 4), np.round(nor * s["y11_share"].to_numpy()), 0).astype(int)
    d["tpup"] = tpup
    d["p8pup"] = tpup - rng.binomial(tpup, 0.03)
    d["p8"] = np.where(special, -1.3 + 0.5 * g(n), -0.01 + 0.5 * p)
    d["att8"] = np.clip(np.where(special, 12 + 7 * g(n), 47 + ATT8_SHIFT.get(y, 0) + 9 * a), 0.5, 85)
    d["ks2aps"] = np.clip(np.where(special, 17 + 3 * g(n), 28.6 + 1.9 * (a - 0.65 * p) + 0.25 * g(n)), 10, 34)
    r94 = np.clip(np.where(special, 4 + 6 * g(n), 64.7 + BASICS_SHIFT.get(y, 0) + 15.6 * (0.93 * a + 0.37 * g(n))),
                  0.5, 99.5)
    d["b94"] = rng.binomial(tpup, r94 / 100)
    r95 = np.clip(r94 - 21 - 2 * g(n), 0.2, r94)
    d["b95"] = rng.binomial(d["b94"], np.clip(r95 / r94, 0, 1))
    rent = np.clip(np.where(special, 1 + g(n), 39.7 + 25.1 * (0.4 * a + 0.9 * s["ebacc_policy"].to_numpy()
                                                              + 0.15 * g(n))), 0.2, 98)
    d["eb_entry"] = rng.binomial(tpup, rent / 100)
    d["eb94"] = rng.binomial(d["eb_entry"], np.clip(0.45 + 0.18 * a + 0.05 * g(n), 0.02, 0.98))
    d["eb95"] = rng.binomial(d["eb94"], 0.7)
    d["lang"] = d["eb_entry"] + rng.binomial(tpup - d["eb_entry"], np.clip(0.12 + 0.1 * g(n), 0.01, 0.9))
    d["hum"] = d["eb_entry"] + rng.binomial(tpup - d["eb_entry"], np.clip(0.62 + 0.12 * g(n) + 0.05 * a, 0.05, 0.99))
    d["sci"] = d["eb_entry"] + rng.binomial(tpup - d["eb_entry"], np.clip(0.9 + 0.05 * g(n), 0.3, 0.999))
    d["ebaccaps"] = np.clip(np.where(special, 0.5 + 0.5 * np.abs(g(n)), 4.09 + ATT8_SHIFT.get(y, 0) / 11
                                     + 0.98 * (0.92 * a + 0.39 * g(n))), 0.05, 8.8)
    d["tdis"] = rng.binomial(tpup, np.clip(p_ever * 1.1, 0, 1))
    d["p8pup_dis"] = np.round(d["p8pup"] * d["tdis"] / np.maximum(tpup, 1)).astype(int)
    d["p8_dis"] = d["p8"] - 0.42 + 0.25 * g(n)
    d["att8_dis"] = np.clip(d["att8"] - 13 + 3 * g(n), 0.5, 85)

    # ---- KS2 (year 6).
    k = x @ _B_KS2 + np.sqrt(1 - _R2_KS2) * (0.8 * u + drift + 0.6 * g(n)) + joining
    q = x @ _B_PROG + np.sqrt(1 - _R2_PROG) * (0.8 * u + drift + 0.6 * g(n)) + 0.5 * joining
    main2 = np.isin(phase, (PRI, ALL))
    k, q = k - k[main2].mean(), q - q[main2].mean()
    ks2 = s["has_ks2"].to_numpy() & present & (since >= 6)
    telig = np.where(ks2, np.round(nor * s["y6_share"].to_numpy()), 0).astype(int)
    d["telig"] = telig
    rwm_r = np.clip(np.where(special, 4 + 5 * g(n), 65 + KS2_SHIFT.get(y, 0) + 13 * k), 0.5, 99)
    d["rwm"] = rng.binomial(telig, rwm_r / 100)
    d["rwm_high"] = rng.binomial(d["rwm"], np.clip((8 + 4.5 * k + 2 * g(n)) / np.maximum(rwm_r, 1), 0, 1))
    sq = np.sqrt(np.maximum(telig, 1))
    d["readprog"] = 1.5 * q + 5.8 / sq * g(n)
    d["writprog"] = 1.4 * q + 0.8 * g(n) + 5.5 / sq * g(n)
    d["matprog"] = 1.6 * q + 5.3 / sq * g(n)
    d["read_avg"] = np.clip(105 + 2.4 * k + 3 / sq * g(n), 81, 119)
    d["mat_avg"] = np.clip(104 + 2.8 * k + 3 / sq * g(n), 81, 119)
    d["ndis2"] = rng.binomial(telig, np.clip(p_ever * 1.05, 0, 1))
    d["rwm_dis"] = rng.binomial(d["ndis2"], np.clip(rwm_r - 20 + 4 * g(n), 0.5, 99) / 100)
    d["ks2_lowcov"] = rng.random(n) < 0.01
    d["ks2_np"] = rng.random(n) < 0.003

    # ---- Destinations of last year's leavers.
    coh = np.where(ks4 & (since >= 5), np.round(tpup * (1 + 0.04 * g(n))), 0).astype(int)
    d["cohort"] = np.maximum(coh, 0)
    dest_r = np.clip(np.where(special, 88 + 5 * g(n), 94 - 2.2 * s["zf"].to_numpy() + 1.2 * a
                              + 1.5 * s["dest_u"].to_numpy()), 60, 99.5)
    d["dest"] = rng.binomial(d["cohort"], dest_r / 100)
    d["edu"] = rng.binomial(d["dest"], 0.91)
    d["appren"] = rng.binomial(d["dest"] - d["edu"], 0.55)
    d["employ"] = d["dest"] - d["edu"] - d["appren"]
    d["notsus"] = rng.binomial(d["cohort"] - d["dest"], 0.75)
    d["unknown"] = d["cohort"] - d["dest"] - d["notsus"]
    d["cohort_dis"] = rng.binomial(d["cohort"], np.clip(p_ever * 1.1, 0, 1))
    d["dest_dis"] = rng.binomial(d["cohort_dis"], np.clip(dest_r - 6 + 3 * g(n), 40, 99.5) / 100)
    d["edu_dis"] = rng.binomial(d["dest_dis"], 0.9)

    # ---- Absence: by phase, worse with deprivation and weaker outcomes (NATIONAL_SHAPES correlations).
    zb_sec = np.c_[x, p, a] @ _B_ABS + np.sqrt(1 - _R2_ABS) * (0.6 * s["abs_u"].to_numpy() + 0.8 * g(n))
    zb_pri = 0.42 * x[:, 0] - 0.14 * x[:, 1] + 0.12 * x[:, 2] - 0.3 * k + 0.8 * (
        0.6 * s["abs_u"].to_numpy() + 0.8 * g(n))
    zb = np.where(np.isin(phase, (SEC, ALL)), zb_sec, zb_pri) - joining
    med = np.array([4.0, 5.5, 5.1, 10.1, 33.0, 4.0])[phase]
    sig = np.array([0.22, 0.22, 0.22, 0.25, 0.3, 0.22])[phase]
    perctot = np.clip(med * np.exp(sig * zb) * ABSENCE_FACTOR.get(y, 1.0), 0.8, 75)
    d["perctot"] = perctot
    d["percua"] = perctot * rng.uniform(0.18, 0.35, n)
    pa = np.where(phase == AP, 1.9 * perctot + 10 + 5 * g(n), 3.6 * perctot - 6.2 + 1.5 * g(n))
    d["ppersabs"] = np.clip(pa, 0.3, 95)

    # ---- Workforce.
    ptr = np.array([20.6, 16.6, 17.2, 6.4, 5.6, 11.5])[phase] * np.exp(0.07 * s["staff_u"].to_numpy() + 0.03 * g(n))
    tea = np.maximum(np.round(nor / ptr, 1), 0.6)
    d["tea_fte"] = tea
    d["ptr"] = nor / tea
    d["ta_fte"] = np.round(tea * np.array([1.0, 0.35, 0.45, 1.8, 0.8, 1.5])[phase]
                           * np.exp(0.25 * s["staff_u"].to_numpy() + 0.08 * g(n)), 1)
    london = w.las["region"].to_numpy()[s["la"].to_numpy()] == _LONDON
    d["salary"] = (40_000 + 1_300 * (y - 2020) + 4_500 * london + 900 * np.isin(phase, (SEC, ALL))
                   - 600 * s["rural"].to_numpy() + 1_500 * s["staff_u"].to_numpy() + 500 * g(n))

    # ---- Finance (per pupil; maintained schools only are in the CFR file).
    base = np.array([5_300, 6_300, 6_200, 23_000, 25_000, 9_500])[phase] * (1 + 0.045 * (y - 2020))
    size_f = np.where(np.isin(phase, (PRI, SEC, ALL)), (np.maximum(nor, 30) / s["nor_base"].median()) ** -0.08, 1)
    d["totexp"] = (base * (1 + 0.07 * s["zf"].to_numpy()) * np.where(london, 1.18, 1.0) * size_f
                   * np.exp(0.05 * s["fin_u"].to_numpy() + 0.03 * g(n)))
    d["selfgen_share"] = np.clip(rng.lognormal(np.log(0.025), 0.5, n), 0.002, 0.15)
    d["income_ratio"] = rng.normal(1.0, 0.025, n)
    d["fte_pupils"] = np.round(nor * rng.uniform(0.95, 1.0, n), 1)

    # ---- Gaps: a school missing from a year's census/absence/workforce/finance (returns not made).
    d["gap"] = rng.random(n) < 0.006
    d["abs_gap"] = rng.random(n) < 0.01

    # ---- Pupil groups: cohorts and results per group, adding up to the totals above (their own random stream).
    pupil_groups.simulate(w, y, d, k)
    return pd.DataFrame(d)
