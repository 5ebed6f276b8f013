"""Comparators the DfE's way on the real North Yorkshire files (issue 10, points 12-15).

Expected values come from an independent read of each file with the csv module, never from the importer.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PERF

from data.db.store import Store
from data.ingest.importers import ImportReport, import_file
from data.services import groups
from data.services.scorecards import scorecard
from metrics.scorecard import LEVELS

KS4P = PERF / "815_2019_ks4provisional.csv"
CENSUS = PERF / "815_2019_census.csv"
YEAR = "2018/19"
BANDS = {"1": "Well above average", "2": "Above average", "3": "Average", "4": "Below average",
         "5": "Well below average"}
SIDE = {"1": "above", "2": "above", "3": "in line", "4": "below", "5": "below"}  # DfE's band -> significance vs 0


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, ImportReport]]]:
    """The 2018/19 KS4 (provisional) and census files in one store, as a data manager would load them."""
    s = Store(tmp_path_factory.mktemp("cmp") / "s.duckdb")
    reports = {}
    for path in (KS4P, CENSUS):
        reports[path.name] = import_file(s, path, YEAR)
        assert reports[path.name].ok, reports[path.name].message
    try:
        yield s, reports
    finally:
        s.close()


def p8_row(store: Store, urn: int):
    card = scorecard(store, school=urn, period=YEAR)
    return next((r for r in card.rows if r.measure == "progress8"), None)


def banded() -> list[dict[str, str]]:
    """School rows (RECTYPE 1 mainstream, 2 special) to which DfE gave a Progress 8 band."""
    return [r for r in rows_of(KS4P) if r["RECTYPE"] in ("1", "2") and r.get("P8_BANDING") in BANDS]


# ------------------------------------------------------------------------------ point 12


def test_our_progress8_band_is_dfes_for_every_banded_school(real) -> None:
    store, _ = real
    schools = banded()
    assert len(schools) == 45 and sum(r["RECTYPE"] == "2" for r in schools) == 3  # 42 mainstream, 3 special
    got = {int(r["URN"]): p8_row(store, int(r["URN"])) for r in schools}
    assert {u: (row.value, row.band) for u, row in got.items()} == {
        int(r["URN"]): (float(r["P8MEA"]), BANDS[r["P8_BANDING"]]) for r in schools}


def test_clearly_above_or_below_never_contradicts_dfes_band(real) -> None:
    """Against the state-funded mean (-0.03) three of these schools were 'clearly' something DfE's band is not:
    121681 (+0.24, 0.00 to +0.48: Average), 121718 (-0.29, upper -0.02) and 121678 (-0.21, upper -0.01), both Below
    average. Against 0 none is."""
    store, _ = real
    rows = {r["URN"]: (r, p8_row(store, int(r["URN"]))) for r in banded()}
    wrong = {u: (row.significance if row else None, SIDE[r["P8_BANDING"]]) for u, (r, row) in rows.items()
             if (row.significance if row else None) != SIDE[r["P8_BANDING"]]}
    assert wrong == {}
    for r, row in rows.values():
        if r["RECTYPE"] == "1":  # the national stays beside the band, as context
            assert (row.national, row.comparator) == (-0.03, "national, state-funded schools")


# ------------------------------------------------------------------------------ point 15


def test_a_school_with_ks4_results_is_at_least_secondary(real) -> None:
    """No GIAS or spine file: the KS4 file's codes (NFTYPE CY, AC, ...) do not name a phase, so before this fix
    every mainstream school had none, no national percentile, and 'Insufficient data' for a cohort of 225."""
    store, _ = real
    file_rows = [r for r in rows_of(KS4P) if r["RECTYPE"] == "1"]
    phases = dict(store.query("SELECT urn, phase FROM establishments"))
    assert {phases[int(r["URN"])] for r in file_rows} == {"secondary"}
    row = p8_row(store, 121702)
    assert (row.value, row.cohort) == (0.12, 225.0)  # P8MEA and P8PUP of URN 121702
    # one year in the store: the level is this year's position alone, labelled so (issue 11 point 7)
    assert row.level_label.removesuffix(" (this year only: no earlier year to compare)") in LEVELS
    assert row.percentile is not None


# ------------------------------------------------------------------------------ point 14


def test_a_special_schools_card_shows_its_own_ks4(real) -> None:
    store, _ = real
    cells = next(r for r in rows_of(KS4P) if r["URN"] == "121779")
    assert (cells["RECTYPE"], cells["NFTYPE"], cells["P8_BANDING"]) == ("2", "CYS", "5")
    row = p8_row(store, 121779)
    assert row is not None, "a special school's Progress 8 was left off its card"
    assert (row.value, row.ci_low, row.ci_high, row.cohort) == (-1.49, -2.0, -0.99, 25.0)
    assert (row.band, row.significance) == ("Well below average", "below")
    # the KS4 files publish no special-school national figure: no mainstream -0.03 beside it
    assert row.national is None
    assert row.comparator.startswith("no national figure for special schools")
    card = scorecard(store, school=121779, period=YEAR)
    absence = [r for r in card.rows if r.measure == "sen_pct"]
    assert absence and absence[0].value == pytest.approx(100.0)  # 218 EHC plans of 218 on roll (census)


def _partnership(store: Store, name: str, urns: list[int]) -> str:
    if groups.find_group(store, name) is None:
        gid = groups.create_group(store, "partnership", name)
        groups.add_memberships(store, gid, urns, "2015-09-01")
    return name


def test_a_group_pools_mainstream_schools_unless_asked(real) -> None:
    store, _ = real
    name = _partnership(store, "Dales Partnership", [121702, 121779, 121764])
    cells = {r["URN"]: r for r in rows_of(KS4P)}
    card = scorecard(store, group=name, period=YEAR)
    assert card.subject.members == (121702,)  # pooled
    assert [u for u, _ in card.members] == [121702, 121764, 121779]  # listed: each keeps its own card
    assert card.pooling == "Mainstream schools only: 2 special schools are shown on their own cards"
    p8 = next(r for r in card.rows if r.measure == "progress8")
    assert (p8.value, p8.cohort) == (0.12, 225.0)
    everyone = scorecard(store, group=name, period=YEAR, include_special=True)
    assert everyone.subject.members == (121702, 121764, 121779)
    assert everyone.pooling == ("All schools, including 2 special schools: each compared with its own kind "
                                "nationally")
    parts = [(float(cells[u]["P8MEA"]), float(cells[u]["P8PUP"])) for u in ("121702", "121779", "121764")]
    pooled = sum(v * n for v, n in parts) / sum(n for _, n in parts)  # (27 - 37.25 - 10.74) / 256
    assert next(r for r in everyone.rows if r.measure == "progress8").value == pytest.approx(pooled)


def test_the_census_special_school_sen_share_is_never_over_100(real) -> None:
    """NAT,,SPE row of 815_2019_census.csv: TSENELK 2,014 + TSENELSE 122,268 = 124,282 pupils with SEN against NOR
    121,738: 102.1%. The counts are on another base than pupils on roll (PSENELSE 98.3% of 122,268 is a base of
    about 124,383), so the share is refused in words, and the EHC plan share keeps the file's own 98.3% on its
    own base."""
    store, reports = real
    nat = {r["ESTAB"]: r for r in rows_of(CENSUS) if r["URN"] == "NAT"}["SPE"]
    assert (int(nat["TSENELK"]) + int(nat["TSENELSE"])) / int(nat["NOR"]) * 100 == pytest.approx(102.09, abs=0.01)
    got = dict(((m, sc), (v, n, d, st, code)) for m, sc, v, n, d, st, code in store.query(
        "SELECT measure, scope, value, numerator, denominator, status, status_code FROM observations "
        "WHERE level = 'national' AND period = ? AND measure IN ('sen_pct', 'ehcp_pct')", [YEAR]))
    assert got[("sen_pct", "special")] == (None, None, None, "missing", "OVER100")
    v, n, d, st, _ = got[("ehcp_pct", "special")]
    assert (v, n, st) == (98.3, 122268.0, "ok") and n / d * 100 == pytest.approx(98.3)
    said = [p for p in reports[CENSUS.name].problems if "124,282" in p.message]
    assert len(said) == 1 and "121,738" in said[0].message and said[0].line is not None
    assert said[0].column == "TSENELK+TSENELSE"
    # and no share over 100% anywhere in the store
    assert store.query("SELECT count(*) FROM observations o WHERE o.value > 100 AND o.measure IN "
                       "('sen_pct', 'ehcp_pct', 'sen_support_pct', 'fsm_pct', 'eal_pct', 'disadvantaged_pct')") \
        == [(0,)]


# ------------------------------------------------------------------------------ point 13


def test_a_mixed_groups_national_is_its_pupil_weighted_phase_mix(real) -> None:
    """Two primaries (URN 121319: 777 pupils, 121338: 465) and a secondary (121702: 1,164): FSM is compared with
    (1,242 x primary + 1,164 x secondary) / 2,406 of the census's own national rows, not with primary alone."""
    store, _ = real
    name = _partnership(store, "Vale Cluster", [121319, 121338, 121702, 121779])
    cells = {r["URN"]: r for r in rows_of(CENSUS) if r["URN"] != "LA"}
    nat = {r["ESTAB"]: r for r in rows_of(CENSUS) if r["URN"] == "NAT"}
    rate = {k: int(nat[k]["NUMFSM"]) / int(nat[k]["NOR"]) * 100 for k in ("PRI", "SEC")}
    pri = int(cells["121319"]["NOR"]) + int(cells["121338"]["NOR"])
    sec = int(cells["121702"]["NOR"])
    assert (pri, sec) == (1242, 1164)
    row = next(r for r in scorecard(store, group=name, period=YEAR).rows if r.measure == "fsm_pct")
    assert row.national == pytest.approx((pri * rate["PRI"] + sec * rate["SEC"]) / (pri + sec))
    assert row.comparator == "national, weighted to this group's mix: 52% primary, 48% secondary"
    assert row.value == pytest.approx((163 + 28 + 117) / 2406 * 100)  # pooled NUMFSM / NOR of the three


