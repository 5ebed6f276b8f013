"""EES school results (issue 10 point 1): the KS4 and KS2 school-level performance files and KS4's information
about schools, read by name across years, Total rows to observations, every other breakdown to a pupil group.

Expected values come from the files' own cells read with the csv module (or written out here by hand from the
fixtures' rows), never from the importer's helpers.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import FIXTURES, REALDATA, refused

from data.db.store import Store
from data.ingest.formats import FileKind
from data.ingest.importers import import_file

REPO = Path(__file__).resolve().parents[2]
INFO = REALDATA / "ees_ks4_2024-25_hal609" / "202425_information_about_schools_provisional.csv"
SAP = REALDATA / "ees_ks4_2024-25_sap-public" / "202425_performance_tables_schools_final_Total_Current_Year.json"
KS4_2425 = FIXTURES / "ees_ks4_202425_performance_tables_schools_revised.csv"
KS4_2324 = FIXTURES / "ees_ks4_202324_performance_tables_schools_final.csv"
KS2 = FIXTURES / "ees_ks2_school_attainment_data.csv"

# EES symbols and what each means (DfE's EES guidance, written out independently of data.ingest.formats)
SYMBOL = {"c": "suppressed", "k": "suppressed", "z": "not_applicable", "x": "missing", "u": "low_coverage",
          "low": "low_coverage"}


def expect(raw: str) -> tuple[float | None, str, str | None]:
    """(value, status, status_code) an EES cell should become."""
    t = raw.strip()
    if t in SYMBOL:
        return None, SYMBOL[t], t
    return float(t), "ok", None


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writeheader()
        w.writerows([{k: r[k] for k in header} for r in rows])
    return path


def school_obs(store: Store, urn: int, period: str) -> list[tuple]:
    return store.query("SELECT measure, value, numerator, denominator, ci_low, ci_high, status, status_code, version "
                       "FROM observations WHERE level = 'school' AND urn = ? AND period = ? ORDER BY measure",
                       [urn, period])


def group_obs(store: Store, urn: int, period: str, measure: str) -> dict[str, tuple]:
    rows = store.query("SELECT pupil_group, value, numerator, denominator, ci_low, ci_high, status, version "
                       "FROM pupil_group_observations WHERE urn = ? AND period = ? AND measure = ? AND scope IS NULL",
                       [urn, period, measure])
    return {r[0]: r[1:] for r in rows}


# ------------------------------------------------------------------------------ information about schools (real)


@pytest.fixture(scope="module")
def info_store(tmp_path_factory: pytest.TempPathFactory):
    s = Store(tmp_path_factory.mktemp("info") / "s.duckdb")
    report = import_file(s, INFO, recluster=False)
    yield s, report
    s.close()


def test_information_about_schools_imports_every_school(info_store) -> None:
    store, report = info_store
    cells = rows_of(INFO)
    assert (report.ok, report.kind, report.periods) == (True, FileKind.EES_SCHOOL_INFO, ["2024/25"])
    assert (report.rows_read, report.schools, report.observations) == (5755, 5755, 5755) == (
        len(cells), len({r["school_urn"] for r in cells}), len(cells))
    assert report.problems == []
    assert "version: provisional (kept on each value)" in report.notes


def test_information_cohort_matches_the_file(info_store) -> None:
    store, _ = info_store
    want = {int(r["school_urn"]): (*expect(r["endks4_pupil_count"]), "provisional") for r in rows_of(INFO)}
    got = {u: (v, s, c, ver) for u, v, s, c, ver in store.query(
        "SELECT urn, value, status, status_code, version FROM observations WHERE measure = 'ks4_cohort' "
        "AND period = '2024/25'")}
    assert got == want
    assert Counter(s for _, s, _, _ in want.values()) == {"ok": 5721, "not_applicable": 34}


def test_information_sen_counts_are_pupil_groups_of_the_cohort(info_store) -> None:
    store, _ = info_store
    cells = rows_of(INFO)
    for group, column in (("ehc_plan", "sen_with_ehcp_pupil_count"), ("sen_support", "sen_no_ehcp_pupil_count")):
        got = {u: (v, d, s) for u, v, d, s in store.query(
            "SELECT urn, value, denominator, status FROM pupil_group_observations WHERE pupil_group = ? "
            "AND measure = 'ks4_cohort' AND period = '2024/25'", [group])}
        want = {}
        for r in cells:
            value, status, _ = expect(r[column])
            cohort = expect(r["endks4_pupil_count"])[0]
            want[int(r["school_urn"])] = (value, cohort, status)
        assert got == want
    # the stored base is the one DfE divided by: its published percentage is count / cohort, to one decimal
    checked = 0
    for r in cells:
        if r["sen_with_ehcp_pupil_percent"] not in SYMBOL and r["endks4_pupil_count"] not in SYMBOL:
            pct = int(r["sen_with_ehcp_pupil_count"]) / int(r["endks4_pupil_count"]) * 100
            assert abs(pct - float(r["sen_with_ehcp_pupil_percent"])) <= 0.05 + 1e-9, r["school_urn"]
            checked += 1
    assert checked == 3294


def test_information_disadvantage_gaps_are_stored_as_published(info_store) -> None:
    store, _ = info_store
    cells = {int(r["school_urn"]): r for r in rows_of(INFO)}
    for measure, column in (("attainment8", "attainment8_diffn"), ("progress8", "progress8_diffn")):
        got = {u: (v, s, c) for u, v, s, c in store.query(
            "SELECT urn, value, status, status_code FROM pupil_group_observations WHERE scope = 'gap' "
            "AND pupil_group = 'disadvantaged' AND measure = ? AND period = '2024/25'", [measure])}
        assert got == {u: expect(r[column]) for u, r in cells.items()}
    statuses = Counter(s for (s,) in store.query(
        "SELECT status FROM pupil_group_observations WHERE scope = 'gap' AND measure = 'attainment8'"))
    assert statuses == {"ok": 3469, "not_applicable": 1845, "suppressed": 441}
    # one school by hand: line 5 of the file, URN 100054... its gap is the cell as written
    urn, row = next((u, r) for u, r in cells.items() if r["attainment8_diffn"] not in SYMBOL)
    assert store.query("SELECT value FROM pupil_group_observations WHERE urn = ? AND scope = 'gap' "
                       "AND measure = 'attainment8'", [urn]) == [(float(row["attainment8_diffn"]),)]


def test_information_school_facts_fill_the_register(info_store) -> None:
    store, _ = info_store
    assert store.query("SELECT name, la_code, la_name, estab, type_group, age_low, age_high, gender, pupils "
                       "FROM establishments WHERE urn = 100544") == [
        ("David Game College", 201, "City of London", 6000, "Independent schools", 13, 22, "Mixed", 314)]


def test_information_facts_never_replace_what_the_store_knows(store: Store, tmp_path: Path) -> None:
    cells = rows_of(INFO)
    header = list(cells[0])
    first = dict(cells[0], school_name="Old Name School", agerange="11 to 16")
    assert import_file(store, write_rows(tmp_path / "a" / INFO.name, header, [first])).ok
    assert import_file(store, INFO).ok
    assert store.query("SELECT name, age_low, age_high FROM establishments WHERE urn = 100544") == [
        ("Old Name School", 11, 16)]


# ------------------------------------------------------------------------------ KS4 performance (DfE's own rows)


def sap_csv(tmp_path: Path) -> Path:
    """DfE's fixture of the final 2024/25 school file (7 schools, 20 of its columns, Total rows) written as the CSV
    it was cut from: the key columns its name gives (2024/25, final, Total) are added, every value cell is DfE's."""
    schools = json.loads(SAP.read_text(encoding="utf-8"))
    keys = {"time_period": "202425", "time_identifier": "Academic year", "geographic_level": "School",
            "country_code": "E92000001", "country_name": "England", "version": "Final", "breakdown_topic": "Total",
            "breakdown": "Total"}
    header = [*keys, *schools[0]]
    return write_rows(tmp_path / "202425_performance_tables_schools_final.csv", header,
                      [{**keys, **s} for s in schools])


