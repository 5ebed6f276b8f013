"""The demo's files: the world and its results written as DfE, GIAS, Ofsted and EES publish them, quirks and all."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    pass
from data.demo.pupil_groups import KS2_GROUPS, KS4_GROUPS
from data.demo.simulation import _simulate_year
from data.demo.world import (
    _CENSUS_TYPE,
    _CFR_CODE,
    _CFR_MEDIAN,
    _FOOTER_PHASE,
    _GIAS_PHASE,
    _LONDON,
    _REGIONS,
    _RSC,
    _TYPES,
    ALL,
    AP,
    DEFAULT_SCHOOLS,
    DEFAULT_SEED,
    DEFAULT_YEARS,
    EBACC_LAST,
    KS2_PROGRESS_NOT_PUBLISHED,
    NO_KS2_TESTS,
    NUR,
    P8_NOT_PUBLISHED,
    P8_SIGMA,
    PRI,
    SEC,
    SPE,
    Progress,
    _academic_year_of,
    _build_world,
    _cols,
    _date,
    _folder,
    _period,
    _urn_in,
    _World,
)

# ---------------------------------------------------------------------------------------------- formatting


def _f(x: float, decimals: int = 1, *, trim: bool = True, suffix: str = "") -> str:
    """A number as DfE writes it: 46, 34.4, -0.26 (trailing zeros dropped), blank for NaN."""
    if x != x:
        return ""
    txt = f"{x:.{decimals}f}"
    if trim and decimals:
        txt = txt.rstrip("0").rstrip(".")
    if txt.startswith("-") and float(txt) == 0:
        txt = txt[1:]
    return txt + suffix


def _num(values: np.ndarray, decimals: int = 1, *, trim: bool = True, suffix: str = "") -> list[str]:
    """_f over an array, in C: printf rounds the exact binary value as Python's format does (same text)."""
    x = np.asarray(values, dtype=float)
    if not len(x):
        return []
    nan = np.isnan(x)
    txt = np.char.mod(f"%.{decimals}f", np.where(nan, 0.0, x))
    if trim and decimals:
        txt = np.char.rstrip(np.char.rstrip(txt, "0"), ".")
    neg_zero = np.char.startswith(txt, "-") & (np.char.str_len(np.char.strip(txt, "-0.")) == 0)
    txt = np.where(neg_zero, np.char.lstrip(txt, "-"), txt)
    out = np.char.add(txt, suffix) if suffix else txt
    return np.where(nan, "", out).tolist()


def _money(values: np.ndarray) -> list[str]:
    return [f"{round(xv):,}" if xv == xv else "" for xv in np.asarray(values, dtype=float).tolist()]


def _pct(values: np.ndarray, decimals: int, *, trim: bool = True) -> list[str]:
    return _num(values, decimals, trim=trim, suffix="%")


