"""`python -m data publish-site OUT`: the parents' static website, from the current publications only.

Read: each current publication (status 'published') through data.services.publications.published, the frozen
snapshot parents may read, never the live results; and for each (group, year) whose versions were all withdrawn,
its name and the day, for the notice. Written: the pages (Jinja2, autoescaped) and the CSVs into a sibling folder,
then swapped in for OUT, the site it replaces kept as OUT.previous. A folder that holds anything but a site of ours
(site.json with our marker) is never replaced. docs/parents-site.md describes every file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from data.db.store import Store
from data.outputs.site.catalogue import Catalogue, SiteError, load_catalogue
from data.services.publications import published
from metrics import parents_words as words
from metrics.publication import Publication, PublishedItem, PublishedSchool, PublishedSchoolValue, website_url

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MARKER = "jointly-parents-site"  # site.json's "site": a folder with it is ours to replace
MANIFEST = "site.json"
PREVIOUS = ".previous"  # OUT.previous: the one backup
CHART_WIDTH = 440  # charts.svg's units across (its text is 20 of them): 16 px on a 360 px phone, 22 px at 480 px
_NUMBER = re.compile(r"[-+−]?\d[\d,]*(?:\.\d+)?")  # the first number in a display: '−1.5', '£7,579', '58.3%'


@dataclass(frozen=True)
class SiteReport:
    """What a build wrote: HTML pages, every file (pages, CSVs, assets, the manifest), their bytes, the current
    publications and the withdrawn (group, year) notices."""

    pages: int
    files: int
    bytes: int
    publications: int
    withdrawn: int
    out: Path

    def summary(self) -> str:
        """'Wrote 25 pages (29 files, 312 KB) for 3 publications and 1 withdrawal to OUT'."""
        pubs = words.plural(self.publications, "publication")
        gone = words.plural(self.withdrawn, "withdrawal")
        return (f"Wrote {self.pages} pages ({self.files} files, {math.ceil(self.bytes / 1024):,} KB) for {pubs} and "
                f"{gone} to {self.out}")


@dataclass(frozen=True)
class Withdrawn:
    """A (group, year) with no current version: its last name and the day its last version was withdrawn."""

    group_id: int
    group_name: str
    period: str
    on: str | None


@dataclass
class _Files:
    """The site being written, in its temporary folder: every file's path and bytes, for the manifest."""

    root: Path
    written: dict[str, bytes] = field(default_factory=dict)

    def write(self, path: str, data: bytes | str) -> None:
        body = data.encode("utf-8") if isinstance(data, str) else data
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        self.written[path] = body


# ------------------------------------------------------------------------------------------ reading


def _current_and_withdrawn(store: Store) -> tuple[list[Publication], list[Withdrawn]]:
    """The current publications (group name, then newest year first) and the withdrawn (group, year)s."""
    rows = store.query("SELECT publication_id, group_id, group_name, period, version, status, status_changed_at "
                       "FROM publications ORDER BY group_id, period, version")
    by_year: dict[tuple[int, str], list[tuple]] = {}
    for r in rows:
        by_year.setdefault((int(r[1]), str(r[3])), []).append(r)
    current: list[Publication] = []
    gone: list[Withdrawn] = []
    for (gid, period), versions in by_year.items():
        live = [r for r in versions if r[5] == "published"]
        for r in live:
            pub = published(store, int(r[0]))
            if pub is not None:  # withdrawn since the list was read: the next build says so
                current.append(pub)
        withdrawn = [r for r in versions if r[5] == "withdrawn"]
        if not live and withdrawn:
            days = [d for d in (r[6] for r in withdrawn) if d is not None]
            gone.append(Withdrawn(gid, str(versions[-1][2]), period, words.date_words(max(days, key=str))
                                  if days else None))
    current.sort(key=lambda p: (p.group_name.lower(), p.group_id, _descending(p.period)))
    return current, gone


def _descending(period: str) -> tuple[int, ...]:
    return tuple(-int(x) for x in re.findall(r"\d+", period))


# ------------------------------------------------------------------------------------------ pieces of pages


