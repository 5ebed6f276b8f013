"""The Impact page (issue 15) for leaders, governors and data managers: the sentence, the chart, the numbers behind
it (the CSV's), the schools it rests on, the caveats, and the support ledger's part; not for the public."""

from __future__ import annotations

import pytest
from conftest import open_app, table


def test_a_leader_sees_the_event_study_in_words_and_numbers(demo_db) -> None:
    at = open_app("impact.py")
    assert at.title[0].value == "Impact of joining"
    assert "Measure" in [s.label for s in at.selectbox]
    said = [*at.success, *at.error, *at.warning, *at.info]
    assert any("joining" in e.value or "too few schools" in e.value.lower() for e in said)
    assert any(c.value.startswith("Check before joining") for c in [*at.caption, *at.warning])
    numbers = table(at, "Academic years")
    assert list(numbers["Year"])[:3] == ["3 years before", "2 years before", "1 year before"]
    assert list(numbers["Year"])[-1] == "After joining (+1 to +3)" and len(numbers) == 9
    assert "Spread across schools (lowest to highest)" in numbers.columns
    studied = table(at, "Left out because")
    assert {"3 years before", "year joined", "1 year after"} <= set(studied.columns)  # each school's own study
    assert [b.label for b in at.get("download_button")] == ["Download these numbers (CSV)"]
    assert any("association, not proof" in c.value for c in at.caption)
    labels = [e.label for e in at.expander]
    assert labels[0] == "The numbers behind the chart" and labels[1].startswith("The schools it rests on (")
    assert labels[2] == "What this can and cannot show"


def test_every_measure_opens(demo_db) -> None:
    at = open_app("impact.py")
    measure = next(s for s in at.selectbox if s.label == "Measure")
    for mid in measure.options:
        measure.set_value(mid).run()
        assert not at.exception, (mid, at.exception)
        assert table(at, "Academic years")["Year"].iloc[0] == "3 years before"
        measure = next(s for s in at.selectbox if s.label == "Measure")


def test_a_governor_sees_it_and_the_public_does_not(demo_db) -> None:
    assert open_app("impact.py", role="governor").title[0].value == "Impact of joining"
    at = open_app(role="public")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not among the public's pages
        at.switch_page("pages/impact.py")
