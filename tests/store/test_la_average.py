"""Each school's own local authority average (data.services.la_average), from LA rows written by hand into a fresh
store."""

from __future__ import annotations

from data.db.store import Store
from data.services.la_average import LaFigure, la_figures, la_values

P = "2024/25"
SEC, PRI, SPECIAL, NO_LA_ROWS, NO_SCHOOL = 100001, 100002, 100003, 100004, 100009


def _world(store: Store) -> None:
    """Four schools in three LAs, the national figures they are compared with, and their LAs' rows."""
    with store.results_transaction() as cur:
        cur.executemany("INSERT INTO establishments (urn, name, la_code, la_name, phase) VALUES (?, ?, ?, ?, ?)", [
            (SEC, "Sec", 815, "North Yorkshire", "secondary"),
            (PRI, "Pri", 202, "Camden", "primary"),
            (SPECIAL, "Spe", 815, "North Yorkshire", "special"),
            (NO_LA_ROWS, "Far", 999, "Elsewhere", "secondary"),
        ])
        rows = [
            # national: what each school is compared with
            ("national", "E92000001", "secondary", "attainment8", P, 45.0, "ok"),
            ("national", "E92000001", "state_funded", "attainment8", P, 46.0, "ok"),
            ("national", "E92000001", "primary", "ks2_rwm_expected", P, 62.0, "ok"),
            ("national", "E92000001", "secondary", "overall_absence", P, 7.8, "ok"),
            ("national", "E92000001", "special", "overall_absence", P, 9.5, "ok"),
            ("national", "E92000001", "all", "teacher_salary", P, 41000.0, "ok"),
            # LA 815 (North Yorkshire)
            ("la", "815", "secondary", "attainment8", P, 47.5, "ok"),  # SEC: the national comparator's scope
            ("la", "815", "all", "attainment8", P, 44.0, "ok"),  # not this: national is secondary schools
            ("la", "815", "secondary", "attainment8", "2023/24", 40.0, "ok"),  # another year
            ("la", "815", "secondary", "overall_absence", P, 8.0, "ok"),  # SEC
            ("la", "815", "all", "overall_absence", P, 7.0, "ok"),  # never a special school's
            ("la", "815", "special", "overall_absence", P, 9.1, "ok"),  # SPECIAL: its own kind
            ("la", "815", "secondary", "basics_95", P, None, "suppressed"),  # no value: no LA average
            ("la", "815", "secondary", "basics_94", P, 101.0, "ok"),  # a share over 100%: never shown
            ("la", "815", "all", "teachers_fte", P, 5000.0, "ok"),  # a count that adds up: no average
            ("la", "NORTH YORKSHIRE", "all", "teacher_salary", P, 40000.0, "ok"),  # CFR keys its LA rows by name
            # LA 202 (Camden), written with a leading zero; no primary figure, so its state-funded one
            ("la", "0202", "state_funded", "ks2_rwm_expected", P, 61.0, "ok"),
            ("la", "0202", "all", "ks2_rwm_expected", P, 60.0, "ok"),
            # another LA's row is nobody's here
            ("la", "201", "secondary", "attainment8", P, 50.0, "ok"),
        ]
        cur.executemany("INSERT INTO observations (level, area_code, scope, measure, period, value, status) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def test_each_school_gets_its_own_las_figure_of_its_own_kind(store: Store) -> None:  # issue 11 point 8
    _world(store)
    urns = [SEC, PRI, SPECIAL, NO_LA_ROWS, NO_SCHOOL]
    measures = ["attainment8", "ks2_rwm_expected", "overall_absence", "basics_95", "basics_94", "teachers_fte",
                "teacher_salary", "a_groups_own_measure"]
    assert la_values(store, urns, P, measures) == {
        (SEC, "attainment8"): 47.5,
        (SEC, "overall_absence"): 8.0,
        (SEC, "teacher_salary"): 40000.0,
        (SPECIAL, "overall_absence"): 9.1,
        (PRI, "ks2_rwm_expected"): 61.0,
    }
    figures = la_figures(store, urns, P, measures)
    assert figures[(PRI, "ks2_rwm_expected")] == LaFigure(61.0, "state_funded")
    assert figures[(SEC, "attainment8")] == LaFigure(47.5, "secondary")
    assert figures[(SEC, "teacher_salary")] == LaFigure(40000.0, "all")


def test_another_year_and_nothing_asked_give_nothing(store: Store) -> None:  # issue 11 point 8
    _world(store)
    assert la_values(store, [SEC], "2023/24", ["attainment8"]) == {(SEC, "attainment8"): 40.0}
    assert la_values(store, [SEC], "2022/23", ["attainment8"]) == {}
    assert la_values(store, [], P, ["attainment8"]) == {}
    assert la_values(store, [SEC], P, []) == {}
