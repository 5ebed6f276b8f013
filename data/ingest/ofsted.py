"""Ofsted's management information for state-funded schools: inspections and their grades, in every layout.

Layouts (docs/data.md, "Ofsted management information"):
- all inspections year to date, report-card format (from November 2025): one row per inspection, `Inspection
  number`, `Inspection start date`, `Safeguarding standards`, the evaluation areas; the URN also in the web link;
- latest inspections as at 30 June 2026: the latest report card (each area followed by "<area> - date of grade"),
  the latest OEIF graded inspection (`Latest OEIF overall effectiveness` …) and the latest ungraded inspection;
- latest inspections as at 31 Aug 2024: the older 1-4 format, the latest graded inspection with its sub-judgements
  (8 = not applicable, 9 = not graded), the previous graded inspection, and the latest ungraded one;
- Ofsted's older list of schools (England_ofsted-schools.xlsx, 2018): `Inspection date`, `Overall effectiveness`.

A layout is a set of *blocks*, each one inspection's columns; a block applies when its start-date column is in
the header. Every inspection becomes a row of `inspections` and one row per area in `inspection_grades`; the
newest legacy overall effectiveness also stays on `establishments.ofsted_rating` / `ofsted_date` for the readers
of those columns. `NULL` and blank cells are missing; a word that is no grade on its area's scale is reported
with its line and column and not stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from data.db.store import registered
from data.ingest.formats import FileKind, parse_urn
from data.ingest.reading import Problem, RawTable, fatal
from metrics.inspections import AREA_BY_ID, LEGACY_OVERALL, MISSING_CELLS, Framework, GradeError, read_grade

if TYPE_CHECKING:
    from data.ingest.rows import Batch


@dataclass(frozen=True)
class Block:
    """The columns of one inspection on a row (each name as the file writes it; normalised when looked up)."""

    name: str  # for messages: 'report card', 'latest OEIF graded inspection'
    framework: Framework
    graded: bool
    start: tuple[str, ...]
    number: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    publication: tuple[str, ...] = ()
    urn_at_time: tuple[str, ...] = ()
    concern: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    grades: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()  # (area id, columns, date columns)
    needs: tuple[str, ...] = ()  # a column that must be present too, so that one block's names never read another's


def _rc(area: str, column: str, date_column: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return (area, (column,), (date_column,))


REPORT_CARD = Block(
    "report card", Framework.REPORT_CARD, True,
    start=("Inspection start date",),
    number=("Inspection number", "Inspection number of latest full inspection"),
    type=("Inspection type",),
    publication=("Publication date",),
    urn_at_time=("URN at time of latest full inspection", "URN at time of inspection"),
    concern=("Category of concern",),
    grades=(
        _rc("safeguarding", "Safeguarding standards", "Safeguarding standards - date of grade"),
        _rc("inclusion", "Inclusion", "Inclusion - date of grade"),
        _rc("curriculum_teaching", "Curriculum and teaching", "Curriculum and teaching - date of grade"),
        _rc("achievement", "Achievement", "Achievement - date of grade"),
        _rc("attendance_behaviour", "Attendance and behaviour", "Attendance and behaviour - date of grade"),
        _rc("personal_development_wellbeing", "Personal development and wellbeing",
            "Personal development and wellbeing - date of grade"),
        ("early_years", ("Early years (where applicable)", "Early years"), ("Early years - date of grade",)),
        ("post16", ("Post-16 provision (where applicable)", "Post-16 provision"),
         ("Post-16 provision - date of grade",)),
        _rc("leadership_governance", "Leadership and governance", "Leadership and governance - date of grade"),
    ),
    needs=("Safeguarding standards",),
)
# The 30 June 2026 layout's latest graded inspection under the older framework (note Ofsted's double space in
# 'Latest OEIF  safeguarding is effective?': names are matched with their spaces collapsed)
LATEST_OEIF = Block(
    "latest OEIF graded inspection", Framework.OEIF, True,
    start=("Inspection start date of latest OEIF graded inspection",),
    number=("Inspection number of latest OEIF graded inspection",),
    type=("Inspection type of latest OEIF graded inspection",),
    publication=("Publication date of latest OEIF graded inspection",),
    urn_at_time=("URN at time of latest OEIF graded inspection",),
    concern=("Latest OEIF category of concern",),
    grades=(
        ("oeif_overall", ("Latest OEIF overall effectiveness",), ()),
        ("oeif_quality_of_education", ("Latest OEIF quality of education",), ()),
        ("oeif_behaviour_attitudes", ("Latest OEIF behaviour and attitudes",), ()),
        ("oeif_personal_development", ("Latest OEIF personal development",), ()),
        ("oeif_leadership_management", ("Latest OEIF effectiveness of leadership and management",), ()),
        ("oeif_safeguarding", ("Latest OEIF safeguarding is effective?",), ()),
        ("oeif_early_years", ("Latest OEIF early years provision (where applicable)",), ()),
        ("oeif_sixth_form", ("Latest OEIF sixth form provision (where applicable)",), ()),
    ),
)
_OEIF_GRADES = (
    ("oeif_overall", ("Overall effectiveness",), ()),
    ("oeif_quality_of_education", ("Quality of education",), ()),
    ("oeif_behaviour_attitudes", ("Behaviour and attitudes",), ()),
    ("oeif_personal_development", ("Personal development",), ()),
    ("oeif_leadership_management", ("Effectiveness of leadership and management",), ()),
    ("oeif_safeguarding", ("Safeguarding is effective?",), ()),
    ("oeif_early_years", ("Early years provision (where applicable)",), ()),
    ("oeif_sixth_form", ("Sixth form provision (where applicable)",), ()),
)
# The 2024 layout's latest graded inspection, and the 2018 list (Inspection date, Overall effectiveness only)
LATEST_GRADED = Block(
    "latest graded inspection", Framework.OEIF, True,
    start=("Inspection start date", "Inspection date"),
    number=("Inspection number of latest graded inspection", "Inspection number of latest full inspection",
            "Inspection number"),
    type=("Inspection type",),
    publication=("Publication date",),
    urn_at_time=("URN at time of latest graded inspection", "URN at time of latest full inspection"),
    concern=("Category of concern",),
    grades=_OEIF_GRADES,
    needs=("Overall effectiveness",),
)
PREVIOUS_GRADED = Block(
    "previous graded inspection", Framework.OEIF, True,
    start=("Previous inspection start date",),
    number=("Previous graded inspection number", "Previous full inspection number"),
    publication=("Previous publication date",),
    urn_at_time=("URN at time of previous graded inspection", "URN at time of previous full inspection"),
    concern=("Previous category of concern",),
    grades=(
        ("oeif_overall", ("Previous graded inspection overall effectiveness",
                          "Previous full inspection overall effectiveness"), ()),
        ("oeif_quality_of_education", ("Previous quality of education",), ()),
        ("oeif_behaviour_attitudes", ("Previous behaviour and attitudes",), ()),
        ("oeif_personal_development", ("Previous personal development",), ()),
        ("oeif_leadership_management", ("Previous effectiveness of leadership and management",), ()),
        ("oeif_safeguarding", ("Previous safeguarding is effective?",), ()),
        ("oeif_early_years", ("Previous early years provision (where applicable)",), ()),
        ("oeif_sixth_form", ("Previous sixth form provision (where applicable)",), ()),
    ),
)
UNGRADED = Block(
    "latest ungraded inspection", Framework.OEIF, False,
    start=("Date of latest ungraded inspection",),
    number=("Latest ungraded inspection number", "Latest ungraded inspection number since last graded inspection"),
    publication=("Ungraded inspection publication date",),
    urn_at_time=("URN at time of the ungraded inspection",),
    outcome=("Ungraded inspection overall outcome",),
)
BLOCKS = (REPORT_CARD, LATEST_OEIF, LATEST_GRADED, PREVIOUS_GRADED, UNGRADED)

# The web link's last path segment is the URN: .../find-inspection-report/provider/ELS/149496 or .../provider/149496
_LINK_URN = re.compile(r"(?:^|/)(\d{6,8})/?$")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%y")
INSPECTION_COLUMNS = ["urn", "inspection_number", "framework", "graded", "inspection_type", "start_date",
                      "publication_date", "category_of_concern", "urn_at_time", "outcome"]
GRADE_COLUMNS = ["row", "area", "status", "grade", "grade_code", "grade_rank", "grade_date"]
# Ofsted's older list dates an inspection by its last day, the management information by its first: an inspection
# lasts one to three days, and one school's graded inspections are years apart
MATCH_DAYS = 7


@lru_cache(maxsize=8192)  # a national file repeats a few hundred dates thousands of times
def _date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


class _Row:
    """One row's cells by column name, with every problem located (file, line, column)."""

    def __init__(self, table: RawTable, batch: Batch) -> None:
        self.table, self.batch = table, batch
        self.row: tuple[str, ...] = ()
        self.line = 0
        self.grade_cells = 0  # grade cells read, and those that were no grade: a file mostly of the latter is refused
        self.bad_grades: list[Problem] = []
        self._cols: dict[tuple[str, ...], int | None] = {}

    def at(self, row: tuple[str, ...], line: int) -> _Row:
        self.row, self.line = row, line
        return self

    def col(self, names: tuple[str, ...]) -> int | None:
        if names not in self._cols:  # looked up once per file, not once per row
            self._cols[names] = self.table.index(*names) if names else None
        return self._cols[names]

    def text(self, names: tuple[str, ...]) -> str | None:
        """The cell, trimmed; None when the column is absent, blank or NULL."""
        i = self.col(names)
        if i is None:
            return None
        self.batch.used_columns.add(i)
        value = " ".join(self.row[i].split())
        return None if value.upper() in MISSING_CELLS else value

    def problem(self, names: tuple[str, ...], message: str) -> None:
        i = self.col(names)
        column = self.table.header[i] if i is not None else names[0]
        self.batch.problems.append(Problem(self.table.path.name, message, self.line, column))

    def date(self, names: tuple[str, ...]) -> date | None:
        value = self.text(names)
        if value is None:
            return None
        try:
            return _date(value)
        except ValueError:
            self.problem(names, f"expected a date like 31/12/2025, found {value!r}; not stored")
            return None


