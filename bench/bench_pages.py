"""Server time of every warm interaction of every page, over a real websocket, against an empty app's rerun (issue 14).

    python bench/bench_pages.py                                   # the demo store, 15 runs of each interaction
    python bench/bench_pages.py --db /tmp/demo/jointly.duckdb --runs 30
    python bench/bench_pages.py --only overview --only school      # some pages only

Two servers start side by side with the same flags and .streamlit/config.toml: `serve.py` on the store
($JOINTLY_DB=--db, its state store beside it) and an empty Streamlit app (one line) as the floor. One tab
(bench/load_client.py) is the leader of the demo's default group and does what a browser does on each page: it
changes a widget by sending every widget's state with the new value (a query string alone does not change a widget
the session already has), and opens a page from the navigation. Each interaction takes two values in turn (two
years, two groups, two schools, ...), so two rounds of every interaction warm the caches and are not counted; then
each round does every interaction once more, and after each one reruns the empty app once, so the floor is measured
under the same noise. Server time is from sending the rerun to its script_finished; bytes are what the server sent
for the run; server CPU is the app process's user+system time over the runs of an interaction, per run (/proc,
10 ms ticks).

Prints per interaction the median, p95, bytes and the ratio of the median to the floor's median; JSON to
bench/out/pages.json. With --before DIR (another checkout, e.g. `git archive <commit> | tar -x -C DIR`), its
serve.py runs beside this one on a copy of the store and every interaction is done on both in turn: before and
after measured in the same run, against the same floor. The floor and the code before are served as serve.py now
serves (TCP_NODELAY on every connection, bench/nodelay_run.py), so the comparison is of the pages' own work;
--plain starts them with Streamlit's own `streamlit run` instead (every rerun ~40 ms longer, waiting for the
client's delayed acknowledgement).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import _cpu_seconds, _others, start_app, stop, wait_healthy  # noqa: E402
from load_client import AppSession, RunResult  # noqa: E402

OUT = ROOT / "bench" / "out" / "pages.json"
APP_PORT, FLOOR_PORT, BEFORE_PORT = 8740, 8741, 8742  # this bench's ports (8740-8749)
EMPTY_APP = 'import streamlit as st; st.write("")\n'  # the floor: a rerun that draws one element
WARM_ROUNDS = 2  # each interaction alternates between two values: both are seen before any run counts
PAGES = ("overview", "school", "similar", "support", "measures", "reports", "parents")
# url paths of the navigation (ui/router.py's PageSpecs)
PATHS = {"overview": "", "school": "school_scorecard", "similar": "similar_schools", "support": "support",
         "measures": "measures", "reports": "reports", "parents": "published_results"}


@dataclass
class Sample:
    """One interaction's runs: seconds and bytes of each, and the app's CPU seconds over all of them."""

    seconds: list[float]
    received: list[int]
    cpu: float = 0.0


Step = Callable[[AppSession, int], Awaitable[RunResult]]


def _two(session: AppSession, key: str, i: int) -> object:
    """The i-th of two values of the widget `key` in turn: its first two options other than none."""
    w = session.widget(key)
    if w is None:
        raise LookupError(f"the page has no widget with key {key!r}")
    options = [o for o in w.options if o] or list(w.options)
    return options[i % min(2, len(options))]


def change(key: str) -> Step:
    """Choose another option of a selectbox, two in turn."""
    return lambda s, i: s.change(key, _two(s, key, i))


def change_group() -> Step:
    """Another group, two in turn: the one the tab opened on and the first other. The page's own chooser when the
    leader has more than one, else the demo's "viewing as" (a leader sees their own group)."""
    first: dict[str, object] = {}

    def step(s: AppSession, i: int) -> Awaitable[RunResult]:
        g = s.widget("group")
        key = "group" if g is not None and len(g.options) > 1 else "viewing_group"
        w = s.widget(key)
        if w is None:
            raise LookupError(f"the page has no widget with key {key!r}")
        opened = first.setdefault(key, w.value)
        other = next(o for o in w.options if o != opened)
        return s.change(key, opened if i % 2 else other)
    return step


async def grid_measures(s: AppSession, i: int) -> RunResult:
    """Untick the grid's last measure (timed), then tick it again (not timed), as a person tries a choice: the
    interactions after it see the default grid."""
    w = s.widget("grid_measures")
    if w is None:
        raise LookupError("the page has no widget with key 'grid_measures'")
    default = list(w.default)
    result = await s.change("grid_measures", default[:-1])
    back = await s.change("grid_measures", default)
    return result if back.outcome == "ok" else back


def family_size(s: AppSession, i: int) -> Awaitable[RunResult]:
    return s.change("family_size", 20 + i % 2)


def go(path: str) -> Step:
    return lambda s, i: s.go(path)


