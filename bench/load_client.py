"""A browser tab without a browser, for the load benchmark: Streamlit 1.67's websocket protocol, spoken as the
frontend speaks it, with asyncio so that hundreds run in one process.

What the browser does, and so what this does:
- it loads "/" first (nginx's route cookie, Streamlit's XSRF cookie) and sends its cookies with the websocket;
- its first BackMsg is rerun_script with the address's query string and page name (no page hash yet);
- every run starts with a new_session message (the main script's hash) and re-sends every element; the navigation
  message lists the pages with their hashes; page_info_changed carries the address the run wrote;
- a widget change sends rerun_script with the state of every widget of the last run (the browser's widget manager
  holds one per mounted widget), the current page's hash, and the address with the bound widget's parameter
  rewritten (the browser rewrites a `bind="query-params"` parameter when its widget changes);
- a page change sends the page's hash, the states of the main script's widgets only (the sidebar the router
  draws), and the address keeping only the parameters bound to a widget;
- a run is over at script_finished, unless the script asked for another run (FINISHED_EARLY_FOR_RERUN).
Selectbox, multiselect, checkbox (st.toggle), slider and text input states are kept: the pages the benchmarks drive
have no other widget that holds a value a person changes there. Every run also counts the bytes the server sent
for it (what the websocket carried from sending the rerun to its end).
"""

from __future__ import annotations

import asyncio
import http.client
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ID_PREFIX = "$$ID-"  # Streamlit's generated element ids: "$$ID-<hash>-<user key>"
KEPT_KINDS = ("selectbox", "multiselect", "checkbox", "slider", "text_input")


@dataclass
class Widget:
    """One widget of the last run, as the browser's widget manager holds it: its id, options and value."""

    id: str
    kind: str
    key: str  # the user key (the id's suffix), "" for a widget without one
    options: tuple[str, ...]
    value: str | list[str] | bool | float | None
    query_param: str  # the URL parameter it is bound to, "" when none
    script_hash: str  # the script that drew it: the main script (the router's sidebar) or a page
    default: tuple[str, ...] = ()  # a multiselect's default choice (its labels)


@dataclass(frozen=True)
class RunResult:
    """One rerun as the person waiting sees it: seconds from sending to the run's end, and how it ended."""

    seconds: float
    outcome: str  # "ok", "exception" (an exception element was shown), "timeout", "disconnect"
    detail: str = ""
    received: int = 0  # bytes of the server's messages for this run (the websocket frames' payloads)


@dataclass
class _Run:
    done: asyncio.Future
    exceptions: list[str] = field(default_factory=list)
    widgets: dict[str, Widget] = field(default_factory=dict)
    received: int = 0


def _user_key(element_id: str) -> str:
    if element_id.startswith(ID_PREFIX):
        parts = element_id[len(ID_PREFIX):].split("-", 1)
        return parts[1] if len(parts) == 2 else ""
    return ""


def _widget(kind: str, proto, script_hash: str, known: Widget | None) -> Widget:  # noqa: ANN001 - a widget proto
    """The widget the browser would mount for `proto`: a value the server sets wins, else what the browser already
    held for this id, else the proto's default."""
    options = tuple(proto.options) if kind in ("selectbox", "multiselect") else ()
    if kind == "slider":  # one value (the benchmarks drive no range slider): the browser holds it as a number
        if proto.set_value:
            value = proto.value[0] if proto.value else None
        elif known is not None:
            value = known.value
        else:
            value = proto.default[0] if proto.default else None
    elif kind == "text_input":
        if proto.set_value:
            value = proto.value if proto.HasField("value") else None
        elif known is not None:
            value = known.value
        else:
            value = proto.default if proto.HasField("default") else None
    elif kind == "selectbox":
        if proto.set_value:
            value = proto.raw_value if proto.HasField("raw_value") else None
        elif known is not None:
            value = known.value
        else:
            value = options[proto.default] if proto.HasField("default") and proto.default < len(options) else None
    elif kind == "multiselect":
        if proto.set_value:
            value = list(proto.raw_values)
        elif known is not None:
            value = known.value
        else:  # the default is given as indices into the options
            value = [options[i] for i in proto.default if i < len(options)]
    else:
        value = proto.value if proto.set_value else (known.value if known else proto.default)
    default = tuple(options[i] for i in proto.default if i < len(options)) if kind == "multiselect" else ()
    return Widget(proto.id, kind, _user_key(proto.id), options, value, getattr(proto, "query_param_key", ""),
                  script_hash, default)


