"""Every read a page may make is scoped by the viewer in the data layer (data.services.scope.READS lists them all).

The world: the demo's flagship partnership (A) and a trust (B), each with its own local measures and values,
targets, chosen measures, support records and publications; one school belongs to both. For every read this
file proves what A's leader gets of their own group and never of B's, that the public gets nothing but
published snapshots, and the admin's wider view. A check at the end fails when a read is added to READS
without a case here.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from data.db.state import copy_store
from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import (
    accounts,
    governance,
    groups,
    inspections,
    local_measures,
    publications,
    schools,
    scope,
    support_log,
)
from data.services.access import AccessDenied, Role, Viewer

A_LOCAL = "community_events"  # one of A's


@dataclass(frozen=True)
class World:
    store: Store
    a: int
    b: int
    shared: int  # a school in both A and B
    only_b: int  # a school in B only
    period: str
    a_pub: int  # A's current published version
    b_withdrawn: int  # B's only publication, withdrawn: nothing of B's is public
    b_name: str
    b_local: str  # one of B's own local measures (uploaded values)

    def leader(self, group: int) -> Viewer:
        return Viewer(Role.LEADER, group, f"leader of {group}")

    def governor(self, group: int) -> Viewer:
        return Viewer(Role.GOVERNOR, group, f"governor of {group}")


ADMIN = Viewer(Role.ADMIN, None, "admin")
PUBLIC = Viewer(Role.PUBLIC, None, "parent")


@pytest.fixture(scope="module")
def world_db(demo_master: Path, tmp_path_factory) -> tuple[Path, dict]:
    """The demo plus B's own data and the school shared by A and B, written through the data layer."""

    path = tmp_path_factory.mktemp("scope") / "scope.duckdb"
    copy_store(demo_master, path)
    with Store(path) as s:
        a = groups.find_group(s, FLAGSHIP_PARTNERSHIP).group_id
        # the demo's second group with local measures of its own (ids prefixed by its initials)
        b, b_local = next((int(d["owner"]), d["id"]) for d in local_measures.local_measures(s)
                          if d["owner"] != str(a) and d["id"].endswith("_community_events"))
        b_name = groups.find_group(s, b).name
        period = schools.periods(s)[-1]
        a_members = groups.group_members(s, a, period)
        b_members = groups.group_members(s, b, period)
        shared = a_members[0]
        groups.add_memberships(s, b, [shared], "2019-09-01", actor="setup")
        only_b = next(u for u in b_members if u not in a_members)
        lead_a, lead_b = Viewer(Role.LEADER, a, "leader A"), Viewer(Role.LEADER, b, "leader B")
        # B's own things: a local measure's value for the shared school, targets, a choice, support, publications
        local_measures.write_local_values(s, b_local, pd.DataFrame({"urn": [shared, only_b], "period": [period] * 2,
                                                                   "value": [41.0, 7.0]}), actor="leader B")
        assert governance.set_targets(s, lead_b, b, period, {"attainment8": 51.5}) == []
        assert governance.set_targets(s, lead_a, a, period, {"attainment8": 47.0}) == []
        # issue 13: a target on B's disadvantage gap, B's business alone
        assert governance.set_gap_target(s, lead_b, b, "attainment8", "2029/30", -7.0) == []
        assert governance.choose_measures(s, lead_b, b, ["attainment8", b_local]) == []
        assert support_log.record_support(s, lead_b, group_id=b, giver=only_b, taker=shared, kind="peer_review",
                                          start_date=f"{period[:4]}-10-01", end_date=None, hours=6,
                                          notes="B's private note") == []
        b_pub, problems = publications.publish(s, lead_b, b, period, ["attainment8"], {})
        assert b_pub is not None, problems
        assert publications.withdraw(s, lead_b, b_pub.publication_id) == []
        a_pub, problems = publications.publish(s, lead_a, a, period, ["attainment8", "ks2_rwm_expected"], {})
        assert a_pub is not None, problems
        assert accounts.add_user(s, "setup", email="head.b@example.org", role="leader", group=b) == []
    return path, {"a": a, "b": b, "shared": shared, "only_b": only_b, "period": period,
                  "a_pub": a_pub.publication_id, "b_withdrawn": b_pub.publication_id, "b_name": b_name,
                  "b_local": b_local}


@pytest.fixture(scope="module")
def world(world_db) -> World:
    path, ids = world_db
    s = Store(path)
    yield World(s, **ids)
    s.close()


def denied(call) -> str:
    with pytest.raises(AccessDenied) as exc:
        call()
    return exc.value.title


