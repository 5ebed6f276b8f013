"""The store's errors: one titled family, so a page shows words and the log keeps the driver's own.

Every error the data layer raises on purpose is a StoreError: `title` is a sentence for the person in front of
the page or the command line, `detail` is the raw text (a driver message, a path) for the log. Subclasses exist
only where a caller must tell them apart: the store cannot be reached at all (StoreUnavailable), or the
database refused a statement (QueryFailed). A driver error never leaves data/db unwrapped.
"""

from __future__ import annotations

import duckdb


class StoreError(Exception):
    """A store problem said in words: `title` for people, `detail` for the log."""

    def __init__(self, title: str, detail: str = "") -> None:
        super().__init__(title if not detail else f"{title} ({detail})")
        self.title = title
        self.detail = detail


class StoreUnavailable(StoreError):
    """The store cannot be reached: it is closed, missing, or held by another program."""


class QueryFailed(StoreError):
    """The database refused a read or a write: a statement it could not run, or data it would not take."""


def driver_error(exc: duckdb.Error, what: str = "the store could not answer") -> StoreError:
    """A DuckDB error as a titled StoreError: which kind it is in words, the driver's text kept as `detail`.

    `what` names the operation for the title ("the store could not answer"); the driver's message never becomes
    the title, because it can carry SQL and file paths that mean nothing to a governor.
    """
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, duckdb.ConnectionException):
        return StoreUnavailable(f"{what}: it is closed; reload the page to open it again", detail)
    if isinstance(exc, duckdb.IOException):
        return StoreUnavailable(f"{what}: its file could not be read", detail)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return QueryFailed(f"{what}: the question needed more memory than the server has", detail)
    if isinstance(exc, duckdb.InterruptException):
        return QueryFailed(f"{what}: the question was stopped before it finished", detail)
    if isinstance(exc, duckdb.ConstraintException):
        return QueryFailed(f"{what}: the change conflicts with what is stored already; nothing was changed", detail)
    return QueryFailed(f"{what}: it could not run the question (a fault in Jointly, not in your data)", detail)
