"""Issue 9, point 13, for what is already stored: a formula saved before the checks were tightened
(the attack itself, `round(pupils * 1e29, 2)`, or a comment) must not raise on every scorecard and preview
of its group. It has no value; the other measures are untouched; the definition is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from data.db.state import copy_store
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, local_measures, schools
from data.services.access import Role, Viewer
from data.services.publications import build_publication
from data.services.scorecards import scorecard
from metrics.formula import stored_formula

LEGACY = {"huge": "round(pupils * 1e29, 2)", "commented": "pupils # * 0", "hexed": "pupils * 0x10"}
BASE = {"label": "Saved before the fix", "description": "A local measure saved before its formula was refused.",
        "perspective": "curriculum", "unit": "ratio", "polarity": "context", "phases": ["primary", "secondary"],
        "rollup": "sum"}


@pytest.fixture()
def legacy(demo_master: Path, tmp_path: Path) -> Iterator[tuple[Store, int]]:
    """The demo store with three formulas written straight into the store, as the old checks let them in."""
    path = tmp_path / "legacy.duckdb"
    copy_store(demo_master, path)
    s = Store(path)
    group = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
    assert group is not None
    for mid, text in LEGACY.items():
        local_measures.write_local_measure(s, group.group_id, {**BASE, "id": mid, "formula": text},
                                           actor="before the fix")
    try:
        yield s, group.group_id
    finally:
        s.close()


def test_a_stored_formula_that_no_longer_passes_has_no_value_and_says_why() -> None:
    f = stored_formula("round(pupils * 1e29, 2)")
    assert (f.names, f.refusal) == ((), '"1e29" at column 16: numbers in a formula are limited to '
                                        "1,000,000,000,000 (1e12) either side of zero")
    assert stored_formula("round(pupils * 1e29, 2)") is f  # parsed once, however many cells ask
    ok = stored_formula("pupils * 2")
    assert (ok.names, ok.refusal) == (("pupils",), "")


def test_the_groups_scorecard_still_builds_with_no_value_for_the_old_formulas(legacy: tuple[Store, int]) -> None:
    s, gid = legacy
    card = scorecard(s, group=str(gid), period=schools.periods(s)[-1], measures=[*LEGACY, "pupils"])
    values = {r.measure: r.value for r in card.rows}
    assert {m: values[m] for m in LEGACY} == dict.fromkeys(LEGACY)
    assert values["pupils"] is not None and values["pupils"] > 0
    assert {d["id"] for d in local_measures.local_measures(s, gid)} >= set(LEGACY)  # nothing stored is lost


def test_a_preview_for_parents_still_builds(legacy: tuple[Store, int]) -> None:
    s, gid = legacy
    pub, problems = build_publication(s, Viewer(Role.LEADER, gid, "Leader"), gid, schools.periods(s)[-1],
                                      ["huge", "pupils"], {})
    assert problems == [] and pub is not None
