"""Accounts: who may sign in, with what role and scope, and the checks a sign-in goes through.

A password is kept only as its argon2id hash (argon2-cffi's PasswordHasher, default parameters); neither the
password nor the hash is ever written to the audit log or returned by a read. An account without a password
signs in through single sign-on only (Streamlit's OIDC, `st.login`): the app maps the signed-in email to the
account with `viewer_for_email`.

Writes follow the house rule: every problem is returned in words ([] = done), and only a request with no
problem is written, in one audited transaction of the state store (issue 12 point 8): the checks that two processes
could race (is this email taken? is this the last admin?) are read again inside that transaction. Times are naive
UTC, as the store keeps them.

Sign-in is throttled, never locked (as django-axes' cool-off and PostgreSQL's auth_delay do): failures are counted
per client address and per email over a sliding WINDOW, in the state store (so the count holds across processes
and restarts: every process reads the counters straight from it, never from its mirror), under a keyed hash of
each, so an email with no account is counted exactly like one with an account and neither the address nor the
typed text is kept. Past the free failures the next attempt must wait, doubling each time: up to CLIENT_CAP for a
client (the main brake), up to a small ACCOUNT_CAP for an email (a brake on many clients at one account, which can
delay its owner by that much and no more).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from data.db.store import Store
from data.services import groups
from data.services.access import AccessDenied, Role, Viewer

if TYPE_CHECKING:
    from data.db.state import StateCursor

MIN_PASSWORD = 12  # characters
ACCOUNT_ROLES = (Role.ADMIN.value, Role.LEADER.value, Role.GOVERNOR.value)  # the public never signs in
LEAST_POWERFUL_FIRST = (Role.GOVERNOR.value, Role.LEADER.value, Role.ADMIN.value)  # how forms offer the roles

NO_MATCH = "That email and password do not match an account."
BUSY = "Too many people are signing in at once: try again in a few seconds."
# One @, something on each side, a dot in the domain, no spaces: a typo catcher, not RFC 5322.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL = 254  # characters (RFC 5321's path limit)

WINDOW = timedelta(hours=1)  # failures older than this no longer count (and their rows are pruned)
CLIENT_FREE, CLIENT_CAP = 5, 300  # failures from one client before it waits; the longest wait, in seconds
ACCOUNT_FREE, ACCOUNT_CAP = 10, 30  # the same for one email, from any client: small, as its owner waits too
MAX_FAILURE_ROWS = 200_000  # a flood from very many addresses within one WINDOW: the oldest rows go first
# argon2 takes 64 MiB and a core per hash: two at once (the cores), and a caller that cannot start within
# HASH_WAIT seconds is told the service is busy instead of queueing without bound.
HASHES_AT_ONCE = 2
HASH_WAIT = 1.0
WRITE_FLOOR = 0.05  # seconds: what a sign-in's write after the hash takes at least, whatever the outcome
NO_ACCOUNT = "(no account)"  # who an attempt is counted under when the typed email is no account's

_HASHER = PasswordHasher()
_HASHING = threading.BoundedSemaphore(HASHES_AT_ONCE)  # process-wide: every Store, every session thread
_COLUMNS = ("email", "display_name", "role", "group_id", "school_urn", "created_at", "last_sign_in")


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the email has no password, so an unknown email takes as long as a
    known one and timing does not tell them apart. Called only while holding one of the _HASHING turns."""
    return _HASHER.hash("no account has this password")


def _hash(password: str) -> str:
    """The argon2id hash of a password, within the bound on hashes computed at once (waiting for a turn: only
    admins set passwords)."""
    with _HASHING:
        return _HASHER.hash(_secret_bytes(password))


def _secret_bytes(password: str) -> bytes:
    """A password as argon2 is given it: UTF-8, with a lone surrogate (a browser or a non-UTF-8 terminal can send
    one) kept rather than raising, the same way when it is set and when it is checked."""
    return password.encode("utf-8", "surrogatepass")


def normal_email(email: str) -> str:
    """An email as accounts are keyed: trimmed, lower case, and text the store can hold (a lone surrogate, which a
    browser or a non-UTF-8 command line can send, becomes "?": no account has one)."""
    return str(email or "").strip().lower().encode("utf-8", "replace").decode("utf-8")


def _utc(now: datetime | None) -> datetime:
    """`now` as naive UTC (the store's TIMESTAMP); the current time when None."""
    if now is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


