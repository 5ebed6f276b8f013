"""Ofsted's two inspection scales, the areas each grades, and counting grades across schools.

Report cards (from November 2025) grade evaluation areas Exceptional / Strong standard / Expected standard /
Needs attention / Urgent improvement, with safeguarding Met / Not met and no overall grade. The older framework
(OEIF, and the common framework before it) graded 1-4: Outstanding / Good / Requires improvement / Inadequate,
with an overall effectiveness. The two are never converted into each other: each area belongs to one scale, a
grade is read only against its own area's scale, and a rank orders grades within one scale only. Grades across
schools are counted, never averaged. Pure: no store, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Framework(StrEnum):
    """Which inspection framework an inspection (and each of its grades) belongs to."""

    REPORT_CARD = "report_card"
    OEIF = "oeif"

    @property
    def label(self) -> str:
        return {"report_card": "Report card (from November 2025)",
                "oeif": "Older 1-4 grades (before report cards)"}[self.value]


class GradeStatus(StrEnum):
    """What a grade cell says: a grade, not applicable to this school, or no grade given."""

    GRADED = "graded"
    NOT_APPLICABLE = "not_applicable"
    NOT_GRADED = "not_graded"


@dataclass(frozen=True)
class Scale:
    """One grading scale: its words best first, and the codes Ofsted writes instead of a grade."""

    id: str
    words: tuple[str, ...]  # best first: the rank of a grade is its position here, from 1
    codes: tuple[tuple[str, str], ...] = ()  # a code Ofsted writes for a grade (OEIF '1' -> 'Outstanding')
    not_applicable: tuple[str, ...] = ()
    not_graded: tuple[str, ...] = ()

    def rank(self, words: str) -> int:
        """1 for the scale's best grade; only this scale's own words (ValueError otherwise)."""
        return self.words.index(words) + 1

    def allowed(self) -> str:
        """The cells this scale accepts, as a reader would list them."""
        extra = [c for c, _ in self.codes] + list(self.not_applicable) + list(self.not_graded)
        return ", ".join([*self.words, *extra])


REPORT_CARD_SCALE = Scale(
    "report_card",
    ("Exceptional", "Strong standard", "Expected standard", "Needs attention", "Urgent improvement"),
    not_applicable=("Not applicable",),
    not_graded=("9",),  # Ofsted's management information: 9 = no grade given
)
SAFEGUARDING_SCALE = Scale("safeguarding", ("Met", "Not met"), not_graded=("9",))
OEIF_SCALE = Scale(
    "oeif",
    ("Outstanding", "Good", "Requires improvement", "Inadequate"),
    codes=(("1", "Outstanding"), ("2", "Good"), ("3", "Requires improvement"), ("4", "Inadequate")),
    not_applicable=("8",),
    # 9: not graded at that inspection; 'Not judged': overall effectiveness after September 2024, when Ofsted
    # stopped giving one
    not_graded=("9", "Not judged"),
)
OEIF_SAFEGUARDING_SCALE = Scale("oeif_safeguarding", ("Yes", "No"), not_applicable=("8",), not_graded=("9",))


@dataclass(frozen=True)
class Area:
    """One thing an inspection grades, on one scale of one framework."""

    id: str
    label: str
    framework: Framework
    scale: Scale


AREAS: tuple[Area, ...] = (
    Area("safeguarding", "Safeguarding standards", Framework.REPORT_CARD, SAFEGUARDING_SCALE),
    Area("inclusion", "Inclusion", Framework.REPORT_CARD, REPORT_CARD_SCALE),
    Area("curriculum_teaching", "Curriculum and teaching", Framework.REPORT_CARD, REPORT_CARD_SCALE),
    Area("achievement", "Achievement", Framework.REPORT_CARD, REPORT_CARD_SCALE),
    Area("attendance_behaviour", "Attendance and behaviour", Framework.REPORT_CARD, REPORT_CARD_SCALE),
    Area("personal_development_wellbeing", "Personal development and wellbeing", Framework.REPORT_CARD,
         REPORT_CARD_SCALE),
    Area("early_years", "Early years", Framework.REPORT_CARD, REPORT_CARD_SCALE),
    Area("post16", "Post-16 provision", Framework.REPORT_CARD, REPORT_CARD_SCALE),
    Area("leadership_governance", "Leadership and governance", Framework.REPORT_CARD, REPORT_CARD_SCALE),
    # The older framework: its own ids, so 'personal development' on one scale is never read as the other's
    Area("oeif_overall", "Overall effectiveness", Framework.OEIF, OEIF_SCALE),
    Area("oeif_quality_of_education", "Quality of education", Framework.OEIF, OEIF_SCALE),
    Area("oeif_behaviour_attitudes", "Behaviour and attitudes", Framework.OEIF, OEIF_SCALE),
    Area("oeif_personal_development", "Personal development", Framework.OEIF, OEIF_SCALE),
    Area("oeif_leadership_management", "Effectiveness of leadership and management", Framework.OEIF, OEIF_SCALE),
    Area("oeif_safeguarding", "Safeguarding is effective?", Framework.OEIF, OEIF_SAFEGUARDING_SCALE),
    Area("oeif_early_years", "Early years provision", Framework.OEIF, OEIF_SCALE),
    Area("oeif_sixth_form", "Sixth form provision", Framework.OEIF, OEIF_SCALE),
)
AREA_BY_ID = {a.id: a for a in AREAS}
REPORT_CARD_AREAS = tuple(a for a in AREAS if a.framework is Framework.REPORT_CARD)
OEIF_AREAS = tuple(a for a in AREAS if a.framework is Framework.OEIF)
LEGACY_OVERALL = "oeif_overall"

# Ofsted's category-of-concern codes, in words (a code not listed here is shown as Ofsted wrote it)
CONCERNS = {
    "SM": "Special measures",
    "SWK": "Serious weaknesses",
    "RSI": "Requires significant improvement",
    "NTI": "Notice to improve",
}


def concern_words(code: str | None) -> str | None:
    """A category of concern in words ('SM' -> 'Special measures'); None when there is none."""
    if code is None or not code.strip():
        return None
    return CONCERNS.get(code.strip().upper(), code.strip())


@dataclass(frozen=True)
class Grade:
    """One grade cell read against its area's scale: words as Ofsted writes them, or why there are none."""

    area: str
    status: GradeStatus
    words: str | None  # e.g. 'Strong standard', 'Good'; None unless graded
    code: str  # the cell as written ('2', '9', 'Not applicable', 'Strong standard')
    rank: int | None  # position on the area's own scale (1 = its best); for ordering only
    graded_on: date | None = None  # the file's "- date of grade", else the inspection's start

    @property
    def label(self) -> str:
        """The grade in words, for a card: Ofsted's words, or why there are none."""
        if self.status is GradeStatus.GRADED:
            return self.words or self.code
        return "Not applicable" if self.status is GradeStatus.NOT_APPLICABLE else "Not graded"


