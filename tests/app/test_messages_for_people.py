"""Every message a page shows is for the person on it, not a developer (issue 11 point 10): no definition field
names ("required field 'polarity'", "must be snake_case", min_cohort), no Python number formats (".0f"), no
command-line flags or commands ("--period", "python -m data"), no internal ids ("group id: 245"), no "None".

Each page is opened on the demo, and the forms that check what people type are given wrong input, so that their
problems are on the page too; every text Streamlit draws (bodies, headings, alerts, captions, labels, help,
placeholders, options) is scanned."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest import button, open_app
from streamlit.testing.v1 import AppTest

from data.services.access import Role
from metrics.validation import MEASURE_FIELDS, SOURCE_FIELDS, Issue, validate_definitions

SHOWN_FIELDS = {"body", "label", "help", "caption", "captions", "options", "placeholder", "default_value"}
DEVELOPER = {
    "a 'required field'": re.compile(r"required field", re.I),
    "snake_case": re.compile(r"snake_case", re.I),
    "a Python number format": re.compile(r"(?<![\w.])[+,]?\.\d[fFe%](?!\w)"),
    "a command-line flag": re.compile(r"(?<![\w-])--[a-z][a-z-]+"),
    "a command": re.compile(r"python -m data"),
    "an internal id": re.compile(r"\b(group|import|publication|measure) id\b|\bgroup_id\b|\bid \d+", re.I),
    "None": re.compile(r"\bNone\b"),
    "a definition field, quoted": re.compile("'(" + "|".join(MEASURE_FIELDS) + ")'"),
    "a definition field": re.compile(r"\b(" + "|".join(f for f in (*MEASURE_FIELDS, *SOURCE_FIELDS) if "_" in f)
                                     + r")\b"),
}


def _strings(message: object, path: str = "") -> Iterator[tuple[str, str]]:
    for field, value in message.ListFields():  # type: ignore[attr-defined]
        values = value if not isinstance(value, str | bytes) and hasattr(value, "__iter__") \
            and not hasattr(value, "ListFields") else [value]
        for v in values:
            if isinstance(v, str) and field.name in SHOWN_FIELDS:
                yield f"{path}.{field.name}", v
            elif hasattr(v, "ListFields"):
                yield from _strings(v, f"{path}.{field.name}")


def _nodes(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def shown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(element type and field, text) for everything the page draws as words, main and sidebar."""
    out = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        kind = str(getattr(node, "type", ""))
        if proto is None or kind in {"arrow_data_frame", "plotly_chart", "deck_gl_json_chart", "arrow_table", "code"}:
            continue
        out += [(kind + where, text) for where, text in _strings(proto)]
    return out


def developer_words(at: AppTest) -> list[tuple[str, str, str]]:
    """(what, where, the text) for each developer's word on the page."""
    assert not at.exception, at.exception
    return [(what, where, text) for where, text in shown_texts(at) for what, pattern in DEVELOPER.items()
            if pattern.search(text)]


def test_the_scan_finds_the_developer_words_it_looks_for() -> None:
    # issue 11 point 10: each pattern catches the message the issue quotes (so a clean page means something)
    quoted = {"a 'required field'": "required field 'polarity' is missing", "snake_case": "id must be snake_case",
              "a Python number format": 'Number format: ".0f" whole numbers', "a command-line flag": "give --period",
              "an internal id": "group id: 245", "None": "Head: None", "a command": "python -m data users add",
              "a definition field, quoted": "unknown field 'polarity'", "a definition field": "min_cohort must be"}
    assert set(quoted) == set(DEVELOPER)
    for what, text in quoted.items():
        assert DEVELOPER[what].search(text), what
    for fine in ("Attainment 8 is 46.2", "2024/25", "Needs attention — 3 schools", "e.g. community_events"):
        assert not [w for w, p in DEVELOPER.items() if p.search(fine)], fine


def test_a_form_issue_has_page_words_and_keeps_its_located_message_for_the_command_line() -> None:
    # issue 11 point 10: one check, two renderings
    issues = validate_definitions([{"id": "Bad Id", "label": "x", "description": "short", "perspective": "pupils",
                                    "unit": "%", "phases": ["primary"], "rollup": "sum", "owner": "1"}],
                                  source="form", group_members_only=True)
    by_field: dict[str | None, Issue] = {i.field: i for i in issues}
    assert "snake_case" in by_field["id"].for_cli() and "form" in by_field["id"].for_cli()
    assert "required field 'polarity'" in by_field["polarity"].for_cli()
    for issue in issues:
        assert not [w for w, p in DEVELOPER.items() if p.search(issue.for_page())], issue.for_page()


@pytest.fixture()
def _demo(demo_db) -> None:
    return None


def test_the_measures_page_speaks_the_forms_words(_demo) -> None:
    # issue 11 point 10: the "define a local measure" form with everything wrong shows its problems in words
    at = open_app("measures.py", role=Role.LEADER.value)
    assert developer_words(at) == []
    at.text_input(key="measures_define_id").input("Bad Id!")
    at.text_input(key="measures_define_label").input("Community events")
    at.text_area(key="measures_define_description").input("Too short")
    at.text_input(key="measures_define_unit").input("a unit far longer than twenty characters")
    at.run()
    texts = " ".join(t for _, t in shown_texts(at))
    assert "thing(s) to put right" in texts  # the problems are on the page
    assert developer_words(at) == []


def test_the_accounts_page_speaks_plainly(_demo) -> None:
    # issue 11 point 10
    at = open_app("accounts.py", role=Role.ADMIN.value)
    assert developer_words(at) == []
    at.text_input(key="new_email").input("not an email")
    at.selectbox(key="new_role").select("leader")
    at.text_input(key="new_school").input("12")
    at.text_input(key="new_password").input("short")
    at = button(at, "Add the account").click().run()
    assert at.error and "Nothing was changed" in at.error[0].value
    assert developer_words(at) == []


@pytest.mark.parametrize("page", ["group_overview.py", "school_scorecard.py", "similar_schools.py", "support.py",
                                  "reports.py", "data_import.py", "publish.py", "change_history.py",
                                  "published_results.py"])
def test_every_page_an_admin_opens_speaks_plainly(_demo, page: str) -> None:
    # issue 11 point 10
    at = open_app(page, role=Role.ADMIN.value)
    assert developer_words(at) == []
