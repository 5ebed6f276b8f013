"""Signing in for real, in a real browser (Debian's chromium driven by Playwright), on a store that is not the demo:
what a signed-out visitor, each role, a wrong password and signing out see, with local accounts and with single
sign-on through a real OpenID Connect provider on localhost (oidc-provider-mock).

Two Streamlit servers run over two copies of one small store: one with local accounts only (an empty secrets file,
so a developer's own .streamlit/secrets.toml is never read) and one with single sign-on configured in a temporary
secrets file (`--secrets.files`). The browser may fetch nothing but localhost."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from serving import MAIN, free_port, launch_app, launched_browser, server_answers, wait_until_idle

from data.db.state import copy_store
from data.demo.build import FLAGSHIP_PARTNERSHIP, build_demo
from data.services import groups as groups_svc
from data.services import schools
from data.services.accounts import COOKIE_LIFE, COOKIE_NAME, session_cookie

# the provider and Authlib warn about each other's deprecated APIs: not this project's to fix
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),
              pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning")]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
HOST = "localhost"  # the single sign-on redirect_uri names this host: cookies follow the host name the browser uses

SIDEBAR = "[data-testid='stSidebar']"
EXCEPTION = "[data-testid='stException']"
PARENTS = "Results for parents"
OVERVIEW = "Group overview"
STAFF_PAGES = (OVERVIEW, "School scorecard", "Support", "Data", "Publish results")
NO_MATCH = "That email and password do not match an account."
NO_ROLE = "has no Jointly role yet"
SIGN_IN_FIRST = "Sign in to see this page"
PAGE_NOT_FOUND = "Page not found"
ENDED = "Your sign-in has ended"

ADMIN = ("admin@example.org", "admin-password-123")
LEADER = ("leader@example.org", "leader-password-123")
OTHER_LEADER = ("other.leader@example.org", "other-password-123")
GOVERNOR = ("governor@example.org", "governor-password-123")
LEADER_NAME = "Lee Leader"
SERVER_LOGS: list[Path] = []  # each server's output: an error's details are there, never on the page


@dataclass(frozen=True)
class Scene:
    local_db: Path  # the store the local-accounts server opens
    sso_db: Path  # an identical copy for the single-sign-on server (DuckDB lets one process write a file)
    other_group: str  # a group with members that the flagship's leader and governor may not see
    leader_groups: tuple[str, ...]  # every group the flagship's leader may choose
    first_period: str  # the earliest year: never the year a group page opens on
    expired_cookie: str = ""  # the leader's sign-in cookie, made (validly signed) 9 hours ago: expired


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Scene:
    """A small demo store made real (no 'viewing as'), with an admin, a leader and a governor of the flagship
    partnership and a leader of another partnership."""
    from data.db.store import Store
    from data.services.access import Role, Viewer, visible_group_ids
    from data.services.accounts import add_user

    folder = tmp_path_factory.mktemp("signin")
    db = folder / "local.duckdb"
    build_demo(db, schools=300, years=3)
    with Store(db) as s:
        s.set_setting("demo", "false", actor="test")
        assert not s.is_demo()
        groups = groups_svc.groups(s)
        groups = groups[groups["members"] > 0]
        assert groups["name"].is_unique, "the URL carries plain names only when they are unique"
        flagship = groups_svc.find_group(s, FLAGSHIP_PARTNERSHIP)
        mine = set(visible_group_ids(s, Viewer(Role.LEADER, flagship.group_id)))
        periods = schools.periods(s)
        assert len(periods) > 1
        # another partnership, with members in every year (so that any year of it can be opened)
        others = groups[(groups["kind"] == "partnership") & ~groups["group_id"].isin(mine)].sort_values("name")
        other = next(r.name for r in others.itertuples()
                     if all(groups_svc.group_members(s, r.group_id, p) for p in periods))
        accounts = [dict(email=ADMIN[0], role="admin", password=ADMIN[1]),
                    dict(email=LEADER[0], role="leader", group=FLAGSHIP_PARTNERSHIP, password=LEADER[1],
                         display_name=LEADER_NAME),
                    dict(email=OTHER_LEADER[0], role="leader", group=other, password=OTHER_LEADER[1]),
                    dict(email=GOVERNOR[0], role="governor", group=FLAGSHIP_PARTNERSHIP, password=GOVERNOR[1])]
        for account in accounts:
            assert add_user(s, "test", **account) == []
        leader_groups = tuple(sorted(groups[groups["group_id"].isin(mine)]["name"]))
        expired = session_cookie(s, LEADER[0], now=datetime.now(UTC) - COOKIE_LIFE - timedelta(hours=1))
    copy_store(db, folder / "sso.duckdb")
    return Scene(db, folder / "sso.duckdb", other, leader_groups, periods[0], expired)


def _launch(db: Path, port: int, secrets_file: Path) -> tuple[subprocess.Popen, str]:
    """Start the app on `port` over `db`, reading secrets from `secrets_file` only (output beside that file)."""
    log = secrets_file.parent / "streamlit.log"
    SERVER_LOGS.append(log)
    return launch_app(db, port, secrets_file, log, entry="app.py"), f"http://{HOST}:{port}"


def _wait_for(url: str) -> None:
    if not server_answers(url):
        pytest.fail(f"the Streamlit server at {url} did not start\n{_server_tracebacks()}")


@pytest.fixture(scope="module")
def oidc_provider():
    """A real OpenID Connect provider on localhost, in a thread: its authorization form takes a subject, and a
    subject it has not been told about gets the claims {"email": subject}."""
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as provider:
        yield f"http://{HOST}:{provider.server_port}"


@pytest.fixture(scope="module")
def servers(scene, oidc_provider, tmp_path_factory) -> dict[str, str]:
    """Both apps, started together: "local" has local accounts only (an empty secrets file: single sign-on is not
    configured); "sso" has single sign-on, Streamlit's [auth] settings in a temporary secrets file."""
    empty = tmp_path_factory.mktemp("local") / "secrets.toml"
    empty.write_text("")
    port = free_port()
    with_auth = tmp_path_factory.mktemp("sso") / "secrets.toml"
    with_auth.write_text(
        "[auth]\n"
        f'redirect_uri = "http://{HOST}:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "jointly-test"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n')
    started = {"local": _launch(scene.local_db, free_port(), empty), "sso": _launch(scene.sso_db, port, with_auth)}
    try:
        for _, url in started.values():
            _wait_for(url)
        yield {name: url for name, (_, url) in started.items()}
    finally:
        for proc, _ in started.values():
            proc.terminate()
        for proc, _ in started.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:  # a loaded machine: stop it the hard way
                proc.kill()
                proc.wait(10)


