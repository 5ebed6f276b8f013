"""DfE's published figure for a trust beside Jointly's own roll-up, on the group card and in its JSON.

DfE's figures are the real excerpt's cells (Abbey Multi Academy Trust, line 2 of the trust results file, and its
'Included in MAT performance tables' line of the trust information file); Jointly's roll-up is worked out by hand
in tests/trusts.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from trusts import POOLED_ATTAINMENT8, POOLED_BASICS_95, TRUST, build_trust_store

from data.db.store import Store
from data.services import groups
from data.services.scorecards import scorecard
from data.services.trust_published import published_figures, published_group_figures

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def trust_db(tmp_path: Path) -> Path:
    return build_trust_store(tmp_path / "trust.duckdb", tmp_path)


def test_the_figures_dfe_published_for_the_trust(trust_db: Path) -> None:
    with Store(trust_db) as store:
        gid = groups.find_group(store, TRUST).group_id
        figures = published_figures(store, gid, "2024/25")
    a8 = figures["attainment8"]
    assert (a8.value, a8.status, a8.version, a8.cohort, a8.schools) == (45.1, "ok", "revised", 587, 3)
    assert (figures["basics_95"].value, figures["ebacc_entry"].value) == (42.1, 45.3)
    p8 = figures["progress8"]
    assert (p8.value, p8.status, p8.status_code) == (None, "not_applicable", "z")


def test_group_card_carries_dfes_figure_beside_the_rollup(trust_db: Path) -> None:
    with Store(trust_db) as store:
        card = scorecard(store, group=TRUST, period="2024/25")
    rows = {r.measure: r for r in card.rows}
    a8 = rows["attainment8"]
    assert a8.value == pytest.approx(POOLED_ATTAINMENT8)  # 45.1482...: Jointly's pooled roll-up of three schools
    assert (a8.dfe_published, a8.dfe_published_version, a8.dfe_published_schools, a8.dfe_published_cohort) == (
        45.1, "revised", 3, 587)
    assert rows["basics_95"].value == pytest.approx(POOLED_BASICS_95)
    assert rows["basics_95"].dfe_published == 42.1
    # a measure DfE publishes no trust figure for has none, and says nothing
    assert (rows["ebacc_languages_entry"].dfe_published, rows["ebacc_languages_entry"].dfe_published_status) == (
        None, None)
    assert (rows["progress8"].dfe_published, rows["progress8"].dfe_published_status) == (None, "not_applicable")


def test_cli_group_json_has_the_dfe_published_field(trust_db: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "data", "scorecard", "--group", TRUST, "--period", "2024/25",
                          "--format", "json"], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "JOINTLY_DB": str(trust_db)}, check=False)
    assert out.returncode == 0, out.stderr
    rows = {r["measure"]: r for r in json.loads(out.stdout)}
    assert rows["attainment8"]["value"] == pytest.approx(POOLED_ATTAINMENT8)
    assert {k: rows["attainment8"][k] for k in ("dfe_published", "dfe_published_version", "dfe_published_schools",
                                                "dfe_published_cohort")} == {
        "dfe_published": 45.1, "dfe_published_version": "revised", "dfe_published_schools": 3,
        "dfe_published_cohort": 587}


def test_a_group_that_is_no_dfe_trust_has_no_published_figure(trust_db: Path) -> None:
    with Store(trust_db) as store:
        gid = groups.create_group(store, "partnership", "Three schools together")
        groups.add_memberships(store, gid, [137036, 137083, 144809])
        card = scorecard(store, group=str(gid), period="2024/25")
    assert {r.measure: r.dfe_published for r in card.rows if r.dfe_published is not None} == {}


def test_a_school_card_has_no_published_trust_figure(trust_db: Path) -> None:
    with Store(trust_db) as store:
        card = scorecard(store, school=137036, period="2024/25")
    assert all(r.dfe_published is None for r in card.rows)


def test_dfes_figures_for_the_trusts_pupil_groups(trust_db: Path) -> None:
    """Lines 3 and 4 of the results file: Abbey's disadvantaged pupils 36.4 over 184, the others 49.1 over 403."""
    with Store(trust_db) as store:
        figures = published_group_figures(store, groups.find_group(store, TRUST).group_id, "2024/25")
    got = {k: (f.value, f.cohort, f.version) for k, f in figures.items() if k[0] == "attainment8"}
    assert got == {("attainment8", "disadvantaged"): (36.4, 184, "revised"),
                   ("attainment8", "not_disadvantaged"): (49.1, 403, "revised")}
    assert len(figures) == 2 * 7
