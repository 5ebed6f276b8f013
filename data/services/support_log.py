"""Support records: the giver/taker ledger of who gave what support to whom, when, and on which measure.

Writes are checked all at once (every problem in plain words, none hidden behind the first) and made in one
audited transaction. Reads are scoped by the viewer here, in the data layer, so a page cannot widen them.
A record counts in an academic year when its dates overlap that year; a record without an end date counts
in the year it began. Hours are never split between years.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store
from data.services import groups
from data.services.access import Role, Viewer, can_see_group, require_group
from metrics.numbers import finite
from metrics.periods import PeriodError, parse_period, period_bounds
from metrics.registry import Measure, Polarity, Registry
from metrics.scorecard import Scorecard, ScorecardRow

KIND_LABELS: dict[str, str] = {
    "peer_review": "Peer review",
    "cpd": "Training (CPD)",
    "leadership": "Leadership support",
    "staff": "Shared or seconded staff",
    "curriculum": "Curriculum work",
    "other": "Other",
}
KINDS: tuple[str, ...] = tuple(KIND_LABELS)
MAX_HOURS = 2000.0  # about a year of one person's working time: longer support is several records
MAX_NOTES = 2000
BALANCED_SHARE = 0.1  # within 10% of all the hours a school gave and received counts as "balanced"

NET_GIVER = "net giver"
NET_TAKER = "net taker"
BALANCED = "balanced"
NO_SUPPORT = "no support recorded"

RECORD_COLUMNS = ["support_id", "group_id", "giver_urn", "giver", "taker_urn", "taker", "kind", "kind_label",
                  "measure", "start_date", "end_date", "hours", "notes", "recorded_by", "recorded_at"]
BALANCE_COLUMNS = ["urn", "name", "given", "received", "balance", "position"]

# The group and every group nested in it (a trust's clusters): support recorded in a cluster is the trust's too.
_TREE = """
    WITH RECURSIVE tree(group_id) AS (
        SELECT $group::INTEGER UNION SELECT g.group_id FROM groups g JOIN tree t ON g.parent_id = t.group_id
    )
