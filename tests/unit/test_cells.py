"""Issue 14 point 4: value cells parsed a column at a time (data/ingest/cells.py) give exactly what RowReader gives one
cell at a time: the same observations, problems (text, line, column, order), notes and cells checked, on hostile
hand-made columns (DfE codes, grouped and percent numbers, blanks, junk, huge, negative and implausible numbers,
counts above their base) and on columns drawn at random from the same words."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.ingest.cells import ColumnReader, Deferred, parse_column
from data.ingest.formats import CellError, normalise_header, parse_cell
from data.ingest.reading import Problem, RawTable
from data.ingest.rows import Batch, Columns, RowReader
from metrics.registry import Status, load_registry

HEADER = ["pct", "cohort", "count", "score", "score_base", "score_sum", "ci_low", "ci_high", "part_a", "part_b",
          "base_a", "base_b", "money", "absence", "ratio", "ci2_low",
          "ci2_high"]
AT = {name: i for i, name in enumerate(HEADER)}

# Every kind of text a DfE value cell holds, and some no DfE file should (each one a case parse_cell decides)
HOSTILE = ["", " ", "c", "z", "x", "low", "u", "k", "C", "Z", "LOW", "SUPP", "SUPP!", "SUPPMAT", "NE", "NP", "NA",
           "NEW", "RE", "SP", "..", "LOWCOV", "1,234", "12,345,678", "45%", "58.8%", "100%", "101%", "£45,421",
           "£-5", "-£5", "£", "%", ",", "-3", "-0", "0", "0.0", "12", "12.5", "007", " 42 ", "\t7", "1e3", "junk",
           "12O", "lots", "inf", "nan", "NaN", "-inf", "9" * 20, "9" * 400, "1" * 15 + "." + "5" * 15,
           "1" * 16, "0." + "0" * 20 + "1", "20000", "20001", "-1", "101", "100", "99.99", "3,00", "+5", ".5", "5.",
           "1,234.5", "1_000", "\u0661\u0662", "\u00b2", "4503599627370497", "9007199254740993", "0.1", "0.2",
           "0.3", "1e-5", "-0.0", "90", "90.5", "5", "-5", "5.01", "-30.5", "120", "79", "2000", "2001", "250"]
PLAIN = ["0", "1", "2", "3", "5", "10", "12", "20", "25", "30", "45", "49", "50", "60", "75", "99", "100", "150", "180",
         "12.5", "0.3", "0.1", "33.3", "3.1", "-1.2", "1.5", "4.7", "68.9", "104", "1500", "2.25"]


def _table(rows: list[list[str]]) -> RawTable:
    return RawTable(path=Path("hostile.csv"), encoding="utf-8", header=list(HEADER),
                    columns=[normalise_header(h) for h in HEADER], rows=[tuple(r) for r in rows],
                    lines=[i + 2 for i in range(len(rows))])


def _located() -> list[Columns]:
    """Measures of every shape the readers build: a rate with its count and cohort, a score with its interval, rates
    derived from summed parts or from a cohort, a count that is its own base, money, a rate on the scale of 1."""
    r = load_registry()

    def cols(measure: str, value: str | None, cohort: str | None = None, numerator: tuple[str, ...] = (),
             denominator: tuple[str, ...] = (), ci: tuple[str, str] | None = None) -> Columns:
        return Columns(measure=r.get(measure), value=AT[value] if value else None,
                       cohort=AT[cohort] if cohort else None, numerator=tuple(AT[n] for n in numerator),
                       denominator=tuple(AT[d] for d in denominator), ci_low=AT[ci[0]] if ci else None,
                       ci_high=AT[ci[1]] if ci else None)

    return [
        cols("basics_94", "pct", "cohort", ("count",)),
        cols("progress8", "score", "score_base", ("score_sum",), ci=("ci_low", "ci_high")),
        cols("attainment8", "score", "cohort", ("score_sum",)),
        cols("ks4_cohort", "cohort"),  # the cohort column read again as a value: counted and reported once
        cols("basics_95", None, None, ("part_a", "part_b"), ("base_a", "base_b")),  # derived from summed parts
        cols("ebacc_entry", None, "cohort", ("count",)),  # derived from a count over the cohort
        cols("ks2_writing_progress", None, "score_base", ("score_sum",), ci=("ci2_low", "ci2_high")),  # an interval
        cols("teacher_salary", "money"),
        cols("overall_absence", "absence", None, ("count",), ("base_a",)),
        cols("pupil_teacher_ratio", "ratio", ci=("ci_low", "ci_high")),
        cols("ks2_reading_progress", "score", None, (), (), ("ci_low", "ci_high")),
    ]


def _row_by_row(table: RawTable, located: list[Columns], asks: list[tuple[int, bool | None]]) -> tuple:
    """The reference: RowReader.observation for each asked row and measure, in the file's order. `asks` gives each
    row's school flag, or None for a row skipped with a problem."""
    batch = Batch()
    reader = RowReader(table, batch)
    out = []
    for pos, school in asks:
        line = table.lines[pos]
        if school is None:
            batch.problems.append(Problem(table.path.name, "row skipped", line, "urn"))
            continue
        for cols in located:
            obs = reader.observation(cols, table.rows[pos], line, school=school)
            out.append(("school" if school else "la", pos, cols.measure.id, "2024/25", *obs))
    return out, batch.problems, batch.notes, batch.cells_checked