def interactions() -> list[tuple[str, str, Step]]:
    """(page, interaction, step) in the order a tab does them: each page is opened from the one before."""
    return [
        ("overview", "overview: open", go("")),
        ("overview", "overview: rerun, nothing changed", lambda s, i: s.rerun()),
        ("overview", "overview: change year", change("period")),
        ("overview", "overview: change group", change_group()),
        ("overview", "overview: colour the map by", change("measure")),
        ("overview", "overview: grid measures", grid_measures),
        ("school", "school scorecard: open", go(PATHS["school"])),
        ("school", "school scorecard: change school", change("school")),
        ("similar", "similar schools: open", go(PATHS["similar"])),
        ("similar", "similar schools: change measure", change("measure")),
        ("similar", "similar schools: family size", family_size),
        ("support", "support: open", go(PATHS["support"])),
        ("measures", "measures: open", go(PATHS["measures"])),
        ("reports", "reports: open", go(PATHS["reports"])),
        ("parents", "parents' page: open", go(PATHS["parents"])),
    ]


def streamlit_run(*, plain: bool) -> list[str]:
    """How the floor and the code before are started: through bench/nodelay_run.py, so their connections send at
    once as serve.py's now do (ui.server.tcp_nodelay); `plain`: Streamlit's own `streamlit run`, whose every rerun
    waits ~40 ms for the client's delayed acknowledgement."""
    if plain:
        return [sys.executable, "-m", "streamlit", "run"]
    return [sys.executable, str(ROOT / "bench" / "nodelay_run.py")]


