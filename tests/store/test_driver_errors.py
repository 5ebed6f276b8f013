"""Driver errors never leave the store unwrapped: a bad question or a closed store is a titled StoreError, with
the driver's own text kept for the log (issue 12 point 6; the errors of issue 12 point 1's db/ package)."""

from __future__ import annotations

import duckdb
import pytest

from data.db.errors import QueryFailed, StoreError, StoreUnavailable
from data.db.store import Store


@pytest.mark.parametrize("read", [
    lambda s: s.query("SELEC 1"),
    lambda s: s.query_df("SELEC 1"),
    lambda s: s.query_df("SELEC 1", fast=True),
    lambda s: s.query("SELECT * FROM no_such_table"),
    lambda s: s.query("SELECT ?::INTEGER", ["not a number"]),
], ids=["query", "query_df", "query_df fast", "unknown table", "bad parameter"])
def test_a_question_the_store_cannot_run_is_a_titled_error(store: Store, read) -> None:  # issue 12 point 6
    with pytest.raises(StoreError) as raised:
        read(store)
    assert type(raised.value) is QueryFailed
    assert not isinstance(raised.value, duckdb.Error)
    assert raised.value.title == ("the store could not answer: it could not run the question (a fault in Jointly, "
                                  "not in your data)")
    assert raised.value.detail.split(":", 1)[0].endswith("Exception")  # the driver's words, for the log
    assert isinstance(raised.value.__cause__, duckdb.Error)


@pytest.mark.parametrize("read", [
    lambda s: s.query("SELECT count(*) FROM establishments"),
    lambda s: s.query_df("SELECT count(*) FROM establishments"),
    lambda s: s.query_df("SELECT count(*) FROM establishments", fast=True),
    lambda s: s.is_demo(),
], ids=["query", "query_df", "query_df fast", "is_demo"])
def test_a_closed_store_says_so(store: Store, read) -> None:  # issue 12 point 6
    store.close()
    with pytest.raises(StoreUnavailable) as raised:
        read(store)
    assert raised.value.title == "the store could not answer: it is closed; reload the page to open it again"
    assert "ConnectionException" in raised.value.detail


def test_a_cursor_read_is_wrapped_too(store: Store) -> None:  # issue 12 point 6
    with pytest.raises(QueryFailed), store.reading() as cur:
        cur.execute("SELECT * FROM no_such_table")
    store.close()
    with pytest.raises(StoreUnavailable), store.reading() as cur:
        cur.execute("SELECT 1")


def test_a_constraint_is_said_as_a_conflict(store: Store) -> None:  # issue 12 point 6
    store.query("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    store.query("INSERT INTO t VALUES (1)")
    with pytest.raises(QueryFailed) as raised:
        store.query("INSERT INTO t VALUES (1)")
    assert raised.value.title == ("the store could not answer: the change conflicts with what is stored already; "
                                  "nothing was changed")
