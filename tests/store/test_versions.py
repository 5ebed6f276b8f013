"""A later file replaces only with equal or richer data (issue 10 point 11), and each value records its version.

A provisional KS4 file carries cohorts (TPUP, P8PUP) and Progress 8 intervals (P8CILOW/P8CIUPP); a final file
without them must not silently take them away: group values would fall back to weighting by pupils on roll and
intervals would be lost. Expected values are the real file's cells (read with the csv module) or computed by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, PERF, read_csv_rows, write_dfe_csv

from data.db.store import Store
from data.ingest.importers import import_file
from data.services import groups as groups_svc
from data.services.scorecards import scorecard

KS4P = PERF / "815_2019_ks4provisional.csv"
KS4_2324 = FIXTURES / "ees_ks4_202324_performance_tables_schools_final.csv"
BASE_COLUMNS = ("TPUP", "P8PUP", "P8CILOW", "P8CIUPP")
TRIO = (144929, 121670, 121699)  # three schools of the real file with Progress 8 (lines 4 to 6)


def final_without_cohorts(tmp_path: Path, change: dict[int, str] | None = None) -> Path:
    """The provisional file as a 'final' one that publishes the same values but drops cohorts and intervals."""
    header, rows = read_csv_rows(KS4P)
    keep = [i for i, c in enumerate(header) if c not in BASE_COLUMNS]
    p8 = header.index("P8MEA")
    out = []
    for r in rows:
        r = list(r)
        if change and r[3].isdigit() and int(r[3]) in change:
            r[p8] = change[int(r[3])]
        out.append([r[i] for i in keep if i < len(r)])
    return write_dfe_csv(tmp_path / "815_2019_ks4final.csv", [header[i] for i in keep], out)


def p8(store: Store, urn: int) -> tuple:
    return store.query("SELECT value, numerator, denominator, ci_low, ci_high, version FROM observations "
                       "WHERE urn = ? AND measure = 'progress8' AND period = '2018/19'", [urn])[0]


def cells(urn: int) -> dict[str, str]:
    header, rows = read_csv_rows(KS4P)
    return dict(zip(header, next(r for r in rows if r[3] == str(urn)), strict=False))


def test_each_value_records_its_version(store: Store, tmp_path: Path) -> None:
    assert import_file(store, KS4P, "2018/19").ok
    assert store.query("SELECT DISTINCT version FROM observations WHERE level = 'school'") == [("provisional",)]
    assert import_file(store, KS4_2324).ok  # an EES file says it in its version column
    assert store.query("SELECT DISTINCT version FROM observations WHERE period = '2023/24'") == [("final",)]
    census = PERF / "815_2019_census.csv"
    assert import_file(store, census, "2018/19").ok  # a census file does not say: NULL
    assert store.query("SELECT DISTINCT version FROM observations WHERE source_kind = 'census'") == [(None,)]


def test_final_without_cohorts_keeps_the_provisional_cohort_and_interval(store: Store, tmp_path: Path) -> None:
    assert import_file(store, KS4P, "2018/19").ok
    report = import_file(store, final_without_cohorts(tmp_path), "2018/19")
    assert (report.ok, report.kind) == (True, "ks4final")
    c = cells(144929)
    assert (c["TPUP"], c["P8PUP"], c["P8MEA"], c["P8CILOW"], c["P8CIUPP"]) == ("119", "116", "0.14", "-0.09", "0.38")
    # the value is the final file's (the same 0.14), its cohort and interval the provisional file's
    assert p8(store, 144929) == (0.14, pytest.approx(0.14 * 116), 116.0, -0.09, 0.38, "final")
    basics = store.query("SELECT value, denominator, version FROM observations WHERE urn = 144929 "
                         "AND measure = 'basics_94' AND period = '2018/19'")
    assert basics == [(float(c["PTL2BASICS_94"].rstrip("%")), 119.0, "final")]
    # no value of the file lost its base: every ok value with a cohort before has it after
    header, rows = read_csv_rows(KS4P)
    tp, a8 = header.index("TPUP"), header.index("ATT8SCR")
    with_base = sum(1 for r in rows if r[0] in ("1", "2") and len(r) > a8 and r[tp].isdigit()
                    and r[a8].replace(".", "").isdigit())
    assert store.query("SELECT count(*) FROM observations WHERE measure = 'attainment8' AND level = 'school' "
                       "AND status = 'ok' AND denominator IS NOT NULL") == [(with_base,)]
    assert with_base == 46
    kept = [n for n in report.notes if "kept their provisional cohort and interval" in n]
    assert len(kept) == 1 and kept[0].endswith("values kept their provisional cohort and interval: this file gives "
                                               "the same values without them")


def test_a_changed_value_without_its_base_does_not_replace_the_stored_one(store: Store, tmp_path: Path) -> None:
    assert import_file(store, KS4P, "2018/19").ok
    report = import_file(store, final_without_cohorts(tmp_path, {144929: "0.99"}), "2018/19")
    assert report.ok
    assert p8(store, 144929) == (0.14, pytest.approx(0.14 * 116), 116.0, -0.09, 0.38, "provisional")
    assert "1 provisional values were not replaced: this file gives a different value without the cohort or " \
           "interval the stored one has, so the stored value (with its base) stays" in report.notes


def test_a_richer_file_replaces_as_before(store: Store, tmp_path: Path) -> None:
    """A final file that does carry cohorts and intervals replaces the provisional values, changed or not."""
    assert import_file(store, KS4P, "2018/19").ok
    header, rows = read_csv_rows(KS4P)
    p = header.index("P8MEA")
    for r in rows:
        if r[3] == "144929":
            r[p] = "0.2"
    final = write_dfe_csv(tmp_path / "815_2019_ks4final.csv", header, rows)
    report = import_file(store, final, "2018/19")
    assert report.ok and not [n for n in report.notes if "kept" in n or "not replaced" in n]
    assert p8(store, 144929) == (0.2, pytest.approx(0.2 * 116), 116.0, -0.09, 0.38, "final")


def test_group_values_keep_cohort_weights_after_a_final_without_cohorts(store: Store, tmp_path: Path) -> None:
    assert import_file(store, KS4P, "2018/19").ok
    gid = groups_svc.create_group(store, "partnership", "Three Schools Partnership")
    groups_svc.add_memberships(store, gid, list(TRIO))
    before = {r.measure: r for r in scorecard(store, group="Three Schools Partnership", period="2018/19",
                                              measures=["progress8", "basics_94"]).rows}
    assert import_file(store, final_without_cohorts(tmp_path), "2018/19").ok
    after = {r.measure: r for r in scorecard(store, group="Three Schools Partnership", period="2018/19",
                                             measures=["progress8", "basics_94"]).rows}
    # by hand from the file's cells: P8PUP 116, 123, 106 and P8MEA 0.14, 0.14, 0.27
    # (116 x 0.14 + 123 x 0.14 + 106 x 0.27) / (116 + 123 + 106) = 62.08 / 345
    assert [cells(u)["P8PUP"] for u in TRIO] == ["116", "123", "106"]
    assert after["progress8"].value == pytest.approx(62.08 / 345) == before["progress8"].value
    assert after["progress8"].cohort == 345 == before["progress8"].cohort
    assert after["progress8"].rollup_method == before["progress8"].rollup_method
    assert "pupils on roll" not in after["progress8"].rollup_method
    # basics_94 pools pupils: TPUP 119 + 125 + 110 = 354 is still the base of the group's rate
    assert [cells(u)["TPUP"] for u in TRIO] == ["119", "125", "110"]
    assert after["basics_94"].cohort == 354 == before["basics_94"].cohort
    assert after["basics_94"].value == pytest.approx(before["basics_94"].value)


def test_the_card_says_which_version_each_value_is(store: Store, tmp_path: Path) -> None:
    assert import_file(store, KS4P, "2018/19").ok
    card = {r.measure: r for r in scorecard(store, school=144929, period="2018/19").rows}
    assert (card["progress8"].version, card["attainment8"].version) == ("provisional", "provisional")
    wilson = (card["basics_94"].ci_low, card["basics_94"].ci_high, card["basics_94"].uncertainty)
    assert import_file(store, final_without_cohorts(tmp_path), "2018/19").ok
    card = {r.measure: r for r in scorecard(store, school=144929, period="2018/19").rows}
    assert card["progress8"].version == "final"
    # the rate's Wilson interval is still on the 119 pupils of the GCSE year, not lost with the cohort
    assert (card["basics_94"].ci_low, card["basics_94"].ci_high, card["basics_94"].uncertainty) == wilson
    assert card["basics_94"].cohort == 119 and wilson[2] == "wilson"
    assert (card["progress8"].ci_low, card["progress8"].ci_high, card["progress8"].cohort) == (-0.09, 0.38, 116.0)
    assert card["progress8"].to_dict()["version"] == "final"  # and so in the scorecard JSON


def test_cli_scorecard_json_carries_the_version(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "JOINTLY_DB": str(tmp_path / "cli.duckdb")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "data", *a], cwd=repo, env=env,  # noqa: E731
                                    capture_output=True, text=True)
    assert run("import", "--period", "2018/19", str(KS4P)).returncode == 0
    out = run("scorecard", "--school", "144929", "--period", "2018/19", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["measure"]: r for r in json.loads(out.stdout)}
    assert rows["progress8"]["version"] == "provisional"


def test_an_earlier_version_never_replaces_a_later_one(store: Store, tmp_path: Path) -> None:
    """The 2023/24 final figures stay when the provisional file of that year is imported after them."""
    import csv

    assert import_file(store, KS4_2324).ok
    with open(KS4_2324, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["version"] = "Provisional"
        if r["breakdown"] in ("Total", "Disadvantaged"):
            r["avg_att8"] = "30.0"  # the provisional figures were lower
    earlier = tmp_path / "202324_performance_tables_schools_provisional.csv"
    with open(earlier, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    report = import_file(store, earlier)
    assert report.ok
    assert store.query("SELECT value, version FROM observations WHERE urn = 100001 AND measure = 'attainment8' "
                       "AND period = '2023/24'") == [(45.8, "final")]
    n = store.query("SELECT count(*) FROM observations WHERE period = '2023/24' AND level = 'school'")[0][0]
    assert store.query("SELECT DISTINCT version FROM observations WHERE period = '2023/24'") == [("final",)]
    assert f"{n:,} values were not replaced: the store holds DfE's final figures for them and this file's are " \
           "provisional" in report.notes
    assert store.query("SELECT value, version FROM pupil_group_observations WHERE urn = 100001 AND period = '2023/24' "
                       "AND measure = 'attainment8' AND pupil_group = 'disadvantaged'") == [(35.9, "final")]
    groups = store.query("SELECT count(*) FROM pupil_group_observations WHERE period = '2023/24'")[0][0]
    assert f"{groups:,} pupil-group values were not replaced: the store holds a later version of DfE's figures for " \
           "them" in report.notes
    # and the other way round, a final file after the provisional one replaces it
    fresh = Store(tmp_path / "other.duckdb")
    try:
        assert import_file(fresh, earlier).ok and import_file(fresh, KS4_2324).ok
        assert fresh.query("SELECT value, version FROM observations WHERE urn = 100001 AND measure = 'attainment8' "
                           "AND period = '2023/24'") == [(45.8, "final")]
    finally:
        fresh.close()
