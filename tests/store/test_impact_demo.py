"""Has joining made a difference, on the full demo (issue 15): the trusts the demo plants effects on are found as
planted (one helps, one harms, one makes no difference), and one trust's estimate equals an independent computation
from the store's own tables (read here with plain SQL, estimated by the pandas code of tests/unit/test_impact.py);
the CLI prints the same numbers, and bad input is a located sentence with exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from data import cli
from data.db.store import Store
from data.demo.world import PLANTED_EFFECTS, planted_trusts
from data.services.impact import group_impact
from metrics.impact import impact_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_impact import independent  # noqa: E402 (the test's own pandas method, sharing nothing with metrics.impact)

MEASURE = "ks2_rwm_expected"


@pytest.fixture(scope="module")
def full_demo(full_demo_master: Path) -> Path:
    """The full demo (conftest), read only here: a test that writes copies it first."""
    return full_demo_master


@pytest.fixture(scope="module")
def planted() -> dict[float, str]:
    """The planted effect -> the trust's name, from the world the demo is built from."""
    return planted_trusts()


def _find(store: Store, name: str) -> int:
    return int(store.query("SELECT group_id FROM groups WHERE lower(name) = lower(?)", [name])[0][0])


def test_the_planted_effects_are_found(full_demo: Path, planted: dict[float, str]) -> None:
    helps, harms, none = PLANTED_EFFECTS
    with Store(full_demo, read_only=True) as store:
        found = {e: group_impact(store, _find(store, name), MEASURE) for e, name in planted.items()}
    for e, imp in found.items():
        a = imp.result.after
        assert a.shown and a.schools >= 10 and imp.result.verdict == "reliable", (e, a, imp.result.pretrend_words)
    assert found[helps].result.after.low > 0 and "(better)" in found[helps].words
    assert found[harms].result.after.high < 0 and "(worse)" in found[harms].words
    assert found[none].result.after.low < 0 < found[none].result.after.high
    assert "no clear difference" in found[none].words


def _independent_inputs(store: Store, group_id: int) -> tuple[pd.DataFrame, dict, dict, dict]:
    """The event study's inputs read with plain SQL (no data.services code): the group's joiners by the academic
    year of their start date, every school's first trust year, each joiner's family two years before joining (else
    its nearest year's), and the measure's panel with earlier URNs standing in for the years a school has none."""
    def ay(d) -> int:  # noqa: ANN001
        return d.year - (d.month < 9)

    kind = store.query("SELECT kind FROM groups WHERE group_id = ?", [group_id])[0][0]
    first: dict[int, float] = {}
    for u, d, undated in store.query("SELECT m.urn, min(m.start_date), bool_or(m.start_date IS NULL) FROM memberships "
                                     "m JOIN groups g USING (group_id) WHERE g.kind = ? GROUP BY m.urn", [kind]):
        first[int(u)] = -10_000.0 if undated else float(ay(d))
    for a, u in store.query("SELECT ancestor_urn, urn FROM school_lineage"):
        if int(u) in first:
            first[int(a)] = min(first.get(int(a), first[int(u)]), first[int(u)])
    joins = {}
    for u, d in store.query("SELECT urn, min(start_date) FROM memberships WHERE group_id = ? AND start_date IS NOT "
                            "NULL GROUP BY urn", [group_id]):
        if first.get(int(u)) == ay(d):  # its first group of the kind
            joins[int(u)] = ay(d)
    fam = pd.DataFrame(store.query("SELECT urn, period, neighbour FROM family_by_year"),
                       columns=["urn", "period", "neighbour"])
    fam["year"] = fam["period"].str[:4].astype(int)
    cands = {}
    for u, g in joins.items():
        mine = fam[fam["urn"] == u]
        if mine.empty:
            continue
        years = sorted(mine["year"].unique(), key=lambda y: (abs(y - (g - 2)), -y))
        cands[u] = [int(n) for n in mine.loc[mine["year"] == years[0], "neighbour"] if int(n) != u]
    obs = pd.DataFrame(store.query("SELECT urn, period, value, denominator FROM observations WHERE level = 'school' "
                                   "AND measure = ? AND status = 'ok' AND value IS NOT NULL", [MEASURE]),
                       columns=["urn", "period", "value", "weight"])
    obs["year"] = obs["period"].str[:4].astype(int)
    line = pd.DataFrame(store.query("SELECT urn, ancestor_urn, depth, until_period FROM school_lineage"),
                        columns=["urn", "ancestor_urn", "depth", "until_period"])
    old = obs.merge(line, left_on="urn", right_on="ancestor_urn", suffixes=("_old", ""))
    old = old[old["until_period"].isna() | (old["period"] <= old["until_period"].fillna(""))]
    old = old.sort_values("depth").drop_duplicates(["urn", "year"])
    have = set(zip(obs["urn"], obs["year"], strict=True))
    old = old[[(u, y) not in have for u, y in zip(old["urn"], old["year"], strict=True)]]
    panel = pd.concat([obs[["urn", "year", "value", "weight"]], old[["urn", "year", "value", "weight"]]])
    return panel.astype({"urn": int, "year": int}), joins, cands, first


