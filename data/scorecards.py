"""Reading what a scorecard needs from the store, then handing it to ``metrics.scorecard``.

A request only reads: percentiles, families and expectations were computed at import
(``data.derived``). The reads use the `ord` clustering so a group's rows are found without
scanning the country.
"""

from __future__ import annotations

from data.formats import PeriodError, parse_period
from data.store import Store, StoreError
from metrics.registry import Measure, Registry, load_registry
from metrics.scorecard import (
    Scorecard,
    Subject,
    applicable,
    build_group_scorecard,
    build_school_scorecard,
    formula_inputs,
)

WINDOW = 6  # the period asked for and up to five before it


def registry_for(store: Store, group_ids: list[int] | None = None) -> Registry:
    """National measures plus the local measures of these groups (all groups' when None)."""
    base = load_registry()
    if group_ids is None:
        local = store.local_measures()
    else:
        local = [d for g in group_ids for d in store.local_measures(g)]
    return base.with_local(local) if local else base


def school_subject(store: Store, urn: int) -> Subject:
    brief = store.school_brief(urn)
    if brief is None:
        raise StoreError(f"no school with URN {urn} in the store")
    return Subject("school", int(urn), brief[0], brief[1], (int(urn),))


def group_subject(store: Store, id_or_name: str, period: str) -> Subject:
    group = store.find_group(id_or_name)
    if group is None:
        raise StoreError(f"no group with id, code or exact name {id_or_name!r} in the store")
    members = store.group_members(group.group_id, period)
    if not members:
        raise StoreError(f"{group.name} has no member schools in {period}")
    return Subject("group", group.group_id, group.name, None, tuple(members), group.kind)


def window(store: Store, period: str) -> list[str]:
    known = store.periods()
    if period not in known:
        shown = ", ".join(known) or "none"
        raise StoreError(f"no school results for {period} in the store (years with results: {shown})")
    return known[: known.index(period) + 1][-WINDOW:]


def _choose(store: Store, registry: Registry, subject: Subject, measures: list[str] | None) -> list[Measure]:
    if measures:
        unknown = [m for m in measures if m not in registry]
        if unknown:
            raise StoreError(f"unknown measure(s): {', '.join(unknown)}")
        return [registry.get(m) for m in measures]
    chosen = store.scorecard_measures(subject.kind, subject.id)
    if chosen:
        return [registry.get(m) for m in chosen if m in registry]
    if subject.kind == "school" and subject.phase is None:
        # phase unknown (no GIAS or spine file yet): show what the school has data for
        have = set(store.school_observations(subject.members)["measure"])
        return [m for m in registry.measures if m.id in have]
    return applicable(registry, subject.phase if subject.kind == "school" else None)


def scorecard(store: Store, *, school: int | None = None, group: str | None = None, period: str,
              measures: list[str] | None = None, method: str = "pooled",
              local_groups: list[int] | None = None) -> Scorecard:
    """The scorecard of a school or a group for one period (every applicable measure by default).

    Unscoped: for the CLI and the engine. Pages read through data.scope, which passes `local_groups`: the groups
    whose local measures a school's card may show (by default every group the school belongs to)."""
    try:
        period = parse_period(period)
    except PeriodError as exc:
        raise StoreError(str(exc)) from exc
    if method not in ("pooled", "dfe_trust"):
        raise StoreError(f"roll-up method {method!r} is not 'pooled' or 'dfe_trust'")
    periods = window(store, period)
    subject = school_subject(store, school) if school is not None else group_subject(store, str(group), period)
    if subject.kind == "group":
        groups = [subject.id]
    else:
        groups = store.groups_of(subject.id) if local_groups is None else list(local_groups)
    registry = registry_for(store, groups)
    chosen = _choose(store, registry, subject, measures)
    by_id = {m.id: m for m in registry.measures}
    extra = [x for x in formula_inputs(chosen, by_id) if x not in {m.id for m in chosen}]
    inputs = {x: by_id[x] for x in formula_inputs(chosen, by_id) if x in by_id}
    ids = [m.id for m in chosen if not m.formula] + [x for x in extra if x in by_id and not by_id[x].formula]
    bench = store.national_index()
    targets = store.targets(subject.kind, subject.id, period)
    if subject.kind == "school":
        rows = store.member_rows(subject.members, periods, ids, with_codes=True)
        last = rows[rows["p"] == len(periods) - 1]
        codes_now = {ids[int(m)]: c for m, c in zip(last["m"], last["status_code"], strict=True)
                     if isinstance(c, str) and c}
        return build_school_scorecard(subject, period, periods, chosen, rows, ids, bench, targets, codes_now, inputs)
    codes = ids if "pupils" in ids else [*ids, "pupils"]  # pupils on roll weigh rows that have no cohort
    rows = store.member_rows(subject.members, periods, codes)
    names = dict(store.query("SELECT urn, coalesce(name, 'School ' || urn) FROM establishments "
                             "WHERE urn IN (SELECT unnest(?::INTEGER[]))", [list(subject.members)]))
    years = store.membership_years(subject.id, period) if method == "dfe_trust" else None
    return build_group_scorecard(subject, period, periods, chosen, rows, codes, bench,
                                 store.national_quantiles(periods, ids), names, targets, method, years, inputs)
