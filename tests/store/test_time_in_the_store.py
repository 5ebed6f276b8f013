"""Time done right, through the importers and the store: "last year" is the academic year before, under the same
definition, never "whatever period sits before in the store" (docs/method.md, "Time rules").

Each file is small and written in DfE's own layout (BOM, CRLF, footers); every value asserted is a cell of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.db.store import Store
from data.ingest.importers import import_file
from data.services.scorecards import scorecard, window
from metrics.registry import load_registry
from metrics.sentences import describe
from tests.conftest import write_dfe_csv

REG = load_registry()
SPINE = ["URN", "LA", "ESTAB", "LAESTAB", "SCHNAME", "MINORGROUP", "NFTYPE", "ISPRIMARY", "ISSECONDARY", "ISPOST16",
         "AGEL", "AGEH"]
SCHOOLS = [(100001, "Ashby High School"), (100002, "Brook Academy")]
# footers as DfE writes them: the key in the URN column, the phase in ESTAB (LA, then NAT rows)
ABS_FOOTER = [["815", "SEC", "LA", "5.1", "14.0"], ["", "SEC", "NAT", "5.5", "13.7"]]
KS4 = ["RECTYPE", "LEA", "URN", "SCHNAME", "TPUP", "ATT8SCR", "P8MEA", "P8PUP", "P8CILOW", "P8CIUPP"]


def _spine(tmp: Path) -> Path:
    return write_dfe_csv(tmp / "spine" / "england_spine.csv", SPINE, [
        [urn, 815, 4000 + i, 8154000 + i, name, "Academy", "Academy converter", 0, 1, 0, 11, 16]
        for i, (urn, name) in enumerate(SCHOOLS)])


def _abs(tmp: Path, folder: str, column: str, values: tuple[str, str]) -> Path:
    rows = [[815, 4000 + i, urn, "5.0", v] for i, ((urn, _), v) in enumerate(zip(SCHOOLS, values, strict=True))]
    return write_dfe_csv(tmp / folder / "england_abs.csv", ["LA", "ESTAB", "URN", "PERCTOT", column],
                         rows + ABS_FOOTER)


def _ks4(tmp: Path, folder: str, att8: tuple[str, str], p8: tuple[str, str]) -> Path:
    rows = [[1, 815, urn, name, 150, a, p, 140, "-0.5" if p not in ("NE", "") else "", "0.5" if p else ""]
            for (urn, name), a, p in zip(SCHOOLS, att8, p8, strict=True)]
    rows.append([7, "", "", "", 500000, "46.7", "-0.03", 480000, "", ""])
    return write_dfe_csv(tmp / folder / "england_ks4final.csv", KS4, rows)


def _load(store: Store, *paths_and_periods: tuple[Path, str | None]) -> None:
    for path, period in paths_and_periods:
        import_file(store, path, period)


def _row(store: Store, urn: int, period: str, measure: str):
    card = scorecard(store, school=urn, period=period, measures=[measure])
    return card.rows[0]


def test_the_checks_case_pa_2018_19_is_never_compared_with_an_older_15_percent_file(store: Store,
                                                                                   tmp_path: Path) -> None:
    """The check printed 'Persistent absence up 10.5 points on last year (worse)': 2018/19 (10% threshold, 30.5)
    against a 2013/14 file at 15% (20.0). Today 2017/18 is the year before, and the store has none."""
    _load(store, (_spine(tmp_path), None), (_abs(tmp_path, "2013-2014", "PPERSABS15", ("20.0", "9.0")), "2013/14"),
          (_abs(tmp_path, "2018-2019", "PPERSABS10", ("30.5", "12.0")), "2018/19"))
    row = _row(store, 100001, "2018/19", "persistent_absence")
    assert row.value == 30.5  # the 2018/19 file's cell
    assert row.change is None
    assert row.change_note == "There are no results for 2017/18 in the store, so 2018/19 has no change to show."
    words = describe(row, REG.get("persistent_absence"))
    assert "on last year" not in words and "10.5" not in words
    # the window is every academic year from the store's first, gaps included as gaps
    assert [t.period for t in row.trend] == ["2013/14", "2014/15", "2015/16", "2016/17", "2017/18", "2018/19"]
    assert [t.value for t in row.trend][1:5] == [None] * 4
    # the 2013/14 file is read through the definition in force that year (PPERSABS15), kept as its own value
    assert row.trend[0].value == 20.0


def test_persistent_absence_2014_15_to_2015_16_is_a_definition_change(store: Store, tmp_path: Path) -> None:
    _load(store, (_spine(tmp_path), None), (_abs(tmp_path, "2014-2015", "PPERSABS15", ("14.0", "9.0")), "2014/15"),
          (_abs(tmp_path, "2015-2016", "PPERSABS10", ("22.0", "12.0")), "2015/16"))
    row = _row(store, 100001, "2015/16", "persistent_absence")
    assert row.value == 22.0 and row.change is None
    assert row.change_note == (
        "Persistent absence changed definition in 2015/16: pupils missing 15% or more of sessions 2010/11 to "
        "2014/15, pupils missing 10% or more of sessions from 2015/16. So 2015/16 is not compared with 2014/15.")
    assert "on last year" not in describe(row, REG.get("persistent_absence"))


def test_ks4_2021_22_is_not_compared_across_the_2019_20_and_2020_21_gap(store: Store, tmp_path: Path) -> None:
    _load(store, (_spine(tmp_path), None), (_ks4(tmp_path, "2018-2019", ("44.0", "50.0"), ("0.10", "0.20")), "2018/19"),
          (_ks4(tmp_path, "2021-2022", ("48.5", "51.0"), ("0.30", "0.25")), "2021/22"))
    assert window(store, "2021/22") == ["2018/19", "2019/20", "2020/21", "2021/22"]
    row = _row(store, 100001, "2021/22", "attainment8")
    assert row.value == 48.5 and row.change is None
    assert row.change_note == (
        "There are no performance tables for 2019/20 and 2020/21: exams and tests were cancelled because of "
        "COVID-19, and DfE published no school results for those years. So 2021/22 has no change to show against "
        "2020/21.")
    assert [(t.period, t.value, t.status) for t in row.trend] == [
        ("2018/19", 44.0, "ok"), ("2019/20", None, "not_applicable"), ("2020/21", None, "not_applicable"),
        ("2021/22", 48.5, "ok")]
    assert "on last year" not in describe(row, REG.get("attainment8"))


def test_a_year_missing_from_the_store_is_said_so_and_the_normal_case_shows_its_change(store: Store,
                                                                                         tmp_path: Path) -> None:
    _load(store, (_spine(tmp_path), None),
          (_ks4(tmp_path, "2021-2022", ("40.0", "50.0"), ("0.10", "0.20")), "2021/22"),
          (_ks4(tmp_path, "2023-2024", ("41.0", "52.0"), ("0.15", "0.10")), "2023/24"),
          (_ks4(tmp_path, "2024-2025", ("43.5", "51.5"), ("NE", "NE")), "2024/25"))
    missing = _row(store, 100001, "2023/24", "attainment8")
    assert missing.value == 41.0 and missing.change is None
    assert missing.change_note == "There are no results for 2022/23 in the store, so 2023/24 has no change to show."
    assert "on last year" not in describe(missing, REG.get("attainment8"))
    normal = _row(store, 100001, "2024/25", "attainment8")
    assert normal.change == pytest.approx(43.5 - 41.0) and normal.change_note is None
    assert describe(normal, REG.get("attainment8")).count("Up 2.5 on last year (better).") == 1


def test_no_progress8_in_2024_25_says_dfes_reason_and_shows_no_arrow(store: Store, tmp_path: Path) -> None:
    _load(store, (_spine(tmp_path), None),
          (_ks4(tmp_path, "2023-2024", ("41.0", "52.0"), ("0.15", "0.10")), "2023/24"),
          (_ks4(tmp_path, "2024-2025", ("43.5", "51.5"), ("NE", "NE")), "2024/25"))
    row = _row(store, 100001, "2024/25", "progress8")
    assert row.value is None and row.change is None
    assert row.change_note == (
        "There are no Progress 8 scores for 2024/25 and 2025/26: these pupils had no KS2 tests (cancelled in 2020 "
        "and 2021 because of COVID-19), so DfE has no starting point to measure their progress from.")
    words = describe(row, REG.get("progress8"))
    assert words.endswith(row.change_note) and "on last year" not in words


# ------------------------------------------------------------------------------ context of its own year (point 9)

CENSUS = ["URN", "LA", "ESTAB", "SCHOOLTYPE", "NOR", "NUMFSMEVER", "PNUMFSMEVER"]
THREE = [*SCHOOLS, (100003, "Castle School")]


def _census(tmp: Path, folder: str, disadvantaged: tuple[int, int, int]) -> Path:
    rows = [[urn, 815, 4000 + i, "Academy", 1000, n, f"{n / 10:.1f}"] for i, ((urn, _), n) in
            enumerate(zip(THREE, disadvantaged, strict=True))]
    total = sum(disadvantaged)
    rows += [["LA", 815, "SEC", "State-funded secondary", 3000, total, f"{total / 30:.1f}"],
             ["NAT", "", "SEC", "State-funded secondary", 3000, total, f"{total / 30:.1f}"]]
    return write_dfe_csv(tmp / folder / "england_census.csv", CENSUS, rows)


def _ks4_three(tmp: Path, folder: str, att8: tuple[str, str, str]) -> Path:
    rows = [[1, 815, urn, name, 150, a, "0.1", 140, "-0.3", "0.5"] for (urn, name), a in zip(THREE, att8, strict=True)]
    rows.append([7, "", "", "", 500000, "46.7", "-0.03", 480000, "", ""])
    return write_dfe_csv(tmp / folder / "england_ks4final.csv", KS4, rows)


def test_families_of_each_year_are_that_years_neighbours(store: Store, tmp_path: Path) -> None:
    """Disadvantaged pupils (the only context that varies; every school has 1,000 pupils): 2021/22 A 20%, B 22%,
    C 40% -> A's nearest school is B; 2023/24 A 38%, B 22%, C 40% -> C. 2022/23 has no census: its context is
    2021/22's, said as such. With families of one school, A's family median is that year's neighbour's value."""
    from data.ingest.derived import refresh_derived

    spine = write_dfe_csv(tmp_path / "spine" / "england_spine.csv", SPINE, [
        [urn, 815, 4000 + i, 8154000 + i, name, "Academy", "Academy converter", 0, 1, 0, 11, 16]
        for i, (urn, name) in enumerate(THREE)])
    _load(store, (spine, None),
          (_census(tmp_path, "2021-2022", (200, 220, 400)), "2021/22"),
          (_ks4_three(tmp_path, "2021-2022", ("40.0", "50.0", "60.0")), "2021/22"),
          (_ks4_three(tmp_path, "2022-2023", ("40.5", "50.5", "60.5")), "2022/23"),
          (_census(tmp_path, "2023-2024", (380, 220, 400)), "2023/24"),
          (_ks4_three(tmp_path, "2023-2024", ("41.0", "51.0", "61.0")), "2023/24"))
    refresh_derived(store, family_size=1)
    medians = dict(store.query("SELECT period, family_median FROM school_stats WHERE urn = 100001 "
                               "AND measure = 'attainment8'"))
    assert medians == {"2021/22": 50.0, "2022/23": 50.5, "2023/24": 61.0}
    nearest = dict(((u, p), n) for u, p, n in store.query(
        "SELECT urn, period, neighbour FROM family_by_year WHERE rank = 1 AND urn = 100001"))
    assert nearest == {(100001, "2021/22"): 100002, (100001, "2022/23"): 100002, (100001, "2023/24"): 100003}
    # 2022/23's context is 2021/22's (no census that year), and says so
    assert store.query("SELECT value, source_period FROM context_by_year WHERE urn = 100001 AND period = '2022/23' "
                       "AND variable = 'disadvantaged_pct'") == [(20.0, "2021/22")]
    # the pages' latest-year tables are 2023/24's
    assert store.query("SELECT neighbour FROM families WHERE urn = 100001 AND rank = 1") == [(100003,)]
    assert store.query("SELECT value, period FROM school_context WHERE urn = 100001 "
                       "AND variable = 'disadvantaged_pct'") == [(38.0, "2023/24")]
    from data.services.families import family

    assert family(store, 100001, size=1, period="2021/22")["urn"].tolist() == [100002]
    assert family(store, 100001, size=1)["urn"].tolist() == [100003]
    # the Similar schools page asks for the chosen year's family, through the viewer's scope
    from data.services import scope
    from data.services.access import Role, Viewer

    admin = Viewer(Role.ADMIN, None, "Data manager")
    assert scope.similar_schools(store, admin, 100001, size=1, period="2021/22")["urn"].tolist() == [100002]
    assert scope.similar_schools(store, admin, 100001, size=1, period="2023/24")["urn"].tolist() == [100003]
