"""The parents' static site in a real browser (issue 16, Done when): built from the demo's publications (one of them
then withdrawn) and from a real-data publication (North Yorkshire's 2018/19 files), served by Python's http.server,
and checked in Debian's Chromium: axe-core finds no violation of the WCAG 2.2 AA rules on any page type; a keyboard
reaches every link, starting with the skip link, and sees where it is; each page has its language and its own title;
nothing scrolls sideways at 320 px or at 200% zoom; no request leaves the site; the search works with JavaScript and
the A–Z lists without it. Screenshots of a phone and a desktop go to docs/screenshots."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from serving import launched_browser

from data.db.state import copy_store
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.demo.publication import DEMO_MEASURES, _record_consents
from data.outputs.site import build_site
from data.services import consent, groups, schools
from data.services.access import Role, Viewer
from data.services.publications import find_publications, publish, withdraw

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "screenshots"
NORTH_YORKSHIRE = ROOT.parent / "shared" / "realdata" / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"
ADMIN = Viewer(Role.ADMIN, None, "Data manager")
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
REAL_MEASURES = ["attainment8", "basics_94", "overall_absence"]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the test's output stays readable
        pass


@functools.cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: {AXE} (npm ci; .ci/run does this)")
    return AXE.read_text()


def _serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def demo_site(demo_master: Path, tmp_path_factory) -> Iterator[dict]:
    """The demo's site: its own publication, a second partnership's, and a third's published then withdrawn."""
    tmp = tmp_path_factory.mktemp("site-demo")
    db = tmp / "demo.duckdb"
    copy_store(demo_master, db)
    with Store(db) as store:
        period = schools.periods(store)[-1]
        frame = groups.groups(store, "partnership")
        flagship = groups.find_group(store, FLAGSHIP_PARTNERSHIP)
        others = [int(g) for g in frame.sort_values("members", ascending=False)["group_id"]
                  if int(g) != flagship.group_id]
        pids = []
        for gid in others[:2]:
            _record_consents(store, ADMIN, gid, period)
            pub, problems = publish(store, ADMIN, gid, period, list(DEMO_MEASURES), {})
            assert pub is not None, problems
            pids.append(pub.publication_id)
        assert withdraw(store, ADMIN, pids[1]) == []
        pub = next(p for p in find_publications(store, FLAGSHIP_PARTNERSHIP))
        build_site(store, tmp / "site")
    server, url = _serve(tmp / "site")
    yield {"url": url, "root": tmp / "site", "flagship": flagship.group_id, "withdrawn": others[1],
           "period": pub["period"].replace("/", "-")}
    server.shutdown()


def _cli(db: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "data", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"JOINTLY_DB": str(db), "PATH": "/usr/bin:/bin"}, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> Iterator[dict]:
    """A partnership of North Yorkshire's four largest secondary schools publishing 2018/19 from the real files."""
    if not NORTH_YORKSHIRE.exists():
        pytest.fail(f"the real DfE files are missing: {NORTH_YORKSHIRE}")
    tmp = tmp_path_factory.mktemp("site-real")
    db = tmp / "real.duckdb"
    _cli(db, "import", "--period", "2018/19", str(NORTH_YORKSHIRE / "815_spine.csv"))
    _cli(db, "import", "--period", "2018/19", str(NORTH_YORKSHIRE / "815_2019_ks4provisional.csv"),
         str(NORTH_YORKSHIRE / "815_2019_census.csv"))
    with Store(db) as store:
        urns = [int(r[0]) for r in store.query(
            "SELECT urn FROM observations WHERE level = 'school' AND measure = 'attainment8' AND period = '2018/19' "
            "AND value IS NOT NULL ORDER BY denominator DESC NULLS LAST, urn LIMIT 4")]
        assert len(urns) == 4
        gid = groups.create_group(store, "partnership", "North Yorkshire Secondary Partnership")
        groups.add_memberships(store, gid, urns, "2017-09-01")
        for urn in urns:
            assert consent.record_consent(store, ADMIN, gid, urn, True, note="test") == []
        pub, problems = publish(store, ADMIN, gid, "2018/19", REAL_MEASURES, {})
        assert pub is not None, problems
        build_site(store, tmp / "site")
    server, url = _serve(tmp / "site")
    yield {"url": url, "root": tmp / "site", "gid": gid, "period": "2018-19", "urns": urns}
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _page_types(site: dict, gid: int) -> dict[str, str]:
    """One address of every kind of page the site has, relative to its root."""
    root: Path = site["root"]
    year = f"partnership/{gid}/{site['period']}"
    school = sorted((root / year / "school").glob("*.html"))[0].relative_to(root).as_posix()
    return {"index": "index.html", "schools": "schools.html", "measures": "measures.html", "not found": "404.html",
            "partnership": f"partnership/{gid}/index.html", "partnership's year": f"{year}/index.html",
            "school": school}


def _open(browser, url: str, viewport: dict = DESKTOP, *, javascript: bool = True):  # noqa: ANN001, ANN202
    """A fresh page at `url`, remembering every request that left the site and every console error."""
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.outside, page.errors = [], []
    base = re.match(r"https?://[^/]+/", url).group(0)
    page.on("request", lambda r: None if r.url.startswith((base, "data:")) else page.outside.append(r.url))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return page


