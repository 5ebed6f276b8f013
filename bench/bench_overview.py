"""The group overview's server time per warm interaction and the bytes of its grid, over a real websocket (issue 14).

    python bench/bench_overview.py --db /tmp/demo/jointly.duckdb                       # the demo's default group
    python bench/bench_overview.py --db COPY_OF_BENCH.duckdb --group "Benchmark 500-school partnership"
    python bench/bench_overview.py --db ... --before DIR    # also the code before (git archive <commit> | tar -x)

Servers start side by side with the same flags: serve.py of this checkout on the store, an empty Streamlit app (the
floor), and with --before serve.py of that checkout on a copy of the store. The floor and the code before are served
as serve.py serves (TCP_NODELAY on every connection, bench/nodelay_run.py); --plain starts them with Streamlit's own
`streamlit run` (each rerun ~40 ms longer, waiting for the client's delayed acknowledgement). One tab per app opens
the overview as the leader of the group (the demo's "viewing as": the store must be the demo or carry its `demo`
setting), then each round does every interaction once, on each app in turn, each followed by one empty rerun of the
floor: nothing changed, another year, another group, the map coloured by another measure (sent with the map's
fragment id, as the browser sends a widget's change inside a fragment), one measure fewer in the grid, pooling
toggled (when the group has special schools). Two warm-up rounds (each interaction takes two values in turn) are not
counted.

Prints per interaction the median, p95, bytes, the app process's CPU per run (/proc, 10 ms ticks) and the ratio to
the floor's median; the grid element's bytes (the plotly_chart's ForwardMsg) on opening; JSON to
bench/out/overview.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import _cpu_seconds, _others, start_app, stop, wait_healthy  # noqa: E402
from bench_pages import _two, change, change_group, pct, start_before, start_floor  # noqa: E402 (the same steps)
from load_client import AppSession, RunResult  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

OUT = ROOT / "bench" / "out" / "overview.json"
APP_PORT, FLOOR_PORT, BEFORE_PORT = 8732, 8733, 8734  # this bench's ports (helper O: 8730-8739)
WARM_ROUNDS = 2


class Tab(AppSession):
    """A tab that also knows each widget's fragment (a change inside a fragment reruns only it, as in the browser)
    and the bytes of each chart element of the last run."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - AppSession's
        super().__init__(*args, **kwargs)
        self.fragment_of: dict[str, str] = {}  # widget id -> fragment id
        self.charts: dict[str, int] = {}  # chart element id -> bytes of its message, last run

    def _take(self, message: ForwardMsg) -> None:
        if message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            what = element.WhichOneof("type")
            proto = getattr(element, what, None)
            if what in ("plotly_chart", "deck_gl_json_chart"):
                self.charts[f"{what}:{getattr(proto, 'id', '')}"] = message.ByteSize()
            if message.delta.fragment_id and hasattr(proto, "id"):
                self.fragment_of[proto.id] = message.delta.fragment_id
        super()._take(message)

    async def change_in_fragment(self, key: str, value: object) -> RunResult:
        """As AppSession.change, with the widget's fragment id when it is inside one (the browser's message)."""
        target = self.widget(key)
        if target is None:
            raise LookupError(f"the page has no widget with key {key!r}")
        fragment = self.fragment_of.get(target.id, "")
        if not fragment:
            return await self.change(key, value)
        rerun = BackMsg()
        client = rerun.rerun_script
        client.page_script_hash = self.page_hash
        client.fragment_id = fragment
        for w in self.widgets.values():
            from load_client import _state
            state = _state(w, value if w.id == target.id else w.value)
            if state is not None:
                client.widget_states.widgets.append(state)
        client.query_string = self.query
        target.value = value
        keep = dict(self.widgets)
        result = await self._send(rerun)
        if result.outcome == "ok":  # a fragment's run re-sends only its own widgets: the rest stay mounted
            self.widgets = {**keep, **self.widgets}
        return result


Step = Callable[[Tab, int], Awaitable[RunResult]]


async def grid_measures(t: Tab, i: int) -> RunResult:
    """One measure fewer in the grid (timed), then the default again (not timed)."""
    w = t.widget("grid_measures")
    default = list(w.default)
    result = await t.change("grid_measures", default[:-1])
    back = await t.change("grid_measures", default)
    return result if back.outcome == "ok" else back


def map_measure(t: Tab, i: int) -> Awaitable[RunResult]:
    return t.change_in_fragment("measure", _two(t, "measure", i))


async def pooling(t: Tab, i: int) -> RunResult | None:
    w = t.widget("include_special")
    if w is None:
        return None
    return await t.change("include_special", not w.value)


STEPS: list[tuple[str, Step]] = [
    ("rerun, nothing changed", lambda t, i: t.rerun()),
    ("change year", change("period")),
    ("change group", change_group()),
    ("colour the map by another measure", map_measure),
    ("grid: one measure fewer", grid_measures),
    ("toggle pooling of special schools", pooling),
]