"""


# ------------------------------------------------------------------------------------------------ writes


def record_support(store: Store, viewer: Viewer, *, group_id: int, giver: int | None, taker: int | None,
                   kind: str, start_date: date | str | None, end_date: date | str | None, hours: float | None,
                   measure: str | None = None, notes: str = "") -> list[str]:
    """Record one piece of support given by school `giver` to school `taker` within group `group_id`.

    Returns every problem in plain words; an empty list means the record was saved (in one transaction,
    with an audit entry). Admins may record in any group, leaders in their own group (and groups nested in
    it); governors may not record support.
    """
    problems: list[str] = []
    group = groups.find_group(store, group_id) if group_id is not None else None
    if viewer.role is Role.GOVERNOR:
        problems.append("Governors and trustees can read support records but not record them: "
                        "ask a leader of the group.")
    elif group is not None and not can_see_group(store, viewer, group.group_id):
        problems.append(f"You can record support only for your own group, not for {group.name}.")
    if group is None:
        problems.append(f"There is no group with id {group_id}.")

    members = set(current_members(store, group.group_id)) if group is not None else set()
    names = _names(store, [u for u in (giver, taker) if u is not None])
    for role, urn in (("giving", giver), ("receiving", taker)):
        if urn is None:
            problems.append(f"Choose the school {role} the support.")
        elif group is not None and int(urn) not in members:
            problems.append(f"{names.get(int(urn), f'School {urn}')} is not a current member of {group.name}, "
                            "so support cannot be recorded for it here.")
    if giver is not None and taker is not None and int(giver) == int(taker):
        problems.append("The school giving support and the school receiving it must be different schools.")

    if kind not in KIND_LABELS:
        problems.append(f"Support type {kind!r} is not one of: {', '.join(KIND_LABELS.values())}.")

    start, problem = _as_date(start_date, "start date", required=True)
    if problem:
        problems.append(problem)
    end, problem = _as_date(end_date, "end date", required=False)
    if problem:
        problems.append(problem)
    if start is not None and end is not None and end < start:
        problems.append(f"The end date ({end:%d %B %Y}) is before the start date ({start:%d %B %Y}).")

    h = _as_number(hours)
    if h is None:
        problems.append("Enter the hours of support as a number.")
    elif h <= 0:
        problems.append("Hours must be more than 0.")
    elif h > MAX_HOURS:
        problems.append(f"Hours must be at most {MAX_HOURS:,.0f} (about a year of one person's time): "
                        "record longer support as several records.")

    measure = (measure or "").strip() or None
    if measure is not None and group is not None:
        from data.services.scorecards import registry_for  # here, not at the top: scorecards is heavier to import

        if measure not in registry_for(store, [group.group_id]):
            problems.append(f"Measure {measure!r} is not a national measure or one of {group.name}'s own.")
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        problems.append(f"Notes must be at most {MAX_NOTES:,} characters (these are {len(notes):,}).")

    if problems:
        return problems
    assert group is not None and start is not None and h is not None  # for the type checker: checked above
    actor = viewer.actor
    after = {"group_id": group.group_id, "giver_urn": int(giver), "taker_urn": int(taker), "kind": kind,  # type: ignore[arg-type]
             "measure": measure, "start_date": start.isoformat(), "end_date": end.isoformat() if end else None,
             "hours": h, "notes": notes or None}
    with store.transaction() as cur:
        sid = cur.execute(
            "INSERT INTO support_records (group_id, giver_urn, taker_urn, kind, measure, start_date, end_date, "
            "hours, notes, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING support_id",
            [group.group_id, int(giver), int(taker), kind, measure, start, end, h, notes or None, actor],  # type: ignore[arg-type]
        ).fetchall()[0][0]
        store.audit(cur, actor, "record", "support", sid, None, after, group_id=group.group_id)
    return []


def _as_date(value: date | str | None, what: str, *, required: bool) -> tuple[date | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, (f"Enter the {what}." if required else None)
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    try:
        return date.fromisoformat(str(value).strip()), None
    except ValueError:
        return None, f"The {what} {value!r} is not a date like 2024-09-30."


def _day(value: object) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return None if pd.isna(stamp) else stamp.date()


_as_number = finite


# ------------------------------------------------------------------------------------------------ reads


def current_members(store: Store, group_id: int, on: date | None = None) -> list[int]:
    """URNs of the group's members (and its nested groups' members) on a day: today by default."""
    day = on or date.today()
    rows = store.query(
        _TREE + """
        SELECT DISTINCT m.urn FROM memberships m JOIN tree USING (group_id)
        -- the membership has begun and not ended on that day; NULL dates are open
        WHERE coalesce(m.start_date, DATE '0001-01-01') <= $day AND coalesce(m.end_date, DATE '9999-12-31') >= $day
        ORDER BY m.urn
        """, {"group": group_id, "day": day})  # noqa: S608 (_TREE is fixed text)
    return [int(r[0]) for r in rows]


def support_records(store: Store, viewer: Viewer, group_id: int, period: str | None = None) -> pd.DataFrame:
    """The group's support records (and its nested groups'), newest first, with the schools' names.

    With a period, only records whose dates overlap that academic year. Raises AccessDenied when the viewer
    may not see the group.
    """
    require_group(store, viewer, group_id)
    start, end = _bounds(period)
    df = store.query_df(
        _TREE + """
        SELECT r.support_id, r.group_id, r.giver_urn, coalesce(g.name, 'School ' || r.giver_urn) AS giver,
               r.taker_urn, coalesce(t.name, 'School ' || r.taker_urn) AS taker, r.kind, r.measure,
               r.start_date, r.end_date, r.hours, r.notes, r.recorded_by, r.recorded_at
        FROM support_records r JOIN tree USING (group_id)
        LEFT JOIN establishments g ON g.urn = r.giver_urn
        LEFT JOIN establishments t ON t.urn = r.taker_urn
        -- overlaps the year; a record without an end date counts on its start date only
        WHERE $start::DATE IS NULL
           OR (r.start_date <= $end::DATE AND coalesce(r.end_date, r.start_date) >= $start::DATE)
        ORDER BY r.start_date DESC, r.support_id DESC
        """, {"group": group_id, "start": start, "end": end})  # noqa: S608 (_TREE is fixed text)
    df.insert(df.columns.get_loc("kind") + 1, "kind_label", df["kind"].map(KIND_LABELS).astype(object))
    for col in ("start_date", "end_date"):  # plain dates (None when there is none), not timestamps
        df[col] = pd.Series([_day(v) for v in df[col]], index=df.index, dtype=object)
    return df[RECORD_COLUMNS].reset_index(drop=True)


def support_balance(store: Store, viewer: Viewer, group_id: int, period: str | None = None) -> pd.DataFrame:
    """Per school, hours of support given and received in the group (in the year, when a period is given).

    Every member (of that year, or today without a period) has a row, with zeros when it has no records; so does
    any school that appears in a record but has since left. `position` says it in words: net giver, net taker,
    balanced (the difference is within 10% of all its hours) or no support recorded. Largest givers first.
    """
    records = support_records(store, viewer, group_id, period)
    members = groups.group_members(store, group_id, period) if period else current_members(store, group_id)
    return balance_frame(records, members, _names(store, [*members, *records["giver_urn"], *records["taker_urn"]]))


def balance_frame(records: pd.DataFrame, members: Sequence[int], names: dict[int, str]) -> pd.DataFrame:
    """The balance table from support records (columns giver_urn, taker_urn, hours): pure, for support_balance."""
    urns = sorted({int(u) for u in members} | {int(u) for u in records["giver_urn"]}
                  | {int(u) for u in records["taker_urn"]})
    given = records.groupby("giver_urn")["hours"].sum() if len(records) else pd.Series(dtype=float)
    received = records.groupby("taker_urn")["hours"].sum() if len(records) else pd.Series(dtype=float)
    rows = []
    for urn in urns:
        g, r = float(given.get(urn, 0.0)), float(received.get(urn, 0.0))
        rows.append({"urn": urn, "name": names.get(urn, f"School {urn}"), "given": g, "received": r,
                     "balance": g - r, "position": position(g, r)})
    df = pd.DataFrame(rows, columns=BALANCE_COLUMNS)
    df = df.astype({"urn": "int64", "given": "float64", "received": "float64", "balance": "float64"})
    return df.sort_values(["balance", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)


def position(given: float, received: float) -> str:
    """A school's place in the ledger in words (never colour alone)."""
    total = given + received
    if total <= 0:
        return NO_SUPPORT
    if abs(given - received) <= BALANCED_SHARE * total:
        return BALANCED
    return NET_GIVER if given > received else NET_TAKER