def applicable_blocks(table: RawTable) -> list[Block]:
    """The inspections this layout carries on each row: the blocks whose start date (and needed column) it has."""
    return [b for b in BLOCKS if table.index(*b.start) is not None and all(table.index(n) is not None
                                                                              for n in b.needs)]


def _row_urn(table: RawTable, batch: Batch, row: tuple[str, ...], line: int, urn_i: int | None,
             link_i: int | None) -> int | None:
    """The row's URN from the URN column, or from the web link when the file has no URN column."""
    if urn_i is not None:
        urn = parse_urn(row[urn_i])
        if urn is None:
            batch.problems.append(Problem(table.path.name, f"expected a URN, found {row[urn_i]!r}", line, "URN"))
            return None
        if link_i is not None and link_i != urn_i:
            m = _LINK_URN.search(row[link_i].strip())
            if m and int(m.group(1)) != urn:  # the link points at another school: which one is this row?
                batch.problems.append(Problem(table.path.name, f"the web link names URN {m.group(1)} but the URN "
                                              f"column says {urn}; row skipped", line, table.header[link_i]))
                return None
        return urn
    m = _LINK_URN.search(row[link_i].strip()) if link_i is not None else None
    if m is None:
        column = table.header[link_i] if link_i is not None else "URN"
        batch.problems.append(Problem(table.path.name, "expected a URN (or a web link ending in one), found "
                                      f"{row[link_i] if link_i is not None else ''!r}", line, column))
        return None
    return parse_urn(m.group(1))