def _state(widget: Widget, value: object) -> WidgetState | None:
    """The widget's state as the browser sends it (None: a selectbox with nothing chosen sends none)."""
    state = WidgetState(id=widget.id)
    if widget.kind == "selectbox":
        if value is None:
            return None
        state.string_value = str(value)
    elif widget.kind == "multiselect":
        state.string_array_value.data.extend(list(value or []))
    elif widget.kind == "slider":
        if value is None:
            return None
        state.double_array_value.data.append(float(value))
    elif widget.kind == "text_input":
        if value is None:
            return None
        state.string_value = str(value)
    else:
        state.bool_value = bool(value)
    return state


def fetch_cookies(base_url: str, tls: ssl.SSLContext | None, timeout: float = 30) -> str:
    """GET "/" as a browser's first request does: the cookies it is given, as a Cookie header ("" when none)."""
    parts = urlsplit(base_url)
    conn = (http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=tls)
            if parts.scheme == "https" else http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout))
    try:
        conn.request("GET", "/")
        answer = conn.getresponse()
        answer.read()
        cookies = [value.split(";", 1)[0] for name, value in answer.getheaders() if name.lower() == "set-cookie"]
        return "; ".join(cookies)
    finally:
        conn.close()


class AppSession:
    """One websocket session, driven as a person drives a tab: open a page, change a selectbox, switch pages."""

    def __init__(self, base_url: str, *, tls: ssl.SSLContext | None = None, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.tls = tls
        self.timeout = timeout
        self.session_id = ""
        self.main_hash = ""
        self.page_hash = ""  # the page the last run showed
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.query = ""
        self.widgets: dict[str, Widget] = {}  # the last finished run's widgets, by id
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._run: _Run | None = None
        self._script_hash = ""  # the script drawing the current deltas (a delta's active_script_hash)

    async def open(self, query: str = "", page: str = "") -> RunResult:
        """Load the page at `page` (a url path, "" for the default page) with `query`, as a new tab does."""
        from websockets.asyncio.client import connect

        cookie = await asyncio.to_thread(fetch_cookies, self.base_url, self.tls)
        ws_url = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/_stcore/stream"
        self._ws = await connect(ws_url, origin=self.base_url, subprotocols=["streamlit"], max_size=None,
                                 additional_headers={"Cookie": cookie} if cookie else None, ssl=self.tls,
                                 open_timeout=self.timeout)
        self._reader = asyncio.create_task(self._read())
        self.query = query
        rerun = BackMsg()
        rerun.rerun_script.query_string = query
        rerun.rerun_script.page_name = page
        return await self._send(rerun)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    def widget(self, key: str) -> Widget | None:
        """The last run's widget with user key `key`."""
        return next((w for w in self.widgets.values() if w.key == key), None)

    async def change(self, key: str, value: object) -> RunResult:
        """Set the widget with user key `key` to `value` (an option's label for a selectbox), as a person does."""
        target = self.widget(key)
        if target is None:
            raise LookupError(f"the page has no widget with key {key!r}")
        rerun = BackMsg()
        client = rerun.rerun_script
        client.page_script_hash = self.page_hash
        for w in self.widgets.values():
            state = _state(w, value if w.id == target.id else w.value)
            if state is not None:
                client.widget_states.widgets.append(state)
        if target.query_param:
            params = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k != target.query_param]
            if value is not None:
                params.append((target.query_param, str(value)))
            self.query = urlencode(params)
        client.query_string = self.query
        target.value = value
        return await self._send(rerun)

    async def rerun(self) -> RunResult:
        """Run the page again with nothing changed, as the browser's Rerun (R) does: every widget's state as it is."""
        rerun = BackMsg()
        client = rerun.rerun_script
        client.page_script_hash = self.page_hash
        for w in self.widgets.values():
            if (state := _state(w, w.value)) is not None:
                client.widget_states.widgets.append(state)
        client.query_string = self.query
        return await self._send(rerun)

    async def go(self, path: str) -> RunResult:
        """Open another page from the navigation (its url path), as a click in the sidebar does."""
        if path not in self.pages:
            raise LookupError(f"the navigation has no page {path!r}: {sorted(self.pages)}")
        rerun = BackMsg()
        client = rerun.rerun_script
        client.page_script_hash = self.pages[path]
        bound = {w.query_param for w in self.widgets.values() if w.query_param}
        self.query = urlencode([(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k in bound])
        client.query_string = self.query
        for w in self.widgets.values():
            if w.script_hash == self.main_hash and (state := _state(w, w.value)) is not None:
                client.widget_states.widgets.append(state)
        return await self._send(rerun)

    async def _send(self, rerun: BackMsg) -> RunResult:
        loop = asyncio.get_running_loop()
        self._run = _Run(loop.create_future())
        started = time.perf_counter()
        try:
            await self._ws.send(rerun.SerializeToString())
            outcome, detail = await asyncio.wait_for(asyncio.shield(self._run.done), self.timeout)
        except TimeoutError:
            return RunResult(time.perf_counter() - started, "timeout", f"no script_finished in {self.timeout:.0f} s")
        except Exception as exc:  # noqa: BLE001 - the socket closed under us: the tab shows "connecting"
            return RunResult(time.perf_counter() - started, "disconnect", f"{type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - started
        if outcome in ("ok", "exception"):  # the browser mounts what the run drew, an error message and all
            self.widgets = self._run.widgets
        return RunResult(seconds, outcome, detail, self._run.received)

    async def _read(self) -> None:
        """Every message the server sends, noting what a browser would keep; ends the waiting run on its end."""
        try:
            async for raw in self._ws:
                message = ForwardMsg()
                message.ParseFromString(raw)
                if self._run is not None and not self._run.done.done():
                    self._run.received += len(raw)
                self._take(message)
        except Exception as exc:  # noqa: BLE001 - closed: a run still waiting ends as a disconnect
            self._end("disconnect", f"{type(exc).__name__}: {exc}")
            return
        self._end("disconnect", "the server closed the websocket")

    def _end(self, outcome: str, detail: str) -> None:
        run = self._run
        if run is not None and not run.done.done():
            run.done.set_result((outcome, detail))

    def _take(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        run = self._run
        if kind == "new_session":
            self.session_id = message.new_session.initialize.session_id
            self.main_hash = message.new_session.main_script_hash
            self.page_hash = message.new_session.page_script_hash
            if run is not None:
                run.widgets = {}  # a run re-sends every element; a run cut short for a rerun is replaced
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in message.navigation.app_pages}
            self.page_hash = message.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "delta" and run is not None and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            what = element.WhichOneof("type")
            if what == "exception":
                run.exceptions.append(f"{element.exception.type}: {element.exception.message}"[:300])
            elif what in KEPT_KINDS:
                proto = getattr(element, what)
                script_hash = message.metadata.active_script_hash or self.main_hash
                run.widgets[proto.id] = _widget(what, proto, script_hash, self.widgets.get(proto.id))
        elif kind == "script_finished" and run is not None:
            if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return  # the script asked for another run (st.rerun): the person still waits
            if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self._end("exception", "the script did not compile")
            elif run.exceptions:
                self._end("exception", run.exceptions[0])
            else:
                self._end("ok", "")
