"""Issue 9, point 18 through the store: a governor probing for another group's measure ids learns nothing
from a formula or an upload, and what an id clash still says names no group and no measure of theirs."""

from __future__ import annotations

import pytest
from conftest import snapshot

from data.db.store import Store
from data.services import groups as groups_svc
from data.services.local_measures import define_local_measure, upload_local_values
from metrics.validation import Issue

SECRET = {"id": "secret_exclusions", "label": "Internal exclusions",
          "description": "Pupils placed in internal exclusion during the year, counted by the school.",
          "perspective": "inclusion", "unit": "pupils", "polarity": "lower_better",
          "phases": ["primary", "secondary"], "rollup": "sum"}
PROBE = {"id": "probe", "label": "Probe", "description": "A measure written to learn about another group's ids.",
         "perspective": "curriculum", "unit": "ratio", "polarity": "context", "phases": ["primary"],
         "rollup": "weighted_mean"}
CSV = b"URN,period,value\r\n100001,2023/24,3\r\n"


@pytest.fixture
def groups(store: Store) -> tuple[int, int]:
    """(the prober's group, the group whose measure is probed for)."""
    with store.results_transaction() as cur:
        cur.execute("INSERT INTO establishments (urn, name, phase) VALUES (100001, 'Ash Primary', 'primary')")
    mine = groups_svc.create_group(store, "partnership", "Riverside Partnership")
    groups_svc.add_memberships(store, mine, [100001], "2019-09-01")
    theirs = groups_svc.create_group(store, "trust", "Hilltop Trust")
    assert define_local_measure(store, theirs, SECRET, actor="hilltop@example") == []
    return mine, theirs


def words(issues: list[Issue], name: str) -> list[str]:
    """The issues' messages with the probed name blanked, so that two probes compare."""
    return [i.message.replace(name, "<id>") for i in issues]


def test_a_formula_naming_another_groups_id_reads_as_naming_no_measure(store: Store, groups: tuple[int, int]) -> None:
    mine, _ = groups
    before = snapshot(store)
    existing = define_local_measure(store, mine, {**PROBE, "formula": "secret_exclusions / pupils"}, actor="g")
    missing = define_local_measure(store, mine, {**PROBE, "formula": "secret_exclusionz / pupils"}, actor="g")
    assert words(existing, "secret_exclusions") == words(missing, "secret_exclusionz") == [
        "formula uses '<id>', which is not a measure this group can use (a formula may use national measures "
        "and the group's own)"]
    assert snapshot(store) == before


def test_an_upload_for_another_groups_id_reads_as_for_no_measure(store: Store, groups: tuple[int, int]) -> None:
    mine, _ = groups
    before = snapshot(store)
    existing = upload_local_values(store, mine, "secret_exclusions", CSV, filename="x.csv", actor="g")
    missing = upload_local_values(store, mine, "secret_exclusionz", CSV, filename="x.csv", actor="g")
    assert words(existing.issues, "secret_exclusions") == words(missing.issues, "secret_exclusionz") == [
        "this group has no local measure <id>: define it first"]
    assert snapshot(store) == before


def test_an_id_clash_names_no_group_and_reads_as_a_national_clash(store: Store, groups: tuple[int, int]) -> None:
    """What remains: ids are unique in the store, so a taken id is refused; the words are those of a national
    id's clash, naming neither the other group nor anything of its measure."""
    mine, _ = groups
    local = define_local_measure(store, mine, {**PROBE, "id": "secret_exclusions"}, actor="g")
    national = define_local_measure(store, mine, {**PROBE, "id": "pupils"}, actor="g")
    assert words(local, "secret_exclusions") == words(national, "pupils") == [
        "id '<id>' is already taken by another measure (ids are unique across national and local measures)"]
    assert not any(w in local[0].message for w in ("Hilltop", "group", "Internal exclusions"))
