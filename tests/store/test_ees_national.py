"""EES national KS4 files: national benchmarks by school type and pupil group, from synthetic fixtures written in
exactly the columns data-guidance.txt lists (tests/fixtures/ees_national/generate.py; no real sample exists).

Every expected number below is the fixture's own cell, or that cell times its pupil_count worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, snapshot

from data.db.store import Store
from data.ingest.importers import import_file
from data.services import schools

NAT = FIXTURES / "ees_national"
TYPES = NAT / "202425_national_characteristics_by_school_types_revised.csv"
SUMMARY = NAT / "202425_national_characteristics_summary_all_state_funded_revised.csv"
E = "E92000001"


@pytest.fixture
def types(store: Store) -> Store:
    report = import_file(store, TYPES)
    assert report.ok, report.summary()
    return store


def obs(store: Store, measure: str, scope: str, period: str = "2024/25") -> list[tuple]:
    return store.query("SELECT value, numerator, denominator, ci_low, ci_high, status, status_code, version "
                       "FROM observations WHERE level = 'national' AND area_code = ? AND scope = ? AND measure = ? "
                       "AND period = ?", [E, scope, measure, period])


def group_obs(store: Store, measure: str, group: str, scope: str = "state_funded") -> list[tuple]:
    return store.query("SELECT value, numerator, denominator, status, version FROM pupil_group_observations "
                       "WHERE level = 'national' AND area_code = ? AND scope = ? AND measure = ? AND period = "
                       "'2024/25' AND pupil_group = ?", [E, scope, measure, group])


def test_school_types_file_is_an_ees_national_file(store: Store) -> None:
    report = import_file(store, TYPES)
    assert (report.ok, report.kind, report.periods, report.rows_read) == (True, "ees_national",
                                                                          ["2018/19", "2024/25"], 12)
    assert report.schools == 0 and report.observations == 0
    # Total rows: 4 school types in 2024/25 and one in 2018/19, 10 registry measures each; and the two
    # disadvantaged rows' Progress 8, which is also the registry's progress8_disadvantaged
    assert report.benchmarks == 5 * 10 + 2
    assert report.problems == []


def test_state_funded_totals_by_hand(types: Store) -> None:
    """All state-funded, 2024/25 (line 2): Attainment 8 45.9 over 600,000 pupils, so 27,540,000 points (the file's
    attainment8_sum); grade 5+ in English and maths 45.2%: 271,200 of 600,000 (engmath_95_total)."""
    assert obs(types, "attainment8", "state_funded") == [(45.9, 27540000.0, 600000.0, None, None, "ok", None,
                                                          "revised")]
    assert obs(types, "basics_95", "state_funded") == [(45.2, 271200.0, 600000.0, None, None, "ok", None, "revised")]
    assert obs(types, "ebacc_aps", "state_funded") == [(4.07, 2442000.0, 600000.0, None, None, "ok", None,
                                                        "revised")]
    # there is no Progress 8 for 2024/25: DfE's z, kept as the reason
    assert obs(types, "progress8", "state_funded") == [(None, None, None, None, None, "not_applicable", "z",
                                                        "revised")]


def test_each_school_type_is_its_own_scope(types: Store) -> None:
    assert obs(types, "attainment8", "state_funded_mainstream")[0][:3] == (46.4, 27376000.0, 590000.0)
    assert obs(types, "attainment8", "special")[0][:3] == (14.2, 142000.0, 10000.0)
    assert obs(types, "attainment8", "all")[0][:3] == (46.1, 29504000.0, 640000.0)
    scopes = types.query("SELECT DISTINCT scope FROM observations WHERE period = '2024/25' ORDER BY 1")
    assert scopes == [("all",), ("special",), ("state_funded",), ("state_funded_mainstream",)]


def test_the_time_series_keeps_each_years_values(types: Store) -> None:
    """2018/19 (line 13): P8 -0.03 (CI -0.04 to -0.02) over 520,000 pupils: a sum of -15,600."""
    assert obs(types, "progress8", "state_funded", "2018/19") == [(-0.03, -15600.0, 520000.0, -0.04, -0.02, "ok",
                                                                   None, "final")]


def test_pupil_groups_are_stored_by_group(types: Store) -> None:
    assert group_obs(types, "attainment8", "disadvantaged") == [(34.9, 5235000.0, 150000.0, "ok", "revised")]
    assert group_obs(types, "attainment8", "not_disadvantaged") == [(49.5, 22275000.0, 450000.0, "ok", "revised")]
    assert group_obs(types, "basics_95", "boys") == [(43.0, 131150.0, 305000.0, "ok", "revised")]
    assert group_obs(types, "attainment8", "prior_high") == [(63.1, 11358000.0, 180000.0, "ok", "revised")]
    assert group_obs(types, "attainment8", "disadvantaged", "state_funded_mainstream") == [
        (35.3, 5153800.0, 146000.0, "ok", "revised")]
    # 5 group rows x 10 measures; the crossing (disadvantaged girls) and ethnicity rows are no pupil group
    assert types.query("SELECT count(*), count(DISTINCT pupil_group) FROM pupil_group_observations") == [(50, 4)]


def test_rows_that_are_no_pupil_group_are_named_in_the_notes(store: Store) -> None:
    report = import_file(store, TYPES)
    assert "1 row breaks pupils down by more than one characteristic (line 11): not stored" in report.notes
    assert "1 row of ethnicity_major 'White' is not a pupil group Jointly keeps (line 12): not stored" in report.notes


def test_non_disadvantaged_pupils_nationally(types: Store) -> None:
    """Issue 13's comparator: the national value of pupils not known to be disadvantaged, by measure."""
    got = types.query("SELECT measure, value FROM pupil_group_observations WHERE level = 'national' AND scope = "
                      "'state_funded' AND pupil_group = 'not_disadvantaged' AND measure IN ('attainment8', "
                      "'basics_94', 'ebacc_entry') ORDER BY measure")
    assert got == [("attainment8", 49.5), ("basics_94", 71.6), ("ebacc_entry", 44.9)]