def urns_in(df: pd.DataFrame, column: str = "urn") -> set[int]:
    return {int(u) for u in df[column]}


# ---------------------------------------------------------------------------------------- data.services.scope


def case_groups(w: World) -> None:
    mine = scope.groups(w.store, w.leader(w.a))
    assert w.a in mine and w.b not in mine
    assert mine[w.a] == FLAGSHIP_PARTNERSHIP
    assert scope.groups(w.store, PUBLIC) == {}
    everything = scope.groups(w.store, ADMIN)
    assert {w.a, w.b} <= set(everything) and len(everything) > len(mine)


def case_periods(w: World) -> None:
    assert scope.periods(w.store, w.leader(w.a))[-1] == w.period
    # issue 11 point 5: a group's own years (where its pages open); another group's are not the viewer's business
    assert scope.periods(w.store, w.leader(w.a), w.a)[-1] == w.period
    denied(lambda: scope.periods(w.store, w.leader(w.a), w.b))
    denied(lambda: scope.periods(w.store, PUBLIC))


def case_members(w: World) -> None:
    got = scope.members(w.store, w.leader(w.a), w.a, w.period)
    assert urns_in(got) == set(groups.group_members(w.store, w.a, w.period)) and w.only_b not in urns_in(got)
    assert "only your own group" in denied(lambda: scope.members(w.store, w.leader(w.a), w.b, w.period))
    denied(lambda: scope.members(w.store, PUBLIC, w.a, w.period))


def case_school(w: World) -> None:
    assert scope.school(w.store, w.leader(w.a), w.shared)["urn"] == w.shared
    assert "schools of your own group" in denied(lambda: scope.school(w.store, w.leader(w.a), w.only_b))
    assert scope.school(w.store, ADMIN, w.only_b)["urn"] == w.only_b
    denied(lambda: scope.school(w.store, PUBLIC, w.shared))


def case_registry(w: World) -> None:
    ids = set(scope.registry(w.store, w.leader(w.a), w.a).ids())
    assert A_LOCAL in ids and w.b_local not in ids and "progress8" in ids
    denied(lambda: scope.registry(w.store, w.leader(w.a), w.b))
    denied(lambda: scope.registry(w.store, PUBLIC, None))
    # issue 11 "first, a crash": a school's registry knows the local measures of each of its groups the viewer sees
    assert A_LOCAL in scope.registry(w.store, w.leader(w.a), urn=w.shared)
    assert w.b_local not in scope.registry(w.store, w.leader(w.a), urn=w.shared)
    assert w.b_local in scope.registry(w.store, w.leader(w.b), urn=w.shared)
    assert {A_LOCAL, w.b_local} <= set(scope.registry(w.store, ADMIN, urn=w.shared).ids())
    denied(lambda: scope.registry(w.store, w.leader(w.a), urn=w.only_b))


def case_group_scorecard(w: World) -> None:
    card = scope.group_scorecard(w.store, w.leader(w.a), w.a, w.period)
    assert card.subject.id == w.a and {r.measure for r in card.rows} >= {A_LOCAL}
    assert not {r.measure for r in card.rows} & {w.b_local}
    assert next(r for r in card.rows if r.measure == "attainment8").target == 47.0  # A's target, not B's 51.5
    denied(lambda: scope.group_scorecard(w.store, w.leader(w.a), w.b, w.period))  # B's unpublished values
    denied(lambda: scope.group_scorecard(w.store, w.governor(w.a), w.b, w.period))
    denied(lambda: scope.group_scorecard(w.store, PUBLIC, w.a, w.period))
    assert scope.group_scorecard(w.store, ADMIN, w.b, w.period).subject.id == w.b


def case_school_scorecard(w: World) -> None:
    """The shared school: A's viewers see A's local measures on its card, never B's (though it has B's values)."""
    as_a = {r.measure for r in scope.school_scorecard(w.store, w.leader(w.a), w.shared, w.period).rows}
    as_b = {r.measure for r in scope.school_scorecard(w.store, w.leader(w.b), w.shared, w.period).rows}
    as_admin = {r.measure for r in scope.school_scorecard(w.store, ADMIN, w.shared, w.period).rows}
    assert A_LOCAL in as_a and w.b_local not in as_a
    assert w.b_local in as_b and A_LOCAL not in as_b
    assert {A_LOCAL, w.b_local} <= as_admin
    assert "another group's own" in denied(
        lambda: scope.school_scorecard(w.store, w.leader(w.a), w.shared, w.period, measures=[w.b_local]))
    denied(lambda: scope.school_scorecard(w.store, w.leader(w.a), w.only_b, w.period))
    denied(lambda: scope.school_scorecard(w.store, PUBLIC, w.shared, w.period))