_SELECT_ACCOUNT = f"SELECT {', '.join(_COLUMNS)}, password_hash FROM accounts WHERE email = ?"  # noqa: S608


def _account(store: Store, email: str) -> dict | None:
    """One account's row (with the hash: for this module only), or None, as this process's mirror has it."""
    rows = store.query(_SELECT_ACCOUNT, [email])
    return dict(zip((*_COLUMNS, "password_hash"), rows[0], strict=True)) if rows else None


def _current_account(source: Store | StateCursor, email: str) -> dict | None:
    """One account's row as the state store has it this instant (a Store: straight from it; a StateCursor: inside
    the caller's transaction): a sign-in checks the hash another process may have changed a moment ago."""
    rows = (source.state.query(_SELECT_ACCOUNT, [email]) if isinstance(source, Store)
            else source.execute(_SELECT_ACCOUNT, [email]).fetchall())
    return dict(zip((*_COLUMNS, "password_hash"), rows[0], strict=True)) if rows else None


class _Refused(Exception):
    """A check read inside the write transaction failed (another process got there first): roll back, say why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _at(value: object) -> datetime:
    """A timestamp read from the state store as naive UTC: SQLite gives an aggregate's TIMESTAMP back as text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


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
        found = groups.find_group(store, group)
        if found is None:
            problems.append(f"There is no group {str(group).strip()!r}.")
        else:
            group_id = found.group_id
    if role == Role.ADMIN and has_group:
        problems.append("An admin sees every group: leave the group out.")
    elif role in (Role.LEADER, Role.GOVERNOR) and not has_group:
        problems.append(f"A {role} needs a group.")
    if school_urn is not None:  # a governor of one school, or a leader who is its head (migration 0017)
        if role not in (Role.GOVERNOR, Role.LEADER):
            problems.append("An admin sees every school: leave the school out.")
        elif group_id is not None and int(school_urn) not in groups.group_members(store, group_id):
            problems.append(f"School {school_urn} is not one of the group's schools.")
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
    elif _current_account(store, email) is not None:
        problems.append(f"There is already an account for {email}.")
    group_id, scope_problems = _check_scope(store, role, group, school_urn)
    problems += scope_problems + _check_password(password)
    if problems:
        return problems
    row = {"email": email, "display_name": (display_name or "").strip(), "role": role, "group_id": group_id,
           "school_urn": None if school_urn is None else int(school_urn),
           "password_hash": None if password is None else _hash(password)}
    try:
        with store.transaction() as cur:
            if _current_account(cur, email) is not None:  # another process added it since the check above
                raise _Refused(f"There is already an account for {email}.")
            cur.execute("INSERT INTO accounts (email, display_name, role, group_id, school_urn, password_hash, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [row["email"], row["display_name"], role, group_id, row["school_urn"], row["password_hash"],
                         _utc(None)])
            store.audit(cur, actor, "add", "account", email, None, _audit_view(row), group_id=group_id)
    except _Refused as refused:
        return [refused.message]
    return []


LAST_ADMIN = ("This is the only admin account: add another admin first, so that someone can still manage accounts "
              "and import data.")


_ADMINS = "SELECT count(*) FROM accounts WHERE role = 'admin'"


def _last_admin(store: Store, row: dict) -> bool:
    """True when this account is the store's only admin (removing or demoting it would leave nobody in charge)."""
    if row["role"] != Role.ADMIN:
        return False
    return store.state.query(_ADMINS)[0][0] <= 1


def _recheck(cur: StateCursor, email: str, *, leaves_admins: bool) -> dict:
    """The account's row inside the write transaction, checked again: two processes removing or demoting the last
    two admins at once must not both succeed (BEGIN IMMEDIATE / row locks serialise them, this read sees the
    first one's write). `leaves_admins`: the change takes the account's admin role away."""
    row = _current_account(cur, email)
    if row is None:
        raise _Refused(f"There is no account for {email!r}.")
    if leaves_admins and row["role"] == Role.ADMIN and cur.execute(_ADMINS).fetchall()[0][0] <= 1:
        raise _Refused(LAST_ADMIN)
    return row


