"""The disadvantage gap on the real North Yorkshire KS4 files: Jointly's gap for each school, from the imported
pupil-group cells, equals the file's disadvantaged Attainment 8 minus England's non-disadvantaged pupils' (its
national row), and DfE's own published gap (DIFFN_ATT8, DIFFN_P8MEA) to the file's rounding (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PERF, read_csv_rows

from data.db.store import Store
from data.ingest.importers import import_file
from data.services import pupil_groups

FILES = [(PERF / "815_2018_ks4final.csv", "2017/18")]


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    s = Store(tmp_path_factory.mktemp("gapreal") / "s.duckdb")
    for path, period in FILES:
        assert import_file(s, path, period).ok
    yield s
    s.close()


@pytest.mark.parametrize(("measure", "value", "diffn"), [("attainment8", "ATT8SCR", "DIFFN_ATT8"),
                                                          ("progress8", "P8MEA", "DIFFN_P8MEA")])
def test_each_schools_gap_is_the_files_cell_minus_national_non_disadvantaged(store: Store, measure: str,
                                                                             value: str, diffn: str) -> None:
    header, rows = read_csv_rows(Path(FILES[0][0]))
    at = {c: i for i, c in enumerate(header)}
    national = next(r for r in rows if r[at["RECTYPE"]].strip() == "7")
    others = _number(national[at[f"{value}_NFSM6CLA1A"]])
    assert others is not None
    checked = 0
    for r in rows:
        if r[at["RECTYPE"]].strip() not in ("1", "2"):
            continue
        # a school without results has a short row (the file's own ragged rows): no cell, no gap
        cell = {c: (r[at[c]] if at[c] < len(r) else "") for c in (f"{value}_FSM6CLA1A", diffn)}
        dis, published = _number(cell[f"{value}_FSM6CLA1A"]), _number(cell[diffn])
        if dis is None or published is None:
            continue
        urn = int(r[at["URN"]])
        g = pupil_groups.disadvantage(store, school=urn, period=FILES[0][1]).row(measure).now
        assert g.disadvantaged.value == pytest.approx(dis), urn  # the file's own cell
        assert g.national_others == pytest.approx(others)
        assert g.gap == pytest.approx(dis - others), urn
        assert g.published == pytest.approx(published), urn  # DfE's DIFFN, stored as DfE published it
        # DfE computed its gap from unrounded figures; ours from the file's rounded ones: within their rounding
        step = 0.05 if measure == "attainment8" else 0.005
        assert abs(g.gap - published) <= 2 * step + 1e-9, (urn, g.gap, published)
        checked += 1
    assert checked >= 30  # most of the county's secondary schools publish a disadvantaged cohort