def _hashed(kind: str, suffix: str, body: bytes) -> str:
    """assets/<kind>.<first 10 hex of sha256>.<suffix>: a new name whenever the content changes."""
    return f"assets/{kind}.{hashlib.sha256(body).hexdigest()[:10]}.{suffix}"


def _number(display: str | None) -> float | None:
    """The value a display shows ('61.2%' → 61.2, '−0.03' → -0.03), or None: where England's line goes on a chart
    (a publication keeps England's value only in words)."""
    match = _NUMBER.search(display or "")
    if not match:
        return None
    try:
        return float(match.group(0).replace("−", "-").replace(",", ""))
    except ValueError:
        return None


def _lower_is_better(measure: str) -> bool:
    """Whether a national measure is better lower (absence): the registry's declaration, not a result. A local
    measure is not in the national registry: its chart says nothing either way."""
    from metrics.registry import Polarity, load_registry

    registry = load_registry()
    return measure in registry.ids() and registry.get(measure).polarity is Polarity.LOWER_BETTER


def _chart(item: PublishedItem, rows: Sequence[PublishedSchoolValue], chart_id: str, t: Catalogue) -> Markup:
    """Each school's value of one measure as an inline SVG (charts.svg.bar_chart), or '' when there is no school
    to draw. Marked safe for the template only because charts.svg escapes every word it writes (its own
    `text()`), and builds the rest from numbers and fixed names."""
    from charts.svg import Bar, Reference, bar_chart

    bars = [Bar(label=v.school_name, value=None if v.suppressed else v.value, display=_result_words(v),
                note=(words.pupils_words(v.cohort).strip(" ()") or None) if not v.suppressed else None)
            for v in rows]
    refs = []
    national = _number(item.national_display)
    if national is not None:
        refs.append(Reference(t("england"), national, item.national_display or ""))
    if not item.suppressed and item.group_value is not None and item.group_display:
        refs.append(Reference(t("the_partnership"), item.group_value, item.group_display))
    svg = bar_chart(bars, title=t("chart_title", label=item.label), id_prefix=chart_id, references=refs,
                    lower_is_better=_lower_is_better(item.measure), width=CHART_WIDTH)
    return Markup(svg)  # noqa: S704 - charts.svg escapes every text it writes (see the docstring)


def _result_words(v: PublishedSchoolValue) -> str:
    """A school's value in a table cell or on a chart: '58%', 'Not shown: fewer than 6 pupils', 'No result (…)'."""
    if v.suppressed or v.value is not None:
        return words.value_words(v)
    return words.NO_RESULT_WORDS + (f" ({v.reason})" if v.reason else "")


def _school_rows(values: Iterable[PublishedSchoolValue]) -> list[PublishedSchoolValue]:
    """The schools a measure is for, by name (a primary school is not listed for GCSEs at all)."""
    return sorted((v for v in values if v.applies), key=lambda v: str(v.school_name))


def _web(url: str | None) -> str | None:
    """A school's address as a link may carry it (metrics.parents_words.web_address, as the Streamlit page's)."""
    return words.web_address(website_url(url)) if url else None


def _school_links(school: PublishedSchool, t: Catalogue) -> list[tuple[str, str]]:
    """(address, words) of the school's website and its Ofsted reports: the only links that leave the site."""
    out = []
    if site := _web(school.website):
        out.append((site, t("school_website", school=school.name, host=words.address_host(site))))
    if ofsted := _web(school.ofsted_url):
        out.append((ofsted, t("school_ofsted", school=school.name)))
    return out


def _letter(name: str) -> str:
    first = next((c for c in name.upper() if c.isalnum()), "#")
    return first if "A" <= first <= "Z" else "#"


def _by_letter(entries: Iterable[dict], name: Callable[[dict], str]) -> list[tuple[str, list[dict]]]:
    out: dict[str, list[dict]] = {}
    for e in sorted(entries, key=lambda e: (name(e).lower(), str(e.get("url", "")))):
        out.setdefault(_letter(name(e)), []).append(e)
    return sorted(out.items(), key=lambda x: (x[0] == "#", x[0]))


# ------------------------------------------------------------------------------------------ the build