@pytest.fixture(scope="module")
def server(servers) -> str:
    """The app with local accounts only."""
    return servers["local"]


@pytest.fixture(scope="module")
def sso_server(servers) -> str:
    """The app with single sign-on through `oidc_provider`."""
    return servers["sso"]


@pytest.fixture
def page(browser):
    """A fresh browser context per test (its own cookies), which may fetch nothing but localhost."""
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    context.route(re.compile(rf"^(?!https?://{HOST}[:/])"), lambda route: route.abort())
    page = context.new_page()
    yield page
    context.close()


# ------------------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _settle(page, title: str) -> None:
    """Wait until the page titled `title` has finished running, and check that it raised no exception."""
    from playwright.sync_api import expect

    expect(page.locator(f"{MAIN} h1").first).to_have_text(title, timeout=60_000)
    wait_until_idle(page, timeout=90)  # a busy machine (the CI's two cores) can take this long for a first run
    assert page.locator(f"{MAIN} h1").first.inner_text().strip() == title
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, errors.first.inner_text() + "\n" + _server_tracebacks()


def _server_tracebacks() -> str:
    return "\n".join(text[text.index("Traceback"):] for text in (log.read_text() for log in SERVER_LOGS if log.exists())
                     if "Traceback" in text)


def _nav(page) -> list[str]:
    """The pages the sidebar navigation lists (none at all when there is only one page to show)."""
    return page.locator("[data-testid='stSidebarNavLink'] [data-testid='stMarkdownContainer']").all_inner_texts()


