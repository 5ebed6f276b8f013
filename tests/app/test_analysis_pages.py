"""AppTest of the leaders' and governors' analysis pages: overview, school scorecard, similar schools."""

from __future__ import annotations

import pytest
from conftest import open_app

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import schools as schools_svc
from metrics.text import markdown_text


def _expected_overview(db) -> dict:
    with Store(db, read_only=True) as s:
        from data.services.scorecards import scorecard

        period = schools_svc.periods(s)[-1]
        card = scorecard(s, group=FLAGSHIP_PARTNERSHIP, period=period)
    return {"period": period, "members": len(card.members), "below": card.below_national_any,
            "watch": [w.name for w in card.watchlist],
            "first": next(r for r in card.rows if r.value is not None and r.polarity != "context")}


@pytest.mark.parametrize("role", ["leader", "governor", "admin"])
def test_overview_for_each_role(demo_db, role):
    expected = _expected_overview(demo_db)
    at = open_app(role=role)
    if role == "admin":
        at.selectbox(key="group").select(FLAGSHIP_PARTNERSHIP).run()
    assert at.title[0].value == "Group overview"
    assert at.header[0].value == FLAGSHIP_PARTNERSHIP
    assert at.caption[0].value.startswith(f"{expected['members']} member schools in {expected['period']}")
    first = expected["first"]
    tile = next(m for m in at.metric if m.label == first.label)
    assert tile.value == markdown_text(first.display)  # a metric's value is Markdown: shown as written
    assert any(f"**{expected['below']} of {expected['members']}**" in m.value for m in at.markdown)
    titles = [e.label for e in at.expander]
    assert all(any(name in t for t in titles) for name in expected["watch"])
    assert not at.exception


def test_leader_sees_only_their_group(demo_db):
    at = open_app(role="leader")
    assert at.selectbox(key="group").options == [FLAGSHIP_PARTNERSHIP]


def test_changing_period_and_group_updates_the_overview(demo_db):
    at = open_app(role="admin")
    periods = at.selectbox(key="period").options
    at.selectbox(key="period").select(periods[-1]).run()
    assert periods[-1] in at.caption[0].value
    other = next(g for g in at.selectbox(key="group").options if g != at.selectbox(key="group").value)
    at.selectbox(key="group").select(other).run()
    assert at.header[0].value == other and not at.exception


def test_school_scorecard_lists_every_perspective_and_follows_the_school(demo_db):
    at = open_app("school_scorecard.py", role="governor")
    assert at.title[0].value == "School scorecard"
    schools = at.selectbox(key="school").options
    at.selectbox(key="school").select(schools[-1]).run()
    assert not at.exception
    name = schools[-1].rsplit(" (", 1)[0]
    assert at.header[0].value == name
    subheaders = [h.value for h in at.subheader]
    assert "Pupil outcomes" in subheaders and "Context (not judged)" in subheaders
    assert at.dataframe, "measure tables are shown"
    sentences = [m.value for m in at.markdown if m.value.startswith("- ") and "⚑" not in m.value]
    assert sentences and all(s.endswith(".") for s in sentences)
    flags = [m.value for m in at.markdown if "⚑" in m.value]
    assert all("significantly" in f or "bottom fifth" in f or "running" in f for f in flags)


def test_similar_schools_family_funnel_and_partners(demo_db):
    at = open_app("similar_schools.py", role="leader")
    assert at.title[0].value == "Similar schools"
    assert not at.exception
    fam = at.dataframe[0].value  # the family table comes first
    # most similar first: the similarity score (1 = the same context) falls down the table (issue 11 point 13)
    assert len(fam) == 30 and fam["Similarity score"].is_monotonic_decreasing
    at.slider(key="family_size").set_value(10).run()
    assert len(at.dataframe[0].value) == 10
    measures = at.selectbox(key="measure").options
    at.selectbox(key="measure").select(measures[1]).run()
    assert not at.exception
    assert any(h.value == "Where it is working well" for h in at.subheader)


TITLES = {"group_overview.py": "Group overview", "school_scorecard.py": "School scorecard",
          "similar_schools.py": "Similar schools", "support.py": "Support between schools",
          "measures.py": "Measures and targets", "reports.py": "Reports", "data_import.py": "Data"}


@pytest.mark.parametrize(("role", "page"), [
    (role, page) for role, pages in {
        "leader": ["group_overview.py", "school_scorecard.py", "similar_schools.py", "support.py", "measures.py",
                   "reports.py"],
        "governor": ["group_overview.py", "school_scorecard.py", "similar_schools.py", "support.py", "measures.py",
                     "reports.py"],  # governors read Similar schools and Support too (issue 11 point 12)
        "admin": list(TITLES),
    }.items() for page in pages])
def test_every_page_opens_for_every_role_that_has_it(demo_db, role, page):
    at = open_app(page, role=role)
    assert not at.exception
    assert at.title[0].value == TITLES[page]
    assert not at.main.error, [e.value for e in at.main.error]


@pytest.mark.parametrize(("role", "hidden"), [("leader", "data_import.py"), ("governor", "publish.py"),
                                              ("governor", "accounts.py"), ("governor", "data_import.py")])
def test_pages_outside_a_role_are_not_in_its_navigation(demo_db, role, hidden):
    at = open_app(role=role)
    with pytest.raises(ValueError):
        at.switch_page(f"pages/{hidden}").run()
