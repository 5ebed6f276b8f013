"""Every real DfE file in ../shared/realdata imports, or is refused in words if it is metadata.

Expected values come from an independent read of each file with the csv module (or openpyxl),
never from the importer's own helpers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from conftest import EES_CENSUS, GIAS_SAMPLE, GIAS_TV, META, PERF, imports_log, read_csv_rows, snapshot

from data.db.store import Store
from data.ingest.importers import ImportReport, import_file
from data.ingest.reading import Problem, read_table
from data.services import schools as schools_svc

REPO = Path(__file__).resolve().parents[2]
NAT = "E92000001"

# What each DfE code in a value cell means (abbreviations.xlsx; EES symbols), written out independently.
CODE_STATUS = {"SUPP": "suppressed", "SUPP!": "suppressed", "SUPPMAT": "suppressed", "NE": "not_applicable",
               "NA": "not_applicable", "NP": "missing", "NEW": "missing", "LOWCOV": "low_coverage",
               "z": "not_applicable", "x": "missing", "c": "suppressed"}


def expected_cell(raw: str) -> tuple[float | None, str, str | None]:
    """(value, status, status_code) a value cell should become."""
    t = raw.strip()
    if not t:
        return (None, "missing", None)
    if t in CODE_STATUS:
        return (None, CODE_STATUS[t], t)
    return (float(t.replace(",", "").replace("£", "").removesuffix("%")), "ok", None)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., tuple[Store, ImportReport]]]:
    """Import real files into a fresh store, once per module: imported((path, period), ...) -> (store, report
    of the last file). The same files in the same order give the same store back, so tests must not write."""
    made: dict[tuple, tuple[Store, ImportReport]] = {}

    def get(*files: tuple[Path, str | None]) -> tuple[Store, ImportReport]:
        if files not in made:
            s = Store(tmp_path_factory.mktemp("real") / "s.duckdb")
            report = None
            for path, period in files:
                report = import_file(s, path, period)
                assert report.ok, report.message
            made[files] = (s, report)  # the report of the last file
        return made[files]

    yield get
    for s, _ in made.values():
        s.close()


def stored(store: Store, measure: str, period: str) -> dict[int, tuple[float | None, str, str | None]]:
    rows = store.query("SELECT urn, value, status, status_code FROM observations WHERE level = 'school' "
                       "AND measure = ? AND period = ?", [measure, period])
    return {urn: (value, status, code) for urn, value, status, code in rows}


def benchmarks(store: Store, measure: str, period: str) -> dict[tuple, float | None]:
    rows = store.query("SELECT level, area_code, scope, value FROM observations "
                       "WHERE level <> 'school' AND measure = ? AND period = ?", [measure, period])
    return {(lv, area, scope): v for lv, area, scope, v in rows}


def school_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Rows describing one school: RECTYPE 1 or 2 when there is a RECTYPE, else a numeric URN."""
    header, rows = read_csv_rows(path)
    if "RECTYPE" in header:
        rows = [r for r in rows if r[header.index("RECTYPE")] in ("1", "2")]
    else:
        rows = [r for r in rows if r[header.index("URN")].strip().isdigit()]
    return header, rows


def cell(header: list[str], row: list[str], column: str) -> str:
    i = header.index(column)
    return row[i] if i < len(row) else ""  # a ragged row: the school has no results


def assert_column(store: Store, path: Path, period: str, measure: str, column: str) -> set[str]:
    """Every school's stored value of `measure` equals the file's `column`. Returns the codes seen."""
    header, rows = school_rows(path)
    expected = {int(cell(header, r, "URN")): expected_cell(cell(header, r, column)) for r in rows}
    assert stored(store, measure, period) == expected
    return {code for _, _, code in expected.values() if code}


# ------------------------------------------------------------------------------ KS4 provisional 2018/19

KS4P = PERF / "815_2019_ks4provisional.csv"
KS4P_MEASURES = ["attainment8", "basics_94", "basics_95", "ebacc_94", "ebacc_aps", "ebacc_entry", "ks4_cohort",
                 "progress8"]


def test_ks4provisional_report(imported) -> None:
    _, report = imported((KS4P, "2018/19"))
    assert (report.kind, report.periods, report.encoding, report.measures, report.problems) == (
        "ks4provisional", ["2018/19"], "utf-8", KS4P_MEASURES, [])
    assert (report.rows_read, report.schools, report.observations, report.benchmarks) == (75, 72, 72 * 8, 3 * 8)


def test_ks4provisional_one_observation_per_school_and_measure(imported) -> None:
    store, _ = imported((KS4P, "2018/19"))
    header, rows = school_rows(KS4P)
    urns = {int(cell(header, r, "URN")) for r in rows}
    got = store.query("SELECT urn, measure, count(*) FROM observations WHERE level = 'school' GROUP BY ALL")
    assert sorted(got) == sorted((u, m, 1) for u in urns for m in KS4P_MEASURES)


