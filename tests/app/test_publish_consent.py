"""AppTest of the publish page (issue 11, points 2 and 15): the schools' answers and recording them, the preview
at full length with the results before the map, who is left out, and a full address to copy after publishing."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import open_app
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups
from data.services import schools as schools_svc
from data.services.access import Role
from metrics.text import markdown_text
from ui.published import PREVIEW_BANNER

APP = str(Path(__file__).resolve().parents[2] / "app.py")
ADDRESS = "https://jointly.example.org/publish"  # where the browser says the person is


def _admin_on_publish(url: str | None = ADDRESS) -> AppTest:
    """An admin on the publish page for the flagship partnership, the browser reporting `url`."""
    at = AppTest.from_file(APP, default_timeout=120)
    if url:
        at.context["url"] = url
    at.query_params["viewing_as"] = Role.ADMIN.label
    at.run()
    at.switch_page("pages/publish.py").run()
    at.selectbox(key="group").select(FLAGSHIP_PARTNERSHIP).run()
    assert not at.exception, at.exception
    return at


def _answers(at: AppTest):
    return next(d.value for d in at.dataframe if "Answer" in d.value.columns)


def _preview_block(at: AppTest):
    """The bordered block that holds the preview (the one with the preview banner)."""
    def walk(node):
        for child in getattr(node, "children", {}).values():
            if type(child).__name__ == "Block":
                if any(getattr(c, "value", None) == PREVIEW_BANNER for c in child.children.values()):
                    return child
                found = walk(child)
                if found is not None:
                    return found
        return None
    block = walk(at.main)
    assert block is not None, "the preview is shown"
    return block


def _schools(db: Path) -> dict[str, int]:
    """The flagship's member schools this year, by name (read before the app holds the file)."""
    with Store(db, read_only=True) as s:
        g = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
        members = groups.group_members(s, g.group_id, schools_svc.periods(s)[-1])
        return dict(s.query("SELECT name, urn FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[])) "
                            "ORDER BY name", [members]))


def test_the_consent_panel_records_an_answer_and_the_preview_leaves_the_school_out(demo_db):
    # issue 11 point 2
    urns = _schools(demo_db)
    names = sorted(urns)
    at = _admin_on_publish()
    table = _answers(at)
    assert sorted(table["School"]) == names
    assert set(table["Answer"]) == {"Agreed"}  # the demo's heads agreed
    assert not any("have not agreed" in w.value or "has not agreed" in w.value for w in at.warning)

    leaving = names[0]
    at.multiselect(key="consent_schools").select(urns[leaving]).run()
    at.radio(key="consent_answer").set_value("declines").run()
    at.text_input(key="consent_note").input("The governors meet in January").run()
    at.button(key="consent_record").click().run()
    assert not at.exception, at.exception
    # the message as ui.messages shows it: every word inert
    assert markdown_text(f"Recorded: {leaving} does not agree to publish jointly.") in [s.value for s in at.success]
    row = _answers(at).set_index("School").loc[leaving]
    assert (row["Answer"], row["Recorded by"], row["Note"]) == ("Declined", "Data manager",
                                                                "The governors meet in January")
    assert row["When"] != "–"
    sentence = (f"1 of the partnership's {len(names)} schools has not agreed to publish jointly, so its results are "
                f"not included: {leaving}.")
    assert markdown_text(f"{sentence} To include a school, record its agreement in step 1.") in [
        w.value for w in at.warning], "the page's own escape of the sentence"


def test_a_leader_who_is_no_schools_head_cannot_record_answers(demo_db):  # issue 11 point 2
    at = open_app("publish.py", role="leader")
    assert set(_answers(at)["Answer"]) == {"Agreed"}
    assert not [w for w in at.multiselect if w.key == "consent_schools"]
    assert not [b for b in at.button if b.key == "consent_record"]
    assert any(c.value == "Each school's head, or a data manager, records the school's answer." for c in at.caption)


def test_the_preview_is_shown_at_full_length_with_the_results_before_the_map(demo_db):  # issue 11 point 15
    at = _admin_on_publish()
    block = _preview_block(at)
    height = block.proto.height_config
    assert not height.HasField("pixel_height") and not height.HasField("rem_height"), "no inner scroll box"
    kinds = [type(c).__name__ for c in block.children.values()]
    texts = [str(getattr(c, "value", "")) for c in block.children.values()]
    first_result = next(i for i, t in enumerate(texts) if "Attainment 8" in t)
    maps = [i for i, k in enumerate(kinds) if k == "UnknownElement"]  # the pydeck map
    schools = [i for i, t in enumerate(texts) if t == "The schools"]
    assert all(first_result < i for i in maps + schools), "the results come before the school list and the map"


def test_after_publishing_the_address_is_a_full_one_to_copy(demo_db):  # issue 11 point 15
    at = _admin_on_publish()
    at.button(key="publish_button").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Published version") for s in at.success)
    address = at.code[0].value
    pid = int(re.fullmatch(r"https://jointly\.example\.org/published_results\?publication=(\d+)", address).group(1))
    history = next(d.value for d in at.dataframe if "Version" in d.value.columns)
    assert address in list(history["Parents' page"])
    assert pid > 0


def test_behind_a_path_prefix_the_address_keeps_it(demo_db):  # issue 11 point 15
    at = _admin_on_publish("https://schools.example.org/jointly/publish")
    at.button(key="publish_button").click().run()
    assert re.fullmatch(r"https://schools\.example\.org/jointly/published_results\?publication=\d+",
                        at.code[0].value), at.code[0].value
