"""AppTest: the Measures and targets page — choosing and ordering the scorecard's measures, targets met or
not, the live-checked local measure form, and local measure uploads (every problem at once, nothing written
until a clean file is committed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import button, has_table, open_app, table
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups
from data.services.access import Role
from metrics.text import markdown_text

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
HEADINGS = ["The scorecard's measures", "Targets", "Define a local measure", "Upload local measure values"]
SNAKE_CASE = "id 'Bad Id' must be snake_case: lowercase letters, digits and underscores, starting with a letter"
SNAKE_CASE_ON_PAGE = ("“Bad Id” cannot be an id: use only lowercase letters, digits and underscores (_), starting "
                      "with a letter, for example community_events.")
NO_EDITS = {"added_rows": [], "deleted_rows": []}


def shown(elements) -> list[str]:  # noqa: ANN001 - AppTest elements
    """Each message as a person reads it: ui.messages makes every word inert (Markdown escapes, word joiners)."""
    return [re.sub(r"\\(.)", r"\1", e.value).replace("\u2060", "") for e in elements]


def open_page(db: Path, role: Role, *, group: str = FLAGSHIP_PARTNERSHIP) -> AppTest:
    """The app, as this role (of `group`), on the Measures page."""
    return open_app("measures.py", role=role.value, group=group)


def member_urns(db: Path, period: str) -> list[int]:
    """The flagship's members, read before the app holds the file."""
    with Store(db) as s:
        return groups.group_members(s, groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id, period)


def checks(at: AppTest) -> str:
    """The form's checks column, as shown."""
    return "\n".join(m.value for m in at.markdown if "to put right" in m.value)


@pytest.mark.parametrize("role", [Role.LEADER, Role.GOVERNOR, Role.ADMIN])
def test_the_page_opens_for_each_role(demo_db: Path, role: Role) -> None:
    at = open_page(demo_db, role)
    assert at.title[0].value == "Measures and targets"
    assert [h.value for h in at.header] == HEADINGS
    assert not at.main.warning  # everyone offered a group here may edit it
    assert button(at, "Save the measures").disabled is False
    assert button(at, "Save the measure").disabled is True  # the empty form has issues


def test_choosing_and_ordering_measures_changes_the_scorecard(demo_db: Path) -> None:
    at = open_page(demo_db, Role.GOVERNOR)
    # nothing saved yet: every judged measure is ticked to start from, context ones are not
    assert any(c.value.startswith("No choice saved yet") for c in at.caption)
    assert at.multiselect(key="measures_pick_context").value == []
    at.multiselect(key="measures_pick_pupil_outcomes").set_value(["attainment8", "basics_94"])
    for area in ("curriculum", "inclusion", "staff_leadership"):
        at.multiselect(key=f"measures_pick_{area}").set_value([])
    at.multiselect(key="measures_pick_partnership_community").set_value(["community_events"])
    at.run()
    assert list(table(at, "Position")["Measure"]) == ["Attainment 8", "Grade 4+ in English and maths",
                                                      "Community events"]
    at.session_state["measures_order"] = {"edited_rows": {2: {"Position": 0}}, **NO_EDITS}  # community first
    at.run()
    button(at, "Save the measures").click().run()
    assert not at.exception, at.exception
    assert shown(at.success) == ["Saved: the scorecard now shows 3 measures in this order."]
    # the group's scorecard now has exactly these rows, in this order (the targets table is built from it)
    assert list(table(at, "Target")["Measure"]) == ["Community events", "Attainment 8",
                                                    "Grade 4+ in English and maths"]
    assert list(table(at, "Position")["Measure"]) == ["Community events", "Attainment 8",
                                                      "Grade 4+ in English and maths"]
    assert list(table(at, "Position")["Position"]) == [1, 2, 3]

    again = open_page(demo_db, Role.LEADER)  # another session, same store: the saved choice
    assert any(c.value.startswith("Your saved choice: 3 measures.") for c in again.caption)
    assert again.multiselect(key="measures_pick_pupil_outcomes").value == ["attainment8", "basics_94"]
    assert again.multiselect(key="measures_pick_curriculum").value == []
    assert list(table(again, "Target")["Measure"]) == ["Community events", "Attainment 8",
                                                       "Grade 4+ in English and maths"]


