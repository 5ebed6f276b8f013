"""Partners strong for disadvantaged pupils (issue 13 point 3), from rows written by hand into a fresh store.

Ten primary schools have a disadvantaged cohort of at least 6 taking the KS2 expected standard in 2023/24; their
disadvantaged pupils' values, sorted: 20, 25, 31, 35, 40, 45, 50, 56, 58, 64. The top quarter's edge (75th
percentile, linear): position 0.75 × (10 − 1) = 6.75 between the 7th and 8th, 50 + 0.75 × (56 − 50) = 54.5. Two
more schools' disadvantaged pupils reached 100% and 99%, but 5 of them and an unknown number: never ranked (with
them the edge would move), never suggested. The asking school's disadvantaged pupils reached 31%.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from data.db.errors import StoreError
from data.db.store import Store
from data.ingest.derived import refresh_derived
from data.services import groups
from data.services.support import partner_measures, pupil_group_focus, pupil_group_ranking, support_partners
from metrics.registry import load_registry
from metrics.support import Focus, top_quarter

P = "2023/24"
M = "ks2_rwm_expected"
LAT, LON = 54.0, -1.5
ASKER, STRONG, SMALL, UNKNOWN, SECOND, WIDE, FAR = 100001, 100002, 100003, 100004, 100005, 100006, 100007
N1, N2, N3, N4, N5 = 100011, 100012, 100013, 100014, 100015
GROUP = "Dales Primary Partnership"

# urn: (name, phase, latitude, disadvantaged value, disadvantaged cohort, all pupils' value, in the group)
SCHOOLS: dict[int, tuple[str, str, float, float, float | None, float, bool]] = {
    ASKER: ("Asker Primary", "primary", LAT, 31.0, 13, 55.0, True),
    STRONG: ("Strong Primary", "primary", LAT + 0.038, 58.0, 12, 70.0, True),  # 4.2 km north
    SMALL: ("Small Primary", "primary", LAT + 0.01, 100.0, 5, 80.0, True),  # 5 disadvantaged pupils
    UNKNOWN: ("Unknown Primary", "primary", LAT + 0.02, 99.0, None, 80.0, True),  # how many is not known
    SECOND: ("Second Primary", "primary", LAT + 0.1, 56.0, 20, 60.0, True),  # 11.1 km
    WIDE: ("Wide Primary", "primary", LAT + 0.05, 50.0, 30, 90.0, True),  # strong for all pupils, not for these
    FAR: ("Far Primary", "primary", LAT + 0.5, 64.0, 25, 66.0, False),  # 55.6 km: a similar school, far away
    N1: ("North One", "primary", LAT + 1.0, 20.0, 10, 40.0, False),
    N2: ("North Two", "primary", LAT + 1.1, 25.0, 10, 45.0, False),
    N3: ("North Three", "primary", LAT + 1.2, 35.0, 10, 50.0, False),
    N4: ("North Four", "primary", LAT + 1.3, 40.0, 10, 52.0, False),
    N5: ("North Five", "primary", LAT + 1.4, 45.0, 10, 54.0, False),
}
CUT = 50 + 0.75 * (56 - 50)  # 54.5, by hand above


def _world(store: Store) -> int:
    """The schools, their all-pupils results and context (for the similar schools), their disadvantaged pupils'
    rows, England's, and the group."""
    with store.results_transaction() as cur:
        cur.executemany("INSERT INTO establishments (urn, name, phase, ord, latitude, longitude, head_name, "
                        "telephone) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(u, n, ph, i, lat, LON, f"Head of {n}", "01234 567890")
                         for i, (u, (n, ph, lat, *_)) in enumerate(SCHOOLS.items(), start=1)])
        obs = []
        for u, (_, _, _, dis, _n, allv, _) in SCHOOLS.items():
            obs.append((u, M, allv, allv * 0.4, 40.0))  # 40 pupils each
            obs.append((u, "pupils", 200.0, None, None))
            obs.append((u, "disadvantaged_pct", 20.0 + dis / 10, None, None))
        cur.executemany("INSERT INTO observations (ord, level, urn, measure, period, value, numerator, denominator, "
                        "status) SELECT ord, 'school', urn, ?, ?, ?, ?, ?, 'ok' FROM establishments WHERE urn = ?",
                        [(m, P, v, num, den, u) for u, m, v, num, den in obs])
        rows = []
        for u, (_, _, _, dis, dis_n, _, _) in SCHOOLS.items():
            num = None if dis_n is None else dis * dis_n / 100
            rows.append((u, None, "disadvantaged", dis, num, dis_n, "ok"))
            rows.append((u, None, "not_disadvantaged", 70.0, 19.6, 28, "ok"))
            rows.append((u, "gap", "disadvantaged", dis - 68.0, None, None, "ok"))  # DfE's published gap: not a value
        rows.append((N1, None, "boys", 99.0, 9.9, 10, "ok"))  # another pupil group: not the disadvantaged
        cur.executemany("INSERT INTO pupil_group_observations (level, urn, scope, measure, period, pupil_group, value, "
                        "numerator, denominator, status) VALUES ('school', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(u, sc, M, P, g, v, num, den, st) for u, sc, g, v, num, den, st in rows])
        # a suppressed row is no value: the school is not ranked
        cur.execute("INSERT INTO pupil_group_observations (level, urn, measure, period, pupil_group, value, status) "
                    "VALUES ('school', 100099, ?, ?, 'disadvantaged', NULL, 'suppressed')", [M, P])
        cur.execute("INSERT INTO pupil_group_observations (level, area_code, scope, measure, period, pupil_group, "
                    "value, status) VALUES ('national', 'E92000001', 'state_funded', ?, ?, 'disadvantaged', 46.0, "
                    "'ok')", [M, P])
    refresh_derived(store)
    g = groups.create_group(store, "partnership", GROUP)
    groups.add_memberships(store, g, [u for u, s in SCHOOLS.items() if s[6]], "2020-09-01", None)
    return g


def _km(dlat: float) -> float:
    """Along a meridian, by hand: the earth's mean radius (6371.0088 km) times the angle."""
    return round(6371.0088 * math.radians(dlat), 1)


def test_the_top_quarter_is_cut_among_schools_with_enough_disadvantaged_pupils(store: Store) -> None:
    _world(store)
    m = load_registry().get(M)
    ranked = pupil_group_ranking(store, m, P, "disadvantaged")
    primaries = ranked[ranked["phase"] == "primary"]
    assert sorted(primaries.loc[primaries["percentile"].notna(), "value"]) == [20, 25, 31, 35, 40, 45, 50, 56, 58, 64]
    assert pupil_group_focus(m, ranked, "disadvantaged", "primary") == Focus("disadvantaged", "primary", CUT, 10)
    # had the 100% (5 pupils) and the 99% (unknown) been ranked: position 0.75 × 11 = 8.25, 58 + 0.25 × (64 − 58)
    assert top_quarter(m, np.array([20, 25, 31, 35, 40, 45, 50, 56, 58, 64, 99, 100])) == 59.5 != CUT
    # the small and the unknown cohorts are no part of the ranking, but their own value is kept (for "yours")
    assert ranked.loc[SMALL, "own"] == 100.0 and math.isnan(ranked.loc[SMALL, "percentile"])
    assert math.isnan(ranked.loc[UNKNOWN, "percentile"])
    assert 100099 not in ranked.index  # suppressed
    # mid-rank percentile among the ten: Strong's 58% has 8 below it -> (8 + 0.5) / 10
    assert ranked.loc[STRONG, "percentile"] == pytest.approx(85.0)


def test_partners_strong_for_disadvantaged_pupils_in_the_group_then_similar(store: Store) -> None:
    _world(store)
    near = support_partners(store, ASKER, M, P, pupil_group="disadvantaged")  # within 30 km
    assert [p.urn for p in near] == [STRONG, SECOND]  # the group's, strongest first; Far is 55.6 km away
    assert _km(0.038) == 4.2 and _km(0.1) == 11.1
    assert near[0].reason == ("Disadvantaged pupils here reached 58% (top quarter of primary schools nationally for "
                              f"disadvantaged pupils; yours: 31%), a school in {GROUP}, 4.2 km away.")
    assert near[1].reason == ("Disadvantaged pupils here reached 56% (top quarter of primary schools nationally for "
                              f"disadvantaged pupils; yours: 31%), a school in {GROUP}, 11.1 km away.")
    assert (near[0].value, near[0].display, near[0].cohort, near[0].pupil_group) == (58.0, "58%", 12, "disadvantaged")
    assert near[0].relation == f"in {GROUP}"
    anywhere = support_partners(store, ASKER, M, P, pupil_group="disadvantaged", max_km=None)
    assert [p.urn for p in anywhere] == [STRONG, SECOND, FAR]  # then the similar school
    far = anywhere[2]
    assert far.relation == "similar school" and far.similarity is not None
    assert far.reason == ("Disadvantaged pupils here reached 64% (top quarter of primary schools nationally for "
                          f"disadvantaged pupils; yours: 31%), with a similar intake (similarity {far.similarity:.2f}"
                          f"), {_km(0.5)} km away.")
    # all pupils' results give other partners: Wide's 90% for all pupils, though its disadvantaged pupils are at 50%
    assert WIDE in {p.urn for p in support_partners(store, ASKER, M, P, max_km=None)}
    assert WIDE not in {p.urn for p in anywhere}


def test_a_small_or_unknown_disadvantaged_cohort_is_never_named(store: Store) -> None:
    _world(store)
    for asker in (ASKER, STRONG, SECOND, WIDE, N1):
        found = {p.urn for p in support_partners(store, asker, M, P, pupil_group="disadvantaged", max_km=None)}
        assert not found & {SMALL, UNKNOWN}, asker


def test_a_partner_no_better_than_the_school_is_never_suggested(store: Store) -> None:
    _world(store)
    # Strong's 58%: Second's 56% is in the top quarter (over 54.5) but behind it; Far's 64% is ahead
    got = support_partners(store, STRONG, M, P, pupil_group="disadvantaged", max_km=None)
    assert [p.urn for p in got] == [FAR]
    assert "yours: 58%" in got[0].reason
    # the strongest school has nobody to learn from
    assert support_partners(store, FAR, M, P, pupil_group="disadvantaged", max_km=None) == []


def test_a_school_without_its_own_value_or_asking_badly(store: Store) -> None:
    g = _world(store)
    assert partner_measures(store, ASKER, P, "disadvantaged") == [M]
    assert partner_measures(store, 100099, P, "disadvantaged") == []  # suppressed: nothing to match on
    with pytest.raises(StoreError, match="unknown pupil group 'orphans'"):
        support_partners(store, ASKER, M, P, pupil_group="orphans")
    with pytest.raises(StoreError, match="unknown measure"):
        support_partners(store, ASKER, "no_such_measure", P, pupil_group="disadvantaged")
    # a school whose own disadvantaged value is suppressed still gets partners: "yours" says it is not published
    with store.results_transaction() as cur:
        cur.execute("UPDATE pupil_group_observations SET value = NULL, status = 'suppressed' WHERE urn = ? "
                    "AND pupil_group = 'disadvantaged' AND scope IS NULL", [ASKER])
    got = support_partners(store, ASKER, M, P, pupil_group="disadvantaged", groups=[g])
    assert [p.urn for p in got] == [STRONG, SECOND]
    assert "yours: not published" in got[0].reason


def test_the_sentence_for_a_score_names_the_measure() -> None:
    from metrics.support import reason

    m = load_registry().get("attainment8")
    focus = Focus("disadvantaged", "secondary", 40.1, 120)
    assert reason(m, 44.6, 20.5, similarity=0.671, distance_km=18.9, focus=focus) == (
        "Disadvantaged pupils here scored on average 44.6 on Attainment 8 (top quarter of secondary schools "
        "nationally for disadvantaged pupils; yours: 20.5), with a similar intake (similarity 0.67), 18.9 km away.")
    assert reason(m, 44.6, None, group="Dales Trust", distance_km=0.4, focus=focus).endswith(
        "(top quarter of secondary schools nationally for disadvantaged pupils; yours: not published), a school in "
        "Dales Trust, less than 1 km away.")


def test_lower_is_better_takes_the_lowest_quarter() -> None:
    from metrics.support import in_top_quarter

    m = load_registry().get("overall_absence")  # lower is better
    cut = top_quarter(m, np.array([4.0, 5.0, 6.0, 7.0, 8.0]))
    assert cut == 5.0  # the 25th percentile: position 0.25 × 4 = 1
    focus = Focus("disadvantaged", "secondary", cut, 5)
    assert in_top_quarter(m, focus, 4.5, 10) and in_top_quarter(m, focus, 5.0, 10)
    assert not in_top_quarter(m, focus, 5.1, 10) and not in_top_quarter(m, focus, 4.0, 5)
    assert not in_top_quarter(m, focus, 4.0, None)
