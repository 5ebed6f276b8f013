"""A synthetic England for the demo, written as DfE files and loaded through the project's own importers.

Everything here is invented: the places ("Fernthorpe", "Northbridge"), schools, trusts, heads, phone
numbers (Ofcom's drama ranges) and websites (``.example``). The *shapes* are England's: phases in national
proportions, towns that cluster, London dense and multilingual, deprived towns with more free school
meals, and outcomes that depend on context, a persistent school effect, a trend and noise, tuned to the
distributions and correlations in ``realdata/NATIONAL_SHAPES.md``.

England of 2021/22 to 2025/26 by default, with DfE's real gaps (no Progress 8 in 2024/25 and 2025/26, no KS2
progress in 2023/24 and 2024/25, no EBacc after 2024/25). The files copy the real downloads in their conventions
(see DESIGN.md, "Quirks"): performance tables in UTF-8 with BOM, CRLF and no final newline, RECTYPE rows, ``45%``
percentages, footer rows, ``"7,579"`` money, SUPP/NE/NA/NP/LOWCOV codes and ragged rows; GIAS in Windows-1252;
an EES census file with a ``trust`` column. From 2023/24 the school results are written as DfE publishes them now,
on Explore Education Statistics, with Ofsted's report cards, GIAS trust memberships and converters' predecessor
links (``data/demo/current.py``). Same seed, same bytes: nothing reads the clock.

``build_demo`` imports the files into a new store beside ``path`` and moves it into place only when
everything imported cleanly; then adds what no DfE file holds (partnerships, a trust's clusters,
local measures a group chose for itself).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from data.db.store import Store
from data.demo.files import _report, _write_all
from data.demo.world import (
    ALL,
    DEFAULT_SCHOOLS,
    DEFAULT_SEED,
    DEFAULT_YEARS,
    FLAGSHIP_PARTNERSHIP,
    SEC,
    Progress,
    _build_world,
    _cols,
    _date,
    _period,
    _plural,
    _World,
)
from data.services import groups as groups_svc
from data.services import local_measures

# ---------------------------------------------------------------------------------------------- the store


def build_demo(path: Path, *, schools: int = DEFAULT_SCHOOLS, years: int = DEFAULT_YEARS, seed: int = DEFAULT_SEED,
               files_dir: Path | None = None, progress: Progress | None = None, replace: bool = False,
               only_if_missing: bool = False) -> str:
    """Write DfE-format files, import them into a NEW store, return a short summary text.

    The store is built in a temporary file beside `path` and moved into place only when everything imported
    cleanly, so a half-built demo never appears and an existing store at `path` is untouched on failure.
    Only a store marked as the demo (settings 'demo' = 'true') is replaced; a real one only with `replace`, after a
    backup beside it; none while another process has it open, and never a file that is not a Jointly store
    (data.db.store.claim_for_demo). The check runs before any work and again just before the move.
    The whole build holds the results' writer lock (data.db.snapshot): one process builds, a second waits, and app
    processes reading the store move to the new demo at their next rerun. `only_if_missing` (the app's first
    run): when another process built a store while this one waited for the lock, that one is kept.
    """
    from data.db import snapshot
    from data.db.store import claim_for_demo

    t0 = time.perf_counter()
    path = Path(path)
    claim_for_demo(path, replace=replace, keep_backup=False)  # refuse now, not after a minute of building
    with snapshot.writer_lock(path):
        if only_if_missing and path.exists():
            return f"{path} was built meanwhile by another process"
        return _build_locked(path, schools=schools, years=years, seed=seed, files_dir=files_dir, progress=progress,
                             replace=replace, t0=t0)



def _build_locked(path: Path, *, schools: int, years: int, seed: int, files_dir: Path | None,
                  progress: Progress | None, replace: bool, t0: float) -> str:
    """build_demo's work, under the writer lock."""
    from data.db import snapshot
    from data.db.state import StateStore, backup_sqlite_state, replace_state, sqlite_files, state_url_for
    from data.db.store import Store, claim_for_demo
    from data.demo.publication import publish_demo_examples
    from data.ingest.importers import after_imports, import_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    tmp_state = path.with_name(path.name + ".building-state.sqlite")
    for p in (tmp, Path(str(tmp) + ".wal"), *sqlite_files(tmp_state)):
        p.unlink(missing_ok=True)
    new_state = None
    _report(progress, "Inventing a synthetic England", 0.0)
    w = _build_world(schools, years, seed)
    own_dir = files_dir is None
    out_dir = Path(tempfile.mkdtemp(prefix="jointly-demo-")) if own_dir else Path(files_dir)
    frames: dict[int, pd.DataFrame] = {}
    store: Store | None = None
    try:
        files = _write_all(w, out_dir, progress, 0.03, 0.25, frames)
        # the demo's results are `path`'s next snapshot, and its state a new SQLite file beside it, put in the place
        # of the old demo's state only once everything is built (data.db.state.replace_state)
        new_state = StateStore.open("sqlite:///" + str(tmp_state.resolve()))
        store = Store(path, file=tmp, state=new_state)
        reports = []
        for k, (fp, period) in enumerate(files):
            _report(progress, f"Importing {fp.parent.name + '/' if period else ''}{fp.name}",
                    0.25 + 0.6 * k / len(files))
            rep = import_file(store, fp, None, actor="demo", recluster=False, demo_files=True)
            if not rep.ok or rep.problems or (period and rep.periods != [period]):
                raise RuntimeError(f"the demo did not import cleanly:\n{rep.summary()}")
            reports.append(rep)
        _report(progress, "Adding partnerships and clusters", 0.86)
        n_mem, partnership_ids = _add_demo_groups(store, w)
        _agree_to_publish(store)
        _report(progress, "Adding local measures", 0.9)
        n_local = _add_local_measures(store, w, frames, partnership_ids)
        for key, value in (("demo", "true"), ("demo_seed", str(seed)), ("demo_schools", str(schools)),
                           ("demo_years", str(years))):
            store.set_setting(key, value, actor="demo")
        _report(progress, "Arranging the store for fast group reads; percentiles and families", 0.94)
        after_imports(store, reports)  # once, at the end: re-cluster, then the derived tables
        _report(progress, "Publishing an example for parents", 0.98)
        publish_demo_examples(store, FLAGSHIP_PARTNERSHIP)  # data.demo.publication: needs the derived tables
        info = store.info()
        store.close()
        store = None
        wal = Path(str(tmp) + ".wal")
        if wal.exists():  # close() checkpoints; a leftover log would belong to the old name
            raise RuntimeError("the demo store did not checkpoint cleanly")
        backup = claim_for_demo(path, replace=replace, keep_backup=True)  # the file may have changed meanwhile
        state_backup = None
        if backup is not None:  # a real store replaced: what people wrote in it is kept beside it too
            state_backup = backup_sqlite_state(state_url_for(path), None)
        live = StateStore.open(state_url_for(path))
        try:  # the old demo's groups, consents, local measures and publications go; accounts and the audit stay
            replace_state(new_state, live)
        finally:
            live.close()
        Path(str(path) + ".wal").unlink(missing_ok=True)  # the old store's log must not replay onto the new one
        snapshot.swap_in(path, tmp)  # fsync, rename (atomic), fsync the folder
    except BaseException:
        if store is not None:
            store.close()
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        raise
    finally:
        if new_state is not None:
            new_state.close()
        for p in sqlite_files(tmp_state):
            p.unlink(missing_ok=True)
        if own_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
    _report(progress, "The demo is ready", 1.0)
    groups = ", ".join(_plural(n, k) for k, n in sorted(info.groups.items()))
    converted = int((w.s["old_urn"] > 0).sum())
    earlier = f" (and the earlier URNs of {_plural(converted, 'converted school')})" if converted else ""
    return (f"Synthetic demo England (seed {seed}): {info.establishments - converted:,} schools{earlier} in "
            f"{len(w.las)} local authorities, {_plural(len(w.years), 'year')} {_period(w.years[0])} to "
            f"{_period(w.years[-1])}; "
            f"{groups}; "
            f"{n_mem:,} partnership and cluster memberships; {info.observations:,} school values "
            f"and {info.benchmarks:,} benchmarks; {n_local} local measures. Built in {time.perf_counter() - t0:.0f} s."
            + (f" The store that was there is kept as {backup}" if backup else "")
            + (f" (and what people wrote in it as {state_backup})" if state_backup else "")
            + ("." if backup else ""))



