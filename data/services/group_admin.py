"""Groups made and kept by people: create, rename, nest, close and reopen a group; add schools with the date they
joined, record the date they left; invitations a school's head answers. Every write people make to groups and
memberships goes through here, each in one transaction with its audit entry (the group named, the change dated).

Who may do what (docs/deploy.md, "Groups"):
- an admin (data manager) may do all of it, for any group but DfE's;
- a leader may rename their own group or a group nested in it, invite schools to it, record a school leaving it,
  nest one of those groups in another of them, and create a sub-group inside them; a school a leader adds is
  *invited* (partnerships are voluntary) and becomes a member when its head or an admin accepts;
- a school's head (a leader with that school) answers their school's invitations;
- governors and the public change nothing here.

DfE's groups (trusts and school sponsors, and any group GIAS identifies) and their membership come from the DfE's
files: they are refused in words, and change only by importing a newer file. A group of people may be nested in
one of them (a trust's clusters).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from data.db.errors import StoreError
from data.db.state import StateCursor
from data.db.store import Store
from data.services.access import AccessDenied, Role, Viewer, visible_group_ids

KINDS = ("partnership", "federation", "cluster", "hub", "other")  # the groups people make
KIND_WORDS = {"partnership": "partnership", "federation": "federation", "cluster": "cluster",
              "hub": "hub (e.g. a teaching-school hub)", "other": "other group", "trust": "trust",
              "sponsor": "school sponsor"}
DFE_KINDS = ("trust", "sponsor")  # their members are the DfE's to say

# Each school's trusts, for a page to show beside it: the trusts it is in today; a school in none today, the trust(s)
# of its latest stay, "until" its last day (a census year's membership ends with that year, and "no trust" would
# hide that the school was in one). Trust membership is the DfE's, so an open stay is today's.
TRUSTS_CTE = """
    trust_stays AS (
        SELECT m.urn, g.name, bool_or(m.end_date IS NULL) AS open_now, max(m.end_date) AS last_day
        FROM memberships m JOIN groups g USING (group_id) WHERE g.kind = 'trust' GROUP BY m.urn, g.name
    ), latest_trusts AS (
        SELECT *, max(CASE WHEN open_now THEN DATE '9999-12-31' ELSE last_day END) OVER (PARTITION BY urn) AS latest
        FROM trust_stays
    ), trusts AS (
        SELECT urn, list(CASE WHEN open_now THEN name ELSE name || ' (until ' || strftime(last_day, '%-d %b %Y') || ')'
                         END ORDER BY name) AS names
        FROM latest_trusts WHERE (CASE WHEN open_now THEN DATE '9999-12-31' ELSE last_day END) = latest GROUP BY urn
    )"""
MAX_NAME = 120
SEARCH_LIMIT = 25
EARLIEST = dt.date(1990, 9, 1)  # the first academic year the store can hold
AHEAD = dt.timedelta(days=366)  # a school may be added from a date up to a year ahead (the next September)

PUBLIC_REFUSAL = "Parents and visitors cannot change groups."
GOVERNOR_REFUSAL = ("Governors and trustees can see their group but not change who is in it: ask a leader of the "
                    "group or a data manager.")
OWN_GROUPS = "You can change only your own group and the groups within it."
ADMINS_ONLY = "Only a data manager (admin) can {what}."
NO_SUCH_GROUP = "There is no such group."


class GroupChangeRefused(StoreError):
    """A change to a group that was refused, in words for the person who asked (nothing was changed)."""


@dataclass(frozen=True)
class GroupSummary:
    """One group as the Groups page lists it."""
    group_id: int
    name: str
    kind: str
    parent_id: int | None
    parent_name: str | None
    closed: bool
    close_date: dt.date | None
    members: int  # schools in it today
    dfe: bool  # a DfE group: read-only here
    source: str | None

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Stay:
    """A school's stay in a group: from the day it joined (None: before our records) to the day it left."""
    urn: int
    name: str
    phase: str | None
    town: str | None
    postcode: str | None
    trusts: tuple[str, ...]
    joined: dt.date | None
    left: dt.date | None
    subgroup: str | None  # the nested group it belongs to, when not the group itself


@dataclass(frozen=True)
class Invitation:
    """A school asked to join a group, not answered yet."""
    invitation_id: int
    group_id: int
    group_name: str
    urn: int
    school_name: str
    joined: dt.date
    invited_by: str
    invited_at: dt.datetime


@dataclass(frozen=True)
class GroupDetail:
    """A group with its members (past and present), the groups nested in it and what the viewer may do to it."""
    group: GroupSummary
    children: tuple[str, ...]
    stays: tuple[Stay, ...]
    invitations: tuple[Invitation, ...]
    parent_choices: dict[int, str]  # groups it may be nested in (for this viewer)
    can_change: bool  # rename, add, record leaving, nest
    can_close: bool  # close or reopen (admins)