def test_ks4provisional_progress8_of_one_school(imported) -> None:
    store, _ = imported((KS4P, "2018/19"))
    row = store.query_df("SELECT * EXCLUDE (ord, import_id) FROM observations WHERE urn = 144929 "
                         "AND measure = 'progress8'").to_dict("records")
    assert len(row) == 1
    assert row[0] == {
        "level": "school", "urn": 144929, "area_code": None, "scope": None, "measure": "progress8",
        "period": "2018/19", "value": 0.14, "numerator": pytest.approx(0.14 * 116), "denominator": 116.0,
        "ci_low": -0.09, "ci_high": 0.38, "status": "ok", "status_code": None, "source_kind": "ks4provisional",
        "version": "provisional",  # a ks4provisional file's values are DfE's provisional figures
    }


def test_ks4provisional_benchmarks(imported) -> None:
    store, _ = imported((KS4P, "2018/19"))
    assert benchmarks(store, "progress8", "2018/19") == {
        ("la", "815", "all"): 0.1,  # RECTYPE 4
        ("national", NAT, "all"): None,  # RECTYPE 5: no Progress 8 for all schools
        ("national", NAT, "state_funded"): -0.03,  # RECTYPE 7
    }
    assert benchmarks(store, "attainment8", "2018/19") == {
        ("la", "815", "all"): 48.6, ("national", NAT, "all"): 44.5, ("national", NAT, "state_funded"): 46.5}
    assert benchmarks(store, "basics_94", "2018/19") == {
        ("la", "815", "all"): 68.8, ("national", NAT, "all"): 59.5, ("national", NAT, "state_funded"): 64.4}


def test_ks4provisional_ragged_rows_are_missing_not_errors(imported) -> None:
    store, report = imported((KS4P, "2018/19"))
    header, rows = read_csv_rows(KS4P)
    ragged = {int(r[3]) for r in rows if len(r) == 7}
    assert ragged == {146819, 146769, 146969}  # new schools without results: 7 fields of 25
    got = store.query("SELECT urn, measure, value, status, status_code FROM observations WHERE urn IN (146819, "
                      "146769, 146969)")
    assert sorted(got) == sorted((u, m, None, "missing", None) for u in ragged for m in KS4P_MEASURES)
    assert report.problems == []


def test_ks4provisional_values_and_codes_match_the_file(imported) -> None:
    store, _ = imported((KS4P, "2018/19"))
    codes = set()
    for measure, column in [("attainment8", "ATT8SCR"), ("basics_94", "PTL2BASICS_94"), ("progress8", "P8MEA"),
                            ("ebacc_aps", "EBACCAPS"), ("ebacc_entry", "PTEBACC_E_PTQ_EE"), ("ks4_cohort", "TPUP")]:
        codes |= assert_column(store, KS4P, "2018/19", measure, column)
    assert codes == {"SUPP", "NE", "NA"}
    header, rows = read_csv_rows(KS4P)
    barlby = next(r for r in rows if r[3] == "144929")
    assert cell(header, barlby, "PTL2BASICS_94") == "54.6%"
    assert stored(store, "basics_94", "2018/19")[144929] == (54.6, "ok", None)


def test_comma_padded_rows_import_the_same(imported, tmp_path: Path) -> None:
    """The national download pads rows with commas instead of cutting them short."""
    text = KS4P.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    padded = tmp_path / "815_2019_ks4provisional_padded.csv"
    padded.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([lines[0]] + [ln + ",,,," for ln in lines[1:]]).encode())
    with Store(tmp_path / "p.duckdb") as s:
        report = import_file(s, padded, "2018/19")
        assert (report.ok, report.problems) == (True, [])
        original, _ = imported((KS4P, "2018/19"))
        q = "SELECT * EXCLUDE (ord, import_id) FROM observations ORDER BY ALL"
        assert s.query(q) == original.query(q)


# ------------------------------------------------------------------------------ KS4 final 2017/18

KS4F = PERF / "815_2018_ks4final.csv"


def test_ks4final_imports_every_school_once(imported) -> None:
    store, report = imported((KS4F, "2017/18"))
    header, rows = read_csv_rows(KS4F)
    assert len(header) == 496
    assert Counter(len(r) for r in rows) == Counter({496: 47, 495: 24, 26: 1, 486: 1})  # ragged, not padded
    assert (report.kind, report.periods, report.problems) == ("ks4final", ["2017/18"], [])
    assert len(report.measures) == 14 and "ebacc_languages_entry" in report.measures
    _, schools = school_rows(KS4F)
    got = store.query("SELECT urn, count(*), count(DISTINCT measure) FROM observations WHERE level = 'school' "
                      "GROUP BY urn")
    assert sorted(got) == sorted((int(r[4]), 14, 14) for r in schools)


