"""The demo's pupil groups: cohorts and results that add up to each school's total, gaps that vary by school and
over time, small disadvantaged cohorts suppressed, and DfE's gap (DIFFN_*, *_diffn) in both file layouts."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.db.store import Store
from data.demo import build as demo
from data.demo import current, files
from data.demo.pupil_groups import KS2_SPLITS, KS4_SPLITS, gap_factor
from data.demo.simulation import _simulate_year
from data.demo.world import DEFAULT_SCHOOLS, DEFAULT_SEED, DEFAULT_YEARS, SEC, SPE, _build_world, _World

SCHOOLS, SEED = 300, 4242
WIDE_YEAR, EES_2324, EES_2425 = 2022, 2023, 2024  # a five-year world: 2021/22 and 2022/23 are in the wide layout


@pytest.fixture(scope="module")
def world() -> _World:
    return _build_world(SCHOOLS, 5, SEED)


@pytest.fixture(scope="module")
def years(world: _World) -> dict[int, pd.DataFrame]:
    return {y: _simulate_year(world, y) for y in world.years}


@pytest.fixture(scope="module")
def written(world: _World, years: dict[int, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wide KS4/KS2 finals of a wide year and the EES school, information and national files of two EES years."""
    root = tmp_path_factory.mktemp("pg")
    out = {"ks4": files._write_ks4(world, years[WIDE_YEAR], WIDE_YEAR, root / "ks4.csv"),
           "ks2": files._write_ks2(world, years[WIDE_YEAR], WIDE_YEAR, root / "ks2.csv")}
    for y in (EES_2324, EES_2425):
        Y, v = years[y], "Final"
        out[f"ees_ks4_{y}"] = current.write_ees_ks4(world, Y, y, root / f"ees_ks4_{y}.csv", v)
        out[f"ees_ks2_{y}"] = current.write_ees_ks2(world, Y, y, root / f"ees_ks2_{y}.csv", v)
        out[f"info_{y}"] = current.write_ees_ks4_info(world, Y, y, root / f"info_{y}.csv", v)
        out[f"nat_ks4_{y}"] = current.write_ees_ks4_national(world, Y, y, root / f"nat_ks4_{y}.csv", v)
        out[f"nat_ks2_{y}"] = current.write_ees_ks2_national(world, Y, y, root / f"nat_ks2_{y}.csv", v)
    return out


def _read(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    width = len(rows[0])
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows[1:]], columns=rows[0], dtype=str)


def _num(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col.str.rstrip("%"), errors="coerce")


# ------------------------------------------------------------------------------------------ the simulation


def test_every_split_adds_up_to_the_total(years: dict[int, pd.DataFrame]) -> None:
    for Y in years.values():
        for groups in KS4_SPLITS.values():
            assert (sum(Y[f"n4_{g}"] for g in groups) == Y["tpup"]).all()
            assert (sum(Y[f"p8n_{g}"] for g in groups) == Y["p8pup"]).all()
            for count in ("b94", "b95", "eb_entry", "eb94", "eb95"):
                assert (sum(Y[f"{count}_{g}"] for g in groups) == Y[count]).all()
                assert all((Y[f"{count}_{g}"] <= Y[f"n4_{g}"]).all() for g in groups)
            for score, weight, total, pupils in (("att8", "n4", "att8", "tpup"), ("aps", "n4", "ebaccaps", "tpup"),
                                                 ("p8", "p8n", "p8", "p8pup")):
                num = sum(np.nan_to_num(Y[f"{score}_{g}"] * Y[f"{weight}_{g}"]) for g in groups)
                assert np.allclose(num, np.nan_to_num(Y[total] * Y[pupils]), atol=1e-6)
        for groups in KS2_SPLITS.values():
            assert (sum(Y[f"n2_{g}"] for g in groups) == Y["telig"]).all()
            for count, total in (("rwm", "rwm"), ("rwmh", "rwm_high")):
                assert (sum(Y[f"{count}_{g}"] for g in groups) == Y[total]).all()
            for prog in ("readprog", "writprog", "matprog"):
                num = sum(np.nan_to_num(Y[f"{prog}_{g}"] * Y[f"n2_{g}"]) for g in groups)
                assert np.allclose(num, Y[prog] * Y["telig"], atol=1e-6)


