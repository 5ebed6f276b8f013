"""A driver error reaches a page as words, never as a traceback (issue 12 point 6): the app's store closed under
it (a connection a snapshot swap or a shutdown closed) shows a sentence, never a traceback."""

from __future__ import annotations

from conftest import open_app

from ui import store as ui_store


def test_a_closed_store_is_said_on_the_page(demo_db) -> None:  # issue 12 point 6
    at = open_app("school_scorecard.py")
    ui_store.get_store().close()  # the process's store, as every session shares it
    at.run()
    assert not at.exception, at.exception
    said = [e.value.replace("\\", "") for e in at.error]  # markdown_text escapes the full stop
    # the results' words when DuckDB is asked first ("The store could not answer: it is closed; reload the page to
    # open it again."), the state store's when it is: one sentence either way, and the driver's text in the log
    assert len(said) == 1 and "closed" in said[0], said
    assert "Traceback" not in said[0] and "Error" not in said[0]
