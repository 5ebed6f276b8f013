"""ui.shared.derived keys on which objects it is given, never on their value, and never serves a dead object's entry;
ui.tables.arrow_table gives st.dataframe exactly the bytes a DataFrame would have given (issue 14 point 2)."""

from __future__ import annotations

import gc

import pandas as pd
from streamlit import dataframe_util

from ui import shared as ui_shared
from ui.tables import arrow_table


class Box:
    def __init__(self, value: int) -> None:
        self.value = value


def test_the_same_objects_are_computed_once_and_equal_ones_again() -> None:
    calls = []

    @ui_shared.derived(max_entries=4)
    def double(box: Box) -> int:
        calls.append(box)
        return box.value * 2

    a, b = Box(1), Box(1)
    assert double(a) == double(a) == 2
    assert len(calls) == 1
    assert double(b) == 2 and len(calls) == 2  # equal, but another object: its own entry
    b.value = 5  # (shared objects are never changed; this shows the key is the object, not its value)
    assert double(b) == 2
    ui_shared.clear_all()
    assert double(a) == 2 and len(calls) == 3


def test_a_dead_objects_entry_is_never_served() -> None:
    @ui_shared.derived(max_entries=8)
    def value_of(box: Box) -> int:
        return box.value

    for n in range(50):  # ids are reused as objects die: each new box still gets its own value
        assert value_of(Box(n)) == n
        gc.collect()
    assert len(value_of.cache) <= 8


def test_arrow_table_sends_what_the_frame_sends() -> None:
    frame = pd.DataFrame({"Measure": ["A", "B"], "Value": ["1.0", "–"], "Trend": [[1.0, 2.0], []],
                          "URN": [100001, 100002]})
    assert (dataframe_util.convert_arrow_table_to_arrow_bytes(arrow_table(frame))
            == dataframe_util.convert_pandas_df_to_arrow_bytes(frame))
