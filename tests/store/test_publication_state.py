"""Publications live in the state store (issue 12 point 8): publishing and withdrawing are one state transaction
each, built from the results the leader previewed; a parents' site process on the same state store sees a withdrawal
made in the staff app at its next rerun, without a restart (point 9)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.services import groups, schools
from data.services.access import Role, Viewer
from data.services.publications import build_publication, find_publications, publish, published, withdraw

ADMIN = Viewer(Role.ADMIN, None, "Data manager")
MEASURES = ["ks2_rwm_expected", "overall_absence"]


@pytest.fixture()
def world(demo_store: Store) -> dict:
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    assert group
    return {"store": demo_store, "gid": group.group_id, "period": schools.periods(demo_store)[-1]}


@pytest.fixture()
def pair(demo_store: Store) -> Iterator[tuple[Store, Store]]:
    """The staff app and a parents' site on the same two stores, each opening the results file read-only as app
    processes do, each with its own connection and mirror, read at its last rerun."""
    demo_store.close()
    staff, parents = Store(demo_store.path, read_only=True), Store(demo_store.path, read_only=True)
    try:
        yield staff, parents
    finally:
        staff.close()
        parents.close()


def _publish(w: dict, store: Store | None = None):
    pub, problems = publish(store or w["store"], ADMIN, w["gid"], w["period"], MEASURES, {})
    assert problems == [] and pub is not None
    return pub


# issue 12 point 8
def test_a_publication_is_written_to_the_state_store_as_it_was_previewed(world: dict) -> None:
    s = world["store"]
    preview, problems = build_publication(s, ADMIN, world["gid"], world["period"], MEASURES, {})
    assert problems == [] and preview is not None
    pub = _publish(world)
    assert pub.content() == preview.content()
    pid = pub.publication_id
    assert s.state.query("SELECT group_id, period, version, status FROM publications WHERE publication_id = ?",
                         [pid]) == [(world["gid"], world["period"], pub.version, "published")]
    for table, rows in (("publication_items", len(pub.items)), ("publication_school_values", len(pub.school_values)),
                        ("publication_schools", len(pub.schools))):
        assert s.state.query(f"SELECT count(*) FROM {table} WHERE publication_id = ?", [pid]) == [(rows,)]  # noqa: S608
    # the demo's own publication of the year was replaced, in the same transaction, and both are audited there
    assert s.state.query("SELECT status FROM publications WHERE group_id = ? AND period = ? AND version = ?",
                         [world["gid"], world["period"], pub.version - 1]) == [("replaced",)]
    assert s.state.query("SELECT count(*) FROM audit_log WHERE entity = 'publication' AND entity_id = ?",
                         [str(pid)]) == [(1,)]
    assert s.state.query("SELECT count(*) FROM publication_school_values WHERE publication_id = ? AND "
                         "fingerprint IS NOT NULL", [pid])[0][0] > 0  # keyed with the state store's own key


# issue 12 point 9
def test_a_withdrawal_in_the_staff_app_reaches_the_parents_site_at_its_next_rerun(
        world: dict, pair: tuple[Store, Store]) -> None:
    staff, parents = pair
    pid = _publish(world, staff).publication_id
    parents.refresh()  # the parents' site's next rerun after the publishing
    assert published(parents, pid) is not None
    assert pid in [f["publication_id"] for f in find_publications(parents, "")]
    assert withdraw(staff, ADMIN, pid) == []
    assert published(parents, pid) is not None  # its rerun that began before still reads its own view
    parents.refresh()  # its next rerun: no restart
    assert published(parents, pid) is None
    assert pid not in [f["publication_id"] for f in find_publications(parents, "")]


# issue 12 point 8
def test_two_processes_publishing_one_year_number_their_versions_in_turn(world: dict,
                                                                        pair: tuple[Store, Store]) -> None:
    staff, parents = pair
    first = _publish(world, staff)
    # the other process's view predates the first publication: the version is read inside its transaction
    second = _publish(world, parents)
    assert second.version == first.version + 1
    assert staff.state.query("SELECT version, status FROM publications WHERE group_id = ? AND period = ? AND "
                             "version >= ? ORDER BY version", [world["gid"], world["period"], first.version]) == [
        (first.version, "replaced"), (second.version, "published")]
    # and a withdrawal from a view that is a moment old is refused in words, nothing written
    assert withdraw(parents, ADMIN, first.publication_id) == [
        f"Version {first.version} for {world['period']} is already replaced: only the published version can be "
        "withdrawn."]
