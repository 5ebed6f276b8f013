"""Local measures, the write side: the governors' form and value uploads, checked before anything is written.

Definitions go through the one validator (``metrics.validation``), the same rules as the national TOML.
An upload is checked completely and every problem listed with its line and column; only a file with no
problem is written, with one store call (one transaction), so a rejected upload changes nothing. A row may name a
pupil group (the optional `pupil_group` column, issue 13 point 5): its value is the group's own, with the group's
cohort, stored beside the whole school's and read in `pupil_group_observations`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store
from data.ingest.reading import FatalImportError, RawTable, read_table
from data.services import groups, schools
from metrics.periods import PeriodError, parse_period
from metrics.pupil_groups import BY_ID, PUPIL_GROUPS, is_total, plain
from metrics.registry import Measure, Rollup, load_registry, parse_measure
from metrics.timeline import academic_year_of, period_of
from metrics.validation import Issue, validate_definitions

FORM = "form"
MAX_UPLOAD_ROWS = 50_000
TOLERANCE = 0.05  # how far a value may sit from numerator / denominator x scale, in the measure's unit
TEMPLATE_COLUMNS = ("URN", "period", "value", "cohort", "numerator", "denominator")
GROUP_COLUMN = "pupil_group"  # optional: empty (or "Total", "All pupils") for the whole school's value
NUMBER_COLUMNS = ("value", "cohort", "numerator", "denominator")
# what a pupil_group cell may say: a group's id (with spaces for underscores too) or its label, any case and spacing
GROUP_WORDS: dict[str, str] = {plain(w): g.id for g in PUPIL_GROUPS for w in (g.id, g.id.replace("_", " "), g.label)}
UNKNOWN_GROUP = ("is not a pupil group Jointly knows: give one of " + ", ".join(g.id for g in PUPIL_GROUPS)
                 + " (or its label), or leave it empty for the whole school")

# A number as people type it: optional sign, optional thousands commas, optional decimals
_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_URN = re.compile(r"^\d{6}$")  # URNs are six digits
_UNSAFE = re.compile(r"[^\w.\-]")  # characters not kept in an uploaded file's temporary name


# ------------------------------------------------------------------------------ definitions (the form)


def define_local_measure(store: Store, group_id: int, definition: Mapping[str, object], *,
                         actor: str) -> list[Issue]:
    """Check a group's local measure and save it when it has no issue. Returns the issues ([] = saved).

    The definition is checked with the group's other local measures (so formulas may use them and
    cycles are found), against the ids already taken (national ids, other groups' local ids).
    Nothing is written when there is an issue. No issue names or describes another group's measure:
    a formula naming one reads as naming no measure; only an id clash (ids are unique in the store)
    says the id is taken, in the same words as for a national id.
    """
    fields = {k: v for k, v in definition.items() if v is not None}
    mid = fields.get("id")
    name = mid if isinstance(mid, str) and mid else None
    group = groups.find_group(store, group_id)
    if group is None or group.group_id != group_id:
        return [Issue(FORM, name, None, None, f"no group with id {group_id}",
                      "There is no such group: choose another.")]
    new = {**fields, "owner": str(group_id)}
    every_local = local_measures(store)
    own = [d for d in every_local if d["owner"] == str(group_id) and d["id"] != mid]
    taken = set(load_registry().ids()) | {d["id"] for d in every_local if d["owner"] != str(group_id)}
    # The new definition goes first: a cycle through it is reported on it, and the group's saved
    # measures (valid when saved) are context, not the subject of this check.
    issues = validate_definitions([new, *own], source=FORM, known_ids=taken, group_members_only=True)
    issues = [i for i in issues if i.measure is None or i.measure == name]
    if issues:
        return issues
    try:
        write_local_measure(store, group_id, new, actor=actor)
    except StoreError as exc:
        return [Issue(FORM, name, None, None, exc.title)]
    return []


# ------------------------------------------------------------------------------ uploads


@dataclass(frozen=True)
class LocalValue:
    """One school's value for one year, as uploaded (value, numerator and base completed where derivable)."""

    line: int
    urn: int
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    pupil_group: str | None = None  # a pupil group's id (metrics/pupil_groups.py); None: the whole school


@dataclass(frozen=True)
class UploadResult:
    """The rows that passed every check, and every issue found. Written only when `issues` is empty."""

    rows: list[LocalValue]
    issues: list[Issue]

    @property
    def ok(self) -> bool:
        return not self.issues


def current_period(today: dt.date | None = None) -> str:
    """The academic year (1 September to 31 August) that contains today."""
    return period_of(academic_year_of(today or dt.date.today()))


def upload_template(measure: Measure | Mapping[str, object], *, urn: int | None = None,
                    period: str | None = None) -> str:
    """CSV text to fill in: the header and an example row (the group's first member's URN when given), with an
    empty pupil_group (the whole school); for a measure with a cohort, two more rows show the school's value for
    disadvantaged and other pupils, whose cohorts add up to the school's.

    Raises ValueError for a formula measure: its values are calculated, never uploaded.
    """
    m = measure if isinstance(measure, Measure) else parse_measure(dict(measure))
    if m.formula:
        raise ValueError(f"{m.id} is calculated by its formula ({m.formula}): there is nothing to upload")
    example = 25.0 if m.unit == "%" else 10.0
    value = cohort = numerator = denominator = ""
    if m.rollup is Rollup.POOLED_RATIO:
        numerator, denominator = "12", "48"
        value = _plain(12 / 48 * m.scale)
    elif m.rollup is Rollup.WEIGHTED_MEAN:
        value, cohort = _plain(example), "20"
    else:
        value = _plain(example)
    school, year = str(urn) if urn is not None else "123456", period or current_period()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow((*TEMPLATE_COLUMNS, GROUP_COLUMN))
    w.writerow([school, year, value, cohort, numerator, denominator, ""])
    if m.rollup is Rollup.POOLED_RATIO:  # 3 of 12 disadvantaged pupils and 9 of 36 others: 12 of the school's 48
        w.writerow([school, year, _plain(3 / 12 * m.scale), "", "3", "12", "disadvantaged"])
        w.writerow([school, year, _plain(9 / 36 * m.scale), "", "9", "36", "not_disadvantaged"])
    elif m.rollup is Rollup.WEIGHTED_MEAN:  # 5 and 15 pupils whose values average to the school's over its 20
        w.writerow([school, year, _plain(example - 3), "5", "", "", "disadvantaged"])
        w.writerow([school, year, _plain(example + 1), "15", "", "", "not_disadvantaged"])
    return buf.getvalue()


def template_for(store: Store, group_id: int, measure_id: str, period: str | None = None) -> str:
    """The upload template of a group's local measure, with the group's first member as the example."""
    defs = {d["id"]: d for d in local_measures(store, group_id)}
    if measure_id not in defs:
        raise ValueError(f"no local measure {measure_id!r} in this group")
    period = period or current_period()
    members = groups.group_members(store, group_id, period) or groups.group_members(store, group_id)
    return upload_template(defs[measure_id], urn=members[0] if members else None, period=period)


def validate_upload(store: Store, group_id: int, measure_id: str, path_or_bytes: Path | str | bytes, *,
                    filename: str) -> UploadResult:
    """Check an upload of a local measure's values completely. Every problem is listed, with its line
    and column; `rows` holds the rows that passed."""
    measure, issues = _uploadable(store, group_id, measure_id, filename)
    try:
        table = _read(path_or_bytes, filename)
    except FatalImportError as exc:
        p = exc.problem
        return UploadResult([], [*issues, Issue(filename, measure_id, p.column, p.line, p.message)])
    issues += [Issue(filename, measure_id, p.column, p.line, p.message) for p in table.problems]
    if len(table.rows) > MAX_UPLOAD_ROWS:
        issues.append(Issue(filename, measure_id, None, None, f"the file has {len(table.rows):,} rows; the limit is "
                            f"{MAX_UPLOAD_ROWS:,} (one row per school and year)"))
        return UploadResult([], issues)
    cols, col_issues = _columns(table, filename, measure_id)
    issues += col_issues
    if col_issues:
        return UploadResult([], issues)
    rows, row_issues = _Rows(store, group_id, measure, table, cols, filename, measure_id).check()
    issues += row_issues
    return UploadResult(rows, sorted(issues, key=lambda i: (i.line is not None, i.line or 0)))


def upload_local_values(store: Store, group_id: int, measure_id: str, path_or_bytes: Path | str | bytes, *,
                        filename: str, actor: str) -> UploadResult:
    """Check an upload and, only when it has no issue, write every row in one transaction (replacing
    earlier values of the same schools, years and pupil groups). With any issue nothing is written."""
    result = validate_upload(store, group_id, measure_id, path_or_bytes, filename=filename)
    if result.issues:
        return result
    frame = pd.DataFrame(
        [{"urn": r.urn, "period": r.period, "value": r.value, "numerator": r.numerator, "denominator": r.denominator,
          "pupil_group": r.pupil_group} for r in result.rows],
        columns=["urn", "period", "value", "numerator", "denominator", "pupil_group"])
    try:
        write_local_values(store, measure_id, frame, actor=actor)
    except StoreError as exc:
        return UploadResult(result.rows, [Issue(filename, measure_id, None, None, exc.title)])
    return result


def _uploadable(store: Store, group_id: int, measure_id: str, filename: str) -> tuple[Measure | None, list[Issue]]:
    """The measure, when values may be uploaded for it; else None and the reason."""
    own = {d["id"]: d for d in local_measures(store, group_id)}

    def refuse(message: str) -> tuple[Measure | None, list[Issue]]:
        return None, [Issue(filename, measure_id, None, None, message)]

    if measure_id not in own:
        if measure_id in load_registry():
            return refuse(f"{measure_id} is a national measure: its values come from DfE files, not uploads")
        # the same words whether or not another group has this id: never an oracle for other groups' measures
        return refuse(f"this group has no local measure {measure_id}: define it first")
    try:
        measure = parse_measure(own[measure_id])
    except (KeyError, ValueError, TypeError) as exc:
        return refuse(f"the definition of {measure_id} is incomplete ({exc}): correct it in the form first")
    if measure.formula:
        return refuse(f"{measure_id} is calculated by its formula ({measure.formula}): upload values for the "
                      "measures it uses instead")
    return measure, []


def _read(path_or_bytes: Path | str | bytes, filename: str) -> RawTable:
    """read_table on a path, or on uploaded bytes saved under the upload's own name (its suffix matters)."""
    if not isinstance(path_or_bytes, bytes):
        return read_table(Path(path_or_bytes))
    with tempfile.TemporaryDirectory(prefix="jointly-upload-") as tmp:
        # only the name's safe characters: never a path, never "..", and the suffix kept (.csv / .xlsx)
        name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).lstrip(".") or "upload.csv"
        path = Path(tmp) / name
        path.write_bytes(path_or_bytes)
        return read_table(path)