def test_a_publication_totals_every_school_it_lists(real) -> None:
    """Parents' joint results list every member, so their total pools every member, special schools too: a
    mainstream-only total beside a list that names a special school would let a hidden value be recovered."""
    from data.services.access import Role, Viewer
    from data.services.consent import record_consents
    from data.services.publications import build_publication

    store, _ = real
    name = _partnership(store, "Dales Partnership", [121702, 121779, 121764])
    gid = groups.find_group(store, name).group_id
    admin = Viewer(Role.ADMIN, None, "Data manager")
    # a joint publication includes only the schools that agreed (issue 11 point 2): all three have
    assert record_consents(store, admin, gid, dict.fromkeys((121702, 121779, 121764), True)) == []
    pub, problems = build_publication(store, admin, gid, YEAR, ["progress8"], {})
    assert problems == [] and pub is not None
    cells = {r["URN"]: r for r in rows_of(KS4P)}
    parts = [(float(cells[u]["P8MEA"]), float(cells[u]["P8PUP"])) for u in ("121702", "121779", "121764")]
    item = next(i for i in pub.items if i.measure == "progress8")
    assert item.group_value == pytest.approx(sum(v * n for v, n in parts) / sum(n for _, n in parts))
    assert {v.urn for v in pub.school_values if v.measure == "progress8"} == {121702, 121779, 121764}


