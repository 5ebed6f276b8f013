"""The measure registry: national measures declared in TOML, parsed into frozen dataclasses.

Pure: standard library only. The store (``data/``) reads a measure's ``sources`` to know which
column of which DfE file feeds it; pages read labels, units and help text from here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from metrics.numbers import DEFAULT_FORMAT, NumberFormat
from metrics.timeline import Definition, Gap, definition_at, gap_at

NATIONAL_TOML = Path(__file__).with_name("national.toml")


class Perspective(StrEnum):
    PUPIL_OUTCOMES = "pupil_outcomes"
    CURRICULUM = "curriculum"
    INCLUSION = "inclusion"
    STAFF_LEADERSHIP = "staff_leadership"
    PARTNERSHIP_COMMUNITY = "partnership_community"
    CONTEXT = "context"

    @property
    def label(self) -> str:
        return PERSPECTIVE_LABELS[self]


PERSPECTIVE_LABELS = {
    Perspective.PUPIL_OUTCOMES: "Pupil outcomes",
    Perspective.CURRICULUM: "Curriculum",
    Perspective.INCLUSION: "Inclusion",
    Perspective.STAFF_LEADERSHIP: "Staff & leadership",
    Perspective.PARTNERSHIP_COMMUNITY: "Partnership & community",
    Perspective.CONTEXT: "Context (not judged)",
}


class Polarity(StrEnum):
    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"
    CONTEXT = "context"


class Rollup(StrEnum):
    """How school values combine into a group value."""

    POOLED_RATIO = "pooled_ratio"  # sum(numerator) / sum(denominator) x scale
    WEIGHTED_MEAN = "weighted_mean"  # cohort-weighted mean of school values
    SUM = "sum"  # counts: add them up


class Uncertainty(StrEnum):
    """How a value's 95% interval is known. The engine obeys it: "none" means no interval and no significance."""

    NONE = "none"
    PUBLISHED_CI = "published_ci"  # the file's own lower and upper bounds (Progress 8: P8CILOW, P8CIUPP)
    WILSON = "wilson"  # from the count and the cohort, for a pooled share
    NORMAL = "normal"  # from the cohort and the measure's pupil-level sd, for a mean


