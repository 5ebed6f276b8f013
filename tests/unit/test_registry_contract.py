"""The registry enforces what the pages assume (issue 12 point 5): its closed sets are enums, refused in words when a
file or a stored definition names anything else, and a declared uncertainty is obeyed by the engine."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

import numpy as np
import pytest

from metrics.numbers import is_number_format
from metrics.registry import (
    Perspective,
    Phase,
    Polarity,
    Rollup,
    Uncertainty,
    load_registry,
    parse_measure,
)
from metrics.scorecard import interval, intervals
from metrics.validation import validate_definitions

REG = load_registry()
LOCAL = {"id": "leaders_pct", "label": "Pupils in a leadership role", "owner": "7",
         "description": "Share of pupils who hold a leadership role: school council, prefects, sports leaders.",
         "perspective": "curriculum", "unit": "%", "format": ".0f", "polarity": "higher_better",
         "phases": ["primary"], "rollup": "pooled_ratio", "scale": 100, "uncertainty": "wilson"}
# field -> (a value outside its closed set, the allowed values as every refusal lists them)
UNKNOWN = {
    "perspective": ("outcomes", "pupil_outcomes, curriculum, inclusion, staff_leadership, partnership_community, "
                                "context"),
    "polarity": ("higher", "higher_better, lower_better, context"),
    "rollup": ("average", "pooled_ratio, weighted_mean, sum"),
    "uncertainty": ("sometimes", "none, published_ci, wilson, normal"),
}


def test_every_closed_set_of_every_national_measure_is_an_enum() -> None:
    # issue 12 point 2
    for m in REG.measures:
        assert type(m.perspective) is Perspective and type(m.polarity) is Polarity, m.id
        assert type(m.rollup) is Rollup and type(m.uncertainty) is Uncertainty, m.id
        assert all(type(p) is Phase for p in m.phases), m.id
        assert is_number_format(m.format), m.id
    assert all(issubclass(e, StrEnum) for e in (Perspective, Polarity, Rollup, Uncertainty, Phase))


@pytest.mark.parametrize("field", sorted(UNKNOWN))
def test_an_unknown_value_is_refused_with_the_field_and_the_allowed_values(field: str) -> None:
    # issue 12 point 2: by the validator (the TOML and the form) and by the loader (a stored local definition)
    bad, allowed = UNKNOWN[field]
    message = f"{field} {bad!r} is not one of: {allowed}"
    assert [(i.field, i.message) for i in validate_definitions([{**LOCAL, field: bad}], source="form",
                                                               group_members_only=True)] == [(field, message)]
    with pytest.raises(ValueError) as caught:
        parse_measure({**LOCAL, field: bad})
    assert str(caught.value) == message


@pytest.mark.parametrize("spec", [".1%", ".2e", "g", "10.1f", ".1q", "d", ".4f"])
def test_a_format_outside_the_closed_set_is_refused_with_the_allowed_formats(spec: str) -> None:
    # issue 12 point 2: '.1%' would write 4510.0%% for 45.1; '.2e' 4.51e+01
    allowed = ".0f to .3f (that many decimals), with + in front to sign the number (+.2f) and , for thousands (,.0f)"
    assert [(i.field, i.message) for i in validate_definitions([{**LOCAL, "format": spec}], source="form",
                                                               group_members_only=True)] == [
        ("format", f"format {spec!r} is not one of the number formats: {allowed}")]
    with pytest.raises(ValueError, match="is not a number format"):
        parse_measure({**LOCAL, "format": spec})


def test_a_stored_definition_outside_a_closed_set_is_left_out_in_words_never_a_traceback() -> None:
    # issue 12 point 2: a store written before the rule; the registry loads, says so, and keeps the rest
    reg = REG.with_local([{**LOCAL, "uncertainty": "sometimes"}, {**LOCAL, "id": "events", "label": "Events",
                                                                  "format": ".1%"}])
    assert "leaders_pct" not in reg and "events" not in reg and len(reg.measures) == len(REG.measures)
    assert reg.problems == (
        "Local measure leaders_pct is left out of scorecards: uncertainty 'sometimes' is not one of: none, "
        "published_ci, wilson, normal. Its definition is kept in the store; correct it on the Measures page.",
        "Local measure events is left out of scorecards: format '.1%' is not a number format: .0f to .3f (that many "
        "decimals), with + in front to sign the number (+.2f) and , for thousands (,.0f). Its definition is kept in "
        "the store; correct it on the Measures page.",
    )


# ------------------------------------------------------------------------------ a declared uncertainty is obeyed


def test_a_national_measure_declared_without_uncertainty_gets_no_interval() -> None:
    # issue 12 point 3: a pooled share on a 0-100 scale was given a Wilson interval whatever it declared
    declared_none = replace(REG.get("basics_94"), uncertainty=Uncertainty.NONE)
    assert interval(declared_none, 40.0, 40.0, 100.0, None, None) == (None, None, None)
    # not even the file's own bounds: "none" means none
    assert interval(declared_none, 40.0, 40.0, 100.0, 30.0, 50.0) == (None, None, None)
    lo, hi = intervals(declared_none, np.array([40.0, 60.0]), np.array([40.0, 60.0]), np.array([100.0, 100.0]),
                       np.array([np.nan, 50.0]), np.array([np.nan, 70.0]))
    assert np.isnan(lo).all() and np.isnan(hi).all()
    # the measure as declared (wilson) keeps its interval
    low, high, how = interval(REG.get("basics_94"), 40.0, 40.0, 100.0, None, None)
    assert how == "wilson" and low is not None and high is not None and round(low, 1) == 30.9 and round(high, 1) == 49.8


def test_a_local_measure_declared_without_uncertainty_gets_no_interval() -> None:
    # issue 12 point 3
    local = parse_measure({**LOCAL, "uncertainty": "none"})
    assert local.uncertainty is Uncertainty.NONE
    assert interval(local, 40.0, 40.0, 100.0, None, None) == (None, None, None)
    assert interval(parse_measure(LOCAL), 40.0, 40.0, 100.0, None, None)[2] == "wilson"


def test_every_national_measure_declares_the_interval_it_gets() -> None:
    # issue 12 point 3: the national shares that had a Wilson interval by the engine's guess now declare it
    for m in REG.measures:
        if m.rollup is Rollup.POOLED_RATIO and m.scale == 100:
            assert m.uncertainty is Uncertainty.WILSON, m.id
