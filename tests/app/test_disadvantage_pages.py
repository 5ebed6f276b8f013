"""AppTest: the group overview and the school card lead with how disadvantaged pupils do (issue 13), with the
numbers data.services.pupil_groups computes, and show any measure by pupil group."""

from __future__ import annotations

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
