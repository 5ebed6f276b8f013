"""Messages after a rerun: a change made in a form or a callback is said once, on the run that follows it.

A page that changes something keeps what happened with `flash(kind, text, items)` and reruns; where the page wants
it said, `show_flashed()` draws it and forgets it, so it never shows again. Texts are plain words (a name from a
file or a person among them): they are made inert here, never by the caller. A message kept on one page is never
shown on another (a page that stopped before saying it drops it when the next page runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from metrics.text import markdown_text

KEY_FLASHED = "_flashed"  # {(page, place): Flash}: what the next run of that page says there
PAGE = "page"  # the usual place: near the top of the page


class Kind(StrEnum):
    """What a message is: a change made, a change refused, or a remark."""

    SUCCESS = "success"
    ERROR = "error"
    INFO = "info"
    WARNING = "warning"


ICONS = {Kind.SUCCESS: ":material/check_circle:", Kind.ERROR: ":material/error:", Kind.INFO: ":material/info:",
         Kind.WARNING: ":material/warning:"}


@dataclass(frozen=True)
class Flash:
    """One message kept for the next run: a sentence, and the problems (or points) listed under it."""

    kind: Kind
    text: str
    items: tuple[str, ...] = ()

    def markdown(self) -> str:
        """The message as inert Markdown: the sentence, then one bullet per item."""
        said = markdown_text(self.text)
        if self.items:
            said += "\n\n" + "\n".join(f"- {markdown_text(item)}" for item in self.items)
        return said


def _page() -> str:
    """The running page's script hash: a message belongs to the page that kept it."""
    ctx = get_script_run_ctx()
    return ctx.pages_manager.current_page_script_hash if ctx is not None else ""


def flash(kind: Kind | str, text: str, items: Sequence[str] = (), *, place: str = PAGE) -> None:
    """Keep a message for this page's next run (after `st.rerun()`, or the run a callback precedes)."""
    flashed: dict[tuple[str, str], Flash] = st.session_state.setdefault(KEY_FLASHED, {})
    flashed[(_page(), place)] = Flash(Kind(kind), str(text), tuple(str(i) for i in items))


def show_flashed(place: str = PAGE) -> Flash | None:
    """Say the message kept for this place of this page, once, and forget it; drop any another page kept."""
    flashed: dict[tuple[str, str], Flash] = st.session_state.get(KEY_FLASHED, {})
    page = _page()
    for key in [k for k in flashed if k[0] != page]:
        del flashed[key]
    said = flashed.pop((page, place), None)
    if said is not None:
        draw = {Kind.SUCCESS: st.success, Kind.ERROR: st.error, Kind.INFO: st.info, Kind.WARNING: st.warning}
        draw[said.kind](said.markdown(), icon=ICONS[said.kind])
    return said