class _Site:
    """One build: the catalogue, the templates, the assets' names, and the pages as they are rendered."""

    def __init__(self, files: _Files, t: Catalogue, built: datetime) -> None:
        self.files, self.t, self.built = files, t, built
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=False)
        self.env.globals.update(t=t, site_name=t.site_name, lang=t.lang, built_on=words.date_words(built),
                                plain=words.plain)
        self.env.globals["m"] = self.env.get_template("macros.html").module  # its macros, on every page
        css = (STATIC / "site.css").read_bytes()
        js = (STATIC / "search.js").read_bytes()
        self.css, self.js = _hashed("site", "css", css), _hashed("search", "js", js)
        files.write(self.css, css)
        files.write(self.js, js)
        self.pages = 0
        self.search_index = ""

    def page(self, path: str, template: str, **context: object) -> None:
        depth = path.count("/")
        html = self.env.get_template(template).render(root="../" * depth, css=self.css, js=self.js,
                                                      search_index=self.search_index, **context)
        self.files.write(path, re.sub(r"\n\s*\n", "\n", html))  # blank lines left by template tags
        self.pages += 1


def _publication_context(pub: Publication, others: Sequence[Publication], group_prefix: str,
                         t: Catalogue) -> dict:
    """What a publication's page shows (its year page and, for the latest year, the group's own page)."""
    year = words.period_folder(pub.period)
    base = "" if group_prefix else f"{year}/"  # from the year's own page, or from the group's (one folder up)
    values: dict[str, list[PublishedSchoolValue]] = {}
    for v in pub.school_values:
        values.setdefault(v.measure, []).append(v)
    sections = []
    n = 0
    for heading, items in words.by_perspective(pub.items):
        measures = []
        for item in items:
            n += 1
            rows = _school_rows(values.get(item.measure, []))
            gap = pub.gap(item.measure)
            lines = [t("line_england", value=item.national_display)] if _number(item.national_display) is not None \
                else []
            if not item.suppressed and item.group_value is not None and item.group_display:
                lines.append(t("line_partnership", value=item.group_display))
            measures.append({
                "n": n, "item": item, "definition": words.definition_of(item),
                "partnership": words.partnership_value_words(item),
                "comparisons": words.comparison_lines(item),
                "gap": words.gap_words(gap.sentence) if gap is not None and gap.sentence else None,
                "commentary": _paragraphs(words.commentary_lines(item)),
                "rows": [{"name": v.school_name, "result": _result_words(v),
                          "pupils": round(v.cohort) if not v.suppressed and v.cohort and v.cohort > 0 else None}
                         for v in rows],
                "chart": _chart(item, rows, f"chart-{n}", t) if rows else Markup(""),
                "chart_lines": (t("chart_caption_line", line=lines[0]) if len(lines) == 1 else
                                t("chart_caption_lines", first=lines[0], second=lines[1]) if lines else ""),
            })
        sections.append({"heading": heading, "anchor": f"perspective-{len(sections) + 1}", "measures": measures})
    return {
        "pub": pub, "title": words.title_words(pub), "base": base, "group_prefix": group_prefix,
        "year_words": words.year_words(pub), "status_help": words.status_help(pub),
        "schools_words": words.schools_words(pub), "headlines": words.headline_items(pub),
        "about": words.about_words(pub, preview=False),
        "schools": [{"line": words.school_line(s), "url": f"{base}school/{s.urn}.html"}
                    for s in sorted(pub.schools, key=lambda s: str(s.name))],
        "sections": sections, "glossary": _glossary(pub),
        "csv": f"{base}results.csv", "csv_name": words.csv_file_name(pub), "csv_bytes": len(pub.csv_bytes()),
        "others": [{"period": o.period, "url": f"{group_prefix}{words.period_folder(o.period)}/index.html"}
                   for o in others if o.period != pub.period],
    }


def _paragraphs(lines: Sequence[str]) -> list[str]:
    """The commentary's paragraphs: lines run together, a blank line between paragraphs."""
    out, now = [], []
    for line in [*lines, ""]:
        if line:
            now.append(line.strip())
        elif now:
            out.append(" ".join(now))
            now = []
    return out


