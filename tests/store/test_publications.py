"""Publications for parents: the preview is what gets published; a publication is a fixed copy with versions and
a history; only a group's leaders and admins publish; parents reach only current published versions; small
cohorts are hidden (with secondary suppression) and a hidden value is never stored."""

from __future__ import annotations

import pytest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, local_measures, schools
from data.services.access import Role, Viewer
from data.services.publications import (
    MAX_COMMENTARY,
    REFUSED_GROUP,
    REFUSED_ROLE,
    build_publication,
    find_publications,
    publication_history,
    publication_version,
    publish,
    published,
    withdraw,
)
from metrics.publication import SUPPRESSED, WHOLE_GROUP
from metrics.suppression import SECONDARY

PUB_TABLES = ("publications", "publication_items", "publication_school_values", "publication_schools")
MEASURES = ["ks2_rwm_expected", "overall_absence", "fsm_pct", "attainment8"]
ADMIN = Viewer(Role.ADMIN, None, "Data manager")


@pytest.fixture()
def world(demo_store: Store) -> dict:
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    other = groups.find_group(demo_store, "Copperham Schools Alliance")
    assert group and other
    _set_aside_the_demos_own_publication(demo_store, group.group_id)
    return {"store": demo_store, "gid": group.group_id, "other": other.group_id,
            "period": schools.periods(demo_store)[-1],
            "leader": Viewer(Role.LEADER, group.group_id, "Leader"),
            "governor": Viewer(Role.GOVERNOR, group.group_id, "Governor"),
            "stranger": Viewer(Role.LEADER, other.group_id, "Other leader")}


def _set_aside_the_demos_own_publication(store: Store, group_id: int) -> None:
    """These tests are about a group's publications from its first: the one the demo ships (data.demo.publication,
    tested in tests/store/test_demo_publication.py) is taken out of this private copy, all of its rows."""
    pids = [r[0] for r in store.query("SELECT publication_id FROM publications WHERE group_id = ?", [group_id])]
    assert pids, "the demo ships a publication of its flagship partnership"
    marks = ", ".join("?" * len(pids))  # publications are state tables: the state store's dialect
    with store.transaction() as cur:
        for table in (*PUB_TABLES[1:], "publication_left_out", "publications"):
            cur.execute(f"DELETE FROM {table} WHERE publication_id IN ({marks})", pids)  # noqa: S608
        cur.execute("DELETE FROM audit_log WHERE entity = 'publication' AND group_id = ?", [group_id])


def tables(store: Store) -> dict[str, list[tuple]]:
    out = {t: store.query(f"SELECT * FROM {t} ORDER BY ALL") for t in PUB_TABLES}
    out["audit_log"] = store.query("SELECT * FROM audit_log ORDER BY ALL")
    return out


def publish_ok(w: dict, viewer: Viewer | None = None, measures: list[str] | None = None,
               commentary: dict[str, str] | None = None):
    pub, problems = publish(w["store"], viewer or w["leader"], w["gid"], w["period"], measures or MEASURES,
                            commentary or {})
    assert problems == [] and pub is not None
    return pub


# ------------------------------------------------------------------------------ preview and copy


def test_the_preview_is_exactly_what_is_published(world: dict) -> None:
    s, note = world["store"], {"ks2_rwm_expected": "Reading has been our shared focus this year."}
    preview, problems = build_publication(s, world["leader"], world["gid"], world["period"], MEASURES, note)
    assert problems == [] and preview is not None
    assert preview.publication_id is None and preview.status == "preview" and preview.version == 1
    pub = publish_ok(world, commentary=note)
    assert pub.publication_id is not None and pub.status == "published" and pub.version == 1 and pub.created_at
    assert pub.content() == preview.content()
    assert published(s, pub.publication_id) == pub
    assert [i.measure for i in pub.items] == MEASURES
    assert pub.items[0].commentary == note["ks2_rwm_expected"]
    assert {x.urn for x in pub.schools} == set(groups.group_members(s, world["gid"], world["period"]))
    assert all(x.name and x.town and x.postcode for x in pub.schools)


def test_words_use_plain_language_and_context_is_not_judged(world: dict) -> None:
    pub = publish_ok(world)
    items = {i.measure: i for i in pub.items}
    ks2 = items["ks2_rwm_expected"]
    assert "schools nationally" in ks2.comparison and "in 10 schools" in ks2.comparison
    assert ks2.similar_words.startswith("the schools range from") or ks2.similar_words.startswith("the schools")
    assert ks2.trend_words and " in 20" in ks2.trend_words
    assert "better than" not in items["fsm_pct"].comparison  # context: described, never judged
    text = " ".join(f"{i.comparison} {i.similar_words} {i.trend_words}" for i in pub.items).lower()
    assert "percentile" not in text and "significan" not in text


