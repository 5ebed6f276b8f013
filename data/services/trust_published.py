"""DfE's published figures for a trust (migration 0012), read for the group card: beside Jointly's roll-up.

A group has DfE figures when it is the trust DfE's file names by GIAS Group UID (groups.gias_uid). The figure is
DfE's own (its weighting by time in trust, its choice of schools: those in the trust 3 years or more); Jointly
never pools it with its own numbers, only shows both (docs/method.md, "DfE's published trust figure beside
Jointly's roll-up").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from data.db.store import Store
from metrics.scorecard import Scorecard

# The eligibility line of the trust information file whose school_count is the schools DfE's measures counted
COUNTED = "Included in MAT performance tables"


@dataclass(frozen=True)
class PublishedFigure:
    """DfE's published value of one measure for a trust, one year, all pupils."""

    measure: str
    value: float | None
    status: str
    status_code: str | None
    version: str | None
    cohort: int | None  # pupils at the end of KS4 DfE's figure covers
    schools: int | None  # the schools DfE counted (trust information file), None when that file is not imported


def published_figures(store: Store, group_id: int, period: str) -> dict[str, PublishedFigure]:
    """DfE's figures for the trust this group is, by measure (empty when the group is no DfE trust)."""
    rows = store.query(
        """
        SELECT p.measure, p.value, p.status, p.status_code, p.version, p.cohort,
               (SELECT max(i.school_count) FROM trust_published_info i
                WHERE i.gias_uid = p.gias_uid AND i.period = p.period AND i.eligibility = ?) AS schools
        FROM trust_published p JOIN groups g ON g.gias_uid = p.gias_uid
        -- all pupils: the Total row (pupil-group rows are DfE's figures for disadvantaged pupils and others)
        WHERE g.group_id = ? AND p.period = ? AND p.pupil_group IS NULL
        ORDER BY p.measure
        """,
        [COUNTED, group_id, period],
    )
    return {m: PublishedFigure(m, v, s, c, ver, int(n) if n is not None else None,
                               int(k) if k is not None else None)
            for m, v, s, c, ver, n, k in rows}


def published_group_figures(store: Store, group_id: int, period: str) -> dict[tuple[str, str], PublishedFigure]:
    """DfE's figures for the trust's pupil groups (disadvantaged pupils, the others), by (measure, pupil group):
    what the disadvantage-gap pages compare with the trust's own pupil-group roll-up."""
    rows = store.query(
        "SELECT p.measure, p.pupil_group, p.value, p.status, p.status_code, p.version, p.cohort "
        "FROM trust_published p JOIN groups g ON g.gias_uid = p.gias_uid "
        "WHERE g.group_id = ? AND p.period = ? AND p.pupil_group IS NOT NULL ORDER BY p.measure, p.pupil_group",
        [group_id, period])
    return {(m, grp): PublishedFigure(m, v, s, c, ver, int(n) if n is not None else None, None)
            for m, grp, v, s, c, ver, n in rows}


def with_published(store: Store, card: Scorecard) -> Scorecard:
    """The group card with DfE's published trust figure on each row that has one (school cards unchanged)."""
    if card.subject.kind != "group":
        return card
    return with_figures(card, published_figures(store, card.subject.id, card.period))


def with_figures(card: Scorecard, figures: dict[str, PublishedFigure]) -> Scorecard:
    """The card with these published figures (by measure) on the rows that have one."""
    if not figures:
        return card
    rows = tuple(
        replace(r, dfe_published=f.value, dfe_published_status=f.status, dfe_published_version=f.version,
                dfe_published_schools=f.schools, dfe_published_cohort=f.cohort)
        if (f := figures.get(r.measure)) is not None else r
        for r in card.rows)
    return replace(card, rows=rows)
