"""AppTest: a governor's words are text, never Markdown (issue 9, point 3). A store whose group, schools, local
measures, support notes and published commentary carry Markdown, HTML, maths and Streamlit directives is opened on
every page: every Markdown body, heading, alert, caption and label (expanders, tabs, metrics, widgets, help) must
carry that text escaped (metrics.text.markdown_text) and no construct of it raw; every plotly text escaped too
(metrics.text.plotly_text). tests/e2e/test_hostile_browser.py checks the same pages in a real browser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import app_on, open_app
from hostile import (
    EVIL,
    FORMULA_LABEL,
    GROUP_NAME,
    HOSTILE,
    MEASURE_DESCRIPTION,
    MEASURE_LABEL,
    RAW_CONSTRUCTS,
    SCHOOL_NAME,
    Hostile,
    plant,
)
from streamlit.testing.v1 import AppTest

from data.db.state import copy_store
from data.db.store import Store
from data.services import groups, schools
from data.services.access import Role
from metrics.text import markdown_text, plotly_text

# Proto fields Streamlit reads as Markdown: bodies (markdown, caption, headings, alerts, a metric's value), labels
# (widgets, expanders, tabs, page links), help tooltips and a radio's options and captions.
MARKDOWN_FIELDS = {"body", "label", "help", "caption", "captions"}
OPTIONS_AS_MARKDOWN = {"radio"}  # selectbox and multiselect options are plain text (checked in a browser)
PLAIN_TYPES = {"text", "code", "arrow_data_frame", "deck_gl_json_chart", "plotly_chart", "json", "arrow_table"}


@pytest.fixture()
def hostile_db(demo_master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Hostile]]:
    path = tmp_path / "hostile.duckdb"
    copy_store(demo_master, path)
    planted = plant(path, tmp_path)
    with app_on(path, monkeypatch):
        yield path, planted


def _strings(message: object, names: set[str], path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) for every string field named in `names`, anywhere inside a protobuf message."""
    for field, value in message.ListFields():  # type: ignore[attr-defined]
        here = f"{path}.{field.name}" if path else field.name
        repeated = (not isinstance(value, str | bytes) and not hasattr(value, "ListFields")
                    and hasattr(value, "__iter__"))
        values = list(value) if repeated else [value]
        for v in values:
            if isinstance(v, str):
                if field.name in names:
                    yield here, v
            elif hasattr(v, "ListFields"):
                yield from _strings(v, names, here)


