"""EES school results: the key stage 4 and key stage 2 school-level performance files and KS4's information about
schools, as DfE publishes them on Explore Education Statistics since 2023/24.

These files are tidy: one row per school and pupil breakdown (KS2: and subject), the year in `time_period`
(202425), the version of the figures in `version` (Provisional / Revised / Final) and EES symbols (c, z, x, u, low,
k) in value cells. Column names change between years, so each measure is found through the alias table below, by
name, never by position; a column no measure reads is reported in the import's notes, never fatal.

A Total row feeds the ordinary observations under the same measure ids as the older performance tables
(attainment8, progress8, basics_94, ...); any other breakdown is a pupil group (metrics/pupil_groups.py) and goes to
pupil_group_observations. Breakdowns whose words we do not know are counted in the notes and skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from data.ingest import cells, rows
from data.ingest.formats import FileKind, parse_int, parse_urn
from data.ingest.reading import Problem, RawTable, fatal
from metrics import pupil_groups
from metrics.periods import PeriodError, parse_period
from metrics.registry import load_registry


@dataclass(frozen=True)
class EesMeasure:
    """Where one of our measures sits in EES files: accepted column names per field, across years (first found wins).

    `subject` (KS2) names the rows that carry it: the KS2 file has one row per school, breakdown and subject."""

    measure: str
    value: tuple[str, ...]
    cohort: tuple[str, ...] = ()
    numerator: tuple[str, ...] = ()
    ci_low: tuple[str, ...] = ()
    ci_high: tuple[str, ...] = ()
    subject: str | None = None


# KS4 school performance file. 2024/25 names from data-guidance.txt (lines 829-990 of the 2024/25 release); 2023/24
# names from DfE's own data map of that file (DFE-Digital/sap-sector, SAPData/DataMap/Definitions/ks4-performance.json)
# and from published readers of 202324_performance_tables_schools_final.csv (see docs/data.md).
KS4_MEASURES: tuple[EesMeasure, ...] = (
    EesMeasure("ks4_cohort", value=("pupil_count", "t_pupils")),
    EesMeasure("attainment8", value=("attainment8_average", "avg_att8"), cohort=("pupil_count", "t_pupils"),
               numerator=("attainment8_sum", "t_att8")),
    EesMeasure("progress8", value=("progress8_average", "avg_p8score"),
               cohort=("progress8_pupil_count", "t_inp8calc"), numerator=("progress8_sum", "t_p8score"),
               ci_low=("progress8_lower_95_ci", "p8score_ci_low"), ci_high=("progress8_upper_95_ci", "p8score_ci_upp")),
    EesMeasure("basics_94", value=("engmath_94_percent", "pt_l2basics_94"), cohort=("pupil_count", "t_pupils"),
               numerator=("engmath_94_total", "t_l2basics_94")),
    EesMeasure("basics_95", value=("engmath_95_percent", "pt_l2basics_95"), cohort=("pupil_count", "t_pupils"),
               numerator=("engmath_95_total", "t_l2basics_95")),
    EesMeasure("ebacc_aps", value=("ebacc_aps_average", "avg_ebaccaps"), cohort=("pupil_count", "t_pupils"),
               numerator=("ebacc_aps_sum", "t_ebaccaps")),
    EesMeasure("ebacc_entry", value=("ebacc_entering_percent", "pt_ebacc_e_ptq_ee"), cohort=("pupil_count", "t_pupils"),
               numerator=("ebacc_entering_total", "t_ebacc_e_ptq_ee")),
    EesMeasure("ebacc_94", value=("ebacc_94_percent", "pt_ebacc_94"), cohort=("pupil_count", "t_pupils"),
               numerator=("ebacc_94_total", "t_ebacc_94")),  # t_ by DfE's own t_/pt_ pairing of 2023/24 names
    EesMeasure("ebacc_languages_entry", value=("ebacclan_entering_percent",), cohort=("pupil_count", "t_pupils"),
               numerator=("ebacclan_entering_total",)),
    EesMeasure("ebacc_humanities_entry", value=("ebacchum_entering_percent",), cohort=("pupil_count", "t_pupils"),
               numerator=("ebacchum_entering_total",)),
    EesMeasure("ebacc_science_entry", value=("ebaccsci_entering_percent",), cohort=("pupil_count", "t_pupils"),
               numerator=("ebaccsci_entering_total",)),
)

# KS2 school performance file (ks2_school_attainment_data.csv): one row per school, breakdown and subject. Names from
# DfE's data map (DFE-Digital/sap-sector, SAPData/DataMap/Definitions/ks2-performance.json) and the EES API schema of
# the 2024/25 school file (dataset 019afee4-e5d0-72f9-9a8f-d7a1a56eac1d). The wide names are the older
# characteristics files' (pt_rwm_met_expected_standard), accepted on rows without a subject.
_RWM = "Reading, writing and maths"
KS2_MEASURES: tuple[EesMeasure, ...] = (
    EesMeasure("ks2_rwm_expected", value=("expected_standard_pupil_percent",), cohort=("eligible_pupil_count",),
               numerator=("expected_standard_pupil_count",), subject=_RWM),
    EesMeasure("ks2_rwm_high", value=("higher_standard_pupil_percent",), cohort=("eligible_pupil_count",),
               numerator=("higher_standard_pupil_count",), subject=_RWM),
    EesMeasure("ks2_rwm_expected", value=("pt_rwm_met_expected_standard",), cohort=("t_elig", "eligible_pupil_count")),
    EesMeasure("ks2_rwm_high", value=("pt_rwm_met_higher_standard",), cohort=("t_elig", "eligible_pupil_count")),
    EesMeasure("ks2_reading_score", value=("average_scaled_score",), cohort=("eligible_pupil_count",),
               subject="Reading"),
    EesMeasure("ks2_maths_score", value=("average_scaled_score",), cohort=("eligible_pupil_count",), subject="Maths"),
    *(EesMeasure(f"ks2_{s.lower()}_progress", value=("progress_measure_score",),
                 cohort=("progress_measure_eligible_pupil_count", "eligible_pupil_count"),
                 ci_low=("progress_measure_lower_conf_interval",), ci_high=("progress_measure_upper_conf_interval",),
                 subject=s) for s in ("Reading", "Writing", "Maths")),
)

# KS4 information about schools (202425_information_about_schools_provisional.csv, data-guidance.txt "Information
# about schools"): the end-of-KS4 cohort feeds ks4_cohort; SEN counts and DfE's disadvantage gaps are pupil-group rows.
INFO_MEASURES: tuple[EesMeasure, ...] = (
    EesMeasure("ks4_cohort", value=("endks4_pupil_count",)),
)

# Pupil-group rows of the information file: (pupil group, measure, scope, value column, cohort column). The SEN
# counts are the KS4 cohort's pupils in that group (value = numerator = count, denominator = the whole cohort); the
# _diffn columns are DfE's published gaps: the disadvantaged pupils' result minus non-disadvantaged pupils' nationally.
GAP_SCOPE = rows.GAP_SCOPE
GAP_RANGE = rows.GAP_RANGE
INFO_GROUP_ROWS: tuple[tuple[str, str, str | None, str, str | None], ...] = (
    ("ehc_plan", "ks4_cohort", None, "sen_with_ehcp_pupil_count", "endks4_pupil_count"),
    ("sen_support", "ks4_cohort", None, "sen_no_ehcp_pupil_count", "endks4_pupil_count"),
    ("disadvantaged", "attainment8", GAP_SCOPE, "attainment8_diffn", None),
    ("disadvantaged", "progress8", GAP_SCOPE, "progress8_diffn", None),
)

# Today's measures that DfE's older files gave for one pupil group: a group row feeds them too, so cards that show
# them keep working for EES years (P8MEA_FSM6CLA1A was "Progress 8 of disadvantaged pupils").
# The KS4 cohort's disadvantaged share (the older files' PTFSM6CLA1A): the Disadvantaged row's pupils over the Total
# row's, with DfE's own rounded percentage as the value where the file gives it (2024/25 `pupil_percent`).
SHARE_MEASURE = "ks4_disadvantaged_pct"
SHARE_COUNT = ("pupil_count", "t_pupils")
SHARE_PERCENT = ("pupil_percent",)

GROUP_MEASURES: dict[tuple[str, str], str] = {
    ("disadvantaged", "progress8"): "progress8_disadvantaged",
    ("disadvantaged", "ks2_rwm_expected"): "ks2_rwm_expected_disadvantaged",
}

# Columns that say which row this is, or describe the school: read, never "not used".
KEY_COLUMNS = ("time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
               "region_name", "old_la_code", "new_la_code", "la_name", "school_laestab", "school_urn", "school_name",
               "version", "establishment_type_group", "breakdown_topic", "breakdown", "subject")
# Filter columns: one per pupil characteristic, "Total" except on its own breakdown's rows (2023/24 names too).
FILTER_COLUMNS = ("disadvantage_status", "disadvantage", "sex", "gender", "first_language", "mobility",
                  "prior_attainment", "sen_status", "sen_provision")
INFO_FACTS = ("full_address", "telnum", "pcon_code", "pcon_name", "contflag", "iclose", "reldenom", "admpol_pt",
              "egender", "feeder", "agerange", "allks_pupil_count", "allks_boys_count", "allks_girls_count")

VERSIONS = {"provisional": "provisional", "revised": "revised", "final": "final"}
VERSION_ORDER = rows.VERSION_ORDER
# Rows averaging several years are no year's value (KS2 "3 year average"): skipped, counted in the notes.
_MULTI_YEAR = ("3 year average", "three year average", "3 year total")


def ks4_batch(table: RawTable, period: str | None) -> rows.Batch:
    """EES key stage 4 school performance file."""
    return _results_batch(table, period, KS4_MEASURES, FileKind.EES_KS4)


def ks2_batch(table: RawTable, period: str | None) -> rows.Batch:
    """EES key stage 2 school performance file."""
    return _results_batch(table, period, KS2_MEASURES, FileKind.EES_KS2)


@dataclass(frozen=True)
class _Located:
    """One alias entry found in this file: the reader's column positions and the rows it applies to."""

    spec: EesMeasure
    cols: object  # data.ingest.rows.Columns


