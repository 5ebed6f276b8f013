"""The pupil groups' stable ids and the DfE words that name them, across years (metrics/pupil_groups.py)."""

from __future__ import annotations

import pytest

from metrics.pupil_groups import BY_ID, PUPIL_GROUPS, is_total, label, pupil_group_for

# The stable ids agreed for issue 10 (other modules and the pupil-groups issue build on them)
STABLE = ["disadvantaged", "not_disadvantaged", "boys", "girls", "eal", "not_eal", "sen_support", "ehc_plan", "no_sen",
          "prior_low", "prior_middle", "prior_high", "mobile", "not_mobile"]


def test_the_stable_ids_each_with_a_label() -> None:
    assert [g.id for g in PUPIL_GROUPS] == STABLE
    assert all(label(i) and label(i) != i for i in STABLE)
    assert label("somebody_else") == "somebody_else"


@pytest.mark.parametrize(("topic", "breakdown", "group"), [
    ("Disadvantage status", "Disadvantaged", "disadvantaged"),
    ("Disadvantage status", "Not known to be disadvantaged", "not_disadvantaged"),  # 2024/25
    ("Disadvantage", "Disadvantaged all other", "not_disadvantaged"),  # 2023/24
    ("Sex", "Boys", "boys"),
    ("Sex", "Girls", "girls"),
    ("First language", "Known or believed to be other than English", "eal"),  # 2024/25
    ("First language", "Other than English", "eal"),  # 2023/24
    ("First language", "Known or believed to be English", "not_eal"),
    ("Mobility", "Mobile", "mobile"),
    ("Mobility status", "Non mobile", "not_mobile"),  # KS2's topic name
    ("Prior attainment", "Low", "prior_low"),
    ("prior_attainment", "Above expected standard", "prior_high"),  # a filter column's name as the topic
    ("SEN provision", "EHC plan", "ehc_plan"),
    ("SEN status", "SEN support", "sen_support"),
    ("  disadvantage  STATUS ", " disadvantaged ", "disadvantaged"),  # case and spacing do not matter
])
def test_dfe_words_map_to_a_group(topic: str, breakdown: str, group: str) -> None:
    assert pupil_group_for(topic, breakdown) == group
    assert group in BY_ID


@pytest.mark.parametrize(("topic", "breakdown"), [
    ("Sex", "Low"),  # a word means a group only within its own topic
    ("Ethnicity", "White British"),  # a topic we hold no groups for
    ("Sex", "Total"),  # a subtotal is no group
    ("Disadvantage status", "Unknown"),
])
def test_other_words_are_no_group(topic: str, breakdown: str) -> None:
    assert pupil_group_for(topic, breakdown) is None


def test_total_words() -> None:
    assert is_total("Total") and is_total("All pupils") and is_total(" total ")
    assert not is_total("Boys") and not is_total("")