def _school_gaps(world: _World, Y: pd.DataFrame) -> pd.Series:
    """Within-school Attainment 8 gap (other pupils minus disadvantaged) of mainstream schools with ten of each."""
    main = np.isin(world.s["phase"].to_numpy(), (SEC, 2)) & (Y["n4_dis"] >= 10) & (Y["n4_nondis"] >= 10)
    return (Y["att8_nondis"] - Y["att8_dis"])[main]


def test_school_gaps_vary_and_move(world: _World, years: dict[int, pd.DataFrame]) -> None:
    first, last = world.years[0], world.years[-1]
    gaps = _school_gaps(world, years[last])
    assert 6 < gaps.median() < 20
    q5, q25, q75, q95 = np.percentile(gaps, [5, 25, 75, 95])
    assert q75 - q25 > 4 and q95 - q5 > 10  # a wide spread of school gaps
    change = (_school_gaps(world, years[last]) - _school_gaps(world, years[first])).dropna()
    assert len(change) > 20
    assert (change < -2).mean() > 0.15 and (change > 2).mean() > 0.15  # some schools narrow it, others widen it
    # the context: schools with few disadvantaged pupils have wider gaps than those with many
    Y = years[last]
    share = (Y["n4_dis"] / Y["tpup"])[gaps.index]
    assert gaps[share < share.quantile(0.33)].median() > gaps[share > share.quantile(0.67)].median()


def test_a_schools_gap_depends_on_its_context(world: _World) -> None:
    """The gap factor: narrower in London, wider where few pupils are disadvantaged, and moving with its own trend."""
    share = np.full(len(world.s), 0.25)
    f = gap_factor(world, world.years[-1], share)
    london = world.las["region"].to_numpy()[world.s["la"].to_numpy()] == 6
    assert f[london].mean() < f[~london].mean()
    assert (gap_factor(world, world.years[-1], share - 0.2) > f).all()
    move = gap_factor(world, world.years[-1], share) / gap_factor(world, world.years[0], share)
    assert (move < 0.9).mean() > 0.1 and (move > 1.1).mean() > 0.1  # some narrow, some widen over the years


def test_the_national_gaps_of_the_default_demo() -> None:
    """England of the default demo: non-disadvantaged pupils nationally about 15 Attainment 8 points and 20 points of
    KS2 reading, writing and maths ahead of disadvantaged pupils (DfE's national figures of recent years)."""
    w = _build_world(DEFAULT_SCHOOLS, DEFAULT_YEARS, DEFAULT_SEED)
    for y in (w.years[0], w.years[-1]):
        Y = _simulate_year(w, y)
        ok = w.s["has_ks4"].to_numpy() & Y["present"].to_numpy() & (Y["since"] >= 4) & ~w.s["ks4_ne"].to_numpy()
        Z = Y[ok]

        def att8(g: str, Z: pd.DataFrame = Z) -> float:
            return float(np.nansum(Z[f"att8_{g}"] * Z[f"n4_{g}"]) / Z[f"n4_{g}"].sum())

        assert 12 <= att8("nondis") - att8("dis") <= 18
        # the comparator every school's attainment8_diffn is measured against (a school with no such pupils adds none)
        nat_att8, nat_p8 = current.national_not_disadvantaged(w, Y)
        assert round(att8("nondis"), 1) == nat_att8 and np.isfinite(nat_p8)
        K = Y[Y["telig"] > 0]
        rwm = {g: 100 * K[f"rwm_{g}"].sum() / K[f"n2_{g}"].sum() for g in ("dis", "nondis")}
        assert 16 <= rwm["nondis"] - rwm["dis"] <= 24


