"""The signed, expiring sign-in cookie (issue 11 point 6): it gives back its own account's viewer until it expires,
and nothing once tampered with, expired, from another store, or revoked by a password change, the account's
removal or signing out."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from data.db.store import Store
from data.services import groups
from data.services.access import Role
from data.services.accounts import (
    COOKIE_LIFE,
    add_user,
    remove_user,
    revoke_cookies,
    session_cookie,
    set_password,
    set_role,
    viewer_from_cookie,
)

T0 = datetime(2026, 12, 1, 9, 0)
LEADER = "leader@example.org"
ADMIN = "admin@example.org"


@pytest.fixture
def accounts(store: Store) -> int:
    """A partnership of two schools, its leader and an admin: the group's id."""
    group = groups.create_group(store, "partnership", "Cookie Partnership")
    groups.add_memberships(store, group, [100001, 100002])
    assert add_user(store, "test", email=LEADER, role="leader", group=group, password="leader-password-1",
                    display_name="Lee") == []
    assert add_user(store, "test", email=ADMIN, role="admin", password="admin-password-12") == []
    return group


def test_a_cookie_gives_back_its_accounts_viewer_until_it_expires(store: Store, accounts: int) -> None:
    # issue 11 point 6
    cookie = session_cookie(store, LEADER, now=T0)
    viewer = viewer_from_cookie(store, cookie, now=T0 + COOKIE_LIFE - timedelta(seconds=1))
    assert viewer is not None
    assert (viewer.role, viewer.group_id, viewer.email, viewer.name) == (Role.LEADER, accounts, LEADER, "Lee")
    assert viewer_from_cookie(store, cookie, now=T0 + COOKIE_LIFE) is None  # 8 hours on: expired
    assert COOKIE_LIFE == timedelta(hours=8)
    # a fresher cookie (the sliding expiry: issued again as the person uses the app) lasts 8 hours from then
    later = session_cookie(store, LEADER, now=T0 + timedelta(hours=7))
    assert viewer_from_cookie(store, later, now=T0 + timedelta(hours=14)) is not None


def test_the_viewer_follows_the_account_as_it_is_now(store: Store, accounts: int) -> None:
    # issue 11 point 6: a cookie names the account, not its role: a role changed since is the role it gets
    cookie = session_cookie(store, LEADER, now=T0)
    assert set_role(store, "test", LEADER, "governor", accounts, school_urn=100002) == []
    viewer = viewer_from_cookie(store, cookie, now=T0)
    assert viewer is not None and (viewer.role, viewer.school_urn) == (Role.GOVERNOR, 100002)


def test_a_tampered_cookie_gives_nobody(store: Store, accounts: int) -> None:
    # issue 11 point 6
    cookie = session_cookie(store, LEADER, now=T0)
    assert viewer_from_cookie(store, cookie, now=T0) is not None
    version, email, generation, expires, signature = cookie.split(".")
    admin_email = session_cookie(store, ADMIN, now=T0).split(".")[1]
    tampered = [
        ".".join([version, admin_email, generation, expires, signature]),  # another account's name, same signature
        ".".join([version, email, generation, str(int(expires) + 3600), signature]),  # a later expiry
        ".".join([version, email, str(int(generation) + 1), expires, signature]),
        ".".join([version, email, generation, expires, signature[:-1] + ("0" if signature[-1] != "0" else "1")]),
        ".".join(["v0", email, generation, expires, signature]),
        cookie + ".", "." + cookie, cookie[:-2],
    ]
    for value in tampered:
        assert viewer_from_cookie(store, value, now=T0) is None, value


@pytest.mark.parametrize("value", [None, "", ".", "....", "v1.....", "v1.!!.0.1.ab", "v1.bGVhZGVy.x.1.ab",
                                   "v1.bGVhZGVy.0.99999999999999999999999.ab", "é" * 5000, "v1." + "A" * 5000,
                                   "v1.\udcff.0.1.ab", "v1.bGVhZGVy.-1.1.ab"])
def test_garbage_gives_nobody_and_never_raises(store: Store, accounts: int, value: str | None) -> None:
    # issue 11 point 6: the cookie is whatever the browser sends
    assert viewer_from_cookie(store, value, now=T0) is None


def test_a_cookie_from_another_store_gives_nobody(store: Store, accounts: int, tmp_path: Path) -> None:
    # issue 11 point 6: each store signs with its own key
    with Store(tmp_path / "other.duckdb") as other:
        group = groups.create_group(other, "partnership", "Cookie Partnership")
        groups.add_memberships(other, group, [100001])
        assert add_user(other, "test", email=LEADER, role="leader", group=group, password="leader-password-1") == []
        foreign = session_cookie(other, LEADER, now=T0)
    assert viewer_from_cookie(store, foreign, now=T0) is None


def test_a_new_password_revokes_every_earlier_cookie(store: Store, accounts: int) -> None:
    # issue 11 point 6
    before = session_cookie(store, LEADER, now=T0)
    assert set_password(store, "test", LEADER, "a-new-password-99") == []
    assert viewer_from_cookie(store, before, now=T0) is None
    after = session_cookie(store, LEADER, now=T0)
    assert viewer_from_cookie(store, after, now=T0) is not None
    # the revocation is part of the audited change, in the same transaction
    assert store.query("SELECT count(*) FROM audit_log WHERE action = 'set_password' AND entity_id = ?",
                       [LEADER]) == [(1,)]


def test_removing_the_account_revokes_its_cookies_even_if_the_email_comes_back(store: Store, accounts: int) -> None:
    # issue 11 point 6
    cookie = session_cookie(store, LEADER, now=T0)
    assert remove_user(store, "test", LEADER) == []
    assert viewer_from_cookie(store, cookie, now=T0) is None
    assert session_cookie(store, LEADER, now=T0) is None  # no account: no cookie
    assert add_user(store, "test", email=LEADER, role="admin", password="new-owner-password") == []
    assert viewer_from_cookie(store, cookie, now=T0) is None  # the new account under that email is not the old one


def test_signing_out_revokes_the_accounts_cookies(store: Store, accounts: int) -> None:
    # issue 11 point 6: a cookie copied before signing out is worth nothing after it
    cookie = session_cookie(store, LEADER, now=T0)
    other = session_cookie(store, ADMIN, now=T0)
    revoke_cookies(store, LEADER)
    assert viewer_from_cookie(store, cookie, now=T0) is None
    assert viewer_from_cookie(store, other, now=T0) is not None  # only that account's
    revoke_cookies(store, "nobody@example.org")  # no such account: nothing to do, no error
