"""A publication: a fixed copy of a group's chosen results for one year, in plain words, for parents.

Pure dataclasses and wording. ``data.services.publications`` builds one from a scorecard (with suppression applied)
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
# Ofsted's own reports service finds a provider's page by URN alone at this address; DfE's Teaching Vacancies
# service links every school's Ofsted reports this way (DFE-Digital/teaching-vacancies,
# app/helpers/organisations_helper.rb, OFSTED_REPORT_ENDPOINT). The /provider/{category}/{urn} pages need a
# category number that differs by kind of school, which the files do not carry.
OFSTED_REPORTS = "https://reports.ofsted.gov.uk/oxedu_providers/full/(urn)/"
# DfE's versions of a year's figures, least settled first: a mix is as settled as its least settled value.
DFE_VERSIONS = ("provisional", "revised", "final")
GROUP_WORDS = {"partnership": "partnership", "federation": "federation", "cluster": "cluster", "hub": "hub",
               "trust": "trust"}
WHOLE_GROUP = "Whole partnership"
CSV_COLUMNS = ("measure", "school", "value", "national", "suppressed reason", "commentary")
GROUP_CSV_WORDS = {"disadvantaged": "disadvantaged pupils", "not_disadvantaged": "other pupils"}
NATIONAL_OTHERS_WORDS = "other pupils in England"
GROUP_DISADVANTAGED_ROW = "The partnership's disadvantaged pupils"


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
    definition: str = ""  # one plain definition of the measure in the year published
    dfe_version: str | None = None  # which of DfE's figures these are: "provisional", "revised" or "final"
    phases: tuple[str, ...] = ()  # the phases the measure is for (metrics.registry.Phase values)


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
    la_display: str | None = None  # the school's local authority's average for the measure that year
    applies: bool = True  # False: the measure is not for this school's phase (say nothing, never "no data")


@dataclass(frozen=True)
class PublishedSchool:
    urn: int
    name: str
    phase: str | None
    town: str | None
    postcode: str | None
    latitude: float | None
    longitude: float | None
    website: str | None = None  # as GIAS gives it
    la_name: str | None = None  # the school's local authority
    ofsted_url: str | None = None  # the school's page of Ofsted reports


@dataclass(frozen=True)
class LeftOutSchool:
    """A member school a publication does not include, because it had not agreed to joint publication."""

    urn: int
    name: str
    answer: str  # "declined" or "not asked"


@dataclass(frozen=True)
class PublishedGap:
    """One measure's disadvantage gap as parents read it, fixed at publication (docs/method.md, "Pupil-group
    cells"): the disadvantaged pupils' value pooled over the schools that agreed, against England's other pupils."""

    measure: str
    label: str
    disadvantaged_display: str
    disadvantaged_value: float | None  # None when suppressed
    national_display: str | None  # England's non-disadvantaged pupils
    national_value: float | None
    gap: float | None  # disadvantaged minus non-disadvantaged pupils nationally, in the measure's units
    gap_display: str
    since: str | None  # the earlier year the gap is compared with (two years back, else one), when comparable
    gap_before: float | None
    direction: str | None  # "narrowed", "widened", "unchanged" or None
    sentence: str  # the plain words (metrics.gaps.gap_sentence), or why there is none
    suppressed: bool
    suppressed_reason: str | None