def remove_user(store: Store, actor: str, email: str) -> list[str]:
    """Delete an account. Returns the problem in words when there is no such account."""
    email = normal_email(email)
    row = _current_account(store, email)  # the checks of a write read the state store, not a rerun-old mirror
    if row is None:
        return [f"There is no account for {email!r}."]
    if _last_admin(store, row):
        return [LAST_ADMIN]
    try:
        with store.transaction() as cur:
            row = _recheck(cur, email, leaves_admins=True)
            cur.execute("DELETE FROM accounts WHERE email = ?", [email])
            _next_generation(cur, email)  # its cookies die with it
            store.audit(cur, actor, "remove", "account", email, _audit_view(row), None, group_id=row["group_id"])
    except _Refused as refused:
        return [refused.message]
    return []


def set_role(store: Store, actor: str, email: str, role: str, group: str | int | None = None, *,
             school_urn: int | None = None) -> list[str]:
    """Give an account a new role and scope (group; for a governor or a school's head, one school): the whole scope is
    replaced, so a governor of one school moved to another role or group loses the school."""
    email = normal_email(email)
    row = _current_account(store, email)  # the checks of a write read the state store, not a rerun-old mirror
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
    try:
        with store.transaction() as cur:
            row = _recheck(cur, email, leaves_admins=role != Role.ADMIN)
            after = {**row, "role": role, "group_id": group_id, "school_urn": after["school_urn"]}
            cur.execute("UPDATE accounts SET role = ?, group_id = ?, school_urn = ? WHERE email = ?",
                        [role, group_id, after["school_urn"], email])
            store.audit(cur, actor, "set_role", "account", email, _audit_view(row), _audit_view(after),
                        group_id=group_id if group_id is not None else row["group_id"])
    except _Refused as refused:
        return [refused.message]
    return []


def set_password(store: Store, actor: str, email: str, password: str) -> list[str]:
    """Set (or replace) an account's password. Failed sign-ins are throttled, never locked, so there is no lock
    to clear: the new password works at once (after any wait the throttle still asks of that client)."""
    email = normal_email(email)
    row = _current_account(store, email)
    problems = [] if row is not None else [f"There is no account for {email!r}."]
    problems += _check_password(password) if password is not None else ["A password is needed."]
    if problems:
        return problems
    new_hash = _hash(password)  # before the transaction: a hash takes a core for a while, a write lock must not wait
    try:
        with store.transaction() as cur:
            row = _recheck(cur, email, leaves_admins=False)
            cur.execute("UPDATE accounts SET password_hash = ? WHERE email = ?", [new_hash, email])
            _next_generation(cur, email)  # a cookie issued under the old password no longer signs anyone in
            store.audit(cur, actor, "set_password", "account", email, None, "password set",
                        group_id=row["group_id"])
    except _Refused as refused:
        return [refused.message]
    return []


# ------------------------------------------------------------------------------ reads


FAILED = ("wrong password", "single sign-on only")  # the sign_in_counts outcomes that are a failed sign-in


def list_users(store: Store, *, now: datetime | None = None) -> list[dict]:
    """Every account, by email, with its group's and school's names, whether it has a password (never the hash), and
    its failed sign-ins in the 24 hours before `now` (someone guessing its password shows here; nothing locks it)."""
    since = _utc(now).replace(minute=0, second=0, microsecond=0) - timedelta(hours=24)
    rows = store.query(
        f"SELECT {', '.join('a.' + c for c in _COLUMNS)}, coalesce(f.failed, 0), "  # noqa: S608
        "a.password_hash IS NOT NULL, g.name, e.name FROM accounts a LEFT JOIN groups g USING (group_id) "
        "LEFT JOIN establishments e ON e.urn = a.school_urn "
        "LEFT JOIN (SELECT who, sum(attempts)::INTEGER AS failed FROM sign_in_counts "
        "WHERE hour >= ? AND list_contains(?::VARCHAR[], outcome) GROUP BY who) f ON f.who = a.email "
        "ORDER BY a.email", [since, list(FAILED)])
    return [{**dict(zip(_COLUMNS, r[:-4], strict=True)), "failed_sign_ins_24h": r[-4], "has_password": r[-3],
             "group_name": r[-2], "school_name": r[-1]} for r in rows]


def viewer_for_email(store: Store, email: str) -> Viewer | None:
    """The Viewer for an email signed in through single sign-on: the account's role and scope; None when the
    email has no account (the app then shows the public view). The sign-in throttle does not apply here: the
    identity provider did the checking."""
    row = _account(store, normal_email(email))
    return None if row is None else _viewer(row)


