"""AppTest: the Support page for leaders — recording support through the form, the balance, the partners —
and that governors do not get it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import APP, button, has_table, open_app, table
from streamlit.testing.v1 import AppTest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.support import support_partners
from data.services.support_log import support_record_count, support_records
from metrics.periods import period_bounds
from metrics.registry import load_registry

ADMIN = Viewer(Role.ADMIN, None, "test")


def _fill(at: AppTest, giver: int, taker: int, hours: float | None, start: date) -> AppTest:
    at.selectbox(key="support_giver").set_value(giver)
    at.selectbox(key="support_taker").set_value(taker)
    at.selectbox(key="support_kind").set_value("peer_review")
    at.date_input(key="support_start").set_value(start)
    at.number_input(key="support_hours").set_value(hours)
    at.text_area(key="support_notes").input("Maths department review – £0 cost")
    return button(at, "Record support").click().run()


def _group_and_period(db) -> tuple[int, str, list[int]]:
    with Store(db) as s:  # the app's own connection is open: same settings
        gid = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        period = schools.periods(s)[-1]
        return gid, period, groups.group_members(s, gid, period)


def _count(db) -> int:
    with Store(db) as s:  # the app's own connection is open: same settings
        return support_record_count(s)


@pytest.fixture()
def support(demo_db) -> AppTest:
    """The page on a copy of the demo whose seeded ledger is cleared, so each test starts from nothing."""
    with Store(demo_db) as s, s.transaction() as cur:
        cur.execute("DELETE FROM support_records")
    return open_app("support.py", role="leader")


def test_the_demo_ledger_shows_a_network_and_balances(demo_db) -> None:
    at = open_app("support.py", role="leader")
    assert not at.exception
    assert not any("No support has been recorded" in i.value for i in at.info)
    balance = table(at, "In words")
    assert {"net giver", "net taker"} <= set(balance["In words"])
    assert balance["Hours given"].sum() == pytest.approx(balance["Hours received"].sum())  # every hour has a taker
    assert any(c.value.startswith("Support network of") for c in at.caption)


def test_only_the_open_tab_is_drawn_and_the_address_chooses_it(demo_db) -> None:
    network = "Support network of"
    matrix = "Rows gave support; columns received it. Each cell says the hours."
    at = open_app("support.py", role="leader")
    assert any(c.value.startswith(network) for c in at.caption) and not any(c.value == matrix for c in at.caption)
    shared = AppTest.from_file(APP, default_timeout=60)  # a link to the matrix tab
    shared.query_params.update({"viewing_as": Role.LEADER.label, "viewing_group": FLAGSHIP_PARTNERSHIP,
                                "support_view": "Matrix"})
    shared.run()
    shared.switch_page("pages/support.py").run()
    assert not shared.exception
    assert any(c.value == matrix for c in shared.caption) and not any(c.value.startswith(network)
                                                                       for c in shared.caption)


def test_the_page_opens_with_its_sections_and_an_empty_ledger(support: AppTest) -> None:
    at = support
    assert not at.exception
    assert at.title[0].value == "Support between schools"
    assert at.header[0].value == FLAGSHIP_PARTNERSHIP
    subheaders = [h.value for h in at.subheader]
    assert subheaders[0].startswith("Support given and received in ")
    assert subheaders[1] == "Suggested partners"
    assert "Record support" in [e.label for e in at.expander]
    assert any("No support has been recorded" in i.value for i in at.info)
    balance = table(at, "In words")
    assert list(balance.columns) == ["School", "Hours given", "Hours received", "Balance (given minus received)",
                                     "In words"]
    assert set(balance["In words"]) == {"no support recorded"}
    # the demo partnership reports its own support hours: shown beside the ledger
    local = table(at, "Support given to other schools (hours)")
    assert "Support given to other schools (hours)" in local.columns


def test_recording_support_shows_success_and_the_record(support: AppTest, demo_db) -> None:
    gid, period, members = _group_and_period(demo_db)
    giver, taker = members[0], members[1]
    day = date.fromisoformat(period_bounds(period)[0])
    before = _count(demo_db)
    at = _fill(support, giver, taker, 7.5, day)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.success) >= 1 and "Recorded:" in at.success[0].value and "7.5 hours" in at.success[0].value
    balance = table(at, "In words").set_index("School")
    with Store(demo_db) as s:
        name = dict(s.query("SELECT urn, name FROM establishments WHERE urn IN (?, ?)", [giver, taker]))
        records = support_records(s, ADMIN, gid, period)
    assert balance.loc[name[giver], "Hours given"] == 7.5
    assert balance.loc[name[giver], "In words"] == "net giver"
    assert balance.loc[name[taker], "Hours received"] == 7.5
    assert balance.loc[name[taker], "In words"] == "net taker"
    listed = table(at, "Recorded by")
    assert listed[["From", "To", "Type", "Hours"]].to_dict("records") == [
        {"From": name[giver], "To": name[taker], "Type": "Peer review", "Hours": 7.5}]
    assert _count(demo_db) == before + 1
    assert records["notes"].tolist() == ["Maths department review – £0 cost"]
    assert any(c.value.startswith("Support network of") for c in at.caption)


def test_a_bad_submission_shows_every_problem_and_writes_nothing(support: AppTest, demo_db) -> None:
    _gid, period, members = _group_and_period(demo_db)
    before = _count(demo_db)
    at = _fill(support, members[0], members[0], 0.0, date.fromisoformat(period_bounds(period)[0]))
    assert not at.exception
    message = at.error[0].value
    assert message.startswith("The support was not recorded")
    assert "must be different schools" in message
    assert "Hours must be more than 0" in message
    assert not at.success
    assert _count(demo_db) == before


def test_suggested_partners_for_a_weak_measure(support: AppTest) -> None:
    at = support
    school = at.selectbox(key="school")
    # the flagship's secondary is flagged in the demo: pick it, then its first weak measure
    secondary = next(i for i, o in enumerate(school.options) if "Community College" in o)
    at = school.select_index(secondary).run()
    assert not at.exception
    weak = at.selectbox(key="measure")
    assert weak.label == "Weak measure" and len(weak.options) >= 1
    assert any("measure(s) flagged" in m.value for m in at.markdown)
    partners = table(at, "How related") if has_table(at, "How related") else None
    if partners is None:
        assert any("is strong on" in i.value for i in at.info)
    else:
        assert list(partners.columns)[:4] == ["School", "Head", "Telephone", "Website"]
        assert (partners["Better than (% of schools)"] >= 60).all()


def _weak_secondary(at: AppTest) -> AppTest:
    """Choose the flagship's secondary (flagged in the demo) for partner suggestions."""
    school = at.selectbox(key="school")
    secondary = next(i for i, o in enumerate(school.options) if "Community College" in o)
    at = school.select_index(secondary).run()
    assert not at.exception
    return at


