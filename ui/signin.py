"""Who is looking, on a real store: a signed-out visitor is the public; staff sign in with a local account
or, when configured, single sign-on (st.login), and the store maps the email to a role and scope.

The demo store keeps its "viewing as" selector (ui.context.viewer_selector) instead: it never appears once
real data is loaded.
"""

from __future__ import annotations

import os

import streamlit as st

from data.access import Role, Viewer
from data.accounts import current_viewer_of, sign_in, viewer_for_email
from data.store import Store
from ui.published import escape

KEY_SIGNED_IN = "_signed_in"
KEY_EMAIL = "signin_email"
KEY_PASSWORD = "signin_password"
PUBLIC = Viewer(Role.PUBLIC, None, "Parent or visitor")


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


def _sign_out() -> None:
    st.session_state.pop(KEY_SIGNED_IN, None)


def signed_in_viewer(store: Store) -> Viewer:
    """The signed-in viewer, or the public; draws the sign-in (or signed-in) box in the sidebar."""
    side = st.sidebar
    viewer: Viewer | None = st.session_state.get(KEY_SIGNED_IN)
    if viewer is not None:  # as the store has it now: a removed account is signed out, a changed one updated
        viewer = current_viewer_of(store, viewer)
        if viewer is None:
            st.session_state.pop(KEY_SIGNED_IN, None)
            side.warning("Your account has been removed: ask your data manager if you still need one.")
        else:
            st.session_state[KEY_SIGNED_IN] = viewer
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
        if side.button("Sign out", key="sign_out", on_click=_sign_out) and _sso_configured():
            st.logout()
        return viewer
    with side.form("sign_in", clear_on_submit=False):
        st.markdown("**Staff sign in** (parents need no account)")
        email = st.text_input("Email", key=KEY_EMAIL)
        password = st.text_input("Password", type="password", key=KEY_PASSWORD)
        submitted = st.form_submit_button("Sign in")
    if submitted:
        found, message = sign_in(store, email, password, client=client_address())
        if found is None:
            side.error(message)
        else:
            st.session_state[KEY_SIGNED_IN] = found
            st.rerun()
    if _sso_configured():
        side.button("Sign in with your school account", key="sso", on_click=st.login)
    return PUBLIC