def test_one_trusts_estimate_equals_an_independent_computation(full_demo: Path, planted: dict[float, str]) -> None:
    with Store(full_demo, read_only=True) as store:
        gid = _find(store, planted[PLANTED_EFFECTS[0]])
        imp = group_impact(store, gid, MEASURE)
        panel, joins, cands, first = _independent_inputs(store, gid)
    per, pooled = independent(panel, {u: g for u, g in joins.items() if u in cands}, cands, first)
    mine = {(e.urn, k): a for e in imp.result.per_school for k, a in e.att.items()}
    theirs = {(int(u), int(k)): a for u, k, a in zip(per.urn, per.k, per.att, strict=True)}
    assert mine.keys() == theirs.keys() and len(mine) >= 40
    assert max(abs(mine[key] - theirs[key]) for key in mine) < 1e-9
    for p in imp.result.points:
        if p.k != -2 and p.shown:
            assert p.estimate == pytest.approx(pooled.estimate[p.k], abs=1e-9)
            assert p.se == pytest.approx(pooled.se[p.k], abs=1e-9)
            assert p.schools == pooled.n[p.k]


def test_the_cli_prints_the_event_study(full_demo: Path, planted: dict[float, str], monkeypatch, capsys) -> None:
    monkeypatch.setenv("JOINTLY_DB", str(full_demo))
    name = planted[PLANTED_EFFECTS[1]]
    assert cli.main(["impact", "--group", name, "--measure", MEASURE, "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    with Store(full_demo, read_only=True) as store:
        want = impact_json(group_impact(store, _find(store, name), MEASURE))
    assert got == json.loads(json.dumps(want))
    assert [p["relative_year"] for p in got["event_study"]] == list(range(-3, 5))
    shown = [p for p in got["event_study"] if p["shown"] and p["relative_year"] != -2]
    assert shown and all(p["low"] <= p["estimate"] <= p["high"] and p["schools"] >= 5 and p["pupils"] > 0
                         for p in shown)
    assert got["pooled_effect"]["high"] < 0 and "fell" in got["pooled_effect"]["words"]
    assert cli.main(["impact", "--group", name, "--measure", MEASURE]) == 0
    table = capsys.readouterr().out
    assert "after" in table and "Pre-join check:" in table and "95% interval" in table


@pytest.mark.parametrize(("args", "words"), [
    (["--group", "No Such Trust", "--measure", MEASURE], "no group with id, code or exact name 'No Such Trust'"),
    (["--group", "1", "--measure", "nonsense"], "unknown measure 'nonsense'"),
])
def test_bad_input_is_a_sentence_and_exit_code_2(full_demo: Path, monkeypatch, capsys, args, words) -> None:
    monkeypatch.setenv("JOINTLY_DB", str(full_demo))
    assert cli.main(["impact", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err



def test_the_support_ledger_compares_the_schools_it_reached(full_demo: Path, planted: dict[float, str],
                                                             tmp_path: Path) -> None:
    """Support recorded on KS2 for eight of a trust's primaries (six first in 2023/24, two first in 2024/25 after a
    record in another measure): they are the schools compared, each from the year its first KS2 support began, and
    a school first supported on KS2 in another group is not this group's."""
    from data.db.state import copy_store
    from data.services.access import Role, Viewer
    from data.services.impact import support_impact
    from data.services.support_log import record_support

    path = tmp_path / "support.duckdb"
    copy_store(full_demo, path)  # the results and the state store beside them
    with Store(path) as store:
        gid = _find(store, planted[PLANTED_EFFECTS[2]])
        members = [u for (u,) in store.query(
            "SELECT m.urn FROM memberships m JOIN establishments e USING (urn) WHERE m.group_id = ? "
            "AND e.phase = 'primary' ORDER BY m.urn", [gid])]
        admin = Viewer(Role.ADMIN, None, "admin")
        giver, takers = members[0], members[1:9]
        for i, taker in enumerate(takers):
            start = "2023-10-01" if i < 6 else "2024-10-01"
            assert record_support(store, admin, group_id=gid, giver=giver, taker=taker, kind="peer_review",
                                  start_date=start, end_date=None, hours=6, measure=MEASURE) == []
        assert record_support(store, admin, group_id=gid, giver=giver, taker=takers[0], kind="cpd",
                              start_date="2022-10-01", end_date=None, hours=3, measure="attainment8") == []
        found = support_impact(store, gid, MEASURE)
    assert [(u, g) for u, _n, g in found.schools] == [(u, 2023 if i < 6 else 2024) for i, u in enumerate(takers)]
    assert found.about.startswith("schools that received support on ")
    assert len(found.result.points) == 8 and found.result.after.schools <= len(takers)