def _locate(table: RawTable, specs: tuple[EesMeasure, ...]) -> list[_Located]:
    """The alias entries whose value column this file has (a KS2 subject entry needs the file's subject column)."""
    registry = load_registry()
    has_subject = table.index("subject") is not None
    found = []
    for spec in specs:
        value = table.index(*spec.value)
        if value is None or (spec.subject is not None and not has_subject):
            continue
        numerator = table.index(*spec.numerator) if spec.numerator else None
        cols = rows.Columns(
            measure=registry.get(spec.measure),
            value=value,
            cohort=table.index(*spec.cohort) if spec.cohort else None,
            numerator=(numerator,) if numerator is not None else (),
            denominator=(),
            ci_low=table.index(*spec.ci_low) if spec.ci_low else None,
            ci_high=table.index(*spec.ci_high) if spec.ci_high else None,
        )
        found.append(_Located(spec, cols))
    return found


def _used(cols) -> set[int]:
    return {i for i in (cols.value, cols.cohort, cols.ci_low, cols.ci_high, *cols.numerator) if i is not None}


def version_of(text: str) -> str | None:
    """'Revised' -> 'revised'; None for a blank or unknown word (the caller notes it). The EES readers' one table."""
    return VERSIONS.get(pupil_groups.plain(text))


