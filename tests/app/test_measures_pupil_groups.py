"""AppTest: a local measure's values uploaded by pupil group on the Measures page (issue 13 point 5): the preview
names each row's group, the commit stores them, and the page lists what is stored by pupil group."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import button, open_app, table

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups

LEADERSHIP = "Pupils in a leadership role (student_leadership_participation)"


def test_an_upload_by_pupil_group_is_accepted_and_stored(demo_db: Path) -> None:
    at = open_app("measures.py", role="governor")
    period = at.selectbox(key="period").value
    with Store(demo_db, read_only=True) as s:
        urn = groups.group_members(s, groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id, period)[0]
    box = at.selectbox(key="measures_upload_measure")
    box.select_index(box.options.index(LEADERSHIP)).run()
    assert any("pupil_group" in c.value and "disadvantaged (Disadvantaged pupils)" in c.value for c in at.caption)
    csv = (f"URN,period,numerator,denominator,pupil_group\r\n{urn},{period},12,48,\r\n"
           f"{urn},{period},3,12,Disadvantaged\r\n{urn},{period},9,36,not_disadvantaged\r\n").encode()
    at.file_uploader(key="measures_upload_file").set_value(("leaders.csv", csv, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    preview = table(at, "Line")
    assert preview[["Line", "URN", "Pupil group", "Value", "Numerator", "Denominator"]].to_dict("records") == [
        {"Line": 2, "URN": urn, "Pupil group": "Whole school", "Value": 25.0, "Numerator": 12.0, "Denominator": 48.0},
        {"Line": 3, "URN": urn, "Pupil group": "Disadvantaged pupils", "Value": 25.0, "Numerator": 3.0,
         "Denominator": 12.0},
        {"Line": 4, "URN": urn, "Pupil group": "Other pupils (not disadvantaged)", "Value": 25.0, "Numerator": 9.0,
         "Denominator": 36.0}]
    assert "3 rows checked: no problems." in [s.value for s in at.success]
    button(at, "Commit 3 rows").click().run()
    assert not at.exception, at.exception
    said = [re.sub(r"\\(.)", r"\1", e.value).replace("\u2060", "") for e in at.success]
    assert "Stored 3 rows from leaders.csv (2 of them by pupil group)." in said
    # the values stored by pupil group (the table with a Status column, not the upload's preview)
    stored = next(d.value for d in at.dataframe if {"Pupil group", "Status"} <= set(d.value.columns))
    mine = stored[(stored["URN"] == urn) & (stored["Year"] == period)]
    assert {("Disadvantaged pupils", 3.0, 12.0, "ok"), ("Other pupils (not disadvantaged)", 9.0, 36.0, "ok")} <= set(
        mine[["Pupil group", "Numerator", "Denominator", "Status"]].itertuples(index=False, name=None))
