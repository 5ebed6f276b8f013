"""The school page says when a school's trend shows an earlier URN's results (issue 10 point 10)."""

from __future__ import annotations

from data.db.store import Store
from tests.conftest import open_app


def test_a_converted_school_says_whose_earlier_results_its_trend_shows(demo_db) -> None:
    with Store(demo_db, read_only=True) as s:
        urn, old, group = s.query(
            "SELECT l.urn, l.ancestor_urn, g.name FROM school_lineage l JOIN memberships m ON m.urn = l.urn "
            "JOIN groups g USING (group_id) WHERE l.depth = 1 AND m.end_date IS NULL ORDER BY l.urn, g.name "
            "LIMIT 1")[0]
    at = open_app("school_scorecard.py", role="leader", group=group)
    option = next(o for o in at.selectbox(key="school").options if f"({urn})" in o)
    at.selectbox(key="school").select(option).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any(f"earlier results are of URN {old}" in c for c in captions), captions
