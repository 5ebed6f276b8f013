"""Reading what a scorecard needs from the store, then handing it to ``metrics.scorecard``."""

from __future__ import annotations

from data.formats import PeriodError, parse_period
from data.store import Store, StoreError
from metrics.registry import load_registry
from metrics.scorecard import ScorecardRow, Subject, applicable, build_scorecard


def school_subject(store: Store, urn: int) -> Subject:
    est = store.establishment(urn)
    if est is None:
        raise StoreError(f"no school with URN {urn} in the store")
    return Subject("school", int(urn), est.get("name") or f"School {urn}", est.get("phase"), (int(urn),))


def group_subject(store: Store, id_or_name: str, period: str) -> Subject:
    group = store.find_group(id_or_name)
    if group is None:
        raise StoreError(f"no group with id, code or exact name {id_or_name!r} in the store")
    members = store.group_members(group.group_id, period)
    if not members:
        raise StoreError(f"{group.name} has no member schools in {period}")
    return Subject("group", group.group_id, group.name, None, tuple(members))


def scorecard(store: Store, *, school: int | None = None, group: str | None = None, period: str,
              measures: list[str] | None = None) -> tuple[Subject, list[ScorecardRow]]:
    """The scorecard of a school or a group for one period, every applicable national measure by default."""
    try:
        period = parse_period(period)
    except PeriodError as exc:
        raise StoreError(str(exc)) from exc
    registry = load_registry()
    subject = school_subject(store, school) if school is not None else group_subject(store, str(group), period)
    if measures:
        unknown = [m for m in measures if m not in registry]
        if unknown:
            raise StoreError(f"unknown measure(s): {', '.join(unknown)}")
        chosen = [registry.get(m) for m in measures]
    elif subject.kind == "school" and subject.phase is None:
        # phase unknown (no GIAS or spine file yet): show what the school has data for
        have = set(store.school_observations(subject.members)["measure"])
        chosen = [m for m in registry.measures if m.id in have]
    else:
        chosen = applicable(registry, subject.phase if subject.kind == "school" else None)
    ids = [m.id for m in chosen]
    obs = store.school_observations(subject.members, [period], sorted(set(ids) | {"pupils"}))
    bench = store.benchmarks([period], ids)
    weights = {int(r.urn): float(r.value) for r in obs[obs["measure"] == "pupils"].itertuples()
               if r.value == r.value and r.value is not None}
    rows = build_scorecard(subject, period, chosen, obs.to_dict("records"), bench.to_dict("records"), weights)
    return subject, rows
