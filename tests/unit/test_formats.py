"""Pure text handling of DfE files: cells, periods, header aliases and kind detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.ingest.formats import (
    Cell,
    CellError,
    DetectError,
    FileKind,
    detect_kind,
    normalise_header,
    parse_cell,
    parse_int,
    period_from_path,
)
from metrics.periods import PeriodError, parse_period, period_bounds
from metrics.registry import Status

S = Status

# Every code DfE puts in a value cell (abbreviations.xlsx; EES symbols), with the status it means.
CODES = [
    ("SUPP", S.SUPPRESSED), ("SUPP!", S.SUPPRESSED), ("SUPPMAT", S.SUPPRESSED), ("supp", S.SUPPRESSED),
    ("NE", S.NOT_APPLICABLE), ("NP", S.MISSING), ("NA", S.NOT_APPLICABLE), ("NA ", S.NOT_APPLICABLE),
    ("LOWCOV", S.LOW_COVERAGE), ("SP", S.SUPPRESSED), ("NEW", S.MISSING), ("RE", S.SUPPRESSED),
    ("..", S.MISSING), ("z", S.NOT_APPLICABLE), ("x", S.MISSING), ("c", S.SUPPRESSED), ("low", S.LOW_COVERAGE),
    ("k", S.SUPPRESSED), ("u", S.LOW_COVERAGE),
]


@pytest.mark.parametrize(("raw", "status"), CODES, ids=[c[0] for c in CODES])
def test_status_codes_keep_the_reason_and_the_verbatim_code(raw: str, status: Status) -> None:
    assert parse_cell(raw) == Cell(None, status, raw.strip())


NUMBERS = [
    ("45%", 45.0), ("58.8%", 58.8), ("44.98%", 44.98), ("7,579", 7579.0), ("£45,421", 45421.0), ("-0.03", -0.03),
    (" 12 ", 12.0), ("0", 0.0), ("-7,794", -7794.0), ("1,234,567.5", 1234567.5), (".5", 0.5), ("100%", 100.0),
    ("-1%", -1.0), ("+0.5", 0.5),
]


@pytest.mark.parametrize(("raw", "value"), NUMBERS, ids=[n[0] for n in NUMBERS])
def test_numbers_percentages_and_money(raw: str, value: float) -> None:
    assert parse_cell(raw) == Cell(value, S.OK, None)


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_blank_cell_is_missing_without_a_code(raw: str | None) -> None:
    assert parse_cell(raw) == Cell(None, S.MISSING, None)


JUNK = ["about 100", "5.O", "12,34", "1,2345", "%", "£", "-", "-   ", "N/A", "45 %", "1.2.3", "1e5", "yes", "£-"]


@pytest.mark.parametrize("raw", JUNK)
def test_junk_raises_with_the_text_quoted(raw: str) -> None:
    with pytest.raises(CellError) as err:
        parse_cell(raw)
    assert str(err.value) == f"expected a number or a DfE status code, found {raw.strip()!r}"


def test_parse_int() -> None:
    assert [parse_int(x) for x in ["144929", " 815 ", "", "LA", "12A", None, "-1"]] == [
        144929, 815, None, None, None, None, None]


# ------------------------------------------------------------------------------ periods

PERIODS = [("2018/19", "2018/19"), ("2018-19", "2018/19"), ("2018-2019", "2018/19"), ("201819", "2018/19"),
           (" 2018 / 19 ", "2018/19"), ("202223", "2022/23"), ("1999/00", "1999/00"), ("1999/2000", "1999/00")]


@pytest.mark.parametrize(("text", "period"), PERIODS)
def test_parse_period(text: str, period: str) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(("text", "message"), [
    ("2018/20", "period '2018/20': the second year must follow the first (e.g. 2018/19)"),
    ("2018-2020", "period '2018-2020': the second year must follow the first (e.g. 2018/19)"),
    ("201820", "period '201820': the second year must follow the first (e.g. 2018/19)"),
    ("2018", "period '2018' is not an academic year like 2018/19"),
    ("18/19", "period '18/19' is not an academic year like 2018/19"),
    ("last year", "period 'last year' is not an academic year like 2018/19"),
])
def test_bad_periods_are_refused_in_words(text: str, message: str) -> None:
    with pytest.raises(PeriodError) as err:
        parse_period(text)
    assert str(err.value) == message


@pytest.mark.parametrize(("path", "period"), [
    ("downloads/2018-2019/england_ks4final.csv", "2018/19"),
    ("downloads/2018-19/england_census.csv", "2018/19"),
    ("2017-2018/LA815/815_census.csv", "2017/18"),  # the year may be a level further up
    ("downloads/Performancetables_2018_19/ks4.csv", "2018/19"),
    ("downloads/england_ks4final.csv", None),
    ("815_2019_ks4provisional.csv", None),  # a single year is not an academic year
    ("downloads/2018-2020/ks4.csv", None),
])
def test_period_from_path(path: str, period: str | None) -> None:
    assert period_from_path(Path(path)) == period


def test_period_bounds_are_the_academic_year() -> None:
    assert period_bounds("2022/23") == ("2022-09-01", "2023-08-31")


# ------------------------------------------------------------------------------ headers

@pytest.mark.parametrize(("raw", "name"), [
    ("PPERSABS15", "PPERSABS15"), ("PPERSABS20", "PPERSABS20"), ("Pupil:     Teacher Ratio", "RATPUPTEA"),
    ("Pupil:Teacher Ratio", "RATPUPTEA"), ("ESTAB", "ESTAB"), ("Estab", "ESTAB"), ("\ufeffURN", "URN"),
    ("  urn ", "URN"), ("LEA", "LA"), ("PCODE", "POSTCODE"), ("P8_PUP", "P8PUP"), ("TOTPUPSENDN", "NOR"),
    ("Mean Gross FTE Salary of All Teachers (£s)", "SALARY"), ("Total Number of Teachers (FTE)", "NFTETEA"),
    ("time_period", "TIME_PERIOD"),
])
def test_normalise_header_applies_aliases(raw: str, name: str) -> None:
    assert normalise_header(raw) == name


# ------------------------------------------------------------------------------ kinds

KS4 = {"RECTYPE", "URN", "ATT8SCR", "P8MEA"}
KINDS = [
    (KS4, "815_2018_ks4final.csv", FileKind.KS4FINAL),
    (KS4, "815_2019_ks4provisional.csv", FileKind.KS4PROVISIONAL),
    ({"RECTYPE", "URN", "PTRWM_EXP", "READPROG"}, "ks2final.csv", FileKind.KS2FINAL),
    ({"URN", "LA", "ESTAB", "NOR", "PNUMEAL", "PSENELK"}, "census.csv", FileKind.CENSUS),
    ({"URN", "LA", "ESTAB", "PERCTOT", "PPERSABS10"}, "abs.csv", FileKind.ABS),
    ({"URN", "LA", "ESTAB", "NFTETEA", "RATPUPTEA"}, "swf.csv", FileKind.SWF),
    ({"LA", "URN", "PUPILS", "TOTALINCOME", "TOTALEXPENDITURE"}, "cfr.csv", FileKind.CFR),
    ({"RECTYPE", "URN", "COHORT", "OVERALL_DESTPER"}, "ks4-pupdest.csv", FileKind.PUPDEST),
    ({"URN", "LA", "LAESTAB", "SCHNAME", "MINORGROUP"}, "spine.csv", FileKind.SPINE),
    ({"URN", "LA (CODE)", "ESTABLISHMENTNAME", "EASTING"}, "edubasealldata.csv", FileKind.GIAS_ESTABLISHMENTS),
    ({"GROUP UID", "GROUP ID", "GROUP NAME", "GROUP TYPE"}, "groups.csv", FileKind.GIAS_GROUPS),
    ({"URN", "GROUP UID", "GROUP NAME", "JOINED DATE"}, "links.csv", FileKind.GIAS_LINKS),
    ({"TIME_PERIOD", "URN", "TRUST", "HEADCOUNT OF PUPILS"}, "spc_school_level.csv", FileKind.EES_CENSUS),
    ({"URN", "SCHOOL NAME", "OVERALL EFFECTIVENESS"}, "ofsted.xlsx", FileKind.OFSTED),
    # today's downloads (issue 10): minimal headers taken from the real files and data-guidance.txt
    ({"TIME_PERIOD", "SCHOOL_URN", "BREAKDOWN_TOPIC", "ATTAINMENT8_AVERAGE", "PROGRESS8_AVERAGE"},
     "202425_performance_tables_schools_revised.csv", FileKind.EES_KS4),
    ({"TIME_PERIOD", "SCHOOL_URN", "BREAKDOWN_TOPIC", "AVG_ATT8", "AVG_P8SCORE"},
     "202324_performance_tables_schools_final.csv", FileKind.EES_KS4),
    ({"TIME_PERIOD", "SCHOOL_URN", "BREAKDOWN_TOPIC", "BREAKDOWN", "SUBJECT", "EXPECTED_STANDARD_PUPIL_PERCENT",
      "PROGRESS_MEASURE_SCORE"}, "ks2_school_attainment_data.csv", FileKind.EES_KS2),
    ({"TIME_PERIOD", "SCHOOL_URN", "ATTAINMENT8_DIFFN", "PROGRESS8_DIFFN", "ENDKS4_PUPIL_COUNT"},
     "202425_information_about_schools_provisional.csv", FileKind.EES_SCHOOL_INFO),
    ({"TIME_PERIOD", "TRUST_UID", "BREAKDOWN_TOPIC", "ATTAINMENT8_AVERAGE_WEIGHTED"},
     "202425_performance_tables_multi_academy_trusts_revised.csv", FileKind.EES_TRUST_RESULTS),
    ({"TIME_PERIOD", "TRUST_UID", "URNS", "SCHOOL_COUNT"},
     "202425_information_about_multi_academy_trusts_revised.csv", FileKind.EES_TRUST_INFO),
    ({"URN", "INSPECTION START DATE", "SAFEGUARDING STANDARDS", "INCLUSION", "ACHIEVEMENT"},
     "Management_information_-_all_inspections.csv", FileKind.OFSTED_REPORT_CARD),
    ({"URN", "GROUP UID", "DATE JOINED GROUP", "DATE LEFT GROUP"}, "academiesmatmembership20250426.csv",
     FileKind.GIAS_TRUST_MEMBERSHIP),
    ({"URN", "LINKURN", "LINKNAME", "LINKTYPE", "LINKESTABLISHEDDATE"}, "links_edubasealldata20240129.csv",
     FileKind.GIAS_PREDECESSORS),
    ({"TIME_PERIOD", "GEOGRAPHIC_LEVEL", "COUNTRY_CODE", "ESTABLISHMENT_TYPE_GROUP", "DISADVANTAGE_STATUS",
      "ATTAINMENT8_AVERAGE"}, "202425_national_characteristics_by_school_types_revised.csv", FileKind.EES_NATIONAL),
]


@pytest.mark.parametrize(("header", "name", "kind"), KINDS, ids=[k[2] + ":" + k[1] for k in KINDS])
def test_detect_kind_from_a_minimal_header(header: set[str], name: str, kind: str) -> None:
    assert detect_kind(header, name) == kind


def test_every_file_kind_has_a_detection_case() -> None:
    kinds = {v for k, v in vars(FileKind).items() if k.isupper()}
    assert {k[2] for k in KINDS} == kinds


@pytest.mark.parametrize("header", [
    {"VARIABLE", "LABEL", "TYPE", "DESCRIPTION"},
    {"FIELD NUMBER", "FIELD REFERENCE", "FIELD NAME"},
    {"COLUMN", "FIELDNAME", "LABEL/DESCRIPTION"},
    {"COLUMN", "METAFILE HEADING", "METAFILE DESCRIPTION"},
    {"LEA", "LA NAME", "REGION", "REGION NAME"},
])
def test_metadata_headers_are_refused(header: set[str]) -> None:
    with pytest.raises(DetectError) as err:
        detect_kind(header, "meta.csv")
    assert str(err.value) == ("this is a DfE metadata file (it describes the columns of a data file), not data: "
                              "import the data file it describes instead")


def test_guidance_text_is_refused_as_metadata() -> None:
    with pytest.raises(DetectError) as err:
        detect_kind({"EBACC AVERAGE POINT SCORE (EBACC APS)"}, "ks4_meta_methodology.csv")
    assert str(err.value).startswith("this is a DfE metadata or guidance file")


def test_unknown_header_says_what_was_seen() -> None:
    with pytest.raises(DetectError) as err:
        detect_kind({"NAME", "COLOUR"}, "things.csv")
    assert str(err.value) == ("unknown format: the header matches none of the supported DfE files "
                              "(performance tables, GIAS, EES). First columns seen: COLOUR, NAME")
