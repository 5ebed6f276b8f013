"""Ofsted inspections on the pages (issue 10 point 3): the school card shows the latest report card area by area in
Ofsted's words, labelled as such, and the latest 1-4 grade with its date; the group overview counts each area's
grades across the member schools, never averaging them.

The demo's schools get inspections here through the importer, in Ofsted's real layouts (the real files' headers):
a report card for every member of the flagship partnership dated after anything the demo holds, so each school's
latest report card is one this test wrote and every count below is worked out from the rows written."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from conftest import REALDATA, open_app

from charts.palette import LEVEL_SYMBOLS
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.ingest.importers import import_file
from data.services import groups, schools
from metrics.inspections import REPORT_CARD_SCALE
from metrics.text import markdown_text as md

OFSTED = REALDATA / "ofsted_mi_2025-26_hal609"
ALL_2026 = OFSTED / ("Management_information_-_state-funded_schools_-_all_inspections_-_year_to_date_published_by_"
                     "28_Feb_2026.csv")
LATEST_2024 = OFSTED / ("EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections_as_at_"
                        "31_Aug_2024.csv")
# Achievement grades given to the members in name order, round and round (the first school's is the last word)
ACHIEVEMENT = ["Urgent improvement", "Strong standard", "Expected standard", "Expected standard", "Needs attention"]


def _write(path: Path, source: Path, rows: list[dict[str, str]]) -> Path:
    """A file in the source's layout: its header, every other cell NULL as Ofsted writes it, a newline per row."""
    with open(source, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows([[r.get(c, "NULL") for c in header] for r in rows])
    return path


@pytest.fixture()
def inspected(demo_db: Path, tmp_path: Path) -> dict:
    """The flagship's members in the latest year, each with a report card of 20/11/2026 and a 1-4 grade."""
    with Store(demo_db) as s:
        group = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
        period = schools.periods(s)[-1]
        members = sorted(groups.group_members(s, group.group_id, period),
                         key=lambda u: schools.establishment(s, u)["name"])
        achievement = {u: ACHIEVEMENT[i % len(ACHIEVEMENT)] for i, u in enumerate(members)}
        cards = [{"Web Link (opens in new window)": f"http://www.ofsted.gov.uk/inspection-reports/"
                  f"find-inspection-report/provider/ELS/{u}", "URN": str(u), "Inspection number": str(20000000 + u),
                  "Inspection type": "S5 Inspection", "Inspection start date": "20/11/2026",
                  "Publication date": "27/11/2026", "Category of concern": "", "Safeguarding standards": "Met",
                  "Inclusion": "Strong standard", "Curriculum and teaching": "Expected standard",
                  "Achievement": achievement[u], "Attendance and behaviour": "Expected standard",
                  "Personal development and wellbeing": "Exceptional", "Early years (where applicable)": "9",
                  "Post-16 provision (where applicable)": "Not applicable",
                  "Leadership and governance": "Needs attention"} for u in members]
        older = [{"Web link": str(u), "URN": str(u), "Inspection number of latest graded inspection": f"1{u}",
                  "Inspection type": "S5 Inspection", "Inspection start date": "07/11/2025",
                  "Publication date": "01/12/2025", "Overall effectiveness": "2", "Category of concern": "",
                  "Quality of education": "2", "Safeguarding is effective?": "Yes"} for u in members]
        for path in (_write(tmp_path / ALL_2026.name, ALL_2026, cards),
                     _write(tmp_path / LATEST_2024.name, LATEST_2024, older)):
            report = import_file(s, path, demo_files=True)  # made-up inspections of the demo's schools
            assert report.ok and report.problems == [], report.summary()
        names = {u: schools.establishment(s, u)["name"] for u in members}
    return {"members": members, "achievement": achievement, "names": names, "period": period}


def test_the_school_card_shows_the_latest_report_card_in_words_and_the_legacy_grade_with_its_date(inspected):
    at = open_app("school_scorecard.py", role="leader")
    first = inspected["members"][0]
    assert at.selectbox(key="school").value == first  # the first member in name order
    assert "Ofsted inspections" in [h.value for h in at.subheader]
    texts = [m.value for m in at.markdown]
    title = md("Report card (Ofsted's framework from November 2025: no overall grade)")
    assert f"**{title}**" in texts
    assert md("Inspected 20 Nov 2026 (S5 Inspection), published 27 Nov 2026.") in texts
    card = next(d.value for d in at.dataframe if list(d.value.columns) == ["Area", "Grade", "Date of grade"])
    assert dict(zip(card["Area"], card["Grade"], strict=True)) == {
        "Safeguarding standards": "Met", "Inclusion": "Strong standard", "Curriculum and teaching": "Expected standard",
        "Achievement": "Urgent improvement", "Attendance and behaviour": "Expected standard",
        "Personal development and wellbeing": "Exceptional", "Early years": "Not graded",
        "Post-16 provision": "Not applicable", "Leadership and governance": "Needs attention"}
    assert set(card["Date of grade"]) == {"20 Nov 2026"}
    assert any(t.startswith("**Older 1–4 grades") for t in texts)
    assert md("Overall effectiveness: Good, from the inspection of 7 Nov 2025.") in texts


def test_the_group_overview_counts_each_area_across_the_members(inspected):
    at = open_app("group_overview.py", role="leader")
    assert not at.exception
    assert "Ofsted inspections across the group" in [h.value for h in at.subheader]
    texts = [m.value for m in at.markdown]
    n = len(inspected["members"])
    by_words = Counter(inspected["achievement"].values())
    expected = "Achievement: " + ", ".join(f"{by_words[w]} {w}" for w in REPORT_CARD_SCALE.words if by_words[w])
    assert f"- {md(expected + '.')}" in texts
    assert f"- {md(f'Post-16 provision: no grades yet; {n} not applicable.')}" in texts
    assert f"- {md(f'Early years: no grades yet; {n} not graded.')}" in texts
    assert f"- {md(f'Overall effectiveness: {n} Good.')}" in texts
    # no inspection grade is averaged (the key to levels, which speaks of results' national average, is not one)
    inspections = [t for t in texts if not t.startswith("- " + LEVEL_SYMBOLS[5])]
    assert not [t for t in inspections if "average" in t.lower() and "never averaged" not in t.lower()]
