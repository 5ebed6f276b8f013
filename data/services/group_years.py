"""The academic years a group has results for: where its pages open (issue 11 point 5).

The store's latest year is not a group's: a partnership of secondary schools whose key stage 4 results run to
2024/25 opens on 2024/25 even when the store holds 2025/26 results of other schools. A year counts for a group
when a school that was its member that year (by membership dates) has a value for a judged measure of the
group's scorecard (context such as pupil numbers or the census is not a result). Unscoped: pages read it through
data.services.scope.periods.
"""

from __future__ import annotations

from collections.abc import Sequence

from data.db.store import Store
from data.services import groups
from data.services import schools as schools_svc
from metrics.registry import STATUSES, Status


def years_with_results(store: Store, group_id: int, measures: Sequence[str]) -> list[str]:
    """The store's academic years (oldest first) in which some member that year has a value for one of
    `measures` (judged measure ids); [] when none has."""
    periods = schools_svc.periods(store)
    if not periods or not measures:
        return []
    by_year = groups.group_members_by_period(store, int(group_id), periods)
    schools = sorted({u for urns in by_year.values() for u in urns})
    if not schools:
        return []
    # one read of every member's rows (a converted school's earlier URN counts as it does on its card)
    rows = schools_svc.member_rows(store, schools, periods, list(measures))
    ok = rows[(rows["st"] == STATUSES.index(Status.OK.value)) & rows["value"].notna()]
    have = set(zip(ok["urn"].astype(int), ok["p"].astype(int), strict=True))
    return [p for i, p in enumerate(periods) if any((u, i) in have for u in by_year.get(p, ()))]
