"""Consent to joint publication: whether each member school agrees that its results go into the group's joint
publication for parents (issue 11, point 2).

Every kind of group asks: a partnership, federation, cluster, hub or trust publishes jointly only the results of
the schools that agreed. A school's head (a leader account whose school is that school) records their own
school's answer; a data manager (admin) any member school's. Answers are only ever added (publication_consents):
the latest per (group, school) is the school's answer now; a school with none has not been asked. Every answer
is written to the audit log, with the group, in the same transaction of the state store (issue 12 point 8); the
answers a page shows are read through the Store's mirror of it, refreshed at each rerun.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from data.db.store import Store
from data.services import groups, schools
from data.services.access import Role, Viewer, can_see_group

if TYPE_CHECKING:
    from data.db.state import StateCursor

AGREED = "agreed"
DECLINED = "declined"
NOT_ASKED = "not asked"
MAX_NOTE = 300  # characters
REFUSED_ROLE = ("Only a school's head, or a data manager, can record whether a school agrees to publish its "
                "results jointly.")
REFUSED_GROUP = "You can record answers only for your own group's schools."
NO_GROUP = "There is no such group."


@dataclass(frozen=True)
class Consent:
    """A member school's answer now: agreed, declined or not asked (then no one recorded it)."""

    urn: int
    name: str
    answer: str  # AGREED, DECLINED or NOT_ASKED
    recorded_by: str | None
    recorded_at: datetime | None
    note: str = ""

    @property
    def agreed(self) -> bool:
        return self.answer == AGREED


def _group(store: Store, group_id: int) -> tuple[str, str] | None:
    rows = store.query("SELECT name, kind FROM groups WHERE group_id = ?", [int(group_id)])
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def member_urns(store: Store, group_id: int, period: str | None = None) -> list[int]:
    """The schools a consent list covers: the members in that academic year, or without a year today's members
    (a school that has left is no longer asked)."""
    if period:
        return groups.group_members(store, int(group_id), period)
    today = date.today().isoformat()
    rows = store.query(
        """
        WITH RECURSIVE tree(group_id) AS (
            SELECT ?::INTEGER UNION SELECT g.group_id FROM groups g JOIN tree t ON g.parent_id = t.group_id
        )
        SELECT DISTINCT m.urn FROM memberships m JOIN tree t USING (group_id)
        WHERE coalesce(m.end_date, DATE '9999-12-31') >= ?::DATE ORDER BY m.urn
        """, [int(group_id), today])
    return [int(r[0]) for r in rows]


def latest_answers(store: Store, group_id: int, urns: list[int]) -> dict[int, Consent]:
    """Unscoped: each school's latest answer for the group (NOT_ASKED when none); data.services.publications reads it
    while
    building, after its own check of the viewer."""
    names = dict(store.query("SELECT urn, coalesce(name, 'School ' || urn) FROM establishments "
                             "WHERE urn IN (SELECT unnest(?::INTEGER[]))", [list(urns)]))
    rows = store.query(
        "SELECT urn, agreed, recorded_by, recorded_at, note FROM publication_consents WHERE group_id = ? "
        "AND urn IN (SELECT unnest(?::INTEGER[])) "
        "QUALIFY row_number() OVER (PARTITION BY urn ORDER BY recorded_at DESC, consent_id DESC) = 1",
        [int(group_id), list(urns)])
    got = {int(r[0]): r for r in rows}
    out: dict[int, Consent] = {}
    for u in urns:
        name = str(names.get(u, f"School {u}"))
        r = got.get(int(u))
        out[int(u)] = (Consent(int(u), name, NOT_ASKED, None, None) if r is None else
                       Consent(int(u), name, AGREED if r[1] else DECLINED, r[2], r[3], r[4] or ""))
    return out


def consents(store: Store, viewer: Viewer, group_id: int, period: str | None = None) -> dict[int, Consent]:
    """Every member school's latest answer (by URN), for staff who may see the group ({} for anyone else).
    `period`: the members in that academic year (the year being published); default today's members."""
    if viewer.role is Role.PUBLIC or _group(store, group_id) is None or not can_see_group(store, viewer,
                                                                                          int(group_id)):
        return {}
    return latest_answers(store, int(group_id), member_urns(store, int(group_id), period))


def _head_of(store: Store, viewer: Viewer) -> int | None:
    """The school this viewer is head of: a signed-in leader's account says; the demo's viewers carry it."""
    if viewer.role is not Role.LEADER:
        return None
    if viewer.email:
        rows = store.query("SELECT school_urn FROM accounts WHERE email = ? AND role = 'leader'",
                           [viewer.email.lower()])
        return int(rows[0][0]) if rows and rows[0][0] is not None else None
    return None if viewer.school_urn is None else int(viewer.school_urn)


