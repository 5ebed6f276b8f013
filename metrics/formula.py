"""A small, safe formula language for local measures: arithmetic on other measures' values.

A formula such as ``cpd_hours / teachers_fte`` or ``if(pupils > 0, support_hours_given / pupils, 0)``
is parsed with Python's ``ast`` in "eval" mode and then checked against an allow-list of node types.
It is never compiled nor passed to ``eval``: :func:`evaluate` walks the checked tree itself.

Allowed: numbers; measure ids; ``+ - * /`` (and ``×`` ``÷``); unary ``-`` ``+``; one comparison
(``< <= > >= == !=``, giving 1 or 0); parentheses; and the functions ``min``, ``max``, ``abs``,
``round`` and ``if(condition, then, else)``. ``if`` is a Python keyword, so ``if(`` is rewritten to
``iff(`` (token by token, never inside other text) before parsing; ``iff(`` may also be written.
Everything else is refused with a message naming the offending text and its column.
See docs/method.md, "Local measures".
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

MAX_LENGTH = 500
MAX_DEPTH = 30
# Function name -> (fewest, most) arguments; None: no upper limit.
FUNCTIONS: dict[str, tuple[int, int | None]] = {"min": (2, None), "max": (2, None), "abs": (1, 1),
                                                 "round": (1, 2), "if": (3, 3)}
FUNCTION_LIST = "min, max, abs, round, if"
# A measure id as a formula names it: lowercase letters, digits, underscores; starts with a letter.
_MEASURE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# What may be typed: printable ASCII, plus × and ÷ (translated below). Checked before parsing so
# that every column the parser reports is a character column.
_ALIASES = {"×": "*", "÷": "/", "\t": " ", "\n": " ", "\r": " "}
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_REFUSED_OPERATORS = {
    ast.Pow: ("**", "powers (**) are not allowed; multiply instead (a * a)"),
    ast.Mod: ("%", "the remainder operator % is not allowed"),
    ast.FloorDiv: ("//", "whole-number division (//) is not allowed; use / and round()"),
    ast.MatMult: ("@", "the @ operator is not allowed"),
    ast.BitAnd: ("&", "bit operations (&) are not allowed"),
    ast.BitOr: ("|", "bit operations (|) are not allowed"),
    ast.BitXor: ("^", "bit operations (^) are not allowed; for powers multiply instead (a * a)"),
    ast.LShift: ("<<", "bit operations (<<) are not allowed"),
    ast.RShift: (">>", "bit operations (>>) are not allowed"),
}
_COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


class FormulaError(ValueError):
    """A formula that cannot be accepted: `message` in words, `offset` the 0-based character position.

    Messages count columns from 1, as editors do (offset 0 is "column 1").
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Formula:
    """A checked formula. `names`: the measure ids it uses, in order of first appearance."""

    text: str
    names: tuple[str, ...]
    tree: ast.expr = field(repr=False, compare=False)


# ------------------------------------------------------------------------------ parsing


def parse_formula(text: str) -> Formula:
    """Check a formula against the allow-list and return it. Raises FormulaError."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, not {type(text).__name__}", 0)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text)} characters long; the limit is {MAX_LENGTH}", MAX_LENGTH)
    if not text.strip():
        raise FormulaError("the formula is empty", 0)
    for i, ch in enumerate(text):
        if ch not in _ALIASES and not (" " <= ch <= "~"):
            raise FormulaError(f"the character {ch!r} at column {i + 1} is not allowed", i)
    source = _Source(text)
    try:
        tree = ast.parse(source.python, mode="eval")
    except SyntaxError as exc:
        # exc.offset is 1-based within the parsed text; 0 or None means "at the end"
        at = (exc.offset or 0) - 1
        at = len(source.python) if at < 0 else min(at, len(source.python))
        pos = source.original_offset(at)
        raise FormulaError(f"the formula cannot be read at column {pos + 1}: {exc.msg}", pos) from None
    names: list[str] = []
    _Checker(source, names).check(tree.body, 1)
    return Formula(text=text, names=tuple(names), tree=tree.body)


class _Source:
    """The text as typed, and the Python text parsed from it, with a map between their columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        plain = "".join(_ALIASES.get(ch, ch) for ch in text)  # one character for one: columns unchanged
        self.lead = len(plain) - len(plain.lstrip())  # eval mode refuses leading spaces ("unexpected indent")
        plain = plain.lstrip()
        self.inserted: list[int] = []  # positions in `python` of characters that are not in the text
        out: list[str] = []
        last = 0
        for start in _if_calls(plain):
            out.append(plain[last:start])
            self.inserted.append(start + 2 + len(self.inserted))
            out.append("iff")
            last = start + 2
        out.append(plain[last:])
        self.python = "".join(out)

    def original_offset(self, at: int) -> int:
        """The column in the typed text of column `at` of the parsed text."""
        return self.lead + at - sum(1 for p in self.inserted if p < at)

    def segment(self, node: ast.AST) -> tuple[str, int]:
        """The typed text of a node, and its 0-based offset."""
        start = self.original_offset(node.col_offset)  # type: ignore[attr-defined]
        end = self.original_offset(node.end_col_offset)  # type: ignore[attr-defined]
        return self.text[start:end], start


