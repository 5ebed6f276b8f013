"""Accounts: who may sign in, with what role and scope, and the checks a sign-in goes through.

A password is kept only as its argon2id hash (argon2-cffi's PasswordHasher, default parameters); neither the
password nor the hash is ever written to the audit log or returned by a read. An account without a password
signs in through single sign-on only (Streamlit's OIDC, `st.login`): the app maps the signed-in email to the
account with `viewer_for_email`.

Writes follow the house rule: every problem is returned in words ([] = done), and only a request with no
problem is written, in one audited transaction. Times are naive UTC, as the store keeps them.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from data.access import AccessDenied, Role, Viewer
from data.store import Store

MIN_PASSWORD = 12  # characters
MAX_FAILURES = 5  # consecutive failed sign-ins before an account is locked
LOCK_FOR = timedelta(minutes=15)
ACCOUNT_ROLES = (Role.ADMIN.value, Role.LEADER.value, Role.GOVERNOR.value)  # the public never signs in

NO_MATCH = "That email and password do not match an account."
# One @, something on each side, a dot in the domain, no spaces: a typo catcher, not RFC 5322.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL = 254  # characters (RFC 5321's path limit)

_HASHER = PasswordHasher()
_COLUMNS = ("email", "display_name", "role", "group_id", "school_urn", "failed_attempts", "locked_until",
            "created_at", "last_sign_in")


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the email has no password, so an unknown email takes as long as a
    known one and timing does not tell them apart."""
    return _HASHER.hash("no account has this password")


def normal_email(email: str) -> str:
    return str(email or "").strip().lower()


def _utc(now: datetime | None) -> datetime:
    """`now` as naive UTC (the store's TIMESTAMP); the current time when None."""
    if now is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def _account(store: Store, email: str) -> dict | None:
    """One account's row (with the hash: for this module only), or None."""
    rows = store.query(f"SELECT {', '.join(_COLUMNS)}, password_hash FROM accounts WHERE email = ?",  # noqa: S608
                       [email])
    return dict(zip((*_COLUMNS, "password_hash"), rows[0], strict=True)) if rows else None


def _public(row: dict) -> dict:
    """What may leave this module about an account: never the hash, only whether there is one."""
    out = {k: row[k] for k in _COLUMNS}
    out["has_password"] = row["password_hash"] is not None
    return out


def _audit_view(row: dict) -> dict:
    """An account as the audit log records it: role and scope, and whether it has a password (never the hash)."""
    return {"display_name": row["display_name"], "role": row["role"], "group_id": row["group_id"],
            "school_urn": row["school_urn"],
            "password": "set" if row["password_hash"] is not None else "none (single sign-on only)"}


# ------------------------------------------------------------------------------ checks


def _check_password(password: str | None) -> list[str]:
    if password is None:
        return []
    if len(password) < MIN_PASSWORD:
        return [f"A password needs at least {MIN_PASSWORD} characters."]
    return []


def _check_scope(store: Store, role: str, group: str | int | None,
                 school_urn: int | None) -> tuple[int | None, list[str]]:
    """The group id a role and group give, and every problem with them (role, group, school)."""
    problems: list[str] = []
    group_id: int | None = None
    if role not in ACCOUNT_ROLES:
        problems.append(f"The role must be one of {', '.join(ACCOUNT_ROLES)}, not {role!r}.")
    has_group = group is not None and str(group).strip() != ""
    if has_group:
        found = store.find_group(group)
        if found is None:
            problems.append(f"There is no group {str(group).strip()!r}.")
        else:
            group_id = found.group_id
    if role == Role.ADMIN and has_group:
        problems.append("An admin sees every group: leave the group out.")
    elif role in (Role.LEADER, Role.GOVERNOR) and not has_group:
        problems.append(f"A {role} needs a group.")
    if school_urn is not None:
        if role != Role.GOVERNOR:
            problems.append("Only a governor can be given one school.")
        elif group_id is not None and int(school_urn) not in store.group_members(group_id):
            problems.append(f"School {school_urn} is not a member of the group.")
    return group_id, problems


# ------------------------------------------------------------------------------ writes


def add_user(store: Store, actor: str, *, email: str, role: str, group: str | int | None = None,
             display_name: str = "", password: str | None = None, school_urn: int | None = None) -> list[str]:
    """Create an account. Returns every problem in words ([] = added); with any problem nothing is written.

    `group` is an id, GIAS code or exact name; required for a leader or governor, refused for an admin. No
    password makes a single-sign-on-only account."""
    email, role = normal_email(email), str(role).strip().lower()
    problems: list[str] = []
    if not _EMAIL.match(email) or len(email) > MAX_EMAIL:
        problems.append(f"{email!r} does not look like an email address.")
    elif _account(store, email) is not None:
        problems.append(f"There is already an account for {email}.")
    group_id, scope_problems = _check_scope(store, role, group, school_urn)
    problems += scope_problems + _check_password(password)
    if problems:
        return problems
    row = {"email": email, "display_name": (display_name or "").strip(), "role": role, "group_id": group_id,
           "school_urn": None if school_urn is None else int(school_urn),
           "password_hash": None if password is None else _HASHER.hash(password)}
    with store.transaction() as cur:
        cur.execute("INSERT INTO accounts (email, display_name, role, group_id, school_urn, password_hash, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [row["email"], row["display_name"], role, group_id, row["school_urn"], row["password_hash"],
                     _utc(None)])
        store.audit(cur, actor, "add", "account", email, None, _audit_view(row), group_id=group_id)
    return []


