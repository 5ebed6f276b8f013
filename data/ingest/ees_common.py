"""What Explore Education Statistics files share: the year of each row, the version, pupil-group words, cells.

Pure text handling for the EES national and trust readers (``data.ingest.ees_national``, ``data.ingest.ees_trusts``);
no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.ingest import ees_results
from data.ingest.formats import CellError, parse_cell
from data.ingest.reading import Problem, RawTable, fatal
from metrics import pupil_groups
from metrics.periods import PeriodError, parse_period
from metrics.registry import Status

# EES `version` words and the version Jointly records: the same table as the school files' reader
VERSIONS = ees_results.VERSIONS
version_of = ees_results.version_of
TOTAL_WORDS = pupil_groups.TOTAL_WORDS


def words(text: str) -> str:
    """Lower-cased, single-spaced: how breakdown words are compared."""
    return pupil_groups.plain(text)


def pupil_group(topic: str, breakdown: str) -> str | None:
    """The pupil-group id of a breakdown (topic as the file names it: 'Disadvantage status', or a filter column's
    name), else None. The words are metrics.pupil_groups', shared with the school files."""
    if pupil_groups.topic_of(topic) is None:
        return None
    return pupil_groups.pupil_group_for(topic, breakdown)


def pupil_group_anywhere(breakdown: str) -> str | None:
    """A breakdown's pupil group when the file gives no topic (a bare `breakdown` column): unambiguous words only."""
    return pupil_groups.pupil_group_for("", breakdown)


def row_period(table: RawTable, row: tuple[str, ...], line: int, time_i: int) -> str:
    """The academic year a row describes, from its time_period (202425 -> 2024/25). A bad year is fatal: every
    value on the row would be stored under no year."""
    raw = row[time_i]
    try:
        return parse_period(raw)
    except PeriodError as exc:
        raise fatal(table.path, f"{exc}: every EES row names its academic year in time_period", line,
                    table.header[time_i]) from exc


def check_given_period(table: RawTable, given: str | None, found: dict[str, tuple[int, str]], time_i: int) -> None:
    """Refuse a period (from --period or the folder's name) that is none of the file's own years."""
    if given is None or given in found or not found:
        return
    first = min(found, key=lambda p: found[p][0])
    line, raw = found[first]
    shown = ", ".join(sorted(found))
    raise fatal(table.path, f"the file's rows are for {shown} (time_period {raw}) but the period given is {given}; "
                f"import it without --period, or with --period {first}", line, table.header[time_i])


@dataclass(frozen=True)
class Value:
    """One parsed value cell: the number or the reason there is none, with the file's own symbol."""

    value: float | None
    status: str
    code: str | None


INVALID = Value(None, Status.MISSING.value, "INVALID")


def read_value(table: RawTable, row: tuple[str, ...], idx: int | None, line: int,
               problems: list[Problem]) -> Value | None:
    """Parse one cell (None when the column is absent); junk is reported with line and column, stored as missing."""
    if idx is None:
        return None
    try:
        c = parse_cell(row[idx])
    except CellError as exc:
        problems.append(Problem(table.path.name, str(exc), line, table.header[idx]))
        return INVALID
    return Value(c.value, c.status.value, c.code)


def number(table: RawTable, row: tuple[str, ...], idx: int | None, line: int, problems: list[Problem]) -> float | None:
    """A count or rate cell as a number, or None (symbols and blanks; junk reported)."""
    v = read_value(table, row, idx, line, problems)
    return v.value if v is not None and v.status == Status.OK.value else None


@dataclass(frozen=True)
class MeasureColumns:
    """The EES column names (any year's) that carry one measure's value and its parts, best first."""

    measure: str
    value: tuple[str, ...]
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    ci_low: tuple[str, ...] = ()
    ci_high: tuple[str, ...] = ()


def _from_school_table(m: ees_results.EesMeasure) -> MeasureColumns:
    """A school-file alias entry as national column names (the cohort column is the national base)."""
    return MeasureColumns(m.measure, m.value, m.numerator, m.cohort, m.ci_low, m.ci_high)


# National and trust-level column names: the school files' alias table (data.ingest.ees_results: 2024/25 names from
# data-guidance.txt, 2023/24 and older names from DfE's readers), whose names the national characteristics files share
# (data-guidance.txt lines 31-240 and 243-450), plus what only the national and LA files carry: EBacc at grade 5+
# (ebacc_95_percent, which the trust file has too) and KS2's wide progress columns (avg_read_progress_score with
# its _lower_CI / _upper_CI, t_read_progress_eligible_pupils: a DfE dashboard's reader of the KS2 regional and LA
# file, ks2_regional_and_local_authority_2016_to_2023_revised.csv). Trust files add "_weighted" to the value column.
NATIONAL_MEASURES: tuple[MeasureColumns, ...] = (
    *(_from_school_table(m) for m in ees_results.KS4_MEASURES if m.measure != "ks4_cohort"),
    MeasureColumns("ebacc_95", ("ebacc_95_percent", "pt_ebacc_95"), ("ebacc_95_total", "t_ebacc_95"),
                   ("pupil_count", "t_pupils")),
    MeasureColumns("ks2_rwm_expected", ("pt_rwm_met_expected_standard",), ("t_rwm_met_expected_standard",),
                   ("t_rwm_eligible_pupils", "t_elig", "eligible_pupil_count")),
    MeasureColumns("ks2_rwm_high", ("pt_rwm_met_higher_standard",), ("t_rwm_met_higher_standard",),
                   ("t_rwm_eligible_pupils", "t_elig", "eligible_pupil_count")),
    *(MeasureColumns(f"ks2_{name}_progress", (f"avg_{col}_progress_score",), (f"t_{col}_progress_score",),
                     (f"t_{col}_progress_eligible_pupils",), (f"avg_{col}_progress_score_lower_ci",),
                     (f"avg_{col}_progress_score_upper_ci",))
      for name, col in (("reading", "read"), ("writing", "writta"), ("maths", "mat"))),
)
