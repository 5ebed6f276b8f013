"""Every page opens on the latest year the chosen group has results for, and the chosen year and school carry from
page to page (issue 11 point 5). Back and reload are browser matters: tests/e2e/test_keeps_choice.py (this file has
a name of its own: pytest imports test files by their base name)."""

from __future__ import annotations

from pathlib import Path

from conftest import open_app

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, schools
from data.services.scorecards import registry_for


def _value(at, label: str):  # noqa: ANN001, ANN202 - an AppTest and whatever the selector holds
    return next(s for s in at.selectbox if s.label == label).value


def _results_end_a_year_early(path: Path) -> tuple[str, str]:
    """The flagship partnership's schools lose their judged results of the store's latest year (their census stays):
    the store still has that year for every other school. Returns (the store's latest year, the one before)."""
    with Store(path) as s:
        periods = schools.periods(s)
        gid = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        judged = [m.id for m in registry_for(s, [gid]).measures if m.judged]  # its own local measures too
        members = groups.group_members(s, gid, periods[-1])
        with s.results_transaction() as cur:
            cur.execute("DELETE FROM observations WHERE level = 'school' AND period = ? "
                        "AND urn IN (SELECT unnest(?::INTEGER[])) AND measure IN (SELECT unnest(?::VARCHAR[]))",
                        [periods[-1], members, judged])
        with s.transaction() as cur:  # its local measures' values are people's writes: the state store's
            marks = ", ".join("?" * len(members))
            cur.execute(f"DELETE FROM local_values WHERE period = ? AND urn IN ({marks})",  # noqa: S608
                        [periods[-1], *members])
        assert schools.periods(s)[-1] == periods[-1]  # other schools still have it
    return periods[-1], periods[-2]


def test_pages_open_on_the_groups_latest_year_and_keep_the_choice(demo_db: Path) -> None:  # issue 11 point 5
    latest, before = _results_end_a_year_early(demo_db)
    at = open_app()  # the flagship partnership's leader, on the group overview
    assert _value(at, "Academic year") == before  # not the store's latest year, which has none of its results
    assert latest not in next(s for s in at.selectbox if s.label == "Academic year").options
    older = next(s for s in at.selectbox if s.label == "Academic year").options[-1]
    next(s for s in at.selectbox if s.label == "Academic year").set_value(older).run()
    at.switch_page("pages/school_scorecard.py").run()
    assert not at.exception, at.exception
    assert _value(at, "Academic year") == older
    school = next(s for s in at.selectbox if s.label == "School")
    chosen = int(school.options[-1].rsplit("(", 1)[1].rstrip(")"))  # the last school by name: "Name (URN)"
    school.set_value(chosen).run()
    assert _value(at, "School") == chosen
    for page in ("pages/similar_schools.py", "pages/school_scorecard.py", "pages/group_overview.py",
                 "pages/school_scorecard.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert _value(at, "Academic year") == older, page
        if any(s.label == "School" for s in at.selectbox):
            assert _value(at, "School") == chosen, page