def test_small_schools_have_small_disadvantaged_cohorts(world: _World, years: dict[int, pd.DataFrame]) -> None:
    Y = years[world.years[-1]]
    small = (Y["telig"] > 0) & (Y["telig"] < 20)
    assert small.sum() > 10
    assert (Y["ndis2"][small] < 10).mean() > 0.8
    assert ((Y["ndis2"][small] >= 1) & (Y["ndis2"][small] <= 5)).sum() > 5


# ------------------------------------------------------------------------------------------ the wide files


def test_wide_ks4_groups_add_up(written: dict[str, Path]) -> None:
    df = _read(written["ks4"])
    sch = df[df["RECTYPE"].isin(["1", "2"]) & (df["TPUP"].str.isdigit())]
    sch = sch[sch["ATT8SCR"].str.match(r"^[\d.]+$")]
    assert len(sch) > 10
    n = _num(sch["TPUP"])
    for parts in (("TFSM6CLA1A", "TNOTFSM6CLA1A"), ("BPUP", "GPUP"), ("TPRIORLO", "TPRIORAV", "TPRIORHI"),
                  ("TEALGRP2", "TEALGRP1")):
        assert (sum(_num(sch[c]) for c in parts) == n).all()
    assert (_num(sch["TNMOB"]) <= n).all()
    for cohorts, sfx in ((("TFSM6CLA1A", "TNOTFSM6CLA1A"), ("FSM6CLA1A", "NFSM6CLA1A")),
                         (("BPUP", "GPUP"), ("BOYS", "GIRLS")),
                         (("TPRIORLO", "TPRIORAV", "TPRIORHI"), ("LO", "AV", "HI"))):
        vals = [_num(sch[f"ATT8SCR_{s}"]) for s in sfx]
        ok = pd.concat(vals, axis=1).notna().all(axis=1)
        pooled = sum(v[ok] * _num(sch[c])[ok] for v, c in zip(vals, cohorts, strict=True)) / n[ok]
        assert ok.sum() > 5
        assert (abs(pooled - _num(sch["ATT8SCR"])[ok]) <= 0.101).all()  # each figure to the file's one decimal
        pct = [_num(sch[c]) for c in (("PTFSM6CLA1ABASICS_94", "PTNOTFSM6CLA1ABASICS_94") if sfx[0] == "FSM6CLA1A"
                                      else ("PBL2BASICS_94", "PGL2BASICS_94") if sfx[0] == "BOYS"
                                      else ("PTBASICSLO_94", "PTBASICSAV_94", "PTBASICSHI_94"))]
        ok = pd.concat(pct, axis=1).notna().all(axis=1)
        pupils = sum(p[ok] * _num(sch[c])[ok] / 100 for p, c in zip(pct, cohorts, strict=True))
        whole = _num(sch["PTL2BASICS_94"])[ok] * n[ok] / 100
        assert (abs(pupils - whole) <= 0.0005 * n[ok] * (len(cohorts) + 1) + 1e-6).all()  # 0.1% rounding per cell


def test_wide_ks2_groups_add_up(written: dict[str, Path]) -> None:
    df = _read(written["ks2"])
    sch = df[df["RECTYPE"].isin(["1", "2"]) & df["BELIG"].str.isdigit()]
    assert len(sch) > 50
    n = _num(sch["TELIG"])
    for parts in (("TFSM6CLA1A", "TNotFSM6CLA1A"), ("BELIG", "GELIG"), ("TKS1GROUP_L", "TKS1GROUP_M", "TKS1GROUP_H")):
        assert (sum(_num(sch[c]) for c in parts) == n).all()
    for cohorts, sfx in ((("TFSM6CLA1A", "TNotFSM6CLA1A"), ("FSM6CLA1A", "NotFSM6CLA1A")),
                         (("BELIG", "GELIG"), ("B", "G"))):
        pct = [_num(sch[f"PTRWM_EXP_{s}"]) for s in sfx]
        ok = pd.concat(pct, axis=1).notna().all(axis=1) & _num(sch["PTRWM_EXP"]).notna()
        pupils = sum(p[ok] * _num(sch[c])[ok] / 100 for p, c in zip(pct, cohorts, strict=True))
        assert ok.sum() > 20
        assert (abs(pupils - _num(sch["PTRWM_EXP"])[ok] * n[ok] / 100) <= 0.005 * n[ok] * 3 + 1e-6).all()


