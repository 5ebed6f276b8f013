"""Migrations: a new store is at the latest version, reopening runs nothing twice, the schema is DESIGN.md's."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data.db.errors import QueryFailed, StoreError
from data.db.store import MIGRATIONS_DIR, Store

MIGRATIONS = sorted(MIGRATIONS_DIR.glob("*.sql"))

# DESIGN.md: establishments, groups (nesting), memberships with dates, observations (value, cohort, numerator,
# CI, status), imports, the audit log, local measures, settings, and the migration record itself; then what the
# engine precomputes at import (school_stats, national_quantiles, families, school_context, regressions) and the
# governors' choices (scorecard_measures, targets), the support ledger (support_records) and publications.
TABLES = {"establishments", "groups", "memberships", "observations", "imports", "audit_log", "local_measures",
          "settings", "schema_version", "school_stats", "national_quantiles", "families", "school_context",
          "regressions", "scorecard_measures", "targets", "support_records",
          "publications", "publication_items", "publication_school_values", "publication_schools", "accounts",
          "signin_key", "signin_failures", "sign_in_counts", "pupil_group_observations",
          "trust_published", "trust_published_info", "trust_published_members", "inspections", "inspection_grades",
          "context_by_year", "family_by_year", "group_invitations",
          "school_links", "school_lineage", "establishment_reasons", "signin_generations",
          "publication_consents", "publication_left_out", "publication_gaps", "publication_group_values",
          # 0018: what each import replaced and added, for undo (data/ingest/undo.py)
          "import_added", "import_key_columns", "imports_undone", "import_archive_observations",
          *(f"import_archive_{t}" for t in ("establishments", "groups", "memberships", "pupil_group_observations",
                                            "trust_published", "trust_published_info", "trust_published_members",
                                            "inspections", "inspection_grades", "school_links", "school_lineage",
                                            "establishment_reasons"))}


def test_new_store_is_at_the_latest_version(store: Store) -> None:
    latest = int(MIGRATIONS[-1].name.split("_", 1)[0])
    assert store.schema_version() == latest
    assert store.query("SELECT version, name FROM schema_version ORDER BY version") == [
        (int(p.name.split("_", 1)[0]), p.name) for p in MIGRATIONS]


def test_reopening_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        applied = s.query("SELECT * FROM schema_version ORDER BY version")
        s.set_setting("demo", "false")
    with Store(path) as s:
        assert s.query("SELECT * FROM schema_version ORDER BY version") == applied  # same rows, same times
        assert s.migrate() == s.schema_version()
        assert s.query("SELECT * FROM schema_version ORDER BY version") == applied
        assert s.setting("demo") == "false"  # data survived: no table was re-created


def test_schema_has_the_design_tables(store: Store) -> None:
    tables = {r[0] for r in store.query("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main'")}
    assert tables == TABLES


def test_observation_columns(store: Store) -> None:
    cols = [r[0] for r in store.query("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'observations' AND table_schema = 'main' "
                                      "ORDER BY ordinal_position")]
    assert cols == ["ord", "level", "urn", "area_code", "scope", "measure", "period", "value", "numerator",
                    "denominator", "ci_low", "ci_high", "status", "status_code", "source_kind", "import_id",
                    "version"]


def test_status_is_a_closed_set(store: Store) -> None:
    """The store refuses a status outside DESIGN.md's five, whoever writes it."""
    sql = "INSERT INTO observations (level, urn, measure, period, status) VALUES ('school', 1, 'pupils', '2018/19', ?)"
    with store.results_transaction() as cur:  # observations as pages read them is a view (the state's values too)
        cur.execute(sql, ["ok"])
    with pytest.raises(duckdb.ConstraintException, match="CHECK constraint"), store.results_transaction() as cur:
        cur.execute(sql, ["great"])
    assert store.query("SELECT status FROM observations") == [("ok",)]


