"""Issue 11 point 4: an admin undoes an import and its values return to what they were before it: every table an
import writes, compared whole; refused in words while a later import replaced the same values; audited; from the
CLI with a backup kept."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GIAS_SAMPLE, GIAS_TV, PERF, REALDATA, write_dfe_csv

from data.db.errors import StoreError
from data.db.store import Store
from data.ingest.derived import forget_period
from data.ingest.importers import import_file
from data.ingest.undo import plan, undo_import
from data.services import imports
from data.services.access import AccessDenied, Role, Viewer
from data.services.imports import undo_plan, undoable_imports

REPO = Path(__file__).resolve().parents[2]
KS4P = PERF / "815_2019_ks4provisional.csv"
# Every table an import writes (data/ingest/importers.py Batch and its writers), compared whole; the clustering position
# and update time are left out (they move without any value changing)
TABLES = {"establishments": " EXCLUDE (ord, updated_at)", "groups": "", "memberships": "",
          "observations": " EXCLUDE (ord)", "pupil_group_observations": " EXCLUDE (ord)", "trust_published": "",
          "trust_published_info": "", "trust_published_members": "", "inspections": "", "inspection_grades": "",
          "school_links": "", "school_lineage": "", "establishment_reasons": ""}
DERIVED = ("school_stats", "national_quantiles", "school_context")
EVERY_KIND = [  # real files of each family that writes tables besides observations
    (GIAS_SAMPLE, None), (GIAS_TV / "example_groups_data.csv", None),
    (REALDATA / "gias_links_2024_witan" / "links_edubasealldata20240129.csv", None),
    (REALDATA / "gias_2025_cianfhoghlaim" / "EXCERPT_academiesmatmembership20250426.csv", None),
    (REALDATA / "ofsted_mi_2025-26_hal609" / ("Management_information_-_state-funded_schools_-_all_inspections_-_"
                                             "year_to_date_published_by_28_Feb_2026.csv"), None),
    (REALDATA / "ees_ks4_2024-25_hal609" / "202425_information_about_schools_provisional.csv", None),
    (REALDATA / "ees_ks4_2024-25_hal609" / "EXCERPT_202425_performance_tables_multi_academy_trusts_revised.csv",
     None),
    (REALDATA / "ees_ks4_2024-25_hal609" / "EXCERPT_202425_information_about_multi_academy_trusts_revised.csv", None),
    (REALDATA / "ees_school_census_2022-23_sample" / "spc_school_level_2022-23_north_yorkshire.csv", None),
    (PERF / "815_2019_census.csv", "2018/19"),
]
ADMIN = Viewer(Role.ADMIN, None, "Data manager")


def tables(store: Store) -> dict[str, list[tuple]]:
    return {t: store.query(f"SELECT *{ex} FROM {t} ORDER BY ALL") for t, ex in TABLES.items()}  # noqa: S608


def derived(store: Store) -> dict[str, int]:
    return {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in DERIVED}  # noqa: S608


def ok(store: Store, path: Path, period: str | None = None) -> int:
    report = import_file(store, path, period)
    assert report.ok, report.summary()
    return report.import_id


def changed_final(tmp_path: Path, schools: int = 30) -> tuple[Path, dict[int, str]]:
    """DfE's KS4 final file for 2018/19 as it would replace the provisional one for some schools: the first
    `schools` school rows (Attainment 8 one point higher where it is a number) and the LA and national rows."""
    text = KS4P.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    att8, rectype, urn = header.index("ATT8SCR"), header.index("RECTYPE"), header.index("URN")
    school = [r for r in body if r[rectype] in ("1", "2")][:schools]
    changed = {}
    for r in school:
        try:
            r[att8] = f"{float(r[att8]) + 1:.1f}"
            changed[int(r[urn])] = r[att8]
        except (ValueError, IndexError):  # a code (NE, SUPP) or a short row: left as it is
            pass
    rest = [r for r in body if r[rectype] not in ("1", "2")]
    return write_dfe_csv(tmp_path / "815_2019_ks4final.csv", header, school + rest), changed


def test_undo_b_gives_exactly_a_and_undo_a_gives_the_empty_store(store: Store, tmp_path: Path) -> None:
    # issue 11 point 4: import A, import B replacing some of A's values, undo B -> A's values; undo A -> none
    empty = tables(store)
    a = ok(store, KS4P, "2018/19")
    after_a, derived_a = tables(store), derived(store)
    final, changed = changed_final(tmp_path)
    b = ok(store, final, "2018/19")
    # B did replace some of A's values (and only those schools')
    urn = next(iter(changed))
    assert store.query("SELECT value, version FROM observations WHERE urn = ? AND measure = 'attainment8'",
                       [urn]) == [(float(changed[urn]), "final")]
    assert tables(store) != after_a
    done = undo_import(store, "cli", b)
    assert (done.import_id, done.file_name) == (b, "815_2019_ks4final.csv")
    assert tables(store) == after_a
    assert derived(store) == derived_a  # rebuilt for the store as it is again
    undo_import(store, "cli", a)
    assert tables(store) == empty
    assert store.query("SELECT count(*) FROM observations")[0][0] == 0


def test_undoing_a_refuses_while_b_replaced_its_values_and_says_which(store: Store, tmp_path: Path) -> None:
    # issue 11 point 4: only the latest import touching those rows; the earlier one is refused in words
    a = ok(store, KS4P, "2018/19")
    final, _ = changed_final(tmp_path)
    b = ok(store, final, "2018/19")
    replaced = store.query("SELECT count(*) FROM observations WHERE import_id = ?", [b])[0][0]
    before = tables(store)
    refusal = (f"Import {a} (815_2019_ks4provisional.csv) cannot be undone yet: later imports replaced some of the "
               f"values it wrote (import {b} (815_2019_ks4final.csv) replaced {replaced:,} of them). Undo import {b} "
               "(815_2019_ks4final.csv) first, then this one.")
    assert plan(store, a).refusal == refusal
    with pytest.raises(StoreError) as err:
        undo_import(store, "cli", a)
    assert err.value.title == refusal
    assert tables(store) == before  # nothing changed


@pytest.mark.parametrize(("path", "period"), EVERY_KIND, ids=lambda v: getattr(v, "name", v))
def test_every_kind_of_file_undoes_to_the_store_before_it(store: Store, path: Path, period: str | None) -> None:
    # issue 11 point 4: establishments, groups, memberships, inspections, links and lineage, DfE's trust tables,
    # pupil-group values: whatever the file wrote comes back as it was
    ok(store, KS4P, "2018/19")
    ok(store, GIAS_SAMPLE, None) if path != GIAS_SAMPLE else None
    before = tables(store)
    x = ok(store, path, period)
    assert tables(store) != before, "the file should change the store"
    undo_import(store, "cli", x)
    assert tables(store) == before


def test_a_reimport_of_the_same_file_is_undone_to_the_first(store: Store) -> None:
    # issue 11 point 4: the second import replaced every value with the same value; undoing it leaves the first's
    a = ok(store, KS4P, "2018/19")
    first = tables(store)
    b = ok(store, KS4P, "2018/19")
    undo_import(store, "cli", b)
    assert tables(store) == first
    assert {r[0] for r in store.query("SELECT DISTINCT import_id FROM observations")} == {a}


def test_values_changed_since_in_another_way_are_refused(store: Store) -> None:
    # issue 11 point 4: a year forgotten after the import: undoing it could not put the store back as it was
    a = ok(store, KS4P, "2018/19")
    forget_period(store, "2018/19", actor="cli")
    p = plan(store, a)
    assert p.refusal is not None and p.refusal.startswith(f"Import {a} (815_2019_ks4provisional.csv) cannot be "
                                                          "undone: ")
    assert "were changed or removed since in another way" in p.refusal


def test_an_undo_is_audited_and_logged(store: Store) -> None:
    # issue 11 point 4
    a = ok(store, KS4P, "2018/19")
    n = store.query("SELECT count(*) FROM observations WHERE import_id = ?", [a])[0][0]
    undo_import(store, "Data manager", a, backup="/tmp/b")
    audit = store.query("SELECT actor, action, entity, entity_id FROM audit_log WHERE action = 'undo'")
    assert audit == [("Data manager", "undo", "import", str(a))]
    assert imports.import_log(store).set_index("import_id").loc[a, "outcome"] == "undone"
    assert plan(store, a).refusal == f"Import {a} (815_2019_ks4provisional.csv) has already been undone."
    assert n == 600 and undoable_imports(store, ADMIN) == []


def test_undo_is_for_admins_only(store: Store) -> None:
    # issue 11 point 4
    a = ok(store, KS4P, "2018/19")
    assert undo_plan(store, ADMIN, a).refusal is None
    with pytest.raises(AccessDenied):
        undo_plan(store, Viewer(Role.LEADER, 1, "Leader"), a)
    with pytest.raises(AccessDenied):
        undoable_imports(store, Viewer(Role.GOVERNOR, 1, "Governor"))


def test_a_failed_or_unknown_import_has_nothing_to_undo(store: Store) -> None:
    # issue 11 point 4
    bad = import_file(store, REALDATA / "dfe_perf_2016-17_meta_datajamne" / "ks2_meta.csv", "2018/19")
    failed = store.query("SELECT max(import_id) FROM imports")[0][0]
    assert not bad.ok
    assert plan(store, failed).refusal == f"Import {failed} (ks2_meta.csv) failed and wrote nothing, so there is " \
        "nothing to undo."
    assert plan(store, 999).refusal == "There is no import 999: see the import log for the imports this store has had."


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOINTLY_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


def test_cli_undo_import_keeps_a_backup_and_exit_codes(tmp_path: Path) -> None:
    # issue 11 point 4: exit 2 without --yes off a terminal and for an import that cannot be undone; 0 done
    db = tmp_path / "real.duckdb"
    with Store(db) as s:
        a = ok(s, KS4P, "2018/19")
        before = tables(s)
    asked = run_cli(db, "undo-import", str(a))
    assert asked.returncode == 2 and asked.stderr.startswith("error: undo-import changes the store: add --yes")
    unknown = run_cli(db, "undo-import", "999", "--yes")
    assert unknown.returncode == 2
    assert unknown.stderr == ("error: There is no import 999: see the import log for the imports this store has had. "
                              "Nothing was changed\n")
    word = run_cli(db, "undo-import", "the-last-one", "--yes")
    assert word.returncode == 2 and "invalid int value" in word.stderr and "Traceback" not in word.stderr
    done = run_cli(db, "undo-import", str(a), "--yes")
    assert done.returncode == 0, done.stderr
    backups = sorted(tmp_path.glob("real.duckdb.backup-*"))
    assert len(backups) == 1
    # 672 = the file's 576 school values and 24 benchmarks, and its 72 schools (new establishments rows)
    assert done.stdout.startswith(f"undid import {a} (815_2019_ks4provisional.csv): removed 672 rows it added and "
                                  f"put back 0 rows it replaced; derived tables rebuilt; the store as it was is kept "
                                  f"as {backups[0]}\n")
    assert "What the store can show now:" in done.stdout
    with Store(backups[0]) as kept:
        assert tables(kept) == before
    with Store(db) as s:
        assert s.query("SELECT count(*) FROM observations")[0][0] == 0
    again = run_cli(db, "undo-import", str(a), "--yes")
    assert again.returncode == 2 and "has already been undone" in again.stderr