def _column_wise(table: RawTable, located: list[Columns], asks: list[tuple[int, bool | None]]) -> tuple:
    batch = Batch()
    deferred = Deferred(table, batch, RowReader(table, batch), located)
    for pos, school in asks:
        if school is None:
            deferred.problem(pos, Problem(table.path.name, "row skipped", table.lines[pos], "urn"))
            continue
        deferred.ask(pos, ("school" if school else "la", pos), "2024/25", school=school)
    return deferred.answer(), batch.problems, batch.notes, batch.cells_checked


def _same(rows: list[list[str]], flags: list[bool | None] | None = None) -> None:
    table = _table(rows)
    located = _located()
    asks = [(i, True if flags is None else flags[i]) for i in range(len(rows))]
    before, after = _row_by_row(table, located, asks), _column_wise(table, located, asks)
    # the same numbers bit for bit: == says 0.0 == -0.0 and nan != nan (the row reader keeps 0 x inf's nan on an LA
    # row), and the tuples must hold Python's own floats and None
    assert [[(type(v), repr(v)) for v in t] for t in after[0]] == [[(type(v), repr(v)) for v in t] for t in before[0]]
    assert after[1:] == before[1:]


def _plausible_row(rng: random.Random) -> list[str]:
    cohort = rng.randint(1, 300)
    count = rng.randint(0, cohort)
    return [f"{count / cohort * 100:.1f}", str(cohort), str(count), f"{rng.uniform(-3, 3):.2f}", str(cohort),
            f"{rng.uniform(-300, 300):.2f}", "-0.5", "0.5", str(count // 2), str(count - count // 2), str(cohort // 2),
            str(cohort - cohort // 2), f"{rng.randint(20000, 60000):,}", f"{rng.uniform(0, 20):.1f}",
            f"{rng.uniform(5, 30):.1f}", "-1.5", "2.5"]


def test_each_distinct_text_reads_as_parse_cell_reads_it() -> None:
    import numpy as np

    texts = np.asarray(HOSTILE + PLAIN, dtype=object)
    value, odd, coded, status, code, shared = parse_column(texts)
    for i, text in enumerate(texts):
        try:
            c = parse_cell(text)
        except CellError:
            assert odd[i] and status[i] is None, text
            continue
        assert status[i] == c.status.value and code[i] == c.code, text
        assert coded[i] == (c.status is not Status.OK and bool(c.code)), text
        if c.status is Status.OK:
            assert (repr(float(value[i])), repr(shared[i])) == (repr(c.value), repr(c.value)) or odd[i], text
            assert type(shared[i]) is float, text
        else:
            assert np.isnan(value[i]) and shared[i] is None, text


def test_hostile_cells_in_every_column_read_as_row_by_row() -> None:
    rng = random.Random(14)
    rows = []
    for i, text in enumerate(HOSTILE):  # each hostile text in each column, on an otherwise plausible row
        for col in range(len(HEADER)):
            row = _plausible_row(rng)
            row[(col + i) % len(HEADER)] = text
            rows.append(row)
    rows += [_plausible_row(rng) for _ in range(200)]
    _same(rows)
    _same(rows, [None if i % 7 == 3 else i % 3 != 0 for i in range(len(rows))])  # LA rows: no plausibility check


def test_counts_above_their_base_and_implausible_bases_read_as_row_by_row() -> None:
    rng = random.Random(4)
    rows = []
    for _ in range(60):
        row = _plausible_row(rng)
        cohort = int(row[AT["cohort"]])
        row[AT["count"]] = str(cohort + rng.randint(1, 50))  # a count above its base: flagged or noted
        if rng.random() < 0.5:
            row[AT["pct"]] = rng.choice(["", "0", "z", "c", row[AT["pct"]]])
        row[AT["part_a"]] = str(cohort * 2)
        if rng.random() < 0.3:
            row[AT["cohort"]] = rng.choice(["20001", "1" * 15, "-4", "0", "1e3", "£5", "15,000"])
        if rng.random() < 0.3:
            row[AT["base_a"]] = rng.choice(["0", "-0", "z", "x", "SUPP", "NE", "1,000,000"])
        rows.append(row)
    _same(rows)
    _same(rows, [bool(i % 2) for i in range(len(rows))])


def test_a_cell_junk_on_many_rows_is_reported_on_each_in_order() -> None:
    rng = random.Random(9)
    rows = [_plausible_row(rng) for _ in range(50)]
    for i in range(0, 50, 3):
        rows[i][AT["ci_low"]] = "junk"
        rows[i][AT["score"]] = rng.choice(["z", "12O", "9" * 400, "6"])  # a derived path, junk, infinity, implausible
    _same(rows)


def test_no_rows_and_no_asks() -> None:
    _same([])
    rng = random.Random(1)
    _same([_plausible_row(rng) for _ in range(5)], [None] * 5)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(HOSTILE + PLAIN * 3), min_size=len(HEADER), max_size=len(HEADER)),
                max_size=25),
       st.lists(st.sampled_from([True, True, False, None]), min_size=25, max_size=25))
def test_random_columns_read_as_row_by_row(rows: list[list[str]], flags: list[bool | None]) -> None:
    _same(rows, flags[: len(rows)])


@pytest.mark.parametrize("text", ["12", "z", "junk", "20001"])
def test_one_column_reader_parses_a_column_once(text: str) -> None:
    """A column feeding several measures is parsed once (its distinct texts), whatever reads it."""
    table = _table([[text] * len(HEADER)] * 4)
    reader = ColumnReader(table)
    assert reader.parsed(AT["cohort"]) is reader.parsed(AT["cohort"])