def _partners(at: AppTest):
    return table(at, "Why suggested") if has_table(at, "Why suggested") else None


# issue 11 point 14
def test_partners_are_within_30_km_unless_anywhere_is_asked(support: AppTest) -> None:
    at = _weak_secondary(support)
    km = at.number_input(key="partner_km")
    assert km.value == 30 and km.label == "Travel distance (km)"
    near = _partners(at)
    if near is not None:
        assert (near["Distance (km)"] <= 30).all()
    assert any("within 30 km" in c.value for c in at.caption)
    at = at.checkbox(key="partner_anywhere").check().run()
    assert not at.exception
    anywhere = _partners(at)
    assert anywhere is not None and len(anywhere) > (0 if near is None else len(near))
    assert (anywhere["Distance (km)"] > 30).any()  # the demo's England is wide: anywhere reaches farther
    assert not any("within 30 km" in c.value for c in at.caption)
    at = at.checkbox(key="partner_anywhere").uncheck().run()
    at = at.number_input(key="partner_km").set_value(400).run()  # a wider distance the user sets
    wider = _partners(at)
    assert wider is not None and (wider["Distance (km)"] <= 400).all()


# issue 11 point 14
def test_each_partner_has_contacts_and_says_why_in_one_sentence(support: AppTest, demo_db) -> None:
    at = _weak_secondary(support)
    at = at.checkbox(key="partner_anywhere").check().run()
    partners = _partners(at)
    assert partners is not None and len(partners)
    label = at.selectbox(key="measure").value
    with Store(demo_db) as s:
        for row in partners.itertuples(index=False):
            urn = s.query("SELECT urn FROM establishments WHERE name = ?", [row.School])[0][0]
            head, phone, web = s.query("SELECT head_name, telephone, website FROM establishments WHERE urn = ?",
                                       [urn])[0]
            assert (row.Head, row.Telephone, row.Website) == (head or "–", phone or "–", web or "–")
    assert partners["Head"].ne("–").all() and partners["Telephone"].ne("–").all()
    # each reason is also written out whole above the table, numbered, with the school's name
    listed = " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert all(f"**{n}**: {why}" in listed for n, why in zip(partners["School"], partners["Why suggested"],
                                                             strict=True))
    for why, km, sim in zip(partners["Why suggested"], partners["Distance (km)"], partners["Similarity score"],
                            strict=True):
        assert why.count(". ") == 0 and why.endswith(".")  # one sentence
        assert " against your " in why and f"{km:.0f} km away" in why or "less than 1 km away" in why
        if sim == sim:  # a similar school: its similarity is in the sentence
            assert f"similar intake (similarity {sim:.2f})" in why
    assert label  # the measure the suggestions are for
    # "distance" is kilometres here; the intake's likeness is the similarity score: two columns, two names
    assert "Distance" not in partners.columns and {"Distance (km)", "Similarity score"} <= set(partners.columns)