def case_local_authority_values(w: World) -> None:  # issue 11 point 8
    from data.services.la_average import la_figures

    ids = [m.id for m in scope.registry(w.store, ADMIN).measures]
    mine = scope.local_authority_values(w.store, w.leader(w.a), [w.shared], w.period, ids)
    assert mine and mine == la_figures(w.store, [w.shared], w.period, ids)
    assert "schools of your own group" in denied(
        lambda: scope.local_authority_values(w.store, w.leader(w.a), [w.shared, w.only_b], w.period, ids))
    denied(lambda: scope.local_authority_values(w.store, PUBLIC, [w.shared], w.period, ids))
    assert scope.local_authority_values(w.store, ADMIN, [w.only_b], w.period, ids)


def case_chosen_measures(w: World) -> None:
    assert scope.chosen_measures(w.store, w.leader(w.b), w.b) == ["attainment8", w.b_local]
    assert scope.chosen_measures(w.store, w.leader(w.a), w.a) == []
    denied(lambda: scope.chosen_measures(w.store, w.leader(w.a), w.b))
    denied(lambda: scope.chosen_measures(w.store, PUBLIC, w.b))


def case_targets(w: World) -> None:
    assert scope.targets(w.store, w.leader(w.a), w.a, w.period) == {"attainment8": 47.0}
    denied(lambda: scope.targets(w.store, w.leader(w.a), w.b, w.period))
    denied(lambda: scope.targets(w.store, PUBLIC, w.a, w.period))
    assert scope.targets(w.store, ADMIN, w.b, w.period) == {"attainment8": 51.5}


def case_disadvantage(w: World) -> None:  # issue 13
    mine = scope.disadvantage(w.store, w.leader(w.a), group=w.a, period=w.period)
    assert mine.subject.id == w.a and mine.rows and all(r.target is None for r in mine.rows)
    theirs = scope.disadvantage(w.store, ADMIN, group=w.b, period=w.period)
    assert theirs.row("attainment8").target.value == -7.0  # B's target, seen by the admin only
    assert scope.disadvantage(w.store, w.leader(w.a), school=w.shared, period=w.period).subject.id == w.shared
    denied(lambda: scope.disadvantage(w.store, w.leader(w.a), group=w.b, period=w.period))
    denied(lambda: scope.disadvantage(w.store, w.leader(w.a), school=w.only_b, period=w.period))
    denied(lambda: scope.disadvantage(w.store, PUBLIC, group=w.a, period=w.period))


def case_group_impact(w: World) -> None:  # issue 15
    mine = scope.group_impact(w.store, w.leader(w.a), w.a, "attainment8")
    assert mine.group_id == w.a and mine.measure.id == "attainment8"
    assert scope.group_impact(w.store, w.governor(w.b), w.b, "attainment8").group_id == w.b
    assert scope.group_impact(w.store, ADMIN, w.b, "attainment8").group_id == w.b
    denied(lambda: scope.group_impact(w.store, w.leader(w.a), w.b, "attainment8"))
    denied(lambda: scope.group_impact(w.store, PUBLIC, w.a, "attainment8"))


def case_support_impact(w: World) -> None:  # issue 15
    assert scope.support_impact(w.store, w.leader(w.a), w.a, "attainment8").group_id == w.a
    denied(lambda: scope.support_impact(w.store, w.leader(w.a), w.b, "attainment8"))
    denied(lambda: scope.support_impact(w.store, PUBLIC, w.a, "attainment8"))


def case_impact_measures(w: World) -> None:  # issue 15
    ids = [m.id for m in scope.impact_measures(w.store, w.leader(w.a), w.a)]
    assert "attainment8" in ids and "ks2_rwm_expected" in ids and "pupils" not in ids
    denied(lambda: scope.impact_measures(w.store, w.leader(w.a), w.b))
    denied(lambda: scope.impact_measures(w.store, PUBLIC, w.a))


def case_pupil_group_view(w: World) -> None:  # issue 13
    mid = scope.pupil_group_measures(w.store, w.leader(w.a), w.period, school=w.shared)[0]
    view = scope.pupil_group_view(w.store, w.leader(w.a), school=w.shared, measure=mid, period=w.period)
    assert "disadvantage" in view
    denied(lambda: scope.pupil_group_view(w.store, w.leader(w.a), group=w.b, measure=mid, period=w.period))
    denied(lambda: scope.pupil_group_view(w.store, w.leader(w.a), school=w.only_b, measure=mid, period=w.period))
    denied(lambda: scope.pupil_group_view(w.store, PUBLIC, school=w.shared, measure=mid, period=w.period))