def _nodes(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def markdown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(element type and field, text) for everything on the page, main and sidebar, Streamlit renders as Markdown."""
    out = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        kind = str(getattr(node, "type", ""))
        if proto is None or kind in PLAIN_TYPES:
            continue
        names = MARKDOWN_FIELDS | ({"options"} if kind in OPTIONS_AS_MARKDOWN else set())
        out += [(f"{kind}.{field}", text) for field, text in _strings(proto, names)]
    return out


def plotly_texts(at: AppTest) -> list[str]:
    """Every string in every plotly figure's data and layout (titles, ticks, legends, hovers, cell text)."""
    out: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for node in _nodes(at._tree):
        if str(getattr(node, "type", "")) == "plotly_chart":
            figure = json.loads(node.proto.spec)
            figure.get("layout", {}).pop("meta", None)  # the alt text's copy: plotly never draws it
            walk(figure)
    return out


def assert_inert(at: AppTest, shown: list[str]) -> list[tuple[str, str]]:
    """No Markdown body or label carries a construct of the hostile text raw, and each of `shown` (people's
    words the page shows) appears escaped somewhere. Returns the page's Markdown texts."""
    assert not at.exception, at.exception
    texts = markdown_texts(at)
    # a construct is raw when it is there once the backslash-escaped characters are taken out
    raw = [(where, c) for where, text in texts for c in RAW_CONSTRUCTS if c in re.sub(r"\\[^\w\s]", "", text)]
    assert raw == [], f"unescaped on the page: {raw[:5]}"
    for words in shown:
        assert any(markdown_text(words) in text for _, text in texts), f"not shown escaped: {words[:40]}"
    charts = plotly_texts(at)
    assert not [t for t in charts for c in ("<a href", "<img", "<b>B", "**B**</b>") if c in t and EVIL in t], \
        "a chart draws the hostile text as HTML"
    return texts


def _leader(page: str) -> AppTest:
    return open_app(page, role=Role.LEADER.value, group=GROUP_NAME)


def test_group_overview(hostile_db) -> None:
    at = _leader("group_overview.py")
    assert_inert(at, [GROUP_NAME])
    charts = plotly_texts(at)
    assert any(plotly_text(SCHOOL_NAME)[:20] in t for t in charts)  # the grid names the school, escaped


def test_school_scorecard(hostile_db) -> None:
    at = _leader("school_scorecard.py")  # the school first in name order is the hostile one
    assert_inert(at, [SCHOOL_NAME])


def test_similar_schools(hostile_db) -> None:
    assert_inert(_leader("similar_schools.py"), [SCHOOL_NAME])


def test_support(hostile_db) -> None:
    at = _leader("support.py")
    assert_inert(at, [GROUP_NAME])
    assert any(plotly_text(SCHOOL_NAME)[:20] in t for t in plotly_texts(at))  # the network names it, escaped


def test_measures(hostile_db) -> None:
    at = _leader("measures.py")
    assert_inert(at, [MEASURE_LABEL])
    # "Start from" a hostile measure: the form fills with its words (plain text inputs) and the checks pass
    at.selectbox(key="measures_define_start").set_value("community_events").run()
    texts = assert_inert(at, [MEASURE_LABEL])
    assert at.text_input(key="measures_define_label").value == MEASURE_LABEL
    assert at.text_area(key="measures_define_description").value == MEASURE_DESCRIPTION
    assert any("No problems" in t for _, t in texts)


def test_reports(hostile_db) -> None:
    assert_inert(_leader("reports.py"), [GROUP_NAME])


def test_publish(hostile_db) -> None:
    at = _leader("publish.py")
    assert_inert(at, [GROUP_NAME])
    # the commentary boxes are labelled with the chosen measures' labels: choose the hostile ones
    at.multiselect(key="publish_measures").set_value(["community_events", "student_leadership_participation"]).run()
    assert_inert(at, [GROUP_NAME, MEASURE_LABEL, FORMULA_LABEL, SCHOOL_NAME])


def test_change_history(hostile_db) -> None:
    assert_inert(_leader("change_history.py"), [])


@pytest.mark.parametrize("page", ["group_overview.py", "reports.py"])
def test_an_admin_choosing_the_group(hostile_db, page: str) -> None:
    _db, planted = hostile_db
    at = open_app(page, role=Role.ADMIN.value)
    at.selectbox(key="group").set_value(planted.group_id).run()
    assert_inert(at, [GROUP_NAME])


def test_parents_page(hostile_db) -> None:
    _db, planted = hostile_db
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.query_params["viewing_as"] = Role.PUBLIC.label
    at.query_params["publication"] = str(planted.publication_id)
    at.run()
    texts = assert_inert(at, [GROUP_NAME, MEASURE_LABEL, SCHOOL_NAME, HOSTILE])
    assert any(markdown_text("- item") in t for _, t in texts)  # a commentary line is a line, not a list


def test_a_refusal_naming_the_group_is_text(hostile_db) -> None:
    """The router's sentence for a group with no members in the chosen year names the group: escaped."""
    db, planted = hostile_db
    name = f"Moorside {HOSTILE}"
    with Store(db) as s:
        first = schools.periods(s)[0]
        gid = groups.create_group(s, "partnership", name)
        urn = next(iter(planted.schools))
        groups.add_memberships(s, gid, [urn], start_date=f"{first[:4]}-09-01", end_date=f"{first[:4]}-12-31")
    at = open_app("group_overview.py", role=Role.ADMIN.value)
    at.selectbox(key="group").set_value(gid).run()
    assert any(markdown_text(name) in i.value for i in at.info), [i.value for i in at.info]
    assert_inert(at, [name])
