"""The browser: a first visit to the group overview in headless Chromium, timed until the grid and the map are drawn,
and the bytes it downloads, with and without the compressed static files (issue 14 point 5).

    python bench/bench_browser.py                           # the demo and the 500-school group, 5 visits each
    python bench/bench_browser.py --runs 9 --skip-bench     # the demo only
    python bench/bench_browser.py --db /tmp/demo/jointly.duckdb --bench-db /tmp/bench/bench.duckdb

Each visit is a new browser context (an empty cache: a first visit) at 1400x1600, opening the overview as a leader
(the demo's "viewing as": `?viewing_as=Leader`, with `viewing_group` for the 500-school group). The time is the
page's own clock (performance.now(): from navigation start) at the first animation frame where the script has
finished (no running indicator), the page's heading is drawn, every Plotly chart has its SVG, every deck.gl map and
data table its canvas, and there is at least one chart or table and one map. The empty app (a title only) is
timed the same way, to its heading, as the floor. Outside requests (the map's CARTO tiles) are refused so every
visit is the same. Bytes: every response's body as it came over the wire (encoded size) plus its headers, and the
websocket's frames, counted per kind (the chart and map libraries, other scripts, styles, fonts, the rest).

Set-ups: "direct" is serve.py on its own port (Streamlit sends its static files uncompressed); "nginx" is serve.py
behind deploy/nginx/jointly.conf with the static files written by deploy/precompress.py (gzip_static), as
docs/deploy.md deploys it. Servers use ports 8770-8799; each is warmed by one visit first. JSON to
bench/out/browser.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))  # serving.py: the certificate helper the tests use
sys.path.insert(0, str(ROOT / "deploy"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import start_app, stop, unverified_tls, wait_healthy  # noqa: E402 (the load bench's servers)
from precompress import precompress  # noqa: E402
from serving import CHROMIUM, CHROMIUM_ARGS, self_signed_certificate  # noqa: E402

OUT = ROOT / "bench" / "out" / "browser.json"
STAFF_CONF = ROOT / "deploy" / "nginx" / "jointly.conf"
STATIC_ROOT = "/srv/jointly/streamlit-static"
PORTS = range(8770, 8800)  # bench_load.py has 8750-8769
EMPTY_APP = 'import streamlit as st\n\nst.title("Empty")\n'
BENCH_GROUP = "Benchmark 500-school partnership"
VIEWPORT = {"width": 1400, "height": 1600}

# the first animation frame at which the page is drawn: performance.now() then, else false
DRAWN = """(needCharts) => new Promise((resolve) => {
  const check = () => {
    const main = document.querySelector("[data-testid='stMainBlockContainer']");
    const ready = () => {
      if (!main || !main.querySelector("h1")) return false;
      if (document.querySelector("[data-testid='stStatusWidget']")) return false;
      if (document.querySelector("[data-testid='stSkeleton']")) return false;
      const plots = [...main.querySelectorAll("[data-testid='stPlotlyChart']")];
      const maps = [...main.querySelectorAll("[data-testid='stDeckGlJsonChart']")];
      const tables = [...main.querySelectorAll("[data-testid='stDataFrame']")];
      if (plots.some((p) => !p.querySelector("svg.main-svg"))) return false;
      if (maps.some((m) => !m.querySelector("canvas"))) return false;
      if (tables.some((t) => !t.querySelector("canvas"))) return false;
      if (needCharts && (plots.length + tables.length === 0 || maps.length === 0)) return false;
      return true;
    };
    if (ready()) resolve(performance.now()); else requestAnimationFrame(check);
  };
  check();
})"""


def free_port(taken: set[int]) -> int:
    """A port of this bench's range that nothing listens on and this run has not handed out."""
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise SystemExit("no free port in 8770-8799")


@contextmanager
def app_server(entry: Path, db: Path, port: int, folder: Path):  # noqa: ANN201 - a context manager of a URL
    """`streamlit run entry` over `db` on `port` until the block ends: its URL."""
    proc = start_app(port, db, folder, entry)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, None)
        yield url
    finally:
        stop([proc])


