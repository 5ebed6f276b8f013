"""Pupil groups in the performance tables' wide files (issue 13 point 1): every declared group column of the real
North Yorkshire KS4 files, and of a synthetic KS2 file in the real column names, is stored cell for cell in
pupil_group_observations, for schools and for the LA and national rows; DfE's DIFFN_* gaps as scope 'gap'.

The expected rows come from the files read here with the csv module and the column table below, written from
DfE's metafiles (../shared/realdata/dfe_perf_2016-17_meta_datajamne), never from the importer's helpers.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, PERF

from data.db.store import Store
from data.ingest.derived import forget_period
from data.ingest.importers import import_file
from data.ingest.undo import undo_import
from metrics.registry import load_registry

KS4_FINAL = PERF / "815_2018_ks4final.csv"
KS4_PROVISIONAL = PERF / "815_2019_ks4provisional.csv"
KS2 = FIXTURES / "pupil_groups" / "ks2final_pupil_groups_2018-2019.csv"

# KS4 (the metafile's words): each group's suffix, its id, and its pupils at the end of KS4
KS4_GROUPS = [("FSM6CLA1A", "disadvantaged", "TFSM6CLA1A"), ("NFSM6CLA1A", "not_disadvantaged", "TNOTFSM6CLA1A"),
              ("LO", "prior_low", "TPRIORLO"), ("AV", "prior_middle", "TPRIORAV"), ("HI", "prior_high", "TPRIORHI"),
              ("EAL", "eal", "TEALGRP2"), ("BOYS", "boys", "BPUP"), ("GIRLS", "girls", "GPUP"),
              ("NMOB", "not_mobile", "TNMOB")]
KS4_COHORT = {g: c for _, g, c in KS4_GROUPS}
# basics and EBacc columns by group, in DfE's irregular names: (measure, group, value, count of those pupils or None)
KS4_RATES = [
    *[(f"basics_{t}", g, v, n) for t in ("94", "95") for g, v, n in (
        ("disadvantaged", f"PTFSM6CLA1ABASICS_{t}", None), ("not_disadvantaged", f"PTNOTFSM6CLA1ABASICS_{t}", None),
        ("prior_low", f"PTBASICSLO_{t}", f"TBASICSLO_{t}"), ("prior_middle", f"PTBASICSAV_{t}", f"TBASICSAV_{t}"),
        ("prior_high", f"PTBASICSHI_{t}", f"TBASICSHI_{t}"), ("boys", f"PBL2BASICS_{t}", None),
        ("girls", f"PGL2BASICS_{t}", None), ("eal", f"PTL2BASICSEAL_{t}", None),
        ("not_mobile", f"PTL2BASICSNMOB_{t}", None))],
    *[("ebacc_entry", g, v, n) for g, v, n in (
        ("disadvantaged", "PTEBACC_EFSM6CLA1A_PTQ_EE", None), ("not_disadvantaged", "PTEBACC_ENFSM6CLA1A_PTQ_EE", None),
        ("prior_low", "PTEBACC_ELO_PTQ_EE", "TEBACC_ELO_PTQ_EE"),
        ("prior_middle", "PTEBACC_EAV_PTQ_EE", "TEBACC_EAV_PTQ_EE"),
        ("prior_high", "PTEBACC_EHI_PTQ_EE", "TEBACC_EHI_PTQ_EE"), ("boys", "PBEBACC_E_PTQ_EE", None),
        ("girls", "PGEBACC_E_PTQ_EE", None), ("eal", "PTEBACC_EEAL_PTQ_EE", None),
        ("not_mobile", "PTEBACC_ENMOB_PTQ_EE", None))],
    *[("ebacc_94", g, v, None) for g, v in (
        ("disadvantaged", "PTEBACC_94_FSM6CLA1A"), ("not_disadvantaged", "PTEBACC_94_NFSM6CLA1A"),
        ("prior_low", "PTEBACCLO_94"), ("prior_middle", "PTEBACCAV_94"), ("prior_high", "PTEBACCHI_94"),
        ("boys", "PBEBACC_94"), ("girls", "PGEBACC_94"), ("eal", "PTEBACCEAL_94"), ("not_mobile", "PTEBACCNMOB_94"))],
]
# (measure, group, scope, value, cohort, count, ci_low, ci_high, scale)
Entry = tuple[str, str, str | None, str, str | None, str | None, str | None, str | None, float]
KS4: list[Entry] = [
    *[("attainment8", g, None, f"ATT8SCR_{s}", c, None, None, None, 1.0) for s, g, c in KS4_GROUPS],
    *[("progress8", g, None, f"P8MEA_{s}", f"P8PUP_{s}", None, f"P8CILOW_{s}", f"P8CIUPP_{s}", 1.0)
      for s, g, _ in KS4_GROUPS],
    *[("ebacc_aps", g, None, f"EBACCAPS_{s}", c, None, None, None, 1.0) for s, g, c in KS4_GROUPS],
    *[(m, g, None, v, KS4_COHORT[g], n, None, None, 100.0) for m, g, v, n in KS4_RATES],
    ("attainment8", "disadvantaged", "gap", "DIFFN_ATT8", None, None, None, None, 1.0),
    ("progress8", "disadvantaged", "gap", "DIFFN_P8MEA", None, None, None, None, 1.0),
]
# KS2 (ks2_meta.csv): suffix, group, the group's eligible pupils
KS2_GROUPS = [("FSM6CLA1A", "disadvantaged", "TFSM6CLA1A"), ("NotFSM6CLA1A", "not_disadvantaged", "TNotFSM6CLA1A"),
              ("B", "boys", "BELIG"), ("G", "girls", "GELIG"), ("L", "prior_low", "TKS1GROUP_L"),
              ("M", "prior_middle", "TKS1GROUP_M"), ("H", "prior_high", "TKS1GROUP_H"), ("EAL", "eal", "TEALGRP2"),
              ("MOBN", "not_mobile", "TMOBN")]
PROGRESS = {"READPROG": "ks2_reading_progress", "WRITPROG": "ks2_writing_progress", "MATPROG": "ks2_maths_progress"}
KS2_ENTRIES: list[Entry] = [
    *[("ks2_rwm_expected", g, None, f"PTRWM_EXP_{s}", c, None, None, None, 100.0) for s, g, c in KS2_GROUPS],
    *[("ks2_rwm_high", g, None, f"PTRWM_HIGH_{s}", c, None, None, None, 100.0) for s, g, c in KS2_GROUPS],
    *[(m, g, None, f"{p}_{s}", c, None, f"{p}_{s}_LOWER", f"{p}_{s}_UPPER", 1.0)
      for p, m in PROGRESS.items() for s, g, c in KS2_GROUPS],
    *[("ks2_reading_score", g, None, f"READ_AVERAGE_{s}", c, None, None, None, 1.0) for s, g, c in KS2_GROUPS],
    *[("ks2_maths_score", g, None, f"MAT_AVERAGE_{s}", c, None, None, None, 1.0) for s, g, c in KS2_GROUPS],
    ("ks2_rwm_expected", "disadvantaged", "gap", "DIFFN_RWM_EXP", None, None, None, None, 100.0),
    ("ks2_rwm_high", "disadvantaged", "gap", "DIFFN_RWM_HIGH", None, None, None, None, 100.0),
    *[(m, "disadvantaged", "gap", f"DIFFN_{p}", None, None, None, None, 1.0) for p, m in PROGRESS.items()],
]

# DfE's codes in the performance tables (abbreviations.xlsx) and the status each is stored as
CODES = {"SUPP": "suppressed", "NE": "not_applicable", "NA": "not_applicable", "NP": "missing",
         "LOWCOV": "low_coverage"}
# RECTYPE: the level and the Total benchmarks' scope of the row
RECTYPES = {"1": "school", "2": "school", "4": ("la", "all"), "5": ("national", "all"),
            "7": ("national", "state_funded")}


def _number(text: str | None) -> float | None:
    t = (text or "").strip().rstrip("%")
    try:
        return float(t)
    except ValueError:
        return None


def expected(path: Path, entries: list[Entry], period: str, version: str) -> set[tuple]:
    """Every pupil-group row the file should give, read cell by cell with the csv module."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = set()
    for r in rows:
        kind = RECTYPES[r["RECTYPE"].strip()]
        if kind == "school":
            level, urn, area, scope = "school", int(r["URN"]), None, None
        else:
            (level, scope), urn = kind, None
            area = r["LEA"].strip() if level == "la" else "E92000001"
        for measure, group, gap, value_col, cohort_col, count_col, lo_col, hi_col, scale in entries:
            if value_col not in r:
                continue  # a column absent from this year's file is not read
            raw = (r[value_col] or "").strip()
            cohort_raw = (r.get(cohort_col) or "").strip() if cohort_col else ""
            cohort = _number(cohort_raw)
            if level == "school" and cohort_col and (not cohort_raw or cohort == 0):
                continue  # the school has no pupils in the group
            if not raw and not cohort:
                continue
            value = _number(raw)
            status, code = ("ok", None) if value is not None else (CODES.get(raw.upper(), "missing"), raw or None)
            numerator = _number(r[count_col]) if count_col else None
            if value is not None and numerator is None and cohort:
                numerator = value * cohort / scale
            lo = _number(r[lo_col]) if lo_col else None
            hi = _number(r[hi_col]) if hi_col else None
            out.add(_rounded((level, urn, area, "gap" if gap else scope, measure, period, value, numerator,
                              cohort, lo, hi, status, code, version, group)))
    return out


