"""The years a group has results for (data.services.group_years): where its pages open, from rows written by hand."""

from __future__ import annotations

from data.db.store import Store
from data.services import groups, schools
from data.services.group_years import years_with_results

A, B, OTHER = 100001, 100002, 100003  # two members (B left in August 2024) and a school of no group


def _world(store: Store) -> int:
    """Four years in the store; the group's schools have judged results to 2023/24 and only context after."""
    with store.results_transaction() as cur:
        # `ord` is what an import gives every school (data.services.schools.member_rows reads by it)
        cur.executemany("INSERT INTO establishments (urn, name, phase, ord) VALUES (?, ?, 'secondary', ?)",
                        [(A, "A", 1), (B, "B", 2), (OTHER, "Other", 3)])
        for p in ("2022/23", "2023/24", "2024/25", "2025/26"):  # the store's years (read from national_quantiles)
            cur.execute("INSERT INTO national_quantiles VALUES ('attainment8', ?, 'secondary', 1, [])", [p])
        rows = [
            (A, "attainment8", "2022/23", 45.0, "ok"),
            (A, "attainment8", "2023/24", None, "suppressed"),  # no value: not a result
            (B, "attainment8", "2023/24", 50.0, "ok"),  # B was a member in 2023/24
            (B, "attainment8", "2024/25", 51.0, "ok"),  # ... but not in 2024/25
            (A, "pupils", "2024/25", 900.0, "ok"),  # context, not a result
            (OTHER, "attainment8", "2025/26", 47.0, "ok"),  # the store's latest: not the group's
        ]
        # each row carries its school's `ord`, as an import writes it
        cur.executemany("INSERT INTO observations (ord, level, urn, measure, period, value, status) "
                        "SELECT ord, 'school', urn, ?, ?, ?, ? FROM establishments WHERE urn = ?",
                        [(m, p, v, s, u) for u, m, p, v, s in rows])
    g = groups.create_group(store, "partnership", "Two Schools Partnership")
    groups.add_memberships(store, g, [A], "2020-09-01", None)
    groups.add_memberships(store, g, [B], "2020-09-01", "2024-08-31")
    return g


def test_a_group_opens_on_its_own_latest_year(store: Store) -> None:  # issue 11 point 5
    g = _world(store)
    assert schools.periods(store)[-1] == "2025/26"
    assert years_with_results(store, g, ["attainment8"]) == ["2022/23", "2023/24"]
    assert years_with_results(store, g, ["attainment8", "pupils"]) == ["2022/23", "2023/24", "2024/25"]
    assert years_with_results(store, g, []) == []