@dataclass(frozen=True)
class SchoolHit:
    """A school found by name, URN, town or postcode."""
    urn: int
    name: str
    phase: str | None
    town: str | None
    postcode: str | None
    la_name: str | None
    open: bool
    trusts: tuple[str, ...]


@dataclass(frozen=True)
class Added:
    """What adding schools did: members added (admins, heads) and schools invited (leaders)."""
    joined: tuple[int, ...]
    invited: tuple[int, ...]


# ------------------------------------------------------------------------------------------------ checks


def parse_day(value: object, what: str = "date") -> dt.date:
    """A date from a date or 'YYYY-MM-DD' text, within the years the store can hold; refused in words."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value or "").strip()
        try:
            day = dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
        except ValueError:
            day = None
        if day is None:
            raise GroupChangeRefused(f"The {what} {text!r} is not a date: write it as year-month-day, e.g. 2025-09-01.")
    if day < EARLIEST:
        raise GroupChangeRefused(f"The {what} {day:%d %B %Y} is before 1 September 1990, the earliest the store holds.")
    if day > dt.date.today() + AHEAD:
        raise GroupChangeRefused(f"The {what} {day:%d %B %Y} is more than a year ahead.")
    return day


def _day(value: object, what: str) -> dt.date:
    if value is None or (isinstance(value, str) and not value.strip()):
        return dt.date.today()
    return parse_day(value, what)


def clean_name(name: object) -> str:
    """A group's name as stored: one line, trimmed, not empty, not too long."""
    text = " ".join(str(name or "").split())  # tabs and line breaks become one space: a name is one line
    if not text:
        raise GroupChangeRefused("A group needs a name.")
    if len(text) > MAX_NAME:
        raise GroupChangeRefused(f"A group's name is at most {MAX_NAME} characters; this one has {len(text)}.")
    return text


def _summaries(store: Store, ids: Sequence[int] | None = None) -> list[GroupSummary]:
    where = "" if ids is None else "WHERE list_contains(?::INTEGER[], g.group_id)"
    rows = store.query(
        f"""
        SELECT g.group_id, g.name, g.kind, g.parent_id, p.name, coalesce(lower(g.status) = 'closed', false),
               g.close_date,
               (SELECT count(DISTINCT m.urn) FROM memberships m WHERE m.group_id = g.group_id
                -- members today: joined by today, not left before today
                AND coalesce(m.start_date, DATE '0001-01-01') <= current_date
                AND coalesce(m.end_date, DATE '9999-12-31') >= current_date),
               g.kind IN ('trust', 'sponsor') OR g.gias_uid IS NOT NULL, g.source
        FROM groups g LEFT JOIN groups p ON p.group_id = g.parent_id {where}
        ORDER BY lower(g.name), g.group_id
        """, [] if ids is None else [[int(i) for i in ids]])  # noqa: S608 (the WHERE is one of two constants)
    return [GroupSummary(int(r[0]), r[1], r[2], r[3], r[4], bool(r[5]), r[6], int(r[7]), bool(r[8]), r[9])
            for r in rows]


def _summary(store: Store, group_id: int) -> GroupSummary | None:
    found = _summaries(store, [group_id])
    return found[0] if found else None


def _require_staff_changer(viewer: Viewer) -> None:
    if viewer.role is Role.PUBLIC:
        raise AccessDenied(PUBLIC_REFUSAL)
    if viewer.role is Role.GOVERNOR:
        raise AccessDenied(GOVERNOR_REFUSAL)


def _require_admin(viewer: Viewer, what: str) -> None:
    _require_staff_changer(viewer)
    if not viewer.is_admin:
        raise AccessDenied(ADMINS_ONLY.format(what=what))


