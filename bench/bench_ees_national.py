"""Import time of a whole EES national KS4 file at its real size (issue 10: the closing note's national year).

    python bench/bench_ees_national.py

Builds `202425_national_characteristics_by_school_types_revised.csv` in the real columns (data-guidance.txt, as
tests/fixtures/ees_national/generate.py writes them): 16 years (2009/10 to 2024/25) x 12 school types x 28
characteristic rows (Total; disadvantage, sex, first language, SEN, prior attainment, FSM, 7 ethnic groups,
admission type) = 5,376 rows of 185 columns, then imports it into an empty store and prints the report and time.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(HERE), str(HERE / "tests" / "fixtures" / "ees_national")]

import generate as g  # noqa: E402

from data.db.store import Store  # noqa: E402
from data.ingest.importers import import_file  # noqa: E402

TYPES = ["All state-funded", "State-funded mainstream", "State-funded special schools", "All schools", "Academies",
         "Sponsored academies", "Converter academies", "Free schools", "University technical colleges (UTCs)",
         "Studio schools", "LA maintained mainstream schools", "Independent schools"]
CHARACTERISTICS = [
    (None, None), ("disadvantage_status", "Disadvantaged"), ("disadvantage_status", "Not known to be disadvantaged"),
    ("sex", "Boys"), ("sex", "Girls"), ("first_language", "Known or believed to be English"),
    ("first_language", "Known or believed to be other than English"), ("first_language", "Unclassified"),
    ("sen_provision", "SEN support"), ("sen_provision", "EHC plan"), ("sen_provision", "No identified SEN"),
    ("sen_provision", "Unclassified"), ("prior_attainment", "Low prior attainment"),
    ("prior_attainment", "Middle prior attainment"), ("prior_attainment", "High prior attainment"),
    ("prior_attainment", "Unknown prior attainment"), ("fsm_status", "FSM eligible"),
    ("fsm_status", "All other pupils"),
    *[("ethnicity_major", e) for e in ("White", "Mixed", "Asian", "Black", "Chinese", "Any other ethnic group",
                                       "Unclassified")],
    ("school_admission_type", "Selective"), ("school_admission_type", "Non-selective"),
    ("school_admission_type", "Modern"),
]


def build(path: Path) -> int:
    lines = g.GUIDANCE.read_text(encoding="utf-8").split("\n")
    header = [*g.STANDARD, *g.SCHOOL_TYPES_FILTERS,
              *[c for c in g.variables(lines, 243) if c not in g.SCHOOL_TYPES_FILTERS]]
    rows = []
    for year in range(2009, 2025):
        p8 = ("-0.03", "-0.04", "-0.02", 480000) if year < 2024 else None
        values = g.ks4(500000, "45.9", "45.2", "64.5", "4.07", "40.5", "24.9", "17.3", p8=p8)
        for school_type in TYPES:
            for column, words in CHARACTERISTICS:
                filters = {c: "Total" for c in g.SCHOOL_TYPES_FILTERS} | {"establishment_type_group": school_type}
                if column:
                    filters[column] = words
                rows.append(g.national(f"{year}{(year + 1) % 100:02d}", "Revised" if year == 2024 else "Final",
                                       values, **filters))
    g.write(path, header, rows)
    return len(rows)


def main() -> None:
    work = Path(tempfile.mkdtemp())
    path = work / "202425_national_characteristics_by_school_types_revised.csv"
    n = build(path)
    print(f"{n:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    with Store(work / "bench.duckdb") as store:
        t0 = time.perf_counter()
        report = import_file(store, path)
        seconds = time.perf_counter() - t0
        print(report.summary())
        groups = store.query("SELECT count(*) FROM pupil_group_observations")[0][0]
    print(f"import {seconds:.2f} s; {report.benchmarks:,} benchmarks, {groups:,} pupil-group benchmarks; "
          f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
