"""AppTest on a real (non-demo) store: people sign in with local accounts, and each role sees its own pages and
its own group only, whatever the address says. The data layer refuses the rest (tests/store/test_scope.py); this
proves the app shows it that way."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import APP, app_on, table
from streamlit.testing.v1 import AppTest

from data.db.state import copy_store
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups as groups_svc
from data.services import schools
from data.services.accounts import add_user
from data.services.publications import publish
from metrics.text import markdown_text

PASSWORD = "correct horse battery"
ALL_PAGES = {"group_overview", "school_scorecard", "similar_schools", "support", "impact", "measures", "reports",
             "data_import", "accounts", "publish", "change_history", "published_results", "groups"}
PAGES = {
    "leader": ALL_PAGES - {"data_import", "accounts"},
    # governors read Similar schools and Support too (issue 11 point 12), without the forms that record support
    "governor": {"group_overview", "school_scorecard", "similar_schools", "support", "impact", "measures", "reports",
                 "published_results"},
    "admin": ALL_PAGES,
}


@pytest.fixture(scope="module")
def accounts_master(demo_master: Path, tmp_path_factory) -> tuple[Path, dict]:
    """The demo's data as a real store (not the demo: no 'viewing as'), with an account for each role."""
    path = tmp_path_factory.mktemp("signed") / "real.duckdb"
    copy_store(demo_master, path)
    with Store(path) as s:
        s.set_setting("demo", "false")
        a = groups_svc.find_group(s, FLAGSHIP_PARTNERSHIP)
        period = schools.periods(s)[-1]
        a_members = groups_svc.group_members(s, a.group_id, period)
        groups = groups_svc.groups(s)
        other = groups[(groups["members"] > 2) & (groups["group_id"] != a.group_id) & (groups["kind"] == "trust")]
        b = groups_svc.find_group(s, int(other.iloc[0]["group_id"]))
        b_only = next(u for u in groups_svc.group_members(s, b.group_id, period) if u not in a_members)
        for email, role, group, school in [("admin@example.org", "admin", None, None),
                                           ("lead.a@example.org", "leader", a.group_id, None),
                                           ("lead.b@example.org", "leader", b.group_id, None),
                                           ("gov.a@example.org", "governor", a.group_id, None),
                                           ("gov.school@example.org", "governor", a.group_id, a_members[-1])]:
            assert add_user(s, "setup", email=email, role=role, group=group, password=PASSWORD,
                            school_urn=school) == []
        from data.services.access import Role, Viewer
        from data.services.governance import set_targets

        assert set_targets(s, Viewer(Role.LEADER, b.group_id, "lead.b"), b.group_id, period,
                           {"attainment8": 55.5}) == []
        names = dict(s.query("SELECT urn, name FROM establishments"))
        pub, problems = publish(s, Viewer(Role.LEADER, a.group_id, "lead.a"), a.group_id, period, ["pupils"], {})
        assert pub is not None, problems
    return path, {"publication": pub.publication_id,
                  "a": a.name, "b": b.name, "b_id": b.group_id, "period": period, "school": a_members[-1],
                  "school_name": names[a_members[-1]], "b_only_name": names[b_only], "b_only": b_only}


@pytest.fixture()
def world(accounts_master, tmp_path, monkeypatch) -> dict:
    path = tmp_path / "real.duckdb"
    copy_store(accounts_master[0], path)
    with app_on(path, monkeypatch):
        yield accounts_master[1]


def sign_in(email: str, **params: str) -> AppTest:
    """Open the app (with these query parameters, as a shared or tampered link would) and sign in."""
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.sidebar.text_input(key="signin_email").input(email)
    at.sidebar.text_input(key="signin_password").input(PASSWORD)
    at = at.sidebar.button[0].click().run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("Signed in as") for m in at.sidebar.markdown)
    return at


def pages(at: AppTest) -> set[str]:
    """The page scripts the navigation may run. A signed-out visitor's "Sign in to see this page" at a staff page's
    address (issue 11 point 6) is a function in ui/signin.py, no script: it shows none of the page."""
    return {info.get("script_path", "").rsplit("/", 1)[-1].removesuffix(".py")
            for info in at._registered_pages.values() if info.get("script_path")}


@pytest.mark.parametrize("role", ["leader", "governor", "admin"])
def test_each_role_has_its_pages_and_cannot_open_the_others(world, role):
    email = {"leader": "lead.a@example.org", "governor": "gov.a@example.org", "admin": "admin@example.org"}[role]
    at = sign_in(email)
    assert pages(at) == PAGES[role]
    for page in sorted(PAGES[role]):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        if role != "admin":
            for box in at.selectbox:
                if box.key == "group":  # only their own group is offered, on every page
                    assert world["b"] not in box.options, page
    for page in sorted(ALL_PAGES - PAGES[role]):
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{page}.py").run()


def test_a_leader_cannot_open_another_group_by_changing_the_address(world):
    at = sign_in("lead.a@example.org", group=world["b"], viewing_as="Data manager (admin)")
    assert at.title[0].value == "Group overview"
    assert at.header[0].value == world["a"]  # their own group, not the one in the address
    shown = " ".join(x.value for x in [*at.header, *at.caption, *at.markdown])
    assert world["b"] not in shown
    assert "data_import" not in pages(at)  # the viewing_as parameter means nothing on a real store
    at.switch_page("pages/school_scorecard.py").run()
    assert world["b_only_name"] not in at.selectbox(key="school").options
    # B's target is nowhere on A's measures page
    at.switch_page("pages/measures.py").run()
    assert not at.exception
    assert 55.5 not in set(table(at, "Target")["Target"].dropna())