def test_ks4_final_total_rows_match_dfe_cells(store: Store, tmp_path: Path) -> None:
    report = import_file(store, sap_csv(tmp_path))
    schools = json.loads(SAP.read_text(encoding="utf-8"))
    assert (report.ok, report.kind, report.periods, report.schools) == (True, FileKind.EES_KS4, ["2024/25"], 7)
    assert report.measures == ["attainment8", "basics_94", "basics_95", "ks4_cohort", "progress8"]
    for s in schools:
        n = float(s["pupil_count"])
        a8, b94, b95 = float(s["attainment8_average"]), float(s["engmath_94_percent"]), float(s["engmath_95_percent"])
        assert school_obs(store, int(s["school_urn"]), "2024/25") == [
            ("attainment8", a8, pytest.approx(a8 * n), n, None, None, "ok", None, "final"),
            ("basics_94", b94, pytest.approx(b94 * n / 100), n, None, None, "ok", None, "final"),
            ("basics_95", b95, pytest.approx(b95 * n / 100), n, None, None, "ok", None, "final"),
            ("ks4_cohort", n, None, None, None, None, "ok", None, "final"),
            # no Progress 8 for 2024/25 (these pupils sat no KS2 tests): DfE's z, kept as its status
            ("progress8", None, None, None, None, None, "not_applicable", "z", "final"),
        ]
    unused = next(n for n in report.notes if "columns not used" in n)
    assert "attainment8eng_average" in unused and "gcse_91_percent" in unused