def _columns(table: RawTable, filename: str, measure_id: str) -> tuple[dict[str, int], list[Issue]]:
    """Where each template column is (matched case-insensitively); issues for missing or repeated ones."""
    issues: list[Issue] = []
    cols: dict[str, int] = {}
    wanted = {c.upper(): c for c in (*TEMPLATE_COLUMNS, GROUP_COLUMN)}
    for pos, name in enumerate(table.columns):
        key = wanted.get(name.replace(" ", "_").replace("-", "_"))  # "Pupil group" is pupil_group too
        if key is None:
            continue  # other columns (a school name, notes) are ignored
        if key in cols:
            issues.append(Issue(filename, measure_id, table.header[pos], 1,
                                f"column {table.header[pos]} appears twice (columns {cols[key] + 1} and {pos + 1})"))
        else:
            cols[key] = pos
    found = ", ".join(h for h in table.header if h) or "none"
    for key in ("URN", "period"):
        if key not in cols:
            issues.append(Issue(filename, measure_id, key, 1, f"the file has no {key} column; the columns are "
                                f"{', '.join(TEMPLATE_COLUMNS)} (found: {found})"))
    if "value" not in cols and not ("numerator" in cols and ("denominator" in cols or "cohort" in cols)):
        issues.append(Issue(filename, measure_id, "value", 1, "the file needs a value column, or numerator and "
                            f"denominator columns (found: {found})"))
    return cols, issues


