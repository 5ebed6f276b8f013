"""A small, safe formula language for local measures: arithmetic on other measures' values.

A formula such as ``cpd_hours / teachers_fte`` or ``if(pupils > 0, support_hours_given / pupils, 0)``
is parsed with Python's ``ast`` in "eval" mode and then checked against an allow-list of node types.
It is never compiled nor passed to ``eval``: :func:`evaluate` walks the checked tree itself.

Allowed: numbers; measure ids; ``+ - * /`` (and ``×`` ``÷``); unary ``-`` ``+``; one comparison
(``< <= > >= == !=``, giving 1 or 0); parentheses; and the functions ``min``, ``max``, ``abs``,
``round`` and ``if(condition, then, else)``. ``if`` is a Python keyword, so ``if(`` is rewritten to
``iff(`` (token by token, never inside other text) before parsing; ``iff(`` may also be written.
Everything else is refused with a message naming the offending text and its column.

Every number is bounded: a constant beyond BOUND is refused, and an input, intermediate or result
beyond it is no value (None). :func:`evaluate` never raises. See docs/method.md, "Local measures".
"""

from __future__ import annotations

import ast
import io
import math
import numbers
import re
import tokenize
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

# 40 measure ids of the longest length (40 characters) joined by " + " take 1,717 characters.
MAX_LENGTH = 2000
# Nesting a person wrote: brackets, calls, signs. A flat chain such as a + b - c counts as one level.
MAX_DEPTH = 30
# The largest magnitude of any number in a formula: its constants, inputs, intermediates and result.
# No school or group measure comes near it (the largest are pounds: a trust's yearly spending is below
# 1e10, England's schools' spending below 1e11), so a value beyond it is an error, not a measure; and
# below it a float still holds every hundredth exactly enough for round(x, 2) and a comparison to mean
# what they say (float spacing at 1e12 is 1.2e-4).
BOUND = 1e12
BOUND_TEXT = "1,000,000,000,000 (1e12)"
# A number as people write it: digits, an optional decimal point, an optional decimal exponent.
# Python also reads 0x1F, 0o17, 0b101, 1_000 and 1j: none of them belongs in a school's formula.
_DECIMAL = re.compile(r"^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# Function name -> (fewest, most) arguments; None: no upper limit.
FUNCTIONS: dict[str, tuple[int, int | None]] = {"min": (2, None), "max": (2, None), "abs": (1, 1),
                                                 "round": (1, 2), "if": (3, 3)}
FUNCTION_LIST = "min, max, abs, round, if"
# A measure id as a formula names it: lowercase letters, digits, underscores; starts with a letter.
_MEASURE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# What may be typed: printable ASCII, plus × and ÷ (translated below). Checked before parsing so
# that every column the parser reports is a character column.
_ALIASES = {"×": "*", "÷": "/", "\t": " ", "\n": " ", "\r": " "}
# Python drops a comment silently (`a + b # - c` is a + b): refused before parsing, at its column.
_REFUSED_CHARACTERS = {"#": "comments (#) have no place in a formula"}
_ADDITIVE = (ast.Add, ast.Sub)
_MULTIPLICATIVE = (ast.Mult, ast.Div)
# round() in decimal, halves away from zero. Traps off: a failure is a NaN (no value), never an
# exception; 40 digits hold any bounded value (13 digits) with 10 decimals exactly.
_ROUNDING = Context(prec=40, rounding=ROUND_HALF_UP, traps=[])
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
    """A checked formula. `names`: the measure ids it uses, in order of first appearance.

    `refusal`: empty, except for a stored formula that no longer passes the checks (see stored_formula).
    """

    text: str
    names: tuple[str, ...]
    tree: ast.expr = field(repr=False, compare=False)
    refusal: str = ""


# ------------------------------------------------------------------------------ parsing


def parse_formula(text: str) -> Formula:
    """Check a formula against the allow-list and return it. Raises FormulaError."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, not {type(text).__name__}", 0)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text):,} characters long; the limit is {MAX_LENGTH:,} "
                           f"(column {MAX_LENGTH + 1:,} is past it)", MAX_LENGTH)
    if not text.strip():
        raise FormulaError("the formula is empty", 0)
    for i, ch in enumerate(text):
        if ch in _REFUSED_CHARACTERS:
            raise FormulaError(f"the character {ch!r} at column {i + 1} is not allowed: {_REFUSED_CHARACTERS[ch]}", i)
        if ch not in _ALIASES and not (" " <= ch <= "~"):
            raise FormulaError(f"the character {ch!r} at column {i + 1} is not allowed", i)
    source = _Source(text)
    try:
        with warnings.catch_warnings():
            # Python warns about odd text (`1if`, "\\d"); under -W error a warning would escape as an exception
            warnings.simplefilter("ignore")
            tree = ast.parse(source.python, mode="eval")
    except SyntaxError as exc:
        # exc.offset is 1-based within the parsed text; 0 or None means "at the end"
        at = (exc.offset or 0) - 1
        at = len(source.python) if at < 0 else min(at, len(source.python))
        pos = source.original_offset(at)
        raise FormulaError(f"the formula cannot be read at column {pos + 1}: {_syntax(exc.msg)}", pos) from None
    except (RecursionError, MemoryError, ValueError):
        # the parser's own limits on nesting; the text is within MAX_LENGTH, so this is nesting
        raise FormulaError(f"the formula cannot be read at column 1: it nests deeper than {MAX_DEPTH} levels",
                           0) from None
    names: list[str] = []
    _Checker(source, names).check(tree.body, 1)
    return Formula(text=text, names=tuple(names), tree=tree.body)


def _syntax(msg: str) -> str:
    """Python's words for a syntax error, without advice that leads outside the language (octal, 0o)."""
    if msg.startswith("leading zeros in decimal integer literals"):
        return "a whole number cannot start with 0 (write 7, not 07)"
    return msg


@lru_cache(maxsize=4096)
def stored_formula(text: str) -> Formula:
    """A stored measure's formula, for evaluation: parse_formula's, or, when the text no longer passes the
    checks (saved before one was tightened: `round(pupils * 1e29, 2)`, `a + b # c`), a formula with no
    inputs whose value is always None, its `refusal` saying why. Never raises: one old definition must not
    stop every scorecard of its group. The definition itself is kept; the form shows the refusal on edit.
    Cached: the engine asks for each formula once per measure and year.
    """
    try:
        return parse_formula(text)
    except FormulaError as exc:
        return Formula(text if isinstance(text, str) else repr(text), (), ast.Constant(0.0), refusal=exc.message)


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
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
            for operand in _chain(node)[0]:  # a + b - c …: one level, however many terms
                self.check(operand, depth + 1)
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
        written, _ = self.source.segment(node)
        if isinstance(v, complex):
            raise self.fail(node, "imaginary numbers (j) are not allowed")
        if type(v) not in (int, float):  # bool is an int subclass: True/False are refused here
            raise self.fail(node, f"{v!r} is not allowed; only numbers and measure ids")
        if not _DECIMAL.match(written):
            raise self.fail(node, _literal_refusal(written))
        try:
            x = float(v)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x) or abs(x) > BOUND:
            raise self.fail(node, f"numbers in a formula are limited to {BOUND_TEXT} either side of zero")
        if x == 0 and any(ch in "123456789" for ch in re.split("[eE]", written)[0]):
            raise self.fail(node, "the number is too small to hold (it would be 0)")

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


