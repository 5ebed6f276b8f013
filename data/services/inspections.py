"""Reading Ofsted inspections for a school card and a group overview, as the viewer may see them.

Each read takes the viewer and refuses through data.services.access like data.services.scope's reads: a school of the
viewer's
groups, a group the viewer may open; the public gets neither (parents read publications only). The grades come
back as metrics.inspections records in Ofsted's own words; the group's are counted there, never averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from data.db.store import Store
from data.services import groups
from data.services.access import Viewer, require_group, require_school
from metrics.inspections import (
    AREA_BY_ID,
    AREAS,
    Framework,
    Grade,
    GradeStatus,
    GroupInspections,
    Inspection,
    SchoolInspections,
    group_counts,
    order_history,
)

_AREA_ORDER = {a.id: i for i, a in enumerate(AREAS)}


def _day(value: object) -> date | None:
    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, pd.Timestamp) else value  # type: ignore[return-value]


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def held_inspections(store: Store, urns: Sequence[int]) -> list[Inspection]:
    """Every stored inspection of these schools with its grades (unscoped: callers check the viewer)."""
    if not urns:
        return []
    ids = [int(u) for u in urns]
    rows = store.query_df("SELECT * FROM inspections WHERE list_contains(?::INTEGER[], urn)", [ids])
    grades = store.query_df("SELECT * FROM inspection_grades WHERE list_contains(?::INTEGER[], urn)", [ids])
    by_key: dict[tuple, list[Grade]] = {}
    for g in grades.itertuples(index=False):
        if g.area not in AREA_BY_ID:  # an area a later Jointly may add: not one this one can show
            continue
        key = (int(g.urn), g.framework, bool(g.graded), _day(g.start_date))
        rank = None if pd.isna(g.grade_rank) else int(g.grade_rank)
        grade = Grade(g.area, GradeStatus(g.status), _text(g.grade), _text(g.grade_code) or "", rank,
                      _day(g.grade_date))
        by_key.setdefault(key, []).append(grade)
    out = []
    for r in rows.itertuples(index=False):
        key = (int(r.urn), r.framework, bool(r.graded), _day(r.start_date))
        held = sorted(by_key.get(key, []), key=lambda g: _AREA_ORDER[g.area])
        at_time = None if pd.isna(r.urn_at_time) else int(r.urn_at_time)
        out.append(Inspection(int(r.urn), Framework(r.framework), bool(r.graded), _day(r.start_date),  # type: ignore[arg-type]
                              _day(r.publication_date), _text(r.inspection_number), _text(r.inspection_type),
                              _text(r.category_of_concern), at_time, _text(r.outcome), tuple(held)))
    return out


def school_inspections(store: Store, viewer: Viewer, urn: int) -> SchoolInspections:
    """A school's inspections, newest first: report cards and the older 1-4 grades, each on its own scale."""
    require_school(store, viewer, urn)
    return SchoolInspections(int(urn), order_history(held_inspections(store, [int(urn)])))


def group_inspections(store: Store, viewer: Viewer, group_id: int, period: str) -> GroupInspections:
    """The group's member schools in the year, their latest report-card grades counted by area and their newest
    1-4 overall effectiveness counted on its own scale."""
    gid = require_group(store, viewer, group_id)
    members = groups.group_members(store, gid, period)
    return group_counts(members, held_inspections(store, members))
