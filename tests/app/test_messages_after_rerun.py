"""One helper says what a change did, once, on the rerun after it (issue 12 point 6): ui.messages.flash keeps the
message, show_flashed says it and forgets it. The Accounts, Groups and Publish pages hand-rolled it (each its own
session key and its own look: Accounts and Publish drew no icon), and the Measures and Data pages too."""

from __future__ import annotations

from pathlib import Path

from conftest import button, open_app
from streamlit.testing.v1 import AppTest

from metrics.text import WORD_JOINER


def _said(at: AppTest) -> list[tuple[str, str, str]]:
    """Every alert on the page: (kind, icon, words without markdown_text's escapes and word joiners)."""
    return [(kind, e.icon, e.value.replace("\\", "").replace(WORD_JOINER, ""))
            for kind in ("success", "error", "info", "warning") for e in getattr(at, kind)]


def test_the_groups_page_says_a_refusal_once(demo_db: Path) -> None:  # issue 12 point 6
    at = open_app("groups.py")
    at = button(at, "Create the group").click().run()  # no name given: refused
    assert not at.exception, at.exception
    errors = [s for s in _said(at) if s[0] == "error"]
    assert len(errors) == 1, errors
    assert errors[0][1] == ":material/error:" and errors[0][2].startswith("Nothing was changed: ")
    at.run()  # the next run (another widget, a rerun): said once, not again
    assert not at.exception, at.exception
    assert [s for s in _said(at) if s[0] == "error"] == []


def test_the_publish_page_says_a_withdrawal_once_with_its_icon(demo_db: Path) -> None:  # issue 12 point 6
    at = open_app("publish.py")
    withdraw = next(b for b in at.button if b.label.startswith("Withdraw version "))
    label = withdraw.label.removeprefix("Withdraw ")
    at = withdraw.click().run()  # a callback: the run after it says what it did
    assert not at.exception, at.exception
    said = f"Withdrawn: {label} is no longer shown to parents."
    assert ("success", ":material/check_circle:", said) in _said(at)  # Accounts and Publish drew no icon
    at.run()
    assert not at.exception, at.exception
    assert said not in [s[2] for s in _said(at)]


def _flashing_script() -> None:
    import streamlit as st

    from ui.messages import Kind, flash, show_flashed

    show_flashed()
    if st.button("Save"):
        flash(Kind.SUCCESS, "Saved *Oak* [Trust](http://evil.example).")
        st.rerun()


def test_a_flash_is_said_once_after_the_rerun_and_made_inert() -> None:  # issue 12 point 6
    at = AppTest.from_function(_flashing_script, default_timeout=30)
    at.run()
    assert not at.success
    at.button[0].click().run()  # the click's run keeps the message and reruns: the rerun says it
    assert [e.value for e in at.success] == [r"Saved \*Oak\* \[Trust\]\(http\:" + "\u2060" + r"\/\/evil\.example\)\."]
    at.run()
    assert not at.success
