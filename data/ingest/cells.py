"""Value cells parsed a column at a time (issue 14 point 4): what `rows.RowReader.observation` gives one cell at a
time, computed over whole columns with numpy for every row whose outcome the column rules decide alone.

A column is parsed once, when a measure first reads it: its distinct texts are found (pandas.factorize), the plain
numbers among them ("-12.5") matched and converted together, and every other distinct text (blank, DfE's codes such
as c, z, x, low, SUPP, NE, "1,234", "45%", "£5", junk) read by `formats.parse_cell`, so a text costs one call however
many cells hold it. A measure's value, numerator, denominator and interval then follow for all its rows at once, by
`observation`'s rules with the same arithmetic in the same order.

A row the column rules cannot decide alone is *odd*: a junk cell, a base or value outside its plausible range, a count
above its base, a number too large to be finite, a sum of parts that is not exact in every order. The caller reads
odd rows with `RowReader`, one by one in the file's order, so their problems, notes and order are the row reader's;
every other row yields no problem and no note, which is what lets its cells be done column-wise. Marking a row odd is
always safe (the row reader then decides it), so the rules below may over-mark but must never under-mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

import numpy as np
import pandas as pd

from data.ingest.formats import Cell, CellError, parse_cell
from data.ingest.reading import Problem, RawTable
from data.ingest.rows import PLAUSIBLE_BY_MEASURE, PLAUSIBLE_BY_UNIT, Batch, Columns, RowReader
from metrics.registry import Status

# A number parse_cell would read with float() alone: ASCII digits, an optional minus and decimals, short enough that
# the float is finite and its text holds no grouping, symbol or space (anything else goes through parse_cell)
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
# Integers up to this add up exactly whatever the order (Python 3.12's sum() compensates; numpy adds left to right)
_EXACT_SUM = 2.0 ** 52
_OK = Status.OK.value
_MISSING = Status.MISSING.value


def distinct(table: RawTable, idx: int) -> tuple[np.ndarray, np.ndarray]:
    """(for each row, the position of its text among the column's distinct texts; those texts, first seen first).

    The positions are 32-bit: a column holds fewer distinct texts than a file (400 MB) has rows."""
    texts = np.fromiter(map(itemgetter(idx), table.rows), dtype=object, count=len(table.rows))
    codes, uniques = pd.factorize(texts)
    return codes.astype(np.int32), uniques


@dataclass(frozen=True)
class Parsed:
    """One value column parsed: each row's distinct text, and per distinct text what parse_cell makes of it."""

    at: np.ndarray  # per row: its text's position among the distinct texts
    texts: np.ndarray  # the distinct texts
    value: np.ndarray  # per text: the number, NaN when the cell is no number (a code, a blank, junk)
    odd: np.ndarray  # per text: junk (a located problem) or a number too large to be finite
    coded: np.ndarray  # per text: a DfE code (status not ok, the file's code kept): what _reason reports
    status: np.ndarray  # per text: Status value; None for junk
    code: np.ndarray  # per text: the file's own code, else None
    objects: np.ndarray  # per text: its number as one Python float every row holding it shares, else None

    def number(self, at: np.ndarray) -> np.ndarray:
        """The numbers of these rows (NaN for no number)."""
        return self.value[self.at[at]]


def parse_column(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, odd, coded, status, code, objects) of each distinct text: plain numbers matched together and read by
    float() (what parse_cell does with them), the rest by parse_cell one distinct text at a time."""
    n = len(texts)
    value = np.full(n, np.nan)
    status = np.full(n, _OK, dtype=object)
    code = np.full(n, None, dtype=object)
    bad = np.zeros(n, bool)
    coded = np.zeros(n, bool)
    # matched in Python, one distinct text at a time: any text (a lone surrogate, a NUL) is a str it can match
    plain = np.fromiter((_PLAIN_NUMBER.fullmatch(t) is not None for t in texts), dtype=bool, count=n)
    value[plain] = np.fromiter(map(float, texts[plain]), dtype=np.float64, count=int(plain.sum()))
    for i in np.nonzero(~plain)[0]:  # blanks, codes, "1,234", "45%", junk: each distinct text once, by the one parser
        try:
            c = parse_cell(texts[i])
        except CellError:
            bad[i], status[i] = True, None
            continue
        status[i], code[i] = c.status.value, c.code
        coded[i] = c.status is not Status.OK and bool(c.code)
        if c.status is Status.OK:
            value[i] = c.value
    with np.errstate(invalid="ignore"):
        odd = bad | ((status == _OK) & ~np.isfinite(value))
    return value, odd, coded, status, code, objects(None if v != v else v for v in value.tolist())


@dataclass(frozen=True)
class Observed:
    """One measure's (value, numerator, denominator, ci_low, ci_high, status, code) on the rows asked, as arrays.

    A field read straight from a cell (the value, the interval) is kept as its column's shared objects, as the row
    reader's cached cells share them; a computed one (numerator, denominator, a derived value) as floats."""

    at: np.ndarray  # the table's row positions
    value: np.ndarray  # floats, NaN for none
    value_objects: np.ndarray | None  # the value cells' objects; None for a derived value (from `value`)
    numerator: np.ndarray
    denominator: np.ndarray
    denominator_objects: np.ndarray | None  # the cohort cells' objects where the denominator is the cohort
    ci_low: np.ndarray  # objects: a float or None
    ci_high: np.ndarray
    status: np.ndarray
    code: np.ndarray

    def columns(self, keep: np.ndarray) -> list[Sequence[object]]:
        """The seven fields of the rows where `keep`, with None for no number (the tuples' order and objects)."""
        value = self.value_objects[keep] if self.value_objects is not None else floats(self.value[keep])
        denominator = self.denominator_objects[keep] if self.denominator_objects is not None else \
            floats(self.denominator[keep])
        return [value, floats(self.numerator[keep]), denominator, self.ci_low[keep],
                self.ci_high[keep], self.status[keep], self.code[keep]]


def floats(a: np.ndarray) -> np.ndarray:
    """Python floats, None where NaN (no number): what RowReader puts in an observation's tuple (as objects; no float
    is made for a NaN, so none is made to be freed)."""
    out = np.full(len(a), None, dtype=object)
    number = ~np.isnan(a)
    out[number] = a[number]  # into an object array: Python floats
    return out


class ColumnReader:
    """observation() for whole columns: each measure's fields over many rows at once; rows it cannot decide are odd."""

    def __init__(self, table: RawTable) -> None:
        self.table = table
        self.n = len(table.rows)
        self._parsed: dict[int, Parsed] = {}
        self.odd = np.zeros(self.n, bool)  # rows for RowReader
        self._read: dict[int, np.ndarray] = {}  # per column: the rows whose cell of it an observation reads

    def parsed(self, idx: int) -> Parsed:
        if idx not in self._parsed:
            at, texts = distinct(self.table, idx)
            self._parsed[idx] = Parsed(at, texts, *parse_column(texts))
        return self._parsed[idx]

    def _cells(self, idx: int, at: np.ndarray, when: np.ndarray | None, odd: np.ndarray) -> Parsed:
        """Column idx on rows `at`, read where `when` (all: None); junk on those rows makes them odd."""
        p = self.parsed(idx)
        odd |= p.odd[p.at[at]]  # junk anywhere the measure may read: over-marking is safe
        read = self._read.setdefault(idx, np.zeros(self.n, bool))
        read[at if when is None else at[when]] = True
        return p

    def _total(self, idxs: tuple[int, ...], at: np.ndarray, odd: np.ndarray) -> np.ndarray:
        """RowReader.total: the parts' sum, NaN when a part is no number (or there are no parts)."""
        if not idxs:
            return np.full(len(at), np.nan)
        parts = [self._cells(i, at, None, odd).number(at) for i in idxs]
        out = parts[0] + 0.0  # float(sum([p])) is 0 + p: -0.0 becomes 0.0
        if len(parts) > 1:
            for p in parts[1:]:
                out = out + p
            with np.errstate(invalid="ignore"):
                # only integers this small add up the same in any order; other sums are the row reader's to do
                inexact = ~np.isnan(out) & ~np.all([(p == np.round(p)) & (np.abs(p) < _EXACT_SUM) for p in parts],
                                                   axis=0)
            odd |= inexact | (~np.isnan(out) & (np.abs(out) >= _EXACT_SUM))
        return out

    def observe(self, cols: Columns, at: np.ndarray, *, school: bool = True) -> Observed:
        """RowReader.observation(cols, row, line, school=school) for the rows at these positions; odd rows marked."""
        m = cols.measure
        n = len(at)
        odd = np.zeros(n, bool)
        if cols.value is not None:
            vp = self._cells(cols.value, at, None, odd)
            vat = vp.at[at]
        cohort = (self._cells(cols.cohort, at, None, odd).number(at) if cols.cohort is not None
                  else np.full(n, np.nan))
        numerator = self._total(cols.numerator, at, odd)
        denominator = self._total(cols.denominator, at, odd) if cols.denominator else cohort
        has_num, has_den = ~np.isnan(numerator), ~np.isnan(denominator)
        with np.errstate(invalid="ignore", divide="ignore"):
            if school:  # an implausible number of pupils: flagged by the row reader
                lo, hi = PLAUSIBLE_BY_UNIT["pupils"]
                odd |= has_den & ~((lo <= denominator) & (denominator <= hi))
            if cols.value is None:  # a derived measure: its value from its parts, or the first part's DfE code
                early = ~has_num | ~has_den | (denominator == 0)
                value = np.where(early, np.nan, numerator / denominator * m.scale)
                status = np.where(early, _MISSING, _OK).astype(object)
                code = np.full(n, None, dtype=object)
                for i in reversed([*cols.numerator, *cols.denominator, cols.cohort]):  # so the first code wins
                    if i is None:
                        continue
                    p = self.parsed(i)
                    u = p.at[at]
                    hit = early & p.coded[u]
                    status[hit], code[hit] = p.status[u][hit], p.code[u][hit]
            else:
                early = np.zeros(n, bool)
                value, status, code = vp.value[vat], vp.status[vat], vp.code[vat]
            has_value = ~np.isnan(value)
            if school:
                lo, hi = PLAUSIBLE_BY_MEASURE.get(m.id) or PLAUSIBLE_BY_UNIT.get(m.unit, (float("-inf"), float("inf")))
                odd |= has_value & ~((lo <= value) & (value <= hi))
            if m.unit == "%":  # a share over 100%: flagged, or noted with its base replaced, by the row reader
                odd |= ~early & has_num & has_den & (denominator != 0) & (numerator > denominator)
            # the pooled roll-ups' parts, as observation() fills them
            fill_num = has_value & ~has_num & has_den & (denominator != 0)
            fill_den = has_value & (value != 0) & has_num & ~has_den & (m.scale != 1)
            numerator = np.where(fill_num, value * denominator / m.scale, numerator)
            denominator = np.where(fill_den, numerator * m.scale / value, denominator)
        late = ~early  # a derived value with no parts returns before its interval is read
        ci = [self._interval(i, at, late, odd) for i in (cols.ci_low, cols.ci_high)]
        self.odd[at] |= odd
        shared = None  # a denominator that is the cohort's cell is its object, as in the row reader's tuples
        if not cols.denominator and cols.cohort is not None:
            cp = self.parsed(cols.cohort)
            shared = cp.objects[cp.at[at]]
            shared[fill_den] = denominator[fill_den]  # Python floats (an object array's elements), computed
        return Observed(at, value, vp.objects[vat] if cols.value is not None else None, numerator, denominator,
                        shared, ci[0], ci[1], status, code)

    def _interval(self, idx: int | None, at: np.ndarray, late: np.ndarray, odd: np.ndarray) -> np.ndarray:
        """A bound of the interval on rows `at` as objects: its cell's number where `late` (read), else None."""
        if idx is None:
            return np.full(len(at), None, dtype=object)
        p = self._cells(idx, at, late, odd)
        out = p.objects[p.at[at]]
        out[~late] = None
        return out

    def plain_cells(self) -> int:
        """The cells RowReader would have counted as checked on the rows that are not odd (it counts odd ones)."""
        return int(sum(int((read & ~self.odd).sum()) for read in self._read.values()))

    def cells_of(self, pos: int) -> dict[int, Cell]:
        """The cells RowReader would hold for the row at `pos` after reading its observations (RowReader.at_row): a
        row that is not odd has no junk."""
        return {idx: parse_cell(self._parsed[idx].texts[self._parsed[idx].at[pos]])
                for idx, read in self._read.items() if read[pos]}

    def forget_parsed(self) -> None:
        """Let the parsed columns go (the observations made keep what they need)."""
        self._parsed.clear()

    def last_read(self) -> int | None:
        """The position of the last row any observation read, if any."""
        last = [int(np.nonzero(r)[0][-1]) for r in self._read.values() if r.any()]
        return max(last) if last else None


class InFileOrder:
    """Tuples gathered a piece of columns at a time (the rows a measure decided column-wise) and one at a time (odd
    rows), handed back ordered by their keys: as the row loop would have appended them (a key is unique: its row's
    position times the measures, plus the measure's). Each piece becomes its tuples at once, so only the tuples stay."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._tuples: list[list[tuple]] = []
        self._odd_keys: list[int] = []
        self._odd: list[tuple] = []

    def columns(self, keys: np.ndarray, columns: Sequence[Iterable[object]]) -> None:
        """A piece: parallel columns, one tuple per key."""
        self._keys.append(np.asarray(keys, dtype=np.int64))
        self._tuples.append(list(zip(*columns, strict=True)))

    def one(self, key: int, row: tuple) -> None:
        self._odd_keys.append(key)
        self._odd.append(row)

    def rows(self) -> list[tuple]:
        keys = np.concatenate([*self._keys, np.asarray(self._odd_keys, dtype=np.int64)])
        flat = [t for piece in self._tuples for t in piece] + self._odd
        return [flat[i] for i in np.argsort(keys, kind="stable").tolist()]


def constant(value: object, n: int) -> repeat:
    """A column of one value (a text, None), n long."""
    return repeat(value, n)


def objects(values: Iterable[object]) -> np.ndarray:
    """An object array of these values as they are (no numpy conversion of ints or strings)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


class Deferred:
    """A row loop's observation() calls, asked row by row and answered a column at a time, in the loop's order.

    The loop keeps its own per-row work (keys, schools, refusals) and, where it called RowReader.observation for each
    measure, asks here instead; a row it skipped with a problem says so here, so that problem keeps its place among
    the cells' problems. `answer` then reads the odd rows with the loop's RowReader, in the file's order."""

    def __init__(self, table: RawTable, batch: Batch, reader: RowReader, located: Sequence[Columns]) -> None:
        self.table, self.batch, self.reader, self.located = table, batch, reader, list(located)
        self._pos: list[int] = []
        self._head: list[tuple] = []
        self._period: list[object] = []
        self._school: list[bool] = []
        self._problems: dict[int, list[Problem]] = {}

    def ask(self, pos: int, head: tuple, period: object, *, school: bool = True) -> None:
        """Row `pos` reads every measure: each observation is (*head, measure id, period, *its seven fields)."""
        self._pos.append(pos)
        self._head.append(head)
        self._period.append(period)
        self._school.append(school)

    def problem(self, pos: int, problem: Problem) -> None:
        """Row `pos` was skipped with this problem (before any of its cells was read)."""
        self._problems.setdefault(pos, []).append(problem)

    def answer(self) -> list[tuple]:
        """Every observation asked, in the order the row loop appended them; problems in the order it reported them."""
        columns = ColumnReader(self.table)
        pos = np.asarray(self._pos, dtype=np.intp)
        school = np.asarray(self._school, dtype=bool)
        heads = [objects(h[i] for h in self._head) for i in range(len(self._head[0]))] if self._head else []
        period = objects(self._period)
        width = len(self.located)
        observed = []
        for flag in (True, False):
            asked = np.nonzero(school == flag)[0]
            if len(asked):
                observed += [(k, asked, columns.observe(cols, pos[asked], school=flag))
                             for k, cols in enumerate(self.located)]
        self.batch.cells_checked += columns.plain_cells()
        columns.forget_parsed()
        out = InFileOrder()
        observed.reverse()
        while observed:  # each measure's arrays let go once its tuples are made
            k, asked, o = observed.pop()
            keep = ~columns.odd[o.at]
            sel = asked[keep]
            out.columns(pos[sel] * width + k, [*(h[sel] for h in heads), constant(self.located[k].measure.id, len(sel)),
                                               period[sel], *o.columns(keep)])
        odd_asked = np.nonzero(columns.odd[pos])[0] if len(pos) else np.zeros(0, np.intp)
        where = dict(zip(pos[odd_asked].tolist(), odd_asked.tolist(), strict=True))
        for p in sorted({*self._problems, *where}):  # in the file's order: a skipped row's problem, or an odd row
            self.batch.problems.extend(self._problems.get(p, ()))
            if p not in where:
                continue
            i = where[p]
            row, line = self.table.rows[p], self.table.lines[p]
            for k, cols in enumerate(self.located):
                obs = self.reader.observation(cols, row, line, school=bool(school[i]))
                out.one(p * width + k, (*self._head[i], cols.measure.id, self._period[i], *obs))
        return out.rows()
