"""Families a head would call similar: same phase and kind, DfE's context variables, a similarity score, on toy
sets computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.families import (
    DEFAULT_WEIGHTS,
    FAMILY_VARIABLES,
    KIND_LABELS,
    nearest,
    nearest_to,
    school_kind,
    similarity,
)


# issue 11 point 13
@pytest.mark.parametrize(("phase", "type_name", "policy", "ages", "kind"), [
    ("secondary", "Academy converter", "Non-selective", (11, 18), "mainstream"),
    ("secondary", "Foundation school", "Selective", (11, 18), "selective"),
    ("secondary", "University technical college", "Non-selective", (14, 19), "utc"),
    ("secondary", "Studio schools", "Not applicable", (14, 19), "studio"),
    ("secondary", "Academy converter", "Non-selective", (9, 13), "middle"),  # middle deemed secondary
    ("primary", "Community school", "Not applicable", (8, 12), "middle"),  # middle deemed primary
    ("primary", "Community school", "Not applicable", (4, 11), "mainstream"),
    ("primary", "Community school", None, (None, None), "mainstream"),  # GIAS silent: a mainstream school
    ("special", "Community special school", "Not applicable", (2, 19), "special"),
    ("alternative", "Pupil referral unit", "Not applicable", (11, 16), "alternative"),
    ("all_through", "Free schools", "Non-selective", (4, 18), "mainstream"),
    # by GIAS type, as levels judge it, even where the row gives a mainstream phase (metrics.comparators)
    ("secondary", "Pupil referral unit", "Not applicable", (11, 16), "alternative"),
    ("primary", "Academy special converter", "Not applicable", (4, 11), "special"),
])
def test_kind_of_school_from_gias(phase, type_name, policy, ages, kind):
    assert school_kind(phase, type_name, policy, *ages) == kind
    assert KIND_LABELS[kind]  # every kind has words for the page


# issue 11 point 13
def test_dfe_context_variables_and_stated_defaults():
    # DfE's similar-schools model: disadvantaged (PPPerc), EAL, SEN support, EHC plans, pupils, KS2 prior
    # attainment (secondaries); our files carry these; FSM now and all-SEN are offered but off by default
    assert set(FAMILY_VARIABLES) >= {"disadvantaged_pct", "eal_pct", "sen_support_pct", "ehcp_pct", "pupils",
                                     "ks4_prior_attainment", "fsm_pct", "sen_pct"}
    on = {v for v, w in DEFAULT_WEIGHTS.items() if w > 0}
    assert on == {"disadvantaged_pct", "eal_pct", "sen_support_pct", "ehcp_pct", "pupils", "ks4_prior_attainment"}
    assert DEFAULT_WEIGHTS["fsm_pct"] == 0 and DEFAULT_WEIGHTS["sen_pct"] == 0


# issue 11 point 13
def test_a_grammar_school_is_not_in_a_comprehensives_family_unless_asked():
    # one standardised variable; school 0 (comprehensive) at 0, grammar 1 at 0.1 (the nearest on context),
    # comprehensives 2 at 0.5 and 3 at 2.0. Its family of two: 2 then 3 (0.5 and 2.0 away), never the grammar.
    z = np.array([[0.0], [0.1], [0.5], [2.0]])
    kinds = np.array(["mainstream", "selective", "mainstream", "mainstream"])
    w = np.array([1.0])
    idx, dist = nearest_to(z, 0, w, 2, allowed=kinds == kinds[0])
    assert idx.tolist() == [2, 3] and dist.tolist() == pytest.approx([0.5, 2.0])
    # asked for all kinds of the phase: the grammar school is first, 0.1 away
    idx, dist = nearest_to(z, 0, w, 2)
    assert idx.tolist() == [1, 2] and dist.tolist() == pytest.approx([0.1, 0.5])
    # the precomputed families, by kind: the grammar school's family is only itself's kind (none here)
    fam, _ = nearest(z, w, 2, groups=kinds)
    assert fam.tolist() == [[2, 3], [-1, -1], [0, 3], [2, 0]]


# issue 11 point 13
def test_weights_change_the_family_and_the_similarity():
    # two variables: school 1 differs from 0 by (0.1, 3.0), school 2 by (3.0, 0.1)
    z = np.array([[0.0, 0.0], [0.1, 3.0], [3.0, 0.1]])
    idx, dist = nearest_to(z, 0, np.array([10.0, 1.0]), 1)
    # distance = sqrt(10 * 0.1^2 + 1 * 3.0^2) = sqrt(0.1 + 9) = 3.0166
    assert idx.tolist() == [1] and dist[0] == pytest.approx(9.1 ** 0.5)
    idx, dist = nearest_to(z, 0, np.array([1.0, 10.0]), 1)
    assert idx.tolist() == [2] and dist[0] == pytest.approx(9.1 ** 0.5)
    # weight 0 leaves a variable out: on the first alone school 1 is 0.1 away
    idx, dist = nearest_to(z, 0, np.array([1.0, 0.0]), 1)
    assert idx.tolist() == [1] and dist[0] == pytest.approx(0.1)


# issue 11 point 13
def test_similarity_score_by_hand():
    # distance 1 over four variables of weight 1: the typical (root-mean-square) gap is 1 / sqrt(4) = 0.5 standard
    # deviations, so the similarity is 1 / (1 + 0.5) = 0.667; identical context is 1
    w = np.array([1.0, 1.0, 1.0, 1.0])
    assert similarity(np.array([1.0, 0.0]), w).tolist() == pytest.approx([2 / 3, 1.0])
    # weights 2 and 2 (sum 4) say the same of a distance 1
    assert similarity(np.array([1.0]), np.array([2.0, 2.0, 0.0]))[0] == pytest.approx(2 / 3)
    # a padded place (no school) has no similarity
    assert np.isnan(similarity(np.array([np.inf]), w)[0])
