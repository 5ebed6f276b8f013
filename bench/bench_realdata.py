"""What each real DfE, Ofsted and GIAS file in ../shared/realdata gives the store, and how long it takes.

    python bench/bench_realdata.py            # every .csv and .xlsx under ../shared/realdata
    python bench/bench_realdata.py --json     # the same as JSON (bench/out/realdata.json)

Each file is imported on its own into a fresh store (the Compare School Performance files with the academic year
their folder's file name stands for, every other kind reads its own year or needs none), and the report's counts are
printed beside the rows each table gained, so pupil-group rows, inspections, links and DfE's trust figures are
counted too. A refused file prints its sentence. Median of three imports per file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from data.db.store import Store  # noqa: E402
from data.ingest.importers import import_file  # noqa: E402

REAL = HERE.parent / "shared" / "realdata"
# Compare School Performance files carry no year: 815_2019_* are the 2018/19 tables (as the tests read them)
PERIODS = {"815_2018_": "2017/18", "815_2019_": "2018/19"}


def _period(path: Path) -> str | None:
    return next((p for prefix, p in PERIODS.items() if path.name.startswith(prefix)), None)


def _table_counts(store: Store) -> dict[str, int]:
    names = [r[0] for r in store.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'")]
    # table names come from the catalogue, never from a file
    return {n: store.query(f'SELECT count(*) FROM "{n}"')[0][0] for n in names}  # noqa: S608


def measure(path: Path, runs: int = 3) -> dict:
    times, out = [], {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "s.duckdb")
            before = _table_counts(store)
            t0 = time.perf_counter()
            report = import_file(store, path, _period(path))
            times.append(time.perf_counter() - t0)
            after = _table_counts(store)
            store.close()
        gained = {t: after[t] - before.get(t, 0) for t in after
                  if after[t] != before.get(t, 0) and t not in ("imports", "audit_log", "settings")}
        out = {
            "file": str(path.relative_to(REAL)), "ok": report.ok, "kind": report.kind,
            "periods": report.periods, "rows": report.rows_read, "schools": report.schools,
            "values": report.observations, "benchmarks": report.benchmarks, "tables": gained,
            "problems": len(report.problems), "message": report.message,
        }
    out["seconds_median"] = round(statistics.median(times), 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    files = sorted(p for p in REAL.rglob("*") if p.suffix in (".csv", ".xlsx"))
    results = [measure(p, args.runs) for p in files]
    out_dir = Path(__file__).with_name("out")
    out_dir.mkdir(exist_ok=True)
    (out_dir / "realdata.json").write_text(json.dumps(results, indent=1))
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print("| file | kind | year(s) | rows | schools | values | benchmarks | other rows stored | s (median) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if not r["ok"]:
            print(f"| {r['file']} | refused | | {r['rows']:,} | | | | {r['message'][:150]} | {r['seconds_median']} |")
            continue
        other = ", ".join(f"{t} {n:,}" for t, n in sorted(r["tables"].items()) if t != "observations")
        print(f"| {r['file']} | {r['kind']} | {', '.join(r['periods'])} | {r['rows']:,} | {r['schools']:,} | "
              f"{r['values']:,} | {r['benchmarks']:,} | {other} | {r['seconds_median']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