def test_wide_diffn_is_dfe_gap(written: dict[str, Path]) -> None:
    """DIFFN_*: the school's disadvantaged pupils minus non-disadvantaged pupils nationally (the RECTYPE 7 row)."""
    ks4 = _read(written["ks4"])
    nat = ks4[ks4["RECTYPE"] == "7"].iloc[0]
    sch = ks4[ks4["RECTYPE"].isin(["1", "2"]) & _num(ks4["DIFFN_ATT8"].fillna("")).notna()]
    assert len(sch) > 10
    assert np.allclose(_num(sch["DIFFN_ATT8"]), _num(sch["ATT8SCR_FSM6CLA1A"]) - float(nat["ATT8SCR_NFSM6CLA1A"]),
                       atol=0.051)
    assert np.allclose(_num(sch["DIFFN_P8MEA"]), _num(sch["P8MEA_FSM6CLA1A"]) - float(nat["P8MEA_NFSM6CLA1A"]),
                       atol=0.0051)
    gap = float(nat["ATT8SCR_NFSM6CLA1A"]) - float(nat["ATT8SCR_FSM6CLA1A"])
    assert 10 <= gap <= 20
    ks2 = _read(written["ks2"])
    nat2 = ks2[ks2["RECTYPE"] == "7"].iloc[0]
    sch2 = ks2[ks2["RECTYPE"].isin(["1", "2"]) & _num(ks2["DIFFN_RWM_EXP"]).notna()]
    assert len(sch2) > 20
    diff = _num(sch2["PTRWM_EXP_FSM6CLA1A"]) - _num(pd.Series([nat2["PTRWM_EXP_NotFSM6CLA1A"]]))[0]
    assert (abs(_num(sch2["DIFFN_RWM_EXP"]) - diff) <= 0.51).all()
    assert 12 <= _num(pd.Series([nat2["PTRWM_EXP_NotFSM6CLA1A"]]))[0] - _num(
        pd.Series([nat2["PTRWM_EXP_FSM6CLA1A"]]))[0] <= 28  # KS2's gap: about 20 points


def test_wide_small_groups_suppressed(written: dict[str, Path]) -> None:
    ks2 = _read(written["ks2"])
    sch = ks2[ks2["RECTYPE"].isin(["1", "2"]) & ks2["TFSM6CLA1A"].str.isdigit()]
    few = _num(sch["TFSM6CLA1A"]).between(1, 5)
    assert few.sum() > 5
    assert (sch.loc[few, "PTRWM_EXP_FSM6CLA1A"] == "SUPP").all()
    assert (sch.loc[few, "DIFFN_RWM_EXP"] == "SUPP").all()
    assert (sch.loc[_num(sch["TFSM6CLA1A"]) > 5, "PTRWM_EXP_FSM6CLA1A"] != "SUPP").all()
    ks4 = _read(written["ks4"])
    sch4 = ks4[ks4["RECTYPE"].isin(["1", "2"]) & ks4["TFSM6CLA1A"].str.isdigit()]
    few4 = _num(sch4["TFSM6CLA1A"]).between(1, 5) & (sch4["ATT8SCR"] != "NE")
    assert few4.sum() >= 1
    assert (sch4.loc[few4, ["ATT8SCR_FSM6CLA1A", "DIFFN_ATT8", "PTFSM6CLA1ABASICS_94"]] == "SUPP").all().all()


# ------------------------------------------------------------------------------------------ the EES files