def test_ks4final_values_and_codes_match_the_file(imported) -> None:
    store, _ = imported((KS4F, "2017/18"))
    codes = set()
    for measure, column in [("progress8", "P8MEA"), ("attainment8", "ATT8SCR"), ("basics_94", "PTL2BASICS_94"),
                            ("ebacc_languages_entry", "PTEBACLAN_E_PTQ_EE"),
                            ("progress8_disadvantaged", "P8MEA_FSM6CLA1A")]:
        codes |= assert_column(store, KS4F, "2017/18", measure, column)
    assert codes == {"SUPP", "NE", "NP"}
    # the 26-field row: a new school with no results at all
    assert set(stored(store, "progress8", "2017/18").items()) >= {(144976, (None, "missing", None))}


# ------------------------------------------------------------------------------ census 2017/18 and 2018/19

CENSUS = {"2017/18": PERF / "815_2018_census.csv", "2018/19": PERF / "815_2019_census.csv"}
SCOPE = {"PRI": "primary", "SEC": "secondary", "SPE": "special"}


@pytest.mark.parametrize("period", sorted(CENSUS))
def test_census_footers_are_benchmarks_not_schools(imported, period: str) -> None:
    path = CENSUS[period]
    store, report = imported((path, period))
    header, rows = read_csv_rows(path)
    footers = [r for r in rows if r[0] in ("LA", "NAT")]
    schools = {int(r[0]) for r in rows if r[0].isdigit()}
    assert len(footers) + len(schools) == len(rows)
    assert {r[0] for r in store.query("SELECT urn FROM establishments")} == schools
    nor = header.index("NOR")  # column 4 in 2017/18, 5 in 2018/19 (SCHOOLTYPE was added before it)
    expected = {("la" if r[0] == "LA" else "national", "815" if r[0] == "LA" else NAT, SCOPE[r[2]]): float(r[nor])
                for r in footers}
    assert benchmarks(store, "pupils", period) == expected
    # 2018/19's special-school rows (LA and NAT) count more pupils with SEN than on roll: that share is refused
    assert [p.column for p in report.problems] == (["TSENELK+TSENELSE"] * 2 if period == "2018/19" else [])


@pytest.mark.parametrize("period", sorted(CENSUS))
def test_census_values_match_the_file(imported, period: str) -> None:
    path = CENSUS[period]
    store, _ = imported((path, period))
    for measure, column in [("pupils", "NOR"), ("eal_pct", "PNUMEAL"), ("sen_support_pct", "PSENELK"),
                            ("ehcp_pct", "PSENELSE"), ("disadvantaged_pct", "PNUMFSMEVER")]:
        assert_column(store, path, period, measure, column)
    header, rows = school_rows(path)
    parts = store.query("SELECT urn, numerator, denominator FROM observations WHERE measure = 'eal_pct' "
                        "AND level = 'school' AND status = 'ok'")
    expected = {}
    for r in rows:
        nums = [cell(header, r, c) for c in ("NUMEAL", "NUMENGFL", "NUMUNCFL")]
        if all(n.isdigit() for n in nums):
            expected[int(r[0])] = (float(nums[0]), float(sum(int(n) for n in nums)))
    assert {u: (n, d) for u, n, d in parts} == expected  # numerator = NUMEAL, the count itself


@pytest.mark.parametrize("period", sorted(CENSUS))
def test_census_sen_pct_is_derived_from_counts(imported, period: str) -> None:
    path = CENSUS[period]
    store, _ = imported((path, period))
    header, rows = school_rows(path)
    expected = {}
    for r in rows:
        k, e, nor = (cell(header, r, c) for c in ("TSENELK", "TSENELSE", "NOR"))
        if k.isdigit() and e.isdigit() and nor.isdigit() and int(nor):
            expected[int(r[0])] = ((int(k) + int(e)) / int(nor) * 100, "ok", None)
        else:
            code = next((c for c in (k, e, nor) if c in CODE_STATUS), None)
            expected[int(r[0])] = (None, CODE_STATUS[code] if code else "missing", code)
    got = stored(store, "sen_pct", period)
    assert got.keys() == expected.keys()
    for urn, (value, status, code) in expected.items():
        assert got[urn] == (pytest.approx(value) if value is not None else None, status, code), urn
    assert any(code == "NP" for _, _, code in expected.values()) == (period == "2017/18")


def test_census_2019_drift_fsm_from_counts(imported) -> None:
    """2019 drops PNUMFSM and adds NUMFSM (and SCHOOLTYPE): the FSM rate is derived as NUMFSM / NOR."""
    path = CENSUS["2018/19"]
    store, report = imported((path, "2018/19"))
    assert "fsm_pct" in report.measures
    header, rows = school_rows(path)
    assert "PNUMFSM" not in header and "NUMFSM" in header and "SCHOOLTYPE" in header
    got = stored(store, "fsm_pct", "2018/19")
    for r in rows:
        num, nor = cell(header, r, "NUMFSM"), cell(header, r, "NOR")
        if num.isdigit():
            assert got[int(r[0])] == (pytest.approx(int(num) / int(nor) * 100), "ok", None)
        else:
            assert got[int(r[0])] == (None, CODE_STATUS[num], num)
    nat = benchmarks(store, "fsm_pct", "2018/19")
    assert nat[("national", NAT, "primary")] == pytest.approx(745453 / 4727089 * 100)  # 15.8%, as published
    # and 2018's published rate is used as is
    store18, _ = imported((CENSUS["2017/18"], "2017/18"))
    assert_column(store18, CENSUS["2017/18"], "2017/18", "fsm_pct", "PNUMFSM")


