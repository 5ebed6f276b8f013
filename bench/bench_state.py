"""The state store's costs (issue 12 point 8): a target written through governance.set_target (the write, its audit line
and this process's mirror reload), on SQLite and on PostgreSQL; and what another process's next rerun pays to see
it (Store.refresh after one write), and when nothing changed.

    python bench/bench_state.py --db /tmp/A/demo.duckdb [--runs 50]   # the demo store (python -m data demo)

PostgreSQL is timed on a throwaway cluster (tests/pgcluster.py) when it is installed. Results: bench/out/state.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from timing import timed  # noqa: E402 (bench/ is on the path when a script runs)

from data.db.state import StateStore, copy_state, copy_store  # noqa: E402
from data.db.store import Store  # noqa: E402
from data.services import (
    governance,  # noqa: E402
    schools,  # noqa: E402
)


def _measure(path: Path, runs: int) -> dict[str, dict[str, float]]:
    writer, reader = Store(path, read_only=True), Store(path, read_only=True)
    try:
        gid = int(writer.query("SELECT group_id FROM groups WHERE kind = 'partnership' ORDER BY group_id "
                               "LIMIT 1")[0][0])
        period = schools.periods(writer)[-1]
        n = iter(range(10**6))
        write = timed(lambda: governance.set_target(writer, "group", gid, "attainment8", period, 40 + next(n) % 20,
                                                    actor="bench"), runs)
        idle = timed(reader.refresh, runs)

        def one_write_then_refresh() -> None:
            governance.set_target(writer, "group", gid, "attainment8", period, 40 + next(n) % 20, actor="bench")

        after = []
        for _ in range(runs):
            one_write_then_refresh()
            t0 = time.perf_counter()
            reader.refresh()
            after.append((time.perf_counter() - t0) * 1000)
        after.sort()
        return {"set_target_ms": _r(write), "refresh_nothing_new_ms": _r(idle),
                "refresh_after_one_write_ms": {"median": round(after[len(after) // 2], 2),
                                               "p95": round(after[int(0.95 * (len(after) - 1))], 2)}}
    finally:
        writer.close()
        reader.close()


def _r(pair: tuple[float, float]) -> dict[str, float]:
    return {"median": round(pair[0], 2), "p95": round(pair[1], 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("JOINTLY_STATE_URL", None)
        path = Path(tmp) / "bench.duckdb"
        copy_store(args.db, path)
        results["sqlite"] = _measure(path, args.runs)
        print("sqlite:", json.dumps(results["sqlite"]))
        from pgcluster import cluster, fresh_database, pg_bin

        if pg_bin() is not None:
            with cluster() as admin:
                url = fresh_database(admin)
                src, dst = StateStore.open(f"sqlite:///{path.with_suffix('.state.sqlite')}"), StateStore.open(url)
                copy_state(src, dst)  # the demo's state, into a fresh database
                src.close()
                dst.close()
                os.environ["JOINTLY_STATE_URL"] = url
                try:
                    results["postgresql"] = _measure(path, args.runs)
                finally:
                    os.environ.pop("JOINTLY_STATE_URL", None)
                print("postgresql:", json.dumps(results["postgresql"]))
    out = Path(__file__).with_name("out")
    out.mkdir(exist_ok=True)
    (out / "state.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
