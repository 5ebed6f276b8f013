"""The formula language of local measures: hand-computed values, every refusal's exact message, cycles."""

from __future__ import annotations

import pytest

from metrics.formula import MAX_LENGTH, Circle, Formula, FormulaError, evaluate, formula_cycles, parse_formula

VALUES = {"cpd_hours": 420.0, "teachers_fte": 12.0, "support_hours_given": 90.0, "support_hours_received": 30.0,
          "pupils": 400.0, "a": 3.0, "b": -5.0, "x": 7.0, "zero": 0.0}


@pytest.mark.parametrize(("text", "expected"), [
    ("cpd_hours / teachers_fte", 35.0),  # 420 / 12
    ("(support_hours_given - support_hours_received) / pupils * 100", 15.0),  # (90 - 30) / 400 * 100
    ("cpd_hours ÷ teachers_fte × 2", 70.0),  # the × ÷ signs people type
    ("max(a, b)", 3.0),
    ("min(a, b, x)", -5.0),
    ("abs(b)", 5.0),
    ("-a + +x", 4.0),
    ("round(cpd_hours / 11, 1)", 38.2),  # 38.1818…
    ("round(2.5)", 3.0),  # halves round away from zero, as in a spreadsheet
    ("round(-2.5)", -3.0),
    ("round(2.675, 2)", 2.68),  # 2.675 is 2.67499… as a float; rounded as written
    ("if(pupils > 0, x / pupils * 1000, 0)", 17.5),
    ("if(zero > 0, x / zero, -1)", -1.0),  # the branch not taken is never evaluated
    ("iff(a == 3, 1, 2)", 1.0),
    ("if (a != 3, 1, 2)", 2.0),
    ("(a >= 3) + (a <= 2) + (a < 4) * 10", 11.0),  # a comparison is 1 or 0
    ("2 * (3 + 4) / 7", 2.0),
    ("teachers_fte\n  / 4", 3.0),  # a line break in a form's text box is a space
])
def test_valid_formulas_evaluate_to_hand_computed_numbers(text: str, expected: float) -> None:
    assert evaluate(parse_formula(text), VALUES) == pytest.approx(expected, abs=1e-12)


def test_a_formula_knows_its_text_and_the_measures_it_uses() -> None:
    f = parse_formula("if(pupils > 0, (support_hours_given - support_hours_received) / pupils, pupils)")
    assert f == Formula("if(pupils > 0, (support_hours_given - support_hours_received) / pupils, pupils)",
                        ("pupils", "support_hours_given", "support_hours_received"), f.tree)
    assert parse_formula("2 + 3").names == ()


@pytest.mark.parametrize(("text", "message", "offset"), [
    ("__import__('os')", '"__import__" at column 1: names starting with an underscore are not allowed', 0),
    ("a.b", '"a.b" at column 1: attributes (a dot after a name) are not allowed', 0),
    ("1 + a.__class__", '"a.__class__" at column 5: attributes (a dot after a name) are not allowed', 4),
    ("a[0]", '"a[0]" at column 1: indexing with [ ] is not allowed', 0),
    ("'text'", "\"'text'\" at column 1: text in quotes is not allowed; a formula works with numbers", 0),
    ('f"{a}"', '"f"{a}"" at column 1: text in quotes is not allowed; a formula works with numbers', 0),
    ("a ** 2", '"a ** 2" at column 1: powers (**) are not allowed; multiply instead (a * a)', 0),
    ("lambda: 1", '"lambda: 1" at column 1: lambda functions are not allowed', 0),
    ("a and b", "\"a and b\" at column 1: 'and' is not allowed; use if(condition, then, else)", 0),
    ("a or b", "\"a or b\" at column 1: 'or' is not allowed; use if(condition, then, else)", 0),
    ("not a", "\"not a\" at column 1: 'not' is not allowed; compare instead (a == 0)", 0),
    ("open(x)", '"open(x)" at column 1: open is not a function here; the functions are min, max, abs, round, if', 0),
    ("a.b()", '"a.b()" at column 1: only the functions min, max, abs, round, if can be called', 0),
    ("a % 2", '"a % 2" at column 1: the remainder operator % is not allowed', 0),
    ("a // 2", '"a // 2" at column 1: whole-number division (//) is not allowed; use / and round()', 0),
    ("a & b", '"a & b" at column 1: bit operations (&) are not allowed', 0),
    ("a ^ 2", '"a ^ 2" at column 1: bit operations (^) are not allowed; for powers multiply instead (a * a)', 0),
    ("~a", '"~a" at column 1: bit operations (~) are not allowed', 0),
    ("a < b < x", '"a < b < x" at column 1: chained comparisons are not allowed; compare two things at a time', 0),
    ("a in b", "\"a in b\" at column 1: 'in' comparisons are not allowed; use < <= > >= == !=", 0),
    ("[a for a in b]", '"[a for a in b]" at column 1: comprehensions are not allowed', 0),
    ("(a, b)", '"(a, b)" at column 1: lists, tuples, sets and dicts are not allowed', 0),
    ("x if a else b", "\"x if a else b\" at column 1: 'x if c else y' is not allowed; write if(c, x, y)", 0),
    ("(y := 2)", '"y := 2" at column 2: assignments (:=) are not allowed', 1),
    ("round(a, ndigits=1)", '"round(a, ndigits=1)" at column 1: keyword arguments (name=value) are not allowed '
                            "in round()", 0),
    ("max(*a)", '"max(*a)" at column 1: * arguments are not allowed in max()', 0),
    ("max(a)", '"max(a)" at column 1: max() takes at least 2 arguments, not 1', 0),
    ("if(a, b)", '"if(a, b)" at column 1: if() takes 3 arguments (condition, then, else), not 2', 0),
    ("round(a, b)", "\"b\" at column 10: round()'s digits must be a whole number from 0 to 10", 9),
    ("max + 1", '"max" at column 1: max is a function: call it with brackets, e.g. max(a, b)', 0),
    ("True", '"True" at column 1: True is not allowed; only numbers and measure ids', 0),
    ("None", '"None" at column 1: None is not allowed; only numbers and measure ids', 0),
    ("1j", '"1j" at column 1: imaginary numbers (j) are not allowed', 0),
    ("1e999", '"1e999" at column 1: numbers in a formula are limited to 1,000,000,000,000 (1e12) either side '
              "of zero", 0),
    ("Pupils / 2", "\"Pupils\" at column 1: 'Pupils' is not a measure id (ids are lowercase letters, digits and "
                   "underscores, starting with a letter)", 0),
    ("pupils × 2 + if(a, b, x) ** 2", '"if(a, b, x) ** 2" at column 14: powers (**) are not allowed; '
                                      "multiply instead (a * a)", 13),  # columns count × as one character
    ("café / 2", "the character 'é' at column 4 is not allowed", 3),
    ("a +", "the formula cannot be read at column 4: invalid syntax", 3),
    ("if(a, b", "the formula cannot be read at column 3: '(' was never closed", 2),
    ("a b", "the formula cannot be read at column 3: invalid syntax", 2),
    ("   ", "the formula is empty", 0),
    ("-" * 30 + "a", '"a" at column 31: the formula nests deeper than 30 levels', 30),  # a is the 31st level
    ("a" * (MAX_LENGTH + 1), f"the formula is {MAX_LENGTH + 1:,} characters long; the limit is {MAX_LENGTH:,} "
                             f"(column {MAX_LENGTH + 1:,} is past it)", MAX_LENGTH),
])
def test_each_forbidden_construct_has_its_precise_message(text: str, message: str, offset: int) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert (caught.value.message, caught.value.offset) == (message, offset)
    assert str(caught.value) == message


