"""The toolkit every file reader builds on: the Batch a file becomes, where a measure's fields sit in a file, reading
a row's cells with their problems located, and the small parsers (dates, GIAS group kinds, a results file's phase).

Below the readers (``data.ingest.importers`` for the performance tables, ``ees_*``, ``gias``, ``ofsted``), so none
of them imports another to share these.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from data.db.store import registered
from data.ingest.formats import CellError, FileKind, parse_cell
from data.ingest.reading import Problem, RawTable, fatal
from metrics.registry import Measure, Phase, Source, Status

# Values outside these ranges are refused cell by cell (reported, stored as missing).
PLAUSIBLE_BY_UNIT: dict[str, tuple[float, float]] = {
    "%": (0.0, 100.0),
    "pupils": (0.0, 20_000.0),
    "FTE": (0.0, 2_000.0),
    "ratio": (0.0, 200.0),
    "£": (-100_000.0, 1_000_000.0),
}


PLAUSIBLE_BY_MEASURE: dict[str, tuple[float, float]] = {
    "progress8": (-5.0, 5.0),
    "progress8_disadvantaged": (-5.0, 5.0),
    "attainment8": (0.0, 90.0),
    "ebacc_aps": (0.0, 9.0),
    "ks2_reading_progress": (-30.0, 30.0),
    "ks2_writing_progress": (-30.0, 30.0),
    "ks2_maths_progress": (-30.0, 30.0),
    "ks2_reading_score": (80.0, 120.0),
    "ks2_maths_score": (80.0, 120.0),
    "ks4_prior_attainment": (0.0, 40.0),
}


# More row problems than this share of cells means the file is not what its header says.
MAX_BAD_CELL_SHARE = 0.5


# ... judged only on this many cells (or school rows): in a three-row test file one bad row is a third
MIN_ROWS_FOR_SHARE = 20


@dataclass
class Batch:
    """Everything one file contributes, ready to write in one transaction."""

    establishments: list[dict] = field(default_factory=list)
    fill_only: frozenset[str] = frozenset()  # columns this source may set only when empty
    update_only: bool = False  # enrichment files (Ofsted) never create schools
    groups: list[dict] = field(default_factory=list)  # each has a "key"
    memberships: list[dict] = field(default_factory=list)  # group_key, urn, start_date, end_date
    observations: list[tuple] = field(default_factory=list)  # see OBS_COLUMNS
    periods: set[str] = field(default_factory=set)
    measures: set[str] = field(default_factory=set)
    used_columns: set[int] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cells_checked: int = 0
    # Writers for what has no place above (pupil-group rows, inspections, links, DfE's trust figures): each is
    # called inside the import's transaction after the rows above are written, and returns counts to add
    # to the report (keys as in write_batch's counts, or new ones)
    writers: list[Callable[[object, int], dict[str, int]]] = field(default_factory=list)


OBS_COLUMNS = [
    "level", "urn", "area_code", "scope", "measure", "period", "value", "numerator", "denominator",
    "ci_low", "ci_high", "status", "status_code",
]


EST_COLUMNS = [
    "name", "la_code", "la_name", "estab", "phase", "type_name", "type_group", "state_funded", "status",
    "open_date", "close_date", "street", "town", "postcode", "telephone", "website", "head_name",
    "head_start_date", "region", "urban_rural", "age_low", "age_high", "gender", "religious_character",
    "pupils", "capacity", "easting", "northing", "latitude", "longitude", "ofsted_rating", "ofsted_date",
    "admissions_policy",  # GIAS's words (Selective / Non-selective / ...): families keep grammar schools apart
]


def require(table: RawTable, *names: str) -> int:
    idx = table.index(*names)
    if idx is None:
        raise fatal(table.path, f"the key column {names[0]} is missing: a {names[0]} is needed to know "
                    "which school each row describes", 1, names[0])
    return idx


@dataclass(frozen=True)
class Columns:
    """Where one measure's fields sit in this file."""

    measure: Measure
    value: int | None
    cohort: int | None
    numerator: tuple[int, ...]
    denominator: tuple[int, ...]
    ci_low: int | None
    ci_high: int | None