def case_pupil_group_measures(w: World) -> None:  # issue 13
    assert scope.pupil_group_measures(w.store, w.leader(w.a), w.period, school=w.shared)
    assert scope.pupil_group_measures(w.store, w.leader(w.a), w.period, group=w.a)
    denied(lambda: scope.pupil_group_measures(w.store, w.leader(w.a), w.period, school=w.only_b))
    denied(lambda: scope.pupil_group_measures(w.store, w.leader(w.a), w.period, group=w.b))
    denied(lambda: scope.pupil_group_measures(w.store, PUBLIC, w.period, school=w.shared))


def case_gap_targets(w: World) -> None:  # issue 13
    assert scope.gap_targets(w.store, w.leader(w.a), w.a) == {}
    assert scope.gap_targets(w.store, ADMIN, w.b) == {"attainment8": [("2029/30", -7.0)]}
    denied(lambda: scope.gap_targets(w.store, w.leader(w.a), w.b))
    denied(lambda: scope.gap_targets(w.store, PUBLIC, w.a))


def case_local_measures(w: World) -> None:
    mine = {d["id"] for d in scope.local_measures(w.store, w.leader(w.a), w.a)}
    assert A_LOCAL in mine and w.b_local not in mine
    denied(lambda: scope.local_measures(w.store, w.leader(w.a), w.b))
    denied(lambda: scope.local_measures(w.store, PUBLIC, w.a))


def case_local_group_values(w: World) -> None:  # issue 13 point 5
    own = "student_leadership_participation"  # the demo's, by pupil group, for A's and for B's schools
    theirs = w.b_local.removesuffix("community_events") + own
    mine = scope.local_group_values(w.store, w.leader(w.a), w.a, own)
    assert len(mine) and urns_in(mine) <= set(groups.group_members(w.store, w.a))
    assert {"disadvantaged", "not_disadvantaged"} <= set(mine["pupil_group"])
    assert len(scope.local_group_values(w.store, w.leader(w.b), w.b, theirs))
    denied(lambda: scope.local_group_values(w.store, w.leader(w.a), w.b, theirs))
    # asking through A's own group for B's measure: refused in the words any unknown id gets
    assert "not one of this group's" in denied(lambda: scope.local_group_values(w.store, w.leader(w.a), w.a, theirs))
    denied(lambda: scope.local_group_values(w.store, PUBLIC, w.a, own))
    assert len(scope.local_group_values(w.store, ADMIN, w.b, theirs))


def case_similar_schools(w: World) -> None:
    fam = scope.similar_schools(w.store, w.leader(w.a), w.shared, size=10)
    assert len(fam) == 10 and w.shared not in urns_in(fam)
    denied(lambda: scope.similar_schools(w.store, w.leader(w.a), w.only_b))
    denied(lambda: scope.similar_schools(w.store, PUBLIC, w.shared))


def case_school_values(w: World) -> None:
    others = [w.only_b]  # a national measure may be compared with any school (the DfE publishes it)
    got = scope.school_values(w.store, w.leader(w.a), w.shared, others, w.period, "pupils")
    assert urns_in(got) == {w.shared, w.only_b} and set(got["measure"]) == {"pupils"}
    # B's local measure: refused to A, though the shared school has a value
    denied(lambda: scope.school_values(w.store, w.leader(w.a), w.shared, others, w.period, w.b_local))
    # B's own leader: B's local values, only for B's schools
    own = scope.school_values(w.store, w.leader(w.b), w.shared, [w.only_b, w.a_pub], w.period, w.b_local)
    assert dict(zip(own["urn"], own["value"], strict=True)) == {w.shared: 41.0, w.only_b: 7.0}
    denied(lambda: scope.school_values(w.store, w.leader(w.a), w.only_b, [], w.period, "attainment8"))
    denied(lambda: scope.school_values(w.store, PUBLIC, w.shared, [], w.period, "attainment8"))