class Phase(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SPECIAL = "special"
    ALTERNATIVE = "alternative"
    NURSERY = "nursery"
    POST16 = "post16"
    OTHER = "other"


class Status(StrEnum):
    """Why an observation has (or lacks) a value. The file's own code is kept beside it."""

    OK = "ok"
    SUPPRESSED = "suppressed"
    NOT_APPLICABLE = "not_applicable"
    MISSING = "missing"
    LOW_COVERAGE = "low_coverage"


# Statuses in a fixed order: the store sends a status as its position here (see schools.member_rows).
STATUSES: tuple[str, ...] = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Source:
    """Where one DfE file kind carries a measure. Each column field lists accepted names."""

    kind: str
    value: tuple[str, ...] = ()
    cohort: tuple[str, ...] = ()
    numerator: tuple[str, ...] = ()  # columns summed (e.g. SEN support + EHC plans)
    denominator: tuple[str, ...] = ()  # columns summed; defaults to the cohort
    ci_low: tuple[str, ...] = ()
    ci_high: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupSource:
    """Where one DfE file kind carries a measure's value for one pupil group (a [[measure.groups]] table).

    `scope` is None for the group's own value, or "gap" for DfE's published gap (DIFFN_*: the group's result minus
    non-disadvantaged pupils' nationally). Each column field lists accepted names (the first present wins)."""

    kind: str
    pupil_group: str  # an id of metrics/pupil_groups.py
    scope: str | None = None
    value: tuple[str, ...] = ()
    cohort: tuple[str, ...] = ()  # the group's own pupils: the denominator of its value
    numerator: tuple[str, ...] = ()
    ci_low: tuple[str, ...] = ()
    ci_high: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    description: str
    perspective: Perspective
    unit: str  # "%", "score", "pupils", "£", "ratio", "FTE", "hours"
    format: str  # one of the closed set of number formats (metrics.numbers): ".1f", "+.2f", ",.0f"
    polarity: Polarity
    phases: tuple[Phase, ...]
    rollup: Rollup
    scale: float = 1.0  # 100 when the value is a percentage of numerator/denominator
    min_cohort: int = 6
    uncertainty: Uncertainty = Uncertainty.NONE
    sd: float | None = None  # pupil-level standard deviation, for "normal" intervals of means
    notes: str = ""
    owner: str = "national"  # "national" or a group id for local measures
    formula: str = ""  # local measures only: computed from other measures, e.g. "cpd_hours / teachers_fte"
    sources: tuple[Source, ...] = field(default=())
    # what the measure meant from year to year (empty: one definition throughout), and the years DfE published none
    definitions: tuple[Definition, ...] = ()
    gaps: tuple[Gap, ...] = ()
    # the columns that carry the measure by pupil group, per kind of file (the performance tables' wide files)
    groups: tuple[GroupSource, ...] = ()

    @property
    def judged(self) -> bool:
        """Context measures describe a school; they are never judged good or bad."""
        return self.polarity is not Polarity.CONTEXT

    def source_for(self, kind: str) -> Source | None:
        return next((s for s in self.sources if s.kind == kind), None)

    @property
    def number(self) -> NumberFormat:
        """How this measure's numbers are written: the one format every table, chart, PDF and CSV uses."""
        return NumberFormat(self.format, self.unit)

    def format_value(self, value: float | None) -> str:
        """The value as every page, report and file shows it ('45.1%', '+0.25', '£7,579'; '–' for none)."""
        return self.number.text(value)


def _names(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    return tuple(str(x) for x in raw)  # type: ignore[union-attr]


def _definitions(raw: object) -> tuple[Definition, ...]:
    return tuple(
        Definition(id=d["id"], label=d["label"], start=d.get("from"), end=d.get("until"),
                   columns=tuple((k, _names(v)) for k, v in (d.get("columns") or {}).items()))
        for d in (raw or [])  # type: ignore[union-attr]
    )


def parse_gap(raw: dict) -> Gap:
    """One gap from its TOML table (a measure's [[measure.gaps]] or a shared [[gap]])."""
    return Gap(start=raw["from"], end=raw.get("until"), reason=raw["reason"], source=raw.get("source", ""))


# Kinds that carry the same key stage's results: a shared gap naming "ks4" covers the EES key stage 4 file too.
KIND_FAMILY = {"ees_ks4": "ks4", "ees_ks2": "ks2"}


def shared_gaps_for(sources: tuple[Source, ...], shared: list[dict]) -> tuple[Gap, ...]:
    """The shared [[gap]] tables that cover a measure fed by these sources (by the kinds of file they name)."""
    kinds = {KIND_FAMILY.get(s.kind, s.kind) for s in sources}
    return tuple(parse_gap(g) for g in shared if kinds & set(_names(g.get("kinds"))))


def _member(raw: dict, field: str, enum: type[StrEnum], default: str | None = None) -> StrEnum:
    """A closed-set field as its enum member; an unknown value is refused with the field and the allowed values
    (the validator says the same, located, for the TOML and the form: metrics.validation._one_of)."""
    v = raw.get(field, default)
    try:
        return enum(v)
    except ValueError:
        raise ValueError(f"{field} {v!r} is not one of: {', '.join(e.value for e in enum)}") from None


def parse_measure(raw: dict, shared_gaps: list[dict] | None = None) -> Measure:
    """Build one Measure from its TOML table or stored definition. `shared_gaps`: the file's [[gap]] tables; those
    naming a kind of file that feeds this measure are its gaps too.

    The closed sets (perspective, polarity, rollup, uncertainty, phases, format) are checked here as well as by the
    validator, so a stored definition written before a rule existed is refused in words (ValueError naming the
    field and the allowed values), never carried into the engine as a free string."""
    sources = tuple(
        Source(
            kind=s["kind"],
            value=_names(s.get("value")),
            cohort=_names(s.get("cohort")),
            numerator=_names(s.get("numerator")),
            denominator=_names(s.get("denominator")),
            ci_low=_names(s.get("ci_low")),
            ci_high=_names(s.get("ci_high")),
        )
        for s in raw.get("sources", [])
    )
    groups = tuple(
        GroupSource(
            kind=g["kind"],
            pupil_group=g["pupil_group"],
            scope=g.get("scope"),
            value=_names(g.get("value")),
            cohort=_names(g.get("cohort")),
            numerator=_names(g.get("numerator")),
            ci_low=_names(g.get("ci_low")),
            ci_high=_names(g.get("ci_high")),
        )
        for g in raw.get("groups", [])
    )
    phases = raw.get("phases")
    if not isinstance(phases, list | tuple):
        raise ValueError(f"phases must be a list of phases such as [\"primary\"], not {phases!r}")
    fmt = raw.get("format", DEFAULT_FORMAT)
    number = NumberFormat(fmt, str(raw.get("unit", "")))  # refuses a format outside the closed set
    return Measure(
        id=raw["id"],
        label=raw["label"],
        description=raw["description"],
        perspective=_member(raw, "perspective", Perspective),  # type: ignore[arg-type]
        unit=raw["unit"],
        format=number.spec,
        polarity=_member(raw, "polarity", Polarity),  # type: ignore[arg-type]
        phases=tuple(_member({"phase": p}, "phase", Phase) for p in phases),  # type: ignore[misc]
        rollup=_member(raw, "rollup", Rollup),  # type: ignore[arg-type]
        scale=float(raw.get("scale", 1.0)),
        min_cohort=int(raw.get("min_cohort", 6)),
        uncertainty=_member(raw, "uncertainty", Uncertainty, Uncertainty.NONE.value),  # type: ignore[arg-type]
        sd=float(raw["sd"]) if raw.get("sd") is not None else None,
        notes=raw.get("notes", ""),
        owner=str(raw.get("owner", "national")),
        formula=raw.get("formula", ""),
        sources=sources,
        definitions=_definitions(raw.get("definitions")),
        gaps=tuple(parse_gap(g) for g in raw.get("gaps", [])) + shared_gaps_for(sources, shared_gaps or []),
        groups=groups,
    )


def label_key(label: str) -> str:
    """A label as uniqueness sees it: case and spacing ignored ("Progress  8" and "progress 8" are one label)."""
    return " ".join(str(label).split()).casefold()


@dataclass(frozen=True)
class Registry:
    measures: tuple[Measure, ...]
    # what loading the local measures found wrong, in words (a clashing label, a stored definition outside a closed
    # set); the Measures page says them to governors. Nothing here is hidden without a sentence.
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {m.id: m for m in self.measures})

    def get(self, measure_id: str) -> Measure:
        return self._by_id[measure_id]  # type: ignore[attr-defined]

    def __contains__(self, measure_id: object) -> bool:
        return measure_id in self._by_id  # type: ignore[attr-defined]

    def ids(self) -> list[str]:
        return [m.id for m in self.measures]

    def with_local(self, definitions: list[dict]) -> Registry:
        """This registry plus local measures (dicts of registry fields, as the store returns them).

        Checked on load, for stores written before the rules (the form refuses both today): a local measure whose
        label is a national measure's, or another of its own group's (ignoring case and spaces), is shown as
        "Label (its_id)" so that no table column or grid cell is merged away; one outside a closed set is left out.
        Each is said in `problems`."""
        measures = list(self.measures)
        problems = list(self.problems)
        national = {label_key(m.label): m.id for m in measures if m.owner == "national"}
        own: dict[tuple[str, str], str] = {(m.owner, label_key(m.label)): m.id for m in measures
                                           if m.owner != "national"}
        for d in definitions:
            mid = d.get("id")
            try:
                m = parse_measure(d)
            except (ValueError, KeyError, TypeError) as exc:
                what = f"a required field is missing: {exc}" if isinstance(exc, KeyError) else str(exc)
                problems.append(f"Local measure {mid} is left out of scorecards: {what}. Its definition is kept in "
                                "the store; correct it on the Measures page.")
                continue
            key = label_key(m.label)
            clash = (f"the national measure {national[key]}" if key in national
                     else f"the group's measure {own[(m.owner, key)]}" if (m.owner, key) in own else None)
            if clash:
                shown = f"{m.label} ({m.id})"
                problems.append(f"Local measure {m.id} is named “{m.label}”, as {clash} is: it is shown as "
                                f"“{shown}” until it is renamed on the Measures page.")
                m = replace(m, label=shown)
            own.setdefault((m.owner, label_key(m.label)), m.id)
            measures.append(m)
        return Registry(tuple(measures), tuple(problems))

    def definition(self, measure_id: str, period: str) -> Definition | None:
        """The measure's definition in force in that academic year (None: it has one definition throughout, or
        none holds that year)."""
        return definition_at(self.get(measure_id).definitions, period)

    def gap(self, measure_id: str, period: str) -> Gap | None:
        """The DfE gap covering that year for this measure, if any (its reason is DfE's own sentence)."""
        return gap_at(self.get(measure_id).gaps, period)

    def for_kind(self, kind: str, period: str | None = None) -> list[tuple[Measure, Source]]:
        """Every measure a file kind feeds, with the source entry that says how.

        With the file's `period`, a measure whose definition changed over the years is read from the columns of the
        definition in force that year (persistent absence in a 2013/14 file is PPERSABS15, at 15%, not PPERSABS10),
        and a measure with no definition that year is left out."""
        out = []
        for m in self.measures:
            src = m.source_for(kind)
            if src is None:
                continue
            if period is not None and m.definitions:
                d = definition_at(m.definitions, period)
                if d is None:
                    continue
                names = d.columns_for(kind)
                if names:
                    src = replace(src, value=names)
            out.append((m, src))
        return out

    def groups_for_kind(self, kind: str) -> list[tuple[Measure, GroupSource]]:
        """Every (measure, pupil-group entry) a file kind carries, in the registry's order."""
        return [(m, g) for m in self.measures for g in m.groups if g.kind == kind]


class RegistryError(ValueError):
    """The registry file is invalid. `issues`: every problem found (metrics.validation.Issue)."""

    def __init__(self, issues: list) -> None:
        shown = "\n".join(f"  {i}" for i in issues[:20])
        more = f"\n  … and {len(issues) - 20} more" if len(issues) > 20 else ""
        super().__init__(f"the measure registry has {len(issues)} problem(s):\n{shown}{more}")
        self.issues = list(issues)


@lru_cache(maxsize=4)
def load_registry(path: Path = NATIONAL_TOML) -> Registry:
    """Parse and validate the national registry TOML. Cached: it is read-only data.

    Raises RegistryError holding every issue the validator finds; nothing is half-loaded.
    """
    from metrics.validation import validate_registry_file  # it imports this module's enums

    issues = validate_registry_file(path)
    if issues:
        raise RegistryError(issues)
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    shared = raw.get("gap", [])
    return Registry(tuple(parse_measure(m, shared) for m in raw["measure"]))