def _agree_to_publish(store: Store) -> None:
    """Every demo school agrees to its groups' joint publications (data.services.consent: a group publishes only the
    schools that agreed), recorded and audited as a data manager would, one transaction per group."""
    from data.services.access import Role, Viewer
    from data.services.consent import record_consents

    admin = Viewer(Role.ADMIN, None, "demo")
    for gid, urns in store.query("SELECT group_id, list(DISTINCT urn ORDER BY urn) FROM memberships GROUP BY 1 "
                                 "ORDER BY 1"):
        problems = record_consents(store, admin, int(gid), {int(u): True for u in urns},
                                   "Agreed at the heads' meeting (demo).")
        if problems:
            raise RuntimeError("the demo's consent was refused: " + "; ".join(problems))



def _add_demo_groups(store: Store, w: _World) -> tuple[int, dict[str, int]]:
    """Partnerships and trusts' clusters: groups no DfE file describes. Returns (memberships, partnership ids)."""
    s = w.s
    S = _cols(s)
    urn = s["urn"].to_numpy()
    n_mem = 0
    ids: dict[str, int] = {}
    for p in w.partnerships:
        gid = groups_svc.create_group(store, "partnership", p["name"], actor="demo", source="demo")
        ids[p["name"]] = gid
        by_range: dict[tuple[str | None, str | None], list[int]] = {}
        for i, start, end in zip(p["members"], p["starts"], p["ends"], strict=True):
            opened = _date(S["open_year"][i], 9) if S["open_year"][i] else ""
            by_range.setdefault((max(start, opened), end), []).append(int(urn[i]))  # not before it opened
        for (start, end), urns in by_range.items():
            groups_svc.add_memberships(store, gid, urns, start, end, actor="demo", source="demo")
            n_mem += len(urns)
    for c in w.clusters:
        trust = groups_svc.find_group(store, w.trusts["group_id"].iloc[c["trust"]])
        if trust is None:
            raise RuntimeError(f"trust {w.trusts['name'].iloc[c['trust']]} is missing after the GIAS import")
        gid = groups_svc.create_group(store, "cluster", c["name"], parent_id=trust.group_id, actor="demo",
                                      source="demo")
        start = _date(max(w.years[0] - 1, 2019), 9)
        by_start: dict[str, list[int]] = {}
        for i in c["members"]:
            by_start.setdefault(max(start, S["join"][i]), []).append(int(urn[i]))
        for st, urns in by_start.items():
            groups_svc.add_memberships(store, gid, urns, st, None, actor="demo", source="demo")
            n_mem += len(urns)
    return n_mem, ids



