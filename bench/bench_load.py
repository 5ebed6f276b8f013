"""Load: many people using the staff app at once, on one app process, on two or four behind nginx, and the empty
app as the floor (issues 12 and 14).

    python bench/bench_load.py                                # empty, one and two: the default counts (minutes)
    python bench/bench_load.py --setup one --sessions 10,20,40 --seconds 60
    python bench/bench_load.py --setup empty,one --sessions 30,60 --seconds 30 --ramp 10
    python bench/bench_load.py --setup four --four-sessions 60   # four processes only
    python bench/bench_load.py --sessions 300 --two-sessions 300 --four-sessions 300 --seconds 40 --ramp 20
    python bench/bench_load.py --url http://127.0.0.1:8501 --sessions 5  # an app already running

Each session is a browser tab speaking Streamlit's websocket protocol (bench/load_client.py): it opens the group
overview as the leader of a group drawn at random (the demo's "viewing as"), then, after each exponentially
distributed think time (mean 5 s), does what a leader does: on the overview it changes the year (45%), looks at
another group (15%) or opens the school scorecard (40%); there it changes the school (50%) or goes back (50%).
Every rerun is timed from sending it to the script-finished message. Sessions start spread over the ramp; only
reruns started in the measurement window after it count. Errors: an exception shown in the page, a websocket that
closed, a rerun with no answer within the timeout, a tab that could not open.

"one" is serve.py on port 8751; "two" and "four" are two or four serve.py processes on 8761-8764 behind nginx on
8760 with deploy/nginx/jointly-multi.conf (TLS, the route cookie that keeps each browser on one process; its
upstream cut to the processes started); "empty" is the empty app (EMPTY_APP: the same pages, widgets and keys, no
data, no Jointly code) on 8752, driven by the same people, as the floor. Servers start fresh for each point. Per
point: each server process's resident memory (VmRSS at the window's end, VmHWM its peak), the server's CPU seconds
per answered run, and the overview's reruns a second. Results go to bench/out/load.json (and a table on stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))  # serving.py: the test servers' helpers, shared

from load_client import AppSession, RunResult  # noqa: E402
from serving import self_signed_certificate  # noqa: E402

OUT = ROOT / "bench" / "out" / "load.json"
MULTI_CONF = ROOT / "deploy" / "nginx" / "jointly-multi.conf"
ONE_PORT = 8751
EMPTY_PORT = 8752
NGINX_PORT = 8760
APP_PORTS = (8761, 8762, 8763, 8764)
OVERVIEW, SCHOOL = "", "school_scorecard"  # url paths: the default page, the school card
OVERVIEW_ACTIONS = ("year", "group", "overview")  # the reruns that draw the group overview
SETUPS = ("empty", "one", "two", "four")
PROCESSES = {"empty": 1, "one": 1, "url": 1, "two": 2, "four": 4}

# The floor: Streamlit itself with what the people click (a leader's group chooser in the sidebar, the overview's
# year, the school card's school, the two pages at the same addresses) and nothing of Jointly's.
EMPTY_APP = '''import streamlit as st

GROUPS = [f"Group {i}" for i in range(288)]
YEARS = ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
SCHOOLS = [f"School {i}" for i in range(12)]


def overview():
    st.title("Overview")
    st.selectbox("Year", YEARS, index=len(YEARS) - 1, key="period")
    st.write("Empty.")


def school():
    st.title("School")
    st.selectbox("School", SCHOOLS, key="school")
    st.write("Empty.")


page = st.navigation([st.Page(overview, title="Overview", default=True),
                      st.Page(school, title="School", url_path="school_scorecard")])
with st.sidebar:
    st.selectbox("Viewing as", ["Leader", "Governor"], key="viewing_as")
    st.selectbox("Group", GROUPS, key="viewing_group")
page.run()
'''


@dataclass(frozen=True)
class Timed:
    """One rerun of one session: what it did, when it started (seconds into the run), how long and how it ended."""

    session: int
    action: str
    start: float
    seconds: float
    outcome: str
    detail: str


# ---------------------------------------------------------------------------------------------------------------
# the people


async def person(index: int, url: str, tls: ssl.SSLContext | None, *, group: str, think: float, start_at: float,
                 stop_at: float, clock0: float, timeout: float, log: list[Timed], rng: random.Random) -> None:
    """One tab: opens the overview of `group` as its leader at `start_at`, acts until `stop_at` (seconds after
    `clock0`), then closes."""
    await asyncio.sleep(max(0.0, start_at - (time.perf_counter() - clock0)))

    def note(action: str, started: float, result: RunResult) -> None:
        log.append(Timed(index, action, started - clock0, result.seconds, result.outcome, result.detail))

    while time.perf_counter() - clock0 < stop_at:
        session = AppSession(url, tls=tls, timeout=timeout)
        started = time.perf_counter()
        try:
            opened = await session.open(urlencode({"viewing_as": "Leader", "viewing_group": group}))
        except Exception as exc:  # noqa: BLE001 - the tab could not connect: counted, then it tries again
            note("open", started, RunResult(time.perf_counter() - started, "refused", f"{type(exc).__name__}: {exc}"))
            await session.close()
            await asyncio.sleep(rng.expovariate(1 / think))
            continue
        note("open", started, opened)
        while opened.outcome != "disconnect" and time.perf_counter() - clock0 < stop_at:
            await asyncio.sleep(rng.expovariate(1 / think))
            if time.perf_counter() - clock0 >= stop_at:
                break
            action, step = choose(session, rng)
            started = time.perf_counter()
            try:
                result = await step
            except LookupError as missing:  # the page lacked what a person would click: an error of the page
                result = RunResult(0.0, "exception", str(missing))
            note(action, started, result)
            if result.outcome in ("disconnect", "timeout"):
                break  # the browser reconnects: a new tab state
        await session.close()


def choose(session: AppSession, rng: random.Random) -> tuple[str, object]:
    """What a trust leader does next on the page they are on: (action's name, its coroutine)."""
    on_school = session.widget("school") is not None
    if on_school:
        school = session.widget("school")
        if rng.random() < 0.5 and len(school.options) > 1:
            return "school", session.change("school", _other(school, rng))
        return "overview", session.go(OVERVIEW)
    draw = rng.random()
    period = session.widget("period")
    if draw < 0.45 and period is not None and len(period.options) > 1:
        return "year", session.change("period", _other(period, rng))
    if draw < 0.6:  # a leader mostly stays with their group; the demo's "viewing as" lets them look at another
        group = session.widget("group")
        if group is None or len(group.options) < 2:
            group = session.widget("viewing_group")  # a leader sees their own group: the demo's "viewing as"
        if group is not None and len(group.options) > 1:
            return "group", session.change(group.key, _other(group, rng))
    return "open_school", session.go(SCHOOL)


def _other(widget, rng: random.Random) -> str:  # noqa: ANN001 - a load_client.Widget
    return rng.choice([o for o in widget.options if o != widget.value] or list(widget.options))


async def drive(url: str, sessions: int, *, tls: ssl.SSLContext | None, ramp: float, seconds: float, think: float,
                timeout: float, seed: int) -> tuple[list[Timed], float]:
    """`sessions` tabs on `url`: every rerun timed, and the measurement window's start (seconds)."""
    rng = random.Random(seed)
    groups = await group_names(url, tls, timeout)
    log: list[Timed] = []
    clock0 = time.perf_counter()
    stop_at = ramp + seconds
    tabs = [person(i, url, tls, group=rng.choice(groups), think=think, start_at=ramp * i / sessions, stop_at=stop_at,
                   clock0=clock0, timeout=timeout, log=log, rng=random.Random(rng.random())) for i in range(sessions)]
    await asyncio.gather(*tabs)
    return log, ramp


async def group_names(url: str, tls: ssl.SSLContext | None, timeout: float) -> list[str]:
    """The groups a leader may be (the demo's "viewing as" choices), from one tab opened before the others: each
    tab is the leader of one, so the people spread over the trusts and partnerships as real staff do."""
    probe = AppSession(url, tls=tls, timeout=timeout)
    try:
        opened = await probe.open("viewing_as=Leader")
        chooser = probe.widget("viewing_group")
        if opened.outcome != "ok" or chooser is None:
            raise SystemExit(f"{url}: the overview did not open for a leader ({opened.outcome}: {opened.detail})")
        return list(chooser.options)
    finally:
        await probe.close()


def summary(log: list[Timed], window: tuple[float, float], sessions: int, processes: int) -> dict:
    """p50/p95/p99 of the reruns started in the window (tabs opening apart), errors of every kind, reruns/s."""
    lo, hi = window
    inside = [t for t in log if lo <= t.start < hi]
    reruns = [t for t in inside if t.action != "open"]
    answered = sorted(t.seconds for t in reruns if t.outcome in ("ok", "exception"))
    errors = Counter(t.outcome for t in inside if t.outcome != "ok")

    def pct(values: list[float], q: float) -> float | None:
        return round(values[min(len(values) - 1, int(q * len(values)))], 3) if values else None

    by_action = {}
    for action in sorted({t.action for t in inside}):
        times = sorted(t.seconds for t in inside if t.action == action and t.outcome in ("ok", "exception"))
        by_action[action] = {"n": len(times), "p50": pct(times, 0.5), "p95": pct(times, 0.95)}
    examples = sorted({f"{t.outcome}: {t.detail}" for t in log if t.outcome != "ok"})[:5]
    opens = [t for t in log if t.action == "open"]
    return {"sessions": sessions, "processes": processes, "reruns": len(reruns),
            # the whole run, ramp included: tabs that never got their first page are errors too
            "opened": sum(1 for t in opens if t.outcome in ("ok", "exception")), "open_p50": pct(sorted(
                t.seconds for t in opens if t.outcome in ("ok", "exception")), 0.5),
            "errors_whole_run": dict(Counter(t.outcome for t in log if t.outcome != "ok")),
            "reruns_per_s": round(len(reruns) / (hi - lo), 2), "p50": pct(answered, 0.5), "p95": pct(answered, 0.95),
            "p99": pct(answered, 0.99), "mean": round(statistics.fmean(answered), 3) if answered else None,
            "errors": dict(errors), "error_examples": examples, "by_action": by_action}


# ---------------------------------------------------------------------------------------------------------------
# the servers


def _cpu_seconds(pids: list[int]) -> float:
    """User+system CPU seconds the processes have used so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / tick, sum(fields) / tick


def _others() -> list[str]:
    """What else is running now, by CPU share (top five, not ours): the noise under these numbers."""
    mine = {os.getpid()}
    out = subprocess.run(["ps", "-eo", "pid,pcpu,args", "--sort=-pcpu", "--no-headers"], capture_output=True,
                         text=True).stdout.splitlines()
    rows = []
    for line in out:
        pid, cpu, args = line.split(None, 2)
        ours = "bench_load" in args or ("--server.port 87" in args) or args.startswith("ps ")
        if int(pid) in mine or ours:
            continue
        if float(cpu) >= 5:
            rows.append(f"{cpu}% {args[:90]}")
    return rows[:5]


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, MiB (0 when it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    found = [re.search(rf"^{key}:\s+(\d+) kB", status, re.M) for key in ("VmRSS", "VmHWM")]
    if None in found:  # a process that has exited (a zombie has no memory lines)
        return 0.0, 0.0
    return round(int(found[0].group(1)) / 1024, 1), round(int(found[1].group(1)) / 1024, 1)


def start_app(port: int, db: Path, folder: Path, entry: Path | None = None) -> subprocess.Popen:
    log = (folder / f"app-{port}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(entry or ROOT / "serve.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "JOINTLY_DB": str(db)}, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, tls: ssl.SSLContext | None, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2, context=tls).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer its health check within {timeout:.0f} s")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def nginx_config(folder: Path, listen: int, ports: tuple[int, ...]) -> Path:
    """nginx.conf around the shipped jointly-multi.conf, changed only where a bench must: its port, a certificate
    made now, the app processes' ports. Everything nginx writes goes to `folder`."""
    cert, key = self_signed_certificate(folder)
    text = MULTI_CONF.read_text()
    for old, new in (("listen 443 ssl http2;", f"listen 127.0.0.1:{listen} ssl http2;"),
                     ("/etc/ssl/jointly/fullchain.pem", str(cert)), ("/etc/ssl/jointly/privkey.pem", str(key))):
        if old not in text:
            raise SystemExit(f"{MULTI_CONF.name} no longer has {old!r}: update bench_load.nginx_config")
        text = text.replace(old, new)
    shipped = re.findall(r"server 127\.0\.0\.1:(\d+)", text)
    if len(shipped) < len(ports):
        raise SystemExit(f"{MULTI_CONF.name} has {len(shipped)} app servers, the bench starts {len(ports)}")
    for old in shipped[len(ports):]:  # fewer processes (two on two cores): the upstream lists only those
        text = re.sub(rf"\n\s*server 127\.0\.0\.1:{old};", "", text, count=1)
    shipped = shipped[:len(ports)]
    for old, new in zip(shipped, ports, strict=True):
        text = text.replace(f"server 127.0.0.1:{old}", f"server 127.0.0.1:{new}", 1)
    (folder / "site.conf").write_text(text)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                              "scgi"))
    conf = folder / "nginx.conf"
    # each session holds two connections (browser->nginx, nginx->app): Debian's default of 768 would cap the sessions
    conf.write_text(f"""daemon off;
master_process off;
worker_rlimit_nofile 8192;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
    include {folder / 'site.conf'};
}}
""")
    return conf


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise SystemExit("nginx is not installed: apt-get install -y nginx")
    return found


