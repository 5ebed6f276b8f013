"""Ofsted's two scales (metrics/inspections.py): each grade read only on its own area's scale, never converted;
grades across a group counted, never averaged, in the sentence the group overview shows."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.inspections import (
    AREA_BY_ID,
    AREAS,
    Framework,
    Grade,
    GradeError,
    GradeStatus,
    Inspection,
    count_area,
    group_counts,
    read_grade,
)

G, NA, NG = GradeStatus.GRADED, GradeStatus.NOT_APPLICABLE, GradeStatus.NOT_GRADED
CELLS = [
    ("achievement", "Strong standard", (G, "Strong standard", 2)),
    ("achievement", "  strong   STANDARD ", (G, "Strong standard", 2)),  # Ofsted's spelling kept
    ("achievement", "Exceptional", (G, "Exceptional", 1)),
    ("achievement", "Urgent improvement", (G, "Urgent improvement", 5)),
    ("early_years", "Not applicable", (NA, None, None)),
    ("inclusion", "9", (NG, None, None)),
    ("safeguarding", "Not met", (G, "Not met", 2)),
    ("oeif_overall", "1", (G, "Outstanding", 1)),
    ("oeif_overall", "4", (G, "Inadequate", 4)),
    ("oeif_overall", "Good", (G, "Good", 2)),
    ("oeif_overall", "Not judged", (NG, None, None)),
    ("oeif_early_years", "8", (NA, None, None)),
    ("oeif_sixth_form", "9", (NG, None, None)),
    ("oeif_safeguarding", "Yes", (G, "Yes", 1)),
]


@pytest.mark.parametrize(("area", "cell", "want"), CELLS, ids=[f"{a}:{c.strip()}" for a, c, _ in CELLS])
def test_a_cell_is_read_on_its_areas_own_scale(area: str, cell: str, want: tuple) -> None:
    g = read_grade(AREA_BY_ID[area], cell)
    assert g is not None and (g.status, g.words, g.rank) == want and g.code == " ".join(cell.split()) and g.area == area


@pytest.mark.parametrize("cell", ["", "NULL", "  ", None])
def test_blank_and_null_are_missing_not_a_grade(cell: str | None) -> None:
    assert read_grade(AREA_BY_ID["achievement"], cell) is None


# The other scale's words are refused like any unknown word: a report-card area never takes 'Good', a 1-4 area
# never takes 'Strong standard', and 1-4 codes are not report-card grades
REFUSED = [("achievement", "Good"), ("achievement", "2"), ("leadership_governance", "Outstanding"),
           ("oeif_overall", "Strong standard"), ("oeif_overall", "5"), ("safeguarding", "Yes"),
           ("oeif_safeguarding", "Met"), ("inclusion", "Strong")]


@pytest.mark.parametrize(("area", "cell"), REFUSED)
def test_the_other_scales_words_are_refused(area: str, cell: str) -> None:
    with pytest.raises(GradeError) as err:
        read_grade(AREA_BY_ID[area], cell)
    assert str(err.value).startswith(f"{cell!r} is not a grade of {AREA_BY_ID[area].label} (Ofsted's ")


def test_every_area_belongs_to_one_framework_and_the_ids_never_overlap() -> None:
    assert len({a.id for a in AREAS}) == len(AREAS)
    assert {a.id for a in AREAS if a.framework is Framework.OEIF} == {a.id for a in AREAS if a.id.startswith("oeif_")}


def grade(area: str, cell: str) -> Grade:
    g = read_grade(AREA_BY_ID[area], cell)
    assert g is not None
    return g


def test_the_group_sentence_counts_never_averages() -> None:
    """By hand: 11 schools; 8 with a report card: 2 Strong standard, 5 Expected standard, 1 Needs attention."""
    cells = ["Strong standard"] * 2 + ["Expected standard"] * 5 + ["Needs attention"]
    count = count_area(AREA_BY_ID["achievement"], [grade("achievement", c) for c in cells], 11)
    assert count.sentence() == ("Achievement: 2 Strong standard, 5 Expected standard, 1 Needs attention; "
                                "3 schools not yet inspected under report cards")
    assert (count.graded, count.not_inspected) == (8, 3)


def test_not_applicable_and_no_grade_are_counted_apart() -> None:
    cells = ["Not applicable", "Not applicable", "9", "Exceptional"]
    count = count_area(AREA_BY_ID["early_years"], [grade("early_years", c) for c in cells], 4)
    assert count.sentence() == "Early years: 1 Exceptional; 1 not graded; 2 not applicable"


def test_a_grade_of_another_area_is_never_counted() -> None:
    with pytest.raises(ValueError, match="scales are never mixed"):
        count_area(AREA_BY_ID["achievement"], [grade("oeif_overall", "2")], 1)


def inspection(urn: int, framework: Framework, start: dt.date, **cells: str) -> Inspection:
    return Inspection(urn, framework, True, start, None, None, None, None, None, None,
                      tuple(grade(a, c) for a, c in cells.items()))


def test_group_counts_take_each_schools_latest_inspection_on_each_scale() -> None:
    """Four schools: 1 has two report cards (the later counts), 2 one, 3 only a 1-4 grade, 4 nothing."""
    rc, oeif = Framework.REPORT_CARD, Framework.OEIF
    held = [
        inspection(1, rc, dt.date(2025, 11, 20), achievement="Needs attention"),
        inspection(1, rc, dt.date(2026, 5, 6), achievement="Strong standard"),
        inspection(1, oeif, dt.date(2022, 3, 1), oeif_overall="3"),
        inspection(2, rc, dt.date(2026, 1, 13), achievement="Strong standard"),
        inspection(3, oeif, dt.date(2019, 6, 1), oeif_overall="2"),
        inspection(3, oeif, dt.date(2024, 10, 1), oeif_overall="Not judged"),  # no overall grade since Sept 2024
        inspection(9, rc, dt.date(2026, 1, 1), achievement="Exceptional"),  # not a member
    ]
    counts = group_counts([1, 2, 3, 4], held)
    achievement = next(a for a in counts.report_card if a.area.id == "achievement")
    assert achievement.sentence() == "Achievement: 2 Strong standard; 2 schools not yet inspected under report cards"
    assert counts.legacy_overall.sentence() == ("Overall effectiveness: 1 Good, 1 Requires improvement; "
                                                "2 schools with no 1–4 grade")
    assert counts.latest_report_card == dt.date(2026, 5, 6)