# ------------------------------------------------------------------------------ KS4 performance: breakdowns


def test_ks4_total_row_feeds_todays_measures(store: Store) -> None:
    report = import_file(store, KS4_2425)
    assert (report.ok, report.kind, report.periods, report.schools) == (True, FileKind.EES_KS4, ["2024/25"], 2)
    # the fixture's line 2, by hand: 200 pupils, Attainment 8 46.2 (sum 9240), 133 and 90 of 200 at grade 4 / 5
    z = ("progress8", None, None, None, None, None, "not_applicable", "z", "revised")
    assert school_obs(store, 100001, "2024/25") == [
        ("attainment8", 46.2, 9240.0, 200.0, None, None, "ok", None, "revised"),
        ("basics_94", 66.5, 133.0, 200.0, None, None, "ok", None, "revised"),
        ("basics_95", 45.0, 90.0, 200.0, None, None, "ok", None, "revised"),
        ("ebacc_94", 30.0, 60.0, 200.0, None, None, "ok", None, "revised"),
        ("ebacc_aps", 4.12, pytest.approx(824.0), 200.0, None, None, "ok", None, "revised"),
        ("ebacc_entry", 40.5, 81.0, 200.0, None, None, "ok", None, "revised"),
        ("ks4_cohort", 200.0, None, None, None, None, "ok", None, "revised"),
        # the Disadvantaged row's 50 pupils of the Total row's 200: DfE's own pupil_percent 25 is the value
        ("ks4_disadvantaged_pct", 25.0, 50.0, 200.0, None, None, "ok", None, "revised"),
        z,
        ("progress8_disadvantaged", *z[1:]),
    ]


def test_ks4_symbols_are_kept_as_statuses(store: Store) -> None:
    assert import_file(store, KS4_2425).ok
    got = {m: (s, c) for m, _, _, _, _, _, s, c, _ in school_obs(store, 100002, "2024/25")}
    assert got == {"attainment8": ("missing", "x"), "basics_94": ("low_coverage", "u"),
                   "basics_95": ("low_coverage", "low"), "ebacc_aps": ("suppressed", "c"),
                   "ebacc_entry": ("suppressed", "k"), "ebacc_94": ("not_applicable", "z"),
                   "ks4_cohort": ("ok", None), "progress8": ("not_applicable", "z")}


def test_ks4_breakdowns_are_pupil_groups(store: Store) -> None:
    report = import_file(store, KS4_2425)
    a8 = group_obs(store, 100001, "2024/25", "attainment8")
    assert a8 == {
        "disadvantaged": (36.4, 1820.0, 50.0, None, None, "ok", "revised"),
        "not_disadvantaged": (49.5, 7420.0, 150.0, None, None, "ok", "revised"),
        "boys": (44.1, 4586.0, 104.0, None, None, "ok", "revised"),
        "girls": (48.5, 4654.0, 96.0, None, None, "ok", "revised"),
        "eal": (47.0, 940.0, 20.0, None, None, "ok", "revised"),
        "not_eal": (46.1, 8300.0, 180.0, None, None, "ok", "revised"),
        "mobile": (None, None, 8.0, None, None, "suppressed", "revised"),
        "not_mobile": (46.6, 8947.0, 192.0, None, None, "ok", "revised"),
    }
    # a pupil group is no Total: the observations hold one Attainment 8 per school
    assert store.query("SELECT count(*) FROM observations WHERE measure = 'attainment8'") == [(2,)]
    assert group_obs(store, 100001, "2024/25", "basics_94")["disadvantaged"] == (
        44.0, 22.0, 50.0, None, None, "ok", "revised")
    # a breakdown we have no words for is reported, not fatal
    assert "1 rows of breakdowns Jointly does not know were skipped: Ethnicity / White British (1 rows)" in (
        report.notes)


