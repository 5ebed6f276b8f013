"""The parents' page body: one publication, in plain words, readable on a phone.

Drawn both for the public page and for the leaders' preview, so that what a leader previews is exactly what
parents will see. Everything here is read from the frozen Publication: never from the live store, which may
hold results the group did not choose to publish.

Phone-first: one column throughout (no st.columns, no wide tables); each school's values are a short list.
Every piece of text that came from people (names, measure labels, the leaders' commentary) is escaped, so it
is shown as written and never read as Markdown (links, images, maths or colours).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
import streamlit as st

from charts.maps import schools_map
from metrics.publication import Publication, PublishedItem, PublishedSchool, PublishedSchoolValue
from metrics.registry import Perspective
from metrics.text import markdown_text

PREVIEW_BANNER = "Preview — this is exactly what parents will see once you publish."
DOWNLOAD_LABEL = "Download these results (CSV)"
NOT_SHOWN = "Not shown"
EACH_SCHOOL = "Each school"
GLOSSARY_TITLE = "What the words on this page mean"
OTHER_RESULTS = "Other results"


PHASE_WORDS = {
    "primary": "Primary school",
    "secondary": "Secondary school",
    "all_through": "All-through school (primary and secondary)",
    "all-through": "All-through school (primary and secondary)",
    "special": "Special school",
    "alternative": "Alternative provision",
    "nursery": "Nursery school",
    "post16": "Sixth form or college",
    "16 plus": "Sixth form or college",
    "middle deemed primary": "Middle school",
    "middle deemed secondary": "Middle school",
    "other": "School",
}

# Plain definitions of the words measures use. A term is explained when any of its cues appears in the
# published labels, descriptions or comparisons (case-insensitive); the last few are always explained.
GLOSSARY: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Progress 8", ("progress 8",),
     "How much progress pupils made between the end of primary school and their GCSEs, compared with pupils "
     "across England who started secondary school at a similar level. 0 is average; above 0 means more "
     "progress than average, below 0 means less."),
    ("Attainment 8", ("attainment 8",),
     "The average of each pupil's best eight GCSE results (English and maths count twice), on the 9 to 1 "
     "grade scale."),
    ("GCSE grades 4 and 5", ("grade 4", "grade 5", "4+", "5+"),
     "GCSEs are graded from 9 (highest) to 1. Grade 4 is a standard pass; grade 5 is a strong pass."),
    ("EBacc (English Baccalaureate)", ("ebacc", "baccalaureate"),
     "A set of GCSE subjects: English, maths, science, history or geography, and a language. It is not a "
     "separate qualification."),
    ("Key stage 2 (KS2)", ("ks2", "key stage 2", "year 6", "primary"),
     "The last four years of primary school (years 3 to 6). Children take national tests at the end of year 6, "
     "aged 10 or 11."),
    ("Expected and higher standard", ("expected standard", "higher standard"),
     "In the year 6 tests, the expected standard is the level most children are expected to reach; the higher "
     "standard is well above it."),
    ("Reading, writing and maths (RWM)", ("rwm",),
     "Results for reading, writing and maths together: a child counts only if they reached the standard in "
     "all three."),
    ("Disadvantaged pupils", ("disadvantaged",),
     "Pupils who had free school meals at any time in the last six years, or who are or were in the care of "
     "the local council."),
    ("Free school meals", ("free school meals", "free meals", "fsm"),
     "Meals a school gives free to pupils from families on low incomes; how many pupils have them is a common "
     "measure of need."),
    ("English as an additional language", ("additional language", "eal"),
     "Pupils whose first language is not English, or not only English. It says nothing about how well they "
     "speak English."),
    ("Special educational needs (SEN)", ("special educational", "sen", "sen support", "ehc"),
     "Pupils who need extra help to learn. 'SEN support' is help given in school; an EHC plan (education, "
     "health and care plan) is a legal plan from the local council for pupils who need more."),
    ("Absence", ("absence",),
     "Overall absence is the share of school sessions (half-days) missed, for any reason. Persistent absence "
     "is missing one session in ten or more: about a day every two weeks."),
    ("Staying in education or work", ("staying in education", "destination", "apprenticeship"),
     "Pupils who stayed in school, college, an apprenticeship or a job for at least two terms after leaving "
     "year 11."),
    ("Full-time equivalent", ("full-time equivalent", "fte"),
     "Staff numbers counted as if everyone worked full time: two people working half time count as one."),
    ("Schools nationally", ("nationally", "national"),
     "The same result for all state-funded schools of the same kind (primary or secondary) in England. "
     "'Clearly higher' or 'clearly lower' means the difference is too large to be down to chance; 'better than "
     "7 in 10 schools' means the partnership's result is higher than that of 7 in every 10 schools in England "
     "(or lower, where lower is better, as for absence)."),
    ("Similar schools", ("similar schools",),
     "Schools across England whose pupils are most like these schools' pupils: how well they did before, how "
     "many are disadvantaged, speak English as an additional language or have special educational needs, and "
     "the school's size."),
    ("The partnership's result", (),
     "All the partnership's pupils counted together, as if they were in one school, so that a large school "
     "counts for more than a small one."),
    (NOT_SHOWN, (),
     "A result based on very few pupils is not shown, so that no child can be identified and because a few "
     "pupils make a result swing by chance. Sometimes a second result is hidden too, so that the first cannot "
     "be worked out from the total."),
)


def escape(text: object) -> str:
    """Text shown exactly as written in Markdown or a label; '' for None (metrics.text.markdown_text: the one
    escape every page uses)."""
    return markdown_text(text)


def date_words(value: object) -> str | None:
    """'3 March 2025' from a date, a datetime or ISO text; None when there is nothing to say."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value.strip() or None
    if isinstance(value, datetime | date | pd.Timestamp):
        return f"{value.day} {value:%B %Y}"
    return str(value)


