"""What the benchmark scripts share: a function's time over repeated runs, as median and 95th percentile."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, p95) milliseconds of `runs` calls of `fn`, after one call that warms caches and is not counted."""
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def bench_store_args(default_runs: int = 30) -> argparse.Namespace | None:
    """--db (the national-scale bench store, built by bench/bench_store.py) and --runs; None, said, when the store
    is not there yet."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=Path(__file__).with_name("out") / "bench.duckdb")
    ap.add_argument("--runs", type=int, default=default_runs)
    args = ap.parse_args()
    if not args.db.exists():
        print(f"no bench store at {args.db}: run bench/bench_store.py first")
        return None
    return args
