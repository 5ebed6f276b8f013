"""Reading numbers that may be missing, and writing a measure's numbers: one rule each for the whole project."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

NO_VALUE = "–"  # what a table, grid, report or CSV display shows where there is no value
DEFAULT_FORMAT = ".1f"  # a measure that declares no format
MAX_DECIMALS = 3
# The closed set of number formats: an optional + (a signed number), an optional , (thousands), 0 to 3 decimals
_SPEC = re.compile(rf"^(?P<sign>\+?)(?P<comma>,?)\.(?P<decimals>[0-{MAX_DECIMALS}])f$")
FORMAT_WORDS = (f".0f to .{MAX_DECIMALS}f (that many decimals), with + in front to sign the number (+.2f) and , for "
                "thousands (,.0f)")


def finite(value: object) -> float | None:
    """A float, or None for None / NaN / NA / infinity / text / booleans (pandas and numpy scalars included)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def is_number_format(spec: object) -> bool:
    """Whether `spec` is one of the number formats a measure may declare (FORMAT_WORDS)."""
    return isinstance(spec, str) and _SPEC.match(spec) is not None


@dataclass(frozen=True)
class NumberFormat:
    """How one measure's numbers are written, everywhere they are shown: tables, the grid, charts, PDF and CSV.

    `spec`: one of the closed set of formats (is_number_format); `unit`: the measure's unit. '%' follows the
    number and '£' leads it; other units (score, pupils, hours, a governor's own words) are said by the column or
    axis, not beside each number."""

    spec: str
    unit: str = ""

    def __post_init__(self) -> None:
        if not is_number_format(self.spec):
            raise ValueError(f"format {self.spec!r} is not a number format: {FORMAT_WORDS}")

    @property
    def decimals(self) -> int:
        return int(_SPEC.match(self.spec).group("decimals"))  # type: ignore[union-attr]

    @property
    def signed(self) -> bool:
        """A + before positive numbers (a score against 0, a change)."""
        return self.spec.startswith("+")

    @property
    def thousands(self) -> bool:
        return "," in self.spec

    def number(self, value: float) -> str:
        """The number alone, without the unit: '45.1', '+0.25', '7,579'. A value that rounds to zero is zero,
        never '-0.0' (signed formats write '+0.00', as DfE's tables do)."""
        text = format(value, self.spec)
        if text.startswith("-") and not any(c in "123456789" for c in text):
            text = format(0.0, self.spec)
        return text

    def text(self, value: object, missing: str = NO_VALUE) -> str:
        """The value as every page, report and file shows it: '45.1%', '£7,579', '+0.25'; `missing` for none."""
        x = finite(value)
        if x is None:
            return missing
        text = self.number(x)
        if self.unit == "%":
            return f"{text}%"
        if self.unit == "£":
            return f"£{text}" if not text.startswith(("-", "+")) else f"{text[0]}£{text[1:]}"
        return text

    def rounded(self, value: float) -> float:
        """The value at the precision it is shown with (a chart's line through the table's numbers)."""
        return round(value, self.decimals)

    def excel(self) -> str:
        """The same format as an Excel number format: '.1f' with '%' -> 0.0"%" (values on a 0-100 scale)."""
        body = ("#,##0" if self.thousands else "0") + ("." + "0" * self.decimals if self.decimals else "")
        if self.unit == "£":
            body = f'"£"{body}'
        elif self.unit == "%":
            body = f'{body}"%"'
        return f"+{body};-{body};{body}" if self.signed else body


_FIVE = (0.0, 0.25, 0.5, 0.75, 1.0)


def five_numbers(values: np.ndarray) -> tuple[float, float, float, float, float]:
    """Minimum, quartiles, median and maximum of values with no NaN: `np.quantile(values, [0, .25, .5, .75, 1])`
    (the linear method) by numpy's own arithmetic, from one sort (tests/unit/test_five_numbers.py: bit for bit)."""
    import numpy as np  # here: the formula language and its validator (this module's users) need only the stdlib

    s = np.sort(np.asarray(values, dtype=float))
    n = len(s)
    virtual = (n - 1) * np.array(_FIVE)
    previous = np.floor(virtual)
    after = previous + 1
    above = virtual >= n - 1  # as numpy: the last value, on both sides
    previous[above], after[above] = -1, -1
    gamma = virtual - previous.astype(np.intp)
    a, b = s[previous.astype(np.intp)], s[after.astype(np.intp)]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return tuple(float(x) for x in out)  # type: ignore[return-value]