def _plain(x: float) -> str:
    """A number without float noise: 25.0 -> '25', 0.1 + 0.2 -> '0.3'."""
    return f"{x:.10g}"


class _Rows:
    """Checks every row of an upload; collects the good rows and every problem."""

    def __init__(self, store: Store, group_id: int, measure: Measure | None, table: RawTable, cols: dict[str, int],
                 filename: str, measure_id: str) -> None:
        self.store = store
        self.group_id = group_id
        self.measure = measure
        self.table = table
        self.cols = cols
        self.filename = filename
        self.measure_id = measure_id
        self.members: dict[str, set[int]] = {}

    def issue(self, line: int, column: str, message: str) -> Issue:
        pos = self.cols.get(column)
        shown = self.table.header[pos] if pos is not None else column
        return Issue(self.filename, self.measure_id, shown, line, message)

    def cell(self, row: list[str], column: str) -> str:
        pos = self.cols.get(column)
        return row[pos].strip() if pos is not None else ""

    def in_group(self, period: str) -> set[int]:
        if period not in self.members:
            self.members[period] = set(groups.group_members(self.store, self.group_id, period))
        return self.members[period]

    def check(self) -> tuple[list[LocalValue], list[Issue]]:
        urns = {int(u) for u in (self.cell(r, "URN") for r in self.table.rows) if _URN.match(u)}
        known = set(schools.establishments(self.store, sorted(urns))["urn"].astype(int)) if urns else set()
        seen: dict[tuple[int, str, str | None], int] = {}
        rows: list[LocalValue] = []
        issues: list[Issue] = []
        base_columns: dict[int, str] = {}  # line -> the column its base came from (denominator or cohort)
        for row, line in zip(self.table.rows, self.table.lines, strict=True):
            found: list[Issue] = []
            urn = self._urn(row, line, known, found)
            period = self._period(row, line, found)
            known_group, group = self._group(row, line, found)
            if urn is not None and period is not None:
                if urn in known and urn not in self.in_group(period):
                    found.append(self.issue(line, "URN", f"school {urn} is not a member of this group in {period}"))
                if not known_group:
                    pass  # an unknown group's row is refused already: it is nobody's duplicate
                elif (urn, period, group) in seen:
                    what = f"{period} and pupil group {group}" if group else period
                    found.append(self.issue(line, "URN", f"URN {urn} appears more than once for {what}: lines "
                                                         f"{seen[(urn, period, group)]} and {line}"))
                else:
                    seen[(urn, period, group)] = line
            value = self._numbers(row, line, found)
            if group is not None and value is not None and value[2] is None and not (
                    self.measure is not None and self.measure.rollup is Rollup.POOLED_RATIO):
                # a pooled measure says so already; every other measure's group needs its cohort too: parents' pages
                # hide a small group's value by its size (primary and secondary suppression)
                found.append(self.issue(line, "cohort", "a pupil group's value needs the group's cohort (or "
                                                        "denominator): small groups are hidden by their size"))
            base_columns[line] = "denominator" if self.cell(row, "denominator") else "cohort"
            if not found and urn is not None and period is not None and value is not None and known_group:
                rows.append(LocalValue(line, urn, period, *value, pupil_group=group))
            issues += found
        return self._within_the_school(rows, issues, base_columns)

    def _within_the_school(self, rows: list[LocalValue], issues: list[Issue],
                           base_columns: dict[int, str]) -> tuple[list[LocalValue], list[Issue]]:
        """A pupil group's cohort is part of its school's: a group row whose base is above the whole school's (in
        the same upload), or groups of one topic whose bases add up to more, are refused, located on the group's
        row (the topic's last)."""
        school = {(r.urn, r.period): r for r in rows if r.pupil_group is None}
        kept: list[LocalValue] = []
        for r in rows:
            total = school.get((r.urn, r.period))
            if (r.pupil_group is not None and total is not None and r.denominator is not None
                    and total.denominator is not None and r.denominator > total.denominator):
                column = base_columns[r.line]
                issues.append(self.issue(r.line, column, f"{BY_ID[r.pupil_group].label}: {column} "
                                                         f"{_plain(r.denominator)} is larger than the whole school's "
                                                         f"{_plain(total.denominator)} (line {total.line})"))
            else:
                kept.append(r)
        # the groups of one topic (disadvantaged and other pupils; boys and girls) are parts of the school: together
        # no more pupils than it has (else the cells parents see could not be the school's)
        parts: dict[tuple[int, str, str], list[LocalValue]] = {}
        for r in kept:
            if r.pupil_group is not None and r.denominator is not None:
                parts.setdefault((r.urn, r.period, BY_ID[r.pupil_group].topic), []).append(r)
        over: set[int] = set()
        for (urn, period, _topic), rs in parts.items():
            total = school.get((urn, period))
            if total is None or total.denominator is None or len(rs) < 2:
                continue
            added = sum(r.denominator or 0.0 for r in rs)
            if added > total.denominator:
                last = rs[-1]
                column = base_columns[last.line]
                issues.append(self.issue(last.line, column, " and ".join(BY_ID[r.pupil_group].label for r in rs
                                                                         if r.pupil_group) +
                                         f": {column}s {' and '.join(_plain(r.denominator or 0) for r in rs)} add "
                                         f"up to {_plain(added)}, more than the whole school's "
                                         f"{_plain(total.denominator)} (line {total.line})"))
                over.update(r.line for r in rs)
        return [r for r in kept if r.line not in over], issues

    def _group(self, row: list[str], line: int, found: list[Issue]) -> tuple[bool, str | None]:
        """(known, the pupil group's id): (True, None) for the whole school (empty, "Total", "All pupils")."""
        text = self.cell(row, GROUP_COLUMN)
        if not text or is_total(text):
            return True, None
        group = GROUP_WORDS.get(plain(text))
        if group is None:
            found.append(self.issue(line, GROUP_COLUMN, f"pupil group {text!r} {UNKNOWN_GROUP}"))
            return False, None
        return True, group

    def _urn(self, row: list[str], line: int, known: set[int], found: list[Issue]) -> int | None:
        text = self.cell(row, "URN")
        if not _URN.match(text):
            found.append(self.issue(line, "URN", "URN is empty" if not text else f"URN {text!r} is not 6 digits"))
            return None
        urn = int(text)
        if urn not in known:
            found.append(self.issue(line, "URN", f"no school with URN {urn} in the store"))
        return urn

    def _period(self, row: list[str], line: int, found: list[Issue]) -> str | None:
        text = self.cell(row, "period")
        if not text:
            found.append(self.issue(line, "period", "period is empty: give the academic year, like 2023/24"))
            return None
        try:
            return parse_period(text)
        except PeriodError as exc:
            found.append(self.issue(line, "period", str(exc)))
            return None

    def _numbers(self, row: list[str], line: int,
                 found: list[Issue]) -> tuple[float, float | None, float | None] | None:
        """(value, numerator, denominator) completed where derivable, or None when the row has no value."""
        n: dict[str, float | None] = {}
        junk: set[str] = set()
        for col in NUMBER_COLUMNS:
            text = self.cell(row, col)
            # a value may carry a % sign and thousands commas, as spreadsheets show them
            plain = text.removesuffix("%").strip() if col == "value" else text
            n[col] = None
            if not text:
                continue
            if not (_NUMBER.match(plain) and any(ch.isdigit() for ch in plain)):
                junk.add(col)
                found.append(self.issue(line, col, f"{col} {text!r} is not a number"))
                continue
            x = n[col] = float(plain.replace(",", ""))
            if col != "value" and x < 0:
                found.append(self.issue(line, col, f"{col} {_plain(x)} cannot be negative"))
        value, cohort, num, den = n["value"], n["cohort"], n["numerator"], n["denominator"]
        if cohort is not None and den is not None and cohort != den:
            found.append(self.issue(line, "cohort", f"cohort {_plain(cohort)} and denominator {_plain(den)} differ: "
                                                    "give one base for the value"))
        base = den if den is not None else cohort
        base_col = "denominator" if den is not None else "cohort"
        m = self.measure
        scale = m.scale if m is not None else 1.0
        if m is not None and m.unit == "%":
            if num is not None and base is not None and 0 <= base < num:
                found.append(self.issue(line, "numerator", f"numerator {_plain(num)} is larger than the {base_col} "
                                                           f"{_plain(base)}"))
            if value is not None and not 0 <= value <= 100:
                found.append(self.issue(line, "value", f"value {_plain(value)} is outside 0 to 100 (a percentage)"))
        if m is not None and value is not None and num is not None and base:
            expected = num / base * scale
            if abs(value - expected) > TOLERANCE:
                found.append(self.issue(line, "value", f"value {_plain(value)} does not match numerator / {base_col}"
                                                       f" × {_plain(scale)} = {expected:.2f}"))
        if (m is not None and m.rollup is Rollup.POOLED_RATIO and base is None and (value, num) != (None, None)
                and not junk & {"cohort", "denominator"}):
            found.append(self.issue(line, "denominator", "a pooled measure needs each school's denominator (or "
                                                         "cohort), so that the group's value pools all pupils"))
        if value is None and num is not None and base:
            value = num / base * scale
        if num is None and value is not None and base is not None:
            num = value * base / scale  # the store keeps numerator = value x denominator / scale
        if value is None:
            if not junk:
                found.append(self.issue(line, "value", "no value: give a value, or a numerator and a denominator "
                                                       "greater than 0"))
            return None
        return value, num, base


