"""The Streamlit server's exposed surface: which sessions may upload, which endpoints answer, what headers go out.

Streamlit 1.67 serves over Starlette/uvicorn and accepts `PUT /_stcore/upload_file/<session>/<file>` from any live
session, whether or not its page has an uploader, keeping the bytes in memory up to server.maxUploadSize. `Guard`
is an ASGI middleware in front of Streamlit's routes that refuses such a PUT with 403 before a byte of the body is
read, unless this run of that session's page offered an uploader to a viewer allowed to use it (`open_uploads`).
It also answers 404 for `/_stcore/metrics`, adds the security headers to every HTTP response, and answers
`POST /_jointly/signin-cookie`, the one way the app sets its HttpOnly sign-in cookie (`offer_cookie`).

Two ways in, both idempotent: `serve.py` (the documented `streamlit run serve.py`) builds the server with `Guard`
from its very first request; `install()`, called by app.py on every run, wraps an already running server (plain
`streamlit run app.py`), which leaves unguarded only the moments before the first script run of a fresh server.
"""

from __future__ import annotations

import asyncio.base_events
import contextlib
import gc
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from ui.store import public_site

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The largest real DfE file the Data page takes is GIAS's all-establishments CSV (about 68 MB: 1,361 bytes a row
# in the real 20-row sample × ~50,000 establishments, open and closed); a national KS4 final file is about 13 MB.
# 100 MB fits it with room for growth; .streamlit/config.toml sets server.maxUploadSize to the same.
UPLOAD_CAP_MB = 100
# the multipart envelope around a file (boundary lines, headers with the file name)
MULTIPART_ALLOWANCE = 64 * 1024
# /_stcore/upload_file/<session id>/<file id>, after any server.baseUrlPath
UPLOAD_PATH = re.compile(r"/_stcore/upload_file/([^/]+)/[^/]+$")
# Streamlit's Prometheus counters (sessions, cache sizes) are for operators, never for visitors
HIDDEN_PATHS = ("/_stcore/metrics",)
# what docs/deploy.md asks of the proxy, where a header can come from the app itself; the full Content-Security-
# Policy (script and image sources) stays at the proxy, which knows the deployment's tile server
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
)

# The sign-in cookie (issue 11 point 6). A Streamlit script cannot send a Set-Cookie header, and a cookie set from
# JavaScript (document.cookie) could not be HttpOnly, so any script injected into the page could read it. Instead the
# script hands the cookie to this module under a one-use ticket (random, COOKIE_TICKET_LIFE seconds), and a line of
# JavaScript in the page POSTs the ticket here: the answer carries the Set-Cookie. Only the same origin can do it
# (it needs the COOKIE_HEADER header, which another site's page cannot send without a preflight this endpoint refuses,
# and a same-origin Origin when the browser sends one), and a ticket sets only the cookie the app chose.
COOKIE_ENDPOINT = "/_jointly/signin-cookie"
COOKIE_HEADER = b"x-jointly-cookie"
COOKIE_TICKET_LIFE = 60.0  # seconds: the page posts its ticket as soon as it is drawn
MAX_TICKETS = 10_000  # a bound on tickets waiting at once (the oldest go first)

_lock = threading.Lock()
_tickets: dict[str, tuple[float, str, str, int]] = {}  # ticket -> (monotonic deadline, name, value, max-age seconds)
_upload_caps: dict[str, int] = {}  # session id -> bytes its current page's uploader accepts
_opened_this_run: set[str] = set()  # sessions whose running script has called open_uploads
_guards = 0  # Guard instances built: one means the server is already guarded
_scanned = False  # install() has looked for the running server's app once (none found: AppTest, no server at all)


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else None


def open_uploads(max_mb: int) -> None:
    """Let this session upload files of up to `max_mb` MB until its next run: call it just before a file_uploader
    the viewer may use. Does nothing on a parents-only site, or outside a script run."""
    sid = _session_id()
    if sid is None or public_site():
        return
    with _lock:
        _upload_caps[sid] = min(max_mb, UPLOAD_CAP_MB) * 1024 * 1024
        _opened_this_run.add(sid)


@contextmanager
def upload_window() -> Iterator[None]:
    """Around one run of the page: afterwards, the session may upload only if this run opened uploads.

    Closing at the end of the run, not its start, keeps uploads open while the same page reruns (a PUT from the
    page's uploader may arrive while the script is still drawing); a run that ends by an exception (st.stop,
    st.rerun, a new rerun interrupting it) closes just the same. Ended sessions are forgotten here too."""
    sid = _session_id()
    if sid is not None:
        with _lock:
            _opened_this_run.discard(sid)
    try:
        yield
    finally:
        if sid is not None:
            with _lock:
                if sid not in _opened_this_run:
                    _upload_caps.pop(sid, None)
            _forget_ended_sessions()


