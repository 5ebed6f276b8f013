"""The one validator for measure definitions: the national TOML, the governors' form and local measures.

Validation is many small rules. Each takes every definition and returns a list of issues pointing at
the file (and, for TOML, the line) they came from; all rules always run, so one broken rule never
hides another. Pure: standard library only. The rules are listed, one line each, in docs/method.md
("Registry validation"); every rule has a fixture that breaks it in tests/fixtures/registry/.
"""

from __future__ import annotations

import difflib
import itertools
import keyword
import math
import re
import tomllib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from metrics.formula import FUNCTIONS, Formula, FormulaError, formula_cycles, parse_formula
from metrics.numbers import FORMAT_WORDS, is_number_format
from metrics.problems import Issue  # the one located problem, in the validators' argument order
from metrics.pupil_groups import BY_ID as PUPIL_GROUPS
from metrics.registry import NATIONAL_TOML, Perspective, Phase, Polarity, Rollup, Uncertainty, label_key
from metrics.timeline import Gap, is_period, period_of, span, start_year

ROOT = Path(__file__).resolve().parents[1]

MEASURE_FIELDS = ("id", "label", "description", "perspective", "unit", "format", "polarity", "phases", "rollup",
                  "scale", "min_cohort", "uncertainty", "sd", "notes", "owner", "formula", "sources", "definitions",
                  "gaps", "groups")
REQUIRED_FIELDS = ("id", "label", "description", "perspective", "unit", "polarity", "phases", "rollup")
COLUMN_FIELDS = ("value", "cohort", "numerator", "denominator", "ci_low", "ci_high")
SOURCE_FIELDS = ("kind", *COLUMN_FIELDS)
# A [[measure.groups]] table: where a wide file carries the measure for one pupil group (docs/data.md)
GROUP_COLUMN_FIELDS = ("value", "cohort", "numerator", "ci_low", "ci_high")
GROUP_FIELDS = ("kind", "pupil_group", "scope", *GROUP_COLUMN_FIELDS)
GROUP_SCOPES = ("gap",)  # DfE's published gap (DIFFN_*); no scope: the group's own value
# The registry's source kinds: data/ingest/formats.py maps each DfE file kind to one of these.
SOURCE_KINDS = ("ks4", "ks2", "census", "abs", "swf", "cfr", "pupdest", "ees_census")
UNCERTAINTIES = tuple(u.value for u in Uncertainty)
NATIONAL = "national"
MAX_ID = 40
MAX_LABEL = 80
DESCRIPTION_RANGE = (20, 500)
MAX_UNIT = 20
MIN_COHORT_RANGE = (0, 1000)

# snake_case: lowercase letters, digits and underscores, starting with a letter
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# A group's id as the store writes it in `owner`: digits only
_GROUP_ID = re.compile(r"^[1-9][0-9]*$")
_MEASURE_HEADER = re.compile(r"^\s*\[\[\s*measure\s*\]\]")  # [[measure]]
_SUB_HEADER = {name: re.compile(rf"^\s*\[\[\s*measure\s*\.\s*{name}\s*\]\]")  # [[measure.sources]]
               for name in ("sources", "groups")}
_ANY_HEADER = re.compile(r"^\s*\[")  # any table header ends the keys of the one before
_SUB_FIELD = re.compile(r"^(sources|groups)\[(\d+)\](?:\.(\w+))?$")  # sources[0].ci_low, groups[3].value
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")  # tomllib's error suffix


# ------------------------------------------------------------------------------ the definitions rules see


class _Lines:
    """Line numbers in the TOML text: tomllib gives no positions, so find the tables and keys."""

    def __init__(self, text: str, raw: list[object]) -> None:
        self.lines = text.splitlines()
        headers = [i for i, line in enumerate(self.lines, 1) if _MEASURE_HEADER.match(line)]
        self.starts: list[int | None]
        if len(headers) == len(raw):
            self.starts = list(headers)
        else:  # inline tables or a header inside a string: fall back to each measure's id line
            self.starts = [self._id_line(m.get("id")) if isinstance(m, dict) else None for m in raw]

    def _id_line(self, mid: object) -> int | None:
        if not isinstance(mid, str):
            return None
        # `id = "x"` at the start of a line or inside an inline table: `{ id = "x", ... }`
        key = re.compile(rf"""(^|[\s{{,])["']?id["']?\s*=\s*["']{re.escape(mid)}["']""")
        return next((i for i, line in enumerate(self.lines, 1) if key.search(line)), None)

    def _keys_end(self, start: int) -> int:
        """The last line of the keys that follow the header (or id line) at `start`."""
        for i in range(start + 1, len(self.lines) + 1):
            if _ANY_HEADER.match(self.lines[i - 1]):
                return i - 1
        return len(self.lines)

    def _key(self, start: int, end: int, key: str) -> int | None:
        pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
        return next((i for i in range(start, end + 1) if pattern.match(self.lines[i - 1])), None)

    def line(self, index: int, field: str | None) -> int | None:
        start = self.starts[index] if index < len(self.starts) else None
        if start is None or field is None:
            return start
        keys_end = self._keys_end(start)
        m = _SUB_FIELD.match(field)
        if m is None:
            return self._key(start, keys_end, field.split(".")[0]) or start
        next_measure = next((s for s in self.starts[index + 1:] if s is not None), len(self.lines) + 1)
        table, j, sub = m.group(1), int(m.group(2)), m.group(3)
        header = _SUB_HEADER[table]
        sources = [i for i in range(start + 1, next_measure) if header.match(self.lines[i - 1])]
        if j >= len(sources):  # tables written inline: point at the `sources` (or `groups`) key
            return self._key(start, keys_end, table) or start
        head = sources[j]
        return (self._key(head, self._keys_end(head), sub) if sub else None) or head


