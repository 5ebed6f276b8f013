"""Server time per interaction on the demo store, driving the real app with Streamlit's AppTest.

    python bench/bench_app.py [--db PATH] [--runs 5]

Builds the default demo store first if PATH does not exist. Each interaction is a full script rerun as the
server would do it; the time is measured around AppTest.run(). 'cold' clears Streamlit's caches first, data and
resources (the first visitor after an import, which opens the new snapshot too); 'warm' is the usual case. Prints
medians; results go to bench/out/app.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from data.demo.build import build_demo  # noqa: E402
from ui import shared  # noqa: E402


def timed(at: AppTest, action) -> float:
    t0 = time.perf_counter()
    action(at)
    at.run()
    elapsed = (time.perf_counter() - t0) * 1000
    assert not at.exception, at.exception
    return elapsed


def nth(options, i: int):
    """One of the first three options, in turn (fewer when there are fewer)."""
    return options[i % min(3, len(options))]


def pick(box, prefix: str):
    return next(o for o in box.options if str(o).startswith(prefix))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "app_demo.duckdb")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        print(build_demo(args.db))
    os.environ["JOINTLY_DB"] = str(args.db)
    results: dict[str, dict[str, float]] = {}

    def record(name: str, samples: list[float]) -> None:
        results[name] = {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1)}
        print(f"{name:48s} median {results[name]['median_ms']:7.1f} ms   max {results[name]['max_ms']:7.1f} ms")

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    periods = list(at.selectbox(key="period").options)
    for cold in (True, False):
        tag = "cold" if cold else "warm"
        samples: dict[str, list[float]] = {}

        def step(name: str, action, *, _tag=tag, _cold=cold, _samples=samples) -> None:
            if _cold:  # the pages' reads are shared (ui.shared) since issue 14: every cache is emptied
                st.cache_data.clear()
                st.cache_resource.clear()
                shared.clear_all()
            _samples.setdefault(f"{name} ({_tag})", []).append(timed(at, action))

        for i in range(args.runs):
            at.switch_page("pages/group_overview.py").run()
            step("overview: change period", lambda a, i=i: a.selectbox(key="period").select(periods[i % 2]))
            groups = at.selectbox(key="group").options
            step("overview: change group", lambda a, i=i, g=groups: a.selectbox(key="group").select(g[i % len(g)]))
            step("overview: colour the map by another measure",
                 lambda a, i=i: a.selectbox(key="measure").select(nth(a.selectbox(key="measure").options, i)))
            step("school scorecard: open page", lambda a: a.switch_page("pages/school_scorecard.py"))
            schools = at.selectbox(key="school").options
            step("school scorecard: change school",
                 lambda a, i=i, s=schools: a.selectbox(key="school").select(s[(i + 1) % len(s)]))
            step("similar schools: open page", lambda a: a.switch_page("pages/similar_schools.py"))
            step("similar schools: change measure",
                 lambda a, i=i: a.selectbox(key="measure").select(nth(a.selectbox(key="measure").options, i + 1)))
            step("similar schools: family size", lambda a, i=i: a.slider(key="family_size").set_value(20 + i))
            step("support: open page", lambda a: a.switch_page("pages/support.py"))
            partners_for = at.selectbox(key="school").options
            step("support: partners for another school",
                 lambda a, i=i, s=partners_for: a.selectbox(key="school").select(s[(i + 2) % len(s)]))
            step("measures: open page", lambda a: a.switch_page("pages/measures.py"))
            step("reports: open page", lambda a: a.switch_page("pages/reports.py"))
            step("change history: open page", lambda a: a.switch_page("pages/change_history.py"))
        for name, s in samples.items():
            record(name, s)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "app.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