def upload_cap(session_id: str) -> int | None:
    """The bytes `session_id` may upload in one file right now, or None when it may not upload at all."""
    if public_site():
        return None
    with _lock:
        return _upload_caps.get(session_id)


def _forget_ended_sessions() -> None:
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return
    runtime = Runtime.instance()
    with _lock:
        ended = [sid for sid in _upload_caps if not runtime.is_active_session(sid)]
        for sid in ended:
            del _upload_caps[sid]


def offer_cookie(name: str, value: str, max_age: int) -> str:
    """A one-use ticket that, POSTed to COOKIE_ENDPOINT within COOKIE_TICKET_LIFE seconds, sets cookie `name` to
    `value` for `max_age` seconds (0 with "" clears it). `name` and `value` are the app's own: letters, digits and
    `._-` only."""
    if not re.fullmatch(r"[A-Za-z0-9._-]*", name + value) or not name:
        raise ValueError("a cookie's name and value are letters, digits and . _ - only")
    ticket = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for old in [t for t, held in _tickets.items() if held[0] < now]:
            del _tickets[old]
        while len(_tickets) >= MAX_TICKETS:
            del _tickets[next(iter(_tickets))]
        _tickets[ticket] = (now + COOKIE_TICKET_LIFE, name, value, max(0, int(max_age)))
    return ticket


def _take_ticket(ticket: str) -> tuple[str, str, int] | None:
    """The cookie a ticket sets, once: None when it is unknown, used or out of time."""
    with _lock:
        held = _tickets.pop(ticket, None)
    if held is None or held[0] < time.monotonic():
        return None
    return held[1], held[2], held[3]


def set_cookie_header(scope: Scope, name: str, value: str, max_age: int) -> bytes:
    """The Set-Cookie for the app's cookie: HttpOnly, SameSite=Lax, for the app's path, Secure over https (the
    connection's scheme, or the X-Forwarded-Proto the documented nginx sets: claiming https wrongly only makes the
    browser keep the cookie from plain http)."""
    headers = dict(scope.get("headers", []))
    secure = scope.get("scheme") == "https" or headers.get(b"x-forwarded-proto", b"").lower() == b"https"
    path = _normal_path(scope.get("path", ""))[: -len(COOKIE_ENDPOINT)] or "/"
    return (f"{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax"
            + ("; Secure" if secure else "")).encode()