def test_publishing_copies_values_so_later_changes_do_not_reach_it(world: dict) -> None:
    s = world["store"]
    pub = publish_ok(world)
    with s.results_transaction() as cur:
        cur.execute("UPDATE observations SET value = 1.0, numerator = 0.5 * denominator / 100 "
                    "WHERE level = 'school' AND measure = 'ks2_rwm_expected' AND period = ? "
                    "AND urn IN (SELECT unnest(?::INTEGER[]))", [world["period"], [x.urn for x in pub.schools]])
        cur.execute("UPDATE establishments SET name = 'Renamed' WHERE urn = ?", [pub.schools[0].urn])
    now, _ = build_publication(s, world["leader"], world["gid"], world["period"], MEASURES, {})
    assert now is not None and now.content() != pub.content()  # the live data did change
    assert published(s, pub.publication_id) == pub  # the publication did not


# ------------------------------------------------------------------------------ versions, withdrawal, history


def test_publishing_again_makes_a_new_version_and_replaces_the_old(world: dict) -> None:
    s = world["store"]
    v1 = publish_ok(world)
    v2 = publish_ok(world, measures=["fsm_pct"])
    assert (v1.version, v2.version) == (1, 2)
    assert published(s, v1.publication_id) is None
    assert published(s, v2.publication_id) == v2
    hist = publication_history(s, world["leader"], world["gid"])
    assert [(h["version"], h["status"]) for h in hist] == [(2, "published"), (1, "replaced")]
    assert hist[0]["created_by"] == "Leader" and hist[0]["measures"] == 1
    old = publication_version(s, world["leader"], v1.publication_id)
    assert old is not None and old.status == "replaced" and old.content() == v1.content()
    assert [m["publication_id"] for m in find_publications(s, "")] == [v2.publication_id]
    actions = [r[0] for r in s.query("SELECT action FROM audit_log WHERE entity = 'publication' ORDER BY audit_id")]
    assert actions == ["publish", "publish"]


def test_withdrawing_hides_it_from_parents_but_keeps_the_history(world: dict) -> None:
    s = world["store"]
    pub = publish_ok(world)
    assert withdraw(s, world["governor"], pub.publication_id) == [REFUSED_ROLE]
    assert withdraw(s, world["stranger"], pub.publication_id) == [REFUSED_GROUP]
    assert published(s, pub.publication_id) == pub
    assert withdraw(s, world["leader"], pub.publication_id) == []
    assert published(s, pub.publication_id) is None
    assert find_publications(s, "") == []
    hist = publication_history(s, ADMIN, world["gid"])
    assert [(h["version"], h["status"], h["status_changed_by"]) for h in hist] == [(1, "withdrawn", "Leader")]
    assert withdraw(s, world["leader"], pub.publication_id)  # already withdrawn: a problem, not an error
    assert withdraw(s, ADMIN, 999_999) == ["There is no publication with id 999999."]
    assert s.query("SELECT action FROM audit_log WHERE entity = 'publication' ORDER BY audit_id") == [
        ("publish",), ("withdraw",)]
    assert published(s, 999_999) is None


def test_history_is_for_the_groups_leaders_and_admins_only(world: dict) -> None:
    s = world["store"]
    publish_ok(world)
    assert len(publication_history(s, ADMIN, world["gid"])) == 1
    assert publication_history(s, world["governor"], world["gid"]) == []
    assert publication_history(s, world["stranger"], world["gid"]) == []


# ------------------------------------------------------------------------------ who may publish, what


@pytest.mark.parametrize("who", ["governor", "stranger"])
def test_governors_and_other_groups_leaders_cannot_publish(world: dict, who: str) -> None:
    s = world["store"]
    before = tables(s)
    pub, problems = publish(s, world[who], world["gid"], world["period"], MEASURES, {})
    assert pub is None and problems == [REFUSED_ROLE if who == "governor" else REFUSED_GROUP]
    preview, problems = build_publication(s, world[who], world["gid"], world["period"], MEASURES, {})
    assert preview is None and problems
    assert tables(s) == before


def test_an_admin_may_publish_for_any_group(world: dict) -> None:
    pub, problems = publish(world["store"], ADMIN, world["other"], world["period"], ["fsm_pct"], {})
    assert problems == [] and pub is not None and pub.group_id == world["other"]


