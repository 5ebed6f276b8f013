"""Issue 11 point 4: after an import, a check says what the store can show and what it cannot (data.ingest.store_check),
each finding reproduced with DfE's real files where they show it, else with a small made-up fixture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EES_CENSUS, PERF, REALDATA

from data.db.store import Store
from data.ingest.importers import import_file
from data.ingest.store_check import OK, WARNING, Finding, check_store, report_lines
from data.services import groups
from data.services.access import AccessDenied, Role, Viewer
from data.services.imports import store_findings

REPO = Path(__file__).resolve().parents[2]
KS4P = PERF / "815_2019_ks4provisional.csv"
KS4F = PERF / "815_2018_ks4final.csv"
MEMBERSHIP_HISTORY = REALDATA / "gias_2025_cianfhoghlaim" / "EXCERPT_academiesmatmembership20250426.csv"
TRUSTS_MISSED = Finding(
    WARNING, "The trusts' memberships are for 2022/23 but the results are for 2018/19: a trust scorecard of "
    "2018/19 has no schools.",
    "Import a membership file for 2018/19 or GIAS's trust membership history (academiesmatmembership….csv).")


def imported(store: Store, *files: tuple[Path, str | None]) -> Store:
    for path, period in files:
        report = import_file(store, path, period)
        assert report.ok, report.summary()
    return store


def warnings(store: Store) -> list[Finding]:
    return [f for f in check_store(store) if f.severity == WARNING]


def test_an_empty_store_says_it_has_no_results(store: Store) -> None:
    # issue 11 point 4
    assert check_store(store) == [Finding(WARNING, "The store holds no school results yet, so no scorecard can show "
                                          "a value.", "Import the performance tables (or EES school-level files) "
                                          "for a year.")]


def test_trust_memberships_of_another_year_than_the_results_are_named_in_the_issues_words(store: Store) -> None:
    # issue 11 point 4: EES's 2022/23 census names each school's trust that year; the results are 2018/19's
    imported(store, (EES_CENSUS, None), (KS4P, "2018/19"))
    assert TRUSTS_MISSED in check_store(store)


def test_gias_trust_membership_history_answers_it(store: Store) -> None:
    # issue 11 point 4: the history's memberships are dated from when each school joined, open-ended
    imported(store, (EES_CENSUS, None), (KS4P, "2018/19"), (MEMBERSHIP_HISTORY, None))
    assert not [f for f in warnings(store) if "memberships are for" in f.sentence]


def test_a_year_missing_from_memberships_among_others_is_named(store: Store) -> None:
    # issue 11 point 4: results for 2017/18 and 2018/19 and (census, context only: not results) 2022/23
    imported(store, (EES_CENSUS, None), (KS4P, "2018/19"), (KS4F, "2017/18"))
    assert Finding(WARNING, "The trusts' memberships are for 2022/23 but the results are for 2017/18 and 2018/19: "
                   "a trust scorecard of 2017/18 and 2018/19 has no schools.",
                   "Import a membership file for 2017/18 and 2018/19 or GIAS's trust membership history "
                   "(academiesmatmembership….csv).") in check_store(store)


def test_national_comparators_present_and_missing_per_year(store: Store) -> None:
    # issue 11 point 4: the LA download carries England's rows (RECTYPE 5 and 7) for its 8 KS4 measures; the EES
    # census sample (one LA) carries none for its three measures
    imported(store, (EES_CENSUS, None), (KS4P, "2018/19"))
    found = check_store(store)
    assert Finding(OK, "National averages to compare with: 8 measures in 2018/19.") in found
    assert Finding(WARNING, "No national average for Pupils with English as an additional language, Pupils eligible "
                   "for free school meals, Pupils on roll in 2022/23: these values show without a national "
                   "comparison.", "Import the national file for 2022/23 (the England download, with its national "
                   "rows).") in found


def test_schools_with_results_but_no_gias_details(store: Store) -> None:
    # issue 11 point 4: a performance-tables file names schools without addresses; GIAS's file gives them
    imported(store, (KS4P, "2018/19"))
    # 46 of the file's 72 school rows have a number in one of its seven result columns (ATT8SCR, P8MEA,
    # PTL2BASICS_94/95, PTEBACC_94, EBACCAPS, PTEBACC_E_PTQ_EE), counted with the csv module; the rest NE, SUPP, NP
    assert Finding(WARNING, "46 schools with results have no details from Get Information about Schools (address, "
                   "map location): they are missing from maps and distances.",
                   "Import GIAS's establishments file (edubasealldata….csv).") in check_store(store)
    # the first result found first: School results in words, per year
    assert check_store(store)[0] == Finding(OK, "School results: 46 schools in 2018/19.")


def test_schools_with_results_but_no_phase(store: Store) -> None:
    # issue 11 point 4 (a made-up fixture: two schools whose phase no file gave)
    imported(store, (KS4P, "2018/19"))
    two = [r[0] for r in store.query("SELECT DISTINCT urn FROM observations WHERE level = 'school' AND value IS NOT "
                                     "NULL ORDER BY urn LIMIT 2")]
    with store.results_transaction() as cur:
        cur.execute("UPDATE establishments SET phase = NULL WHERE urn IN (?, ?)", two)
    assert Finding(WARNING, "2 schools with results have no phase, so they are compared with no similar schools "
                   "and given no level.", "Import GIAS's establishments file (edubasealldata….csv).") \
        in check_store(store)


def test_results_for_schools_the_store_has_no_record_of(store: Store) -> None:
    # issue 11 point 4 (a made-up fixture: one value of a school with no establishments row at all)
    with store.results_transaction() as cur:
        cur.execute("INSERT INTO observations (level, urn, measure, period, value, status) "
                    "VALUES ('school', 999999, 'attainment8', '2018/19', 47.5, 'ok')")
    found = check_store(store)
    assert Finding(WARNING, "Results name 1 school the store has no record of (no name, phase or local authority): "
                   "they appear in no group or family.", "Import GIAS's establishments file (edubasealldata….csv).") \
        in found
    assert Finding(WARNING, "No national average for Attainment 8 in 2018/19: these values show without a "
                   "national comparison.", "Import the national file for 2018/19 (the England download, with its "
                   "national rows).") in found


def test_a_group_with_no_member_that_has_results(store: Store) -> None:
    # issue 11 point 4 (made-up groups: one of a school with results, one of a school in the file without any)
    imported(store, (KS4P, "2018/19"))
    judged = store.query("SELECT DISTINCT urn FROM observations WHERE level = 'school' AND value IS NOT NULL "
                         "AND measure <> 'ks4_cohort' ORDER BY urn")
    with_results = judged[0][0]
    without = store.query("SELECT min(urn) FROM establishments WHERE urn NOT IN (SELECT urn FROM observations "
                          "WHERE urn IS NOT NULL AND value IS NOT NULL AND measure <> 'ks4_cohort')")[0][0]
    good = groups.create_group(store, "partnership", "Dales Partnership")
    groups.add_membership(store, good, with_results)
    empty = groups.create_group(store, "partnership", "Aardvark Partnership")
    groups.add_membership(store, empty, without)
    found = [f for f in warnings(store) if "no school with results" in f.sentence]
    assert found == [Finding(WARNING, "1 of the 2 groups has no school with results, so its scorecard is "
                             "empty: Aardvark Partnership.", "Import the results of their schools (performance "
                             "tables or EES school-level files), or check their members.")]


def test_the_check_is_for_admins_only(store: Store) -> None:
    # issue 11 point 4: the Data page's read is scoped like the page
    imported(store, (KS4P, "2018/19"))
    assert store_findings(store, Viewer(Role.ADMIN, None, "Data manager")) == check_store(store)
    with pytest.raises(AccessDenied):
        store_findings(store, Viewer(Role.LEADER, 1, "Leader"))


def test_cli_import_and_info_print_the_check(tmp_path: Path) -> None:
    # issue 11 point 4: after the per-file report in `import`, and in `info`
    env = {**os.environ, "JOINTLY_DB": str(tmp_path / "real.duckdb")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "data", *a], cwd=REPO, env=env, capture_output=True,  # noqa: E731
                                    text=True, stdin=subprocess.DEVNULL, timeout=600)
    done = run("import", str(EES_CENSUS))
    assert done.returncode == 0, done.stderr
    done = run("import", "--period", "2018/19", str(KS4P))
    assert done.returncode == 0, done.stderr
    with Store(tmp_path / "real.duckdb") as s:
        expected = report_lines(check_store(s))
    out = done.stdout.splitlines()
    assert out[-len(expected):] == expected
    assert out.index(expected[0]) > out.index(next(line for line in out if line.startswith("committed import")))
    assert f"  Cannot show yet: {TRUSTS_MISSED.text()}" in expected
    info = run("info")
    assert info.returncode == 0 and info.stdout.splitlines()[-len(expected):] == expected
