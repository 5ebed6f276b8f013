"""DfE's own multi-academy trust measures and trust information (EES KS4 release): the real excerpts, cell by cell.

Expected values come from an independent read of each file with the csv module and the column meanings written
out here from data-guidance.txt (lines 1018-1040 and 2504-2531), never from the importer's own tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REALDATA, imports_log, read_csv_rows, snapshot

from data.db.store import Store
from data.ingest.importers import import_file
from data.services import groups

KS4 = REALDATA / "ees_ks4_2024-25_hal609"
RESULTS = KS4 / "EXCERPT_202425_performance_tables_multi_academy_trusts_revised.csv"
INFO = KS4 / "EXCERPT_202425_information_about_multi_academy_trusts_revised.csv"

# data-guidance.txt line 1018: each `*_weighted` column (and Progress 8's) and the registry measure it is
MEASURE_OF = {"attainment8_average_weighted": "attainment8", "progress8_average_weighted": "progress8",
              "engmath_95_percent_weighted": "basics_95", "ebacc_aps_average_weighted": "ebacc_aps",
              "ebacc_95_percent_weighted": "ebacc_95", "ebacc_94_percent_weighted": "ebacc_94",
              "ebacc_entering_percent_weighted": "ebacc_entry"}
GROUP_OF = {"Total": None, "Disadvantaged": "disadvantaged", "Not known to be disadvantaged": "not_disadvantaged"}
SYMBOL_STATUS = {"z": "not_applicable", "c": "suppressed", "x": "missing", "low": "low_coverage", "u": "low_coverage"}


def cell(raw: str) -> tuple[float | None, str, str | None]:
    """(value, status, status_code) of a value cell, read independently."""
    t = raw.strip()
    if t in SYMBOL_STATUS:
        return None, SYMBOL_STATUS[t], t
    return float(t), "ok", None


def rows_of(path: Path) -> list[dict[str, str]]:
    header, rows = read_csv_rows(path)
    return [dict(zip(header, r, strict=True)) for r in rows]


@pytest.fixture
def results(store: Store) -> Store:
    report = import_file(store, RESULTS)
    assert report.ok, report.summary()
    return store


def test_results_file_is_read_as_dfe_trust_results(store: Store) -> None:
    report = import_file(store, RESULTS)
    assert (report.ok, report.kind, report.periods, report.rows_read) == (True, "ees_trust_results", ["2024/25"], 60)
    assert report.groups_added == 20  # 20 trusts, none in the store before
    assert report.problems == []


def test_every_published_cell_is_stored_as_the_file_says(results: Store) -> None:
    rows = rows_of(RESULTS)
    assert len(rows) == 60 and len({r["trust_uid"] for r in rows}) == 20
    expected = [(int(r["trust_uid"]), r["trust_id"], "2024/25", MEASURE_OF[col], GROUP_OF[r["disadvantage_status"]],
                 "revised", *cell(r[col]), float(r["pupil_count"]), col) for r in rows for col in MEASURE_OF]
    stored = results.query(
        "SELECT gias_uid, trust_code, period, measure, pupil_group, version, value, status, status_code, cohort, "
        "source_column FROM trust_published")

    def key(t: tuple) -> tuple:
        return tuple("" if x is None else str(x) for x in t)

    assert sorted(stored, key=key) == sorted(expected, key=key)
    assert len(stored) == 60 * 7


def test_one_trust_by_hand(results: Store) -> None:
    """Abbey Multi Academy Trust (TR00002, UID 2046), line 2 of the file: Attainment 8 45.1 over 587 pupils; no
    Progress 8 in 2024/25 (z); disadvantaged pupils (line 3) 36.4 over 184."""
    got = results.query("SELECT pupil_group, value, cohort, status FROM trust_published WHERE gias_uid = 2046 "
                        "AND measure = 'attainment8' ORDER BY pupil_group NULLS FIRST")
    assert got == [(None, 45.1, 587.0, "ok"), ("disadvantaged", 36.4, 184.0, "ok"),
                   ("not_disadvantaged", 49.1, 403.0, "ok")]
    assert results.query("SELECT value, status, status_code, ci_low, ci_high FROM trust_published "
                         "WHERE gias_uid = 2046 AND measure = 'progress8' AND pupil_group IS NULL") == [
        (None, "not_applicable", "z", None, None)]


def test_trusts_are_created_as_trust_groups_with_uid_and_code(results: Store) -> None:
    rows = rows_of(RESULTS)
    expected = sorted({(r["trust_name"], r["trust_id"], int(r["trust_uid"]), "trust") for r in rows})
    assert sorted(results.query("SELECT name, code, gias_uid, kind FROM groups")) == expected


def test_a_trust_already_in_the_store_is_matched_by_gias_uid(store: Store) -> None:
    gid = _gias_trust(store, "ABBEY MAT (from GIAS)", 2046)
    report = import_file(store, RESULTS)
    assert report.ok and report.groups_added == 19
    assert store.query("SELECT group_id, code FROM groups WHERE gias_uid = 2046") == [(gid, "TR00002")]


def test_reimport_replaces_and_never_duplicates(results: Store) -> None:
    before = results.query("SELECT * EXCLUDE (import_id) FROM trust_published ORDER BY ALL")
    report = import_file(results, RESULTS)
    assert report.ok and report.groups_added == 0
    assert results.query("SELECT * EXCLUDE (import_id) FROM trust_published ORDER BY ALL") == before


def test_info_file_lists_members_and_counts(store: Store) -> None:
    report = import_file(store, INFO)
    assert (report.ok, report.kind, report.periods, report.rows_read) == (True, "ees_trust_info", ["2024/25"], 40)
    rows = rows_of(INFO)
    assert len(rows) == 40 and len({r["trust_uid"] for r in rows}) == 20
    expected = sorted((int(r["trust_uid"]), r["academy_eligibility"], int(u)) for r in rows
                      for u in r["urns"].split(";"))
    assert store.query("SELECT gias_uid, eligibility, urn FROM trust_published_members ORDER BY ALL") == expected
    info = sorted((int(r["trust_uid"]), r["academy_eligibility"], int(r["school_count"]), int(r["pupil_count"]),
                   float(r["disadvantaged_pupil_percent"]), r["progress8_banding"], "revised") for r in rows)
    assert store.query("SELECT gias_uid, eligibility, school_count, pupil_count, disadvantaged_pct, "
                       "progress8_banding, version FROM trust_published_info ORDER BY ALL") == info
    # each line's school_count is the length of its own urns list
    assert all(int(r["school_count"]) == len(r["urns"].split(";")) for r in rows)


def _gias_trust(store: Store, name: str, uid: int, members: list[tuple[int, str]] = ()) -> int:
    """A trust as a GIAS import leaves it in the results file (its UID, its dated members): what a later
    import matches by UID. (Groups people make live in the state store, and imports never change them.)"""
    with store.results_transaction() as cur:
        gid = cur.execute("INSERT INTO groups (kind, name, gias_uid, source) VALUES ('trust', ?, ?, 'gias') "
                          "RETURNING group_id", [name, uid]).fetchall()[0][0]
        for urn, joined in members:
            cur.execute("INSERT INTO memberships (group_id, urn, start_date, source) "
                        "VALUES (?, ?, ?, 'gias_trust_membership')", [gid, urn, joined])
    store.refresh()
    return int(gid)


def _schools(store: Store, urns: list[int]) -> None:
    store.query("INSERT INTO establishments (urn, name) SELECT u, 'School ' || u FROM unnest(?::INTEGER[]) t(u)",
                [urns])


def test_member_list_is_the_years_membership_where_no_dated_one_exists(store: Store) -> None:
    """Lift Schools (UID 2053) lists 21 mainstream KS4 academies in 2024/25; two are in the store, one of them
    with a GIAS join date (kept as it is), one with none (it gets the academic year 2024/25)."""
    _schools(store, [133768, 135651])
    gid = _gias_trust(store, "Lift Schools", 2053, members=[(133768, "2019-01-15")])
    report = import_file(store, INFO)
    assert report.ok, report.summary()
    assert store.query("SELECT urn, start_date::VARCHAR, end_date::VARCHAR, source FROM memberships "
                       "WHERE group_id = ? ORDER BY urn", [gid]) == [
        (133768, "2019-01-15", None, "gias_trust_membership"),
        (135651, "2024-09-01", "2025-08-31", "ees_trust_info")]
    assert groups.group_members(store, gid, "2024/25") == [133768, 135651]
    assert report.memberships_changed == 1
    assert any("not in the store" in n for n in report.notes)
    # the whole list is kept, known schools or not
    assert store.query("SELECT count(*) FROM trust_published_members WHERE gias_uid = 2053 AND eligibility = "
                       "'All mainstream KS4 academies in MAT'") == [(21,)]


def test_a_period_that_contradicts_the_file_is_refused(store: Store) -> None:
    before = snapshot(store)
    report = import_file(store, RESULTS, "2023/24")
    assert not report.ok
    assert report.message == (f"{RESULTS.name}, line 2, column time_period: the file's rows are for 2024/25 "
                              "(time_period 202425) but the period given is 2023/24; import it without --period, "
                              "or with --period 2024/25")
    assert snapshot(store) == before
    assert store.query("SELECT count(*) FROM trust_published") == [(0,)]
    assert imports_log(store)[-1]["outcome"] == "failed"


def test_junk_in_a_value_cell_is_located_and_not_stored(store: Store, tmp_path: Path) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    lines = text.split("\n")
    lines[1] = lines[1].replace('"45.1"', '"45.1!"')
    bad = tmp_path / RESULTS.name
    bad.write_text("\n".join(lines), encoding="utf-8")
    report = import_file(store, bad)
    assert report.ok
    assert [str(p) for p in report.problems] == [
        f"{bad.name}, line 2, column attainment8_average_weighted: expected a number or a DfE status code, "
        "found '45.1!'"]
    assert store.query("SELECT value, status, status_code FROM trust_published WHERE gias_uid = 2046 AND "
                       "measure = 'attainment8' AND pupil_group IS NULL") == [(None, "missing", "INVALID")]


def test_a_trust_row_without_a_uid_is_skipped_and_located(store: Store, tmp_path: Path) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    lines = text.split("\n")
    lines[4] = lines[4].replace(",2053,", ",,")
    bad = tmp_path / RESULTS.name
    bad.write_text("\n".join(lines), encoding="utf-8")
    report = import_file(store, bad)
    assert report.ok
    assert [str(p) for p in report.problems] == [
        f"{bad.name}, line 5, column trust_uid: expected the trust's GIAS Group UID (digits), found ''; row skipped"]
    # Lift Schools' other two rows still came in: 2 rows x 7 measures
    assert store.query("SELECT count(*) FROM trust_published WHERE gias_uid = 2053") == [(14,)]


def test_cli_refuses_a_contradicting_period_with_exit_code_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    db = tmp_path / "cli.duckdb"
    out = subprocess.run([sys.executable, "-m", "data", "import", "--period", "2023/24", str(RESULTS)],
                         cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
                         env={**os.environ, "JOINTLY_DB": str(db)}, check=False)
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"{RESULTS.name}, line 2, column time_period: the file's rows are for 2024/25" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    with Store(db) as store:
        assert store.query("SELECT count(*) FROM trust_published") == [(0,)]
        assert store.query("SELECT count(*) FROM groups") == [(0,)]


def test_forgetting_a_year_removes_dfes_trust_figures_of_that_year(store: Store) -> None:
    """forget-period takes the year's published trust values and member lists with its school values."""
    from data.ingest.derived import forget_period

    for path in (KS4 / "202425_information_about_schools_provisional.csv", RESULTS, INFO):
        assert import_file(store, path).ok
    tables = ("trust_published", "trust_published_info", "trust_published_members")
    assert all(store.query(f"SELECT count(*) FROM {t} WHERE period = '2024/25'")[0][0] > 0  # noqa: S608
               for t in tables)
    forget_period(store, "2024/25", actor="test")
    assert [store.query(f"SELECT count(*) FROM {t}")[0][0] for t in tables] == [0, 0, 0]  # noqa: S608