def _main_text(page) -> str:
    return page.locator(MAIN).inner_text()


def _chosen_group(page) -> str:
    """The group the page's group selector shows."""
    return page.locator(MAIN).get_by_role("combobox", name="Group").input_value()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.3)  # let charts and tables paint
    page.screenshot(path=str(SHOTS / f"signin_{name}.png"))


def _assert_public(page) -> None:
    """The parents' page and nothing else: no staff page listed, nobody signed in, no group's data shown."""
    assert page.locator(f"{MAIN} h1").first.inner_text().strip() == PARENTS
    assert not set(_nav(page)) & set(STAFF_PAGES), _nav(page)
    assert page.get_by_role("heading", name=OVERVIEW).count() == 0
    # the flagship's name may show: the demo ships its publication (issue 11 point 16), which is for everyone
    assert page.locator(MAIN).get_by_role("combobox", name="Group").count() == 0
    assert page.locator(SIDEBAR).get_by_text("Signed in as").count() == 0


def _sign_in(page, account: tuple[str, str]) -> None:
    side = page.locator(SIDEBAR)
    side.get_by_role("textbox", name="Email").fill(account[0])
    side.get_by_role("textbox", name="Password").fill(account[1])
    side.get_by_role("button", name="Sign in", exact=True).click()


def _signed_in(page, url: str, account: tuple[str, str]) -> None:
    """Open the app signed out, sign in with `account`, and wait for the group overview."""
    page.goto(url)
    _settle(page, PARENTS)
    _sign_in(page, account)
    page.locator(SIDEBAR).get_by_text("Signed in as").wait_for(timeout=30_000)
    _settle(page, OVERVIEW)


def _open_group_in_session(page, group: str, period: str) -> None:
    """On the group overview, put `group` and `period` into the address as if by the browser's back and forward
    buttons: Streamlit reruns the same session with the new query (a reload would start a new session, which local
    accounts do not survive). The year is never the one showing, so the rerun is seen when it appears."""
    year = page.locator(MAIN).get_by_role("combobox", name="Academic year")
    assert year.input_value() != period
    page.evaluate("""to => { history.pushState({}, '', to);
                             window.dispatchEvent(new PopStateEvent('popstate', {state: {}})); }""",
                  f"/?group={quote_plus(group)}&period={quote_plus(period)}")
    from playwright.sync_api import expect

    expect(year).to_have_value(period, timeout=30_000)
    _settle(page, OVERVIEW)


def _single_sign_on(page, url: str, provider: str, subject: str) -> None:
    """Press the app's single sign-on button, give the provider's authorization form `subject`, come back."""
    page.goto(url)
    _settle(page, PARENTS)
    page.locator(SIDEBAR).get_by_role("button", name="Sign in with your school account").click()
    page.wait_for_url(f"{provider}/oauth2/authorize**", timeout=30_000)
    page.locator("input[name='sub']").fill(subject)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(f"{url}/**", timeout=30_000)


# ------------------------------------------------------------------------------ local accounts


def test_a_signed_out_visitor_is_the_public(server, page):
    """The parents' page only; deep links to staff pages and the demo's 'viewing as' parameter change nothing."""
    page.goto(server)
    _settle(page, PARENTS)
    _assert_public(page)
    side = page.locator(SIDEBAR)
    assert side.get_by_role("textbox", name="Email").count() == 1
    assert side.get_by_role("button", name="Sign in with your school account").count() == 0  # not configured
    _shot(page, "public")
    for path in ("/group_overview", "/?viewing_as=Data+manager+%28admin%29"):
        page.goto(server + path)
        _settle(page, PARENTS)
        _assert_public(page)
        assert page.get_by_role("heading", name="Data", exact=True).count() == 0
        assert page.get_by_text("Viewing as").count() == 0
    # a staff page's own address asks to sign in (issue 11 point 6), and shows none of the page
    page.goto(server + "/data_import")
    _settle(page, SIGN_IN_FIRST)
    assert not set(_nav(page)) & set(STAFF_PAGES), _nav(page)
    assert page.get_by_role("heading", name="What's in the store").count() == 0
    assert page.locator("[data-testid='stFileUploader']").count() == 0
    assert page.get_by_text("Viewing as").count() == 0
    _shot(page, "public_deep_link")


