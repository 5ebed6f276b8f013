"""Levels never contradict their own words or each other (issue 11 point 7), on hand-computed cases.

One rule (metrics.scorecard.judge_level) for a school's card, a group's card and each member's cell on the group
overview; its cases are the table in docs/method.md ("Performance level")."""

from __future__ import annotations

import pytest

from metrics.comparators import comparable_for_level, same_kind
from metrics.registry import load_registry

REG = load_registry()


# issue 11 point 7
@pytest.mark.parametrize(("phase", "type_name", "kind"), [
    ("secondary", "Academy converter", "secondary"),
    ("primary", "Community school", "primary"),
    # GIAS types name alternative provision even when a phase is given (an AP academy may say "Secondary")
    ("secondary", "Pupil referral unit", "alternative"),
    ("secondary", "Academy alternative provision converter", "alternative"),
    ("secondary", "Academy alternative provision sponsor led", "alternative"),
    (None, "Free schools alternative provision", "alternative"),
    ("alternative", None, "alternative"),
    ("primary", "Community special school", "special"),
    ("special", "Academy special converter", "special"),
    ("all_through", "Academy converter", "all_through"),
    (None, None, None),
])
def test_comparable_for_level_names_the_kind_a_school_is_compared_with(phase, type_name, kind) -> None:
    assert comparable_for_level(phase, type_name) == kind


# issue 11 point 7
def test_alternative_provision_is_never_like_a_mainstream_school() -> None:
    pru = ("secondary", "Pupil referral unit")
    assert not same_kind(pru, ("primary", "Community school"))
    assert not same_kind(pru, ("secondary", "Academy converter"))
    assert same_kind(pru, ("alternative", "Academy alternative provision converter"))
    assert not same_kind(("special", None), ("alternative", None))
    assert same_kind(("secondary", "Academy converter"), ("secondary", "Community school"))
    assert not same_kind(("secondary", None), ("primary", None))
    assert not same_kind((None, None), ("primary", None))  # an unknown kind is like nothing
