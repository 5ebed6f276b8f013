"""Families with the kind of school from real DfE files: GIAS's admissions policy imported, grammar schools kept out
of comprehensives' families unless asked (North Yorkshire 2017/18, which has four selective schools)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import GIAS_SAMPLE, GIAS_TV, PERF, read_csv_rows

from data.db.store import Store
from data.ingest.importers import import_file
from data.services.families import family

YEAR = "2017/18"


def _policies(path: Path, encoding: str) -> dict[int, str]:
    header, rows = read_csv_rows(path, encoding)
    u, p = header.index("URN"), header.index("AdmissionsPolicy (name)")
    return {int(r[u]): r[p] for r in rows if len(r) == len(header)}  # ragged rows are refused by the importer


# issue 11 point 13
@pytest.mark.parametrize(("path", "encoding"), [(GIAS_SAMPLE, "cp1252"), (GIAS_TV / "example_schools_data.csv",
                                                                            "utf-8-sig")])
def test_gias_admissions_policy_is_imported(store: Store, path: Path, encoding: str) -> None:
    import_file(store, path, None)
    want = _policies(path, encoding)
    got = dict(store.query("SELECT urn, admissions_policy FROM establishments"))
    assert want and {u: got[u] for u in want if u in got} == {u: p for u, p in want.items() if u in got}
    assert len(set(want) & set(got)) >= min(len(want), 10)
    assert set(got.values()) >= {"Not applicable"}


@pytest.fixture(scope="module")
def north_yorkshire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(tmp_path_factory.mktemp("ny") / "s.duckdb")
    for path, period in ((PERF / "815_spine.csv", None), (PERF / "815_2018_census.csv", YEAR),
                         (PERF / "815_2018_ks4final.csv", YEAR)):
        assert import_file(s, path, period).ok
    yield s
    s.close()


def _selective(path: Path) -> set[int]:
    header, rows = read_csv_rows(path)
    u, p = header.index("URN"), header.index("ADMPOL")
    return {int(r[u]) for r in rows if r[p] == "Selective"}


# issue 11 point 13
def test_spine_admissions_policy_and_kind(north_yorkshire: Store) -> None:
    grammar = _selective(PERF / "815_spine.csv")
    assert len(grammar) == 4  # Ripon Grammar, Ermysted's, Cundall Manor (independent), Skipton Girls' High
    got = dict(north_yorkshire.query("SELECT urn, admissions_policy FROM establishments WHERE admissions_policy "
                                     "= 'Selective'"))
    assert set(got) == grammar
    kinds = dict(north_yorkshire.query("SELECT DISTINCT urn, kind FROM school_context"))
    with_context = grammar & set(kinds)
    assert len(with_context) >= 3 and {kinds[u] for u in with_context} == {"selective"}


# issue 11 point 13
def test_no_grammar_school_in_a_comprehensives_family_unless_asked(north_yorkshire: Store) -> None:
    s = north_yorkshire
    grammar = _selective(PERF / "815_spine.csv")
    comprehensives = [u for (u,) in s.query("SELECT DISTINCT urn FROM school_context WHERE kind = 'mainstream' "
                                            "AND phase = 'secondary' ORDER BY urn")]
    assert len(comprehensives) > 20
    in_families = {n for (n,) in s.query("SELECT neighbour FROM families WHERE urn IN (SELECT unnest(?::INTEGER[]))",
                                         [comprehensives])}
    assert in_families and not in_families & grammar
    # asked for every kind of secondary school: the grammar schools come back into some comprehensive's family
    asked = set()
    for urn in comprehensives:
        fam = family(s, urn, size=10, same_kind=False)
        asked |= set(fam["urn"]) & grammar
        assert not set(family(s, urn, size=10)["urn"]) & grammar
    assert asked
    # a grammar school's own family is of grammar schools only
    g = next(u for u in grammar if u in set(s.query_df("SELECT urn FROM school_context")["urn"]))
    assert set(family(s, g, size=10)["urn"]) <= grammar