def test_bad_requests_are_refused_in_words_and_nothing_is_written(world: dict) -> None:
    s = world["store"]
    before = tables(s)
    cases = [
        ([], {}, "Choose at least one measure"),
        (["no_such_measure"], {}, "There is no measure 'no_such_measure'"),
        (["fsm_pct", "fsm_pct"], {}, "more than once"),
        (["fsm_pct"], {"fsm_pct": "x" * (MAX_COMMENTARY + 1)}, f"keep it to {MAX_COMMENTARY} or fewer"),
        (["fsm_pct"], {"attainment8": "Not chosen"}, "not chosen"),
    ]
    for measures, note, words in cases:
        pub, problems = publish(s, world["leader"], world["gid"], world["period"], measures, note)
        assert pub is None and any(words in p for p in problems), (measures, problems)
    pub, problems = publish(s, world["leader"], world["gid"], "someday", ["fsm_pct"], {})
    assert pub is None and problems
    pub, problems = publish(s, world["leader"], world["gid"], "2001/02", ["fsm_pct"], {})
    assert pub is None and problems  # no results that year: said in words, not raised
    assert tables(s) == before
    ok, problems = build_publication(s, world["leader"], world["gid"], world["period"], ["fsm_pct"],
                                     {"fsm_pct": "x" * MAX_COMMENTARY})
    assert ok is not None and problems == []


def test_local_measures_of_the_group_may_be_published(world: dict) -> None:
    s = world["store"]
    local = [d["id"] for d in local_measures.local_measures(s, world["gid"])]
    assert local
    pub = publish_ok(world, measures=local[:2])
    assert [i.measure for i in pub.items] == local[:2]


# ------------------------------------------------------------------------------ parents' reads


def test_parents_find_publications_by_name_school_town_and_postcode(world: dict) -> None:
    s = world["store"]
    pub = publish_ok(world)
    school = next(x for x in pub.schools if "Moor" in x.name)
    found = lambda text: [m["publication_id"] for m in find_publications(s, text)]  # noqa: E731
    assert found("learning PARTNERSHIP") == [pub.publication_id]
    assert found("moor primary") == [pub.publication_id]
    assert find_publications(s, "moor primary")[0]["matched_schools"] == [school.name]
    assert found(school.town.upper()) == [pub.publication_id]
    assert found(school.postcode[:5].lower()) == [pub.publication_id]
    assert found(school.postcode.replace(" ", "")) == [pub.publication_id]
    assert found("  ") == [pub.publication_id]  # nothing typed: every current publication
    hit = find_publications(s, "")[0]
    assert hit["group_name"] == FLAGSHIP_PARTNERSHIP and hit["schools"] == len(pub.schools) and hit["towns"]
    for text in ("%", "_", "'", "' OR 1=1 --", "\\", "%moor%", "Copperham", "zzz"):
        assert found(text) == [], text  # wildcards are literal; quotes are only text
    assert tables(s)["publications"]  # and nothing was harmed


def test_parents_never_reach_unpublished_versions(world: dict) -> None:
    s = world["store"]
    v1 = publish_ok(world)
    v2 = publish_ok(world)
    assert withdraw(s, world["leader"], v2.publication_id) == []
    for pid in (v1.publication_id, v2.publication_id, 0, -1, 10**9):
        assert published(s, pid) is None
    assert find_publications(s, "") == []
    assert published(s, "1; DROP TABLE publications") is None  # type: ignore[arg-type]


def test_the_csv_for_parents(world: dict) -> None:
    pub = publish_ok(world, commentary={"fsm_pct": "=HYPERLINK(\"x\")"})
    text = pub.csv_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "measure,school,value,national,suppressed reason,commentary"
    assert sum(WHOLE_GROUP in line for line in lines) == len(pub.items)
    # with each measure's disadvantaged pupils (issue 13 point 4): the partnership's, then each school's two groups
    assert len(lines) == 1 + len(pub.items) + len(pub.school_values) + len(pub.gaps) + len(pub.group_values)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # a spreadsheet will not run it


# ------------------------------------------------------------------------------ suppression


def _shrink(store: Store, urn: int, measure: str, period: str, den: float, value: float) -> None:
    with store.results_transaction() as cur:
        cur.execute("UPDATE observations SET denominator = ?, numerator = ? * ? / 100, value = ?, status = 'ok' "
                    "WHERE level = 'school' AND urn = ? AND measure = ? AND period = ?",
                    [den, value, den, value, urn, measure, period])


