"""The Impact page's server time, warm and cold, over a real websocket, and its engine alone in-process (issue 15).

    python bench/bench_impact.py                                   # the bench store's largest trust and the demo
    python bench/bench_impact.py --runs 15 --skip-bench            # the demo only
    python bench/bench_impact.py --db /tmp/demo/jointly.duckdb --bench-db /tmp/bench/bench.duckdb

Stores: the national bench store's largest trust (60 schools; found as bench/bench_engine.py finds it) on a copy
switched to the demo's "viewing as" (bench_browser.demo_copy: the bench store itself is never written), and the demo
store's planted trusts (Flintdale helps, Quillmere is neutral, Mosshaven harms) on a copy of it. Two measures: KS2
expected standard (the screenshots' measure) and Attainment 8 (the page's first measure).

Engine: data.services.impact.group_impact in this process, cold (after schools.forget_kept(store): the national
panel, the first joins and the families read again) and warm (kept), alternating.

Page: serve.py on the store and the empty app (bench_pages.EMPTY_APP) as the floor, with the same flags. One tab
(bench/load_client.py) opens the Impact page as the leader of the trust with the measure in the address; "cold" is
that first open on a fresh server and the first change to the other measure (what a first visitor after an import
waits for); then, warm, it changes the measure back and forth (each value seen in two warm-up rounds not counted)
and reruns with nothing changed; after each timed run the empty app reruns once, so the floor is measured under the
same noise. Server time is from sending the rerun to its script_finished. JSON to bench/out/impact.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_browser import demo_copy  # noqa: E402
from bench_load import _cpu_seconds, _others, start_app, stop, wait_healthy  # noqa: E402
from bench_pages import Sample, pct, row, start_floor  # noqa: E402
from load_client import AppSession  # noqa: E402

OUT = ROOT / "bench" / "out" / "impact.json"
APP_PORT, FLOOR_PORT = 8745, 8746  # bench_pages.py's range (8740-8749), not its ports
MEASURES = ("ks2_rwm_expected", "attainment8")
DEMO_GROUPS = ("Flintdale Schools Trust", "Quillmere Academy Trust", "Mosshaven Schools Trust")
WARM_ROUNDS = 2
PAGE = "impact"


def largest_trust(db: Path) -> tuple[int, str, int]:
    """(id, name, members) of the store's trust with the most memberships, as bench_engine.py finds it."""
    from data.db.store import Store

    with Store(db, read_only=True) as store:
        gid, name, n = store.query("SELECT g.group_id, g.name, count(*) n FROM groups g JOIN memberships m "
                                   "USING (group_id) WHERE g.kind = 'trust' GROUP BY ALL ORDER BY n DESC LIMIT 1")[0]
    return int(gid), str(name), int(n)


def engine(db: Path, groups: list[str], runs: int) -> dict:
    """group_impact cold (forget_kept first) and warm, alternating, per group and measure: ms median, p95."""
    from bench_engine import alternate

    from data.db.store import Store
    from data.services import schools
    from data.services.impact import group_impact

    out: dict = {}
    with Store(db, read_only=True) as store:
        for g in groups:
            for m in MEASURES:
                def cold(g: str = g, m: str = m) -> object:
                    schools.forget_kept(store)
                    return group_impact(store, g, m)

                def warm(g: str = g, m: str = m) -> object:
                    return group_impact(store, g, m)
                found = group_impact(store, g, m)
                got = alternate({"cold": cold, "warm": warm}, runs)
                got["schools"] = len(found.schools)
                got["words"] = found.words
                out[f"{g} / {m}"] = got
                print(f"engine {g} / {m}: {json.dumps(got)}", flush=True)
    return out


