"""The post-import check and the undo archive at scale (issue 11 point 4).

    python bench/bench_store_check.py                   # the demo, then 24,000 schools x 5 years (several minutes)
    python bench/bench_store_check.py --schools 3000    # a quick run

1. data.ingest.store_check.check_store on the demo store (the default demo, built by data.demo.build.build_demo) and on
a
   national-size store (bench_store's: the demo's files for 24,000 schools imported through the real importers).
2. The undo archive: the national store's latest year re-imported (every value replaced by itself), with the file
   size before and after (both checkpointed) and the rows kept; then the time to undo that re-import.
Prints medians; results also go to bench/out/store_check.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import timed  # noqa: E402 (bench/ is on the path when a script runs)

from data.db.store import Store  # noqa: E402
from data.demo import build as demo  # noqa: E402
from data.demo.files import write_demo_files  # noqa: E402
from data.ingest.derived import refresh_derived  # noqa: E402
from data.ingest.importers import import_file  # noqa: E402
from data.ingest.store_check import check_store  # noqa: E402
from data.ingest.undo import TRACKED, undo_import  # noqa: E402


def _size_mb(store: Store) -> float:
    store.checkpoint()
    return store.path.stat().st_size / 1e6


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=24_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("out"))
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"schools": args.schools, "years": args.years}

    demo_db = out / "check_demo.duckdb"
    for p in (demo_db, Path(f"{demo_db}.wal")):
        p.unlink(missing_ok=True)
    t = time.perf_counter()
    demo.build_demo(demo_db)
    print(f"demo built in {time.perf_counter() - t:.0f} s")
    with Store(demo_db) as s:
        med, p95 = timed(lambda: check_store(s), args.runs)
        findings = check_store(s)
        results["demo"] = {"schools": s.info().establishments, "check_ms": {"median": round(med, 1),
                                                                            "p95": round(p95, 1)},
                           "findings": [f.text() for f in findings]}
    print(f"demo store: check_store median {med:.1f} ms, p95 {p95:.1f} ms; {len(findings)} findings")
    demo_db.unlink(missing_ok=True)

    db = out / "check_national.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    files = write_demo_files(out / "check_files", schools=args.schools, years=args.years)
    store = Store(db)
    t = time.perf_counter()
    for path, period in files:
        r = import_file(store, path, period, recluster=False)
        if not r.ok:
            print(r.summary())
            return 1
    store.recluster()
    refresh_derived(store)
    print(f"{args.schools:,} schools x {args.years} years imported in {time.perf_counter() - t:.0f} s")
    med, p95 = timed(lambda: check_store(store), args.runs)
    info = store.info()
    results["national"] = {"establishments": info.establishments, "school_observations": info.observations,
                           "check_ms": {"median": round(med, 1), "p95": round(p95, 1)}}
    print(f"national store ({info.observations:,} school values): check_store median {med:.1f} ms, p95 {p95:.1f} ms")

    latest = max(p for _, p in files if p)
    year_files = [(p, per) for p, per in files if per == latest]
    before_mb = _size_mb(store)
    t = time.perf_counter()
    ids = []
    for path, period in year_files:
        r = import_file(store, path, period, recluster=False)
        assert r.ok, r.summary()
        ids.append(r.import_id)
    reimport_s = time.perf_counter() - t
    after_mb = _size_mb(store)
    kept = {"observations": store.query("SELECT count(*) FROM import_archive_observations")[0][0]}
    for table in TRACKED:
        kept[table] = store.query(f"SELECT count(*) FROM import_archive_{table}")[0][0]  # noqa: S608
    t = time.perf_counter()
    for i in reversed(ids):
        undo_import(store, "bench", i)
    undo_s = time.perf_counter() - t
    results["reimport_latest_year"] = {
        "period": latest, "files": len(year_files), "seconds": round(reimport_s, 1),
        "store_mb_before": round(before_mb, 1), "store_mb_after": round(after_mb, 1),
        "extra_mb": round(after_mb - before_mb, 1), "rows_kept": {k: v for k, v in kept.items() if v},
        "undo_all_s": round(undo_s, 1)}
    print(f"re-import of {latest} ({len(year_files)} files) {reimport_s:.1f} s; store {before_mb:,.1f} MB -> "
          f"{after_mb:,.1f} MB (+{after_mb - before_mb:,.1f} MB); rows kept: "
          + ", ".join(f"{k} {v:,}" for k, v in kept.items() if v) + f"; undoing them all {undo_s:.1f} s")
    store.close()
    (out / "store_check.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(out / "check_files", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
