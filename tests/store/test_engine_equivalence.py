"""The fast engine (issue 14 point 1) gives the cards the engine before it gave, and its kept reads never go stale
or cross from one request to another.

The engine before is the code of BASE (the commit issue 14 started from), taken from git into a folder of its own
and run in a process of its own by tests/engine_cards.py, on the same store as today's code: every group of the demo
store in every year (both roll-up methods, with and without special schools), schools of every kind, and a store
imported from the real North Yorkshire files. A card is compared whole (its repr: every row, value, level, flag,
label, member cell and their order).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import PERF, _copy_demo
from engine_cards import card_text

from data.db.store import Store
from data.ingest.derived import forget_period
from data.ingest.importers import import_file
from data.services import groups as groups_svc
from data.services import local_measures, schools, scope
from data.services.access import Role, Viewer
from data.services.scorecards import scorecard

REPO = Path(__file__).resolve().parents[2]
BASE = "f244fb5"  # the engine before issue 14
CARDS = REPO / "tests" / "engine_cards.py"


@pytest.fixture(scope="module")
def old_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The code of BASE, in a folder of its own (skipped when this checkout's history does not hold it)."""
    root = tmp_path_factory.mktemp("base")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BASE], capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"the commit {BASE} is not in this checkout's history")
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    return root


def cards_by(root: Path, db: Path, requests: list[dict], work: Path) -> list[str]:
    """Each request's card (engine_cards.card_text, or the refusal) made by the code at `root`, in its own process."""
    asked, out = work / "requests.json", work / f"cards-{root.name}.json"
    asked.write_text(json.dumps(requests))
    subprocess.run([sys.executable, str(CARDS), str(root), str(db), str(asked), str(out)], check=True, cwd=root)
    return json.loads(out.read_text())


def requests_for(store: Store, *, school_every: int = 1) -> list[dict]:
    """Every group with members in every year, by both methods and with special schools, and schools of every
    phase (every `school_every`-th) in every year."""
    periods = schools.periods(store)
    out: list[dict] = []
    ids = groups_svc.groups(store)
    for gid in ids.loc[ids["members"] > 0, "group_id"].tolist():
        for p in periods:
            out.append({"group": str(gid), "period": p})
        out.append({"group": str(gid), "period": periods[-1], "method": "dfe_trust"})
        out.append({"group": str(gid), "period": periods[-1], "include_special": True})
    urns = [int(r[0]) for r in store.query("SELECT urn FROM establishments ORDER BY phase NULLS FIRST, urn")]
    for urn in urns[::school_every]:
        for p in periods:
            out.append({"school": urn, "period": p})
    return out


def assert_same(old: list[str], new: list[str], requests: list[dict]) -> None:
    assert len(old) == len(new) == len(requests)
    differ = [(r, o[:300], n[:300]) for r, o, n in zip(requests, old, new, strict=True) if o != n]
    assert not differ, f"{len(differ)} of {len(requests)} cards differ, first: {differ[0]}"


