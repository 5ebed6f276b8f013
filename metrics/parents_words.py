"""The parents' sentences: what the Streamlit parents' page (ui/published.py) and the static site
(data/outputs/site) both say about a publication, in one place, so that the two say exactly the same.

Pure and plain: no Markdown, no HTML. Every function that puts people's or files' words (school names, labels,
reasons, towns, the period) inside a sentence takes `esc`, the caller's escape for its medium, and applies it to
those words only; the fixed words are left as they are. The Streamlit page passes metrics.text.markdown_text (so its
Markdown is what it was), the site passes nothing (the plain words: its templates escape every string they print).
Where the page emphasises part of a sentence, the function returns `Runs`: (text, strong) pieces that each medium
joins its own way (`**…**` in Markdown, `<strong>` in HTML); `plain(runs)` is the sentence as a reader hears it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

from metrics.publication import (
    Publication,
    PublishedGroupValue,
    PublishedItem,
    PublishedSchool,
    PublishedSchoolValue,
    combined_version,
)
from metrics.registry import Perspective

Escape = Callable[[object], str]
# (text, strong): a sentence in pieces, the strong ones emphasised where the medium can
Runs = tuple[tuple[str, bool], ...]


def plain_text(text: object) -> str:
    """The words as they are; '' for None (the site's `esc`: its templates escape what they print)."""
    return "" if text is None else str(text)


def plain(runs: Runs) -> str:
    """A sentence's words without emphasis."""
    return "".join(text for text, _ in runs)


NOT_SHOWN = "Not shown"
NO_RESULT_WORDS = "No result"
OTHER_RESULTS = "Other results"
GROUP_WORDS = {"disadvantaged": "Disadvantaged pupils at this school",
               "not_disadvantaged": "Other pupils at this school"}
GAP_LABEL = "The gap"  # the published sentence names the pupils; its label names what it measures
WHAT_THIS_MEANS = "What this means"
THE_PARTNERSHIP = "The partnership"
ENGLAND = "England"
LEADERS_SAY = "What the partnership's leaders say"
COMPARISONS = ("Compared with schools nationally", "Across the partnership's schools", "Over time")
THIS_SCHOOL = "This school"
LA_AVERAGE = "Local authority average"
NAMED = 4  # schools named in the summary; more are counted (the chooser or the list below names them all)
HEADLINES = 5  # at most, on the first screen: more would push the rest off a phone's first screen
# DfE publishes each year's figures up to three times; what each word means for a parent (the glossary says it)
DFE_VERSION_WORDS = {
    "provisional": "The Department for Education's first figures for the year, published before schools have "
                   "checked them; they may still change.",
    "revised": "The figures after schools have checked them, as in the Department for Education's performance "
               "tables; they rarely change after this.",
    "final": "The Department for Education's last figures for the year; they will not change.",
}
PHASE_PLURAL = {"primary": "primary schools", "secondary": "secondary schools", "special": "special schools",
                "alternative": "alternative provision", "nursery": "nursery schools", "post16": "sixth forms"}
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
    ("Local authority average", (),
     "The same result for the schools of the same kind in the school's local council area (its local "
     "authority), as the Department for Education publishes it."),
    (NOT_SHOWN, (),
     "A result based on very few pupils is not shown, so that no child can be identified and because a few "
     "pupils make a result swing by chance. Sometimes a second result is hidden too, so that the first cannot "
     "be worked out from the total."),
)


# ------------------------------------------------------------------------------------------ small words


def date_words(value: object) -> str | None:
    """'3 March 2025' from a date, a datetime or ISO text; None when there is nothing to say."""
    if value is None or value != value:  # NaN and NaT are the values not equal to themselves
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value.strip() or None
    if isinstance(value, datetime | date):  # a pandas Timestamp is a datetime
        return f"{value.day} {value:%B %Y}"
    return str(value)


