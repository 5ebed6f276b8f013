"""The one located problem: what is wrong with an input, and where, for validators and importers alike.

A DfE file's importer, an uploaded table's reader and the measure definitions' validator all return lists of
these (never raise on the first), so a person sees every problem at once. `source` is the file's name (or "form"
for a web form), `line` the file's line, `column` the file's column or the definition's field, `measure` the
definition it is about. A fatal problem means nothing at all was taken from the input. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much of the input a problem cost: one value or row (error), or the whole input (fatal)."""

    ERROR = "error"
    FATAL = "fatal"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can: "file, line 3, column NOR: message"."""

    source: str
    message: str
    line: int | None = None
    column: str | None = None
    fatal: bool = False
    measure: str | None = None
    page: str = dataclasses.field(default="", compare=False)  # the same problem in a web form's words

    @property
    def severity(self) -> Severity:
        return Severity.FATAL if self.fatal else Severity.ERROR

    @property
    def file(self) -> str:
        """The input's name (for an importer's problem, the file)."""
        return self.source

    @property
    def field(self) -> str | None:
        """The definition's field or the file's column the problem is in."""
        return self.column

    def _where_column(self) -> str:
        return f"column {self.column}"

    def for_cli(self) -> str:
        """The located message, for the command line and the file's owner."""
        return str(self)

    def for_page(self) -> str:
        """The message for a web page beside the form field it is about (the page names the field)."""
        return self.page or self.message[:1].upper() + self.message[1:]

    def __str__(self) -> str:
        where = [self.source]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.measure:
            where.append(f"measure {self.measure}")
        if self.column:
            where.append(self._where_column())
        return f"{', '.join(where)}: {self.message}"


class Issue(Problem):
    """A located problem built in the validators' order (source, measure, field, line, message): a definition's
    field is named bare ("form, measure x, polarity: ..."), where a file's column says "column"."""

    def __init__(self, source: str, measure: str | None, field: str | None, line: int | None, message: str,
                 page: str = "") -> None:
        super().__init__(source, message, line, field, False, measure, page)

    def _where_column(self) -> str:
        return str(self.column)

    def __repr__(self) -> str:
        return (f"Issue(source={self.source!r}, measure={self.measure!r}, field={self.column!r}, line={self.line!r}, "
                f"message={self.message!r})")