def _rounded(row: tuple) -> tuple:
    return tuple(round(v, 6) if isinstance(v, float) else v for v in row)


def stored(store: Store, period: str) -> set[tuple]:
    got = store.query("SELECT level, urn, area_code, scope, measure, period, value, numerator, denominator, ci_low, "
                      "ci_high, status, status_code, version, pupil_group FROM pupil_group_observations "
                      "WHERE period = ?", [period])
    rows = [_rounded(r) for r in got]
    assert len(rows) == len(set(rows)), "a pupil-group value is stored twice"
    return set(rows)


def _declared(kind: str) -> set[tuple[str, str, str | None]]:
    return {(m.id, g.pupil_group, g.scope) for m, g in load_registry().groups_for_kind(kind)}


def test_the_registry_declares_the_groups_of_the_metafiles() -> None:
    assert _declared("ks4") == {(e[0], e[1], e[2]) for e in KS4}
    assert _declared("ks2") == {(e[0], e[1], e[2]) for e in KS2_ENTRIES}


def test_the_real_ks4final_is_stored_cell_for_cell(store: Store) -> None:
    report = import_file(store, KS4_FINAL, "2017/18")
    assert report.ok, report.message
    want = expected(KS4_FINAL, KS4, "2017/18", "final")
    got = stored(store, "2017/18")
    assert got == want
    levels = {(r[0], r[3]) for r in got}
    assert {("school", None), ("school", "gap"), ("la", "all"), ("la", "gap"), ("national", "state_funded"),
            ("national", "all")} <= levels
    # every school row of the file and every declared (measure, group) are there, codes as statuses
    with open(KS4_FINAL, encoding="utf-8-sig", newline="") as fh:
        schools = {int(r["URN"]) for r in csv.DictReader(fh) if r["RECTYPE"] in ("1", "2")}
    assert {r[1] for r in got if r[0] == "school"} <= schools
    assert {(r[4], r[14], r[3] == "gap") for r in got} == {(e[0], e[1], e[2] == "gap") for e in KS4}
    assert {r[11] for r in got} >= {"ok", "suppressed", "not_applicable", "missing"}
    assert f"{len(want):,} pupil-group values stored" in " ".join(report.notes)