def test_a_target_shows_met_or_not_met(demo_db: Path) -> None:
    at = open_page(demo_db, Role.GOVERNOR)
    targets = table(at, "Target")
    assert set(targets["Met?"]) == {"No target"}
    rows = list(targets.index)
    a8, basics = rows.index("attainment8"), rows.index("basics_94")
    # a % target over 100 is refused in words, with nothing written
    at.session_state["measures_targets"] = {"edited_rows": {a8: {"Target": 0.0}, basics: {"Target": 120.0}},
                                            **NO_EDITS}
    at.run()
    button(at, "Save the targets").click().run()
    assert shown(at.error) == [  # the problem is shown as written (escaped), under the message
        "Not saved: 1 problem(s). Nothing was written.\n\n- "
        "The target for Grade 4+ in English and maths is a percentage: give a number from 0 to 100, not 120."]
    assert set(table(at, "Target")["Met?"]) == {"No target"}
    # corrected: any Attainment 8 reaches 0; no group has every pupil at grade 4+ in English and maths
    at.session_state["measures_targets"] = {"edited_rows": {a8: {"Target": 0.0}, basics: {"Target": 100.0}},
                                            **NO_EDITS}
    at.run()
    button(at, "Save the targets").click().run()
    assert not at.exception, at.exception
    assert shown(at.success) == [f"Targets for {at.selectbox(key='period').value} saved."]
    targets = table(at, "Target")
    assert targets.loc["attainment8", ["Target", "Met?"]].tolist() == [0.0, "Met"]
    assert targets.loc["basics_94", ["Target", "Met?"]].tolist() == [100.0, "Not met"]
    assert set(targets.drop(index=["attainment8", "basics_94"])["Met?"]) == {"No target"}


def test_a_bad_id_shows_the_validators_message_and_save_stays_disabled(demo_db: Path) -> None:
    at = open_page(demo_db, Role.GOVERNOR)
    at.text_input(key="measures_define_id").input("Bad Id").run()  # checked on the change, not on submit
    # the page's words for the check, not the definitions file's (issue 11 point 10)
    assert f"- **Id**: {markdown_text(SNAKE_CASE_ON_PAGE)}" in checks(at)
    assert button(at, "Save the measure").disabled is True
    at.text_input(key="measures_define_id").input("progress8").run()  # a national id is taken
    assert "- **Id**: " + markdown_text("“progress8” is already another measure's id: choose another.") in checks(at)
    at.radio(key="measures_define_source").set_value("A formula from other measures").run()
    at.text_input(key="measures_define_formula").input("volunteers_nowhere * 2").run()
    assert "- **Formula**:" in checks(at) and markdown_text("volunteers_nowhere") in checks(at)
    assert button(at, "Save the measure").disabled is True


def fill_good_form(at: AppTest) -> AppTest:
    at.text_input(key="measures_define_id").input("reading_volunteers")
    at.text_input(key="measures_define_label").input("Reading volunteers")
    at.text_area(key="measures_define_description").input("Adults from the community who come in each week to "
                                                           "hear pupils read.")
    at.selectbox(key="measures_define_perspective").select_index(4)  # Partnership & community
    at.text_input(key="measures_define_unit").input("people")
    at.selectbox(key="measures_define_polarity").select_index(0)  # higher is better
    at.multiselect(key="measures_define_phases").select("primary").select("secondary")
    at.selectbox(key="measures_define_rollup").select_index(2)  # sum
    return at.run()