def test_a_middle_schools_ks2_is_ranked_among_primaries(tmp_path: Path) -> None:
    """A middle school deemed secondary (GIAS) reports KS2: its national percentile on KS2 is among the primaries
    (values 50, 60, 70 and its own 65: rank 3 of 4, (2 + 0.5) / 4 = 62.5%), not alone among 'secondary' schools
    (50%); its card has the KS2 row with a level."""
    s = Store(tmp_path / "s.duckdb")
    try:
        with s.results_transaction() as cur:
            for urn, phase, v in ((100001, "primary", 50.0), (100002, "primary", 60.0), (100003, "primary", 70.0),
                                  (100004, "secondary", 65.0)):
                cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (?, ?, ?)",
                            [urn, f"School {urn}", phase])
                cur.execute("INSERT INTO observations (level, urn, measure, period, value, numerator, denominator, "
                            "status) VALUES ('school', ?, 'ks2_rwm_expected', ?, ?, ?, 40, 'ok')",
                            [urn, YEAR, v, v * 40 / 100])
        s.rebuild_derived()
        pct = dict(s.query("SELECT urn, percentile FROM school_stats WHERE measure = 'ks2_rwm_expected'"))
        assert pct[100004] == pytest.approx(62.5)
        assert pct[100002] == pytest.approx(37.5)  # (1 + 0.5) / 4: the primaries are ranked with it
        row = next(r for r in scorecard(s, school=100004, period=YEAR).rows if r.measure == "ks2_rwm_expected")
        assert (row.value, row.percentile, row.level_label) == (65.0, pytest.approx(62.5),
                                                             "Good (this year only: no earlier year to compare)")
    finally:
        s.close()


def test_ees_schools_take_their_phase_from_the_key_stage_and_type(tmp_path: Path) -> None:
    """The EES KS4 information-about-schools file (2024/25, 5,755 schools) names no phase: a school in it is at
    least secondary, and special by its establishment_type_group ('Community special school', 'Converter academies
    - special school', ...)."""
    from conftest import REALDATA

    path = REALDATA / "ees_ks4_2024-25_hal609" / "202425_information_about_schools_provisional.csv"
    want = {int(r["school_urn"]): "special" if "special" in r["establishment_type_group"].lower() else "secondary"
            for r in rows_of(path)}
    assert len(want) == 5755 and sum(p == "special" for p in want.values()) == 1490
    s = Store(tmp_path / "s.duckdb")
    try:
        report = import_file(s, path, None)
        assert report.ok, report.message
        assert dict(s.query("SELECT urn, phase FROM establishments")) == want
    finally:
        s.close()