def test_ks4_2023_24_names_and_words(store: Store) -> None:
    report = import_file(store, KS4_2324)
    assert (report.ok, report.kind, report.periods) == (True, FileKind.EES_KS4, ["2023/24"])
    obs = {r[0]: r[1:] for r in school_obs(store, 100001, "2023/24")}
    # avg_p8score 0.21 with p8score_ci_low/upp 0.03, 0.39 over t_inp8calc 180 pupils (t_p8score 37.8)
    assert obs["progress8"] == (0.21, 37.8, 180.0, 0.03, 0.39, "ok", None, "final")
    assert obs["attainment8"] == (45.8, 8702.0, 190.0, None, None, "ok", None, "final")
    assert obs["basics_95"] == (44.2, 84.0, 190.0, None, None, "ok", None, "final")
    assert obs["ebacc_entry"] == (41.1, 78.0, 190.0, None, None, "ok", None, "final")
    assert obs["progress8_disadvantaged"] == (-0.35, -15.75, 45.0, -0.7, 0.0, "ok", None, "final")
    # no pupil_percent in 2023/24: the share is the Disadvantaged row's t_pupils over the Total row's, 48 / 190
    assert obs["ks4_disadvantaged_pct"] == (pytest.approx(48 / 190 * 100), 48.0, 190.0, None, None, "ok", None,
                                            "final")
    p8 = group_obs(store, 100001, "2023/24", "progress8")
    assert set(p8) == {"disadvantaged", "not_disadvantaged", "eal", "prior_low", "prior_high"}
    assert p8["not_disadvantaged"] == (0.4, 54.0, 135.0, 0.2, 0.6, "ok", "final")  # "Disadvantaged all other"
    assert p8["eal"] == (0.5, 8.5, 17.0, -0.05, 1.05, "ok", "final")  # "Other than English"


def test_ks4_filter_columns_without_a_breakdown_column(store: Store, tmp_path: Path) -> None:
    """Some EES files name the group only in its filter column (disadvantage_status, sex, ...): the same groups."""
    rows = rows_of(KS4_2425)
    header = [c for c in rows[0] if c != "breakdown"]
    assert import_file(store, write_rows(tmp_path / KS4_2425.name, header, rows)).ok
    assert set(group_obs(store, 100001, "2024/25", "attainment8")) == {
        "disadvantaged", "not_disadvantaged", "boys", "girls", "eal", "not_eal", "mobile", "not_mobile"}


def test_ks4_duplicate_total_row_is_refused(store: Store, tmp_path: Path) -> None:
    rows = rows_of(KS4_2425)
    bad = write_rows(tmp_path / KS4_2425.name, list(rows[0]), [*rows, rows[0]])
    message = refused(store, bad)
    assert message == (f"{bad.name}, line 13, column school_urn: URN 100001 has the Total row twice for 2024/25 "
                       "(lines 2 and 13): the file is inconsistent, so nothing was imported")


def test_ks4_bad_period_is_refused_with_its_place(store: Store, tmp_path: Path) -> None:
    rows = rows_of(KS4_2425)
    rows[3]["time_period"] = "2024"
    bad = write_rows(tmp_path / KS4_2425.name, list(rows[0]), rows)
    assert refused(store, bad) == (f"{bad.name}, line 5, column time_period: period '2024' is not an academic year "
                                   "like 2018/19 (column time_period)")


def test_ks4_renamed_measures_are_refused(store: Store, tmp_path: Path) -> None:
    rows = rows_of(KS4_2324)
    renamed = {c: c.upper() + "_X" if c.startswith(("avg_", "pt_", "t_", "p8")) else c for c in rows[0]}
    header = list(renamed.values())
    bad = write_rows(tmp_path / KS4_2324.name, header, [{renamed[k]: v for k, v in r.items()} for r in rows])
    assert refused(store, bad) == (
        f"{bad.name}, line 1: this looks like an EES school results file (it has time_period, school_urn and a "
        "breakdown) but none of the KS4 or KS2 measure columns DfE publishes (such as attainment8_average, avg_att8, "
        "expected_standard_pupil_percent): were its columns renamed? Import the file as DfE published it")