def phase_words(phase: object) -> str:
    """'Primary school' from a phase value; 'School' when there is none."""
    if not isinstance(phase, str) or not phase.strip():
        return "School"
    return PHASE_WORDS.get(phase.strip().lower(), phase.strip().capitalize())


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def and_words(words: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def sentence(words: str) -> str:
    """'Up from 52% in 2022/23.' from the data layer's lower-case phrase."""
    words = words.strip()
    return words[:1].upper() + words[1:] + ("" if words.endswith((".", "!", "?")) else ".")


def pupils_words(cohort: float | None) -> str:
    """' (30 pupils)' after a value, from its cohort; '' when there is none to say."""
    if cohort is None or (isinstance(cohort, float) and math.isnan(cohort)) or cohort <= 0:
        return ""
    return f" ({plural(round(cohort), 'pupil')})"


# ------------------------------------------------------------------------------------------ the publication


def dfe_status(pub: Publication) -> str | None:
    """DfE's version of the publication's results: the least settled of its measures' ('provisional' if any is,
    metrics.publication.combined_version), None when no measure says (local measures, absence)."""
    return combined_version([i.dfe_version for i in pub.items])


def status_help(pub: Publication) -> str | None:
    """What DfE's status of these results means for a parent, or None."""
    status = dfe_status(pub)
    return DFE_VERSION_WORDS.get(status) if status else None


def year_words(pub: Publication) -> str:
    """'2024/25, revised results': the school year the results belong to and DfE's status of them (never the
    day they were read)."""
    status = dfe_status(pub)
    return f"{pub.period}, {status} results" if status else f"Results for the school year {pub.period}"


def title_words(pub: Publication) -> str:
    """The publication's heading: the leaders' title, else '<group>: results for <year>'."""
    return pub.title or f"{pub.group_name}: results for {pub.period}"


def schools_words(pub: Publication, esc: Escape = plain_text) -> str:
    """'3 schools: A, B and C'; for more than NAMED schools, how many and where (a phone's first screen cannot
    hold ten names: they are listed further down)."""
    schools = sorted(pub.schools, key=lambda s: str(s.name))
    if len(schools) <= NAMED:
        return f"{plural(len(schools), 'school')}: " + and_words([esc(s.name) for s in schools]) if schools else ""
    towns = sorted({s.town for s in schools if s.town})
    where = (f" in {and_words([esc(t) for t in towns[:3]])}" + (" and nearby" if len(towns) > 3 else "")
             if towns else "")
    phases: dict[str, int] = {}
    for s in schools:
        phases[phase_words(s.phase).lower()] = phases.get(phase_words(s.phase).lower(), 0) + 1
    kinds = and_words([f"{n} {w}{'' if n == 1 else 's'}" for w, n in sorted(phases.items(), key=lambda x: -x[1])])
    return f"{len(schools)} schools{where}: {kinds}"


def about_words(pub: Publication, *, preview: bool, esc: Escape = plain_text) -> Runs:
    """'These are results that <the group>, a partnership of 10 schools, has chosen to share for the school year
    2025/26 …', the group's name emphasised."""
    n = len(pub.schools)
    published = date_words(pub.created_at)
    when = ("They will be published by the partnership's leaders when they press Publish" if preview and not published
            else f"They were published by the partnership's leaders on {published or 'an unrecorded date'}")
    status = dfe_status(pub)
    dfe = f", from the Department for Education's {status} figures" if status else ""
    after = (f", a partnership of {plural(n, 'school')}, has chosen to share for the school year {esc(pub.period)}"
             f"{dfe}. {when}.")
    if pub.version and pub.version > 1:
        after += (f" This will be version {pub.version}: it replaces the earlier version." if preview and not published
                  else f" This is version {pub.version}: it replaces an earlier version.")
    return (("These are results that ", False), (esc(pub.group_name), True), (after, False))


def headline_items(pub: Publication) -> list[PublishedItem]:
    """The first results the leaders chose (their order), up to HEADLINES, that have a partnership value to show."""
    shown = [i for i in sorted(pub.items, key=lambda i: i.position) if not i.suppressed and i.group_display]
    return shown[:HEADLINES]


def headline_words(item: PublishedItem, esc: Escape = plain_text) -> Runs:
    """'58% Reaching the expected standard · England 61%', the partnership's value emphasised."""
    national = f" · England {esc(item.national_display)}" if item.national_display else ""
    return ((esc(item.group_display), True), (f" {esc(item.label)}{national}", False))


def school_line(school: PublishedSchool, esc: Escape = plain_text) -> Runs:
    """'<name>, Town · Primary school', the name emphasised."""
    where = f", {esc(school.town)}" if school.town else ""
    return ((esc(school.name), True), (f"{where} · {phase_words(school.phase)}", False))


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
    text = " ".join([*(f"{i.label} {i.description} {i.comparison} {i.similar_words} {i.trend_words}"
                       for i in pub.items), *(g.sentence for g in pub.gaps)]).lower()
    # a cue counts as a whole word or phrase: 'eal' in 'EAL pupils', never in 'meals'
    return [(term, words) for term, cues, words in GLOSSARY
            if not cues or any(re.search(rf"(?<!\w){re.escape(c)}(?!\w)", text) for c in cues)]


def status_term(pub: Publication) -> tuple[str, str] | None:
    """The glossary's entry for DfE's status of these results ('Revised results'), or None."""
    status = dfe_status(pub)
    return (f"{status.capitalize()} results", DFE_VERSION_WORDS[status]) if status else None


def phases_words(phases: Iterable[str]) -> str:
    """'secondary schools' from a measure's phases (an all-through school is both, so it is not named)."""
    names = [PHASE_PLURAL[p] for p in phases if p in PHASE_PLURAL]
    if not names:
        return "other schools"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ------------------------------------------------------------------------------------------ one measure


def definition_of(item: PublishedItem) -> str:
    """The measure's one plain definition as published ('' when there is none)."""
    return item.definition or item.description


def partnership_value_words(item: PublishedItem, esc: Escape = plain_text) -> str:
    """The partnership's value, or 'Not shown: <why>'."""
    if item.suppressed:
        return NOT_SHOWN + (f": {esc(item.suppressed_reason)}" if item.suppressed_reason else "")
    return esc(item.group_display or "–")


def comparison_lines(item: PublishedItem, esc: Escape = plain_text) -> list[Runs]:
    """'Compared with schools nationally: Clearly higher than …', 'Across the partnership's schools: …', 'Over
    time: …': the published sentences that say something, each label emphasised."""
    said = zip(COMPARISONS, (item.comparison, item.similar_words, item.trend_words), strict=True)
    return [((f"{label}:", True), (f" {esc(sentence(words))}", False)) for label, words in said
            if words and words.strip()]


def commentary_lines(item: PublishedItem) -> list[str]:
    """The leaders' commentary, line by line ('' for a blank line between paragraphs); [] when there is none."""
    if not item.commentary or not item.commentary.strip():
        return []
    return [line if line.strip() else "" for line in item.commentary.strip().splitlines()]


def value_words(v: PublishedSchoolValue, esc: Escape = plain_text) -> str:
    """One school's value in the list of the partnership's schools: '58%', 'Not shown: <why>'."""
    if v.suppressed:
        return NOT_SHOWN + (f": {esc(v.reason)}" if v.reason else "")
    return esc(v.display or "–")


def listed_values(values: Iterable[PublishedSchoolValue]) -> tuple[list[PublishedSchoolValue], dict[str, list[str]]]:
    """The schools a measure is for, by name: (those with a value or a hidden one, {reason: names of those with no
    result at all}). A school the measure is not for (a primary school and GCSEs) is in neither: a measure that
    is not for a school's phase says nothing about it, never "no data"."""
    ordered = sorted((v for v in values if v.applies), key=lambda v: str(v.school_name))
    absent: dict[str, list[str]] = {}
    for v in ordered:
        if not v.suppressed and v.value is None:
            absent.setdefault(v.reason or "", []).append(v.school_name)
    return [v for v in ordered if v.suppressed or v.value is not None], absent


def school_value_line(v: PublishedSchoolValue, esc: Escape = plain_text) -> Runs:
    """'<name>: 58% (30 pupils)' or '<name>: Not shown: <why>', the name emphasised."""
    rest = value_words(v, esc) if v.suppressed else value_words(v, esc) + pupils_words(v.cohort)
    return ((esc(v.school_name), True), (f": {rest}", False))


def no_result_line(reason: str, names: Sequence[str], esc: Escape = plain_text) -> str:
    """'No result (<why>): A, B': the schools with no result for one reason, in one line."""
    return f"{NO_RESULT_WORDS}{f' ({esc(reason)})' if reason else ''}: {', '.join(esc(n) for n in names)}"


def gap_words(sentence_words: str) -> Runs:
    """'The gap: <the published sentence>', the label emphasised (the sentence's words were fixed at publication;
    the caller escapes them)."""
    return ((f"{GAP_LABEL}:", True), (f" {sentence_words}", False))


# ------------------------------------------------------------------------------------------ one school


def school_where(school: PublishedSchool, esc: Escape = plain_text) -> str:
    """'Primary school · Town · local authority: <LA>'."""
    where = [phase_words(school.phase)] + [esc(x) for x in (school.town, school.la_name and
                                                            f"local authority: {school.la_name}") if x]
    return " · ".join(where)


def school_value_words(item: PublishedItem, v: PublishedSchoolValue, esc: Escape = plain_text) -> tuple[Runs, str]:
    """('This school: 58% (30 pupils)' with the value emphasised, 'Local authority average: 60% · England: 62% ·
    The partnership: 58%')."""
    if v.suppressed:
        own: Runs = ((f"{THIS_SCHOOL}: {NOT_SHOWN}" + (f" ({esc(v.reason)})" if v.reason else ""), False),)
    elif v.value is None:
        own = ((f"{THIS_SCHOOL}: {NO_RESULT_WORDS}" + (f" ({esc(v.reason)})" if v.reason else ""), False),)
    else:
        own = ((f"{THIS_SCHOOL}: ", False), (esc(v.display), True), (pupils_words(v.cohort), False))
    parts = []
    if v.la_display:
        parts.append(f"{LA_AVERAGE}: {esc(v.la_display)}")
    if item.national_display:
        parts.append(f"{ENGLAND}: {esc(item.national_display)}")
    parts.append(f"{THE_PARTNERSHIP}: {NOT_SHOWN if item.suppressed else esc(item.group_display or '–')}")
    return own, " · ".join(parts)


def group_value_words(v: PublishedGroupValue, esc: Escape = plain_text) -> str:
    """'Disadvantaged pupils at this school: 40% (10 pupils)', or 'Not shown (fewer than 6 pupils)': words, never
    a colour alone."""
    label = GROUP_WORDS.get(v.pupil_group, v.pupil_group)
    if v.suppressed:
        return f"{label}: {NOT_SHOWN}" + (f" ({esc(v.reason)})" if v.reason else "")
    if v.value is None:
        return f"{label}: {NO_RESULT_WORDS}" + (f" ({esc(v.reason)})" if v.reason else "")
    return f"{label}: {esc(v.display)}{pupils_words(v.cohort)}"


def school_group_values(pub: Publication, item: PublishedItem, urn: int) -> list[PublishedGroupValue]:
    """The school's disadvantaged and other pupils' values of the measure, in that order (those published)."""
    return [v for g in GROUP_WORDS if (v := pub.group_value(item.measure, urn, g)) is not None]


SchoolSection = tuple[str, list[tuple[PublishedItem, PublishedSchoolValue]]]


def school_items(pub: Publication, urn: int) -> tuple[list[SchoolSection], list[PublishedItem]]:
    """What a school's page shows: ([(perspective heading, [(item, the school's value)])] for the measures that are
    for a school like it, the measures that are not)."""
    mine = {v.measure: v for v in pub.school_values if v.urn == urn}
    shown: list[SchoolSection] = []
    not_for: list[PublishedItem] = []
    for heading, items in by_perspective(pub.items):
        here = []
        for item in items:
            v = mine.get(item.measure)
            if v is None or not v.applies:
                not_for.append(item)
            else:
                here.append((item, v))
        if here:
            shown.append((heading, here))
    return shown, not_for


def not_on_page_words(items: Iterable[PublishedItem], esc: Escape = plain_text) -> str:
    """'Attainment 8 and Grade 5 or above in English and maths are for secondary schools, so they are not on this
    school's page.' ('' when every measure is for the school)."""
    by_phase: dict[str, list[str]] = {}
    for item in items:
        by_phase.setdefault(phases_words(item.phases), []).append(esc(item.label))
    return " ".join(f"{and_words(labels)} {'is' if len(labels) == 1 else 'are'} for {words}, so "
                    f"{'it is' if len(labels) == 1 else 'they are'} not on this school's page."
                    for words, labels in by_phase.items())


# ------------------------------------------------------------------------------------------ the static site


def web_address(url: object) -> str | None:
    """The address, stripped, when a link may carry it; None for anything else (never javascript: or the like)."""
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s<>\"']+", url.strip(), flags=re.IGNORECASE):
        return None  # a whole http(s) address with no spaces, quotes or angle brackets
    return url.strip()


def address_host(url: str | None) -> str:
    """'www.x.sch.uk' from 'https://www.x.sch.uk/': the address as a reader recognises it, in a link's words."""
    return re.sub(r"^https?://", "", (url or "").strip(), flags=re.IGNORECASE).rstrip("/")


def csv_file_name(pub: Publication) -> str:
    """'northbridge-partnership-2025-26-results.csv': the publication's CSV as a safe file name."""
    slug = re.sub(r"[^a-z0-9]+", "-", pub.group_name.lower()).strip("-") or "partnership"  # letters and digits only
    return f"{slug}-{period_folder(pub.period)}-results.csv"


def period_folder(period: str) -> str:
    """'2025-26' for '2025/26': a school year as a folder name in the site's addresses."""
    return period.replace("/", "-")


def publication_page(group_id: int, period: str) -> str:
    """Where the static site (python -m data publish-site) puts a publication's page, relative to its root; the
    Streamlit page links there when $JOINTLY_SITE_URL names the site."""
    return f"partnership/{int(group_id)}/{period_folder(period)}/index.html"
