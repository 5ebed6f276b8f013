"""Scorecard speed on the national-scale bench store (build it first with bench/bench_store.py).

    python bench/bench_scorecard.py [--db bench/out/bench.duckdb] [--runs 30]

Times, as medians over repeated runs with a warm store: a 500-school group's full scorecard (all
measures, the period and five before it), a single school's, the DfE trust method, and support matching; then
the group's and the school's as pages read them (scoped by a leader of the group), and the access checks alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import bench_store_args, timed  # noqa: E402 (bench/ is on the path when a script runs)

from data.db.store import Store  # noqa: E402
from data.services import (
    groups,  # noqa: E402
    schools,  # noqa: E402
    scope,  # noqa: E402
)
from data.services.access import Role, Viewer, require_group, require_school  # noqa: E402
from data.services.scorecards import scorecard  # noqa: E402
from data.services.support import support_partners  # noqa: E402


def main() -> int:
    args = bench_store_args()
    if args is None:
        return 1
    store = Store(args.db, read_only=True)  # a read of the bench store: it is never written
    period = schools.periods(store)[-1]
    group = groups.find_group(store, "Benchmark 500-school partnership")
    members = groups.group_members(store, group.group_id, period)
    trust = store.query("SELECT g.group_id, count(*) n FROM groups g JOIN memberships m USING (group_id) "
                        "WHERE g.kind = 'trust' GROUP BY ALL ORDER BY n DESC LIMIT 1")[0]
    secondary = store.query("SELECT urn FROM establishments WHERE phase = 'secondary' AND urn IN "
                            "(SELECT unnest(?::INTEGER[])) LIMIT 1", [members])[0][0]
    card = scorecard(store, group=str(group.group_id), period=period)
    leader = Viewer(Role.LEADER, group.group_id, "bench leader")
    results = {"period": period, "group_members": len(members), "group_measures": len(card.rows),
               "group_periods": len(card.rows[0].trend)}
    for name, fn in [
        ("group500_scorecard_ms", lambda: scorecard(store, group=str(group.group_id), period=period)),
        ("school_scorecard_ms", lambda: scorecard(store, school=secondary, period=period)),
        (f"largest_trust_{trust[1]}_dfe_method_ms",
         lambda: scorecard(store, group=str(trust[0]), period=period, method="dfe_trust")),
        ("support_matching_ms", lambda: support_partners(store, secondary, "attainment8", period)),
        # the same reads as a page makes them: scoped by the viewer (a leader of the group) in the data layer
        ("scoped_group500_scorecard_ms", lambda: scope.group_scorecard(store, leader, group.group_id, period)),
        ("scoped_school_scorecard_ms", lambda: scope.school_scorecard(store, leader, secondary, period)),
        ("access_check_group_ms", lambda: require_group(store, leader, group.group_id)),
        ("access_check_school_ms", lambda: require_school(store, leader, secondary)),
    ]:
        med, p95 = timed(fn, args.runs)
        results[name] = {"median": round(med, 1), "p95": round(p95, 1)}
        print(f"{name}: median {med:.1f} ms, p95 {p95:.1f} ms")
    print(json.dumps(results, indent=2))
    (args.db.parent / "scorecard.json").write_text(json.dumps(results, indent=2))
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