def locate(table: RawTable, measure: Measure, src: Source) -> Columns | None:
    value = table.index(*src.value) if src.value else None
    numerator = tuple(table.index(n) for n in src.numerator)
    if value is None and (not src.numerator or None in numerator):
        return None  # this year's file does not carry the measure
    numerator_ok = tuple(i for i in numerator if i is not None) if None not in numerator else ()
    denominator = tuple(table.index(n) for n in src.denominator)
    cohort = table.index(*src.cohort) if src.cohort else None
    if value is None and cohort is None and (not src.denominator or None in denominator):
        return None  # no rate column and nothing to divide the count by
    # Otherwise a missing rate column (e.g. PNUMFSM, gone from the 2019 census) is derived from its parts.
    return Columns(
        measure=measure,
        value=value,
        cohort=cohort,
        numerator=numerator_ok,
        denominator=tuple(i for i in denominator if i is not None) if None not in denominator else (),
        ci_low=table.index(*src.ci_low) if src.ci_low else None,
        ci_high=table.index(*src.ci_high) if src.ci_high else None,
    )


class RowReader:
    """Parses the cells of one measure on one row, collecting problems with line and column."""

    def __init__(self, table: RawTable, batch: Batch) -> None:
        self.table = table
        self.batch = batch
        # One parse per cell: a column that feeds several measures (NOR is a cohort five times over)
        # is checked, counted and reported once.
        self._line = -1
        self._parsed: dict[int, object] = {}
        self._flagged: set[tuple[int, str]] = set()  # (line, column) already reported as implausible

    def cell(self, row: list[str], idx: int | None, line: int):
        if idx is None:
            return None
        if line != self._line:  # a new row: forget the last one's cells
            self._line, self._parsed = line, {}
        if idx in self._parsed:
            return self._parsed[idx]
        self.batch.cells_checked += 1
        try:
            parsed = parse_cell(row[idx])
        except CellError as exc:
            self.batch.problems.append(Problem(self.table.path.name, str(exc), line, self.table.header[idx]))
            parsed = None
        self._parsed[idx] = parsed
        return parsed

    def at_row(self, line: int, parsed: dict[int, object]) -> None:
        """Carry on as though this reader had just read these cells of this line: the rows before were read a column
        at a time (data.ingest.cells), so a later read of the line counts and reports as it did after a row loop."""
        self._line, self._parsed = line, dict(parsed)

    @staticmethod
    def _reason(row: list[str], idxs: tuple[int | None, ...]) -> tuple[str, str | None]:
        """Why a derived value is missing: the first DfE code among its parts (e.g. NP, NA), else missing."""
        for i in idxs:
            if i is None:
                continue
            with suppress(CellError):  # junk was already reported when the part was read
                c = parse_cell(row[i])
                if c.status is not Status.OK and c.code:
                    return c.status.value, c.code
        return Status.MISSING.value, None

    def number(self, row: list[str], idx: int | None, line: int) -> float | None:
        c = self.cell(row, idx, line)
        return c.value if c is not None and c.status is Status.OK else None

    def total(self, row: list[str], idxs: tuple[int, ...], line: int) -> float | None:
        if not idxs:
            return None
        parts = [self.number(row, i, line) for i in idxs]
        return None if any(p is None for p in parts) else float(sum(parts))  # type: ignore[arg-type]

    def _flag(self, line: int, column: str, message: str) -> None:
        """Report an implausible cell once, however many measures read it (NOR is the base of five)."""
        if (line, column) not in self._flagged:
            self._flagged.add((line, column))
            self.batch.problems.append(Problem(self.table.path.name, message, line, column))

    def observation(self, cols: Columns, row: list[str], line: int, *, school: bool = True) -> tuple | None:
        """(value, numerator, denominator, ci_low, ci_high, status, code) for one measure.

        Plausibility is checked on school rows only: LA and national rows carry totals.
        """
        m = cols.measure
        cell = self.cell(row, cols.value, line) if cols.value is not None else None
        if cols.value is not None and cell is None:
            return (None, None, None, None, None, Status.MISSING.value, "INVALID")
        cohort = self.number(row, cols.cohort, line)
        numerator = self.total(row, cols.numerator, line)
        denominator = self.total(row, cols.denominator, line) if cols.denominator else cohort
        lo, hi = PLAUSIBLE_BY_UNIT["pupils"]  # every cohort and denominator in the registry counts pupils
        if school and denominator is not None and not lo <= denominator <= hi:
            # Stored as a base, NOR = 10^15 would make every rate it divides ~0 "ok" and swamp pooled roll-ups
            idxs = cols.denominator or (cols.cohort,)
            column = "+".join(self.table.header[i] for i in idxs if i is not None)
            self._flag(line, column, f"{denominator:g} is not a plausible number of pupils (expected {lo:g} to "
                       f"{hi:g}), so the rates that divide by it were not stored")
            return (None, None, None, None, None, Status.MISSING.value, "INVALID")
        if cell is None:  # a derived measure: value computed from its parts
            if numerator is None or not denominator:
                status, code = self._reason(row, (*cols.numerator, *cols.denominator, cols.cohort))
                return (None, numerator, denominator, None, None, status, code)
            value = numerator / denominator * m.scale
            status, code = Status.OK, None
        else:
            value, status, code = cell.value, cell.status, cell.code
        if value is not None and school:
            lo, hi = PLAUSIBLE_BY_MEASURE.get(m.id) or PLAUSIBLE_BY_UNIT.get(m.unit, (float("-inf"), float("inf")))
            if not lo <= value <= hi:
                column = self.table.header[cols.value] if cols.value is not None else m.id
                self._flag(line, column, f"{value:g} is not a plausible {m.label} (expected {lo:g} to {hi:g})")
                return (None, None, None, None, None, Status.MISSING.value, "INVALID")
        if m.unit == "%" and numerator is not None and denominator and numerator > denominator:
            # A share over 100% is impossible: the counts are on another base than the denominator (the census's
            # national special-school row counts 124,282 pupils with SEN against 121,738 on roll: 102.1%)
            shown = "+".join(self.table.header[i] for i in cols.numerator)
            base = "+".join(self.table.header[i] for i in (cols.denominator or (cols.cohort,)) if i is not None)
            if cell is None or not value:
                self._flag(line, shown, f"{m.label}: {shown} ({numerator:,.0f}) is more than {base} "
                           f"({denominator:,.0f}), a share of {numerator / denominator * 100:.1f}%, which is "
                           "impossible: the counts are on another base, so it was not stored")
                return (None, None, None, None, None, Status.MISSING.value, "OVER100")
            # the file's own rate is on the counts' base: keep it, and store that base as the denominator
            self.batch.notes.append(
                f"line {line}, column {shown}: {m.label}: {shown} ({numerator:,.0f}) is more than {base} "
                f"({denominator:,.0f}); the file's rate ({value:g}%) is on another base, so that base "
                f"({numerator * m.scale / value:,.0f}) was stored as the denominator")
            denominator = numerator * m.scale / value
        if value is not None and numerator is None and denominator:
            numerator = value * denominator / m.scale  # rates and means: pooled roll-ups need the total
        elif value and numerator is not None and denominator is None and m.scale != 1:
            denominator = numerator * m.scale / value  # the file gives count and rate, not the base
        ci_low = self.number(row, cols.ci_low, line)
        ci_high = self.number(row, cols.ci_high, line)
        return (value, numerator, denominator, ci_low, ci_high, status.value, code)