def _local_defs(prefix: str = "") -> list[dict]:
    every = ["primary", "secondary", "all_through", "special", "alternative", "nursery"]
    return [
        dict(id=f"{prefix}student_leadership_participation", label="Pupils in a leadership role",
             description="Share of pupils who hold a leadership role: school council, prefects, sports leaders, "
                         "reading buddies, eco-team and the like.",
             perspective="curriculum", unit="%", format=".0f", polarity="higher_better", phases=every,
             rollup="pooled_ratio", scale=100, min_cohort=6, uncertainty="wilson"),
        dict(id=f"{prefix}cpd_hours_per_teacher", label="Training hours per teacher",
             description="Hours of professional development each teacher took part in during the year.",
             perspective="staff_leadership", unit="hours", format=".0f", polarity="higher_better", phases=every,
             rollup="weighted_mean", scale=1, min_cohort=1),
        dict(id=f"{prefix}support_hours_given", label="Support given to other schools (hours)",
             description="Hours of staff time the school gave to other schools in the partnership: peer review, "
                         "coaching, shared specialists.",
             perspective="partnership_community", unit="hours", format=",.0f", polarity="higher_better",
             phases=every, rollup="sum", scale=1, min_cohort=1),
        dict(id=f"{prefix}support_hours_received", label="Support received from other schools (hours)",
             description="Hours of staff time the school received from other schools in the partnership.",
             perspective="partnership_community", unit="hours", format=",.0f", polarity="context",
             phases=every, rollup="sum", scale=1, min_cohort=1),
        dict(id=f"{prefix}support_balance", label="Support balance (hours given minus received)",
             description="Hours of support the school gave to partner schools, minus the hours it received: "
                         "above zero, a net giver; below zero, a net taker.",
             perspective="partnership_community", unit="hours", format="+,.0f", polarity="context",
             phases=every, rollup="sum", scale=1, min_cohort=1,
             formula=f"{prefix}support_hours_given - {prefix}support_hours_received"),
        dict(id=f"{prefix}community_events", label="Community events",
             description="Events the school ran for families and the local community during the year.",
             perspective="partnership_community", unit="events", format=".0f", polarity="higher_better",
             phases=every, rollup="sum", scale=1, min_cohort=1),
    ]