def test_a_wrong_password_is_refused_and_the_visitor_stays_public(server, page):
    page.goto(server)
    _settle(page, PARENTS)
    _sign_in(page, (GOVERNOR[0], "not-the-password-at-all"))
    error = page.locator(SIDEBAR).locator("[data-testid='stAlertContentError']")
    error.wait_for(timeout=30_000)
    assert NO_MATCH in error.inner_text()
    _settle(page, PARENTS)
    _assert_public(page)
    _shot(page, "wrong_password")


def test_the_flagship_leader_sees_their_group_and_no_other(server, page, scene):
    _signed_in(page, server, LEADER)
    assert f"Signed in as {LEADER_NAME}" in page.locator(SIDEBAR).inner_text()
    assert page.get_by_role("heading", name=FLAGSHIP_PARTNERSHIP).count() == 1
    nav = _nav(page)
    assert {OVERVIEW, "Support", "Publish results"} <= set(nav), nav
    assert "Data" not in nav
    # the group selector offers their own group(s) only
    page.locator(MAIN).get_by_role("combobox", name="Group").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10_000)
    assert tuple(sorted(options.all_inner_texts())) == scene.leader_groups
    assert scene.other_group not in options.all_inner_texts()
    page.keyboard.press("Escape")
    _shot(page, "leader")
    # another group's name in the URL (where the selector keeps it) shows nothing of that group
    _open_group_in_session(page, scene.other_group, scene.first_period)
    assert _chosen_group(page) == FLAGSHIP_PARTNERSHIP
    assert scene.other_group not in _main_text(page)
    assert page.get_by_role("heading", name=FLAGSHIP_PARTNERSHIP).count() == 1
    _shot(page, "leader_url_tampered")


def test_another_groups_leader_sees_only_that_group_then_signs_out_to_the_public_view(server, page, scene):
    _signed_in(page, server, OTHER_LEADER)
    assert page.get_by_role("heading", name=scene.other_group).count() == 1
    assert FLAGSHIP_PARTNERSHIP not in _main_text(page)
    assert "Data" not in _nav(page)
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    _settle(page, PARENTS)
    _assert_public(page)
    assert page.locator(SIDEBAR).get_by_role("textbox", name="Email").count() == 1
    _shot(page, "signed_out")


def test_a_governor_reads_support_but_has_no_publishing_or_data(server, page):
    _signed_in(page, server, GOVERNOR)
    assert page.get_by_role("heading", name=FLAGSHIP_PARTNERSHIP).count() == 1
    nav = _nav(page)
    # governors read Support and Similar schools (issue 11 point 12), without the forms that record support
    assert {OVERVIEW, PARENTS, "Support", "Similar schools"} <= set(nav), nav
    assert not {"Publish results", "Data", "Accounts", "Groups"} & set(nav), nav
    _shot(page, "governor")


def test_an_admin_has_the_data_page_and_every_group(server, page, scene):
    _signed_in(page, server, ADMIN)
    # the address change the leader's test makes does open that group for an admin: so that test would notice
    _open_group_in_session(page, scene.other_group, scene.first_period)
    assert _chosen_group(page) == scene.other_group
    assert page.get_by_role("heading", name=scene.other_group).count() == 1
    assert "Data" in _nav(page)
    page.locator("[data-testid='stSidebarNavLink']", has_text="Data").click()
    _settle(page, "Data")
    assert page.get_by_role("heading", name="What's in the store").count() == 1
    assert page.locator(f"{MAIN} [data-testid='stAlertContentError']").count() == 0
    _shot(page, "admin_data")


# ------------------------------------------------------------------------------ staying signed in (issue 11 point 6)


def _signin_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == COOKIE_NAME), None)


def _wait_for_cookie(page) -> dict:
    """The sign-in cookie the page has had the browser store, once it is there."""
    deadline = time.time() + 10
    while (cookie := _signin_cookie(page)) is None and time.time() < deadline:
        time.sleep(0.1)
    assert cookie is not None, [c["name"] for c in page.context.cookies()]
    return cookie


