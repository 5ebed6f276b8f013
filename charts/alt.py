"""Plain-language descriptions of charts, for `st.plotly_chart(..., alt=...)` and each figure's layout.meta.

Each takes the same data as its chart and says what a sighted reader would take from it: how many, of what,
which levels, which way a line goes, who stands out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from charts._common import finite, format_number, format_series, join_words, measure_number, plural
from charts._prep import BALANCED_WORDS, GIVER_WORDS, TAKER_WORDS, grid_cells, support_tables
from charts.limits import (
    ABOVE_95,
    ABOVE_998,
    BELOW_95,
    BELOW_998,
    WITHIN,
    funnel_points,
)
from charts.palette import LEVEL_WORDS, as_level
from metrics.numbers import NumberFormat

NO_VALUES = "No values for this selection."
NO_SUPPORT = "No support recorded for this selection."


def _level_phrases(levels: Iterable[object], labels: Iterable[object], noun: str = "", nouns: str = "") -> list[str]:
    """'5 cells Cause for concern', …, in level order; cells without a level are counted under their own
    words (Insufficient data, Context (not judged), …)."""
    levels = [as_level(v) for v in levels]
    labels = list(labels)
    counts = Counter(levels)

    def count(k: int) -> str:
        return plural(k, noun, nouns) if noun else str(k)

    out = [f"{count(counts[lv])} {LEVEL_WORDS[lv]}" for lv in (1, 2, 3, 4, 5) if counts[lv]]
    why = Counter(lab if isinstance(lab, str) and lab else LEVEL_WORDS[None]
                  for lv, lab in zip(levels, labels, strict=True) if lv is None)
    out += [f"{count(k)} {words}" for words, k in sorted(why.items(), key=lambda kv: (-kv[1], kv[0]))]
    return out


def grid_alt(df: pd.DataFrame) -> str:
    """'Grid of 12 schools by 8 measures, coloured by performance level: 5 cells Cause for concern, …'"""
    cells, rows, measures = grid_cells(df)
    if cells.empty:
        return NO_VALUES
    phrases = _level_phrases(cells["level"], cells["level_label"], "cell", "cells")
    text = (f"Grid of {plural(len(rows), 'school')} by {plural(len(measures), 'measure')}, coloured by "
            f"performance level: {', '.join(phrases)}.")
    concern = cells[cells["level"] == 1].groupby("row", sort=False).size()
    if len(concern):
        top = concern.sort_values(ascending=False, kind="stable").head(3)
        text += " Most cells Cause for concern: " + ", ".join(f"{r} ({k})" for r, k in top.items()) + "."
    return text


def _direction(values: Sequence[float | None]) -> str | None:
    known = [v for v in (finite(x) for x in values) if v is not None]
    if len(known) < 2:
        return None
    first, last = known[0], known[-1]
    # compare at the precision the values are shown with, so that '45.1 to 45.1' is never called rising
    if round(last, 2) == round(first, 2):
        return "unchanged"
    return "rising" if last > first else "falling"


def trend_alt(label: str, periods: Sequence[str], values: Sequence[float | None], unit: str = "", *,
              number: NumberFormat | None = None) -> str:
    """'Attainment 8 from 2020/21 to 2024/25: 45.1, 46.0, no value, 47.2; rising.' (`number`: the measure's own
    format, as its tables show it)."""
    if not periods:
        return f"{label}: no values."
    shown = ", ".join(format_series(values, unit, number))
    span = f"in {periods[0]}" if len(periods) == 1 else f"from {periods[0]} to {periods[-1]}"
    way = _direction(values)
    if all(finite(v) is None for v in values):
        return f"{label} {span}: no values."
    return f"{label} {span}: {shown}" + (f"; {way}." if way else ".")


def funnel_alt(df: pd.DataFrame, label: str = "", national: float | None = None, highlight: int | None = None, *,
               kind: str | None = None, scale: float = 100.0, sd: float | None = None,
               number: NumberFormat | None = None) -> str:
    """'Funnel plot of 120 schools: value against cohort size, … 3 above the 95% limit (1 of them above 99.8%) …'

    With `kind` ("rate" or "mean", as given to funnel_plot) the schools are counted against the control limits;
    without it, or when the limits cannot be drawn (a mean without sd), only against the national value."""
    limits = kind is not None and national is not None and np.isfinite(national)
    try:
        pts = funnel_points(df, national=national if limits else None, kind=kind or "rate", scale=scale, sd=sd)
    except ValueError:
        limits = False
        pts = funnel_points(df, national=None, kind="rate", scale=scale, sd=sd)
    if pts.empty:
        return NO_VALUES
    unit = "%" if (kind or "rate") == "rate" and scale == 100 else ""
    text = f"Funnel plot of {plural(len(pts), 'school')}: {label or 'value'} against cohort size"
    if national is None or not np.isfinite(national):
        text += ", without a national value to compare with."
    elif not limits:
        above = int((pts["value"] > national).sum())
        below = int((pts["value"] < national).sum())
        text += (f", around the national value of {measure_number(national, unit, number)}: {above} above it, "
                 f"{below} below it, {len(pts) - above - below} level with it.")
    else:
        counts = Counter(pts["status"])
        text += f", with 95% and 99.8% limits around the national value of {measure_number(national, unit, number)}."
        parts = []
        above, below = counts[ABOVE_95] + counts[ABOVE_998], counts[BELOW_95] + counts[BELOW_998]
        if above:
            parts.append(f"{above} above the 95% limit" + (f" ({counts[ABOVE_998]} of them above 99.8%)"
                                                            if counts[ABOVE_998] else ""))
        if below:
            parts.append(f"{below} below the 95% limit" + (f" ({counts[BELOW_998]} of them below 99.8%)"
                                                            if counts[BELOW_998] else ""))
        parts.append(f"{counts[WITHIN]} within the limits")
        text += " " + ", ".join(parts) + "."
    if highlight is not None:
        hit = pts[pts["urn"] == highlight]
        if len(hit):
            r = hit.iloc[0]
            text += (f" Highlighted: {r['name']}, {measure_number(r['value'], unit, number)} with a cohort of "
                     f"{format_number(r['cohort'])}" + (f", {r['status']}." if limits else "."))
    return text


def scatter_alt(df: pd.DataFrame, *, x_label: str, y_label: str, highlight: int | None = None) -> str:
    """'Scatter of 120 schools: Attainment 8 against % disadvantaged; 30 in the family of similar schools.'"""
    if df is None or df.empty:
        return NO_VALUES
    x = pd.to_numeric(df["x"], errors="coerce")
    y = pd.to_numeric(df["y"], errors="coerce")
    ok = df[np.isfinite(x) & np.isfinite(y)]
    if ok.empty:
        return NO_VALUES
    text = f"Scatter of {plural(len(ok), 'school')}: {y_label} against {x_label}"
    if "group" in ok.columns:
        fam = int((ok["group"] == "family").sum())
        if fam:
            text += f"; {fam} in the family of similar schools"
    text += "."
    if len(ok) >= 3:
        xs, ys = x[ok.index].to_numpy(float), y[ok.index].to_numpy(float)
        if xs.std() > 0 and ys.std() > 0:
            r = float(np.corrcoef(xs, ys)[0, 1])
            strength = "strong" if abs(r) >= 0.6 else "moderate" if abs(r) >= 0.3 else "weak or no"
            text += f" {strength.capitalize()} {'negative' if r < 0 else 'positive'} association (r = {r:.2f})."
    if highlight is not None:
        hit = ok[ok["urn"] == highlight]
        if len(hit):
            r0 = hit.iloc[0]
            text += (f" Highlighted: {r0['name']}, {x_label} {format_number(r0['x'])}, "
                     f"{y_label} {format_number(r0['y'])}.")
    return text


def network_alt(nodes: pd.DataFrame, edges: pd.DataFrame) -> str:
    """'Support network of 6 schools with 9 links, 120 h in all. Net givers: A (gave 40 h, received 12 h) …'"""
    n, e = support_tables(edges, nodes)
    if e.empty:
        return NO_SUPPORT
    text = (f"Support network of {plural(len(n), 'school')} with {plural(len(e), 'support link')}, "
            f"{format_number(e['hours'].sum(), 'hours')} in all.")
    for kind, heading in ((GIVER_WORDS, "Net givers"), (TAKER_WORDS, "Net takers"), (BALANCED_WORDS, "Balanced")):
        part = n[n["kind"] == kind]
        if len(part):
            who = [f"{r.name} (gave {format_number(r.given, 'hours')}, received {format_number(r.received, 'hours')})"
                   for r in part.itertuples(index=False)]
            text += f" {heading}: {join_words(who)}."
    top = e.sort_values(["hours", "giver", "taker"], ascending=[False, True, True]).iloc[0]
    name = dict(zip(n["urn"], n["name"], strict=True))
    text += f" Largest link: {name[top['giver']]} to {name[top['taker']]}, {format_number(top['hours'], 'hours')}."
    return text


def map_alt(df: pd.DataFrame, measure_label: str) -> str:
    """'Map of 12 schools coloured by Progress 8 level: 3 Strong, … 2 schools without a location are not shown.'"""
    if df is None or df.empty:
        return NO_VALUES
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    has = np.isfinite(lat) & np.isfinite(lon)
    shown = df[has]
    missing = int((~has).sum())
    if shown.empty:
        text = f"Map of {measure_label}: none of the {plural(len(df), 'school')} has a location to show."
        return text
    labels = shown["level_label"] if "level_label" in shown.columns else [None] * len(shown)
    phrases = _level_phrases(shown["level"], labels)
    text = f"Map of {plural(len(shown), 'school')} coloured by {measure_label} level: {', '.join(phrases)}."
    if missing:
        text += f" {plural(missing, 'school')} without a location {'is' if missing == 1 else 'are'} not shown."
    return text