def _viewer(row: dict) -> Viewer:
    return Viewer(Role(row["role"]), row["group_id"], row["display_name"] or row["email"], row["email"],
                  row.get("school_urn"))


# ------------------------------------------------------------------------------ sign-in


def too_many(seconds: int) -> str:
    """The one reply to a throttled attempt, whichever key throttled it and whether or not the email has an account."""
    return f"Too many sign-in attempts: try again in {seconds} second{'' if seconds == 1 else 's'}."


def _secret(store: Store) -> bytes:
    """The store's key for the keyed hashes of addresses and emails, made on first use (then remembered)."""

    def read() -> str:
        # straight from the state store: the first sign-in of another process may have made the key a moment ago,
        # and two processes must hash with the same key (min(): should two have raced to make one, both pick one)
        rows = store.state.query("SELECT min(secret) FROM signin_key")
        if rows[0][0] is None:
            with store.transaction(changes_data=False) as cur:
                cur.execute("INSERT INTO signin_key (secret) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM signin_key)",
                            [secrets.token_hex(32)])
            rows = store.state.query("SELECT min(secret) FROM signin_key")
        return rows[0][0]

    return bytes.fromhex(store.remembered(("signin_key",), read))


@functools.lru_cache(maxsize=4096)
def _keyed(secret: bytes, kind: str, text: str) -> str:
    # surrogatepass: a browser can send a lone surrogate, which plain UTF-8 refuses to encode
    return f"{kind}:" + hmac.new(secret, f"{kind}\0{text}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _keys(store: Store, email: str, client: str | None) -> tuple[str, str]:
    """The throttle's keys for a client address and a (normalised) email: keyed hashes, never the text."""
    secret = _secret(store)
    return _keyed(secret, "client", str(client or "local")), _keyed(secret, "email", email)


def _backoff(failures: int, free: int, cap: int) -> int:
    """Seconds to wait after the last of `failures`: none for the first `free`, then 1, 2, 4 ... up to `cap`."""
    return 0 if failures < free else min(2 ** min(failures - free, 32), cap)


def _wait(store: Store, keys: tuple[str, str], at: datetime) -> int:
    """Whole seconds before these keys may try again (0: now), from their failures within WINDOW."""
    client_key, _ = keys
    # straight from the state store, not the mirror: failures another process counted a moment ago must brake this
    # attempt (the mirror is refreshed once per rerun; a guesser's script does not rerun)
    rows = store.state.query("SELECT key, count(*), max(at_time) FROM signin_failures WHERE key IN (?, ?) "
                             "AND at_time > ? GROUP BY key", [*keys, at - WINDOW])
    wait = 0
    for key, failures, last in rows:
        free, cap = (CLIENT_FREE, CLIENT_CAP) if key == client_key else (ACCOUNT_FREE, ACCOUNT_CAP)
        backoff = _backoff(failures, free, cap)
        if backoff:  # never longer than the cap, even when another process's clock is ahead of this one's
            wait = max(wait, min(cap, math.ceil((_at(last) + timedelta(seconds=backoff) - at).total_seconds())))
    return wait


def throttle_wait(store: Store, email: str, client: str | None, now: datetime | None = None) -> int:
    """Seconds before this email may be tried from this client (0: now)."""
    return _wait(store, _keys(store, normal_email(email)[:MAX_EMAIL], client), _utc(now))


def _count(cur: StateCursor, who: str, outcome: str, at: datetime, attempts: int = 1) -> None:
    """More attempts in the hour's count for `who` and this outcome: a counter, not a line per attempt."""
    cur.execute("INSERT INTO sign_in_counts (who, hour, outcome, attempts) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (who, hour, outcome) DO UPDATE SET attempts = sign_in_counts.attempts + excluded.attempts",
                [who, at.replace(minute=0, second=0, microsecond=0), outcome, attempts])


# Refused attempts (throttled, busy) are counted here and written with the next sign-in that writes anyway, or
# after FLUSH_EVERY: a flood of refusals costs the store no write each (at most FLUSH_EVERY's worth is lost if the
# process dies).
FLUSH_EVERY = timedelta(seconds=10)
_PENDING: dict[tuple[str, str, datetime, str], int] = {}
_PENDING_LOCK = threading.Lock()
_FLUSHED: dict[str, datetime] = {}


def _flush(store: Store, cur: StateCursor, at: datetime) -> None:
    """Write this store's pending refusal counts, inside the caller's transaction."""
    path = str(store.path)
    with _PENDING_LOCK:
        mine = {k: n for k, n in _PENDING.items() if k[0] == path}
        for k in mine:
            del _PENDING[k]
        _FLUSHED[path] = at
    for (_, who, hour, outcome), n in mine.items():
        _count(cur, who, outcome, hour, n)


def _refuse(store: Store, email: str, outcome: str, at: datetime, message: str) -> tuple[None, str]:
    """A reply given before any hash is computed (throttled or busy), counted under the account or no account."""
    row = _current_account(store, email)  # counted under the account as it is now, as sign_in counts its own
    hour = at.replace(minute=0, second=0, microsecond=0)
    key = (str(store.path), row["email"] if row else NO_ACCOUNT, hour, outcome)
    with _PENDING_LOCK:
        _PENDING[key] = _PENDING.get(key, 0) + 1
        last = _FLUSHED.setdefault(key[0], at)
    if abs(at - last) >= FLUSH_EVERY:
        with store.transaction(changes_data=False) as cur:
            _flush(store, cur, at)
    return None, message


def flush_counts(store: Store) -> None:
    """Write any refusal counts still held in this process now (sign-ins write them anyway within FLUSH_EVERY)."""
    with store.transaction(changes_data=False) as cur:
        _flush(store, cur, _utc(None))


def sign_in(store: Store, email: str, password: str, *, client: str | None = None,
            now: datetime | None = None) -> tuple[Viewer | None, str]:
    """Check an email and password from a client address: (the Viewer, "") on success, else (None, why in words).

    Every reply is the same for an email with an account and one without: NO_MATCH for any failure,
    `too_many(seconds)` while this client or this email must wait, BUSY when HASHES_AT_ONCE hashes are already
    being computed. Every attempt that is not refused before hashing verifies one argon2 hash (a dummy one for an
    unknown email or a single-sign-on-only account) and writes one transaction, so they take the same time. A
    refused attempt computes no hash (that is the brake) and does not count as a failure. Nothing typed is kept:
    attempts are counted per account and hour in sign_in_counts, under NO_ACCOUNT unless the email is an
    account's, and failures under keyed hashes in signin_failures; none reaches the change history."""
    email, password = normal_email(email)[:MAX_EMAIL], str(password or "")
    at = _utc(now)
    keys = _keys(store, email, client)
    if wait := _wait(store, keys, at):
        return _refuse(store, email, "throttled", at, too_many(wait))
    if not _HASHING.acquire(timeout=HASH_WAIT):
        return _refuse(store, email, "busy", at, BUSY)
    try:
        if wait := _wait(store, keys, at):  # others from this client or at this email may have failed meanwhile
            return _refuse(store, email, "throttled", at, too_many(wait))
        # the hash as the state store has it this instant: a password changed through another process a moment
        # ago is the one this sign-in checks (the mirror may be a rerun behind)
        row = _current_account(store, email)
        stored = row["password_hash"] if row is not None else None
        # the same path for every outcome: one verify, against a dummy hash when there is nothing to check
        ok = _verify(stored or _dummy_hash(), password) and stored is not None
        new_hash = (_HASHER.hash(_secret_bytes(password)) if ok and _HASHER.check_needs_rehash(stored)  # type: ignore[arg-type]
                    else None)
    finally:
        _HASHING.release()
    outcome = ("signed in" if ok else "no account" if row is None else
               "wrong password" if stored is not None else "single sign-on only")
    written = time.perf_counter()
    with store.transaction(changes_data=False) as cur:
        if ok:
            cur.execute("UPDATE accounts SET last_sign_in = ?, password_hash = coalesce(?, password_hash) "
                        "WHERE email = ?", [at, new_hash, email])
        else:
            cur.execute("INSERT INTO signin_failures (key, at_time) VALUES (?, ?), (?, ?)",
                        [keys[0], at, keys[1], at])
        # kept bounded on every attempt (on the same path, so success and failure cost the same)
        cur.execute("DELETE FROM signin_failures WHERE at_time <= ?", [at - WINDOW])
        cur.execute("DELETE FROM signin_failures WHERE at_time < (SELECT at_time FROM signin_failures "
                    "ORDER BY at_time DESC LIMIT 1 OFFSET ?)", [MAX_FAILURE_ROWS])
        _count(cur, row["email"] if row is not None else NO_ACCOUNT, outcome, at)
        _flush(store, cur, at)
    # a success updates the account and a failure inserts rows: padded to one duration, so that the write does
    # not tell them apart either (a sleep: no core, no memory, no lock held)
    time.sleep(max(0.0, WRITE_FLOOR - (time.perf_counter() - written)))
    return (_viewer(row), "") if ok else (None, NO_MATCH)  # type: ignore[arg-type]


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, _secret_bytes(password))
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