# A national file repeats a few words (topics, breakdowns, subjects, versions) on every one of its 800,000 rows: each
# distinct text is read once (the functions are pure; the bound keeps a file of endless distinct words small)
_plain = lru_cache(maxsize=1 << 16)(pupil_groups.plain)
_version = lru_cache(maxsize=1 << 12)(lambda text: version_of(text))


@lru_cache(maxsize=1 << 16)
def _row_group(topic: str, breakdown: str) -> tuple[bool, bool, str | None]:
    """(a multi-year row, a Total row, its pupil group) of a row's topic and breakdown words."""
    if pupil_groups.plain(breakdown) in _MULTI_YEAR or pupil_groups.plain(topic) in _MULTI_YEAR:
        return True, False, None
    total = pupil_groups.is_total(breakdown) and (not topic or pupil_groups.is_total(topic))
    return False, total, None if total else pupil_groups.pupil_group_for(topic, breakdown)


def _breakdown(table: RawTable, row: tuple[str, ...], g) -> tuple[str, str]:
    """(topic, breakdown) of a row: the breakdown column when there is one, else the filter column not at Total."""
    topic = g(row, "breakdown_topic")
    if table.index("breakdown") is not None:
        return topic, g(row, "breakdown")
    for name in FILTER_COLUMNS:
        value = g(row, name)
        if value and not pupil_groups.is_total(value):
            return topic or name, value
    return topic or "Total", "Total"


def _row_period(table: RawTable, row: tuple[str, ...], line: int, time_i: int, known: dict[str, str]) -> str:
    """The row's academic year from time_period (202425 -> 2024/25); a file holds few, so each is parsed once."""
    raw = row[time_i]
    if raw in known:
        return known[raw]
    try:
        known[raw] = parse_period(raw)
    except PeriodError as exc:
        raise fatal(table.path, f"{exc} (column time_period)", line, "time_period") from exc
    return known[raw]


