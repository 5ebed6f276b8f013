"""Reading what a scorecard needs from the store, then handing it to ``metrics.scorecard``.

A request only reads: percentiles, families and expectations were computed at import
(``data.ingest.derived``). The reads use the `ord` clustering so a group's rows are found without
scanning the country.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from data.db.errors import StoreError
from data.db.store import Store
from data.ingest.lineage import lineage_note
from data.services import groups as groups_svc
from data.services import local_measures, schools
from data.services.trust_published import published_figures, with_figures
from metrics import timeline
from metrics.comparators import OWN_KIND, pooling_words
from metrics.periods import PeriodError, parse_period
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
        local = local_measures.local_measures(store)
    else:
        local = [d for g in group_ids for d in local_measures.local_measures(store, g)]
    return base.with_local(local) if local else base


def school_subject(store: Store, urn: int) -> Subject:
    brief = schools.school_brief(store, urn)
    if brief is None:
        raise StoreError(f"no school with URN {urn} in the store")
    return Subject("school", int(urn), brief[0], brief[1], (int(urn),))


def group_subject(store: Store, id_or_name: str, period: str, *, include_special: bool = False) -> tuple[Subject, str]:
    """The group's members in `period` with their phases, and what its values pool, in words.

    Special schools and alternative provision are left out of a group with mainstream members unless
    `include_special` (they keep their own cards and their own national comparators)."""
    group = groups_svc.find_group(store, id_or_name)
    if group is None:
        raise StoreError(f"no group with id, code or exact name {id_or_name!r} in the store")
    members = groups_svc.group_members(store, group.group_id, period)
    if not members:
        raise StoreError(f"{group.name} has no member schools in {period}")
    phase = dict(store.query("SELECT urn, phase FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                             [list(members)]))
    own = [(u, phase.get(u)) for u in members if phase.get(u) in OWN_KIND]
    # a group of special schools or alternative provision only has nothing else to pool: its values are theirs
    keep_all = include_special or len(own) == len(members)
    kept = members if keep_all else [u for u in members if phase.get(u) not in OWN_KIND]
    subject = Subject("group", group.group_id, group.name, None, tuple(kept), group.kind,
                      tuple(phase.get(u) for u in kept))
    return subject, pooling_words(own, keep_all)


def members_then(store: Store, subject: Subject, periods: list[str]) -> dict[str, list[int]] | None:
    """The schools in the group in each year of the window, by membership dates (None when the group has no
    dated membership: its trend is then today's members'). Schools left out of today's pooling (special schools
    and alternative provision, unless asked for) are left out of every year's."""
    if not groups_svc.memberships_dated(store, subject.id):
        return None
    by_year = groups_svc.group_members_by_period(store, subject.id, periods)
    everyone = sorted({u for urns in by_year.values() for u in urns})
    today = set(subject.members)
    pooled_all = set(groups_svc.group_members(store, subject.id, periods[-1])) <= today
    if not pooled_all:
        phase = dict(store.query("SELECT urn, phase FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                                 [everyone]))
        by_year = {p: [u for u in urns if u in today or phase.get(u) not in OWN_KIND] for p, urns in by_year.items()}
    return by_year


def window(store: Store, period: str) -> list[str]:
    """The period and the consecutive academic years before it, up to WINDOW in all, from the store's first year.

    Years the store has no results for (DfE's gaps, a year never imported) stay in the window as gaps: "last year"
    is the academic year before, never whatever period sits before in the store (metrics.timeline)."""
    known = schools.periods(store)
    if period not in known:
        shown = ", ".join(known) or "none"
        raise StoreError(f"no school results for {period} in the store (years with results: {shown})")
    return [p for p in timeline.window(period, WINDOW) if p >= known[0]]


def _choose(store: Store, registry: Registry, subject: Subject, measures: list[str] | None) -> list[Measure]:
    if measures:
        unknown = [m for m in measures if m not in registry]
        if unknown:
            raise StoreError(f"unknown measure(s): {', '.join(unknown)}")
        return [registry.get(m) for m in measures]
    from data.services import governance  # a cycle: governance imports registry_for from here

    chosen = governance.scorecard_measures(store, subject.kind, subject.id)
    if chosen:
        return [registry.get(m) for m in chosen if m in registry]
    if subject.kind == "school":
        # what the school has results for: all of it when its phase is unknown (no GIAS or spine file yet), and
        # beyond its phase's measures, the key stages it reports (special and middle schools, all-through)
        obs = schools.school_observations(store, subject.members)  # reads only the school's own rows (its `ord`)
        if subject.phase is None:
            have = set(obs["measure"])
            return [m for m in registry.measures if m.id in have]
        return applicable(registry, subject.phase, set(obs.loc[obs["status"] == "ok", "measure"]))
    return applicable(registry, None)


def _small(value: object) -> int:
    """A rough size in bytes of a small read kept in memory (containers counted by their length)."""
    if isinstance(value, tuple | list | dict | set):
        return 256 + 128 * len(value)
    return 1024


def _quantiles_bytes(quantiles: dict) -> int:
    return 256 + sum(160 + 8 * len(q) for q in quantiles.values())


def _keep(store: Store, key: tuple, compute, size=_small):  # noqa: ANN001, ANN202 (any read, any value)
    """A small read of the scorecard's, once per store generation (schools.kept): the key says all it depends on."""
    return schools.kept(store, ("scorecard", *key), compute, size)


def scorecard(store: Store, *, school: int | None = None, group: str | None = None, period: str,
              measures: list[str] | None = None, method: str = "pooled",
              local_groups: list[int] | None = None, include_special: bool = False,
              only: list[int] | None = None) -> Scorecard:
    """The scorecard of a school or a group for one period (every applicable measure by default).

    Unscoped: for the CLI and the engine. Pages read through data.services.scope, which passes `local_groups`: the
    groups
    whose local measures a school's card may show (by default every group the school belongs to). `only` pools a
    group over just these of its members, this year and in every earlier year of its trend (a joint publication:
    the schools that agreed); such a card is not the whole group, so it carries no DfE figure for the group.

    Every read is made once per store generation and kept in memory, keyed by what it depends on (schools.kept);
    the card is computed from them on each call."""
    try:
        period = parse_period(period)
    except PeriodError as exc:
        raise StoreError(str(exc)) from exc
    if method not in ("pooled", "dfe_trust"):
        raise StoreError(f"roll-up method {method!r} is not 'pooled' or 'dfe_trust'")
    periods = _keep(store, ("window", period), lambda: window(store, period))
    pooling = ""
    if school is not None:
        subject = _keep(store, ("school", int(school)), lambda: school_subject(store, school))
    else:
        subject, pooling = _keep(store, ("group", str(group), period, include_special),
                                 lambda: group_subject(store, str(group), period, include_special=include_special))
        if only is not None:
            keep = {int(u) for u in only}
            subject = replace(subject, members=tuple(u for u in subject.members if u in keep),
                              member_phases=tuple(p for u, p in zip(subject.members, subject.member_phases,
                                                                    strict=True) if u in keep))
    if subject.kind == "group":
        groups = [subject.id]
    elif local_groups is None:
        groups = _keep(store, ("groups_of", subject.id), lambda: groups_svc.groups_of(store, subject.id))
    else:
        groups = list(local_groups)
    # the national registry is code (load_registry, cached): kept with it, so that another registry is never mixed
    # with what was kept for this one (the kept value holds it: its id is no other's while kept)
    base = load_registry()
    held, registry = _keep(store, ("registry", id(base), tuple(groups)), lambda: (base, registry_for(store, groups)))
    if held is not base:  # pragma: no cover (ids are unique while the kept value holds its registry)
        registry = registry_for(store, groups)
    chosen = _keep(store, ("chosen", id(base), subject, tuple(groups), tuple(measures) if measures else None),
                   lambda: _choose(store, registry, subject, measures))
    by_id = {m.id: m for m in registry.measures}
    extra = [x for x in formula_inputs(chosen, by_id) if x not in {m.id for m in chosen}]
    inputs = {x: by_id[x] for x in formula_inputs(chosen, by_id) if x in by_id}
    ids = [m.id for m in chosen if not m.formula] + [x for x in extra if x in by_id and not by_id[x].formula]
    bench = schools.national_index(store)
    from data.services import governance  # a cycle, as in _choose

    targets = _keep(store, ("targets", subject.kind, subject.id, period),
                    lambda: governance.targets(store, subject.kind, subject.id, period))
    if subject.kind == "school":
        rows = schools.member_rows(store, subject.members, periods, ids, with_codes=True)
        last = np.flatnonzero(rows["p"].to_numpy() == len(periods) - 1)
        codes_now = {ids[int(m)]: c for m, c in zip(rows["m"].to_numpy()[last].tolist(),
                                                     rows["status_code"].to_numpy()[last].tolist(), strict=True)
                     if isinstance(c, str) and c}
        note = _keep(store, ("lineage_note", subject.id), lambda: lineage_note(store, subject.id))
        return build_school_scorecard(subject, period, periods, chosen, rows, ids, bench, targets, codes_now, inputs,
                                      note)  # its earlier URNs, in words (data.ingest.lineage)
    codes = ids if "pupils" in ids else [*ids, "pupils"]  # pupils on roll weigh rows that have no cohort
    then = _keep(store, ("members_then", subject, tuple(periods)), lambda: members_then(store, subject, periods))
    if then is not None and only is not None:
        then = {p: [u for u in urns if u in keep] for p, urns in then.items()}
    readers = sorted({*subject.members, *(u for urns in (then or {}).values() for u in urns)})
    rows = schools.member_rows(store, readers, periods, codes)
    # the card lists every member (a special school left out of the pooling keeps its own card); values pool
    # subject.members only
    whole = bool(pooling) and only is None
    everyone = (_keep(store, ("members", subject.id, period), lambda: groups_svc.group_members(store, subject.id,
                                                                                                period))
                if whole else list(subject.members))
    names = _keep(store, ("names", tuple(everyone)), lambda: dict(store.query(
        "SELECT urn, coalesce(name, 'School ' || urn) FROM establishments "
        "WHERE urn IN (SELECT unnest(?::INTEGER[]))", [everyone])))
    years = (_keep(store, ("years", subject.id, period), lambda: groups_svc.membership_years(store, subject.id,
                                                                                              period))
             if method == "dfe_trust" else None)
    quantiles = _keep(store, ("quantiles", tuple(periods), tuple(ids)),
                      lambda: schools.national_quantiles(store, periods, ids), _quantiles_bytes)
    card = build_group_scorecard(subject, period, periods, chosen, rows, codes, bench, quantiles, names, targets,
                                 method, years, inputs, then)
    if only is not None:
        return card
    # DfE's own figure for this trust, beside the roll-up (data.services.trust_published)
    figures = _keep(store, ("published", subject.id, period), lambda: published_figures(store, subject.id, period))
    card = with_figures(card, figures)
    if not pooling:
        return card
    return replace(card, pooling=pooling, members=tuple((u, names.get(u, f"School {u}")) for u in everyone))