def ofsted_batch(table: RawTable, period: str | None) -> Batch:
    """Any Ofsted management information layout (both kinds): inspections, grades, and the legacy rating."""
    from data.ingest.rows import MAX_BAD_CELL_SHARE, MIN_ROWS_FOR_SHARE, Batch

    blocks = applicable_blocks(table)
    if not blocks:
        raise fatal(table.path, "this Ofsted file has none of the inspection columns Jointly reads (such as "
                    "Inspection start date with Safeguarding standards, or Overall effectiveness with its "
                    "inspection date): import Ofsted's management information as published", 1)
    batch = Batch()
    urn_i = table.index("URN")
    link_i = table.index("Web Link (opens in new window)", "Web link")
    if urn_i is None and link_i is None:
        raise fatal(table.path, "the key column URN is missing: a URN is needed to know which school each row "
                    "describes", 1, "URN")
    batch.used_columns.update(i for i in (urn_i, link_i) if i is not None)
    # A list of latest inspections names each school once; the all-inspections file lists every inspection
    latest_list = table.index("Inspection number") is None or LATEST_OEIF in blocks
    seen_urn: dict[int, int] = {}
    seen: dict[tuple, int] = {}
    inspections: list[tuple] = []
    grades: list[tuple] = []
    read = 0  # rows with a URN
    cells = _Row(table, batch)
    for row, line in zip(table.rows, table.lines, strict=True):
        urn = _row_urn(table, batch, row, line, urn_i, link_i)
        if urn is None:
            continue
        read += 1
        if latest_list:
            if urn in seen_urn:  # which of the two is the school's latest?
                raise fatal(table.path, f"URN {urn} appears twice (lines {seen_urn[urn]} and {line})", line, "URN")
            seen_urn[urn] = line
        cells.at(row, line)
        for block in blocks:
            found = _read_block(cells, block, urn)
            if found is None:
                continue
            inspection, block_grades = found
            key = (urn, block.framework.value, block.graded, inspection[5])
            if key in seen:
                raise fatal(table.path, f"URN {urn} has the same {block.name}, starting {inspection[5]:%d/%m/%Y}, "
                            f"twice (lines {seen[key]} and {line})", line, "URN")
            seen[key] = line
            grades.extend((len(inspections), *g) for g in block_grades)
            inspections.append(inspection)
    # A key column that mostly holds no URN is not what its name says: the few rows read would pass for the file
    skipped = [p for p in batch.problems if p.column in ("URN", table.header[link_i] if link_i is not None else "")]
    rows = len(skipped) + read
    if inspections and rows >= MIN_ROWS_FOR_SHARE and len(skipped) > MAX_BAD_CELL_SHARE * rows:
        raise fatal(table.path, f"only {rows - len(skipped):,} of the {rows:,} rows have a URN that could be read "
                    f"(first skipped: {skipped[0]}): nothing was imported", skipped[0].line)
    bad = cells.bad_grades
    if cells.grade_cells >= MIN_ROWS_FOR_SHARE and len(bad) > MAX_BAD_CELL_SHARE * cells.grade_cells:
        raise fatal(table.path, f"{len(bad):,} of {cells.grade_cells:,} grade cells are not grades on their areas' "
                    f"scales: the columns do not hold what their names say (first: {bad[0]}): nothing was imported",
                    bad[0].line)
    if not inspections:
        first = f" (first: {batch.problems[0]})" if batch.problems else ""
        raise fatal(table.path, f"none of the {len(table.rows):,} rows has an inspection that could be read{first}: "
                    "nothing was imported", batch.problems[0].line if batch.problems else None)
    insp = pd.DataFrame(inspections, columns=INSPECTION_COLUMNS)
    grade_df = pd.DataFrame(grades, columns=GRADE_COLUMNS)
    kind = FileKind.OFSTED_REPORT_CARD if REPORT_CARD in blocks else FileKind.OFSTED
    schools = int(insp["urn"].nunique())

    def write(cur, import_id: int) -> dict[str, int]:
        counts = write_inspections(cur, insp, grade_df, import_id, kind)
        batch.notes.append(f"{len(insp):,} inspections of {schools:,} schools ({counts['inspections']:,} new, "
                           f"{len(insp) - counts['inspections']:,} already stored and updated), "
                           f"{len(grade_df):,} grades")
        unknown = schools - counts.pop("_known_schools")
        if unknown:
            batch.notes.append(f"{unknown:,} of the file's {schools:,} inspected schools are not in the store yet: "
                               "their inspections are kept and show once a GIAS or performance-table file adds "
                               "the schools")
        return counts

    batch.writers.append(write)
    return batch


