"""The reads a page makes, each taking the viewer and returning only what that viewer may see.

The rules (data/services/access.py): an admin sees everything; a leader or governor sees their own group, the groups
nested in it and those groups' member schools; the public sees no group, only what was published. Anything
else is refused with AccessDenied, whose words a page shows as they are.

What is whose:
- DfE results are published nationally, so a school's national measures may be compared with any school in its
  family of similar schools; who else is in a family is public context, not a group's business.
- A group's own things (its local measures and their values, targets, chosen measures, support records, the
  audit of its changes, its scorecard's rolled-up values before they are published) are the group's.
- A school belonging to two groups shows each viewer only the local measures of the groups they may see.

Pages read through this module and through the viewer-taking reads of data.services.governance,
data.services.support_log and
data.services.publications (READS below lists all of them). tests/store/test_scope.py proves each refuses another
group's viewer and the public, and tests/unit/test_page_reads.py checks that pages call nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from data.db.store import Store, StoreInfo
from data.services import governance, impact, imports, pupil_groups, schools
from data.services import groups as groups_svc
from data.services import local_measures as local_measures_svc
from data.services.access import (
    AccessDenied,
    Role,
    Viewer,
    require_group,
    require_school,
    require_staff,
    visible_group_ids,
)
from data.services.families import family
from data.services.group_years import years_with_results
from data.services.la_average import LaFigure, la_figures
from data.services.scorecards import registry_for, scorecard
from data.services.support import DEFAULT_MAX_KM, partner_measures, support_partners
from metrics.families import DEFAULT_FAMILY_SIZE
from metrics.registry import Measure, Registry, load_registry
from metrics.scorecard import Scorecard
from metrics.support import Partner

ADMINS_ONLY = "Only a data manager (admin) can see this."
AUDIT_REFUSAL = "The change history is for the group's leaders and data managers."

# ------------------------------------------------------------------------------------------------ groups


def groups(store: Store, viewer: Viewer) -> dict[int, str]:
    """The groups with member schools that the viewer may open, by id, with the label the URL carries: the plain
    name, made unique only where two groups share one. Empty for the public."""
    if viewer.role is Role.PUBLIC:
        return {}
    allowed = set(visible_group_ids(store, viewer))
    return {gid: label for gid, label in store.remembered(("group_labels",), lambda: _group_labels(store)).items()
            if gid in allowed}


def _group_labels(store: Store) -> dict[int, str]:
    """Every group with member schools, by name, with its label (the same for every viewer: once per store state)."""
    df = groups_svc.groups(store)
    df = df[df["members"] > 0]
    counts = df["name"].value_counts()
    # a closed group keeps its past (its members' results in the years they were members): shown, as closed
    closed = {int(g) for g, st in zip(df["group_id"], df["status"], strict=True) if str(st).lower() == "closed"}
    return {int(r.group_id): (r.name if counts[r.name] == 1 else f"{r.name} ({r.kind} {r.group_id})")
            + (" (closed)" if int(r.group_id) in closed else "")
            for r in df.itertuples()}


def periods(store: Store, viewer: Viewer, group_id: int | None = None) -> list[str]:
    """Academic years with school results, oldest first; with a group, the years its members have results for
    (data.services.group_years: where the group's pages open)."""
    require_staff(viewer)
    if group_id is None:
        return schools.periods(store)
    judged = [m.id for m in registry(store, viewer, group_id).measures if m.judged]
    return years_with_results(store, require_group(store, viewer, group_id), judged)


def members(store: Store, viewer: Viewer, group_id: int, period: str | None = None) -> pd.DataFrame:
    """The group's member schools (in the year; ever, without one) with their GIAS details, by URN."""
    gid = require_group(store, viewer, group_id)
    members = groups_svc.group_members(store, gid, period) if period else groups_svc.group_members(store, gid)
    return schools.establishments(store, members)


def school(store: Store, viewer: Viewer, urn: int) -> dict:
    """One school of the viewer's groups, with its GIAS details."""
    require_school(store, viewer, urn)
    return schools.establishment(store, int(urn)) or {"urn": int(urn)}


# ------------------------------------------------------------------------------------------------ scorecards


def registry(store: Store, viewer: Viewer, group_id: int | None = None, *, urn: int | None = None) -> Registry:
    """National measures plus the group's own local measures (only national ones without a group); with a school
    (`urn`), the local measures of every group of the school the viewer may see: the registry its card is built
    with (school_scorecard), which knows every row on that card."""
    if urn is not None:
        return registry_for(store, require_school(store, viewer, urn))
    if group_id is None:
        require_staff(viewer)
        return load_registry()
    return registry_for(store, [require_group(store, viewer, group_id)])


def group_scorecard(store: Store, viewer: Viewer, group_id: int, period: str, *, method: str = "pooled",
                    measures: list[str] | None = None, include_special: bool = False) -> Scorecard:
    """The group's scorecard for the year: rolled-up values, members, levels, flags, targets (mainstream schools
    pooled unless `include_special`)."""
    gid = require_group(store, viewer, group_id)
    return scorecard(store, group=str(gid), period=period, method=method, measures=measures,
                     include_special=include_special)


def school_scorecard(store: Store, viewer: Viewer, urn: int, period: str, *,
                     measures: list[str] | None = None) -> Scorecard:
    """A school's scorecard, with the local measures only of the school's groups the viewer may see."""
    local_groups = require_school(store, viewer, urn)
    if measures:
        _require_measures(store, viewer, measures, local_groups)
    return scorecard(store, school=int(urn), period=period, measures=measures, local_groups=local_groups)


def disadvantage(store: Store, viewer: Viewer, *, school: int | None = None, group: int | None = None,
                 period: str, include_special: bool = False) -> pupil_groups.Disadvantage:
    """How disadvantaged pupils do in a school or a group the viewer may see: each headline measure's gap, DfE's
    way, with its trend, its members' parts (a group) and the group's targets on its gaps."""
    if group is not None:
        gid = require_group(store, viewer, group)
        return pupil_groups.disadvantage(store, group=gid, period=period, include_special=include_special,
                                         targets=governance.gap_targets(store, "group", gid))
    require_school(store, viewer, int(school))  # type: ignore[arg-type]
    return pupil_groups.disadvantage(store, school=int(school), period=period)  # type: ignore[arg-type]


def pupil_group_view(store: Store, viewer: Viewer, *, school: int | None = None, group: int | None = None,
                     measure: str, period: str, include_special: bool = False) \
        -> dict[str, tuple[pupil_groups.GroupCell, ...]]:
    """Every pupil group's value of one measure, by topic, for a school or a group the viewer may see."""
    if group is not None:
        return pupil_groups.pupil_group_view(store, group=require_group(store, viewer, group), measure=measure,
                                             period=period, include_special=include_special)
    require_school(store, viewer, int(school))  # type: ignore[arg-type]
    return pupil_groups.pupil_group_view(store, school=int(school), measure=measure, period=period)  # type: ignore[arg-type]


def pupil_group_measures(store: Store, viewer: Viewer, period: str, *, school: int | None = None,
                         group: int | None = None) -> list[str]:
    """The measures a school or a group the viewer may see has pupil-group values for in the year."""
    if group is not None:
        urns = groups_svc.group_members(store, require_group(store, viewer, group), period)
    else:
        require_school(store, viewer, int(school))  # type: ignore[arg-type]
        urns = [int(school)]  # type: ignore[arg-type]
    return pupil_groups.measures_with_groups(store, urns, period)


def gap_targets(store: Store, viewer: Viewer, group_id: int) -> dict[str, list[tuple[str, float]]]:
    """The group's targets on its disadvantage gaps, by measure: (year, target gap)."""
    return governance.gap_targets(store, "group", require_group(store, viewer, group_id))


def chosen_measures(store: Store, viewer: Viewer, group_id: int) -> list[str]:
    """The measures the group chose for its scorecard, in order ([] = not chosen yet: every applicable one)."""
    return governance.scorecard_measures(store, "group", require_group(store, viewer, group_id))


def targets(store: Store, viewer: Viewer, group_id: int, period: str) -> dict[str, float]:
    """The group's targets for the year, by measure."""
    return governance.targets(store, "group", require_group(store, viewer, group_id), period)


def local_measures(store: Store, viewer: Viewer, group_id: int) -> list[dict]:
    """The group's own local measure definitions (registry fields as dicts)."""
    return local_measures_svc.local_measures(store, require_group(store, viewer, group_id))


def local_group_values(store: Store, viewer: Viewer, group_id: int, measure_id: str,
                       urns: Sequence[int] | None = None, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """One of the group's own local measures' values by pupil group (data.services.local_measures), for its member
    schools (those of `urns` only, when given) in these years (every year without). AccessDenied outside the
    viewer's groups; a measure that is not the group's own reads nothing, in the same words whoever owns it."""
    gid = require_group(store, viewer, group_id)
    if measure_id not in {d["id"] for d in local_measures_svc.local_measures(store, gid)}:
        raise AccessDenied(f"{measure_id!r} is not one of this group's own measures.")
    members = groups_svc.group_members(store, gid)
    wanted = members if urns is None else [u for u in members if u in {int(x) for x in urns}]
    return local_measures_svc.local_group_values(store, measure_id, wanted, periods)


def local_authority_values(store: Store, viewer: Viewer, urns: Sequence[int], period: str,
                           measures: Sequence[Measure | str]) -> dict[tuple[int, str], LaFigure]:
    """Each school's own local authority average (DfE's LA benchmark, data.services.la_average) by (urn, measure id),
    for
    schools of the viewer's groups (any school for an admin)."""
    for urn in urns:
        require_school(store, viewer, urn)
    return la_figures(store, urns, period, measures)


# ------------------------------------------------------------------------------------------------ comparisons


def _require_measures(store: Store, viewer: Viewer, measure_ids: Sequence[str], groups: Sequence[int]) -> None:
    """National measures are anyone's (on staff pages); a local measure only its own group's viewers'."""
    national = set(load_registry().ids())
    local = {m.id for m in registry_for(store, list(groups)).measures} if groups else set()
    hidden = [m for m in measure_ids if m not in national and m not in local]
    if hidden:
        raise AccessDenied(f"Unknown measure {hidden[0]!r} (or one of another group's own measures).")


def group_impact(store: Store, viewer: Viewer, group_id: int, measure: str) -> impact.GroupImpact:
    """The event study of the group's joiners on a measure (staff of the group only: it names its schools and
    their effects, which are the group's business until published)."""
    return impact.group_impact(store, require_group(store, viewer, group_id), measure)


def support_impact(store: Store, viewer: Viewer, group_id: int, measure: str) -> impact.GroupImpact:
    """The same comparison for the group's schools that received support on the measure (its support ledger)."""
    return impact.support_impact(store, require_group(store, viewer, group_id), measure)


def impact_measures(store: Store, viewer: Viewer, group_id: int) -> list[Measure]:
    """The measures the Impact page offers for the group (those the store has results for)."""
    require_group(store, viewer, group_id)
    return impact.impact_measures(store)


def similar_schools(store: Store, viewer: Viewer, urn: int, *, weights: Mapping[str, float] | None = None,
                    size: int = DEFAULT_FAMILY_SIZE, period: str | None = None,
                    same_kind: bool = True) -> pd.DataFrame:
    """The school's family of similar schools (national context from DfE files), nearest first; with `period`, that
    year's neighbours on that year's context; of its own kind of school unless `same_kind` is False."""
    require_school(store, viewer, urn)
    return family(store, int(urn), weights=weights, size=size, period=period, same_kind=same_kind)


def school_values(store: Store, viewer: Viewer, urn: int, compare_with: Sequence[int], period: str,
                  measure: str) -> pd.DataFrame:
    """One measure's results for a school of the viewer's groups and the schools it is compared with.

    A national measure is published by the DfE for every school; a local measure is its group's own, so it is
    returned only for the viewer's groups' measures (and its values exist only for that group's schools)."""
    groups = require_school(store, viewer, urn)
    _require_measures(store, viewer, [measure], groups)
    urns = [int(urn), *(int(u) for u in compare_with)]
    if measure not in set(load_registry().ids()):  # a local measure: the viewer's groups' schools only
        own = {int(u) for g in groups for u in groups_svc.group_members(store, g)}
        urns = [u for u in urns if u in own]
    return schools.school_observations(store, urns, [period], [measure])


def partners(store: Store, viewer: Viewer, urn: int, measure: str, period: str, limit: int = 10, *,
             max_km: float | None = DEFAULT_MAX_KM, pupil_group: str | None = None) -> list[Partner]:
    """Schools strong on the measure that could support this one, within `max_km` (None: anywhere): in the viewer's
    groups first, then similar schools of its kind. With `pupil_group` ("disadvantaged"), strong for that group's
    pupils: in the top quarter of the phase nationally and better than this school's."""
    groups = require_school(store, viewer, urn)
    _require_measures(store, viewer, [measure], groups)
    return support_partners(store, int(urn), measure, period, limit, groups=groups, max_km=max_km,
                            pupil_group=pupil_group)


def pupil_group_partner_measures(store: Store, viewer: Viewer, urn: int, period: str,
                                 pupil_group: str) -> list[str]:
    """The measures partners can be looked for on for this school's pupil group: those it has that group's value
    of in the year, of the registry the viewer's groups see."""
    groups = require_school(store, viewer, urn)
    return partner_measures(store, int(urn), period, pupil_group, groups=groups)


# ------------------------------------------------------------------------------------------------ the store's own logs


def store_info(store: Store, viewer: Viewer) -> StoreInfo:
    """Counts of what the store holds: for data managers."""
    _require_admin(viewer)
    return store.info()


def import_log(store: Store, viewer: Viewer, limit: int = 200) -> pd.DataFrame:
    """Every import (file, kind, outcome, rows, messages), newest first: for data managers."""
    _require_admin(viewer)
    return imports.import_log(store, limit)


def audit_log(store: Store, viewer: Viewer, group_id: int | None = None, limit: int = 500) -> pd.DataFrame:
    """Every recorded change, newest first: who, when, what, before and after.

    An admin sees all changes (or one group's); a leader sees the changes to their own groups only (the group
    named, or all of theirs). Governors and the public are refused."""
    require_staff(viewer)
    if viewer.is_admin:
        if group_id is None:
            return imports.audit_log(store, limit=limit)
        return imports.audit_log(store, group_ids=[require_group(store, viewer, group_id)], limit=limit)
    if viewer.role is not Role.LEADER:
        raise AccessDenied(AUDIT_REFUSAL)
    ids = [require_group(store, viewer, group_id)] if group_id is not None else visible_group_ids(store, viewer)
    return imports.audit_log(store, group_ids=ids, limit=limit)


def _require_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise AccessDenied(ADMINS_ONLY)


# Every read pages may make, by module: each takes (store, viewer, ...) and is tested in tests/store/test_scope.py.
READS = {
    "data.services.scope": ["groups", "periods", "members", "school", "registry", "group_scorecard", "school_scorecard",
                   "local_authority_values", "chosen_measures", "targets", "local_measures", "local_group_values",
                   "similar_schools", "school_values", "partners", "store_info", "import_log", "audit_log",
                   # issue 13: pupil groups and the disadvantage gap; partners strong on disadvantaged pupils
                   "disadvantage", "pupil_group_view", "pupil_group_measures", "gap_targets",
                   "pupil_group_partner_measures",
                   # issue 15: has joining made a difference (and the support received)
                   "group_impact", "support_impact", "impact_measures"],
    "data.services.governance": ["applicable_measures", "uploadable_measures", "local_values", "upload_template",
                        "check_definition", "check_upload", "can_edit_scorecard"],
    "data.services.support_log": ["support_records", "support_balance"],
    "data.services.publications": ["publication_history", "publication_version", "build_publication",
                                   "find_publications", "published"],
    "data.services.accounts": ["accounts_for"],
    "data.services.inspections": ["school_inspections", "group_inspections"],
    "data.services.group_admin": ["manageable_groups", "group_detail", "find_schools", "invitations"],
    # issue 11 point 2: each member's answer, and who may record it
    "data.services.consent": ["consents", "may_record"],
    # issue 11 point 4: what the store can show, and what undoing an import would do (admins)
    "data.services.imports": ["store_findings", "undo_plan", "undoable_imports"],
}