def test_every_demo_card_is_the_engines_before(demo_master: Path, old_root: Path, tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    _copy_demo(demo_master, db, None)
    with Store(db, read_only=True) as store:
        requests = requests_for(store, school_every=10)
    assert len(requests) > 150
    old = cards_by(old_root, db, requests, tmp_path)
    new = cards_by(REPO, db, requests, tmp_path)
    assert sum(x.startswith("refused") for x in new) < len(new) / 2  # cards, mostly, not refusals
    assert_same(old, new, requests)


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The North Yorkshire KS4, census and finance files of two years, with two partnerships of its schools."""
    db = tmp_path_factory.mktemp("real") / "real.duckdb"
    with Store(db) as store:
        for name, year in (("815_2018_ks4final.csv", "2017/18"), ("815_2018_census.csv", "2017/18"),
                           ("815_2018_cfr.csv", "2017/18"), ("815_2019_ks4provisional.csv", "2018/19"),
                           ("815_2019_census.csv", "2018/19"), ("815_2019_cfr.csv", "2018/19")):
            report = import_file(store, PERF / name, year)
            assert report.ok, report.message
        ks4 = [int(r[0]) for r in store.query(
            "SELECT DISTINCT urn FROM observations WHERE level = 'school' AND measure = 'attainment8' "
            "AND period = '2018/19' ORDER BY urn")]
        everyone = [int(r[0]) for r in store.query(
            "SELECT DISTINCT urn FROM observations WHERE level = 'school' ORDER BY urn")]
        a = groups_svc.create_group(store, "partnership", "Dales secondaries")
        groups_svc.add_memberships(store, a, ks4[:12], "2015-09-01")
        b = groups_svc.create_group(store, "cluster", "Vale schools")
        groups_svc.add_memberships(store, b, everyone[::7], None)
    return db


def test_every_card_of_the_real_files_is_the_engines_before(real_db: Path, old_root: Path, tmp_path: Path) -> None:
    db = tmp_path / "real.duckdb"
    shutil.copy(real_db, db)
    shutil.copy(real_db.with_suffix(".state.sqlite"), db.with_suffix(".state.sqlite"))
    with Store(db, read_only=True) as store:
        requests = requests_for(store, school_every=4)
    old = cards_by(old_root, db, requests, tmp_path)
    new = cards_by(REPO, db, requests, tmp_path)
    assert sum(not x.startswith("refused") for x in new) > 100
    assert_same(old, new, requests)


# ------------------------------------------------------------------------------------- kept reads and writes


def fresh(store: Store, **kw: object) -> str:
    """The card as the store says now, nothing kept."""
    schools.forget_kept(store)
    return card_text(scorecard(store, **kw))


def a_group_and_school(store: Store) -> tuple[int, int, str]:
    ids = groups_svc.groups(store)
    gid = int(ids.loc[ids["members"] > 2, "group_id"].iloc[0])
    period = schools.periods(store)[-1]
    return gid, int(groups_svc.group_members(store, gid, period)[0]), period


def test_an_import_is_seen_by_the_next_card(store: Store) -> None:
    import_file(store, PERF / "815_2018_ks4final.csv", "2017/18")
    urn = int(store.query("SELECT min(urn) FROM observations WHERE level = 'school' AND measure = 'attainment8'")[0][0])
    gid = groups_svc.create_group(store, "partnership", "Kept")
    groups_svc.add_memberships(store, gid, [urn], None)
    before = card_text(scorecard(store, group=str(gid), period="2017/18"))
    assert card_text(scorecard(store, group=str(gid), period="2017/18")) == before  # kept
    import_file(store, PERF / "815_2018_census.csv", "2017/18")  # adds the school's census measures
    after = card_text(scorecard(store, group=str(gid), period="2017/18"))
    assert after != before
    assert after == fresh(store, group=str(gid), period="2017/18")


def test_a_local_value_is_seen_by_the_next_card(demo_store: Store) -> None:
    measure, owner = demo_store.query("SELECT measure_id, owner_group_id FROM local_measures ORDER BY measure_id")[0]
    period = schools.periods(demo_store)[-1]
    urn = int(groups_svc.group_members(demo_store, int(owner), period)[0])
    before = card_text(scorecard(demo_store, group=str(owner), period=period))
    school_before = card_text(scorecard(demo_store, school=urn, period=period))
    local_measures.write_local_values(demo_store, measure, pd.DataFrame(
        {"urn": [urn], "period": [period], "value": [12345.0]}))
    after = card_text(scorecard(demo_store, group=str(owner), period=period))
    assert after != before and "12345.0" in card_text(scorecard(demo_store, school=urn, period=period))
    assert after == fresh(demo_store, group=str(owner), period=period)
    assert school_before != card_text(scorecard(demo_store, school=urn, period=period))


def test_forgetting_a_year_is_seen_by_the_next_card(demo_store: Store) -> None:
    gid, urn, _ = a_group_and_school(demo_store)
    first, second = schools.periods(demo_store)[:2]
    before = card_text(scorecard(demo_store, group=str(gid), period=second))
    school_before = card_text(scorecard(demo_store, school=urn, period=second))
    forget_period(demo_store, first, actor="test")
    after = card_text(scorecard(demo_store, group=str(gid), period=second))
    assert after != before and after == fresh(demo_store, group=str(gid), period=second)
    assert card_text(scorecard(demo_store, school=urn, period=second)) != school_before


def test_two_viewers_of_one_school_see_only_their_own_groups_local_measures(demo_store: Store) -> None:
    period = schools.periods(demo_store)[-1]
    locals_ = {int(g): {m for m, o in demo_store.query("SELECT measure_id, owner_group_id FROM local_measures")
                        if o == g} for (g,) in demo_store.query("SELECT DISTINCT owner_group_id FROM local_measures")}
    both = None
    for urn, in demo_store.query("SELECT urn FROM establishments ORDER BY urn"):
        mine = [g for g in groups_svc.groups_of(demo_store, int(urn)) if g in locals_]
        others = [g for g in groups_svc.groups_of(demo_store, int(urn)) if g not in locals_]
        if mine and others:
            both = (int(urn), mine[0], others[0])
            break
    assert both is not None, "the demo has a school in a group with local measures and in one without"
    urn, with_local, without = both
    seen = {r.measure for r in scope.school_scorecard(demo_store, Viewer(Role.LEADER, with_local, "a"), urn,
                                                      period).rows}
    other = {r.measure for r in scope.school_scorecard(demo_store, Viewer(Role.LEADER, without, "b"), urn,
                                                       period).rows}
    assert locals_[with_local] & seen  # the first leader's own local measures
    assert not locals_[with_local] & other  # never the other's, though the first card was kept just before
    again = {r.measure for r in scope.school_scorecard(demo_store, Viewer(Role.LEADER, with_local, "a"), urn,
                                                       period).rows}
    assert again == seen


def test_two_groups_never_share_rows(demo_store: Store) -> None:
    period = schools.periods(demo_store)[-1]
    ids = groups_svc.groups(demo_store)
    gids = [int(g) for g in ids.loc[ids["members"] > 0, "group_id"].tolist()[:12]]
    warm = {g: card_text(scorecard(demo_store, group=str(g), period=period)) for g in gids}
    for g in gids:
        assert warm[g] == fresh(demo_store, group=str(g), period=period)
    assert len(set(warm.values())) == len(gids)


def test_cards_made_on_many_threads_at_once_are_the_same_cards(demo_store: Store) -> None:
    period = schools.periods(demo_store)[-1]
    gid, urn, _ = a_group_and_school(demo_store)
    want = {"g": fresh(demo_store, group=str(gid), period=period), "s": fresh(demo_store, school=urn, period=period)}
    schools.forget_kept(demo_store)
    got: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            kind = "g" if i % 2 else "s"
            kw = {"group": str(gid)} if kind == "g" else {"school": urn}
            for _ in range(3):
                got.append((kind, card_text(scorecard(demo_store, period=period, **kw))))
        except BaseException as exc:  # noqa: BLE001 (said below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 24 and all(text == want[kind] for kind, text in got)


def test_what_is_kept_is_bounded_in_bytes(demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schools, "KEPT_BYTES", 200_000)
    schools.forget_kept(demo_store)
    period = schools.periods(demo_store)[-1]
    ids = groups_svc.groups(demo_store)
    for g in ids.loc[ids["members"] > 0, "group_id"].tolist()[:30]:
        scorecard(demo_store, group=str(g), period=period)
        assert schools.kept_bytes(demo_store) <= 200_000
    assert schools.kept_bytes(demo_store) > 0
