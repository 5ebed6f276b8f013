"""Import time and peak memory of a national-size EES KS2 school file (one row per school, breakdown and subject).

    python bench/bench_ees_ks2_national.py                 # 16,500 schools x 8 breakdowns x 6 subjects
    python bench/bench_ees_ks2_national.py --schools 2000  # a quick run

Writes the file in the columns of tests/fixtures/ees_ks2_school_attainment_data.csv (DfE's KS2 school-level
layout, see docs/data.md), imports it into an empty store in a child process, and prints rows, cells, seconds and
the child's peak memory (VmHWM: Linux carries ru_maxrss across fork and exec).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
FIXTURE = HERE / "tests" / "fixtures" / "ees_ks2_school_attainment_data.csv"
BREAKDOWNS = [("All pupils", "Total"), ("Disadvantage status", "Disadvantaged"),
              ("Disadvantage status", "Not known to be disadvantaged"), ("Sex", "Boys"), ("Sex", "Girls"),
              ("First language", "Known or believed to be English"),
              ("First language", "Known or believed to be other than English"), ("Mobility status", "Non mobile")]
SUBJECTS = ["Reading, writing and maths", "Reading", "Writing", "Maths", "Grammar, punctuation and spelling",
            "Science"]

CHILD = """
import sys, time
sys.path.insert(0, {here!r})
from data.ingest.importers import import_file
from data.db.store import Store
store = Store.open({db!r})
t0 = time.perf_counter()
r = import_file(store, {path!r})
took = time.perf_counter() - t0
hwm = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM'))
print(r.ok, r.rows_read, r.schools, r.observations, round(took, 1), hwm // 1024, (r.message or '')[:200])
"""


def write(path: Path, schools: int) -> tuple[int, int]:
    with open(FIXTURE, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, template = rows[0], rows[1]
    col = {c: i for i, c in enumerate(header)}
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writerow(header)
        for s in range(schools):
            urn = str(100000 + s)
            for topic, words in BREAKDOWNS:
                for subject in SUBJECTS:
                    row = list(template)
                    row[col["time_period"]] = "202425"
                    row[col["version"]] = "Provisional"
                    row[col["school_urn"]] = urn
                    row[col["school_laestab"]] = str(8002000 + s)
                    row[col["school_name"]] = f"School {s}"
                    row[col["breakdown_topic"]], row[col["breakdown"]] = topic, words
                    row[col["subject"]] = subject
                    row[col["expected_standard_pupil_percent"]] = str(40 + (s * 7 + n) % 50)
                    row[col["higher_standard_pupil_percent"]] = str(3 + (s + n) % 20)
                    w.writerow(row)
                    n += 1
    return n, n * len(header)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=16_500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "202425_ks2_school_attainment_provisional.csv"
        t0 = time.perf_counter()
        rows, cells = write(path, args.schools)
        mb = path.stat().st_size / 1e6
        print(f"wrote {rows:,} rows ({cells:,} cells, {mb:,.0f} MB) for {args.schools:,} schools in "
              f"{time.perf_counter() - t0:.1f} s")
        code = CHILD.format(here=str(HERE), db=str(Path(tmp) / "s.duckdb"), path=str(path))
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode:
            print(done.stderr[-2000:])
            return 1
        ok, read, schools, values, took, peak, message = done.stdout.split(" ", 6)
        print(f"import: ok={ok} rows {int(read):,}; schools {int(schools):,}; values {int(values):,}; "
              f"{took} s; peak memory {int(peak):,} MB {message.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