# ------------------------------------------------------------------------------ the signed sign-in cookie
#
# A reload starts a new Streamlit session, which would sign a local account out. The browser keeps a cookie
# instead (ui/signin.py sets it through ui/server.py, HttpOnly): `v1.<email, base64url>.<generation>.<expiry, Unix
# seconds>.<HMAC-SHA256 of the rest under the store's signin_key>`. It is refused when its signature does not
# match (tampered with, or another store's), when it has expired, or when its generation is not the account's now
# (signin_generations: a new password, the account's removal and signing out each move it on).

COOKIE_NAME = "jointly_signin"
COOKIE_LIFE = timedelta(hours=8)  # sliding: the app issues a fresh cookie as the person keeps using it
COOKIE_REFRESH = timedelta(minutes=15)  # how often a session in use has its cookie issued afresh
MAX_COOKIE = 1024  # characters: an email of MAX_EMAIL in base64 and the rest fit; anything longer is not ours
_COOKIE_VERSION = "v1"


def _next_generation(cur: StateCursor, email: str) -> None:
    """Move an email's cookie generation on, inside the caller's transaction: every earlier cookie is refused."""
    cur.execute("INSERT INTO signin_generations (email, generation) VALUES (?, 1) "
                "ON CONFLICT (email) DO UPDATE SET generation = signin_generations.generation + 1", [email])