@dataclass(frozen=True)
class Definitions:
    """What every rule sees: the definitions, where they came from, and the ids already taken."""

    measures: tuple[tuple[int, dict], ...]  # (position in the list, the definition's fields)
    source: str
    known_ids: frozenset[str]
    group_members_only: bool
    lines: _Lines | None

    def issue(self, index: int, field: str | None, message: str, page: str = "") -> Issue:
        raw = dict(self.measures).get(index, {})
        mid = raw.get("id")
        line = self.lines.line(index, field) if self.lines is not None else None
        return Issue(self.source, mid if isinstance(mid, str) and mid else None, field, line, message, page)

    def ids(self) -> set[str]:
        return {m["id"] for _, m in self.measures if isinstance(m.get("id"), str)}

    def sources(self) -> Iterator[tuple[int, dict, int, dict]]:
        """(measure index, measure, source index, source) for every source that is a table."""
        for i, m in self.measures:
            srcs = m.get("sources")
            if isinstance(srcs, list):
                for j, s in enumerate(srcs):
                    if isinstance(s, dict):
                        yield i, m, j, s

    def formulas(self) -> Iterator[tuple[int, dict, Formula]]:
        """Every definition whose formula parses (the formula_parses rule reports the others)."""
        for i, m in self.measures:
            text = m.get("formula")
            if isinstance(text, str) and text.strip():
                try:
                    yield i, m, parse_formula(text)
                except FormulaError:
                    continue


Rule = Callable[[Definitions], list[Issue]]


def _allowed(values: Collection[str]) -> str:
    return ", ".join(values)


def _is_number(v: object) -> bool:
    return type(v) in (int, float) and math.isfinite(float(v))  # type: ignore[arg-type]


def _is_local(m: dict) -> bool:
    return str(m.get("owner", NATIONAL)) != NATIONAL


def _has_formula(m: dict) -> bool:
    f = m.get("formula")
    return isinstance(f, str) and bool(f.strip())


def _kind(s: dict) -> str:
    return repr(s["kind"]) if isinstance(s.get("kind"), str) else "without a kind"


def _one_of(d: Definitions, field: str, allowed: Collection[str]) -> list[Issue]:
    out = []
    for i, m in d.measures:
        if field not in m or m[field] is None:
            continue  # required_fields reports it
        v = m[field]
        if not isinstance(v, str) or v not in allowed:
            out.append(d.issue(i, field, f"{field} {v!r} is not one of: {_allowed(allowed)}",
                               "Choose one of the options."))
    return out


# ------------------------------------------------------------------------------ the rules


def required_fields(d: Definitions) -> list[Issue]:
    """Every definition has id, label, description, perspective, unit, polarity, phases and rollup."""
    return [d.issue(i, f, f"required field '{f}' is missing", "Needed: fill this in (or choose one).")
            for i, m in d.measures for f in REQUIRED_FIELDS if m.get(f) is None]


def unknown_fields(d: Definitions) -> list[Issue]:
    """No field the registry does not know (a typo such as `polarty` would otherwise be ignored)."""
    out = []

    def hint(name: str, known: tuple[str, ...]) -> str:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        return f"; did you mean '{close[0]}'?" if close else f"; the fields are: {_allowed(known)}"

    for i, m in d.measures:
        for k in m:
            if k not in MEASURE_FIELDS:
                out.append(d.issue(i, k, f"unknown field '{k}'{hint(k, MEASURE_FIELDS)}"))
    for i, _, j, s in d.sources():
        for k in s:
            if k not in SOURCE_FIELDS:
                out.append(d.issue(i, f"sources[{j}].{k}", f"unknown source field '{k}'{hint(k, SOURCE_FIELDS)}"))
    return out


def id_format(d: Definitions) -> list[Issue]:
    """The id is snake_case (lowercase letters, digits, underscores; starts with a letter), at most
    40 characters, and not a word formulas reserve (their functions, Python keywords)."""
    out = []
    reserved = set(FUNCTIONS) | {"iff"} | set(keyword.kwlist)  # a formula could not name them
    for i, m in d.measures:
        mid = m.get("id")
        if mid is None:
            continue
        if not isinstance(mid, str) or not _ID.match(mid):
            out.append(d.issue(i, "id", f"id {mid!r} must be snake_case: lowercase letters, digits and "
                                        "underscores, starting with a letter",
                               f"“{mid}” cannot be an id: use only lowercase letters, digits and underscores (_), "
                               "starting with a letter, for example community_events."))
        elif len(mid) > MAX_ID:
            out.append(d.issue(i, "id", f"id '{mid}' is {len(mid)} characters long; the limit is {MAX_ID}",
                               f"At most {MAX_ID} characters: this one has {len(mid)}."))
        elif mid in reserved:
            out.append(d.issue(i, "id", f"id '{mid}' is a reserved word: a formula could not use it",
                               f"“{mid}” is a word formulas keep for themselves: choose another id."))
    return out


def id_unique(d: Definitions) -> list[Issue]:
    """Ids are unique within the definitions and against the ids already taken (national ids, and
    every group's local ids: a local measure may not reuse a national id)."""
    out = []
    first: dict[str, int] = {}
    for i, m in d.measures:
        mid = m.get("id")
        if not isinstance(mid, str) or not mid:
            continue
        if mid in d.known_ids:
            out.append(d.issue(i, "id", f"id '{mid}' is already taken by another measure "
                                        "(ids are unique across national and local measures)",
                               f"“{mid}” is already another measure's id: choose another."))
        elif mid in first:
            earlier = d.lines.line(first[mid], None) if d.lines is not None else None
            where = f" (line {earlier})" if earlier is not None else ""
            out.append(d.issue(i, "id", f"id '{mid}' is used twice: an earlier measure{where} has it",
                               f"“{mid}” is used twice."))
        else:
            first[mid] = i
    return out


