"""One located problem serves validators and importers (issue 12 point 6): the measure definitions' validator, the
file reader and the importers all return metrics.problems.Problem (the validators build it in their argument order,
as Issue), located the same way, with a severity; and the store's errors are one titled family."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.db.errors import QueryFailed, StoreError, StoreUnavailable
from data.ingest.reading import FatalImportError, read_table
from data.ingest.reading import Problem as ReadingProblem
from data.services.access import AccessDenied
from data.services.group_admin import GroupChangeRefused
from metrics.problems import Issue, Problem, Severity
from metrics.validation import Issue as ValidationIssue
from metrics.validation import validate_definitions

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"


def test_validators_and_importers_share_one_problem_type() -> None:  # issue 12 point 6
    assert ReadingProblem is Problem
    assert ValidationIssue is Issue and issubclass(Issue, Problem)


def test_a_definitions_problem_and_a_files_problem_are_located_alike(tmp_path: Path) -> None:  # issue 12 point 6
    issues = validate_definitions([{"id": "Bad Id", "label": "x"}], source="form")
    assert issues and all(isinstance(i, Problem) and i.severity is Severity.ERROR for i in issues)
    first = next(i for i in issues if i.field == "id")
    assert (first.source, first.measure, first.column, first.line) == ("form", "Bad Id", "id", None)
    assert str(first).startswith("form, measure Bad Id, id: ")  # a definition's field, named bare

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("URN,NAME,NOR\n100001,Ash,200\n100002,Birch,150,extra,cells\n", encoding="utf-8")
    table = read_table(ragged)
    assert table.problems and all(isinstance(p, Problem) and p.severity is Severity.ERROR for p in table.problems)
    said = table.problems[0]
    assert (said.source, said.line) == ("ragged.csv", 3)
    assert str(said).startswith("ragged.csv, line 3: ")


def test_a_file_refused_whole_is_a_fatal_problem() -> None:  # issue 12 point 6
    with pytest.raises(FatalImportError) as refused:
        read_table(BAD / "utf16.csv")
    assert isinstance(refused.value.problem, Problem)
    assert refused.value.problem.severity is Severity.FATAL and refused.value.problem.fatal
    assert str(refused.value) == "utf16.csv: the file is UTF-16 text: save it as CSV (UTF-8) and import it again"


def test_the_two_renderings_differ_only_in_how_a_column_is_named() -> None:  # issue 12 point 6
    assert str(Problem("a.csv", "bad", 3, "NOR")) == "a.csv, line 3, column NOR: bad"
    assert str(Issue("form", "m", "polarity", 4, "bad")) == "form, line 4, measure m, polarity: bad"
    assert Issue("form", "m", "polarity", 4, "bad") == Issue("form", "m", "polarity", 4, "bad", page="other words")


def test_the_stores_errors_are_one_titled_family() -> None:  # issue 12 point 6
    for kind in (StoreUnavailable, QueryFailed, AccessDenied, GroupChangeRefused):
        assert issubclass(kind, StoreError)
    said = QueryFailed("the store could not answer", "ParserException: syntax error")
    assert (said.title, said.detail) == ("the store could not answer", "ParserException: syntax error")