def _codes(cells: list[str], mask: np.ndarray, code: str) -> list[str]:
    for i in np.flatnonzero(mask):
        cells[i] = code
    return cells


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(100 * num, den, out=np.full(len(num), np.nan), where=den > 0)


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[str]], *, style: str) -> Path:
    """Write with the real files' byte conventions.

    perf: UTF-8 with BOM, CRLF, no final newline (Compare School Performance downloads);
    gias: every field quoted, LF, Windows-1252 (edubasealldata); gias_groups: CRLF, Windows-1252;
    ees: plain UTF-8, LF.
    """
    buf = io.StringIO(newline="")
    quoting = csv.QUOTE_ALL if style == "gias" else csv.QUOTE_MINIMAL
    writer = csv.writer(buf, lineterminator="\n" if style in ("gias", "ees") else "\r\n", quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    if style == "perf":
        data = b"\xef\xbb\xbf" + text.removesuffix("\r\n").encode("utf-8")
    elif style in ("gias", "gias_groups"):
        data = text.encode("cp1252")
    else:
        data = text.encode("utf-8")
    path.write_bytes(data)
    return path


def _rows(cols: dict[str, list[str]], header: list[str]) -> list[list[str]]:
    return [list(r) for r in zip(*(cols[h] for h in header), strict=True)]


def _agg(Y: pd.DataFrame, idx: np.ndarray, keys: np.ndarray | list[np.ndarray], sums: Sequence[str],
         means: dict[str, str] | None = None) -> pd.DataFrame:
    """LA or national figures from the schools' own: sums, and means weighted by a cohort (NaN skipped)."""
    Z = Y.iloc[idx]
    out = {c: Z[c].to_numpy(dtype=float) for c in sums}
    for c, wcol in (means or {}).items():
        v, wt = Z[c].to_numpy(dtype=float), Z[wcol].to_numpy(dtype=float)
        ok = ~np.isnan(v) & (wt > 0)
        out[f"{c}@num"], out[f"{c}@den"] = np.where(ok, v * wt, 0.0), np.where(ok, wt, 0.0)
    g = pd.DataFrame(out).groupby(keys, sort=True).sum()
    for c in means or {}:
        den = g[f"{c}@den"].to_numpy()
        g[c] = np.divide(g[f"{c}@num"].to_numpy(), den, out=np.full(len(g), np.nan), where=den > 0)
    return g


def _share(num: float, den: float, decimals: int, *, trim: bool = True) -> str:
    return _f(100 * num / den if den else float("nan"), decimals, trim=trim, suffix="%")


# ---------------------------------------------------------------------------------------------- file writers


def _school_order(w: _World, idx: np.ndarray, by: str = "la", y: int | None = None) -> np.ndarray:
    s = w.s
    if by == "urn":
        urn = s["urn"].to_numpy() if y is None else _urn_in(w, y)
        return idx[np.argsort(urn[idx], kind="stable")]
    return idx[np.lexsort((s["estab"].to_numpy()[idx], s["la_code"].to_numpy()[idx]))]


def _ks_identity(w: _World, y: int, idx: np.ndarray, special: np.ndarray) -> dict[str, list[str]]:
    """The identifying columns every key-stage file starts with, in the DfE's order (URNs of that year)."""
    s = w.s
    return {
        "RECTYPE": np.where(special, "2", "1").tolist(),
        "LEA": s["la_code"].to_numpy()[idx].astype(str).tolist(),
        "ESTAB": s["estab"].to_numpy()[idx].astype(str).tolist(),
        "URN": _urn_in(w, y)[idx].astype(str).tolist(),
        "SCHNAME": s["name"].to_numpy()[idx].tolist(),
        "TOWN": s["town_name"].to_numpy()[idx].tolist(),
        "PCODE": s["postcode"].to_numpy()[idx].tolist(),
    }


def _nftype_in(w: _World, y: int) -> np.ndarray:
    """The school's type that year: schools that joined a trust during the window were maintained before."""
    s = w.s
    nft = s["nftype"].to_numpy().copy()
    join = s["join"].to_numpy()
    joined_later = np.array([_academic_year_of(j) > y if j else False for j in join])
    before = joined_later & (s["open_year"].to_numpy() == 0)
    phase = s["phase"].to_numpy()
    nft[before] = np.select([phase[before] == SPE, phase[before] == AP], ["CYS", "PRU"], "CY")
    return nft


# The KS4 final's pupil groups (the real 815_2018_ks4final header): column suffix, our group, its cohort column,
# the stem of its grade 4+/5+ English and maths columns. TEALGRP1 (English first language) has a cohort only.
_KS4_WIDE_GROUPS = (("FSM6CLA1A", "dis", "TFSM6CLA1A", "PTFSM6CLA1ABASICS"),
                    ("NFSM6CLA1A", "nondis", "TNOTFSM6CLA1A", "PTNOTFSM6CLA1ABASICS"),
                    ("LO", "lo", "TPRIORLO", "PTBASICSLO"), ("AV", "mid", "TPRIORAV", "PTBASICSAV"),
                    ("HI", "hi", "TPRIORHI", "PTBASICSHI"), ("EAL", "eal", "TEALGRP2", "PTL2BASICSEAL"),
                    ("BOYS", "boys", "BPUP", "PBL2BASICS"), ("GIRLS", "girls", "GPUP", "PGL2BASICS"),
                    ("NMOB", "nmob", "TNMOB", "PTL2BASICSNMOB"))
_KS4_COHORTS = (*((c, g) for _, g, c, _ in _KS4_WIDE_GROUPS), ("TEALGRP1", "noteal"))
_KS4_ALL_SCHOOLS = ("boys", "girls")  # the RECTYPE 5 (all schools) row carries only the sexes' figures
_EBACC_COLS = ("EBACCAPS", "PTEBACC_E_PTQ_EE", "PTEBACC_94", "PTEBACC_95", "PTEBAC2SCI_E_PTQ_EE",
               "PTEBACHUM_E_PTQ_EE", "PTEBACLAN_E_PTQ_EE", *(f"EBACCAPS_{sfx}" for sfx, *_ in _KS4_WIDE_GROUPS))


def _ks4_group_cells(Z: pd.DataFrame, pd_: int) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
    """The pupil-group columns of a KS4 final's school rows, and each column's pupils (for suppression)."""
    cols: dict[str, list[str]] = {}
    pupils: dict[str, np.ndarray] = {}
    for sfx, g, _, basics in _KS4_WIDE_GROUPS:
        n, n8 = Z[f"n4_{g}"].to_numpy(), Z[f"p8n_{g}"].to_numpy()
        p8 = np.round(Z[f"p8_{g}"].to_numpy(), 2)
        half = 1.96 * P8_SIGMA / np.sqrt(np.maximum(n8, 1))
        cols[f"ATT8SCR_{sfx}"] = _num(Z[f"att8_{g}"].to_numpy(), 1)
        cols[f"P8PUP_{sfx}"], cols[f"P8MEA_{sfx}"] = n8.astype(str).tolist(), _num(p8, 2)
        cols[f"P8CILOW_{sfx}"], cols[f"P8CIUPP_{sfx}"] = _num(p8 - half, 2), _num(p8 + half, 2)
        cols[f"{basics}_94"] = _pct(_ratio(Z[f"b94_{g}"], n), pd_)
        cols[f"{basics}_95"] = _pct(_ratio(Z[f"b95_{g}"], n), pd_)
        cols[f"EBACCAPS_{sfx}"] = _num(Z[f"aps_{g}"].to_numpy(), 2)
        pupils.update({f"ATT8SCR_{sfx}": n, f"{basics}_94": n, f"{basics}_95": n, f"EBACCAPS_{sfx}": n,
                       **{f"{c}_{sfx}": n8 for c in ("P8PUP", "P8MEA", "P8CILOW", "P8CIUPP")}})
    return cols, pupils


def _write_ks4(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    s = w.s
    present = Y["present"].to_numpy()
    idx = _school_order(w, np.flatnonzero(s["has_ks4"].to_numpy() & present))
    special = s["phase"].to_numpy()[idx] == SPE
    Z = Y.iloc[idx]
    tpup = Z["tpup"].to_numpy()
    new = Z["since"].to_numpy() < 4
    ne = s["ks4_ne"].to_numpy()[idx]
    supp = (tpup <= 5) & ~new
    p8_na = y in P8_NOT_PUBLISHED
    pd_ = 0 if y < 2022 else 1  # percentages: 45% in older finals, 58.8% later
    p8 = np.round(Z["p8"].to_numpy(), 2)
    p8pup = Z["p8pup"].to_numpy()
    half = 1.96 * P8_SIGMA / np.sqrt(np.maximum(p8pup, 1))

    # LA (RECTYPE 4) and national (5 all schools, 7 state-funded) figures from the schools' own numbers; the
    # national non-disadvantaged pupils' results are DfE's comparator for every school's gap (DIFFN_*)
    ok = idx[~new & ~ne]
    group_sums = [f"{c}_{g}" for g in KS4_GROUPS for c in ("n4", "p8n", "b94", "b95")]
    sums = ["nor", "tpup", "p8pup", "b94", "b95", "eb_entry", "eb94", "eb95", "sci", "hum", "lang", *group_sums]
    means = {"att8": "tpup", "ebaccaps": "tpup", "ks2aps": "tpup", "p8": "p8pup",
             **{f"{c}_{g}": f"{wc}_{g}" for g in KS4_GROUPS for c, wc in (("att8", "n4"), ("aps", "n4"),
                                                                           ("p8", "p8n"))}}
    if len(ok):
        by_la = _agg(Y, ok, s["la_code"].to_numpy()[ok], sums, means)
        nat = _agg(Y, ok, np.zeros(len(ok), dtype=int), sums, means).iloc[0]
        groups = [("4", str(la), G) for la, G in by_la.iterrows()] + [("5", "", nat), ("7", "", nat)]
        nat_att8, nat_p8 = round(float(nat["att8_nondis"]), 1), round(float(nat["p8_nondis"]), 2)
    else:
        groups, nat_att8, nat_p8 = [], float("nan"), float("nan")

    group_cols, group_pupils = _ks4_group_cells(Z, pd_)
    cols: dict[str, list[str]] = {
        **_ks_identity(w, y, idx, special),
        "ICLOSE": np.where(s["close_year"].to_numpy()[idx] == y, "1", "0").tolist(),
        "NFTYPE": _nftype_in(w, y)[idx].tolist(),
        "RELDENOM": s["religion"].to_numpy()[idx].tolist(),
        "ADMPOL": np.where(special, "NA", "OTHER NON SEL").tolist(),
        "EGENDER": ["MIXED"] * len(idx),
        "AGERANGE": [f"{lo}-{hi}" for lo, hi in zip(s["age_low"].to_numpy()[idx], s["age_high"].to_numpy()[idx],
                                                     strict=True)],
        "TOTPUPS": np.where(new, "NEW", Z["nor"].to_numpy().astype(str)).tolist(),
        "TPUP": tpup.astype(str).tolist(),
        "KS2APS": _num(Z["ks2aps"].to_numpy(), 1),
        "TFSM6CLA1A": Z["tdis"].to_numpy().astype(str).tolist(),
        "PTFSM6CLA1A": _pct(_ratio(Z["tdis"], tpup), 0),
        **{c: Z[f"n4_{g}"].to_numpy().astype(str).tolist() for c, g in _KS4_COHORTS if c != "TFSM6CLA1A"},
        "ATT8SCR": _num(Z["att8"].to_numpy(), 1),
        "P8PUP": p8pup.astype(str).tolist(),
        "P8MEACOV": _pct(_ratio(p8pup, tpup), 0),
        "P8MEA": _num(p8, 2),
        "P8CILOW": _num(p8 - half, 2),
        "P8CIUPP": _num(p8 + half, 2),
        "PTL2BASICS_94": _pct(_ratio(Z["b94"], tpup), pd_),
        "PTL2BASICS_95": _pct(_ratio(Z["b95"], tpup), pd_),
        "EBACCAPS": _num(Z["ebaccaps"].to_numpy(), 2),
        "PTEBACC_E_PTQ_EE": _pct(_ratio(Z["eb_entry"], tpup), pd_),
        "PTEBACC_94": _pct(_ratio(Z["eb94"], tpup), pd_),
        "PTEBACC_95": _pct(_ratio(Z["eb95"], tpup), pd_),
        "PTEBAC2SCI_E_PTQ_EE": _pct(_ratio(Z["sci"], tpup), pd_),
        "PTEBACHUM_E_PTQ_EE": _pct(_ratio(Z["hum"], tpup), pd_),
        "PTEBACLAN_E_PTQ_EE": _pct(_ratio(Z["lang"], tpup), pd_),
        **group_cols,
        # DfE's gap: the school's disadvantaged pupils against non-disadvantaged pupils nationally (rounded figures)
        "DIFFN_ATT8": _num(np.round(Z["att8_dis"].to_numpy(), 1) - nat_att8, 1),
        "DIFFN_P8MEA": _num(np.round(Z["p8_dis"].to_numpy(), 2) - nat_p8, 2),
    }
    group_pupils.update(DIFFN_ATT8=Z["tdis"].to_numpy(), DIFFN_P8MEA=Z["p8pup_dis"].to_numpy())
    if y > EBACC_LAST:  # the EBacc measures ended with 2024/25: later tables have no such columns
        for c in _EBACC_COLS:
            del cols[c]
    header = list(cols)
    outcome = header[header.index("ATT8SCR"):]
    p8_cols = ["P8PUP", "P8MEACOV", "P8MEA", "P8CILOW", "P8CIUPP"]
    group_p8 = [c for c in header if c.startswith(("P8PUP_", "P8MEA_", "P8CILOW_", "P8CIUPP_")) or c == "DIFFN_P8MEA"]
    for c in outcome:  # special schools whose pupils took no GCSEs: no entries
        _codes(cols[c], ne & ~supp, "NE")
    for c, n in group_pupils.items():  # a group of five pupils or fewer is not published; no pupils, no entries
        if c in cols:
            _codes(cols[c], (n == 0) & ~ne, "NE")
            _codes(cols[c], (n > 0) & (n <= 5) & ~ne, "SUPP")
    cohorts = [c for c, _ in _KS4_COHORTS]
    for c in ["KS2APS", "PTFSM6CLA1A", *cohorts, *outcome]:  # five or fewer pupils: nothing published
        _codes(cols[c], supp, "SUPP")
    if p8_na:
        for c in p8_cols + group_p8:
            cols[c] = ["NA"] * len(idx)
    rows = _rows(cols, header)
    for i in np.flatnonzero(new):  # no year 11 yet: the row stops after TOTPUPS (a ragged row)
        rows[i] = rows[i][: header.index("TOTPUPS") + 1]

    extra = []
    dp = 2 if pd_ == 0 else 1  # LA and national rows: 68.40% in older finals
    for rectype, la, G in groups:
        T = G["tpup"]
        row = {h: "" for h in header}
        row.update(RECTYPE=rectype, LEA=la, TOTPUPS=str(int(G["nor"])), TPUP=str(int(T)), ATT8SCR=_f(G["att8"], 1),
                   EBACCAPS=_f(G["ebaccaps"], 2))
        for col, src in (("PTL2BASICS_94", "b94"), ("PTL2BASICS_95", "b95"), ("PTEBACC_E_PTQ_EE", "eb_entry"),
                         ("PTEBACC_94", "eb94"), ("PTEBACC_95", "eb95"), ("PTEBAC2SCI_E_PTQ_EE", "sci"),
                         ("PTEBACHUM_E_PTQ_EE", "hum"), ("PTEBACLAN_E_PTQ_EE", "lang")):
            row[col] = _share(G[src], T, dp, trim=False)
        for c, g in _KS4_COHORTS:  # the all-schools row carries no progress or disadvantage figures
            if rectype != "5" or g in _KS4_ALL_SCHOOLS:
                row[c] = str(int(G[f"n4_{g}"]))
        for sfx, g, _, basics in _KS4_WIDE_GROUPS:
            if rectype == "5" and g not in _KS4_ALL_SCHOOLS:
                continue
            n = G[f"n4_{g}"]
            row.update({f"ATT8SCR_{sfx}": _f(G[f"att8_{g}"], 1), f"EBACCAPS_{sfx}": _f(G[f"aps_{g}"], 2),
                        f"{basics}_94": _share(G[f"b94_{g}"], n, dp, trim=False),
                        f"{basics}_95": _share(G[f"b95_{g}"], n, dp, trim=False)})
            if rectype == "5":
                continue
            if p8_na:
                row.update({f"{c}_{sfx}": "NA" for c in ("P8PUP", "P8MEA", "P8CILOW", "P8CIUPP")})
                continue
            n8 = G[f"p8n_{g}"]
            row.update({f"P8PUP_{sfx}": str(int(n8)), f"P8MEA_{sfx}": _f(G[f"p8_{g}"], 2)})
            if rectype == "4" and n8:  # LA rows carry confidence intervals; the national row does not
                v, ci = round(G[f"p8_{g}"], 2), 1.96 * P8_SIGMA / np.sqrt(n8)
                row.update({f"P8CILOW_{sfx}": _f(v - ci, 2), f"P8CIUPP_{sfx}": _f(v + ci, 2)})
        if rectype != "5":
            row.update(KS2APS=_f(G["ks2aps"], 1), PTFSM6CLA1A=_share(G["n4_dis"], T, dp, trim=False))
            if p8_na:
                row.update({c: "NA" for c in p8_cols})
            else:
                pp = G["p8pup"]
                row.update(P8PUP=str(int(pp)), P8MEA=_f(G["p8"], 2))
                if rectype == "4" and pp:
                    ci = 1.96 * P8_SIGMA / np.sqrt(pp)
                    p8v = round(G["p8"], 2)
                    row.update(P8CILOW=_f(p8v - ci, 2), P8CIUPP=_f(p8v + ci, 2))
        if rectype == "4":  # an LA's gap, DfE's way; the national rows have none (it would be their own)
            row["DIFFN_ATT8"] = _f(round(G["att8_dis"], 1) - nat_att8, 1)
            row["DIFFN_P8MEA"] = "NA" if p8_na else _f(round(G["p8_dis"], 2) - nat_p8, 2)
        extra.append([row[h] for h in header if h in row])
    return _write_csv(path, header, rows + extra, style="perf")


# The KS2 final's pupil groups (DfE's ks2_meta): column suffix, our group, its cohort column.
_KS2_WIDE_GROUPS = (("FSM6CLA1A", "dis", "TFSM6CLA1A"), ("NotFSM6CLA1A", "nondis", "TNotFSM6CLA1A"),
                    ("B", "boys", "BELIG"), ("G", "girls", "GELIG"), ("L", "lo", "TKS1GROUP_L"),
                    ("M", "mid", "TKS1GROUP_M"), ("H", "hi", "TKS1GROUP_H"), ("EAL", "eal", "TEALGRP2"),
                    ("MOBN", "nmob", "TMOBN"))
_KS2_PROG = (("READ", "readprog", 5.8), ("WRIT", "writprog", 5.5), ("MAT", "matprog", 5.3))


def _write_ks2(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    s = w.s
    idx = _school_order(w, np.flatnonzero(Y["telig"].to_numpy() > 0))
    special = s["phase"].to_numpy()[idx] == SPE
    Z = Y.iloc[idx]
    telig = Z["telig"].to_numpy()
    supp = telig <= 5
    prog_na = y in KS2_PROGRESS_NOT_PUBLISHED
    sq = np.sqrt(np.maximum(telig, 1))
    # LA and national figures from the schools' own; the national non-disadvantaged rates are DfE's gap comparator
    group_sums = [f"{c}_{g}" for g in KS2_GROUPS for c in ("n2", "rwm", "rwmh")]
    sums = ["nor", "telig", "rwm", "rwm_high", *group_sums]
    means = {"read_avg": "telig", "mat_avg": "telig", "readprog": "telig", "writprog": "telig", "matprog": "telig",
             **{f"{c}_{g}": f"n2_{g}" for g in KS2_GROUPS for _, c, _ in _KS2_PROG}}
    by_la = _agg(Y, idx, s["la_code"].to_numpy()[idx], sums, means)
    nat = _agg(Y, idx, np.zeros(len(idx), dtype=int), sums, means).iloc[0]
    nat_exp = round(100 * nat["rwm_nondis"] / nat["n2_nondis"]) if nat["n2_nondis"] else float("nan")
    nat_high = round(100 * nat["rwmh_nondis"] / nat["n2_nondis"]) if nat["n2_nondis"] else float("nan")
    cols: dict[str, list[str]] = {
        **_ks_identity(w, y, idx, special),
        "NFTYPE": _nftype_in(w, y)[idx].tolist(),
        "RELDENOM": s["religion"].to_numpy()[idx].tolist(),
        "AGERANGE": [f"{lo}-{hi}" for lo, hi in zip(s["age_low"].to_numpy()[idx], s["age_high"].to_numpy()[idx],
                                                     strict=True)],
        "TOTPUPS": Z["nor"].to_numpy().astype(str).tolist(),
        "TELIG": telig.astype(str).tolist(),
        **{c: Z[f"n2_{g}"].to_numpy().astype(str).tolist() for _, g, c in _KS2_WIDE_GROUPS[2:]},
        "TFSM6CLA1A": Z["ndis2"].to_numpy().astype(str).tolist(),
        "PTFSM6CLA1A": _pct(_ratio(Z["ndis2"], telig), 0),
        "TNotFSM6CLA1A": Z["n2_nondis"].to_numpy().astype(str).tolist(),
        "PTRWM_EXP": _pct(_ratio(Z["rwm"], telig), 0),
        "PTRWM_HIGH": _pct(_ratio(Z["rwm_high"], telig), 0),
    }
    group_pupils: dict[str, np.ndarray] = {}
    for name, col, sd in _KS2_PROG:
        v = np.round(Z[col].to_numpy(), 1)
        cols[f"{name}PROG"] = _num(v, 1)
        cols[f"{name}PROG_LOWER"] = _num(v - 1.96 * sd / sq, 1)
        cols[f"{name}PROG_UPPER"] = _num(v + 1.96 * sd / sq, 1)
        cols[f"{name}COV"] = _pct(np.where(Z["ks2_lowcov"].to_numpy(), 35 + telig % 10, 100 - telig % 5), 0)
    cols["READ_AVERAGE"] = _num(Z["read_avg"].to_numpy(), 0)
    cols["MAT_AVERAGE"] = _num(Z["mat_avg"].to_numpy(), 0)
    for sfx, g, _ in _KS2_WIDE_GROUPS:
        n = Z[f"n2_{g}"].to_numpy()
        cols[f"PTRWM_EXP_{sfx}"] = _pct(_ratio(Z[f"rwm_{g}"], n), 0)
        cols[f"PTRWM_HIGH_{sfx}"] = _pct(_ratio(Z[f"rwmh_{g}"], n), 0)
        group_pupils.update({f"PTRWM_EXP_{sfx}": n, f"PTRWM_HIGH_{sfx}": n})
        if sfx == "FSM6CLA1A":  # DfE's gap: the school's disadvantaged pupils against other pupils nationally
            cols["DIFFN_RWM_EXP"] = _pct(np.round(_ratio(Z["rwm_dis"], n)) - nat_exp, 0)
            cols["DIFFN_RWM_HIGH"] = _pct(np.round(_ratio(Z["rwmh_dis"], n)) - nat_high, 0)
            group_pupils.update(DIFFN_RWM_EXP=n, DIFFN_RWM_HIGH=n)
    for name, col, sd in _KS2_PROG:
        for sfx, g, _ in _KS2_WIDE_GROUPS:
            n = Z[f"n2_{g}"].to_numpy()
            v = np.round(Z[f"{col}_{g}"].to_numpy(), 1)
            ci = 1.96 * sd / np.sqrt(np.maximum(n, 1))
            cols[f"{name}PROG_{sfx}"] = _num(v, 1)
            cols[f"{name}PROG_{sfx}_LOWER"] = _num(v - ci, 1)
            cols[f"{name}PROG_{sfx}_UPPER"] = _num(v + ci, 1)
            group_pupils.update({f"{name}PROG_{sfx}{end}": n for end in ("", "_LOWER", "_UPPER")})
    header = list(cols)
    prog = [c for c in header if "PROG" in c]
    outcome = header[header.index("BELIG"):]
    lowcov = Z["ks2_lowcov"].to_numpy() | special
    for c in prog:
        _codes(cols[c], lowcov, "LOWCOV")
    for c in ("READ_AVERAGE", "MAT_AVERAGE"):
        _codes(cols[c], special, "NE")
    for c, n in group_pupils.items():  # a group of five pupils or fewer is not published; no pupils, no entries
        _codes(cols[c], n == 0, "NE")
        _codes(cols[c], (n > 0) & (n <= 5), "SUPP")
    for c in outcome:
        _codes(cols[c], Z["ks2_np"].to_numpy(), "NP")
        _codes(cols[c], supp, "SUPP")
    if prog_na:
        for c in prog:
            cols[c] = ["NA"] * len(idx)
    rows = _rows(cols, header)
    for rectype, la, G in [("4", str(la), G) for la, G in by_la.iterrows()] + [("5", "", nat), ("7", "", nat)]:
        T = G["telig"]
        row = {h: "" for h in header}
        row.update(RECTYPE=rectype, LEA=la, TOTPUPS=str(int(G["nor"])), TELIG=str(int(T)),
                   PTFSM6CLA1A=_share(G["n2_dis"], T, 0), PTRWM_EXP=_share(G["rwm"], T, 0),
                   PTRWM_HIGH=_share(G["rwm_high"], T, 0), READ_AVERAGE=_f(G["read_avg"], 0),
                   MAT_AVERAGE=_f(G["mat_avg"], 0))
        for sfx, g, c in _KS2_WIDE_GROUPS:
            n = G[f"n2_{g}"]
            row.update({c: str(int(n)), f"PTRWM_EXP_{sfx}": _share(G[f"rwm_{g}"], n, 0),
                        f"PTRWM_HIGH_{sfx}": _share(G[f"rwmh_{g}"], n, 0)})
            for name, col, _ in _KS2_PROG:
                row[f"{name}PROG_{sfx}"] = "NA" if prog_na else _f(G[f"{col}_{g}"], 1)
        for name, col, _ in _KS2_PROG:
            row[f"{name}PROG"] = "NA" if prog_na else _f(G[col], 1)
        if rectype == "4" and G["n2_dis"]:  # an LA's gap, DfE's way
            row["DIFFN_RWM_EXP"] = _f(round(100 * G["rwm_dis"] / G["n2_dis"]) - nat_exp, 0, suffix="%")
            row["DIFFN_RWM_HIGH"] = _f(round(100 * G["rwmh_dis"] / G["n2_dis"]) - nat_high, 0, suffix="%")
        rows.append([row[h] for h in header])
    return _write_csv(path, header, rows, style="perf")


def _write_pupdest(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    s = w.s
    idx = _school_order(w, np.flatnonzero(Y["cohort"].to_numpy() > 0))
    special = s["phase"].to_numpy()[idx] == SPE
    Z = Y.iloc[idx]
    coh, cdis = Z["cohort"].to_numpy(), Z["cohort_dis"].to_numpy()
    cols: dict[str, list[str]] = {
        "RECTYPE": np.where(special, "2", "1").tolist(),
        "LEA": s["la_code"].to_numpy()[idx].astype(str).tolist(),
        "ESTAB": s["estab"].to_numpy()[idx].astype(str).tolist(),
        "URN": _urn_in(w, y)[idx].astype(str).tolist(),
        "ICLOSE": ["0"] * len(idx),
        "SCHNAME": s["name"].to_numpy()[idx].tolist(),
        "NFTYPE": _nftype_in(w, y)[idx].tolist(),
        "COHORT": coh.astype(str).tolist(),
    }
    for c in ("dest", "appren", "employ", "edu", "notsus", "unknown"):
        cols[_PUPDEST[c]] = Z[c].to_numpy().astype(str).tolist()
    for c in ("dest", "appren", "employ", "edu", "notsus", "unknown"):
        cols[_PUPDEST[c] + "PER"] = _pct(_ratio(Z[c], coh), 0)
    cols["COHORT_DIS"] = cdis.astype(str).tolist()
    cols["OVERALL_DEST_DIS"] = Z["dest_dis"].to_numpy().astype(str).tolist()
    cols["EDUCATION_DIS"] = Z["edu_dis"].to_numpy().astype(str).tolist()
    cols["OVERALL_DESTPER_DIS"] = _pct(_ratio(Z["dest_dis"], cdis), 0)
    cols["EDUCATIONPER_DIS"] = _pct(_ratio(Z["edu_dis"], cdis), 0)
    header = list(cols)
    for c in header[header.index("OVERALL_DEST"):header.index("COHORT_DIS")]:
        _codes(cols[c], coh <= 10, "SUPP")  # destinations: ten or fewer pupils are not published
    for c in header[header.index("OVERALL_DEST_DIS"):]:
        _codes(cols[c], cdis <= 10, "SUPP")
    rows = _rows(cols, header)
    sums = ["cohort", "cohort_dis", *_PUPDEST, "dest_dis", "edu_dis"]
    by_la = _agg(Y, idx, s["la_code"].to_numpy()[idx], sums)
    nat = _agg(Y, idx, np.zeros(len(idx), dtype=int), sums).iloc[0]
    for rectype, la, G in [("4", str(la), G) for la, G in by_la.iterrows()] + [("5", "", nat), ("7", "", nat)]:
        row = {h: "" for h in header}
        C, CD = G["cohort"], G["cohort_dis"]
        row.update(RECTYPE=rectype, LEA=la, COHORT=str(int(C)), COHORT_DIS=str(int(CD)))
        for c, col in _PUPDEST.items():
            row[col] = str(int(G[c]))
            row[col + "PER"] = _share(G[c], C, 0)
        row.update(OVERALL_DEST_DIS=str(int(G["dest_dis"])), EDUCATION_DIS=str(int(G["edu_dis"])),
                   OVERALL_DESTPER_DIS=_share(G["dest_dis"], CD, 0), EDUCATIONPER_DIS=_share(G["edu_dis"], CD, 0))
        rows.append([row[h] for h in header])
    return _write_csv(path, header, rows, style="perf")


_PUPDEST = {"dest": "OVERALL_DEST", "appren": "APPREN", "employ": "EMPLOYMENT", "edu": "EDUCATION",
            "notsus": "NOT_SUSTAINED", "unknown": "UNKNOWN"}


def _footers(w: _World, Y: pd.DataFrame, idx: np.ndarray, header: list[str], sums: Sequence[str],
             means: dict[str, str] | None, fill: Callable[[dict], dict[str, str]],
             with_type: bool) -> list[list[str]]:
    """Census-style footers: `LA,<la>,PRI,...` for each LA and phase, then `NAT,,PRI,...`."""
    code = np.array([_FOOTER_PHASE.get(p, "") for p in w.s["phase"].to_numpy()[idx]], dtype=object)
    sel, code = idx[code != ""], code[code != ""]
    if not len(sel):
        return []
    by_la = _agg(Y, sel, [w.s["la_code"].to_numpy()[sel], code], sums, means)
    nat = _agg(Y, sel, code, sums, means)
    types = {"PRI": "State-funded primary", "SEC": "State-funded secondary", "SPE": "State-funded special school"}
    # rows as dicts: a Series per footer row (iterrows) costs more than writing the whole file
    out = ([("LA", str(la), c, G) for (la, c), G in by_la.to_dict("index").items()]
           + [("NAT", "", c, G) for c, G in nat.to_dict("index").items()])
    rows = []
    for key, la, c, G in out:
        row = {h: "" for h in header}
        row.update(URN=key, LA=la, ESTAB=c)
        if with_type:
            row["SCHOOLTYPE"] = types[c]
        row.update(fill(G))
        rows.append([row[h] for h in header])
    return rows


# Census columns: (column, count it is or is a percentage of, percentage?)
_CENSUS_COLS = [("NOR", "nor", False), ("NORG", "norg", False), ("NORB", "norb", False), ("PNORG", "norg", True),
                ("PNORB", "norb", True), ("TSENELSE", "sene", False), ("PSENELSE", "sene", True),
                ("TSENELK", "senk", False), ("PSENELK", "senk", True), ("NUMEAL", "eal", False),
                ("NUMENGFL", "engfl", False), ("NUMUNCFL", "uncfl", False), ("PNUMEAL", "eal", True),
                ("PNUMENGFL", "engfl", True), ("PNUMUNCFL", "uncfl", True), ("NUMFSM", "fsm", False),
                ("PNUMFSM", "fsm", True), ("NUMFSMEVER", "fsmever", False), ("PNUMFSMEVER", "fsmever", True)]


def _write_census(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    s = w.s
    idx = _school_order(w, np.flatnonzero(Y["present"].to_numpy() & ~Y["gap"].to_numpy()), by="urn", y=y)
    Z = Y.iloc[idx]
    phase = s["phase"].to_numpy()[idx]
    cols: dict[str, list[str]] = {
        "URN": _urn_in(w, y)[idx].astype(str).tolist(),
        "LA": s["la_code"].to_numpy()[idx].astype(str).tolist(),
        "ESTAB": s["estab"].to_numpy()[idx].astype(str).tolist(),
        "SCHOOLTYPE": [_CENSUS_TYPE[p] for p in phase],
    }
    for col, src, pct in _CENSUS_COLS:
        cols[col] = _num(_ratio(Z[src], Z["nor"]), 1) if pct else Z[src].to_numpy().astype(str).tolist()
    for c in ("NUMFSMEVER", "PNUMFSMEVER"):  # nursery schools: the six-year measure does not apply
        _codes(cols[c], phase == NUR, "NA")
    header = list(cols)

    def fill(G: dict) -> dict[str, str]:
        return {col: _f(100 * G[src] / G["nor"], 1) if pct else str(int(G[src])) for col, src, pct in _CENSUS_COLS}

    sums = sorted({src for _, src, _ in _CENSUS_COLS})
    rows = _rows(cols, header) + _footers(w, Y, idx, header, sums, None, fill, with_type=True)
    return _write_csv(path, header, rows, style="perf")


def _write_abs(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    s = w.s
    phase = s["phase"].to_numpy()
    keep = Y["present"].to_numpy() & ~Y["gap"].to_numpy() & ~Y["abs_gap"].to_numpy() & (phase != NUR)
    idx = _school_order(w, np.flatnonzero(keep), by="urn", y=y)
    Z = Y.iloc[idx]
    pa = "PPERSABS15" if y <= 2014 else "PPERSABS10"  # the 15% threshold until 2014/15, 10% since (as DfE's files)
    cols = {"URN": _urn_in(w, y)[idx].astype(str).tolist(),
            "LA": s["la_code"].to_numpy()[idx].astype(str).tolist(),
            "ESTAB": s["estab"].to_numpy()[idx].astype(str).tolist(),
            "PERCTOT": _num(Z["perctot"].to_numpy(), 1),
            "PERCUA": _num(Z["percua"].to_numpy(), 1),
            pa: _num(Z["ppersabs"].to_numpy(), 1)}
    header = list(cols)

    def fill(G: dict) -> dict[str, str]:
        return {"PERCTOT": _f(G["perctot"], 1), "PERCUA": _f(G["percua"], 1), pa: _f(G["ppersabs"], 1)}

    means = {"perctot": "nor", "percua": "nor", "ppersabs": "nor"}
    rows = _rows(cols, header) + _footers(w, Y, idx, header, ["nor"], means, fill, with_type=False)
    return _write_csv(path, header, rows, style="perf")


def _write_swf(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    s = w.s
    idx = _school_order(w, np.flatnonzero(Y["present"].to_numpy() & ~Y["gap"].to_numpy()), by="urn", y=y)
    Z = Y.iloc[idx]
    tea = Z["tea_fte"].to_numpy()
    cols = {"URN": _urn_in(w, y)[idx].astype(str).tolist(),
            "LA": s["la_code"].to_numpy()[idx].astype(str).tolist(),
            "ESTAB": s["estab"].to_numpy()[idx].astype(str).tolist(),
            "NTEA": np.round(tea * 1.12).astype(int).astype(str).tolist(),
            "NFTETEA": _num(tea, 1),
            "NTEAAS": np.round(Z["ta_fte"].to_numpy() * 1.35).astype(int).astype(str).tolist(),
            "NFTETEAAS": _num(Z["ta_fte"].to_numpy(), 1),
            "RATPUPTEA": _num(Z["ptr"].to_numpy(), 1),
            "SALARY": ["£" + m for m in _money(Z["salary"].to_numpy())]}
    _codes(cols["SALARY"], tea < 3, "SUPP")  # fewer than three teachers: a salary would identify someone
    header = list(cols)
    rows = _rows(cols, header)
    code = np.array([_FOOTER_PHASE.get(p, "") for p in s["phase"].to_numpy()[idx]], dtype=object)
    sel = idx[code != ""]
    if len(sel):  # national rows only: total staff, the ratio of the totals, the FTE-weighted mean salary
        for c, G in _agg(Y, sel, code[code != ""], ["nor", "tea_fte", "ta_fte"], {"salary": "tea_fte"}).iterrows():
            t, ta = G["tea_fte"], G["ta_fte"]
            rows.append(["NAT", "", c, str(round(t * 1.12)), _f(t, 1), str(round(ta * 1.35)), _f(ta, 1),
                         _f(G["nor"] / t, 1), "£" + _money(np.array([G["salary"]]))[0]])
    return _write_csv(path, header, rows, style="perf")


_CFR_ITEMS = ["TEACHINGSTAFF", "SUPPLYTEACHERS", "EDUCATIONSUPPORTSTAFF", "PREMISES", "BACKOFFICE", "CATERING",
              "OTHERSTAFF", "ENERGY", "LEARNINGRESOURCES", "ICT", "BOUGHTINPROFESSIONALSERVICES", "OTHER"]
_CFR_SHARES = {
    PRI: [0.46, 0.02, 0.17, 0.06, 0.07, 0.04, 0.03, 0.025, 0.04, 0.015, 0.025, 0.045],
    SEC: [0.53, 0.02, 0.09, 0.065, 0.085, 0.02, 0.03, 0.025, 0.04, 0.015, 0.035, 0.045],
    ALL: [0.52, 0.02, 0.11, 0.065, 0.085, 0.025, 0.03, 0.025, 0.04, 0.015, 0.03, 0.045],
    SPE: [0.36, 0.02, 0.34, 0.06, 0.08, 0.015, 0.03, 0.015, 0.025, 0.01, 0.005, 0.04],
    AP: [0.44, 0.05, 0.15, 0.05, 0.11, 0.01, 0.03, 0.02, 0.03, 0.015, 0.06, 0.035],
    NUR: [0.35, 0.01, 0.40, 0.06, 0.10, 0.01, 0.02, 0.02, 0.02, 0.005, 0.005, 0.0],
}


def _write_cfr(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    """Consistent Financial Reporting: LA-maintained schools only (academies report to the ESFA instead)."""
    s = w.s
    nft = _nftype_in(w, y)
    maintained = np.isin(nft, ("CY", "VA", "VC", "FD", "CYS", "FDS", "PRU", "NUR"))
    idx = _school_order(w, np.flatnonzero(Y["present"].to_numpy() & ~Y["gap"].to_numpy() & maintained))
    rng = np.random.default_rng([w.seed, y, 3])
    phase = s["phase"].to_numpy()[idx]
    Z = Y.iloc[idx]
    total = Z["totexp"].to_numpy()
    shares = np.vstack([rng.dirichlet((np.array(_CFR_SHARES[p]) + 0.002) * 400) for p in phase]) if len(idx) else \
        np.zeros((0, len(_CFR_ITEMS)))
    items = np.round(total[:, None] * shares)
    texp = items.sum(axis=1)
    self_gen = np.round(texp * Z["selfgen_share"].to_numpy())
    income = np.round(texp * Z["income_ratio"].to_numpy())
    grant = income - self_gen
    fsm = _ratio(Z["fsm"], Z["nor"])
    band = np.where(fsm < 12, "Low", np.where(fsm < 25, "Medium", "High"))
    london = w.las["region"].to_numpy()[s["la"].to_numpy()[idx]] == _LONDON
    cols: dict[str, list[str]] = {
        "LA": s["la_code"].to_numpy()[idx].astype(str).tolist(),
        "URN": _urn_in(w, y)[idx].astype(str).tolist(),
        "LONDON/NON-LONDON": np.where(london, "London", "Non-London").tolist(),
        "MEDIAN": [_CFR_MEDIAN[p] for p in phase],
        "PUPILS": _num(Z["fte_pupils"].to_numpy(), 1),
        "FSM": _num(fsm, 1),
        "FSMBAND": band.tolist(),
        "GRANTFUNDING": _money(grant),
        "SELFGENERATEDINCOME": _money(self_gen),
        "TOTALINCOME": _money(income),
    }
    for j, item in enumerate(_CFR_ITEMS):
        cols[item] = _money(items[:, j])
    cols["TOTALEXPENDITURE"] = _money(texp)
    cols["PGRANTFUNDING"] = _pct(_ratio(grant, income), 0)
    cols["PSELFGENERATEDINCOME"] = _pct(_ratio(self_gen, income), 0)
    for j, item in enumerate(_CFR_ITEMS):
        cols["P" + item] = _pct(_ratio(items[:, j], texp), 0)
    header = list(cols)
    rows = _rows(cols, header)
    # Footers: national medians by phase, then London / non-London by phase and FSM band. They stop after
    # TOTALEXPENDITURE, so they are shorter than the header (as in the real file).
    per = np.c_[grant, self_gen, income, items, texp]
    ph_code = np.array([_CFR_CODE[p] for p in phase], dtype=object)
    for where, sel_area in (("NAT", np.ones(len(idx), dtype=bool)), ("LONDON", london), ("NON-LONDON", ~london)):
        for code in ("-PRI", "-SEC-WITH-KS4", "-SPE", "-PRU", ""):
            m = sel_area & (ph_code == code)
            bands = [""] if where == "NAT" else ["Low", "Medium", "High"]
            for b in bands:
                mb = m & (band == b) if b else m
                if not mb.any():
                    continue
                med = np.median(per[mb], axis=0)
                area = "" if where == "NAT" else ("London" if where == "LONDON" else "Non-London")
                label = {"-PRI": "Primary", "-SEC-WITH-KS4": "Secondary with KS4", "-SPE": "Special",
                         "-PRU": "Pupil referral unit", "": "Nursery"}[code]
                rows.append([f"{where}{code}", "", area, label, "", "", b, *_money(med)])
    return _write_csv(path, header, rows, style="perf")


def _gias_date(iso: str) -> str:
    return f"{iso[8:10]}-{iso[5:7]}-{iso[:4]}" if iso else ""


def _slash_date(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" if iso else ""


_GIAS_HEADER = [
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName", "TypeOfEstablishment (code)",
    "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)", "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)", "EstablishmentStatus (name)", "ReasonEstablishmentOpened (code)",
    "ReasonEstablishmentOpened (name)", "OpenDate", "ReasonEstablishmentClosed (code)",
    "ReasonEstablishmentClosed (name)", "CloseDate", "PhaseOfEducation (code)", "PhaseOfEducation (name)",
    "StatutoryLowAge", "StatutoryHighAge", "Boarders (code)", "Boarders (name)", "NurseryProvision (name)",
    "OfficialSixthForm (code)", "OfficialSixthForm (name)", "Gender (code)", "Gender (name)",
    "ReligiousCharacter (code)", "ReligiousCharacter (name)", "ReligiousEthos (name)", "Diocese (code)",
    "Diocese (name)", "AdmissionsPolicy (code)", "AdmissionsPolicy (name)", "SchoolCapacity", "SpecialClasses (code)",
    "SpecialClasses (name)", "CensusDate", "NumberOfPupils", "NumberOfBoys", "NumberOfGirls", "PercentageFSM",
    "TrustSchoolFlag (code)", "TrustSchoolFlag (name)", "Trusts (code)", "Trusts (name)", "SchoolSponsorFlag (name)",
    "SchoolSponsors (name)", "FederationFlag (name)", "Federations (code)", "Federations (name)", "UKPRN",
    "FEHEIdentifier", "FurtherEducationType (name)", "OfstedLastInsp", "OfstedSpecialMeasures (code)",
    "OfstedSpecialMeasures (name)", "LastChangedDate", "Street", "Locality", "Address3", "Town", "County (name)",
    "Postcode", "SchoolWebsite", "TelephoneNum", "HeadTitle (name)", "HeadFirstName", "HeadLastName",
    "HeadPreferredJobTitle", "InspectorateName (name)", "InspectorateReport", "DateOfLastInspectionVisit",
    "NextInspectionVisit", "TeenMoth (name)", "TeenMothPlaces", "CCF (name)", "SENPRU (name)", "EBD (name)",
    "PlacesPRU", "FTProv (name)", "EdByOther (name)", "Section41Approved (name)", "SEN1 (name)", "SEN2 (name)",
    "SEN3 (name)", "SEN4 (name)", "SEN5 (name)", "SEN6 (name)", "SEN7 (name)", "SEN8 (name)", "SEN9 (name)",
    "SEN10 (name)", "SEN11 (name)", "SEN12 (name)", "SEN13 (name)", "TypeOfResourcedProvision (name)",
    "ResourcedProvisionOnRoll", "ResourcedProvisionCapacity", "SenUnitOnRoll", "SenUnitCapacity", "GOR (code)",
    "GOR (name)", "DistrictAdministrative (code)", "DistrictAdministrative (name)", "AdministrativeWard (code)",
    "AdministrativeWard (name)", "ParliamentaryConstituency (code)", "ParliamentaryConstituency (name)",
    "UrbanRural (code)", "UrbanRural (name)", "GSSLACode (name)", "Easting", "Northing",
    "CensusAreaStatisticWard (name)", "MSOA (name)", "LSOA (name)", "Inspectorate (name)", "SENStat", "SENNoStat",
    "BoardingEstablishment (name)", "PropsName", "PreviousLA (code)", "PreviousLA (name)",
    "PreviousEstablishmentNumber", "OfstedRating (name)", "RSCRegion (name)", "Country (name)", "UPRN", "SiteName",
    "MSOA (code)", "LSOA (code)",
]
_URBAN_CODE = {"Urban major conurbation": "A1", "Urban city and town": "C1", "Rural town and fringe": "D1",
               "Rural village": "E1", "Rural hamlet and isolated dwellings": "F1"}


def _write_gias(w: _World, Ylatest: pd.DataFrame, path: Path) -> Path:
    """edubasealldata: every school (closed ones too), current trust and federation, in Windows-1252."""
    s, las = w.s, w.las
    S, GSS = _cols(s), las["gss"].tolist()
    norb, norg = Ylatest["norb"].tolist(), Ylatest["norg"].tolist()
    n = len(s)
    rng = np.random.default_rng([w.seed, 11])
    idx = np.argsort(s["urn"].to_numpy(), kind="stable")
    latest = w.latest
    D = {h: [""] * n for h in _GIAS_HEADER}
    phase = s["phase"].to_numpy()
    nft = s["nftype"].to_numpy()
    closed = s["close_year"].to_numpy() < 9999
    oy = s["open_year"].to_numpy()
    region = las["region"].to_numpy()[s["la"].to_numpy()]
    urban = S["urban"]
    nor = Ylatest["nor"].to_numpy()
    fsm_pct = _ratio(Ylatest["fsm"], Ylatest["nor"])
    from data.demo.current import OEIF_WORDS, inspections

    ins = inspections(w)  # the same inspections as Ofsted's files: the 1-4 grade, the latest visit's date
    ofsted = [OEIF_WORDS.get(int(g), "") for g in ins["legacy"]]
    last_visit = np.where(ins["rc"], ins["rc_start"], ins["start"])
    trusts, feds = w.trusts, w.feds
    predecessors: list[dict[str, str]] = []
    for i in range(n):
        ph = int(phase[i])
        tname, tcode, group, gcode = _TYPES[nft[i]]
        is_closed, is_new = bool(closed[i]), bool(oy[i])
        tr = int(S["trust"][i])
        fd = int(S["fed"][i])
        rel = S["religion"][i]
        la = int(S["la"][i])
        row = {
            "URN": str(S["urn"][i]), "LA (code)": str(S["la_code"][i]), "LA (name)": S["la_name"][i],
            "EstablishmentNumber": str(S["estab"][i]), "EstablishmentName": S["name"][i],
            "TypeOfEstablishment (code)": tcode, "TypeOfEstablishment (name)": tname,
            "EstablishmentTypeGroup (code)": gcode, "EstablishmentTypeGroup (name)": group,
            "EstablishmentStatus (code)": "2" if is_closed else "1",
            "EstablishmentStatus (name)": "Closed" if is_closed else "Open",
            "ReasonEstablishmentOpened (code)": "03" if is_new else "00",
            "ReasonEstablishmentOpened (name)": "New Provision" if is_new else "Not applicable",
            "OpenDate": _gias_date(_date(oy[i], 9)) if is_new else (
                _gias_date(S["join"][i]) if tr >= 0 and S["join"][i][:4] < str(w.years[0]) else ""),
            "ReasonEstablishmentClosed (code)": "01" if is_closed else "00",
            "ReasonEstablishmentClosed (name)": "Result of Amalgamation/Merger" if is_closed else "Not applicable",
            "CloseDate": _gias_date(_date(int(S["close_year"][i]) + 1, 8, 31)) if is_closed else "",
            "PhaseOfEducation (code)": _GIAS_PHASE[ph][0], "PhaseOfEducation (name)": _GIAS_PHASE[ph][1],
            "StatutoryLowAge": str(S["age_low"][i]), "StatutoryHighAge": str(S["age_high"][i]),
            "Boarders (code)": "1", "Boarders (name)": "No boarders",
            "NurseryProvision (name)": "Has Nursery Classes" if S["age_low"][i] <= 3 else "No Nursery Classes",
            "OfficialSixthForm (code)": "1" if S["age_high"][i] >= 18 else "2",
            "OfficialSixthForm (name)": "Has a sixth form" if S["age_high"][i] >= 18 else
            "Does not have a sixth form",
            "Gender (code)": "3", "Gender (name)": "Mixed",
            "ReligiousCharacter (code)": {"Church of England": "02", "Roman Catholic": "03"}.get(rel, "00"),
            "ReligiousCharacter (name)": rel, "ReligiousEthos (name)": "Does not apply",
            "Diocese (code)": "0000" if rel == "Does not apply" else f"{'CE' if rel[0] == 'C' else 'RC'}{la:02d}",
            "Diocese (name)": "Not applicable" if rel == "Does not apply" else f"Diocese of {S['la_name'][i]}",
            "AdmissionsPolicy (code)": "2" if ph in (SEC, ALL) else "0",
            "AdmissionsPolicy (name)": "Non-selective" if ph in (SEC, ALL) else "Not applicable",
            "SpecialClasses (code)": "2", "SpecialClasses (name)": "No Special Classes",
            "TrustSchoolFlag (code)": "0", "TrustSchoolFlag (name)": "Not applicable",
            "SchoolSponsorFlag (name)": "Not applicable",
            "FederationFlag (name)": "Not under a federation",
            "UKPRN": str(19_000_000 + int(S["urn"][i])),
            "FurtherEducationType (name)": "Not applicable",
            "OfstedSpecialMeasures (code)": "0", "OfstedSpecialMeasures (name)": "Not applicable",
            "LastChangedDate": _gias_date(_date(latest + 1, 8, 29)),
            "Street": S["street"][i], "Locality": S["locality"][i], "Town": S["town_name"][i],
            "Postcode": S["postcode"][i], "SchoolWebsite": S["website"][i],
            "TelephoneNum": S["phone"][i], "HeadTitle (name)": S["head_title"][i],
            "HeadFirstName": S["head_first"][i], "HeadLastName": S["head_last"][i],
            "HeadPreferredJobTitle": "Headteacher" if tr < 0 or rng.random() < 0.8 else "Principal",
            "GOR (code)": _REGIONS[region[i]][1], "GOR (name)": _REGIONS[region[i]][0],
            "DistrictAdministrative (code)": GSS[la], "DistrictAdministrative (name)": S["la_name"][i],
            "UrbanRural (code)": _URBAN_CODE[urban[i]], "UrbanRural (name)": urban[i],
            "GSSLACode (name)": GSS[la],
            "Easting": str(int(S["e"][i])), "Northing": str(int(S["n"][i])),
            "PreviousLA (code)": "999",
            "RSCRegion (name)": _RSC[_REGIONS[region[i]][1]],
            "Country (name)": "United Kingdom",
        }
        if not is_closed:
            row.update({"SchoolCapacity": str(int(S["nor_base"][i] * 1.12) + 5),
                        "CensusDate": _gias_date(_date(latest + 1, 1, 16)), "NumberOfPupils": str(nor[i]),
                        "NumberOfBoys": str(norb[i]), "NumberOfGirls": str(norg[i]),
                        "PercentageFSM": _num(fsm_pct[i:i + 1], 1)[0],
                        "OfstedLastInsp": "" if not (ofsted[i] or ins["rc"][i]) else _gias_date(str(last_visit[i])),
                        "OfstedRating (name)": ofsted[i]})
        if tr >= 0:
            t = trusts.iloc[tr]
            mat = t["kind"] == "mat"
            row.update({"TrustSchoolFlag (code)": "5" if mat else "6",
                        "TrustSchoolFlag (name)": "Supported by a multi-academy trust" if mat else
                        "Supported by a single-academy trust",
                        "Trusts (code)": str(t["uid"]), "Trusts (name)": t["name"]})
            if nft[i] in ("AC", "ACS", "ACAP"):
                row.update({"SchoolSponsorFlag (name)": "Linked to a sponsor", "SchoolSponsors (name)": t["name"]})
        if fd >= 0:
            row.update({"FederationFlag (name)": "Supported by a federation", "Federations (code)": str(
                feds["uid"].iloc[fd]), "Federations (name)": feds["name"].iloc[fd]})
        if ph == AP:
            row.update({"SENPRU (name)": "PRU Does have Provision for SEN", "FTProv (name)":
                        "PRU offers full time provision", "EBD (name)": "PRU Does have EBD provision"})
        if ph == SPE:
            row["SEN1 (name)"] = ["ASD - Autistic Spectrum Disorder", "SEMH - Social, Emotional and Mental Health",
                                  "SLD - Severe Learning Difficulty", "MLD - Moderate Learning Difficulty"][i % 4]
        if S["old_urn"][i]:  # a converter academy: opened on its conversion date, its old URN closed the day before
            conv = S["join"][i]
            row.update({"ReasonEstablishmentOpened (code)": "10", "ReasonEstablishmentOpened (name)":
                        "Academy Converter", "OpenDate": _gias_date(conv)})
            ptname, ptcode, pgroup, pgcode = _TYPES[_maintained_type(ph)]
            old = {h: "" for h in _GIAS_HEADER}
            old.update({h: row.get(h, "") for h in ("LA (code)", "LA (name)", "EstablishmentNumber",
                                                    "EstablishmentName", "PhaseOfEducation (code)",
                                                    "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge",
                                                    "Street", "Locality", "Town", "Postcode", "GOR (code)",
                                                    "GOR (name)", "DistrictAdministrative (code)",
                                                    "DistrictAdministrative (name)", "UrbanRural (code)",
                                                    "UrbanRural (name)", "GSSLACode (name)", "Easting", "Northing",
                                                    "RSCRegion (name)", "Country (name)", "Gender (code)",
                                                    "Gender (name)", "ReligiousCharacter (code)",
                                                    "ReligiousCharacter (name)", "PreviousLA (code)")})
            old.update({"URN": str(S["old_urn"][i]), "TypeOfEstablishment (code)": ptcode,
                        "TypeOfEstablishment (name)": ptname, "EstablishmentTypeGroup (code)": pgcode,
                        "EstablishmentTypeGroup (name)": pgroup, "EstablishmentStatus (code)": "2",
                        "EstablishmentStatus (name)": "Closed", "ReasonEstablishmentOpened (code)": "00",
                        "ReasonEstablishmentOpened (name)": "Not applicable", "ReasonEstablishmentClosed (code)": "10",
                        "ReasonEstablishmentClosed (name)": "Academy Converter",
                        "CloseDate": _gias_date(_day_before(conv)), "TrustSchoolFlag (code)": "0",
                        "TrustSchoolFlag (name)": "Not applicable", "FederationFlag (name)": "Not under a federation",
                        "LastChangedDate": row["LastChangedDate"], "UKPRN": str(19_000_000 + int(S["old_urn"][i]))})
            predecessors.append(old)
        for h, v in row.items():
            D[h][i] = v
    rows = [[D[h][i] for h in _GIAS_HEADER] for i in idx]
    rows += [[r[h] for h in _GIAS_HEADER] for r in predecessors]
    rows.sort(key=lambda r: int(r[0]))  # GIAS lists establishments by URN
    return _write_csv(path, _GIAS_HEADER, rows, style="gias")


def _maintained_type(phase: int) -> str:
    """The LA-maintained type a converter academy had before it converted (as _nftype_in assumes)."""
    return {SPE: "CYS", AP: "PRU"}.get(phase, "CY")


def _day_before(iso: str) -> str:
    return (pd.Timestamp(iso) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")


_GROUP_HEADER = ["Group UID", "Group ID", "Group Name", "Companies House Number", "Group Type (code)", "Group Type",
                 "Closed Date", "Open date", "Incorporated on (open date)", "Group Status (code)", "Group Status",
                 "Group Street", "Group Locality", "Group Address 3", "Group Town", "Group County", "Group Postcode",
                 "Head of Group Title", "Head of Group First Name", "Head of Group Last Name", "UKPRN"]
_LINK_HEADER = ["URN", "Group UID", "Group ID", "Group Name", "Companies House Number", "Group Type (code)",
                "Group Type", "Closed Date", "Open date", "Incorporated on (open date)", "Group Status (code)",
                "Group Status", "Joined date", "EstablishmentName", "TypeOfEstablishment (code)",
                "TypeOfEstablishment (name)", "PhaseOfEducation (code)", "PhaseOfEducation (name)", "LA (code)",
                "LA (name)"]


def _group_common(w: _World) -> list[dict]:
    """Trusts and federations as GIAS describes them (the columns shared by groups and links)."""
    out = []
    for _, t in w.trusts.iterrows():
        mat = t["kind"] == "mat"
        out.append({"Group UID": str(t["uid"]), "Group ID": t["group_id"], "Group Name": t["name"],
                    "Companies House Number": t["companies_house"], "Group Type (code)": "06" if mat else "10",
                    "Group Type": "Multi-academy trust" if mat else "Single-academy trust", "Closed Date": "",
                    "Open date": "", "Incorporated on (open date)": _slash_date(t["incorporated"]),
                    "Group Status (code)": "OPEN", "Group Status": "Open", "_seed": int(t["seed"]),
                    "UKPRN": t["ukprn"], "_head": (t["head_first"], t["head_last"])})
    for _, f in w.feds.iterrows():
        out.append({"Group UID": str(f["uid"]), "Group ID": "", "Group Name": f["name"],
                    "Companies House Number": "", "Group Type (code)": "01", "Group Type": "Federation",
                    "Closed Date": "", "Open date": _slash_date(f["opened"]), "Incorporated on (open date)": "",
                    "Group Status (code)": "OPEN", "Group Status": "Open", "_seed": int(f["seed"]), "UKPRN": "",
                    "_head": ("", "")})
    return out


def _write_groups(w: _World, path: Path) -> Path:
    S = _cols(w.s)
    rows = []
    for g in _group_common(w):
        i = g["_seed"]
        row = {**g, "Group Street": S["street"][i], "Group Locality": S["locality"][i],
               "Group Town": S["town_name"][i], "Group County": "Not recorded",
               "Group Postcode": S["postcode"][i], "Head of Group Title": "Not recorded",
               "Head of Group First Name": g["_head"][0], "Head of Group Last Name": g["_head"][1]}
        rows.append([row.get(h, "") for h in _GROUP_HEADER])
    return _write_csv(path, _GROUP_HEADER, rows, style="gias_groups")


def _write_links(w: _World, path: Path) -> Path:
    s = w.s
    S = _cols(s)
    common = _group_common(w)
    n_tr = len(w.trusts)
    rows = []
    for i in np.argsort(s["urn"].to_numpy(), kind="stable"):
        for col, joined, offset in (("trust", "join", 0), ("fed", "fed_join", n_tr)):
            gi = int(S[col][i])
            if gi < 0:
                continue
            g = common[offset + gi]
            ph = int(S["phase"][i])
            tname, tcode, _, _ = _TYPES[S["nftype"][i]]
            row = {**g, "URN": str(S["urn"][i]), "Joined date": _slash_date(S[joined][i]),
                   "EstablishmentName": S["name"][i], "TypeOfEstablishment (code)": tcode,
                   "TypeOfEstablishment (name)": tname, "PhaseOfEducation (code)": _GIAS_PHASE[ph][0],
                   "PhaseOfEducation (name)": _GIAS_PHASE[ph][1], "LA (code)": str(S["la_code"][i]),
                   "LA (name)": S["la_name"][i]}
            rows.append([row.get(h, "") for h in _LINK_HEADER])
    return _write_csv(path, _LINK_HEADER, rows, style="gias_groups")


def _write_ees(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    """EES school-level census (tidy, one row per school) with the `trust` column."""
    s, las = w.s, w.las
    S, TRN = _cols(s), w.trusts["name"].tolist()
    idx = _school_order(w, np.flatnonzero(Y["present"].to_numpy()), by="la")
    Z = Y.iloc[idx]
    region = las["region"].to_numpy()[s["la"].to_numpy()[idx]]
    phase = s["phase"].to_numpy()[idx]
    census_day = f"{y + 1}-01-16"  # the trust a school was in on the January census day
    trust_name = []
    for i in idx:
        tr = int(S["trust"][i])
        joined = S["join"][i]
        trust_name.append(TRN[tr] if tr >= 0 and joined <= census_day else "")
    comp = Z["nor"].to_numpy()
    cols = {
        "time_period": [f"{y}{(y + 1) % 100:02d}"] * len(idx),
        "time_identifier": ["Academic year"] * len(idx),
        "geographic_level": ["School"] * len(idx),
        "country_code": ["E92000001"] * len(idx),
        "country_name": ["England"] * len(idx),
        "region_name": [_REGIONS[r][0] for r in region],
        "region_code": [_REGIONS[r][2] for r in region],
        "urn": _urn_in(w, y)[idx].astype(str).tolist(),
        "old_la_code": s["la_code"].to_numpy()[idx].astype(str).tolist(),
        "la_name": s["la_name"].to_numpy()[idx].tolist(),
        "new_la_code": las["gss"].to_numpy()[s["la"].to_numpy()[idx]].tolist(),
        "estab": s["estab"].to_numpy()[idx].astype(str).tolist(),
        "school_name": s["name"].to_numpy()[idx].tolist(),
        "laestab": [f"{a}{b:04d}" for a, b in zip(s["la_code"].to_numpy()[idx], s["estab"].to_numpy()[idx],
                                                  strict=True)],
        "phase_type_grouping": [_CENSUS_TYPE[p] for p in phase],
        "trust": trust_name,
        "opendate": [_slash_date(_date(o, 9)) if o else "" for o in s["open_year"].to_numpy()[idx]],
        "sex_of_school_description": ["Mixed"] * len(idx),
        "typeofestablishment_name": [_TYPES[t][0] for t in s["nftype"].to_numpy()[idx]],
        "urban_rural": [f"(England/Wales) {u}" for u in s["urban"].to_numpy()[idx]],
        "school_postcode": s["postcode"].to_numpy()[idx].tolist(),
        "academy_flag": np.where(s["academy"].to_numpy()[idx], "Academy", "LA Maintained").tolist(),
        "headcount total girls": Z["norg"].to_numpy().astype(str).tolist(),
        "headcount total boys": Z["norb"].to_numpy().astype(str).tolist(),
        "headcount of pupils": Z["nor"].to_numpy().astype(str).tolist(),
        "number of pupils known to be eligible for free school meals": Z["fsm"].to_numpy().astype(str).tolist(),
        "% of pupils known to be eligible for free school meals": _num(_ratio(Z["fsm"], Z["nor"]), 1),
        "number of pupils of compulsory school age and above (rounded)": comp.astype(str).tolist(),
        "number of pupils whose first language is known or believed to be English":
            Z["engfl"].to_numpy().astype(str).tolist(),
        "% of pupils whose first language is known or believed to be English": _num(_ratio(Z["engfl"], comp), 1),
        "number of pupils whose first language is known or believed to be other than English":
            Z["eal"].to_numpy().astype(str).tolist(),
        "% of pupils whose first language is known or believed to be other than English":
            _num(_ratio(Z["eal"], comp), 1),
        "number of pupils whose first language is unclassified": Z["uncfl"].to_numpy().astype(str).tolist(),
        "% of pupils whose first language is unclassified": _num(_ratio(Z["uncfl"], comp), 1),
    }
    header = list(cols)
    return _write_csv(path, header, _rows(cols, header), style="ees")




def _report(progress: Progress | None, message: str, fraction: float) -> None:
    if progress is not None:
        progress(message, float(min(max(fraction, 0.0), 1.0)))



def _write_all(w: _World, out_dir: Path, progress: Progress | None, lo: float, hi: float,
               frames: dict[int, pd.DataFrame]) -> list[tuple[Path, str | None]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    latest = w.latest
    stamp = f"{latest + 1}0901"  # the GIAS extract is dated the September after the latest year, not today
    steps = 7 + len(w.years)
    done = 0

    def tick(msg: str) -> None:
        nonlocal done
        done += 1
        _report(progress, msg, lo + (hi - lo) * done / steps)

    def frame(y: int) -> pd.DataFrame:
        if y not in frames:
            frames[y] = _simulate_year(w, y)
        return frames[y]

    from data.demo import current as now  # today's formats (imports this module: loaded only when writing)

    files: list[tuple[Path, str | None]] = []
    # The EES census first: its coarse phase grouping must not overwrite GIAS's (all-through -> secondary).
    ees = _write_ees(w, frame(latest), latest, out_dir / f"spc_school_level_{latest}{(latest + 1) % 100:02d}.csv")
    files.append((ees, None))
    tick("Wrote the school census (Explore Education Statistics)")
    files.append((_write_gias(w, frame(latest), out_dir / f"edubasealldata{stamp}.csv"), None))
    tick("Wrote the GIAS establishments extract")
    files.append((_write_groups(w, out_dir / f"allgroupsdata{stamp}.csv"), None))
    tick("Wrote the GIAS groups")
    files.append((_write_links(w, out_dir / f"alllinksdata{stamp}.csv"), None))
    tick("Wrote the GIAS links")
    files.append((now.write_gias_membership(w, out_dir / f"academiesmatmembership{stamp}.csv"), None))
    if (w.s["old_urn"] > 0).any():  # (a one-year demo has no conversion in it, and GIAS never sends an empty file)
        files.append((now.write_gias_predecessors(w, out_dir / f"links_edubasealldata{stamp}.csv"), None))
    tick("Wrote the GIAS trust memberships and the converters' predecessor links")
    mi = "Management_information_-_state-funded_schools_-_"
    files.append((now.write_ofsted_legacy(w, frame(min(max(2023, w.years[0]), latest)),
                                          out_dir / f"{mi}latest_inspections_as_at_31_Aug_2024.csv"), None))
    files.append((now.write_ofsted_report_cards(w, frame(latest), out_dir /
                                                f"{mi}all_inspections_-_year_to_date_published_by_31_Aug_2026.csv"),
                  None))
    tick("Wrote Ofsted's inspections: the 1-4 grades to August 2024, the report cards from November 2025")
    for y in w.years:
        Y = frame(y)
        folder = out_dir / _folder(y)
        per = _period(y)
        files.append((_write_census(w, Y, y, folder / "england_census.csv"), per))
        files.append((_write_abs(w, Y, y, folder / "england_abs.csv"), per))
        files.append((_write_swf(w, Y, y, folder / "england_swf.csv"), per))
        files.append((_write_cfr(w, Y, y, folder / "england_cfr.csv"), per))
        version = now.version_of(y, latest)
        if y >= now.EES_FIRST:  # DfE publishes school results on Explore Education Statistics since 2023/24
            # the school files, then DfE's national figures (the school files carry none) and its own trust measures
            # and member lists; a writer with no row writes no file (a small demo may have no trust DfE measures)
            for write, name in ((now.write_ees_ks2, "ks2_performance_tables_schools"),
                                (now.write_ees_ks4, "performance_tables_schools"),
                                (now.write_ees_ks4_info, "information_about_schools"),
                                (now.write_ees_ks4_national,
                                 "all_state_funded_pupils_characteristics_and_geography_breakdowns"),
                                (now.write_ees_ks2_national, "ks2_regional_local_authority_and_pupil_characteristics"),
                                (now.write_trust_results, "performance_tables_multi_academy_trusts"),
                                (now.write_trust_info, "information_about_multi_academy_trusts")):
                written = write(w, Y, y, folder / now.ees_name(name, y, version), version)
                if written is not None:
                    files.append((written, per))
        else:
            if y not in NO_KS2_TESTS:
                files.append((_write_ks2(w, Y, y, folder / "england_ks2final.csv"), per))
            files.append((_write_ks4(w, Y, y, folder / "england_ks4final.csv"), per))
        # destinations in year y's tables are of the pupils who finished KS4 two years before: stored under that year
        files.append((_write_pupdest(w, Y, y, folder / "england_ks4-pupdest.csv"), _period(y - 2)))
        tick(f"Wrote the performance tables for {per}")
    return files



def write_demo_files(out_dir: Path, *, schools: int = DEFAULT_SCHOOLS, years: int = DEFAULT_YEARS,
                     seed: int = DEFAULT_SEED, progress: Progress | None = None) -> list[tuple[Path, str | None]]:
    """Write the synthetic England as DfE files; return (path, the period its values belong to, or None) in import
    order."""
    _report(progress, "Inventing a synthetic England", 0.0)
    w = _build_world(schools, years, seed)
    return _write_all(w, Path(out_dir), progress, 0.05, 1.0, {})
