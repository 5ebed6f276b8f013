"""National-scale store benchmark: import time per DfE file kind, and the time to read a big group.

    python bench/bench_store.py                 # 24,000 schools x 5 years (about 3-4 minutes)
    python bench/bench_store.py --schools 3000  # a quick run

Writes synthetic files in the DfE formats (data.demo.build), imports them through the real importers
year by year, then times reading a 500-school group's observations (all measures, all years).
Prints medians; results also go to bench/out/store.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.db.store import Store  # noqa: E402
from data.demo import build as demo  # noqa: E402
from data.demo.files import write_demo_files  # noqa: E402
from data.ingest.derived import refresh_derived  # noqa: E402
from data.ingest.importers import import_file  # noqa: E402
from data.services import (
    groups,  # noqa: E402
    schools,  # noqa: E402
)


def _median_ms(fn, runs: int) -> tuple[float, float, int]:
    times, n = [], 0
    fn()  # warm: first read loads the columns from disk
    for _ in range(runs):
        t0 = time.perf_counter()
        n = len(fn())
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=24_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("out"))
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    out: Path = args.out
    files_dir = out / "files"
    db = out / "bench.duckdb"
    out.mkdir(parents=True, exist_ok=True)
    for p in (db, db.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)

    t0 = time.perf_counter()
    files = write_demo_files(files_dir, schools=args.schools, years=args.years, seed=args.seed)
    write_s = time.perf_counter() - t0
    total_mb = sum(p.stat().st_size for p, _ in files) / 1e6
    print(f"wrote {len(files)} files ({total_mb:,.0f} MB) for {args.schools:,} schools x {args.years} years "
          f"in {write_s:.1f} s")

    store = Store(db)
    per_kind: dict[str, list[float]] = defaultdict(list)
    per_period: dict[str, float] = defaultdict(float)
    rows_by_kind: dict[str, int] = defaultdict(int)
    t_all = time.perf_counter()
    for path, period in files:
        r = import_file(store, path, period, recluster=False)
        if not r.ok:
            print(r.summary())
            return 1
        per_kind[r.kind].append(r.seconds)
        rows_by_kind[r.kind] = max(rows_by_kind[r.kind], r.rows_read)
        if r.periods and r.kind in ("ks4final", "ks2final", "census", "abs", "swf", "cfr", "ks4-pupdest"):
            per_period[r.periods[0]] += r.seconds
    import_s = time.perf_counter() - t_all
    t = time.perf_counter()
    store.recluster()
    recluster_s = time.perf_counter() - t
    t = time.perf_counter()
    derived_steps = refresh_derived(store)
    derived_s = time.perf_counter() - t

    latest = max(per_period)
    perf_files = [(p, per) for p, per in files if per == latest]
    t = time.perf_counter()
    for path, period in perf_files:
        r = import_file(store, path, period, recluster=False)
        assert r.ok, r.summary()
    reimport_s = time.perf_counter() - t

    info = store.info()
    print(f"derived tables (percentiles, families, expectations) {derived_s:.1f} s: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in derived_steps.items()))
    print(f"imported everything in {import_s:.1f} s; recluster {recluster_s:.1f} s; store: "
          f"{info.observations:,} school observations, {info.benchmarks:,} benchmarks, "
          f"{db.stat().st_size / 1e6:,.0f} MB")

    # A 500-school group: the 500 schools nearest a point, as a regional partnership would be.
    near = store.query(
        "SELECT urn FROM establishments WHERE latitude IS NOT NULL "
        "ORDER BY (latitude - 52.6) ^ 2 + (longitude + 1.5) ^ 2 LIMIT 500")
    members = [r[0] for r in near]
    gid = groups.create_group(store, "partnership", "Benchmark 500-school partnership", source="bench")
    groups.add_memberships(store, gid, members, source="bench")
    store.recluster()
    periods = info.periods
    # the read the scorecard engine makes: through Arrow (fast=True), as data/services/scorecards.py does
    group_read = lambda: schools.school_observations(store, groups.group_members(store, gid), periods, fast=True)  # noqa: E731
    med, p95, n = _median_ms(group_read, args.runs)
    scattered = [r[0] for r in store.query("SELECT urn FROM establishments USING SAMPLE 500 ROWS (reservoir, 7)")]
    med_s, p95_s, n_s = _median_ms(lambda: schools.school_observations(store, scattered, periods, fast=True), args.runs)
    one = members[0]
    med_1, p95_1, n_1 = _median_ms(lambda: schools.school_observations(store, [one], periods, fast=True), args.runs)

    results = {
        "schools": args.schools, "years": args.years, "files_mb": round(total_mb, 1),
        "write_files_s": round(write_s, 1), "import_all_s": round(import_s, 1),
        "recluster_s": round(recluster_s, 2),
        "derived_s": round(derived_s, 1), "derived_steps_s": {k: round(v, 2) for k, v in derived_steps.items()},
        "import_s_by_kind_median": {k: round(statistics.median(v), 2) for k, v in sorted(per_kind.items())},
        "rows_by_kind": dict(sorted(rows_by_kind.items())),
        "perf_tables_one_year_s": {k: round(v, 1) for k, v in sorted(per_period.items())},
        "reimport_latest_year_s": round(reimport_s, 1),
        "school_observations": info.observations, "benchmarks": info.benchmarks,
        "store_mb": round(db.stat().st_size / 1e6, 1),
        "group500_read_ms": {"median": round(med, 1), "p95": round(p95, 1), "rows": n},
        "scattered500_read_ms": {"median": round(med_s, 1), "p95": round(p95_s, 1), "rows": n_s},
        "one_school_read_ms": {"median": round(med_1, 2), "p95": round(p95_1, 2), "rows": n_1},
    }
    store.close()
    print("\n| file kind | rows (largest year) | import, median of years (s) |\n|---|---|---|")
    for k, v in results["import_s_by_kind_median"].items():
        print(f"| {k} | {results['rows_by_kind'][k]:,} | {v} |")
    print("\n| period | all performance-table files (s) |\n|---|---|")
    for k, v in results["perf_tables_one_year_s"].items():
        print(f"| {k} | {v} |")
    print(f"\nre-import of the latest year over a full store (replace): {reimport_s:.1f} s")
    print(f"500-school group read, {len(periods)} periods: median {med:.1f} ms, p95 {p95:.1f} ms ({n:,} rows)")
    print(f"500 scattered schools read: median {med_s:.1f} ms, p95 {p95_s:.1f} ms ({n_s:,} rows)")
    print(f"one school read: median {med_1:.2f} ms ({n_1} rows)")
    (out / "store.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