def _school_row(table: RawTable, batch: rows.Batch, row: tuple[str, ...], line: int,
                cols: tuple[int | None, int, int], periods: dict[str, str],
                other_levels: Counter[str]) -> tuple[str, int] | None:
    """A school row's (period, URN); None for a row above school level (counted) or without a URN (reported)."""
    level_i, time_i, urn_i = cols
    level = row[level_i].strip() if level_i is not None else "School"
    if pupil_groups.plain(level) != "school":
        other_levels[level] += 1  # national and LA rows are benchmarks: DfE's national files carry them
        return None
    row_period = _row_period(table, row, line, time_i, periods)
    urn = parse_urn(row[urn_i])
    if urn is None:
        batch.problems.append(Problem(table.path.name, f"expected a URN, found {row[urn_i]!r}; row skipped", line,
                                      "school_urn"))
        return None
    return row_period, urn


def _school_facts(row: tuple[str, ...], g, urn: int) -> dict:
    """What a results row says about its school (written fill-only: GIAS is the authority)."""
    laestab = parse_int(g(row, "school_laestab"))
    la = parse_int(g(row, "old_la_code"))
    est = {"urn": urn, "name": g(row, "school_name") or None, "la_code": la, "la_name": g(row, "la_name") or None,
           "type_group": g(row, "establishment_type_group") or None}
    if laestab is not None and laestab >= 10000:
        est["estab"] = laestab % 10000
        est["la_code"] = la if la is not None else laestab // 10000
    # "name" stays even when empty: a record of a URN alone would give the upsert no column to set
    return {k: v for k, v in est.items() if v is not None or k == "name"}


