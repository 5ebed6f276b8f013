"""AppTest of the group overview of a DfE trust: DfE's published figure beside Jointly's own roll-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import app_on, open_app, table
from trusts import TRUST, build_trust_store

from data.services import groups
from ui.trust_published import TITLE


@pytest.fixture()
def trust_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = build_trust_store(tmp_path / "trust.duckdb", tmp_path)
    with app_on(path, monkeypatch):
        yield path


def test_group_overview_shows_dfes_figure_beside_the_rollup(trust_db: Path) -> None:
    at = open_app("group_overview.py", role="leader", group=TRUST)
    assert at.header[0].value == TRUST
    assert TITLE in [s.value for s in at.subheader]
    shown = table(at, "DfE's published figure").set_index("Measure")
    # Attainment 8: Jointly pools 26,902 points over 587 pupils (45.8); DfE published 45.1 (the file's cell)
    assert shown.loc["Attainment 8"].to_dict() == {
        "Jointly's roll-up": "45.8", "DfE's published figure": "45.1", "Version": "Revised",
        "Schools DfE counted": "3", "Pupils DfE counted": "587"}
    # grade 5+ in English and maths: Jointly (200 x 40.0 + 187 x 43.0 + 200 x 42.5) / 587 = 41.8%; DfE 42.1%
    assert shown.loc["Grade 5+ in English and maths", ["Jointly's roll-up", "DfE's published figure"]].tolist() == [
        "41.8%", "42.1%"]
    assert "DfE's figures count 3 schools; Jointly's roll-up has 3 member schools in 2024/25." in [
        c.value for c in at.caption]
    # no Progress 8 in 2024/25: said in words, not a number
    assert shown.loc["Progress 8", "DfE's published figure"] == "none: not applicable"
    assert not at.exception


def test_a_partnership_has_no_dfe_section(trust_db: Path) -> None:
    from data.db.store import Store

    with Store(trust_db) as s:
        gid = groups.create_group(s, "partnership", "Three schools together")
        groups.add_memberships(s, gid, [137036, 137083, 144809])
    at = open_app("group_overview.py", role="leader", group="Three schools together")
    assert at.header[0].value == "Three schools together"
    assert TITLE not in [s.value for s in at.subheader]
    assert not at.exception