def case_partners(w: World) -> None:
    # like with like (issue 11 point 14): the shared school is a primary, so its partners are on a primary measure
    found = scope.partners(w.store, w.leader(w.a), w.shared, "ks2_rwm_expected", w.period, limit=50, max_km=None)
    names_b = set(schools.establishments(w.store, groups.group_members(w.store, w.b))["name"]) - set(
        schools.establishments(w.store, groups.group_members(w.store, w.a))["name"])
    in_group = [p for p in found if w.b_name.lower() in p.relation.lower()]
    assert in_group == []  # B is never named as the shared school's group to A's leader
    as_b = scope.partners(w.store, w.leader(w.b), w.shared, "ks2_rwm_expected", w.period, limit=50, max_km=None)
    assert any(p.name in names_b for p in as_b)  # the check above could fail: B's leader does see B's partners
    denied(lambda: scope.partners(w.store, w.leader(w.a), w.shared, w.b_local, w.period))
    denied(lambda: scope.partners(w.store, w.leader(w.a), w.only_b, "attainment8", w.period))
    denied(lambda: scope.partners(w.store, PUBLIC, w.shared, "attainment8", w.period))
    # issue 13 point 3: the disadvantaged focus keeps the same rules
    focused = scope.partners(w.store, w.leader(w.a), w.shared, "ks2_rwm_expected", w.period, limit=50, max_km=None,
                             pupil_group="disadvantaged")
    assert not [p for p in focused if w.b_name.lower() in p.relation.lower()]
    assert all(p.pupil_group == "disadvantaged" for p in focused)
    denied(lambda: scope.partners(w.store, w.leader(w.a), w.only_b, "attainment8", w.period,
                                  pupil_group="disadvantaged"))
    denied(lambda: scope.partners(w.store, PUBLIC, w.shared, "attainment8", w.period, pupil_group="disadvantaged"))


def case_pupil_group_partner_measures(w: World) -> None:  # issue 13 point 3
    from metrics.registry import load_registry

    got = scope.pupil_group_partner_measures(w.store, w.leader(w.a), w.shared, w.period, "disadvantaged")
    assert set(got) <= {m.id for m in load_registry().measures if m.judged}
    denied(lambda: scope.pupil_group_partner_measures(w.store, w.leader(w.a), w.only_b, w.period, "disadvantaged"))
    denied(lambda: scope.pupil_group_partner_measures(w.store, PUBLIC, w.shared, w.period, "disadvantaged"))


def case_store_info(w: World) -> None:
    assert scope.store_info(w.store, ADMIN).establishments > 0
    for viewer in (w.leader(w.a), w.governor(w.a), PUBLIC):
        denied(lambda v=viewer: scope.store_info(w.store, v))


def case_import_log(w: World) -> None:
    assert len(scope.import_log(w.store, ADMIN)) > 0
    for viewer in (w.leader(w.a), w.governor(w.a), PUBLIC):
        denied(lambda v=viewer: scope.import_log(w.store, v))


def case_audit_log(w: World) -> None:
    mine = scope.audit_log(w.store, w.leader(w.a))
    assert len(mine) > 0 and set(mine["group_id"]) == {w.a}
    assert "publish" in set(mine["action"]) and "set" in set(mine["action"])  # A's publication and target
    assert not mine["after_json"].fillna("").str.contains("51.5|B's private note").any()
    theirs = scope.audit_log(w.store, w.leader(w.b), w.b)
    assert {"record", "withdraw", "choose", "set"} <= set(theirs["action"])
    denied(lambda: scope.audit_log(w.store, w.leader(w.a), w.b))
    assert "leaders and data managers" in denied(lambda: scope.audit_log(w.store, w.governor(w.a)))
    denied(lambda: scope.audit_log(w.store, PUBLIC))
    everything = scope.audit_log(w.store, ADMIN)
    assert {w.a, w.b} <= set(everything["group_id"].dropna())


# ---------------------------------------------------------------------------------------- data.services.governance


def case_applicable_measures(w: World) -> None:
    ids = {m.id for m in governance.applicable_measures(w.store, w.leader(w.a), w.a)}
    assert A_LOCAL in ids and w.b_local not in ids
    denied(lambda: governance.applicable_measures(w.store, w.leader(w.a), w.b))
    denied(lambda: governance.applicable_measures(w.store, PUBLIC, w.a))


def case_uploadable_measures(w: World) -> None:
    assert A_LOCAL in {m.id for m in governance.uploadable_measures(w.store, w.leader(w.a), w.a)}
    denied(lambda: governance.uploadable_measures(w.store, w.leader(w.a), w.b))
    denied(lambda: governance.uploadable_measures(w.store, PUBLIC, w.b))


def case_local_values(w: World) -> None:
    theirs = governance.local_values(w.store, w.leader(w.b), w.b, w.b_local)
    assert 41.0 in set(theirs["value"])
    denied(lambda: governance.local_values(w.store, w.leader(w.a), w.b, w.b_local))
    # asking through A's own group for B's measure (the shared school has a value): refused, not leaked
    assert "not one of this group's" in denied(lambda: governance.local_values(w.store, w.leader(w.a), w.a, w.b_local))
    denied(lambda: governance.local_values(w.store, PUBLIC, w.b, w.b_local))


