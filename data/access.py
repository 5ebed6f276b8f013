"""Who is looking: the viewer every page passes to the store, and which groups a viewer may see.

Accounts (data/accounts.py: sign_in, viewer_for_email) make a Viewer; the app's sign-in screen is still
to come, so for now the demo's "viewing as" selector makes one. The rules live here, in the data layer,
so a page can never widen them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from data.store import Store


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

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def visible_group_ids(store: Store, viewer: Viewer) -> list[int]:
    """Groups the viewer may open: all for an admin; none for the public (they read publications only);
    otherwise their own group and the groups nested in it."""
    if viewer.role is Role.PUBLIC:
        return []
    if viewer.is_admin:
        return [r[0] for r in store.query("SELECT group_id FROM groups ORDER BY name")]
    if viewer.group_id is None:
        return []
    rows = store.query(
        """
        WITH RECURSIVE tree(group_id) AS (
            SELECT ?::INTEGER UNION SELECT g.group_id FROM groups g JOIN tree t ON g.parent_id = t.group_id
        ) SELECT group_id FROM tree ORDER BY group_id
        """, [viewer.group_id])
    return [r[0] for r in rows]


def can_see_group(store: Store, viewer: Viewer, group_id: int) -> bool:
    return group_id in visible_group_ids(store, viewer)