def _results_batch(table: RawTable, period: str | None, specs: tuple[EesMeasure, ...], kind: str) -> rows.Batch:
    """Total rows to observations, pupil-group rows to pupil_group_observations, unknown breakdowns reported.

    A column at a time (data.ingest.cells): each distinct level, year, URN, breakdown, subject and version text is read
    once and every value column parsed whole; the rows without a URN and the odd rows (a junk or implausible cell)
    are then read one by one in the file's order, so the problems, notes and their order are the row reader's."""
    fill = frozenset({"name", "la_code", "la_name", "estab", "type_group", "phase"})
    batch = rows.Batch(fill_only=fill)
    time_i = rows.require(table, "time_period")
    urn_i = rows.require(table, "school_urn")
    g = rows.getter(table)
    located = _locate(table, specs)
    if not located:
        names = ", ".join(sorted({s.value[0] for s in specs})[:6])
        raise fatal(table.path, f"none of the measure columns of this EES file are known (expected names such as "
                    f"{names}): was it renamed? Import the file as DfE published it", 1)
    for loc in located:
        batch.measures.add(loc.spec.measure)
        batch.used_columns.update(_used(loc.cols))
    known = {table.index(c) for c in (*KEY_COLUMNS, *FILTER_COLUMNS)} - {None}
    batch.used_columns.update(known)  # type: ignore[arg-type]
    subject_i = table.index("subject")
    reader = rows.RowReader(table, batch)
    n = len(table.rows)
    other_levels: Counter[str] = Counter()
    school = _school_levels(table, table.index("geographic_level"), other_levels)
    # the year of each distinct time_period text; a school row with none stops the import (_row_period)
    at_year, year_texts = cells.distinct(table, time_i)
    years, year_errors = _years(year_texts)
    dated = school & np.array([y is not None for y in years], bool)[at_year]
    at_urn, urn_texts = cells.distinct(table, urn_i)
    urns = cells.objects(parse_urn(t) for t in urn_texts)
    has_urn = np.array([u is not None for u in urns], bool)[at_urn]
    no_urn, named = dated & ~has_urn, dated & has_urn
    combo, words, multi, total, groups = _breakdowns(table, g)
    group_code = pd.factorize(groups, use_na_sentinel=True)[0][combo]  # -1: a Total row
    multi_rows = named & multi[combo]
    unknown_rows = named & ~multi[combo] & ~total[combo] & (group_code < 0)
    accepted = named & ~multi[combo] & (total[combo] | (group_code >= 0))
    if subject_i is not None:
        at_subject, subject_texts = cells.distinct(table, subject_i)
        plain_subjects = [_plain(t) for t in subject_texts]
    else:
        at_subject, plain_subjects = np.zeros(n, np.intp), [""]
    _refuse_first(table, school, dated, accepted, at_year, years, year_errors, urns[at_urn], group_code,
                  groups[combo], pd.factorize(np.asarray(plain_subjects, dtype=object))[0][at_subject], subject_i)
    unknown: Counter[tuple[str, str]] = Counter()
    for c, count in enumerate(np.bincount(combo[unknown_rows], minlength=len(words))):
        if count:
            unknown[words[c]] += int(count)
    multi_year = int(multi_rows.sum())
    at_version, version_texts = cells.distinct(table, table.index("version")) if table.index("version") is not None \
        else (np.zeros(n, np.intp), np.array([""], dtype=object))
    versions_of = cells.objects(_version(t.strip()) for t in version_texts)
    versions: Counter[str | None] = Counter()
    for v, count in enumerate(np.bincount(at_version[accepted], minlength=len(versions_of))):
        if count:
            versions[versions_of[v]] += int(count)
    batch.periods.update(years[y] for y in np.unique(at_year[accepted]))
    urn_row, year_row, version_row, group_row = urns[at_urn], years[at_year], versions_of[at_version], groups[combo]
    schools: dict[int, dict] = {}
    accepted_at = np.nonzero(accepted)[0]
    # each school's first row describes it, as the row loop kept it (by URN: " 100001" is 100001's row too)
    firsts = ~pd.Series(urn_row[accepted_at]).duplicated().to_numpy()
    for pos in accepted_at[firsts]:
        row, urn = table.rows[pos], urn_row[pos]
        schools[urn] = _school_facts(row, g, urn)
        # the file names no phase: its key stage and the type's words say it (fill-only, GIAS wins)
        if (phase := rows.phase_from_key_stage(kind, g(row, "establishment_type_group"))) is not None:
            schools[urn]["phase"] = phase
    subjects = [None if loc.spec.subject is None else pupil_groups.plain(loc.spec.subject) for loc in located]
    columns = cells.ColumnReader(table)
    observed = []
    for k, (loc, only) in enumerate(zip(located, subjects, strict=True)):
        applies = accepted if only is None else \
            accepted & np.array([s == only for s in plain_subjects], bool)[at_subject]
        at = np.nonzero(applies)[0]
        if len(at):
            observed.append((k, loc, columns.observe(loc.cols, at)))
    width = len(located)  # an entry's key: its row's position times the measures, plus the measure's
    # what the row reader counts and holds of the rows read column-wise, before their parsed columns are let go
    batch.cells_checked += columns.plain_cells()
    last = columns.last_read()
    last_cells = columns.cells_of(last) if last is not None and not columns.odd[last] else None
    columns.forget_parsed()
    observations, group_rows = cells.InFileOrder(), cells.InFileOrder()
    observed.reverse()
    while observed:  # each measure's arrays let go once its tuples are made: the peak is the tuples, not both
        k, loc, o = observed.pop()
        keep = ~columns.odd[o.at]
        is_total = group_code[o.at] < 0

        def part(sel: np.ndarray, measure: str, o: cells.Observed = o, k: int = k) -> tuple[np.ndarray, list]:
            at = o.at[sel]
            return at * width + k, [cells.constant("school", len(at)), urn_row[at], cells.constant(None, len(at)),
                                    cells.constant(None, len(at)), cells.constant(measure, len(at)), year_row[at],
                                    *o.columns(sel), version_row[at]]

        observations.columns(*part(keep & is_total, loc.spec.measure))
        keys, fields = part(keep & ~is_total, loc.spec.measure)
        group_rows.columns(keys, [*fields, group_row[o.at[keep & ~is_total]]])
        for (group, measure), legacy in GROUP_MEASURES.items():
            sel = keep & ~is_total & (group_row[o.at] == group) if measure == loc.spec.measure else None
            if sel is not None and sel.any():
                observations.columns(*part(sel, legacy))
                batch.measures.add(legacy)
    # rows read one by one, in the file's order: those without a URN (reported) and the odd ones (the row reader's)
    for pos in np.nonzero(no_urn | columns.odd)[0].tolist():
        row, line = table.rows[pos], table.lines[pos]
        if no_urn[pos]:
            batch.problems.append(Problem(table.path.name, f"expected a URN, found {row[urn_i]!r}; row skipped", line,
                                          "school_urn"))
            continue
        urn, row_period, version, group = urn_row[pos], year_row[pos], version_row[pos], group_row[pos]
        subject = plain_subjects[at_subject[pos]]
        for k, (loc, only) in enumerate(zip(located, subjects, strict=True)):
            if only is not None and only != subject:
                continue
            obs = reader.observation(loc.cols, row, line)
            key = pos * width + k
            if group is None:
                observations.one(key, ("school", urn, None, None, loc.spec.measure, row_period, *obs, version))
                continue
            group_rows.one(key, ("school", urn, None, None, loc.spec.measure, row_period, *obs, version, group))
            legacy = GROUP_MEASURES.get((group, loc.spec.measure))
            if legacy is not None:
                observations.one(key, ("school", urn, None, None, legacy, row_period, *obs, version))
                batch.measures.add(legacy)
    batch.observations = observations.rows()
    group_rows = group_rows.rows()
    if last_cells is not None:  # the row reader goes on from the last row read, as after a row loop
        reader.at_row(table.lines[last], last_cells)
    batch.establishments = list(schools.values())
    if kind == FileKind.EES_KS4:
        share_rows: dict[tuple[int, str], tuple] = {}  # (urn, period) -> the Disadvantaged row, its line, version
        totals: dict[tuple[int, str], tuple] = {}  # (urn, period) -> the Total row and its line
        for pos in np.nonzero(accepted & ((group_code < 0) | (group_row == "disadvantaged")))[0]:
            key = (urn_row[pos], year_row[pos])
            if group_row[pos] is None:
                totals[key] = (table.rows[pos], table.lines[pos])
            else:
                share_rows[key] = (table.rows[pos], table.lines[pos], version_row[pos])
        _disadvantaged_share(batch, table, reader, share_rows, totals)
    _notes(batch, table, other_levels, unknown, multi_year, versions, len(group_rows))
    if group_rows:
        batch.writers.append(rows.group_writer(group_rows, kind, batch.notes))
    return batch


