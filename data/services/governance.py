"""Who may change a group's scorecard, and the checked writes governors, leaders and admins make.

Every write a page offers goes through here: the viewer is checked first (in the data layer, so a page
can never widen the rule), the input is checked completely (every problem, in words), and only then is
anything written, in one transaction. A refused or invalid request leaves the store exactly as it was.

The rule: an admin may edit any group; a leader or governor their own group and the groups nested in it.
Importing DfE files is for admins only.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from data.db.store import Store
from data.ingest.importers import ImportReport, after_imports, for_page, import_file
from data.services import groups, local_measures, schools
from data.services.access import AccessDenied, Role, Viewer, require_group, visible_group_ids
from data.services.local_measures import FORM, UploadResult, template_for, upload_local_values, validate_upload
from data.services.local_measures import define_local_measure as _define_local_measure
from data.services.scorecards import registry_for
from metrics.gaps import GAP_MEASURES, GAP_TARGET_PREFIX, gap_limit, gap_target_key, points
from metrics.periods import PeriodError, parse_period, period_start_year
from metrics.registry import Measure, Phase, Rollup, load_registry
from metrics.validation import Issue, validate_definitions

MAX_IMPORT_NAME = 120  # characters kept of an uploaded file's name
# Characters not kept in an uploaded file's name on disk: anything but letters, digits, _ . and -
_UNSAFE = re.compile(r"[^\w.\-]")

REFUSED_EDIT = ("You can change the scorecard, targets and local measures only of your own group "
                "(and the groups within it).")
REFUSED_SCHOOL_GOVERNOR = ("Your account is for one school's governors: the group's scorecard, targets and local "
                           "measures are chosen by the group's governors and leaders.")
REFUSED_IMPORT = "Only a data manager (admin) can import DfE files."


# ------------------------------------------------------------------------------ who may edit


def can_edit_scorecard(store: Store, viewer: Viewer, group_id: int) -> bool:
    """True when the viewer may change this group's measures, targets and local measures: an admin any
    existing group; a leader or governor their own group and the groups nested in it. A governor whose account
    is for one school reads the group's scorecard but does not change it: the group's own governors do."""
    if not _group_exists(store, group_id):
        return False
    if viewer.is_admin:
        return True
    if viewer.role is Role.GOVERNOR and viewer.school_urn is not None:
        return False
    return group_id in visible_group_ids(store, viewer)


def _group_exists(store: Store, group_id: int) -> bool:
    return bool(store.query("SELECT count(*) FROM groups WHERE group_id = ?", [int(group_id)])[0][0])


def edit_refusal(store: Store, viewer: Viewer, group_id: int) -> str | None:
    """Why the viewer may not edit this group, in words; None when they may."""
    if not _group_exists(store, group_id):
        return f"There is no group with id {group_id}."
    if not can_edit_scorecard(store, viewer, group_id):
        return REFUSED_SCHOOL_GOVERNOR if viewer.school_urn is not None else REFUSED_EDIT
    return None


# ------------------------------------------------------------------------------ what a group may choose


def group_registry(store: Store, group_id: int) -> dict[str, Measure]:
    """The measures a group's scorecard may show, by id: every national measure and the group's own local ones."""
    return {m.id: m for m in registry_for(store, [group_id]).measures}


def applicable_measures(store: Store, viewer: Viewer, group_id: int, period: str | None = None) -> list[Measure]:
    """National and the group's local measures that apply to its members' phases (all of them when no
    member's phase is known), in registry order. AccessDenied outside the viewer's groups."""
    group_id = require_group(store, viewer, group_id)
    measures = list(group_registry(store, group_id).values())
    members = groups.group_members(store, group_id, period) if period else groups.group_members(store, group_id)
    phases = set()
    if members:
        known = {ph.value for ph in Phase}
        phases = {p for p in schools.establishments(store, members)["phase"].dropna() if p in known}
    if not phases:
        return measures
    return [m for m in measures if m.owner != "national" or any(p.value in phases for p in m.phases)]


def choose_measures(store: Store, viewer: Viewer, group_id: int, measure_ids: Sequence[str]) -> list[str]:
    """Save the measures (in this order) of a group's scorecard. Returns every problem in words ([] = saved).

    Each id must be a national measure or one of the group's own local measures, chosen once.
    """
    refused = edit_refusal(store, viewer, group_id)
    if refused:
        return [refused]
    known = group_registry(store, group_id)
    problems: list[str] = []
    if not measure_ids:
        problems.append("Choose at least one measure for the scorecard.")
    seen: set[str] = set()
    for mid in measure_ids:
        if mid in seen:
            label = known[mid].label if mid in known else mid
            problems.append(f"{label} ({mid}) is chosen more than once: choose each measure once.")
            continue
        seen.add(mid)
        # another group's local measure gets the same words as no measure at all: the answer must not tell a
        # group which ids other groups have (issue 9, point 18)
        if mid not in known:
            problems.append(f"There is no measure {mid!r}: choose national measures or this group's local ones.")
    if problems:
        return problems
    set_scorecard_measures(store, "group", group_id, list(measure_ids), actor=viewer.actor)
    return []


# ------------------------------------------------------------------------------ targets


def _as_target(value: object) -> tuple[float | None, bool]:
    """(number or None to clear, ok). An empty cell (None, NaN, blank text) clears the target."""
    if value is None:
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x):
            return None, True
        return (x, True) if math.isfinite(x) else (None, False)
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        if not text:
            return None, True
        try:
            x = float(text.replace(",", ""))
        except ValueError:
            return None, False
        return (x, True) if math.isfinite(x) else (None, False)
    return None, False


def check_targets(store: Store, group_id: int, period: str,
                  targets: Mapping[str, object]) -> tuple[dict[str, float | None], list[str]]:
    """The targets as numbers (None clears one), and every problem with them in words."""
    problems: list[str] = []
    try:
        parse_period(period)
    except PeriodError as exc:
        problems.append(f"The academic year is not right: {exc}.")
    known = group_registry(store, group_id)
    clean: dict[str, float | None] = {}
    for mid, raw in targets.items():
        m = known.get(mid)
        if m is None:
            problems.append(f"There is no measure {mid!r} on this group's scorecard to set a target for.")
            continue
        value, ok = _as_target(raw)
        if not ok:
            problems.append(f"The target for {m.label}, {raw!r}, is not a number.")
            continue
        if value is not None and not m.judged:
            problems.append(f"{m.label} describes the schools' context and is not judged: it takes no target.")
            continue
        if value is not None and m.unit == "%" and not 0 <= value <= 100:
            problems.append(f"The target for {m.label} is a percentage: give a number from 0 to 100, "
                            f"not {value:g}.")
            continue
        clean[mid] = value
    return clean, problems


def set_targets(store: Store, viewer: Viewer, group_id: int, period: str,
                targets: Mapping[str, float | None]) -> list[str]:
    """Set (a number) or clear (None) a group's targets for a year, all in one audited transaction.
    Returns every problem in words ([] = saved); with any problem nothing is written."""
    refused = edit_refusal(store, viewer, group_id)
    if refused:
        return [refused]
    clean, problems = check_targets(store, group_id, period, targets)
    if problems:
        return problems
    period = parse_period(period)
    key = "owner_kind = 'group' AND owner_id = ? AND measure = ? AND period = ?"
    with store.transaction() as cur:
        for mid, value in clean.items():
            params = [group_id, mid, period]
            before = cur.execute(f"SELECT value FROM targets WHERE {key}", params).fetchall()  # noqa: S608
            old = before[0][0] if before else None
            if old == value:
                continue  # unchanged: no write, no audit line
            cur.execute(f"DELETE FROM targets WHERE {key}", params)  # noqa: S608
            if value is not None:
                cur.execute("INSERT INTO targets (owner_kind, owner_id, measure, period, value, set_by) "
                            "VALUES ('group', ?, ?, ?, ?, ?)", [group_id, mid, period, value, viewer.actor])
            store.audit(cur, viewer.actor, "set" if value is not None else "clear", "target",
                        f"group:{group_id}:{mid}:{period}", old, value, group_id=group_id)
    return []


GAP_TARGET_YEARS = 10  # how far ahead a gap target may look ("halve it by 2029/30"): a decade, as a white paper's aims


def gap_target_problems(store: Store, group_id: int, measure_id: str, period: str, value: object,
                        *, today_period: str | None = None) -> tuple[tuple[str, float | None] | None, list[str]]:
    """A target on a measure's disadvantage gap, checked: ((period, value or None to clear), []) or (None,
    every problem in words). The year may be up to GAP_TARGET_YEARS ahead (a target is an aim, not a result)."""
    problems: list[str] = []
    m = group_registry(store, group_id).get(measure_id)
    if m is None or measure_id not in GAP_MEASURES:
        problems.append(f"There is no disadvantage gap of {measure_id!r} to set a target for: gaps are kept for "
                        + ", ".join(sorted(GAP_MEASURES)) + ".")
    text = str(period).strip()
    found = _PERIOD_TEXT.fullmatch(text)
    first = period_start_year(today_period or schools_latest_or_today(store))
    if not found or int(found.group(2)) != (int(found.group(1)) + 1) % 100:
        problems.append(f"The year of the target, {text!r}, is not an academic year like 2029/30.")
    elif not first - 1 <= int(found.group(1)) <= first + GAP_TARGET_YEARS:
        problems.append(f"The year of the target, {text}, must be from {first - 1}/{first % 100:02d} to "
                        f"{first + GAP_TARGET_YEARS}/{(first + GAP_TARGET_YEARS + 1) % 100:02d}.")
    number, ok = _as_target(value)
    if not ok:
        problems.append(f"The target for the gap, {value!r}, is not a number.")
    elif number is not None and m is not None and abs(number) > gap_limit(m):
        problems.append(f"A gap in {m.label} cannot be {number:g}: it lies between {-gap_limit(m):g} and "
                        f"{gap_limit(m):g} {points(m)}.")
    if problems:
        return None, problems
    return (text, number), []


_PERIOD_TEXT = re.compile(r"(\d{4})/(\d{2})")  # an academic year as written on the form: 2029/30


def schools_latest_or_today(store: Store) -> str:
    """The latest year with results (the year a target's "from" counts), or this academic year with none."""
    known = schools.periods(store)
    return known[-1] if known else local_measures.current_period()


def set_gap_target(store: Store, viewer: Viewer, group_id: int, measure_id: str, period: str,
                   value: object) -> list[str]:
    """Set (a number) or clear (None/blank) a group's target on a measure's disadvantage gap for a year, audited:
    every problem in words ([] = saved); with any problem nothing is written. A gap is signed as DfE's
    (disadvantaged minus non-disadvantaged pupils nationally): "-7" is 7 points behind."""
    refused = edit_refusal(store, viewer, group_id)
    if refused:
        return [refused]
    checked, problems = gap_target_problems(store, group_id, measure_id, period, value)
    if problems or checked is None:
        return problems
    year, number = checked
    set_target(store, "group", group_id, gap_target_key(measure_id), year, number, actor=viewer.actor)
    return []


def gap_targets(store: Store, owner_kind: str, owner_id: int) -> dict[str, list[tuple[str, float]]]:
    """The targets on disadvantage gaps, by measure id: (year, target gap), earliest year first."""
    rows = store.query("SELECT measure, period, value FROM targets WHERE owner_kind = ? AND owner_id = ? "
                       "AND starts_with(measure, ?) ORDER BY measure, period", [owner_kind, owner_id,
                                                                               GAP_TARGET_PREFIX])
    out: dict[str, list[tuple[str, float]]] = {}
    for key, period, value in rows:
        out.setdefault(key.removeprefix(GAP_TARGET_PREFIX), []).append((period, float(value)))
    return out


# ------------------------------------------------------------------------------ local measures


def form_definition(fields: Mapping[str, object]) -> dict:
    """A local measure's definition from the form's fields: blanks dropped, text trimmed, and the fields the
    form does not ask for derived (a percentage is scaled by 100 and, pooled, gets Wilson intervals)."""
    out: dict[str, object] = {}
    for k, v in fields.items():
        if isinstance(v, str):
            v = v.strip()
        if v is None or v == "" or v == []:
            continue
        out[k] = list(v) if isinstance(v, tuple) else v
    if out.get("unit") == "%":
        out.setdefault("scale", 100)
        if out.get("rollup") == Rollup.POOLED_RATIO.value and not out.get("formula"):
            out.setdefault("uncertainty", "wilson")
    return out


def check_definition(store: Store, viewer: Viewer, group_id: int, definition: Mapping[str, object]) -> list[Issue]:
    """Every issue with a group's local measure, as saving it would find them (nothing is written).
    AccessDenied outside the viewer's groups.

    The same validator as the national TOML, with the ids already taken (national ids and other groups'
    local ids) and the group's other local measures as context, so a formula may use them."""
    group_id = require_group(store, viewer, group_id)
    return _definition_issues(store, group_id, definition)


def _definition_issues(store: Store, group_id: int, definition: Mapping[str, object]) -> list[Issue]:
    fields = {k: v for k, v in definition.items() if v is not None}
    mid = fields.get("id")
    name = mid if isinstance(mid, str) and mid else None
    every_local = local_measures.local_measures(store)
    own = [d for d in every_local if d["owner"] == str(group_id) and d["id"] != mid]
    taken = set(load_registry().ids()) | {d["id"] for d in every_local if d["owner"] != str(group_id)}
    issues = validate_definitions([{**fields, "owner": str(group_id)}, *own], source=FORM, known_ids=taken,
                                  group_members_only=True)
    return [i for i in issues if i.measure is None or i.measure == name]


def define_measure(store: Store, viewer: Viewer, group_id: int, definition: Mapping[str, object]) -> list[Issue]:
    """Check and save a group's local measure for this viewer. Returns every issue ([] = saved)."""
    refused = edit_refusal(store, viewer, group_id)
    if refused:
        mid = definition.get("id")
        return [Issue(FORM, mid if isinstance(mid, str) and mid else None, None, None, refused)]
    return _define_local_measure(store, group_id, definition, actor=viewer.actor)


def uploadable_measures(store: Store, viewer: Viewer, group_id: int) -> list[Measure]:
    """The group's local measures whose values are uploaded (not calculated by a formula)."""
    group_id = require_group(store, viewer, group_id)
    return _uploadable(store, group_id)


def _own_uploaded(store: Store, viewer: Viewer, group_id: int, measure_id: str) -> int:
    """The group id, when the viewer may see the group and the measure is one of its own uploaded ones; an id that
    is not the group's own reads nothing (AccessDenied), whichever group it belongs to."""
    group_id = require_group(store, viewer, group_id)
    if measure_id not in {m.id for m in _uploadable(store, group_id)}:
        raise AccessDenied(f"{measure_id!r} is not one of this group's uploaded measures.")
    return group_id


def _uploadable(store: Store, group_id: int) -> list[Measure]:
    return [m for m in group_registry(store, group_id).values() if m.owner == str(group_id) and not m.formula]


def upload_values(store: Store, viewer: Viewer, group_id: int, measure_id: str, path_or_bytes: Path | str | bytes,
                  *, filename: str) -> UploadResult:
    """Check an upload of a local measure's values and, with no issue, write every row in one transaction."""
    refused = edit_refusal(store, viewer, group_id)
    if refused:
        return UploadResult([], [Issue(filename, measure_id, None, None, refused)])
    return upload_local_values(store, group_id, measure_id, path_or_bytes, filename=filename, actor=viewer.actor)


def upload_template(store: Store, viewer: Viewer, group_id: int, measure_id: str, period: str | None = None) -> str:
    """The CSV template for one of the group's uploaded measures, with the group's schools' URNs filled in."""
    return template_for(store, _own_uploaded(store, viewer, group_id, measure_id), measure_id, period)


def check_upload(store: Store, viewer: Viewer, group_id: int, measure_id: str, path_or_bytes: Path | str | bytes,
                 *, filename: str) -> UploadResult:
    """Every issue an upload would meet (nothing is written): the live check before saving."""
    refused = edit_refusal(store, viewer, group_id)
    if refused:
        return UploadResult([], [Issue(filename, measure_id, None, None, refused)])
    return validate_upload(store, group_id, measure_id, path_or_bytes, filename=filename)


def local_values(store: Store, viewer: Viewer, group_id: int, measure_id: str) -> pd.DataFrame:
    """The stored values of one of the group's own local measures for its schools (every year), newest year
    first. AccessDenied outside the viewer's groups; an id that is not the group's own reads nothing."""
    group_id = _own_uploaded(store, viewer, group_id, measure_id)
    members = groups.group_members(store, group_id)
    if not members:
        return pd.DataFrame(columns=["period", "urn", "school", "value", "numerator", "denominator", "status"])
    return store.query_df(
        """
        SELECT o.period, o.urn, coalesce(e.name, 'School ' || o.urn) AS school, o.value, o.numerator,
               o.denominator, o.status
        FROM observations o LEFT JOIN establishments e ON e.urn = o.urn
        WHERE o.level = 'school' AND o.measure = ? AND o.urn IN (SELECT unnest(?::INTEGER[]))
        ORDER BY o.period DESC, school
        """, [measure_id, members])


# ------------------------------------------------------------------------------ imports (admins)


def safe_filename(name: str) -> str:
    """An uploaded file's name, safe to write in a folder: never a path, never hidden, suffix kept."""
    base = Path(name.replace("\\", "/")).name
    clean = _UNSAFE.sub("_", base).lstrip(".") or "upload.csv"
    if len(clean) > MAX_IMPORT_NAME:
        suffix = Path(clean).suffix[:10]
        clean = clean[: MAX_IMPORT_NAME - len(suffix)] + suffix
    return clean


def import_uploads(store: Store, viewer: Viewer, files: Sequence[tuple[str, bytes]], period: str | None = None, *,
                   progress: Callable[[int, str], None] | None = None) -> list[ImportReport]:
    """Import uploaded DfE files (name, content) as this admin: each saved under its own safe name in a
    temporary folder and imported in its own transaction; the whole-table work runs once at the end.

    `period` ("2018/19"; None or blank: the file's own year, for EES and GIAS files). `progress(i, name)` is
    called before file i (0-based) is imported. A non-admin gets one failed report per file, nothing written.
    """
    if not viewer.is_admin:
        return [ImportReport(file=safe_filename(name), ok=False, message=REFUSED_IMPORT) for name, _ in files]
    period = period.strip() if period and period.strip() else None
    reports: list[ImportReport] = []
    with tempfile.TemporaryDirectory(prefix="jointly-import-") as tmp:
        for i, (name, content) in enumerate(files):
            if progress is not None:
                progress(i, name)
            # one folder per file: two uploads with the same name never overwrite each other, and the
            # folder's name ("upload-1") never looks like an academic year to period_from_path
            folder = Path(tmp) / f"upload-{i + 1}"
            folder.mkdir()
            path = folder / safe_filename(name)
            path.write_bytes(content)
            reports.append(_in_page_words(import_file(store, path, period, actor=viewer.actor, recluster=False)))
    after_imports(store, reports)
    return reports


def _in_page_words(report: ImportReport) -> ImportReport:
    """The report as the Data page shows it: the importer's sentences say how the command line gives a year."""
    report.message = for_page(report.message)
    report.notes = [for_page(n) for n in report.notes]
    report.problems = [dataclasses.replace(p, message=for_page(p.message)) for p in report.problems]
    return report


# ------------------------------------------------------------------------------ the stored rows (unchecked)


def targets(store: Store, owner_kind: str, owner_id: int, period: str) -> dict[str, float]:
    return dict(store.query("SELECT measure, value FROM targets WHERE owner_kind = ? AND owner_id = ? "
                            "AND period = ?", [owner_kind, owner_id, period]))


def set_target(store: Store, owner_kind: str, owner_id: int, measure: str, period: str, value: float | None,
               *, actor: str = "system") -> None:
    """Set (or clear, with None) a target, in one audited transaction."""
    with store.transaction() as cur:
        before = cur.execute("SELECT value FROM targets WHERE owner_kind = ? AND owner_id = ? AND measure = ? "
                             "AND period = ?", [owner_kind, owner_id, measure, period]).fetchall()
        cur.execute("DELETE FROM targets WHERE owner_kind = ? AND owner_id = ? AND measure = ? AND period = ?",
                    [owner_kind, owner_id, measure, period])
        if value is not None:
            cur.execute("INSERT INTO targets (owner_kind, owner_id, measure, period, value, set_by) "
                        "VALUES (?, ?, ?, ?, ?, ?)", [owner_kind, owner_id, measure, period, float(value), actor])
        store.audit(cur, actor, "set" if value is not None else "clear", "target",
                    f"{owner_kind}:{owner_id}:{measure}:{period}", before[0][0] if before else None, value,
                    group_id=owner_id if owner_kind == "group" else None)


def scorecard_measures(store: Store, owner_kind: str, owner_id: int) -> list[str]:
    """The measures governors chose for this scorecard, in their order ([] = not chosen yet)."""
    return [r[0] for r in store.query("SELECT measure FROM scorecard_measures WHERE owner_kind = ? "
                                      "AND owner_id = ? ORDER BY position", [owner_kind, owner_id])]


def set_scorecard_measures(store: Store, owner_kind: str, owner_id: int, measures: Sequence[str],
                           *, actor: str = "system") -> None:
    with store.transaction() as cur:
        before = [r[0] for r in cur.execute(
            "SELECT measure FROM scorecard_measures WHERE owner_kind = ? AND owner_id = ? ORDER BY position",
            [owner_kind, owner_id]).fetchall()]
        cur.execute("DELETE FROM scorecard_measures WHERE owner_kind = ? AND owner_id = ?", [owner_kind, owner_id])
        if measures:
            cur.executemany("INSERT INTO scorecard_measures VALUES (?, ?, ?, ?)",
                            [[owner_kind, owner_id, m, i] for i, m in enumerate(measures)])
        store.audit(cur, actor, "choose", "scorecard_measures", f"{owner_kind}:{owner_id}", before, list(measures),
                    group_id=owner_id if owner_kind == "group" else None)
