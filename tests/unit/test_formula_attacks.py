"""Issue 9, point 13: hostile formulas. Each test performs an attack that got through (or hung) before.

Huge numbers, rounding that raised, comments and non-decimal literals that slipped past the checker, a
flat sum of 40 measures refused as "too deep", an exponential cycle check, and a corpus of generated
hostile formulas: each is refused with a located message, or accepted and then evaluated without raising.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.formula import (
    BOUND,
    MAX_DEPTH,
    MAX_LENGTH,
    FormulaError,
    evaluate,
    formula_cycles,
    parse_formula,
    strongly_connected,
)

NAMES = ("pupils", "teachers_fte", "cpd_hours", "a", "b", "zero")


def refusal(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    return caught.value


# ------------------------------------------------------------------------------ magnitudes


def test_the_attack_formula_is_refused_at_validation_naming_the_number_and_its_column() -> None:
    err = refusal("round(pupils * 1e29, 2)")
    assert (err.message, err.offset) == (
        '"1e29" at column 16: numbers in a formula are limited to 1,000,000,000,000 (1e12) either side of zero', 15)


@pytest.mark.parametrize("text", ["1000000000001", "1e13", "-1.5e12", "0.0000001e20", "round(a, 2) * 99999999999999"])
def test_a_constant_beyond_the_bound_is_refused(text: str) -> None:
    assert "limited to 1,000,000,000,000 (1e12)" in refusal(text).message


def test_a_constant_at_the_bound_is_accepted() -> None:
    assert evaluate(parse_formula("1e12"), {}) == BOUND
    assert evaluate(parse_formula("-1000000000000"), {}) == -BOUND


def test_a_constant_too_small_to_hold_is_refused_rather_than_read_as_zero() -> None:
    err = refusal("a / 1e-400")
    assert (err.message, err.offset) == ('"1e-400" at column 5: the number is too small to hold (it would be 0)', 4)


@pytest.mark.parametrize(("text", "values"), [
    ("round(pupils * 1e11, 2)", {"pupils": 1e6}),  # 1e17: a number no school measure reaches
    ("round(pupils * 1e11, 2)", {"pupils": 1e20}),  # raised decimal.InvalidOperation before
    ("round(pupils, 10)", {"pupils": 1e300}),
    ("pupils * 0", {"pupils": 1e13}),  # an input beyond the bound is no value, even multiplied by 0
    ("(a * 1e12) / 1e12", {"a": 2.0}),  # the intermediate 2e12 is beyond the bound
    ("a - b", {"a": 1e12, "b": -1e12}),
    ("if(a > 0, 1, 2)", {"a": math.inf}),
])
def test_a_value_beyond_the_bound_anywhere_gives_no_value_never_an_exception(text: str,
                                                                           values: dict[str, float]) -> None:
    assert evaluate(parse_formula(text), values) is None


def test_within_the_bound_values_are_exact() -> None:
    assert evaluate(parse_formula("round(pupils * 1e6, 2)"), {"pupils": 999_999.125}) == 999_999_125_000.0
    assert evaluate(parse_formula("a + b"), {"a": 5e11, "b": 5e11}) == 1e12


def test_inputs_that_are_not_numbers_give_no_value() -> None:
    f = parse_formula("a + 1")
    for bad in ("12", b"1", object(), [1.0], 10 ** 400, complex(1, 1)):
        assert evaluate(f, {"a": bad}) is None  # type: ignore[dict-item]


def test_negative_zero_is_zero() -> None:
    for text in ("a", "round(a)", "a * -1", "round(-0.4)", "-zero"):
        r = evaluate(parse_formula(text), {"a": -0.0, "zero": 0.0})
        assert r == 0.0 and math.copysign(1.0, r) == 1.0  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ rounding: halves away from zero

ROUNDING = [  # (value as typed, digits, hand-computed result)
    ("0.5", 0, 1.0), ("1.5", 0, 2.0), ("2.5", 0, 3.0), ("-0.5", 0, -1.0), ("-2.5", 0, -3.0), ("0.49", 0, 0.0),
    ("2.675", 2, 2.68), ("-2.675", 2, -2.68), ("1.005", 2, 1.01), ("0.125", 2, 0.13), ("0.375", 2, 0.38),
    ("1.45", 1, 1.5), ("-1.45", 1, -1.5), ("0.0000000005", 9, 0.000000001), ("0.00000000005", 10, 0.0000000001),
    ("999999999999.5", 0, 1e12), ("-999999999999.5", 0, -1e12), ("123456789012.345", 2, 123456789012.35),
    ("7", 3, 7.0), ("0.1", 10, 0.1),
]


@pytest.mark.parametrize(("value", "digits", "expected"), ROUNDING)
def test_round_matches_a_hand_computed_table(value: str, digits: int, expected: float) -> None:
    assert evaluate(parse_formula(f"round({value}, {digits})"), {}) == expected  # exact, not approximate
    assert evaluate(parse_formula(f"round(x, {digits})"), {"x": float(value)}) == expected


# ------------------------------------------------------------------------------ comments and literals


@pytest.mark.parametrize(("text", "message", "offset"), [
    ("a + b # anything", "the character '#' at column 7 is not allowed: comments (#) have no place in a formula", 6),
    ("a # + b", "the character '#' at column 3 is not allowed: comments (#) have no place in a formula", 2),
    ("0x1F + a", '"0x1F" at column 1: hexadecimal numbers are not allowed; write numbers in decimal (0-9)', 0),
    ("a * 0o17", '"0o17" at column 5: octal numbers are not allowed; write numbers in decimal (0-9)', 4),
    ("0b101", '"0b101" at column 1: binary numbers are not allowed; write numbers in decimal (0-9)', 0),
    ("0X1f", '"0X1f" at column 1: hexadecimal numbers are not allowed; write numbers in decimal (0-9)', 0),
    ("1_000 * a", '"1_000" at column 1: underscores in numbers are not allowed; write 1000', 0),
    ("1.5_0e3", '"1.5_0e3" at column 1: underscores in numbers are not allowed; write 1.50e3', 0),
    ("2 * 1j", '"1j" at column 5: imaginary numbers (j) are not allowed', 4),
    ("1.5J", '"1.5J" at column 1: imaginary numbers (j) are not allowed', 0),
])
def test_comments_and_non_decimal_literals_are_refused(text: str, message: str, offset: int) -> None:
    err = refusal(text)
    assert (err.message, err.offset) == (message, offset)


@pytest.mark.parametrize(("text", "expected"), [("12", 12.0), ("0.5", 0.5), (".5", 0.5), ("5.", 5.0),
                                                ("1e5", 1e5), ("2.5E-3", 0.0025), ("1e+3", 1000.0), ("0", 0.0)])
def test_plain_decimals_and_exponents_are_allowed(text: str, expected: float) -> None:
    assert evaluate(parse_formula(text), {}) == expected


# ------------------------------------------------------------------------------ depth and length

IDS_40 = [f"measure_{i:02d}_{'x' * 29}" for i in range(40)]  # 40 ids of the longest length, 40 characters


def test_a_flat_sum_of_40_measures_of_the_longest_ids_passes() -> None:
    assert all(len(i) == 40 for i in IDS_40)
    text = " + ".join(IDS_40)
    assert len(text) <= MAX_LENGTH
    f = parse_formula(text)
    assert f.names == tuple(IDS_40)
    assert evaluate(f, dict.fromkeys(IDS_40, 1.5)) == 60.0


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_a_flat_chain_of_200_terms_passes_and_evaluates(op: str) -> None:
    names = [f"m{i}" for i in range(200)]
    f = parse_formula(f" {op} ".join(names))
    values = {n: 1.0 + (i % 3) for i, n in enumerate(names)}
    expected = values["m0"]
    for n in names[1:]:  # left to right, as written
        expected = {"+": expected + values[n], "-": expected - values[n], "*": expected * values[n],
                    "/": expected / values[n]}[op]
    got = evaluate(f, values)
    if abs(expected) > BOUND:
        assert got is None
    else:
        assert got == expected


def test_a_chain_of_additions_of_products_counts_each_kind_once() -> None:
    text = " + ".join(f"a{i} * b{i} / c{i}" for i in range(60))  # 60 terms, each a product: two levels
    values = {f"{k}{i}": 2.0 for i in range(60) for k in "abc"}
    assert evaluate(parse_formula(text), values) == 120.0


def test_deep_bracket_nesting_is_still_bounded() -> None:
    text = "a + (" * MAX_DEPTH + "a" + ")" * MAX_DEPTH  # brackets a person wrote: one level each
    err = refusal(text)
    assert err.message.endswith(f"the formula nests deeper than {MAX_DEPTH} levels")
    assert evaluate(parse_formula("a + (" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1)), {"a": 1.0}) == MAX_DEPTH
    assert "nests deeper" in refusal("min(a, " * MAX_DEPTH + "b" + ")" * MAX_DEPTH).message
    assert "nests deeper" in refusal("-" * MAX_DEPTH + "a").message


def test_a_formula_longer_than_the_limit_is_refused_naming_the_column() -> None:
    err = refusal("a" + " + a" * (MAX_LENGTH // 4))
    assert err.message == (f"the formula is {MAX_LENGTH + 1:,} characters long; the limit is {MAX_LENGTH:,} "
                           f"(column {MAX_LENGTH + 1:,} is past it)")
    assert err.offset == MAX_LENGTH


def test_the_longest_allowed_formula_of_one_operator_evaluates() -> None:
    text = "+".join(["a"] * (MAX_LENGTH // 2))  # 1,000 terms, 1,999 characters: a left-deep tree 999 deep
    assert evaluate(parse_formula(text), {"a": 1.0}) == MAX_LENGTH // 2


# ------------------------------------------------------------------------------ cycles, in linear time


def chain(n: int, *, back: bool = False) -> dict:
    """m0 uses m1 and m2, m1 uses m2 and m3, …: a ladder with 2^n paths; `back`: the last uses m0."""
    defs = {f"m{i}": parse_formula(" + ".join(f"m{j}" for j in (i + 1, i + 2) if j < n) or "pupils")
            for i in range(n)}
    if back:
        defs[f"m{n - 1}"] = parse_formula("m0 + pupils")
    return defs


@pytest.mark.parametrize("n", [24, 200, 2000])
def test_a_long_ladder_without_a_cycle_has_none(n: int) -> None:
    assert formula_cycles(chain(n)) == []


@pytest.mark.parametrize("n", [24, 200, 2000])
def test_a_long_ladder_closed_into_a_ring_is_one_circle_with_one_path(n: int) -> None:
    circles = formula_cycles(chain(n, back=True))
    assert len(circles) == 1
    path = circles[0].path
    assert path[0] == path[-1] == "m0" and path[-2] == f"m{n - 1}"
    assert len(path) == n // 2 + 2  # the shortest way round: two steps at a time to the last, then back
    assert set(circles[0].members) == set(chain(n))  # every measure of the ladder is caught in the circle


def dense_chain(n: int) -> dict:
    """Each measure uses every later one: 2^(n-2) paths from the first to the last, and no cycle."""
    return {f"m{i}": parse_formula(" + ".join(f"m{j}" for j in range(i + 1, n)) or "pupils") for i in range(n)}


@pytest.mark.parametrize("n", [24, 200])
def test_a_dense_chain_without_a_cycle_has_none(n: int) -> None:
    assert formula_cycles(dense_chain(n)) == []  # 24 took 26 s per rerun when every path was followed


def test_a_dense_chain_closed_at_its_end_is_one_circle_of_everything() -> None:
    defs = {**dense_chain(200), "m199": parse_formula("m0")}
    assert [(c.path, len(c.members)) for c in formula_cycles(defs)] == [(("m0", "m199", "m0"), 200)]


def test_a_dense_graph_is_one_circle() -> None:
    n = 60
    defs = {f"m{i}": parse_formula(" + ".join(f"m{j}" for j in range(n) if j != i)) for i in range(n)}
    circles = formula_cycles(defs)
    assert [(c.path, len(c.members)) for c in circles] == [(("m0", "m1", "m0"), n)]


def test_separate_circles_are_reported_once_each_at_their_first_member() -> None:
    defs = {"a": parse_formula("b"), "b": parse_formula("a + c"), "c": parse_formula("a"),
            "d": parse_formula("d * 2"), "e": parse_formula("a + d")}
    assert [(c.path, c.members) for c in formula_cycles(defs)] == [
        (("a", "b", "a"), ("a", "b", "c")), (("d", "d"), ("d",))]


class Counted:
    """Successor lists that count every look-up and every edge read, to bound the work done."""

    def __init__(self, edges: dict[str, list[str]]) -> None:
        self.edges = edges
        self.calls = 0
        self.reads = 0

    def __call__(self, node: str) -> Iterable[str]:
        self.calls += 1
        return self._read(node)

    def _read(self, node: str) -> Iterator[str]:
        for n in self.edges[node]:
            self.reads += 1
            yield n


@pytest.mark.parametrize("shape", ["ladder", "ring", "dense"])
def test_the_component_search_visits_each_node_and_edge_once(shape: str) -> None:
    n = 2000 if shape != "dense" else 200
    if shape == "dense":
        edges = {f"m{i}": [f"m{j}" for j in range(n) if j != i] for i in range(n)}
    else:
        edges = {f"m{i}": [f"m{j}" for j in (i + 1, i + 2) if j < n] for i in range(n)}
        if shape == "ring":
            edges[f"m{n - 1}"] = ["m0"]
    counted = Counted(edges)
    components = strongly_connected(list(edges), counted)
    assert sorted(n for c in components for n in c) == sorted(edges)  # a partition of the nodes
    assert counted.calls == len(edges)
    assert counted.reads == sum(len(v) for v in edges.values())


# ------------------------------------------------------------------------------ evaluate never raises

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-320, -1e-320, 5e-324, 1e12, -1e12, 1e12 + 1, 1.7976931348623157e308, 0.5, 2.5]),
    st.integers(min_value=-(10 ** 400), max_value=10 ** 400),
    st.none(),
)
LITERALS = st.one_of(st.integers(0, 10 ** 12).map(str), st.sampled_from(["0.5", "1e12", "1e-300", "2.5", ".5",
                                                                           "999999999999.5", "1e-12", "0"]))


def formulas() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(NAMES), LITERALS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "×", "÷", "<", "<=", ">", ">=", "==", "!="]),
                           inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        return st.one_of(
            binary,
            inner.map(lambda x: f"-{x}"),
            inner.map(lambda x: f"abs({x})"),
            st.tuples(inner, st.integers(0, 10)).map(lambda t: f"round({t[0]}, {t[1]})"),
            inner.map(lambda x: f"round({x})"),
            st.lists(inner, min_size=2, max_size=5).map(lambda xs: f"min({', '.join(xs)})"),
            st.lists(inner, min_size=2, max_size=5).map(lambda xs: f"max({', '.join(xs)})"),
            st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
            st.lists(inner, min_size=2, max_size=50).map(" + ".join),
        )

    return st.recursive(leaves, extend, max_leaves=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas(), st.fixed_dictionaries({n: NUMBERS for n in NAMES}))
def test_evaluate_never_raises_for_any_checked_formula_and_any_inputs(text: str, values: dict) -> None:
    try:
        f = parse_formula(text)
    except FormulaError as err:
        assert "column" in err.message  # too deep or too long: refused with a place, never a traceback
        return
    result = evaluate(f, values)
    assert result is None or (math.isfinite(result) and abs(result) <= BOUND)


# ------------------------------------------------------------------------------ a corpus of hostile formulas

FRAGMENTS = [
    "__import__('os')", "__builtins__", "a.__class__", "().__class__.__bases__[0]", "lambda: 1", "lambda x: x",
    "[x for x in a]", "{a: b}", "{a}", "(y := 1)", "f'{a}'", "f\"{a!r}\"", "'a'", "b'a'", "r'\\n'", "\\x41",
    "a if b else c", "not a", "a and b", "a or b", "a is b", "a in b", "a < b < c", "a ** 2", "a // b", "a % b",
    "a @ b", "a << 1", "~a", "a ^ b", "a | b", "a & b", "*a", "**a", "a[0]", "a[1:2]", "...", "None", "True",
    "0x1F", "0o17", "0b101", "1_000", "1j", "1e999", "1e29", "1e-400", "9" * 40, "0.0000001", "# comment",
    "a # b", "if", "else", "import", "def", "class", "yield", "await a", "print(a)", "open(a)", "eval(a)",
    "exec(a)", "getattr(a, b)", "min()", "max(a)", "round(a, 11)", "round(a, -1)", "round(a, b)", "round(a, 1.5)",
    "if(a, b)", "iff(a, b, c, d)", "abs(a, b)", "min(*a)", "max(a=1)", "ａ", "а", "ℯ", "𝟏", "\u200b", "\u00a0",
    "\x00", "\x1b[2J", "\ufeff", "é", "×", "÷", "\t", "\n", "\r", "\\", ";", "a; b", "a = 1", "a: int", "@a",
    "$a", "`a`", "a!", "?", "a b", ",", "(", ")", "((", "))", "[", "]", "{", "}", "'", '"', "'''", "a,", "(a,)",
    "pupils", "teachers_fte", "cpd_hours", "zero", "Pupils", "_a", "a__", "iff", "1", "0", "-1", "0.5", "1e12",
    "1e12 + 1", "+", "-", "*", "/", "<", ">=", "==", "!=", "=", "(", ")", ",", " ", "  ",
]
OPERATORS = [" + ", " - ", " * ", " / ", " < ", " == ", " ** ", " // ", " and ", ", "]


def hostile(rng: random.Random) -> str:
    """One hostile formula: fragments glued by operators, nested, repeated or stretched past the limits."""
    kind = rng.randrange(10)
    if kind == 0:  # deep nesting of brackets, calls or signs
        depth = rng.choice([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100, 199, 250])
        opener = rng.choice(["(", "min(a, ", "abs(", "-", "round(", "if(a, b, ", "not "])
        closer = {"(": ")", "min(a, ": ")", "abs(": ")", "-": "", "round(": ")", "if(a, b, ": ")", "not ": ""}[opener]
        return opener * depth + rng.choice(FRAGMENTS) + closer * depth
    if kind == 1:  # very long: many operators and terms
        n = rng.choice([100, 500, 1000, 1001, 1500])
        return rng.choice(OPERATORS).join(rng.choice(["a", "1", "pupils", "1e12", "0.5"]) for _ in range(n))
    if kind == 2:  # huge or odd literals in arithmetic
        lit = rng.choice(["1e29", "1e12", "999999999999.99", "1" * rng.randrange(1, 60), "1e-400", "0x" + "f" * 20,
                          "1" + "0" * rng.randrange(10, 400), "1e308 * 10", "5e-324"])
        return f"round(pupils * {lit}, {rng.randrange(0, 12)})"
    if kind == 3:  # a fragment inside an otherwise valid formula
        return f"if(pupils > 0, {rng.choice(FRAGMENTS)} / pupils, 0)"
    if kind == 4:  # random characters, printable and not
        alphabet = "abz_019().,+-*/<>=!#'\"\\ \t\n[]{}:;@$%^&|~`?" + "×÷éа𝟏\u200b\x00"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 80)))
    # kinds 5-9: a few fragments glued together
    return rng.choice(["", " "]).join(
        rng.choice(FRAGMENTS) + rng.choice([*OPERATORS, ""]) for _ in range(rng.randrange(1, 8))).strip(" ,")


CORPUS_SIZE = 6000


def test_a_corpus_of_hostile_formulas_is_refused_with_a_located_message_or_evaluates_safely() -> None:
    rng = random.Random(9013)
    inputs = [dict.fromkeys(("a", "b", "c", "pupils", "teachers_fte", "cpd_hours", "zero"), v)
              for v in (0.0, -0.0, 1.0, 1e12, 1e13, math.inf, math.nan, -1e300, 5e-324, None)]
    refused = accepted = 0
    for _ in range(CORPUS_SIZE):
        text = hostile(rng)
        try:
            f = parse_formula(text)
        except FormulaError as err:
            if text.strip():
                assert "column" in err.message, (text, err.message)
            assert 0 <= err.offset <= len(text)
            refused += 1
            continue
        accepted += 1
        for values in inputs:
            result = evaluate(f, {**values, **{n: rng.choice([1.0, -2.5, 1e11, None]) for n in f.names[:3]}})
            assert result is None or (math.isfinite(result) and abs(result) <= BOUND), (text, result)
    assert refused + accepted == CORPUS_SIZE
    assert refused > CORPUS_SIZE // 2 and accepted > 100  # the corpus exercises both sides
    print(f"hostile formulas tried: {CORPUS_SIZE}, refused: {refused}, accepted and evaluated: {accepted}")
