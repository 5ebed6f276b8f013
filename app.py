"""Jointly: balanced scorecards for groups of schools. The router (ui.router) runs the page for the viewer.

The page scripts live in pages/ (ui.router.hand_over: a page run directly by a deep link hands over to the router).
"""

from __future__ import annotations

from ui.router import route

route()