async def measure(apps: dict[str, tuple[str, int]], floor_url: str, query: str, runs: int, timeout: float) -> dict:
    tabs = {label: Tab(url, timeout=timeout) for label, (url, _pid) in apps.items()}
    floor = AppSession(floor_url, timeout=timeout)
    out: dict = {label: {"steps": {}} for label in tabs}
    floor_s: list[float] = []
    try:
        for label, tab in tabs.items():
            opened = await tab.open(query)
            if opened.outcome != "ok":
                raise SystemExit(f"{label}: the overview did not open: {opened.outcome} {opened.detail}")
            grid = {k: v for k, v in tab.charts.items() if k.startswith("plotly_chart:") and k.endswith("-grid")}
            out[label].update(open_ms=round(opened.seconds * 1000, 1), open_bytes=opened.received,
                              grid_bytes=next(iter(grid.values()), None),
                              map_bytes=next((v for k, v in tab.charts.items() if k.startswith("deck")), None))
        if (await floor.open()).outcome != "ok":
            raise SystemExit("the empty app did not open")
        for rnd in range(runs + WARM_ROUNDS):
            for name, step in STEPS:
                for label, tab in tabs.items():
                    cpu0 = _cpu_seconds([apps[label][1]])
                    result = await step(tab, rnd)
                    cpu = _cpu_seconds([apps[label][1]]) - cpu0  # the grid's step includes its untimed put-back
                    if result is None:
                        continue
                    if result.outcome != "ok":
                        raise SystemExit(f"{label}, {name}: {result.outcome} {result.detail}")
                    base = await floor.rerun()
                    if rnd < WARM_ROUNDS:
                        continue
                    s = out[label]["steps"].setdefault(name, {"seconds": [], "bytes": [], "cpu": 0.0})
                    s["cpu"] += cpu
                    s["seconds"].append(result.seconds)
                    s["bytes"].append(result.received)
                    floor_s.append(base.seconds)
    finally:
        for tab in tabs.values():
            await tab.close()
        await floor.close()
    fm = statistics.median(floor_s) * 1000
    for label in tabs:
        for name, s in out[label]["steps"].items():
            med = statistics.median(s["seconds"]) * 1000
            out[label]["steps"][name] = {"n": len(s["seconds"]), "median_ms": round(med, 1),
                                         "p95_ms": round(pct(s["seconds"], 0.95) * 1000, 1),
                                         "bytes": int(statistics.median(s["bytes"])),
                                         "cpu_ms_per_run": round(1000 * s["cpu"] / len(s["seconds"]), 1),
                                         "ratio_to_floor": round(med / fm, 1)}
    out["floor"] = {"n": len(floor_s), "median_ms": round(fm, 1), "p95_ms": round(pct(floor_s, 0.95) * 1000, 1)}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--group", default="", help="the group's label as the 'viewing as' list shows it (default: the "
                                               "demo's default group)")
    p.add_argument("--before", type=Path, help="also serve.py of this checkout (the code before), on a copy")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--plain", action="store_true", help="start the floor and the code before with plain `streamlit "
                                                       "run` (no TCP_NODELAY: each rerun ~40 ms longer)")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    query = urlencode({"viewing_as": "Leader", **({"viewing_group": args.group} if args.group else {})})
    with tempfile.TemporaryDirectory(prefix="bench_overview_") as tmp:
        folder = Path(tmp)
        procs = [start_app(APP_PORT, args.db, folder), start_floor(FLOOR_PORT, folder, plain=args.plain)]
        apps = {"now": (f"http://127.0.0.1:{APP_PORT}", procs[0].pid)}
        if args.before is not None:
            copy = folder / "before" / args.db.name
            copy.parent.mkdir()
            for f in args.db.parent.glob(args.db.name.removesuffix(".duckdb") + "*"):
                if f.is_file() and not f.name.endswith(".lock"):
                    shutil.copy2(f, copy.parent / f.name)
            procs.append(start_before(BEFORE_PORT, args.before.resolve(), copy, folder, plain=args.plain))
            apps = {"before": (f"http://127.0.0.1:{BEFORE_PORT}", procs[-1].pid), **apps}
        try:
            for url in [*(u for u, _pid in apps.values()), f"http://127.0.0.1:{FLOOR_PORT}"]:
                wait_healthy(url, None, timeout=300)
            t0 = time.perf_counter()
            result = asyncio.run(measure(apps, f"http://127.0.0.1:{FLOOR_PORT}", query, args.runs, args.timeout))
            result["wall_s"] = round(time.perf_counter() - t0, 1)
            result["others"] = _others()
        finally:
            stop(procs)
    result.update(db=str(args.db), group=args.group or "(default)", runs=args.runs, plain_streamlit_run=args.plain)
    print(f"{args.db} {args.group or '(the default group)'}: floor median {result['floor']['median_ms']} ms, "
          f"p95 {result['floor']['p95_ms']} ms")
    for label in apps:
        r = result[label]
        print(f"[{label}] open {r['open_ms']} ms, {r['open_bytes']:,} bytes; grid element {r['grid_bytes']} bytes; "
              f"map element {r['map_bytes']} bytes")
        for name, s in r["steps"].items():
            print(f"  {name:38s} median {s['median_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms  "
                  f"{s['bytes']:>9,} B  CPU {s['cpu_ms_per_run']:6.1f} ms/run  x{s['ratio_to_floor']} floor")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
