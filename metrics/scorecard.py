"""Scorecard assembly: one row per measure for a school or a group. Pure (records in, records out).

The store supplies observations and national benchmarks; this module decides what they mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from metrics.registry import Measure, Registry
from metrics.rollup import national_scopes, rollup


@dataclass(frozen=True)
class Subject:
    """Whose scorecard: a school (urn) or a group (group_id, with its member URNs)."""

    kind: str  # "school" or "group"
    id: int
    name: str
    phase: str | None = None
    members: tuple[int, ...] = ()


@dataclass(frozen=True)
class ScorecardRow:
    measure: str
    label: str
    perspective: str
    unit: str
    period: str
    value: float | None
    display: str
    cohort: float | None
    numerator: float | None
    denominator: float | None
    status: str
    status_code: str | None
    ci_low: float | None
    ci_high: float | None
    national: float | None
    national_scope: str | None
    schools_reporting: int | None = None
    schools_total: int | None = None
    rollup_method: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def pick_national(benchmarks: Iterable[Mapping], measure: Measure, period: str,
                  phase: str | None) -> tuple[float | None, str | None]:
    """The national value for this phase: the phase's own row if published, else state-funded, else all."""
    rows = {b["scope"]: b for b in benchmarks
            if b["measure"] == measure.id and b["period"] == period and b.get("level", "national") == "national"}
    for scope in national_scopes(phase, measure):
        b = rows.get(scope)
        if b is not None and b.get("value") is not None:
            return float(b["value"]), scope
    return None, None


def build_scorecard(subject: Subject, period: str, measures: Sequence[Measure],
                    observations: Sequence[Mapping], benchmarks: Sequence[Mapping],
                    weights: Mapping[int, float] | None = None) -> list[ScorecardRow]:
    """Rows in the order of `measures`. A group's value rolls up from its members' observations."""
    by_measure: dict[str, list[Mapping]] = {}
    for o in observations:
        if o["period"] == period:
            by_measure.setdefault(o["measure"], []).append(o)
    out: list[ScorecardRow] = []
    for m in measures:
        rows = by_measure.get(m.id, [])
        national, scope = pick_national(benchmarks, m, period, subject.phase)
        if subject.kind == "school":
            r = rows[0] if rows else None
            value = _float(r, "value")
            out.append(ScorecardRow(
                measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, period=period,
                value=value, display=m.format_value(value), cohort=_float(r, "denominator"),
                numerator=_float(r, "numerator"), denominator=_float(r, "denominator"),
                status=r["status"] if r else "missing", status_code=r.get("status_code") if r else None,
                ci_low=_float(r, "ci_low"), ci_high=_float(r, "ci_high"), national=national, national_scope=scope,
            ))
            continue
        g = rollup(m, rows, weights)
        num = None
        if g.value is not None and g.cohort:
            num = g.value * g.cohort / m.scale
        out.append(ScorecardRow(
            measure=m.id, label=m.label, perspective=m.perspective.value, unit=m.unit, period=period,
            value=g.value, display=m.format_value(g.value), cohort=g.cohort, numerator=num, denominator=g.cohort,
            status=g.status.value, status_code=None, ci_low=None, ci_high=None, national=national,
            national_scope=scope, schools_reporting=g.schools_reporting, schools_total=len(subject.members),
            rollup_method=g.method,
        ))
    return out


def _float(row: Mapping | None, key: str) -> float | None:
    if row is None:
        return None
    v = row.get(key)
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f  # NaN from pandas means no value


def applicable(registry: Registry, phase: str | None) -> list[Measure]:
    """The registry's measures that apply to a phase (all of them when the phase is unknown)."""
    if phase is None:
        return list(registry.measures)
    return [m for m in registry.measures if any(p.value == phase for p in m.phases)]