def _add_local_measures(store: Store, w: _World, frames: dict[int, pd.DataFrame], partnership_ids: dict[str, int]
                        ) -> int:
    """Measures the flagship partnership and the largest trust chose for themselves, with values; student leadership
    by pupil group too (issue 13 point 5): disadvantaged and other pupils, boys and girls, each pair adding up to the
    school's leaders and pupils, small groups (a small school's few disadvantaged pupils) included."""
    s = w.s
    rng = np.random.default_rng([w.seed, 99])
    split = np.random.default_rng([w.seed, 99, 13])  # its own stream: the measures' other values stay as they were
    urn = s["urn"].to_numpy()
    phase = s["phase"].to_numpy()
    flagship = next(p for p in w.partnerships if p["flagship"])
    gid = partnership_ids[flagship["name"]]
    big = int(w.trusts.loc[w.trusts["kind"] == "mat", "size"].idxmax())
    found = groups_svc.find_group(store, w.trusts["group_id"].iloc[big])
    if found is None:
        raise RuntimeError(f"trust {w.trusts['name'].iloc[big]} is missing after the GIAS import")
    trust_gid = found.group_id
    slug = "".join(word[0] for word in w.trusts["name"].iloc[big].split() if word[0].isalpha()).lower()
    slug = slug if slug[:1].isalpha() else f"t{slug}"
    owners = [(gid, "", flagship["members"], [p for p in w.years if p >= 2021] or w.years[-1:]),
              (trust_gid, f"{slug}_", [int(i) for i in np.flatnonzero(s["trust"].to_numpy() == big)],
               w.years[-3:])]
    n_defs = 0
    for owner, prefix, members, years in owners:
        defs = _local_defs(prefix)
        if prefix:  # the trust keeps three of them
            defs = [d for d in defs if not d["id"].endswith(("support_hours_given", "support_hours_received",
                                                              "support_balance"))]
        for d in defs:
            local_measures.write_local_measure(store, owner, d, actor="demo")
        n_defs += len(defs)
        mem = np.array(members)
        lead_rate = np.clip(rng.normal(np.where(np.isin(phase[mem], (SEC, ALL)), 0.14, 0.09), 0.03), 0.01, 0.4)
        # how much less often disadvantaged pupils (and boys) lead than the school's others: varies by school
        dis_factor = np.clip(split.normal(0.75, 0.2, len(mem)), 0.2, 1.3)
        boys_factor = np.clip(split.normal(0.9, 0.1, len(mem)), 0.5, 1.2)
        cpd_base = rng.normal(32, 7, len(mem))
        events_base = np.where(np.isin(phase[mem], (SEC, ALL)), 10, 6)
        values: dict[str, list[dict]] = {d["id"]: [] for d in defs if not d.get("formula")}
        flows: list[tuple[int, int, float, int, str]] = []
        for k, y in enumerate(years):
            Y = frames[y]
            per = _period(y)
            live = Y["present"].to_numpy()[mem]
            nor = Y["nor"].to_numpy()[mem]
            tea = Y["tea_fte"].to_numpy()[mem]
            leaders = rng.binomial(nor, np.clip(lead_rate * (1 + 0.08 * k), 0, 0.6))
            by_group = _leaders_by_group(split, leaders, nor, Y["fsmever"].to_numpy()[mem], Y["norb"].to_numpy()[mem],
                                         dis_factor, boys_factor)
            cpd = np.clip(cpd_base + 2 * k + rng.normal(0, 3, len(mem)), 5, 80)
            events = rng.poisson(events_base + k)
            # Support flows between members: what one gives another receives, so the ledger balances.
            given = np.zeros(len(mem))
            received = np.zeros(len(mem))
            live_i = np.flatnonzero(live)
            for gi in live_i:
                takers = live_i[live_i != gi]
                if not len(takers):
                    continue
                for tj in rng.choice(takers, size=min(len(takers), int(rng.integers(1, 4))), replace=False):
                    hours = float(np.round(rng.gamma(2.0, 9.0 if phase[mem[gi]] in (SEC, ALL) else 5.0)))
                    given[gi] += hours
                    received[tj] += hours
                    if not prefix and hours > 0:  # the same flows, as the partnership's support ledger
                        flows.append((int(urn[mem[gi]]), int(urn[mem[tj]]), hours, y,
                                      SUPPORT_KINDS[int(rng.integers(len(SUPPORT_KINDS)))]))
            for j in live_i:
                u, p_ = int(urn[mem[j]]), per
                values[f"{prefix}student_leadership_participation"].append(
                    dict(urn=u, period=p_, value=100 * leaders[j] / nor[j], numerator=leaders[j], denominator=nor[j]))
                for group, (led, pupils) in by_group.items():
                    if pupils[j] > 0:  # a school with no pupils of the group has no value for it
                        values[f"{prefix}student_leadership_participation"].append(
                            dict(urn=u, period=p_, value=100 * led[j] / pupils[j], numerator=led[j],
                                 denominator=pupils[j], pupil_group=group))
                values[f"{prefix}cpd_hours_per_teacher"].append(
                    dict(urn=u, period=p_, value=round(cpd[j], 1), numerator=round(cpd[j] * tea[j], 1),
                         denominator=tea[j]))
                values[f"{prefix}community_events"].append(dict(urn=u, period=p_, value=float(events[j])))
                if not prefix:
                    values["support_hours_given"].append(dict(urn=u, period=p_, value=given[j]))
                    values["support_hours_received"].append(dict(urn=u, period=p_, value=received[j]))
        for mid, rows in values.items():
            local_measures.write_local_values(store, mid, pd.DataFrame(rows), actor="demo")
        _record_flows(store, owner, flows)
    return n_defs



