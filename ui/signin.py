"""Who is looking, on a real store: a signed-out visitor is the public; staff sign in with a local account
or, when configured, single sign-on (st.login), and the store maps the email to a role and scope.

A local sign-in survives a reload through a signed, expiring, HttpOnly cookie (data.services.accounts.session_cookie,
set
through ui.server.offer_cookie); single sign-on survives one through Streamlit's own identity cookie (st.user).

The demo store keeps its "viewing as" selector (ui.context.viewer_selector) instead: it never appears once
real data is loaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import streamlit as st

from data.db.store import Store
from data.services.access import Role, Viewer
from data.services.accounts import (
    COOKIE_LIFE,
    COOKIE_NAME,
    COOKIE_REFRESH,
    current_viewer_of,
    revoke_cookies,
    session_cookie,
    sign_in,
    viewer_for_email,
    viewer_from_cookie,
)
from ui.published import escape
from ui.server import COOKIE_ENDPOINT, offer_cookie

KEY_SIGNED_IN = "_signed_in"
KEY_EMAIL = "signin_email"
KEY_PASSWORD = "signin_password"
KEY_SUBMIT = "signin_submit"
PUBLIC = Viewer(Role.PUBLIC, None, "Parent or visitor")
KEY_LOCAL = "_signed_in_locally"  # signed in with a password (or that sign-in's cookie): the cookie is ours to keep
KEY_COOKIE_AT = "_signin_cookie_at"  # when this session last had its cookie issued (UTC)
KEY_COOKIE_READ = "_signin_cookie_read"  # the cookie value this session has already tried (it is fixed per session)
SIGN_IN_FIRST = "Sign in to see this page"  # the heading of a staff page's address for a signed-out visitor
KEY_COOKIE_CLEAR = "_signin_cookie_clear"  # signed out: the browser's cookie is to be cleared on this run


TRUSTED_PROXIES = "JOINTLY_TRUSTED_PROXIES"  # environment: how many reverse proxies stand in front (default 0)


def client_from(ip: str | None, forwarded_for: str, trusted: int) -> str:
    """The client address the sign-in throttle keys on: the connection's address, or behind `trusted` proxies
    the X-Forwarded-For hop the outermost of them saw.

    Counted from the right: the documented nginx appends the address it saw ($proxy_add_x_forwarded_for), so
    anything to its left was written by the visitor and would let them pick a fresh address per attempt. With no
    proxy trusted the header is ignored. Streamlit gives None for a localhost connection: "local"."""
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    if trusted > 0 and len(hops) >= trusted:
        return hops[-trusted][:64]
    return (ip or "local")[:64]


def client_address() -> str:
    """This session's client address (st.context), as client_from decides it."""
    try:
        trusted = max(0, int(os.environ.get(TRUSTED_PROXIES, "0") or 0))
    except ValueError:
        trusted = 0  # documented as a number: anything else trusts no proxy, the safe reading
    return client_from(st.context.ip_address, str(st.context.headers.get("X-Forwarded-For") or ""), trusted)


def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all: single sign-on is not configured
        return False


def _sign_out(store: Store) -> None:
    viewer: Viewer | None = st.session_state.pop(KEY_SIGNED_IN, None)
    if st.session_state.pop(KEY_LOCAL, False) and viewer is not None and viewer.email:
        revoke_cookies(store, viewer.email)  # a copy of the cookie taken before signing out is worth nothing now
        st.session_state[KEY_COOKIE_CLEAR] = True
    st.session_state.pop(KEY_COOKIE_AT, None)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _send_cookie(value: str, max_age: int) -> None:
    """Have the browser store (or, with "" and 0, drop) the sign-in cookie: the page POSTs a one-use ticket to the
    app's own endpoint, whose answer sets the cookie HttpOnly (ui.server). The ticket is random, never the cookie."""
    ticket = offer_cookie(COOKIE_NAME, value, max_age)
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    endpoint = ("/" + base if base else "") + COOKIE_ENDPOINT
    # json.dumps quotes both for JavaScript; neither holds anything but URL-safe characters
    st.sidebar.html(f"""<script>fetch({json.dumps(endpoint)}, {{method: "POST", credentials: "same-origin",
        cache: "no-store", headers: {{"X-Jointly-Cookie": "1"}}, body: {json.dumps(ticket)}}});</script>""",
                    unsafe_allow_javascript=True, width=1)


def _from_cookie(store: Store) -> Viewer | None:
    """The viewer this browser's sign-in cookie keeps signed in, read once per session; an expired, revoked or
    tampered cookie is cleared, with a sentence."""
    value = str(st.context.cookies.get(COOKIE_NAME) or "")
    if not value or st.session_state.get(KEY_COOKIE_READ) == value:
        return None
    st.session_state[KEY_COOKIE_READ] = value
    viewer = viewer_from_cookie(store, value)
    if viewer is None:
        st.session_state[KEY_COOKIE_CLEAR] = True
        st.sidebar.info("Your sign-in has ended (after 8 hours unused, a new password or signing out): sign in "
                        "again.")
        return None
    st.session_state[KEY_LOCAL] = True
    st.session_state.pop(KEY_COOKIE_AT, None)  # issued afresh at once: the 8 hours start again
    return viewer