MAX_NAMED = 3  # other measures a label clash names; the rest are counted


def label_unique(d: Definitions) -> list[Issue]:
    """Labels are unique, ignoring case and spaces (a label heads a table column and a grid cell; two alike would
    merge): among the national measures, and within a group, where a local measure may take neither a national
    measure's label nor another of its group's. A group's definitions (the form) are checked against national.toml's
    labels. Two groups may name a measure alike: they never share a scorecard."""
    out = []
    by_index = dict(d.measures)
    seen: dict[tuple[str, str], list[int]] = {}
    for i, m in d.measures:
        label = m.get("label")
        if isinstance(label, str) and label.strip():
            seen.setdefault((str(m.get("owner", NATIONAL)), label_key(label)), []).append(i)
    in_file = {key: str(by_index[idxs[0]].get("id")) for (owner, key), idxs in seen.items() if owner == NATIONAL}
    national = {**(national_labels() if d.group_members_only else {}), **in_file}
    for (owner, key), idxs in seen.items():
        for i in idxs:
            label = by_index[i]["label"]
            if owner != NATIONAL and key in national:
                out.append(d.issue(i, "label", f"label {label!r} is already the label of the national measure "
                                               f"{national[key]}: a local measure needs its own (labels are unique, "
                                               "ignoring case and spaces)",
                                   f"“{label}” is already the name of a national measure: choose another name."))
            if len(idxs) < 2:
                continue
            # name a few of the others (a long list of one label, such as a generated file, stays one line each)
            others = [j for j in idxs[:MAX_NAMED + 1] if j != i][:MAX_NAMED]
            more = len(idxs) - 1 - len(others)
            tail = f" and {more:,} more" if more else ""
            names = ", ".join(_where(d, j) for j in others) + tail
            ids = ", ".join(str(by_index[j].get("id")) for j in others) + tail
            out.append(d.issue(i, "label", f"label {label!r} is also the label of {names} (labels are unique, "
                                           "ignoring case and spaces)",
                               f"“{label}” is already the name of another of your group's measures ({ids}): "
                               "choose another name."))
    return out


def _where(d: Definitions, index: int) -> str:
    """Another definition, as an issue names it: its id, and its line when the definitions came from a file."""
    mid = dict(d.measures)[index].get("id")
    line = d.lines.line(index, None) if d.lines is not None else None
    return f"measure {mid}" + (f" (line {line})" if line is not None else "")


def perspective_value(d: Definitions) -> list[Issue]:
    """perspective is one of the scorecard areas."""
    return _one_of(d, "perspective", [p.value for p in Perspective])


def polarity_value(d: Definitions) -> list[Issue]:
    """polarity is higher_better, lower_better or context."""
    return _one_of(d, "polarity", [p.value for p in Polarity])


def rollup_value(d: Definitions) -> list[Issue]:
    """rollup is pooled_ratio, weighted_mean or sum."""
    return _one_of(d, "rollup", [r.value for r in Rollup])


def uncertainty_value(d: Definitions) -> list[Issue]:
    """uncertainty, when given, is none, published_ci, wilson or normal."""
    return _one_of(d, "uncertainty", UNCERTAINTIES)


def phases_value(d: Definitions) -> list[Issue]:
    """phases is a non-empty list of school phases, each once."""
    out = []
    allowed = [p.value for p in Phase]
    for i, m in d.measures:
        v = m.get("phases")
        if v is None:
            continue
        if not isinstance(v, list) or not v:
            out.append(d.issue(i, "phases", f'phases must be a list of phases such as ["primary"], not {v!r}',
                               "Choose at least one phase."))
            continue
        seen: set[object] = set()
        for p in v:
            if not isinstance(p, str) or p not in allowed:
                out.append(d.issue(i, "phases", f"phase {p!r} is not one of: {_allowed(allowed)}",
                                   "Choose phases from the list."))
            elif p in seen:
                out.append(d.issue(i, "phases", f"phase '{p}' is listed twice", "A phase is chosen twice."))
            seen.add(p if isinstance(p, str) else repr(p))
    return out


def unit_text(d: Definitions) -> list[Issue]:
    """unit is short text (at most 20 characters), e.g. "%", "score", "hours"."""
    out = []
    for i, m in d.measures:
        v = m.get("unit")
        if v is None:
            continue
        if not isinstance(v, str) or not v.strip() or len(v) > MAX_UNIT:
            out.append(d.issue(i, "unit", f'unit must be short text (1 to {MAX_UNIT} characters) such as "%", '
                                          f'"score" or "hours", not {v!r}',
                               f"A short unit, 1 to {MAX_UNIT} characters, such as %, score or hours."))
    return out


def label_text(d: Definitions) -> list[Issue]:
    """label is text of 1 to 80 characters (it heads tables and charts)."""
    out = []
    for i, m in d.measures:
        v = m.get("label")
        if v is None:
            continue
        if not isinstance(v, str) or not v.strip():
            out.append(d.issue(i, "label", f"label must be text, not {v!r}", "Give the measure a name."))
        elif len(v) > MAX_LABEL:
            out.append(d.issue(i, "label", f"label is {len(v)} characters long; the limit is {MAX_LABEL}",
                               f"At most {MAX_LABEL} characters: this one has {len(v)}."))
    return out


