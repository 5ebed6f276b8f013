"""A visitor without a browser, as an attacker scripts one: a live Streamlit session over the websocket, and PUTs
to the upload endpoint with a self-made XSRF cookie and token (the check only compares the two). Also the server's
memory, read from /proc. Shared by tests/e2e/test_server_hardening.py and bench/bench_upload_flood.py."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from serving import ROOT, running_server  # noqa: F401 - running_server: shared with the tests and the bench
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


class Visit:
    """One websocket session, as a browser tab holds it: its id, and reruns on any page with any query string."""

    def __init__(self, ws) -> None:  # noqa: ANN001 - a websockets ClientConnection
        self.ws = ws
        self.session_id = ""
        self._finished = threading.Event()  # no run of ours is going
        self._finished.set()
        self._closed = threading.Event()

    def run(self, query: str = "", page: str = "", *, wait: bool = True, timeout: float = 60) -> None:
        """Ask for a run of `page` (a url path; "" is the default page), after any run still going has finished,
        and (with `wait`) wait until this one has finished."""
        if not self._finished.wait(timeout):
            raise AssertionError(f"the previous run did not finish in {timeout} s")
        rerun = BackMsg()
        rerun.rerun_script.query_string = query
        rerun.rerun_script.page_name = page
        self._finished.clear()
        self.ws.send(rerun.SerializeToString())
        if wait and not self._finished.wait(timeout):
            raise AssertionError(f"the run of {page or 'the default page'} did not finish in {timeout} s")

    def read(self) -> None:
        """Read every message the server sends (so it never waits on a full socket), noting finished runs."""
        while not self._closed.is_set():
            try:
                raw = self.ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - the socket closed: nothing left to read
                return
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                self.session_id = message.new_session.initialize.session_id
            elif kind == "script_finished" and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._finished.set()


@contextmanager
def anonymous_session(url: str, query: str = "", page: str = "", *, cookie: str = "") -> Iterator[Visit]:
    """Open a websocket session as a visitor would and ask for a first run; yields as soon as the server has named
    the session (the run still going), and keeps it open until the block ends. `cookie` ("name=value"): sent with
    the websocket's opening request, as a browser sends its cookies (e.g. a signed-in person's sign-in cookie)."""
    from websockets.sync.client import connect

    ws_url = url.replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
    tls = {"ssl": unverified_tls()} if url.startswith("https://") else {}
    headers = {"Cookie": cookie} if cookie else None
    with connect(ws_url, origin=url, subprotocols=["streamlit"], max_size=None, additional_headers=headers,
                 **tls) as ws:
        visit = Visit(ws)
        reader = threading.Thread(target=visit.read, daemon=True)
        reader.start()
        visit.run(query, page, wait=False)
        deadline = time.time() + 30
        while not visit.session_id and time.time() < deadline:
            time.sleep(0.01)
        assert visit.session_id, "the server never named the session"
        try:
            yield visit
        finally:
            visit._closed.set()
            reader.join(2)


def multipart(data: bytes, filename: str = "school_values.csv") -> tuple[bytes, str]:
    """A browser's upload body for one file: (body, content type)."""
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def put_upload(url: str, session_id: str, body: bytes, content_type: str) -> tuple[int, bool]:
    """PUT one file to Streamlit's upload endpoint for `session_id`, as its uploader would, over plain HTTP:
    (the status, whether the server answered before a byte of the body was sent).

    The headers go first and the server gets five seconds to answer; then the whole body is sent regardless, as an
    attacker would, and the answer read."""
    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    token = generate_xsrf_token_string()
    parts = urlsplit(url)
    head = (f"PUT /_stcore/upload_file/{session_id}/{uuid.uuid4().hex} HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"X-Xsrftoken: {token}\r\nCookie: _streamlit_xsrf={token}\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=120) as sock:
        sock.sendall(head)
        sock.settimeout(5.0)  # a server busy with a first run still answers well within this
        try:
            answer = sock.recv(65536)
        except TimeoutError:
            answer = b""
        early = bool(answer)
        sock.settimeout(120)
        try:
            sock.sendall(body)
        except OSError:  # the server stopped reading part-way
            pass
        while b"\r\n" not in answer:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
        return _status(answer), early


def _status(answer: bytes) -> int:
    """The status code of a raw HTTP answer (0 when the connection closed without one)."""
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else 0


def unverified_tls() -> ssl.SSLContext:
    """TLS that takes a test's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def rss_mb(pid: int) -> float:
    """The process's resident memory now, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


ADMIN_EMAIL = "data.manager@example.org"


def real_copy_with_admin(demo_db: Path, folder: Path) -> tuple[Path, str]:
    """A copy of a demo store made real (the demo takes no real files and its Data page has no uploader, issue 11
    point 3), with an admin account: (its path, the admin's sign-in cookie as "name=value"). The cookie is made
    before a server holds the store, as the app makes it when the admin signs in."""
    from data.db.store import Store
    from data.services.accounts import COOKIE_NAME, add_user, session_cookie

    db = folder / "real.duckdb"
    db.write_bytes(demo_db.read_bytes())
    with Store(db) as s:
        s.set_setting("demo", "false", actor="test")
        assert add_user(s, "test", email=ADMIN_EMAIL, role="admin", password="admin-password-123") == []
        return db, f"{COOKIE_NAME}={session_cookie(s, ADMIN_EMAIL)}"