def _read_block(cells: _Row, block: Block, urn: int) -> tuple[tuple, list[tuple]] | None:
    """One inspection of the row (None when the row has none in this block), with its grades."""
    start = cells.date(block.start)
    number = cells.text(block.number)
    if start is None:
        # an inspection Ofsted names without a date cannot be placed in time (an unreadable date was reported)
        if number is not None and cells.text(block.start) is None:
            cells.problem(block.start, f"the {block.name} {number} has no start date; not stored")
        return None
    framework = block.framework.value
    at_time = cells.text(block.urn_at_time)
    urn_at_time = parse_urn(at_time) if at_time is not None else None
    if at_time is not None and urn_at_time is None:
        cells.problem(block.urn_at_time, f"expected a URN, found {at_time!r}; not stored")
    inspection = (urn, number, framework, block.graded, cells.text(block.type), start, cells.date(block.publication),
                  cells.text(block.concern), urn_at_time if urn_at_time != urn else None, cells.text(block.outcome))
    grades = []
    for area_id, columns, date_columns in block.grades:
        if cells.col(columns) is None:
            continue
        raw = cells.text(columns)
        cells.grade_cells += 1
        try:
            grade = read_grade(AREA_BY_ID[area_id], raw)
        except GradeError as exc:
            cells.problem(columns, str(exc))
            cells.bad_grades.append(cells.batch.problems[-1])
            continue
        if grade is None:
            continue
        graded_on = cells.date(date_columns) if date_columns and cells.col(date_columns) is not None else None
        grades.append((area_id, grade.status.value, grade.words, grade.code, grade.rank, graded_on or start))
    return inspection, grades