def test_national_index_serves_the_comparator(types: Store) -> None:
    index = schools.national_index(types)
    assert index[("attainment8", "2024/25", "state_funded")] == 45.9
    assert index[("basics_94", "2024/25", "special")] == 8.0


def test_summary_file_without_school_types_is_state_funded(store: Store) -> None:
    report = import_file(store, SUMMARY)
    assert (report.ok, report.kind, report.periods) == (True, "ees_national", ["2024/25"]), report.summary()
    assert obs(store, "attainment8", "state_funded")[0][:3] == (45.9, 27540000.0, 600000.0)
    assert group_obs(store, "attainment8", "girls") == [(48.3, 14248500.0, 295000.0, "ok", "revised")]
    assert group_obs(store, "attainment8", "sen_support") == [(23.0, 1725000.0, 75000.0, "ok", "revised")]
    assert group_obs(store, "attainment8", "disadvantaged") == [(34.9, 5235000.0, 150000.0, "ok", "revised")]


def test_reimport_replaces_and_never_duplicates(types: Store) -> None:
    before = (types.query("SELECT * EXCLUDE (import_id) FROM observations ORDER BY ALL"),
              types.query("SELECT * EXCLUDE (import_id) FROM pupil_group_observations ORDER BY ALL"))
    assert import_file(types, TYPES).ok
    after = (types.query("SELECT * EXCLUDE (import_id) FROM observations ORDER BY ALL"),
             types.query("SELECT * EXCLUDE (import_id) FROM pupil_group_observations ORDER BY ALL"))
    assert after == before


def test_a_bad_year_is_refused_by_line_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    lines = TYPES.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].replace('"202425"', '"2024"', 1)
    bad = tmp_path / TYPES.name
    bad.write_text("\n".join(lines), encoding="utf-8")
    before = snapshot(store)
    report = import_file(store, bad)
    assert not report.ok
    assert report.message == (f"{bad.name}, line 4, column time_period: period '2024' is not an academic year like "
                              "2018/19: every EES row names its academic year in time_period")
    assert snapshot(store) == before
    assert store.query("SELECT count(*) FROM pupil_group_observations") == [(0,)]


KS2 = NAT / "ks2_regional_and_local_authority_2016_to_2025_revised.csv"


def test_ks2_national_regional_and_la_rows(store: Store) -> None:
    """KS2 (2022/23, line 2): 390,000 of 650,000 pupils met the expected standard in reading, writing and maths
    (60.0%); North East (line 5) 59.0%; North Yorkshire, LA 815 (line 6) 61.0%: 3,660 of 6,000."""
    report = import_file(store, KS2)
    assert (report.ok, report.kind, report.periods) == (True, "ees_national", ["2022/23", "2024/25"]), report.summary()
    assert obs(store, "ks2_rwm_expected", "state_funded", "2022/23") == [
        (60.0, 390000.0, 650000.0, None, None, "ok", None, "revised")]
    assert store.query("SELECT level, area_code, value, numerator, denominator FROM observations WHERE measure = "
                       "'ks2_rwm_expected' AND period = '2022/23' AND level <> 'national' ORDER BY level") == [
        ("la", "815", 61.0, 3660.0, 6000.0), ("region", "E12000001", 59.0, 17700.0, 30000.0)]
    # reading progress 0.1 (CI 0.09 to 0.11) over 598,000 pupils (t_read_progress_eligible_pupils)
    assert obs(store, "ks2_reading_progress", "state_funded", "2022/23") == [
        (0.1, 59800.0, 598000.0, 0.09, 0.11, "ok", None, "revised")]
    # no KS2 progress for 2024/25: DfE's z, kept as the reason
    assert obs(store, "ks2_reading_progress", "state_funded", "2024/25")[0][5:7] == ("not_applicable", "z")


def test_ks2_pupil_groups_and_the_disadvantaged_measure(store: Store) -> None:
    assert import_file(store, KS2).ok
    got = store.query("SELECT pupil_group, value, numerator, denominator FROM pupil_group_observations WHERE measure "
                      "= 'ks2_rwm_expected' ORDER BY pupil_group")
    assert got == [("disadvantaged", 44.0, 83600.0, 190000.0), ("girls", 64.0, 203520.0, 318000.0)]
    # the disadvantaged row is also the national benchmark of the registry's own disadvantaged measure
    assert obs(store, "ks2_rwm_expected_disadvantaged", "state_funded", "2022/23")[0][:3] == (44.0, 83600.0,
                                                                                              190000.0)
