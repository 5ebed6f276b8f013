"""Jointly's own downloads brought back (issue 11 point 10): the Reports page's CSV and Excel scorecards and a
publication's CSV are refused in words that say what the file is (not "unknown format"), with nothing written; a
local measure's template is refused on the Data page with where it belongs, and taken back, as downloaded, by the
Measures and targets page's upload check."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import refused

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.outputs.reports import scorecard_csv, scorecard_xlsx
from data.services import groups, local_measures, schools
from data.services.access import Role, Viewer
from data.services.governance import check_upload, upload_template
from data.services.publications import published
from data.services.scorecards import scorecard
from metrics.registry import load_registry


@pytest.fixture
def real(demo_store: Store) -> Store:
    """The demo's data as a real store: a demo store refuses every import before looking at the file."""
    demo_store.set_setting("demo", "false", actor="test")
    return demo_store


def _card(store: Store):  # noqa: ANN202 - a Scorecard
    return scorecard(store, group=FLAGSHIP_PARTNERSHIP, period=schools.periods(store)[-1])


def test_the_reports_csv_is_refused_as_jointlys_own_report(real: Store, tmp_path: Path) -> None:
    # issue 11 point 10
    path = tmp_path / "scorecard.csv"
    path.write_bytes(scorecard_csv(_card(real)))
    message = refused(real, path)
    assert "Jointly's own scorecard reports (the Reports page's CSV), not a DfE file" in message
    assert "unknown format" not in message


def test_the_reports_excel_is_refused_as_jointlys_own_report(real: Store, tmp_path: Path) -> None:
    # issue 11 point 10
    path = tmp_path / "scorecard.xlsx"
    path.write_bytes(scorecard_xlsx(_card(real), load_registry()))
    message = refused(real, path)
    assert "Jointly's own scorecard reports" in message and "not a DfE file" in message
    assert "unknown format" not in message


def test_a_publications_csv_is_refused_as_jointlys_own(real: Store, tmp_path: Path) -> None:
    # issue 11 point 10: the demo ships a publication
    pub_id = real.query("SELECT max(publication_id) FROM publications")[0][0]
    assert pub_id is not None
    pub = published(real, pub_id)
    assert pub is not None
    path = tmp_path / "results.csv"
    path.write_bytes(pub.csv_bytes())
    message = refused(real, path)
    assert "a publication's download from Jointly" in message and "not a DfE file" in message


def test_a_local_measure_template_goes_back_on_the_measures_page(real: Store, tmp_path: Path) -> None:
    # issue 11 point 10: refused on the Data page with where it belongs; accepted, as downloaded, where it belongs
    group = groups.find_group(real, FLAGSHIP_PARTNERSHIP)
    leader = Viewer(Role.LEADER, group.group_id, "Lee")
    measure = next(d["id"] for d in local_measures.local_measures(real, group.group_id) if not d.get("formula"))
    period = schools.periods(real)[-1]
    template = upload_template(real, leader, group.group_id, measure, period)
    path = tmp_path / f"{measure}.csv"
    path.write_text(template)
    message = refused(real, path)
    assert "a local measure's upload file from Jointly" in message and "Measures and targets" in message
    result = check_upload(real, leader, group.group_id, measure, template.encode(), filename=path.name)
    assert result.issues == [] and len(result.rows) == 1, [str(i) for i in result.issues]