def test_a_known_cell_by_hand(store: Store) -> None:
    """The LA row of 815_2018_ks4final.csv: TFSM6CLA1A 965, ATT8SCR_FSM6CLA1A 34.3, DIFFN_ATT8 -15.8."""
    import_file(store, KS4_FINAL, "2017/18")
    rows = store.query("SELECT scope, value, numerator, denominator FROM pupil_group_observations WHERE level = 'la' "
                       "AND area_code = '815' AND measure = 'attainment8' AND pupil_group = 'disadvantaged' "
                       "ORDER BY scope")
    assert [(s, v, round(n, 6) if n is not None else None, d) for s, v, n, d in rows] == [
        ("all", 34.3, round(34.3 * 965, 6), 965.0), ("gap", -15.8, None, None)]


def test_the_real_ks4provisional_has_no_group_columns_and_stores_none(store: Store) -> None:
    report = import_file(store, KS4_PROVISIONAL, "2018/19")
    assert report.ok, report.message
    assert expected(KS4_PROVISIONAL, KS4, "2018/19", "provisional") == set()
    assert stored(store, "2018/19") == set()
    assert not [n for n in report.notes if "pupil-group" in n]


def test_the_ks2_fixture_is_stored_cell_for_cell(store: Store) -> None:
    report = import_file(store, KS2, "2018/19")
    assert report.ok, report.message
    want = expected(KS2, KS2_ENTRIES, "2018/19", "final")
    assert stored(store, "2018/19") == want
    got = want
    # the fixture's cases: a school without EAL pupils (121001) and one without disadvantaged pupils (121004) store
    # nothing for them; a blank cohort (121002's TMOBN) nothing; small groups SUPP; LOWCOV and NP as statuses
    assert not [r for r in got if r[1] == 121001 and r[14] == "eal"]
    assert not [r for r in got if r[1] == 121004 and r[14] == "disadvantaged"]
    assert not [r for r in got if r[1] == 121002 and r[14] == "not_mobile"]
    assert {r[11] for r in got} == {"ok", "suppressed", "low_coverage", "missing"}
    assert [r[12] for r in got if r[1] == 121003 and r[4] == "ks2_rwm_expected" and r[14] == "girls"] == ["LOWCOV"]
    # the LA row's prior-attainment cohorts are blank: its values are stored without a base
    la_low = [r for r in got if r[0] == "la" and r[14] == "prior_low" and r[4] == "ks2_rwm_expected"]
    assert len(la_low) == 1 and la_low[0][6] is not None and la_low[0][8] is None
    # five gaps for each of the five schools that publish them and the LA (England's rows leave them blank)
    assert len([r for r in got if r[3] == "gap"]) == 6 * 5