def _visible(store: Store, viewer: Viewer, group_id: object) -> GroupSummary:
    """The group, when the viewer may see it (refused in the same words whether it exists or not, but to admins)."""
    _require_staff_changer(viewer)
    try:
        gid = int(group_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise AccessDenied(NO_SUCH_GROUP) from None
    if not viewer.is_admin and gid not in visible_group_ids(store, viewer):
        raise AccessDenied(OWN_GROUPS)
    found = _summary(store, gid)
    if found is None:
        raise AccessDenied(NO_SUCH_GROUP if viewer.is_admin else OWN_GROUPS)
    return found


def dfe_refusal(group: GroupSummary) -> str:
    """Why a DfE group cannot be changed here, in words."""
    what = "a trust" if group.kind == "trust" else "one of the DfE's groups"
    return (f"{group.name} is {what}: its schools and its name come from the DfE's files (Get Information about "
            "Schools), so they change when a newer file is imported on the Data page, not here.")


def _changeable(store: Store, viewer: Viewer, group_id: object) -> GroupSummary:
    """The group, when the viewer may change it: a group of people (not DfE's) that is theirs (or any, for an admin)."""
    group = _visible(store, viewer, group_id)
    if group.dfe:
        raise GroupChangeRefused(dfe_refusal(group))
    return group


def _open_group(group: GroupSummary | _Now) -> None:
    if group.closed:
        raise GroupChangeRefused(f"{group.name} is closed: reopen it before changing who is in it.")


def _tree_ids(store: Store, group_id: int) -> set[int]:
    """The group and every group nested in it, at any depth."""
    rows = store.query(
        """
        WITH RECURSIVE tree(group_id) AS (
            SELECT ?::INTEGER UNION SELECT g.group_id FROM groups g JOIN tree t ON g.parent_id = t.group_id
        ) SELECT group_id FROM tree
        """, [int(group_id)])
    return {int(r[0]) for r in rows}


def _name_taken(store: Store, name: str, but: int | None = None) -> None:
    rows = store.query("SELECT name FROM groups WHERE lower(name) = lower(?) AND group_id IS DISTINCT FROM ?",
                       [name, but])
    if rows:
        raise GroupChangeRefused(f"Another group is already called {rows[0][0]}: choose another name.")


def _is_head_of(viewer: Viewer, urn: int) -> bool:
    """A school's head: a leader account given that school."""
    return viewer.role is Role.LEADER and viewer.school_urn is not None and int(viewer.school_urn) == int(urn)


# ------------------------------------------------------------------------------------------------ reads (pages)


def manageable_groups(store: Store, viewer: Viewer) -> list[GroupSummary]:
    """The groups the Groups page lists for the viewer: every group for an admin; a leader's own group and the
    groups nested in it (DfE's among them are shown, read-only). Governors and the public are refused."""
    _require_staff_changer(viewer)
    if viewer.is_admin:
        return _summaries(store)
    return _summaries(store, visible_group_ids(store, viewer))


def group_detail(store: Store, viewer: Viewer, group_id: int) -> GroupDetail:
    """A group's members with the dates they joined and left, the groups in it, pending invitations, and the
    groups it may be nested in: for an admin, or a leader of the group (or of a group it is nested in)."""
    group = _visible(store, viewer, group_id)
    gid = group.group_id
    children = tuple(r[0] for r in store.query(
        "SELECT name FROM groups WHERE parent_id = ? ORDER BY lower(name)", [gid]))
    rows = store.query(
        """
        WITH RECURSIVE tree(group_id, depth) AS (
            SELECT ?::INTEGER, 0
            UNION SELECT g.group_id, t.depth + 1 FROM groups g JOIN tree t ON g.parent_id = t.group_id
            WHERE t.depth < 32  -- nesting is refused from making a cycle; this bounds one made by hand
        ), """ + TRUSTS_CTE + """
        SELECT m.urn, coalesce(e.name, 'School ' || m.urn), e.phase, e.town, e.postcode, coalesce(tr.names, []),
               m.start_date, m.end_date, CASE WHEN t.depth > 0 THEN g.name END
        FROM memberships m JOIN tree t USING (group_id) JOIN groups g USING (group_id)
        LEFT JOIN establishments e ON e.urn = m.urn LEFT JOIN trusts tr ON tr.urn = m.urn
        -- members today first, then those who left, newest leavers first
        ORDER BY m.end_date IS NOT NULL, m.end_date DESC, lower(e.name), m.urn, m.start_date
        """, [gid])  # noqa: S608 - TRUSTS_CTE is this module's own constant
    stays = tuple(Stay(int(r[0]), r[1], r[2], r[3], r[4], tuple(r[5]), r[6], r[7], r[8]) for r in rows)
    can_change = not group.dfe and (viewer.is_admin or viewer.role is Role.LEADER)
    return GroupDetail(group, children, stays, tuple(_pending(store, [gid])), _parent_choices(store, viewer, group),
                       can_change, viewer.is_admin and not group.dfe)


def _parent_choices(store: Store, viewer: Viewer, group: GroupSummary) -> dict[int, str]:
    """Groups this one may be nested in: open, not itself or one nested in it, and (for a leader) theirs."""
    if group.dfe:
        return {}
    inside = _tree_ids(store, group.group_id)
    allowed = None if viewer.is_admin else set(visible_group_ids(store, viewer))
    return {g.group_id: g.name for g in _summaries(store)
            if g.group_id not in inside and not g.closed and (allowed is None or g.group_id in allowed)}


def _pending(store: Store, group_ids: Sequence[int] | None = None, urn: int | None = None) -> list[Invitation]:
    ids = None if group_ids is None else [int(g) for g in group_ids]
    rows = store.query(
        """
        SELECT i.invitation_id, i.group_id, g.name, i.urn, coalesce(e.name, 'School ' || i.urn), i.joined,
               i.invited_by, i.invited_at
        FROM group_invitations i JOIN groups g USING (group_id) LEFT JOIN establishments e ON e.urn = i.urn
        -- not answered yet; of these groups and this school when asked (NULL: any)
        WHERE i.answer IS NULL AND ($ids IS NULL OR list_contains($ids::INTEGER[], i.group_id))
          AND ($urn IS NULL OR i.urn = $urn)
        ORDER BY i.invited_at, i.invitation_id
        """, {"ids": ids, "urn": None if urn is None else int(urn)})
    return [Invitation(int(r[0]), int(r[1]), r[2], int(r[3]), r[4], r[5], r[6], r[7]) for r in rows]


def invitations(store: Store, viewer: Viewer) -> list[Invitation]:
    """Invitations waiting for an answer that the viewer may answer: their own school's (a head), or all (an admin)."""
    _require_staff_changer(viewer)
    if viewer.is_admin:
        return _pending(store)
    if viewer.school_urn is None:
        return []
    return _pending(store, urn=int(viewer.school_urn))


def _like(text: str) -> str:
    """A LIKE pattern that finds the text anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def find_schools(store: Store, viewer: Viewer, text: str, limit: int = SEARCH_LIMIT) -> list[SchoolHit]:
    """Schools whose name, URN, town or postcode contains the text (case-insensitive; a postcode ignoring spaces),
    open schools first: for an admin or a leader choosing schools to add. Empty text finds nothing."""
    _require_staff_changer(viewer)
    words = " ".join(str(text or "").split()).lower()
    if not words:
        return []
    rows = store.query(
        r"""
        WITH """ + TRUSTS_CTE + r"""
        SELECT e.urn, coalesce(e.name, 'School ' || e.urn), e.phase, e.town, e.postcode, e.la_name,
               coalesce(e.status, 'open') <> 'closed', coalesce(t.names, [])
        FROM establishments e LEFT JOIN trusts t ON t.urn = e.urn
        WHERE CAST(e.urn AS VARCHAR) = $words
           OR lower(e.name) LIKE $pattern ESCAPE '\'
           OR lower(e.town) LIKE $pattern ESCAPE '\'
           OR replace(lower(e.postcode), ' ', '') LIKE $compact ESCAPE '\'
        -- the URN asked for first, then open schools, then by name
        ORDER BY CAST(e.urn AS VARCHAR) <> $words, coalesce(e.status, 'open') = 'closed', lower(e.name), e.urn
        LIMIT $limit
        """, {"words": words, "pattern": _like(words), "compact": _like(words.replace(" ", "")),  # noqa: S608
              "limit": max(1, min(int(limit), 200))})
    return [SchoolHit(int(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6]), tuple(r[7])) for r in rows]


# ------------------------------------------------------------------------------------------------ writes
#
# The groups people make, their stays and the invitations live in the state store (data/db/state.py), which many
# app processes and the command line share: each write below is one state transaction, in the SQL SQLite and
# PostgreSQL both run. What only the results file knows (is this a school, is it closed, is this group DfE's) is
# read through the mirror before the transaction; what another process may have changed since this rerun's mirror
# was loaded (a group's name, status and nesting, its stays, the invitations) is read again inside it. The
# state store lets one writer in at a time (SQLite's BEGIN IMMEDIATE; on PostgreSQL a row lock taken at BEGIN), so
# two processes can never both pass a check only one of them may pass.

IMPORTED = ("{name} comes from the store's imported files, not from a person: it changes only when a newer file is "
            "imported on the Data page.")
ANSWERED = "That invitation has been answered already, or withdrawn."


@dataclass(frozen=True)
class _Now:
    """A group of people as the state store holds it at this instant (inside the write's transaction)."""
    name: str
    closed: bool
    parent_id: int | None


def _now(cur: StateCursor, group_id: int) -> _Now | None:
    row = cur.execute("SELECT name, status, parent_id FROM groups WHERE group_id = ?", [int(group_id)]).fetchone()
    if row is None:
        return None
    return _Now(str(row[0]), str(row[1] or "").lower() == "closed", None if row[2] is None else int(row[2]))


def _held(cur: StateCursor, group: GroupSummary) -> _Now:
    """The group's row in the state store; refused in words when it is not there (a group from an imported file)."""
    found = _now(cur, group.group_id)
    if found is None:
        raise GroupChangeRefused(IMPORTED.format(name=group.name))
    return found


def _name_free(cur: StateCursor, name: str, but: int | None = None) -> None:
    """Refused when another group of people is called this already, case aside: read inside the transaction, so a
    name another process gave a group a moment ago counts (compared here, as DuckDB's lower() would, since SQLite's
    lower() knows only ASCII)."""
    for other, gid in cur.execute("SELECT name, group_id FROM groups").fetchall():
        if str(other).lower() == name.lower() and (but is None or int(gid) != but):
            raise GroupChangeRefused(f"Another group is already called {other}: choose another name.")


def _tree_now(cur: StateCursor, group_id: int) -> set[int]:
    """The group and every group nested in it, at any depth, as the state store holds them now."""
    rows = cur.execute(
        """
        WITH RECURSIVE tree(group_id) AS (
            SELECT group_id FROM groups WHERE group_id = ?
            UNION SELECT g.group_id FROM groups g JOIN tree t ON g.parent_id = t.group_id
        ) SELECT group_id FROM tree
        """, [int(group_id)]).fetchall()
    return {int(r[0]) for r in rows}


def _marks(values: Sequence[object]) -> str:
    """`?, ?, ?`: one placeholder per value (counted here, never user text)."""
    return ", ".join("?" * len(values))


def create_group(store: Store, viewer: Viewer, kind: str, name: str, *, parent_id: int | None = None,
                 opened: object = None) -> int:
    """Create a partnership, federation, cluster, hub or other group (never a trust: those are DfE's), open from
    `opened` (default today). An admin may create any; a leader only inside their own group. Returns its id."""
    _require_staff_changer(viewer)
    if kind == "trust" or kind == "sponsor":
        raise GroupChangeRefused("Trusts and school sponsors come from the DfE's files (Get Information about "
                                 "Schools): import them on the Data page. Here you can create a partnership, "
                                 "federation, cluster, hub or other group.")
    if kind not in KINDS:
        raise GroupChangeRefused(f"A group is a partnership, federation, cluster, hub or other group, not {kind!r}.")
    text = clean_name(name)
    day = _day(opened, "opening date")
    parent = None
    if parent_id is not None:
        parent = _visible(store, viewer, parent_id)
        if parent.closed:
            raise GroupChangeRefused(f"{parent.name} is closed: a group cannot be created inside it.")
    elif not viewer.is_admin:
        raise AccessDenied("A leader can create a group only inside their own group: choose the group it belongs "
                           "in, or ask a data manager.")
    _name_taken(store, text)  # the imported groups' names too (trusts), which the state store does not hold
    with store.transaction() as cur:
        _name_free(cur, text)
        if parent is not None:
            now = _now(cur, parent.group_id)  # None: an imported group (a trust), as the mirror read it
            if now is not None and now.closed:
                raise GroupChangeRefused(f"{now.name} is closed: a group cannot be created inside it.")
        gid = cur.execute(
            "INSERT INTO groups (kind, name, parent_id, status, open_date, source) VALUES (?, ?, ?, 'open', ?, "
            "'people') RETURNING group_id", [kind, text, None if parent is None else parent.group_id, day],
        ).fetchall()[0][0]
        store.audit(cur, viewer.actor, "create", "group", gid, None,
                    {"kind": kind, "name": text, "parent": None if parent is None else parent.name,
                     "open_date": day.isoformat()}, group_id=gid)
    return int(gid)


def rename_group(store: Store, viewer: Viewer, group_id: int, new_name: str) -> None:
    """Give a group of people a new name (its history keeps the old one in the change history)."""
    group = _changeable(store, viewer, group_id)
    text = clean_name(new_name)
    if text == group.name:
        raise GroupChangeRefused(f"The group is already called {text}.")
    _name_taken(store, text, but=group.group_id)
    with store.transaction() as cur:
        now = _held(cur, group)
        if text == now.name:
            raise GroupChangeRefused(f"The group is already called {text}.")
        _name_free(cur, text, but=group.group_id)
        cur.execute("UPDATE groups SET name = ? WHERE group_id = ?", [text, group.group_id])
        store.audit(cur, viewer.actor, "rename", "group", group.group_id, {"name": now.name}, {"name": text},
                    group_id=group.group_id)


def set_parent(store: Store, viewer: Viewer, group_id: int, parent_id: int | None) -> None:
    """Nest a group of people inside another (None: take it out). Refuses a group inside itself or inside one
    nested in it; a leader nests only among their own groups, and only an admin takes a group out."""
    group = _changeable(store, viewer, group_id)
    if parent_id is None:
        if not viewer.is_admin:
            raise AccessDenied(ADMINS_ONLY.format(what="take a group out of the group it is in"))
        if group.parent_id is None:
            raise GroupChangeRefused(f"{group.name} is not inside another group.")
        parent = None
    else:
        parent = _visible(store, viewer, parent_id)
        if parent.group_id == group.group_id:
            raise GroupChangeRefused(f"{group.name} cannot be nested inside itself.")
        if parent.group_id in _tree_ids(store, group.group_id):
            raise GroupChangeRefused(f"{parent.name} is inside {group.name}, so {group.name} cannot be nested inside "
                                     "it: a group cannot contain itself.")
        if parent.closed:
            raise GroupChangeRefused(f"{parent.name} is closed: nothing can be nested inside it.")
        if parent.group_id == group.parent_id:
            raise GroupChangeRefused(f"{group.name} is already inside {parent.name}.")
    with store.transaction() as cur:
        now = _held(cur, group)
        if parent is None:
            if now.parent_id is None:
                raise GroupChangeRefused(f"{group.name} is not inside another group.")
        else:
            # again as the state store holds them now: another process may have nested the parent in this group
            # since this rerun read the groups (then this would close a loop)
            if parent.group_id in _tree_now(cur, group.group_id):
                raise GroupChangeRefused(f"{parent.name} is inside {group.name}, so {group.name} cannot be nested "
                                         "inside it: a group cannot contain itself.")
            held = _now(cur, parent.group_id)
            if held is not None and held.closed:
                raise GroupChangeRefused(f"{parent.name} is closed: nothing can be nested inside it.")
            if parent.group_id == now.parent_id:
                raise GroupChangeRefused(f"{group.name} is already inside {parent.name}.")
        before = group.parent_name if now.parent_id == group.parent_id else _group_name(store, cur, now.parent_id)
        cur.execute("UPDATE groups SET parent_id = ? WHERE group_id = ?",
                    [None if parent is None else parent.group_id, group.group_id])
        store.audit(cur, viewer.actor, "nest", "group", group.group_id, {"parent": before},
                    {"parent": None if parent is None else parent.name}, group_id=group.group_id)


def _group_name(store: Store, cur: StateCursor, group_id: int | None) -> str | None:
    """A group's name now: from the state store (a group of people), else from the results (an imported one)."""
    if group_id is None:
        return None
    now = _now(cur, group_id)
    if now is not None:
        return now.name
    rows = store.query("SELECT name FROM groups WHERE group_id = ?", [int(group_id)])
    return rows[0][0] if rows else None


def close_group(store: Store, viewer: Viewer, group_id: int, on: object = None) -> int:
    """Close a group on a date (default today): its members' stays end that day, its past stays as it was (results
    and history kept); pending invitations are withdrawn. Admins only. Returns how many stays it ended."""
    _require_admin(viewer, "close a group")
    group = _changeable(store, viewer, group_id)
    if group.closed:
        raise GroupChangeRefused(f"{group.name} is already closed.")
    day = _day(on, "closing date")
    with store.transaction() as cur:
        if _held(cur, group).closed:
            raise GroupChangeRefused(f"{group.name} is already closed.")
        later = cur.execute("SELECT urn, start_date FROM memberships WHERE group_id = ? AND start_date > ? "
                            "ORDER BY start_date, urn LIMIT 1", [group.group_id, day]).fetchone()
        if later:
            name = _school_names(store, [int(later[0])]).get(int(later[0]), f"School {later[0]}")
            raise GroupChangeRefused(f"{name} joins on {later[1]:%d %B %Y}, after {day:%d %B %Y}: close the "
                                     "group on a later date, or record that school's leaving first.")
        ended = cur.execute(
            "UPDATE memberships SET end_date = ?, ended_with_group = ? WHERE group_id = ? AND "
            "(end_date IS NULL OR end_date > ?) RETURNING urn", [day, True, group.group_id, day]).fetchall()
        cur.execute("UPDATE group_invitations SET answer = 'withdrawn', answered_by = ?, "
                    "answered_at = CURRENT_TIMESTAMP WHERE group_id = ? AND answer IS NULL",
                    [viewer.actor, group.group_id])
        cur.execute("UPDATE groups SET status = 'closed', close_date = ? WHERE group_id = ?", [day, group.group_id])
        store.audit(cur, viewer.actor, "close", "group", group.group_id, {"status": "open"},
                    {"status": "closed", "close_date": day.isoformat(),
                     "stays_ended": sorted(int(r[0]) for r in ended)}, group_id=group.group_id)
    return len(ended)


def reopen_group(store: Store, viewer: Viewer, group_id: int) -> int:
    """Reopen a closed group: the stays its closing ended continue (schools that left on their own stay left).
    Admins only. Returns how many stays continue."""
    _require_admin(viewer, "reopen a group")
    group = _changeable(store, viewer, group_id)
    if not group.closed:
        raise GroupChangeRefused(f"{group.name} is open.")
    with store.transaction() as cur:
        if not _held(cur, group).closed:
            raise GroupChangeRefused(f"{group.name} is open.")
        closed_on = cur.execute("SELECT close_date FROM groups WHERE group_id = ?", [group.group_id]).fetchone()[0]
        back = cur.execute(
            "UPDATE memberships SET end_date = NULL, ended_with_group = ? WHERE group_id = ? AND ended_with_group = ? "
            "RETURNING urn", [False, group.group_id, True]).fetchall()
        cur.execute("UPDATE groups SET status = 'open', close_date = NULL WHERE group_id = ?", [group.group_id])
        store.audit(cur, viewer.actor, "reopen", "group", group.group_id,
                    {"status": "closed", "close_date": None if closed_on is None else str(closed_on)},
                    {"status": "open", "stays_continued": sorted(int(r[0]) for r in back)}, group_id=group.group_id)
    return len(back)


def _school_names(store: Store, urns: Sequence[int]) -> dict[int, str]:
    rows = store.query("SELECT urn, coalesce(name, 'School ' || urn) FROM establishments "
                       "WHERE list_contains(?::INTEGER[], urn)", [[int(u) for u in urns]])
    return {int(u): n for u, n in rows}


def _urns(urns: Sequence[object]) -> list[int]:
    out: list[int] = []
    for u in urns:
        text = str(u).strip()
        if not re.fullmatch(r"\d{6}", text):  # a URN is six digits
            raise GroupChangeRefused(f"A URN is six digits, not {text!r}.")
        if int(text) not in out:
            out.append(int(text))
    if not out:
        raise GroupChangeRefused("Choose at least one school to add.")
    return out


def _stay_problems(cur: StateCursor, group: GroupSummary, wanted: list[int], day: dt.date,
                   names: dict[int, str]) -> list[str]:
    """The schools already in the group on that day or later, and those invited and not answered yet, as the state
    store holds them now."""
    problems: list[str] = []
    starts: dict[int, list[dt.date | None]] = {}
    for urn, start in cur.execute(
            f"SELECT urn, start_date FROM memberships WHERE group_id = ? AND urn IN ({_marks(wanted)}) "  # noqa: S608
            "AND (end_date IS NULL OR end_date >= ?)", [group.group_id, *wanted, day]).fetchall():
        starts.setdefault(int(urn), []).append(start)
    for urn in sorted(starts):
        known = [s for s in starts[urn] if s is not None]
        start = min(known) if known else None
        if any(s is None or s <= day for s in starts[urn]):
            since = f" (since {start:%d %B %Y})" if start is not None else ""
            problems.append(f"{names.get(urn, urn)} is already a member of {group.name} on {day:%d %B %Y}{since}.")
        else:
            problems.append(f"{names.get(urn, urn)} joins {group.name} on {start:%d %B %Y} already: a school has one "
                            "stay at a time.")
    invited = {int(r[0]) for r in cur.execute(
        f"SELECT urn FROM group_invitations WHERE group_id = ? AND answer IS NULL AND urn IN ({_marks(wanted)})",  # noqa: S608
        [group.group_id, *wanted]).fetchall()}
    problems += [f"{names.get(u, u)} has been invited already and has not answered yet." for u in sorted(invited)]
    return problems


def add_schools(store: Store, viewer: Viewer, group_id: int, urns: Sequence[object], joined: object = None) -> Added:
    """Add schools to a group from the date they joined (default today; a past date is fine).

    An admin's additions (and a head's own school) are members at once; a leader's are invitations that the
    school's head or an admin accepts. Refuses, naming each school: one not in the store, one already a member on
    that date (or from a later date), one already invited. All or nothing."""
    group = _changeable(store, viewer, group_id)
    _open_group(group)
    wanted = _urns(urns)
    day = _day(joined, "joining date")
    names = _school_names(store, wanted)
    problems = [f"There is no school with URN {u} in the store." for u in wanted if u not in names]
    for urn, closed_on in store.query(
            "SELECT urn, close_date FROM establishments WHERE list_contains(?::INTEGER[], urn) AND status = 'closed' "
            # a school closed by the joining date (or closed on a date GIAS does not give) cannot join then
            "AND (close_date IS NULL OR close_date <= ?) ORDER BY urn", [wanted, day]):
        when = f" on {closed_on:%d %B %Y}" if closed_on is not None else ""
        problems.append(f"{names[urn]} closed{when}: a closed school cannot join a group.")
    direct = [u for u in wanted if viewer.is_admin or _is_head_of(viewer, u)]
    asked = [u for u in wanted if u not in direct]
    with store.transaction() as cur:
        _open_group(_held(cur, group))
        problems += _stay_problems(cur, group, wanted, day, names)
        if problems:
            raise GroupChangeRefused(" ".join(problems))
        if direct:
            cur.executemany("INSERT INTO memberships (group_id, urn, start_date, end_date, source) "
                            "VALUES (?, ?, ?, NULL, 'people')", [[group.group_id, u, day] for u in direct])
            store.audit(cur, viewer.actor, "add", "membership", group.group_id, None,
                        {"urns": direct, "start_date": day.isoformat()}, group_id=group.group_id)
        if asked:
            cur.executemany("INSERT INTO group_invitations (group_id, urn, joined, invited_by) VALUES (?, ?, ?, ?)",
                            [[group.group_id, u, day, viewer.actor] for u in asked])
            store.audit(cur, viewer.actor, "invite", "membership", group.group_id, None,
                        {"urns": asked, "start_date": day.isoformat()}, group_id=group.group_id)
    return Added(tuple(direct), tuple(asked))


def record_left(store: Store, viewer: Viewer, group_id: int, urn: object, left: object = None) -> None:
    """Record the date a school left the group (default today). The stay is kept, ended: the school's results
    count for the years it was a member. A pending invitation is withdrawn instead."""
    group = _changeable(store, viewer, group_id)
    school = _urns([urn])[0]
    name = _school_names(store, [school]).get(school, f"URN {school}")
    with store.transaction() as cur:
        _held(cur, group)
        pending = cur.execute("SELECT invitation_id, invited_by FROM group_invitations WHERE group_id = ? AND urn = ? "
                              "AND answer IS NULL ORDER BY invitation_id LIMIT 1", [group.group_id, school]).fetchone()
        if pending:
            _withdraw(store, cur, viewer, int(pending[0]), group.group_id, school, str(pending[1]))
            return
        day = _day(left, "leaving date")
        rows = cur.execute("SELECT start_date, end_date FROM memberships WHERE group_id = ? AND urn = ?",
                           [group.group_id, school]).fetchall()
        if not rows:
            raise GroupChangeRefused(f"{name} is not a member of {group.name}.")
        # the open stay if there is one, else the latest ended one
        start, end = max(rows,
                         key=lambda r: (r[1] is None, r[1] or dt.date.min))
        if end is not None:
            raise GroupChangeRefused(f"{name} left {group.name} on {end:%d %B %Y} already.")
        if start is not None and day < start:
            raise GroupChangeRefused(f"{name} joined {group.name} on {start:%d %B %Y}: it cannot leave before that.")
        cur.execute("UPDATE memberships SET end_date = ? WHERE group_id = ? AND urn = ? AND end_date IS NULL",
                    [day, group.group_id, school])
        store.audit(cur, viewer.actor, "leave", "membership", group.group_id,
                    {"urn": school, "end_date": None}, {"urn": school, "end_date": day.isoformat()},
                    group_id=group.group_id)


def _invitation(store: Store, invitation_id: int) -> Invitation:
    found = [i for i in _pending(store) if i.invitation_id == int(invitation_id)]
    if not found:
        raise GroupChangeRefused(ANSWERED)
    return found[0]


def answer_invitation(store: Store, viewer: Viewer, invitation_id: int, accept: bool) -> None:
    """The school's head (or an admin) accepts an invitation, making the school a member from the date it names,
    or declines it."""
    _require_staff_changer(viewer)
    inv = _invitation(store, invitation_id)
    if not (viewer.is_admin or _is_head_of(viewer, inv.urn)):
        raise AccessDenied(f"Only the head of {inv.school_name} or a data manager can answer this invitation.")
    group = _summary(store, inv.group_id)
    if accept and group is not None:
        _open_group(group)
    with store.transaction() as cur:
        if accept and group is not None:
            _open_group(_held(cur, group))
        done = cur.execute("UPDATE group_invitations SET answer = ?, answered_by = ?, answered_at = CURRENT_TIMESTAMP "
                           "WHERE invitation_id = ? AND answer IS NULL RETURNING invitation_id",
                           ["accepted" if accept else "declined", viewer.actor, inv.invitation_id]).fetchall()
        if not done:  # answered by someone else since it was read: nothing to do twice
            raise GroupChangeRefused(ANSWERED)
        if accept:
            clash = cur.execute("SELECT count(*) FROM memberships WHERE group_id = ? AND urn = ? AND "
                                "(end_date IS NULL OR end_date >= ?)",
                                [inv.group_id, inv.urn, inv.joined]).fetchone()[0]
            if clash:
                raise GroupChangeRefused(f"{inv.school_name} is already a member of {inv.group_name}.")
            cur.execute("INSERT INTO memberships (group_id, urn, start_date, end_date, source) "
                        "VALUES (?, ?, ?, NULL, 'people')", [inv.group_id, inv.urn, inv.joined])
        store.audit(cur, viewer.actor, "accept" if accept else "decline", "membership", inv.group_id, None,
                    {"urn": inv.urn, "start_date": inv.joined.isoformat(), "invited_by": inv.invited_by},
                    group_id=inv.group_id)


def _withdraw(store: Store, cur: StateCursor, viewer: Viewer, invitation_id: int, group_id: int, urn: int,
              invited_by: str) -> None:
    """Take back an invitation inside the caller's transaction; refused when it was answered meanwhile."""
    done = cur.execute("UPDATE group_invitations SET answer = 'withdrawn', answered_by = ?, "
                       "answered_at = CURRENT_TIMESTAMP WHERE invitation_id = ? AND answer IS NULL "
                       "RETURNING invitation_id", [viewer.actor, int(invitation_id)]).fetchall()
    if not done:
        raise GroupChangeRefused(ANSWERED)
    store.audit(cur, viewer.actor, "withdraw", "membership", group_id, None,
                {"urn": urn, "invited_by": invited_by}, group_id=group_id)


def withdraw_invitation(store: Store, viewer: Viewer, invitation_id: int) -> None:
    """The group's leader (or an admin) takes back an invitation not answered yet."""
    inv = _invitation(store, invitation_id)
    _changeable(store, viewer, inv.group_id)
    with store.transaction() as cur:
        _withdraw(store, cur, viewer, inv.invitation_id, inv.group_id, inv.urn, inv.invited_by)
