"""ui.server.tcp_nodelay: the connections a server accepts on a socket it bound itself (as Streamlit 1.67 binds
its own) send each write at once. Without it every rerun waited ~40 ms for the browser's delayed acknowledgement."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import socket

from ui import server


async def _accepted_nodelay() -> int:
    """TCP_NODELAY of the connection a server accepts on a listening socket made as Streamlit makes it."""
    listener = socket.socket(family=socket.AF_INET)  # protocol number 0, as starlette_server._bind_socket
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    srv = await asyncio.start_server(accepted, sock=listener)
    async with srv:
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        value = await asyncio.wait_for(seen, 10)
        writer.close()
    return value


def test_accepted_connections_send_at_once() -> None:
    original = asyncio.base_events._set_nodelay
    try:
        # asyncio's own rule (set here: a test before may have run a server that put ours in) leaves Nagle's
        # algorithm on for such a socket: the reason for the fix
        asyncio.base_events._set_nodelay = server._asyncio_set_nodelay
        assert asyncio.run(_accepted_nodelay()) == 0
        server.tcp_nodelay()
        server.tcp_nodelay()  # idempotent
        assert asyncio.run(_accepted_nodelay()) == 1
    finally:
        asyncio.base_events._set_nodelay = original


def test_other_sockets_are_left_as_they_are() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        server._set_nodelay(udp)  # not TCP: nothing set, nothing raised
    with socket.socket(socket.AF_INET) as tcp:
        server._set_nodelay(tcp)
        assert tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


class _Gone:
    pass


def test_the_scan_for_the_server_survives_a_dead_weak_proxy_and_runs_once(monkeypatch) -> None:  # noqa: ANN001
    """install() looks for the running server's app among live objects: a weak proxy whose object is gone is among
    them (isinstance on it raised ReferenceError: the first AppTest run after some e2e tests), and the scan runs once
    per process (gc.get_objects at every rerun handed other threads' half-built tuples out)."""
    import gc
    import weakref

    obj = _Gone()
    dead = [weakref.proxy(obj)]
    del obj
    original = asyncio.base_events._set_nodelay
    scans = []
    real = gc.get_objects
    monkeypatch.setattr(server.gc, "get_objects", lambda: scans.append(1) or real())
    monkeypatch.setattr(server, "_scanned", False)
    monkeypatch.setattr(server, "_guards", 0)
    try:
        server.install()
        server.install()
    finally:
        asyncio.base_events._set_nodelay = original
    assert scans == [1]
    assert len(dead) == 1
