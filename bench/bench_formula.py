"""Formula speed: the cycle check on chained and dense graphs, and parsing and evaluating long formulas.

    python bench/bench_formula.py [--runs 15] [--old path/to/an/earlier/formula.py]

Prints medians (ms) over repeated runs. `--old` times an earlier metrics/formula.py on the same graphs
(e.g. `git show cf74f1b:metrics/formula.py > /tmp/formula_old.py`), with a time limit per graph, so the
exponential cycle check of before can be compared without waiting for it.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import timed  # noqa: E402 (bench/ is on the path when a script runs)

from metrics import formula  # noqa: E402


def ladder(n: int, *, back: bool) -> dict[str, str]:
    """m0 uses m1 and m2, m1 uses m2 and m3, …; `back`: the last uses m0 (one circle of n)."""
    defs = {f"m{i}": " + ".join(f"m{j}" for j in (i + 1, i + 2) if j < n) or "pupils" for i in range(n)}
    if back:
        defs[f"m{n - 1}"] = "m0 + pupils"
    return defs


def dense_chain(n: int) -> dict[str, str]:
    """Each measure uses every later one: 2^(n-2) paths and no cycle (the 24-measure attack of issue 9)."""
    return {f"m{i}": " + ".join(f"m{j}" for j in range(i + 1, n)) or "pupils" for i in range(n)}


def dense(n: int) -> dict[str, str]:
    """Each measure uses every other: one circle."""
    return {f"m{i}": " + ".join(f"m{j}" for j in range(n) if j != i) for i in range(n)}


GRAPHS: dict[str, Callable[[], dict[str, str]]] = {
    "ladder 24": lambda: ladder(24, back=False), "ladder 200": lambda: ladder(200, back=False),
    "ladder 2000": lambda: ladder(2000, back=False), "ring 2000": lambda: ladder(2000, back=True),
    "dense chain 24": lambda: dense_chain(24), "dense chain 200": lambda: dense_chain(200),
    "dense 200": lambda: dense(200),
}


def median_ms(fn: Callable[[], object], runs: int) -> float:
    return timed(fn, runs)[0]


def load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("formula_old", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["formula_old"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _old_once(path: str, name: str, out: multiprocessing.Queue) -> None:
    module = load(path)
    try:
        parsed = {k: module.parse_formula(v) for k, v in GRAPHS[name]().items()}
    except module.FormulaError:  # the earlier limits (500 characters) refuse the graph's formulas
        out.put(None)
        return
    t0 = time.perf_counter()
    module.formula_cycles(parsed)
    out.put((time.perf_counter() - t0) * 1000)


def old_ms(path: str, name: str, limit: float) -> str:
    """One run of the earlier cycle check, in its own process, stopped after `limit` seconds."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    p = multiprocessing.Process(target=_old_once, args=(path, name, out))
    p.start()
    p.join(limit)
    if p.is_alive():
        p.terminate()
        p.join()
        return f"> {limit * 1000:,.0f}"
    ms = out.get()
    return "refused" if ms is None else f"{ms:,.1f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--old", help="an earlier metrics/formula.py to compare the cycle check with")
    ap.add_argument("--limit", type=float, default=60.0, help="seconds allowed per graph for --old")
    args = ap.parse_args()
    print(f"{'graph':<18}{'measures':>9}{'uses':>9}{'cycle check ms':>16}" + (f"{'before ms':>14}" if args.old else ""))
    for name, make in GRAPHS.items():
        parsed = {k: formula.parse_formula(v) for k, v in make().items()}
        uses = sum(len(f.names) for f in parsed.values())
        ms = median_ms(lambda p=parsed: formula.formula_cycles(p), args.runs)
        line = f"{name:<18}{len(parsed):>9,}{uses:>9,}{ms:>16,.2f}"
        if args.old:
            line += f"{old_ms(args.old, name, args.limit):>14}"
        print(line, flush=True)
    print()
    sums = {"sum of 40 ids": " + ".join(f"measure_{i:02d}_{'x' * 29}" for i in range(40)),
            "sum of 1,000 terms": "+".join(["a"] * 1000),
            "nested round/if": "round(if(a > 0, (a + b) / max(a, b, 1), 0) * 100, 1)"}
    values = {"a": 3.0, "b": 4.0, **{f"measure_{i:02d}_{'x' * 29}": 1.0 for i in range(40)}}
    print(f"{'formula':<22}{'parse ms':>10}{'evaluate ms':>13}")
    for name, text in sums.items():
        f = formula.parse_formula(text)
        print(f"{name:<22}{median_ms(lambda t=text: formula.parse_formula(t), args.runs):>10.3f}"
              f"{median_ms(lambda f=f: formula.evaluate(f, values), args.runs):>13.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
