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


# Statuses in a fixed order: the store sends a status as its position here (see Store.member_rows).
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
class Measure:
    id: str
    label: str
    description: str
    perspective: Perspective
    unit: str  # "%", "score", "pupils", "£", "ratio", "FTE", "hours"
    format: str  # Python format spec for the value, e.g. ".1f", "+.2f", ",.0f"
    polarity: Polarity
    phases: tuple[Phase, ...]
    rollup: Rollup
    scale: float = 1.0  # 100 when the value is a percentage of numerator/denominator
    min_cohort: int = 6
    uncertainty: str = "none"  # "published_ci", "wilson", "normal", "none"
    sd: float | None = None  # pupil-level standard deviation, for "normal" intervals of means
    notes: str = ""
    owner: str = "national"  # "national" or a group id for local measures
    formula: str = ""  # local measures only: computed from other measures, e.g. "cpd_hours / teachers_fte"
    sources: tuple[Source, ...] = field(default=())
    # what the measure meant from year to year (empty: one definition throughout), and the years DfE published none
    definitions: tuple[Definition, ...] = ()
    gaps: tuple[Gap, ...] = ()

    @property
    def judged(self) -> bool:
        """Context measures describe a school; they are never judged good or bad."""
        return self.polarity is not Polarity.CONTEXT

    def source_for(self, kind: str) -> Source | None:
        return next((s for s in self.sources if s.kind == kind), None)

    def format_value(self, value: float | None) -> str:
        if value is None:
            return "–"
        text = format(value, self.format)
        if text.startswith("-") and not any(c in "123456789" for c in text):
            text = format(0.0, self.format)  # a value that rounds to zero is zero, never "-0.0"
        if self.unit == "%":
            return f"{text}%"
        if self.unit == "£":
            return f"£{text}"
        return text


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


def parse_measure(raw: dict, shared_gaps: list[dict] | None = None) -> Measure:
    """Build one Measure from its TOML table (assumes it has been validated). `shared_gaps`: the file's [[gap]]
    tables; those naming a kind of file that feeds this measure are its gaps too."""
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
    return Measure(
        id=raw["id"],
        label=raw["label"],
        description=raw["description"],
        perspective=Perspective(raw["perspective"]),
        unit=raw["unit"],
        format=raw.get("format", ".1f"),
        polarity=Polarity(raw["polarity"]),
        phases=tuple(Phase(p) for p in raw["phases"]),
        rollup=Rollup(raw["rollup"]),
        scale=float(raw.get("scale", 1.0)),
        min_cohort=int(raw.get("min_cohort", 6)),
        uncertainty=raw.get("uncertainty", "none"),
        sd=float(raw["sd"]) if raw.get("sd") is not None else None,
        notes=raw.get("notes", ""),
        owner=str(raw.get("owner", "national")),
        formula=raw.get("formula", ""),
        sources=sources,
        definitions=_definitions(raw.get("definitions")),
        gaps=tuple(parse_gap(g) for g in raw.get("gaps", [])) + shared_gaps_for(sources, shared_gaps or []),
    )


@dataclass(frozen=True)
class Registry:
    measures: tuple[Measure, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {m.id: m for m in self.measures})

    def get(self, measure_id: str) -> Measure:
        return self._by_id[measure_id]  # type: ignore[attr-defined]

    def __contains__(self, measure_id: object) -> bool:
        return measure_id in self._by_id  # type: ignore[attr-defined]

    def ids(self) -> list[str]:
        return [m.id for m in self.measures]

    def with_local(self, definitions: list[dict]) -> Registry:
        """This registry plus local measures (dicts of registry fields, as the store returns them)."""
        return Registry(self.measures + tuple(parse_measure(d) for d in definitions))

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