def _if_calls(text: str) -> list[int]:
    """Offsets of the keyword `if` directly followed by "(": spreadsheet-style if(cond, a, b)."""
    found: list[int] = []
    tokens: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            tokens.append(tok)
    except (tokenize.TokenError, SyntaxError):
        pass  # unbalanced brackets or quotes: the parser reports them
    for tok, nxt in zip(tokens, tokens[1:], strict=False):
        if tok.type == tokenize.NAME and tok.string == "if" and nxt.type == tokenize.OP and nxt.string == "(":
            found.append(tok.start[1])
    return found


class _Checker:
    def __init__(self, source: _Source, names: list[str]) -> None:
        self.source = source
        self.names = names

    def fail(self, node: ast.AST, what: str) -> FormulaError:
        seg, at = self.source.segment(node)
        if len(seg) > 40:
            seg = seg[:39] + "…"
        return FormulaError(f'"{seg}" at column {at + 1}: {what}', at)

    def check(self, node: ast.AST, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"the formula nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            self._constant(node)
        elif isinstance(node, ast.Name):
            self._name(node)
        elif isinstance(node, ast.BinOp):
            if type(node.op) in _REFUSED_OPERATORS:
                raise self.fail(node, _REFUSED_OPERATORS[type(node.op)][1])
            self.check(node.left, depth + 1)
            self.check(node.right, depth + 1)
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                raise self.fail(node, "'not' is not allowed; compare instead (a == 0)")
            if isinstance(node.op, ast.Invert):
                raise self.fail(node, "bit operations (~) are not allowed")
            self.check(node.operand, depth + 1)
        elif isinstance(node, ast.Compare):
            self._compare(node, depth)
        elif isinstance(node, ast.Call):
            self._call(node, depth)
        else:
            raise self.fail(node, _refusal(node))

    def _constant(self, node: ast.Constant) -> None:
        v = node.value
        if isinstance(v, str | bytes):
            raise self.fail(node, "text in quotes is not allowed; a formula works with numbers")
        if type(v) not in (int, float):  # bool is an int subclass: True/False are refused here
            raise self.fail(node, f"{v!r} is not allowed; only numbers and measure ids")
        try:
            ok = math.isfinite(float(v))
        except OverflowError:
            ok = False
        if not ok:
            raise self.fail(node, "the number is too large")

    def _name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("_"):
            raise self.fail(node, "names starting with an underscore are not allowed")
        if name in FUNCTIONS or name == "iff":
            raise self.fail(node, f"{name} is a function: call it with brackets, e.g. {name}(a, b)")
        if not _MEASURE_ID.match(name):
            raise self.fail(node, f"'{name}' is not a measure id (ids are lowercase letters, digits and "
                                  "underscores, starting with a letter)")
        if name not in self.names:
            self.names.append(name)

    def _compare(self, node: ast.Compare, depth: int) -> None:
        if len(node.ops) > 1:
            raise self.fail(node, "chained comparisons are not allowed; compare two things at a time")
        op = node.ops[0]
        if type(op) not in _COMPARISONS:
            word = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}.get(type(op), "?")
            raise self.fail(node, f"'{word}' comparisons are not allowed; use < <= > >= == !=")
        self.check(node.left, depth + 1)
        self.check(node.comparators[0], depth + 1)

    def _call(self, node: ast.Call, depth: int) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail(node, f"only the functions {FUNCTION_LIST} can be called")
        if func.id.startswith("_"):
            raise self.fail(func, "names starting with an underscore are not allowed")
        name = "if" if func.id == "iff" else func.id
        if name not in FUNCTIONS:
            raise self.fail(node, f"{func.id} is not a function here; the functions are {FUNCTION_LIST}")
        if node.keywords:
            raise self.fail(node, f"keyword arguments (name=value) are not allowed in {name}()")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, f"* arguments are not allowed in {name}()")
        low, high = FUNCTIONS[name]
        n = len(node.args)
        if n < low or (high is not None and n > high):
            wanted = {"min": "at least 2 arguments", "max": "at least 2 arguments", "abs": "1 argument",
                      "round": "1 or 2 arguments (value, digits)", "if": "3 arguments (condition, then, else)"}
            raise self.fail(node, f"{name}() takes {wanted[name]}, not {n}")
        if name == "round" and n == 2:
            digits = node.args[1]
            if not (isinstance(digits, ast.Constant) and type(digits.value) is int and 0 <= digits.value <= 10):
                raise self.fail(digits, "round()'s digits must be a whole number from 0 to 10")
        for arg in node.args:
            self.check(arg, depth + 1)