def test_a_small_cohort_is_suppressed_with_a_second_school_and_never_stored(world: dict) -> None:
    s, period = world["store"], world["period"]
    members = groups.group_members(s, world["gid"], period)
    have = {u for (u,) in s.query("SELECT urn FROM observations WHERE level = 'school' AND measure = "
                                  "'ks2_rwm_expected' AND period = ? AND value IS NOT NULL "
                                  "AND urn IN (SELECT unnest(?::INTEGER[]))", [period, members])}
    small = sorted(have)[0]
    _shrink(s, small, "ks2_rwm_expected", period, 3, 66.7)
    pub = publish_ok(world)
    rows = {v.urn: v for v in pub.school_values if v.measure == "ks2_rwm_expected"}
    assert rows[small].suppressed and rows[small].reason == "fewer than 6 pupils"
    assert rows[small].display == SUPPRESSED and rows[small].value is None and rows[small].cohort is None
    second = [u for u, v in rows.items() if v.reason == SECONDARY]
    assert len(second) == 1  # the total is shown, so one more school is hidden with it
    item = next(i for i in pub.items if i.measure == "ks2_rwm_expected")
    assert not item.suppressed and item.group_value is not None
    shown = [v.value for v in rows.values() if not v.suppressed and v.value is not None]
    assert item.similar_words.endswith(f"{max(shown):.0f}%") and f"from {min(shown):.0f}%" in item.similar_words
    # in the store: no hidden value, cohort or number anywhere in the publication's rows for those schools
    stored = s.query("SELECT value, cohort, display FROM publication_school_values WHERE suppressed")
    assert stored and all(v is None and c is None and d == SUPPRESSED for v, c, d in stored)
    for urn in [small, *second]:
        assert s.query("SELECT value, cohort FROM publication_school_values WHERE publication_id = ? AND urn = ? "
                       "AND measure = 'ks2_rwm_expected'", [pub.publication_id, urn]) == [(None, None)]
    assert published(s, pub.publication_id) == pub


def test_a_whole_group_below_the_minimum_hides_the_total(world: dict) -> None:
    s, period = world["store"], world["period"]
    members = groups.group_members(s, world["gid"], period)
    for urn in members:
        _shrink(s, urn, "fsm_pct", period, 0.5, 40.0)
    pub = publish_ok(world, measures=["fsm_pct"])
    item = pub.items[0]
    assert item.suppressed and item.group_value is None and item.group_display == SUPPRESSED
    assert "fewer than 6 pupils in all the schools together" in (item.suppressed_reason or "")
    assert item.comparison == "" and item.trend_words == ""
    assert all(v.suppressed and v.value is None for v in pub.school_values)
    assert s.query("SELECT count(*) FROM publication_items WHERE group_value IS NOT NULL AND suppressed")[0][0] == 0


def test_no_suppressed_value_is_stored_in_any_publication(world: dict) -> None:
    s = world["store"]
    for gid in (world["gid"], world["other"]):
        publish(s, ADMIN, gid, world["period"], MEASURES + ["ks2_rwm_expected_disadvantaged", "progress8"], {})
    assert s.query("SELECT count(*) FROM publication_school_values WHERE suppressed AND "
                   "(value IS NOT NULL OR cohort IS NOT NULL OR display <> 'Suppressed')")[0][0] == 0
    assert s.query("SELECT count(*) FROM publication_school_values WHERE NOT suppressed AND cohort < 6")[0][0] == 0


def test_trend_words_never_reach_across_a_gap_or_a_new_definition(world: dict) -> None:
    """Parents' trend words compare like with like, as the card's change does (issue 10 point 7)."""
    from dataclasses import replace

    from data.services.publications import _before
    from data.services.scorecards import registry_for, scorecard
    from metrics.scorecard import TrendPoint

    s = world["store"]
    card = scorecard(s, group=str(world["gid"]), period=world["period"])
    row = next(r for r in card.rows if r.measure == "ks2_rwm_expected")
    m = registry_for(s).get("ks2_rwm_expected")
    # 2018/19 is across DfE's 2019/20-2020/21 gap from 2021/22: nothing to compare with
    gap = (TrendPoint("2018/19", 60.0, "ok"), TrendPoint("2019/20", None, "not_applicable"),
           TrendPoint("2020/21", None, "not_applicable"), TrendPoint("2021/22", 55.0, "ok"))
    assert _before(replace(row, trend=gap, period="2021/22", value=55.0), m, None, lambda p: {}, None) is None
    # persistent absence changed definition in 2015/16: 2014/15 is not an earlier point of the same measure
    pa = registry_for(s).get("persistent_absence")
    pa_row = next(r for r in card.rows if r.measure == "persistent_absence")
    change = (TrendPoint("2014/15", 12.0, "ok"), TrendPoint("2015/16", 14.0, "ok"))
    assert _before(replace(pa_row, trend=change, period="2015/16", value=14.0), pa, None, lambda p: {}, None) is None
