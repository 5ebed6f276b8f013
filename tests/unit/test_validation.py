"""The one validator: the real registry is clean; a known-good registry with exactly one thing broken gives
exactly one issue, with its file, measure, field, line and message; several broken things give all of them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from data.ingest.formats import REGISTRY_KIND
from metrics.registry import NATIONAL_TOML, RegistryError, load_registry
from metrics.validation import (
    RULES,
    SOURCE_KINDS,
    Issue,
    national_ids,
    validate_definitions,
    validate_registry_file,
)

REGISTRY = Path(__file__).resolve().parents[1] / "fixtures" / "registry"
METHOD = Path(__file__).resolve().parents[2] / "docs" / "method.md"
SRC = "tests/fixtures/registry"


def issue(fixture: str, measure: str | None, field: str | None, line: int | None, message: str) -> Issue:
    return Issue(f"{SRC}/{fixture}.toml", measure, field, line, message)


# One case per rule: bad_<rule>.toml is good.toml with exactly one thing broken; these are its issues.
CASES: dict[str, list[tuple[str | None, str | None, int | None, str]]] = {
    "required_fields": [("teachers_fte", "rollup", 80, "required field 'rollup' is missing")],
    "unknown_fields": [("teachers_fte", "fromat", 86, "unknown field 'fromat'; did you mean 'format'?")],
    "id_format": [("CPD-hours-per-teacher", "id", 108, "id 'CPD-hours-per-teacher' must be snake_case: lowercase "
                   "letters, digits and underscores, starting with a letter")],
    "id_unique": [("progress8", "id", 23, "id 'progress8' is used twice: an earlier measure (line 4) has it")],
    # issue 12 point 5: a local measure may not take a national measure's label (case and spaces ignored)
    "label_unique": [("cpd_hours", "label", 96, "label 'progress  8' is already the label of the national measure "
                      "progress8: a local measure needs its own (labels are unique, ignoring case and spaces)")],
    "perspective_value": [("basics_94", "perspective", 43, "perspective 'pupil outcomes' is not one of: "
                           "pupil_outcomes, curriculum, inclusion, staff_leadership, partnership_community, context")],
    "polarity_value": [("progress8", "polarity", 11,
                        "polarity 'higher' is not one of: higher_better, lower_better, context")],
    "rollup_value": [("teachers_fte", "rollup", 89, "rollup 'total' is not one of: pooled_ratio, weighted_mean, sum")],
    "uncertainty_value": [("progress8", "uncertainty", 14,
                           "uncertainty 'published' is not one of: none, published_ci, wilson, normal")],
    "phases_value": [("fsm_pct", "phases", 65, "phase 'sixth_form' is not one of: primary, secondary, all_through, "
                      "special, alternative, nursery, post16, other")],
    "unit_text": [("teachers_fte", "unit", 85,
                   "unit must be short text (1 to 20 characters) such as \"%\", \"score\" or \"hours\", not ''")],
    "label_text": [("fsm_pct", "label", 59, "label is 97 characters long; the limit is 80")],
    "description_text": [("cpd_hours", "description", 97, "description is 15 characters long; it needs at least "
                          "20: say in plain words, for parents, what the measure shows")],
    "notes_text": [("fsm_pct", "notes", 68, "notes must be text, not 2")],
    "owner_value": [("cpd_hours", "owner", 105, "owner must be \"national\" or a group's id, not 'Trust 7'")],
    "format_spec": [("attainment8", "format", 28,
                     "format '.1q' is not one of the number formats: .0f to .3f (that many decimals), with + in "
                     "front to sign the number (+.2f) and , for thousands (,.0f)")],
    "scale_positive": [("basics_94", "scale", 49, "scale must be a number greater than 0, not 0")],
    "min_cohort_range": [("basics_94", "min_cohort", 50, "min_cohort must be a whole number from 0 to 1000, not 6.5")],
    "sources_shape": [("cpd_hours", "sources", 104, "sources must be a list of [[measure.sources]] tables, not 'swf'")],
    "source_kind": [("progress8", "sources[0].kind", 16, "source 1 has kind 'ks5'; the kinds are: ks4, ks2, census, "
                     "abs, swf, cfr, pupdest, ees_census")],
    "source_columns": [("teachers_fte", "sources[0]", 90, "source 'swf' gives neither a value nor a numerator column")],
    "groups_shape": [("ks2_rwm_expected", "groups[1].pupil_group", 143, "group 2 names pupil group "
                      "'non_disadvantaged', which is not one of: disadvantaged, not_disadvantaged, boys, girls, eal, "
                      "not_eal, sen_support, ehc_plan, no_sen, prior_low, prior_middle, prior_high, mobile, "
                      "not_mobile")],
    "sources_match_owner": [("teachers_fte", "formula", 86,
                             "a national measure cannot have a formula: formulas are for local measures")],
    "pooled_ratio_parts": [("basics_94", "sources[0]", 52, "a pooled ratio needs a numerator or a cohort/denominator "
                            "beside the value so that groups pool as sum(numerator) / sum(denominator); source 'ks4' "
                            "gives only a value")],
    "published_ci_columns": [("progress8", "sources[0].ci_high", 15, "uncertainty 'published_ci' needs ci_low and "
                              "ci_high columns; source 'ks4' has no ci_high")],
    "normal_sd": [("attainment8", "uncertainty", 32, "uncertainty 'normal' needs sd, the pupil-level standard "
                   "deviation (a number greater than 0)")],
    "wilson_pooled_only": [("teachers_fte", "uncertainty", 86, "uncertainty 'wilson' is for pooled ratios (a count "
                            "out of a cohort); this measure's rollup is 'sum'")],
    "formula_parses": [("cpd_hours_per_teacher", "formula", 118, 'formula: "cpd_hours ** 2" at column 1: powers (**) '
                        "are not allowed; multiply instead (a * a)")],
    "formula_names_known": [("cpd_hours_per_teacher", "formula", 118,
                             "formula uses 'cpd_hour', which is not a measure id; did you mean 'cpd_hours'?")],
    "formula_no_cycles": [("cpd_hours_per_teacher", "formula", 118,
                           "the formula goes round in a circle: cpd_hours_per_teacher → cpd_hours_per_teacher")],
}


def test_the_real_national_registry_has_no_issues() -> None:
    assert validate_registry_file(NATIONAL_TOML) == []
    assert len(load_registry().ids()) == len(national_ids())


def test_the_good_fixture_has_no_issues() -> None:
    assert validate_registry_file(REGISTRY / "good.toml") == []


@pytest.mark.parametrize("rule", [r.__name__ for r in RULES])
def test_each_rule_broken_alone_gives_its_exact_issue(rule: str) -> None:
    name = f"bad_{rule}"
    assert validate_registry_file(REGISTRY / f"{name}.toml") == [issue(name, *c) for c in CASES[rule]]


def test_every_rule_has_a_bad_fixture_and_every_fixture_a_rule() -> None:
    rules = {r.__name__ for r in RULES}
    assert rules == CASES.keys()
    fixtures = {p.stem.removeprefix("bad_") for p in REGISTRY.glob("bad_*.toml")}
    assert fixtures == rules | {"three_things", "toml_syntax", "no_measures"}


def test_each_bad_fixture_differs_from_the_good_one_only_where_it_says() -> None:
    good = (REGISTRY / "good.toml").read_text(encoding="utf-8").splitlines()
    for rule in CASES:
        bad = (REGISTRY / f"bad_{rule}.toml").read_text(encoding="utf-8").splitlines()
        changed = [i + 1 for i, (a, b) in enumerate(zip(good, bad, strict=True)) if a != b and i > 1]
        assert len(changed) == 1, (rule, changed)


def test_three_broken_things_give_all_three_issues_in_line_order() -> None:
    name = "bad_three_things"
    assert validate_registry_file(REGISTRY / f"{name}.toml") == [
        issue(name, "progress8", "polarity", 11, "polarity 'higher' is not one of: higher_better, lower_better, "
              "context"),
        issue(name, "attainment8", "sd", 33, "sd must be a number greater than 0, not 0"),
        issue(name, "cpd_hours", "description", 97, "description is 15 characters long; it needs at least 20: say "
              "in plain words, for parents, what the measure shows"),
    ]


# A [[measure.groups]] entry broken one way at a time (good.toml's ks2_rwm_expected, lines 132 to 151): the text
# replaced, then the issue, located at the entry's header or its field
GROUP_BREAKS = {
    "unknown group": ('pupil_group = "not_disadvantaged"', 'pupil_group = "pupils_on_fsm"',
                      ("groups[1].pupil_group", 143, "group 2 names pupil group 'pupils_on_fsm', which is not one "
                       "of: disadvantaged, not_disadvantaged, boys, girls, eal, not_eal, sen_support, ehc_plan, "
                       "no_sen, prior_low, prior_middle, prior_high, mobile, not_mobile")),
    "no value column": ('value = "PTRWM_EXP_NotFSM6CLA1A"\n', "",
                        ("groups[1]", 141, "group 2 (not_disadvantaged) gives no value column")),
    "duplicate": ('pupil_group = "not_disadvantaged"', 'pupil_group = "disadvantaged"',
                  ("groups[1]", 141, "groups 1 and 2 both say where disadvantaged in ks2 files is: give one, "
                   "listing alternative column names in it")),
    "kind of no source": ('kind = "ks2"\npupil_group = "disadvantaged"\nscope', 'kind = "ks4"\npupil_group = '
                          '"disadvantaged"\nscope', ("groups[2].kind", 147, "group 3 has kind 'ks4'; it must be one "
                                                    "of this measure's sources: ks2")),
    "unknown scope": ('scope = "gap"', 'scope = "gaps"', ("groups[2].scope", 149, "group 3 has scope 'gaps': leave "
                      "it out for the group's own value, or write \"gap\" for DfE's published gap")),
}


@pytest.mark.parametrize("case", GROUP_BREAKS)
def test_a_broken_pupil_group_entry_gives_its_exact_located_issue(case: str, tmp_path: Path) -> None:
    old, new, (field, line, message) = GROUP_BREAKS[case]
    good = (REGISTRY / "good.toml").read_text(encoding="utf-8")
    assert good.count(old) == 1
    path = tmp_path / "groups.toml"
    path.write_text(good.replace(old, new), encoding="utf-8")
    assert validate_registry_file(path) == [Issue(str(path), "ks2_rwm_expected", field, line, message)]


def test_the_registry_reads_pupil_group_entries_as_frozen_data() -> None:
    from metrics.registry import GroupSource

    m = load_registry(REGISTRY / "good.toml").get("ks2_rwm_expected")
    assert m.groups == (
        GroupSource("ks2", "disadvantaged", None, ("PTRWM_EXP_FSM6CLA1A",), ("TFSM6CLA1A",)),
        GroupSource("ks2", "not_disadvantaged", None, ("PTRWM_EXP_NotFSM6CLA1A",), ("TNotFSM6CLA1A",)),
        GroupSource("ks2", "disadvantaged", "gap", ("DIFFN_RWM_EXP",)),
    )
    assert [g.pupil_group for _, g in load_registry().groups_for_kind("ks4") if g.scope == "gap"] == [
        "disadvantaged", "disadvantaged"]


def test_a_toml_syntax_error_is_one_issue_with_its_line() -> None:
    assert validate_registry_file(REGISTRY / "bad_toml_syntax.toml") == [
        issue("bad_toml_syntax", None, None, 24, "the file is not valid TOML: Illegal character '\\n' at column 22")]


def test_a_file_without_measures_says_so() -> None:
    assert validate_registry_file(REGISTRY / "bad_no_measures.toml") == [
        issue("bad_no_measures", None, "measures", None,
              "unknown top-level key 'measures': the file holds [[measure]] tables"),
        issue("bad_no_measures", None, None, None, "the file has no [[measure]] tables"),
    ]


def test_a_missing_file_is_one_issue(tmp_path: Path) -> None:
    assert validate_registry_file(tmp_path / "none.toml", source="none.toml") == [
        Issue("none.toml", None, None, None, "file not found")]


def test_inline_tables_are_located_by_their_id_line() -> None:
    name = "inline_tables"
    assert validate_registry_file(REGISTRY / f"{name}.toml") == [
        issue(name, "fsm_pct", "scale", 4, "scale must be a number greater than 0, not -1"),
        issue(name, "fsm_pct", "sources[0]", 4, "a pooled ratio needs a numerator or a cohort/denominator beside "
              "the value so that groups pool as sum(numerator) / sum(denominator); source 'census' gives only a value"),
    ]


def test_load_registry_refuses_an_invalid_file_with_every_issue() -> None:
    path = REGISTRY / "bad_three_things.toml"
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert caught.value.issues == validate_registry_file(path)
    assert str(caught.value).splitlines()[0] == "the measure registry has 3 problem(s):"


def test_an_id_already_taken_elsewhere_is_refused() -> None:
    name = "good"
    assert validate_registry_file(REGISTRY / "good.toml", known_ids={"cpd_hours", "not_here"}) == [
        issue(name, "cpd_hours", "id", 95, "id 'cpd_hours' is already taken by another measure (ids are unique "
              "across national and local measures)")]


# ------------------------------------------------------------------------------ the form (no file, no lines)

FORM_MEASURE = {"id": "leaders_pct", "label": "Pupils in a leadership role",
                "description": "Share of pupils who hold a leadership role in school.", "perspective": "curriculum",
                "unit": "%", "polarity": "higher_better", "phases": ["primary"], "rollup": "pooled_ratio",
                "scale": 100, "owner": "7"}


def test_a_groups_own_definitions_validate_without_lines() -> None:
    ratio = {**FORM_MEASURE, "id": "leaders_per_teacher", "label": "Leaders per teacher",
             "unit": "ratio", "rollup": "weighted_mean", "scale": 1,
             "formula": "leaders_pct / teachers_fte"}
    assert validate_definitions([FORM_MEASURE, ratio], source="form", known_ids={"pupils"},
                                group_members_only=True) == []


def test_a_group_may_not_define_a_national_measure_nor_reuse_a_national_id() -> None:
    national = {**FORM_MEASURE, "id": "pupils", "owner": "national"}
    assert validate_definitions([national], source="form", known_ids=national_ids(), group_members_only=True) == [
        Issue("form", "pupils", "id", None, "id 'pupils' is already taken by another measure (ids are unique across "
              "national and local measures)"),
        Issue("form", "pupils", "owner", None, "owner must be a group's id, not 'national': only a group's local "
              "measures are defined here"),
        Issue("form", "pupils", "sources", None, "a national measure needs at least one source: the DfE file and "
              "column that feed it"),
    ]


def test_a_groups_formula_may_not_use_another_groups_measure() -> None:
    ratio = {**FORM_MEASURE, "id": "leaders_per_event", "label": "Leaders per event",
             "rollup": "weighted_mean", "unit": "ratio", "scale": 1,
             "formula": "leaders_pct / their_events"}
    assert validate_definitions([ratio, FORM_MEASURE], source="form", known_ids={"their_events"},
                                group_members_only=True) == [
        Issue("form", "leaders_per_event", "formula", None, "formula uses 'their_events', which is not a measure "
              "this group can use (a formula may use national measures and the group's own)")]


def test_a_cycle_through_two_measures_names_its_path() -> None:
    a = {**FORM_MEASURE, "id": "a_rate", "label": "Rate A", "rollup": "weighted_mean", "scale": 1,
         "formula": "b_rate * 2"}
    b = {**FORM_MEASURE, "id": "b_rate", "label": "Rate B", "rollup": "weighted_mean", "scale": 1,
         "formula": "pupils / a_rate"}
    assert validate_definitions([a, b], source="form", group_members_only=True) == [
        Issue("form", "a_rate", "formula", None, "the formula goes round in a circle: a_rate → b_rate → a_rate")]


def test_a_local_measure_never_reads_dfe_files_and_published_cis_need_a_source() -> None:
    local = {**FORM_MEASURE, "rollup": "weighted_mean", "scale": 1, "uncertainty": "published_ci",
             "sources": [{"kind": "census", "value": "NOR", "ci_low": "LO", "ci_high": "HI"}]}
    assert validate_definitions([local], source="form") == [
        Issue("form", "leaders_pct", "sources", None, "a local measure cannot read DfE files: give it a formula, or "
              "no sources and upload its values")]
    direct = {**FORM_MEASURE, "rollup": "weighted_mean", "scale": 1, "uncertainty": "published_ci"}
    assert validate_definitions([direct], source="form") == [
        Issue("form", "leaders_pct", "uncertainty", None, "uncertainty 'published_ci' needs ci_low and ci_high "
              "columns in a source; this measure has no sources")]


@pytest.mark.parametrize("junk", [None, 0, -1, 2.5, True, "", "x", [], [1], {}, {"a": 1}])
def test_fields_of_any_type_never_break_a_rule(junk: object) -> None:
    """Every field set to the same wrong thing: many issues, and no rule fails on an unexpected type."""
    raw = [{k: junk for k in ("id", "label", "description", "perspective", "unit", "format", "polarity", "phases",
                              "rollup", "scale", "min_cohort", "uncertainty", "sd", "notes", "owner", "formula",
                              "sources")}, junk]
    issues = validate_definitions(raw, source="form")  # type: ignore[list-item]
    assert issues
    assert not [i for i in issues if "failed" in i.message]


def test_an_issue_reads_as_a_sentence() -> None:
    assert str(Issue("metrics/national.toml", "progress8", "polarity", 11, "polarity 'higher' is not one of: x")) == (
        "metrics/national.toml, line 11, measure progress8, polarity: polarity 'higher' is not one of: x")
    assert str(Issue("form", None, None, None, "no group with id 9")) == "form: no group with id 9"


def test_the_source_kinds_are_the_importers_kinds() -> None:
    assert set(SOURCE_KINDS) == set(REGISTRY_KIND.values())


def test_every_rule_is_listed_in_the_method_doc() -> None:
    text = METHOD.read_text(encoding="utf-8")
    section = text.split("## Registry validation", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- `(\w+)`", section, re.MULTILINE)
    assert listed == [r.__name__ for r in RULES]


def test_the_good_fixture_is_valid_toml_of_the_registrys_shape() -> None:
    raw = tomllib.loads((REGISTRY / "good.toml").read_text(encoding="utf-8"))
    assert [m["id"] for m in raw["measure"]] == ["progress8", "attainment8", "basics_94", "fsm_pct", "teachers_fte",
                                                 "cpd_hours", "cpd_hours_per_teacher", "ks2_rwm_expected"]


def test_the_formula_language_and_the_validator_use_the_standard_library_only() -> None:
    watched = ("streamlit", "duckdb", "plotly", "pandas", "numpy", "pydeck")
    code = f"import sys, metrics.formula, metrics.validation\nprint(sorted(m for m in {watched!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=METHOD.parents[1], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