class GradeError(ValueError):
    """A cell that is no grade on its area's scale (e.g. 'Good' in a report-card area)."""


# What management information files write for "no value here" (not a grade, not a refusal)
MISSING_CELLS = frozenset({"", "NULL"})


def read_grade(area: Area, raw: str | None) -> Grade | None:
    """The cell as a grade of `area`; None for a missing cell (blank, NULL). Raises GradeError for other words.

    Words match without regard to case or spacing and are kept in Ofsted's own spelling; the other scale's words
    are refused like any unknown word, so one scale is never read as the other."""
    text = " ".join((raw or "").split())
    if text.upper() in MISSING_CELLS:
        return None
    scale = area.scale
    key = text.casefold()
    for words in scale.words:
        if words.casefold() == key:
            return Grade(area.id, GradeStatus.GRADED, words, text, scale.rank(words))
    for code, words in scale.codes:
        if code == text:
            return Grade(area.id, GradeStatus.GRADED, words, text, scale.rank(words))
    if key in {c.casefold() for c in scale.not_applicable}:
        return Grade(area.id, GradeStatus.NOT_APPLICABLE, None, text, None)
    if key in {c.casefold() for c in scale.not_graded}:
        return Grade(area.id, GradeStatus.NOT_GRADED, None, text, None)
    raise GradeError(f"{text!r} is not a grade of {area.label} (Ofsted's {scale.id.replace('_', ' ')} scale: "
                     f"{scale.allowed()}); not stored")


@dataclass(frozen=True)
class Inspection:
    """One inspection of a school, as stored: its framework, dates, and grades by area (in AREAS order)."""

    urn: int
    framework: Framework
    graded: bool  # False: an ungraded inspection, with its outcome in words
    start_date: date
    publication_date: date | None
    number: str | None
    type: str | None  # as Ofsted writes it: 'S5 Inspection'
    concern: str | None  # Ofsted's code: SM, SWK, RSI
    urn_at_time: int | None  # the URN inspected, when not today's
    outcome: str | None
    grades: tuple[Grade, ...]

    def grade(self, area: str) -> Grade | None:
        return next((g for g in self.grades if g.area == area), None)

    @property
    def by_area(self) -> dict[str, Grade]:
        return {g.area: g for g in self.grades}


@dataclass(frozen=True)
class SchoolInspections:
    """What a school card shows: the latest report card, the latest 1-4 graded inspection, the latest ungraded one,
    and every inspection held (newest first)."""

    urn: int
    history: tuple[Inspection, ...]

    def latest(self, framework: Framework, *, graded: bool = True) -> Inspection | None:
        return next((i for i in self.history if i.framework is framework and i.graded == graded), None)

    @property
    def report_card(self) -> Inspection | None:
        return self.latest(Framework.REPORT_CARD)

    @property
    def legacy(self) -> Inspection | None:
        """The newest inspection with a 1-4 overall effectiveness grade (the older framework's own measure)."""
        return next((i for i in self.history if i.framework is Framework.OEIF and i.graded
                     and (g := i.grade(LEGACY_OVERALL)) is not None and g.status is GradeStatus.GRADED), None)

    @property
    def ungraded(self) -> Inspection | None:
        return self.latest(Framework.OEIF, graded=False)