def case_upload_template(w: World) -> None:
    text = governance.upload_template(w.store, w.leader(w.a), w.a, A_LOCAL, w.period)
    assert str(w.shared) in text and str(w.only_b) not in text
    denied(lambda: governance.upload_template(w.store, w.leader(w.a), w.b, w.b_local, w.period))
    denied(lambda: governance.upload_template(w.store, w.leader(w.a), w.a, w.b_local, w.period))


def case_check_definition(w: World) -> None:
    new = {"id": "a_new_measure", "label": "New", "description": "A measure being drafted by the group.",
           "perspective": "curriculum", "unit": "events", "format": ".0f", "polarity": "higher_better",
           "phases": ["primary", "secondary"], "rollup": "sum", "min_cohort": 1}
    assert governance.check_definition(w.store, w.leader(w.a), w.a, new) == []
    denied(lambda: governance.check_definition(w.store, w.leader(w.a), w.b, new))
    denied(lambda: governance.check_definition(w.store, PUBLIC, w.a, new))


def case_check_upload(w: World) -> None:
    csv = f"URN,period,value\n{w.shared},{w.period},3\n".encode()
    assert governance.check_upload(w.store, w.leader(w.a), w.a, A_LOCAL, csv, filename="x.csv").ok
    refused = governance.check_upload(w.store, w.leader(w.a), w.b, w.b_local, csv, filename="x.csv")
    assert not refused.ok and refused.rows == [] and "only of your own group" in refused.issues[0].message


def case_can_edit_scorecard(w: World) -> None:
    assert governance.can_edit_scorecard(w.store, w.governor(w.a), w.a) is True
    assert governance.can_edit_scorecard(w.store, w.governor(w.a), w.b) is False
    assert governance.can_edit_scorecard(w.store, PUBLIC, w.a) is False
    one_school = Viewer(Role.GOVERNOR, w.a, "governor of one school", school_urn=w.shared)
    assert governance.can_edit_scorecard(w.store, one_school, w.a) is False
    assert "one school's governors" in governance.edit_refusal(w.store, one_school, w.a)
    # and they still read their group and school
    assert scope.school_scorecard(w.store, one_school, w.shared, w.period).subject.id == w.shared


# ---------------------------------------------------------------------------------------- data.services.support_log


def case_support_records(w: World) -> None:
    theirs = support_log.support_records(w.store, w.leader(w.b), w.b)
    assert "B's private note" in set(theirs["notes"])
    mine = support_log.support_records(w.store, w.leader(w.a), w.a)
    assert len(mine) > 0 and "B's private note" not in set(mine["notes"].dropna())
    denied(lambda: support_log.support_records(w.store, w.leader(w.a), w.b))
    denied(lambda: support_log.support_records(w.store, PUBLIC, w.a))


def case_support_balance(w: World) -> None:
    theirs = support_log.support_balance(w.store, w.leader(w.b), w.b)
    assert theirs.set_index("urn").loc[w.shared, "received"] == 6
    denied(lambda: support_log.support_balance(w.store, w.leader(w.a), w.b))
    denied(lambda: support_log.support_balance(w.store, PUBLIC, w.a))


# ---------------------------------------------------------------------------------------- data.services.publications


def case_publication_history(w: World) -> None:
    assert [h["status"] for h in publications.publication_history(w.store, w.leader(w.b), w.b)] == ["withdrawn"]
    assert publications.publication_history(w.store, w.leader(w.a), w.b) == []
    assert publications.publication_history(w.store, w.governor(w.b), w.b) == []
    assert publications.publication_history(w.store, PUBLIC, w.b) == []


def case_publication_version(w: World) -> None:
    assert publications.publication_version(w.store, w.leader(w.b), w.b_withdrawn) is not None
    assert publications.publication_version(w.store, w.leader(w.a), w.b_withdrawn) is None
    assert publications.publication_version(w.store, PUBLIC, w.b_withdrawn) is None


def case_build_publication(w: World) -> None:
    pub, problems = publications.build_publication(w.store, w.leader(w.a), w.b, w.period, ["attainment8"], {})
    assert pub is None and problems
    pub, problems = publications.build_publication(w.store, PUBLIC, w.a, w.period, ["attainment8"], {})
    assert pub is None and problems
    pub, problems = publications.build_publication(w.store, w.leader(w.a), w.a, w.period, ["attainment8"], {})
    assert pub is not None and problems == []


