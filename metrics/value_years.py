"""The year a value belongs to, when a file publishes it later than the year it describes (issue 10, point 8).

Pure: the importers store each value under the year it describes, and a card says which year that is.
"""

from __future__ import annotations

# Years between the cohort a source describes and the performance tables that publish it, by registry source
# kind. Destinations are measured in the year after pupils leave key stage 4 (sustained October to March) and
# published a year after that: the 2018/19 tables hold the pupils who finished KS4 in 2016/17
# (pupdestprovisional_meta.csv: COHORT is the "Number of pupils completing key stage 4 in 2016/17").
DESCRIBED_LAG: dict[str, int] = {"pupdest": 2}


def _shift(period: str, years: int) -> str:
    """'2018/19' moved by `years` academic years: _shift('2018/19', -2) == '2016/17'."""
    start = int(period[:4]) + years
    return f"{start}/{(start + 1) % 100:02d}"


def described_period(source_kind: str, tables_year: str) -> str:
    """The academic year a source's values describe, given the year of the tables that publish them."""
    return _shift(tables_year, -DESCRIBED_LAG.get(source_kind, 0))


def tables_year(source_kind: str, value_period: str) -> str:
    """The tables that publish a value of `value_period` (the inverse of described_period)."""
    return _shift(value_period, DESCRIBED_LAG.get(source_kind, 0))


def value_year_sentence(source_kind: str, value_period: str) -> str | None:
    """What year a value is of, in words, when that is not the year of the tables it came in; else None."""
    if not DESCRIBED_LAG.get(source_kind):
        return None
    return (f"destinations of pupils who finished key stage 4 in {value_period}, published in the "
            f"{tables_year(source_kind, value_period)} tables")
