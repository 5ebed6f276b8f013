"""A joint publication includes only the member schools that agreed (issue 11, point 2): the others are left out
of the schools, the values and the pooled totals, and the publication says so in a sentence."""

from __future__ import annotations

import pytest
from disclosure import Version, determined

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.consent import member_urns, record_consent, record_consents
from data.services.local_measures import define_local_measure, upload_local_values
from data.services.publications import build_publication, publish, published
from metrics.publication import Publication
from metrics.suppression import SECONDARY

ADMIN = Viewer(Role.ADMIN, None, "Data manager")
MENTORING = {"id": "mentoring", "label": "Pupils with a mentor",
             "description": "Share of the pupils offered mentoring who took it up.",
             "perspective": "inclusion", "unit": "%", "format": ".1f", "polarity": "higher_better",
             "phases": ["primary", "secondary"], "rollup": "pooled_ratio", "scale": 100, "uncertainty": "wilson"}


@pytest.fixture()
def world(demo_store: Store) -> dict:
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    assert group
    period = schools.periods(demo_store)[-1]
    members = groups.group_members(demo_store, group.group_id, period)
    assert len(members) >= 4 and set(members) <= set(member_urns(demo_store, group.group_id, period))
    names = dict(demo_store.query("SELECT urn, name FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                                  [members]))
    return {"store": demo_store, "gid": group.group_id, "period": period, "members": members, "names": names}


def _mentoring(w: dict, counts: dict[int, tuple[int, int]]) -> None:
    s, gid = w["store"], w["gid"]
    assert define_local_measure(s, gid, MENTORING, actor="governor@example") == []
    lines = ["URN,period,numerator,denominator"] + [f"{u},{w['period']},{n},{d}" for u, (n, d) in counts.items()]
    result = upload_local_values(s, gid, "mentoring", "\n".join(lines).encode(), filename="mentoring.csv",
                                 actor="leader@example")
    assert result.ok, result.issues


def test_a_school_that_declined_is_left_out_and_not_pooled(world: dict) -> None:  # issue 11 point 2
    s, gid, members = world["store"], world["gid"], world["members"]
    declined, keen, *rest = members
    # the declining school took up 19 of 20 places; the keen one 14 of 20; every other 10 of 20
    _mentoring(world, {declined: (19, 20), keen: (14, 20), **{u: (10, 20) for u in rest}})
    everyone, problems = build_publication(s, ADMIN, gid, world["period"], ["mentoring"], {})
    assert problems == [] and everyone is not None
    n = len(members)
    # all agreed: (19 + 14 + 10 (n - 2)) / 20 n
    assert everyone.items[0].group_value == pytest.approx(100 * (33 + 10 * (n - 2)) / (20 * n))
    assert record_consent(s, ADMIN, gid, declined, False, "Governors prefer to publish alone") == []
    pub, problems = build_publication(s, ADMIN, gid, world["period"], ["mentoring"], {})
    assert problems == [] and pub is not None
    # the agreed schools only: (14 + 10 (n - 2)) / 20 (n - 1); with the flagship's 10 schools 94 / 180 = 52.2%
    expected = 100 * (14 + 10 * (n - 2)) / (20 * (n - 1))
    assert pub.items[0].group_value == pytest.approx(expected)
    if n == 10:
        assert pub.items[0].group_display == "52.2%"
    assert declined not in {x.urn for x in pub.schools}
    assert declined not in {v.urn for v in pub.school_values}
    assert [(x.urn, x.answer) for x in pub.left_out] == [(declined, "declined")]
    assert pub.left_out_words == (
        f"1 of the partnership's {n} schools has not agreed to publish jointly, so its results are not included: "
        f"{world['names'][declined]}.")


def test_the_sentence_names_every_school_left_out_and_is_kept_with_the_copy(world: dict) -> None:
    # issue 11 point 2
    s, gid, members = world["store"], world["gid"], world["members"]
    a, b, *rest = members
    assert record_consents(s, ADMIN, gid, {a: False, b: False}) == []
    pub, problems = publish(s, ADMIN, gid, world["period"], ["overall_absence"], {})
    assert problems == [] and pub is not None
    names = sorted([world["names"][a], world["names"][b]])
    assert pub.left_out_words == (
        f"2 of the partnership's {len(members)} schools have not agreed to publish jointly, so their results are "
        f"not included: {names[0]}, {names[1]}.")
    assert {x.urn for x in pub.schools} == set(rest)
    assert published(s, pub.publication_id).left_out_words == pub.left_out_words
    assert s.query("SELECT urn, answer FROM publication_left_out WHERE publication_id = ? ORDER BY urn",
                   [pub.publication_id]) == sorted([(a, "declined"), (b, "declined")])
    audit = s.query("SELECT after_json FROM audit_log WHERE action = 'publish' AND entity_id = ?",
                    [str(pub.publication_id)])[0][0]
    assert f'"left_out": [{min(a, b)}, {max(a, b)}]' in audit


def test_a_school_never_asked_is_left_out_too(world: dict) -> None:  # issue 11 point 2
    s, gid = world["store"], world["gid"]
    other = groups.find_group(s, "Copperham Schools Alliance")
    newcomer = next(u for u in groups.group_members(s, other.group_id) if u not in world["members"])
    groups.add_memberships(s, gid, [newcomer], "2025-09-01", None, actor="test", source="test")
    pub, problems = build_publication(s, ADMIN, gid, world["period"], ["overall_absence"], {})
    assert problems == [] and pub is not None
    assert [(x.urn, x.answer) for x in pub.left_out] == [(newcomer, "not asked")]
    assert newcomer not in {x.urn for x in pub.schools}


def test_publishing_with_no_school_agreed_is_refused_in_words(world: dict) -> None:  # issue 11 point 2
    s, gid = world["store"], world["gid"]
    assert record_consents(s, ADMIN, gid, {u: False for u in member_urns(s, gid, world["period"])}) == []
    before = s.query("SELECT count(*) FROM publications")[0][0]
    pub, problems = publish(s, ADMIN, gid, world["period"], ["overall_absence"], {})
    assert pub is None
    assert problems == ["None of the partnership's schools has agreed to publish its results jointly yet: record "
                        "the schools' answers first."]
    assert s.query("SELECT count(*) FROM publications")[0][0] == before


def _facts(pub: Publication, counts: dict[int, tuple[int, int]]) -> Version:
    """What a visitor holding this version knows: the cells its total counts (its schools only), which it showed."""
    listed = {x.urn for x in pub.schools}
    rows = {v.urn: v for v in pub.school_values if v.measure == "mentoring"}
    return Version({str(u): c for u, c in counts.items() if u in listed and c[1] > 0},
                   frozenset(str(u) for u, v in rows.items() if not v.suppressed and v.value is not None),
                   pub.items[0].group_value is not None)


@pytest.mark.parametrize("who", ["hidden", "shown"])
def test_a_school_leaving_the_publication_cannot_be_worked_out_from_two_versions(world: dict, who: str) -> None:
    """v1 pools every school (a tiny one and a second school hidden, the total shown); then one school declines and
    v2 pools the others. The two totals differ by the leaving school's cell: when it was hidden in v1 that would pin
    it (and with it the tiny school), so v2 must not show a total that allows it."""  # issue 11 point 2
    s, gid, members = world["store"], world["gid"], world["members"]
    tiny, *rest = members
    counts = {tiny: (3, 4), **{u: (8 + i, 20 + i) for i, u in enumerate(rest)}}
    _mentoring(world, counts)
    v1, problems = publish(s, ADMIN, gid, world["period"], ["mentoring"], {})
    assert problems == [] and v1 is not None and v1.items[0].group_value is not None
    rows = {v.urn: v for v in v1.school_values}
    second = [u for u, v in rows.items() if v.reason == SECONDARY]
    assert rows[tiny].suppressed and len(second) == 1
    leaving = second[0] if who == "hidden" else rest[-1]
    assert record_consent(s, ADMIN, gid, leaving, False) == []
    v2, problems = publish(s, ADMIN, gid, world["period"], ["mentoring"], {})
    assert problems == [] and v2 is not None and leaving not in {x.urn for x in v2.schools}
    assert determined([_facts(v1, counts), _facts(v2, counts)]) == []