def _school_context(pub: Publication, school: PublishedSchool, t: Catalogue) -> dict:
    shown, not_for = words.school_items(pub, school.urn)
    sections = []
    for heading, pairs in shown:
        measures = []
        for item, v in pairs:
            own, others = words.school_value_words(item, v)
            measures.append({"item": item, "own": own, "others": others,
                             "groups": [words.group_value_words(g) for g in
                                        words.school_group_values(pub, item, school.urn)],
                             "definition": words.definition_of(item)})
        sections.append({"heading": heading, "measures": measures})
    return {"pub": pub, "school": school, "title": words.title_words(pub), "year_words": words.year_words(pub),
            "where": words.school_where(school), "links": _school_links(school, t), "sections": sections,
            "not_for": words.not_on_page_words(not_for), "glossary": _glossary(pub)}


def _glossary(pub: Publication) -> list[tuple[str, str]]:
    """The words the publication uses, explained, and DfE's status of its figures: on its page and each school's,
    as on the Streamlit page."""
    terms = words.glossary_terms(pub)
    if status := words.status_term(pub):
        terms.append(status)
    return terms


def _write_publications(site: _Site, current: list[Publication], gone: list[Withdrawn]) -> tuple[list, list]:
    """Every publication's pages, CSV and school pages, and the withdrawn notices; (index entries, schools)."""
    t = site.t
    groups: dict[int, list[Publication]] = {}
    for pub in current:
        groups.setdefault(pub.group_id, []).append(pub)  # newest year first (the order read)
    entries, schools = [], []
    for gid, pubs in groups.items():
        for pub in pubs:
            year = words.period_folder(pub.period)
            folder = f"partnership/{gid}/{year}"
            site.page(f"{folder}/index.html", "publication.html", **_publication_context(pub, pubs, "../", t))
            site.files.write(f"{folder}/results.csv", pub.csv_bytes())
            for school in pub.schools:
                site.page(f"{folder}/school/{school.urn}.html", "school.html", **_school_context(pub, school, t),
                          page_title=t("school_title", school=school.name, year=pub.period),
                          partnership_url="../index.html")
                schools.append({"name": school.name, "where": ", ".join(x for x in (school.town, school.postcode) if x),
                                "group": pub.group_name, "period": pub.period, "latest": pub is pubs[0],
                                "url": f"{folder}/school/{school.urn}.html"})
        latest = pubs[0]
        context = _publication_context(latest, pubs, "", t)
        site.page(f"partnership/{gid}/index.html", "publication.html", **context,
                  page_title=t("latest_title", title=context["title"]))
        towns = sorted({s.town for s in latest.schools if s.town})
        entries.append({"name": latest.group_name, "url": f"partnership/{gid}/index.html", "period": latest.period,
                        "schools": len(latest.schools), "towns": towns,
                        "school_names": sorted(s.name for s in latest.schools),
                        "postcodes": sorted({s.postcode for s in latest.schools if s.postcode})})
    for w in gone:
        notice = {"notice": w, "title": t("withdrawn_title", group=w.group_name, year=w.period)}
        site.page(f"partnership/{w.group_id}/{words.period_folder(w.period)}/index.html", "withdrawn.html", **notice)
        if w.group_id not in groups:
            site.page(f"partnership/{w.group_id}/index.html", "withdrawn.html", **notice,
                      page_title=t("latest_title", title=notice["title"]))
    return entries, schools


def _measures(current: Sequence[Publication]) -> tuple[list[dict], list[tuple[str, str]]]:
    """Every measure on the site (its latest definition) by label, and every glossary term any page explains."""
    seen: dict[str, dict] = {}
    for pub in sorted(current, key=lambda p: p.period):  # a later year's definition replaces an earlier one
        for item in pub.items:
            seen[item.measure] = {"label": item.label, "definition": words.definition_of(item),
                                  "phases": words.phases_words(item.phases) if item.phases else ""}
    used = {term for pub in current for term, _ in words.glossary_terms(pub)}
    terms = [(term, said) for term, _, said in words.GLOSSARY if term in used]
    statuses = {s for pub in current if (s := words.dfe_status(pub))}
    terms += [(f"{s.capitalize()} results", words.DFE_VERSION_WORDS[s]) for s in words.DFE_VERSION_WORDS
              if s in statuses]
    return sorted(seen.values(), key=lambda m: m["label"].lower()), terms


