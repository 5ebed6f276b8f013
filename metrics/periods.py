"""Academic years: parsing "2018/19" in its spellings, and the dates a year runs between.

A domain idea, not a file format: the store, the services and the importers all use it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_PERIOD_ARG = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})$")  # EES time_period, e.g. 202223
# The first academic year Jointly holds: DfE's school-level performance data starts in the 1990s.
FIRST_START_YEAR = 1990


class PeriodError(ValueError):
    pass


def _latest_start_year(today: date | None) -> int:
    """The start year of the latest acceptable academic year: the one that starts next calendar year."""
    return (today or datetime.now(UTC).date()).year + 1


def period_range(today: date | None = None) -> tuple[str, str]:
    """The first and last academic years parse_period accepts (the last moves with today's date)."""
    last = _latest_start_year(today)
    return f"{FIRST_START_YEAR}/{(FIRST_START_YEAR + 1) % 100:02d}", f"{last}/{(last + 1) % 100:02d}"


def parse_period(text: str, *, today: date | None = None) -> str:
    """'2018/19', '2018-2019', '2018-19' or '201819' -> '2018/19'. Raises PeriodError.

    Only years from 1990/91 to next year's (relative to `today`, default the UTC date) are periods: '0000/01',
    '2999/00' or a typo's '2108/09' is refused with the allowed range, never stored."""
    t = text.strip()
    m = _PERIOD_ARG.match(t) or _COMPACT.match(t)
    if not m:
        raise PeriodError(f"period {text!r} is not an academic year like 2018/19")
    start, end = int(m.group(1)), m.group(2)
    end_two = int(end[-2:])
    if end_two != (start + 1) % 100 or (len(end) == 4 and int(end) != start + 1):
        raise PeriodError(f"period {text!r}: the second year must follow the first (e.g. 2018/19)")
    if not FIRST_START_YEAR <= start <= _latest_start_year(today):
        first, last = period_range(today)
        raise PeriodError(f"period {text!r} is not a year Jointly can hold: Jointly takes academic years from "
                          f"{first} to {last}")
    return f"{start}/{end_two:02d}"


def period_start_year(period: str) -> int:
    return int(period[:4])


def period_bounds(period: str) -> tuple[str, str]:
    """ISO dates of the academic year: 1 September to 31 August."""
    y = period_start_year(period)
    return f"{y}-09-01", f"{y + 1}-08-31"
