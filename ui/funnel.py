"""A funnel plot of one measure for a school and the schools beside it, or the sentence saying why there is none:
what the Similar schools and Support pages both draw."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from charts.alt import funnel_alt
from charts.funnel import funnel_kind, funnel_plot, funnel_unavailable
from metrics.numbers import NumberFormat
from metrics.registry import Measure
from metrics.scorecard import ScorecardRow
from metrics.text import markdown_text
from ui.cached import shared_figure
from ui.shared import shared

LIMITS_CAPTION = ("Points outside the funnel lines differ from national by more than chance would explain "
                  "(95% and 99.8% limits); small schools vary more, so their limits are wider.")


@shared(max_entries=64)
def _figure(points: tuple[tuple, ...], national: float, kind: str, scale: float, sd: float | None, urn: int,
            title: str, label: str, number: NumberFormat, _plot: pd.DataFrame) -> tuple[go.Figure, str]:
    """The funnel and its words for these values, built once and shared (ui.shared, keyed by the values themselves:
    `points`, the rows of `_plot` as tuples, a few dozen schools; st.cache_resource hashed the DataFrame through
    its own hasher at every rerun). The figure's dict is made once (ui.cached.shared_figure): it is never changed."""
    fig = funnel_plot(_plot, national=national, kind=kind, scale=scale, sd=sd, highlight=urn, title=title,
                      number=number)
    return shared_figure(fig), funnel_alt(_plot, label, national, urn, kind=kind, scale=scale, sd=sd, number=number)


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
    points = (tuple(plot.columns), *plot.itertuples(index=False, name=None))
    fig, alt = _figure(points, row.national, kind, measure.scale, measure.sd, urn, title, measure.label,
                       measure.number, plot)
    st.plotly_chart(fig, alt=alt, width="stretch", key=key)
    st.caption(LIMITS_CAPTION)
    return shown