async def _cookie_answer(scope: Scope, receive: Receive, send: Send) -> None:
    """POST COOKIE_ENDPOINT with a ticket as the body: 204 with its Set-Cookie, else a refusal in words."""
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin")
    host = headers.get(b"host", b"")
    if scope.get("method") != "POST":
        await _refuse(scope, receive, send, 405, "Only the app's own page sets its sign-in cookie.")
        return
    if COOKIE_HEADER not in headers or (origin is not None and origin.split(b"//", 1)[-1] != host):
        await _refuse(scope, receive, send, 403, "Only the app's own page sets its sign-in cookie.")
        return
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        body += message.get("body", b"")
        if len(body) > 256 or not message.get("more_body", False):
            break
    cookie = _take_ticket(body.decode("ascii", "replace").strip()) if len(body) <= 256 else None
    if cookie is None:
        await _refuse(scope, receive, send, 403, "That sign-in has run out of time: sign in again.")
        return
    await send({"type": "http.response.start", "status": 204,
                "headers": [(b"set-cookie", set_cookie_header(scope, *cookie)), (b"cache-control", b"no-store"),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": b""})


def _normal_path(path: str) -> str:
    """The path as the router will match it: `//_stcore//metrics/` is still the metrics endpoint."""
    return "/" + "/".join(part for part in path.split("/") if part)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    """Send the refusal's status and headers at once, read and drop whatever body follows, then end the answer.

    Ending the answer first would not do: uvicorn closes a `Connection: close` request (as nginx sends them) the
    moment its answer is complete, the unread body resets the connection, and nginx then says 502 instead. Each
    chunk is dropped as it arrives (nothing is kept); past the largest upload the client is cut off. A client that
    asked to be told before sending (`Expect: 100-continue`) is not invited to send."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS]})
    if dict(scope.get("headers", [])).get(b"expect", b"").lower() != b"100-continue":
        dropped = 0
        while dropped <= UPLOAD_CAP_MB * 1024 * 1024 + MULTIPART_ALLOWANCE:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            dropped += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
    await send({"type": "http.response.body", "body": text.encode()})


class Guard:
    """ASGI middleware before Streamlit's own: refuses uploads the session may not make, hides the metrics
    endpoint, and adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        global _guards
        self.app = app
        _guards += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the websocket and lifespan pass untouched
            await self.app(scope, receive, send)
            return
        path = _normal_path(scope.get("path", ""))
        if path.endswith(HIDDEN_PATHS):
            await _refuse(scope, receive, send, 404, "Not found.")
            return
        if path.endswith(COOKIE_ENDPOINT):
            await _cookie_answer(scope, receive, send)
            return
        upload = UPLOAD_PATH.search(path)
        if upload is not None and scope.get("method") in ("PUT", "DELETE"):
            refusal = self._upload_refusal(scope, upload.group(1))
            if refusal is not None:
                await _refuse(scope, receive, send, *refusal)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in SECURITY_HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _upload_refusal(scope: Scope, session_id: str) -> tuple[int, str] | None:
        """(status, sentence) for an upload request to refuse before its body is read, or None to let it in."""
        cap = upload_cap(session_id)
        if cap is None:
            return 403, "Uploads are open only to signed-in staff on a page with an uploader."
        if scope.get("method") == "DELETE":
            return None
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is None:  # browsers always send one; without it the size is unknown until read
            return 411, "An upload must say its size (Content-Length)."
        try:
            size = int(length)
        except ValueError:
            return 400, "The upload's Content-Length is not a number."
        if size > cap + MULTIPART_ALLOWANCE:
            return 413, f"The file is larger than this page takes ({cap // (1024 * 1024)} MB)."
        return None


_router_only = False  # this process has switched Streamlit's pages/ folder mode off


def router_only() -> bool:
    """Never run a pages/ file as the app: Streamlit 1.67 does so (its old pages/ folder mode) until some session has
    called st.navigation, and widgets then change their ids between a fresh server's first run and the next, so the
    first sign-in's click was lost (issue 12). Every address then goes through the router in app.py; the pages' own
    hand_over() stays as the guard. True when the run calling it (the process's first) started in that mode: the
    caller reruns it, so no widget is drawn under two ids."""
    global _router_only
    from streamlit.runtime.pages_manager import PagesManager

    started_in_folder_mode = bool(PagesManager.uses_pages_directory) and not _router_only
    PagesManager.uses_pages_directory = False
    _router_only = True
    return started_in_folder_mode


_asyncio_set_nodelay = asyncio.base_events._set_nodelay  # type: ignore[attr-defined]  # asyncio's own rule, kept


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's own `_set_nodelay` (which every new TCP transport calls), for a socket of any protocol number."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        with contextlib.suppress(OSError):  # a socket the peer already closed: nothing to send on it anyway
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def tcp_nodelay() -> None:
    """Every connection the server accepts sends each write at once (TCP_NODELAY), as asyncio means it to.

    Why (issue 14, measured): Streamlit 1.67 binds its listening socket itself, `socket.socket(family)`, so the
    connections it accepts have protocol number 0, and asyncio sets TCP_NODELAY only on a socket whose number is
    IPPROTO_TCP. Nagle's algorithm then held each rerun's messages after the first small one (new_session) until the
    browser acknowledged it, and browsers delay that acknowledgement (40 ms on Linux, up to 200 ms on Windows): every
    rerun of every page waited ~40 ms doing nothing (an empty app's rerun: 44 ms; with this, 6 ms). The socket is
    bound before serve.py is imported, so the option goes on each connection as asyncio makes its transport, not on
    the listening socket. Idempotent; serve.py calls it before the server accepts anything."""
    asyncio.base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]


def install() -> None:
    """Put `Guard` in front of the running server's Starlette app, once (a server built by serve.py has it).

    `streamlit run app.py` builds its app before any script runs, so the app is found among live objects and its
    middleware stack wrapped; files an unguarded session uploaded before this moment are dropped."""
    tcp_nodelay()  # `streamlit run app.py`: the connections from now on
    if router_only():
        import streamlit as st  # (ui.server is imported by serve.py before any session: only here is it needed)

        st.rerun()  # `streamlit run app.py`: the first run started in the pages/ folder mode; rerun as the router
    global _scanned
    if _guards or _scanned:
        return
    from starlette.applications import Starlette
    from streamlit.runtime import Runtime

    with _lock:
        if _guards or _scanned:
            return
        # once per process: gc.get_objects() hands out tuples another thread is still building (CPython then fails
        # that thread with "bad argument to internal function", seen in a board report's thread under AppTest, where
        # there is no server and the scan used to run at every rerun)
        _scanned = True
        # by type, not isinstance: a weak proxy among them whose object is gone raises on isinstance
        apps = [obj for obj in gc.get_objects() if issubclass(type(obj), Starlette)]
        for app in apps:
            app.middleware_stack = Guard(app.middleware_stack or app.build_middleware_stack())
    if Runtime.exists():
        manager = Runtime.instance().uploaded_file_mgr
        for sid in list(getattr(manager, "file_storage", {})):
            if upload_cap(sid) is None:
                manager.remove_session_files(sid)