def test_undo_removes_them_and_puts_back_what_it_replaced(store: Store, tmp_path: Path) -> None:
    first = import_file(store, KS4_FINAL, "2017/18")
    before = stored(store, "2017/18")
    # the same file with one disadvantaged pupils' Attainment 8 changed, imported over it
    changed = tmp_path / "815_2018_ks4final.csv"
    with open(KS4_FINAL, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("ATT8SCR_FSM6CLA1A")
    target = next(i for i, r in enumerate(rows[1:], 1) if _number(r[col]) is not None and r[0] == "1")
    urn = int(rows[target][rows[0].index("URN")])
    rows[target][col] = "12.3"
    with open(changed, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    second = import_file(store, changed, "2017/18")
    assert second.ok, second.message
    value = "SELECT value FROM pupil_group_observations WHERE urn = ? AND measure = 'attainment8' " \
            "AND pupil_group = 'disadvantaged' AND scope IS NULL"
    assert store.query(value, [urn]) == [(12.3,)]
    undo_import(store, "test", second.import_id)
    assert stored(store, "2017/18") == before
    undo_import(store, "test", first.import_id)
    assert store.query("SELECT count(*) FROM pupil_group_observations") == [(0,)]


def test_a_provisional_file_never_replaces_the_final_groups(store: Store, tmp_path: Path) -> None:
    import_file(store, KS4_FINAL, "2017/18")
    before = stored(store, "2017/18")
    provisional = tmp_path / "815_2018_ks4provisional.csv"
    shutil.copy(KS4_FINAL, provisional)
    report = import_file(store, provisional, "2017/18")
    assert report.ok, report.message
    assert stored(store, "2017/18") == before
    assert any("pupil-group values were not replaced: the store holds a later version" in n for n in report.notes)


def test_forgetting_the_year_forgets_its_groups(store: Store) -> None:
    import_file(store, KS4_FINAL, "2017/18")
    import_file(store, KS2, "2018/19")
    forget_period(store, "2017/18", actor="test")
    assert store.query("SELECT DISTINCT period FROM pupil_group_observations") == [("2018/19",)]


@pytest.mark.parametrize("cell", ["-95.0", "abc"])
def test_a_bad_gap_cell_is_a_located_problem_not_a_value(store: Store, tmp_path: Path, cell: str) -> None:
    path = tmp_path / "815_2018_ks4final.csv"
    with open(KS4_FINAL, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("DIFFN_ATT8")
    target = next(i for i, r in enumerate(rows[1:], 1) if _number(r[col]) is not None and r[0] == "1")
    rows[target][col] = cell
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    report = import_file(store, path, "2017/18")
    assert report.ok, report.message
    urn = int(rows[target][rows[0].index("URN")])
    assert [p for p in report.problems if p.line == target + 1 and p.column == "DIFFN_ATT8"]
    assert store.query("SELECT value, status FROM pupil_group_observations WHERE urn = ? AND scope = 'gap' AND "
                       "measure = 'attainment8'", [urn]) == [(None, "missing")]
