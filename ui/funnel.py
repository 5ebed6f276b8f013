"""A funnel plot of one measure for a school and the schools beside it, or the sentence saying why there is none:
what the Similar schools and Support pages both draw."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.alt import funnel_alt
from charts.funnel import funnel_kind, funnel_plot, funnel_unavailable
from metrics.registry import Measure
from metrics.scorecard import ScorecardRow
from metrics.text import markdown_text

LIMITS_CAPTION = ("Points outside the funnel lines differ from national by more than chance would explain "
                  "(95% and 99.8% limits); small schools vary more, so their limits are wider.")


def school_funnel(values: pd.DataFrame, names: dict[int, str], measure: Measure, row: ScorecardRow, urn: int, *,
                  title: str, key: str) -> pd.DataFrame:
    """Draw the funnel of `values` (urn, value, denominator, status; the school's own row among them) against the
    row's national figure, the school highlighted; or say why not. Returns the schools' usable values (urn, value,
    cohort) for the page's table."""
    shown = values[values["status"] == "ok"][["urn", "value", "denominator"]].rename(columns={"denominator": "cohort"})
    plot = shown.assign(name=shown["urn"].map(names))
    why_not = funnel_unavailable(plot, label=measure.label, national=row.national, scale=measure.scale, sd=measure.sd)
    if why_not:
        st.info(markdown_text(why_not))
        return shown
    plot = plot.dropna(subset=["cohort"])
    kind = funnel_kind(measure.scale)
    st.plotly_chart(funnel_plot(plot, national=row.national, kind=kind, scale=measure.scale, sd=measure.sd,
                                highlight=urn, title=title, number=measure.number),
                    alt=funnel_alt(plot, measure.label, row.national, urn, kind=kind, scale=measure.scale,
                                   sd=measure.sd, number=measure.number), width="stretch", key=key)
    st.caption(LIMITS_CAPTION)
    return shown