def test_a_tampered_school_in_the_address_stays_in_the_leaders_group(world):
    label = f"{world['b_only_name']} ({world['b_only']})"
    at = sign_in("lead.a@example.org", school=label)
    at.switch_page("pages/school_scorecard.py").run()
    assert not at.exception
    assert at.header[0].value != world["b_only_name"]


def test_the_change_history_shows_a_leader_only_their_groups_changes(world):
    at = sign_in("lead.b@example.org")
    at.switch_page("pages/change_history.py").run()
    assert at.title[0].value == "Change history"
    history = table(at, "Who")
    assert set(history["Group"]) == {world["b"]}
    assert "Set" in set(history["Action"]) and "55.5" in set(history["After"])
    other = sign_in("lead.a@example.org")
    other.switch_page("pages/change_history.py").run()
    theirs = table(other, "Who") if any("Who" in d.value.columns for d in other.dataframe) else None
    assert theirs is None or world["b"] not in set(theirs["Group"])
    assert theirs is None or "55.5" not in set(theirs["After"])


def test_an_admin_sees_every_change_and_can_narrow_to_a_group(world):
    at = sign_in("admin@example.org")
    at.switch_page("pages/change_history.py").run()
    everything = table(at, "Who")
    assert world["b"] in set(everything["Group"]) and "–" in set(everything["Group"])  # accounts: no group
    at.selectbox(key="group").select(world["b_id"]).run()
    assert set(table(at, "Who")["Group"]) == {world["b"]}


def test_a_governor_of_one_school_opens_on_it_and_cannot_edit_the_group(world):
    at = sign_in("gov.school@example.org")
    at.switch_page("pages/school_scorecard.py").run()
    assert at.header[0].value == world["school_name"]
    at.switch_page("pages/measures.py").run()
    assert any(markdown_text("one school's governors") in w.value for w in at.warning)
    saves = [b for b in at.button if b.label in ("Save the measures", "Save the targets", "Save the measure")]
    assert len(saves) == 3 and all(b.disabled for b in saves)


def test_signing_out_returns_to_the_public_view(world):
    at = sign_in("lead.a@example.org")
    at = next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert at.title[0].value == "Results for parents"
    assert pages(at) == {"published_results"}


def test_a_parents_only_site_opens_the_store_read_only_and_has_no_sign_in(world, monkeypatch):
    from ui.store import get_store

    monkeypatch.setenv("JOINTLY_PUBLIC_SITE", "1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["publication"] = str(world["publication"])
    at.query_params["viewing_as"] = "Data manager (admin)"  # tampering: means nothing here
    at.run()
    assert not at.exception, at.exception
    assert pages(at) == {"published_results"}
    assert at.header[0].value.startswith(world["a"])
    assert not at.sidebar.text_input and not at.sidebar.button  # nobody signs in on the parents' site
    store = get_store()
    assert store.read_only
    with pytest.raises(Exception, match="read-only"):
        store.set_setting("demo", "true")


def test_a_group_without_members_in_a_year_does_not_offer_it(demo_db):
    """A group whose schools all joined later: its pages offer only the years it has results for (issue 11 point 5),
    opening on its latest, so the year before it had members is not a choice at all; no error."""
    from conftest import open_app

    with Store(demo_db, read_only=True) as s:
        first, last = schools.periods(s)[0], schools.periods(s)[-1]
        late = next(name for gid, name in s.query("SELECT group_id, name FROM groups ORDER BY name")
                    if not groups_svc.group_members(s, gid, first) and groups_svc.group_members(s, gid, last))
    at = open_app(role="admin")
    at.selectbox(key="group").select(late).run()
    assert not at.exception
    years = at.selectbox(key="period")
    assert first not in years.options and years.value == last


def test_an_admin_adds_an_account_that_then_signs_in_and_removing_it_signs_it_out(world):
    from conftest import button

    admin = sign_in("admin@example.org")
    admin.switch_page("pages/accounts.py").run()
    assert admin.title[0].value == "Accounts"
    assert "lead.a@example.org" in set(table(admin, "Email")["Email"])
    admin.text_input(key="new_email").input("New.Head@Example.org")
    admin.text_input(key="new_name").input("New Head")
    admin.selectbox(key="new_role").select("leader")
    admin.selectbox(key="new_group").select(world["b_id"])
    admin.text_input(key="new_password").input(PASSWORD)
    admin = button(admin, "Add the account").click().run()
    assert not admin.exception and [s.value for s in admin.success] == [markdown_text("Added new.head@example.org.")]
    added = table(admin, "Email").set_index("Email").loc["new.head@example.org"]
    assert (added["Role"], added["Group"]) == ("leader", world["b"])

    newcomer = sign_in("new.head@example.org")
    assert newcomer.header[0].value == world["b"]

    admin.selectbox(key="accounts_chosen").select("new.head@example.org")
    admin.checkbox(key="remove_sure").check()
    admin = button(admin, "Remove the account").click().run()
    assert [s.value for s in admin.success] == [markdown_text("Removed new.head@example.org.")]
    newcomer = newcomer.run()  # their next click
    assert any("has been removed" in w.value for w in newcomer.sidebar.warning)
    assert pages(newcomer) == {"published_results"}


def test_an_admin_sees_the_problems_and_nothing_is_added(world):
    from conftest import button

    admin = sign_in("admin@example.org")
    admin.switch_page("pages/accounts.py").run()
    before = set(table(admin, "Email")["Email"])
    admin.text_input(key="new_email").input("not an email")
    admin.selectbox(key="new_role").select("leader")
    admin.text_input(key="new_password").input("short")
    admin = button(admin, "Add the account").click().run()
    assert admin.error and "Nothing was changed" in admin.error[0].value
    assert "does not look like an email address" in admin.error[0].value
    assert markdown_text("A leader needs a group.") in admin.error[0].value
    assert set(table(admin, "Email")["Email"]) == before