def _school_levels(table: RawTable, level_i: int | None, other_levels: Counter[str]) -> np.ndarray:
    """Which rows are at school level (each distinct geographic_level text read once); the others counted by level."""
    if level_i is None:
        return np.ones(len(table.rows), bool)
    at, texts = cells.distinct(table, level_i)
    stripped = [t.strip() for t in texts]
    is_school = np.array([pupil_groups.plain(t) == "school" for t in stripped], bool)
    for u, count in enumerate(np.bincount(at, minlength=len(texts))):
        if not is_school[u]:
            other_levels[stripped[u]] += int(count)  # national and LA rows are benchmarks: DfE's national files
    return is_school[at]


def _years(texts: np.ndarray) -> tuple[np.ndarray, dict[int, PeriodError]]:
    """The academic year of each distinct time_period text (202425 -> 2024/25), None where it is none (and why)."""
    years, errors = [], {}
    for i, raw in enumerate(texts):
        try:
            years.append(parse_period(raw))
        except PeriodError as exc:
            years.append(None)
            errors[i] = exc
    return cells.objects(years), errors


def _breakdowns(table: RawTable, g) -> tuple[np.ndarray, list[tuple[str, str]], np.ndarray, np.ndarray, np.ndarray]:
    """Each row's (topic, breakdown) worked out once per distinct combination of the texts that say it (_breakdown):
    (per row its combination; per combination its words, multi-year, Total, pupil group)."""
    names = ("breakdown_topic", "breakdown") if table.index("breakdown") is not None else \
        ("breakdown_topic", *FILTER_COLUMNS)
    idxs = [i for i in dict.fromkeys(table.index(name) for name in names) if i is not None]
    combo = np.zeros(len(table.rows), np.int64)
    for i in idxs:  # one number per distinct combination so far, kept below the row count (no overflow)
        codes = cells.distinct(table, i)[0]
        combo = pd.factorize(combo * (int(codes.max(initial=0)) + 1) + codes)[0]
    first = np.unique(combo, return_index=True)[1]  # each combination's first row (combinations first seen first)
    words = [_breakdown(table, table.rows[f], g) for f in first]
    kinds = [_row_group(*w) for w in words]
    return (combo, words, np.array([k[0] for k in kinds], bool), np.array([k[1] for k in kinds], bool),
            cells.objects(k[2] for k in kinds))


