"""Funnel-plot control limits and where each school falls against them (shared by the plot and its alt text).

Limits are drawn around the national value: a school inside them differs from national by no more than chance
would give a cohort of its size (Spiegelhalter 2005, "Funnel plots for comparing institutional performance").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Z95 = 1.959964  # two-sided 95%
Z998 = 3.090232  # two-sided 99.8%
KINDS = ("rate", "mean")

ABOVE_998 = "above 99.8% limit"
ABOVE_95 = "above 95% limit"
WITHIN = "within limits"
BELOW_95 = "below 95% limit"
BELOW_998 = "below 99.8% limit"
NOT_COMPARED = "no comparison"
# From the top of the plot to the bottom.
STATUSES = (ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998)


def funnel_limits(national: float, cohorts: np.ndarray, kind: str, scale: float = 100.0, sd: float | None = None,
                  z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits at each cohort size.

    kind "rate": binomial normal approximation, p ± z·sqrt(p(1−p)/n)·scale with p = national/scale, kept within
    0..scale. kind "mean": national ± z·sd/sqrt(n). A cohort of zero or less (or NaN) gives NaN limits.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    n = np.asarray(cohorts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(n > 0, n, np.nan)
        if kind == "rate":
            if scale <= 0:
                raise ValueError("scale must be positive for a rate")
            p = float(national) / scale
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"a rate's national value must lie within 0..{scale:g}, not {national}")
            half = z * np.sqrt(p * (1.0 - p) / n) * scale
            lower = np.clip(national - half, 0.0, scale)
            upper = np.clip(national + half, 0.0, scale)
        else:
            if sd is None or not sd > 0:
                raise ValueError("a funnel of means needs the pupil-level standard deviation (sd > 0)")
            half = z * float(sd) / np.sqrt(n)
            lower, upper = national - half, national + half
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def funnel_points(df: pd.DataFrame, *, national: float | None, kind: str, scale: float = 100.0,
                  sd: float | None = None) -> pd.DataFrame:
    """The usable rows of a funnel (a finite value and a positive cohort), sorted by urn, with a `status` column:
    one of STATUSES, or NOT_COMPARED when there is no national value."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    cols = ["urn", "name", "value", "cohort"]
    if df is None or df.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*cols, "status"]})
    out = df[cols].copy()
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    out["cohort"] = pd.to_numeric(out["cohort"], errors="coerce").astype(float)
    out = out[np.isfinite(out["value"]) & np.isfinite(out["cohort"]) & (out["cohort"] > 0)]
    out = out.sort_values("urn", kind="stable").reset_index(drop=True)
    out["name"] = out["name"].astype(str)
    if national is None or not np.isfinite(national):
        out["status"] = NOT_COMPARED
        return out
    n = out["cohort"].to_numpy()
    v = out["value"].to_numpy()
    lo95, hi95 = funnel_limits(national, n, kind, scale, sd, Z95)
    lo998, hi998 = funnel_limits(national, n, kind, scale, sd, Z998)
    status = np.select([v > hi998, v > hi95, v < lo998, v < lo95], [ABOVE_998, ABOVE_95, BELOW_998, BELOW_95],
                       default=WITHIN)
    out["status"] = status.astype(object)
    return out
