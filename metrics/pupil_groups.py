"""Pupil groups: the stable ids Jointly stores, their plain labels, and the DfE words that name each one.

DfE's tidy (EES) files name a row's pupils by a `breakdown_topic` ("Disadvantage status") and a `breakdown` value
("Disadvantaged"), or by filter columns (`disadvantage_status`, `sex`, `first_language`, `mobility`,
`prior_attainment`, SEN) holding that value while the others say "Total". The words drift between years
(2023/24 "Disadvantaged all other" and "Other than English" became 2024/25 "Not known to be disadvantaged" and
"Known or believed to be other than English"), so each group lists every spelling seen. Pure: standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PupilGroup:
    """One pupil group: its stable id, the label a reader sees, and the DfE breakdown words that mean it."""

    id: str
    label: str
    topic: str  # the family of groups it belongs to (a gap compares groups within one topic)
    words: tuple[str, ...]


PUPIL_GROUPS: tuple[PupilGroup, ...] = (
    PupilGroup("disadvantaged", "Disadvantaged pupils", "disadvantage", ("disadvantaged",)),
    PupilGroup("not_disadvantaged", "Other pupils (not disadvantaged)", "disadvantage",
               ("not known to be disadvantaged", "disadvantaged all other", "not disadvantaged", "all other",
                "non-disadvantaged", "non disadvantaged")),
    PupilGroup("boys", "Boys", "sex", ("boys", "male")),
    PupilGroup("girls", "Girls", "sex", ("girls", "female")),
    PupilGroup("eal", "Pupils with English as an additional language", "first_language",
               ("known or believed to be other than english", "other than english", "eal")),
    PupilGroup("not_eal", "Pupils whose first language is English", "first_language",
               ("known or believed to be english", "english", "first language english")),
    PupilGroup("sen_support", "Pupils on SEN support", "sen",
               ("sen support", "sen without an ehc plan", "sen without ehc plan", "sen no ehcp", "sen_no_ehcp")),
    PupilGroup("ehc_plan", "Pupils with an EHC plan", "sen",
               ("ehc plan", "education, health and care plan", "sen with an ehc plan", "sen with ehc plan",
                "ehcp", "statement or ehc plan")),
    PupilGroup("no_sen", "Pupils with no identified SEN", "sen", ("no identified sen", "no sen", "no special "
                                                                   "educational needs")),
    PupilGroup("prior_low", "Pupils with low prior attainment", "prior_attainment",
               ("low", "low prior attainment", "below expected standard", "below the expected standard", "lower")),
    PupilGroup("prior_middle", "Pupils with middle prior attainment", "prior_attainment",
               ("middle", "middle prior attainment", "average", "at expected standard", "at the expected standard")),
    PupilGroup("prior_high", "Pupils with high prior attainment", "prior_attainment",
               ("high", "high prior attainment", "above expected standard", "above the expected standard",
                "higher")),
    PupilGroup("mobile", "Pupils who joined mid-phase (mobile)", "mobility", ("mobile",)),
    PupilGroup("not_mobile", "Pupils who did not move school (non-mobile)", "mobility",
               ("non mobile", "non-mobile", "not mobile")),
)

BY_ID: dict[str, PupilGroup] = {g.id: g for g in PUPIL_GROUPS}

# The words DfE uses for "every pupil": a row so named is no pupil group, it feeds the ordinary observations.
TOTAL_WORDS = frozenset({"total", "all pupils", "all"})

# Which topic a breakdown_topic (or a filter column's name) speaks of. A word outside every topic is no group.
_TOPICS: dict[str, str] = {
    "disadvantage status": "disadvantage", "disadvantage": "disadvantage", "disadvantage_status": "disadvantage",
    "disadvantaged status": "disadvantage",
    "sex": "sex", "gender": "sex",
    "first language": "first_language", "first_language": "first_language", "language": "first_language",
    "sen status": "sen", "sen provision": "sen", "sen": "sen", "sen_status": "sen", "sen_provision": "sen",
    "special educational needs": "sen",
    "prior attainment": "prior_attainment", "prior_attainment": "prior_attainment",
    "ks2 prior attainment": "prior_attainment", "prior attainment band": "prior_attainment",
    "mobility": "mobility", "mobility status": "mobility",
}

_SPACES = re.compile(r"\s+")


def plain(text: str) -> str:
    """DfE words compared without case or spacing: '  Non  Mobile ' -> 'non mobile'."""
    return _SPACES.sub(" ", text.strip()).casefold()


def is_total(text: str) -> bool:
    """True for DfE's words for every pupil ("Total", "All pupils")."""
    return plain(text) in TOTAL_WORDS


def topic_of(text: str) -> str | None:
    """The pupil-group topic a breakdown_topic or filter column names, or None if it names none we know."""
    return _TOPICS.get(plain(text))


def pupil_group_for(topic: str, breakdown: str) -> str | None:
    """The stable pupil-group id for a (breakdown_topic, breakdown) pair, or None when the words are unknown.

    A breakdown word means a group only within its own topic ("Low" is prior attainment, nothing else); an
    unknown topic still matches on a breakdown word that only one group uses ("Boys")."""
    word = plain(breakdown)
    wanted = topic_of(topic)
    matches = [g for g in PUPIL_GROUPS if word in g.words and (wanted is None or g.topic == wanted)]
    if wanted is None and len(matches) > 1:
        return None
    return matches[0].id if matches else None


def label(group_id: str) -> str:
    """The reader's label for a pupil-group id (the id itself if it is not one of ours)."""
    group = BY_ID.get(group_id)
    return group.label if group else group_id
