"""Issue 9, point 18: the checker's messages must not tell a group's governor which ids exist in other groups.

The attack: write a formula naming a guessed id and read the answer. Before, an id of another group got
"another group's local measure" and any other id "not a measure id": an oracle for other groups' measures.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.validation import Issue, national_ids, validate_definitions

FORM_MEASURE = {"id": "leaders_pct", "label": "Pupils in a leadership role",
                "description": "Share of pupils who hold a leadership role in school.", "perspective": "curriculum",
                "unit": "%", "polarity": "higher_better", "phases": ["primary"], "rollup": "weighted_mean",
                "scale": 1, "owner": "7"}


def formula_issues(formula: str, others: set[str]) -> list[Issue]:
    """The issues of one of group 7's measures with this formula, when other groups hold `others`."""
    mine = {**FORM_MEASURE, "id": "my_ratio", "label": "My ratio", "formula": formula}
    return validate_definitions([mine, FORM_MEASURE], source="form", known_ids=national_ids() | others,
                                group_members_only=True)


def test_another_groups_id_gets_the_same_words_as_an_id_that_exists_nowhere() -> None:
    theirs = formula_issues("leaders_pct / their_events", {"their_events"})
    nowhere = formula_issues("leaders_pct / their_events", set())
    assert theirs == nowhere == [
        Issue("form", "my_ratio", "formula", None, "formula uses 'their_events', which is not a measure this group "
              "can use (a formula may use national measures and the group's own)")]


def test_did_you_mean_suggests_only_national_ids_and_the_groups_own() -> None:
    # their_events_pct is another group's; a near miss of it must not be corrected towards it
    assert formula_issues("leaders_pct / their_event_pct", {"their_events_pct"}) == [
        Issue("form", "my_ratio", "formula", None, "formula uses 'their_event_pct', which is not a measure this "
              "group can use (a formula may use national measures and the group's own)")]
    assert formula_issues("leader_pct / pupil", {"leader_pcts", "pupil_"}) == [
        Issue("form", "my_ratio", "formula", None, "formula uses 'leader_pct', which is not a measure this group "
              "can use (a formula may use national measures and the group's own); did you mean 'leaders_pct'?"),
        Issue("form", "my_ratio", "formula", None, "formula uses 'pupil', which is not a measure this group can "
              "use (a formula may use national measures and the group's own); did you mean 'pupils'?"),
    ]


IDS = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(IDS, min_size=1, max_size=4), st.sets(IDS, max_size=6), st.sampled_from([" + ", " / ", ", "]))
def test_no_answer_of_the_checker_depends_on_other_groups_ids(used: list[str], others: set[str], op: str) -> None:
    """Whatever a formula names, every issue but an id clash reads the same whether the names exist elsewhere."""
    formula = f"max({op.join(used)}, 0)" if op == ", " else op.join(used)
    others = others - {"my_ratio"}  # an id clash on the measure's own id is the one remaining signal (see the docs)
    with_others = formula_issues(formula, others | set(used))
    without = formula_issues(formula, set())
    assert with_others == without


# ------------------------------------------------------------------------------ circles (point 13), in the form


def measure(mid: str, formula: str) -> dict:
    return {**FORM_MEASURE, "id": mid, "label": f"Measure {mid}", "formula": formula}


def test_a_long_ring_is_one_issue_with_its_path_shortened_in_the_middle() -> None:
    n = 2000
    ring = [measure(f"m{i}", f"m{(i + 1) % n} + 1") for i in range(n)]
    issues = [i for i in validate_definitions(ring, source="form", group_members_only=True) if i.field == "formula"]
    assert issues == [Issue("form", "m0", "formula", None, "the formula goes round in a circle: m0 → m1 → m2 → m3 → "
                            "m4 → m5 → m6 → m7 → m8 → … → m1999 → m0 (2,000 steps)")]


def test_measures_caught_in_a_circle_off_its_shortest_way_round_are_named() -> None:
    # a → b → a is the shortest way round; c and d are in the same circle (b → c → d → a)
    defs = [measure("a", "b"), measure("b", "a + c"), measure("c", "d"), measure("d", "a")]
    assert [i.message for i in validate_definitions(defs, source="form", group_members_only=True)] == [
        "the formula goes round in a circle: a → b → a; also caught in it: c, d"]