# The phase a mainstream school in a key-stage file has at least, when nothing else says (see _phase_from_perf).
KEY_STAGE_PHASE = {FileKind.KS4FINAL: Phase.SECONDARY.value, FileKind.KS4PROVISIONAL: Phase.SECONDARY.value,
                    FileKind.PUPDEST: Phase.SECONDARY.value, FileKind.KS2FINAL: Phase.PRIMARY.value,
                    FileKind.EES_KS4: Phase.SECONDARY.value, FileKind.EES_SCHOOL_INFO: Phase.SECONDARY.value,
                    FileKind.EES_KS2: Phase.PRIMARY.value}


def phase_from_key_stage(kind: str, type_words: str | None) -> str | None:
    """A school's phase from a results file that names none: special or AP by its type in words, else the key
    stage the file reports (a school with KS4 results is at least secondary). Written fill-only: GIAS wins."""
    kind_words = phase_from_words(type_words or "")
    if kind_words in (Phase.SPECIAL.value, Phase.ALTERNATIVE.value):
        return kind_words
    return KEY_STAGE_PHASE.get(kind)


def phase_from_words(text: str) -> str | None:
    """Phase from type/phase names used by census, EES and GIAS ('State-funded primary', 'Middle deemed …')."""
    t = text.lower()
    if "pupil referral" in t or " ap " in f" {t} " or "alternative provision" in t:
        return Phase.ALTERNATIVE.value
    if "special" in t:
        return Phase.SPECIAL.value
    if "nursery" in t:
        return Phase.NURSERY.value
    if "all-through" in t or "all through" in t:
        return Phase.ALL_THROUGH.value
    if "16 plus" in t or "16-19" in t or "sixth form" in t:
        return Phase.POST16.value
    if "primary" in t:
        return Phase.PRIMARY.value
    if "secondary" in t:
        return Phase.SECONDARY.value
    return None


