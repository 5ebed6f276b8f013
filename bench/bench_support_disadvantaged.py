"""Partners strong for disadvantaged pupils at national scale (issue 13 point 3): the one national ranking a request
makes (every school's disadvantaged value of the measure, ranked within the phase, and the top quarter's cut).

    python bench/bench_support_disadvantaged.py            # 17,000 primaries and 3,400 secondaries, synthetic rows

Prints medians and 95th percentiles (ms) of the ranking per measure; results also go to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.db.store import Store  # noqa: E402
from data.services.support import pupil_group_focus, pupil_group_ranking  # noqa: E402
from metrics.registry import load_registry  # noqa: E402

P = "2024/25"


def _world(store: Store, primaries: int, secondaries: int) -> None:
    """Schools with a disadvantaged and a non-disadvantaged row of each headline measure (cohorts 1 to 40)."""
    n = primaries + secondaries
    with store.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase, ord) SELECT 100000 + i, 'School ' || i, "
                    "CASE WHEN i < ? THEN 'primary' ELSE 'secondary' END, i FROM range(?) t(i)", [primaries, n])
        for measure, phase in (("ks2_rwm_expected", "primary"), ("ks2_rwm_high", "primary"),
                               ("attainment8", "secondary"), ("basics_94", "secondary")):
            cur.execute("""
                INSERT INTO pupil_group_observations (level, urn, measure, period, pupil_group, value, denominator,
                                                      status)
                SELECT 'school', e.urn, ?, ?, g, (hash(e.urn || g) % 1000) / 10.0, 1 + hash(e.urn) % 40, 'ok'
                FROM establishments e, (VALUES ('disadvantaged'), ('not_disadvantaged')) v(g) WHERE e.phase = ?
            """, [measure, P, phase])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--primaries", type=int, default=17_000)
    ap.add_argument("--secondaries", type=int, default=3_400)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("out"))
    args = ap.parse_args()
    registry = load_registry()
    result: dict[str, object] = {"primaries": args.primaries, "secondaries": args.secondaries,
                                 "load_average": round(os.getloadavg()[0], 1)}
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "b.duckdb") as store:
        _world(store, args.primaries, args.secondaries)
        for measure, phase in (("ks2_rwm_expected", "primary"), ("attainment8", "secondary")):
            m = registry.get(measure)
            pupil_group_focus(m, pupil_group_ranking(store, m, P, "disadvantaged"), "disadvantaged", phase)  # warm
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                focus = pupil_group_focus(m, pupil_group_ranking(store, m, P, "disadvantaged"), "disadvantaged",
                                          phase)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            result[measure] = {"median_ms": round(statistics.median(times), 1),
                               "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "ranked": focus.schools,
                               "cut": focus.cut}
    print(json.dumps(result, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "support_disadvantaged.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