def test_cli_refusal_exits_2(tmp_path: Path) -> None:
    rows = rows_of(KS4_2425)
    bad = write_rows(tmp_path / KS4_2425.name, list(rows[0]), [*rows, rows[0]])
    env = {**os.environ, "JOINTLY_DB": str(tmp_path / "cli.duckdb")}
    out = subprocess.run([sys.executable, "-m", "data", "import", str(bad)], cwd=REPO, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "URN 100001 has the Total row twice for 2024/25 (lines 2 and 13)" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


# ------------------------------------------------------------------------------ KS2


def test_ks2_subject_rows_feed_the_ks2_measures(store: Store) -> None:
    report = import_file(store, KS2)
    assert (report.ok, report.kind, report.periods) == (True, FileKind.EES_KS2, ["2022/23", "2024/25"])
    assert {r[0]: r[1:] for r in school_obs(store, 121000, "2022/23")} == {
        "ks2_rwm_expected": (61.0, None, None, None, None, "ok", None, "final"),
        "ks2_rwm_high": (9.0, None, None, None, None, "ok", None, "final"),
        "ks2_reading_score": (105.1, None, None, None, None, "ok", None, "final"),
        "ks2_maths_score": (104.0, None, None, None, None, "ok", None, "final"),
        "ks2_reading_progress": (1.2, None, None, -0.5, 2.9, "ok", None, "final"),
        "ks2_writing_progress": (-0.8, None, None, -2.4, 0.8, "ok", None, "final"),
        "ks2_maths_progress": (0.4, None, None, -1.2, 2.0, "ok", None, "final"),
        "ks2_rwm_expected_disadvantaged": (44.0, None, None, None, None, "ok", None, "final"),
    }
    later = {r[0]: r[1:] for r in school_obs(store, 121000, "2024/25")}
    # no KS2 progress for 2024/25: DfE's z on every progress cell, kept as the status
    assert {m: v[5:7] for m, v in later.items() if m.endswith("progress")} == {
        m: ("not_applicable", "z") for m in ("ks2_reading_progress", "ks2_writing_progress", "ks2_maths_progress")}
    assert later["ks2_rwm_expected"] == (63.0, None, None, None, None, "ok", None, "provisional")
    assert later["ks2_rwm_expected_disadvantaged"][5:7] == ("suppressed", "c")
    assert group_obs(store, 121000, "2024/25", "ks2_rwm_expected") == {
        "disadvantaged": (None, None, None, None, None, "suppressed", "provisional"),
        "not_mobile": (65.0, None, None, None, None, "ok", "provisional")}
    # the 3-year average is no year's value: skipped and said
    assert "1 rows averaging several years skipped: they are no single year's value" in report.notes


def test_forgetting_a_year_forgets_its_pupil_groups(store: Store) -> None:
    from data.ingest.derived import forget_period

    assert import_file(store, KS4_2425).ok and import_file(store, KS4_2324).ok
    forget_period(store, "2024/25", actor="test")
    assert store.query("SELECT DISTINCT period FROM pupil_group_observations") == [("2023/24",)]
    assert store.query("SELECT DISTINCT period FROM observations") == [("2023/24",)]


def test_a_file_cut_part_way_through_a_row_is_refused(store: Store, tmp_path: Path) -> None:
    """DfE ends every EES file with a line break: one that stops inside a row was cut, and its last values with it."""
    data = INFO.read_bytes()
    assert data.endswith(b'"z"\n')
    cut = tmp_path / INFO.name
    cut.write_bytes(data[: data.rindex(b'","') + 2])  # the last row stops after its last-but-one field's quote
    message = refused(store, cut)
    assert message.startswith(f"{cut.name}, line 5756") and "cut" in message


def test_a_period_that_disagrees_with_time_period_is_refused(store: Store) -> None:
    message = refused(store, KS4_2425, "2018/19")
    assert message.startswith(f"{KS4_2425.name}, line 2, column time_period: --period 2018/19 disagrees with the "
                              "file's own year: its time_period column says 2024/25")
