"""What the benchmark scripts share: a function's time over repeated runs, as median and 95th percentile."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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