async def page(url: str, floor_url: str, group: str, labels: dict[str, str], runs: int, app_pid: int) -> dict:
    """Cold open and first measure change, then warm measure changes and reruns, each timed run followed by an
    empty-app rerun."""
    tab, floor = AppSession(url, timeout=300), AppSession(floor_url, timeout=60)
    first, other = MEASURES
    samples = {"warm: change measure": Sample([], []), "warm: rerun, nothing changed": Sample([], [])}
    empty = Sample([], [])
    try:
        if (await floor.open()).outcome != "ok":
            raise SystemExit("the empty app did not open")
        query = urlencode({"viewing_as": "Leader", "viewing_group": group, "impact_measure": labels[first]})
        opened = await tab.open(query, page=PAGE)
        if opened.outcome != "ok":
            raise SystemExit(f"{group}: the Impact page did not open: {opened.outcome} {opened.detail}")
        if tab.widget("impact_measure") is None or tab.widget("impact_measure").value != labels[first]:
            raise SystemExit(f"{group}: the page did not open on {labels[first]!r}")
        changed = await tab.change("impact_measure", labels[other])
        if changed.outcome != "ok":
            raise SystemExit(f"{group}: changing the measure failed: {changed.outcome} {changed.detail}")
        cold = {"cold: open (fresh server)": round(opened.seconds * 1000, 1),
                "cold: first change of measure": round(changed.seconds * 1000, 1)}
        for rnd in range(runs + WARM_ROUNDS):
            for name in samples:
                cpu0 = _cpu_seconds([app_pid])
                if name.endswith("measure"):
                    result = await tab.change("impact_measure", labels[MEASURES[rnd % 2]])
                else:
                    result = await tab.rerun()
                cpu = _cpu_seconds([app_pid]) - cpu0
                if result.outcome != "ok":
                    raise SystemExit(f"{group}, {name}: {result.outcome} {result.detail}")
                base = await floor.rerun()
                if rnd < WARM_ROUNDS:
                    continue
                samples[name].seconds.append(result.seconds)
                samples[name].received.append(result.received)
                samples[name].cpu += cpu
                empty.seconds.append(base.seconds)
                empty.received.append(base.received)
    finally:
        await tab.close()
        await floor.close()
    floor_ms = statistics.median(empty.seconds) * 1000
    return {**cold, **{k: row(s, floor_ms) for k, s in samples.items()},
            "floor": {"n": len(empty.seconds), "median_ms": round(floor_ms, 1),
                      "p95_ms": round(pct(empty.seconds, 0.95) * 1000, 1)}}


def pages(db: Path, groups: list[str], runs: int, folder: Path) -> dict:
    """Each group on a fresh server (so its first open is cold), with the floor beside it."""
    from metrics.registry import load_registry

    registry = load_registry()
    labels = {m: registry.get(m).label for m in MEASURES}
    out = {}
    for g in groups:
        procs = [start_app(APP_PORT, db, folder), start_floor(FLOOR_PORT, folder)]
        try:
            wait_healthy(f"http://127.0.0.1:{APP_PORT}", None)
            wait_healthy(f"http://127.0.0.1:{FLOOR_PORT}", None)
            out[g] = asyncio.run(page(f"http://127.0.0.1:{APP_PORT}", f"http://127.0.0.1:{FLOOR_PORT}", g, labels,
                                      runs, procs[0].pid))
        except SystemExit:
            for log in folder.glob("app-*.log"):
                print(log.name, log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop(procs)
        print(f"page {g}: {json.dumps(out[g])}", flush=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, default=Path("/tmp/demo/jointly.duckdb"))
    p.add_argument("--bench-db", type=Path, default=Path("/tmp/bench/bench.duckdb"))
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--skip-bench", action="store_true")
    p.add_argument("--skip-demo", action="store_true")
    p.add_argument("--copies", type=Path, default=ROOT / "bench" / "out" / "copies",
                   help="where the demo-mode copies of the stores are made (and kept)")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    t0 = time.perf_counter()
    results: dict = {"meta": {"when": datetime.now(UTC).isoformat(timespec="seconds"), "runs": args.runs,
                              "cores": os.cpu_count(), "measures": list(MEASURES)}}
    with tempfile.TemporaryDirectory(prefix="bench_impact_") as tmp:
        folder = Path(tmp)
        if not args.skip_bench:
            gid, name, n = largest_trust(args.bench_db)
            copy = demo_copy(args.bench_db, args.copies)
            results["bench"] = {"db": str(args.bench_db), "copy": str(copy), "trust": name, "trust_id": gid,
                                "members": n, "engine": engine(args.bench_db, [name], args.runs),
                                "page": pages(copy, [name], args.runs, folder)}
        if not args.skip_demo:
            copy = demo_copy(args.db, args.copies)
            results["demo"] = {"db": str(args.db), "copy": str(copy),
                               "engine": engine(copy, list(DEMO_GROUPS), args.runs),
                               "page": pages(copy, list(DEMO_GROUPS), args.runs, folder)}
    results["meta"]["wall_s"] = round(time.perf_counter() - t0, 1)
    results["meta"]["others_running"] = _others()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print("| store | group | what | median ms | p95 ms | floor median ms |")
    print("|---|---|---|---:|---:|---:|")
    for store in ("bench", "demo"):
        if store not in results:
            continue
        for key, e in results[store]["engine"].items():
            for k in ("cold", "warm"):
                print(f"| {store} | {key} | engine {k} | {e[k]['median']} | {e[k]['p95']} | |")
        for g, r in results[store]["page"].items():
            fl = r["floor"]["median_ms"]
            for k in ("cold: open (fresh server)", "cold: first change of measure"):
                print(f"| {store} | {g} | page {k} | {r[k]} | | |")
            for k in ("warm: change measure", "warm: rerun, nothing changed"):
                print(f"| {store} | {g} | page {k} | {r[k]['median_ms']} | {r[k]['p95_ms']} | {fl} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
