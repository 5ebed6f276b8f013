"""Issue 9 point 2: versions must not be differenced. A visitor may keep every version of a group's results
for a year (replaced and withdrawn ones too); no combination of them may determine a hidden school's result.
Checked by hand on the examples in docs/method.md and, for random sequences of versions, by the independent
linear-programming checker in tests/disclosure.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from disclosure import Version, determined, ranges
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.suppression import CARRIED, SECONDARY, VERSIONS, Cell, Seen, Suppressed, suppress

Data = Mapping[str, tuple[int, int]]  # school -> (numerator, denominator) in one version
SMALL = "fewer than 6 pupils"


def publish_all(datas: Sequence[Data], min_cohort: int = 6, *, remember: bool = True) -> list[tuple[Suppressed,
                                                                                                    Version]]:
    """Publish each version in turn as the data layer does: each with the earlier ones it may be compared with
    (`remember`), or each on its own (the rule before issue 9)."""
    earlier: list[Seen] = []
    out = []
    for data in datas:
        cells = [Cell(k, n, d) for k, (n, d) in sorted(data.items())]
        prints = {k: f"{n}/{d}" for k, (n, d) in data.items() if d > 0}  # equal exactly when unchanged
        s = suppress(cells, min_cohort, earlier=earlier if remember else (), fingerprints=prints)
        shown = frozenset(k for k in data if k not in s.hidden)
        earlier.append(Seen(frozenset(s.hidden), shown, s.total_hidden is None, prints))
        out.append((s, Version({k: v for k, v in data.items() if v[1] > 0}, shown, s.total_hidden is None)))
    return out


def versions(published: list[tuple[Suppressed, Version]]) -> list[Version]:
    return [v for _, v in published]


# ------------------------------------------------------------------------------ by hand (docs/method.md)

V1 = {"A": (18, 30), "B": (3, 4), "C": (10, 25), "D": (9, 12)}  # the single-version worked example


def test_the_first_version_is_the_single_version_rule() -> None:
    (s, _), = publish_all([V1])
    assert s == suppress([Cell(k, n, d) for k, (n, d) in sorted(V1.items())], 6)
    assert s.hidden == {"B": SMALL, "D": SECONDARY} and s.total_hidden is None


def test_a_correction_to_a_shown_school_republishes_the_same_equation() -> None:
    """C corrected from 10 to 12 of 25: B and D stay hidden, the total is shown (40/71 then 42/71). A reader
    of both gets B + D = 40 - 18 - 10 = 12 and B + D = 42 - 18 - 12 = 12: the same equation, nothing new."""
    pub = publish_all([V1, {**V1, "C": (12, 25)}])
    s2 = pub[1][0]
    assert set(s2.hidden) == {"B", "D"} and s2.total_hidden is None
    assert determined(versions(pub)) == []
    b = next(r for r in ranges(versions(pub)) if r.unknown[0] == "B")
    assert (b.low, b.high) == (0.0, 4.0)  # 12 = B + D with D at most 12: B anywhere from 0 to 4


def test_a_secondary_school_stays_hidden_when_another_becomes_smaller() -> None:
    """C's cohort corrected from 25 to 10 (4 met): C is now the smallest shown school. On its own, v2 would
    hide B and C and show D at 9 of 12: v1's B + D = 12 gives B = 3, and then v2's B + C = 7 gives C = 4.
    Carried forward, D stays hidden."""
    v2 = {**V1, "C": (4, 10)}
    alone = publish_all([V1, v2], remember=False)
    assert set(alone[1][0].hidden) == {"B", "C"}
    assert [(r.unknown[0], r.low) for r in determined(versions(alone))] == [("B", 3.0), ("C", 4.0)]  # the attack
    pub = publish_all([V1, v2])
    s2 = pub[1][0]
    assert s2.hidden == {"B": SMALL, "D": CARRIED} and s2.total_hidden is None
    assert determined(versions(pub)) == []


def test_a_change_at_a_hidden_school_hides_the_new_total() -> None:
    """B had none of 4 (v1: total 37/71, B + D = 9); corrected to 4 of 4 (v2: 41/71, B' + D = 13). Subtracting,
    B' - B = 4, and both lie in 0..4: B was 0 and is 4. The new version's hidden results share D with the old
    one's without being the same: its total is hidden."""
    first = {**V1, "B": (0, 4)}
    second = {**V1, "B": (4, 4)}
    alone = publish_all([first, second], remember=False)
    assert alone[1][0].total_hidden is None
    assert sorted((r.unknown, r.low) for r in determined(versions(alone))) == [
        (("B", 0.0, 4.0), 0.0), (("B", 4.0, 4.0), 4.0), (("D", 9.0, 12.0), 9.0)]  # and then D = 9 - B
    pub = publish_all([first, second])
    assert set(pub[1][0].hidden) == {"B", "D"} and pub[1][0].total_hidden == VERSIONS
    assert determined(versions(pub)) == []


def test_a_school_leaving_cannot_be_subtracted_out() -> None:
    """D leaves after v1. v2 alone would hide B and C (its total 28/59 gives B + C = 13), but C was shown in v1
    at 10 of 25 and has not changed: B = 13 - 10 = 3. Hiding C protects nothing now, so the total is hidden."""
    v2 = {k: v for k, v in V1.items() if k != "D"}
    alone = publish_all([V1, v2], remember=False)
    assert set(alone[1][0].hidden) == {"B", "C"}
    assert [(r.unknown[0], r.low) for r in determined(versions(alone))] == [("B", 3.0), ("D", 9.0)]
    pub = publish_all([V1, v2])
    assert pub[1][0].hidden == {"B": SMALL} and pub[1][0].total_hidden == VERSIONS
    assert determined(versions(pub)) == []


def test_republishing_unchanged_shows_everything_again() -> None:
    pub = publish_all([V1, V1, V1])
    assert [set(s.hidden) for s, _ in pub] == [{"B", "D"}] * 3 and all(s.total_hidden is None for s, _ in pub)


def test_an_older_version_without_fingerprints_is_not_compared_but_hides_the_total() -> None:
    old = Seen(frozenset({"B", "D"}), frozenset({"A", "C"}), True, None)
    s = suppress([Cell(k, n, d) for k, (n, d) in sorted(V1.items())], 6, earlier=[old],
                 fingerprints={k: f"{n}/{d}" for k, (n, d) in V1.items()})
    assert set(s.hidden) == {"B", "D"} and s.total_hidden == VERSIONS


# ------------------------------------------------------------------------------ properties


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, tuple[int, int]]], int]:
    """A group's results over 2-4 versions: cohorts 1-60, results changing, schools joining and leaving."""
    min_cohort = draw(st.integers(2, 10))
    # small cohorts often (they are what suppression is for), any cohort up to 60 too
    cell = st.one_of(st.integers(1, 12), st.integers(1, 60)).flatmap(
        lambda d: st.tuples(st.integers(0, d), st.just(d)))
    n = draw(st.integers(2, 7))
    data = {f"s{i}": draw(cell) for i in range(n)}
    out = [dict(data)]
    fresh = n
    for _ in range(draw(st.integers(1, 3))):
        data = dict(data)
        for _ in range(draw(st.integers(0, 3))):
            op = draw(st.sampled_from(["value", "cohort", "leave", "join", "same"]))
            keys = sorted(data)
            if op == "join" or not keys:
                data[f"s{fresh}"] = draw(cell)
                fresh += 1
            elif op == "leave" and len(keys) > 1:
                del data[draw(st.sampled_from(keys))]
            elif op == "value":
                k = draw(st.sampled_from(keys))
                data[k] = (draw(st.integers(0, data[k][1])), data[k][1])
            elif op == "cohort":
                data[draw(st.sampled_from(keys))] = draw(cell)
        out.append(data)
    return out, min_cohort


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_no_sequence_of_versions_determines_a_hidden_result(history: tuple[list[dict], int]) -> None:
    datas, min_cohort = history
    pub = publish_all(datas, min_cohort)
    assert determined(versions(pub)) == []
    for i, (s, _) in enumerate(pub):
        for k, (_num, den) in datas[i].items():
            if k not in s.hidden:
                assert den >= min_cohort, (i, k)  # no shown school is small
        for later, (s_later, _) in zip(datas[i + 1:], pub[i + 1:], strict=True):
            assert set(s.hidden) & set(later) <= set(s_later.hidden)  # once hidden, hidden while it has a value
