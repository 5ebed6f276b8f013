"""`streamlit run`, with TCP_NODELAY on every connection the server accepts, as serve.py has it since issue 14's third
session (ui.server.tcp_nodelay): for the servers the benchmarks compare Jointly's with, the empty app (the floor)
and the code before, so that all of them send a rerun's messages as they are made.

    python bench/nodelay_run.py SCRIPT [streamlit run options]      # from the folder `streamlit run` would run in

Why: Streamlit 1.67 binds its listening socket with protocol number 0 and asyncio sets TCP_NODELAY only on sockets
numbered IPPROTO_TCP, so plain `streamlit run` holds every rerun's messages after the first until the client's
delayed acknowledgement (~40 ms on Linux): an empty app's rerun takes ~44 ms instead of ~6. The fix is written out
here, not imported from ui.server: the code before runs with its own ui package, which must not be this one's.
"""

from __future__ import annotations

import asyncio.base_events
import contextlib
import os
import socket
import sys


def _set_nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python bench/nodelay_run.py SCRIPT [streamlit run options]", file=sys.stderr)
        return 2
    asyncio.base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]
    sys.path[0] = os.getcwd()  # as `python -m streamlit run` has it: the folder it runs in, not bench/
    from streamlit.web.cli import main as streamlit

    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    return streamlit()


if __name__ == "__main__":
    raise SystemExit(main())