def _refuse_first(table: RawTable, school: np.ndarray, dated: np.ndarray, accepted: np.ndarray, at_year: np.ndarray,
                  years: np.ndarray, year_errors: dict[int, PeriodError], urn_row: np.ndarray, group_code: np.ndarray,
                  group_row: np.ndarray, subject_code: np.ndarray, subject_i: int | None) -> None:
    """Raise what the row loop raised first, if anything: a school row without a year, or a second row of a school's
    Total or pupil group (and subject) in a year."""
    n = len(table.rows)
    undated = school & ~dated
    first_undated = int(np.argmax(undated)) if undated.any() else n
    at = np.nonzero(accepted)[0]
    # years compared as read (two texts of one year are one year), subjects as their plain words
    keys = pd.DataFrame({"urn": urn_row[at].astype(np.int64), "year": pd.factorize(years[at_year[at]])[0],
                         "group": group_code[at],
                         "subject": subject_code[at]})
    again = keys.duplicated().to_numpy()
    first_again = int(at[np.argmax(again)]) if again.any() else n
    if first_undated == n and first_again == n:
        return
    if first_undated < first_again:
        line = table.lines[first_undated]
        exc = year_errors[int(at_year[first_undated])]
        raise fatal(table.path, f"{exc} (column time_period)", line, "time_period") from exc
    i = int(np.argmax(again))
    first = int(at[np.argmax((keys.to_numpy() == keys.to_numpy()[i]).all(axis=1))])
    row, line, urn, group = table.rows[first_again], table.lines[first_again], urn_row[first_again], \
        group_row[first_again]
    subject = _plain(row[subject_i]) if subject_i is not None else ""
    what = f"the {pupil_groups.label(group)} row" if group else "the Total row"
    raise fatal(table.path, f"URN {urn} has {what}{' for ' + row[subject_i].strip() if subject else ''} "  # type: ignore[index]
                f"twice for {years[at_year[first_again]]} (lines {table.lines[first]} and {line}): the file is "
                "inconsistent, so nothing was imported", line, "school_urn")


def _disadvantaged_share(batch: rows.Batch, table: RawTable, reader, share_rows: dict, totals: dict) -> None:
    """ks4_disadvantaged_pct from the Disadvantaged and Total rows: numerator = the Disadvantaged row's pupils,
    denominator = the Total row's; the value is DfE's own percentage where given, else the ratio x 100."""
    count_i, pct_i = table.index(*SHARE_COUNT), table.index(*SHARE_PERCENT)
    if count_i is None:
        return
    added = False
    for key, (row, line, version) in share_rows.items():
        if key not in totals:
            continue
        total_row, total_line = totals[key]
        part, whole = reader.number(row, count_i, line), reader.number(total_row, count_i, total_line)
        if part is None or not whole:
            continue
        pct = reader.number(row, pct_i, line) if pct_i is not None else None
        value = pct if pct is not None else part / whole * 100
        batch.observations.append(("school", key[0], None, None, SHARE_MEASURE, key[1], value, part, whole, None,
                                   None, "ok", None, version))
        added = True
    if added:
        batch.measures.add(SHARE_MEASURE)
        batch.used_columns.update(i for i in (count_i, pct_i) if i is not None)