# ------------------------------------------------------------------------------ CFR (finance)

CFR = {"2017/18": PERF / "815_2018_cfr.csv", "2018/19": PERF / "815_2019_cfr.csv"}
CFR_PHASE = {"PRI": "primary", "SEC-WITH-KS4": "secondary", "SEC-WITHOUT-KS4": "secondary_without_ks4",
             "SPE": "special", "PRU": "alternative", "": "nursery"}


def cfr_footer_key(la: str, band: str) -> tuple[str, str, str]:
    where, _, rest = la.partition("-") if not la.startswith("NON-LONDON") else ("NON-LONDON", "", la[11:])
    level, area = {"LA": ("la", "815"), "NAT": ("national", NAT), "LONDON": ("region", "london"),
                   "NON-LONDON": ("region", "non_london")}[where]
    phase = CFR_PHASE[rest]
    return (level, area, f"{phase}:{band.lower()}" if band else phase)


@pytest.mark.parametrize("period", sorted(CFR))
def test_cfr_money_and_codes(imported, period: str) -> None:
    path = CFR[period]
    store, report = imported((path, period))
    assert (report.kind, report.problems) == ("cfr", [])
    for measure, column in [("expenditure_per_pupil", "TOTALEXPENDITURE"), ("income_per_pupil", "TOTALINCOME"),
                            ("teaching_staff_spend_share", "PTEACHINGSTAFF"),
                            ("self_generated_income_per_pupil", "SELFGENERATEDINCOME")]:
        assert_column(store, path, period, measure, column)
    header, rows = school_rows(path)
    money = [(int(r[1]), cell(header, r, "TOTALEXPENDITURE")) for r in rows]
    with_commas = [(u, raw) for u, raw in money if "," in raw]
    assert len(with_commas) > len(money) / 2  # "7,579": thousands separators, quoted in the file
    urn, raw = with_commas[0]
    assert stored(store, "expenditure_per_pupil", period)[urn] == (float(raw.replace(",", "")), "ok", None)


@pytest.mark.parametrize("period", sorted(CFR))
def test_cfr_footers_are_benchmarks_not_schools(imported, period: str) -> None:
    path = CFR[period]
    store, _ = imported((path, period))
    header, rows = read_csv_rows(path)
    footers = [r for r in rows if not r[1].isdigit()]
    assert {r[1] for r in footers} == {"North Yorkshire", ""}  # the URN column holds the LA's name, or nothing
    expected = {cfr_footer_key(r[0], r[header.index("FSMBAND")]): expected_cell(cell(header, r, "TOTALEXPENDITURE"))[0]
                for r in footers}
    assert len(expected) == len(footers)
    assert benchmarks(store, "expenditure_per_pupil", period) == expected
    assert {k[:2] for k in expected} == {("la", "815"), ("national", NAT), ("region", "london"),
                                         ("region", "non_london")}
    schools = {int(r[1]) for r in rows if r[1].isdigit()}
    assert {r[0] for r in store.query("SELECT urn FROM establishments")} == schools


def test_cfr_supp_bang_is_kept_verbatim(tmp_path: Path, store: Store) -> None:
    """SUPP! appears in the real 2018 file only in unused columns: put it where a measure reads it."""
    header, rows = read_csv_rows(CFR["2017/18"])
    assert any(c == "SUPP!" for r in rows for c in r)
    i = header.index("TOTALEXPENDITURE")
    rows[0][i] = "SUPP!"
    path = tmp_path / "815_2018_cfr.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    report = import_file(store, path, "2017/18")
    assert (report.ok, report.problems) == (True, [])
    assert stored(store, "expenditure_per_pupil", "2017/18")[int(rows[0][1])] == (None, "suppressed", "SUPP!")


# ------------------------------------------------------------------------------ spine

SPINE = PERF / "815_spine.csv"


