"""What a publication keeps for the parents' page (issue 11, point 16): one definition per measure, DfE's own
version of the results, the phases a measure is for (a primary is not told "no data" for GCSEs), each school's
website, local authority and Ofsted reports, and its local authority's average; stored, read back and exported."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.db.store import Store
from data.demo.build import FLAGSHIP_PARTNERSHIP
from data.outputs.public_export import export_public
from data.services import groups
from data.services import schools as schools_svc
from data.services.access import Role, Viewer
from data.services.publications import build_publication, publish, published
from metrics.publication import website_url

ADMIN = Viewer(Role.ADMIN, None, "Data manager")
MEASURES = ["ks2_rwm_expected", "attainment8", "persistent_absence"]


@pytest.fixture()
def world(demo_store: Store) -> dict:
    group = groups.find_group(demo_store, FLAGSHIP_PARTNERSHIP)
    assert group
    period = schools_svc.periods(demo_store)[-1]
    members = groups.group_members(demo_store, group.group_id, period)
    phase = dict(demo_store.query("SELECT urn, phase FROM establishments WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                                  [members]))
    primary = next(u for u in members if phase[u] == "primary")
    secondary = next(u for u in members if phase[u] == "secondary")
    return {"store": demo_store, "gid": group.group_id, "period": period, "members": members,
            "primary": primary, "secondary": secondary}


def _preview(w: dict, measures: list[str] = MEASURES):
    pub, problems = build_publication(w["store"], ADMIN, w["gid"], w["period"], measures, {})
    assert problems == [] and pub is not None
    return pub


def _value(pub, measure: str, urn: int):
    return next(v for v in pub.school_values if v.measure == measure and v.urn == urn)


def test_a_primary_is_not_told_it_has_no_gcse_data(world: dict) -> None:  # issue 11 point 16
    pub = _preview(world)
    gcse_at_primary = _value(pub, "attainment8", world["primary"])
    assert gcse_at_primary.value is None and gcse_at_primary.applies is False
    ks2_at_secondary = _value(pub, "ks2_rwm_expected", world["secondary"])
    assert ks2_at_secondary.value is None and ks2_at_secondary.applies is False
    assert _value(pub, "ks2_rwm_expected", world["primary"]).applies is True
    assert _value(pub, "attainment8", world["secondary"]).applies is True
    assert _value(pub, "persistent_absence", world["primary"]).applies is True  # absence is for every phase
    items = {i.measure: i for i in pub.items}
    assert items["attainment8"].phases == ("secondary", "all_through")
    assert items["ks2_rwm_expected"].phases == ("primary", "all_through")


def test_one_plain_definition_per_measure_for_the_year(world: dict) -> None:  # issue 11 point 16
    pub = _preview(world)
    items = {i.measure: i for i in pub.items}
    for item in pub.items:
        assert item.definition.startswith(item.description.rstrip(".")), item.measure
    # persistent absence changed its threshold over the years: the definition says which one this year's is
    assert items["persistent_absence"].definition.endswith("(pupils missing 10% or more of sessions).")
    assert "(" not in items["attainment8"].definition.removeprefix(items["attainment8"].description)


def test_dfe_version_is_the_least_settled_of_the_schools_values(world: dict) -> None:  # issue 11 point 16
    s, period, members = world["store"], world["period"], world["members"]
    with s.results_transaction() as cur:
        cur.execute("UPDATE observations SET version = 'final' WHERE level = 'school' AND period = ? "
                    "AND measure IN ('ks2_rwm_expected', 'attainment8') AND urn IN (SELECT unnest(?::INTEGER[]))",
                    [period, members])
        cur.execute("UPDATE observations SET version = 'revised' WHERE level = 'school' AND period = ? "
                    "AND measure = 'attainment8' AND urn = ?", [period, world["secondary"]])
        cur.execute("UPDATE observations SET version = NULL WHERE level = 'school' AND period = ? "
                    "AND measure = 'persistent_absence'", [period])
    items = {i.measure: i for i in _preview(world).items}
    assert items["ks2_rwm_expected"].dfe_version == "final"
    assert items["attainment8"].dfe_version == "revised"  # one school's figures are revised, not yet final
    assert items["persistent_absence"].dfe_version is None  # the file did not say


def test_each_school_has_its_website_local_authority_and_ofsted_link(world: dict) -> None:  # issue 11 point 16
    s = world["store"]
    with s.results_transaction() as cur:
        cur.execute("UPDATE establishments SET website = 'www.moor.sch.uk', la_name = 'Northbridge' WHERE urn = ?",
                    [world["primary"]])
        cur.execute("UPDATE establishments SET website = 'javascript:alert(1)' WHERE urn = ?", [world["secondary"]])
    schools = {x.urn: x for x in _preview(world).schools}
    primary, secondary = schools[world["primary"]], schools[world["secondary"]]
    assert (primary.website, primary.la_name) == ("https://www.moor.sch.uk", "Northbridge")
    assert secondary.website is None  # not a web address: no link is made
    assert primary.ofsted_url == f"https://reports.ofsted.gov.uk/oxedu_providers/full/(urn)/{world['primary']}"
    assert website_url("http://old.example/school") == "http://old.example/school"
    assert website_url("") is None and website_url("www.a school.uk") is None


def test_the_local_authority_average_beside_each_school(world: dict) -> None:  # issue 11 point 16
    s, period = world["store"], world["period"]
    la = dict(s.query("SELECT urn, la_code FROM establishments WHERE urn IN (?, ?)",
                      [world["primary"], world["secondary"]]))
    # the demo's national figures are for state-funded schools (as DfE's files give them): the LA's figure beside
    # them is the LA's state-funded schools', never its figure for all schools
    assert {r[0] for r in s.query("SELECT DISTINCT scope FROM observations WHERE level = 'national' AND period = ? "
                                  "AND measure IN ('ks2_rwm_expected', 'attainment8')", [period])} == {"state_funded"}
    with s.results_transaction() as cur:
        cur.execute("DELETE FROM observations WHERE level = 'la' AND period = ? AND area_code IN (?, ?) "
                    "AND measure IN ('ks2_rwm_expected', 'attainment8')",
                    [period, str(la[world["primary"]]), str(la[world["secondary"]])])
        cur.execute("INSERT INTO observations (level, area_code, scope, measure, period, value, status) VALUES "
                    "('la', ?, 'state_funded', 'ks2_rwm_expected', ?, 61.4, 'ok'), "
                    "('la', ?, 'all', 'ks2_rwm_expected', ?, 12.0, 'ok')",
                    [str(la[world["primary"]]), period, str(la[world["primary"]]), period])
        if la[world["secondary"]] != la[world["primary"]]:
            cur.execute("INSERT INTO observations (level, area_code, scope, measure, period, value, status) VALUES "
                        "('la', ?, 'all', 'ks2_rwm_expected', ?, 12.0, 'ok')", [str(la[world["secondary"]]), period])
        cur.execute("INSERT INTO observations (level, area_code, scope, measure, period, value, status) VALUES "
                    "('la', ?, 'state_funded', 'attainment8', ?, 44.25, 'ok')", [str(la[world["secondary"]]), period])
    pub = _preview(world)
    assert _value(pub, "ks2_rwm_expected", world["primary"]).la_display == "61%"  # state-funded, as national; not 12%
    assert _value(pub, "attainment8", world["secondary"]).la_display == "44.2"  # the measure's own format
    if la[world["secondary"]] != la[world["primary"]]:
        assert _value(pub, "attainment8", world["primary"]).la_display is None  # its LA published none


def test_the_fields_are_stored_read_back_and_exported_for_parents(world: dict, tmp_path: Path) -> None:
    # issue 11 point 16
    s = world["store"]
    preview = _preview(world)
    pub, problems = publish(s, ADMIN, world["gid"], world["period"], MEASURES, {})
    assert problems == [] and pub is not None
    assert pub.content() == preview.content()
    assert published(s, pub.publication_id) == pub
    out = tmp_path / "public.duckdb"
    export_public(s, out)
    with Store(out) as public:
        copy = published(public, pub.publication_id)
    assert copy is not None and copy.content() == pub.content()
    assert any(v.applies is False for v in copy.school_values)
    assert all(x.ofsted_url for x in copy.schools) and all(i.definition for i in copy.items)
