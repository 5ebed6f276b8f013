"""AppTest: the Data page for admins — what the store holds, importing real DfE files (a summary for a good
file, a plain refusal for a metadata file), and the logs — and that nobody else can use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import app_on, open_app
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.ingest.store_check import check_store
from data.services.access import Role
from metrics.text import markdown_text

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
REALDATA = ROOT.parent / "shared" / "realdata"
KS4 = REALDATA / "dfe_perf_LA815_NorthYorkshire_EnglishDevil" / "815_2019_ks4provisional.csv"
META = REALDATA / "dfe_perf_2016-17_meta_datajamne" / "ks2_meta.csv"
HEADINGS = ["What's in the store", "What the store can show", "Import DfE files", "Import log", "Change history"]
DEMO_SENTENCE = ("This is the demo store: its schools are made up, and made-up schools must never receive real "
                 "schools' results, so it takes no DfE, GIAS or Ofsted files. To use real files, start a real store "
                 "of its own (a new file, made on first use) and open the app on it:")
REAL_COMMANDS = ("JOINTLY_DB=data/store/real.duckdb python -m data import FILE…\n"
                 "JOINTLY_DB=data/store/real.duckdb streamlit run app.py")


@pytest.fixture()
def real_db(tmp_path: Path, monkeypatch) -> Path:
    """A new, empty real store (not the demo) selected with JOINTLY_DB: where real files go (issue 11 point 3)."""
    from data.services.accounts import add_user

    path = tmp_path / "real.duckdb"
    with Store(path) as s:  # a real store is signed into: its data manager has a local account
        assert add_user(s, "test", email=ADMIN_EMAIL, role="admin", display_name="Data manager",
                        password=ADMIN_PASSWORD) == []
    with app_on(path, monkeypatch):
        yield path
REFUSAL = ("This page is for data managers: only an admin can import files and read the logs. Ask your data manager "
           "if something needs importing.")


ADMIN_EMAIL, ADMIN_PASSWORD = "data@school.example", "correct horse battery staple"


def open_page(db: Path, role: Role = Role.ADMIN) -> AppTest:
    """The app as this role, on the Data page: on the demo by "viewing as", on a real store signed in."""
    with Store(db) as s:
        demo = s.is_demo()
    if demo:
        return open_app("data_import.py", role=role.value)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.text_input(key="signin_email").input(ADMIN_EMAIL)
    at.sidebar.text_input(key="signin_password").input(ADMIN_PASSWORD)
    at.sidebar.button[0].click().run()
    at.switch_page("pages/data_import.py").run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def import_files(at: AppTest, files: list[Path], period: str = "") -> AppTest:
    at.file_uploader(key="data_import_files").set_value([(p.name, p.read_bytes(), "text/csv") for p in files])
    at.text_input(key="data_import_period").input(period)
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    return at


def test_an_admin_sees_what_is_in_the_store(demo_db: Path) -> None:
    with Store(demo_db) as s:  # read before the app holds the file
        info = s.info()
    at = open_page(demo_db)
    assert at.title[0].value == "Data"
    assert [h.value for h in at.header] == HEADINGS
    assert metrics(at) == {
        "Schools": f"{info.establishments:,}", "Groups": f"{sum(info.groups.values()):,}",
        "School values": f"{info.observations:,}", "Benchmarks": f"{info.benchmarks:,}",
        "Academic years": str(len(info.periods)), "Imports": f"{info.imports:,}", "Failed imports": "0",
        "Local measures": f"{info.local_measures:,}"}
    log = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
    assert len(log) == info.imports and set(log["Outcome"]) == {"Imported"}
    assert any("Change history page" in c.value for c in at.caption)


def test_the_demo_says_it_takes_no_real_files_and_offers_no_uploader(demo_db: Path) -> None:
    # issue 11 point 3: the same sentence as the importer's refusal, before (instead of) an uploader that would fail
    at = open_page(demo_db)
    assert DEMO_SENTENCE in [w.value for w in at.warning]
    assert REAL_COMMANDS in [c.value for c in at.code]
    assert not at.file_uploader and not [b for b in at.button if b.label == "Import"]
    assert not [s for s in at.subheader if s.value == "Undo an import"]  # the demo's own files are never undone


def test_a_real_store_offers_the_uploader(real_db: Path) -> None:
    # issue 11 point 3: the refusal is the demo's alone
    at = open_page(real_db)
    assert [h.value for h in at.header] == HEADINGS
    assert "Choose one or more files to import." in [i.value for i in at.info]
    assert next(b for b in at.button if b.label == "Import").disabled is True
    assert not [w for w in at.warning if "demo store" in w.value]
    # issue 11 point 4: an empty store says so under What the store can show
    assert "Cannot show yet: " + markdown_text("The store holds no school results yet, so no scorecard can show a "
                                               "value. Import the performance tables (or EES school-level files) "
                                               "for a year.") in [w.value for w in at.warning]


def test_the_check_is_shown_after_an_import(real_db: Path) -> None:
    # issue 11 point 4: the page shows the same findings as the CLI, in words, after the import
    at = import_files(open_page(real_db), [KS4], "2018/19")
    with Store(real_db) as s:
        expected = check_store(s)
    shown = [(w.value, "warning") for w in at.warning] + [(g.value, "ok") for g in at.success]
    for f in expected:
        words = {"ok": "Can show: ", "warning": "Cannot show yet: "}[f.severity]
        assert (words + markdown_text(f.text()), f.severity) in shown
    assert ("Cannot show yet: " + markdown_text("46 schools with results have no details from Get Information about "
                                                "Schools (address, map location): they are missing from maps and "
                                                "distances. Import GIAS's establishments file (edubasealldata….csv)."),
            "warning") in shown


def test_an_admin_undoes_an_import_after_confirming(real_db: Path) -> None:
    # issue 11 point 4: a button, then a confirmation that says what will happen; only "Yes" undoes
    at = import_files(open_page(real_db), [KS4], "2018/19")
    assert metrics(at)["School values"] == "576"
    assert [s.value for s in at.subheader] == ["Undo an import"]
    next(b for b in at.button if b.label == "Undo this import…").click().run()
    assert not at.exception, at.exception
    asked = [w.value for w in at.warning if w.value.startswith("Undoing")]
    assert len(asked) == 1 and asked[0].startswith(markdown_text("Undoing the import of 815_2019_ks4provisional.csv "
                                                                 "on "))
    assert markdown_text("removes the 672 values and records it added (it replaced nothing); percentiles, families "
                         "and expectations are then recomputed.") in asked[0]
    assert metrics(at)["School values"] == "576"  # nothing undone yet
    next(b for b in at.button if b.label == "Cancel").click().run()
    assert not [w for w in at.warning if w.value.startswith("Undoing")] and metrics(at)["School values"] == "576"
    next(b for b in at.button if b.label == "Undo this import…").click().run()
    next(b for b in at.button if b.label == "Yes, undo it").click().run()
    assert not at.exception, at.exception
    assert metrics(at)["School values"] == "0" and metrics(at)["Benchmarks"] == "0"
    # the whole sentence is shown as written (ui.messages makes every word inert), so it is compared as read
    assert markdown_text("Undone: the import of 815_2019_ks4provisional.csv. The 672 values and records it added "
                         "were removed.") in [s.value for s in at.success]
    log = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
    assert log.iloc[0]["Outcome"] == "Undone: its values are as they were before it"
    assert not [s for s in at.subheader if s.value == "Undo an import"]  # nothing left to undo
    with Store(real_db) as s:
        assert s.query("SELECT actor, action, entity FROM audit_log WHERE action = 'undo'") == [
            (f"Data manager <{ADMIN_EMAIL}>", "undo", "import")]


def test_an_admin_imports_a_real_performance_file(real_db: Path) -> None:
    at = import_files(open_page(real_db), [KS4], "2018/19")
    assert [s.value for s in at.success if s.value.startswith("Imported")] == [
        f"Imported {markdown_text('815_2019_ks4provisional.csv')}."]
    assert not at.error
    summary = at.code[0].value
    assert summary.startswith("815_2019_ks4provisional.csv: ks4provisional, 2018/19 (utf-8, ")
    assert "\n  rows read 75; schools 72; observations 576; benchmarks 24\n" in summary
    assert "measures: attainment8, basics_94, basics_95, ebacc_94, ebacc_aps, ebacc_entry, ks4_cohort, progress8" \
        in summary
    shown = metrics(at)  # the counts include the import (the page reruns after it)
    assert "2018/19" in next(m for m in at.metric if m.label == "Academic years").help
    assert shown["Failed imports"] == "0"
    log = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
    assert log.iloc[0][["File", "Kind", "Year", "Outcome", "School values", "By"]].tolist() == [
        "815_2019_ks4provisional.csv", "ks4provisional", "2018/19", "Imported", 576, f"Data manager <{ADMIN_EMAIL}>"]


def test_a_metadata_file_is_refused_in_words_and_writes_nothing(real_db: Path) -> None:
    at = open_page(real_db)
    before = metrics(at)
    at = import_files(at, [META], "2018/19")
    assert [e.value for e in at.error] == [  # the importer's sentence quotes the file: shown as written (escaped)
        "Not imported: " + markdown_text("ks2_meta.csv, line 1: this is a DfE metadata file (it describes the columns "
                                         "of a data file), not data: import the data file it describes instead")
        + ". Nothing from this file was written: the store is as it was."]
    assert not at.success and not at.code
    after = metrics(at)
    assert after == {**before, "Failed imports": "1"}
    log = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
    assert log.iloc[0][["File", "Outcome"]].tolist() == ["ks2_meta.csv", "Failed: nothing written"]


def test_a_performance_file_without_a_year_is_refused(real_db: Path) -> None:
    at = import_files(open_page(real_db), [KS4])
    assert len(at.error) == 1
    assert markdown_text("has no year column: give the academic year") in at.error[0].value
    assert "Nothing from this file was written" in at.error[0].value
    # issue 11 point 10: in the page's words, not the command line's (no --period, and uploads have no folder)
    assert "--period" not in at.error[0].value and "folder" not in at.error[0].value
    assert markdown_text("in the Academic year box") in at.error[0].value


def test_a_year_that_disagrees_with_the_file_is_refused_in_the_pages_words(real_db: Path) -> None:
    # issue 11 point 10: an EES file carries its own year; the year typed in the box disagrees with it
    census = REALDATA / "ees_school_census_2022-23_sample" / "spc_school_level_2022-23_north_yorkshire.csv"
    at = import_files(open_page(real_db), [census], period="2018/19")
    assert len(at.error) == 1, [e.value for e in at.error]
    said = at.error[0].value
    assert "--" not in said, said
    assert markdown_text("with the Academic year box empty") in said or markdown_text("Academic year box") in said


@pytest.mark.parametrize("role", [Role.LEADER, Role.GOVERNOR])
def test_only_admins_have_the_page(demo_db: Path, role: Role) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["viewing_as"] = role
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/data_import.py")  # not in their navigation


def test_the_page_refuses_a_non_admin_who_reaches_it(demo_db: Path) -> None:
    """The page's file run on its own for a leader (a deep link to a fresh server runs it straight): it hands over to
    the router, which opens the leader's own pages, never the Data page (issue 12 point 2)."""
    at = AppTest.from_file(str(ROOT / "pages" / "data_import.py"), default_timeout=60)
    at.query_params["viewing_as"] = Role.LEADER.label
    at.query_params["viewing_group"] = FLAGSHIP_PARTNERSHIP
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Group overview"]
    assert not at.file_uploader and not [h for h in at.header if h.value == "What's in the store"]
