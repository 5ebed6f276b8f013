"""The demo's example publication: the flagship partnership's latest year, so a first visitor to "Results for
parents" reads a real example rather than "no partnership has published yet".

Run once at the end of data.demo.build.build_demo, after the derived tables exist (a publication is built from the
scorecard). It goes through the same audited writes a leader's Publish button uses (data.services.publications.publish)
after recording each member school's agreement (data.services.consent.record_consent), because a partnership publishes
only the schools that agreed.
"""

from __future__ import annotations

from data.db.store import Store
from data.services import consent, groups, schools
from data.services.access import Role, Viewer
from data.services.publications import publish

DEMO_ACTOR = "demo"
# A primary and a secondary view of the year, as a partnership of mostly primary schools would choose: the year 6
# tests, GCSEs, absence and disadvantaged pupils (the flagship has both phases, so a primary school's page shows
# what it is like when the GCSE measures are not for it).
# (Not Progress 8: DfE publishes none for 2024/25 and 2025/26.)
DEMO_MEASURES = ("ks2_rwm_expected", "attainment8", "basics_94", "overall_absence", "persistent_absence",
                 "ks2_rwm_expected_disadvantaged")
CONSENT_NOTE = "Agreed at the partnership's heads' meeting (demo)."


def _record_consents(store: Store, viewer: Viewer, group_id: int, period: str) -> int:
    """Each member's agreement to publish jointly, for the schools with no answer yet (one audited write each);
    how many were recorded."""
    todo = [u for u, c in consent.consents(store, viewer, group_id, period).items() if c.answer == consent.NOT_ASKED]
    for urn in todo:
        problems = consent.record_consent(store, viewer, group_id, urn, True, note=CONSENT_NOTE)
        if problems:
            raise RuntimeError("the demo's consent was refused: " + "; ".join(problems))
    return len(todo)


def publish_demo_examples(store: Store, partnership: str) -> int | None:
    """Publish `partnership`'s latest year with the demo's measures; the publication's id, or None when the demo
    has no such group or no year."""
    group = groups.find_group(store, partnership)
    periods = schools.periods(store)
    if group is None or not periods:
        return None
    period = periods[-1]
    viewer = Viewer(Role.ADMIN, None, DEMO_ACTOR)
    _record_consents(store, viewer, group.group_id, period)
    # the measures go straight to publish (no scorecard of our own first): the build stays within a second or so
    pub, problems = publish(store, viewer, group.group_id, period, list(DEMO_MEASURES), {})
    if pub is None:
        raise RuntimeError("the demo's example publication was refused: " + "; ".join(problems))
    return pub.publication_id
