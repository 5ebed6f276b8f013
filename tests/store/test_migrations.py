"""Migrations: a new store is at the latest version, reopening runs nothing twice, the schema is DESIGN.md's."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data.store import MIGRATIONS_DIR, Store

MIGRATIONS = sorted(MIGRATIONS_DIR.glob("*.sql"))

# DESIGN.md: establishments, groups (nesting), memberships with dates, observations (value, cohort, numerator,
# CI, status), imports, the audit log, local measures, settings, and the migration record itself; then what the
# engine precomputes at import (school_stats, national_quantiles, families, school_context, regressions) and the
# governors' choices (scorecard_measures, targets), the support ledger (support_records) and publications.
TABLES = {"establishments", "groups", "memberships", "observations", "imports", "audit_log", "local_measures",
          "settings", "schema_version", "school_stats", "national_quantiles", "families", "school_context",
          "regressions", "scorecard_measures", "targets", "support_records",
          "publications", "publication_items", "publication_school_values", "publication_schools", "accounts"}


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
                                      "WHERE table_name = 'observations' ORDER BY ordinal_position")]
    assert cols == ["ord", "level", "urn", "area_code", "scope", "measure", "period", "value", "numerator",
                    "denominator", "ci_low", "ci_high", "status", "status_code", "source_kind", "import_id"]


def test_status_is_a_closed_set(store: Store) -> None:
    """The store refuses a status outside DESIGN.md's five, whoever writes it."""
    sql = "INSERT INTO observations (level, urn, measure, period, status) VALUES ('school', 1, 'pupils', '2018/19', ?)"
    store.query(sql, ["ok"])
    with pytest.raises(duckdb.ConstraintException, match="CHECK constraint"):
        store.query(sql, ["great"])
    assert store.query("SELECT status FROM observations") == [("ok",)]
