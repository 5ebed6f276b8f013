"""Issue 13 point 4: pupil-group cells under primary and secondary suppression. A school's disadvantaged (D) and
not-disadvantaged (N) cells add up to its total (D + N = T); a reader holding the school totals shown, the group
total, the D and N cells shown and the group's pooled D value must not be able to work out any hidden cell (nor a
hidden school total). Checked by hand on docs/method.md's example and, for random groups, by the independent
linear-programming checker in tests/disclosure.py."""

from __future__ import annotations

from collections.abc import Mapping

from disclosure import pinned_unknowns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.suppression import DIS, GROUP_PAIR, OTH, SECONDARY, Cell, GroupSuppressed, suppress_groups

School = tuple[int, int, int, int]  # (D met, D pupils, N met, N pupils); T = D + N
SMALL = "fewer than 6 pupils"


def cells(schools: Mapping[str, School]) -> tuple[list[Cell], dict[str, Cell], dict[str, Cell]]:
    totals = [Cell(k, dn + nn, dd + nd) for k, (dn, dd, nn, nd) in sorted(schools.items())]
    dis = {k: Cell(k, dn if dd else None, dd) for k, (dn, dd, _, _) in schools.items()}
    oth = {k: Cell(k, nn if nd else None, nd) for k, (_, _, nn, nd) in schools.items()}
    return totals, dis, oth


def publish(schools: Mapping[str, School], min_cohort: int = 6, hi: float | None = 1.0) -> GroupSuppressed:
    totals, dis, oth = cells(schools)
    return suppress_groups(totals, dis, oth, min_cohort, bounds=(0.0, hi))


def pinned(schools: Mapping[str, School], g: GroupSuppressed, hi: float | None = 1.0) -> list[str]:
    """Everything the reader holds, as equations over the hidden numbers; the hidden cells it pins down.

    Written from the published facts alone (not from metrics.suppression's network): each school with pupils
    has D + N - T = 0, a shown number moved to the right; the group total (when shown) sums the totals; the pooled
    disadvantaged value (when shown) sums the D cells."""
    s = g.totals
    unknowns: dict[str, tuple[float | None, float | None]] = {}
    equations: list[tuple[dict[str, float], float]] = []
    group_total: dict[str, float] = {}
    group_rhs = 0.0
    pooled: dict[str, float] = {}
    pooled_rhs = 0.0
    for k, (dn, dd, nn, nd) in sorted(schools.items()):
        if dd + nd == 0:
            continue
        eq: dict[str, float] = {}
        rhs = 0.0
        for grp, num, den in ((DIS, dn, dd), (OTH, nn, nd)):
            if den == 0:
                continue
            if g.is_hidden(k, grp):
                unknowns[f"{k}.{grp}"] = (0.0, None if hi is None else hi * den)
                eq[f"{k}.{grp}"] = 1.0
            else:
                rhs -= num
            if grp == DIS:
                if g.is_hidden(k, DIS):
                    pooled[f"{k}.{DIS}"] = 1.0
                else:
                    pooled_rhs -= num
                pooled_rhs += num
        if s.is_hidden(k):
            unknowns[f"{k}.total"] = (0.0, None if hi is None else hi * (dd + nd))
            eq[f"{k}.total"] = -1.0
            group_total[f"{k}.total"] = 1.0
        else:
            rhs += dn + nn
        group_rhs += dn + nn if s.is_hidden(k) else 0.0
        equations.append((eq, rhs))
    if s.total_hidden is None:
        equations.append((group_total, group_rhs))
    if g.pooled_hidden is None:
        equations.append((pooled, pooled_rhs))
    return pinned_unknowns(unknowns, equations)


# ------------------------------------------------------------------------------ by hand (docs/method.md)

# Four secondary schools' Grade 4+ in English and maths: (disadvantaged met, of, others met, of)
EXAMPLE = {"A": (6, 10, 14, 20), "B": (1, 4, 15, 26), "C": (5, 9, 10, 16), "D": (2, 8, 7, 12)}


