"""What DfE files look like: kinds, header aliases, status codes, number and period parsing.

Everything here is pure text handling; the importers in ``data/ingest/importers.py`` use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from data.ingest.own_exports import own_export_refusal
from metrics.periods import PeriodError, parse_period
from metrics.registry import Status

# Codes that DfE files put in value cells instead of numbers, and the status each means.
# Performance tables (see abbreviations.xlsx) and EES symbols (z, x, c, low, k, u).
STATUS_CODES: dict[str, Status] = {
    "SUPP": Status.SUPPRESSED,
    "SUPPMAT": Status.SUPPRESSED,
    "SP": Status.SUPPRESSED,  # "small percentage": between 0% and 0.5%, not published
    "RE": Status.SUPPRESSED,  # redacted
    "C": Status.SUPPRESSED,  # EES: confidential
    "K": Status.SUPPRESSED,  # EES: rounds to 0 but is not 0
    "NA": Status.NOT_APPLICABLE,
    "NE": Status.NOT_APPLICABLE,  # no entries
    "Z": Status.NOT_APPLICABLE,  # EES: not applicable
    "NP": Status.MISSING,  # not published
    "NEW": Status.MISSING,  # new institution
    "..": Status.MISSING,
    "X": Status.MISSING,  # EES: not available
    "LOWCOV": Status.LOW_COVERAGE,
    "LOW": Status.LOW_COVERAGE,  # EES: low reliability
    "U": Status.LOW_COVERAGE,  # EES: low reliability
}

# Column names that drift between years, mapped to the name the registry uses.
# Keys are normalised (upper case, single spaces); see ``normalise_header``.
ALIASES: dict[str, str] = {
    # PPERSABS20 / PPERSABS15 / PPERSABS10 are persistent absence at different thresholds: not aliases of each other.
    # The registry maps each to the definition in force for the file's year (metrics/national.toml, "definitions").
    "PUPIL: TEACHER RATIO": "RATPUPTEA",
    "PUPIL:TEACHER RATIO": "RATPUPTEA",
    "MEAN GROSS FTE SALARY OF ALL TEACHERS (£S)": "SALARY",
    "MEAN GROSS FTE SALARY OF ALL TEACHERS (Â£S)": "SALARY",
    "MEAN GROSS FTE SALARY OF ALL TEACHERS": "SALARY",
    "LEA": "LA",
    "PCODE": "POSTCODE",
    "TOTAL NUMBER OF TEACHERS (FTE)": "NFTETEA",
    "TOTAL NUMBER OF TEACHING ASSISTANTS (FTE)": "NFTETEAAS",
    "TOTPUPSENDN": "NOR",
    "P8_PUP": "P8PUP",
    # The workforce file from 2018/19 on names its columns in words (docs/data.md, "swf"); without these its
    # schools had no LA or ESTAB and its FTE measures were not found
    "LA NUMBER": "LA",
    "ESTABLISHMENT NUMBER": "ESTAB",
    "TOTAL NUMBER OF TEACHERS (FULL-TIME EQUIVALENT)": "NFTETEA",
    "TOTAL NUMBER OF TEACHING ASSISTANTS (FULL-TIME EQUIVALENT)": "NFTETEAAS",
    "TOTAL NUMBER OF TEACHERS (HEADCOUNT)": "NTEA",
    "TOTAL NUMBER OF TEACHING ASSISTANTS (HEADCOUNT)": "NTEAAS",
}

_SPACES = re.compile(r"\s+")


def normalise_header(name: str) -> str:
    """Upper-case, trimmed, inner whitespace collapsed, then mapped through the alias table."""
    key = _SPACES.sub(" ", name.replace("\ufeff", "").strip()).upper()
    return ALIASES.get(key, key)


class FileKind:
    """The closed set of file kinds Jointly imports (strings, so they store and print plainly)."""

    KS4FINAL = "ks4final"
    KS4PROVISIONAL = "ks4provisional"
    KS2FINAL = "ks2final"
    CENSUS = "census"
    ABS = "abs"
    SWF = "swf"
    CFR = "cfr"
    PUPDEST = "ks4-pupdest"
    SPINE = "spine"
    GIAS_ESTABLISHMENTS = "gias_establishments"
    GIAS_GROUPS = "gias_groups"
    GIAS_LINKS = "gias_links"
    EES_CENSUS = "ees_census"
    OFSTED = "ofsted"  # Ofsted's older 1-4 management information (overall effectiveness)
    # Today's downloads (issue 10): each kind is read by its own module
    EES_KS4 = "ees_ks4"  # EES key stage 4 school-level performance file, one row per school and breakdown
    EES_KS2 = "ees_ks2"  # EES key stage 2 school-level performance file
    EES_SCHOOL_INFO = "ees_school_info"  # EES "information about schools" (cohort, SEN, the gaps)
    EES_TRUST_RESULTS = "ees_trust_results"  # DfE's own multi-academy trust measures (*_weighted)
    EES_TRUST_INFO = "ees_trust_info"  # DfE's trust information file (urns: the members that year)
    OFSTED_REPORT_CARD = "ofsted_report_card"  # report cards from November 2025, and the mixed latest file
    GIAS_TRUST_MEMBERSHIP = "gias_trust_membership"  # academiesmatmembership: Date Joined / Left Group
    GIAS_PREDECESSORS = "gias_predecessors"  # links_edubasealldata: predecessor / successor URNs
    EES_NATIONAL = "ees_national"  # EES national (and LA/regional) KS4 or KS2 files: benchmarks by pupil group


# The registry's source kind for each file kind (ks4 final and provisional feed the same measures).
REGISTRY_KIND = {
    FileKind.KS4FINAL: "ks4",
    FileKind.KS4PROVISIONAL: "ks4",
    FileKind.KS2FINAL: "ks2",
    FileKind.CENSUS: "census",
    FileKind.ABS: "abs",
    FileKind.SWF: "swf",
    FileKind.CFR: "cfr",
    FileKind.PUPDEST: "pupdest",
    FileKind.EES_CENSUS: "ees_census",
}

PERFORMANCE_KINDS = frozenset(REGISTRY_KIND) - {FileKind.EES_CENSUS}
# Kinds without a year column of their own: they need --period or a dated folder name.
NEEDS_PERIOD = frozenset(REGISTRY_KIND) - {FileKind.EES_CENSUS}

# Metadata files DfE publishes beside the data: recognised so they get a clear refusal.
_META_HEADERS = [
    {"VARIABLE", "LABEL"},
    {"FIELD NUMBER", "FIELD REFERENCE"},
    {"COLUMN", "FIELDNAME"},
    {"FIELD REFERENCE", "FIELD NAME"},
    {"LA NAME", "REGION NAME"},
    {"METADATA"},
]


METADATA_MESSAGE = (
    "this is a DfE metadata file (it describes the columns of a data file), not data: "
    "import the data file it describes instead"
)
GUIDANCE_MESSAGE = (
    "this is a DfE metadata or guidance file (paragraphs of text, not a table of schools), not data: "
    "import the data file it describes instead"
)


PROGRESSION_16_18_MESSAGE = (
    "this is DfE's 16-18 progression to higher education or training file (one row per institution, keyed by "
    "LAESTAB without a URN, with *_progressed columns): Jointly does not import 16-18 destinations yet; import the "
    "key stage 4 destinations file (ks4-pupdest) for the destinations of pupils after key stage 4"
)


class DetectError(ValueError):
    pass


# Columns only the school information spine carries (NFTYPE and ICLOSE are in key-stage files too).
_SPINE_EVIDENCE = frozenset({"LAESTAB", "MINORGROUP", "ISPRIMARY", "ISSECONDARY", "ISPOST16", "AGEL", "AGEH",
                             "OTHERSCHNAME", "ISNEW", "NEWACFLAG", "OTHERNFTYPE"})

# KS2 results in levels (2010/11 to 2014/15: level 4+, 4B+ and 5+ in reading, writing TA and maths, two levels of
# progress, average level) and the scaled scores that replaced them in 2015/16 (docs/data.md, "ks2final").
_KS2_LEVELS_EVIDENCE = frozenset({"PTREADWRITTAMATX", "PTREADWRITTAMAT4B", "PTREADWRITTAMATAX", "PTREADWRITMATX",
                                  "PT2READ", "PT2WRITTA", "PT2MATH", "PT2MATH12", "PT2ENG12", "AVGLEVEL",
                                  "PTENGMATX"})
_KS2_SCALED_EVIDENCE = frozenset({"PTRWM_EXP", "PTRWM_HIGH", "READPROG", "WRITPROG", "MATPROG", "READ_AVERAGE",
                                  "MAT_AVERAGE"})
# KS4's headline before Attainment 8: 5+ A*-C including English and maths (docs/data.md, "ks4final").
_KS4_FIVE_AC_EVIDENCE = frozenset({"PTAC5EM", "PTAC5EM_PTQ", "PTAC5EM_PTQ_EE", "PTAC5_PTQ", "PTAC5_PTQ_EE"})


# Columns of a school in GIAS's links and membership extracts (a groups file describes groups only).
_LINK_EVIDENCE = frozenset({"JOINED DATE", "ESTABLISHMENTNAME", "ESTABLISHMENTNUMBER", "ESTABLISHMENT UKPRN",
                            "TYPEOFESTABLISHMENT (CODE)", "TYPEOFESTABLISHMENT (NAME)", "PHASEOFEDUCATION (NAME)",
                            "ESTABLISHMENT OPENDATE", "DFE NUMBER"})


# Measure columns of EES school results files, 2024/25 names and 2023/24 names (data/ingest/ees_results.py's alias
# table).
_EES_KS4_EVIDENCE = frozenset({"ATTAINMENT8_AVERAGE", "PROGRESS8_AVERAGE", "ENGMATH_95_PERCENT", "ENGMATH_94_PERCENT",
                               "EBACC_APS_AVERAGE", "AVG_ATT8", "AVG_P8SCORE", "PT_L2BASICS_95", "PT_L2BASICS_94",
                               "AVG_EBACCAPS"})
_EES_KS2_EVIDENCE = frozenset({"EXPECTED_STANDARD_PUPIL_PERCENT", "HIGHER_STANDARD_PUPIL_PERCENT",
                               "PROGRESS_MEASURE_SCORE", "PT_RWM_MET_EXPECTED_STANDARD"})
# KS4 "information about schools": the cohort and DfE's disadvantage gaps (no breakdown column)
_EES_INFO_EVIDENCE = frozenset({"ENDKS4_PUPIL_COUNT", "ATTAINMENT8_DIFFN", "PROGRESS8_DIFFN"})


# EES national, regional and LA key-stage files: a headline measure column and no school or trust key
_EES_NATIONAL_EVIDENCE = frozenset({"ATTAINMENT8_AVERAGE", "AVG_ATT8", "ENGMATH_95_PERCENT", "PT_L2BASICS_95",
                                    "PROGRESS8_AVERAGE", "AVG_P8SCORE", "PT_RWM_MET_EXPECTED_STANDARD"})
_SCHOOL_KEYS = frozenset({"URN", "SCHOOL_URN", "LAESTAB", "SCHOOL_LAESTAB", "TRUST_UID", "URNS"})


# Ofsted's report-card evaluation areas, as its management information heads them
_REPORT_CARD_AREAS = frozenset({"INCLUSION", "CURRICULUM AND TEACHING", "ACHIEVEMENT", "ATTENDANCE AND BEHAVIOUR",
                                "PERSONAL DEVELOPMENT AND WELLBEING", "LEADERSHIP AND GOVERNANCE"})


def is_metadata_header(header: set[str]) -> bool:
    """True for the header of a DfE metafile: a table whose rows describe the columns of a data file."""
    if any(meta <= header for meta in _META_HEADERS):
        return True
    return "URN" not in header and bool(header & {"LABEL", "DESCRIPTION", "FIELD NAME", "METAFILE HEADING", "VARIABLE"})


def is_prose_header(header: set[str]) -> bool:
    """True when the 'header' is a heading or a sentence (a guidance text saved as CSV), not column names."""
    return "URN" not in header and (len(header) == 1 or any(len(c.split()) >= 6 for c in header))


def detect_kind(header: set[str], filename: str) -> str:
    """Which file this is, from its (normalised) header; the filename only splits KS4 final/provisional.

    Raises DetectError with a sentence saying what was seen when the header matches nothing.
    """
    h = header
    name = filename.lower()
    if (own := own_export_refusal(h)) is not None:  # Jointly's own downloads, said by name (issue 11 point 10)
        raise DetectError(own)
    if is_metadata_header(h):
        raise DetectError(METADATA_MESSAGE)
    # EES school results (data/ingest/ees_results.py): keyed by school_urn, with a breakdown and KS4 or KS2 measures
    if {"TIME_PERIOD", "SCHOOL_URN"} <= h and h & {"BREAKDOWN_TOPIC", "BREAKDOWN"}:
        if h & _EES_KS4_EVIDENCE:
            return FileKind.EES_KS4
        if h & _EES_KS2_EVIDENCE:
            return FileKind.EES_KS2
        if not h & _EES_INFO_EVIDENCE:
            raise DetectError("this looks like an EES school results file (it has time_period, school_urn and a "
                              "breakdown) but none of the KS4 or KS2 measure columns DfE publishes (such as "
                              "attainment8_average, avg_att8, expected_standard_pupil_percent): were its columns "
                              "renamed? Import the file as DfE published it")
    if {"TIME_PERIOD", "SCHOOL_URN"} <= h and h & _EES_INFO_EVIDENCE:
        return FileKind.EES_SCHOOL_INFO
    if {"TIME_PERIOD", "TRUST_UID"} <= h and "URNS" in h:
        return FileKind.EES_TRUST_INFO
    if {"TIME_PERIOD", "TRUST_UID"} <= h and any(c.endswith("_WEIGHTED") for c in h):
        return FileKind.EES_TRUST_RESULTS
    if {"TIME_PERIOD", "GEOGRAPHIC_LEVEL"} <= h and not h & _SCHOOL_KEYS and h & _EES_NATIONAL_EVIDENCE:
        return FileKind.EES_NATIONAL
    if {"TIME_PERIOD", "URN"} <= h:
        return FileKind.EES_CENSUS
    if {"TIME_PERIOD", "LAESTAB"} <= h and any(c.endswith("_PROGRESSED") for c in h):
        # keyed by LAESTAB with no URN, and of 16-18 students: no measure of Jointly's, and a school's URN can
        # only be guessed from a LAESTAB that GIAS reuses after a conversion
        raise DetectError(PROGRESSION_16_18_MESSAGE)
    # Ofsted's management information (data/ingest/ofsted.py): report cards (the latest file mixes them with 1-4 grades)
    if {"URN", "INSPECTION START DATE", "SAFEGUARDING STANDARDS"} <= h and h & _REPORT_CARD_AREAS:
        return FileKind.OFSTED_REPORT_CARD
    if "URN" in h and h & {"OVERALL EFFECTIVENESS", "LATEST OEIF OVERALL EFFECTIVENESS"}:
        return FileKind.OFSTED
    # GIAS trust membership history (data/ingest/gias.py): a school per trust it has been in, with joining and leaving
    # dates
    if {"GROUP UID", "URN"} <= h and h & {"DATE JOINED GROUP", "DATE LEFT GROUP"}:
        return FileKind.GIAS_TRUST_MEMBERSHIP
    # GIAS predecessor/successor links between schools (data/ingest/gias.py, data/ingest/lineage.py)
    if {"URN", "LINKURN", "LINKTYPE"} <= h:
        return FileKind.GIAS_PREDECESSORS
    if {"LINKURN", "LINKTYPE"} <= h:
        # without its URN a links file says which schools are linked to nothing: name the missing column
        raise DetectError("this looks like a GIAS predecessor/successor links file (it has LinkURN and LinkType) "
                          "but the key column URN is missing: a URN is needed to know which school each link "
                          "belongs to; import the file as GIAS published it")
    if {"GROUP UID", "URN"} <= h:
        return FileKind.GIAS_LINKS
    if "GROUP UID" in h and "URN" not in h and h & _LINK_EVIDENCE:
        # A links or membership file that lost its URN: read as a groups file it would list each group once per
        # school and be refused for "Group UID appears twice", far from the real fault
        shown = ", ".join(sorted(h & _LINK_EVIDENCE)[:3])
        raise DetectError(f"this looks like a GIAS links or membership file (it has Group UID and the school "
                          f"columns {shown}) but the key column URN is missing: a URN is needed to know which "
                          "school each row links; import the file as GIAS published it")
    if {"GROUP UID", "GROUP NAME"} <= h:
        return FileKind.GIAS_GROUPS
    if {"URN", "ESTABLISHMENTNAME"} <= h:
        return FileKind.GIAS_ESTABLISHMENTS
    if "RECTYPE" in h and ("OVERALL_DESTPER" in h or "OVERALL_DEST" in h):
        return FileKind.PUPDEST
    if "RECTYPE" in h and h & _KS2_LEVELS_EVIDENCE and not h & _KS2_SCALED_EVIDENCE:
        # Read as ks2final (it has TELIG) it stored a KS2 year of context alone: every result is in levels
        shown = ", ".join(sorted(h & _KS2_LEVELS_EVIDENCE, key=lambda c: (not c.startswith("PTREADWRIT"), c))[:3])
        raise DetectError(f"this is a key stage 2 file from before 2016, in levels (it has {shown}); Jointly reads "
                          "KS2 results from 2015/16 on (scaled scores), and no level measure is the same as a "
                          "scaled-score one (PTRWM_EXP, READPROG, READ_AVERAGE), so nothing was imported")
    if "RECTYPE" in h and h & _KS4_FIVE_AC_EVIDENCE and not h & {"ATT8SCR", "P8MEA"}:
        shown = ", ".join(sorted(h & _KS4_FIVE_AC_EVIDENCE)[:3])
        raise DetectError(f"this is a key stage 4 file from before 2015/16 (it has {shown}: 5+ A*-C measures, and "
                          "no Attainment 8 or Progress 8); Jointly reads KS4 results from the years with Attainment "
                          "8 (ATT8SCR) on, so nothing was imported")
    if "RECTYPE" in h and ("PTRWM_EXP" in h or "READPROG" in h or "TELIG" in h):
        return FileKind.KS2FINAL
    if "RECTYPE" in h and ("ATT8SCR" in h or "P8MEA" in h):
        return FileKind.KS4PROVISIONAL if "provisional" in name else FileKind.KS4FINAL
    if "RECTYPE" in h:
        # RECTYPE is the key-stage files' own row type: such a file without their measures had them renamed,
        # and read as a school-information file it would overwrite schools' details with nothing of value
        raise DetectError(
            "this looks like a key-stage performance table (it has a RECTYPE column) but has none of the measure "
            "columns of the KS2, KS4 or destinations files (such as ATT8SCR, P8MEA, PTRWM_EXP, READPROG, "
            "OVERALL_DESTPER): were its columns renamed? Import the file as DfE published it"
        )
    # The key column is not required here: the importer then says "URN is missing", not "unknown format"
    if "TOTALEXPENDITURE" in h or "TOTALINCOME" in h:
        return FileKind.CFR
    if "PERCTOT" in h or "PPERSABS10" in h:
        return FileKind.ABS
    if "RATPUPTEA" in h or "SALARY" in h or "NFTETEA" in h:
        return FileKind.SWF
    if "NOR" in h and ("PNUMEAL" in h or "PNUMFSMEVER" in h or "PSENELK" in h):
        return FileKind.CENSUS
    if {"URN", "SCHNAME"} <= h and len(h & _SPINE_EVIDENCE) >= 2:
        return FileKind.SPINE
    if is_prose_header(h):
        raise DetectError(GUIDANCE_MESSAGE)
    shown = ", ".join(sorted(h)[:8])
    raise DetectError(
        "unknown format: the header matches none of the supported DfE files "
        f"(performance tables, GIAS, EES). First columns seen: {shown}"
    )


# ------------------------------------------------------------------------------ cells


@dataclass(frozen=True)
class Cell:
    """A parsed value cell: a number, or a status saying why there is none."""

    value: float | None
    status: Status
    code: str | None  # the file's own code (e.g. "SUPP!", "NE"), kept verbatim


OK_EMPTY = Cell(None, Status.MISSING, None)
# A number, optionally with thousands separators, a leading £ and a trailing %.
_NUMBER = re.compile(r"^[-+]?£?[-+]?(\d{1,3}(,\d{3})+|\d*)(\.\d+)?%?$")


class CellError(ValueError):
    pass


@lru_cache(maxsize=1 << 16)
def parse_cell(raw: str | None) -> Cell:
    """Turn a value cell into a number or a status. Raises CellError on junk.

    Cached: a wide file repeats the same few texts (SUPP, NP, 50.0%) across hundreds of thousands of cells, and a
    Cell is frozen."""
    if raw is None:
        return OK_EMPTY
    text = raw.strip()
    if not text:
        return OK_EMPTY
    code = STATUS_CODES.get(text.upper())
    if code is None and text.upper().startswith("SUPP"):  # SUPP!, SUPPMAT and other variants
        code = Status.SUPPRESSED
    if code is not None:
        return Cell(None, code, text)
    if not _NUMBER.match(text) or not any(ch.isdigit() for ch in text):
        raise CellError(f"expected a number or a DfE status code, found {text!r}")
    number = text.replace(",", "").replace("£", "").rstrip("%")
    return Cell(float(number), Status.OK, None)


# The store keeps identifiers and counts as 32-bit integers: nine digits always fit, ten may not.
MAX_INT_DIGITS = 9
# URNs run from 100000 upwards and are six digits today; eight leaves room and is never a phone number.
MAX_URN_DIGITS = 8


def parse_int(raw: str | None) -> int | None:
    """An identifier or count cell: ASCII digits only (at most nine, so it fits the store), else None.

    str.isdigit() alone accepts '²' and other scripts' digits, which int() then rejects or misreads.
    """
    if raw is None:
        return None
    text = raw.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_INT_DIGITS else None


def parse_urn(raw: str | None) -> int | None:
    """A school's URN: one to eight ASCII digits, else None (the caller reports the row)."""
    value = parse_int(raw)
    return value if value is not None and 0 < value < 10**MAX_URN_DIGITS else None


# ------------------------------------------------------------------------------ periods

# A folder or file name carrying an academic year such as 2018-2019 or 2018-19 (parse_period checks the range).
_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_]((?:19|20)\d{2}|\d{2})(?!\d)")


def period_from_path(path: Path) -> str | None:
    """The academic year named by the file's folder (e.g. .../2018-2019/england_ks4final.csv).

    A name outside parse_period's range (0000-0001, 2090-2091) is not a period: None, as for no year at all."""
    for part in [path.parent.name, path.stem, path.parent.parent.name]:
        m = _IN_NAME.search(part)
        if m:
            try:
                return parse_period(f"{m.group(1)}/{m.group(2)}")
            except PeriodError:
                continue
    return None