def case_find_publications(w: World) -> None:
    """PUBLIC: the current published versions only; B withdrew its only one, so B is nowhere."""
    found = publications.find_publications(w.store, "")
    assert [f["publication_id"] for f in found] == [w.a_pub]
    assert publications.find_publications(w.store, w.b_name[:12]) == []


def case_published(w: World) -> None:
    assert publications.published(w.store, w.a_pub).group_id == w.a
    assert publications.published(w.store, w.b_withdrawn) is None
    assert publications.published(w.store, "1 OR 1=1") is None


# ---------------------------------------------------------------------------------------- data.services.accounts


def case_accounts_for(w: World) -> None:
    assert [a["email"] for a in accounts.accounts_for(w.store, ADMIN)] == ["head.b@example.org"]
    assert "password_hash" not in accounts.accounts_for(w.store, ADMIN)[0]
    for viewer in (w.leader(w.b), w.governor(w.b), PUBLIC):
        assert "Only a data manager" in denied(lambda v=viewer: accounts.accounts_for(w.store, v))


# ---------------------------------------------------------------------------------------- data.services.inspections


def case_school_inspections(w: World) -> None:
    assert inspections.school_inspections(w.store, w.leader(w.a), w.shared).urn == w.shared
    assert "schools of your own group" in denied(
        lambda: inspections.school_inspections(w.store, w.leader(w.a), w.only_b))
    assert inspections.school_inspections(w.store, ADMIN, w.only_b).urn == w.only_b
    denied(lambda: inspections.school_inspections(w.store, PUBLIC, w.shared))


def case_group_inspections(w: World) -> None:
    mine = inspections.group_inspections(w.store, w.leader(w.a), w.a, w.period)
    assert mine.schools == len(groups.group_members(w.store, w.a, w.period))
    assert "only your own group" in denied(lambda: inspections.group_inspections(w.store, w.leader(w.a), w.b,
                                                                                  w.period))
    denied(lambda: inspections.group_inspections(w.store, PUBLIC, w.a, w.period))


# ---------------------------------------------------------------------------------------- data.services.group_admin


def case_manageable_groups(w: World) -> None:  # issue 11 point 1
    from data.services import group_admin

    mine = [g.group_id for g in group_admin.manageable_groups(w.store, w.leader(w.a))]
    assert w.a in mine and w.b not in mine
    assert {w.a, w.b} <= {g.group_id for g in group_admin.manageable_groups(w.store, ADMIN)}
    assert "Governors" in denied(lambda: group_admin.manageable_groups(w.store, w.governor(w.a)))
    denied(lambda: group_admin.manageable_groups(w.store, PUBLIC))


def case_group_detail(w: World) -> None:  # issue 11 point 1
    from data.services import group_admin

    mine = group_admin.group_detail(w.store, w.leader(w.a), w.a)
    assert {s.urn for s in mine.stays} == set(groups.group_members(w.store, w.a))
    assert "only your own group" in denied(lambda: group_admin.group_detail(w.store, w.leader(w.a), w.b))
    assert w.only_b in {s.urn for s in group_admin.group_detail(w.store, ADMIN, w.b).stays}
    denied(lambda: group_admin.group_detail(w.store, PUBLIC, w.a))


def case_find_schools(w: World) -> None:  # issue 11 point 1
    from data.services import group_admin

    # schools to invite are any in England (GIAS is public): a leader finds one outside their group
    assert [h.urn for h in group_admin.find_schools(w.store, w.leader(w.a), str(w.only_b))] == [w.only_b]
    denied(lambda: group_admin.find_schools(w.store, w.governor(w.a), str(w.only_b)))
    denied(lambda: group_admin.find_schools(w.store, PUBLIC, str(w.only_b)))


def case_invitations(w: World) -> None:  # issue 11 point 1
    from data.services import group_admin

    assert group_admin.invitations(w.store, w.leader(w.a)) == []  # a leader without a school answers none
    assert group_admin.invitations(w.store, ADMIN) == []
    denied(lambda: group_admin.invitations(w.store, PUBLIC))



def case_consents(w: World) -> None:  # issue 11 point 2
    from data.services import consent

    mine = consent.consents(w.store, w.leader(w.a), w.a)
    assert mine and set(mine) <= set(consent.member_urns(w.store, w.a))
    assert consent.consents(w.store, w.leader(w.a), w.b) == {}
    assert consent.consents(w.store, PUBLIC, w.a) == {}
    assert set(consent.consents(w.store, ADMIN, w.b)) == set(consent.member_urns(w.store, w.b))


