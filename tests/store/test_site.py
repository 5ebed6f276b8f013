"""The parents' static site (issue 16), built from real stores: the demo's publications (its own, a second year of
it, a second partnership's with its leaders' commentary, a third's published then withdrawn) and a real-data one
(North Yorkshire's 2018/19 files). Every file the specification lists exists and nothing else; every link inside
the site resolves; assets are named by their content; no inline script or style and no request to another host; a
crawl finds no number that is not a current publication's; withdrawn results are gone, with a notice; no staff name
or email; the words are the Streamlit parents' page's; a second catalogue renders; bad input is exit 2."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, PERF, app_on, open_parents_page

from data.db.state import copy_store
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.demo.publication import DEMO_MEASURES, _record_consents
from data.ingest.importers import after_imports, import_files
from data.outputs.site import SiteError, build_site, load_catalogue
from data.services import accounts, consent, groups, schools
from data.services.access import Role, Viewer
from data.services.publications import find_publications, publish, published, withdraw
from metrics import parents_words as words
from metrics.publication import Publication
from metrics.text import WORD_JOINER

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Viewer(Role.ADMIN, None, "Data manager")
# staff whose names and emails must never reach the site (they publish and withdraw below)
LEADER_NAME, LEADER_EMAIL = "Ottoline Quarrendon-Vasquez", "o.quarrendon-vasquez@staff-only.example.org"
WITHDRAWER_NAME, WITHDRAWER_EMAIL = "Bartholomew Fennimore-Lusk", "b.fennimore-lusk@staff-only.example.org"
COMMENTARY = "Reading has been our shared focus this year.\n\nEvery school now runs a reading club."
REAL_MEASURES = ["attainment8", "basics_94", "overall_absence"]
REAL_PERIOD = "2018/19"
CY = FIXTURES / "site" / "cy.toml"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # a number as a reader sees it: '58.3', '7,579', '2025' of '2025/26'
MAX_PAGE = 100 * 1024


# ------------------------------------------------------------------------------------------ helpers


def _page_text(markup: str) -> str:
    """What a reader (or a screen reader) gets from a page: the text of every element, the SVGs' titles,
    descriptions and words included, entities read, spaces collapsed."""
    text = re.sub(r"</?(?:strong|a|span|em|b|i|abbr|code)\b[^>]*>", "", markup)  # inline: words run on
    text = re.sub(r"<[^>]+>", " ", text)  # every other tag out, its text kept
    return " ".join(html.unescape(text).split())


def _texts(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): _page_text(p.read_text(encoding="utf-8")) for p in site.rglob("*.html")}


def _all_values(obj: object) -> Iterator[object]:
    """Every value held in a publication's fields, recursively (dataclasses and tuples)."""
    if is_dataclass(obj):
        for f in fields(obj):
            yield from _all_values(getattr(obj, f.name))
    elif isinstance(obj, tuple | list):
        for x in obj:
            yield from _all_values(x)
    else:
        yield obj


def _numbers_of(pub: Publication) -> set[str]:
    """Every number a current publication may put on a page: those written in its fields (displays, sentences,
    names, postcodes, the period, dates), its cohorts and version, and counts up to its number of schools."""
    found: set[str] = set()
    for v in _all_values(pub):
        if isinstance(v, str):
            found |= set(NUMBER.findall(v))
            found |= set(NUMBER.findall(words.date_words(v) or "")) if re.match(r"\d{4}-\d\d-\d\d", v) else set()
        elif isinstance(v, bool) or v is None:
            continue
        elif isinstance(v, int):
            found.add(str(v))
    found |= {str(round(v.cohort)) for v in (*pub.school_values, *pub.group_values) if v.cohort}
    found |= {str(n) for n in range(len(pub.schools) + 1)}
    return found


def _fixed_numbers() -> set[str]:
    """Numbers in the fixed words: the site's catalogue and the shared sentences' own words (the glossary's
    '7 in 10', 'year 6')."""
    catalogue = load_catalogue()
    fixed = [*catalogue.messages.values(), *(t for _, _, t in words.GLOSSARY), *words.DFE_VERSION_WORDS.values()]
    return {n for text in fixed for n in NUMBER.findall(text)}