def _chain(node: ast.BinOp) -> tuple[list[ast.expr], list[ast.operator]]:
    """The operands and operators of a left-to-right chain of one kind (`a + b - c`, `a * b / c`), in
    the order written. Python nests such a chain one level per operator; walked here without recursion."""
    kind = _ADDITIVE if isinstance(node.op, _ADDITIVE) else _MULTIPLICATIVE if isinstance(node.op,
                                                                                         _MULTIPLICATIVE) else None
    rights: list[ast.expr] = []
    ops: list[ast.operator] = []
    cur: ast.expr = node
    while isinstance(cur, ast.BinOp) and kind is not None and isinstance(cur.op, kind):
        rights.append(cur.right)
        ops.append(cur.op)
        cur = cur.left
    if cur is node:  # an operator outside both kinds: the checker refuses it before asking
        return [node.left, node.right], [node.op]
    return [cur, *reversed(rights)], ops[::-1]


def _literal_refusal(written: str) -> str:
    """Why a number written other than in plain decimal is refused, in words."""
    prefix = written[:2].lower()
    base = {"0x": "hexadecimal", "0o": "octal", "0b": "binary"}.get(prefix)
    if base:
        return f"{base} numbers are not allowed; write numbers in decimal (0-9)"
    if "_" in written:
        return f"underscores in numbers are not allowed; write {written.replace('_', '')}"
    return "only plain decimal numbers are allowed (12, 0.5, 1e5)"


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
    """The formula's value. None when an input it needs is None, NaN, absent or not a number, when it
    divides by zero, or when an input, an intermediate or the result is beyond BOUND; never an exception.

    `if(c, a, b)` needs only the branch it takes: a None in the other branch does not matter.
    A result of -0.0 is 0.0 (a school's value is never shown as "-0").
    """
    if formula.refusal:
        return None
    result = _eval(formula.tree, values)
    return None if result is None else result + 0.0