def school_info_batch(table: RawTable, period: str | None) -> rows.Batch:
    """EES KS4 information about schools: the end-of-KS4 cohort, SEN counts, DfE's disadvantage gaps, school facts."""
    fill = frozenset({"name", "la_code", "la_name", "estab", "type_group", "age_low", "age_high", "gender",
                      "religious_character", "pupils", "phase"})
    batch = rows.Batch(fill_only=fill)
    time_i = rows.require(table, "time_period")
    urn_i = rows.require(table, "school_urn")
    g = rows.getter(table)
    located = _locate(table, INFO_MEASURES)
    for loc in located:
        batch.measures.add(loc.spec.measure)
        batch.used_columns.update(_used(loc.cols))
    registry = load_registry()
    group_cols = []
    for group, measure, scope, value_col, cohort_col in INFO_GROUP_ROWS:
        vi = table.index(value_col)
        if vi is None:
            continue
        ci = table.index(cohort_col) if cohort_col else None
        cols = rows.Columns(measure=registry.get(measure), value=vi, cohort=ci, numerator=(), denominator=(),
                            ci_low=None, ci_high=None)
        group_cols.append((group, measure, scope, cols))
        batch.used_columns.update(_used(cols))
    if not located and not group_cols:
        raise fatal(table.path, "none of the columns of DfE's information about schools were found (such as "
                    "endks4_pupil_count, attainment8_diffn): was it renamed? Import the file as DfE published it", 1)
    known = {table.index(c) for c in (*KEY_COLUMNS, *INFO_FACTS)} - {None}
    batch.used_columns.update(known)  # type: ignore[arg-type]
    level_i = table.index("geographic_level")
    reader = rows.RowReader(table, batch)
    seen: dict[tuple[int, str], int] = {}
    periods: dict[str, str] = {}
    group_rows: list[tuple] = []
    other_levels: Counter[str] = Counter()
    versions: Counter[str | None] = Counter()
    for row, line in zip(table.rows, table.lines, strict=True):
        key = _school_row(table, batch, row, line, (level_i, time_i, urn_i), periods, other_levels)
        if key is None:
            continue
        row_period, urn = key
        if (urn, row_period) in seen:
            raise fatal(table.path, f"URN {urn} appears twice for {row_period} (lines {seen[(urn, row_period)]} and "
                        f"{line}): the file is inconsistent, so nothing was imported", line, "school_urn")
        seen[(urn, row_period)] = line
        batch.periods.add(row_period)
        version = _version(g(row, "version"))
        versions[version] += 1
        est = _school_facts(row, g, urn)
        # the file names no phase: a school with KS4 pupils is at least secondary, special by its type's words
        if (phase := rows.phase_from_key_stage(FileKind.EES_SCHOOL_INFO, g(row, "establishment_type_group"))):
            est["phase"] = phase
        low, high = _age_range(g(row, "agerange"))
        extra = {"age_low": low, "age_high": high, "gender": g(row, "egender") or None,
                 "religious_character": g(row, "reldenom") or None,
                 "pupils": parse_int(g(row, "allks_pupil_count"))}
        est.update({k: v for k, v in extra.items() if v is not None})
        batch.establishments.append(est)
        for loc in located:
            obs = reader.observation(loc.cols, row, line)
            if obs is not None:
                batch.observations.append(("school", urn, None, None, loc.spec.measure, row_period, *obs, version))
        for group, measure, scope, cols in group_cols:
            # a gap is a difference: the measure's own range (Attainment 8 from 0 to 90) does not hold it
            obs = reader.observation(cols, row, line, school=scope != GAP_SCOPE)
            if obs is None:
                continue
            if scope == GAP_SCOPE:
                obs = rows.checked_gap(batch, table, cols, obs, line)
            value, numerator, denominator, lo, hi, status, code = obs
            if cols.cohort is not None and value is not None:
                numerator = value  # a count of the cohort's pupils: the cohort is its base
            group_rows.append(("school", urn, None, scope, measure, row_period, value, numerator, denominator, lo, hi,
                               status, code, version, group))
    _notes(batch, table, other_levels, Counter(), 0, versions, len(group_rows))
    if group_rows:
        batch.writers.append(rows.group_writer(group_rows, FileKind.EES_SCHOOL_INFO, batch.notes))
    return batch


def _age_range(text: str) -> tuple[int | None, int | None]:
    """'13 to 22' -> (13, 22); anything else -> (None, None)."""
    parts = text.split(" to ") if text else []
    if len(parts) != 2:
        return None, None
    return parse_int(parts[0]), parse_int(parts[1])


def _notes(batch: rows.Batch, table: RawTable, other_levels: Counter[str],
           unknown: Counter[tuple[str, str]], multi_year: int, versions: Counter[str | None], groups: int) -> None:
    """The sentences an import of an EES results file adds to its report."""
    # a --period or folder year that disagrees with time_period: data.ingest.importers._check_own_year
    notes = batch.notes
    named = sorted(v for v in versions if v)
    if named:
        notes.append(f"version: {', '.join(named)} (kept on each value)")
    if versions.get(None):
        notes.append(f"{versions[None]:,} rows do not say their version (provisional, revised or final)")
    if groups:
        notes.append(f"{groups:,} pupil-group values stored (pupil_group_observations)")
    for level, n in sorted(other_levels.items()):
        notes.append(f"{n:,} rows at geographic level {level!r} skipped: DfE's national and LA figures come from its "
                     "national characteristics files")
    if multi_year:
        notes.append(f"{multi_year:,} rows averaging several years skipped: they are no single year's value")
    if unknown:
        shown = "; ".join(f"{t or '-'} / {b} ({n:,} rows)" for (t, b), n in sorted(unknown.items())[:8])
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        notes.append(f"{sum(unknown.values()):,} rows of breakdowns Jointly does not know were skipped: {shown}{more}")
    unused = [table.header[i] for i in range(len(table.header)) if i not in batch.used_columns]
    if unused:
        shown = ", ".join(unused[:12])
        more = f" and {len(unused) - 12} more" if len(unused) > 12 else ""
        notes.append(f"{len(unused)} columns not used by any measure: {shown}{more}")
