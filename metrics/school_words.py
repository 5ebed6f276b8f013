"""A school's kind in people's words: GIAS's names for establishment types and phases, never the performance
tables' abbreviations ("AC", "CYS") or the store's phase values ("secondary", "all_through").

The performance tables' NFTYPE column abbreviates the type (DfE's "Abbreviations used in the csv and excel Download
Data files", 2019 KS4 performance tables); GIAS's "TypeOfEstablishment (name)" says the same in words. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

# NFTYPE abbreviation -> GIAS's "TypeOfEstablishment (name)" for the same type (GIAS's spelling and capitals)
TYPE_WORDS = {
    "AC": "Academy sponsor led",
    "ACC": "Academy converter",
    "ACS": "Academy special sponsor led",
    "ACCS": "Academy special converter",
    "ACAP": "Academy alternative provision sponsor led",
    "ACCAP": "Academy alternative provision converter",
    "AC1619": "Academy 16-19 sponsor led",
    "ACC1619": "Academy 16-19 converter",
    "CY": "Community school",
    "CYS": "Community special school",
    "VA": "Voluntary aided school",
    "VC": "Voluntary controlled school",
    "FD": "Foundation school",
    "FDS": "Foundation special school",
    "CTC": "City technology college",
    "NMSS": "Non-maintained special school",
    "IND": "Other independent school",
    "INDSPEC": "Other independent special school",
    "INDSPS": "Other independent special school",
    "FESI": "Further education",
    "CHS": "Community school",  # a hospital school: GIAS has no separate type
    "FHS": "Foundation school",
    "PRU": "Pupil referral unit",
    "F": "Free schools",
    "FS": "Free schools special",
    "FAP": "Free schools alternative provision",
    "FUTC": "University technical college",
    "UTC": "University technical college",
    "FSS": "Studio schools",
    "F1619": "Free schools 16 to 19",
    "MODFC": "Institution funded by other government department",
    "AP": "Alternative provision",
}

# the store's phase values (metrics.registry.Phase) in GIAS's words ("PhaseOfEducation (name)"); special schools
# and alternative provision are kinds of school, not GIAS phases, so they are named as such
PHASE_WORDS = {
    "primary": "Primary",
    "secondary": "Secondary",
    "all_through": "All-through",
    "nursery": "Nursery",
    "post16": "16 plus",
    "special": "Special school",
    "alternative": "Alternative provision",
}


def type_words(type_name: str | None) -> str | None:
    """The school's type in GIAS's words: an NFTYPE abbreviation spelled out, GIAS's own words as they are."""
    if type_name is None or not type_name.strip():
        return None
    text = type_name.strip()
    return TYPE_WORDS.get(text.upper(), text)


def phase_words(phase: str | None) -> str | None:
    """The phase in words; None for an unknown or 'other' phase (saying 'Other' tells a reader nothing)."""
    return PHASE_WORDS.get((phase or "").strip().lower())


def school_kind(info: Mapping[str, object]) -> list[str]:
    """'Academy converter', 'Secondary' for a school's GIAS details: its type, then its phase unless the type
    already says it (a 'Community special school' is not also called a 'Special school')."""
    kind = type_words(info.get("type_name") if isinstance(info.get("type_name"), str) else None)
    phase = phase_words(info.get("phase") if isinstance(info.get("phase"), str) else None)
    out = [kind] if kind else []
    if phase and not (kind and phase.lower().removesuffix(" school") in kind.lower()):
        out.append(phase)
    return out