def test_audit_entries_written_before_0007_get_their_group(tmp_path: Path, monkeypatch) -> None:
    """Migration 0007 adds audit_log.group_id and finds it for older entries from what they changed."""
    import shutil

    import data.db.store as store_module

    old = tmp_path / "migrations"
    old.mkdir()
    for path in MIGRATIONS:
        if int(path.name.split("_", 1)[0]) < 7:
            shutil.copy(path, old / path.name)
    db = tmp_path / "old.duckdb"
    monkeypatch.setattr(store_module, "MIGRATIONS_DIR", old)
    with Store(db) as s:
        assert s.schema_version() == 6
        with s.results_transaction() as cur:  # as the code before the state store wrote them: in the results file
            cur.execute("INSERT INTO groups (group_id, kind, name) VALUES (7, 'trust', 'Oak Trust'), "
                        "(8, 'partnership', 'Elm Partnership')")
            cur.execute("INSERT INTO local_measures (measure_id, owner_group_id, definition) VALUES ('elm_x', 8, '{}')")
            cur.execute("INSERT INTO support_records (support_id, group_id, giver_urn, taker_urn, kind, start_date, "
                        "hours, recorded_by) VALUES (41, 7, 100001, 100002, 'cpd', DATE '2024-01-01', 3, 'x')")
            cur.execute("INSERT INTO accounts (email, role, group_id) VALUES ('gov@example.org', 'governor', 8), "
                        "('admin@example.org', 'admin', NULL)")
            cur.executemany("INSERT INTO audit_log (actor, action, entity, entity_id) VALUES (?, ?, ?, ?)", [
                ["a", "set", "target", "group:7:attainment8:2023/24"], ["a", "choose", "scorecard_measures", "group:8"],
                ["a", "create", "group", "7"], ["a", "add", "membership", "8"],
                ["a", "define", "local_measure", "elm_x"],
                ["a", "write", "local_values", "elm_x"], ["a", "record", "support", "41"],
                ["a", "add", "account", "gov@example.org"], ["a", "add", "account", "admin@example.org"],
                ["a", "set", "setting", "demo"]])
    monkeypatch.setattr(store_module, "MIGRATIONS_DIR", MIGRATIONS_DIR)
    with pytest.raises(StoreError, match="move-state"):  # migrated, then refused until its state is moved
        Store(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute("SELECT entity, entity_id, group_id FROM audit_log ORDER BY audit_id").fetchall()
    finally:
        con.close()
    assert [g for _, _, g in got] == [7, 8, 7, 8, 8, 8, 7, 8, None, None]


def test_imports_logged_before_0008_are_kept_and_pending_is_allowed(tmp_path: Path, monkeypatch) -> None:
    """Migration 0008 rebuilds the imports table to allow 'pending' (DuckDB cannot alter a CHECK): every row and
    the id sequence survive, and outcomes outside the three are still refused. The old store has every other
    migration, later ones too (made while 0008 was being written): a missing migration is applied, not skipped."""
    import shutil

    import data.db.store as store_module

    old = tmp_path / "migrations"
    old.mkdir()
    for path in MIGRATIONS:
        if int(path.name.split("_", 1)[0]) != 8:
            shutil.copy(path, old / path.name)
    db = tmp_path / "old.duckdb"
    monkeypatch.setattr(store_module, "MIGRATIONS_DIR", old)
    with Store(db) as s:
        assert 8 not in {v for (v,) in s.query("SELECT version FROM schema_version")}
        with s.results_transaction() as cur:
            cur.execute("INSERT INTO imports (file_name, kind, outcome, message) VALUES ('a.csv', 'census', 'ok', "
                        "NULL), ('b.csv', NULL, 'failed', 'not a DfE file')")
        with pytest.raises(QueryFailed, match="CHECK constraint"):
            s.query("INSERT INTO imports (file_name, outcome) VALUES ('c.csv', 'pending')")
        before = s.query("SELECT * FROM imports ORDER BY import_id")
    monkeypatch.setattr(store_module, "MIGRATIONS_DIR", MIGRATIONS_DIR)
    with Store(db) as s:
        assert [v for (v,) in s.query("SELECT version FROM schema_version ORDER BY applied_at, version")][-1] == 8
        assert s.query("SELECT * FROM imports ORDER BY import_id") == before
        s.query("INSERT INTO imports (file_name, outcome) VALUES ('c.csv', 'pending')")
        assert s.query("SELECT import_id, outcome FROM imports WHERE file_name = 'c.csv'") == [(4, "pending")]
        with pytest.raises(QueryFailed, match="CHECK constraint"):
            s.query("INSERT INTO imports (file_name, outcome) VALUES ('d.csv', 'great')")
