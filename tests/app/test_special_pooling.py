"""AppTest: the group overview pools mainstream schools by default, says so, and pools special schools and
alternative provision only when the viewer asks (issue 10, point 14)."""

from __future__ import annotations

from conftest import open_app

from data.db.store import Store
from data.services import groups, schools
from data.services.scorecards import scorecard
from metrics.text import markdown_text


def _group_with_special_schools(db) -> tuple[str, int, int, tuple[str, str]]:
    """(name, members, special or AP members, (pooling words by default, when asked)) of the demo's group with
    the most special or AP members."""
    with Store(db, read_only=True) as s:
        period = schools.periods(s)[-1]
        best = None
        for gid, name in s.query("SELECT group_id, name FROM groups ORDER BY group_id"):
            urns = groups.group_members(s, gid, period)
            own = s.query("SELECT count(*) FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[])) "
                          "AND phase IN ('special', 'alternative')", [urns])[0][0] if urns else 0
            if own and own < len(urns) and (best is None or own > best[2]):
                best = (name, len(urns), own)
        assert best is not None, "the demo has no group with both mainstream and special schools"
        words = tuple(scorecard(s, group=best[0], period=period, include_special=x).pooling for x in (False, True))
    return (*best, words)


def test_the_overview_pools_mainstream_schools_unless_asked(demo_db):
    name, members, own, (default, asked) = _group_with_special_schools(demo_db)
    assert default.startswith("Mainstream schools only:") and asked.startswith("All schools, including")
    at = open_app(role="admin")
    at.selectbox(key="group").select(name).run()
    caption = at.caption[0].value
    assert caption.startswith(f"{members} member schools")  # every member is listed, special schools too
    assert caption.endswith(f" {markdown_text(default)}.")
    at.toggle(key="include_special").set_value(True).run()
    assert not at.exception
    assert at.caption[0].value.endswith(f" {markdown_text(asked)}.")


def test_a_mixed_groups_tiles_name_their_weighted_comparator(demo_db):
    from data.demo.build import FLAGSHIP_PARTNERSHIP
    from ui.frames import headline_rows

    with Store(demo_db, read_only=True) as s:
        card = scorecard(s, group=FLAGSHIP_PARTNERSHIP, period=schools.periods(s)[-1])
    mixed = [r for rows in headline_rows(card).values() for r in rows if r.national_scope == "mix"]
    assert mixed, "the flagship partnership has primary and secondary schools: some tile is a mix"
    at = open_app(role="leader")
    captions = [c.value for c in at.caption]
    for r in mixed:
        assert any(markdown_text(r.comparator) in c for c in captions), r.measure