def description_text(d: Definitions) -> list[Issue]:
    """description is 20 to 500 characters: what the measure shows, in plain words for parents."""
    out = []
    low, high = DESCRIPTION_RANGE
    for i, m in d.measures:
        v = m.get("description")
        if v is None:
            continue
        n = len(v.strip()) if isinstance(v, str) else 0
        if not isinstance(v, str) or n < low:
            out.append(d.issue(i, "description", f"description is {n} characters long; it needs at least {low}: "
                                                 "say in plain words, for parents, what the measure shows",
                               f"At least {low} characters (this has {n}): say in plain words, for parents, what "
                               "the measure shows."))
        elif n > high:
            out.append(d.issue(i, "description", f"description is {n} characters long; the limit is {high}",
                               f"At most {high} characters: this one has {n}."))
    return out


def notes_text(d: Definitions) -> list[Issue]:
    """notes, when given, are text."""
    return [d.issue(i, "notes", f"notes must be text, not {m['notes']!r}")
            for i, m in d.measures if m.get("notes") is not None and not isinstance(m["notes"], str)]


def owner_value(d: Definitions) -> list[Issue]:
    """owner is "national" or a group's id; for a group's own definitions (the form, local measures)
    it must be a group's id."""
    out = []
    for i, m in d.measures:
        v = m.get("owner", NATIONAL)
        is_group = (isinstance(v, str) and bool(_GROUP_ID.match(v))) or (type(v) is int and v > 0)
        if d.group_members_only and not is_group:
            out.append(d.issue(i, "owner", f"owner must be a group's id, not {v!r}: only a group's local "
                                           "measures are defined here"))
        elif not is_group and v != NATIONAL:
            out.append(d.issue(i, "owner", f"owner must be \"national\" or a group's id, not {v!r}"))
    return out


def format_spec(d: Definitions) -> list[Issue]:
    """format, when given, is one of the closed set of number formats: ".0f" to ".3f", with "+" in front for a
    signed number and "," for thousands ("+.2f", ",.0f"): the one format tables, charts, PDF and CSV all use."""
    return [d.issue(i, "format", f"format {m['format']!r} is not one of the number formats: {FORMAT_WORDS}",
                    "Choose how the numbers are written.")
            for i, m in d.measures if m.get("format") is not None and not is_number_format(m["format"])]


def scale_positive(d: Definitions) -> list[Issue]:
    """scale, when given, is a number greater than 0."""
    return [d.issue(i, "scale", f"scale must be a number greater than 0, not {m['scale']!r}")
            for i, m in d.measures
            if m.get("scale") is not None and not (_is_number(m["scale"]) and m["scale"] > 0)]


def min_cohort_range(d: Definitions) -> list[Issue]:
    """min_cohort, when given, is a whole number from 0 to 1000."""
    low, high = MIN_COHORT_RANGE
    return [d.issue(i, "min_cohort", f"min_cohort must be a whole number from {low} to {high}, not "
                                     f"{m['min_cohort']!r}", f"A whole number from {low} to {high}.")
            for i, m in d.measures
            if m.get("min_cohort") is not None
            and not (type(m["min_cohort"]) is int and low <= m["min_cohort"] <= high)]


def _measure_tables(d: Definitions, field: str, noun: str) -> Iterator[tuple[int, dict, int, dict] | Issue]:
    """Each measure's [[measure.<field>]] tables as (measure index, measure, j, table), and an Issue where the field
    is not a list of tables (`noun` names one table in the sentence: "source", "group")."""
    for i, m in d.measures:
        v = m.get(field)
        if v is None:
            continue
        if not isinstance(v, list):
            yield d.issue(i, field, f"{field} must be a list of [[measure.{field}]] tables, not {v!r}")
            continue
        for j, t in enumerate(v):
            if isinstance(t, dict):
                yield i, m, j, t
            else:
                yield d.issue(i, f"{field}[{j}]", f"{noun} {j + 1} must be a table of fields, not {t!r}")


def _column_issue(d: Definitions, i: int, where: str, f: str, v: object) -> Issue | None:
    """An Issue when a column field is neither a column name nor a list of names (None when it is, or absent)."""
    names = v if isinstance(v, list) else [v]
    if v is None or (names and all(isinstance(n, str) and n.strip() for n in names)):
        return None
    return d.issue(i, f"{where}.{f}", f"{f} must be a column name or a list of column names, not {v!r}")


def sources_shape(d: Definitions) -> list[Issue]:
    """sources, when given, is a list of [[measure.sources]] tables."""
    return [x for x in _measure_tables(d, "sources", "source") if isinstance(x, Issue)]


def source_kind(d: Definitions) -> list[Issue]:
    """Each source names a known kind of DfE file, and a measure has at most one source per kind."""
    out = []
    seen: dict[int, set[str]] = {}
    for i, _, j, s in d.sources():
        k = s.get("kind")
        if not isinstance(k, str) or k not in SOURCE_KINDS:
            got = "no kind" if k is None else f"kind {k!r}"
            out.append(d.issue(i, f"sources[{j}].kind", f"source {j + 1} has {got}; the kinds are: "
                                                        f"{_allowed(SOURCE_KINDS)}"))
        elif k in seen.setdefault(i, set()):
            out.append(d.issue(i, f"sources[{j}].kind", f"two sources of kind '{k}': give one, listing "
                                                        "alternative column names in it"))
        else:
            seen[i].add(k)
    return out


