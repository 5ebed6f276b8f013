"""The parents' static site (issue 16): how fast it builds and how small its pages are, for a region's publications.

    python bench/bench_site.py                                        # the demo store, 40 partnerships published
    python bench/bench_site.py --db /tmp/demo/jointly.duckdb --groups 40 --runs 3

A copy of the store (data.db.state.copy_store: the store given is never written) gets up to --groups publications:
the demo's own, then the latest year of each further partnership, federation and cluster (largest first), each after
its members' recorded agreement, through the same audited writes as the Publish button
(data.services.publications.publish). Then data.outputs.site.build_site writes the whole site --runs times, each into
a new folder; the time of each build is measured whole (reading the snapshots, rendering, writing, swapping in).

Printed: the build's median and p95, pages per second, and the bytes of every HTML page with its CSS (what a first
visit to that page downloads: the page and the one stylesheet; the search script and index only on the index page)
as median, p95 and max, raw and gzipped (level 6, as nginx's default). JSON to bench/out/site.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.db.state import copy_store  # noqa: E402
from data.db.store import Store  # noqa: E402
from data.demo.publication import DEMO_MEASURES, _record_consents  # noqa: E402
from data.outputs.site import build_site  # noqa: E402
from data.services import groups, schools  # noqa: E402
from data.services.access import Role, Viewer  # noqa: E402
from data.services.publications import find_publications, publish  # noqa: E402

KINDS = ("partnership", "federation", "cluster")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def publish_many(store: Store, wanted: int) -> tuple[int, float]:
    """Publish the latest year of groups until `wanted` are current (the demo's own counts); (how many, seconds)."""
    viewer = Viewer(Role.ADMIN, None, "bench")
    period = schools.periods(store)[-1]
    have = {p["group_id"] for p in find_publications(store, "")}
    frame = groups.groups(store)
    frame = frame[frame["kind"].isin(KINDS) & ~frame["group_id"].isin(have)]
    size = "members" if "members" in frame.columns else None
    if size:
        frame = frame.sort_values(size, ascending=False)
    t0 = time.perf_counter()
    for gid in frame["group_id"].tolist():
        if len(have) >= wanted:
            break
        _record_consents(store, viewer, int(gid), period)
        pub, _problems = publish(store, viewer, int(gid), period, list(DEMO_MEASURES), {})
        if pub is not None:
            have.add(int(gid))
    return len(have), time.perf_counter() - t0


def page_bytes(site: Path) -> tuple[list[int], list[int]]:
    """(raw, gzipped) bytes of each HTML page with the stylesheet(s) it links."""
    css = {p.name: p.read_bytes() for p in (site / "assets").glob("*.css")}
    raw, packed = [], []
    for page in sorted(site.rglob("*.html")):
        body = page.read_bytes()
        linked = [c for name, c in css.items() if name.encode() in body]
        raw.append(len(body) + sum(len(c) for c in linked))
        packed.append(len(gzip.compress(body, 6)) + sum(len(gzip.compress(c, 6)) for c in linked))
    return raw, packed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/demo/jointly.duckdb"), help="a built demo store")
    ap.add_argument("--groups", type=int, default=40, help="publications to build the site from")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not args.db.exists():
        print(f"no store at {args.db}: build one with `JOINTLY_DB={args.db} python -m data demo`")
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        db = Path(tmp) / "site.duckdb"
        copy_store(args.db, db)
        with Store(db) as store:
            published, publishing = publish_many(store, args.groups)
            times, reports = [], []
            for run in range(args.runs):
                out = Path(tmp) / f"site{run}"
                t0 = time.perf_counter()
                reports.append(build_site(store, out))
                times.append(time.perf_counter() - t0)
        report = reports[-1]
        raw, packed = page_bytes(report.out)
        files = sum(1 for p in report.out.rglob("*") if p.is_file())
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "store": str(args.db),
        "publications": published, "publishing_s": round(publishing, 2), "pages": report.pages, "files": files,
        "build_median_s": round(statistics.median(times), 3), "build_p95_s": round(_pct(times, 0.95), 3),
        "pages_per_s": round(report.pages / statistics.median(times), 1),
        "page_bytes": {"median": statistics.median(raw), "p95": _pct(raw, 0.95), "max": max(raw)},
        "page_bytes_gzip": {"median": statistics.median(packed), "p95": _pct(packed, 0.95), "max": max(packed)},
        "pages_over_100kb": sum(1 for b in raw if b > 100_000),
    }
    print(f"{published} publications (publishing them took {publishing:.1f} s): {report.pages} pages, {files} files")
    print(f"build: median {result['build_median_s']:.2f} s, p95 {result['build_p95_s']:.2f} s over {args.runs} runs; "
          f"{result['pages_per_s']:.0f} pages/s")
    for label, key in (("page + CSS", "page_bytes"), ("gzipped", "page_bytes_gzip")):
        b = result[key]
        print(f"{label:>10}: median {b['median']:,.0f} B, p95 {b['p95']:,} B, max {b['max']:,} B")
    print(f"pages over 100 KB: {result['pages_over_100kb']}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "site.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
