"""Who is looking: the viewer every read and write takes, and what a viewer may see.

Accounts (data/services/accounts.py: sign_in, viewer_for_email) make a Viewer on a real store; the demo's "viewing as"
selector makes one on the demo. The rules live here, in the data layer, so a page can never widen them:

- an admin sees every group and school;
- a leader or governor sees their own group, the groups nested in it, and those groups' member schools (past
  and present); a governor may be given one school, which is where their pages open;
- the public sees no group at all: only what groups chose to publish (data/services/publications.py).

data/services/scope.py holds the reads pages make, each taking the viewer and refusing with AccessDenied.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from data.db.errors import StoreError
from data.db.store import Store
from data.services import schools


class AccessDenied(StoreError):
    """The viewer may not read or change this: said in words a page can show as it is."""


class Role(StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    GOVERNOR = "governor"
    PUBLIC = "public"  # a parent or visitor: no sign-in, sees only what a group chose to publish

    @property
    def label(self) -> str:
        return {"admin": "Data manager (admin)", "leader": "Leader", "governor": "Governor or trustee",
                "public": "Parent or visitor (no sign-in)"}[self.value]


@dataclass(frozen=True)
class Viewer:
    role: Role
    group_id: int | None = None  # leaders and governors belong to one group; admins see all
    name: str = ""
    email: str = ""  # the account's email when signed in (the demo's viewers have none)
    school_urn: int | None = None  # a governor given one school: their pages open on it

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def scope(self) -> Viewer:
        """The same viewer without who they are: what they may see depends only on this, so caches of reads key
        on it (every leader of a group shares them; nothing a read returns depends on the name or email)."""
        return Viewer(self.role, self.group_id, school_urn=self.school_urn)

    @property
    def actor(self) -> str:
        """Who made a change, as the audit log records it."""
        if self.email and self.name and self.name != self.email:
            return f"{self.name} <{self.email}>"
        return self.email or self.name or self.role.value


def visible_group_ids(store: Store, viewer: Viewer) -> list[int]:
    """Groups the viewer may open: all for an admin; none for the public (they read publications only);
    otherwise their own group and the groups nested in it."""
    if viewer.role is Role.PUBLIC:
        return []
    if viewer.is_admin:
        return list(store.remembered(("groups",), lambda: tuple(r[0] for r in store.query(
            "SELECT group_id FROM groups ORDER BY name"))))
    if viewer.group_id is None:
        return []
    return list(store.remembered(("group_tree", int(viewer.group_id)), lambda: _tree(store, int(viewer.group_id))))


def _tree(store: Store, group_id: int) -> tuple[int, ...]:
    rows = store.query(
        """
        WITH RECURSIVE tree(group_id) AS (
            SELECT ?::INTEGER UNION SELECT g.group_id FROM groups g JOIN tree t ON g.parent_id = t.group_id
        ) SELECT group_id FROM tree ORDER BY group_id
        """, [group_id])
    return tuple(r[0] for r in rows)


def can_see_group(store: Store, viewer: Viewer, group_id: int) -> bool:
    return group_id in visible_group_ids(store, viewer)


SEE_OWN_GROUP = "You can see only your own group and the groups within it."
PUBLIC_REFUSAL = "Parents and visitors can read only the results a group has published."


def require_staff(viewer: Viewer) -> None:
    """Refuse the public: it reads publications only."""
    if viewer.role is Role.PUBLIC:
        raise AccessDenied(PUBLIC_REFUSAL)


def require_group(store: Store, viewer: Viewer, group_id: int) -> int:
    """The group id, when the viewer may see that group; AccessDenied otherwise. A group that does not exist is
    refused in the same words as one the viewer may not see (so ids reveal nothing), except to an admin."""
    require_staff(viewer)
    try:
        gid = int(group_id)
    except (TypeError, ValueError):
        raise AccessDenied(f"{group_id!r} is not a group id.") from None
    if gid in visible_group_ids(store, viewer):
        return gid
    if viewer.is_admin:
        raise AccessDenied(f"There is no group with id {gid}.")
    raise AccessDenied(SEE_OWN_GROUP, f"group {gid}, viewer {viewer.role} of {viewer.group_id}")


def school_groups(store: Store, viewer: Viewer, urn: int) -> list[int]:
    """The groups of this school (at any time) that the viewer may see: all of them for an admin."""
    require_staff(viewer)
    groups = list(store.remembered(("school_groups", int(urn)), lambda: tuple(r[0] for r in store.query(
        "SELECT DISTINCT group_id FROM memberships WHERE urn = ? ORDER BY 1", [int(urn)]))))
    if viewer.is_admin:
        return groups
    visible = set(visible_group_ids(store, viewer))
    return [g for g in groups if g in visible]


def require_school(store: Store, viewer: Viewer, urn: int) -> list[int]:
    """Refuse a school outside the viewer's groups (past or present members count); returns its visible groups.
    Admins may open any school in the store."""
    require_staff(viewer)
    try:
        urn = int(urn)
    except (TypeError, ValueError):
        raise AccessDenied(f"{urn!r} is not a URN.") from None
    groups = school_groups(store, viewer, urn)
    if viewer.is_admin:
        if schools.school_brief(store, urn) is None:
            raise AccessDenied(f"There is no school with URN {urn}.")
        return groups
    if not groups:
        raise AccessDenied("You can see only the schools of your own group.", f"urn {urn}")
    return groups
