"""Comparators the DfE's way: Progress 8 bands against 0, national benchmarks of a school's own kind, a group's
national comparator weighted to its own phase mix, and the guard that no share over 100% is ever shown.

Pure: numbers and registry measures in, numbers and words out. Every rule is stated in docs/method.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from metrics.registry import Measure, Phase, Rollup

BenchIndex = Mapping[tuple[str, str, str], float]  # national value by (measure, period, scope)

# DfE's five Progress 8 bands, best first ("Progress scores for key stage 4: school and college performance
# tables", DfE, for 2018 and 2019): the file's P8_BANDING codes 1..5 are these, in this order.
P8_BANDS = ("Well above average", "Above average", "Average", "Below average", "Well below average")
P8_WELL = 0.5  # a score this far from 0 (with its interval wholly on that side) is "well" above or below
P8_ZERO = 0.0  # Progress 8 is centred on 0 for all pupils nationally: DfE's bands and significance use 0

# Phases whose schools are compared only with their own kind nationally, never with mainstream schools.
OWN_KIND = frozenset({Phase.SPECIAL.value, Phase.ALTERNATIVE.value})
MAINSTREAM_SCOPES = frozenset({Phase.PRIMARY.value, Phase.SECONDARY.value})
SCOPE_WORDS = {
    "primary": "primary",
    "secondary": "secondary",
    "special": "special",
    "alternative": "alternative provision",
    "state_funded": "state-funded",
    "all": "all",
}
OVER_100 = 100.0 + 1e-9  # a share may be 100% exactly; anything above is impossible (float noise allowed)


def banded_against_zero(measure: Measure | str) -> bool:
    """Progress 8 and its variants (pupil groups, elements) are judged against 0, as DfE does."""
    mid = measure if isinstance(measure, str) else measure.id
    return mid == "progress8" or mid.startswith("progress8_")


def p8_band(score: float | None, lo: float | None, hi: float | None) -> str | None:
    """DfE's band for a Progress 8 score and its 95% interval; None when either is unknown.

    Well above: score >= 0.5 and lower limit > 0. Above: 0 < score < 0.5 and lower limit > 0.
    Below: -0.5 <= score < 0 and upper limit < 0. Well below: score < -0.5 and upper limit < 0.
    Average: the interval includes 0 (lower limit <= 0 <= upper limit)."""
    if score is None or lo is None or hi is None or any(math.isnan(x) for x in (score, lo, hi)):
        return None
    if lo > P8_ZERO:
        return P8_BANDS[0] if score >= P8_WELL else P8_BANDS[1]
    if hi < P8_ZERO:
        return P8_BANDS[4] if score < -P8_WELL else P8_BANDS[3]
    return P8_BANDS[2]


def band_from_file(cell: str | None) -> str | None:
    """A band as the file gives it: P8_BANDING codes 1..5 (performance tables) or DfE's words (EES
    `progress8_banding`); None for SUPP, NA, z, blank and anything else (DfE published no band)."""
    if cell is None:
        return None
    text = " ".join(cell.split()).lower()
    if text in ("1", "2", "3", "4", "5"):
        return P8_BANDS[int(text) - 1]
    return next((b for b in P8_BANDS if b.lower() == text), None)


def significance_reference(measure: Measure, national: float | None) -> float | None:
    """What a value's interval is compared with: 0 for Progress 8 (DfE's rule), else the national value."""
    return P8_ZERO if banded_against_zero(measure) else national


def over_100(measure: Measure, value: float | None) -> bool:
    """A percentage above 100: impossible, so never stored or shown (see `refused_share`)."""
    return value is not None and measure.unit == "%" and value > OVER_100


def refused_share(measure: Measure, value: float, what: str) -> str:
    """The sentence shown instead of a share over 100%."""
    return (f"{what} for {measure.label} came to {value:.1f}%, which is impossible for a share of pupils, "
            "so it is not shown")


def comparison_scopes(phase: str | None, measure: Measure) -> list[str]:
    """National benchmark scopes for a school of `phase` on `measure`, best first.

    Special schools and alternative provision: their own kind only (a mainstream figure is no comparator).
    A key stage outside the school's phase (a middle school deemed secondary reporting KS2) takes the measure's
    own phase; so does an unknown phase. A phase with no benchmark of its own (all-through) takes state-funded.
    Then state-funded, then all schools."""
    return list(_scopes(None if phase is None else str(phase), measure.phases))


@lru_cache(maxsize=1024)
def _scopes(phase: str | None, phases: tuple) -> tuple[str, ...]:
    """comparison_scopes' answer, once per phase and tuple of the measure's phases (a card asks it ~1,000 times)."""
    if phase in OWN_KIND:
        return (phase,)
    first = phases[0].value if phases else None
    own = phase if any(p.value == phase for p in phases) else first
    return (*([own] if own in MAINSTREAM_SCOPES else []), "state_funded", "all")


# GIAS establishment types that are alternative provision or special schools whatever phase the row gives
# ("Pupil referral unit", "Academy alternative provision converter", "Free schools alternative provision",
# "Community special school", "Academy special sponsor led", "Non-maintained special school" ...)
_AP_TYPE_WORDS = ("pupil referral", "alternative provision")
_SPECIAL_TYPE_WORDS = ("special",)


def comparable_for_level(phase: str | None, type_name: str | None = None) -> str | None:
    """The kind of school a school is compared with for its level, its national figure and as a partner.

    Alternative provision (GIAS types "Pupil referral unit", "Academy alternative provision …", "Free schools
    alternative provision") and special schools are their own kind, by type even when the row gives a
    mainstream phase; every other school is its phase (None when neither is known)."""
    words = (type_name or "").lower()
    if phase == Phase.ALTERNATIVE.value or any(w in words for w in _AP_TYPE_WORDS):
        return Phase.ALTERNATIVE.value
    if phase == Phase.SPECIAL.value or any(w in words for w in _SPECIAL_TYPE_WORDS):
        return Phase.SPECIAL.value
    return phase


def same_kind(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    """Whether two schools, each (phase, GIAS type name), are of one kind: alternative provision only with
    alternative provision, special only with special, mainstream with the same phase; an unknown kind with none."""
    ka, kb = comparable_for_level(*a), comparable_for_level(*b)
    return ka is not None and ka == kb


def scope_phrase(scope: str | None) -> str:
    """'secondary schools', 'state-funded schools', 'special schools', ... for a benchmark scope."""
    if scope is None:
        return "schools"
    return f"{SCOPE_WORDS.get(scope, scope.replace('_', ' '))} schools"


def national_for(bench: BenchIndex, measure: Measure, period: str, phase: str | None) -> tuple[float | None,
                                                                                             str | None]:
    """The national value a school of `phase` is compared with, and its scope (None, None when none is
    published). Counts that add up (pupils, FTE) have none: England's total is no comparator."""
    if measure.rollup is Rollup.SUM:
        return None, None
    for scope in comparison_scopes(phase, measure):
        v = bench.get((measure.id, period, scope))
        if v is not None and not over_100(measure, v):
            return v, scope
    return None, None


@dataclass(frozen=True)
class Comparator:
    """The national value a school or group is compared with, and the words that say which it is."""

    value: float | None
    scope: str | None  # a benchmark scope, or "mix" for a group's weighted mix of phase benchmarks
    words: str
    shares: tuple[tuple[str, float], ...] = ()  # (scope, share of the weight) for a mix, largest first


def school_comparator(bench: BenchIndex, measure: Measure, period: str, phase: str | None) -> Comparator:
    """A school's national comparator in words: 'national, secondary schools'."""
    value, scope = national_for(bench, measure, period, phase)
    if value is None:
        return Comparator(None, None, _none_words(measure, bench, period, [phase]))
    return Comparator(value, scope, f"national, {scope_phrase(scope)}")


def group_comparator(bench: BenchIndex, measure: Measure, period: str,
                     members: Iterable[tuple[str | None, float | None]]) -> Comparator:
    """A group's national comparator: its members' phase benchmarks, weighted by the members' pupils in
    this measure (cohort, else pupils on roll); by number of schools when some member's weight is unknown.

    `members` gives (phase, weight) for each member school with a value this period."""
    members = list(members)
    if not members:  # no member has a value: the measure's own phase, as context only
        return school_comparator(bench, measure, period, None)
    by_scope: dict[str, float] = {}
    counts: dict[str, int] = {}
    weights_known = all(w is not None and not math.isnan(w) and w > 0 for _p, w in members)
    for phase, weight in members:
        _v, scope = national_for(bench, measure, period, phase)
        if scope is None:
            continue
        by_scope[scope] = by_scope.get(scope, 0.0) + (float(weight) if weights_known else 1.0)  # type: ignore
        counts[scope] = counts.get(scope, 0) + 1
    if not by_scope:
        return Comparator(None, None, _none_words(measure, bench, period, [p for p, _w in members]))
    return comparator_of_shares(bench, measure, period, by_scope, len(members) - sum(counts.values()), weights_known)


def comparator_of_shares(bench: BenchIndex, measure: Measure, period: str, by_scope: dict[str, float], left_out: int,
                         weights_known: bool) -> Comparator:
    """The national comparator of a group's weights by scope, with its words. `by_scope` keeps the order in which
    the members first gave each scope: the total is summed in that order, so every caller gets the same last bit."""
    total = sum(by_scope.values())
    shares = tuple(sorted(((s, w / total) for s, w in by_scope.items()), key=lambda x: (-x[1], x[0])))
    value = sum(bench[(measure.id, period, s)] * share for s, share in shares)
    tail = f" ({left_out} school{'s' if left_out != 1 else ''} with no national figure of its kind left out)" \
        if left_out else ""
    if len(shares) == 1:
        return Comparator(value, shares[0][0], f"national, {scope_phrase(shares[0][0])}{tail}", shares)
    by = "" if weights_known else " (by number of schools: some have no pupil numbers)"
    mix = ", ".join(f"{_percent(share)} {SCOPE_WORDS.get(s, s)}" for s, share in shares)
    return Comparator(value, "mix", f"national, weighted to this group's mix: {mix}{by}{tail}", shares)


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _none_words(measure: Measure, bench: BenchIndex, period: str, phases: Sequence[str | None]) -> str:
    """Why there is no national comparator, in words."""
    if measure.rollup is Rollup.SUM:
        return "no national comparator (a count: England's total is not one)"
    scopes = {s for p in phases for s in comparison_scopes(p, measure)}
    refused = [v for s in sorted(scopes) if over_100(measure, v := bench.get((measure.id, period, s)))]
    if refused:
        return refused_share(measure, refused[0], "The national figure")  # type: ignore[arg-type]
    kinds = sorted({p for p in phases if p in OWN_KIND})
    if kinds:
        words = " or ".join(scope_phrase(k) for k in kinds)
        return f"no national figure for {words} is published for this measure (never compared with mainstream)"
    return "no national figure in the store for this year"


def mainstream_split(members: Sequence[tuple[int, str | None]]) -> tuple[list[int], list[int]]:
    """(mainstream URNs, special-school and alternative-provision URNs) of a group's members, in order."""
    main = [u for u, p in members if p not in OWN_KIND]
    own = [u for u, p in members if p in OWN_KIND]
    return main, own


def pooling_words(set_aside: Sequence[tuple[int, str | None]], included: bool) -> str:
    """What the group's values pool: 'Mainstream schools only: 2 special schools are shown on their own cards'."""
    if not set_aside:
        return ""
    kinds: dict[str, int] = {}
    for _u, p in set_aside:
        kinds[p or ""] = kinds.get(p or "", 0) + 1
    parts = []
    for phase in (Phase.SPECIAL.value, Phase.ALTERNATIVE.value):
        n = kinds.get(phase, 0)
        if n:
            noun = ("special school" if phase == Phase.SPECIAL.value else "alternative provision school")
            parts.append(f"{n} {noun}{'s' if n != 1 else ''}")
    what = " and ".join(parts)
    if included:
        return f"All schools, including {what}: each compared with its own kind nationally"
    verb = "is" if len(set_aside) == 1 else "are"
    return f"Mainstream schools only: {what} {verb} shown on their own cards"