def _with_cookie(page, server: str, value: str) -> None:
    """Put `value` into this (fresh) browser as the sign-in cookie, as a browser that kept one would send it."""
    page.context.add_cookies([{"name": COOKIE_NAME, "value": value, "url": server, "httpOnly": True,
                               "sameSite": "Lax"}])


def test_a_reload_keeps_a_local_account_signed_in(server, page):
    # issue 11 point 6
    _signed_in(page, server, LEADER)
    cookie = _wait_for_cookie(page)
    # HttpOnly (no script in the page can read it), SameSite=Lax, for 8 hours; plain http here, so not Secure
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"], cookie
    assert abs(cookie["expires"] - (time.time() + COOKIE_LIFE.total_seconds())) < 120, cookie
    assert COOKIE_NAME not in page.evaluate("document.cookie")
    page.reload()
    _settle(page, OVERVIEW)
    assert f"Signed in as {LEADER_NAME}" in page.locator(SIDEBAR).inner_text()
    assert page.get_by_role("heading", name=FLAGSHIP_PARTNERSHIP).count() == 1
    # a new tab (a fresh session) is signed in too
    other = page.context.new_page()
    other.goto(server + "/school_scorecard")
    _settle(other, "School scorecard")
    assert f"Signed in as {LEADER_NAME}" in other.locator(SIDEBAR).inner_text()
    _shot(page, "reload_kept")


def test_a_tampered_expired_or_signed_out_cookie_signs_nobody_in(server, page, browser, scene):
    # issue 11 point 6
    _signed_in(page, server, LEADER)
    good = _wait_for_cookie(page)["value"]
    version, email, generation, expires, signature = good.split(".")
    admin_name = base64.urlsafe_b64encode(ADMIN[0].encode()).decode().rstrip("=")  # the admin's, same signature
    tampered = {"signature": ".".join([version, email, generation, expires, signature[::-1]]),
                "expiry": ".".join([version, email, generation, str(int(expires) + 86_400), signature]),
                "account": ".".join([version, admin_name, generation, expires, signature]),
                "expired": scene.expired_cookie}
    # signing out clears this browser's cookie and revokes the copy taken above
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    _settle(page, PARENTS)
    deadline = time.time() + 10
    while _signin_cookie(page) is not None and time.time() < deadline:
        time.sleep(0.1)
    assert _signin_cookie(page) is None
    page.reload()
    _settle(page, PARENTS)
    _assert_public(page)
    tampered["signed out"] = good
    for what, value in tampered.items():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route(re.compile(rf"^(?!https?://{HOST}[:/])"), lambda route: route.abort())
        fresh = context.new_page()
        _with_cookie(fresh, server, value)
        fresh.goto(server)
        _settle(fresh, PARENTS)
        _assert_public(fresh)
        assert ENDED in fresh.locator(SIDEBAR).inner_text(), what
        if what == "expired":
            _shot(fresh, "cookie_expired")
        context.close()


def test_a_signed_out_deep_link_asks_to_sign_in_then_opens_that_page(server, page, scene):
    # issue 11 point 6
    page.goto(f"{server}/school_scorecard?group={quote_plus(scene.other_group)}&period={quote_plus(scene.first_period)}")
    _settle(page, SIGN_IN_FIRST)
    assert page.get_by_text(PAGE_NOT_FOUND).count() == 0
    assert "sign in" in _main_text(page)
    assert scene.other_group not in _main_text(page)
    _shot(page, "deep_link_signed_out")
    _sign_in(page, ADMIN)
    page.locator(SIDEBAR).get_by_text("Signed in as").wait_for(timeout=30_000)
    _settle(page, "School scorecard")
    assert page.get_by_text(PAGE_NOT_FOUND).count() == 0
    assert "/school_scorecard" in page.url
    assert _chosen_group(page) == scene.other_group
    assert page.locator(MAIN).get_by_role("combobox", name="Academic year").input_value() == scene.first_period
    _shot(page, "deep_link_signed_in")