@dataclass(frozen=True)
class PublishedGroupValue:
    """One school's value of a measure for one pupil group (disadvantaged or not). Hidden: no value, no cohort."""

    measure: str
    urn: int
    pupil_group: str
    display: str
    value: float | None
    cohort: float | None
    suppressed: bool
    reason: str | None


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
    left_out: tuple[LeftOutSchool, ...] = ()  # members without an agreement when it was built
    left_out_words: str = ""  # the sentence saying so ("" when every member agreed)
    gaps: tuple[PublishedGap, ...] = ()  # the disadvantage gap of each measure with pupil-group values
    group_values: tuple[PublishedGroupValue, ...] = ()  # each school's disadvantaged and other pupils' cells

    def content(self) -> tuple:
        """What parents read (schools, items, values): equal for a preview and what was published from it."""
        return (self.group_id, self.group_name, self.period, self.schools, self.items, self.school_values,
                self.left_out, self.left_out_words, self.gaps, self.group_values)

    def gap(self, measure: str) -> PublishedGap | None:
        return next((g for g in self.gaps if g.measure == measure), None)

    def group_value(self, measure: str, urn: int, pupil_group: str) -> PublishedGroupValue | None:
        return next((v for v in self.group_values
                     if v.measure == measure and v.urn == urn and v.pupil_group == pupil_group), None)

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
            gap = self.gap(item.measure)
            if gap is not None:  # the disadvantaged pupils: the partnership's, beside England's other pupils
                w.writerow([_cell(item.label), GROUP_DISADVANTAGED_ROW,
                            SUPPRESSED if gap.suppressed else gap.disadvantaged_display,
                            f"{gap.national_display} ({NATIONAL_OTHERS_WORDS})" if gap.national_display else "",
                            _cell(gap.suppressed_reason or "") if gap.suppressed else "", ""])
                names = {v.urn: v.school_name for v in by_measure.get(item.measure, [])}
                for g in (g for g in self.group_values if g.measure == item.measure):
                    who = f"{names.get(g.urn, g.urn)}, {GROUP_CSV_WORDS.get(g.pupil_group, g.pupil_group)}"
                    w.writerow([_cell(item.label), _cell(who),
                                SUPPRESSED if g.suppressed else g.display, "",
                                _cell(g.reason or "") if g.suppressed else "", ""])
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


# ------------------------------------------------------------------------------------------ point 16 fields


def ofsted_url(urn: int) -> str:
    """The address of a school's Ofsted reports, from its URN."""
    return f"{OFSTED_REPORTS}{int(urn)}"


def website_url(website: str | None) -> str | None:
    """A school's website as a full address ('www.x.sch.uk' in GIAS becomes 'https://www.x.sch.uk'); None for
    nothing, or for text that is not a web address (a link to anything else is never made)."""
    text = (website or "").strip()
    if not text or any(c.isspace() for c in text):
        return None
    low = text.lower()
    if low.startswith(("http://", "https://")):
        return text
    if ":" in text.split("/", 1)[0] or "." not in text.split("/", 1)[0]:
        return None  # "javascript:..." or a word, not a host
    return f"https://{text}"


def applies_to(phase: str | None, measure: Measure, has_value: bool) -> bool:
    """Whether a measure is for a school of this phase: a primary has no GCSE results to report, so it is not
    told it has 'no data' for them. A school with a value, or of an unknown phase, is always included."""
    if has_value or not phase or not measure.phases:
        return True
    return phase in {p.value for p in measure.phases}


def combined_version(versions: Sequence[str | None]) -> str | None:
    """DfE's version of a set of values: the least settled among them ('provisional' if any is), None when none
    says."""
    known = [v.strip().lower() for v in versions if isinstance(v, str) and v.strip().lower() in DFE_VERSIONS]
    return min(known, key=DFE_VERSIONS.index) if known else None


def definition_words(measure: Measure, definition_label: str | None) -> str:
    """One plain definition of the measure in the year: its description, and how it was counted that year when
    DfE changed that over time."""
    text = measure.description.strip()
    if definition_label and definition_label.strip():
        text = f"{text.rstrip('.')} ({definition_label.strip()})." if text else definition_label.strip()
    return text


def left_out_sentence(kind: str | None, members: int, left_out: Sequence[LeftOutSchool]) -> str:
    """E.g. '2 of the partnership's 6 schools have not agreed to publish jointly, so their results are not
    included: A, B.' ('' when none is left out)."""
    if not left_out:
        return ""
    word = GROUP_WORDS.get(str(kind or ""), "group")
    names = ", ".join(s.name for s in sorted(left_out, key=lambda s: s.name))
    n = len(left_out)
    verb, their = ("has", "its") if n == 1 else ("have", "their")
    return (f"{n} of the {word}'s {members} schools {verb} not agreed to publish jointly, so {their} results are "
            f"not included: {names}.")
