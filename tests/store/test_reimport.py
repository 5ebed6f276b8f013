"""Replace, never duplicate: re-importing a file swaps its values out; other periods and other files stay."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from conftest import EES_CENSUS, FIXTURES, PERF, read_csv_rows, snapshot, write_dfe_csv

from data.db.store import Store
from data.ingest.importers import import_file

KS4P = PERF / "815_2019_ks4provisional.csv"
OBS = "SELECT * EXCLUDE (ord, import_id) FROM observations ORDER BY ALL"


def count(store: Store, where: str = "true") -> int:
    return store.query(f"SELECT count(*) FROM observations WHERE {where}")[0][0]


def test_same_file_same_period_replaces(store: Store) -> None:
    first = import_file(store, KS4P, "2018/19")
    after_first = store.query(OBS)
    second = import_file(store, KS4P, "2018/19")
    assert (first.ok, second.ok) == (True, True)
    assert store.query(OBS) == after_first
    assert count(store) == first.observations + first.benchmarks == 600
    assert store.query("SELECT DISTINCT import_id FROM observations") == [(second.import_id,)]


def test_changed_value_replaces_the_old_one(store: Store, tmp_path: Path) -> None:
    import_file(store, KS4P, "2018/19")
    before = store.query(OBS)
    header, rows = read_csv_rows(KS4P)
    for r in rows:
        if r[3] == "144929":
            assert r[header.index("P8MEA")] == "0.14"
            r[header.index("P8MEA")] = "0.99"
    changed = write_dfe_csv(tmp_path / KS4P.name, header, rows)
    assert import_file(store, changed, "2018/19").ok
    after = store.query(OBS)
    assert len(after) == len(before)
    gone, new = set(before) - set(after), set(after) - set(before)
    assert [(o[1], o[4], o[6]) for o in gone] == [(144929, "progress8", 0.14)]  # (urn, measure, value)
    assert [(o[1], o[4], o[6]) for o in new] == [(144929, "progress8", 0.99)]


def test_same_file_another_period_adds_a_period(store: Store) -> None:
    a = import_file(store, KS4P, "2018/19")
    b = import_file(store, KS4P, "2017/18")
    assert (a.ok, b.ok) == (True, True)
    assert store.query("SELECT period, count(*) FROM observations GROUP BY period ORDER BY period") == [
        ("2017/18", 600), ("2018/19", 600)]


KS4_HEADER = ["RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "NFTYPE", "TPUP", "ATT8SCR", "P8PUP", "P8MEA", "P8CILOW",
              "P8CIUPP", "PTL2BASICS_94"]


def la_file(path: Path, la: str, schools: list[tuple[int, float, float]], la_att8: float) -> Path:
    """A small KS4 file of one LA: its schools, its LA row and the national rows."""
    rows = [["1", la, str(4000 + i), str(urn), f"School {urn}", "CY", "100", str(att8), "98", str(p8), "-0.2", "0.2",
             "60.0%"] for i, (urn, att8, p8) in enumerate(schools)]
    rows.append(["4", la, "", "", "", "", "200", str(la_att8), "196", "0.05", "", "", "61.0%"])
    rows.append(["7", "", "", "", "", "", "542831", "46.5", "513055", "-0.03", "", "", "64.4%"])
    return write_dfe_csv(path, KS4_HEADER, rows)


def test_two_la_files_of_the_same_kind_do_not_erase_each_other(store: Store, tmp_path: Path) -> None:
    a = la_file(tmp_path / "801_2019_ks4provisional.csv", "801", [(900001, 40.0, 0.1), (900002, 50.0, -0.1)], 45.0)
    b = la_file(tmp_path / "802_2019_ks4provisional.csv", "802", [(900101, 42.0, 0.3), (900102, 38.0, -0.4)], 40.0)
    assert import_file(store, a, "2018/19").ok
    assert import_file(store, b, "2018/19").ok
    assert store.query("SELECT level, urn, area_code, scope, value FROM observations WHERE measure = 'attainment8' "
                       "ORDER BY level, urn, area_code, scope") == [
        ("la", None, "801", "all", 45.0),
        ("la", None, "802", "all", 40.0),
        ("national", None, "E92000001", "state_funded", 46.5),  # in both files: replaced, not doubled
        ("school", 900001, None, None, 40.0),
        ("school", 900002, None, None, 50.0),
        ("school", 900101, None, None, 42.0),
        ("school", 900102, None, None, 38.0),
    ]
    assert [r[0] for r in store.query("SELECT urn FROM establishments ORDER BY urn")] == [
        900001, 900002, 900101, 900102]


def test_ees_membership_list_reimported_does_not_duplicate(store: Store) -> None:
    first = import_file(store, EES_CENSUS)
    before, obs_before = snapshot(store), store.query(OBS)
    second = import_file(store, EES_CENSUS)
    assert (first.ok, second.ok) == (True, True)
    assert (first.groups_added, second.groups_added, second.memberships_changed) == (32, 0, 0)
    after = snapshot(store)
    for table in ("groups", "memberships"):
        assert after[table] == before[table], table
    assert store.query(OBS) == obs_before
    assert store.query("SELECT count(*), count(DISTINCT (group_id, urn)) FROM memberships") == [(140, 140)]


def test_a_later_year_extends_the_membership(store: Store, tmp_path: Path) -> None:
    header, rows = read_csv_rows(EES_CENSUS)
    t = header.index("time_period")
    for r in rows:
        r[t] = "202324"
    later = tmp_path / "spc_school_level_2023-24.csv"
    with open(later, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    import_file(store, EES_CENSUS)
    report = import_file(store, later)
    assert (report.ok, report.periods, report.groups_added, report.memberships_changed) == (True, ["2023/24"], 0, 140)
    assert store.query("SELECT start_date, end_date, count(*) FROM memberships GROUP BY ALL") == [
        (dt.date(2022, 9, 1), dt.date(2024, 8, 31), 140)]
    assert store.query("SELECT period, count(*) FROM observations GROUP BY period ORDER BY period") == [
        ("2022/23", 386 * 3), ("2023/24", 386 * 3)]


def test_membership_only_list(store: Store) -> None:
    """An EES-format list with no measure columns records a partnership's members for a year, idempotently."""
    path = FIXTURES / "ees_membership_list.csv"
    first = import_file(store, path)
    assert (first.ok, first.kind, first.periods, first.observations, first.problems) == (
        True, "ees_census", ["2022/23"], 0, [])
    members = ("SELECT g.kind, g.name, m.urn, m.start_date, m.end_date FROM memberships m JOIN groups g "
               "USING (group_id) ORDER BY m.urn")
    expected = [("trust", "ALPHA LEARNING TRUST", urn, dt.date(2022, 9, 1), dt.date(2023, 8, 31))
                for urn in (900001, 900002)]  # names are matched with their spaces collapsed
    assert store.query(members) == expected
    assert dict(store.query("SELECT urn, name FROM establishments")) == {
        900001: "Alpha Primary School", 900002: "Beta Academy", 900003: "Gamma Community School"}
    second = import_file(store, path)
    assert (second.groups_added, second.memberships_changed) == (0, 0)
    assert store.query(members) == expected


