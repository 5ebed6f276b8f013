"""What the store holds: schools, groups, periods, imports."""

from __future__ import annotations

import streamlit as st

from ui.store import get_store

store = get_store()
info = store.info()
st.title("What's in the store")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Schools", f"{info.establishments:,}")
c2.metric("Groups", f"{sum(info.groups.values()):,}")
c3.metric("School values", f"{info.observations:,}")
c4.metric("Academic years", len(info.periods))
st.write("Groups by kind: " + (", ".join(f"{n:,} {k}" for k, n in info.groups.items()) or "none"))
st.write("Academic years: " + (", ".join(info.periods) or "none"))
st.subheader("Recent imports")
log = store.import_log(50)
if log.empty:
    st.write("Nothing imported yet.")
else:
    st.dataframe(log[["file_name", "kind", "period", "outcome", "observations", "benchmarks", "problems",
                      "finished_at"]], hide_index=True, width="stretch")
