"""The state store's cost on the scorecard hot read (issue 12 point 8), in one process and interleaved so both sides
see the same machine load: reads through the mirror (each cursor's search_path set to it; `observations` a view over
the results file's rows and the state's local values) against the same reads straight from the results file.

    python bench/bench_state_read.py --db bench/out/bench.duckdb [--runs 24]   # bench/bench_store.py builds it
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.db.store import Store  # noqa: E402
from data.services import (
    groups,  # noqa: E402
    schools,  # noqa: E402
)
from data.services.scorecards import scorecard  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=Path(__file__).with_name("out") / "bench.duckdb")
    ap.add_argument("--runs", type=int, default=24)
    args = ap.parse_args()
    s = Store(args.db, read_only=True)
    period = schools.periods(s)[-1]
    g = groups.find_group(s, "Benchmark 500-school partnership")
    urns = groups.group_members(s, g.group_id, period)
    periods = schools.periods(s)[-6:]
    measures = [r[0] for r in s.query("SELECT DISTINCT measure FROM national_quantiles")]
    mirror = s._mirror  # noqa: SLF001 (the comparison is with and without it)
    res: dict[str, list[float]] = {k: [] for k in ("mirror_rows", "direct_rows", "mirror_card", "direct_card")}
    for i in range(args.runs):
        order = (("mirror", mirror), ("direct", None)) if i % 2 else (("direct", None), ("mirror", mirror))
        for name, mir in order:
            s._mirror = mir  # noqa: SLF001
            t = time.perf_counter()
            schools.member_rows(s, urns, periods, measures)
            res[name + "_rows"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            scorecard(s, group=str(g.group_id), period=period)
            res[name + "_card"].append((time.perf_counter() - t) * 1000)
    s._mirror = mirror  # noqa: SLF001
    for k, v in res.items():
        v = sorted(v[2:])  # the first two of each warm the caches
        print(f"{k}: median {statistics.median(v):.1f} ms, p95 {v[int(0.95 * (len(v) - 1))]:.1f} ms (n={len(v)})")
    s.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