def _links(markup: str) -> list[str]:
    return re.findall(r'\s(?:href|src|data-index)="([^"]*)"', markup)


def _demarkdown(line: str) -> str:
    """A Markdown line of the Streamlit page as a reader sees it: no list or quote mark, no bold, no escapes."""
    line = re.sub(r"^\s*(?:[-*>](?=\s|$)|#{1,6}\s)\s*", "", line.replace("**", ""))
    line = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", line).replace(WORD_JOINER, "")
    return " ".join(line.split())


def _loose(text: str) -> str:
    """Text without colons: 'The partnership: 58%' on the Streamlit page is a summary list's key and value on the
    site ('The partnership 58%')."""
    return " ".join(text.replace(":", " ").split())


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "JOINTLY_DB": str(db)}, timeout=600)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------ the stores


@pytest.fixture(scope="module")
def demo(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the demo with four publications (two current partnerships, the flagship in two years) and one
    partnership whose only publication was withdrawn; its site built. The store is closed again (the command-line
    tests open it from another process)."""
    tmp = tmp_path_factory.mktemp("site")
    db = tmp / "demo.duckdb"
    copy_store(demo_master, db)
    with Store(db) as store:
        periods = schools.periods(store)
        latest, earlier = periods[-1], periods[-2]
        flagship = groups.find_group(store, FLAGSHIP_PARTNERSHIP).group_id
        frame = groups.groups(store, "partnership")
        others = [int(g) for g in frame.sort_values("members", ascending=False)["group_id"] if int(g) != flagship]
        second, gone = others[0], others[1]
        # the flagship's earlier year (its latest is the demo's own publication)
        _record_consents(store, ADMIN, flagship, earlier)
        pub, problems = publish(store, ADMIN, flagship, earlier, list(DEMO_MEASURES), {})
        assert pub is not None, problems
        # a second partnership's, published by a leader with an account, with commentary
        name = frame.loc[frame["group_id"] == second, "name"].iloc[0]
        assert accounts.add_user(store, "cli", email=LEADER_EMAIL, role="leader", group=second,
                                 display_name=LEADER_NAME) == []
        leader = Viewer(Role.LEADER, second, name=LEADER_NAME, email=LEADER_EMAIL)
        _record_consents(store, ADMIN, second, latest)
        pub, problems = publish(store, leader, second, latest, list(DEMO_MEASURES), {"attainment8": COMMENTARY})
        assert pub is not None, problems
        second_pid = pub.publication_id
        # a third partnership's, published, then withdrawn by another leader
        assert accounts.add_user(store, "cli", email=WITHDRAWER_EMAIL, role="leader", group=gone,
                                 display_name=WITHDRAWER_NAME) == []
        withdrawer = Viewer(Role.LEADER, gone, name=WITHDRAWER_NAME, email=WITHDRAWER_EMAIL)
        _record_consents(store, ADMIN, gone, latest)
        pub, problems = publish(store, withdrawer, gone, latest, list(DEMO_MEASURES), {})
        assert pub is not None, problems
        withdrawn = pub
        assert withdraw(store, withdrawer, pub.publication_id) == []
        current = [published(store, int(p["publication_id"])) for p in find_publications(store, "")]
        report = build_site(store, tmp / "site")
        actors = {r[0] for r in store.query("SELECT DISTINCT actor FROM audit_log") if r[0]}
        made = {r[0] for r in store.query("SELECT DISTINCT created_by FROM publications") if r[0]}
        changed = {r[0] for r in store.query("SELECT DISTINCT status_changed_by FROM publications") if r[0]}
        withdrawn_on = store.query("SELECT status_changed_at FROM publications WHERE publication_id = ?",
                                   [withdrawn.publication_id])[0][0]
    assert len(current) == 3
    return {"db": db, "tmp": tmp, "site": tmp / "site", "report": report, "current": current,
            "withdrawn": withdrawn, "withdrawn_on": words.date_words(withdrawn_on), "flagship": flagship,
            "second": second, "second_name": name, "second_pid": second_pid, "gone": gone, "latest": latest,
            "earlier": earlier, "staff": actors | made | changed}


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A partnership of North Yorkshire's four largest secondary schools publishing 2018/19 from the real files
    (as tests/e2e/test_site_browser.py builds it, here in-process)."""
    if not PERF.exists():
        pytest.fail(f"the real DfE files are missing: {PERF}")
    tmp = tmp_path_factory.mktemp("site-real")
    with Store(tmp / "real.duckdb") as store:
        reports = import_files(store, [PERF / "815_spine.csv"], REAL_PERIOD)
        reports += import_files(store, [PERF / "815_2019_ks4provisional.csv", PERF / "815_2019_census.csv"],
                                REAL_PERIOD)
        assert all(r.ok for r in reports), [r.summary() for r in reports]
        after_imports(store, reports)
        urns = [int(r[0]) for r in store.query(
            "SELECT urn FROM observations WHERE level = 'school' AND measure = 'attainment8' AND period = ? "
            "AND value IS NOT NULL ORDER BY denominator DESC NULLS LAST, urn LIMIT 4", [REAL_PERIOD])]
        assert len(urns) == 4
        gid = groups.create_group(store, "partnership", "North Yorkshire Secondary Partnership")
        groups.add_memberships(store, gid, urns, "2017-09-01")
        for urn in urns:
            assert consent.record_consent(store, ADMIN, gid, urn, True, note="test") == []
        pub, problems = publish(store, ADMIN, gid, REAL_PERIOD, REAL_MEASURES, {})
        assert pub is not None, problems
        report = build_site(store, tmp / "site")
    return {"site": tmp / "site", "report": report, "current": [pub], "gid": gid}


def _expected_files(current: list[Publication], withdrawn: list[tuple[int, str]], site: Path) -> set[str]:
    """Every file the specification lists for these publications (docs/parents-site.md, "Files")."""
    out = {"index.html", "schools.html", "measures.html", "404.html", "site.json"}
    out |= {p.relative_to(site).as_posix() for p in (site / "assets").iterdir()}
    for pub in current:
        folder = f"partnership/{pub.group_id}/{words.period_folder(pub.period)}"
        out |= {f"partnership/{pub.group_id}/index.html", f"{folder}/index.html", f"{folder}/results.csv"}
        out |= {f"{folder}/school/{s.urn}.html" for s in pub.schools}
    for gid, period in withdrawn:
        out.add(f"partnership/{gid}/{words.period_folder(period)}/index.html")
        if gid not in {p.group_id for p in current}:
            out.add(f"partnership/{gid}/index.html")
    return out


# ------------------------------------------------------------------------------------------ the files


@pytest.mark.parametrize("which", ["demo", "real"])
def test_the_site_has_every_file_listed_and_nothing_else(which: str, demo: dict, real: dict) -> None:
    world = demo if which == "demo" else real
    site, current = world["site"], world["current"]
    gone = [(demo["gone"], demo["latest"])] if which == "demo" else []
    assert set(_tree(site)) == _expected_files(current, gone, site)
    assets = sorted(p.name for p in (site / "assets").iterdir())
    assert {re.sub(r"\.[0-9a-f]{10}\.", ".#.", a) for a in assets} == {"search.#.js", "search.#.json", "site.#.css"}
    report = world["report"]
    assert (report.publications, report.withdrawn) == (len(current), len(gone))
    assert report.pages == sum(1 for _ in site.rglob("*.html")) and report.files == len(_tree(site))
    assert report.bytes == sum(len(b) for b in _tree(site).values())
    manifest = json.loads((site / "site.json").read_text())
    assert manifest["site"] == "jointly-parents-site"
    assert manifest["publications"] == sorted(p.publication_id for p in current)
    assert set(manifest["files"]) == set(_tree(site)) - {"site.json"}
    for pub in current:  # each CSV is the publication's own
        folder = site / "partnership" / str(pub.group_id) / words.period_folder(pub.period)
        assert (folder / "results.csv").read_bytes() == pub.csv_bytes()


def test_the_group_page_is_its_latest_year_and_links_the_others(demo: dict) -> None:
    site, gid = demo["site"], demo["flagship"]
    latest, earlier = words.period_folder(demo["latest"]), words.period_folder(demo["earlier"])
    group = (site / "partnership" / str(gid) / "index.html").read_text()
    year = (site / "partnership" / str(gid) / latest / "index.html").read_text()
    # the same words (the links differ only in their addresses); the titles differ, so each is its own
    assert _page_text(group.split("<main", 1)[1]) == _page_text(year.split("<main", 1)[1])
    assert re.search(r"<title>(.*?)</title>", group).group(1) != re.search(r"<title>(.*?)</title>", year).group(1)
    assert f'href="{earlier}/index.html"' in group and f'href="../{earlier}/index.html"' in year
    assert f'href="{latest}/results.csv"' in group and 'href="results.csv"' in year


@pytest.mark.parametrize("which", ["demo", "real"])
def test_every_link_inside_the_site_resolves(which: str, demo: dict, real: dict) -> None:
    site = (demo if which == "demo" else real)["site"]
    checked = 0
    for page in site.rglob("*.html"):
        markup = page.read_text()
        ids = set(re.findall(r'\sid="([^"]+)"', markup))
        for link in _links(markup):
            if re.match(r"(?i)https?:", link) or link.startswith("data:"):
                continue
            path, _, fragment = link.partition("#")
            if not path:  # a link within the page: its target is there
                assert fragment in ids, f"{page}: #{fragment}"
                continue
            target = (page.parent / path).resolve()
            assert target.is_file() and site.resolve() in target.parents, f"{page.relative_to(site)}: {link}"
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("which", ["demo", "real"])
def test_assets_are_named_by_their_content(which: str, demo: dict, real: dict) -> None:
    site = (demo if which == "demo" else real)["site"]
    for asset in (site / "assets").iterdir():
        digest = re.search(r"\.([0-9a-f]{10})\.", asset.name).group(1)
        assert hashlib.sha256(asset.read_bytes()).hexdigest()[:10] == digest, asset.name


@pytest.mark.parametrize("which", ["demo", "real"])
def test_no_inline_script_or_style_and_no_other_host(which: str, demo: dict, real: dict) -> None:
    world = demo if which == "demo" else real
    allowed = {u for pub in world["current"] for s in pub.schools for u in (s.website, s.ofsted_url) if u}
    allowed |= {f"https://{u}" for u in allowed if not u.startswith("http")}  # GIAS gives 'www.x.sch.uk'
    outside = 0
    for page in world["site"].rglob("*.html"):
        markup = page.read_text()
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", markup), page  # every script is a file
        assert not re.search(r"\sstyle\s*=", markup, re.IGNORECASE) and "<style" not in markup, page
        assert not re.search(r"\son[a-z]+\s*=", markup, re.IGNORECASE), page  # no inline event handlers
        for url in re.findall(r"(?i)https?://[^\s\"'<>]+", markup):
            if url == "http://www.w3.org/2000/svg":  # the SVG namespace: a name, never fetched
                continue
            assert html.unescape(url) in allowed, f"{page}: {url}"
            assert re.search(rf'<a href="{re.escape(url)}">', markup), f"{page}: {url} outside a link"
            outside += 1
        for tag in re.findall(r"<(?:link|script|img|iframe|source|object|embed)\b[^>]*>", markup):
            assert not re.search(r"(?i)(?:src|href)=\"(?:https?:)?//", tag), f"{page}: {tag}"
    css = next((world["site"] / "assets").glob("site.*.css")).read_text()
    assert "url(" not in css and "@import" not in css  # no font or image from anywhere
    assert outside > 0, "the school pages link the schools' own websites and Ofsted"


@pytest.mark.parametrize("which", ["demo", "real"])
def test_every_page_with_its_css_is_under_100_kb(which: str, demo: dict, real: dict) -> None:
    site = (demo if which == "demo" else real)["site"]
    css = next((site / "assets").glob("site.*.css")).stat().st_size
    sizes = {p.relative_to(site).as_posix(): p.stat().st_size + css for p in site.rglob("*.html")}
    assert max(sizes.values()) < MAX_PAGE, max(sizes.items(), key=lambda x: x[1])


# ------------------------------------------------------------------------------------------ only published facts


@pytest.mark.parametrize("which", ["demo", "real"])
def test_a_crawl_finds_no_number_that_is_not_a_current_publications(which: str, demo: dict, real: dict) -> None:
    world = demo if which == "demo" else real
    allowed = _fixed_numbers().union(*(_numbers_of(p) for p in world["current"]))
    built = json.loads((world["site"] / "site.json").read_text())["built_at"]
    allowed |= set(NUMBER.findall(words.date_words(built)))
    if which == "demo":  # the withdrawn notice: its year and the day it was withdrawn
        allowed |= set(NUMBER.findall(f"{demo['latest']} {demo['withdrawn_on']}"))
    for page, text in _texts(world["site"]).items():
        stray = sorted(set(NUMBER.findall(text)) - allowed)
        assert not stray, f"{page}: {stray}"


def test_withdrawn_results_are_gone_and_a_notice_is_at_their_address(demo: dict) -> None:
    site, pub = demo["site"], demo["withdrawn"]
    everything = " ".join(_texts(site).values())
    # what only the withdrawn publication said: its schools' names (its numbers: the crawl test)
    names = {s.name for s in pub.schools} - {s.name for p in demo["current"] for s in p.schools}
    assert names and not [n for n in names if n in everything]
    notice = f"These results were withdrawn by the partnership on {demo['withdrawn_on']}."
    for path in (f"partnership/{pub.group_id}/{words.period_folder(pub.period)}/index.html",
                 f"partnership/{pub.group_id}/index.html"):
        text = _page_text((site / path).read_text())
        assert notice in text, path
        built = json.loads((site / "site.json").read_text())["built_at"]
        said = f"{pub.period} {demo['withdrawn_on']} {words.date_words(built)}"
        assert set(NUMBER.findall(text)) <= set(NUMBER.findall(said)) | _fixed_numbers(), path  # no values
    assert not (site / "partnership" / str(pub.group_id) / words.period_folder(pub.period) / "results.csv").exists()
    assert pub.group_name not in _page_text((site / "index.html").read_text())


def test_a_rebuild_after_a_withdrawal_removes_its_pages_and_keeps_the_site_before(demo: dict, tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    copy_store(demo["db"], db)
    out = tmp_path / "site"
    with Store(db) as store:
        build_site(store, out)
        before = _tree(out)
        folder = f"partnership/{demo['second']}/{words.period_folder(demo['latest'])}"
        assert f"{folder}/results.csv" in before
        assert withdraw(store, ADMIN, demo["second_pid"]) == []
        report = build_site(store, out)
    after = _tree(out)
    assert report.publications == 2 and report.withdrawn == 2
    assert not [p for p in after if p.startswith(f"{folder}/school/") or p == f"{folder}/results.csv"]
    text = _page_text((out / folder / "index.html").read_text())
    assert "These results were withdrawn by the partnership on" in text
    assert _tree(tmp_path / "site.previous") == before, "the site before is kept whole as OUT.previous"
    assert not [p for p in tmp_path.iterdir() if ".building-" in p.name], "no temporary folder is left"


def test_no_staff_name_or_email_is_anywhere_in_the_site(demo: dict) -> None:
    staff = {LEADER_NAME, LEADER_EMAIL, WITHDRAWER_NAME, WITHDRAWER_EMAIL, "Data manager"} | demo["staff"]
    assert LEADER_EMAIL in " ".join(demo["staff"]), "the leader's account is recorded as who published"
    # each actor whole, and its name and email apart ('Name <email>'); the tools' own names ('cli', 'demo') are
    # no one's
    parts = {p.strip() for who in staff for p in (who, *re.split(r"[<>]", who)) if len(p.strip()) > 4}
    for path, body in _tree(demo["site"]).items():
        text = body.decode("utf-8-sig", errors="replace").lower()
        found = [p for p in parts if re.search(rf"(?<!\w){re.escape(p.lower())}(?!\w)", text)]
        assert not found, f"{path}: {found}"


# ------------------------------------------------------------------------------------------ the same words


def _streamlit_lines(pub: Publication, school: int | None = None) -> list[str]:
    """Every line of text the Streamlit parents' page shows for the publication (or one school's page), as a
    reader sees it."""
    at = open_parents_page(pub.publication_id, school)
    texts = [e.value for e in at.main if isinstance(getattr(e, "value", None), str)]
    # st.html (the school's links) is HTML: its reader sees the words, not the tags
    texts = [html.unescape(re.sub(r"<[^>]+>", " ", t)) if t.lstrip().startswith("<") else t for t in texts]
    texts = texts[:texts.index("---")]  # the divider: the page's search below it is not the publication
    return [line for t in texts for raw in t.replace("  \n", "\n").splitlines() if (line := _demarkdown(raw))]


def test_the_sites_words_are_the_streamlit_pages(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sentence the Streamlit parents' page shows for the demo's publication, and for one school's page,
    appears in the site's page for it: both take their sentences from metrics.parents_words."""
    pub = next(p for p in demo["current"] if p.group_id == demo["flagship"] and p.period == demo["latest"])
    folder = demo["site"] / "partnership" / str(pub.group_id) / words.period_folder(pub.period)
    heads = {f"{i.group_display} {i.label}" + (f" · England {i.national_display}" if i.national_display else "")
             : i for i in words.headline_items(pub)}
    school = next(s for s in sorted(pub.schools, key=lambda s: s.urn) if s.phase == "primary")
    checked = 0
    with app_on(demo["db"], monkeypatch):
        for urn, page in ((None, folder / "index.html"), (school.urn, folder / "school" / f"{school.urn}.html")):
            site = _loose(_page_text(page.read_text()))
            for line in _streamlit_lines(pub, urn):
                if line in ("[Skip the map](#the-results)", "Results for parents", "Find another partnership") or \
                        line.startswith(("Touch or hover", "Groups of schools")):
                    continue  # the Streamlit page's own: its map, its search (the site's index page has these)
                if line in heads:  # a headline: the site's summary list has its label, then its values
                    item = heads[line]
                    assert _loose(f"{item.label} {item.group_display} · England {item.national_display}") in site
                elif line.startswith(f"{words.NO_RESULT_WORDS}"):  # one line for the Streamlit list, a row each
                    names = line.split(": ", 1)[1].split(", ")
                    assert all(_loose(f"{n}: {line.split(':')[0]}") in site for n in names), line
                elif line.startswith(f"{words.THE_PARTNERSHIP}: "):  # the Streamlit line; the site's summary list
                    assert all(_loose(part) in site for part in line.split(" · ")), line
                else:
                    assert _loose(line) in site, line
                checked += 1
    assert checked > 40


def test_the_shared_sentences_are_on_the_site(demo: dict) -> None:
    """The sentences metrics.parents_words makes, plain, are on the site's pages word for word (the Streamlit page
    shows the same functions' words, escaped for Markdown: tests/app/test_parents_page.py)."""
    for pub in demo["current"]:
        folder = demo["site"] / "partnership" / str(pub.group_id) / words.period_folder(pub.period)
        page = _page_text((folder / "index.html").read_text())
        said = [words.year_words(pub), words.schools_words(pub), words.plain(words.about_words(pub, preview=False)),
                *(words.plain(line) for i in pub.items for line in words.comparison_lines(i)),
                *(words.plain(words.gap_words(g.sentence)) for g in pub.gaps if g.sentence),
                *(f"{term} {definition}" for term, definition in words.glossary_terms(pub)),
                *(words.plain(words.school_line(s)) for s in pub.schools)]
        if pub.left_out_words:
            said.append(pub.left_out_words)
        for sentence in said:
            assert " ".join(sentence.split()) in page, sentence
        for school in pub.schools:
            text = _page_text((folder / "school" / f"{school.urn}.html").read_text())
            shown, not_for = words.school_items(pub, school.urn)
            assert words.school_where(school) in text
            for _, pairs in shown:
                for item, v in pairs:
                    own, others = words.school_value_words(item, v)
                    assert words.plain(own) in text and others in text
                    for g in words.school_group_values(pub, item, school.urn):
                        assert words.group_value_words(g) in text
            assert words.not_on_page_words(not_for) in text
    commentary = next(p for p in demo["current"] if p.group_id == demo["second"])
    page = (demo["site"] / "partnership" / str(commentary.group_id) / "index.html").read_text()
    assert "<blockquote" in page and all(html.escape(x, quote=True) in page for x in COMMENTARY.split("\n\n"))


# ------------------------------------------------------------------------------------------ words in another language


def test_a_second_catalogue_renders(demo: dict, tmp_path: Path) -> None:
    with Store(demo["db"], read_only=True) as store:
        build_site(store, tmp_path / "cy", messages=CY)
    cy = load_catalogue(CY)
    index = (tmp_path / "cy" / "index.html").read_text()
    text = _page_text(index)
    assert '<html lang="cy">' in index
    assert _page_text(re.search(r"<title>.*?</title>", index).group(0)) == f"{cy('index_title')} – {cy.site_name}"
    assert cy("skip_link") in text and "Skip to main content" not in text and cy("index_a_to_z") in text
    page = (tmp_path / "cy" / "partnership" / str(demo["flagship"]) / "index.html").read_text()
    text = _page_text(page)
    assert '<html lang="cy">' in page
    assert all(cy(k) in text for k in ("show_table", "about_heading", "england", "the_partnership"))
    assert "Lloegr" in text and "Show the numbers as a table" not in text


def test_the_command_writes_the_site_and_says_what_it_wrote(demo: dict, tmp_path: Path) -> None:
    done = _cli(demo["db"], "publish-site", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"Wrote \d+ pages \(\d+ files, [\d,]+ KB\) for 3 publications and 1 withdrawal to "
                        rf"{re.escape(str(tmp_path / 'out'))}\n", done.stdout), done.stdout
    assert (tmp_path / "out" / "site.json").exists()
    again = _cli(demo["db"], "publish-site", str(tmp_path / "out"))
    assert again.returncode == 0 and (tmp_path / "out.previous" / "site.json").exists()


@pytest.mark.parametrize(("text", "said"), [
    ('lang = "cy"\n[messages]\nskip_link = "Neidio"\nno_such_key = "x"\n',
     r"line 4: unknown message key 'no_such_key'"),
    ('lang = "cy"\n[messages]\nbuilt_on = "Adeiladwyd ar {diwrnod}."\n',
     r"line 3: the message 'built_on' must use \{date\}"),
    ('lang = "cy"\n[messages\nskip_link = "Neidio"\n', r"not a valid TOML file: .*line 2"),
    ('lang = "not a tag!"\n', r"line 1: lang must be a language tag"),
], ids=["unknown key", "placeholder", "bad TOML", "bad lang"])
def test_a_bad_messages_file_is_exit_2_naming_the_file(demo: dict, tmp_path: Path, text: str, said: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    done = _cli(demo["db"], "publish-site", str(tmp_path / "out"), "--messages", str(bad))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert re.search(rf"^error: {re.escape(str(bad))}, {said}", done.stderr) or \
        re.search(rf"^error: {re.escape(str(bad))}: {said}", done.stderr), done.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_site_is_refused_and_left_as_it_was(demo: dict, tmp_path: Path) -> None:
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"not a site")
    done = _cli(demo["db"], "publish-site", str(mine))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "holds files that are not a Jointly site" in done.stderr and str(mine) in done.stderr
    assert _tree(mine) == {"holiday.jpg": b"not a site"} and not (tmp_path / "photos.previous").exists()
    file = tmp_path / "a-file"
    file.write_text("x")
    done = _cli(demo["db"], "publish-site", str(file))
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr and file.read_text() == "x"
    with Store(demo["db"], read_only=True) as store, pytest.raises(SiteError, match="not a Jointly site"):
        build_site(store, mine)
    assert not [p for p in tmp_path.iterdir() if ".building-" in p.name]


def test_an_empty_folder_becomes_the_site(demo: dict, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with Store(demo["db"], read_only=True) as store:
        build_site(store, tmp_path / "empty")
    assert (tmp_path / "empty" / "index.html").exists() and not (tmp_path / "empty.previous").exists()
