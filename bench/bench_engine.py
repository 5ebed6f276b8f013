"""The engine against what its users would otherwise build: the usual Streamlit dashboard that loads every observation
into pandas once and, per request, slices a group's members and pools each measure and period (issue 14 point 1).

    python bench/bench_engine.py [--db bench/out/bench.duckdb] [--runs 30] [--old DIR]

The peer loads all school observations, the national benchmarks, the schools, the memberships and the schools'
earlier URNs into pandas at start-up (timed apart, with its memory). Per request it finds the group's members each
year (membership dates; special schools and alternative provision set aside as Jointly does), slices their rows,
stands an earlier URN's rows in for a year a school has none, and pools per measure and period the way
docs/method.md says: sum(numerator) / sum(denominator) for rates and cohort-weighted means, the sum for counts, and
without cohorts a mean weighted by pupils on roll (else a plain one). Before any timing it checks that its value of
every measure in every period of the window equals Jointly's card (trend included) for every request it is timed on,
and says how many it checked. Then, in one process, alternating request by request: Jointly's card (its rows kept in
memory, the usual case; and cold, the first request after a write), the peer's; for the 500-school group, the
largest trust (DfE method too) and one school. `--old DIR` also times the code of another checkout (e.g. `git archive
f244fb5`) on the same requests, in a process of its own right after. Medians, p95 and ratios are printed and written
to bench/out/engine.json.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from timing import bench_store_args  # noqa: E402

from data.db.store import Store  # noqa: E402
from data.services import groups, schools  # noqa: E402
from data.services.scorecards import scorecard, window  # noqa: E402
from metrics.comparators import OWN_KIND  # noqa: E402
from metrics.periods import period_bounds  # noqa: E402
from metrics.registry import Rollup, load_registry  # noqa: E402
from metrics.scorecard import Scorecard  # noqa: E402

OUT = Path(__file__).with_name("out")


class Peer:
    """The usual dashboard: everything in pandas once, each request sliced and pooled. Made as fast as such a
    dashboard reasonably is: observations sorted by school with each school's row range known (a sliced index),
    text as categories, dates as numbers."""

    def __init__(self, store: Store) -> None:
        with store.reading() as cur:
            obs = cur.sql(
                "SELECT urn, measure, period, value, numerator, denominator, status FROM observations "
                "WHERE level = 'school' ORDER BY urn").to_arrow_table().to_pandas()
            self.national = cur.sql("SELECT measure, period, scope, value FROM observations "
                                    "WHERE level = 'national'").to_arrow_table().to_pandas()
            self.schools = cur.sql("SELECT urn, phase FROM establishments").to_arrow_table().to_pandas()
            self.members = cur.sql(
                "SELECT group_id, urn, coalesce(start_date, DATE '0001-01-01') AS start_date, "
                "coalesce(end_date, DATE '9999-12-31') AS end_date, start_date IS NOT NULL OR end_date IS NOT NULL "
                "AS dated FROM memberships").to_arrow_table().to_pandas()
            self.lineage = cur.sql("SELECT l.urn, l.ancestor_urn, l.depth, l.until_period FROM school_lineage l "
                                   "JOIN establishments e ON e.urn = l.ancestor_urn").to_arrow_table().to_pandas()
        for c in ("measure", "period", "status"):
            obs[c] = obs[c].astype("category")  # what a careful dashboard does with 3 million rows
        self.obs = obs
        urn = obs["urn"].to_numpy()
        self.urns, self.first = np.unique(urn, return_index=True)
        self.last = np.append(self.first[1:], len(urn))
        self.phase = dict(zip(self.schools["urn"], self.schools["phase"], strict=True))
        self.registry = {m.id: m for m in load_registry().measures}

    def _in(self, group_id: int, period: str) -> list[int]:
        """The group's members whose membership overlaps the year (NULL dates open)."""
        start, end = period_bounds(period)
        m = self.members[self.members["group_id"] == group_id]
        on = (m["start_date"].astype(str) <= end) & (m["end_date"].astype(str) >= start)
        return sorted(set(m.loc[on, "urn"].astype(int)))

    def _rows(self, urns: list[int]) -> pd.DataFrame:
        """These schools' rows, by their row ranges."""
        at = np.searchsorted(self.urns, urns)
        at = at[(at < len(self.urns)) & (self.urns[np.minimum(at, len(self.urns) - 1)] == urns)]
        lo, hi = self.first[at], self.last[at]
        pos = np.repeat(lo - np.cumsum(np.r_[0, (hi - lo)[:-1]]), hi - lo) + np.arange(int((hi - lo).sum()))
        return self.obs.iloc[pos]

    def card(self, group_id: int, periods: list[str], measures: list[str]) -> pd.DataFrame:
        """The group's pooled value of each measure in each period: columns measure, period, value."""
        today = self._in(group_id, periods[-1])
        own = [u for u in today if self.phase.get(u) in OWN_KIND]
        pooled = today if len(own) == len(today) else [u for u in today if self.phase.get(u) not in OWN_KIND]
        dated = bool(self.members.loc[self.members["group_id"] == group_id, "dated"].any())
        keep = set(pooled)
        by_year = ({p: [u for u in self._in(group_id, p) if u in keep or self.phase.get(u) not in OWN_KIND]
                    for p in periods} if dated else {p: pooled for p in periods})
        everyone = sorted({u for us in by_year.values() for u in us})
        line = self.lineage[self.lineage["urn"].isin(everyone) & ~self.lineage["ancestor_urn"].isin(everyone)]
        line = line.sort_values("depth").drop_duplicates("ancestor_urn")
        rows = self._rows(sorted({*everyone, *line["ancestor_urn"].tolist()}))
        rows = rows[rows["period"].isin(periods) & rows["measure"].isin([*measures, "pupils"])]
        if len(line):  # an earlier URN's rows stand in for a year the school has none, up to the last year it ran
            old = rows.merge(line, left_on="urn", right_on="ancestor_urn", suffixes=("_was", ""))
            old = old[old["until_period"].isna() | (old["period"].astype(str) <= old["until_period"])]
            old = old.sort_values("depth").drop(columns=["urn_was", "ancestor_urn", "depth", "until_period"])
            rows = pd.concat([rows[rows["urn"].isin(everyone)], old]).drop_duplicates(
                ["urn", "measure", "period"], keep="first")
        if dated:  # each year's rows are of that year's members
            then = pd.DataFrame([(u, p) for p, us in by_year.items() for u in us], columns=["urn", "period"])
            rows = rows.merge(then.astype({"period": rows["period"].dtype}), on=["urn", "period"])
        ok = rows["status"].eq("ok").to_numpy() & rows["value"].notna().to_numpy()
        pupils = rows[ok & rows["measure"].eq("pupils").to_numpy()].set_index(["urn", "period"])["value"]
        rows = rows.join(pupils.rename("w"), on=["urn", "period"])
        good = rows[ok & rows["measure"].isin(measures).to_numpy()]
        parts = good["numerator"].notna() & (good["denominator"].fillna(0) > 0)
        g = good.assign(parts=parts, num=good["numerator"].where(parts, 0.0), den=good["denominator"].where(parts, 0.0),
                        has_w=good["w"].notna(), wv=(good["value"] * good["w"]).fillna(0.0),
                        w0=good["w"].fillna(0.0)).groupby(["measure", "period"], observed=True)
        s = g.agg(n=("value", "size"), n_parts=("parts", "sum"), num=("num", "sum"), den=("den", "sum"),
                  total=("value", "sum"), n_w=("has_w", "sum"), wv=("wv", "sum"), w=("w0", "sum")).reset_index()
        s["measure"] = s["measure"].astype(str)
        s["period"] = s["period"].astype(str)
        scale = s["measure"].map(lambda m: self.registry[m].scale)
        summed = s["measure"].map(lambda m: self.registry[m].rollup is Rollup.SUM)
        s["value"] = np.where(summed, s["total"],
                              np.where((s["n_parts"] == s["n"]) & (s["den"] > 0), s["num"] / s["den"] * scale,
                                       np.where((s["n_w"] == s["n"]) & (s["w"] > 0), s["wv"] / s["w"],
                                                s["total"] / s["n"])))
        return s[["measure", "period", "value"]]