def test_the_worked_example() -> None:
    """B's 4 disadvantaged pupils are hidden (primary), and so is B's other pupils' cell (B's total 16 of 30 is
    shown: 16 - N would give D). The pooled disadvantaged value (14 of 31) would give B's D from the others' shown
    cells, so the smallest other disadvantaged cohort (D's 8) is hidden as well, and D's other pupils with it."""
    g = publish(EXAMPLE)
    assert g.totals.hidden == {} and g.totals.total_hidden is None
    assert g.hidden == {("B", DIS): SMALL, ("B", OTH): GROUP_PAIR,
                        ("D", DIS): "hidden so that another school's small group of disadvantaged pupils cannot be "
                                    "worked out from the partnership's value",
                        ("D", OTH): GROUP_PAIR}
    assert g.pooled_hidden is None
    assert pinned(EXAMPLE, g) == []


def test_a_hidden_total_hides_its_groups() -> None:
    schools = {**EXAMPLE, "E": (1, 2, 2, 3)}  # 5 pupils: E's total is hidden, and D's (secondary) with it
    g = publish(schools)
    assert set(g.totals.hidden) == {"E", "B"} or "E" in g.totals.hidden
    assert g.is_hidden("E", DIS) and g.is_hidden("E", OTH)
    assert pinned(schools, g) == []


def test_a_shown_total_at_100_percent_is_hidden_when_its_small_group_is() -> None:
    """B's pupils all met it (4 of 4 and 26 of 26): its shown total 30 of 30 would say its 4 disadvantaged pupils
    all did, so B's total is hidden too (and one more school's, secondary)."""
    schools = {**EXAMPLE, "B": (4, 4, 26, 26)}
    g = publish(schools)
    assert g.totals.is_hidden("B") and g.totals.hidden["B"] == "hidden so that a small group of pupils' result " \
                                                               "cannot be worked out from it"
    assert pinned(schools, g) == []


def test_a_lone_school_without_the_pooled_equation() -> None:
    g = publish({"A": (1, 4, 20, 30)})
    assert g.is_hidden("A", DIS) and g.is_hidden("A", OTH) and g.pooled_hidden is not None
    assert pinned({"A": (1, 4, 20, 30)}, g) == []


def test_the_secondary_choice_reads_only_cohorts() -> None:
    assert SECONDARY  # the D cells' secondary hiding is metrics.suppression.suppress's own rule 2


# ------------------------------------------------------------------------------ random groups


@st.composite
def schools(draw: st.DrawFn) -> dict[str, School]:
    n = draw(st.integers(1, 10))
    out: dict[str, School] = {}
    for i in range(n):
        dd = draw(st.one_of(st.integers(0, 5), st.integers(0, 12), st.integers(0, 40)))
        nd = draw(st.one_of(st.integers(0, 8), st.integers(0, 80)))
        dn = draw(st.one_of(st.just(0), st.just(dd), st.integers(0, dd)))
        nn = draw(st.one_of(st.just(0), st.just(nd), st.integers(0, nd)))
        out[f"s{i:02d}"] = (dn, dd, nn, nd)
    return out


@settings(max_examples=350, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schools(), st.integers(2, 10), st.sampled_from([1.0, None]))
def test_no_hidden_cell_can_be_worked_out(group: dict[str, School], min_cohort: int, hi: float | None) -> None:
    g = publish(group, min_cohort, hi)
    assert pinned(group, g, hi) == []
    for k, (_dn, dd, _nn, nd) in group.items():
        for grp, den in ((DIS, dd), (OTH, nd)):
            if den and not g.is_hidden(k, grp):
                assert den >= min_cohort  # no shown cell has a cohort under the minimum
                assert not g.totals.is_hidden(k)  # a hidden total hides its groups
        if dd and nd and g.is_hidden(k, DIS) != g.is_hidden(k, OTH):
            raise AssertionError(f"{k}: one group hidden and not the other")


def test_a_group_the_file_withheld_hides_the_other_group() -> None:
    """DfE withheld B's disadvantaged pupils' value (4 pupils, no value): with B's total and its other pupils shown,
    T - N would give it back, so the other pupils' cell is hidden too."""
    totals, dis, oth = cells(EXAMPLE)
    dis["B"] = Cell("B", None, 4)
    g = suppress_groups(totals, dis, oth, 6)
    assert g.hidden[("B", OTH)] == GROUP_PAIR and ("B", DIS) not in g.hidden
