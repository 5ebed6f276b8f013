"""The demo ships with a publication: the flagship partnership's latest year, which every member agreed to."""

from __future__ import annotations

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.demo.publication import DEMO_ACTOR
from data.services import groups, imports, schools
from data.services.access import Role, Viewer
from data.services.consent import AGREED, consents
from data.services.publications import find_publications, published


def test_the_demo_has_a_current_publication_of_the_flagship_with_its_consents(demo_store: Store):  # issue 11 point 16
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    period = schools.periods(demo_store)[-1]
    found = find_publications(demo_store, FLAGSHIP_PARTNERSHIP)
    assert [(m["group_name"], m["period"]) for m in found] == [(FLAGSHIP_PARTNERSHIP, period)]
    pub = published(demo_store, int(found[0]["publication_id"]))
    assert pub is not None and pub.status == "published" and pub.group_id == group.group_id
    members = sorted(groups.group_members(demo_store, group.group_id, period))
    assert sorted(s.urn for s in pub.schools) == members, "every member agreed, so every member is in it"
    assert not pub.left_out and not pub.left_out_words
    # both phases are in the example: a primary's and a secondary's page both have something to show
    assert {i.measure for i in pub.items} >= {"ks2_rwm_expected", "attainment8"}
    assert {s.phase for s in pub.schools} >= {"primary", "secondary"}

    answers = consents(demo_store, Viewer(Role.ADMIN, None, "check"), group.group_id, period)
    assert sorted(answers) == members
    assert {(c.answer, c.recorded_by) for c in answers.values()} == {(AGREED, DEMO_ACTOR)}
    # each change was audited with the group, as a leader's own would be
    log = imports.audit_log(demo_store, 1000, group_ids=[group.group_id])
    assert (log["action"] == "record_consent").any()
    assert log[log["action"] == "publish"]["entity_id"].astype(int).tolist() == [pub.publication_id]