def order_history(inspections: Iterable[Inspection]) -> tuple[Inspection, ...]:
    """Newest first; on one day a graded inspection before an ungraded one."""
    return tuple(sorted(inspections, key=lambda i: (i.start_date, i.graded), reverse=True))


# ------------------------------------------------------------------------------ counting across schools


@dataclass(frozen=True)
class AreaCount:
    """How the schools of a group stand in one area: each grade counted, in the scale's order."""

    area: Area
    counts: tuple[tuple[str, int], ...]  # (grade words, schools) best first, only grades that occur
    not_applicable: int
    not_graded: int
    not_inspected: int  # schools with no inspection under this area's framework

    @property
    def graded(self) -> int:
        return sum(n for _, n in self.counts)

    def sentence(self) -> str:
        """'Achievement: 2 Strong standard, 5 Expected standard, 1 Needs attention; 3 schools not yet inspected
        under report cards' (counts, never an average)."""
        parts = [f"{n} {words}" for words, n in self.counts]
        extra = []
        if self.not_graded:
            extra.append(f"{self.not_graded} not graded")
        if self.not_applicable:
            extra.append(f"{self.not_applicable} not applicable")
        if self.not_inspected and self.area.framework is Framework.REPORT_CARD:
            extra.append(f"{_schools(self.not_inspected)} not yet inspected under report cards")
        elif self.not_inspected:
            extra.append(f"{_schools(self.not_inspected)} with no 1–4 grade")
        head = ", ".join(parts) if parts else "no grades yet"
        return f"{self.area.label}: {head}" + (f"; {'; '.join(extra)}" if extra else "")


def _schools(n: int) -> str:
    return f"{n} school" if n == 1 else f"{n} schools"


def count_area(area: Area, grades: Iterable[Grade | None], schools: int) -> AreaCount:
    """Count one area's grades across `schools` schools: `grades` holds each inspected school's grade (None when
    its latest inspection under this framework did not grade the area); the rest were not inspected under it."""
    seen = list(grades)
    if len(seen) > schools:
        raise ValueError(f"{len(seen)} grades for {schools} schools")
    by_words: dict[str, int] = {}
    not_applicable = not_graded = 0
    for g in seen:
        if g is None or g.status is GradeStatus.NOT_GRADED:
            not_graded += 1
        elif g.status is GradeStatus.NOT_APPLICABLE:
            not_applicable += 1
        else:
            if g.area != area.id or g.words not in area.scale.words:
                raise ValueError(f"a grade of {g.area} counted under {area.id}: scales are never mixed")
            by_words[g.words] = by_words.get(g.words, 0) + 1
    counts = tuple((w, by_words[w]) for w in area.scale.words if w in by_words)
    return AreaCount(area, counts, not_applicable, not_graded, schools - len(seen))


def count_areas(areas: Sequence[Area], latest: dict[int, dict[str, Grade]], schools: int) -> list[AreaCount]:
    """Each area counted across the group: `latest` maps each inspected school (under these areas' framework) to
    its latest inspection's grades by area id."""
    return [count_area(a, [grades.get(a.id) for grades in latest.values()], schools) for a in areas]


@dataclass(frozen=True)
class GroupInspections:
    """A group's schools in one year, their report-card areas counted and their newest 1-4 overall grade counted,
    each on its own scale."""

    schools: int
    report_card: tuple[AreaCount, ...]
    legacy_overall: AreaCount
    latest_report_card: date | None  # the newest report card among the schools (what "as of" means)


def group_counts(schools: Sequence[int], inspections: Iterable[Inspection]) -> GroupInspections:
    """Count the schools' latest report cards by area, and their newest 1-4 overall effectiveness, never mixing the
    two scales and never averaging: a school without a report card is 'not yet inspected under report cards'."""
    members = set(schools)
    by_school: dict[int, list[Inspection]] = {}
    for i in inspections:
        if i.urn in members:
            by_school.setdefault(i.urn, []).append(i)
    cards, legacy = {}, {}
    for urn, rows in by_school.items():
        held = SchoolInspections(urn, order_history(rows))
        if (card := held.report_card) is not None:
            cards[urn] = card
        if (old := held.legacy) is not None:
            legacy[urn] = old
    areas = count_areas(REPORT_CARD_AREAS, {u: c.by_area for u, c in cards.items()}, len(members))
    overall = count_area(AREA_BY_ID[LEGACY_OVERALL], [i.grade(LEGACY_OVERALL) for i in legacy.values()],
                         len(members))
    newest = max((c.start_date for c in cards.values()), default=None)
    return GroupInspections(len(members), tuple(areas), overall, newest)