def test_an_england_wide_cfr_file_keeps_every_las_footer_rows(store, tmp_path) -> None:
    """LA medians in a national CFR file name the LA in words; each LA keeps its own rows (none collide)."""
    header = "LA,URN,LONDON/NON-LONDON,MEDIAN,PUPILS,FSM,FSMBAND,TOTALINCOME,TOTALEXPENDITURE"
    rows = [
        '815,100001,Non-London,Primary,210,9.3,Low,"5,100","5,000"',
        '316,100002,London,Primary,400,30.1,High,"7,100","7,000"',
        'LA-PRI,North Yorkshire,Non-London,Primary,,,Low,"5,200","5,050"',
        'LA-PRI,Newham,London,Primary,,,High,"7,200","7,050"',
    ]
    path = tmp_path / "2018-2019" / "england_cfr.csv"
    path.parent.mkdir()
    path.write_text("\n".join([header, *rows]), encoding="utf-8")
    from data.ingest.importers import import_file

    report = import_file(store, path)
    assert report.ok and report.problems == []
    got = store.query("SELECT area_code, value FROM observations WHERE level = 'la' "
                      "AND measure = 'expenditure_per_pupil' ORDER BY area_code")
    assert got == [("Newham", 7050.0), ("North Yorkshire", 5050.0)]