def test_a_long_offending_text_is_shortened_in_the_message() -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula("a.b" + "c" * 60)
    assert caught.value.message == '"a.b' + "c" * 36 + '…" at column 1: attributes (a dot after a name) are not allowed'


def test_a_formula_at_the_limits_is_accepted() -> None:
    assert parse_formula("a" * MAX_LENGTH).names == ("a" * MAX_LENGTH,)
    assert evaluate(parse_formula("-" * 29 + "a"), {"a": 2.0}) == -2.0  # 30 levels: 29 signs and a


def test_a_missing_input_gives_none() -> None:
    f = parse_formula("cpd_hours / teachers_fte")
    assert evaluate(f, {"cpd_hours": 420.0, "teachers_fte": None}) is None
    assert evaluate(f, {"cpd_hours": 420.0}) is None  # absent is unknown, not zero
    assert evaluate(f, {"cpd_hours": 420.0, "teachers_fte": float("nan")}) is None  # pandas' "no value"
    assert evaluate(parse_formula("max(a, b)"), {"a": 1.0, "b": None}) is None
    assert evaluate(parse_formula("if(a > 0, 1, 2)"), {"a": None}) is None


def test_an_input_only_in_the_branch_not_taken_is_not_needed() -> None:
    f = parse_formula("if(teachers_fte > 0, cpd_hours / teachers_fte, 0)")
    assert evaluate(f, {"teachers_fte": 0.0, "cpd_hours": None}) == 0.0
    assert evaluate(f, {"teachers_fte": 2.0, "cpd_hours": None}) is None


def test_division_by_zero_gives_none_never_an_exception() -> None:
    assert evaluate(parse_formula("cpd_hours / teachers_fte"), {"cpd_hours": 1.0, "teachers_fte": 0.0}) is None
    assert evaluate(parse_formula("1 / (a - 3)"), {"a": 3.0}) is None
    assert evaluate(parse_formula("(1 / zero) * 0 + 5"), {"zero": 0.0}) is None


def test_an_overflow_gives_none() -> None:
    assert evaluate(parse_formula("a * a * a"), {"a": 1e200}) is None


def test_cycles_are_found_with_their_paths() -> None:
    definitions = {
        "a": parse_formula("b + 1"),
        "b": parse_formula("a * c"),  # a → b → a
        "c": parse_formula("c / 2"),  # c → c
        "d": parse_formula("e"),
        "e": parse_formula("f + pupils"),
        "f": parse_formula("d - 1"),  # d → e → f → d
        "g": parse_formula("a + pupils"),  # uses a cycle but is not in one
    }
    assert formula_cycles(definitions) == [Circle(("a", "b", "a"), ("a", "b")), Circle(("c", "c"), ("c",)),
                                           Circle(("d", "e", "f", "d"), ("d", "e", "f"))]


def test_no_cycles_in_a_chain_or_a_diamond() -> None:
    definitions = {"top": parse_formula("left + right"), "left": parse_formula("base * 2"),
                   "right": parse_formula("base / 2"), "base": parse_formula("pupils")}
    assert formula_cycles(definitions) == []


def test_a_circle_is_reported_once_starting_at_its_first_member_by_its_shortest_way_round() -> None:
    # two cycles share a and b (a → b → a and a → b → c → a): one circle of three measures
    definitions = {"a": parse_formula("b"), "b": parse_formula("a + c"), "c": parse_formula("a")}
    assert formula_cycles(definitions) == [Circle(("a", "b", "a"), ("a", "b", "c"))]
