"""Issue 13 point 4: a publication copies the disadvantage gap of each measure with pupil-group values (pooled over
the agreed schools only), and each school's disadvantaged and other pupils' cells under primary and secondary
suppression. The pupil-group rows are built here, so every number is a hand computation."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from data.db.state import StateStore
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.outputs.public_export import export_public, public_state_path
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.consent import record_consent
from data.services.publications import publish, published
from data.services.scorecards import window
from metrics.gaps import DISADVANTAGED, OTHERS
from metrics.publication import Publication
from metrics.suppression import GROUP_PAIR

ADMIN = Viewer(Role.ADMIN, None, "Data manager")
MEASURE = "ks2_rwm_expected"
NATIONAL_OTHERS = {0: 62.0, 2: 68.0}  # England's non-disadvantaged pupils, by years back


def _school_rows(store: Store, urns: list[int], measure: str, period: str, cells: dict[int, tuple[int, int, int, int]]
                 ) -> None:
    """Each school's total of `measure` in `period` made (D met + N met) of (D + N) pupils, with its disadvantaged
    and not-disadvantaged rows beside it; the other members' values removed."""
    with store.results_transaction() as cur:
        cur.execute("DELETE FROM pupil_group_observations WHERE measure = ? AND period = ? AND level = 'school'",
                    [measure, period])
        cur.execute("UPDATE observations SET value = NULL, numerator = NULL, status = 'missing' WHERE level = "
                    "'school' AND measure = ? AND period = ? AND list_contains(?::INTEGER[], urn)",
                    [measure, period, urns])
        for u, (dn, dd, nn, nd) in cells.items():
            n = cur.execute("UPDATE observations SET value = ? * 100.0 / ?, numerator = ?, denominator = ?, "
                            "status = 'ok' WHERE level = 'school' AND measure = ? AND period = ? AND urn = ? "
                            "RETURNING urn", [dn + nn, dd + nd, dn + nn, dd + nd, measure, period, u]).fetchall()
            if not n:
                cur.execute("INSERT INTO observations (level, urn, measure, period, value, numerator, denominator, "
                            "status) VALUES ('school', ?, ?, ?, ? * 100.0 / ?, ?, ?, 'ok')",
                            [u, measure, period, dn + nn, dd + nd, dn + nn, dd + nd])
            for group, num, den in ((DISADVANTAGED, dn, dd), (OTHERS, nn, nd)):
                cur.execute("INSERT INTO pupil_group_observations (level, urn, measure, period, value, numerator, "
                            "denominator, status, pupil_group) "
                            "VALUES ('school', ?, ?, ?, ? * 100.0 / ?, ?, ?, 'ok', ?)",
                            [u, measure, period, num, den, num, den, group])


def _national(store: Store, measure: str, period: str, value: float) -> None:
    with store.results_transaction() as cur:
        cur.execute("DELETE FROM pupil_group_observations WHERE level <> 'school' AND measure = ? AND period = ?",
                    [measure, period])
        cur.execute("INSERT INTO pupil_group_observations (level, scope, measure, period, value, status, "
                    "pupil_group) VALUES ('national', 'state_funded', ?, ?, ?, 'ok', ?)",
                    [measure, period, value, OTHERS])


@pytest.fixture()
def world(demo_store: Store) -> dict:
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    assert group
    period = schools.periods(demo_store)[-1]
    members = sorted(groups.group_members(demo_store, group.group_id, period))
    years = window(demo_store, period)
    assert len(years) >= 3
    first = years[-3]
    a, b, c, d, *rest = members
    # (disadvantaged met, of, others met, of): b has 4 disadvantaged pupils
    now = {a: (6, 10, 20, 25), b: (1, 4, 18, 24), c: (5, 9, 14, 20), d: (3, 8, 15, 22)}
    then = {a: (4, 10, 19, 25), b: (1, 5, 17, 24), c: (3, 9, 13, 20), d: (2, 8, 14, 22)}
    for when, cells in ((period, now), (first, then)):
        _school_rows(demo_store, members, MEASURE, when, cells)
    _national(demo_store, MEASURE, period, NATIONAL_OTHERS[0])
    _national(demo_store, MEASURE, first, NATIONAL_OTHERS[2])
    return {"store": demo_store, "gid": group.group_id, "period": period, "first": first, "members": members,
            "now": now, "then": then, "abcd": (a, b, c, d)}


def _pooled(cells: dict[int, tuple[int, int, int, int]], urns: list[int] | None = None) -> float:
    chosen = [v for u, v in cells.items() if urns is None or u in urns]
    return 100.0 * sum(v[0] for v in chosen) / sum(v[1] for v in chosen)


def _cells(pub: Publication) -> dict[tuple[int, str], object]:
    return {(v.urn, v.pupil_group): v for v in pub.group_values if v.measure == MEASURE}


def test_the_copied_gap_is_a_hand_computation(world: dict) -> None:
    s, gid, period = world["store"], world["gid"], world["period"]
    pub, problems = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert problems == [] and pub is not None
    gap = pub.gap(MEASURE)
    assert gap is not None and not gap.suppressed
    # disadvantaged: (6 + 1 + 5 + 3) of (10 + 4 + 9 + 8) = 15 / 31 = 48.4%; England's others 62.0%: gap -13.6
    assert gap.disadvantaged_value == pytest.approx(100 * 15 / 31)
    assert gap.gap == pytest.approx(100 * 15 / 31 - 62.0)
    # two years back: (4 + 1 + 3 + 2) of 32 = 31.25%, against 68.0: -36.75; narrowed
    assert gap.since == world["first"] and gap.gap_before == pytest.approx(31.25 - 68.0)
    assert gap.direction == "narrowed"
    assert gap.sentence == (f"Disadvantaged pupils in the partnership were 13.6 percentage points below other "
                            f"pupils nationally in Expected standard in reading, writing and maths (KS2) (48% against "
                            f"62%); in {world['first']} the gap was 36.8 percentage points, so it has narrowed.")