# ------------------------------------------------------------------------------ the stored rows (unchecked)


def local_measures(store: Store, group_id: int | None = None) -> list[dict]:
    """Local measure definitions (registry fields as dicts), optionally of one group."""
    sql = "SELECT measure_id, owner_group_id, definition FROM local_measures"
    rows = store.query(sql + (" WHERE owner_group_id = ?" if group_id is not None else "") + " ORDER BY measure_id",
                       [group_id] if group_id is not None else [])
    return [{**json.loads(d), "id": mid, "owner": str(gid)} for mid, gid, d in rows]


def write_local_measure(store: Store, group_id: int, definition: dict, *, actor: str = "system") -> None:
    """Create or replace a group's local measure. `definition` holds the registry's fields."""
    mid = definition.get("id", "")
    if not mid or not str(mid).replace("_", "").isalnum() or not str(mid)[0].isalpha():
        raise StoreError(f"a local measure id must be snake_case letters and digits, not {mid!r}")
    if store.query("SELECT count(*) FROM groups WHERE group_id = ?", [group_id])[0][0] == 0:
        raise StoreError(f"no group with id {group_id}")
    with store.transaction() as cur:
        before = cur.execute("SELECT owner_group_id, definition FROM local_measures WHERE measure_id = ?",
                             [mid]).fetchall()
        if before and before[0][0] != group_id:
            raise StoreError(f"measure id {mid!r} already belongs to another group")
        body = json.dumps({k: v for k, v in definition.items() if k not in ("id", "owner")}, sort_keys=True)
        cur.execute(
            "INSERT INTO local_measures (measure_id, owner_group_id, definition, created_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (measure_id) DO UPDATE SET definition = excluded.definition",
            [mid, group_id, body, actor],
        )
        store.audit(cur, actor, "define", "local_measure", mid,
                    json.loads(before[0][1]) if before else None, json.loads(body), group_id=group_id)