SUPPORT_KINDS = ("peer_review", "cpd", "leadership", "staff", "curriculum")


def _leaders_by_group(rng: np.random.Generator, leaders: np.ndarray, nor: np.ndarray, disadvantaged: np.ndarray,
                      boys: np.ndarray, dis_factor: np.ndarray, boys_factor: np.ndarray
                      ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each school's leaders and pupils by pupil group, (leaders, pupils) per group id: each pair of groups splits
    the school's own counts, and no group has more leaders than pupils."""
    rate = np.divide(leaders, nor, out=np.zeros(len(nor)), where=nor > 0)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for first, second, pupils, factor in (("disadvantaged", "not_disadvantaged", disadvantaged, dis_factor),
                                          ("boys", "girls", boys, boys_factor)):
        rest = nor - pupils
        led = rng.binomial(pupils, np.clip(rate * factor, 0, 1))
        led = np.clip(led, np.maximum(leaders - rest, 0), np.minimum(leaders, pupils))  # the rest lead the others
        out[first] = (led, pupils)
        out[second] = (leaders - led, rest)
    return out



def _record_flows(store: Store, group_id: int, flows: list[tuple[int, int, float, int, str]]) -> None:
    """Write the demo's giver -> taker flows to the support ledger (through the same checks as the app)."""
    from data.services.access import Role, Viewer
    from data.services.support_log import record_support

    demo = Viewer(Role.ADMIN, None, "demo")
    for giver, taker, hours, year, kind in flows:
        problems = record_support(store, demo, group_id=group_id, giver=giver, taker=taker, kind=kind,
                                  start_date=f"{year}-10-01", end_date=f"{year + 1}-03-31", hours=hours)
        if problems:
            raise RuntimeError(f"demo support record refused: {problems}")