def _axe(page) -> list[dict]:  # noqa: ANN001
    page.add_script_tag(content=_axe_source())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


@pytest.mark.parametrize("which", ["demo", "real"])
def test_every_page_type_passes_axe_with_its_language_and_own_title(which, demo_site, real_site, browser) -> None:
    site = demo_site if which == "demo" else real_site
    types = _page_types(site, site["flagship"] if which == "demo" else site["gid"])
    if which == "demo":
        types["withdrawn notice"] = f"partnership/{site['withdrawn']}/{site['period']}/index.html"
    titles = {}
    for kind, path in types.items():
        page = _open(browser, site["url"] + path)
        assert _axe(page) == [], f"{which} {kind} ({path})"
        assert page.evaluate("document.documentElement.lang") == "en", path
        titles[kind] = page.title()
        assert page.locator("h1").count() == 1, path
        assert page.outside == [], f"{path} asked another host: {page.outside}"
        assert page.errors == [], f"{path}: {page.errors}"
        page.context.close()
    assert all(titles.values()) and len(set(titles.values())) >= len(titles) - 1, titles  # index may name the site


def test_a_keyboard_starts_at_the_skip_link_and_reaches_every_link_with_focus_shown(demo_site, browser) -> None:
    path = f"partnership/{demo_site['flagship']}/{demo_site['period']}/index.html"
    page = _open(browser, demo_site["url"] + path)
    page.keyboard.press("Tab")
    first = page.evaluate("({text: document.activeElement.textContent.trim(), "
                          "href: document.activeElement.getAttribute('href')})")
    assert first["text"] == "Skip to main content" and first["href"] == "#main-content", first
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main-content"
    focusable = page.evaluate("document.querySelectorAll('a[href], button, input, summary, [tabindex=\"0\"]').length")
    seen: set[str] = set()
    for _ in range(focusable + 5):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {key: e.outerHTML.slice(0, 200), outline: parseFloat(s.outlineWidth) || 0,
                    shadow: s.boxShadow, style: s.outlineStyle}; }""")
        if info["key"].startswith("<body"):
            break
        seen.add(info["key"])
        assert info["outline"] >= 2 or info["shadow"] != "none", f"no visible focus on {info['key']}"
    links = page.evaluate("Array.from(document.querySelectorAll('main a[href]')).map(a => a.outerHTML.slice(0, 200))")
    missing = [x for x in links if x not in seen]
    assert not missing, f"not reached by Tab: {missing[:3]}"


@pytest.mark.parametrize("viewport", [{"width": 320, "height": 640}, {"width": 640, "height": 450}],
                         ids=["320px", "200%-zoom-of-1280"])
def test_nothing_scrolls_sideways(viewport, demo_site, real_site, browser) -> None:
    for site, gid in ((demo_site, demo_site["flagship"]), (real_site, real_site["gid"])):
        for kind, path in _page_types(site, gid).items():
            page = _open(browser, site["url"] + path, viewport)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= viewport["width"], f"{kind} ({path}) is {wide}px wide at {viewport['width']}px"
            page.context.close()


def test_search_finds_a_partnership_by_town_with_javascript_and_the_lists_work_without(demo_site, browser) -> None:
    index = json.loads((demo_site["root"] / "site.json").read_text())
    assert index["publications"], index
    flagship_page = (demo_site["root"] / "partnership" / str(demo_site["flagship"]) / "index.html").read_text()
    name = re.search(r"<h1[^>]*>(.*?)</h1>", flagship_page, re.S).group(1).strip()
    # a town of the flagship's, as the built school pages give it
    page = _open(browser, demo_site["url"] + "index.html")
    box = page.locator("form[role=search] input")
    assert box.is_visible(), "the script shows the search box"
    town = page.evaluate("""() => fetch(document.querySelector('form[role=search]').dataset.index)
        .then(r => r.json())""")
    entry = next(e for e in (town if isinstance(town, list) else town["entries"]) if str(e).find("partnership") >= 0)
    words = next(w for w in (entry.get("towns") or entry.get("schools") or [entry.get("name")]) if w)
    box.fill(str(words)[:6])
    page.wait_for_timeout(300)
    live = page.locator("[aria-live]")
    assert live.count() >= 1 and live.first.inner_text().strip(), "the results are announced"
    assert page.locator("[aria-live] a, #search-results a").count() >= 1
    page.context.close()
    # no JavaScript: the search box stays hidden, the A–Z list leads to the partnership
    page = _open(browser, demo_site["url"] + "index.html", javascript=False)
    assert not page.locator("form[role=search]").is_visible()
    page.get_by_role("link", name=re.compile(re.escape(name.split(":")[0][:20]))).first.click()
    page.wait_for_load_state()
    assert "/partnership/" in page.url
    page.context.close()


def test_screenshots_of_a_phone_and_a_desktop(demo_site, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = f"partnership/{demo_site['flagship']}/{demo_site['period']}/index.html"
    for name, viewport in (("site-phone.png", PHONE), ("site-desktop.png", DESKTOP)):
        page = _open(browser, demo_site["url"] + path, viewport)
        page.screenshot(path=str(SHOTS / name), full_page=name == "site-desktop.png")
        assert (SHOTS / name).stat().st_size > 10_000
        page.context.close()