@contextmanager
def nginx_proxy(app_port: int, port: int, folder: Path, static_root: Path):  # noqa: ANN201 - a URL's context
    """nginx with the shipped jointly.conf in front of the app, changed only where a bench must (its port, a
    certificate made now, the app's port, the precompressed folder): its URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is not installed: apt-get install -y nginx")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(folder)
    text = STAFF_CONF.read_text()
    for old, new in (("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
                     ("/etc/ssl/jointly/fullchain.pem", str(cert)), ("/etc/ssl/jointly/privkey.pem", str(key)),
                     (STATIC_ROOT, str(static_root))):
        if old not in text:
            raise SystemExit(f"{STAFF_CONF.name} no longer has {old!r}: update bench_browser.nginx_proxy")
        text = text.replace(old, new)
    text = re.sub(r"http://127\.0\.0\.1:850\d", f"http://127.0.0.1:{app_port}", text)
    (folder / "site.conf").write_text(text)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                              "scgi"))
    conf = folder / "nginx.conf"
    conf.write_text(f"daemon off;\nmaster_process off;\npid {folder / 'nginx.pid'};\n"
                    f"error_log {folder / 'error.log'} warn;\nevents {{}}\n"
                    f"http {{\n    access_log off;\n{temp}\n    include {folder / 'site.conf'};\n}}\n")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"https://127.0.0.1:{port}"
        wait_healthy(url, unverified_tls(), timeout=20)
        yield url
    finally:
        stop([proc])


def demo_copy(db: Path, folder: Path) -> Path:
    """A copy of a store (and its state store beside it) in `folder`, switched to the demo's "viewing as" so a leader
    of any group can be chosen without an account: the bench store itself is opened read-only elsewhere. Made once
    and kept while the store is not newer."""
    from data.db.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{db.stem}-demo.duckdb"
    if copy.exists() and copy.stat().st_mtime >= db.stat().st_mtime:
        return copy
    shutil.copyfile(db, copy)
    state = db.with_name(f"{db.stem}.state.sqlite")
    if state.exists():
        shutil.copyfile(state, copy.with_name(f"{copy.stem}.state.sqlite"))
    with Store(copy) as s:
        s.set_setting("demo", "true", actor="bench_browser")
    return copy


def kind_of(url: str, content_type: str) -> str:
    """What a response is, for the byte counts: the chart and map libraries, other scripts, styles, fonts, rest."""
    name = url.split("?", 1)[0].rsplit("/", 1)[-1]
    if re.match(r"(PlotlyChart|DeckGlJsonChart)\.", name):
        return "chart_and_map_libraries"
    if name.endswith(".js") or "javascript" in content_type:
        return "other_scripts"
    if name.endswith(".css"):
        return "styles"
    if name.endswith((".woff2", ".woff", ".ttf")):
        return "fonts"
    return "other"


def visit(browser, url: str, need_charts: bool, timeout_s: float) -> dict:  # noqa: ANN001 - a Playwright Browser
    """One first visit in a fresh context: seconds to drawn, and the bytes downloaded by kind."""
    context = browser.new_context(viewport=VIEWPORT, ignore_https_errors=True)
    try:
        origin = url.split("/", 3)[:3]
        local = "/".join(origin)
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
        page = context.new_page()
        finished: list = []
        page.on("requestfinished", lambda request: finished.append(request))
        ws_bytes = [0, 0]  # received, sent

        def on_socket(ws) -> None:  # noqa: ANN001 - a Playwright WebSocket
            ws.on("framereceived", lambda payload: ws_bytes.__setitem__(0, ws_bytes[0] + len(payload)))
            ws.on("framesent", lambda payload: ws_bytes.__setitem__(1, ws_bytes[1] + len(payload)))

        page.on("websocket", on_socket)
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        drawn_ms = page.evaluate(f"async () => await Promise.race([({DRAWN})({str(need_charts).lower()}), "
                                 f"new Promise((r) => setTimeout(() => r(null), {int(timeout_s * 1000)}))])")
        if drawn_ms is None:
            raise SystemExit(f"{url}: not drawn within {timeout_s:.0f} s")
        exceptions = page.locator("[data-testid='stException']").count()
        page.wait_for_timeout(300)  # requests still finishing are counted with the visit
        by_kind: Counter = Counter()
        raw_by_kind: Counter = Counter()
        for request in finished:
            if not request.url.startswith(local):
                continue
            response = request.response()
            content_type = response.headers.get("content-type", "") if response else ""
            sizes = request.sizes()
            kind = kind_of(request.url, content_type)
            by_kind[kind] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            raw_by_kind[kind] += int(response.headers.get("content-length", 0) or 0) if response and not \
                response.headers.get("content-encoding") else sizes["responseBodySize"]
        return {"drawn_s": round(drawn_ms / 1000, 3), "exceptions": exceptions,
                "http_bytes": sum(by_kind.values()), "bytes_by_kind": dict(by_kind),
                "ws_bytes_received": ws_bytes[0], "ws_bytes_sent": ws_bytes[1], "requests": len(finished)}
    finally:
        context.close()


def measure(browser, url: str, need_charts: bool, runs: int, timeout_s: float) -> dict:  # noqa: ANN001
    """A warm-up visit (the server's caches), then `runs` first visits: median and p95 of the time, the bytes."""
    visit(browser, url, need_charts, timeout_s)
    visits = [visit(browser, url, need_charts, timeout_s) for _ in range(runs)]
    times = sorted(v["drawn_s"] for v in visits)
    last = visits[-1]
    return {"url": url, "runs": runs, "median_s": round(statistics.median(times), 3),
            "p95_s": times[min(len(times) - 1, int(0.95 * len(times)))], "min_s": times[0], "times_s": times,
            "exceptions": sum(v["exceptions"] for v in visits), "http_bytes": last["http_bytes"],
            "bytes_by_kind": last["bytes_by_kind"], "ws_bytes_received": last["ws_bytes_received"],
            "requests": last["requests"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, default=Path(os.environ.get("JOINTLY_DB", "/tmp/demo/jointly.duckdb")))
    p.add_argument("--bench-db", type=Path, default=Path("/tmp/bench/bench.duckdb"))
    p.add_argument("--group", default=BENCH_GROUP, help="the bench store's group to open")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--skip-bench", action="store_true", help="the demo only")
    p.add_argument("--timeout", type=float, default=90)
    p.add_argument("--copies", type=Path, default=Path("/tmp/bench_browser"),
                   help="where the bench store's demo copy is kept (about the store's size)")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    stores = [("demo", args.db, {"viewing_as": "Leader"})]
    if not args.skip_bench:
        stores.append(("bench500", args.bench_db, {"viewing_as": "Leader", "viewing_group": args.group}))
    for _, db, _ in stores:
        if not db.exists():
            print(f"No store at {db}", file=sys.stderr)
            return 2
    if not args.skip_bench:  # the bench store has no "viewing as": a copy switched to the demo's
        stores[1] = ("bench500", demo_copy(args.bench_db, args.copies), stores[1][2])
    taken: set[int] = set()
    cases: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_browser_") as tmp, sync_playwright() as pw:
        folder = Path(tmp)
        static_root = folder / "streamlit-static"
        precompress(static_root)
        empty = folder / "empty_app.py"
        empty.write_text(EMPTY_APP)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with app_server(empty, args.db, free_port(taken), folder) as url:
                cases["empty/direct"] = measure(browser, url, False, args.runs, args.timeout)
                print("empty/direct", cases["empty/direct"]["median_s"], file=sys.stderr, flush=True)
            for name, db, query in stores:
                app_port = free_port(taken)
                with app_server(ROOT / "serve.py", db, app_port, folder) as url:
                    q = "/?" + urlencode(query)
                    cases[f"{name}/direct"] = measure(browser, url + q, True, args.runs, args.timeout)
                    print(f"{name}/direct", cases[f"{name}/direct"]["median_s"], file=sys.stderr, flush=True)
                    with nginx_proxy(app_port, free_port(taken), folder / f"nginx-{name}", static_root) as proxied:
                        cases[f"{name}/nginx"] = measure(browser, proxied + q, True, args.runs, args.timeout)
                        print(f"{name}/nginx", cases[f"{name}/nginx"]["median_s"], file=sys.stderr, flush=True)
        finally:
            browser.close()
    floor = cases["empty/direct"]["median_s"]
    for case in cases.values():
        case["ratio_to_empty"] = round(case["median_s"] / floor, 2) if floor else None
    meta = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "db": str(args.db),
            "bench_db": None if args.skip_bench else str(args.bench_db), "group": args.group, "cores": os.cpu_count(),
            "viewport": VIEWPORT}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1) + "\n")
    print("| case | median s | p95 s | × empty | first visit MB (HTTP) | of which chart+map libs MB | websocket KB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, c in cases.items():
        libs = c["bytes_by_kind"].get("chart_and_map_libraries", 0)
        print(f"| {name} | {c['median_s']} | {c['p95_s']} | {c['ratio_to_empty']} | {c['http_bytes'] / 1e6:.2f} | "
              f"{libs / 1e6:.2f} | {c['ws_bytes_received'] / 1e3:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
