"""Shared fixtures: a fresh store per test, whole-store snapshots, and the real DfE files beside the repo."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.db.state import copy_store
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP, build_demo
from data.services.access import Role
from ui import shared

# CI checks out ../shared beside the repository; the real files may not be committed into the project.
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
PERF = REALDATA / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"
META = REALDATA / "dfe_perf_2016-17_meta_datajamne"
GIAS_SAMPLE = REALDATA / "gias_establishments_sample_Lercher" / "edubasealldata20181029_20.csv"
GIAS_TV = REALDATA / "gias_fixtures_teaching-vacancies"
EES_CENSUS = REALDATA / "ees_school_census_2022-23_sample" / "spc_school_level_2022-23_north_yorkshire.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BAD = FIXTURES / "bad"

# The store's data tables: everything a user sees. (imports and audit_log are the store's own records.)
DATA_TABLES = ("establishments", "groups", "memberships", "observations", "settings", "local_measures",
               "support_records", "targets", "scorecard_measures", "pupil_group_observations", "trust_published",
               "trust_published_info", "trust_published_members", "inspections", "inspection_grades",
               "school_links", "establishment_reasons")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (tests/pgcluster.py); skipped where PostgreSQL is missing."""
    from pgcluster import cluster, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs it)")
    with cluster() as url:
        yield url