def _bounded(x: float) -> float | None:
    """x when it is a number within BOUND, else None."""
    return x if math.isfinite(x) and abs(x) <= BOUND else None


def _input(v: object) -> float | None:
    """A measure's value as a bounded float; None for anything else (text, an out-of-range int, NaN)."""
    if not isinstance(v, numbers.Real):
        return None
    try:
        return _bounded(float(v))
    except (OverflowError, ValueError, TypeError):
        return None


def _eval(node: ast.expr, values: Mapping[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
        return _bounded(float(node.value))
    if isinstance(node, ast.Name):
        return _input(values.get(node.id))
    if isinstance(node, ast.UnaryOp):
        x = _eval(node.operand, values)
        if x is None:
            return None
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.BinOp):
        operands, ops = _chain(node)
        acc = _eval(operands[0], values)
        for op, operand in zip(ops, operands[1:], strict=True):
            b = _eval(operand, values)
            if acc is None or b is None:
                return None
            if isinstance(op, ast.Div) and b == 0:
                return None
            r = acc + b if isinstance(op, ast.Add) else acc - b if isinstance(op, ast.Sub) else (
                acc * b if isinstance(op, ast.Mult) else acc / b)
            acc = _bounded(r)
        return acc
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
    return _round(xs[0], int(xs[1]) if len(xs) == 2 else 0)


def _round(x: float, digits: int) -> float | None:
    """x rounded to `digits` decimals, halves away from zero as in a spreadsheet (Python's round() rounds
    halves to even), and as written: 2.675 is 2.67499… as a float, and rounds to 2.68.

    Exact for every bounded x: its shortest decimal text (repr) is rounded in decimal, with no trap
    that could raise; a failure would be NaN, which is no value.
    """
    quantum = Decimal((0, (1,), -digits))  # 10 ** -digits, built without a context
    r = _ROUNDING.quantize(Decimal(repr(x)), quantum)
    return _bounded(float(r)) if r.is_finite() else None


# ------------------------------------------------------------------------------ cycles

@dataclass(frozen=True)
class Circle:
    """Formulas that use each other round in a circle (a strongly connected component).

    `path`: one way round, from its first member back to it (``("a", "b", "a")``; a self-reference is
    ``("a", "a")``), the shortest; `members`: every measure caught in the circle, in definition order.
    """

    path: tuple[str, ...]
    members: tuple[str, ...]


def formula_cycles(definitions: Mapping[str, Formula]) -> list[Circle]:
    """Every circle among formulas that use each other, once, starting at its member that comes first in
    `definitions`; in that member's order. Time linear in measures + uses (one component search, then one
    breadth-first search inside each circle), however many distinct cycles the circle holds.
    """
    order = {mid: i for i, mid in enumerate(definitions)}
    edges = {mid: [n for n in dict.fromkeys(f.names) if n in order] for mid, f in definitions.items()}
    circles: list[Circle] = []
    for component in strongly_connected(list(definitions), edges.__getitem__):
        first = min(component, key=order.__getitem__)
        if len(component) == 1 and first not in edges[first]:
            continue  # a measure alone, not using itself: no circle
        members = set(component)
        circles.append(Circle(_way_round(first, members, edges), tuple(sorted(component, key=order.__getitem__))))
    return sorted(circles, key=lambda c: order[c.path[0]])


def _way_round(start: str, members: set[str], edges: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The shortest path from `start` back to itself inside its circle (breadth first)."""
    came_from: dict[str, str] = {}
    queue = [start]
    for node in queue:  # the queue grows as it is read: each member is reached once
        for nxt in edges[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return (*reversed(path), start)
            if nxt in members and nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{start} is in a circle but no way round was found")  # a component guarantees one


def strongly_connected(nodes: Sequence[str], successors: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of a graph (Tarjan's algorithm, without recursion: a chain of
    2,000 formulas is deeper than Python's stack). Each node's successors are asked for once and read
    once, so the time is linear in nodes + edges. Successors outside `nodes` must not be given.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    work: list[tuple[str, Iterator[str]]] = []  # the search's path: each node with its unread successors

    def enter(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        work.append((node, iter(successors(node))))

    for root in nodes:
        if root in index:
            continue
        enter(root)
        while work:
            node, nexts = work[-1]
            for nxt in nexts:
                if nxt not in index:
                    enter(nxt)
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:  # every successor seen: close the node
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components
