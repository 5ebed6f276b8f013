"""One national year of today's files imported, against the parse floor of the same run (issue 14 point 4).

    python bench/bench_import.py                         # the bench store's files and store (/tmp/bench)
    python bench/bench_import.py --repo /work/main       # another checkout's importer, same floor
    python bench/bench_import.py --files DIR --store DB  # other files / a store already holding earlier years

The year: the four files a data manager imports for a year in today's EES formats (the KS4 and KS2 school-level
performance files, information about schools, the school census), as bench/bench_store.py writes them (it writes
them when --files does not exist: `write_demo_files`). The store: a copy of --store with that year forgotten (made
once, kept in --work), so the import adds a year to a store holding the earlier ones, as a real import does.

Each measurement runs in a fresh process and reports its VmHWM: the floors (pandas read_csv of every cell as text,
melted to long with the numbers parsed; DuckDB read_csv into a table), Jointly's parse alone (read, detect, build the
batch), and Jointly's import of the four files (import_file each, then the derived tables once, as `python -m data
import` does). Prints seconds, MiB and ratios per file and for the year; writes bench/out/import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

YEAR = "2025/26"
NAMES = ("202526_performance_tables_schools_provisional.csv", "202526_ks2_performance_tables_schools_provisional.csv",
         "202526_information_about_schools_provisional.csv", "spc_school_level_202526.csv")
KEYS = ("time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
        "region_name", "old_la_code", "new_la_code", "la_name", "school_laestab", "school_urn", "urn", "school_name",
        "version", "establishment_type_group", "breakdown_topic", "breakdown", "subject", "disadvantage_status",
        "sex", "first_language", "mobility", "laestab", "estab")

PEAK = ("peak = int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]) / 1024\n")

FLOOR_PANDAS = """
import sys, time, json
import pandas as pd
KEYS = set(sys.argv[2].split(','))
t0 = time.perf_counter()
cells = 0
for path in sys.argv[1].split('|'):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    ids = [c for c in df.columns if c in KEYS]
    long = df.melt(id_vars=ids, var_name='column', value_name='cell')
    long['value'] = pd.to_numeric(long['cell'], errors='coerce')
    cells += len(long)
    del df, long
s = time.perf_counter() - t0
""" + PEAK + "print(json.dumps({'s': s, 'mib': peak, 'cells': cells}))"

FLOOR_DUCKDB = """
import sys, time, json
import duckdb
con = duckdb.connect()
t0 = time.perf_counter()
rows = 0
for i, path in enumerate(sys.argv[1].split('|')):
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [path])
    rows += con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    con.execute("DROP TABLE t")
s = time.perf_counter() - t0
""" + PEAK + "print(json.dumps({'s': s, 'mib': peak, 'rows': rows}))"  # noqa: S608 (a child script, no input)

PARSE = """
import sys, time, json
from pathlib import Path
from data.ingest.reading import read_table
from data.ingest.formats import detect_kind
from data.ingest.importers import build_batch, _resolve_period
t0 = time.perf_counter()
values = 0
for path in sys.argv[1].split('|'):
    table = read_table(Path(path))
    kind = detect_kind(set(table.columns), Path(path).name)
    batch = build_batch(table, kind, _resolve_period(Path(path), kind, None))
    values += len(getattr(batch, 'observations', ()) or ())
s = time.perf_counter() - t0
""" + PEAK + "print(json.dumps({'s': s, 'mib': peak, 'values': values}))"

IMPORT = """
import sys, time, json
from data.db.store import Store
from data.ingest import derived
from data.ingest.importers import import_file, after_imports
steps = {}
_inner = derived.refresh_derived_in
def _timed(*a, **k):
    out = _inner(*a, **k)
    steps.update(out)
    return out
derived.refresh_derived_in = _timed
store = Store(sys.argv[1])
t0 = time.perf_counter()
files = {}
reports = []
for path in sys.argv[2].split('|'):
    r = import_file(store, path, None, recluster=False)
    if not r.ok:
        print(json.dumps({'error': r.summary()}))
        raise SystemExit(1)
    files[path] = {'s': r.seconds, 'kind': r.kind, 'values': r.observations}
    reports.append(r)
