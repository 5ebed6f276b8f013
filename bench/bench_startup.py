"""Startup: the app's process from `streamlit run serve.py` to its first page served, and its memory (issue 14.6).

    python bench/bench_startup.py                       # the demo store, three starts
    python bench/bench_startup.py --db /tmp/demo/jointly.duckdb --runs 5 --importtime

Each run starts serve.py fresh on a free port of 8770-8799, waits for its health check, opens the overview as a
leader over the websocket (bench/load_client.py: what the browser sends) and then reads the server's VmRSS and
VmHWM (its peak) from /proc. The empty app (a one-line st.write) is measured the same way in the same run as the
floor. `--importtime` also prints the heaviest modules the app process imports by its first page (python -X
importtime of the same server), to see what startup loads that the first page does not need. JSON goes to
bench/out/startup.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import memory_mib, stop  # noqa: E402 (the load bench's process helpers)
from load_client import AppSession  # noqa: E402

OUT = ROOT / "bench" / "out" / "startup.json"
PORTS = range(8770, 8800)  # bench_load.py has 8750-8769
EMPTY_APP = 'import streamlit as st\n\nst.write("empty")\n'


def free_port() -> int:
    """A port of this bench's range (8770-8799) that nothing listens on."""
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8770-8799")


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll the health check until it answers; fail if the server dies or does not answer in time."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def start(entry: Path, db: Path, port: int, log: Path, importtime: bool = False) -> subprocess.Popen:
    """`streamlit run entry` on `port` over `db`, its output to `log`."""
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.Popen(
        [sys.executable, *flags, "-m", "streamlit", "run", str(entry), "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "JOINTLY_DB": str(db)}, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def one_start(entry: Path, db: Path, query: str, folder: Path, importtime: bool = False) -> dict:
    """Start, serve the first page, measure, stop: seconds to healthy, to the first page, and memory."""
    port = free_port()
    log = folder / f"server-{port}.log"
    t0 = time.perf_counter()
    proc = start(entry, db, port, log, importtime)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        healthy = time.perf_counter() - t0
        rss_healthy, _ = memory_mib(proc.pid)

        async def first_page() -> tuple[str, float]:
            session = AppSession(url, timeout=120)
            try:
                result = await session.open(query)
                return result.outcome, result.seconds
            finally:
                await session.close()

        outcome, page_s = asyncio.run(first_page())
        time.sleep(0.5)  # what the run left behind (threads finishing) counted too
        rss, hwm = memory_mib(proc.pid)
        return {"healthy_s": round(healthy, 2), "first_page_s": round(page_s, 2), "outcome": outcome,
                "rss_healthy_mib": rss_healthy, "rss_mib": rss, "hwm_mib": hwm, "log": log}
    finally:
        stop([proc])


def heaviest_imports(log: Path, top: int) -> list[tuple[str, float, float]]:
    """The top-level packages with the most cumulative import time in a -X importtime log: (name, ms, share)."""
    by_package: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and m.group(2) == "":  # depth 0: the imports made at top level of some running code
            name = m.group(3).split(".")[0]
            by_package[name] = by_package.get(name, 0.0) + int(m.group(1)) / 1000
    total = sum(by_package.values()) or 1.0
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    return [(name, round(ms, 1), round(ms / total, 3)) for name, ms in ranked]


def summarise(runs: list[dict]) -> dict:
    """Medians (and maxima for memory) over the runs."""
    keys = ("healthy_s", "first_page_s", "rss_healthy_mib", "rss_mib", "hwm_mib")
    out = {f"{k}_median": round(statistics.median(r[k] for r in runs), 2) for k in keys}
    out["hwm_mib_max"] = max(r["hwm_mib"] for r in runs)
    out["outcomes"] = sorted({r["outcome"] for r in runs})
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, default=Path(os.environ.get("JOINTLY_DB", "/tmp/demo/jointly.duckdb")))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--importtime", action="store_true", help="also list the heaviest imports of the first page")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if not args.db.exists():
        print(f"No store at {args.db}", file=sys.stderr)
        return 2
    query = urlencode({"viewing_as": "Leader"})
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "db": str(args.db), "runs": args.runs}
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as tmp:
        folder = Path(tmp)
        empty = folder / "empty_app.py"
        empty.write_text(EMPTY_APP)
        cases = {"jointly": (ROOT / "serve.py", query), "empty": (empty, "")}
        runs: dict[str, list[dict]] = {name: [] for name in cases}
        for _ in range(args.runs):  # interleaved: the two cases see the same machine
            for name, (entry, q) in cases.items():
                runs[name].append(one_start(entry, args.db, q, folder))
        for name in cases:
            result[name] = summarise(runs[name])
            result[name]["runs"] = [{k: v for k, v in r.items() if k != "log"} for r in runs[name]]
        if args.importtime:
            timed = one_start(ROOT / "serve.py", args.db, query, folder, importtime=True)
            result["imports_top"] = heaviest_imports(timed["log"], 25)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("| app | healthy s | first page s | RSS at health MiB | RSS after first page MiB | VmHWM MiB (max) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("jointly", "empty"):
        r = result[name]
        print(f"| {name} | {r['healthy_s_median']} | {r['first_page_s_median']} | {r['rss_healthy_mib_median']} | "
              f"{r['rss_mib_median']} | {r['hwm_mib_median']} ({r['hwm_mib_max']}) |")
    for name, ms, share in result.get("imports_top", []):
        print(f"  {name:24s} {ms:8.1f} ms  {share:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