# Store tests that run against both state stores (issue 12 point 8): their `store`, `demo_store` and `demo_db`
# come once over SQLite and once over a fresh PostgreSQL database (JOINTLY_STATE_URL).
BOTH_BACKENDS = frozenset({"test_accounts", "test_store", "test_local_measures", "test_consent", "test_publications",
                           "test_group_admin", "test_support_log", "test_governance", "test_group_admin_state",
                           "test_publication_state", "test_export_public", "test_state_accounts",
                           "test_local_pupil_groups"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "state_backend" in metafunc.fixturenames and metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_BACKENDS:
        metafunc.parametrize("state_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture()
def state_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The state store this test's stores use: a fresh PostgreSQL database's URL, or None for SQLite beside them."""
    if getattr(request, "param", "sqlite") != "postgresql":
        monkeypatch.delenv("JOINTLY_STATE_URL", raising=False)
        return None
    from pgcluster import fresh_database

    url = fresh_database(request.getfixturevalue("pg_admin_url"))
    monkeypatch.setenv("JOINTLY_STATE_URL", url)
    return url


def _copy_demo(demo_master: Path, path: Path, state_url: str | None) -> None:
    """A private copy of the demo store; over PostgreSQL its state rows are copied into the fresh database."""
    copy_store(demo_master, path)  # both files: the results and the state store beside them
    if state_url is not None:
        from data.db.state import StateStore, copy_state, state_url_for

        src, dst = StateStore.open(f"sqlite:///{path.with_suffix('.state.sqlite')}"), StateStore.open(state_url)
        try:
            copy_state(src, dst)
        finally:
            src.close()
            dst.close()
        assert state_url_for(path) == state_url


@pytest.fixture
def store(tmp_path: Path, state_backend: str | None) -> Iterator[Store]:
    """A fresh, migrated store in its own DuckDB file."""
    s = Store(tmp_path / "s.duckdb")
    try:
        yield s
    finally:
        s.close()


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every data table, in a stable order: compare two snapshots to prove 'unchanged'."""
    return {t: store.query(f"SELECT * FROM {t} ORDER BY ALL") for t in DATA_TABLES}


def imports_log(store: Store) -> list[dict]:
    """The imports table, oldest first, as dicts (None for NULL, so two reads compare equal)."""
    cur = store.cursor()
    try:
        res = cur.execute("SELECT * FROM imports ORDER BY import_id")
        names = [d[0] for d in res.description]
        return [dict(zip(names, row, strict=True)) for row in res.fetchall()]
    finally:
        cur.close()


def refused(store: Store, path: Path, period: str | None = None) -> str:
    """Import `path`, assert it was refused with nothing written and one failed log line (no values); return the
    message, which names the file."""
    from data.ingest.importers import import_file

    before, log_before = snapshot(store), imports_log(store)
    report = import_file(store, path, period)
    assert not report.ok, report.summary()
    assert snapshot(store) == before
    log = imports_log(store)
    assert len(log) == len(log_before) + 1
    assert (log[-1]["outcome"], log[-1]["message"], log[-1]["observations"]) == ("failed", report.message, 0)
    assert report.message.startswith(path.name)
    return report.message


DERIVED_TABLES = ("school_stats", "national_quantiles", "families", "school_context", "regressions",
                  "context_by_year", "family_by_year")


def _rounded(value: object) -> object:
    """Floats to 10 significant digits: two runs of the same regression sum in different orders (last-bit noise)."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, (list, tuple)):
        return type(value)(_rounded(v) for v in value)
    return value


def derived_rows(store: Store, *, without_ord: bool = False) -> dict[str, list[tuple]]:
    """Every derived table's rows in a stable order, floats to 10 significant digits; `without_ord` leaves out
    school_stats' `ord` (a store holding other schools too sorts them differently)."""
    def select(t: str) -> str:
        return f"SELECT * EXCLUDE (ord) FROM {t}" if without_ord and t == "school_stats" else f"SELECT * FROM {t}"
    return {t: [_rounded(r) for r in store.query(select(t) + " ORDER BY ALL")] for t in DERIVED_TABLES}


def read_csv_rows(path: Path, encoding: str = "utf-8-sig") -> tuple[list[str], list[list[str]]]:
    """An independent read of a real file with the csv module: (header, rows as written)."""
    with open(path, encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [r for r in rows[1:] if r]


def write_dfe_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], *,
                  bom: bool = True, encoding: str = "utf-8") -> Path:
    """Write a CSV the way the performance-tables download does: BOM, CRLF, no final newline."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    text = buf.getvalue().removesuffix("\r\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


# ---------------------------------------------------------------- app tests (AppTest)

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("appdemo") / "demo.duckdb"
    build_demo(path, schools=300, years=3)
    return path


@pytest.fixture(scope="session")
def full_demo_master(tmp_path_factory) -> Path:
    """The demo at its own size (2,000 schools, 5 years), built once: the planted effects of joining need its years
    and its trusts (tests copy it with copy_store before anything writes)."""
    path = tmp_path_factory.mktemp("fulldemo") / "jointly.duckdb"
    build_demo(path)
    return path


@pytest.fixture()
def demo_store(demo_master: Path, tmp_path: Path, state_backend: str | None) -> Iterator[Store]:
    """A private, writable copy of the session's demo store (300 schools, 3 years), open."""
    path = tmp_path / "demo_store.duckdb"
    _copy_demo(demo_master, path, state_backend)
    s = Store(path)
    try:
        yield s
    finally:
        s.close()


@contextmanager
def app_on(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app (AppTest) opens the store at `path` while the block runs: JOINTLY_DB names it, and Streamlit's caches
    (the open store, cached reads) and the pages' own (ui.shared) are emptied before and after, so no test sees
    another test's store."""
    monkeypatch.setenv("JOINTLY_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    shared.clear_all()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()
    shared.clear_all()


@pytest.fixture()
def demo_db(demo_master, tmp_path, monkeypatch, state_backend) -> Path:
    """A private copy of the demo store for this test, selected with JOINTLY_DB."""
    path = tmp_path / "demo.duckdb"
    _copy_demo(demo_master, path, state_backend)
    with app_on(path, monkeypatch):
        yield path


def open_parents_page(publication_id: int, school: int | None = None, *, timeout: float = 60) -> AppTest:
    """The parents' page of one publication (or one school's page of it), signed out, as its address opens it."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params["viewing_as"] = Role.PUBLIC.label
    at.query_params["publication"] = str(publication_id)
    if school is not None:
        at.query_params["school"] = str(school)
    at.run()
    assert not at.exception, at.exception
    return at


def open_app(page: str | None = None, *, role: str = "leader", group: str = FLAGSHIP_PARTNERSHIP,
             timeout: float = 60) -> AppTest:
    """Run the app as a role (and, for leaders and governors, a group by name), optionally on one page.

    The role and group are set through the URL (the selectors are bound to query parameters): AppTest drops
    the entry script's sidebar widgets from its tree after a rerun under st.navigation, the URL does not."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params["viewing_as"] = Role(role).label
    if role != "admin":
        at.query_params["viewing_group"] = group
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, column: str):
    """The first table (dataframe or editor) on the page with this column (AppTest exposes no dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def has_table(at: AppTest, column: str) -> bool:
    return any(column in d.value.columns for d in at.dataframe)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)