t1 = time.perf_counter()
after_imports(store, reports)
t2 = time.perf_counter()
store.close()
""" + PEAK + ("print(json.dumps({'s': t2 - t0, 'files_s': t1 - t0, 'after_s': t2 - t1, 'mib': peak, 'files': files, "
              "'derived_steps': steps}))")


def child(code: str, args: list[str], repo: Path) -> dict:
    """Run one measurement in a fresh interpreter (its own VmHWM) and return what it printed."""
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)},
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed: {out.stdout[-2000:]}{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def year_files(files: Path, schools: int) -> list[Path]:
    """The four files of the year, written as bench_store writes them when absent."""
    if not files.exists():
        from data.demo.files import write_demo_files

        write_demo_files(files, schools=schools, years=5)
    found = {p.name: p for p in files.rglob("*.csv")}
    missing = [n for n in NAMES if n not in found]
    if missing:
        raise SystemExit(f"{files} lacks {', '.join(missing)}")
    return [found[n] for n in NAMES]


def base_store(store: Path, work: Path) -> Path:
    """A copy of the store without the year (made once): the store a data manager holds before importing it."""
    base = work / "base.duckdb"
    if base.exists():
        return base
    from data.db.store import Store
    from data.ingest.derived import forget_period

    tmp = work / "making.duckdb"
    shutil.copy(store, tmp)
    state = store.with_suffix(".state.sqlite")
    if state.exists():
        shutil.copy(state, tmp.with_suffix(".state.sqlite"))
    s = Store(tmp)
    t = time.perf_counter()
    forget_period(s, YEAR, actor="bench")
    s.close()
    print(f"base store: {YEAR} forgotten from a copy of {store} in {time.perf_counter() - t:.1f} s")
    tmp.rename(base)
    if tmp.with_suffix(".state.sqlite").exists():
        tmp.with_suffix(".state.sqlite").rename(base.with_suffix(".state.sqlite"))
    return base


def fresh_copy(base: Path, work: Path, name: str) -> Path:
    """A writable copy of the base store (and its state store) for one import run."""
    db = work / f"{name}.duckdb"
    for p in (db, db.with_suffix(".duckdb.wal"), db.with_suffix(".state.sqlite")):
        p.unlink(missing_ok=True)
    shutil.copy(base, db)
    if base.with_suffix(".state.sqlite").exists():
        shutil.copy(base.with_suffix(".state.sqlite"), db.with_suffix(".state.sqlite"))
    return db


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=Path, default=Path("/tmp/bench/files"))
    ap.add_argument("--store", type=Path, default=Path("/tmp/bench/bench.duckdb"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/wt-I/bench_import"))
    ap.add_argument("--repo", type=Path, action="append", help="checkout(s) whose importer is measured")
    ap.add_argument("--schools", type=int, default=24_000)
    ap.add_argument("--runs", type=int, default=1, help="import runs per checkout (the floors run as often)")
    ap.add_argument("--out", type=Path, default=HERE / "bench" / "out" / "import.json")
    args = ap.parse_args()
    repos = args.repo or [HERE]
    args.work.mkdir(parents=True, exist_ok=True)
    paths = year_files(args.files, args.schools)
    base = base_store(args.store, args.work)
    keys = ",".join(KEYS)
    results: dict = {"files": {p.name: round(p.stat().st_size / 1048576, 1) for p in paths}, "runs": []}
    for run in range(args.runs):
        row: dict = {"per_file": {}}
        for p in paths:
            row["per_file"][p.name] = {
                "pandas": child(FLOOR_PANDAS, [str(p), keys], HERE),
                "duckdb": child(FLOOR_DUCKDB, [str(p)], HERE),
                **{f"parse@{r.name}": child(PARSE, [str(p)], r) for r in repos},
            }
        joined = "|".join(str(p) for p in paths)
        row["year"] = {"pandas": child(FLOOR_PANDAS, [joined, keys], HERE),
                       "duckdb": child(FLOOR_DUCKDB, [joined], HERE)}
        for r in repos:
            row["year"][f"parse@{r.name}"] = child(PARSE, [joined], r)
            db = fresh_copy(base, args.work, f"run{run}_{r.name}")
            row["year"][f"import@{r.name}"] = child(IMPORT, [str(db), joined], r)
            db.unlink(missing_ok=True)
            db.with_suffix(".state.sqlite").unlink(missing_ok=True)
        results["runs"].append(row)
        report(row, repos)
    floor_s = [r["year"]["pandas"]["s"] for r in results["runs"]]
    floor_mib = [r["year"]["pandas"]["mib"] for r in results["runs"]]
    results["summary"] = {
        r.name: {"import_s_median": statistics.median(x["year"][f"import@{r.name}"]["s"] for x in results["runs"]),
                 "import_mib_median": statistics.median(x["year"][f"import@{r.name}"]["mib"] for x in results["runs"]),
                 "pandas_floor_s_median": statistics.median(floor_s),
                 "pandas_floor_mib_median": statistics.median(floor_mib)} for r in repos}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")
    return 0


def report(row: dict, repos: list[Path]) -> None:
    """Print one run's tables: per file and for the year, seconds, MiB and ratios to the floors."""
    print("\n| file | pandas read+melt s / MiB | DuckDB read s / MiB | " +
          " | ".join(f"parse ({r.name}) s / MiB / × pandas" for r in repos) + " |")
    print("|---|---|---|" + "---|" * len(repos))
    for name, m in row["per_file"].items():
        pa, du = m["pandas"], m["duckdb"]
        cells = [f"{m[f'parse@{r.name}']['s']:.2f} / {m[f'parse@{r.name}']['mib']:.0f} / "
                 f"{m[f'parse@{r.name}']['s'] / pa['s']:.1f}×" for r in repos]
        print(f"| {name} | {pa['s']:.2f} / {pa['mib']:.0f} | {du['s']:.2f} / {du['mib']:.0f} | " + " | ".join(cells)
              + " |")
    y = row["year"]
    pa, du = y["pandas"], y["duckdb"]
    print(f"\nthe year: pandas read + melt {pa['s']:.2f} s, {pa['mib']:.0f} MiB ({pa['cells']:,} cells); "
          f"DuckDB {du['s']:.2f} s, {du['mib']:.0f} MiB")
    for r in repos:
        imp, par = y[f"import@{r.name}"], y[f"parse@{r.name}"]
        print(f"{r.name}: parse {par['s']:.2f} s, {par['mib']:.0f} MiB; import {imp['s']:.2f} s "
              f"({imp['s'] / pa['s']:.1f}× pandas, {imp['s'] / du['s']:.1f}× DuckDB), {imp['mib']:.0f} MiB "
              f"({imp['mib'] / pa['mib']:.2f}× pandas's peak); files {imp['files_s']:.2f} s, derived "
              f"{imp['after_s']:.2f} s: " + ", ".join(f"{k} {v:.2f}" for k, v in imp["derived_steps"].items()))
        for path, f in imp["files"].items():
            print(f"    {Path(path).name}: {f['kind']} {f['s']:.2f} s, {f['values']:,} values")


if __name__ == "__main__":
    raise SystemExit(main())