def agree(peer: pd.DataFrame, card: Scorecard) -> int:
    """Assert the peer's value of every measure and period equals the card's (trend); the number checked."""
    got = {(m, p): v for m, p, v in zip(peer["measure"], peer["period"], peer["value"], strict=True)}
    checked = 0
    for r in card.rows:
        if r.rollup_method and r.rollup_method.startswith("formula"):
            continue  # a local formula: no peer would have it
        for t in r.trend:
            theirs = got.get((r.measure, t.period))
            if t.value is None:
                assert theirs is None or not math.isfinite(theirs), (r.measure, t.period, theirs)
            else:
                assert theirs is not None and math.isclose(theirs, t.value, rel_tol=1e-9, abs_tol=1e-9), (
                    r.measure, t.period, t.value, theirs)
            checked += 1
    return checked


def stats(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"median": round(statistics.median(times), 2), "p95": round(times[int(0.95 * (len(times) - 1))], 2)}


def alternate(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, dict[str, float]]:
    """Each function once per round, in turn, `runs` rounds after one round not counted: milliseconds of the wall
    clock, and of this thread's CPU (`cpu_median`: steadier when other work shares the machine)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            fn()
            times[k].append((time.perf_counter() - t0) * 1000)
            cpu[k].append((time.thread_time() - c0) * 1000)
    return {k: {**stats(v), "cpu_median": round(statistics.median(cpu[k]), 2)} for k, v in times.items()}


def old_times(root: Path, db: Path, requests: dict[str, dict], runs: int) -> dict[str, dict[str, float]]:
    """The same requests timed by another checkout's engine, in a process of its own."""
    code = (
        "import json, statistics, sys, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from data.db.store import Store\nfrom data.services.scorecards import scorecard\n"
        f"store = Store({str(db)!r}, read_only=True)\nout = {{}}\n"
        f"for name, kw in json.loads({json.dumps(json.dumps(requests))}).items():\n"
        "    scorecard(store, **kw)\n    ts = []\n"
        f"    for _ in range({runs}):\n"
        "        t = time.perf_counter(); scorecard(store, **kw); ts.append((time.perf_counter() - t) * 1000)\n"
        "    ts.sort(); out[name] = {'median': round(statistics.median(ts), 2),"
        " 'p95': round(ts[int(0.95 * (len(ts) - 1))], 2)}\n"
        "print(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    old = None
    if "--old" in sys.argv:  # ours; bench_store_args reads the rest
        at = sys.argv.index("--old")
        old = Path(sys.argv[at + 1])
        del sys.argv[at:at + 2]
    args = bench_store_args()
    if args is None:
        return 1
    store = Store(args.db, read_only=True)
    period = schools.periods(store)[-1]
    periods = window(store, period)
    big = groups.find_group(store, "Benchmark 500-school partnership")
    trust = store.query("SELECT g.group_id, count(*) n FROM groups g JOIN memberships m USING (group_id) "
                        "WHERE g.kind = 'trust' GROUP BY ALL ORDER BY n DESC LIMIT 1")[0]
    members = groups.group_members(store, big.group_id, period)
    school = store.query("SELECT urn FROM establishments WHERE phase = 'secondary' AND urn IN "
                         "(SELECT unnest(?::INTEGER[])) ORDER BY urn LIMIT 1", [members])[0][0]

    tracemalloc.start()
    t0 = time.perf_counter()
    peer = Peer(store)
    startup_s = time.perf_counter() - t0
    peer_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"peer start-up: {startup_s:.2f} s, {len(peer.obs):,} observations, peak {peer_mib:.0f} MiB traced")

    requests = {"group500": {"group": str(big.group_id), "period": period},
                f"trust{trust[1]}": {"group": str(trust[0]), "period": period},
                f"trust{trust[1]}_dfe_method": {"group": str(trust[0]), "period": period, "method": "dfe_trust"},
                "school": {"school": int(school), "period": period}}
    cards = {k: scorecard(store, **kw) for k, kw in requests.items()}
    ids = {k: [r.measure for r in c.rows] for k, c in cards.items()}
    checked = {k: agree(peer.card(int(requests[k]["group"]), periods, ids[k]), cards[k])
               for k in ("group500", f"trust{trust[1]}")}
    print(f"peer = Jointly on every measure and period: {checked} values checked")

    gid, tid = int(big.group_id), int(trust[0])

    def cold(kw: dict) -> Callable[[], object]:
        def run() -> object:
            schools.forget_kept(store)
            return scorecard(store, **kw)
        return run

    results: dict[str, object] = {
        "store": str(args.db), "period": period, "window": periods, "group_members": len(members),
        "group_measures": len(cards["group500"].rows), "trust_members": int(trust[1]),
        "peer_startup_s": round(startup_s, 2), "peer_startup_peak_mib": round(peer_mib), "values_checked": checked,
        "runs": args.runs,
    }
    rounds = {
        "group500": {"jointly": lambda: scorecard(store, **requests["group500"]),
                     "jointly_cold": cold(requests["group500"]),
                     "peer": lambda: peer.card(gid, periods, ids["group500"])},
        "trust": {"jointly": lambda: scorecard(store, **requests[f"trust{trust[1]}"]),
                  "jointly_dfe_method": lambda: scorecard(store, **requests[f"trust{trust[1]}_dfe_method"]),
                  "jointly_cold": cold(requests[f"trust{trust[1]}"]),
                  "peer": lambda: peer.card(tid, periods, ids[f"trust{trust[1]}"])},
        "school": {"jointly": lambda: scorecard(store, **requests["school"]),
                   "jointly_cold": cold(requests["school"])},
    }
    for name, fns in rounds.items():
        got = alternate(fns, args.runs)
        if "peer" in got:
            got["ratio_peer_to_jointly"] = round(got["peer"]["median"] / got["jointly"]["median"], 2)
            got["cpu_ratio_peer_to_jointly"] = round(got["peer"]["cpu_median"] / got["jointly"]["cpu_median"], 2)
        results[name] = got
        print(name, json.dumps(got))
    results["kept_mib"] = round(schools.kept_bytes(store) / 2**20, 1)
    if old is not None:
        results["old"] = {"root": str(old), **old_times(old, args.db, requests, args.runs)}
        for name, key in (("group500", "group500"), ("trust", f"trust{trust[1]}"), ("school", "school")):
            results["old"][f"{name}_ratio_old_to_jointly"] = round(
                results["old"][key]["median"] / results[name]["jointly"]["median"], 2)
        print("old", json.dumps(results["old"]))
    OUT.mkdir(exist_ok=True)
    (OUT / "engine.json").write_text(json.dumps(results, indent=2))
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
