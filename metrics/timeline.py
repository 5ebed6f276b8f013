"""Time, done right: academic years, a measure's definitions over the years, DfE's gaps, and what may be compared.

Pure: standard library only. A period is an academic year written "2018/19". "Last year" is always the academic
year before, never "whatever period sits before in the store": a change is shown only when that year exists, is not
a year DfE published nothing for, and measured the same thing (see docs/method.md, "Time rules").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Protocol

# "2018/19": a start year and the last two digits of the year after it
_PERIOD = re.compile(r"^(\d{4})/(\d{2})$")


class TimelineError(ValueError):
    """A period that is not an academic year like 2018/19."""


def start_year(period: str) -> int:
    """2018 for '2018/19'. Raises TimelineError unless the second year follows the first."""
    if not isinstance(period, str):
        raise TimelineError(f"{period!r} is not an academic year like 2018/19")
    return _start_year(period)


@lru_cache(maxsize=4096)  # a card asks about the same few years thousands of times; a wrong text is never cached
def _start_year(period: str) -> int:
    m = _PERIOD.match(period.strip())
    if m is None or int(m.group(2)) != (int(m.group(1)) + 1) % 100:
        raise TimelineError(f"{period!r} is not an academic year like 2018/19")
    return int(m.group(1))


def is_period(text: object) -> bool:
    """Whether text is an academic year written like 2018/19."""
    try:
        start_year(text)  # type: ignore[arg-type]
    except TimelineError:
        return False
    return True


def academic_year_of(day: date) -> int:
    """The academic year (its start year) a day falls in: 1 September to 31 August."""
    return day.year if day.month >= 9 else day.year - 1


def period_of(year: int) -> str:
    """'2018/19' for 2018 (the academic year that starts in September of that year)."""
    return f"{year}/{(year + 1) % 100:02d}"


def previous(period: str) -> str:
    """The academic year before: '2017/18' for '2018/19'."""
    return period_of(start_year(period) - 1)


def following(period: str) -> str:
    """The academic year after: '2019/20' for '2018/19'."""
    return period_of(start_year(period) + 1)


def span(first: str, last: str) -> list[str]:
    """Every academic year from first to last, both included, oldest first (empty when last is before first)."""
    return [period_of(y) for y in range(start_year(first), start_year(last) + 1)]


def window(period: str, n: int) -> list[str]:
    """The n consecutive academic years ending with period, oldest first (gap years included, as gaps)."""
    end = start_year(period)
    return [period_of(y) for y in range(end - max(n, 1) + 1, end + 1)]


def _within(period: str, start: str | None, end: str | None) -> bool:
    y = start_year(period)
    return (start is None or start_year(start) <= y) and (end is None or y <= start_year(end))


def years_words(start: str | None, end: str | None) -> str:
    """'2019/20 and 2020/21', '2015/16 to 2018/19', 'from 2025/26', 'until 2014/15', '2023/24'."""
    if start is None and end is None:
        return "in every year"
    if start is None:
        return f"until {end}"
    if end is None:
        return f"from {start}"
    if start == end:
        return start
    if start_year(end) - start_year(start) == 1:
        return f"{start} and {end}"
    return f"{start} to {end}"


@dataclass(frozen=True)
class Definition:
    """What a measure meant from one year to another, and where a file of those years carries it.

    `columns`: per source kind, the column names that hold the measure under this definition (replacing the source's
    `value` names for a file of these years), e.g. persistent absence at 15% is PPERSABS15 in an absence file."""

    id: str
    label: str
    start: str | None = None  # first academic year it holds; None: since before any file Jointly reads
    end: str | None = None  # last academic year it holds; None: still in force
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def holds(self, period: str) -> bool:
        return _within(period, self.start, self.end)

    def columns_for(self, kind: str) -> tuple[str, ...]:
        return next((names for k, names in self.columns if k == kind), ())


@dataclass(frozen=True)
class Gap:
    """Years DfE published no value of a measure, with DfE's reason in a sentence (shown on cards as it is)."""

    start: str
    end: str | None  # None: the measure has ended (no value from `start` on)
    reason: str
    source: str = ""  # where DfE says so (for docs/method.md and the curious)

    def covers(self, period: str) -> bool:
        return _within(period, self.start, self.end)


class Timed(Protocol):
    """What the time rules need of a measure (metrics.registry.Measure has it)."""

    label: str
    definitions: tuple[Definition, ...]
    gaps: tuple[Gap, ...]


def definition_at(definitions: Iterable[Definition], period: str) -> Definition | None:
    """The definition in force in that year (None when none holds: before the first, after the last, or none given)."""
    return next((d for d in definitions if d.holds(period)), None)


def gap_at(gaps: Iterable[Gap], period: str) -> Gap | None:
    """The DfE gap covering that year, if any."""
    return next((g for g in gaps if g.covers(period)), None)


def _reasons(gaps: Sequence[Gap], periods: Sequence[str]) -> str:
    """Each distinct gap's sentence once, in order of the years given."""
    seen: list[Gap] = []
    for p in periods:
        g = gap_at(gaps, p)
        if g is not None and g not in seen:
            seen.append(g)
    return " ".join(g.reason for g in seen)


def comparable(measure: Timed, now: str, before: str) -> tuple[bool, str]:
    """Whether `now` may be compared with `before` as a change "on last year", and if not, why in a sentence.

    Only the academic year just before, under the same definition, neither of them a DfE gap. The sentence names the
    years and, for a gap, gives DfE's reason; it never says "on last year"."""
    g = gap_at(measure.gaps, now)
    if g is not None:
        return False, g.reason
    prior = previous(now)
    if before != prior:
        between = span(following(before), prior)
        if between and all(gap_at(measure.gaps, p) is not None for p in between):
            return False, f"{_reasons(measure.gaps, between)} So {now} is not compared with {before}."
        return False, f"{now} is compared only with {prior}, the year before it, not with {before}."
    g = gap_at(measure.gaps, before)
    if g is not None:
        return False, f"{g.reason} So {now} has no change to show against {before}."
    d_now, d_before = definition_at(measure.definitions, now), definition_at(measure.definitions, before)
    if d_now != d_before:
        if d_now is not None and d_before is not None:
            return False, (f"{measure.label} changed definition in {d_now.start}: {d_before.label} "
                           f"{years_words(d_before.start, d_before.end)}, {d_now.label} "
                           f"{years_words(d_now.start, d_now.end)}. So {now} is not compared with {before}.")
        return False, f"{measure.label} has no definition for {before if d_before is None else now}."
    return True, ""


def change_note(measure: Timed, now: str, before: str, before_has_value: bool, before_status: str | None = None) -> \
        str | None:
    """Why a row shows no change on the year before (None when it may show one).

    `before_has_value`: whether the year before has a value for this school or group; `before_status` its status
    when it has none (the store's word: suppressed, missing...)."""
    ok, why = comparable(measure, now, before)
    if not ok:
        return why
    if before_has_value:
        return None
    if before_status == "suppressed":
        return f"The {before} value was not published (too few pupils), so {now} has no change to show."
    if before_status in ("not_applicable", "low_coverage"):
        return f"There is no published value for {before}, so {now} has no change to show."
    return f"There are no results for {before} in the store, so {now} has no change to show."