def phase_words(phase: object) -> str:
    if not isinstance(phase, str) or not phase.strip():
        return "School"
    return PHASE_WORDS.get(phase.strip().lower(), phase.strip().capitalize())


def perspective_of(value: object) -> Perspective | None:
    """The perspective an item belongs to, from its value ('pupil_outcomes') or its label ('Pupil outcomes')."""
    if isinstance(value, Perspective):
        return value
    try:
        return Perspective(str(value))
    except ValueError:
        return next((p for p in Perspective if p.label.lower() == str(value).strip().lower()), None)


def by_perspective(items: Iterable[PublishedItem]) -> list[tuple[str, list[PublishedItem]]]:
    """(heading, items in position order) in the registry's perspective order; unknown perspectives last."""
    groups: dict[Perspective | None, list[PublishedItem]] = {}
    for item in sorted(items, key=lambda i: i.position):
        groups.setdefault(perspective_of(item.perspective), []).append(item)
    out = [(p.label, groups[p]) for p in Perspective if p in groups]
    if None in groups:
        out.append((OTHER_RESULTS, groups[None]))
    return out


def glossary_terms(pub: Publication) -> list[tuple[str, str]]:
    """(term, definition) for the words this publication uses, then the ones every publication uses."""
    text = " ".join(f"{i.label} {i.description} {i.comparison} {i.similar_words} {i.trend_words}"
                    for i in pub.items).lower()
    # a cue counts as a whole word or phrase: 'eal' in 'EAL pupils', never in 'meals'
    return [(term, words) for term, cues, words in GLOSSARY
            if not cues or any(re.search(rf"(?<!\w){re.escape(c)}(?!\w)", text) for c in cues)]


def _sentence(words: str) -> str:
    """'Up from 52% in 2022/23.' from the data layer's lower-case phrase."""
    words = words.strip()
    return words[:1].upper() + words[1:] + ("" if words.endswith((".", "!", "?")) else ".")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _school_line(school: PublishedSchool) -> str:
    where = f", {escape(school.town)}" if school.town else ""
    return f"- **{escape(school.name)}**{where} · {phase_words(school.phase)}"


def _value_line(v: PublishedSchoolValue) -> str:
    name = f"**{escape(v.school_name)}**"
    if v.suppressed:
        return f"- {name}: {NOT_SHOWN}" + (f": {escape(v.reason)}" if v.reason else "")
    based = ""
    if v.cohort is not None and not pd.isna(v.cohort) and v.cohort > 0:
        based = f" ({_plural(round(v.cohort), 'pupil')})"
    return f"- {name}: {escape(v.display or '–')}{based}"


def school_lines(values: Iterable[PublishedSchoolValue]) -> str:
    """Each school's value (or 'Not shown' and why) as a list; schools with no result at all (a primary school
    has no GCSE results) are gathered into one line per reason, so the list stays short on a phone."""
    ordered = sorted(values, key=lambda v: str(v.school_name))
    lines = [_value_line(v) for v in ordered if v.suppressed or v.value is not None]
    absent: dict[str, list[str]] = {}
    for v in ordered:
        if not v.suppressed and v.value is None:
            absent.setdefault(v.reason or "", []).append(escape(v.school_name))
    for reason, names in absent.items():
        lines.append(f"- No result{f' ({escape(reason)})' if reason else ''}: {', '.join(names)}")
    return "\n".join(lines)