def network_frames(records: pd.DataFrame, balance: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the network chart draws: edges (giver, taker, hours: all records between a pair added up) and
    nodes (urn, name, given, received)."""
    if len(records):
        edges = (records.groupby(["giver_urn", "taker_urn"], as_index=False)["hours"].sum()
                 .rename(columns={"giver_urn": "giver", "taker_urn": "taker"}))
    else:
        edges = pd.DataFrame({"giver": pd.Series(dtype="int64"), "taker": pd.Series(dtype="int64"),
                              "hours": pd.Series(dtype="float64")})
    nodes = balance[["urn", "name", "given", "received"]].copy()
    return edges.sort_values(["hours", "giver", "taker"], ascending=[False, True, True]).reset_index(drop=True), nodes


def support_record_count(store: Store) -> int:
    """How many support records the store holds (all groups): for checks that a refused write wrote nothing."""
    return int(store.query("SELECT count(*) FROM support_records")[0][0])


# ---------------------------------------------------------------------------- what the Support page picks out


def weak_rows(card: Scorecard) -> list[ScorecardRow]:
    """A school's judged measures that need support: flagged, or at level 1 or 2."""
    return [r for r in card.rows if r.polarity != Polarity.CONTEXT.value and (r.flag or r.level in (1, 2))]


def local_support_measures(registry: Registry, group_id: int) -> list[Measure]:
    """The group's own measures of support given and received, in hours (e.g. support_hours_given)."""
    return [m for m in registry.measures if m.owner == str(group_id) and m.unit == "hours" and "support" in m.id]


def default_start(period: str | None, today: date | None = None) -> date:
    """A sensible first date for the form: today, kept within the chosen academic year."""
    day = today or date.today()
    if not period:
        return day
    lo, hi = (date.fromisoformat(d) for d in period_bounds(parse_period(period)))
    return min(max(day, lo), hi)


def _bounds(period: str | None) -> tuple[str | None, str | None]:
    if period is None:
        return None, None
    try:
        return period_bounds(parse_period(period))
    except PeriodError as exc:
        raise StoreError(str(exc)) from exc


def _names(store: Store, urns: Sequence[int]) -> dict[int, str]:
    if not len(urns):
        return {}
    rows = store.query("SELECT urn, coalesce(name, 'School ' || urn) FROM establishments "
                       "WHERE urn IN (SELECT unnest(?::INTEGER[]))", [sorted({int(u) for u in urns})])
    return {int(u): n for u, n in rows}
