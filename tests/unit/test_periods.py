"""Issue 9 point 9: periods are validated: no year 0, no year 2999, nothing before 1990 or after next year."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from data.ingest.formats import period_from_path
from metrics.periods import PeriodError, parse_period, period_range

ON = date(2026, 12, 1)  # "next year" is then the academic year starting in 2027: 2027/28
RANGE = "Jointly takes academic years from 1990/91 to 2027/28"


@pytest.mark.parametrize("text", ["0000/01", "2999/00", "1989/90", "1900/01", "2028/29", "2099/2100", "209900",
                                  "0001-0002"])
def test_years_out_of_range_are_refused_with_the_range(text: str) -> None:
    with pytest.raises(PeriodError) as err:
        parse_period(text, today=ON)
    assert str(err.value) == f"period {text!r} is not a year Jointly can hold: {RANGE}"


@pytest.mark.parametrize(("text", "period"), [("1990/91", "1990/91"), ("2027/28", "2027/28"), ("202728", "2027/28"),
                                              ("1999-2000", "1999/00"), ("2026-27", "2026/27")])
def test_the_edges_of_the_range_are_accepted(text: str, period: str) -> None:
    assert parse_period(text, today=ON) == period


def test_the_range_moves_with_today() -> None:
    assert period_range(date(2030, 1, 15)) == ("1990/91", "2031/32")
    this_year = datetime.now(UTC).year
    assert parse_period(f"{this_year + 1}/{(this_year + 2) % 100:02d}")  # next year, by today's clock
    with pytest.raises(PeriodError, match="not a year Jointly can hold"):
        parse_period(f"{this_year + 2}/{(this_year + 3) % 100:02d}")


def test_the_second_year_must_still_follow_the_first() -> None:
    with pytest.raises(PeriodError, match="the second year must follow the first"):
        parse_period("0000/02", today=ON)


@pytest.mark.parametrize(("path", "period"), [
    ("downloads/0000-0001/england_ks4final.csv", None),  # not a period
    ("downloads/2090-2091/england_ks4final.csv", None),
    ("downloads/2999-00/england_census.csv", None),
    ("downloads/1998-1999/england_ks4final.csv", "1998/99"),
    ("downloads/1985-1986/england_ks4final.csv", None),
    ("downloads/2018-2019/england_ks4final.csv", "2018/19"),
])
def test_a_folder_names_a_period_only_inside_the_range(path: str, period: str | None) -> None:
    assert period_from_path(Path(path)) == period