def source_columns(d: Definitions) -> list[Issue]:
    """Each source gives a value or a numerator column; every column is a name or a list of names."""
    out = []
    for i, _, j, s in d.sources():
        out += [x for f in COLUMN_FIELDS if (x := _column_issue(d, i, f"sources[{j}]", f, s.get(f))) is not None]
        if s.get("value") is None and s.get("numerator") is None:
            out.append(d.issue(i, f"sources[{j}]", f"source {_kind(s)} gives neither a value nor a numerator "
                                                   "column"))
    return out


def groups_shape(d: Definitions) -> list[Issue]:
    """groups, when given, is a list of [[measure.groups]] tables of known fields, each naming a kind of file among
    the measure's sources, a pupil group of metrics/pupil_groups.py, an optional scope ("gap": DfE's published gap)
    and a value column (every column a name or a list of names); one table per kind, group and scope."""
    out: list[Issue] = []
    seen: dict[tuple[int, object, object, object], int] = {}
    for x in _measure_tables(d, "groups", "group"):
        if isinstance(x, Issue):
            out.append(x)
            continue
        i, m, j, g = x
        where = f"groups[{j}]"
        kinds = {s.get("kind") for s in m.get("sources") or [] if isinstance(s, dict)}
        out += [d.issue(i, f"{where}.{k}", f"unknown group field '{k}'; the fields are: "
                                           f"{_allowed(GROUP_FIELDS)}") for k in g if k not in GROUP_FIELDS]
        k = g.get("kind")
        if not isinstance(k, str) or k not in kinds:
            got = "no kind" if k is None else f"kind {k!r}"
            out.append(d.issue(i, f"{where}.kind", f"group {j + 1} has {got}; it must be one of this measure's "
                                                   f"sources: {_allowed(sorted(str(x) for x in kinds))}"))
        pg = g.get("pupil_group")
        if not isinstance(pg, str) or pg not in PUPIL_GROUPS:
            out.append(d.issue(i, f"{where}.pupil_group", f"group {j + 1} names pupil group {pg!r}, which is not "
                                                          f"one of: {_allowed(PUPIL_GROUPS)}"))
        scope = g.get("scope")
        if scope is not None and scope not in GROUP_SCOPES:
            out.append(d.issue(i, f"{where}.scope", f"group {j + 1} has scope {scope!r}: leave it out for the "
                                                    "group's own value, or write \"gap\" for DfE's published gap"))
        out += [x for f in GROUP_COLUMN_FIELDS if (x := _column_issue(d, i, where, f, g.get(f))) is not None]
        if g.get("value") is None:
            out.append(d.issue(i, where, f"group {j + 1} ({pg}) gives no value column"))
        key = (i, k, pg, scope)
        if key in seen:
            what = f"{pg}{' (' + str(scope) + ')' if scope else ''} in {k} files"
            out.append(d.issue(i, where, f"groups {seen[key] + 1} and {j + 1} both say where {what} is: give one, "
                                         "listing alternative column names in it"))
        else:
            seen[key] = j
    return out


def sources_match_owner(d: Definitions) -> list[Issue]:
    """A national measure has DfE sources and no formula; a local measure never reads DfE files
    (it has a formula, or no sources and its values are uploaded)."""
    out = []
    for i, m in d.measures:
        srcs = m.get("sources")
        has_sources = isinstance(srcs, list) and bool(srcs)
        if _is_local(m):
            if has_sources:
                out.append(d.issue(i, "sources", "a local measure cannot read DfE files: give it a formula, or "
                                                 "no sources and upload its values"))
        else:
            if _has_formula(m):
                out.append(d.issue(i, "formula", "a national measure cannot have a formula: formulas are for "
                                                 "local measures"))
            if srcs is None or srcs == []:  # any other non-list: sources_shape says so
                out.append(d.issue(i, "sources", "a national measure needs at least one source: the DfE file "
                                                 "and column that feed it"))
    return out


def pooled_ratio_parts(d: Definitions) -> list[Issue]:
    """A pooled_ratio measure can be pooled: each source gives a numerator or a cohort/denominator beside
    the value (two of value, numerator, base), or the measure has a formula. A local measure without
    sources is fine: its uploads carry numerator and denominator."""
    out = []
    for i, m, j, s in d.sources():
        if m.get("rollup") != Rollup.POOLED_RATIO.value or _has_formula(m):
            continue
        base = s.get("cohort") is not None or s.get("denominator") is not None
        parts = sum([s.get("value") is not None, s.get("numerator") is not None, base])
        if parts < 2 and (s.get("value") is not None or s.get("numerator") is not None):
            out.append(d.issue(i, f"sources[{j}]", f"a pooled ratio needs a numerator or a cohort/denominator "
                                                   f"beside the value so that groups pool as sum(numerator) / "
                                                   f"sum(denominator); source {_kind(s)} gives only "
                                                   f"{'a value' if s.get('value') is not None else 'a numerator'}"))
    return out


def published_ci_columns(d: Definitions) -> list[Issue]:
    """uncertainty = "published_ci" needs ci_low and ci_high columns in every source."""
    out = []
    for i, m in d.measures:
        if m.get("uncertainty") != "published_ci":
            continue
        srcs = m.get("sources")
        if not isinstance(srcs, list) or not srcs:
            out.append(d.issue(i, "uncertainty", "uncertainty 'published_ci' needs ci_low and ci_high columns in "
                                                 "a source; this measure has no sources"))
            continue
        for j, s in enumerate(srcs):
            missing = [f for f in ("ci_low", "ci_high") if isinstance(s, dict) and s.get(f) is None]
            if missing:
                out.append(d.issue(i, f"sources[{j}].{missing[0]}",
                                   f"uncertainty 'published_ci' needs ci_low and ci_high columns; source {_kind(s)} "
                                   f"has no {' and no '.join(missing)}"))
    return out


