"""Pupil groups and the disadvantage gap on the national-scale bench store (build it with bench/bench_store.py).

    python bench/bench_pupil_groups.py [--db bench/out/bench.duckdb] [--runs 30]

Times, as medians and 95th percentiles over repeated runs with a warm store, the 500-school group's card as the
overview builds it today (its scorecard) and with pupil groups (the scorecard, then its disadvantage summary: every
headline measure's gap over the window, each member's part, the widening flags), and the ratio of the two (issue
13: within 1.5x); then a school's summary and the pupil-group view of one measure for the group.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import bench_store_args, timed  # noqa: E402 (bench/ is on the path when a script runs)

from data.db.store import Store  # noqa: E402
from data.services import groups, pupil_groups, schools  # noqa: E402
from data.services.scorecards import scorecard  # noqa: E402


def main() -> int:
    args = bench_store_args()
    if args is None:
        return 1
    store = Store(args.db)
    period = schools.periods(store)[-1]
    group = groups.find_group(store, "Benchmark 500-school partnership")
    gid = group.group_id
    members = groups.group_members(store, gid, period)
    rows = store.query("SELECT count(*) FROM pupil_group_observations WHERE level = 'school'")[0][0]
    secondary = store.query("SELECT urn FROM establishments WHERE phase = 'secondary' AND urn IN "
                            "(SELECT unnest(?::INTEGER[])) LIMIT 1", [members])[0][0]
    d = pupil_groups.disadvantage(store, group=gid, period=period)
    results: dict[str, object] = {"period": period, "group_members": len(members), "pupil_group_rows": rows,
                                  "gap_measures": [r.measure for r in d.rows]}

    def card() -> object:
        return scorecard(store, group=str(gid), period=period)

    def card_with_groups() -> object:
        return card(), pupil_groups.disadvantage(store, group=gid, period=period)

    for name, fn in [
        ("group500_card_ms", card),
        ("group500_card_with_pupil_groups_ms", card_with_groups),
        ("group500_disadvantage_ms", lambda: pupil_groups.disadvantage(store, group=gid, period=period)),
        ("school_disadvantage_ms", lambda: pupil_groups.disadvantage(store, school=secondary, period=period)),
        ("group500_pupil_group_view_ms",
         lambda: pupil_groups.pupil_group_view(store, group=gid, measure="attainment8", period=period)),
    ]:
        med, p95 = timed(fn, args.runs)
        results[name] = {"median": round(med, 1), "p95": round(p95, 1)}
        print(f"{name}: median {med:.1f} ms, p95 {p95:.1f} ms")
    ratio = results["group500_card_with_pupil_groups_ms"]["median"] / results["group500_card_ms"]["median"]
    results["ratio_card_with_pupil_groups_to_card"] = round(ratio, 2)
    print(f"card with pupil groups / card: {ratio:.2f}x (target: within 1.5x)")
    print(json.dumps(results, indent=2))
    (args.db.parent / "pupil_groups.json").write_text(json.dumps(results, indent=2))
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
