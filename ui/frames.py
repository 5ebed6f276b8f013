"""Turning scorecards into the small tables pages and charts draw. No SQL, no statistics: layout only."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from metrics.numbers import NO_VALUE, NumberFormat
from metrics.registry import Measure, Perspective, Registry
from metrics.scorecard import LEVELS, LOCAL_ONLY, NOT_JUDGED, Scorecard, ScorecardRow, cells_of, comparable_run

TILES_PER_PERSPECTIVE = 3


def headline_rows(card: Scorecard) -> dict[Perspective, list[ScorecardRow]]:
    """Per perspective, the first judged measures with a value (the governors' order when they chose one)."""
    out: dict[Perspective, list[ScorecardRow]] = {}
    for r in card.rows:
        if r.value is None or r.polarity == "context":
            continue
        rows = out.setdefault(Perspective(r.perspective), [])
        if len(rows) < TILES_PER_PERSPECTIVE:
            rows.append(r)
    return {p: out[p] for p in Perspective if p in out}


def grid_measures(card: Scorecard) -> list[ScorecardRow]:
    """Judged national measures that at least one member has a value for: what the grid can show."""
    return [r for r in card.rows if r.polarity != "context" and r.national is not None and _reported(r) > 0]


def _reported(r: ScorecardRow) -> int:
    """How many members have a value on the row (from its cells' arrays: no tuple per member is made)."""
    return int(np.isfinite(cells_of(r.member_values)[1]).sum())


def widest_measure(card: Scorecard) -> str | None:
    """The judged measure most members have a value for (a map coloured by it leaves few schools grey)."""
    rows = grid_measures(card)
    if not rows:
        return None
    return max(rows, key=_reported).measure


def vs_national(r: ScorecardRow, registry: Registry) -> str | None:
    """'+3.2 points above national' in words, or None when there is no national comparator."""
    if r.value is None or r.national is None:
        return None
    number = _number(r, registry)
    unit = " points" if r.unit == "%" else ""
    # a difference is always signed, at the measure's own decimals
    return f"{NumberFormat('+' + number.spec.lstrip('+')).number(r.value - r.national)}{unit} vs national"


def _number(r: ScorecardRow, registry: Registry) -> NumberFormat:
    """The row's number format: its measure's (the registry the card was built with knows every row)."""
    return registry.get(r.measure).number


def change_caption(r: ScorecardRow) -> str:
    """Under a tile: why there is no change on the year before (a DfE gap, a new definition), or nothing.

    The tile's delta compares with national in the same year, never with another year: no arrow ever spans a gap."""
    return f"No change shown: {r.change_note}" if r.change_note else ""


def delta_arrow(r: ScorecardRow) -> str:
    """A tile's arrow: off when the row cannot be compared with the year before (the delta is then plain words vs
    national, with no arrow beside a gap or a new definition)."""
    return "off" if r.change_note else "auto"


def trend_cells(r: ScorecardRow, measure: Measure) -> tuple[list[float | None], str]:
    """The school card's trend column: the latest stretch of comparable years only (a table sparkline cannot break
    its line), and those years in words, saying when earlier years are left out."""
    run = comparable_run(measure, r.trend)
    earlier = [t for t in r.trend[: len(r.trend) - len(run)] if t.value is not None]
    if not run:
        words = "no comparable years"
    else:
        words = run[0].period if len(run) == 1 else f"{run[0].period} to {run[-1].period}"
    if earlier:
        words += "; earlier years are not comparable (a gap in DfE's data, a missing year or a new definition)"
    return [t.value for t in run], words


def grid_frame(card: Scorecard, *, registry: Registry, measures: list[str] | None = None) -> pd.DataFrame:
    """Schools x judged measures with each school's level and value (in its measure's own format, as on the school's
    card, the PDF and the CSV): the overview grid's data."""
    rows = [r for r in card.rows if r.polarity != "context" and (measures is None or r.measure in measures)
            and _reported(r) > 0]
    names = dict(card.members)
    data = []
    for r in rows:
        number = _number(r, registry)
        for urn, value, _status in r.member_values:
            level = card.member_levels.get((urn, r.measure))
            data.append({
                "school": names.get(urn, f"School {urn}"), "urn": urn, "measure": r.label, "measure_id": r.measure,
                "level": level, "level_label": cell_words(card, urn, r.measure),
                "display": number.text(value),
            })
    return pd.DataFrame(data, columns=["school", "urn", "measure", "measure_id", "level", "level_label", "display"])


def cell_words(card: Scorecard, urn: int, measure: str) -> str:
    """A member's level in the words its own school card uses ("Good (this year only: …)", "No level: …"): the
    group card's member_labels; the bare level's name where a card gives none."""
    words = card.member_labels.get((urn, measure))
    if words:
        return words
    level = card.member_levels.get((urn, measure))
    return LEVELS[level - 1] if level else "Insufficient data"


def map_frame(card: Scorecard, establishments: pd.DataFrame, measure: str, *, registry: Registry) -> pd.DataFrame:
    """Member schools with coordinates and the chosen measure's value (in its own format) and level.

    The members (in the card's order) that the establishments table knows, joined to it in one merge; the level, its
    words and the value are dictionary look-ups per member (no row-by-row search of the table)."""
    columns = ["urn", "name", "latitude", "longitude", "level", "level_label", "display"]
    row = next((r for r in card.rows if r.measure == measure), None)
    values = {u: v for u, v, _ in row.member_values} if row else {}
    members = pd.DataFrame(card.members, columns=["urn", "name"])
    if members.empty:
        return pd.DataFrame(columns=columns)
    places = establishments[["urn", "latitude", "longitude"]].drop_duplicates("urn")
    found = members.merge(places, on="urn", how="inner", sort=False)  # an inner merge keeps the members' order
    if found.empty:
        return pd.DataFrame(columns=columns)
    urns = found["urn"].tolist()
    number = _number(row, registry) if row else None
    out = pd.DataFrame({
        "urn": urns, "name": found["name"].tolist(),
        "latitude": found["latitude"].tolist(), "longitude": found["longitude"].tolist(),
        "level": [card.member_levels.get((u, measure)) for u in urns],
        "level_label": [cell_words(card, u, measure) for u in urns],
        "display": [number.text(values.get(u)) for u in urns] if number else [NO_VALUE] * len(urns),
    })
    return out[columns]


# ------------------------------------------------------------------------------ the school card's table

# What a head reads first, in this order, narrow enough to be seen whole at 1,400 px with the sidebar open
# (issue 11 point 8): everything else about a measure is under the table, in its words expander.
SCHOOL_COLUMNS = ("Measure", "Value", "National", "Local authority", "Level", "Target", "Trend")
# px, measured on the page: at 1,400 px with the sidebar open the table has 938 px; 925 are given out so that the
# longest measure name (53 characters), "Local authority (" and a 13-letter name, "Cause for concern" and
# "62% (not met)" are read whole (a longer LA name is cut, and said in full in the column's help and the caption)
SCHOOL_WIDTHS = {"Measure": 325, "Value": 60, "National": 70, "Local authority": 185, "Level": 120, "Target": 90,
                 "Trend": 80}
# one neutral colour for every trend line: red or green would judge a rise without knowing the measure's polarity
TREND_COLOUR = "#3b5b92"
DETAIL_COLUMNS = ("Measure", "Compared with", "Similar schools (median)", "Expected for this intake", "95% range",
                  "Version")
VERSION_WORDS = {"provisional": "Provisional", "revised": "Revised", "final": "Final"}
# the level column's words where the full label is a sentence (the words expander says it in full)
SHORT_LEVELS = {NOT_JUDGED: "Not judged", LOCAL_ONLY: "No national figure"}
MIN_TREND_YEARS = 2  # a single year draws no line: a flat sparkline would say "no change", which nobody measured


def shown(measure: Measure, value: float | None) -> str:
    """A value in the measure's own format (a value that rounds to zero is zero, never '-0.0': Measure.format_value)."""
    return measure.format_value(value)


def level_word(label: str) -> str:
    """A level as the table shows it: its word without the sentence after it ('Good (this year only: ...)' ->
    'Good', 'No level: ...' -> 'No level'); the words expander under the table says it in full."""
    label = SHORT_LEVELS.get(label, label)
    return label.split(" (")[0].split(":")[0].strip()


def la_label(la_name: str | None) -> str:
    """The local authority column's heading: 'Local authority (North Yorkshire)'."""
    return f"Local authority ({la_name})" if la_name else "Local authority"


def school_table(rows: Sequence[ScorecardRow], registry: Registry, la: Mapping[str, float]) -> pd.DataFrame:
    """The school card's table for one perspective: SCHOOL_COLUMNS, each number in its measure's format (the
    registry the card was built with knows every row: data.services.scope.registry with the school), the school's own
    local authority average (`la`, by measure) beside national, and the trend as numbers a line can be drawn
    through (the latest comparable years, at the measure's precision; none for a single year)."""
    data = []
    for r in rows:
        m = registry.get(r.measure)
        data.append({
            "Measure": r.label,
            "Value": shown(m, r.value),
            "National": shown(m, r.national),
            "Local authority": shown(m, la.get(r.measure)),
            "Level": level_word(r.level_label),
            "Target": "–" if r.target is None else f"{shown(m, r.target)} ({'met' if r.target_met else 'not met'})",
            "Trend": trend_values(r, m),
        })
    return pd.DataFrame(data, columns=list(SCHOOL_COLUMNS))


def trend_values(r: ScorecardRow, measure: Measure) -> list[float]:
    """The trend cell: finite floats only (a None or NaN makes Streamlit's chart cell show the list as text, such
    as ',-0.25,-0.36,'), rounded as the measure is shown, so the line's hover agrees with the table."""
    run = trend_cells(r, measure)[0]
    values = [measure.number.rounded(float(v)) for v in run if v is not None and math.isfinite(v)]
    return values if len(values) >= MIN_TREND_YEARS else []


def school_details(rows: Sequence[ScorecardRow], registry: Registry) -> pd.DataFrame:
    """The rest of each measure's figures (DETAIL_COLUMNS), shown in the perspective's words expander."""
    data = []
    for r in rows:
        m = registry.get(r.measure)
        data.append({
            "Measure": r.label,
            "Compared with": ("DfE band: " + r.band + "; " if r.band else "") + (r.comparator or "–"),
            "Similar schools (median)": shown(m, r.family_median),
            "Expected for this intake": shown(m, r.expected),
            "95% range": "–" if r.ci_low is None or r.ci_high is None else
                         f"{shown(m, r.ci_low)} to {shown(m, r.ci_high)}",
            # which of DfE's figures the value is (provisional, revised, final); "–" when the file does not say
            "Version": VERSION_WORDS.get(r.version or "", "–"),
        })
    return pd.DataFrame(data, columns=list(DETAIL_COLUMNS))


# ------------------------------------------------------------------------------ the change history

ACTION_WORDS = {"set": "Set", "clear": "Cleared", "choose": "Chose", "define": "Defined", "write": "Uploaded values",
                "create": "Created", "add": "Added", "remove": "Removed", "record": "Recorded", "publish": "Published",
                "withdraw": "Withdrew", "set_role": "Changed role", "set_password": "Set password",
                "sign_in": "Signed in", "sign_in_failed": "Failed sign-in", "locked": "Locked out"}
ENTITY_WORDS = {"target": "target", "scorecard_measures": "scorecard's measures", "local_measure": "local measure",
                "local_values": "local measure values", "support": "support record", "publication": "publication",
                "account": "account", "group": "group", "membership": "members", "setting": "setting"}
MAX_CHANGE_TEXT = 300  # characters of a before or after shown in the table


def change_text(raw: object) -> str:
    """A stored before/after (JSON) in plain words: 'key: value; …', a list comma-separated, '–' for nothing."""
    import json

    if raw is None or (isinstance(raw, float) and raw != raw):
        return "–"
    try:
        value = json.loads(str(raw))
    except ValueError:
        value = raw
    if isinstance(value, dict):
        text = "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in value.items() if v is not None)
    else:
        text = _plain(value)
    text = text or "–"
    return text if len(text) <= MAX_CHANGE_TEXT else text[: MAX_CHANGE_TEXT - 1] + "…"


def _plain(v: object) -> str:
    if isinstance(v, list):
        return ", ".join(_plain(x) for x in v) or "none"
    if isinstance(v, float):
        return f"{v:g}"
    if v is None:
        return "–"
    return str(v)


def audit_frame(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log as people read it: when, who, what was done to what, in which group, before → after."""
    if log.empty:
        return pd.DataFrame(columns=["When", "Who", "Action", "What", "Which", "Group", "Before", "After"])
    return pd.DataFrame({
        "When": log["at_time"],
        "Who": log["actor"],
        "Action": log["action"].map(ACTION_WORDS).fillna(log["action"]),
        "What": log["entity"].map(ENTITY_WORDS).fillna(log["entity"].str.replace("_", " ")),
        "Which": log["entity_id"].fillna(""),
        "Group": log["group_name"].fillna("–"),
        "Before": [change_text(v) for v in log["before_json"]],
        "After": [change_text(v) for v in log["after_json"]],
    })
