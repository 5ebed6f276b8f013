"""The Groups page (pages/groups.py): a data manager creates a partnership, finds schools by postcode and adds two
from different trusts with the dates they joined, renames it, and its leader opens it on the Group overview with
results; a leader's additions are invitations (governors never get the page: tests/app/test_signed_in_roles.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.services import groups, schools
from metrics.text import markdown_text
from tests.conftest import button, open_app, table

NAME = "Riverside Schools Partnership"


def _two_schools_of_two_trusts(path: Path) -> list[tuple[int, str, str, str]]:
    """Two open secondary schools with results in the latest year, each in a different trust today:
    (urn, name, postcode, trust)."""
    with Store(path) as s:
        period = schools.periods(s)[-1]
        rows = s.query(
            """
            SELECT e.urn, e.name, e.postcode, g.name FROM memberships m JOIN groups g USING (group_id)
            JOIN establishments e USING (urn)
            WHERE g.kind = 'trust' AND m.end_date IS NULL AND e.phase = 'secondary' AND e.postcode IS NOT NULL
              AND e.urn IN (SELECT urn FROM observations WHERE level = 'school' AND period = ?
                            AND measure = 'attainment8' AND value IS NOT NULL)
            ORDER BY g.name, e.urn
            """, [period])
    first = rows[0]
    second = next(r for r in rows if r[3] != first[3])
    return [first, second]


def _add_by_postcode(at: AppTest, postcode: str, urn: int, joined: dt.date) -> AppTest:
    at.text_input(key="groups_search").set_value(postcode.lower().replace(" ", "")).run()  # as people type it
    assert not at.exception, at.exception
    at.multiselect(key="groups_picked").select(urn)
    at.date_input(key="groups_joined").set_value(joined)
    button(at, "Add to the group").click().run()
    assert not at.exception, at.exception
    return at


# issue 11 point 1
def test_an_admin_makes_a_partnership_of_two_trusts_schools_and_its_leader_sees_it(demo_db: Path) -> None:
    (urn_a, name_a, post_a, trust_a), (urn_b, name_b, post_b, trust_b) = _two_schools_of_two_trusts(demo_db)
    at = open_app("groups.py", role="admin")
    assert at.title[0].value == "Groups"
    at.text_input(key="create_name").set_value(NAME)
    at.selectbox(key="create_kind").set_value("partnership")
    button(at, "Create the group").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [markdown_text(f"Created {NAME}: now add its schools.")]
    assert at.selectbox(key="groups_chosen").format_func(at.selectbox(key="groups_chosen").value) == NAME
    assert [i.value for i in at.info if "No schools in this group yet" in i.value]

    _add_by_postcode(at, post_a, urn_a, dt.date(2021, 9, 1))
    assert [s.value for s in at.success] == [markdown_text(f"1 school joined {NAME} from 01 Sep 2021.")]
    _add_by_postcode(at, post_b, urn_b, dt.date(2023, 1, 16))
    members = table(at, "Joined")
    assert members[["School", "URN", "Trust", "Joined", "Left"]].to_dict("records") == [
        {"School": n, "URN": str(u), "Trust": t, "Joined": j, "Left": "still a member"}
        for n, u, t, j in sorted([(name_a, urn_a, trust_a, "01 Sep 2021"), (name_b, urn_b, trust_b, "16 Jan 2023")],
                                 key=lambda r: r[0].lower())]
    # issue 11 point 10: the phase in GIAS's words ("Secondary"), not the store's value ("secondary")
    assert set(members["Phase"]) <= {"Primary", "Secondary", "All-through", "Special school", "Alternative provision"}
    with Store(demo_db) as s:
        gid = groups.find_group(s, NAME).group_id
        assert s.query("SELECT urn, start_date, end_date FROM memberships WHERE group_id = ? ORDER BY urn", [gid]) == \
            sorted([(urn_a, dt.date(2021, 9, 1), None), (urn_b, dt.date(2023, 1, 16), None)])
        # joined in January 2023: counts in 2022/23, not in 2021/22
        assert groups.group_members(s, gid, "2021/22") == [urn_a]
        assert groups.group_members(s, gid, "2022/23") == sorted([urn_a, urn_b])

    at.text_input(key="rename_name").set_value("Riverside Partnership")
    button(at, "Rename").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [markdown_text(f"{NAME} is now called Riverside Partnership.")]
    chosen = at.selectbox(key="groups_chosen")
    assert chosen.format_func(chosen.value) == "Riverside Partnership"
    with Store(demo_db) as s:
        actions = s.query("SELECT action FROM audit_log WHERE group_id = ? ORDER BY audit_id", [gid])
    assert actions == [("create",), ("add",), ("add",), ("rename",)]

    # the admin's overview offers it; its leader's opens on it, with results for both schools
    at.switch_page("pages/group_overview.py").run()
    assert not at.exception, at.exception
    offered = at.selectbox(key="group")
    assert "Riverside Partnership" in offered.options  # AppTest holds the options as the labels shown
    leader = open_app("group_overview.py", role="leader", group="Riverside Partnership")
    assert leader.selectbox(key="group").format_func(leader.selectbox(key="group").value) == "Riverside Partnership"
    assert not leader.exception and not leader.error, leader.error
    assert len(leader.metric) > 0
    period = leader.selectbox(key="period").value
    assert any(c.value.startswith(f"2 member schools in {period}") for c in leader.caption), \
        [c.value for c in leader.caption]
    assert "No results for" not in " ".join(i.value for i in leader.info)


# issue 11 point 1
def test_a_leaders_addition_is_an_invitation(demo_db: Path) -> None:
    at = open_app("groups.py", role="leader")
    assert at.title[0].value == "Groups"
    own = at.selectbox(key="groups_chosen")
    with Store(demo_db) as s:
        gid = int(own.value)
        members = set(groups.group_members(s, gid))
        outsider = s.query("SELECT urn, postcode FROM establishments WHERE postcode IS NOT NULL AND "
                           "NOT list_contains(?::INTEGER[], urn) ORDER BY urn LIMIT 1", [sorted(members)])[0]
    at.text_input(key="groups_search").set_value(outsider[1]).run()
    at.multiselect(key="groups_picked").select(outsider[0])
    button(at, "Invite to the group").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        markdown_text("1 school invited: each joins when its head or a data manager accepts.")]
    with Store(demo_db) as s:
        assert set(groups.group_members(s, gid)) == members  # not a member until its head accepts
        assert s.query("SELECT urn, answer FROM group_invitations") == [(outsider[0], None)]
    assert any("when its head accepts" in m.value for m in at.markdown)
