"""Families benchmark: the precomputed families at import, and the adjusted family a page asks for when a user
changes the variables, weights or kinds (issue 11 point 13), and partner suggestions (point 14), also those strong
for disadvantaged pupils (issue 13 point 3: one national ranking of the measure's disadvantaged values per request).

    python bench/bench_families.py --schools 300                      # the demo's size
    python bench/bench_families.py --schools 24000 --db /tmp/b.duckdb # national scale (builds it first if absent)

Prints medians and 95th percentiles over schools of each phase; results also go to bench/out/families.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.db.store import Store  # noqa: E402
from data.demo.build import build_demo  # noqa: E402
from data.ingest.derived import refresh_derived  # noqa: E402
from data.services import schools  # noqa: E402
from data.services.families import family  # noqa: E402
from data.services.support import support_partners  # noqa: E402
from metrics.families import FAMILY_VARIABLES, nearest  # noqa: E402

ADJUSTED = {"disadvantaged_pct": 2.0, "eal_pct": 1.0, "sen_support_pct": 0.0, "ehcp_pct": 1.0, "pupils": 0.5,
            "ks4_prior_attainment": 1.5, "fsm_pct": 0.0, "sen_pct": 1.0}


def _stats(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "n": len(times)}


def _time(fn, runs: int) -> list[float]:
    fn()  # warm: the first read loads the columns from disk
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def nearest_by_method(n: int, runs: int = 3) -> dict[str, object]:
    """Every school's family of 30 by kind on arrays of a phase's size (the import's work per phase and year): the
    brute force against the k-d tree, in the same run, with the families checked equal."""
    rng = np.random.default_rng(14)
    z = rng.normal(size=(n, len(FAMILY_VARIABLES)))
    z[rng.random(z.shape) < 0.05] = np.nan
    weights = np.array(list(FAMILY_VARIABLES.values()))
    kinds = np.where(rng.random(n) < 0.05, "selective", "mainstream")
    out: dict[str, object] = {"schools": n}
    got = {}
    for method, brute in (("brute_force", True), ("kdtree", False)):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            got[method] = nearest(z, weights, 30, groups=kinds, brute=brute)
            times.append((time.perf_counter() - t0) * 1000)
        out[method] = _stats(times)
    out["same_families"] = bool(np.array_equal(got["brute_force"][0], got["kdtree"][0]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=24_000)
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--db", type=Path, default=None, help="store to use (built with the demo's files if absent)")
    ap.add_argument("--per-phase", type=int, default=10, help="schools timed in each of primary and secondary")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("out"))
    ap.add_argument("--arrays-only", action="store_true", help="only the k-d tree against the brute force")
    args = ap.parse_args()
    db = args.db or args.out / f"families_{args.schools}.duckdb"
    result: dict[str, object] = {"schools": args.schools, "years": args.years}
    result["nearest_arrays"] = [nearest_by_method(n) for n in (3_400, 17_000)]
    print(json.dumps(result["nearest_arrays"], indent=2), flush=True)
    if args.arrays_only:
        return 0
    if not db.exists():
        t0 = time.perf_counter()
        build_demo(db, schools=args.schools, years=args.years)
        result["build_s"] = round(time.perf_counter() - t0, 1)
    with Store(db) as store:
        timings = refresh_derived(store)
        result["derived_families_s"] = round(timings["families"], 2)
        result["derived_total_s"] = round(sum(timings.values()), 2)
        period = schools.periods(store)[-1]
        result["period"] = period
        result["years"] = len(schools.periods(store))
        result["load_average"] = round(__import__("os").getloadavg()[0], 1)  # a shared machine: say how busy
        for phase in ("primary", "secondary"):
            urns = [u for (u,) in store.query(
                "SELECT DISTINCT urn FROM school_context WHERE phase = ? ORDER BY hash(urn) LIMIT ?",
                [phase, args.per_phase])]
            n_phase = store.query("SELECT count(DISTINCT urn) FROM school_context WHERE phase = ?", [phase])[0][0]
            measure = "attainment8" if phase == "secondary" else "ks2_rwm_expected"
            cases = {
                "default_family": lambda u: family(store, u, period=period),
                "adjusted_family": lambda u: family(store, u, weights=ADJUSTED, size=50, period=period),
                "every_kind": lambda u: family(store, u, period=period, same_kind=False),
                "partners_30km": lambda u, m=measure: support_partners(store, u, m, period),
                "partners_anywhere": lambda u, m=measure: support_partners(store, u, m, period, max_km=None),
                "partners_disadvantaged_30km": lambda u, m=measure: support_partners(store, u, m, period,
                                                                                     pupil_group="disadvantaged"),
                "partners_disadvantaged_anywhere": lambda u, m=measure: support_partners(
                    store, u, m, period, max_km=None, pupil_group="disadvantaged"),
            }
            phase_out: dict[str, object] = {"schools_in_phase": n_phase}
            for name, fn in cases.items():
                times: list[float] = []
                for u in urns:
                    times += _time(lambda u=u, fn=fn: fn(u), args.runs)
                phase_out[name] = _stats(times)
            result[phase] = phase_out
    print(json.dumps(result, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"families_{args.schools}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
