"""Tables as st.dataframe sends them, converted once by the cached builder that makes them (issue 14 point 2).

st.dataframe converts a pandas DataFrame to Arrow at every rerun (pyarrow's from_pandas walks every column: a third
of a warm school scorecard's rerun, with its fifteen tables). Handed a pyarrow Table it only writes the Table's
bytes. `arrow_table` is Streamlit's own conversion (its type fixes for mixed columns included), so what reaches the
browser is byte for byte what the DataFrame gave; a builder cached per (store state, viewer, ...) calls it once and
the page passes the Table, which, like every shared value, is never changed after it is made (Arrow tables cannot
be).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit import dataframe_util


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """The frame as st.dataframe would send it (its index kept as pandas metadata, as Streamlit keeps it)."""
    return dataframe_util.convert_pandas_df_to_arrow_table(frame)


def text_columns(names: list[str], widths: Mapping[str, int]) -> dict[str, dict]:
    """A text column config for each column, at its width: built with the table, not at every rerun (st.dataframe
    copies the configs it is given, so one dict serves every rerun)."""
    return {c: st.column_config.TextColumn(c, width=widths[c]) for c in names}
