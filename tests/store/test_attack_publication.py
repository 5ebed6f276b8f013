"""Issue 9, leaks to parents through publications: a formula measure carries its inputs' cohorts (point 1),
versions cannot be differenced (point 2; the checker is tests/disclosure.py), and the parents-only store names
no member of staff (point 4). Each test performs the attack on a real demo store."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import duckdb
import pytest
from disclosure import Version, determined

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.outputs.public_export import export_public, public_state_path
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.local_measures import define_local_measure, upload_local_values
from data.services.publications import find_publications, publish, published, withdraw
from data.services.scorecards import scorecard
from metrics.publication import SUPPRESSED, Publication
from metrics.suppression import CARRIED, SECONDARY, VERSIONS

EVERY = ["primary", "secondary"]
MENTORING = {"id": "mentoring", "label": "Pupils with a mentor",
             "description": "Share of the pupils offered mentoring who took it up.",
             "perspective": "inclusion", "unit": "%", "format": ".0f", "polarity": "higher_better", "phases": EVERY,
             "rollup": "pooled_ratio", "scale": 100, "uncertainty": "wilson"}
# The attack: the same number under another name, computed by a formula
MENTORING_PCT = {**MENTORING, "id": "mentoring_pct", "label": "Mentoring (per cent)", "rollup": "weighted_mean",
                 "uncertainty": "none", "formula": "mentoring * 1"}
ACTOR_NAME, ACTOR_EMAIL = "Ada Quillfeather", "ada.quillfeather@school.example"


@pytest.fixture()
def world(demo_store: Store) -> dict:
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    assert group
    period = schools.periods(demo_store)[-1]
    return {"store": demo_store, "gid": group.group_id, "period": period,
            "members": groups.group_members(demo_store, group.group_id, period),
            "leader": Viewer(Role.LEADER, group.group_id, ACTOR_NAME, ACTOR_EMAIL)}


def _mentoring(w: dict, counts: dict[int, tuple[int, int]]) -> None:
    """Define mentoring and mentoring_pct for the group and upload (took it up, were offered) per school."""
    s, gid = w["store"], w["gid"]
    for d in (MENTORING, MENTORING_PCT):
        assert define_local_measure(s, gid, d, actor="governor@example") == []
    lines = ["URN,period,numerator,denominator"] + [f"{u},{w['period']},{n},{d}" for u, (n, d) in counts.items()]
    result = upload_local_values(s, gid, "mentoring", "\n".join(lines).encode(), filename="mentoring.csv",
                                 actor="leader@example")
    assert result.ok, result.issues


def _rows(pub: Publication, measure: str) -> dict[int, object]:
    return {v.urn: v for v in pub.school_values if v.measure == measure}


def _csv_rows(pub: Publication, label: str) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(pub.csv_bytes().decode("utf-8-sig"))))
    return {r[1]: r for r in rows[1:] if r[0] == label}


# ------------------------------------------------------------------------------ point 1: formula cohorts


def test_a_formula_over_a_tiny_cohort_does_not_show_its_value_to_parents(world: dict) -> None:
    members = world["members"]
    assert len(members) >= 4
    tiny, *rest = members
    # 3 of 4 pupils at the tiny school (75%); the others 40..59% of 20..35 pupils, never 75%
    counts = {tiny: (3, 4), **{u: (8 + i, 20 + i) for i, u in enumerate(rest)}}
    _mentoring(world, counts)
    pub, problems = publish(world["store"], world["leader"], world["gid"], world["period"],
                            ["mentoring", "mentoring_pct"], {})
    assert problems == [] and pub is not None
    plain, formula = _rows(pub, "mentoring"), _rows(pub, "mentoring_pct")
    assert plain[tiny].suppressed and plain[tiny].reason == "fewer than 6 pupils"
    second = [u for u, v in plain.items() if v.reason == SECONDARY]
    assert len(second) == 1
    # the formula is the same number: it hides the same schools, for the same reasons, and keeps no value
    for urn in (tiny, *second):
        assert formula[urn].suppressed and formula[urn].value is None and formula[urn].cohort is None, urn
        assert formula[urn].display == SUPPRESSED
    assert formula[tiny].reason == plain[tiny].reason
    assert {u for u, v in formula.items() if v.suppressed} == {u for u, v in plain.items() if v.suppressed}
    names = {v.urn: v.school_name for v in pub.school_values}
    csv_formula = _csv_rows(pub, MENTORING_PCT["label"])
    for urn in (tiny, *second):
        assert csv_formula[names[urn]][2] == SUPPRESSED
    assert "75" not in "".join(",".join(r) for r in csv_formula.values())
    # and the store holds no value for them either
    assert world["store"].query(
        "SELECT count(*) FROM publication_school_values WHERE publication_id = ? AND measure = 'mentoring_pct' "
        "AND urn IN (SELECT unnest(?::INTEGER[])) AND (value IS NOT NULL OR NOT suppressed)",
        [pub.publication_id, [tiny, *second]])[0][0] == 0


def test_a_formula_over_an_input_without_cohorts_agrees_with_it(world: dict) -> None:
    """Where an input has no cohort in the file, it is weighed by pupils on roll, and so is the formula: the two
    hide the same schools and show the same values (a guard that the formula rule agrees with its input)."""
    s, gid = world["store"], world["gid"]
    for d in ({**MENTORING, "rollup": "weighted_mean", "uncertainty": "none"}, MENTORING_PCT):
        assert define_local_measure(s, gid, d, actor="governor@example") == []
    tiny, *rest = world["members"]
    lines = ["URN,period,value,cohort", f"{tiny},{world['period']},75,"] + [
        f"{u},{world['period']},{40 + i},{20 + i}" for i, u in enumerate(rest)]
    assert upload_local_values(s, gid, "mentoring", "\n".join(lines).encode(), filename="m.csv", actor="l").ok
    # the tiny school's value has no cohort: the input uses pupils on roll for it, and so must the formula
    pub, problems = publish(s, world["leader"], gid, world["period"], ["mentoring", "mentoring_pct"], {})
    assert problems == [] and pub is not None
    plain, formula = _rows(pub, "mentoring"), _rows(pub, "mentoring_pct")
    assert {u for u, v in formula.items() if v.suppressed} == {u for u, v in plain.items() if v.suppressed}
    assert [v.value for v in formula.values() if not v.suppressed] == [
        v.value for v in plain.values() if not v.suppressed]


def test_the_scorecard_gives_a_formula_its_smallest_input_cohort(world: dict) -> None:
    members = world["members"]
    tiny, *rest = members
    _mentoring(world, {tiny: (3, 4), **{u: (8 + i, 20 + i) for i, u in enumerate(rest)}})
    school = scorecard(world["store"], school=tiny, period=world["period"], measures=["mentoring", "mentoring_pct"])
    rows = {r.measure: r for r in school.rows}
    assert rows["mentoring"].cohort == 4
    assert rows["mentoring_pct"].cohort == rows["mentoring"].cohort
    group = scorecard(world["store"], group=str(world["gid"]), period=world["period"],
                      measures=["mentoring", "mentoring_pct"])
    g = {r.measure: r for r in group.rows}
    assert g["mentoring_pct"].cohort == g["mentoring"].cohort == 4 + sum(20 + i for i in range(len(rest)))


# ------------------------------------------------------------------------------ point 4: no staff in the copy


def _text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' "
                       "AND data_type IN ('VARCHAR', 'JSON') ORDER BY ALL").fetchall()


def test_the_parents_only_store_names_no_member_of_staff(world: dict, tmp_path: Path) -> None:
    s, gid, leader = world["store"], world["gid"], world["leader"]
    for measures in (["fsm_pct"], ["fsm_pct", "overall_absence"], ["overall_absence"]):
        pub, problems = publish(s, leader, gid, world["period"], measures, {})
        assert problems == [] and pub is not None
    other = groups.find_group(s, "Copperham Schools Alliance")
    assert other
    admin = Viewer(Role.ADMIN, None, ACTOR_NAME, ACTOR_EMAIL)
    gone, _ = publish(s, admin, other.group_id, world["period"], ["fsm_pct"], {})
    assert gone is not None and withdraw(s, admin, gone.publication_id) == []
    # the staff store does record who did it
    assert s.query("SELECT count(*) FROM publications WHERE created_by LIKE ?", [f"%{ACTOR_EMAIL}%"])[0][0] == 4
    out = tmp_path / "public.duckdb"
    counts = export_public(s, out)
    assert counts["publications"] == 1
    con = duckdb.connect(str(out), read_only=True)
    try:
        cols = _text_columns(con)
        assert ("publications", "created_by") in cols
        found = []
        for table, column in cols:
            for needle in (ACTOR_EMAIL, ACTOR_NAME, "quillfeather"):
                n = con.execute(f'SELECT count(*) FROM "{table}" WHERE lower("{column}") LIKE ?',  # noqa: S608
                                [f"%{needle.lower()}%"]).fetchall()[0][0]
                if n:
                    found.append((table, column, needle, n))
        assert found == []
    finally:
        con.close()
    # and its state file, where the publications are (issue 12 point 8): every column of every table
    lite = sqlite3.connect(public_state_path(out))
    try:
        tables = [r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert "publications" in tables
        found = []
        for table in tables:
            for (column,) in lite.execute("SELECT name FROM pragma_table_info(?)", [table]).fetchall():
                for needle in (ACTOR_EMAIL, ACTOR_NAME, "quillfeather"):
                    n = lite.execute(f'SELECT count(*) FROM "{table}" WHERE lower("{column}") LIKE ?',  # noqa: S608
                                     [f"%{needle.lower()}%"]).fetchone()[0]
                    if n:
                        found.append((table, column, needle, n))
        assert found == []
        assert lite.execute("SELECT created_by, status_changed_by FROM publications").fetchall() == [(None, None)]
    finally:
        lite.close()
    # the public reads never hand a person's name to the parents' pages either
    with Store(out, read_only=True) as public:
        found_pubs = find_publications(public, "")
        shown = repr(found_pubs) + repr(published(public, found_pubs[0]["publication_id"]))
        assert ACTOR_EMAIL not in shown and ACTOR_NAME not in shown


# ------------------------------------------------------------------------------ point 2: versions


def _facts(pub: Publication, measure: str, counts: dict[int, tuple[int, int]]) -> Version:
    """What a visitor holding this version knows (with every school's true cell, for the checker)."""
    rows = _rows(pub, measure)
    item = next(i for i in pub.items if i.measure == measure)
    return Version({str(u): (n, d) for u, (n, d) in counts.items() if d > 0},
                   frozenset(str(u) for u, v in rows.items() if not v.suppressed and v.value is not None),
                   item.group_value is not None)


def _republish(w: dict, counts: dict[int, tuple[int, int]]) -> Publication:
    lines = ["URN,period,numerator,denominator"] + [f"{u},{w['period']},{n},{d}" for u, (n, d) in counts.items()]
    assert upload_local_values(w["store"], w["gid"], "mentoring", "\n".join(lines).encode(), filename="fix.csv",
                               actor="leader@example").ok
    pub, problems = publish(w["store"], w["leader"], w["gid"], w["period"], ["mentoring"], {})
    assert problems == [] and pub is not None
    return pub


def test_a_correction_at_a_hidden_school_cannot_be_read_off_two_versions(world: dict) -> None:
    """v1 shows the total with the tiny school at 0 of 4 hidden; it is withdrawn, corrected to 4 of 4 and
    published again. The two totals differ by exactly 4 pupils: both of the tiny school's results pinned."""
    tiny, *rest = world["members"]
    before = {tiny: (0, 4), **{u: (8 + i, 20 + i) for i, u in enumerate(rest)}}
    _mentoring(world, before)
    v1, _ = publish(world["store"], world["leader"], world["gid"], world["period"], ["mentoring"], {})
    assert v1 is not None and v1.items[0].group_value is not None and _rows(v1, "mentoring")[tiny].suppressed
    assert withdraw(world["store"], world["leader"], v1.publication_id) == []
    after = {**before, tiny: (4, 4)}
    v2 = _republish(world, after)
    assert _rows(v2, "mentoring")[tiny].suppressed
    assert determined([_facts(v1, "mentoring", before), _facts(v2, "mentoring", after)]) == []
    assert v2.items[0].suppressed and v2.items[0].suppressed_reason == VERSIONS


def test_a_school_hidden_in_one_version_is_not_shown_in_the_next(world: dict) -> None:
    """v1 hides the tiny school and, with it, the next smallest (secondary). A correction makes a third school
    the smallest shown: on its own v2 would hide that one and show v1's secondary school, and v1's total then
    gives the tiny school's result. It stays hidden, and v2 shows the same equation again."""
    tiny, *rest = world["members"]
    before = {tiny: (3, 4), **{u: (8 + i, 20 + i) for i, u in enumerate(rest)}}
    _mentoring(world, before)
    v1, _ = publish(world["store"], world["leader"], world["gid"], world["period"], ["mentoring"], {})
    assert v1 is not None
    second = [u for u, v in _rows(v1, "mentoring").items() if v.reason == SECONDARY]
    assert second == [rest[0]]
    after = {**before, rest[-1]: (5, 10)}  # now the smallest shown school
    v2 = _republish(world, after)
    rows = _rows(v2, "mentoring")
    assert rows[rest[0]].suppressed and rows[rest[0]].reason == CARRIED and not rows[rest[-1]].suppressed
    assert v2.items[0].group_value is not None  # the hidden schools are unchanged: the same equation again
    assert determined([_facts(v1, "mentoring", before), _facts(v2, "mentoring", after)]) == []


def test_fingerprints_stay_in_the_staff_store(world: dict, tmp_path: Path) -> None:
    tiny, *rest = world["members"]
    _mentoring(world, {tiny: (3, 4), **{u: (8 + i, 20 + i) for i, u in enumerate(rest)}})
    pub, _ = publish(world["store"], world["leader"], world["gid"], world["period"], ["mentoring"], {})
    assert pub is not None
    prints = world["store"].query("SELECT fingerprint FROM publication_school_values WHERE publication_id = ?",
                                  [pub.publication_id])
    assert prints and all(p and p != "3/4" for (p,) in prints)
    out = tmp_path / "public.duckdb"
    export_public(world["store"], out)
    con = duckdb.connect(str(out), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM publication_school_values WHERE fingerprint IS NOT NULL").fetchall() \
            == [(0,)]
        assert con.execute("SELECT count(*) FROM settings WHERE key = 'publication_key'").fetchall() == [(0,)]
    finally:
        con.close()


def test_a_formula_cannot_be_differenced_with_its_inputs_earlier_version(world: dict) -> None:
    """v1 publishes mentoring (the tiny school, 0 of 4, hidden); after the correction to 4 of 4, v2 publishes
    only mentoring_pct = mentoring * 1. The same numbers under another name: compared like versions of one."""
    tiny, *rest = world["members"]
    before = {tiny: (0, 4), **{u: (8 + i, 20 + i) for i, u in enumerate(rest)}}
    _mentoring(world, before)
    v1, _ = publish(world["store"], world["leader"], world["gid"], world["period"], ["mentoring"], {})
    assert v1 is not None and v1.items[0].group_value is not None
    after = {**before, tiny: (4, 4)}
    lines = ["URN,period,numerator,denominator"] + [f"{u},{world['period']},{n},{d}" for u, (n, d) in after.items()]
    assert upload_local_values(world["store"], world["gid"], "mentoring", "\n".join(lines).encode(),
                               filename="fix.csv", actor="leader@example").ok
    v2, _ = publish(world["store"], world["leader"], world["gid"], world["period"], ["mentoring_pct"], {})
    assert v2 is not None and _rows(v2, "mentoring_pct")[tiny].suppressed
    assert determined([_facts(v1, "mentoring", before), _facts(v2, "mentoring_pct", after)]) == []
    assert v2.items[0].suppressed_reason == VERSIONS


def test_a_formula_whose_input_has_no_known_cohort_is_hidden(world: dict) -> None:
    """An input value with no cohort and no pupils on roll known for the school: the formula's cohort is unknown,
    so it is hidden there (primary), and the total with it (it would weigh that school in unknown ways)."""
    s, gid, period = world["store"], world["gid"], world["period"]
    for d in ({**MENTORING, "rollup": "weighted_mean", "uncertainty": "none"}, MENTORING_PCT):
        assert define_local_measure(s, gid, d, actor="governor@example") == []
    tiny, *rest = world["members"]
    lines = ["URN,period,value,cohort", f"{tiny},{period},75,"] + [
        f"{u},{period},{40 + i},{20 + i}" for i, u in enumerate(rest)]
    assert upload_local_values(s, gid, "mentoring", "\n".join(lines).encode(), filename="m.csv", actor="l").ok
    with s.results_transaction() as cur:  # nothing says how many pupils the tiny school has
        cur.execute("DELETE FROM observations WHERE urn = ? AND measure = 'pupils'", [tiny])
        cur.execute("UPDATE establishments SET pupils = NULL WHERE urn = ?", [tiny])
    pub, problems = publish(s, world["leader"], gid, period, ["mentoring_pct"], {})
    assert problems == [] and pub is not None
    row = _rows(pub, "mentoring_pct")[tiny]
    assert row.suppressed and row.value is None and "not known" in (row.reason or "")
    assert pub.items[0].suppressed


def _set(store: Store, urn: int, measure: str, period: str, num: float, den: float) -> None:
    with store.results_transaction() as cur:
        cur.execute("UPDATE observations SET denominator = ?, numerator = ?, value = ? * 100 / ?, status = 'ok' "
                    "WHERE level = 'school' AND urn = ? AND measure = ? AND period = ?",
                    [den, num, num, den, urn, measure, period])


@pytest.mark.parametrize("corrected", [False, True])
def test_the_trend_words_are_not_a_new_version_of_an_earlier_year(world: dict, corrected: bool) -> None:
    """The trend words show an earlier year's total: after a correction at a school that year's own publication
    hid, they would be a second equation for that year. They are left out then, and only then."""
    s, last = world["store"], world["period"]
    # the earliest year with KS2 results (the demo's destinations reach two years further back: their leavers' year)
    first = s.query("SELECT min(period) FROM observations WHERE level = 'school' "
                    "AND measure = 'ks2_rwm_expected'")[0][0]
    both = set(world["members"]) & set(groups.group_members(s, world["gid"], first))
    with s.results_transaction() as cur:  # the same schools count in that year's publication and in today's trend
        cur.execute("UPDATE observations SET value = NULL, numerator = NULL, status = 'missing' WHERE level = "
                    "'school' AND measure = 'ks2_rwm_expected' AND period = ? "
                    "AND NOT list_contains(?::INTEGER[], urn)", [first, sorted(both)])
    have = {u for (u,) in s.query("SELECT urn FROM observations WHERE level = 'school' AND measure = "
                                  "'ks2_rwm_expected' AND period = ? AND value IS NOT NULL "
                                  "AND urn IN (SELECT unnest(?::INTEGER[]))", [first, sorted(both)])}
    small = sorted(have)[0]
    _set(s, small, "ks2_rwm_expected", first, 0, 4)
    then, _ = publish(s, world["leader"], world["gid"], first, ["ks2_rwm_expected"], {})
    assert then is not None and then.items[0].group_value is not None
    assert _rows(then, "ks2_rwm_expected")[small].suppressed
    if corrected:
        _set(s, small, "ks2_rwm_expected", first, 4, 4)
    now, _ = publish(s, world["leader"], world["gid"], last, ["ks2_rwm_expected"], {})
    assert now is not None
    assert (now.items[0].trend_words == "") is corrected
    if not corrected:
        assert f"in {first}" in now.items[0].trend_words
