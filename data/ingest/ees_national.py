"""EES national (and regional, LA) key stage files: DfE's benchmarks by school type and pupil group.

The KS4 school-level file has no national rows, so national comparators come from the release's national files
(data-guidance.txt): `*_national_characteristics_by_school_types_*` (filters establishment_type_group x one pupil
characteristic per row, the others "Total"), `*_national_characteristics_summary_all_state_funded_*` (a bare
`breakdown` column, state-funded schools) and `*_all_state_funded_pupils_characteristics_and_geography_breakdowns_*`
(national, regional and LA rows). The older KS2 regional and LA file (pt_rwm_met_expected_standard, ...) reads too.

A row with every characteristic "Total" is a benchmark in `observations` (level national / region / la, scope by
school type); a row of exactly one known characteristic goes to `pupil_group_observations` under its pupil-group
id; crossings of two characteristics and characteristics Jointly keeps no group for are counted in the notes.
"""

from __future__ import annotations

from data.ingest import ees_results
from data.ingest.ees_common import (
    NATIONAL_MEASURES,
    MeasureColumns,
    check_given_period,
    number,
    pupil_group,
    pupil_group_anywhere,
    read_value,
    row_period,
    version_of,
    words,
)
from data.ingest.formats import FileKind
from data.ingest.reading import RawTable, fatal
from data.ingest.rows import Batch, group_writer
from metrics import pupil_groups
from metrics.registry import load_registry

NATIONAL_CODE = "E92000001"
# EES filter columns of the national files (data-guidance.txt): one pupil characteristic or school grouping each,
# "Total" on rows that do not break it down. establishment_type_group is the school type, read as the scope.
CHARACTERISTIC_FILTERS = ("disadvantage_status", "disadvantage", "sex", "gender", "first_language", "sen_provision",
                          "sen_status", "prior_attainment", "mobility", "fsm_status", "ethnicity_major",
                          "ethnicity_minor", "sen_primary_need", "ks2_scaled_score_group", "young_carer",
                          "school_admission_type", "school_religious_character")
SCHOOL_TYPE = "establishment_type_group"
# The school-type words and the benchmark scope each is (metrics.rollup.national_scopes looks these up); other
# types (Academies, Free schools, ...) keep their words as a scope of their own, in snake case.
_SCOPES = {"all state-funded": "state_funded", "state-funded": "state_funded", "all state-funded schools":
           "state_funded", "state-funded mainstream": "state_funded_mainstream", "all schools": "all",
           "all schools (including independent)": "all", "total": "state_funded"}
_LEVELS = {"national": "national", "regional": "region", "local authority": "la"}


def _scope(text: str) -> str:
    """The benchmark scope of an establishment_type_group ('All state-funded' -> state_funded)."""
    w = words(text)
    if w in _SCOPES:
        return _SCOPES[w]
    if "special" in w:
        return "special"
    if "alternative provision" in w or "pupil referral" in w:
        return "alternative"
    return "_".join("".join(ch if ch.isalnum() else " " for ch in w).split())


def _area(table: RawTable, row: tuple[str, ...], level: str) -> str | None:
    """The area code of a benchmark row: England's, the region's code, or the LA's (old) code."""
    if level == "national":
        return NATIONAL_CODE
    names = ("region_code",) if level == "region" else ("old_la_code", "new_la_code")
    i = table.index(*names)
    return row[i].strip() or None if i is not None else None


def _locate(table: RawTable) -> tuple[list[tuple[MeasureColumns, int, int | None, int | None, int | None,
                                                 int | None]], list[str]]:
    """(measure, value, numerator, denominator, ci_low, ci_high) per registry measure found; columns of measures
    the registry does not have (they are not stored)."""
    registry = load_registry()
    found, skipped, done = [], [], set()
    for m in NATIONAL_MEASURES:
        value = table.index(*m.value)
        if value is None or m.measure in done:
            continue
        if m.measure not in registry:
            skipped.append(table.header[value])
            continue
        done.add(m.measure)
        found.append((m, value, table.index(*m.numerator) if m.numerator else None,
                      table.index(*m.denominator) if m.denominator else None,
                      table.index(*m.ci_low) if m.ci_low else None, table.index(*m.ci_high) if m.ci_high else None))
    return found, skipped


def _lines(lines: list[int]) -> str:
    """'line 11' or 'lines 20, 21, 22, 23, 24, ...': where a note's rows are."""
    shown = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
    return f"line {shown}" if len(lines) == 1 else f"lines {shown}"