def write_local_values(store: Store, measure_id: str, values: pd.DataFrame, *, actor: str = "system") -> int:
    """Store values of a local measure (columns: urn, period, value; optional numerator, denominator, status, and
    pupil_group: a pupil group's id, empty for the whole school). Replaces earlier values for the same school,
    period and pupil group; every row in one transaction. Returns the rows written."""
    df = values.copy()
    for c in ("numerator", "denominator", "pupil_group"):
        if c not in df.columns:
            df[c] = None
    if "status" not in df.columns:
        df["status"] = ["ok" if v == v and v is not None else "missing" for v in df["value"]]
    df = df[["urn", "period", "value", "numerator", "denominator", "status", "pupil_group"]].copy()
    df["urn"] = df["urn"].astype("int32")
    for c in ("value", "numerator", "denominator"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    group = [None if g is None or g != g or str(g) == "" else str(g) for g in df["pupil_group"]]
    unknown = sorted({g for g in group if g is not None and g not in BY_ID})
    if unknown:
        raise StoreError(f"no pupil group {unknown[0]!r}: nothing was written")
    rows = [[measure_id, int(u), str(p), _num(v), _num(n), _num(d), str(st)] for u, p, v, n, d, st in
            df[["urn", "period", "value", "numerator", "denominator", "status"]].itertuples(index=False)]
    whole = [r for r, g in zip(rows, group, strict=True) if g is None]
    by_group = [[*r[:3], g, *r[3:]] for r, g in zip(rows, group, strict=True) if g is not None]
    with store.transaction() as cur:
        known = cur.execute("SELECT owner_group_id FROM local_measures WHERE measure_id = ?",
                            [measure_id]).fetchall()
        if not known:
            raise StoreError(f"no local measure {measure_id!r}: define it first")
        # one row per school and period: a later value replaces the one stored (the mirror shows them as
        # rows of observations with source_kind 'local', as they were)
        cur.executemany(
            "INSERT INTO local_values (measure, urn, period, value, numerator, denominator, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (measure, urn, period) DO UPDATE SET "
            "value = excluded.value, numerator = excluded.numerator, denominator = excluded.denominator, "
            "status = excluded.status", whole)
        # and one per school, period and pupil group (shown as rows of pupil_group_observations)
        cur.executemany(
            "INSERT INTO local_pupil_group_values (measure, urn, period, pupil_group, value, numerator, denominator, "
            "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (measure, urn, period, pupil_group) DO UPDATE SET "
            "value = excluded.value, numerator = excluded.numerator, denominator = excluded.denominator, "
            "status = excluded.status", by_group)
        store.audit(cur, actor, "write", "local_values", measure_id, None,
                    {"rows": len(whole), **({"pupil_group_rows": len(by_group)} if by_group else {})},
                    group_id=known[0][0])
    return len(df)


def local_group_values(store: Store, measure_id: str, urns: Sequence[int],
                       periods: Sequence[str] | None = None) -> pd.DataFrame:
    """A local measure's values by pupil group for these schools (in these years; every year without), as every
    reader sees them in pupil_group_observations: urn, period, pupil_group, value, numerator, denominator, status."""
    columns = ["urn", "period", "pupil_group", "value", "numerator", "denominator", "status"]
    if not urns or (periods is not None and not periods):
        return pd.DataFrame(columns=columns)
    # the local rows only (source_kind 'local'): a national measure's groups come from DfE files, not here
    sql = ("SELECT urn, period, pupil_group, value, numerator, denominator, status FROM pupil_group_observations "
           "WHERE source_kind = 'local' AND level = 'school' AND measure = ? AND urn IN (SELECT unnest(?::INTEGER[]))")
    params: list[object] = [measure_id, [int(u) for u in urns]]
    if periods is not None:
        sql += " AND period IN (SELECT unnest(?::VARCHAR[]))"
        params.append([str(p) for p in periods])
    return store.query_df(sql + " ORDER BY period, urn, pupil_group", params)[columns]


def _num(value: object) -> float | None:
    """A float for the state store; NaN and None as NULL."""
    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return None if f != f else f