def _keep_cookie(store: Store, viewer: Viewer) -> None:
    """Issue the sign-in cookie afresh when this session has not for COOKIE_REFRESH (so it expires 8 hours after the
    person last used the app, not after they signed in); clear it once signed out."""
    if st.session_state.pop(KEY_COOKIE_CLEAR, False) and not st.session_state.get(KEY_LOCAL):
        _send_cookie("", 0)
    if not st.session_state.get(KEY_LOCAL) or not viewer.email:
        return
    last: datetime | None = st.session_state.get(KEY_COOKIE_AT)
    if last is not None and _now() - last < COOKIE_REFRESH:
        return
    value = session_cookie(store, viewer.email)
    if value is not None:
        _send_cookie(value, int(COOKIE_LIFE.total_seconds()))
        st.session_state[KEY_COOKIE_AT] = _now()


def signed_in_viewer(store: Store) -> Viewer:
    """The signed-in viewer, or the public; draws the sign-in (or signed-in) box in the sidebar."""
    side = st.sidebar
    viewer: Viewer | None = st.session_state.get(KEY_SIGNED_IN)
    if viewer is None:  # a reload: the browser's sign-in cookie, if it has a valid one
        viewer = _from_cookie(store)
    if viewer is not None:  # as the store has it now: a removed account is signed out, a changed one updated
        viewer = current_viewer_of(store, viewer)
        if viewer is None:
            st.session_state.pop(KEY_SIGNED_IN, None)
            if st.session_state.pop(KEY_LOCAL, False):
                st.session_state[KEY_COOKIE_CLEAR] = True
            side.warning("Your account has been removed: ask your data manager if you still need one.")
        else:
            st.session_state[KEY_SIGNED_IN] = viewer
    _keep_cookie(store, viewer or PUBLIC)
    if viewer is None and _sso_configured() and st.user.is_logged_in:
        if str(st.user.get("email_verified", "")).strip().lower() == "false":
            # the identity provider has not checked that this person owns the address: it vouches for nothing
            side.warning("Your school account's email address is not verified, so it cannot be given a Jointly "
                         "role: ask your IT team.")
        else:
            viewer = viewer_for_email(store, str(st.user.get("email", "")))
            if viewer is None:
                side.warning("Your school account is signed in, but it has no Jointly role yet: ask your data "
                             "manager.")
        if viewer is None:  # signed in with the identity provider but not here: let them leave (shared computers)
            side.button("Sign out of your school account", key="sso_sign_out", on_click=st.logout)
            return PUBLIC
    if viewer is not None:
        # the name as written: escaped, so Markdown in a display name (or an email's autolink) does nothing
        side.markdown(f"Signed in as **{escape(viewer.name)}**")
        if side.button("Sign out", key="sign_out", on_click=_sign_out, args=(store,)) and _sso_configured():
            st.logout()
        return viewer
    with side.form("sign_in", clear_on_submit=False):
        st.markdown("**Staff sign in** (parents need no account)")
        email = st.text_input("Email", key=KEY_EMAIL)
        password = st.text_input("Password", type="password", key=KEY_PASSWORD)
        # a key of its own: on a fresh server the first run is Streamlit's pages/ mode and the next the router's, and a
        # button without a key changes its id between the two, so the first sign-in's click was lost (issue 12)
        submitted = st.form_submit_button("Sign in", key=KEY_SUBMIT)
    if submitted:
        found, message = sign_in(store, email, password, client=client_address())
        if found is None:
            side.error(message)
        else:
            st.session_state[KEY_SIGNED_IN] = found
            st.session_state[KEY_LOCAL] = True  # the next run issues the cookie that keeps them signed in
            st.session_state.pop(KEY_COOKIE_AT, None)
            st.rerun()
    if _sso_configured():
        side.button("Sign in with your school account", key="sso", on_click=st.login)
    return PUBLIC


def _sign_in_needed(title: str) -> Callable[[], None]:
    """A signed-out visitor's page at a staff page's address: says to sign in; once signed in, the same address
    (with its query: group, year, school) opens the page itself, as the navigation then has it."""

    def sign_in_needed() -> None:
        st.title(SIGN_IN_FIRST)
        st.caption(title)
        st.info("This page is for the schools' staff: sign in with your Jointly account in the sidebar (on a "
                "phone, open it with the arrow at the top left), and this page opens as soon as you are signed in.",
                icon=":material/lock:")
        st.markdown("Parents and visitors need no account: the results the schools publish are under **Results for "
                    "parents**.")

    return sign_in_needed


def sign_in_first(pages: Sequence[st.Page]) -> list[st.Page]:
    """Hidden pages for a signed-out visitor at each staff page's own address (not "/", the public's home): a deep
    link asks them to sign in there instead of showing Streamlit's "Page not found"."""
    return [st.Page(_sign_in_needed(page.title), title=page.title, url_path=page.url_path, visibility="hidden")
            for page in pages if page.url_path]
