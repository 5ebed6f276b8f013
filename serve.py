"""Jointly's server: `streamlit run serve.py` runs app.py behind ui.server.Guard from the server's first request.

Streamlit finds `app` (an st.App) here and serves it with uvicorn; every `--server.*` flag and .streamlit/
config.toml apply as for `streamlit run app.py`. Run plain app.py only for development: it installs the same guard
at its first script run, which leaves the instants before that unguarded.
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from ui.server import Guard, router_only, tcp_nodelay

router_only()  # before the first request: a deep link runs app.py (the router), never a pages/ file straight
tcp_nodelay()  # before the first connection: a rerun's messages go out as they are made, not 40 ms later
app = st.App("app.py", middleware=[Middleware(Guard)])