def test_spine_establishments(imported) -> None:
    store, report = imported((SPINE, "2018/19"))
    assert (report.kind, report.establishments_added, report.problems) == ("spine", 413, [])
    cols = ["name", "town", "postcode", "phase", "type_name", "type_group", "state_funded", "age_low", "age_high",
            "la_code", "estab"]
    got = {u: schools_svc.establishment(store, u) for u in (121293, 144929, 121771)}
    assert {u: {c: e[c] for c in cols} for u, e in got.items()} == {
        121293: {"name": "Leeming and Londonderry Community Primary School", "town": "Northallerton",
                 "postcode": "DL7 9SG", "phase": "primary", "type_name": "Community school",
                 "type_group": "Maintained School", "state_funded": True, "age_low": 4, "age_high": 11,
                 "la_code": 815, "estab": 2040},
        144929: {"name": "Barlby High School", "town": "Selby", "postcode": "YO8 5JP", "phase": "secondary",
                 "type_name": "Academy - Converter mainstream", "type_group": "Academy", "state_funded": True,
                 "age_low": 11, "age_high": 16, "la_code": 815, "estab": 4232},
        121771: {"name": "The Dales School", "town": "Northallerton", "postcode": "DL7 9QW", "phase": "special",
                 "type_name": "Community special school", "type_group": "Special School", "state_funded": True,
                 "age_low": 2, "age_high": 19, "la_code": 815, "estab": 7015},
    }
    header, rows = read_csv_rows(SPINE)
    names = dict(store.query("SELECT urn, name FROM establishments"))
    assert names == {int(r[0]): r[header.index("SCHNAME")] for r in rows}


# ------------------------------------------------------------------------------ GIAS


def test_gias_establishments_sample(imported) -> None:
    store, report = imported((GIAS_SAMPLE, None))
    assert (report.kind, report.periods, report.establishments_added, report.problems) == (
        "gias_establishments", [], 20, [])
    header, rows = read_csv_rows(GIAS_SAMPLE, encoding="cp1252")
    assert len(header) == 133
    got = {u: (n, e, no) for u, n, e, no in store.query("SELECT urn, name, easting, northing FROM establishments")}
    assert got == {int(r[0]): (r[header.index("EstablishmentName")], float(r[header.index("Easting")]),
                               float(r[header.index("Northing")])) for r in rows}
    cass = schools_svc.establishment(store, 100000)
    assert (cass["easting"], cass["northing"]) == (533498.0, 181201.0)
    assert cass["latitude"] == pytest.approx(51.514, abs=0.001)  # OSGB36 -> WGS84
    assert cass["longitude"] == pytest.approx(-0.077, abs=0.001)
    assert (cass["name"], cass["phase"], cass["status"], cass["town"]) == (
        "Sir John Cass's Foundation Primary School", "primary", "open", "London")


def test_gias_windows_1252(store: Store, tmp_path: Path) -> None:
    """GIAS extracts are Windows-1252. The real sample happens to be ASCII, so give a name a ’ and an é."""
    raw = GIAS_SAMPLE.read_bytes()
    assert raw.isascii()
    name = "Sir John Cass’s Foundation Primary School – Café"
    path = tmp_path / "edubasealldata20181029.csv"
    path.write_bytes(raw.replace(b"Sir John Cass's Foundation Primary School", name.encode("cp1252")))
    assert b"\x92" in path.read_bytes() and b"\xe9" in path.read_bytes()
    report = import_file(store, path)
    assert (report.ok, report.encoding) == (True, "cp1252")
    assert schools_svc.establishment(store, 100000)["name"] == name


def test_windows_1252_metafile_decodes() -> None:
    """pupdestprovisional_meta.csv is real Windows-1252 (0x96 is an en dash)."""
    table = read_table(PERF / "pupdestprovisional_meta.csv")
    assert table.encoding == "cp1252"
    assert any("Academy converter – mainstream" in c for r in table.rows for c in r)


def test_gias_schema_drift_rows_are_reported(imported) -> None:
    store, report = imported((GIAS_TV / "example_schools_data.csv", None))
    header, rows = read_csv_rows(GIAS_TV / "example_schools_data.csv")
    assert (len(header), Counter(len(r) for r in rows)) == (120, Counter({120: 9, 135: 10}))
    assert report.ok
    assert report.problems == [
        Problem("example_schools_data.csv", "row has 135 fields but the header has 120: its values cannot be matched "
                "to the header's columns, so the row was skipped", line) for line in range(11, 21)]
    # rows that match the header are stored by name; the drifted rows are not stored misaligned
    got = {u: (n, t, p) for u, n, t, p in store.query("SELECT urn, name, town, postcode FROM establishments")}
    h = header.index
    assert got == {int(r[0]): (r[h("EstablishmentName")], r[h("Town")] or None, r[h("Postcode")] or None)
                   for r in rows if len(r) == 120}