def national_batch(table: RawTable, period: str | None) -> Batch:
    """Benchmarks (observations) and pupil-group benchmarks (pupil_group_observations) from an EES national file."""
    batch = Batch()
    time_i = table.index("time_period")
    level_i = table.index("geographic_level")
    if time_i is None or level_i is None:
        raise fatal(table.path, "the key columns time_period and geographic_level are needed: they say which year "
                    "and which area (national, regional, LA) each row describes", 1)
    located, not_registry = _locate(table)
    if not located:
        raise fatal(table.path, "none of the national measures (such as attainment8_average, engmath_95_percent, "
                    "pt_rwm_met_expected_standard) are in the header", 1)
    registry = load_registry()
    scale = {m.id: m.scale for m in registry.measures}
    filters = [(table.index(c), c) for c in CHARACTERISTIC_FILTERS if table.index(c) is not None]
    topic_i, breakdown_i = table.index("breakdown_topic"), table.index("breakdown")
    type_i, version_i = table.index(SCHOOL_TYPE), table.index("version")
    periods: dict[str, tuple[int, str]] = {}
    crossings: list[int] = []
    not_groups: dict[str, dict[str, list[int]]] = {}  # column -> its words -> lines
    other_levels: dict[str, int] = {}
    unknown_versions: set[str] = set()
    group_rows: list[dict] = []
    seen: dict[tuple, int] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        p = row_period(table, row, line, time_i)
        periods.setdefault(p, (line, row[time_i].strip()))
        geo = words(row[level_i])
        level = _LEVELS.get(geo)
        if level is None:
            other_levels[row[level_i].strip()] = other_levels.get(row[level_i].strip(), 0) + 1
            continue
        area = _area(table, row, level)
        scope = _scope(row[type_i]) if type_i is not None and row[type_i].strip() else "state_funded"
        broken = [(name, row[i].strip()) for i, name in filters if not pupil_groups.is_total(row[i])]
        if breakdown_i is not None and not pupil_groups.is_total(row[breakdown_i]):
            topic = row[topic_i].strip() if topic_i is not None else ""
            broken.append((topic, row[breakdown_i].strip()))
        group = None
        if len(broken) > 1:
            crossings.append(line)
            continue
        if broken:
            name, value = broken[0]
            group = pupil_group(name, value) if name else pupil_group_anywhere(value)
            if group is None:
                not_groups.setdefault(name or "breakdown", {}).setdefault(value, []).append(line)
                continue
        key = (level, area, scope, group, p)
        if key in seen:
            raise fatal(table.path, f"two rows describe {group or 'all pupils'} in {scope} schools ({level} "
                        f"{area}) in {p} (lines {seen[key]} and {line}): the file is inconsistent, so nothing was "
                        "imported", line)
        seen[key] = line
        batch.periods.add(p)
        version = None
        if version_i is not None:
            version = version_of(row[version_i])
            if version is None and row[version_i].strip():
                unknown_versions.add(row[version_i].strip())
        for m, value_i, num_i, den_i, lo_i, hi_i in located:
            batch.cells_checked += 1
            v = read_value(table, row, value_i, line, batch.problems)
            den = number(table, row, den_i, line, batch.problems)
            num = number(table, row, num_i, line, batch.problems) if v.value is not None else None
            if v.value is not None and num is None and den:
                num = v.value * den / scale[m.measure]  # pooled roll-ups and group mixes need the total
            lo = number(table, row, lo_i, line, batch.problems)
            hi = number(table, row, hi_i, line, batch.problems)
            values = (v.value, num, den if v.value is not None else None, lo, hi, v.status, v.code, version)
            batch.measures.add(m.measure)
            if group is None:
                batch.observations.append((level, None, area, scope, m.measure, p, *values))
                continue
            group_rows.append((level, None, area, scope, m.measure, p, *values, group))
            # a group's value that is also a measure of its own (progress8_disadvantaged) is that measure's benchmark
            also = ees_results.GROUP_MEASURES.get((group, m.measure))
            if also is not None:
                batch.observations.append((level, None, area, scope, also, p, *values))
    check_given_period(table, period, periods, time_i)
    _notes(batch, crossings, not_groups, other_levels, unknown_versions, not_registry)
    if group_rows:
        batch.notes.append(f"{len(group_rows):,} pupil-group benchmarks (disadvantaged pupils, boys, girls, ...) "
                           "stored beside the benchmarks")
        batch.writers.append(group_writer(group_rows, FileKind.EES_NATIONAL, batch.notes))
    return batch


def _notes(batch: Batch, crossings: list[int], not_groups: dict[str, dict[str, list[int]]],
           other_levels: dict[str, int], unknown_versions: set[str], not_registry: list[str]) -> None:
    """The report's sentences for the rows and columns that were read but not stored."""
    if crossings:
        n = len(crossings)
        batch.notes.append(f"{n:,} row{'s' if n > 1 else ''} break{'' if n > 1 else 's'} pupils down by more than one "
                           f"characteristic ({_lines(crossings)}): not stored")
    for column, by_word in sorted(not_groups.items()):
        lines = sorted(n for ls in by_word.values() for n in ls)
        n, shown = len(lines), [repr(w) for w in by_word]
        what = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
        batch.notes.append(f"{n:,} row{'s' if n > 1 else ''} of {column} {what} {'are' if n > 1 else 'is'} not a "
                           f"pupil group Jointly keeps ({_lines(lines)}): not stored")
    for geo, n in sorted(other_levels.items()):
        batch.notes.append(f"{n:,} rows at geographic level {geo!r} (not national, regional or LA): not stored")
    if unknown_versions:
        batch.notes.append(f"version {', '.join(sorted(unknown_versions))} is not provisional, revised or final: "
                           "those values were stored without a version")
    if not_registry:
        batch.notes.append(f"{', '.join(not_registry)}: no measure of Jointly's registry, not stored")