# issue 11 point 14
def test_funnel_plot_or_the_reason_why_not(support: AppTest) -> None:
    at = _weak_secondary(support)
    measures = at.selectbox(key="measure").options
    assert measures
    for i in range(len(measures)):
        at = at.selectbox(key="measure").select_index(i).run()
        assert not at.exception
        funnels = [e for e in at.get("plotly_chart") if "Cohort (pupils)" in e.proto.spec]
        reasons = [x.value for x in at.info if "funnel plot" in x.value]
        # exactly one of the two: the funnel of the weak measure, or a sentence saying why there is none
        assert len(funnels) + len(reasons) == 1, (measures[i], len(funnels), reasons)


# issue 11 point 12
def test_governors_read_support_without_the_forms(demo_db) -> None:
    at = open_app(role="governor")
    registered = [Path(str(info.get("script_path", ""))).name for info in at._registered_pages.values()]
    assert {"support.py", "similar_schools.py"} <= set(registered)
    at.switch_page("pages/support.py").run()
    assert not at.exception
    assert at.title[0].value == "Support between schools"
    assert not any(b.label == "Record support" for b in at.button)  # no form to record support
    assert not [e for e in at.expander if "Record support" in str(e.label)]
    balance = table(at, "In words")  # the ledger is there to read
    assert {"net giver", "net taker"} <= set(balance["In words"])
    assert any("recorded by the group's leaders" in c.value for c in at.caption)
    assert at.selectbox(key="school")  # and the suggestions
    # the data layer refuses a governor's record too, and writes nothing
    from data.services.support_log import record_support
    with Store(demo_db) as s:
        gid = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        members = groups.group_members(s, gid, schools.periods(s)[-1])
        governor = Viewer(Role.GOVERNOR, gid, "Governor")
        before = support_record_count(s)
        problems = record_support(s, governor, group_id=gid, giver=members[0], taker=members[1],
                                  kind="peer_review", start_date=date(2024, 10, 1), end_date=None, hours=2.0)
        assert any("Governors" in p for p in problems) and support_record_count(s) == before


# issue 13 point 3
def test_partners_strong_for_disadvantaged_pupils(support: AppTest, demo_db) -> None:
    at = _weak_secondary(support)
    focus = at.radio(key="partner_focus")
    assert focus.label == "Look for partners strong on"
    assert list(focus.options) == ["all pupils' results", "disadvantaged pupils' results"]
    assert focus.value == "all"  # today's suggestions unless asked
    urn = at.selectbox(key="school").value
    at = focus.set_value("disadvantaged").run()
    assert not at.exception
    measures = at.selectbox(key="measure")
    assert measures.label == "Measure"
    gid, period, _ = _group_and_period(demo_db)
    with Store(demo_db) as s:
        have = set(s.query("SELECT measure FROM pupil_group_observations WHERE level = 'school' AND scope IS NULL "
                           "AND urn = ? AND period = ? AND pupil_group = 'disadvantaged' AND value IS NOT NULL",
                           [urn, period]))
        judged = {m.id: m.label for m in load_registry().measures if m.judged}
    # only the measures DfE publishes the school's disadvantaged pupils' results of
    assert set(measures.options) == {judged[m] for (m,) in have if m in judged} and measures.options
    at = at.checkbox(key="partner_anywhere").check().run()
    assert not at.exception
    partners = _partners(at)
    chosen = at.selectbox(key="measure").value
    with Store(demo_db) as s:
        expected = support_partners(s, urn, chosen, period, groups=[gid], max_km=None, pupil_group="disadvantaged")
    assert partners is not None and len(partners) == len(expected) > 0
    assert partners["Why suggested"].tolist() == [p.reason for p in expected]
    assert (partners["Disadvantaged pupils"] >= 6).all()  # a small group is never named
    assert "Disadvantaged pupils better than (% of schools)" in partners.columns
    for why in partners["Why suggested"]:
        assert why.startswith("Disadvantaged pupils here ") and why.endswith(".") and why.count(". ") == 0
        assert "(top quarter of secondary schools nationally for disadvantaged pupils; yours: " in why
    assert any("top quarter of schools of the same phase nationally" in c.value for c in at.caption)
    # the funnel is of all pupils' results: not drawn beside these
    assert not [e for e in at.get("plotly_chart") if "Cohort (pupils)" in e.proto.spec]
    # and back: today's partners
    at = at.radio(key="partner_focus").set_value("all").run()
    assert not at.exception and at.selectbox(key="measure").label == "Weak measure"


# issue 13 point 3
def test_a_school_without_disadvantaged_results_says_so(demo_db) -> None:
    _gid, _period, members = _group_and_period(demo_db)
    with Store(demo_db) as s:
        names = dict(s.query("SELECT urn, name FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                             [members]))
        urn = next(u for u, n in names.items() if "Community College" in n)
        with s.results_transaction() as cur:
            cur.execute("DELETE FROM pupil_group_observations WHERE urn = ?", [urn])
    at = _weak_secondary(open_app("support.py", role="leader"))
    at = at.radio(key="partner_focus").set_value("disadvantaged").run()
    assert not at.exception
    assert any("publishes no results of" in i.value and "disadvantaged pupils in" in i.value for i in at.info)
    assert not _partners(at)
