"""The pupil-group small multiples (charts/pupil_groups.py): one row per topic, shapes and words beside colour."""

from __future__ import annotations

from charts.pupil_groups import pupil_group_chart
from metrics.registry import load_registry

A8 = load_registry().get("attainment8")


def test_one_row_per_topic_with_values_in_words() -> None:
    topics = {
        "Disadvantage": [dict(group="Disadvantaged pupils", value=31.5, low=30.5, high=32.5, national=30.0),
                         dict(group="Other pupils", value=59.0, low=58.0, high=60.0, national=50.3)],
        "Boys and girls": [dict(group="Boys", value=42.3, low=41.3, high=43.3, national=None),
                           dict(group="Girls", value=None, words="suppressed: a small group", national=47.0)],
        "Mobility": [],
    }
    fig = pupil_group_chart(topics, label="Attainment 8", subject="The Trust", number=A8.number)
    # two topics with rows (Mobility has none), each a trace for the subject and one for England
    assert [a.text for a in fig.layout.annotations] == ["Disadvantage", "Boys and girls"]
    assert len(fig.data) == 4
    here, england = fig.data[0], fig.data[1]
    assert here.marker.symbol == "circle" and england.marker.symbol == "diamond-open"  # shape, not only colour
    assert list(here.x) == [31.5, 59.0] and list(here.error_x.array) == [1.0, 1.0]
    assert fig.layout.meta["description"] == (
        "Attainment 8 by pupil group, The Trust beside England. Disadvantage: Disadvantaged pupils: 31.5 "
        "(England 30.0); Other pupils: 59.0 (England 50.3). Boys and girls: Boys: 42.3; Girls: suppressed: a small "
        "group (England 47.0).")


def test_no_topic_says_so() -> None:
    fig = pupil_group_chart({"Disadvantage": []}, label="Attainment 8", subject="X")
    assert fig.layout.meta["description"] == "No pupil-group values for this measure and year."
