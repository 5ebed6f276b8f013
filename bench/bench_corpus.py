"""Peak memory and time of `python -m data import` on every file of issue 9's malformed-file corpus.

    python bench/bench_corpus.py [--only REGEX] [--limit N] [--timeout 120] [--out bench/out/corpus.json]

Generates the corpus (tests/corpus/generate.py) into a scratch folder, then runs each case in its own
subprocess against a private copy of the base store. The peak resident set size is the child's own
ru_maxrss, read with os.wait4 (per child, so one bomb does not mask the files after it; the same number
resource.getrusage(RUSAGE_CHILDREN) gives for a single child). Each outcome is also judged by the corpus
oracle (tests/corpus/oracle.py). Prints a table and the median, p95 and maximum, and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from corpus.generate import generate  # noqa: E402
from corpus.oracle import Run, Stores, dump, judge, needs_pristine  # noqa: E402


def run_child(argv: Sequence[str], db: Path, timeout: float, repo: Path = ROOT) -> tuple[Run, float]:
    """`python -m data ARGV` of the checkout `repo` in a subprocess: (what it did, its peak RSS in MB)."""
    env = {**os.environ, "JOINTLY_DB": str(db), "PYTHONPATH": str(repo)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "data", *argv], cwd=repo, env=env, stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text_out = out.read().decode("utf-8", "replace")
        text_err = err.read().decode("utf-8", "replace")
    # Linux reports ru_maxrss in KiB
    exc = text_err if "Traceback (most recent call last)" in text_err else ""
    code = proc.returncode if seconds <= timeout else None
    return Run(code, text_out, text_err, exc, seconds), usage.ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help="a regex: only the cases whose name matches")
    p.add_argument("--limit", type=int, help="at most this many cases")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before a case is killed")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "corpus.json")
    p.add_argument("--repo", type=Path, default=ROOT,
                   help="the checkout whose `python -m data` is measured (e.g. an export of an older commit: "
                        "git archive COMMIT | tar -x -C DIR); base stores are built with it too")
    args = p.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="jointly-corpus-bench-"))
    try:
        t0 = time.perf_counter()
        cases = generate(scratch / "files")
        gen_s = time.perf_counter() - t0
        if args.only:
            cases = [c for c in cases if re.search(args.only, c.name)]
        if args.limit:
            cases = cases[: args.limit]
        repo = args.repo.resolve()
        stores = Stores(scratch / "stores", runner=lambda argv, db: run_child(argv, db, args.timeout, repo)[0])
        results = []
        print(f"{len(cases)} cases (generated in {gen_s:.1f} s); `python -m data` of {repo}")
        print(f"{'case':<44} {'expected':<18} {'exit':>4} {'s':>6} {'peak MB':>8}  verdict")
        for case in cases:
            db = stores.fresh(case.prelude, scratch / "case.duckdb")
            pristine = stores.pristine(case.source, case.prelude) if needs_pristine(case) else None
            before = stores.base_dump(case.prelude)
            run, peak = run_child(case.argv, db, args.timeout, repo)
            after = dump(db)
            problems = judge(case, run, before, after, pristine)
            db.unlink()
            size = case.path.stat().st_size if case.path.is_file() else 0
            results.append({"case": case.name, "family": case.family, "expected": case.outcome.value,
                            "exit": run.code, "seconds": round(run.seconds, 3), "peak_rss_mb": round(peak, 1),
                            "bytes": size, "ok": not problems, "problems": problems})
            verdict = "ok" if not problems else "FAIL: " + problems[0][:70]
            print(f"{case.name[:44]:<44} {case.outcome.value:<18} {run.code!s:>4} {run.seconds:6.2f} {peak:8.1f}  "
                  f"{verdict}", flush=True)
        peaks = [r["peak_rss_mb"] for r in results]
        secs = [r["seconds"] for r in results]
        worst = sorted(results, key=lambda r: -r["peak_rss_mb"])[:8]
        print()
        print(f"peak RSS: median {statistics.median(peaks):.1f} MB, p95 {pct(peaks, 0.95):.1f} MB, "
              f"max {max(peaks):.1f} MB; time: median {statistics.median(secs):.2f} s, p95 {pct(secs, 0.95):.2f} s, "
              f"max {max(secs):.2f} s")
        print("worst peaks: " + "; ".join(f"{r['case']} {r['peak_rss_mb']:.0f} MB ({r['bytes']:,} bytes)"
                                          for r in worst))
        print(f"{sum(r['ok'] for r in results)} of {len(results)} cases as expected")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"repo": str(repo), "generated_seconds": gen_s, "results": results}, indent=1))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
