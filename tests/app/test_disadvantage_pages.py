"""AppTest: the group overview and the school card lead with how disadvantaged pupils do (issue 13), with the
numbers data.services.pupil_groups computes, and show any measure by pupil group."""

from __future__ import annotations

import re

from conftest import open_app

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, pupil_groups, schools
from metrics.gaps import format_gap
from metrics.registry import load_registry
from metrics.text import markdown_text

TITLE = "How do disadvantaged pupils do?"


def _expected(db, *, school: int | None = None):
    with Store(db, read_only=True) as s:
        period = schools.periods(s)[-1]
        gid = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        d = (pupil_groups.disadvantage(s, school=school, period=period) if school is not None
             else pupil_groups.disadvantage(s, group=gid, period=period))
    lead = next((r for r in d.rows if r.now.gap is not None), d.rows[0])
    return d, lead


def test_the_overview_leads_with_the_disadvantage_gap(demo_db):
    d, lead = _expected(demo_db)
    at = open_app(role="leader")
    assert not at.exception
    assert at.subheader[0].value == TITLE  # first, before the perspectives' tiles
    m = load_registry().get(lead.measure)
    gap = next(x for x in at.metric if x.label.startswith("Gap ("))
    assert gap.value == format_gap(m, lead.now.gap)
    said = [x.value for x in at.markdown if x.value.startswith("Disadvantaged pupils in")]
    assert said and markdown_text(FLAGSHIP_PARTNERSHIP) in said[0]
    tables = [t.value for t in at.dataframe]
    gaps = next(t for t in tables if "Gap within" in t.columns)
    assert list(gaps["Measure"]) == [r.label for r in d.rows]
    members = next(t for t in tables if "Effect" in t.columns)
    assert set(members["URN"]) == {mg.urn for mg in lead.members}
    assert any(s.value == "Results by pupil group" for s in at.subheader)


def test_the_school_card_leads_with_the_disadvantage_gap(demo_db):
    at = open_app("school_scorecard.py", role="leader")
    assert not at.exception
    urn = int(str(at.selectbox(key="school").value))
    d, lead = _expected(demo_db, school=urn)
    assert at.subheader[0].value == TITLE
    m = load_registry().get(lead.measure)
    assert next(x for x in at.metric if x.label.startswith("Gap (")).value == format_gap(m, lead.now.gap)
    assert not any("Effect" in t.value.columns for t in at.dataframe)  # a school has no members to weigh


def test_a_governor_sets_a_target_on_the_gap(demo_db):
    from conftest import button

    at = open_app("measures.py", role="governor")
    assert not at.exception
    d, _ = _expected(demo_db)
    measure = next(r.measure for r in d.rows if r.now.gap is not None)  # the form offers the gaps in this order
    at.text_input(key="measures_gap_year").input("2029/30")
    at.text_input(key="measures_gap_value").input("minus seven").run()
    button(at, "Save the gap target").click().run()
    said = [re.sub(r"\\(.)", r"\1", e.value).replace("\u2060", "") for e in at.error]  # as a person reads it
    assert any("The target for the gap, 'minus seven', is not a number." in x for x in said), said
    at.text_input(key="measures_gap_value").input("-7").run()
    button(at, "Save the gap target").click().run()
    assert not at.exception
    assert any("Gap target for 2029/30 saved." in re.sub(r"\\(.)", r"\1", x.value) for x in at.success)
    kept = next(t.value for t in at.dataframe if "Target gap" in t.value.columns)
    assert kept.iloc[0]["By"] == "2029/30" and kept.iloc[0]["Target gap"].startswith("−7")
    with Store(demo_db, read_only=True) as s:
        from data.services import governance

        gid = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        assert governance.gap_targets(s, "group", gid) == {measure: [("2029/30", -7.0)]}