@pytest.mark.parametrize("y", [EES_2324, EES_2425])
def test_ees_ks4_breakdowns_add_up(written: dict[str, Path], y: int) -> None:
    df = _read(written[f"ees_ks4_{y}"])
    topics = set(df["breakdown_topic"])
    assert {"Total", "Disadvantage status", "Sex", "First language", "Mobility"} <= topics
    assert ("Prior attainment" in topics) == (y == EES_2324)  # the 2024/25 school file has no prior attainment
    pupils = "pupil_count" if y >= 2024 else "t_pupils"
    att8 = "attainment8_sum" if y >= 2024 else "t_att8"
    df["n"] = _num(df[pupils])
    total = df[df["breakdown_topic"] == "Total"].set_index("school_urn")
    for topic, part in df[df["breakdown_topic"] != "Total"].groupby("breakdown_topic"):
        sums = part.groupby("school_urn")["n"].sum()
        full = part.groupby("school_urn")["breakdown"].nunique() == part["breakdown"].nunique()
        assert (sums[full] == total.loc[sums[full].index, "n"]).all(), topic
        # the groups' Attainment 8 sums add up to the Total's (each written to one decimal)
        shown = part[_num(part[att8]).notna()]
        s = shown.groupby("school_urn")[att8].apply(lambda c: _num(c).sum())
        both = s.index[(shown.groupby("school_urn")["breakdown"].nunique() == part["breakdown"].nunique())]
        both = [u for u in both if pd.notna(_num(pd.Series([total.loc[u, att8]]))[0])]
        assert len(both) > 5
        assert np.allclose(s[both], _num(total.loc[both, att8]), atol=0.2), topic


@pytest.mark.parametrize("y", [EES_2324, EES_2425])
def test_ees_small_groups_suppressed(written: dict[str, Path], y: int) -> None:
    ks2 = _read(written[f"ees_ks2_{y}"])
    dis = ks2[(ks2["breakdown"] == "Disadvantaged") & (ks2["subject"] == "Reading, writing and maths")]
    few = _num(dis["eligible_pupil_count"]).between(1, 5)
    assert few.sum() > 5
    assert dis.loc[few, "expected_standard_pupil_percent"].isin(["c", "x"]).all()  # x: the school's not published
    assert (dis.loc[few, "expected_standard_pupil_percent"] == "c").sum() > 5
    ks4 = _read(written[f"ees_ks4_{y}"])
    pupils = "pupil_count" if y >= 2024 else "t_pupils"
    att8 = "attainment8_average" if y >= 2024 else "avg_att8"
    dis4 = ks4[ks4["breakdown"] == "Disadvantaged"]
    few4 = _num(dis4[pupils]) <= 5
    assert (dis4.loc[few4, att8].isin(["c", "z"])).all()


@pytest.mark.parametrize("y", [EES_2324, EES_2425])
def test_ees_national_gap_and_diffn(written: dict[str, Path], y: int) -> None:
    nat = _read(written[f"nat_ks4_{y}"])
    nat = nat[nat["geographic_level"] == "National"]
    # one national row per pupil group, each with a single characteristic not at Total
    filters = ["disadvantage_status", "sex", "first_language", "sen_provision", "prior_attainment", "mobility"]
    words = {w for f in filters for w in nat[f] if w != "Total"}
    assert {"Disadvantaged", "Not known to be disadvantaged", "Boys", "Girls", "Mobile", "Non mobile", "Low",
            "High", "SEN support", "EHC plan", "No identified SEN",
            "Known or believed to be other than English"} <= words
    row = {w: r for _, r in nat.iterrows() for w in [next((r[f] for f in filters if r[f] != "Total"), "Total")]}
    non, dis = float(row["Not known to be disadvantaged"]["attainment8_average"]), float(
        row["Disadvantaged"]["attainment8_average"])
    assert 10 <= non - dis <= 20
    # each breakdown's pupils add up to the Total nationally
    for fil in filters:
        part = nat[nat[fil] != "Total"]
        assert _num(part["pupil_count"]).sum() == int(row["Total"]["pupil_count"]), fil
    # the information file's attainment8_diffn: the school's disadvantaged pupils minus the national figure above
    info = _read(written[f"info_{y}"]).set_index("school_urn")
    ks4 = _read(written[f"ees_ks4_{y}"])
    att8 = "attainment8_average" if y >= 2024 else "avg_att8"
    dis_rows = ks4[ks4["breakdown"] == "Disadvantaged"].set_index("school_urn")
    shown = info.index[_num(info["attainment8_diffn"]).notna()]
    assert len(shown) > 10
    expected = _num(dis_rows.loc[shown, att8]) - non
    assert np.allclose(_num(info.loc[shown, "attainment8_diffn"]), expected, atol=0.051)
    ks2 = _read(written[f"nat_ks2_{y}"])
    ks2 = ks2[ks2["geographic_level"] == "National"]
    assert {"Boys", "Girls", "Known or believed to be other than English"} <= set(ks2["sex"]) | set(
        ks2["first_language"])