def map_frame(schools: Iterable[PublishedSchool]) -> pd.DataFrame:
    """The schools as charts.maps.schools_map wants them: no level (a parent's map is not a league table), the
    phase in words and the town in the tooltip."""
    return pd.DataFrame([{
        "urn": s.urn, "name": s.name, "latitude": s.latitude, "longitude": s.longitude, "level": None,
        "level_label": phase_words(s.phase), "display": s.town or "–",
    } for s in schools], columns=["urn", "name", "latitude", "longitude", "level", "level_label", "display"])


def _csv_name(pub: Publication) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", pub.group_name.lower()).strip("-") or "partnership"  # safe file name
    return f"{slug}-{pub.period.replace('/', '-')}-results.csv"


def _about(pub: Publication, *, preview: bool) -> str:
    n = len(pub.schools)
    published = date_words(pub.created_at)
    when = ("They will be published by the partnership's leaders when they press Publish" if preview and not published
            else f"They were published by the partnership's leaders on {published or 'an unrecorded date'}")
    as_of = date_words(pub.data_as_of)
    text = (f"These are results that **{escape(pub.group_name)}**, a partnership of {_plural(n, 'school')}, "
            f"has chosen to share for the school year {escape(pub.period)}. {when}"
            + (f"; the data are as of {as_of}." if as_of else "."))
    if pub.version and pub.version > 1:
        text += (f" This will be version {pub.version}: it replaces the earlier version." if preview and not published
                 else f" This is version {pub.version}: it replaces an earlier version.")
    return text


def _item(item: PublishedItem, values: list[PublishedSchoolValue]) -> None:
    st.markdown(f"#### {escape(item.label)}")
    if item.description:
        st.markdown(f"**What this means:** {escape(item.description)}")
    if item.suppressed:
        reason = f": {escape(item.suppressed_reason)}" if item.suppressed_reason else ""
        st.markdown(f"**The partnership:** {NOT_SHOWN}{reason}")
    else:
        st.markdown(f"**The partnership:** {escape(item.group_display or '–')}")
    compare = [(label, words) for label, words in (("Compared with schools nationally", item.comparison),
                                                    ("Across the partnership's schools", item.similar_words),
                                                    ("Over time", item.trend_words)) if words and words.strip()]
    if compare:
        st.markdown("\n".join(f"- **{label}:** {escape(_sentence(words))}" for label, words in compare))
    if item.commentary and item.commentary.strip():
        quote = "\n".join(f"> {escape(line)}" if line.strip() else ">" for line in item.commentary.strip().splitlines())
        st.markdown("**What the partnership's leaders say:**\n\n" + quote)
    if values:
        with st.expander(EACH_SCHOOL):
            st.markdown(school_lines(values))


def render_publication(pub: Publication, *, preview: bool = False) -> None:
    """The parents' page for one publication (with a banner when it is the leaders' preview)."""
    if preview:
        st.info(PREVIEW_BANNER, icon=":material/visibility:")
    st.header(escape(pub.title or f"{pub.group_name}: results for {pub.period}"))
    st.markdown(_about(pub, preview=preview))

    st.subheader("The schools")
    schools = sorted(pub.schools, key=lambda s: str(s.name))
    if schools:
        st.markdown("\n".join(_school_line(s) for s in schools))
    places = map_frame(schools)
    located = places[pd.to_numeric(places["latitude"], errors="coerce").notna()
                     & pd.to_numeric(places["longitude"], errors="coerce").notna()]
    if not located.empty:
        names = ", ".join(f"{r.name} in {r.display}" if r.display != "–" else str(r.name)
                          for r in located.itertuples())
        st.pydeck_chart(schools_map(located, measure_label="Town"), height=360,
                        alt=f"Map of {pub.group_name}'s {_plural(len(located), 'school')}: {names}.")
        st.caption("Touch or hover over a dot to see the school's name. The background map is loaded from CARTO "
                   "when your device is online.")

    values: dict[str, list[PublishedSchoolValue]] = {}
    for v in pub.school_values:
        values.setdefault(v.measure, []).append(v)
    sections = by_perspective(pub.items)
    if not sections:
        st.info("The partnership has not chosen any results to share for this year.")
    for heading, items in sections:
        st.subheader(heading)
        for item in items:
            _item(item, values.get(item.measure, []))

    with st.expander(GLOSSARY_TITLE, icon=":material/menu_book:"):
        st.markdown("\n".join(f"- **{escape(term)}:** {escape(words)}" for term, words in glossary_terms(pub)))
    st.download_button(DOWNLOAD_LABEL, pub.csv_bytes(), file_name=_csv_name(pub), mime="text/csv",
                       icon=":material/download:",
                       key=f"publication_csv_{'preview' if preview else pub.publication_id}")