def test_gias_groups_and_links(imported) -> None:
    store, _ = imported((GIAS_TV / "example_groups_data.csv", None), (GIAS_TV / "example_links_data.csv", None))
    header, rows = read_csv_rows(GIAS_TV / "example_groups_data.csv")
    kind = {"Multi-academy trust": "trust", "Federation": "federation"}
    got = store.query("SELECT gias_uid, code, name, kind, companies_house, open_date FROM groups ORDER BY gias_uid")
    h = header.index
    assert got == [(int(r[h("Group UID")]), r[h("Group ID")], r[h("Group Name")], kind[r[h("Group Type")]],
                    r[h("Companies House Number")],
                    dt.datetime.strptime(r[h("Incorporated on (open date)")], "%d/%m/%Y").date()) for r in rows]
    assert [g[3] for g in got] == ["trust", "trust", "federation", "trust"]
    lheader, links = read_csv_rows(GIAS_TV / "example_links_data.csv")
    members = store.query("SELECT g.gias_uid, m.urn, m.start_date, m.end_date FROM memberships m "
                          "JOIN groups g USING (group_id) ORDER BY m.urn")
    lh = lheader.index
    assert members == [(int(r[lh("Group UID")]), int(r[0]),
                        dt.datetime.strptime(r[lh("Joined date")], "%d/%m/%Y").date(), None) for r in links]


# ------------------------------------------------------------------------------ EES


def ees_rows() -> tuple[list[str], list[list[str]]]:
    return read_csv_rows(EES_CENSUS)


def test_ees_census(imported) -> None:
    store, report = imported((EES_CENSUS, None))
    header, rows = ees_rows()
    assert len(rows) == 386
    assert (report.kind, report.periods, report.schools, report.problems) == ("ees_census", ["2022/23"], 386, [])
    h = header.index
    trusts = Counter(" ".join(r[h("trust")].split()) for r in rows if r[h("trust")].strip())
    got = {name: n for name, n in store.query(
        "SELECT g.name, count(DISTINCT m.urn) FROM groups g JOIN memberships m USING (group_id) "
        "WHERE g.kind = 'trust' GROUP BY g.name")}
    assert got == dict(trusts)
    assert trusts.most_common(1) == [("ELEVATE MULTI ACADEMY TRUST", 12)]
    spans = store.query("SELECT start_date, end_date, count(*) FROM memberships GROUP BY ALL")
    assert spans == [(dt.date(2022, 9, 1), dt.date(2023, 8, 31), sum(trusts.values()))]
    assert store.query("SELECT DISTINCT period FROM observations") == [("2022/23",)]
    pupils = stored(store, "pupils", "2022/23")
    assert pupils == {int(r[h("urn")]): expected_cell(r[h("headcount of pupils")]) for r in rows}
    fsm = stored(store, "fsm_pct", "2022/23")
    col = h("% of pupils known to be eligible for free school meals")
    assert fsm == {int(r[h("urn")]): expected_cell(r[col]) for r in rows}
    assert Counter(s for _, s, _ in fsm.values()) == Counter(
        {"ok": sum(r[col] != "z" for r in rows), "not_applicable": sum(r[col] == "z" for r in rows)})


# ------------------------------------------------------------------------------ Ofsted


