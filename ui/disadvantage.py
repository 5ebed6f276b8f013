""""How do disadvantaged pupils do?" on the school card and the group overview, and results by pupil group.

The numbers are data.services.pupil_groups' (through scope, cached per store state and viewer); the words here are
our own, with every name a person or a file gave made inert. Colour never carries meaning alone: each gap says
"narrowed"/"widened" in words, each flag has ⚑ and its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from charts.pupil_groups import pupil_group_chart
from charts.trend import trend_chart
from data.db.store import Store
from data.services import scope
from data.services.access import Viewer
from data.services.pupil_groups import Disadvantage, GapRow, GroupCell
from metrics.gaps import HEADLINE, TOPICS, format_gap, gap_sentence, group_label, points
from metrics.registry import Registry
from metrics.scorecard import TrendPoint, trend_breaks
from metrics.text import markdown_text
from ui.cached import shared_figure
from ui.key import FLAG, MET, NOT_MET
from ui.shared import shared
from ui.tables import arrow_table

TITLE = "How do disadvantaged pupils do?"
KEY_MEASURE = "pupil_group_measure"
# column widths (px) that keep the gap table within a 1,400-pixel laptop screen, as the scorecard's tables are
GAP_WIDTHS = {"Measure": 230, "Disadvantaged pupils": 130, "Other pupils nationally": 95, "Gap": 150,
              "Gap within": 150, "Change": 170, "Target": 170, "Flag": 90}
MEMBER_WIDTHS = {"School": 250, "URN": 70, "Disadvantaged pupils": 110, "Their result": 90, "Their gap": 80,
                 "Effect": 210, "Their change": 120}
# the members' table's columns: text at these widths, the URN a plain number (made once: st.dataframe copies them)
MEMBER_COLUMNS = {c: st.column_config.TextColumn(c, width=w) if c != "URN" else
                  st.column_config.NumberColumn(c, width=w, format="%d") for c, w in MEMBER_WIDTHS.items()}
GROUP_WIDTHS = {"Pupil group": 290, "Topic": 170, "Value": 170, "95% interval": 140, "England": 80}
GROUP_COLUMNS = {c: st.column_config.TextColumn(c, width=w) for c, w in GROUP_WIDTHS.items()}
INTRO = ("Disadvantaged pupils are those eligible for free school meals in the last six years or looked after by "
         "the local authority. The **gap** is DfE's: their result minus that of *other pupils nationally*; the "
         "**gap within** compares them with the other pupils of the same school or group.")


# shared (ui.shared): the records are frozen and only read, so every rerun shares one object instead of unpickling a
# copy (a 500-school group's summary is every member's gap over seven years); keyed on the viewer's scope as before
@shared(max_entries=64)
def _disadvantage(_store: Store, generation: int, viewer: Viewer, kind: str, ident: int, period: str,
                  include_special: bool) -> Disadvantage:
    if kind == "school":
        return scope.disadvantage(_store, viewer, school=ident, period=period)
    return scope.disadvantage(_store, viewer, group=ident, period=period, include_special=include_special)


@shared(max_entries=64)
def _view(_store: Store, generation: int, viewer: Viewer, kind: str, ident: int, measure: str, period: str,
          include_special: bool) -> dict[str, tuple[GroupCell, ...]]:
    if kind == "school":
        return scope.pupil_group_view(_store, viewer, school=ident, measure=measure, period=period)
    return scope.pupil_group_view(_store, viewer, group=ident, measure=measure, period=period,
                                  include_special=include_special)


@shared(max_entries=64)
def _measures(_store: Store, generation: int, viewer: Viewer, kind: str, ident: int, period: str,
              ) -> tuple[str, ...]:
    if kind == "school":
        return tuple(scope.pupil_group_measures(_store, viewer, period, school=ident))
    return tuple(scope.pupil_group_measures(_store, viewer, period, group=ident))


def disadvantage_of(store: Store, viewer: Viewer, kind: str, ident: int, period: str,
                    include_special: bool = False) -> Disadvantage:
    """The school's or group's disadvantage summary as this viewer may see it (cached)."""
    return _disadvantage(store, store.generation, viewer.scope, kind, ident, period, include_special)


def change_words(row: GapRow) -> str:
    """'narrowed by 1.2 since 2024/25' (in the gap's points), or why there is no change to show."""
    ch = row.change
    if ch.change is None:
        return ch.note or "no earlier year to compare with"
    if ch.direction == "unchanged":
        return f"unchanged since {ch.since}"
    sure = "" if ch.significant else " (within chance)"
    return f"{ch.direction} by {abs(ch.change):.1f} since {ch.since}{sure}"  # in the gap's points (the column's)


def _interval(m, lo: float | None, hi: float | None) -> str:
    return "" if lo is None or hi is None else f" ({format_gap(m, lo)} to {format_gap(m, hi)})"


def gap_table(d: Disadvantage, reg: Registry) -> pd.DataFrame:
    """One row per headline measure: the disadvantaged pupils' value, England's other pupils, the gap with its
    interval, the gap within, its change and target, all as text (a reader's words, never a colour)."""
    rows = []
    for r in d.rows:
        m, g = reg.get(r.measure), r.now
        dis = g.disadvantaged
        value = (f"{m.format_value(dis.value)} ({dis.cohort:,.0f} pupils)" if dis.value is not None
                 else {"suppressed": "Suppressed (small group)", "not_applicable": "Not published this year"}
                 .get(dis.status, "No value"))
        rows.append({
            "Measure": m.label,
            "Disadvantaged pupils": value,
            "Other pupils nationally": m.format_value(g.national_others) if g.national_others is not None else "–",
            "Gap": format_gap(m, g.gap) + _interval(m, g.gap_low, g.gap_high) if g.gap is not None else "–",
            "Gap within": (format_gap(m, g.within) + _interval(m, g.within_low, g.within_high)
                           if g.within is not None else "–"),
            # short words in the table (it must fit a laptop's width); why there is none is said under it
            "Change": change_words(r) if r.change.change is not None else "–",
            "Target": r.target.words.removeprefix("Target: ") if r.target else "",
            "Flag": f"{FLAG} widening" if r.flag else "",
        })
    df = pd.DataFrame(rows)
    return df.drop(columns=[c for c in ("Target", "Flag") if not df[c].any()])  # no empty columns


def _trend_figure(row: GapRow, reg: Registry, subject: str):
    m = reg.get(row.measure)
    periods = [g.period for g in row.trend]
    points_ = [TrendPoint(g.period, g.disadvantaged.value, g.disadvantaged.status) for g in row.trend]
    gaps, breaks = trend_breaks(m, points_)
    series = {f"Disadvantaged pupils, {subject}": [g.disadvantaged.value for g in row.trend],
              "Other pupils nationally": [g.national_others for g in row.trend],
              "Disadvantaged pupils nationally": [g.national_disadvantaged for g in row.trend]}
    return trend_chart(periods, series, unit=m.unit, title=f"{m.label}: disadvantaged pupils against others",
                       gaps=gaps, breaks=breaks, number=m.number)


def member_table(row: GapRow, reg: Registry) -> pd.DataFrame:
    """A group's members: each school's disadvantaged pupils, its own gap and whether it narrows or widens the
    group's (its pull, in the measure's points), and its change on last year."""
    m = reg.get(row.measure)
    out = []
    for mg in row.members:
        d = mg.disadvantaged
        effect = {"narrows": "Narrows the group's gap", "widens": "Widens the group's gap"}.get(mg.effect or "", "–")
        out.append({
            "School": mg.name, "URN": mg.urn,
            "Disadvantaged pupils": f"{d.cohort:,.0f}" if d.cohort is not None else
            ("Suppressed" if d.status == "suppressed" else "–"),
            "Their result": m.format_value(d.value) if d.value is not None else "–",
            "Their gap": format_gap(m, mg.gap) if mg.gap is not None else "–",
            "Effect": effect + (f" ({mg.pull:+.2f})".replace("-", "−") if mg.pull is not None else ""),
            "Their change": (f"{mg.change.direction} by {abs(mg.change.change):.1f}"
                             if mg.change.change is not None and mg.change.direction != "unchanged" else
                             (mg.change.direction or "–")),
        })
    return pd.DataFrame(out)


@dataclass(frozen=True)
class _Parts:
    """What the panel draws from its summary, made once per key: the tables as st.dataframe sends them (ui.tables)
    with their column configs, the lead measure's trend, and the words of the tiles and captions."""

    table: pa.Table
    table_columns: dict[str, dict]
    trend: go.Figure
    trend_words: str
    members: pa.Table | None
    tiles: tuple[tuple[str, str, str | None, str, str], ...]  # label, value, delta, delta colour, help
    sentence: str
    published: str | None
    warnings: tuple[str, ...]
    targets: tuple[str, ...]
    notes: str
    lead_label: str
    members_heading: str
    flags_heading: str
    flag_lines: tuple[str, ...]


@shared(max_entries=64)
def _panel_parts(generation: int, viewer: Viewer, kind: str, ident: int, period: str, include_special: bool,
                 subject_words: str, _d: Disadvantage, _reg: Registry) -> _Parts:
    """The panel's tables, the lead measure's trend and every sentence of it: built once per key, shared.

    The key determines the summary `_d` (disadvantage_of) and the registry `_reg` (the page's: the group's, or the
    school card's) that come with it unhashed."""
    d, reg = _d, _reg
    lead = _lead(d)
    members = member_table(lead, reg) if kind == "group" and lead.members else None
    trend = shared_figure(_trend_figure(lead, reg, "here" if kind == "school" else "the group"))
    table = gap_table(d, reg)
    m, g = reg.get(lead.measure), lead.now
    delta = None
    if lead.change.change is not None and lead.change.direction in ("narrowed", "widened"):
        delta = f"{lead.change.direction} by {abs(lead.change.change):.1f} since {lead.change.since}"
    tiles = (
        (f"Disadvantaged pupils: {markdown_text(m.label)}",
         m.format_value(g.disadvantaged.value) if g.disadvantaged.value is not None else "–", None, "normal",
         f"{g.disadvantaged.cohort or 0:,.0f} disadvantaged pupils in {period}."),
        ("Other pupils nationally", m.format_value(g.national_others) if g.national_others is not None else "–",
         None, "normal",
         "Non-disadvantaged pupils in state-funded schools in England: DfE's comparator for the gap."),
        (f"Gap ({points(m)})", format_gap(m, g.gap), delta,
         "normal" if lead.change.direction == "narrowed" else "inverse",
         "Disadvantaged pupils' result minus other pupils' nationally (DfE's definition). Negative: behind."),
    )
    published = (markdown_text(f"DfE's own published gap for this school: {format_gap(m, g.published)} "
                               f"(Jointly's: {format_gap(m, g.gap)}, from the rounded figures).")
                 if g.published is not None else None)
    targets = []
    for r in d.rows:
        if r.target is not None:  # the governors' aim for the gap, in words and a mark (never a colour)
            mark = {True: MET, False: NOT_MET}.get(r.target.met, "") if r.target.years_left in (None, 0) else ""
            targets.append(markdown_text(f"{r.label}: {r.target.words}") + (f" {mark}" if mark else ""))
    notes = dict.fromkeys(r.change.note for r in d.rows if r.change.change is None and r.change.note)
    names = {x.urn: x.name for x in lead.members}
    return _Parts(
        table=arrow_table(table),
        table_columns={c: st.column_config.TextColumn(c, width=GAP_WIDTHS[c]) for c in table.columns},
        trend=trend,
        trend_words=markdown_text(trend.layout.meta["description"]),
        members=arrow_table(members) if members is not None else None,
        tiles=tiles,
        sentence=markdown_text(gap_sentence(m, subject_words, g, lead.change)),
        published=published,
        warnings=tuple(f"{FLAG} " + markdown_text(r.flag) for r in d.rows if r.flag),
        targets=tuple(targets),
        notes=INTRO + (" " + " ".join(markdown_text(n) for n in notes) if notes else ""),
        lead_label=m.label,
        members_heading=f"**Which schools narrow or widen the group's {markdown_text(m.label)} gap**",
        flags_heading=f"{FLAG} {len(d.flags)} widening gap(s) at member schools",
        flag_lines=tuple("- " + markdown_text(f"{names.get(urn, f'School {urn}')} ({urn}): {why}")
                         for urn, why in d.flags),
    )


def _lead(d: Disadvantage) -> GapRow:
    """The measure the panel leads with: the first with a gap this year, else the first."""
    return next((r for r in d.rows if r.now.gap is not None), d.rows[0])


def disadvantage_panel(store: Store, viewer: Viewer, kind: str, ident: int, period: str, reg: Registry, *,
                       include_special: bool = False, subject_words: str = "this school") -> Disadvantage | None:
    """The section that leads the card: the lead measure's gap in tiles and words, every headline measure in a
    table, the trend, and for a group which members narrow or widen it; widening gaps flagged."""
    d = disadvantage_of(store, viewer, kind, ident, period, include_special)
    st.subheader(TITLE)
    if not d.rows:
        st.info(f"No results for disadvantaged pupils in {period} yet: import DfE's performance tables (the wide "
                "files or the EES school files) to see them.")
        return d
    parts = _panel_parts(store.generation, viewer.scope, kind, ident, period, include_special, subject_words, d, reg)
    for col, (label, value, delta, colour, words) in zip(st.columns(3), parts.tiles, strict=True):
        col.metric(label, value, delta=delta, delta_color=colour, border=True, help=words)
    st.markdown(parts.sentence)
    if parts.published is not None:
        st.caption(parts.published)
    for words in parts.warnings:
        st.warning(words)
    for words in parts.targets:
        st.caption(words)
    st.dataframe(parts.table, hide_index=True, width="stretch", key=f"gaps_{kind}", column_config=parts.table_columns)
    st.caption(parts.notes)
    with st.expander(f"{parts.lead_label}: the gap over the years"):
        st.plotly_chart(parts.trend, width="stretch", key=f"gap_trend_{kind}")
        st.caption(parts.trend_words)
    if parts.members is not None:
        st.markdown(parts.members_heading)
        st.dataframe(parts.members, hide_index=True, width="stretch", key="gap_members", column_config=MEMBER_COLUMNS)
        st.caption("A school narrows the group's gap when its own gap is smaller than the group's; the number is "
                   "its share of the group's disadvantaged pupils times the difference (the numbers add up to 0).")
        if d.flags:
            with st.expander(parts.flags_heading):
                for line in parts.flag_lines:
                    st.markdown(line)
    return d


def pupil_group_section(store: Store, viewer: Viewer, kind: str, ident: int, period: str, reg: Registry, *,
                        include_special: bool = False, subject_words: str = "here") -> None:
    """Any measure by pupil group: a small chart per topic (disadvantage, sex, first language, SEN, prior
    attainment, mobility) with the values in words beside it."""
    # judged measures only (a count such as the GCSE year's pupils is context), the headline measures first
    first = [m for ms in HEADLINE.values() for m in ms]
    available = sorted((m for m in _measures(store, store.generation, viewer.scope, kind, ident, period)
                        if m in reg and reg.get(m).judged and reg.get(m).rollup.value != "sum"),
                       key=lambda m: (first.index(m) if m in first else len(first), m))
    st.subheader("Results by pupil group")
    if not available:
        st.info(f"No pupil-group results for {period} yet.")
        return
    labelled = {reg.get(x).label: x for x in available}  # options are what they show (AppTest keeps those)
    mid = labelled[st.selectbox("Measure", list(labelled), key=f"{KEY_MEASURE}_{kind}")]
    fig, table = _pupil_group_parts(store.generation, viewer.scope, kind, ident, mid, period, include_special,
                                    subject_words, store, reg)
    st.plotly_chart(fig, width="stretch", key=f"pupil_groups_{kind}")
    st.caption("Filled circles: " + markdown_text(subject_words) + ", with the 95% interval as a bar. Hollow "
               "diamonds: pupils of the same group in England.")
    st.dataframe(table, hide_index=True, width="stretch", key=f"pupil_group_table_{kind}", column_config=GROUP_COLUMNS)


@shared(max_entries=64)
def _pupil_group_parts(generation: int, viewer: Viewer, kind: str, ident: int, mid: str, period: str,
                       include_special: bool, subject_words: str, _store: Store,
                       _reg: Registry) -> tuple[go.Figure, pa.Table]:
    """The pupil-group chart and its table for one measure: built once per key, shared (the registry `_reg` is the
    one the key determines: the page's, for this group or school)."""
    m = _reg.get(mid)
    view = _view(_store, generation, viewer, kind, ident, mid, period, include_special)
    titles = dict(TOPICS)
    topics, table = {}, []
    for topic, cells in view.items():
        rows = []
        for c in cells:
            v = c.value
            words = (f"{m.format_value(v.value)} ({v.cohort:,.0f} pupils)" if v.value is not None else
                     {"suppressed": "suppressed: a small group", "not_applicable": "not published this year"}
                     .get(v.status, "no value"))
            rows.append({"group": group_label(c.pupil_group), "value": v.value, "low": v.ci_low, "high": v.ci_high,
                         "national": c.national, "words": words})
            table.append({"Pupil group": group_label(c.pupil_group), "Topic": titles[topic], "Value": words,
                          "95% interval": (f"{m.format_value(v.ci_low)} to {m.format_value(v.ci_high)}"
                                           if v.ci_low is not None and v.ci_high is not None else "–"),
                          "England": m.format_value(c.national) if c.national is not None else "–"})
        topics[titles[topic]] = rows
    fig = pupil_group_chart(topics, label=m.label, subject=subject_words, number=m.number, unit=m.unit)
    return shared_figure(fig), arrow_table(pd.DataFrame(table))