def test_a_good_definition_saves_and_appears_in_the_lists(demo_db: Path) -> None:
    at = fill_good_form(open_page(demo_db, Role.GOVERNOR))
    assert checks(at) == ""
    assert shown(at.success) == ["No problems: ready to save."]
    save = button(at, "Save the measure")
    assert save.disabled is False
    save.click().run()
    assert not at.exception, at.exception
    assert ("Saved Reading volunteers (reading_volunteers). It is now in the measure lists above and can take "
            "uploads below.") in shown(at.success)
    assert "Reading volunteers (local)" in at.multiselect(key="measures_pick_partnership_community").options
    assert "Reading volunteers (reading_volunteers)" in at.selectbox(key="measures_upload_measure").options
    # the form can start from a saved measure to correct it, or start again empty
    start = at.selectbox(key="measures_define_start")
    start.select_index(start.options.index("Correct Community events (community_events)")).run()
    assert at.text_input(key="measures_define_id").value == "community_events"
    assert at.text_input(key="measures_define_unit").value == "events"
    start = at.selectbox(key="measures_define_start")
    start.select_index(start.options.index("Correct Reading volunteers (reading_volunteers)")).run()
    assert at.text_input(key="measures_define_label").value == "Reading volunteers"
    assert at.multiselect(key="measures_define_phases").value == ["primary", "secondary"]
    at.selectbox(key="measures_define_start").select_index(0).run()  # a new measure
    assert at.text_input(key="measures_define_id").value == ""
    assert at.multiselect(key="measures_define_phases").value == []


def upload(at: AppTest, measure_label: str, name: str, content: bytes) -> AppTest:
    box = at.selectbox(key="measures_upload_measure")
    box.select_index(box.options.index(measure_label)).run()
    at.file_uploader(key="measures_upload_file").set_value((name, content, "text/csv"))
    return at.run()


def test_a_bad_upload_shows_every_problem_and_writes_nothing(demo_db: Path) -> None:
    at = open_page(demo_db, Role.GOVERNOR)
    period = at.selectbox(key="period").value
    urn = member_urns(demo_db, period)[0]
    assert [d.label for d in at.download_button] == ["Download the CSV template"]
    box = at.selectbox(key="measures_upload_measure")
    box.select_index(box.options.index("Community events (community_events)")).run()
    before = table(at, "School").copy()
    bad = (f"URN,period,value\r\n12345,{period},7\r\n{urn},someday,4\r\n{urn},{period},lots\r\n"
           f"{urn},{period},5\r\n").encode()
    at = upload(at, "Community events (community_events)", "events.csv", bad)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [f"4 problem(s) in {markdown_text('events.csv')}: nothing has been written. "
                                           "Correct the file and upload it again."]
    problems = table(at, "Problem")
    assert problems.to_dict("records") == [
        {"Line": 2, "Column": "URN", "Problem": "URN '12345' is not 6 digits"},
        {"Line": 3, "Column": "period", "Problem": "period 'someday' is not an academic year like 2018/19"},
        {"Line": 4, "Column": "value", "Problem": "value 'lots' is not a number"},
        {"Line": 5, "Column": "URN", "Problem": f"URN {urn} appears more than once for {period}: lines 4 and 5"},
    ]
    assert not any(b.label.startswith("Commit") for b in at.button)
    assert table(at, "School").equals(before)


def test_a_good_upload_commits_and_the_values_appear(demo_db: Path) -> None:
    at = open_page(demo_db, Role.GOVERNOR)
    period = at.selectbox(key="period").value
    first, second = member_urns(demo_db, period)[:2]
    good = f"URN,period,value,notes\r\n{first},{period},91,\r\n{second},{period},92,spring fair\r\n".encode()
    at = upload(at, "Community events (community_events)", "events.csv", good)
    preview = table(at, "Numerator")
    assert preview[["Line", "URN", "Year", "Value"]].to_dict("records") == [
        {"Line": 2, "URN": first, "Year": period, "Value": 91.0},
        {"Line": 3, "URN": second, "Year": period, "Value": 92.0}]
    assert not has_table(at, "Problem")
    button(at, "Commit 2 rows").click().run()
    assert not at.exception, at.exception
    assert "Stored 2 rows from events.csv." in shown(at.success)
    stored = table(at, "School")
    now = stored[stored["Year"] == period].set_index("URN")["Value"]
    assert now.loc[[first, second]].tolist() == [91.0, 92.0]


def test_a_formula_measure_takes_no_upload(demo_db: Path) -> None:
    at = open_page(demo_db, Role.GOVERNOR)
    labels = at.selectbox(key="measures_upload_measure").options
    assert "Support balance (hours given minus received) (support_balance)" not in labels  # calculated
    assert "Support given to other schools (hours) (support_hours_given)" in labels