LAST_ADMIN = ("This is the only admin account: add another admin first, so that someone can still manage accounts "
              "and import data.")


def _last_admin(store: Store, row: dict) -> bool:
    """True when this account is the store's only admin (removing or demoting it would leave nobody in charge)."""
    if row["role"] != Role.ADMIN:
        return False
    return store.query("SELECT count(*) FROM accounts WHERE role = 'admin'")[0][0] <= 1


def remove_user(store: Store, actor: str, email: str) -> list[str]:
    """Delete an account. Returns the problem in words when there is no such account."""
    email = normal_email(email)
    row = _account(store, email)
    if row is None:
        return [f"There is no account for {email!r}."]
    if _last_admin(store, row):
        return [LAST_ADMIN]
    with store.transaction() as cur:
        cur.execute("DELETE FROM accounts WHERE email = ?", [email])
        store.audit(cur, actor, "remove", "account", email, _audit_view(row), None, group_id=row["group_id"])
    return []


def set_role(store: Store, actor: str, email: str, role: str, group: str | int | None = None, *,
             school_urn: int | None = None) -> list[str]:
    """Give an account a new role and scope (group; for a governor, optionally one school): the whole scope is
    replaced, so a governor of one school moved to another role or group loses the school."""
    email = normal_email(email)
    row = _account(store, email)
    if row is None:
        return [f"There is no account for {email!r}."]
    role = str(role).strip().lower()
    group_id, problems = _check_scope(store, role, group, school_urn)
    if role != Role.ADMIN and _last_admin(store, row):
        problems.append(LAST_ADMIN)
    if problems:
        return problems
    after = {**row, "role": role, "group_id": group_id, "school_urn": None if school_urn is None else int(school_urn)}
    if _audit_view(after) == _audit_view(row):
        return []  # unchanged: no write, no audit line
    with store.transaction() as cur:
        cur.execute("UPDATE accounts SET role = ?, group_id = ?, school_urn = ? WHERE email = ?",
                    [role, group_id, after["school_urn"], email])
        store.audit(cur, actor, "set_role", "account", email, _audit_view(row), _audit_view(after),
                    group_id=group_id if group_id is not None else row["group_id"])
    return []


def set_password(store: Store, actor: str, email: str, password: str) -> list[str]:
    """Set (or replace) an account's password. Also clears failed sign-ins and any lock: an admin who resets a
    password has dealt with whatever caused them."""
    email = normal_email(email)
    row = _account(store, email)
    problems = [] if row is not None else [f"There is no account for {email!r}."]
    problems += _check_password(password) if password is not None else ["A password is needed."]
    if problems:
        return problems
    with store.transaction() as cur:
        cur.execute("UPDATE accounts SET password_hash = ?, failed_attempts = 0, locked_until = NULL "
                    "WHERE email = ?", [_HASHER.hash(password), email])
        store.audit(cur, actor, "set_password", "account", email, None, "password set",
                    group_id=row["group_id"])  # type: ignore[index]
    return []


# ------------------------------------------------------------------------------ reads


def list_users(store: Store) -> list[dict]:
    """Every account, by email, with its group's name and whether it has a password (never the hash)."""
    rows = store.query(
        f"SELECT {', '.join('a.' + c for c in _COLUMNS)}, a.password_hash IS NOT NULL, g.name "  # noqa: S608
        "FROM accounts a LEFT JOIN groups g USING (group_id) ORDER BY a.email")
    return [{**dict(zip(_COLUMNS, r[:-2], strict=True)), "has_password": r[-2], "group_name": r[-1]}
            for r in rows]


def viewer_for_email(store: Store, email: str) -> Viewer | None:
    """The Viewer for an email signed in through single sign-on: the account's role and scope; None when the
    email has no account (the app then shows the public view). A password lock does not apply here: the
    identity provider did the checking."""
    row = _account(store, normal_email(email))
    return None if row is None else _viewer(row)


def _viewer(row: dict) -> Viewer:
    return Viewer(Role(row["role"]), row["group_id"], row["display_name"] or row["email"], row["email"],
                  row.get("school_urn"))


# ------------------------------------------------------------------------------ sign-in


def _locked_message(until: datetime) -> str:
    return (f"This account is locked after {MAX_FAILURES} failed sign-ins in a row. "
            f"Try again after {until:%H:%M} UTC on {until:%d %B %Y}.")


