"""Suppression for publication: no shown school has a cohort under the minimum, and no hidden value can be
worked out from the group total and the shown schools (docs/method.md, "Publication and suppression")."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.suppression import SECONDARY, Cell, Suppressed, suppress


def cells(*dens: int, rate: float = 0.5) -> list[Cell]:
    return [Cell(f"{100001 + i}", round(d * rate), d) for i, d in enumerate(dens)]


# ------------------------------------------------------------------------------ by hand


def test_nothing_hidden_when_every_school_is_big_enough() -> None:
    assert suppress(cells(30, 40, 50), 6) == Suppressed({}, None)


def test_one_small_school_hides_the_next_smallest() -> None:
    s = suppress(cells(30, 4, 50, 20), 6)
    assert s.hidden == {"100002": "fewer than 6 pupils", "100004": SECONDARY}
    assert s.total_hidden is None


def test_two_small_schools_below_the_minimum_together_hide_a_third() -> None:
    s = suppress(cells(2, 3, 40, 30), 6)
    assert s.hidden == {"100001": "fewer than 6 pupils", "100002": "fewer than 6 pupils", "100004": SECONDARY}
    assert s.total_hidden is None


def test_two_small_schools_that_reach_the_minimum_together_protect_each_other() -> None:
    assert suppress(cells(3, 4, 40), 6).hidden == {"100001": "fewer than 6 pupils", "100002": "fewer than 6 pupils"}


def test_ties_are_broken_by_key() -> None:
    c = [Cell("b", 10, 20), Cell("a", 10, 20), Cell("c", 1, 3)]
    assert suppress(c, 6).hidden == {"c": "fewer than 6 pupils", "a": SECONDARY}


def test_whole_group_below_the_minimum_hides_the_total_and_every_school() -> None:
    s = suppress(cells(2, 1, 2), 6)
    assert set(s.hidden) == {"100001", "100002", "100003"}
    assert s.total_hidden == "fewer than 6 pupils in all the schools together"


def test_a_single_small_school_hides_the_total() -> None:
    s = suppress(cells(4), 6)
    assert s.hidden == {"100001": "fewer than 6 pupils"} and s.total_hidden


def test_hidden_schools_all_at_100_percent_hide_the_total() -> None:
    c = [Cell("a", 4, 4), Cell("b", 10, 10), Cell("c", 20, 30)]
    s = suppress(c, 6)
    assert set(s.hidden) == {"a", "b"}  # the same cells as if the total were shown: the pattern says nothing
    assert s.total_hidden and "worked out" in s.total_hidden
    # a progress score has no bounds: nothing is pinned by the combined value, so the total stays
    assert suppress(c, 6, bounds=(None, None)).total_hidden is None


def test_without_a_total_only_small_schools_are_hidden() -> None:
    assert suppress(cells(30, 4, 50), 6, total_published=False).hidden == {"100002": "fewer than 6 pupils"}


def test_unknown_cohort_with_a_value_is_hidden_and_no_value_is_left_alone() -> None:
    c = [Cell("a", 5, None), Cell("b", None, None), Cell("c", None, 3), Cell("d", 20, 40), Cell("e", 9, 30)]
    s = suppress(c, 6)
    assert "a" in s.hidden and "may be fewer than 6" in s.hidden["a"]
    assert "b" not in s.hidden
    assert s.hidden["c"] == "fewer than 6 pupils"  # no value to protect, but the cohort is small all the same
    assert "d" not in s.hidden and "e" not in s.hidden and s.total_hidden is None


def test_a_school_with_no_pupils_does_not_protect_another() -> None:
    s = suppress([Cell("a", 0, 0), Cell("b", 3, 5), Cell("c", 10, 20), Cell("d", 12, 30)], 6)
    assert set(s.hidden) == {"a", "b", "c"}


# ------------------------------------------------------------------------------ property

# cohorts 0-300, with small ones (near any minimum) drawn often enough to exercise every rule
schools = st.lists(
    st.one_of(st.integers(0, 25), st.integers(0, 300)).flatmap(lambda d: st.tuples(st.just(d), st.integers(0, d))),
    min_size=1, max_size=15,
)


def pinned(hidden: list[tuple[int, int]], i: int) -> bool:
    """Whether hidden cell i's numerator is the same in every filling of the hidden numerators that keeps each
    within 0..denominator and adds up to the sum the total and the shown cells give away. Shown concretely:
    move one pupil between cell i and another hidden cell; both fillings are consistent, the values differ."""
    h_i, d_i = hidden[i]
    for j, (h_j, d_j) in enumerate(hidden):
        if j == i:
            continue
        for step in (1, -1):  # i gains a pupil that j loses, or the other way round
            a, b = h_i + step, h_j - step
            if 0 <= a <= d_i and 0 <= b <= d_j:
                other = [list(x) for x in hidden]
                other[i][0], other[j][0] = a, b
                assert sum(x[0] for x in other) == sum(x[0] for x in hidden)  # same published total
                assert a / d_i != h_i / d_i  # a different value for cell i
                return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schools, st.integers(1, 20), st.booleans())
def test_no_shown_cell_is_small_and_no_hidden_value_can_be_worked_out(groups: list[tuple[int, int]],
                                                                       min_cohort: int, total: bool) -> None:
    c = [Cell(str(100000 + i), float(n), float(d)) for i, (d, n) in enumerate(groups)]
    s = suppress(c, min_cohort, total_published=total)
    assert s == suppress(list(c), min_cohort, total_published=total)  # deterministic
    shown = [x for x in c if x.key not in s.hidden]
    assert all(x.denominator >= min_cohort for x in shown)
    if not total:
        assert s.total_hidden is None
        return
    if s.total_hidden is not None:
        return  # no total to subtract from: only the bounds 0..denominator are known of each hidden cell
    hidden = [(int(x.numerator), int(x.denominator)) for x in c if x.key in s.hidden and x.denominator > 0]
    assert not hidden or (len(hidden) >= 2 and sum(d for _, d in hidden) >= min_cohort)
    # what a reader learns: the total numerator minus the shown numerators = the hidden numerators' sum
    published = sum(x.numerator for x in c) - sum(x.numerator for x in shown)
    assert published == sum(h for h, _ in hidden)
    for i in range(len(hidden)):
        assert not pinned(hidden, i), (hidden, i)


@settings(max_examples=200, deadline=None)
@given(schools, st.integers(1, 20))
def test_whole_group_below_the_minimum_shows_nothing(groups: list[tuple[int, int]], min_cohort: int) -> None:
    c = [Cell(str(i), float(n), float(d)) for i, (d, n) in enumerate(groups)]
    s = suppress(c, min_cohort)
    if sum(d for d, _ in groups) < min_cohort:
        assert s.total_hidden and set(s.hidden) == {x.key for x in c}


def test_the_worked_example_in_the_method() -> None:
    a, c = Cell("A", 18, 30), Cell("C", 10, 25)
    s = suppress([a, Cell("B", 3, 4), c, Cell("D", 9, 12)], 6)
    assert s.hidden == {"B": "fewer than 6 pupils", "D": SECONDARY} and s.total_hidden is None
    s = suppress([a, Cell("B", 1, 2), c, Cell("D", 1, 3)], 6)
    assert set(s.hidden) == {"B", "C", "D"} and s.total_hidden is None
    s = suppress([a, Cell("B", 4, 4), c, Cell("D", 12, 12)], 6)
    assert set(s.hidden) == {"B", "D"} and s.total_hidden