def test_the_accounts_form_keeps_what_was_typed_after_a_problem(server, page):
    # issue 11 point 11: the form used to be emptied on every press (clear_on_submit), problems or not, and its
    # role went back to the first option, admin
    _signed_in(page, server, ADMIN)
    page.locator("[data-testid='stSidebarNavLink']", has_text="Accounts").click()
    _settle(page, "Accounts")
    form = page.locator("[data-testid='stForm']").first
    role = form.get_by_role("combobox", name="Role")
    assert "Governor" in role.input_value()  # the least powerful role to start with
    form.get_by_role("textbox", name="Email").fill("new.head@example.org")
    form.get_by_role("textbox", name="Name (optional)").fill("Nia Head")
    role.click()
    page.get_by_role("option", name=re.compile("^Leader")).click()
    form.get_by_role("textbox", name=re.compile("^Password")).fill("short")
    form.get_by_role("button", name="Add the account").click()
    page.locator(f"{MAIN} [data-testid='stAlertContentError']").wait_for(timeout=30_000)
    _settle(page, "Accounts")
    assert "Nothing was changed" in page.locator(f"{MAIN} [data-testid='stAlertContentError']").inner_text()
    form = page.locator("[data-testid='stForm']").first
    assert form.get_by_role("textbox", name="Email").input_value() == "new.head@example.org"
    assert form.get_by_role("textbox", name="Name (optional)").input_value() == "Nia Head"
    assert form.get_by_role("combobox", name="Role").input_value().startswith("Leader")
    _shot(page, "accounts_form_kept")


# ------------------------------------------------------------------------------ single sign-on (OpenID Connect)


def test_single_sign_on_signs_a_leader_in_and_out(sso_server, oidc_provider, page, scene):
    _single_sign_on(page, sso_server, oidc_provider, LEADER[0])
    _settle(page, OVERVIEW)
    assert f"Signed in as {LEADER_NAME}" in page.locator(SIDEBAR).inner_text()
    assert page.get_by_role("heading", name=FLAGSHIP_PARTNERSHIP).count() == 1
    nav = _nav(page)
    assert {"Support", "Publish results"} <= set(nav) and "Data" not in nav, nav
    _shot(page, "sso_leader")
    # the identity cookie survives a reload, so here a typed URL keeps the session: another group stays hidden
    page.goto(f"{sso_server}/?group={quote_plus(scene.other_group)}")
    _settle(page, OVERVIEW)
    assert page.locator(SIDEBAR).get_by_text("Signed in as").count() == 1
    assert _chosen_group(page) == FLAGSHIP_PARTNERSHIP
    assert scene.other_group not in _main_text(page)
    assert page.get_by_role("heading", name=FLAGSHIP_PARTNERSHIP).count() == 1
    # signing out goes through the provider's end-session page and back to the public view
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{oidc_provider}/oauth2/end_session**", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{sso_server}/**", timeout=30_000)
    _settle(page, PARENTS)  # a fresh session after the redirect: the identity cookie is gone
    _assert_public(page)


def test_single_sign_on_without_an_account_is_the_public(sso_server, oidc_provider, page):
    _single_sign_on(page, sso_server, oidc_provider, "nobody@example.org")
    _settle(page, PARENTS)
    _assert_public(page)
    warning = page.locator(SIDEBAR).locator("[data-testid='stAlertContentWarning']")
    assert NO_ROLE in warning.inner_text()
    _shot(page, "sso_no_account")


def test_single_sign_on_with_an_unverified_email_gets_no_role(sso_server, oidc_provider, page):
    """A provider that says it has not verified the address (email_verified: false) does not vouch for it: the
    leader's account must not be given to whoever typed the leader's address into that provider."""
    claims = json.dumps({"email": LEADER[0], "email_verified": False}).encode()
    request = urllib.request.Request(f"{oidc_provider}/users/unverified-subject", data=claims, method="PUT",
                                     headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=5).status == 204
    _single_sign_on(page, sso_server, oidc_provider, "unverified-subject")
    _settle(page, PARENTS)
    _assert_public(page)
    warning = page.locator(SIDEBAR).locator("[data-testid='stAlertContentWarning']")
    assert "not verified" in warning.inner_text()
    _shot(page, "sso_unverified")
