"""What reading a school's history across URNs costs: member_rows with and without earlier URNs.

    python bench/bench_lineage.py [--schools 24000] [--runs 30]

Builds a throwaway store in a temporary folder (nothing else is touched): `--schools` schools with 40 measures
over 6 years, a quarter of them converted (a predecessor URN holding their first three years), in 480 groups of
50 and one 500-school group; re-clusters it as an import would; then times, as medians over warm runs, the
500-school group's and one school's `schools.member_rows` for the 6 years, and the same read of a store whose
schools have no earlier URNs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import timed  # noqa: E402 (bench/ is on the path when a script runs)

from data.db.store import Store  # noqa: E402
from data.services import groups  # noqa: E402
from data.services import schools as schools_svc  # noqa: E402

PERIODS = ["2018/19", "2019/20", "2020/21", "2021/22", "2022/23", "2023/24"]
MEASURES = [f"m{i:02d}" for i in range(40)]


def build(path: Path, schools: int, lineage: bool) -> Store:
    """A store of `schools` schools (URNs 100000 up) and, with `lineage`, one predecessor (URN + 500000) for every
    fourth school holding its first three years."""
    s = Store(path)
    with s.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase) SELECT 100000 + i, 'School ' || i, 'secondary' "
                    "FROM range(?) t(i)", [schools])
        cur.execute("INSERT INTO groups (kind, name) SELECT 'trust', 'Trust ' || g FROM range(?) t(g)",
                    [schools // 50])
        cur.execute("INSERT INTO memberships (group_id, urn, start_date) SELECT 1 + i // 50, 100000 + i, NULL "
                    "FROM range(?) t(i)", [schools])
        big = cur.execute("INSERT INTO groups (kind, name) VALUES ('partnership', 'Big') RETURNING group_id"
                          ).fetchall()[0][0]
        cur.execute("INSERT INTO memberships (group_id, urn) SELECT ?, 100000 + i * 40 FROM range(500) t(i)", [big])
        own = "(i % 4 <> 0 OR p >= 3)" if lineage else "true"
        cur.execute(f"""
            INSERT INTO observations (level, urn, measure, period, value, denominator, status)
            SELECT 'school', 100000 + i, m, p_name, random() * 100, 100, 'ok'
            FROM range(?) t(i), (SELECT unnest(?::VARCHAR[]) AS m),
                 (SELECT unnest(?::VARCHAR[]) AS p_name, generate_subscripts(?::VARCHAR[], 1) - 1 AS p)
            WHERE {own}
        """, [schools, MEASURES, PERIODS, PERIODS])  # noqa: S608 (fixed text)
        if lineage:
            cur.execute("INSERT INTO establishments (urn, name, phase, status) SELECT 600000 + i, 'Old ' || i, "
                        "'secondary', 'closed' FROM range(0, ?, 4) t(i)", [schools])
            cur.execute("""
                INSERT INTO observations (level, urn, measure, period, value, denominator, status)
                SELECT 'school', 600000 + i, m, p_name, random() * 100, 100, 'ok'
                FROM range(0, ?, 4) t(i), (SELECT unnest(?::VARCHAR[]) AS m),
                     (SELECT unnest(?::VARCHAR[]) AS p_name, generate_subscripts(?::VARCHAR[], 1) - 1 AS p)
                WHERE p < 3
            """, [schools, MEASURES, PERIODS, PERIODS])
            cur.execute("INSERT INTO school_lineage SELECT 100000 + i, 600000 + i, 1, DATE '2021-09-01', '2020/21' "
                        "FROM range(0, ?, 4) t(i)", [schools])
    s.recluster()
    return s




def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=24_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for lineage in (False, True):
            s = build(Path(tmp) / f"l{int(lineage)}.duckdb", args.schools, lineage)
            big = groups.find_group(s, "Big").group_id
            members = groups.group_members(s, big, PERIODS[-1])
            n_obs = s.query("SELECT count(*) FROM observations")[0][0]
            rows = len(schools_svc.member_rows(s, members, PERIODS, MEASURES))
            g = timed(lambda s=s, members=members: schools_svc.member_rows(s, members, PERIODS, MEASURES), args.runs)
            one = timed(lambda s=s: schools_svc.member_rows(s, [100000], PERIODS, MEASURES, with_codes=True), args.runs)
            kind = "a quarter converted (earlier URNs)" if lineage else "no earlier URNs"
            print(f"{kind}: {n_obs:,} observations; 500-school group: {rows:,} rows in {g[0]:.1f} ms (p95 "
                  f"{g[1]:.1f}); one school: {one[0]:.1f} ms (p95 {one[1]:.1f})")
            s.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