def case_may_record(w: World) -> None:  # issue 11 point 2
    from data.services import consent

    assert consent.may_record(w.store, ADMIN, w.b, w.only_b)
    assert not consent.may_record(w.store, w.leader(w.a), w.b, w.only_b)  # another group's school
    assert not consent.may_record(w.store, w.leader(w.a), w.a, w.shared)  # a leader who is no school's head
    assert not consent.may_record(w.store, w.governor(w.a), w.a, w.shared)
    assert not consent.may_record(w.store, PUBLIC, w.a, w.shared)

def case_store_findings(w: World) -> None:  # issue 11 point 4
    from data.services.imports import store_findings

    assert store_findings(w.store, ADMIN)
    for viewer in (w.leader(w.a), w.governor(w.a), PUBLIC):
        denied(lambda v=viewer: store_findings(w.store, v))


def case_undo_plan(w: World) -> None:  # issue 11 point 4
    from data.services.imports import undo_plan

    assert undo_plan(w.store, ADMIN, 1).import_id == 1
    for viewer in (w.leader(w.a), w.governor(w.a), PUBLIC):
        denied(lambda v=viewer: undo_plan(w.store, v, 1))


def case_undoable_imports(w: World) -> None:  # issue 11 point 4
    from data.services.imports import undoable_imports

    assert undoable_imports(w.store, ADMIN) == []  # the demo's own files are rebuilt, never undone one by one
    for viewer in (w.leader(w.a), w.governor(w.a), PUBLIC):
        denied(lambda v=viewer: undoable_imports(w.store, v))


CASES = {name.removeprefix("case_"): fn for name, fn in globals().items() if name.startswith("case_")}
PUBLIC_READS = {("data.services.publications", "find_publications"), ("data.services.publications", "published")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scoped_read(world: World, name: str) -> None:
    CASES[name](world)


def test_every_read_has_a_case_and_takes_the_viewer() -> None:
    listed = {(module, fn) for module, names in scope.READS.items() for fn in names}
    assert {fn for _, fn in listed} == set(CASES), "each read in data.services.scope.READS needs a case_ here, and back"
    for module, fn in sorted(listed - PUBLIC_READS):
        params = list(inspect.signature(getattr(importlib.import_module(module), fn)).parameters)
        assert params[:2] == ["store", "viewer"], f"{module}.{fn} must take (store, viewer, ...)"


def test_the_parents_only_export_holds_the_published_versions_and_nothing_else(world: World, tmp_path: Path) -> None:
    from data.outputs.public_export import PUBLIC_TABLES, export_public

    out = tmp_path / "public.duckdb"
    counts = export_public(world.store, out)
    assert counts["publications"] == 1 and counts["publication_items"] == 2
    with Store(out, read_only=True) as public:
        assert [f["publication_id"] for f in publications.find_publications(public, "")] == [world.a_pub]
        assert publications.published(public, world.a_pub) == publications.published(world.store, world.a_pub)
        assert publications.published(public, world.b_withdrawn) is None
        tables = [r[0] for r in public.query("SELECT table_name FROM information_schema.tables")]
        for table in tables:
            if table not in (*PUBLIC_TABLES, "schema_version", "settings"):
                assert public.query(f"SELECT count(*) FROM {table}")[0][0] == 0, table  # noqa: S608
        assert public.query("SELECT DISTINCT status FROM publications") == [("published",)]
        assert public.is_demo() == world.store.is_demo()
    assert not out.with_name(out.name + ".part").exists()


def test_export_public_from_the_command_line(world_db, tmp_path: Path, monkeypatch, capsys) -> None:
    from data.cli import main

    monkeypatch.setenv("JOINTLY_DB", str(world_db[0]))
    out = tmp_path / "public.duckdb"
    assert main(["export-public", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"{out}: 1 published results, 2 measures, ")
    with Store(out, read_only=True) as public:
        assert public.query("SELECT publication_id FROM publications") == [(world_db[1]["a_pub"],)]


def test_a_viewers_scope_leaves_out_who_they_are() -> None:
    """Caches of reads key on the scope: every leader of a group shares them, no other viewer does."""
    ann, bob = Viewer(Role.LEADER, 3, "Ann", "ann@example.org"), Viewer(Role.LEADER, 3, "Bob", "bob@example.org")
    assert ann.scope == bob.scope == Viewer(Role.LEADER, 3)
    assert ann.scope != Viewer(Role.GOVERNOR, 3).scope and ann.scope != Viewer(Role.LEADER, 4).scope
    assert Viewer(Role.GOVERNOR, 3, "Gil", school_urn=100001).scope == Viewer(Role.GOVERNOR, 3, school_urn=100001)