def test_ofsted_ratings_for_known_schools_only(imported) -> None:
    store, report = imported((SPINE, "2018/19"), (META / "england_ofsted-schools.xlsx", None))
    wb = openpyxl.load_workbook(META / "england_ofsted-schools.xlsx", read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    h = list(rows[0])
    grades = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
    _, spine = read_csv_rows(SPINE)
    known = {int(r[0]) for r in spine}
    ofsted = {r[0]: (grades[r[h.index("Overall effectiveness")]], r[h.index("Inspection date")].date())
              for r in rows[1:]}
    both = known & ofsted.keys()
    assert (report.kind, report.establishments_added, report.establishments_updated) == ("ofsted", 0, len(both))
    assert report.notes == [  # the inspections of schools not in the store are kept for when they arrive
        f"{len(ofsted):,} inspections of {len(ofsted):,} schools ({len(ofsted):,} new, 0 already stored and updated), "
        f"{len(ofsted):,} grades",
        f"{len(ofsted) - len(both):,} of the file's {len(ofsted):,} inspected schools are not in the store yet: their "
        "inspections are kept and show once a GIAS or performance-table file adds the schools"]
    got = {u: (r, d) for u, r, d in store.query("SELECT urn, ofsted_rating, ofsted_date FROM establishments")}
    assert got.keys() == known  # nobody created
    assert {u: got[u] for u in both} == {u: ofsted[u] for u in both}
    assert all(got[u] == (None, None) for u in known - both)


# ------------------------------------------------------------------------------ metadata

METAFILES = [
    (META / "ks2_meta.csv", "metadata"),
    (META / "_ks4final_meta.csv", "metadata"),
    (PERF / "census_meta.csv", "metadata"),
    (PERF / "cfr_meta.csv", "metadata"),
    (PERF / "ks4_meta_methodology.csv", "guidance"),
    (PERF / "la_and_region_codes_meta.csv", "metadata"),
    (PERF / "pupdestprovisional_meta.csv", "metadata"),
    (PERF / "abbreviations.xlsx", "workbook"),
    (PERF / "ks4provisional_meta.xlsx", "metadata"),
]
META_MESSAGES = {
    "metadata": "{name}, line 1: this is a DfE metadata file (it describes the columns of a data file), not data: "
                "import the data file it describes instead",
    "guidance": "{name}, line 1: this is a DfE metadata or guidance file (paragraphs of text, not a table of "
                "schools), not data: import the data file it describes instead",
    "workbook": "{name}: this Excel workbook has no data table (no URN column in its first sheet): it looks like a "
                "DfE metadata or guidance workbook; import the CSV data files it describes",
}


@pytest.mark.parametrize(("path", "why"), METAFILES, ids=[m[0].name for m in METAFILES])
def test_metadata_files_are_refused(store: Store, path: Path, why: str) -> None:
    assert import_file(store, KS4P, "2018/19").ok
    before = snapshot(store)
    report = import_file(store, path, "2018/19")
    expected = META_MESSAGES[why].format(name=path.name)
    assert (report.ok, report.message) == (False, expected)
    assert snapshot(store) == before
    assert {k: imports_log(store)[-1][k] for k in ("file_name", "outcome", "message")} == {
        "file_name": path.name, "outcome": "failed", "message": expected}


# Today's formats (2024/25-2025/26: EES performance files, Ofsted report cards, GIAS membership history and links).
# Each imports as its kind (each reader's own tests check its values cell by cell) or is refused by name.
REAL = REPO.parent / "shared" / "realdata"
CURRENT_FORMATS = [REAL / f for f in (
    "ees_16-18_progression_cianfhoghlaim/EXCERPT_L4_Tidy_2023_ALL_inst.csv",
    "ees_ks4_2024-25_hal609/202425_information_about_schools_provisional.csv",
    "ees_ks4_2024-25_hal609/EXCERPT_202425_information_about_multi_academy_trusts_revised.csv",
    "ees_ks4_2024-25_hal609/EXCERPT_202425_performance_tables_multi_academy_trusts_revised.csv",
    "gias_2025_cianfhoghlaim/EXCERPT_academiesmatmembership20250426.csv",
    "gias_2025_cianfhoghlaim/EXCERPT_alllinksdata20250426.csv",
    "gias_2025_sap-sector/Establishments-UI-Test-Data.csv",
    "gias_links_2024_witan/links_edubasealldata20240129.csv",
    "ofsted_mi_2025-26_hal609/EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections_as_at_"
    "30_June_2026.csv",
    "ofsted_mi_2025-26_hal609/EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections_as_at_"
    "31_Aug_2024.csv",
    "ofsted_mi_2025-26_hal609/Management_information_-_state-funded_schools_-_all_inspections_-_year_to_date_"
    "published_by_28_Feb_2026.csv",
)]


# The kind each current-format file must import as (each reader's own tests check its values cell by cell).
CURRENT_KINDS = {
    "202425_information_about_schools_provisional.csv": "ees_school_info",
    "EXCERPT_202425_performance_tables_multi_academy_trusts_revised.csv": "ees_trust_results",
    "EXCERPT_202425_information_about_multi_academy_trusts_revised.csv": "ees_trust_info",
}
# Ofsted's files hold dated inspections, not a year's results: they take no period (tests/store/test_ofsted.py)
UNDATED_KINDS = {
    "EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections_as_at_30_June_2026.csv":
        "ofsted_report_card",
    "EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections_as_at_31_Aug_2024.csv": "ofsted",
    "Management_information_-_state-funded_schools_-_all_inspections_-_year_to_date_published_by_28_Feb_2026.csv":
        "ofsted_report_card",
    "EXCERPT_academiesmatmembership20250426.csv": "gias_trust_membership",
    "Establishments-UI-Test-Data.csv": "gias_establishments",
    "links_edubasealldata20240129.csv": "gias_predecessors",
}
# Files Jointly does not read, refused with a sentence that names what they are
REFUSED_BY_NAME = {
    "EXCERPT_L4_Tidy_2023_ALL_inst.csv": "this is DfE's 16-18 progression to higher education or training file",
    "EXCERPT_alllinksdata20250426.csv": "link children's centres to children's centre groups",
}


@pytest.mark.parametrize("path", CURRENT_FORMATS, ids=[p.name[:60] for p in CURRENT_FORMATS])
def test_current_format_files_import_or_are_refused_in_words(store: Store, path: Path) -> None:
    assert import_file(store, KS4P, "2018/19").ok
    before = snapshot(store)
    report = import_file(store, path, "2024/25")
    if path.name in CURRENT_KINDS:
        assert (report.ok, report.kind, report.periods) == (True, CURRENT_KINDS[path.name], ["2024/25"]), report.message
    if path.name in UNDATED_KINDS:
        assert (report.ok, report.kind, report.periods) == (True, UNDATED_KINDS[path.name], []), report.message
    if path.name in REFUSED_BY_NAME:
        assert not report.ok and REFUSED_BY_NAME[path.name] in report.message, report.message
    assert path.name in CURRENT_KINDS.keys() | UNDATED_KINDS.keys() | REFUSED_BY_NAME.keys()  # no "either"
    if report.ok:
        assert report.rows_read > 0 and not [p for p in report.problems if p.fatal]
    else:  # a located sentence naming the file; nothing written
        assert report.message.startswith(f"{path.name}, line ") and "Traceback" not in report.message
        assert snapshot(store) == before
        assert imports_log(store)[-1]["outcome"] == "failed"


def test_every_real_file_is_covered() -> None:
    """A new file in ../shared/realdata must get a test here."""
    covered = {KS4P, KS4F, *CENSUS.values(), *CFR.values(), SPINE, GIAS_SAMPLE, EES_CENSUS,
               META / "england_ofsted-schools.xlsx", *(m[0] for m in METAFILES),
               *(GIAS_TV / f"example_{f}_data.csv" for f in ("schools", "groups", "links")), *CURRENT_FORMATS}
    found = {p for p in REPO.parent.joinpath("shared", "realdata").rglob("*") if p.suffix in (".csv", ".xlsx")}
    assert found == covered


# ------------------------------------------------------------------------------ the CLI contract


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOINTLY_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=REPO, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "jointly.duckdb"
    done = run_cli(db, "import", "--period", "2018/19", str(KS4P))
    assert done.returncode == 0, done.stderr
    done = run_cli(db, "import", str(EES_CENSUS))
    assert done.returncode == 0, done.stderr
    return db


def test_cli_school_scorecard_json(cli_db: Path) -> None:
    out = run_cli(cli_db, "scorecard", "--school", "144929", "--period", "2018/19", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert isinstance(rows, list)
    p8 = [r for r in rows if r["measure"] == "progress8"]
    assert len(p8) == 1
    assert {"measure", "label", "value", "cohort", "status", "national"} <= p8[0].keys()
    assert {k: p8[0][k] for k in ("measure", "label", "value", "cohort", "status", "national")} == {
        "measure": "progress8", "label": "Progress 8", "value": 0.14, "cohort": 116.0, "status": "ok",
        "national": -0.03}


def test_cli_school_scorecard_csv(cli_db: Path) -> None:
    out = run_cli(cli_db, "scorecard", "--school", "144929", "--period", "2018/19", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(out.stdout.splitlines()))
    p8 = next(r for r in rows if r["measure"] == "progress8")
    assert (p8["value"], p8["cohort"], p8["national"], p8["status"]) == ("0.14", "116.0", "-0.03", "ok")


def ees_trust(name: str) -> list[dict[str, str]]:
    header, rows = ees_rows()
    return [dict(zip(header, r, strict=True)) for r in rows if " ".join(r[header.index("trust")].split()) == name]


def group_row(db: Path, group: str, measure: str) -> dict:
    out = run_cli(db, "scorecard", "--group", group, "--period", "2022/23", "--format", "json")
    assert out.returncode == 0, out.stderr
    return next(r for r in json.loads(out.stdout) if r["measure"] == measure)


FSM_N = "number of pupils known to be eligible for free school meals"
FSM_P = "% of pupils known to be eligible for free school meals"


def test_cli_group_scorecard_pools_members(cli_db: Path) -> None:
    """A trust's rate is all its pupils together, not the mean of its schools' percentages.

    EES publishes each school's rate to one decimal place and (in the registry) no denominator, so the
    store's denominators are rebuilt from the rounded rate: hence the 0.1-point tolerance.
    """
    trust = "YORKSHIRE CAUSEWAY SCHOOLS TRUST"
    members = ees_trust(trust)
    pooled = sum(int(m[FSM_N]) for m in members) / sum(int(m["headcount of pupils"]) for m in members) * 100
    mean = sum(float(m[FSM_P]) for m in members) / len(members)
    assert abs(mean - pooled) > 2  # a case where the two methods disagree
    row = group_row(cli_db, trust, "fsm_pct")
    assert (row["schools_reporting"], row["schools_total"], row["status"]) == (len(members), len(members), "ok")
    assert row["value"] == pytest.approx(pooled, abs=0.1)
    assert row["rollup_method"].startswith("pooled")
    pupils = group_row(cli_db, trust, "pupils")
    assert pupils["value"] == sum(int(m["headcount of pupils"]) for m in members)


def test_cli_group_scorecard_pools_exactly_for_the_largest_trust(cli_db: Path) -> None:
    trust = "ELEVATE MULTI ACADEMY TRUST"
    members = ees_trust(trust)
    assert len(members) == 12 and any(m[FSM_P] == "0" for m in members)
    pooled = sum(int(m[FSM_N]) for m in members) / sum(int(m["headcount of pupils"]) for m in members) * 100
    mean = sum(float(m[FSM_P]) for m in members) / len(members)
    assert abs(mean - pooled) > 0.5
    assert group_row(cli_db, trust, "fsm_pct")["value"] == pytest.approx(pooled, rel=1e-9)