def normal_sd(d: Definitions) -> list[Issue]:
    """uncertainty = "normal" needs sd, the pupil-level standard deviation, greater than 0."""
    out = []
    for i, m in d.measures:
        sd = m.get("sd")
        if sd is not None and not (_is_number(sd) and sd > 0):
            out.append(d.issue(i, "sd", f"sd must be a number greater than 0, not {sd!r}"))
        elif sd is None and m.get("uncertainty") == "normal":
            out.append(d.issue(i, "uncertainty", "uncertainty 'normal' needs sd, the pupil-level standard "
                                                 "deviation (a number greater than 0)"))
    return out


def wilson_pooled_only(d: Definitions) -> list[Issue]:
    """uncertainty = "wilson" (an interval for a proportion) only for pooled_ratio measures."""
    rollups = [r.value for r in Rollup]
    return [d.issue(i, "uncertainty", f"uncertainty 'wilson' is for pooled ratios (a count out of a cohort); "
                                      f"this measure's rollup is '{m['rollup']}'")
            for i, m in d.measures
            if m.get("uncertainty") == "wilson" and m.get("rollup") in rollups
            and m["rollup"] != Rollup.POOLED_RATIO.value]


def formula_parses(d: Definitions) -> list[Issue]:
    """formula, when given, is in the formula language (see "Local measures")."""
    out = []
    for i, m in d.measures:
        text = m.get("formula")
        if text is None or (isinstance(text, str) and not text.strip()):
            continue
        try:
            parse_formula(text)
        except FormulaError as exc:
            out.append(d.issue(i, "formula", f"formula: {exc.message}",
                               exc.message[:1].upper() + exc.message[1:] + "."))
    return out


def formula_names_known(d: Definitions) -> list[Issue]:
    """A formula uses only known measure ids; a group's formula uses only national measures and the
    group's own.

    In a group's definitions (the form) every other id gets the same words, whether it is another
    group's measure or no measure at all, and "did you mean" draws only on the ids the group may use:
    the message must not tell a governor which ids exist in other groups.
    """
    out = []
    own = d.ids()
    usable = own | (national_ids() if d.group_members_only else set(d.known_ids))
    for i, m, f in d.formulas():
        for name in f.names:
            if name in usable or name == m.get("id"):
                continue
            close = difflib.get_close_matches(name, sorted(usable), n=1, cutoff=0.75)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            if d.group_members_only:
                msg = (f"formula uses '{name}', which is not a measure this group can use (a formula may use "
                       f"national measures and the group's own){hint}")
            else:
                msg = f"formula uses '{name}', which is not a measure id{hint}"
            page = (f"“{name}” is not a measure your group can use: a formula may use national measures and your "
                    "group's own" + (f". Did you mean “{close[0]}”?" if close else "."))
            out.append(d.issue(i, "formula", msg, page))
    return out


MAX_PATH_SHOWN = 12  # members of a circle's path named in full; a longer path is shortened in the middle


def formula_no_cycles(d: Definitions) -> list[Issue]:
    """Formulas do not go round in a circle (a measure using itself, directly or through others).

    One issue per circle, on its first measure: the shortest way round, and how many other measures
    are caught in it. Linear in measures + uses: a chain of 2,000 formulas is checked in milliseconds.
    """
    index: dict[str, int] = {}
    formulas: dict[str, Formula] = {}
    for i, m, f in d.formulas():
        mid = m.get("id")
        if isinstance(mid, str) and mid not in formulas:
            index[mid] = i
            formulas[mid] = f
    out = []
    for circle in formula_cycles(formulas):
        path = list(circle.path)
        if len(path) > MAX_PATH_SHOWN:
            path = [*path[:MAX_PATH_SHOWN - 3], "…", *path[-2:]]
        msg = f"the formula goes round in a circle: {' → '.join(path)}"
        if len(circle.path) > MAX_PATH_SHOWN:
            msg += f" ({len(circle.path) - 1:,} steps)"
        others = [mid for mid in circle.members if mid not in circle.path]
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5:,} more" if len(others) > 5 else "")
            msg += f"; also caught in it: {shown}"
        out.append(d.issue(index[circle.path[0]], "formula", msg))
    return out


# ------------------------------------------------------------------------------ time rules (method.md, "Time rules")

DEFINITION_FIELDS = ("id", "label", "from", "until", "columns")
GAP_FIELDS = ("from", "until", "reason", "source")
SHARED_GAP_FIELDS = ("kinds", *GAP_FIELDS)
MIN_REASON = 20  # a gap's sentence says why in DfE's terms: more than a word or two


def _tables(m: dict, field: str) -> Iterator[tuple[int, object]]:
    v = m.get(field)
    if isinstance(v, list):
        yield from enumerate(v)


def _years(t: dict) -> tuple[str | None, str | None] | None:
    """(from, until) when both are absent or academic years and from <= until; None otherwise."""
    a, b = t.get("from"), t.get("until")
    if any(x is not None and not is_period(x) for x in (a, b)):
        return None
    if a is not None and b is not None and start_year(a) > start_year(b):
        return None
    return a, b


def _year_issues(d: Definitions, i: int, where: str, t: dict, what: str) -> list[Issue]:
    out = []
    for key in ("from", "until"):
        v = t.get(key)
        if v is not None and not is_period(v):
            out.append(d.issue(i, f"{where}.{key}", f"{what} {key} {v!r} is not an academic year like 2018/19"))
    a, b = t.get("from"), t.get("until")
    if is_period(a) and is_period(b) and start_year(a) > start_year(b):
        out.append(d.issue(i, f"{where}.until", f"{what} ends in {b}, before it starts in {a}"))
    return out


