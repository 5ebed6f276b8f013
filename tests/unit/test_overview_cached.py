"""ui.cached: the overview's shared deck sends the deck's own JSON (pydeck's serialiser runs once, not per rerun)."""

from __future__ import annotations

import pandas as pd

from charts.maps import schools_map
from ui.cached import shared_deck


def test_a_shared_deck_sends_what_the_deck_sends() -> None:
    places = pd.DataFrame({"urn": [3, 1], "name": ["Elm", "Oak <b>"], "latitude": [54.0, 53.9],
                           "longitude": [-1.6, -1.4], "level": [5, None], "level_label": ["Strong", "No data"],
                           "display": ["+0.6", "–"]})
    deck = shared_deck(schools_map(places, measure_label="Progress 8"))
    assert deck.to_json() == schools_map(places, measure_label="Progress 8").to_json()
    assert deck.to_json() is deck.to_json()
    assert deck._tooltip == {"text": "{name}\nProgress 8: {display} ({level_label})"}