def _generation(store: Store, email: str) -> int:
    """An email's cookie generation now, straight from the state store: a sign-out or new password in another
    process must refuse the old cookie at once, not after this process's mirror catches up."""
    rows = store.state.query("SELECT generation FROM signin_generations WHERE email = ?", [email])
    return int(rows[0][0]) if rows else 0


def _cookie_signature(store: Store, payload: str) -> str:
    return hmac.new(_secret(store), f"cookie\0{payload}".encode(), hashlib.sha256).hexdigest()


def session_cookie(store: Store, email: str, *, now: datetime | None = None) -> str | None:
    """The cookie that keeps `email` signed in for COOKIE_LIFE from `now`; None when there is no such account."""
    email = normal_email(email)
    if _current_account(store, email) is None:
        return None
    expires = int((_utc(now) + COOKIE_LIFE).replace(tzinfo=UTC).timestamp())
    name = base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")
    payload = f"{_COOKIE_VERSION}.{name}.{_generation(store, email)}.{expires}"
    return f"{payload}.{_cookie_signature(store, payload)}"


def viewer_from_cookie(store: Store, value: str | None, *, now: datetime | None = None) -> Viewer | None:
    """The viewer a cookie signs in, as their account is now; None for anything but a valid, unexpired,
    unrevoked cookie of an existing account (never an exception: the value is whatever the browser sent)."""
    if not value or len(value) > MAX_COOKIE or not value.isascii():
        return None
    parts = value.split(".")
    if len(parts) != 5 or parts[0] != _COOKIE_VERSION or not (parts[2].isdigit() and parts[3].isdigit()):
        return None
    payload, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_cookie_signature(store, payload), signature):
        return None
    if int(parts[3]) <= _utc(now).replace(tzinfo=UTC).timestamp():
        return None
    try:
        email = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if int(parts[2]) != _generation(store, email):
        return None
    return viewer_for_email(store, email)


def revoke_cookies(store: Store, email: str) -> None:
    """Refuse every cookie issued so far for `email` (signing out: a copy taken before is worth nothing after).
    Not a change to anyone's data, so not in the change history, as a sign-in is not."""
    email = normal_email(email)
    if _current_account(store, email) is None:
        return
    with store.transaction(changes_data=False) as cur:
        _next_generation(cur, email)
