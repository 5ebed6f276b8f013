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