def getter(table: RawTable):
    cache: dict[str, int | None] = {}

    def get(row: list[str], *names: str) -> str:
        key = names[0]
        if key not in cache:
            cache[key] = table.index(*names)
        i = cache[key]
        return row[i].strip() if i is not None else ""

    return get


DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%Y%m%d", "%d/%m/%y")


def parse_date(text: str) -> str | None:
    t = (text or "").strip()
    if not t:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt).date().isoformat()
        except ValueError:
            continue
    return None


GIAS_GROUP_KINDS = {
    "multi-academy trust": "trust",
    "single-academy trust": "trust",
    "trust": "partnership",  # foundation/supporting trusts of maintained schools
    "federation": "federation",
    "school sponsor": "sponsor",
    "umbrella trust": "partnership",
    "collaboration": "partnership",
}


def gias_kind(text: str) -> str:
    return GIAS_GROUP_KINDS.get(text.strip().lower(), "other")


# ---------------------------------------------------------------------------- pupil-group values

# DfE's versions of one year's figures, in the order it publishes them: a later one is the better figure.
VERSION_ORDER = ["provisional", "revised", "final"]
# pupil_group_observations.scope of DfE's published gap (DIFFN_*, *_diffn): the group's result minus
# non-disadvantaged pupils' nationally (docs/data.md)
GAP_SCOPE = "gap"
# The largest gap that can be real: Attainment 8 runs from 0 to 90, a Progress 8 score within +-5, a KS2 share from 0
# to 100, a KS2 progress score within +-30 (PLAUSIBLE_BY_MEASURE); a scaled score from 80 to 120
GAP_RANGE = {"attainment8": 90.0, "progress8": 10.0, "ks2_rwm_expected": 100.0, "ks2_rwm_high": 100.0,
             "ks2_reading_progress": 60.0, "ks2_writing_progress": 60.0, "ks2_maths_progress": 60.0}
# the columns of a pupil-group row, in the order the readers build them: an observation's, its version, its group
GROUP_COLUMNS = [*OBS_COLUMNS, "version", "pupil_group"]