# ============================================================================ writing


def write_inspections(cur, insp: pd.DataFrame, grades: pd.DataFrame, import_id: int, kind: str) -> dict[str, int]:
    """Merge the file's inspections into the store inside the import's transaction.

    The same inspection is the same school, framework and graded-or-not with the same Ofsted inspection number;
    where either side has no number (Ofsted's older list), the one starting within MATCH_DAYS days (that list
    gives the inspection's last day, the management information its first). A file naming a stored inspection
    again updates what it gives (a blank keeps what was stored) and each area it grades replaces that area's grade;
    a newer inspection is added beside the older ones, never over them. Returns counts for the report."""
    insp = insp.copy()
    insp["row"] = range(len(insp))
    insp["urn"] = insp["urn"].astype("int64")
    insp["urn_at_time"] = insp["urn_at_time"].astype("Int64")
    insp["graded"] = insp["graded"].astype("bool")
    for c in ("start_date", "publication_date"):
        insp[c] = pd.to_datetime(insp[c]).dt.date
    for c in ("inspection_number", "inspection_type", "category_of_concern", "outcome", "framework"):
        insp[c] = insp[c].astype("string")
    grades = grades.copy()
    grades["row"] = grades["row"].astype("int64")
    grades["grade_rank"] = grades["grade_rank"].astype("Int64")
    grades["grade_date"] = pd.to_datetime(grades["grade_date"]).dt.date
    for c in ("grade", "grade_code", "area", "status"):
        grades[c] = grades[c].astype("string")
    params = {"import_id": import_id, "kind": kind}
    with registered(cur, "_insp_in", insp):
        # each incoming inspection's stored twin, if any: by number where both have one, else by nearby start date;
        # `start_key` is the start date the inspection is stored under after this import
        cur.execute("""
            CREATE OR REPLACE TEMP TABLE _insp_match AS
            SELECT s.row, i.start_date AS stored_start,
                   CASE WHEN s.inspection_number IS NOT NULL THEN s.start_date ELSE i.start_date END AS start_key
            FROM _insp_in s JOIN inspections i
              ON i.urn = s.urn AND i.framework = s.framework AND i.graded = s.graded
             AND CASE WHEN s.inspection_number IS NOT NULL AND i.inspection_number IS NOT NULL
                      THEN i.inspection_number = s.inspection_number
                      ELSE abs(date_diff('day', i.start_date, s.start_date)) <= $days END
            QUALIFY row_number() OVER (PARTITION BY s.row
                                       ORDER BY abs(date_diff('day', i.start_date, s.start_date)), i.start_date) = 1
        """, {"days": MATCH_DAYS})
        added = len(insp) - cur.execute("SELECT count(*) FROM _insp_match").fetchall()[0][0]
        # a numbered file dates the inspection by its first day: the stored one and its grades move to that date
        for table in ("inspection_grades", "inspections"):  # fixed names, never from the file
            cur.execute(f"""
                UPDATE {table} i SET start_date = m.start_key
                FROM _insp_in s JOIN _insp_match m ON m.row = s.row
                WHERE m.start_key <> m.stored_start AND i.urn = s.urn AND i.framework = s.framework
                  AND i.graded = s.graded AND i.start_date = m.stored_start
            """)  # noqa: S608
        # what the file leaves blank keeps the stored value
        cur.execute("""
            UPDATE inspections i SET
                inspection_number = coalesce(s.inspection_number, i.inspection_number),
                inspection_type = coalesce(s.inspection_type, i.inspection_type),
                publication_date = coalesce(s.publication_date, i.publication_date),
                category_of_concern = s.category_of_concern,
                urn_at_time = coalesce(s.urn_at_time, i.urn_at_time),
                outcome = coalesce(s.outcome, i.outcome),
                source_kind = $kind, import_id = $import_id
            FROM _insp_in s JOIN _insp_match m ON m.row = s.row
            WHERE i.urn = s.urn AND i.framework = s.framework AND i.graded = s.graded AND i.start_date = m.start_key
        """, params)
        cur.execute("""
            INSERT INTO inspections (urn, framework, graded, start_date, inspection_number, inspection_type,
                                     publication_date, category_of_concern, urn_at_time, outcome, source_kind,
                                     import_id)
            SELECT s.urn, s.framework, s.graded, s.start_date, s.inspection_number, s.inspection_type,
                   s.publication_date, s.category_of_concern, s.urn_at_time, s.outcome, $kind, $import_id
            FROM _insp_in s ANTI JOIN _insp_match m ON m.row = s.row
            ORDER BY s.urn, s.start_date
        """, params)
        cur.execute("""
            INSERT INTO _insp_match
            SELECT s.row, NULL, s.start_date FROM _insp_in s ANTI JOIN _insp_match m ON m.row = s.row
        """)
        if not grades.empty:
            with registered(cur, "_grades_in", grades):
                cur.execute("""
                    CREATE OR REPLACE TEMP TABLE _grades_keyed AS
                    SELECT s.urn, s.framework, s.graded, m.start_key AS start_date, g.* EXCLUDE (row)
                    FROM _grades_in g JOIN _insp_in s ON s.row = g.row JOIN _insp_match m ON m.row = g.row
                """)
            # each area the file grades replaces that area of that inspection; areas it does not give stay
            cur.execute("""
                DELETE FROM inspection_grades g USING _grades_keyed k
                WHERE g.urn = k.urn AND g.framework = k.framework AND g.graded = k.graded
                  AND g.start_date = k.start_date AND g.area = k.area
            """)
            cur.execute("""
                INSERT INTO inspection_grades (urn, framework, graded, start_date, area, status, grade, grade_code,
                                               grade_rank, grade_date, import_id)
                SELECT urn, framework, graded, start_date, area, status, grade, grade_code, grade_rank, grade_date,
                       $import_id
                FROM _grades_keyed ORDER BY urn, start_date, area
            """, {"import_id": import_id})
            cur.execute("DROP TABLE _grades_keyed")
    cur.execute("DROP TABLE _insp_match")
    urns = sorted({int(u) for u in insp["urn"]})
    known, updated = _legacy_rating(cur, urns)
    return {"inspections": added, "inspection_grades": len(grades), "establishments_updated": updated,
            "_known_schools": known}


def _legacy_rating(cur, urns: list[int]) -> tuple[int, int]:
    """Set establishments.ofsted_rating / ofsted_date to each school's newest legacy overall effectiveness grade.

    Returns (schools of the file in the store, schools whose rating was set): the readers of these two columns
    keep meaning 'the latest 1-4 grade', whatever order the files came in."""
    known = cur.execute("SELECT count(*) FROM establishments WHERE list_contains(?::INTEGER[], urn)",
                        [urns]).fetchall()[0][0]
    rows = cur.execute("""
        UPDATE establishments e SET ofsted_rating = l.grade, ofsted_date = l.start_date, updated_at = now()
        FROM (
            SELECT urn, grade, start_date, row_number() OVER (PARTITION BY urn ORDER BY start_date DESC) AS n
            FROM inspection_grades
            WHERE area = ? AND status = 'graded' AND list_contains(?::INTEGER[], urn)
        ) l WHERE l.n = 1 AND e.urn = l.urn
        RETURNING e.urn
    """, [LEGACY_OVERALL, urns]).fetchall()
    return int(known), len(rows)