def _render(site: _Site, current: list[Publication], gone: list[Withdrawn]) -> None:
    entries, schools = _write_publications(site, current, gone)
    index = [{"name": e["name"], "url": e["url"], "year": e["period"], "schools": e["school_names"],
              "towns": e["towns"], "postcodes": e["postcodes"]} for e in entries]
    body = json.dumps(index, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    site.search_index = _hashed("search", "json", body)
    site.files.write(site.search_index, body)
    site.page("index.html", "index.html", title=site.t("index_title"), letters=_by_letter(entries, lambda e:
                                                                                             e["name"]))
    site.page("schools.html", "schools.html", title=site.t("schools_title"),
              letters=_by_letter(schools, lambda e: e["name"]))
    measures, terms = _measures(current)
    site.page("measures.html", "measures.html", title=site.t("measures_title"), measures=measures, terms=terms)
    site.page("404.html", "404.html", title=site.t("not_found_title"))


# ------------------------------------------------------------------------------------------ writing it out


def _ours(folder: Path) -> bool:
    """Whether `folder` is a site this builder wrote (its manifest carries our marker)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("site") == MARKER


def _check_target(out: Path) -> Path:
    """OUT as the site's folder, refused when it is a file or holds anything but a site of ours (and the same for
    OUT.previous, which a build replaces)."""
    backup = out.with_name(out.name + PREVIOUS)
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is a file, not a folder: name a folder for the site; nothing was written")
    if out.is_dir() and any(out.iterdir()) and not _ours(out):
        raise SiteError(f"{out} holds files that are not a Jointly site (it has no {MANIFEST} of ours): name an "
                        "empty or new folder, or a site this command wrote; nothing was written")
    if backup.exists() and (not backup.is_dir() or not _ours(backup)):
        raise SiteError(f"{backup} is in the way of the previous site's backup and is not a Jointly site: move it "
                        "away; nothing was written")
    return backup


def _swap(building: Path, out: Path, backup: Path) -> None:
    """The new site in place of the old: the old one becomes OUT.previous (the one before it is removed). Two
    renames in one folder: a reader sees the old site or the new, whole, and for an instant none."""
    if backup.exists():
        shutil.rmtree(backup)
    if out.is_dir() and any(out.iterdir()):
        out.rename(backup)
    elif out.is_dir():
        out.rmdir()  # an empty folder made for the site
    building.rename(out)


def build_site(store: Store, out: str | Path, *, messages: str | Path | None = None) -> SiteReport:
    """Write the parents' static site of every current publication in `store` to the folder `out`.

    `messages` lays a translation of the fixed words over English (data/outputs/site/catalogue.py). Raises
    SiteError (a StoreError: the command line's exit 2) for a bad messages file or a folder that is not ours,
    before anything is written; a failure while building leaves OUT as it was.
    """
    t = load_catalogue(messages)
    out = Path(out).absolute()
    backup = _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    current, gone = _current_and_withdrawn(store)
    built = datetime.now(UTC).replace(microsecond=0)
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        os.chmod(building, 0o755)  # mkdtemp's folder is private; a web server must read the site
        files = _Files(building)
        site = _Site(files, t, built)
        _render(site, current, gone)
        manifest = {"site": MARKER, "version": 1, "built_at": built.isoformat(), "lang": t.lang,
                    "publications": sorted(int(p.publication_id) for p in current if p.publication_id is not None),
                    "withdrawn": [{"group_id": w.group_id, "period": w.period} for w in gone],
                    "files": {path: hashlib.sha256(body).hexdigest() for path, body in sorted(files.written.items())}}
        files.write(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
        _swap(building, out, backup)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return SiteReport(pages=site.pages, files=len(files.written), bytes=sum(len(b) for b in files.written.values()),
                      publications=len(current), withdrawn=len(gone), out=out)
