"""A demo store in which people and imported files wrote hostile text: Markdown, HTML, maths, Streamlit directives
and spreadsheet formulas in a group's name, schools' names, local measures' labels and descriptions, a support
record's notes and a publication's commentary. Each is put there the way the app puts it: a GIAS establishments
import renames schools, the governance layer redefines measures, the support log and publishing write the rest.
Only the group's name is written directly (a demo partnership has no GIAS record to import it from)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.ingest.importers import import_file
from data.services import groups, local_measures
from data.services import schools as schools_svc
from data.services.access import Role, Viewer
from data.services.governance import define_measure
from data.services.publications import publish
from data.services.support_log import record_support

# Every construct Streamlit's Markdown, its labels and plotly act on, in one line.
HOSTILE = ('**B** [x](https://evil.example) ![i](https://evil.example/i.png) <img src=x onerror=alert(1)> $x^2$ '
           ':red[r] :material/home: <a href="https://evil.example">a</a> _u_ ~~s~~ `c`')
# A leader's commentary may be several lines: a list, a heading and a quote on lines of their own.
HOSTILE_LINES = HOSTILE + "\n- item\n# heading\n> quote"
# What must never appear, unescaped, in a Markdown body or label: each is one of HOSTILE's constructs.
RAW_CONSTRUCTS = ("**B**", "[x](", "![i]", "<img", "$x^2$", "$x$", ":red[", ":material/home:", "<a href", "_u_",
                  "~~s~~", "`c`", "**u**", "$u$")
EVIL = "evil.example"

GROUP_NAME = f"Northbridge Learning {HOSTILE}"  # keeps the prefix the demo's 'viewing as' starts on
SCHOOL_NAME = f"{HOSTILE} Primary"
# OWASP's CSV-injection starts, as school names an imported GIAS file may carry
FORMULA_SCHOOLS = ('=HYPERLINK("https://evil.example","x")', "@SUM(1+1)", "+1-2")
FORMULA_LABEL = "=1+1"
# a label is at most 80 characters: the constructs that load or draw something, and emphasis and maths
MEASURE_LABEL = "![i](https://evil.example/i.png) [x](https://evil.example) **B** $x$ :red[r]"
MEASURE_DESCRIPTION = f"Events the school ran: {HOSTILE}"
MEASURE_UNIT = "**u** $u$"  # a unit is at most 20 characters: emphasis and maths fit
HOSTILE_MEASURE = "community_events"
FORMULA_MEASURE = "student_leadership_participation"
GIAS_HEADER = ["URN", "EstablishmentName", "TypeOfEstablishment (name)", "EstablishmentTypeGroup (name)",
               "PhaseOfEducation (name)", "EstablishmentStatus (name)", "Town"]


@dataclass(frozen=True)
class Hostile:
    """What was planted: the group, the renamed schools (URN -> name) and the publication."""

    group_id: int
    period: str
    schools: dict[int, str]
    publication_id: int


def gias_file(path: Path, rows: list[tuple]) -> Path:
    """A GIAS establishments extract (edubasealldata's columns, the ones the importer reads)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    w.writerow(GIAS_HEADER)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def plant(db: Path, work: Path) -> Hostile:
    """Write the hostile text into the demo store at `db` (built by data.demo.build.build_demo)."""
    with Store(db) as s:
        group = groups.find_group(s, FLAGSHIP_PARTNERSHIP)
        assert group is not None
        gid = group.group_id
        period = schools_svc.periods(s)[-1]
        members = sorted(groups.group_members(s, gid, period))
        est = schools_svc.establishments(s, members).set_index("urn")
        names = dict(zip(members[:4], [SCHOOL_NAME, *FORMULA_SCHOOLS], strict=True))
        rows = [(u, name, est.loc[u, "type_name"], est.loc[u, "type_group"], str(est.loc[u, "phase"]).capitalize(),
                 "Open", est.loc[u, "town"]) for u, name in names.items()]
        report = import_file(s, gias_file(work / "edubasealldata_hostile.csv", rows), demo_files=True)  # made-up rows
        assert report.ok, report.message
        with s.transaction() as cur:
            cur.execute("UPDATE groups SET name = ? WHERE group_id = ?", [GROUP_NAME, gid])

        leader = Viewer(Role.LEADER, gid, "Leader")
        defs = {d["id"]: d for d in local_measures.local_measures(s, gid)}
        for mid, changes in ((HOSTILE_MEASURE, {"label": MEASURE_LABEL, "description": MEASURE_DESCRIPTION,
                                               "unit": MEASURE_UNIT}),
                             (FORMULA_MEASURE, {"label": FORMULA_LABEL})):
            definition = {k: v for k, v in defs[mid].items() if k != "owner"} | changes
            issues = define_measure(s, leader, gid, definition)
            assert not issues, issues
        problems = record_support(s, leader, group_id=gid, giver=members[0], taker=members[1], kind="cpd",
                                  start_date=date(int(period[:4]), 10, 1), end_date=None, hours=6.0,
                                  measure=HOSTILE_MEASURE, notes=HOSTILE)
        assert not problems, problems
        pub, problems = publish(s, leader, gid, period, [HOSTILE_MEASURE, FORMULA_MEASURE],
                                {HOSTILE_MEASURE: HOSTILE_LINES, FORMULA_MEASURE: "=2+2 and -3"})
        assert pub is not None, problems
        return Hostile(gid, period, names, pub.publication_id)
