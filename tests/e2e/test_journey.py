"""The journey a partnership takes, as a new user takes it (issue 11, "Done when"): real DfE files for North
Yorkshire imported into a new store with the README's commands, then in the browser: a data manager signs in,
makes a partnership of four secondary schools from two trusts (found by name, postcode, URN and town, each with the
date it joined), records that three agree to publish jointly, adds a leader; the leader signs in, opens the
partnership on its latest year with results, publishes; a parent reads it, signed out, on a phone.

One test, in order, with assertions at every step and a screenshot of each (tests/e2e/screenshots/journey_*.png);
the time of each step is printed (pytest -s) for the closing note's journey time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serving import MAIN, launched_browser, serving_store, wait_until_idle

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata"
NORTH_YORKSHIRE = REALDATA / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"
CENSUS_2022 = REALDATA / "ees_school_census_2022-23_sample" / "spc_school_level_2022-23_north_yorkshire.csv"
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
SIDEBAR = "[data-testid='stSidebar']"
EXCEPTION = "[data-testid='stException']"
ADMIN = ("data.manager@example.org", "a-long-admin-password")
LEADER = ("partnership.lead@example.org", "a-long-leader-password")
PARTNERSHIP = "Dales and Moors Schools Partnership"

# Four secondary schools of two trusts (the 2022/23 census names their trusts), found four ways; the fourth does
# not agree to publish jointly, so the parents never see it.
SCHOOLS = (  # (what is typed into the search, the school's name, its trust, agrees to publish)
    ("Harrogate High", "Harrogate High School", "NORTHERN STAR ACADEMIES TRUST", True),
    ("BD23 1QL", "Skipton Girls' High School", "NORTHERN STAR ACADEMIES TRUST", True),
    ("145090", "Richmond School", "ARETÉ LEARNING TRUST", True),
    ("Stokesley", "Stokesley School", "ARETÉ LEARNING TRUST", False),
)
TIMES: list[tuple[str, float]] = []
OPEN_PAGES: list = []  # the test's pages, for a screenshot when a step fails


def _cli(db: Path, *args: str, stdin: str | None = None) -> str:
    """A README command, as a new user runs it: `python -m data …` with JOINTLY_DB naming the new store."""
    done = subprocess.run([sys.executable, "-m", "data", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, env={**os.environ, "JOINTLY_DB": str(db)}, timeout=300)
    assert done.returncode == 0, f"python -m data {' '.join(args)}: {done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def real_store(tmp_path_factory) -> Path:
    """A new real store: the first admin, then North Yorkshire's files for 2017/18 and 2018/19 and the 2022/23
    census (which names each academy's trust), imported with the README's commands."""
    if not NORTH_YORKSHIRE.exists():
        pytest.fail(f"the real DfE files are missing: {NORTH_YORKSHIRE}")
    db = tmp_path_factory.mktemp("journey") / "trust.duckdb"
    started = time.perf_counter()
    _cli(db, "users", "add", ADMIN[0], "--role", "admin", "--name", "Dana Manager", "--password-stdin",
         stdin=ADMIN[1] + "\n")
    _cli(db, "import", "--period", "2018/19", str(NORTH_YORKSHIRE / "815_spine.csv"))
    _cli(db, "import", "--period", "2017/18", str(NORTH_YORKSHIRE / "815_2018_ks4final.csv"),
         str(NORTH_YORKSHIRE / "815_2018_census.csv"))
    _cli(db, "import", "--period", "2018/19", str(NORTH_YORKSHIRE / "815_2019_ks4provisional.csv"),
         str(NORTH_YORKSHIRE / "815_2019_census.csv"))
    report = _cli(db, "import", str(CENSUS_2022))
    # the check after an import says what the store cannot show: the trusts' memberships are of 2022/23 only
    assert "2022/23" in report and "2018/19" in report, report
    info = _cli(db, "info")
    assert "periods: 2017/18, 2018/19, 2022/23" in info, info
    TIMES.append(("new store, first admin and five real files imported (CLI)", time.perf_counter() - started))
    return db


@pytest.fixture(scope="module")
def app_url(real_store, tmp_path_factory) -> str:
    """`streamlit run serve.py` (the README's command) over the new store, with no single sign-on configured."""
    folder = tmp_path_factory.mktemp("journey_server")
    with serving_store(real_store, folder, wait=10) as (url, log):
        yield url
    text = log.read_text()
    assert "Traceback" not in text, text[text.index("Traceback"):]


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _context(browser, width: int, height: int):  # noqa: ANN001, ANN202 - Playwright objects
    context = browser.new_context(viewport={"width": width, "height": height})
    context.route(re.compile(r"^(?!https?://localhost[:/])"), lambda route: route.abort())  # nothing but the app
    return context


def _settle(page, title: str) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    expect(page.locator(f"{MAIN} h1").first).to_have_text(title, timeout=60_000)
    wait_until_idle(page, timeout=60)
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, errors.first.inner_text()


def _shot(page, name: str) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.4)
    page.screenshot(path=str(SHOTS / f"journey_{name}.png"), full_page=True)


def _main(page) -> str:  # noqa: ANN001
    """The main area's words as a person reads them (without the word joiners that keep names out of Markdown)."""
    return page.locator(MAIN).inner_text().replace("\u2060", "")


def _step(name: str, started: float) -> float:
    now = time.perf_counter()
    TIMES.append((name, now - started))
    return now


def _go(page, title: str) -> None:  # noqa: ANN001
    """Open a page from the sidebar's navigation, as a person does."""
    page.locator("[data-testid='stSidebarNavLink']").filter(has_text=title).first.click()
    _settle(page, title)


def _pick(page, box, option: str, *, exact: bool = False) -> str:  # noqa: ANN001
    """Open the select box `box` and pick the option showing `option` (returns its words). A rerun that lands just
    after the box opened redraws it closed, so a box that shows no such option is opened again, a few times."""
    from playwright.sync_api import Error

    for _ in range(6):
        box.click()
        found = (page.get_by_role("option", name=option, exact=True) if exact
                 else page.get_by_role("option").filter(has_text=option)).first
        try:
            words = found.inner_text(timeout=5_000)
            found.click(timeout=5_000)
            wait_until_idle(page)
            return words
        except Error:
            page.keyboard.press("Escape")
            wait_until_idle(page)
    raise AssertionError(f"no option {option!r} in {box}")


def _choose(page, label: str, option: str, *, within=None, exact: bool = True) -> None:  # noqa: ANN001
    """Pick `option` in the select box labelled `label` (in the main area, or `within` a part of it)."""
    _pick(page, (within or page.locator(MAIN)).get_by_role("combobox", name=label, exact=True), option, exact=exact)


def _date(page, label: str, day: str) -> None:  # noqa: ANN001
    """Type a date (DD/MM/YYYY) into the date field labelled `label`, segment by segment as a person types it."""
    page.locator(MAIN).get_by_role("spinbutton", name=f"day, {label}").click()
    page.keyboard.type(day.replace("/", ""))


def _sign_in(page, url: str, account: tuple[str, str]) -> None:  # noqa: ANN001
    page.goto(url)
    _settle(page, "Results for parents")
    side = page.locator(SIDEBAR)
    side.get_by_role("textbox", name="Email").fill(account[0])
    side.get_by_role("textbox", name="Password").fill(account[1])
    side.get_by_role("button", name="Sign in", exact=True).click()
    side.get_by_text("Signed in as").wait_for(timeout=60_000)
    _settle(page, "Group overview")


def _sign_out(page) -> None:  # noqa: ANN001
    """Sign out: the staff page then asks to sign in again, and shows nothing of the group."""
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    _settle(page, "Sign in to see this page")
    assert page.locator(SIDEBAR).get_by_text("Signed in as").count() == 0


def test_a_partnership_publishes_jointly_from_the_real_files(app_url, browser):  # issue 11, Done when
    try:
        _journey(app_url, browser)
    except BaseException:
        for i, page in enumerate(OPEN_PAGES):  # the page a failing step was on, to look at
            if not page.is_closed():
                _shot(page, f"failed_{i}")
        raise


def _journey(app_url: str, browser) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    staff = _context(browser, 1400, 1000)
    page = staff.new_page()
    OPEN_PAGES.append(page)
    t = time.perf_counter()

    # 1. the data manager signs in and makes the partnership
    _sign_in(page, app_url, ADMIN)
    t = _step("the data manager signs in", t)
    _go(page, "Groups")
    page.get_by_text("Create a group").click()
    form = page.locator(MAIN).locator("[data-testid='stForm']").first
    form.get_by_role("textbox", name="Name").fill(PARTNERSHIP)
    _choose(page, "Kind", "Partnership")
    form.get_by_role("button", name="Create the group").click()
    page.get_by_text(f"Created {PARTNERSHIP}").wait_for(timeout=60_000)
    _settle(page, "Groups")
    assert page.locator(MAIN).get_by_role("combobox", name="Group").input_value() == PARTNERSHIP
    _shot(page, "1_created")
    t = _step("create the partnership", t)

    # 2. four schools, found by name, postcode, URN and town, joined from September 2017
    for typed, name, trust, _ in SCHOOLS:  # each shown with its trust: the census's, which ended with 2022/23
        search = page.locator(MAIN).get_by_role("textbox", name="Find schools by name, URN, town or postcode")
        search.fill(typed)
        search.press("Enter")
        wait_until_idle(page)
        page.locator(MAIN).get_by_text("Schools to add").wait_for(timeout=60_000)
        found = _pick(page, page.locator(MAIN).get_by_role("combobox", name="Schools to add"), name)
        assert f"{trust} (until 31 Aug 2023)" in found, found
        page.keyboard.press("Escape")
        _date(page, "Joined on", "01/09/2017")
        page.locator(MAIN).get_by_role("button", name="Add to the group").click()
        page.get_by_text(f"1 school joined {PARTNERSHIP} from 01 Sep 2017").wait_for(timeout=60_000)
        wait_until_idle(page)
    expect(page.locator(MAIN).locator("[data-testid='stDataFrame']").last).to_be_visible()
    _shot(page, "2_members")
    # the members table is drawn on a canvas: its schools are read from the "A school left" choice instead
    page.locator(MAIN).get_by_role("tab", name="A school left").click()
    page.locator(MAIN).get_by_role("combobox", name="School", exact=True).click()
    listed = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert sorted(listed) == sorted(name for _, name, _, _ in SCHOOLS), listed
    t = _step("find and add four schools, with the date each joined", t)

    # 3. three schools agree to publish jointly (the data manager records each head's answer)
    _go(page, "Publish results")
    _choose(page, "Group", PARTNERSHIP)
    page.get_by_text("Record a school's answer").click()
    schools = page.locator(MAIN).get_by_role("combobox", name="Schools", exact=True)
    for _, name, _, agrees in SCHOOLS:
        if agrees:
            _pick(page, schools, name)
    page.keyboard.press("Escape")
    page.locator(MAIN).get_by_role("button", name="Record the answer").click()
    page.get_by_text("Recorded:").wait_for(timeout=60_000)
    wait_until_idle(page)
    text = _main(page)
    assert "Stokesley School" in text  # listed as not (yet) agreed
    _shot(page, "3_consent")
    t = _step("record three schools' agreement", t)

    # 4. a leader for the partnership
    _go(page, "Accounts")
    form = page.locator(MAIN).locator("[data-testid='stForm']").first
    form.get_by_role("textbox", name="Email").fill(LEADER[0])
    form.get_by_role("textbox", name="Name (optional)").fill("Pat Lead")
    _choose(page, "Role", "Leader:", within=form, exact=False)
    _choose(page, "Group", PARTNERSHIP, within=form)
    form.get_by_role("textbox", name=re.compile(r"^Password")).fill(LEADER[1])
    form.get_by_role("button", name="Add the account").click()
    page.get_by_text("Added partnership").wait_for(timeout=60_000)  # the address is written with word joiners
    _shot(page, "4_leader")
    _sign_out(page)
    t = _step("add the partnership's leader, sign out", t)

    # 5. the leader signs in: the overview opens on the partnership's latest year with results (2018/19, not the
    # store's latest 2022/23, which has only census figures)
    _sign_in(page, app_url, LEADER)
    assert page.locator(MAIN).get_by_role("combobox", name="Group").input_value() == PARTNERSHIP
    assert page.locator(MAIN).get_by_role("combobox", name="Academic year").input_value() == "2018/19"
    assert "Attainment 8" in _main(page)
    _shot(page, "5_overview")
    page.reload()  # a reload keeps the leader signed in
    _settle(page, "Group overview")
    assert page.locator(SIDEBAR).get_by_text("Signed in as").count() == 1
    t = _step("the leader signs in and reads the overview", t)

    # 6. publish: the preview shows the results first and says who is left out; then a full address to copy
    _go(page, "Publish results")
    text = _main(page)
    assert "Stokesley School" in text and "not included" in text, text
    _shot(page, "6_preview")
    page.locator(MAIN).get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text("Published version 1").wait_for(timeout=60_000)
    address = page.locator(MAIN).locator("[data-testid='stCode']").first.inner_text().strip()
    assert address.startswith(app_url + "/"), address
    _shot(page, "6_published")
    t = _step("preview and publish", t)
    staff.close()

    # 7. a parent, signed out, on a phone, opens the address
    phone = _context(browser, 390, 844)
    parent = phone.new_page()
    OPEN_PAGES.append(parent)
    parent.goto(address)
    _settle(parent, "Results for parents")
    text = _main(parent)
    assert PARTNERSHIP in text
    assert "2018/19" in text
    # the school that did not agree is named once, as left out, and its results are in no figure
    assert "has not agreed to publish jointly, so its results are not included: Stokesley School" in text
    assert text.count("Stokesley School") == 1, text
    assert "3 schools: Harrogate High School, Richmond School and Skipton Girls' High School" in text
    # pooled by hand from 815_2019_ks4provisional.csv (TPUP, ATT8SCR, PTL2BASICS_94) of the three that agreed:
    # Attainment 8 (82 × 38.5 + 247 × 45 + 115 × 71.1) / 444 = 50.56; 4+ in English and maths
    # (82 × 51.2% + 247 × 62.3% + 115 × 100%) / 444 = 70.0%. With Stokesley the figures would differ.
    assert "50.6 Attainment 8" in text, text
    assert "70.0% Grade 4+ in English and maths" in text, text
    assert parent.locator(SIDEBAR).get_by_text("Signed in as").count() == 0
    width = parent.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page scrolls sideways ({width} px)"
    _shot(parent, "7_parent_phone")
    _step("a parent reads it on a phone", t)
    phone.close()

    print("\njourney steps (machine time):")
    for name, seconds in TIMES:
        print(f"  {seconds:6.1f} s  {name}")