def sign_in(store: Store, email: str, password: str, *, now: datetime | None = None) -> tuple[Viewer | None, str]:
    """Check an email and password: (the Viewer, "") on success, else (None, why in words).

    A wrong password and an unknown email get the same message (and take as long). After MAX_FAILURES
    consecutive failures the account is locked for LOCK_FOR, and the message says until when; success clears
    the count and records the time. Every outcome is audited, with the email as the actor and no secret."""
    email, password = normal_email(email)[:MAX_EMAIL], str(password or "")
    at = _utc(now)
    row = _account(store, email)
    if row is None:
        _verify(_dummy_hash(), password)
        with store.transaction(changes_data=False) as cur:
            store.audit(cur, email, "sign_in_failed", "account", email, None, {"reason": "no such account"})
        return None, NO_MATCH
    if row["locked_until"] is not None and row["locked_until"] > at:
        with store.transaction(changes_data=False) as cur:
            store.audit(cur, email, "locked", "account", email, None, {"locked_until": row["locked_until"]},
                        group_id=row["group_id"])
        return None, _locked_message(row["locked_until"])
    ok = _verify(row["password_hash"] or _dummy_hash(), password) and row["password_hash"] is not None
    with store.transaction(changes_data=False) as cur:
        # re-read inside the write lock: another session may have failed (or locked the account) meanwhile
        failed, until = cur.execute("SELECT failed_attempts, locked_until FROM accounts WHERE email = ?",
                                    [email]).fetchall()[0]
        if until is not None and until > at:
            store.audit(cur, email, "locked", "account", email, None, {"locked_until": until}, group_id=row["group_id"])
            return None, _locked_message(until)
        if ok:
            new_hash = _HASHER.hash(password) if _HASHER.check_needs_rehash(row["password_hash"]) else None
            cur.execute("UPDATE accounts SET failed_attempts = 0, locked_until = NULL, last_sign_in = ?, "
                        "password_hash = coalesce(?, password_hash) WHERE email = ?", [at, new_hash, email])
            store.audit(cur, email, "sign_in", "account", email, {"failed_attempts": failed},
                        {"failed_attempts": 0, "last_sign_in": at, **({"password": "rehashed"} if new_hash else {})},
                        group_id=row["group_id"])
            return _viewer(row), ""
        # a lock that has run out starts a fresh count
        attempts = (0 if until is not None else failed) + 1
        lock = at + LOCK_FOR if attempts >= MAX_FAILURES else None
        cur.execute("UPDATE accounts SET failed_attempts = ?, locked_until = ? WHERE email = ?",
                    [attempts, lock, email])
        store.audit(cur, email, "sign_in_failed", "account", email, {"failed_attempts": failed},
                    {"failed_attempts": attempts, "locked_until": lock,
                     "reason": "wrong password" if row["password_hash"] else "single sign-on only"},
                    group_id=row["group_id"])
    return (None, _locked_message(lock)) if lock is not None else (None, NO_MATCH)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ------------------------------------------------------------------------------ managed in the app, by admins
#
# The same writes as the command line, for the Accounts page: the viewer must be an admin (checked here, in the
# data layer), and the audit log names them as the actor.

REFUSED_ACCOUNTS = "Only a data manager (admin) can see and manage accounts."


def accounts_for(store: Store, viewer: Viewer) -> list[dict]:
    """Every account (never a password or its hash), for an admin; AccessDenied for anyone else."""
    if not viewer.is_admin:
        raise AccessDenied(REFUSED_ACCOUNTS)
    return list_users(store)


def admin_add_user(store: Store, viewer: Viewer, **fields: object) -> list[str]:
    return [REFUSED_ACCOUNTS] if not viewer.is_admin else add_user(store, viewer.actor, **fields)  # type: ignore[arg-type]


def admin_set_role(store: Store, viewer: Viewer, email: str, role: str, group: str | int | None = None, *,
                   school_urn: int | None = None) -> list[str]:
    if not viewer.is_admin:
        return [REFUSED_ACCOUNTS]
    return set_role(store, viewer.actor, email, role, group, school_urn=school_urn)


def admin_set_password(store: Store, viewer: Viewer, email: str, password: str) -> list[str]:
    return [REFUSED_ACCOUNTS] if not viewer.is_admin else set_password(store, viewer.actor, email, password)


def admin_remove_user(store: Store, viewer: Viewer, email: str) -> list[str]:
    return [REFUSED_ACCOUNTS] if not viewer.is_admin else remove_user(store, viewer.actor, email)


def current_viewer_of(store: Store, viewer: Viewer) -> Viewer | None:
    """The signed-in viewer as the store has it now: None when their account has been removed since they signed
    in, or a new Viewer when their role or scope changed. So a removed account loses access at its next click,
    not when its session ends."""
    if not viewer.email:
        return viewer  # the demo's viewers have no account
    return viewer_for_email(store, viewer.email)
