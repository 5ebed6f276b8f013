"""What a results snapshot costs (issue 12 point 7): the copy a writer makes, a writer's whole cycle with nothing to
write, a reader's check at every rerun, and a reader's open of a new snapshot.

    JOINTLY_DB=/path/demo.duckdb python -m data demo      # the default demo (2,000 schools), if there is none
    python bench/bench_snapshot.py --db /path/demo.duckdb  # works on a copy beside it; the store is not changed
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import timed  # noqa: E402
from data.db import snapshot  # noqa: E402
from data.db.state import copy_store  # noqa: E402
from data.db.store import Store  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.db.parent) as tmp:
        db = Path(tmp) / "bench.duckdb"
        copy_store(args.db, db)
        size = db.stat().st_size / 1e6
        copy = Path(tmp) / "copy.duckdb"

        def one_copy() -> None:
            snapshot.fast_copy(db, copy)
            copy.unlink()

        def writer_cycle() -> None:
            with snapshot.next_snapshot(db):
                pass

        def reader_open() -> None:
            Store.open(db, read_only=True).close()

        results = {
            "copy (fast_copy, fsync)": timed(one_copy, args.runs),
            "writer cycle, nothing written (lock, copy, open, checkpoint, close, fsync, rename)":
                timed(writer_cycle, args.runs),
            "reader's check per rerun (os.stat)": timed(lambda: snapshot.current_id(db), 2000),
            "reader's open of a new snapshot (Store.open read-only, the state mirror loaded)":
                timed(reader_open, args.runs),
        }
    print(f"{args.db} ({size:,.1f} MB):")
    for name, (median, p95) in results.items():
        print(f"  {name}: median {median:,.3f} ms, p95 {p95:,.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
