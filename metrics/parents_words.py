"""The plain words of a publication that the parents' pages say, wherever they are drawn: the Streamlit parents' page
(ui/published.py, which escapes them for Markdown) and the static parents' site (data/outputs/site, which escapes
them for HTML). One copy, so both say the same; pure text, no markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd

from metrics.publication import Publication, PublishedItem, combined_version
from metrics.registry import Perspective

NOT_SHOWN = "Not shown"


NO_RESULT_WORDS = "No result"


OTHER_RESULTS = "Other results"


HEADLINES = 5  # at most, on the first screen: more would push the school chooser off a phone


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
    text = " ".join([*(f"{i.label} {i.description} {i.comparison} {i.similar_words} {i.trend_words}"
                       for i in pub.items), *(g.sentence for g in pub.gaps)]).lower()
    # a cue counts as a whole word or phrase: 'eal' in 'EAL pupils', never in 'meals'
    return [(term, words) for term, cues, words in GLOSSARY
            if not cues or any(re.search(rf"(?<!\w){re.escape(c)}(?!\w)", text) for c in cues)]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def dfe_status(pub: Publication) -> str | None:
    """DfE's version of the publication's results: the least settled of its measures' ('provisional' if any is,
    metrics.publication.combined_version), None when no measure says (local measures, absence)."""
    return combined_version([i.dfe_version for i in pub.items])


def year_words(pub: Publication) -> str:
    """'2024/25, revised results': the school year the results belong to and DfE's status of them (never the
    day they were read)."""
    status = dfe_status(pub)
    return f"{pub.period}, {status} results" if status else f"Results for the school year {pub.period}"


def headline_items(pub: Publication) -> list[PublishedItem]:
    """The first results the leaders chose (their order), up to HEADLINES, that have a partnership value to show."""
    shown = [i for i in sorted(pub.items, key=lambda i: i.position) if not i.suppressed and i.group_display]
    return shown[:HEADLINES]


def phases_words(phases: Iterable[str]) -> str:
    """'secondary schools' from a measure's phases (an all-through school is both, so it is not named)."""
    names = [PHASE_PLURAL[p] for p in phases if p in PHASE_PLURAL]
    if not names:
        return "other schools"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

