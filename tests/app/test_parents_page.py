"""AppTest of the parents' page on the demo's own publication: a summary first (the partnership, its schools, the
year and DfE's status, a few headline results), then a page per school with its links and its local authority's
average beside England's, and never "no data" for a measure that is not for the school's phase."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from conftest import open_parents_page
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services.publications import find_publications, published
from metrics.publication import Publication
from ui.published import escape

SETTLED = ("provisional", "revised", "final")  # DfE's versions, least settled first


def _demo_publication(db: Path) -> Publication:
    with Store(db, read_only=True) as s:
        found = find_publications(s, FLAGSHIP_PARTNERSHIP)
        assert len(found) == 1, found
        pub = published(s, int(found[0]["publication_id"]))
    assert pub is not None
    return pub


def _parent(pub: Publication, school: int | None = None) -> AppTest:
    return open_parents_page(pub.publication_id, school)


def _texts(at: AppTest) -> list[str]:
    """Every piece of text on the page, in order (markdown, captions, headers, subheaders, info)."""
    return [e.value for e in at.main if isinstance(getattr(e, "value", None), str)]


def _page(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n" + "\n".join(c.value for c in at.caption)


def _html(at: AppTest) -> str:
    return "\n".join(e.proto.body for e in at.get("html"))


def _value(pub: Publication, measure: str, urn: int):
    return next(v for v in pub.school_values if v.measure == measure and v.urn == urn)


def _primary_without_gcse(pub: Publication) -> int:
    return next(s.urn for s in sorted(pub.schools, key=lambda s: s.urn)
                if s.phase == "primary" and not _value(pub, "attainment8", s.urn).applies)


def test_the_summary_comes_first_with_the_year_and_dfes_status(demo_db):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    at = _parent(pub)
    versions = {i.dfe_version for i in pub.items} - {None}
    assert versions, "the demo's results say which of DfE's versions they are"
    status = min(versions, key=SETTLED.index)  # a mix is as settled as its least settled result
    texts = _texts(at)
    assert at.header[0].value == escape(f"{FLAGSHIP_PARTNERSHIP}: results for {pub.period}")
    first_result = next(k for k, t in enumerate(texts) if t.startswith("#### "))
    summary = texts[:first_result]
    assert f"**{escape(f'{pub.period}, {status} results')}**" in summary
    names = sorted(s.name for s in pub.schools)
    # ten names would fill a phone's screen: the summary counts them, the chooser just below names them all
    assert len(names) > 4 and any(t.startswith(f"{len(names)} schools in ") for t in summary)
    assert at.selectbox[0].options == ["The whole partnership", *names]
    # three to five headline results, in the leaders' order, each with the partnership's value and England's
    lines = next(t for t in summary if t.startswith("- **")).splitlines()
    shown = [i for i in sorted(pub.items, key=lambda i: i.position) if not i.suppressed]
    assert 3 <= len(lines) <= 5 and len(lines) == min(5, len(shown))
    for line, item in zip(lines, shown, strict=False):
        national = escape(item.national_display)
        assert line == f"- **{escape(item.group_display)}** {escape(item.label)} · England {national}"
    # the chooser of school pages is on the first screen too, before the results
    assert at.selectbox[0].label == "Choose a school to see its own page"
    assert at.selectbox[0].options[at.selectbox[0].index] == "The whole partnership"


def test_the_year_is_dfes_never_data_as_of_today(demo_db):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    for at in (_parent(pub), _parent(pub, _primary_without_gcse(pub))):
        page = _page(at).lower()
        assert "as of" not in page and "data are" not in page
        assert escape(pub.period) in _page(at)


def test_a_primary_school_is_never_told_it_has_no_gcse_data(demo_db):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    urn = _primary_without_gcse(pub)
    name = next(s.name for s in pub.schools if s.urn == urn)
    gcse = [i for i in pub.items if not _value(pub, i.measure, urn).applies]
    assert gcse and all("primary" not in i.phases for i in gcse)
    at = _parent(pub, urn)
    assert at.subheader[0].value == escape(name)
    page = _page(at)
    assert "No result" not in page and "no data" not in page.lower()
    for item in gcse:
        assert f"**{escape(item.label)}**" not in page, "no line for a measure that is not for primary schools"
    labels = " and ".join(escape(i.label) for i in gcse) if len(gcse) == 2 else None
    if labels:
        assert f"{labels} are for secondary schools, so they are not on this school's page." in page
    # on the partnership's page, the GCSE measures' school lists do not name the primary school at all
    whole = _parent(pub)
    lines = [line for e in whole.expander if e.label == "Each school" for m in e.markdown
             for line in m.value.splitlines()]
    assert lines and not any(escape(name) in line and "No result" in line for line in lines)
    # it is named once per measure that is for it (each with its value), never for a GCSE measure
    ours = [i for i in pub.items if _value(pub, i.measure, urn).applies]
    assert sum(line.startswith(f"- **{escape(name)}**:") for line in lines) == len(ours)


def test_each_school_has_a_page_with_its_website_and_ofsted_links(demo_db):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    schools = sorted(pub.schools, key=lambda s: s.urn)
    picks = [next(s for s in schools if s.phase == "secondary"), next(s for s in schools if s.phase == "primary"
                                                                       and s.website)]
    for school in picks:
        at = _parent(pub, school.urn)
        assert at.subheader[0].value == escape(school.name)
        assert at.selectbox[0].value == school.urn, "the chooser shows the school in the address"
        links = _html(at)
        host = re.sub(r"^https?://", "", school.website).rstrip("/")
        words = html.escape(f"{school.name}'s own website ({host})")
        assert f'<a href="{html.escape(school.website)}">{words}</a>' in links
        words = html.escape(f"{school.name}'s inspection reports, on Ofsted's website")
        assert f'<a href="{html.escape(school.ofsted_url)}">{words}</a>' in links
        assert "target=" not in links, "the links open in the same tab"


def test_choosing_a_school_puts_it_in_the_address(demo_db):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    school = sorted(pub.schools, key=lambda s: s.name)[-1]
    at = _parent(pub)
    at.selectbox[0].select(school.urn).run()
    assert not at.exception
    assert at.query_params["school"] == [str(school.urn)] or at.query_params["school"] == str(school.urn)
    assert at.subheader[0].value == escape(school.name)
    at.selectbox[0].select_index(0).run()
    assert "school" not in at.query_params
    assert at.subheader[0].value == "The partnership's results"


def test_a_school_page_puts_the_local_authority_average_beside_englands(demo_db):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    with_la = [v for v in pub.school_values if v.applies and v.la_display and v.value is not None]
    assert with_la, "the demo's schools have their local authority's averages"
    v = with_la[0]
    item = next(i for i in pub.items if i.measure == v.measure)
    at = _parent(pub, v.urn)
    line = next(m.value for m in at.markdown if m.value.startswith(f"**{escape(item.label)}**"))
    assert f"This school: **{escape(v.display)}**" in line
    assert f"Local authority average: {escape(v.la_display)} · England: {escape(item.national_display)}" in line
    assert line.index("This school") < line.index("  \nLocal authority average"), "the school's value comes first"


def test_one_definition_per_measure(demo_db):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    at = _parent(pub)
    page = _page(at)
    for item in pub.items:
        assert item.definition
        assert page.count(escape(item.definition)) == 1, item.measure
    # a school's page: each of its measures once, with its definition once beside it
    urn = _primary_without_gcse(pub)
    page = _page(_parent(pub, urn))
    for item in pub.items:
        assert page.count(escape(item.definition)) == (1 if _value(pub, item.measure, urn).applies else 0)


@pytest.mark.parametrize("bad", ["abc", "-1", "999999999", "1 OR 1=1"])
def test_an_unknown_school_in_the_address_shows_the_partnership(demo_db, bad):  # issue 11 point 16
    pub = _demo_publication(demo_db)
    at = _parent(pub)
    at.query_params["school"] = bad
    at.run()
    assert not at.exception and not at.main.error
    assert at.subheader[0].value == "The partnership's results"


def test_the_map_never_captures_the_wheel():  # issue 11 point 16
    from metrics.publication import PublishedSchool
    from ui.published import parents_map

    schools = [PublishedSchool(1, "A School", "primary", "Town", None, 54.0, -1.5),
               PublishedSchool(2, "B School", "secondary", None, None, 54.1, -1.6),
               PublishedSchool(3, "Nowhere School", "primary", None, None, None, None)]
    deck, alt = parents_map(schools, "The Partnership")
    spec = json.loads(deck.to_json())
    assert spec["views"] == [{"@@type": "MapView", "controller": {
        "scrollZoom": False, "dragPan": True, "touchZoom": True, "doubleClickZoom": True, "keyboard": True}}]
    assert [len(layer["data"]) for layer in spec["layers"]] == [2], "one layer, of the schools with a position"
    assert alt == "Map of The Partnership's 2 schools: A School in Town, B School."


def test_the_gap_is_said_in_plain_words_and_each_school_shows_its_disadvantaged_pupils(demo_db):
    """Issue 13 point 4: each published measure with pupil-group values carries its gap sentence (the words fixed at
    publication), and a school's page says its disadvantaged pupils' result, or why it is not shown, in words."""
    pub = _demo_publication(demo_db)
    assert pub.gaps, "the demo's publication carries the disadvantage gap"
    page = _page(_parent(pub))
    for gap in pub.gaps:
        assert f"**The gap:** {escape(gap.sentence)}" in page
    shown = [g for g in pub.gaps if not g.suppressed]
    assert shown and all(g.sentence.startswith("Disadvantaged pupils in the partnership ") for g in shown)
    v = next(v for v in pub.group_values if v.pupil_group == "disadvantaged")
    school_page = _page(_parent(pub, v.urn))
    words = "Not shown" if v.suppressed else escape(v.display)
    assert f"Disadvantaged pupils at this school: {words}" in school_page


def test_the_gap_and_group_words_are_made_inert():
    """A local measure's label (people's text) and a reason reach the page escaped: never a link, never Markdown."""
    from metrics.publication import PublishedGap, PublishedGroupValue
    from ui.published import gap_words, group_value_words

    label = "[Mentoring](javascript:alert(1)) **bold**"
    gap = PublishedGap("m", label, "40%", 40.0, "60%", 60.0, -20.0, "−20.0 percentage points", None, None, None,
                       f"Disadvantaged pupils in the partnership reached 20.0 percentage points below other pupils "
                       f"nationally ({label}: 40% against 60%).", False, None)
    words = gap_words(gap)
    assert words.startswith("**The gap:** ") and escape(label) in words and label not in words
    hidden = PublishedGroupValue("m", 1, "disadvantaged", "Suppressed", None, None, True, "fewer than 6 pupils")
    assert group_value_words(hidden) == "Disadvantaged pupils at this school: Not shown (fewer than 6 pupils)"
    shown = PublishedGroupValue("m", 1, "not_disadvantaged", "55%", 55.0, 20.0, False, None)
    assert group_value_words(shown) == f"Other pupils at this school: {escape('55%')} (20 pupils)"


def test_the_page_links_to_the_public_static_site_when_its_address_is_set(demo_db, monkeypatch):  # issue 16 point 6
    pub = _demo_publication(demo_db)
    at = _parent(pub)
    assert "partnership/" not in _html(at)  # no address set: no link anywhere
    monkeypatch.setenv("JOINTLY_SITE_URL", "https://results.example.org/")
    at = _parent(pub)
    want = (f'<a href="https://results.example.org/partnership/{pub.group_id}/{pub.period.replace("/", "-")}'
            f'/index.html">These results on the partnerships&#x27; public website</a>')
    assert want in _html(at)
    monkeypatch.setenv("JOINTLY_SITE_URL", "javascript:alert(1)")  # not a web address: no link is made
    assert "javascript" not in _html(_parent(pub))