def definitions_shape(d: Definitions) -> list[Issue]:
    """definitions, when given, is a list of tables, each with a snake_case id, a label, academic years `from` and
    `until` (either may be left out: open-ended), and `columns` naming, per source kind of the measure, the columns
    that carry it under that definition."""
    out = []
    for i, m in d.measures:
        v = m.get("definitions")
        if v is None:
            continue
        if not isinstance(v, list):
            out.append(d.issue(i, "definitions", f"definitions must be a list of [[measure.definitions]] tables, not "
                                                 f"{v!r}"))
            continue
        kinds = {s.get("kind") for s in m.get("sources") or [] if isinstance(s, dict)}
        for j, t in enumerate(v):
            where = f"definitions[{j}]"
            if not isinstance(t, dict):
                out.append(d.issue(i, where, f"definition {j + 1} must be a table of fields, not {t!r}"))
                continue
            out += [d.issue(i, f"{where}.{k}", f"unknown definition field '{k}'; the fields are: "
                                               f"{_allowed(DEFINITION_FIELDS)}")
                    for k in t if k not in DEFINITION_FIELDS]
            if not (isinstance(t.get("id"), str) and _ID.match(t["id"])):
                out.append(d.issue(i, f"{where}.id", f"definition {j + 1} needs a snake_case id, "
                                                     f"not {t.get('id')!r}"))
            if not (isinstance(t.get("label"), str) and t["label"].strip()):
                out.append(d.issue(i, f"{where}.label", f"definition {j + 1} needs a label: what it measured, "
                                                        "in words"))
            out += _year_issues(d, i, where, t, f"definition {j + 1}")
            cols = t.get("columns")
            if cols is None:
                continue
            if not isinstance(cols, dict):
                out.append(d.issue(i, f"{where}.columns", f"columns must be a table of source kind = column names, "
                                                          f"not {cols!r}"))
                continue
            for k, names in cols.items():
                listed = names if isinstance(names, list) else [names]
                if k not in kinds:
                    out.append(d.issue(i, f"{where}.columns", f"columns name kind {k!r}, which is not one of this "
                                                              f"measure's sources"))
                elif not listed or not all(isinstance(n, str) and n.strip() for n in listed):
                    out.append(d.issue(i, f"{where}.columns", f"columns for {k!r} must be a column name or a list "
                                                              f"of names, not {names!r}"))
    return out


def gaps_shape(d: Definitions) -> list[Issue]:
    """gaps, when given, is a list of tables, each with an academic year `from`, an optional `until` (left out: the
    measure has ended) and `reason`, the sentence in DfE's terms that cards show for those years (a gap without a
    sentence is refused)."""
    out = []
    for i, m in d.measures:
        v = m.get("gaps")
        if v is None:
            continue
        if not isinstance(v, list):
            out.append(d.issue(i, "gaps", f"gaps must be a list of [[measure.gaps]] tables, not {v!r}"))
            continue
        for j, t in enumerate(v):
            out += _gap_issues(lambda f, msg, i=i: d.issue(i, f, msg), f"gaps[{j}]", j, t, GAP_FIELDS)
    return out


def _gap_issues(issue: Callable[[str, str], Issue], where: str, j: int, t: object,
                fields: tuple[str, ...]) -> list[Issue]:
    if not isinstance(t, dict):
        return [issue(where, f"gap {j + 1} must be a table of fields, not {t!r}")]
    out = [issue(f"{where}.{k}", f"unknown gap field '{k}'; the fields are: {_allowed(fields)}")
           for k in t if k not in fields]
    if t.get("from") is None:
        out.append(issue(f"{where}.from", f"gap {j + 1} needs `from`, its first academic year"))
    for key in ("from", "until"):
        v = t.get(key)
        if v is not None and not is_period(v):
            out.append(issue(f"{where}.{key}", f"gap {j + 1} {key} {v!r} is not an academic year like 2018/19"))
    a, b = t.get("from"), t.get("until")
    if is_period(a) and is_period(b) and start_year(a) > start_year(b):
        out.append(issue(f"{where}.until", f"gap {j + 1} ends in {b}, before it starts in {a}"))
    reason = t.get("reason")
    if not (isinstance(reason, str) and len(reason.strip()) >= MIN_REASON):
        out.append(issue(f"{where}.reason", f"gap {j + 1} needs a reason: the sentence, in DfE's terms, that says "
                                            "why there is no value for those years"))
    return out


def definitions_cover_years(d: Definitions) -> list[Issue]:
    """A measure's definitions do not overlap (one definition per year), and any years between two of them are a
    gap with its sentence (a year in no definition and no gap would be compared with nothing, unexplained)."""
    out = []
    for i, m in d.measures:
        spans = sorted(((j, *y) for j, t in _tables(m, "definitions") if isinstance(t, dict)
                        and (y := _years(t)) is not None),
                       key=lambda s: -1 if s[1] is None else start_year(s[1]))
        gaps = [Gap(y[0], y[1], "") for _, t in _tables(m, "gaps") if isinstance(t, dict)
                and t.get("from") is not None and (y := _years(t)) is not None]
        for (j1, _a1, b1), (j2, a2, _b2) in itertools.pairwise(spans):
            if b1 is None or a2 is None or start_year(a2) <= start_year(b1):
                out.append(d.issue(i, f"definitions[{j2}].from", f"definitions {j1 + 1} and {j2 + 1} overlap: a "
                                                                 "year can have only one definition"))
                continue
            hole = span(period_of(start_year(b1) + 1), period_of(start_year(a2) - 1))
            unexplained = [p for p in hole if not any(g.covers(p) for g in gaps)]
            if unexplained:
                out.append(d.issue(i, f"definitions[{j2}].from", f"{', '.join(unexplained)} is in no definition "
                                                                 "and no gap says why"))
    return out


