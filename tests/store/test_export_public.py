"""The parents-only copy is an output (data/outputs/public_export.py, issue 12 point 1) and, with publications in
the state store (point 8), a pair: a results file with nothing in it but the schema and the demo mark, and a state
file beside it with the current published versions only: no accounts, audit, consents, groups, settings, no
withdrawn or replaced version, no publisher's name, no fingerprint."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from data.cli import main
from data.db.errors import StoreError
from data.db.state import StateStore, sqlite_path
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.outputs.public_export import PUBLIC_TABLES, export_public, public_state_path
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.accounts import add_user
from data.services.publications import find_publications, publish, published, withdraw

ADMIN = Viewer(Role.ADMIN, None, "Ada Admin", "ada@example.org")


@pytest.fixture()
def staff(demo_store: Store) -> dict:
    """The demo with a second version of the flagship's year (its first replaced), a withdrawn one, an account."""
    gid = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP).group_id
    period = schools.periods(demo_store)[-1]
    current, problems = publish(demo_store, ADMIN, gid, period, ["ks2_rwm_expected", "overall_absence"], {})
    assert problems == [] and current is not None
    gone, problems = publish(demo_store, ADMIN, gid, schools.periods(demo_store)[-2], ["ks2_rwm_expected"], {})
    assert problems == [] and gone is not None and withdraw(demo_store, ADMIN, gone.publication_id) == []
    assert add_user(demo_store, "test", email="lee@example.org", role="leader", group=str(gid),
                    display_name="Lee Leader") == []
    return {"store": demo_store, "current": current, "gone": gone}


@contextmanager
def parents_site(out: Path) -> Iterator[Store]:
    """A parents' site on the copy: its own state file beside it, whatever JOINTLY_STATE_URL says in this test."""
    state = StateStore.open(f"sqlite:///{public_state_path(out)}")
    try:
        with Store(out, state=state) as site:
            yield site
    finally:
        state.close()


def _lite_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                            "'sqlite_%' AND name NOT IN ('state_generations', 'state_schema_version')")]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
    finally:
        con.close()


# issue 12 point 8
def test_the_export_is_a_results_and_state_pair_holding_only_what_was_published(staff: dict, tmp_path: Path) -> None:
    s, current = staff["store"], staff["current"]
    published_now = [f["publication_id"] for f in find_publications(s, "")]
    out = tmp_path / "public" / "public.duckdb"  # a folder of its own: the staff's files are in tmp_path
    counts = export_public(s, out)
    state_file = public_state_path(out)
    assert state_file == out.parent / "public.state.sqlite" and state_file.exists()
    assert counts["publications"] == len(published_now) and counts["publication_items"] > 0
    # the state file: publications only, each table as counted, everything else empty
    held = _lite_counts(state_file)
    assert {t: n for t, n in held.items() if n} == {t: counts[t] for t in PUBLIC_TABLES if counts[t]}
    lite = sqlite3.connect(state_file)
    try:
        assert lite.execute("SELECT DISTINCT status FROM publications").fetchall() == [("published",)]
        assert lite.execute("SELECT count(*) FROM publications WHERE created_by IS NOT NULL OR status_changed_by "
                            "IS NOT NULL").fetchone()[0] == 0
        assert lite.execute("SELECT count(*) FROM publication_school_values WHERE fingerprint IS NOT NULL"
                            ).fetchone()[0] == 0
    finally:
        lite.close()
    # the results file: the schema and the demo mark, no row of anything else
    con = duckdb.connect(str(out), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'main'").fetchall()]
        full = {t for t in tables if t not in ("schema_version", "settings")
                and con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]}  # noqa: S608
        assert full == set()
        assert con.execute("SELECT key, value FROM settings").fetchall() == [("demo", "true")]
    finally:
        con.close()
    # a parents' site on the pair reads exactly what the staff app publishes, and nothing else
    with parents_site(out) as public:
        assert [f["publication_id"] for f in find_publications(public, "")] == published_now
        assert published(public, current.publication_id) == published(s, current.publication_id)
        assert published(public, staff["gone"].publication_id) is None
        assert public.is_demo()
    assert sorted(p.name for p in out.parent.iterdir()) == ["public.duckdb", "public.state.sqlite"]


# issue 12 point 8
def test_exporting_again_replaces_the_pair_whole(staff: dict, tmp_path: Path) -> None:
    s, out = staff["store"], tmp_path / "public.duckdb"
    export_public(s, out)
    assert withdraw(s, ADMIN, staff["current"].publication_id) == []
    counts = export_public(s, out)
    with parents_site(out) as public:
        assert published(public, staff["current"].publication_id) is None
        assert len(find_publications(public, "")) == counts["publications"]


# issue 12 point 8
def test_the_export_never_lands_on_the_staff_store_or_an_open_copy(staff: dict, tmp_path: Path) -> None:
    s = staff["store"]
    before = s.state.query("SELECT count(*) FROM accounts")
    lite = sqlite_path(s.state.url)  # None over PostgreSQL
    for target in (s.path, *([lite] if lite else [])):
        with pytest.raises(StoreError) as caught:
            export_public(s, target)
        assert caught.value.title.startswith(f"{target} is the staff's own store")
    assert s.state.query("SELECT count(*) FROM accounts") == before and s.is_demo()
    with pytest.raises(StoreError) as caught:
        export_public(s, tmp_path)
    assert caught.value.title.startswith(f"{tmp_path} is a folder")
    # a parents' site still running on the previous copy: its state file cannot be replaced under it
    out = tmp_path / "public.duckdb"
    export_public(s, out)
    with parents_site(out) as site:
        assert site.state.query("SELECT count(*) FROM publications")[0][0] > 0  # it holds the file open
        with pytest.raises(StoreError) as caught:
            export_public(s, out)
        assert "is open in another program" in caught.value.title
        assert find_publications(site, "")  # and it still serves the copy it had
    export_public(s, out)  # once it stopped


# issue 12 point 8
def test_export_public_from_the_command_line_names_both_files(staff: dict, tmp_path: Path, monkeypatch,
                                                              capsys) -> None:
    s = staff["store"]
    path = s.path
    s.close()
    monkeypatch.setenv("JOINTLY_DB", str(path))
    out = tmp_path / "public.duckdb"
    assert main(["export-public", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"{out}: ") and f"with its state file {tmp_path / 'public.state.sqlite'}" in said
    assert main(["export-public", str(path)]) == 2
    assert "is the staff's own store" in capsys.readouterr().err