def test_special_and_small_info(world: _World, years: dict[int, pd.DataFrame]) -> None:
    """SEN counts of the information file are the simulation's SEN groups (the national file's too)."""
    Y = years[EES_2425]
    assert (Y["n4_ehc"] + Y["n4_senk"] + Y["n4_nosen"] == Y["tpup"]).all()
    spe = world.s["phase"].to_numpy() == SPE
    ks4 = Y["tpup"] > 0
    assert (Y["n4_ehc"][spe & ks4] / Y["tpup"][spe & ks4]).mean() > (Y["n4_ehc"][~spe & ks4] / Y["tpup"][~spe & ks4]
                                                                     ).mean()


# ------------------------------------------------------------------------------------------ the store


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("pgdemo")
    demo.build_demo(root / "demo.duckdb", schools=SCHOOLS, years=3, seed=SEED)
    store = Store(root / "demo.duckdb", read_only=True)
    try:
        yield store
    finally:
        store.close()


def test_store_holds_the_groups(built: Store) -> None:
    df = built.query_df("SELECT level, scope, pupil_group, measure, period, count(*) AS n "
                        "FROM pupil_group_observations GROUP BY ALL")
    school = set(df.loc[(df["level"] == "school") & df["scope"].isna(), "pupil_group"])
    assert {"disadvantaged", "not_disadvantaged", "boys", "girls", "eal", "not_eal", "mobile", "not_mobile",
            "prior_low", "prior_middle", "prior_high", "sen_support", "ehc_plan"} <= school
    national = df[df["level"] == "national"]
    assert {"disadvantaged", "not_disadvantaged", "boys", "girls", "eal", "not_eal", "mobile", "not_mobile",
            "prior_low", "prior_middle", "prior_high", "sen_support", "ehc_plan", "no_sen"} <= set(
        national["pupil_group"])
    for measure in ("attainment8", "basics_94", "basics_95", "ebacc_aps", "ks2_rwm_expected", "ks2_rwm_high"):
        assert measure in set(df.loc[(df["level"] == "school") & (df["pupil_group"] == "disadvantaged"), "measure"])
        assert measure in set(national.loc[national["pupil_group"] == "disadvantaged", "measure"])
    gap = built.query_df("SELECT value FROM pupil_group_observations WHERE scope = 'gap' AND measure = 'attainment8' "
                         "AND level = 'school' AND value IS NOT NULL")
    assert len(gap) > 20 and gap["value"].between(-50, 15).all()  # special schools: -40 and below
    # the national non-disadvantaged pupils' Attainment 8 against the disadvantaged: 10 to 20 points
    nat = built.query_df("SELECT period, pupil_group, value FROM pupil_group_observations WHERE level = 'national' "
                         "AND measure = 'attainment8' AND pupil_group IN ('disadvantaged', 'not_disadvantaged')")
    wide = nat.pivot(index="period", columns="pupil_group", values="value")
    assert ((wide["not_disadvantaged"] - wide["disadvantaged"]).between(10, 20)).all()
    # suppressed small groups are stored as suppressed, not as values
    supp = built.query_df("SELECT count(*) AS n FROM pupil_group_observations WHERE level = 'school' AND "
                          "pupil_group = 'disadvantaged' AND value IS NULL AND status_code = 'c'")
    assert int(supp["n"].iat[0]) > 5
