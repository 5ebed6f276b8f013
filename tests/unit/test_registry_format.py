"""A measure's own number format (Measure.format_value): what every page, report and publication shows."""

from __future__ import annotations

import pytest

from metrics.registry import load_registry

REG = load_registry()


@pytest.mark.parametrize(("measure", "value", "words"), [
    ("progress8", -0.004, "+0.00"),  # rounds to zero: zero, signed as the format signs it, never "-0.00"
    ("progress8", -0.006, "-0.01"),
    ("attainment8", -0.04, "0.0"),
    ("basics_94", -0.0001, "0.0%"),
    ("basics_94", 64.44, "64.4%"),
    ("attainment8", None, "–"),
])
def test_a_value_that_rounds_to_zero_is_zero(measure: str, value: float | None, words: str) -> None:
    # issue 11 point 8: numbers formatted by the measure's format, on every page (it was fixed in one table only)
    assert REG.get(measure).format_value(value) == words