def unverified_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# ---------------------------------------------------------------------------------------------------------------
# one point: servers up, people on, servers down


def run_point(setup: str, sessions: int, args: argparse.Namespace, folder: Path) -> dict:
    procs: list[subprocess.Popen] = []
    tls = None
    try:
        if setup == "url":
            url, pids = args.url.rstrip("/"), []
            tls = unverified_tls() if url.startswith("https://") else None
        elif setup == "one":
            procs.append(start_app(ONE_PORT, args.db, folder))
            url = f"http://127.0.0.1:{ONE_PORT}"
            wait_healthy(url, None)
        elif setup == "empty":
            entry = folder / "empty_app.py"
            entry.write_text(EMPTY_APP)
            procs.append(start_app(EMPTY_PORT, args.db, folder, entry))
            url = f"http://127.0.0.1:{EMPTY_PORT}"
            wait_healthy(url, None)
        else:
            ports = APP_PORTS[:PROCESSES[setup]]
            for port in ports:  # one store: every app process opens the results read-only (data/db/snapshot.py)
                procs.append(start_app(port, args.db, folder))
            for port in ports:
                wait_healthy(f"http://127.0.0.1:{port}", None)
            nginx_dir = folder / "nginx"
            nginx_dir.mkdir(exist_ok=True)
            conf = nginx_config(nginx_dir, NGINX_PORT, ports)
            procs.append(subprocess.Popen([_nginx(), "-c", str(conf), "-p", str(nginx_dir)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            url = f"https://127.0.0.1:{NGINX_PORT}"
            tls = unverified_tls()
            wait_healthy(url, tls, timeout=20)
        pids = [p.pid for p in procs]
        cpu0, busy0, wall0 = _cpu_seconds(pids), _machine_busy(), time.perf_counter()
        each0 = {pid: _cpu_seconds([pid]) for pid in pids}
        client0 = time.process_time()
        others = []

        async def sample_others() -> None:  # what else ran, looked at mid-window
            await asyncio.sleep(args.ramp + args.seconds / 2)
            others.extend(await asyncio.to_thread(_others))

        async def both() -> tuple[list[Timed], float]:
            sampler = asyncio.create_task(sample_others())
            result = await drive(url, sessions, tls=tls, ramp=args.ramp, seconds=args.seconds, think=args.think,
                                 timeout=args.timeout, seed=args.seed)
            sampler.cancel()
            return result

        log, ramp = asyncio.run(both())
        wall = time.perf_counter() - wall0
        busy1 = _machine_busy()
        apps = pids if setup in ("one", "empty", "url") else pids[:-1]  # nginx is the last process started
        memory = [memory_mib(pid) for pid in apps]  # at the window's end, before the servers stop
        point = summary(log, (ramp, ramp + args.seconds), sessions, PROCESSES[setup])
        served = sum(1 for t in log if t.outcome in ("ok", "exception"))  # every answered run, opens and ramp too
        point.update(setup=setup, server_cpu_cores=round((_cpu_seconds(pids) - cpu0) / wall, 2),
                     server_cpu_s_per_run=round((_cpu_seconds(pids) - cpu0) / served, 3) if served else None,
                     client_cpu_cores=round((time.process_time() - client0) / wall, 2),
                     machine_busy_cores=round((busy1[0] - busy0[0]) / wall, 2), others_running=others)
        lo, hi = ramp, ramp + args.seconds
        point.update(rss_mib_each=[m[0] for m in memory], hwm_mib_each=[m[1] for m in memory],
                     overview_reruns_per_s=round(sum(1 for t in log if lo <= t.start < hi and t.action in
                                                     OVERVIEW_ACTIONS) / (hi - lo), 2))
        if setup in ("two", "four"):  # the route cookie's spread, seen as each process's share of the work
            point["app_cpu_cores_each"] = [round((_cpu_seconds([pid]) - each0[pid]) / wall, 2) for pid in apps]
        return point
    finally:
        stop(procs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--setup", default="",
                   help="set-ups, comma-separated, of empty, one, two, four ('both': one,four); default empty, one "
                        "and two, and four when --four-sessions is given")
    p.add_argument("--sessions", default="", help="session counts for one process and the empty app, comma-"
                                                  "separated (default 10,20,40)")
    p.add_argument("--two-sessions", default="", help="session counts for two processes (default: --sessions)")
    p.add_argument("--four-sessions", default="", help="session counts for four processes (default: 3x --sessions)")
    p.add_argument("--url", default="", help="drive an app already running at this URL instead of starting one")
    p.add_argument("--db", type=Path, default=Path(os.environ.get("JOINTLY_DB", ROOT / "data/store/jointly.duckdb")))
    p.add_argument("--seconds", type=float, default=60, help="measurement window per point (default 60)")
    p.add_argument("--ramp", type=float, default=20, help="seconds over which the tabs open (default 20)")
    p.add_argument("--think", type=float, default=5, help="mean think time between actions, seconds (default 5)")
    p.add_argument("--timeout", type=float, default=60, help="a rerun with no answer after this is an error")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if not args.url and not args.db.exists():
        print(f"No store at {args.db}: build the default demo first (python -m data demo)", file=sys.stderr)
        return 2
    try:
        one = [int(x) for x in args.sessions.split(",") if x.strip()] or [10, 20, 40]
        two = [int(x) for x in args.two_sessions.split(",") if x.strip()] or one
        four = [int(x) for x in args.four_sessions.split(",") if x.strip()] or [3 * n for n in one]
    except ValueError:
        print("--sessions, --two-sessions and --four-sessions take whole numbers separated by commas, e.g. 10,20,40",
              file=sys.stderr)
        return 2
    chosen = args.setup or ("empty,one,two,four" if args.four_sessions else "empty,one,two")
    setups = ["one", "four"] if chosen == "both" else [s.strip() for s in chosen.split(",") if s.strip()]
    if not setups or any(s not in SETUPS for s in setups):
        print(f"--setup takes some of {', '.join(SETUPS)} (or 'both'), comma-separated", file=sys.stderr)
        return 2
    counts = {"empty": one, "one": one, "two": two, "four": four}
    plan = ([("url", n) for n in one] if args.url else
            [(setup, n) for setup in SETUPS if setup in setups for n in counts[setup]])
    points = []
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        for setup, n in plan:
            print(f"{setup}: {n} sessions…", file=sys.stderr, flush=True)
            point = run_point(setup, n, args, Path(tmp))
            points.append(point)
            print(json.dumps(point), file=sys.stderr, flush=True)
    meta = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "db": str(args.db),
            "seconds": args.seconds, "ramp": args.ramp, "think": args.think,
            "timeout": args.timeout, "cores": os.cpu_count()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "points": points}, indent=1) + "\n")
    print("| set-up | sessions | processes | p50 s | p95 s | p99 s | errors (window / whole run) | reruns/s | "
          "overview reruns/s | tabs opened | app CPU cores | app CPU s per run | RSS MiB each (peak) |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|")
    for pt in points:
        errs = "; ".join(", ".join(f"{k} {v}" for k, v in sorted(pt[key].items())) or "0"
                         for key in ("errors", "errors_whole_run"))
        rss = ", ".join(f"{r:.0f} ({h:.0f})" for r, h in zip(pt["rss_mib_each"], pt["hwm_mib_each"], strict=True))
        print(f"| {pt['setup']} | {pt['sessions']} | {pt['processes']} | {pt['p50']} | {pt['p95']} | {pt['p99']} | "
              f"{errs} | {pt['reruns_per_s']} | {pt['overview_reruns_per_s']} | {pt['opened']} | "
              f"{pt['server_cpu_cores']} | {pt['server_cpu_s_per_run']} | {rss} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