def _refusal(node: ast.AST) -> str:
    """Why a node type outside the allow-list is refused, in words."""
    if isinstance(node, ast.Attribute):
        return "attributes (a dot after a name) are not allowed"
    if isinstance(node, ast.Subscript | ast.Slice):
        return "indexing with [ ] is not allowed"
    if isinstance(node, ast.JoinedStr | ast.FormattedValue):
        return "text in quotes is not allowed; a formula works with numbers"
    if isinstance(node, ast.Lambda):
        return "lambda functions are not allowed"
    if isinstance(node, ast.BoolOp):
        word = "and" if isinstance(node.op, ast.And) else "or"
        return f"'{word}' is not allowed; use if(condition, then, else)"
    if isinstance(node, ast.IfExp):
        return "'x if c else y' is not allowed; write if(c, x, y)"
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        return "comprehensions are not allowed"
    if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
        return "lists, tuples, sets and dicts are not allowed"
    if isinstance(node, ast.NamedExpr):
        return "assignments (:=) are not allowed"
    if isinstance(node, ast.Starred):
        return "* is only for multiplying"
    return f"{type(node).__name__} expressions are not allowed"


# ------------------------------------------------------------------------------ evaluation


def evaluate(formula: Formula, values: Mapping[str, float | None]) -> float | None:
    """The formula's value. None when an input it needs is None, NaN or absent, when it divides by
    zero, or when the result is not a finite number; never an exception.

    `if(c, a, b)` needs only the branch it takes: a None in the other branch does not matter.
    """
    result = _eval(formula.tree, values)
    return result if result is not None and math.isfinite(result) else None


def _eval(node: ast.expr, values: Mapping[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        v = values.get(node.id)
        if v is None:
            return None
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(node, ast.UnaryOp):
        x = _eval(node.operand, values)
        if x is None:
            return None
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, values), _eval(node.right, values)
        if a is None or b is None:
            return None
        op = _OPERATORS[type(node.op)]
        if op == "/" and b == 0:
            return None
        r = a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
        return r if math.isfinite(r) else None
    if isinstance(node, ast.Compare):
        a, b = _eval(node.left, values), _eval(node.comparators[0], values)
        if a is None or b is None:
            return None
        op = _COMPARISONS[type(node.ops[0])]
        true = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
        return 1.0 if true else 0.0
    if isinstance(node, ast.Call):
        return _call(node, values)
    raise AssertionError(f"unchecked node {type(node).__name__}")  # parse_formula admits no other node


def _call(node: ast.Call, values: Mapping[str, float | None]) -> float | None:
    name = node.func.id  # type: ignore[attr-defined]
    if name in ("if", "iff"):
        cond = _eval(node.args[0], values)
        if cond is None:
            return None
        return _eval(node.args[1] if cond != 0 else node.args[2], values)
    args = [_eval(a, values) for a in node.args]
    if any(a is None for a in args):
        return None
    xs: list[float] = [a for a in args if a is not None]
    if name == "min":
        return min(xs)
    if name == "max":
        return max(xs)
    if name == "abs":
        return abs(xs[0])
    digits = int(xs[1]) if len(xs) == 2 else 0
    # halves round away from zero, as in a spreadsheet (Python's round() rounds halves to even)
    return float(Decimal(repr(xs[0])).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


# ------------------------------------------------------------------------------ cycles

MAX_CYCLES = 100


def formula_cycles(definitions: Mapping[str, Formula]) -> list[list[str]]:
    """Every cycle among formulas that use each other, as paths that end where they start
    (``["a", "b", "a"]``; a self-reference is ``["a", "a"]``).

    Each cycle is reported once, starting at its member that comes first in `definitions`.
    Stops after MAX_CYCLES cycles (a handful of formulas can hold exponentially many).
    """
    order = {mid: i for i, mid in enumerate(definitions)}
    edges = {mid: [n for n in f.names if n in order] for mid, f in definitions.items()}
    cycles: list[list[str]] = []
    for start in definitions:
        # only members after `start` may appear in its cycles: each cycle is found from its first member
        stack: list[tuple[str, int]] = [(start, 0)]
        path = [start]
        on_path = {start}
        while stack and len(cycles) < MAX_CYCLES:
            node, i = stack[-1]
            nexts = edges[node]
            if i >= len(nexts):
                stack.pop()
                path.pop()
                on_path.discard(node)
                continue
            stack[-1] = (node, i + 1)
            nxt = nexts[i]
            if nxt == start:
                cycles.append([*path, start])
            elif order[nxt] > order[start] and nxt not in on_path:
                stack.append((nxt, 0))
                path.append(nxt)
                on_path.add(nxt)
    return cycles
