"""AppTest: the Data page for admins — what the store holds, importing real DfE files (a summary for a good
file, a plain refusal for a metadata file), and the logs — and that nobody else can use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import open_app
from streamlit.testing.v1 import AppTest

from data.access import Role, Viewer
from data.demo import FLAGSHIP_PARTNERSHIP
from data.store import Store
from metrics.text import markdown_text

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
REALDATA = ROOT.parent / "shared" / "realdata"
KS4 = REALDATA / "dfe_perf_LA815_NorthYorkshire_EnglishDevil" / "815_2019_ks4provisional.csv"
META = REALDATA / "dfe_perf_2016-17_meta_datajamne" / "ks2_meta.csv"
HEADINGS = ["What's in the store", "Import DfE files", "Import log", "Change history"]
REFUSAL = ("This page is for data managers: only an admin can import files and read the logs. Ask your data manager "
           "if something needs importing.")


def open_page(db: Path, role: Role = Role.ADMIN) -> AppTest:
    """The app as this role, on the Data page."""
    return open_app("data_import.py", role=role.value)


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
    assert "Choose one or more files to import." in [i.value for i in at.info]
    assert next(b for b in at.button if b.label == "Import").disabled is True
    log = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
    assert len(log) == info.imports and set(log["Outcome"]) == {"Imported"}
    assert any("Change history page" in c.value for c in at.caption)


def test_an_admin_imports_a_real_performance_file(demo_db: Path) -> None:
    at = import_files(open_page(demo_db), [KS4], "2018/19")
    assert [s.value for s in at.success] == [f"Imported {markdown_text('815_2019_ks4provisional.csv')}."]
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
        "815_2019_ks4provisional.csv", "ks4provisional", "2018/19", "Imported", 576, "Data manager"]


def test_a_metadata_file_is_refused_in_words_and_writes_nothing(demo_db: Path) -> None:
    at = open_page(demo_db)
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


def test_a_performance_file_without_a_year_is_refused(demo_db: Path) -> None:
    at = import_files(open_page(demo_db), [KS4])
    assert len(at.error) == 1
    assert markdown_text("has no year column: give the academic year") in at.error[0].value
    assert "Nothing from this file was written" in at.error[0].value


@pytest.mark.parametrize("role", [Role.LEADER, Role.GOVERNOR])
def test_only_admins_have_the_page(demo_db: Path, role: Role) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["viewing_as"] = role
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/data_import.py")  # not in their navigation


def test_the_page_refuses_a_non_admin_who_reaches_it(demo_db: Path) -> None:
    """Run on its own with a leader as the viewer (as if navigation had let them through): a refusal, no data."""
    with Store(demo_db) as s:
        gid = s.find_group(FLAGSHIP_PARTNERSHIP).group_id
    at = AppTest.from_file(str(ROOT / "views" / "data_import.py"), default_timeout=60)
    at.session_state["_viewer"] = Viewer(Role.LEADER, gid, "Leader of the partnership")
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [REFUSAL]
    assert not at.header and not at.metric and not at.file_uploader and not at.dataframe