def test_a_school_with_4_disadvantaged_pupils_is_hidden_and_so_is_its_other_pupils_cell(world: dict) -> None:
    s, gid, period = world["store"], world["gid"], world["period"]
    a, b, c, d = world["abcd"]
    pub, _ = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert pub is not None
    cells = _cells(pub)
    assert cells[(b, DISADVANTAGED)].suppressed and cells[(b, DISADVANTAGED)].value is None
    assert cells[(b, DISADVANTAGED)].reason == "fewer than 6 pupils"
    assert cells[(b, OTHERS)].suppressed and cells[(b, OTHERS)].reason == GROUP_PAIR
    assert cells[(b, OTHERS)].value is None and cells[(b, OTHERS)].cohort is None
    # the pooled value would give b's from the other three: the smallest other disadvantaged cohort (d's 8) hides
    assert cells[(d, DISADVANTAGED)].suppressed and cells[(d, OTHERS)].suppressed
    assert not cells[(a, DISADVANTAGED)].suppressed and cells[(a, DISADVANTAGED)].value == pytest.approx(60.0)
    # the stored rows keep no hidden value (the schema refuses one)
    rows = s.query("SELECT urn, pupil_group, value, cohort FROM publication_group_values WHERE publication_id = ? "
                   "AND suppressed", [pub.publication_id])
    assert rows and all(r[2] is None and r[3] is None for r in rows)


def test_a_later_import_does_not_change_the_published_gap(world: dict) -> None:
    s, gid, period = world["store"], world["gid"], world["period"]
    pub, _ = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert pub is not None and pub.publication_id is not None
    with s.results_transaction() as cur:
        cur.execute("UPDATE pupil_group_observations SET value = 99, numerator = denominator WHERE measure = ?",
                    [MEASURE])
    again = published(s, pub.publication_id)
    assert again is not None and again.gaps == pub.gaps and again.group_values == pub.group_values


def test_only_the_agreed_schools_are_pooled(world: dict) -> None:
    s, gid, period = world["store"], world["gid"], world["period"]
    a, b, c, d = world["abcd"]
    assert record_consent(s, ADMIN, gid, c, False, "Governors prefer to publish alone") == []
    pub, problems = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert problems == [] and pub is not None
    gap = pub.gap(MEASURE)
    assert gap is not None and gap.disadvantaged_value == pytest.approx(_pooled(world["now"], [a, b, d]))
    assert c not in {v.urn for v in pub.group_values}


def test_the_public_export_carries_the_gap_and_the_group_cells(world: dict, tmp_path: Path) -> None:
    s, gid, period = world["store"], world["gid"], world["period"]
    pub, _ = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert pub is not None and pub.publication_id is not None
    out = tmp_path / "public.duckdb"
    counts = export_public(s, out)
    assert counts["publication_gaps"] >= 1 and counts["publication_group_values"] >= len(pub.group_values)
    state = StateStore.open(f"sqlite:///{public_state_path(out)}")
    try:
        with Store(out, state=state) as site:
            copy = published(site, pub.publication_id)
            assert copy is not None and copy.gaps == pub.gaps and copy.group_values == pub.group_values
    finally:
        state.close()


def test_a_correction_at_a_hidden_school_hides_the_new_pooled_value(world: dict) -> None:
    """Rules 5-7 for the pooled disadvantaged value: v1 shows it over B's and D's hidden cells (B_D + D_D = 3); B's
    disadvantaged result is corrected from 1 to 3 of 4. Shown again, v2 would say B_D' + D_D = 5, and with v1,
    B_D' - B_D = 2. So B and D stay hidden (rule 5) and v2's pooled value (and gap) is hidden (rule 7)."""
    s, gid, period = world["store"], world["gid"], world["period"]
    a, b, c, d = world["abcd"]
    v1, _ = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert v1 is not None and not v1.gap(MEASURE).suppressed  # type: ignore[union-attr]
    _school_rows(s, world["members"], MEASURE, period, {**world["now"], b: (3, 4, 18, 24)})
    v2, _ = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert v2 is not None
    cells = _cells(v2)
    assert all(cells[(u, g)].suppressed for u in (b, d) for g in (DISADVANTAGED, OTHERS))
    gap = v2.gap(MEASURE)
    assert gap is not None and gap.suppressed and gap.gap is None and gap.disadvantaged_value is None
    assert "earlier version" in (gap.suppressed_reason or "")


def test_the_parents_csv_has_the_disadvantaged_pupils_rows(world: dict) -> None:
    s, gid, period = world["store"], world["gid"], world["period"]
    a, b, c, d = world["abcd"]
    pub, _ = publish(s, ADMIN, gid, period, [MEASURE], {})
    assert pub is not None
    rows = list(csv.reader(io.StringIO(pub.csv_bytes().decode("utf-8-sig"))))
    mine = {r[1]: r for r in rows[1:]}
    assert mine["The partnership's disadvantaged pupils"][2:4] == ["48%", "62% (other pupils in England)"]
    names = {x.urn: x.name for x in pub.schools}
    assert mine[f"{names[b]}, disadvantaged pupils"][2:5] == ["Suppressed", "", "fewer than 6 pupils"]
    assert mine[f"{names[a]}, disadvantaged pupils"][2] == "60%"
