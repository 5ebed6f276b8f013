"""A multiselect's value the options no longer have (a message from a stale tab after the group or year changed,
or a crafted one) is dropped in words by Streamlit, never a TypeError from a label of None (issue 14)."""

from __future__ import annotations

from conftest import open_app

from ui.widgets import label_from


def test_a_label_for_a_value_the_options_lack_is_the_value_itself():
    labels = {"attainment8": "Attainment 8"}
    assert label_from(labels)("attainment8") == "Attainment 8"
    assert label_from(labels)("gone") == "gone"
    assert label_from(labels)(7) == "7"


def test_the_overview_takes_a_grid_choice_it_no_longer_offers(demo_db):
    at = open_app()
    grid = at.multiselect(key="grid_measures")
    at = grid.set_value([*grid.value, "no_such_measure"]).run()
    assert not at.exception, at.exception