TIME_RULES: tuple[Rule, ...] = (definitions_shape, gaps_shape, definitions_cover_years)


def shared_gap_issues(raw: object, source: str, text: str | None = None) -> list[Issue]:
    """The file's shared [[gap]] tables: each names the kinds of file it covers, its years and its sentence."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        return [Issue(source, None, "gap", None, "gap must be a list of [[gap]] tables")]
    lines = [n for n, line in enumerate((text or "").splitlines(), 1) if re.match(r"^\s*\[\[\s*gap\s*\]\]", line)]
    out = []
    for j, t in enumerate(raw):
        line = lines[j] if j < len(lines) else None
        issue = lambda f, msg, line=line: Issue(source, None, f, line, msg)  # noqa: E731
        out += _gap_issues(issue, f"gap[{j}]", j, t, SHARED_GAP_FIELDS)
        kinds = t.get("kinds") if isinstance(t, dict) else None
        if isinstance(t, dict) and (not isinstance(kinds, list) or not kinds
                                    or not all(isinstance(k, str) and k in SOURCE_KINDS for k in kinds)):
            out.append(issue(f"gap[{j}].kinds", f"kinds must list the kinds of file the gap covers, from: "
                                                f"{_allowed(SOURCE_KINDS)}; not {kinds!r}"))
    return out


RULES: tuple[Rule, ...] = (
    required_fields, unknown_fields, id_format, id_unique, label_unique, perspective_value, polarity_value,
    rollup_value, uncertainty_value, phases_value, unit_text, label_text, description_text, notes_text, owner_value,
    format_spec, scale_positive, min_cohort_range, sources_shape, source_kind, source_columns, groups_shape,
    sources_match_owner, pooled_ratio_parts, published_ci_columns, normal_sd, wilson_pooled_only,
    formula_parses, formula_names_known, formula_no_cycles,
)


# ------------------------------------------------------------------------------ entry points


def validate_definitions(raw: list[dict], *, source: str, known_ids: Collection[str] = frozenset(),
                         group_members_only: bool = False, text: str | None = None) -> list[Issue]:
    """Every issue with these measure definitions, from every rule, in line order (then rule order).

    `known_ids`: ids already taken elsewhere (national ids, other groups' local ids).
    `group_members_only`: the definitions are one group's local measures (the form): each must be
    owned by a group, and formulas may use only national measures and the group's own.
    `text`: the TOML the definitions were read from, for line numbers.
    """
    measures = tuple((i, m) for i, m in enumerate(raw) if isinstance(m, dict))
    d = Definitions(measures, source, frozenset(known_ids), group_members_only,
                    _Lines(text, list(raw)) if text is not None else None)
    issues = [Issue(source, None, None, d.lines.starts[i] if d.lines else None,
                    f"measure {i + 1} must be a table of fields, not {m!r}")
              for i, m in enumerate(raw) if not isinstance(m, dict)]
    for rule in RULES + TIME_RULES:
        try:
            issues.extend(rule(d))
        except Exception as exc:  # a bug in one rule must not hide the others' findings
            issues.append(Issue(source, None, None, None,
                                f"the check {rule.__name__} failed ({type(exc).__name__}: {exc}); please report it"))
    return sorted(issues, key=lambda x: (x.line is None, x.line or 0))


def validate_registry_file(path: Path | str, *, source: str | None = None, known_ids: Collection[str] = frozenset(),
                           group_members_only: bool = False) -> list[Issue]:
    """Every issue with a registry TOML file. A syntax error is one issue, with tomllib's line."""
    path = Path(path)
    name = source or display_path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return [Issue(name, None, None, None, "file not found")]
    except UnicodeDecodeError as exc:
        return [Issue(name, None, None, None, f"the file is not UTF-8 text (byte {exc.start})")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POSITION.search(msg)
        line = int(m.group(1)) if m else None
        if m:
            msg = f"{msg[:m.start()]} at column {m.group(2)}"
        return [Issue(name, None, None, line, f"the file is not valid TOML: {msg}")]
    # the shared [[gap]] tables are the one other top-level key (metrics.registry.shared_gaps_for)
    issues = [Issue(name, None, k, None, f"unknown top-level key '{k}': the file holds [[measure]] tables")
              for k in data if k not in ("measure", "gap")]
    issues += shared_gap_issues(data.get("gap"), name, text)
    raw = data.get("measure")
    if not isinstance(raw, list) or not raw:
        return [*issues, Issue(name, None, None, None, "the file has no [[measure]] tables")]
    return issues + validate_definitions(raw, source=name, known_ids=known_ids,
                                         group_members_only=group_members_only, text=text)


def display_path(path: Path) -> str:
    """A path as issues show it: relative to the project (metrics/national.toml) where it can be."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


@lru_cache(maxsize=1)
def national_ids() -> frozenset[str]:
    """The national measures' ids, read straight from the TOML (the registry loader validates with this module)."""
    try:
        with open(NATIONAL_TOML, "rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return frozenset()
    return frozenset(m["id"] for m in raw.get("measure", []) if isinstance(m, dict) and isinstance(m.get("id"), str))


@lru_cache(maxsize=1)
def national_labels() -> dict[str, str]:
    """The national measures' labels (as label_key sees them) and their ids, read straight from the TOML."""
    try:
        with open(NATIONAL_TOML, "rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {label_key(m["label"]): str(m.get("id")) for m in raw.get("measure", [])
            if isinstance(m, dict) and isinstance(m.get("label"), str)}
