"""A publication: a fixed copy of a group's chosen results for one year, in plain words, for parents.

Pure dataclasses and wording. ``data.publications`` builds one from a scorecard (with suppression applied)
and stores it; nothing here reads the store. The words use only the scorecard's own numbers and no jargon:
no "percentile", no "significance".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from metrics.registry import Measure, Polarity
from metrics.scorecard import ScorecardRow, adjusted_percentile
from metrics.text import spreadsheet_text

SUPPRESSED = "Suppressed"
WHOLE_GROUP = "Whole partnership"
CSV_COLUMNS = ("measure", "school", "value", "national", "suppressed reason", "commentary")


@dataclass(frozen=True)
class PublishedItem:
    """One measure as parents see it for the whole group."""

    position: int
    perspective: str
    measure: str
    label: str
    description: str
    unit: str
    group_display: str
    group_value: float | None  # None when suppressed
    national_display: str | None
    comparison: str  # vs schools nationally, in words ("" when there is nothing to compare with)
    similar_words: str  # how the member schools compare with one another, shown values only
    trend_words: str  # the change over time, in words
    commentary: str
    suppressed: bool
    suppressed_reason: str | None


@dataclass(frozen=True)
class PublishedSchoolValue:
    """One member school's value of one measure. A suppressed value is never kept: value and cohort are None."""

    measure: str
    urn: int
    school_name: str
    display: str
    value: float | None
    cohort: float | None
    suppressed: bool
    reason: str | None


@dataclass(frozen=True)
class PublishedSchool:
    urn: int
    name: str
    phase: str | None
    town: str | None
    postcode: str | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Publication:
    publication_id: int | None  # None for a preview
    group_id: int
    group_name: str
    period: str
    version: int
    status: str  # "preview", "published", "replaced" or "withdrawn"
    created_at: str | None
    data_as_of: str | None
    schools: tuple[PublishedSchool, ...]
    items: tuple[PublishedItem, ...]
    school_values: tuple[PublishedSchoolValue, ...]
    title: str = ""

    def content(self) -> tuple:
        """What parents read (schools, items, values): equal for a preview and what was published from it."""
        return (self.group_id, self.group_name, self.period, self.schools, self.items, self.school_values)

    def csv_bytes(self) -> bytes:
        """A plain CSV for parents (UTF-8 with a byte-order mark, so spreadsheet programs read £ and names):
        per measure, the whole group first, then each school."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(CSV_COLUMNS)
        by_measure: dict[str, list[PublishedSchoolValue]] = {}
        for v in self.school_values:
            by_measure.setdefault(v.measure, []).append(v)
        for item in sorted(self.items, key=lambda i: i.position):
            w.writerow([_cell(item.label), WHOLE_GROUP, SUPPRESSED if item.suppressed else item.group_display,
                        item.national_display or "", _cell(item.suppressed_reason or ""), _cell(item.commentary)])
            for v in by_measure.get(item.measure, []):
                w.writerow([_cell(item.label), _cell(v.school_name), SUPPRESSED if v.suppressed else v.display,
                            item.national_display or "", _cell(v.reason or "") if v.suppressed else "", ""])
        return out.getvalue().encode("utf-8-sig")


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a leader's commentary or a school's name): the one rule every
    CSV and the Excel report use, metrics.text.spreadsheet_text."""
    return spreadsheet_text(text)


# ------------------------------------------------------------------------------------------ words


def comparison_words(row: ScorecardRow, measure: Measure) -> str:
    """E.g. 'clearly higher than schools nationally (61%); better than 7 in 10 schools'. Context measures are
    described, never judged."""
    if row.value is not None and row.band is not None:
        # Progress 8: DfE's own band, against 0 (metrics.comparators), never "clearly" against the national mean
        return f"{row.band.lower()}: DfE's band for {measure.label}, where 0 is the average for all pupils nationally"
    if row.value is None or row.national is None:
        return ""
    nat = measure.format_value(row.national)
    if row.significance in ("above", "below") and measure.judged:
        side = "clearly higher" if row.significance == "above" else "clearly lower"
    elif row.significance == "in line" or measure.format_value(row.value) == nat:
        side = "about the same as"
    else:
        side = "higher" if row.value > row.national else "lower"
    words = f"{side} schools nationally ({nat})" if side == "about the same as" \
        else f"{side} than schools nationally ({nat})"
    adj = adjusted_percentile(row.percentile, measure)
    if adj is not None and measure.judged:
        tens = int(round(adj / 10))
        if 1 <= tens <= 9:
            words += f"; better than {tens} in 10 schools"
        elif tens >= 10:
            words += "; better than nearly all schools"
        else:
            words += "; better than few schools"
    return words


def spread_words(measure: Measure, shown_values: Sequence[float]) -> str:
    """How the schools compare with one another, from the values that are shown (never a hidden one)."""
    vals = sorted(v for v in shown_values if v is not None)
    if len(vals) < 2:
        return ""
    lo, hi = measure.format_value(vals[0]), measure.format_value(vals[-1])
    if lo == hi:
        return f"the schools shown are all at {lo}"
    return f"the schools range from {lo} to {hi}"


def trend_words(measure: Measure, value: float | None, before: float | None, before_period: str | None) -> str:
    """E.g. 'up from 52% in 2022/23'. `before` must itself be publishable (the caller checks its suppression)."""
    if value is None or before is None or not before_period:
        return ""
    now, then = measure.format_value(value), measure.format_value(before)
    if now == then:
        return f"the same as in {before_period} ({then})"
    direction = "up" if value > before else "down"
    words = f"{direction} from {then} in {before_period}"
    if measure.polarity is not Polarity.CONTEXT:
        better = (value > before) == (measure.polarity is Polarity.HIGHER_BETTER)
        words += f" ({'better' if better else 'worse'})"
    return words


def plain_words(row: ScorecardRow, measure: Measure, shown_values: Sequence[float],
                before: tuple[str, float] | None = None) -> tuple[str, str, str]:
    """(comparison, similar-schools words, trend words) for one published measure."""
    trend = trend_words(measure, row.value, before[1], before[0]) if before else ""
    return comparison_words(row, measure), spread_words(measure, shown_values), trend