def consent_refusal(store: Store, viewer: Viewer, group_id: int, urn: int,
                    members: set[int] | None = None) -> str | None:
    """Why this viewer may not record this school's answer for this group, in words; None when they may.
    `members`: the group's members at any time, when the caller has read them already."""
    group = _group(store, group_id)
    if group is None or (not viewer.is_admin and not can_see_group(store, viewer, int(group_id))):
        return NO_GROUP if group is None or viewer.role is Role.PUBLIC else REFUSED_GROUP
    if viewer.role not in (Role.ADMIN, Role.LEADER):
        return REFUSED_ROLE
    if int(urn) not in (members if members is not None else set(groups.group_members(store, int(group_id)))):
        brief = schools.school_brief(store, int(urn))
        school = brief[0] if brief else "That school"
        return f"{school} is not a member of {group[0]}, so its answer cannot be recorded here."
    if viewer.is_admin:
        return None
    head = _head_of(store, viewer)
    if head is None:
        return REFUSED_ROLE
    if head != int(urn):
        return "As a school's head you can record only your own school's answer."
    return None


def may_record(store: Store, viewer: Viewer, group_id: int, urn: int) -> bool:
    return consent_refusal(store, viewer, group_id, urn) is None


def record_consent(store: Store, viewer: Viewer, group_id: int, urn: int, agreed: bool,
                   note: str = "") -> list[str]:
    """Record a school's answer (agreed True, or declined / withdrawn False), dated and audited in one transaction.
    Returns the problems in words ([] when recorded; then nothing else was written)."""
    try:
        school = int(urn)
    except (TypeError, ValueError):
        return ["Choose a school of the group to record its answer."]
    return record_consents(store, viewer, group_id, {school: agreed}, note)


def record_consents(store: Store, viewer: Viewer, group_id: int, answers: Mapping[int, bool],
                    note: str = "") -> list[str]:
    """Record several schools' answers at once (a heads' meeting), each dated and audited, in one transaction:
    all or none. Returns the problems in words ([] when recorded)."""
    try:
        gid = int(group_id)
        chosen = {int(u): a for u, a in answers.items()}
    except (TypeError, ValueError, AttributeError):
        return ["Choose a school of the group to record its answer."]
    if not chosen:
        return ["Choose a school of the group to record its answer."]
    members = set(groups.group_members(store, gid))
    problems = list(dict.fromkeys(r for u in chosen if (r := consent_refusal(store, viewer, gid, u, members))))
    if problems:
        return problems
    if not all(isinstance(a, bool) for a in chosen.values()):
        return ["Say whether the school agrees: yes or no."]
    text = " ".join(note.split()) if isinstance(note, str) else ""
    if len(text) > MAX_NOTE:
        return [f"The note is {len(text)} characters long: keep it to {MAX_NOTE} or fewer."]
    actor = viewer.actor
    at = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as the store keeps times; one moment for the meeting
    with store.transaction() as cur:
        before = _answers_now(cur, gid, list(chosen))
        for school, agreed in chosen.items():
            cid = cur.execute(
                "INSERT INTO publication_consents (group_id, urn, agreed, recorded_by, recorded_at, note) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING consent_id",
                [gid, school, agreed, actor, at, text or None]).fetchall()[0][0]
            was = before.get(school, NOT_ASKED)
            store.audit(cur, actor, "record_consent", "publication_consent", cid,
                        None if was == NOT_ASKED else {"urn": school, "answer": was},
                        {"urn": school, "answer": AGREED if agreed else DECLINED, "recorded_at": at,
                         **({"note": text} if text else {})}, group_id=gid)
    return []


def _answers_now(cur: StateCursor, group_id: int, urns: list[int]) -> dict[int, str]:
    """Each school's latest answer inside the write transaction (absent: not asked), for the audit's "before": an
    answer another process recorded a moment ago is the one this one replaces."""
    marks = ", ".join("?" * len(urns))  # one placeholder per school, counted here
    rows = cur.execute(f"SELECT urn, agreed FROM publication_consents WHERE group_id = ? AND urn IN ({marks}) "  # noqa: S608
                       "ORDER BY recorded_at, consent_id", [group_id, *urns]).fetchall()
    return {int(urn): AGREED if agreed else DECLINED for urn, agreed in rows}  # the last row per school wins