def checked_gap(batch: Batch, table: RawTable, cols: Columns, obs: tuple, line: int) -> tuple:
    """A published gap's observation, or a missing one (reported) when it is further from 0 than the measure allows:
    a gap is a difference, so the measure's own range (Attainment 8 from 0 to 90) does not hold it."""
    value = obs[0]
    limit = GAP_RANGE.get(cols.measure.id, float("inf"))
    if value is None or abs(value) <= limit:
        return obs
    column = table.header[cols.value] if cols.value is not None else cols.measure.id
    batch.problems.append(Problem(table.path.name, f"{value:g} is not a plausible gap in {cols.measure.label} "
                                  f"(expected -{limit:g} to {limit:g})", line, column))
    return (None, None, obs[2], obs[3], obs[4], Status.MISSING.value, "INVALID")


def group_writer(group_rows: list[tuple], kind: str, notes: list[str]) -> Callable[[object, int], dict[str, int]]:
    """A Batch writer for pupil-group values (rows of GROUP_COLUMNS) at any level: a school's, an LA's, England's.
    Replace, never duplicate (same level, school or area, scope, measure, period and group); an earlier version
    never replaces a later one. What it kept is said in `notes` (the batch's, so the report's)."""

    def write(cur, import_id: int) -> dict[str, int]:
        df = pd.DataFrame(group_rows, columns=GROUP_COLUMNS)
        df["urn"] = df["urn"].astype("Int32")
        for c in ("value", "numerator", "denominator", "ci_low", "ci_high"):
            df[c] = df[c].astype("float64")
        for c in ("area_code", "scope", "status_code", "version"):
            df[c] = df[c].astype("string")
        same = """o.level = s.level AND o.urn IS NOT DISTINCT FROM s.urn
                  AND o.area_code IS NOT DISTINCT FROM s.area_code AND o.scope IS NOT DISTINCT FROM s.scope
                  AND o.measure = s.measure AND o.period = s.period AND o.pupil_group = s.pupil_group"""
        with registered(cur, "_pgo_in", df):
            # as for observations, an earlier version (provisional) never replaces a later one (final); a version
            # the file did not say (NULL) outranks nothing. `later`: a stored row of the same school or area,
            # measure, year, group and scope with a later version than the incoming one
            later = "list_position($order, o.version) > list_position($order, s.version)"
            kept = cur.execute(f"SELECT count(*) FROM _pgo_in s WHERE EXISTS ("  # noqa: S608 (this module's text)
                               f"SELECT 1 FROM pupil_group_observations o WHERE {same} AND {later})",
                               {"order": VERSION_ORDER}).fetchall()[0][0]
            cur.execute(f"DELETE FROM pupil_group_observations o USING _pgo_in s WHERE {same} "  # noqa: S608
                        f"AND NOT coalesce({later}, false)", {"order": VERSION_ORDER})
            cur.execute(f"""
                INSERT INTO pupil_group_observations
                SELECT e.ord, s.level, s.urn, s.area_code, s.scope, s.measure, s.period, s.value, s.numerator,
                       s.denominator, s.ci_low, s.ci_high, s.status, s.status_code, $kind, $import_id, s.version,
                       s.pupil_group
                FROM _pgo_in s LEFT JOIN establishments e ON s.level = 'school' AND e.urn = s.urn
                WHERE NOT EXISTS (SELECT 1 FROM pupil_group_observations o WHERE {same})
                ORDER BY e.ord NULLS LAST, s.measure, s.period, s.pupil_group
            """, {"kind": kind, "import_id": import_id})  # noqa: S608
        if kept:
            notes.append(f"{kept:,} pupil-group values were not replaced: the store holds a later version of DfE's "
                         "figures for them")
        return {"pupil_group_values": len(df) - kept}

    write.tables = ("pupil_group_observations",)  # type: ignore[attr-defined]  # the one table undo must track
    # and the years it writes: every row it deletes or inserts is of one of them, so undo compares only those
    period_at = GROUP_COLUMNS.index("period")
    write.periods = {"pupil_group_observations": frozenset(r[period_at] for r in group_rows)}  # type: ignore[attr-defined]
    return write