def start_floor(port: int, folder: Path, *, plain: bool = False) -> subprocess.Popen:
    """The empty app, with the same flags as bench_load.start_app and run from the repository (its config.toml)."""
    script = folder / f"empty_app_{port}.py"
    script.write_text(EMPTY_APP)
    log = (folder / f"floor-{port}.log").open("wb")
    return subprocess.Popen(
        [*streamlit_run(plain=plain), str(script), "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)


async def measure(apps: dict[str, tuple[str, int]], floor_url: str, pages: set[str], runs: int, timeout: float,
                  ) -> tuple[dict[str, dict[str, Sample]], Sample, dict]:
    """Every chosen interaction `runs` times after the warm-up rounds, on each app in turn (`apps`: label -> url,
    server pid), each followed by one empty rerun."""
    tabs = {label: AppSession(url, timeout=timeout) for label, (url, _pid) in apps.items()}
    floor = AppSession(floor_url, timeout=timeout)
    try:
        first = {}
        for label, tab in tabs.items():
            opened = await tab.open(urlencode({"viewing_as": "Leader"}))
            if opened.outcome != "ok":
                raise SystemExit(f"{label}: the app did not open: {opened.outcome} {opened.detail}")
            first[label] = {"open_ms": round(opened.seconds * 1000, 1), "open_bytes": opened.received}
        if (await floor.open()).outcome != "ok":
            raise SystemExit("the empty app did not open")
        plan = [(page, name, step) for page, name, step in interactions() if page in pages]
        samples = {label: {name: Sample([], []) for _, name, _ in plan} for label in tabs}
        empty = Sample([], [])
        steps = {label: [(page, name, step) for page, name, step in interactions() if page in pages]
                 for label in tabs}  # each tab its own steps: a step may remember what its tab opened on
        for rnd in range(runs + WARM_ROUNDS):
            on = dict.fromkeys(tabs)
            for k in range(len(plan)):
                for label, tab in tabs.items():
                    page, name, step = steps[label][k]
                    if page != on[label] and not name.endswith(": open"):  # --only: open the page first
                        await tab.go(PATHS[page])
                    on[label] = page
                    pid = apps[label][1]
                    cpu0 = _cpu_seconds([pid])
                    result = await step(tab, rnd)
                    cpu = _cpu_seconds([pid]) - cpu0  # the grid's step includes its untimed put-back
                    if result.outcome != "ok":
                        raise SystemExit(f"{label}, {name}: {result.outcome} {result.detail}")
                    base = await floor.rerun()
                    if rnd < WARM_ROUNDS:
                        continue  # the warm-up: every value each interaction takes in turn, seen once
                    samples[label][name].seconds.append(result.seconds)
                    samples[label][name].received.append(result.received)
                    samples[label][name].cpu += cpu
                    empty.seconds.append(base.seconds)
                    empty.received.append(base.received)
        return samples, empty, first
    finally:
        for tab in tabs.values():
            await tab.close()
        await floor.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(sample: Sample, floor_median: float) -> dict:
    median = statistics.median(sample.seconds) * 1000
    return {"n": len(sample.seconds), "median_ms": round(median, 1),
            "p95_ms": round(pct(sample.seconds, 0.95) * 1000, 1),
            "bytes": int(statistics.median(sample.received)),
            "cpu_ms_per_run": round(1000 * sample.cpu / len(sample.seconds), 1) if sample.seconds else None,
            "ratio_to_floor": round(median / floor_median, 1) if floor_median else None}


def start_before(port: int, root: Path, db: Path, folder: Path, *, plain: bool = False) -> subprocess.Popen:
    """serve.py of another checkout (the code before a change), with the same flags, from its own folder."""
    log = (folder / f"app-{port}.log").open("wb")
    return subprocess.Popen(
        [*streamlit_run(plain=plain), str(root / "serve.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=root, env={**os.environ, "JOINTLY_DB": str(db)}, stdout=log, stderr=subprocess.STDOUT)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, default=Path(os.environ.get("JOINTLY_DB", "/tmp/demo/jointly.duckdb")))
    p.add_argument("--runs", type=int, default=15, help="counted runs of each interaction (after the warm-up)")
    p.add_argument("--only", action="append", choices=PAGES, help="this page's interactions only (repeatable)")
    p.add_argument("--before", type=Path, help="also drive serve.py of this checkout (the code before), in turn "
                                               "with this one, on a copy of the store")
    p.add_argument("--plain", action="store_true", help="start the floor and the code before with plain `streamlit "
                                                       "run` (no TCP_NODELAY: each rerun ~40 ms longer)")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if not args.db.exists():
        print(f"No store at {args.db}: build the demo first (python -m data demo)", file=sys.stderr)
        return 2
    pages = set(args.only or PAGES)
    with tempfile.TemporaryDirectory(prefix="bench_pages_") as tmp:
        folder = Path(tmp)
        procs = [start_app(APP_PORT, args.db, folder), start_floor(FLOOR_PORT, folder, plain=args.plain)]
        apps = {"now": (f"http://127.0.0.1:{APP_PORT}", procs[0].pid)}
        if args.before is not None:  # its own copy: two processes may share a store, but not its state's mirror
            copy = folder / "before" / args.db.name
            copy.parent.mkdir()
            for f in args.db.parent.glob(args.db.stem + ".*"):  # the results and the state beside them
                if f.is_file() and not f.name.endswith(".lock"):
                    shutil.copy2(f, copy.parent / f.name)
            procs.append(start_before(BEFORE_PORT, args.before.resolve(), copy, folder, plain=args.plain))
            apps = {"before": (f"http://127.0.0.1:{BEFORE_PORT}", procs[-1].pid), **apps}
        try:
            for url, _pid in apps.values():
                wait_healthy(url, None)
            floor_url = f"http://127.0.0.1:{FLOOR_PORT}"
            wait_healthy(floor_url, None)
            t0 = time.perf_counter()
            samples, empty, first = asyncio.run(measure(apps, floor_url, pages, args.runs, args.timeout))
            wall = time.perf_counter() - t0
            others = _others()
        except SystemExit:  # a page failed: what the servers logged says why
            stop(procs)
            for log in folder.glob("app-*.log"):
                print(log.name, log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop(procs)
    floor_ms = statistics.median(empty.seconds) * 1000
    rows = {label: {name: row(s, floor_ms) for name, s in by_name.items()} for label, by_name in samples.items()}
    floor = {"n": len(empty.seconds), "median_ms": round(floor_ms, 1),
             "p95_ms": round(pct(empty.seconds, 0.95) * 1000, 1), "bytes": int(statistics.median(empty.received))}
    meta = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "db": str(args.db), "runs": args.runs,
            "before": str(args.before) if args.before else None, "plain_streamlit_run": args.plain,
            "wall_s": round(wall, 1), "cores": os.cpu_count(),
            "others_running": others, "first_open": first}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "floor": floor, "interactions": rows["now"],
                                    **({"before": rows["before"]} if "before" in rows else {})}, indent=1) + "\n")
    print(f"floor (empty app rerun): median {floor['median_ms']} ms, p95 {floor['p95_ms']} ms, "
          f"{floor['bytes']} bytes, n={floor['n']}; first open: "
          + "; ".join(f"{k} {v['open_ms']} ms, {v['open_bytes']:,} bytes" for k, v in first.items()))
    if "before" in rows:
        print("| interaction | before median / p95 ms | after median / p95 ms | bytes before / after | "
              "server CPU ms/run before / after | × floor before / after |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r in rows["now"].items():
            b = rows["before"][name]
            print(f"| {name} | {b['median_ms']} / {b['p95_ms']} | {r['median_ms']} / {r['p95_ms']} | "
                  f"{b['bytes']:,} / {r['bytes']:,} | {b['cpu_ms_per_run']} / {r['cpu_ms_per_run']} | "
                  f"{b['ratio_to_floor']} / {r['ratio_to_floor']} |")
        return 0
    print("| interaction | median ms | p95 ms | bytes | server CPU ms/run | × floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows["now"].items():
        print(f"| {name} | {r['median_ms']} | {r['p95_ms']} | {r['bytes']:,} | {r['cpu_ms_per_run']} | "
              f"{r['ratio_to_floor']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
