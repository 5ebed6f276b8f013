"""Reading numbers that may be missing: one rule for the whole project."""

from __future__ import annotations

import math


def finite(value: object) -> float | None:
    """A float, or None for None / NaN / NA / infinity / text / booleans (pandas and numpy scalars included)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None
