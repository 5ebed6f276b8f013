"""Today's downloads for the synthetic demo: EES school results, Ofsted inspections, GIAS memberships and links.

Each writer copies the real file's header and conventions (docs/data.md, "The demo"):
- EES key stage 4 and key stage 2 school-level performance files (from 2023/24): one row per school and breakdown
  (KS2: and subject), `time_period` 202425, `version`, symbols `c` (suppressed), `z` (not applicable: every Progress 8
  cell in 2024/25 and 2025/26, KS2 progress in 2023/24 and 2024/25), `x` (not available), `low` (low coverage);
  names of 2023/24 (`avg_att8`, `avg_p8score`, `pt_l2basics_95`) and of 2024/25 on (`attainment8_average`, ...);
  every field quoted, LF, UTF-8 without a BOM, as EES serves them;
- the KS4 "information about schools" file, its header exactly as 202425_information_about_schools_provisional.csv;
- Ofsted's management information: the older 1-4 layout (latest graded inspections as at 31 August 2024) and the
  report cards from 10 November 2025 (all inspections of 2025/26 to date), headers as the real files;
- GIAS academy trust membership (academiesmatmembership: Date Joined Group, Date Left Group, history rows) and the
  predecessor/successor links of schools that converted under a new URN (links_edubasealldata, Windows-1252).

Pure numpy and the standard library on the demo's world (data.demo.build); nothing reads the clock.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from data.demo import files, world
from data.demo.files import _f

if TYPE_CHECKING:
    import pandas as pd

# ------------------------------------------------------------------------------------------------ shared

EES_FIRST = 2023  # DfE publishes KS4 and KS2 school results on Explore Education Statistics from 2023/24
_IDENTITY = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "school_laestab",
             "school_urn", "school_name", "old_la_code", "new_la_code", "la_name", "version",
             "establishment_type_group"]
# NFTYPE -> EES establishment_type_group (the words of 202425_information_about_schools_provisional.csv)
_TYPE_GROUP = {"CY": "Community school", "VA": "Voluntary aided school", "VC": "Voluntary controlled school",
               "FD": "Foundation school", "CYS": "Community special school", "FDS": "Foundation special school",
               "AC": "Sponsored academies", "ACC": "Converter academies", "F": "Free schools",
               "ACS": "Sponsored academies - special school", "ACCS": "Converter academies - special school",
               "FS": "Free schools - special school", "PRU": "Pupil referral unit", "NUR": "LA nursery school",
               "ACAP": "Alternative provision academies", "ACCAP": "Alternative provision academies",
               "FAP": "Alternative provision free schools"}


def version_of(y: int, latest: int) -> str:
    """The version a data manager holds in December after the latest year: its provisional figures, the year
    before revised, older years final (KS4: provisional in October, revised in February, final a year on)."""
    return "Provisional" if y == latest else "Revised" if y == latest - 1 else "Final"


def ees_name(kind: str, y: int, version: str) -> str:
    """The file name EES gives a download, e.g. 202425_performance_tables_schools_revised.csv."""
    return f"{y}{(y + 1) % 100:02d}_{kind}_{version.lower()}.csv"


def _write_ees(path: Path, header: list[str], rows: list[list[str]],
               bare: frozenset[str] = frozenset()) -> Path | None:
    """EES's CSV: every field quoted except the few integer flags it writes bare; LF; UTF-8 without a BOM.

    None, and no file, when there is no row: a small demo may have no trust DfE measures (three schools in the
    trust three years), and DfE never publishes an empty file."""
    if not rows:
        return None
    out = io.StringIO(newline="")
    if bare:
        plain = [h in bare for h in header]
        out.write(",".join(f'"{h}"' for h in header) + "\n")
        for r in rows:
            out.write(",".join(v if p else '"' + v.replace('"', '""') + '"' for v, p in zip(r, plain, strict=True))
                      + "\n")
    else:
        csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows([header, *rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def _lists(w: world._World) -> tuple[dict[str, list], dict[str, list], list[int]]:
    """The schools' and trusts' columns as lists, and each LA's region (per-row reads from a DataFrame are slow)."""
    cached = getattr(w, "_lists", None)
    if cached is None:
        cached = (world._cols(w.s), world._cols(w.trusts), w.las["region"].tolist())
        w._lists = cached  # type: ignore[attr-defined]
    return cached


def _identity(w: world._World, y: int, idx: np.ndarray, version: str) -> dict[str, list[str]]:
    """The identifying columns of an EES school row (the URN the school had that year)."""
    s = w.s
    la, est = s["la_code"].to_numpy()[idx], s["estab"].to_numpy()[idx]
    n = len(idx)
    return {"time_period": [f"{y}{(y + 1) % 100:02d}"] * n, "time_identifier": ["Academic year"] * n,
            "geographic_level": ["School"] * n, "country_code": ["E92000001"] * n, "country_name": ["England"] * n,
            "school_laestab": [f"{a}{b:04d}" for a, b in zip(la, est, strict=True)],
            "school_urn": world._urn_in(w, y)[idx].astype(str).tolist(),
            "school_name": s["name"].to_numpy()[idx].tolist(), "old_la_code": la.astype(str).tolist(),
            "new_la_code": w.las["gss"].to_numpy()[s["la"].to_numpy()[idx]].tolist(),
            "la_name": s["la_name"].to_numpy()[idx].tolist(), "version": [version] * n,
            "establishment_type_group": [_TYPE_GROUP[t] for t in files._nftype_in(w, y)[idx]]}


def _cell(x: float, decimals: int = 1) -> str:
    """A value as EES writes it (46.6, 38, -0.26); `x` when there is none (not available)."""
    return _f(x, decimals) or "x"


def _pct(num: float, den: float) -> str:
    return _cell(100 * num / den, 1) if den > 0 else "z"


# ------------------------------------------------------------------------------------------------ KS4 school file

# (2024/25 name, 2023/24 name) per field the demo simulates; None: the 2023/24 file has no such column we know.
# 2024/25 names: data-guidance.txt lines 829-990; 2023/24: readers of 202324_performance_tables_schools_final.csv
# (docs/data.md, "The demo").
_KS4_FIELDS = [
    ("attainment8_average", "avg_att8"), ("attainment8_sum", "t_att8"),
    ("ebacc_94_percent", "pt_ebacc_94"), ("ebacc_94_total", "t_ebacc_94"),
    ("ebacc_95_percent", "pt_ebacc_95"), ("ebacc_95_total", "t_ebacc_95"),
    ("ebacc_aps_average", "avg_ebaccaps"), ("ebacc_aps_sum", "t_ebaccaps"),
    ("ebacc_entering_percent", "pt_ebacc_e_ptq_ee"), ("ebacc_entering_total", "t_ebacc_e_ptq_ee"),
    ("ebacchum_entering_percent", None), ("ebacchum_entering_total", None),
    ("ebacclan_entering_percent", None), ("ebacclan_entering_total", None),
    ("ebaccsci_entering_percent", None), ("ebaccsci_entering_total", None),
    ("engmath_94_percent", "pt_l2basics_94"), ("engmath_94_total", "t_l2basics_94"),
    ("engmath_95_percent", "pt_l2basics_95"), ("engmath_95_total", "t_l2basics_95"),
    ("progress8_average", "avg_p8score"), ("progress8_lower_95_ci", "p8score_ci_low"),
    ("progress8_pupil_count", "t_inp8calc"), ("progress8_sum", "t_p8score"),
    ("progress8_upper_95_ci", "p8score_ci_upp"),
    ("pupil_count", "t_pupils"),
]
_EBACC_FIELDS = frozenset(f for f, _ in _KS4_FIELDS if f.startswith("ebacc"))
_P8_FIELDS = frozenset(f for f, _ in _KS4_FIELDS if f.startswith("progress8"))
# breakdown_topic, breakdown (2024/25 words), the demo's group (data/demo/pupil_groups.py), the 2023/24 word, and
# the years whose school file has it (2023/24 had a prior attainment breakdown; 2024/25 has none: data-guidance.txt
# lines 829-990 list only disadvantage_status, sex, first_language and mobility)
_KS4_BREAKDOWNS = [("Total", "Total", "", "Total", 0),
                   ("Disadvantage status", "Disadvantaged", "dis", "Disadvantaged", 0),
                   ("Disadvantage status", "Not known to be disadvantaged", "nondis", "Disadvantaged all other", 0),
                   ("Sex", "Boys", "boys", "Boys", 0), ("Sex", "Girls", "girls", "Girls", 0),
                   ("First language", "Known or believed to be other than English", "eal", "Other than English", 0),
                   ("First language", "Known or believed to be English", "noteal", "English", 0),
                   ("Mobility", "Mobile", "mob", "Mobile", 0), ("Mobility", "Non mobile", "nmob", "Non mobile", 0),
                   ("Prior attainment", "Low", "lo", "Low", 2023),
                   ("Prior attainment", "Middle", "mid", "Middle", 2023),
                   ("Prior attainment", "High", "hi", "High", 2023)]
# the national characteristics file's groups beyond the school file's: SEN provision (its own words)
_KS4_NATIONAL_ONLY = [("sen_provision", "SEN support", "senk"), ("sen_provision", "EHC plan", "ehc"),
                      ("sen_provision", "No identified SEN", "nosen")]
_GROUP_OF = {word: g for _, word, g, _, _ in _KS4_BREAKDOWNS if g} | {w_: g for _, w_, g in _KS4_NATIONAL_ONLY}
_FILTERS_2425 = ["disadvantage_status", "sex", "first_language", "mobility"]
_FILTERS_2324 = ["sex", "disadvantage", "first_language", "prior_attainment", "mobility"]
_FILTER_OF = {"Disadvantage status": ("disadvantage_status", "disadvantage"), "Sex": ("sex", "sex"),
              "First language": ("first_language", "first_language"), "Mobility": ("mobility", "mobility"),
              "Prior attainment": ("prior_attainment", "prior_attainment")}
_KS4_COUNT_FIELDS = ("b94", "b95", "eb_entry", "eb94", "eb95", "hum", "lang", "sci")


def _ks4_groups(w: world._World, Y: pd.DataFrame, idx: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Each breakdown's pupils and results (keyed by its 2024/25 words), from the year's simulation: every split of
    the pupils adds up to the Total (data/demo/pupil_groups.py)."""
    Z = Y.iloc[idx]

    def col(name: str) -> np.ndarray:
        return Z[name].to_numpy(dtype=float)

    out = {"Total": {"pupils": col("tpup"), "p8pup": col("p8pup"), "att8": col("att8"), "p8": col("p8"),
                     "aps": col("ebaccaps"), **{k: col(k) for k in _KS4_COUNT_FIELDS}}}
    for word, g in _GROUP_OF.items():
        out[word] = {"pupils": col(f"n4_{g}"), "p8pup": col(f"p8n_{g}"), "att8": col(f"att8_{g}"),
                     "p8": col(f"p8_{g}"), "aps": col(f"aps_{g}"), **{k: col(f"{k}_{g}") for k in _KS4_COUNT_FIELDS}}
    return out


def _cells(values: np.ndarray, decimals: int = 1) -> np.ndarray:
    """Values as EES writes them, `x` where there is none (column-wise: one call per column, not per cell)."""
    return np.array([c or "x" for c in files._num(values, decimals)], dtype=object)


def _pcts(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = _cells(files._ratio(num, den), 1)
    out[np.asarray(den) <= 0] = "z"
    return out


def _counts(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float).round().astype(int).astype(str).astype(object)


def _interleave(blocks: list[tuple[np.ndarray, list[np.ndarray]]], n: int) -> list[list[str]]:
    """Rows school by school, each school's blocks in order: blocks are (mask over schools, columns)."""
    rows: list[list[str]] = []
    per = [(mask, [list(r) for r in zip(*cols, strict=True)]) for mask, cols in blocks]
    for j in range(n):
        rows.extend(r[j] for mask, r in per if mask[j])
    return rows


def write_ees_ks4(w: world._World, Y: pd.DataFrame, y: int, path: Path, version: str) -> Path | None:
    """EES KS4 school performance file: Total, disadvantage and sex breakdowns of every school with KS4 pupils."""
    s = w.s
    new_names = y >= 2024
    pairs = [(new, new if new_names else old) for new, old in _KS4_FIELDS if new_names or old]
    if y > world.EBACC_LAST:  # scrapped after 2024/25: the 2025/26 file has no EBacc columns
        pairs = [(k, f) for k, f in pairs if k not in _EBACC_FIELDS]
    filters = _FILTERS_2425 if new_names else _FILTERS_2324
    header = [*_IDENTITY, "breakdown_topic", "breakdown", *filters, *(f for _, f in pairs)]
    present, since = Y["present"].to_numpy(), Y["since"].to_numpy()
    # schools with a year 11 that year (a new school's first cohorts are not yet there)
    idx = files._school_order(w, np.flatnonzero(s["has_ks4"].to_numpy() & present & (since >= 4)))
    m = len(idx)
    ident = _identity(w, y, idx, version)
    groups = _ks4_groups(w, Y, idx)
    ne = s["ks4_ne"].to_numpy()[idx]
    p8_na = y in world.P8_NOT_PUBLISHED
    blocks = []
    for topic, word, _, old_word, since in _KS4_BREAKDOWNS:
        if since and new_names:  # prior attainment: a breakdown of the 2023/24 file only
            continue
        g = groups[word]
        n, n8 = g["pupils"], g["p8pup"]
        shown = word if new_names else old_word
        col = {h: np.asarray(ident[h], dtype=object) for h in _IDENTITY}
        col.update({"breakdown_topic": np.full(m, topic, dtype=object), "breakdown": np.full(m, shown, dtype=object),
                    **{c: np.full(m, "Total", dtype=object) for c in filters}})
        if topic in _FILTER_OF:
            col[_FILTER_OF[topic][0 if new_names else 1]] = np.full(m, shown, dtype=object)
        p8 = np.round(g["p8"].astype(float), 2)
        half = 1.96 * world.P8_SIGMA / np.sqrt(np.maximum(n8, 1))
        v = {"pupil_count": _counts(n), "attainment8_average": _cells(g["att8"]),
             "attainment8_sum": _cells(g["att8"] * n), "ebacc_aps_average": _cells(g["aps"], 2),
             "ebacc_aps_sum": _cells(g["aps"] * n), "progress8_pupil_count": _counts(n8),
             "progress8_average": _cells(p8, 2), "progress8_sum": _cells(p8 * n8),
             "progress8_lower_95_ci": _cells(p8 - half, 2), "progress8_upper_95_ci": _cells(p8 + half, 2)}
        for name, src in (("engmath_94", "b94"), ("engmath_95", "b95"), ("ebacc_entering", "eb_entry"),
                          ("ebacc_94", "eb94"), ("ebacc_95", "eb95"), ("ebacchum_entering", "hum"),
                          ("ebacclan_entering", "lang"), ("ebaccsci_entering", "sci")):
            v[f"{name}_total"] = _counts(g[src])
            v[f"{name}_percent"] = _pcts(g[src], n)
        for k, f in pairs:
            cells = v[k].copy()
            if k != "pupil_count":
                p8_field = k in _P8_FIELDS
                cells[(n <= 5) | (p8_field & (n8 <= 5))] = "c"  # five pupils or fewer: suppressed
                cells[ne | (p8_na and p8_field)] = "z"  # no entries, or no Progress 8 this year: not applicable
            col[f] = cells
        mask = np.ones(m, dtype=bool) if word == "Total" else n > 0
        blocks.append((mask, [col[h] for h in header]))
    return _write_ees(path, header, _interleave(blocks, m))


# ------------------------------------------------------------------------------------------------ KS4 school info

# The header of 202425_information_about_schools_provisional.csv, exactly
INFO_HEADER = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "school_laestab",
               "school_urn", "school_name", "old_la_code", "new_la_code", "la_name", "version",
               "establishment_type_group", "full_address", "telnum", "pcon_code", "pcon_name", "contflag", "iclose",
               "reldenom", "admpol_pt", "egender", "feeder", "agerange", "allks_pupil_count", "allks_boys_count",
               "allks_girls_count", "endks4_pupil_count", "ks2_scaledscore_average", "sen_with_ehcp_pupil_count",
               "sen_with_ehcp_pupil_percent", "sen_pupil_count", "sen_pupil_percent", "sen_no_ehcp_pupil_count",
               "sen_no_ehcp_pupil_percent", "attainment8_diffn", "progress8_diffn", "progress8_banding"]
_INFO_BARE = frozenset({"contflag", "iclose", "feeder"})  # written as bare 0/1 in the real file


def _banding(p8: float, lo: float, hi: float) -> str:
    """DfE's published Progress 8 banding (against 0, by the confidence interval)."""
    if lo > 0:
        return "Well above average" if p8 >= 0.5 else "Above average"
    if hi < 0:
        return "Well below average" if p8 <= -0.5 else "Below average"
    return "Average"


def national_not_disadvantaged(w: world._World, Y: pd.DataFrame) -> tuple[float, float]:
    """Attainment 8 and Progress 8 of non-disadvantaged pupils nationally, rounded as the national file writes them
    (the schools of write_ees_ks4_national): DfE's comparator for every school's disadvantage gap."""
    s = w.s
    idx = np.flatnonzero(s["has_ks4"].to_numpy() & Y["present"].to_numpy() & (Y["since"].to_numpy() >= 4)
                         & ~s["ks4_ne"].to_numpy())
    g = _ks4_groups(w, Y, idx)["Not known to be disadvantaged"]
    n, n8 = g["pupils"].sum(), g["p8pup"].sum()
    # a school with no such pupils has no mean for them (NaN): it adds nothing
    att8 = float(np.nansum(g["att8"] * g["pupils"]) / n) if n else float("nan")
    p8 = float(np.nansum(g["p8"] * g["p8pup"]) / n8) if n8 else float("nan")
    return round(att8, 1), round(p8, 2)


def write_ees_ks4_info(w: world._World, Y: pd.DataFrame, y: int, path: Path, version: str) -> Path | None:
    """KS4 information about schools: cohort, SEN counts, DfE's disadvantage gaps and the Progress 8 banding."""
    S, T, LR = _lists(w)
    s = w.s
    present, since = Y["present"].to_numpy(), Y["since"].to_numpy()
    idx = files._school_order(w, np.flatnonzero(s["has_ks4"].to_numpy() & present & (since >= 4)))
    ident = _identity(w, y, idx, version)
    Z = Y.iloc[idx]
    ZC = world._cols(Z)
    tpup = Z["tpup"].to_numpy()
    ehcp, senk = Z["n4_ehc"].to_numpy(), Z["n4_senk"].to_numpy()  # the SEN groups' pupils (as the national file)
    groups = _ks4_groups(w, Y, idx)
    nat_att8, nat_p8 = national_not_disadvantaged(w, Y)
    p8_na = y in world.P8_NOT_PUBLISHED
    phase = s["phase"].to_numpy()[idx]
    rows = []
    for j, i in enumerate(idx):
        n = int(tpup[j])
        row = {h: ident[h][j] for h in _IDENTITY}
        lo, hi = int(S["age_low"][i]), int(S["age_high"][i])
        # DfE's gap: the school's disadvantaged pupils against non-disadvantaged pupils nationally, as published
        att_gap = round(float(groups["Disadvantaged"]["att8"][j]), 1) - nat_att8
        p8_gap = round(float(groups["Disadvantaged"]["p8"][j]), 2) - nat_p8
        p8, n8 = float(ZC["p8"][j]), int(ZC["p8pup"][j])
        half = 1.96 * world.P8_SIGMA / np.sqrt(max(n8, 1))
        small = n <= 5 or int(ZC["tdis"][j]) <= 5
        no_entries = bool(s["ks4_ne"].iat[i])  # a special school whose pupils took no GCSEs: no gap to show
        row.update({
            "full_address": f"{S['street'][i]}, {S['town_name'][i]}, {S['postcode'][i]}",
            "telnum": S["phone"][i], "pcon_code": f"E1400{1000 + int(S['la'][i]):04d}",
            "pcon_name": "Unknown", "contflag": "0", "iclose": "0", "reldenom": S["religion"][i],
            "admpol_pt": "Not applicable" if phase[j] == world.SPE else "non-selective schools in other areas",
            "egender": "Mixed", "feeder": "0", "agerange": f"{lo} to {hi}",
            "allks_pupil_count": str(int(ZC["nor"][j])), "allks_boys_count": str(int(ZC["norb"][j])),
            "allks_girls_count": str(int(ZC["norg"][j])), "endks4_pupil_count": str(n),
            "ks2_scaledscore_average": "z" if y >= 2024 else _cell(100 + 3.2 * (ZC["ks2aps"][j] - 28.6) / 1.9),
            "sen_with_ehcp_pupil_count": str(int(ehcp[j])), "sen_with_ehcp_pupil_percent": _pct(ehcp[j], n),
            "sen_pupil_count": str(int(ehcp[j] + senk[j])), "sen_pupil_percent": _pct(ehcp[j] + senk[j], n),
            "sen_no_ehcp_pupil_count": str(int(senk[j])), "sen_no_ehcp_pupil_percent": _pct(senk[j], n),
            "attainment8_diffn": "z" if no_entries else "c" if small else _cell(att_gap),
            "progress8_diffn": "z" if p8_na or no_entries else "c" if small else _cell(p8_gap, 2),
            "progress8_banding": "z" if p8_na or n8 <= 5 else _banding(round(p8, 2), p8 - half, p8 + half),
        })
        rows.append([row[h] for h in INFO_HEADER])
    return _write_ees(path, INFO_HEADER, rows, bare=_INFO_BARE)


# ------------------------------------------------------------------------------------------------ KS2 school file

# One row per school, breakdown and subject (ks2_school_attainment_data; names from DfE's own data map of the file,
# DFE-Digital/sap-sector and sap-public, and the EES API schema of the 2024/25 school file: docs/data.md)
KS2_MEASURES = ["eligible_pupil_count", "expected_standard_pupil_count", "expected_standard_pupil_percent",
                "higher_standard_pupil_count", "higher_standard_pupil_percent", "average_scaled_score",
                "progress_measure_eligible_pupil_count", "progress_measure_score",
                "progress_measure_lower_conf_interval", "progress_measure_upper_conf_interval"]
_KS2_SUBJECTS = ["Reading, writing and maths", "Reading", "Writing", "Maths"]
# breakdown_topic, breakdown, the demo's group ("" for the Total)
_KS2_BREAKDOWNS = [("Total", "Total", ""), ("Disadvantage status", "Disadvantaged", "dis"),
                   ("Disadvantage status", "Not known to be disadvantaged", "nondis"), ("Sex", "Boys", "boys"),
                   ("Sex", "Girls", "girls"), ("First language", "Known or believed to be other than English", "eal"),
                   ("First language", "Known or believed to be English", "noteal"), ("Mobility", "Mobile", "mob"),
                   ("Mobility", "Non mobile", "nmob")]
_KS2_PROG_COL = {"Reading": "readprog", "Writing": "writprog", "Maths": "matprog"}


def _ks2_part(Z: pd.DataFrame, g: str) -> dict[str, np.ndarray]:
    """One KS2 group's pupils, counts at the expected and higher standard and progress scores (g "" = the Total)."""
    if not g:
        return {"n": Z["telig"].to_numpy(), "exp": Z["rwm"].to_numpy(), "high": Z["rwm_high"].to_numpy(),
                **{s_: Z[c].to_numpy() for s_, c in _KS2_PROG_COL.items()}}
    return {"n": Z[f"n2_{g}"].to_numpy(), "exp": Z[f"rwm_{g}"].to_numpy(), "high": Z[f"rwmh_{g}"].to_numpy(),
            **{s_: Z[f"{c}_{g}"].to_numpy() for s_, c in _KS2_PROG_COL.items()}}


def write_ees_ks2(w: world._World, Y: pd.DataFrame, y: int, path: Path, version: str) -> Path | None:
    """EES KS2 school performance file: attainment every year, progress only where DfE calculated it."""
    s = w.s
    idx = files._school_order(w, np.flatnonzero(Y["telig"].to_numpy() > 0))
    m = len(idx)
    ident = _identity(w, y, idx, version)
    Z = Y.iloc[idx]
    header = [*_IDENTITY, "breakdown_topic", "breakdown", "subject", *KS2_MEASURES]
    special = s["phase"].to_numpy()[idx] == world.SPE
    prog_na = y in world.KS2_PROGRESS_NOT_PUBLISHED
    lowcov, np_ = Z["ks2_lowcov"].to_numpy() | special, Z["ks2_np"].to_numpy()
    total = _ks2_part(Z, "")
    score = {"Reading": Z["read_avg"].to_numpy(), "Maths": Z["mat_avg"].to_numpy()}
    sd = {"Reading": 5.8, "Writing": 5.5, "Maths": 5.3}
    blocks = []
    for topic, word, g in _KS2_BREAKDOWNS:
        part = _ks2_part(Z, g)
        n = part["n"]
        mask = np.ones(m, dtype=bool) if not g else n > 0
        for subject in _KS2_SUBJECTS:
            col = {h: np.asarray(ident[h], dtype=object) for h in _IDENTITY}
            col.update({"breakdown_topic": np.full(m, topic, dtype=object),
                        "breakdown": np.full(m, word, dtype=object), "subject": np.full(m, subject, dtype=object)})
            v = {k: np.full(m, "z", dtype=object) for k in KS2_MEASURES}
            v["eligible_pupil_count"] = _counts(n)
            if subject == _KS2_SUBJECTS[0]:
                v.update({"expected_standard_pupil_count": _counts(part["exp"]),
                          "expected_standard_pupil_percent": _pcts(part["exp"], n),
                          "higher_standard_pupil_count": _counts(part["high"]),
                          "higher_standard_pupil_percent": _pcts(part["high"], n)})
            else:
                if subject in score:  # a group's scaled score sits as far from the school's as its progress does
                    shift = np.nan_to_num(part[subject] - total[subject])
                    sc = _cells(np.clip(score[subject] + shift, 81, 119), 0)
                    sc[special] = "z"
                    v["average_scaled_score"] = sc
                if not prog_na:
                    p = np.round(part[subject], 1)
                    half = 1.96 * sd[subject] / np.sqrt(np.maximum(n, 1))
                    v.update({"progress_measure_eligible_pupil_count": _counts(n), "progress_measure_score": _cells(p),
                              "progress_measure_lower_conf_interval": _cells(p - half),
                              "progress_measure_upper_conf_interval": _cells(p + half)})
                    for k in KS2_MEASURES[7:]:
                        v[k][lowcov] = "low"  # too few pupils with a KS1 baseline: low coverage
            for k in KS2_MEASURES[1:]:
                applies = v[k] != "z"
                v[k][applies & (n <= 5)] = "c"  # five pupils or fewer: suppressed
                v[k][applies & np_] = "x"  # results not published for this school
            col.update(v)
            blocks.append((mask, [col[h] for h in header]))
    return _write_ees(path, header, _interleave(blocks, m))


# ------------------------------------------------------------------------------------------------ Ofsted

OEIF_WORDS = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
RC_SCALE = ["Exceptional", "Strong standard", "Expected standard", "Needs attention", "Urgent improvement"]
RC_AREAS = ["Inclusion", "Curriculum and teaching", "Achievement", "Attendance and behaviour",
            "Personal development and wellbeing", "Early years (where applicable)",
            "Post-16 provision (where applicable)", "Leadership and governance"]
REPORT_CARDS_FROM = "2025-11-10"  # the first report-card inspections
LEGACY_AS_AT = "2024-08-31"
_OFSTED_PHASE = {world.PRI: "Primary", world.SEC: "Secondary", world.ALL: "All-through", world.SPE: "Special",
                 world.AP: "Alternative provision", world.NUR: "Nursery"}
_OFSTED_REGION = {"North East": "North East, Yorkshire and the Humber",
                  "Yorkshire and The Humber": "North East, Yorkshire and the Humber"}


def _day(rng: np.random.Generator, lo: str, hi: str, k: int) -> np.ndarray:
    """k weekdays between two ISO dates (inclusive), as numpy dates."""
    days = np.arange(np.datetime64(lo), np.datetime64(hi) + 1)
    days = days[np.is_busday(days)]
    return days[rng.integers(len(days), size=k)]


def _dmy(day: np.datetime64) -> str:
    iso = str(day)
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def inspections(w: world._World) -> dict[str, np.ndarray]:
    """Every school's latest graded (1-4) inspection before September 2024 and its 2025/26 report card, if any.

    Grades follow the school's persistent effect (u): a school that does well tends to be graded well. Cached on
    the world: GIAS's OfstedRating and both Ofsted files must tell the same story."""
    cached = getattr(w, "_inspections", None)
    if cached is not None:
        return cached
    s = w.s
    n = len(s)
    rng = np.random.default_rng([w.seed, 23])
    u = s["u"].to_numpy()
    z = 0.6 * u + 0.8 * rng.standard_normal(n)
    legacy = np.digitize(-z, [-0.99, 0.95, 1.7]) + 1  # 1 outstanding ... 4 inadequate: about 16/66/12/5 %
    opened = s["open_year"].to_numpy()
    seen = (rng.random(n) > 0.04) & ((opened == 0) | (opened <= 2021))
    legacy = np.where(seen, legacy, 0)
    start = _day(rng, "2016-09-05", "2024-07-12", n)
    sub = np.clip(legacy[:, None] + rng.choice([-1, 0, 0, 0, 0, 1], size=(n, 4)), 1, 4) * (legacy[:, None] > 0)
    # report cards: about three schools in ten by July 2026, the longest-uninspected first
    wait = np.where(seen, (np.datetime64("2024-08-31") - start).astype(int), 4000) + rng.integers(0, 900, n)
    present = (opened <= w.latest) & (s["close_year"].to_numpy() >= w.latest)
    rc = present & (wait > np.quantile(wait[present], 0.7)) if present.any() else present
    rc_start = _day(rng, REPORT_CARDS_FROM, "2026-07-10", n)
    rc_z = 0.6 * u + 0.8 * rng.standard_normal((len(RC_AREAS), n))
    rc_grade = np.digitize(-rc_z, [-1.9, -0.35, 1.0, 2.3])  # index into RC_SCALE: about 3/33/50/13/1 %
    out = {"legacy": legacy, "start": start, "sub": sub, "rc": rc, "rc_start": rc_start, "rc_grade": rc_grade,
           "rc_safe": rng.random(n) > 0.01, "number": 10_200_000 + rng.permutation(n),
           "rc_number": 10_420_000 + rng.permutation(n)}
    w._inspections = out  # type: ignore[attr-defined]
    return out


def _ofsted_school(w: world._World, i: int, urn: int) -> dict[str, str]:
    """The columns that describe the school in Ofsted's files (the same in both layouts)."""
    S, T, LR = _lists(w)
    ph = int(S["phase"][i])
    region = world._REGIONS[int(LR[int(S["la"][i])])][0]
    rel = S["religion"][i]
    tr = int(S["trust"][i])
    trust_uid = str(T["uid"][tr]) if tr >= 0 and T["kind"][tr] == "mat" else "NULL"
    trust_name = T["name"][tr].title() if trust_uid != "NULL" else "NULL"
    return {"URN": str(urn), "LAESTAB": f"{S['la_code'][i]}{S['estab'][i]:04d}",
            "School name": S["name"][i], "Ofsted phase": _OFSTED_PHASE[ph],
            "Type of education": world._TYPES[S["nftype"][i]][0].title(),
            "School open date": files._slash_date(world._date(int(S["open_year"][i]), 9)) if S["open_year"][i]
            else "NULL",
            "Admissions policy": "Non-selective" if ph in (world.SEC, world.ALL) else "Not applicable",
            "Sixth form": "Has a sixth form" if S["age_high"][i] >= 18 else "Does not have a sixth form",
            "Designated religious character": rel, "Religious ethos": "Does not apply",
            "Faith grouping": "Non-faith" if rel == "Does not apply" else "Christian",
            "Ofsted region": _OFSTED_REGION.get(region, region), "Region": region,
            "Local authority": S["la_name"][i], "Parliamentary constituency": f"{S['town_name'][i]} Central",
            "Postcode": S["postcode"][i], "Multi-academy trust UID": trust_uid,
            "Multi-academy trust name": trust_name, "Academy sponsor UID": trust_uid,
            "Academy sponsor name": trust_name, "Academy Sponsor Name": trust_name,
            "The income deprivation affecting children index (IDACI) quintile":
                str(int(np.clip(3 + round(float(S["zf"][i]) * 1.3), 1, 5))),
            "Statutory lowest age": str(S["age_low"][i]), "Statutory highest age": str(S["age_high"][i])}


LEGACY_HEADER = [
    "Web link", "URN", "LAESTAB", "School name", "Ofsted phase", "Type of education", "School open date",
    "Admissions policy", "Sixth form", "Designated religious character", "Religious ethos", "Faith grouping",
    "Ofsted region", "Region", "Local authority", "Parliamentary constituency", "Multi-academy trust UID",
    "Multi-academy trust name", "Academy sponsor UID", "Academy sponsor name", "Postcode",
    "The income deprivation affecting children index (IDACI) quintile", "Total number of pupils",
    "Statutory lowest age", "Statutory highest age", "Latest ungraded inspection number since last graded inspection",
    "Does the ungraded inspection relate to the URN of the current school?", "URN at time of the ungraded inspection",
    "LAESTAB at time of the ungraded inspection", "School name at time of the ungraded inspection",
    "School type at time of the ungraded inspection", "Number of ungraded inspections since the last graded inspection",
    "Date of latest ungraded inspection", "Ungraded inspection publication date",
    "Did the latest ungraded inspection convert to a graded inspection?", "Ungraded inspection overall outcome",
    "Number of monitoring and urgent inspections since last graded inspection",
    "Inspection number of latest graded inspection", "Inspection type", "Inspection type grouping",
    "Event type grouping", "Inspection start date", "Publication date",
    "Does the latest graded inspection relate to the URN of the current school?",
    "URN at time of latest graded inspection", "LAESTAB at time of latest graded inspection",
    "School name at time of latest graded inspection", "School type at time of latest graded inspection",
    "Overall effectiveness", "Category of concern", "Quality of education", "Behaviour and attitudes",
    "Personal development", "Effectiveness of leadership and management", "Safeguarding is effective?",
    "Early years provision (where applicable)", "Sixth form provision (where applicable)",
    "Previous graded inspection number", "Previous inspection start date", "Previous publication date",
    "Does the previous graded inspection relate to the URN of the current school?",
    "URN at time of previous graded inspection", "LAESTAB at time of previous graded inspection",
    "School name at time of previous graded inspection", "School type at time of previous graded inspection",
    "Previous graded inspection overall effectiveness", "Previous category of concern", "Previous quality of education",
    "Previous behaviour and attitudes", "Previous personal development",
    "Previous effectiveness of leadership and management", "Previous safeguarding is effective?",
    "Previous early years provision (where applicable)", "Previous sixth form provision (where applicable)",
]
REPORT_CARD_HEADER = [
    "Web Link (opens in new window)", "URN", "LAESTAB", "School name", "Ofsted phase", "Type of education",
    "School open date", "Admissions policy", "Sixth form", "Designated religious character", "Religious ethos",
    "Faith grouping", "Ofsted region", "Region", "Local authority", "Parliamentary constituency", "Postcode",
    "Multi-academy trust UID", "Multi-academy trust name", "Academy sponsor UID", "Academy Sponsor Name",
    "The income deprivation affecting children index (IDACI) quintile", "Total number of pupils",
    "Statutory lowest age", "Statutory highest age", "Inspection number", "Inspection type", "Inspection type grouping",
    "Event type grouping", "Inspection start date", "Publication date", "Category of concern", "Safeguarding standards",
    *RC_AREAS,
]
_LINK = "http://www.ofsted.gov.uk/inspection-reports/find-inspection-report/provider/"


def _write_ofsted(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    """Ofsted's CSV: quoted only where needed, LF, Windows-1252 (its en dashes)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[r.get(h, "NULL") for h in header] for r in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("cp1252"))
    return path


def write_ofsted_legacy(w: world._World, Y: pd.DataFrame, path: Path) -> Path:
    """Latest graded inspections as at 31 August 2024 (the older 1-4 layout): every school open then."""
    S, T, LR = _lists(w)
    s = w.s
    ins = inspections(w)
    urn = world._urn_in(w, 2023)
    open_then = (s["open_year"].to_numpy() <= 2023) & (s["close_year"].to_numpy() >= 2023)
    nor = Y["nor"].to_numpy()
    rows = []
    for i in files._school_order(w, np.flatnonzero(open_then), by="urn", y=2023):
        row = _ofsted_school(w, int(i), int(urn[i]))
        row.update({"Web link": _LINK + str(urn[i]), "Total number of pupils": str(int(nor[i])),
                    "Did the latest ungraded inspection convert to a graded inspection?": "",
                    "Category of concern": "", "Previous category of concern": ""})
        g = int(ins["legacy"][i])
        if g:
            start = ins["start"][i]
            sub = ins["sub"][i]
            ph = int(S["phase"][i])
            early = ph in (world.PRI, world.ALL, world.NUR) and S["age_low"][i] <= 4
            row.update({
                "Inspection number of latest graded inspection": str(ins["number"][i]),
                "Inspection type": "S5 Inspection", "Inspection type grouping": "S5 Inspection",
                "Event type grouping": "Schools - S5", "Inspection start date": _dmy(start),
                "Publication date": _dmy(start + 33),
                "Does the latest graded inspection relate to the URN of the current school?": "Yes",
                "URN at time of latest graded inspection": str(urn[i]), "LAESTAB at time of latest graded inspection":
                    row["LAESTAB"], "School name at time of latest graded inspection": row["School name"],
                "School type at time of latest graded inspection": row["Type of education"],
                "Overall effectiveness": str(g), "Category of concern": "SM" if g == 4 and sub[3] == 4 else "",
                "Quality of education": str(sub[0]), "Behaviour and attitudes": str(sub[1]),
                "Personal development": str(sub[2]), "Effectiveness of leadership and management": str(sub[3]),
                "Safeguarding is effective?": "No" if g == 4 and sub[3] == 4 else "Yes",
                "Early years provision (where applicable)": str(sub[2]) if early else "9",
                "Sixth form provision (where applicable)": str(sub[0]) if S["age_high"][i] >= 18 else "9",
            })
        rows.append(row)
    return _write_ofsted(path, LEGACY_HEADER, rows)


def write_ofsted_report_cards(w: world._World, Y: pd.DataFrame, path: Path) -> Path:
    """All report-card inspections of 2025/26 to date (from 10 November 2025), one row per inspection."""
    S, T, LR = _lists(w)
    s = w.s
    ins = inspections(w)
    urn = s["urn"].to_numpy()
    nor = Y["nor"].to_numpy()
    order = np.lexsort((urn, ins["rc_start"]))
    rows = []
    for i in order[ins["rc"][order]]:
        start = ins["rc_start"][i]
        grades = ins["rc_grade"][:, i]
        row = _ofsted_school(w, int(i), int(urn[i]))
        urgent = grades.max() == 4
        row.update({"Web Link (opens in new window)": _LINK + str(urn[i]), "Total number of pupils": str(int(nor[i])),
                    "Inspection number": str(ins["rc_number"][i]),
                    "Inspection type": "Academy First Section 5" if S["open_year"][i] else "S5 Inspection",
                    "Inspection type grouping": "S5 Inspection", "Event type grouping": "Schools - S5",
                    "Inspection start date": _dmy(start), "Publication date": _dmy(start + 45),
                    "Category of concern": "SM" if urgent and grades[-1] == 4 else "",
                    "Safeguarding standards": "Met" if ins["rc_safe"][i] else "Not met"})
        ph = int(S["phase"][i])
        for k, area in enumerate(RC_AREAS):
            row[area] = RC_SCALE[int(grades[k])]
        if not (ph in (world.PRI, world.ALL, world.NUR) and S["age_low"][i] <= 4):
            row["Early years (where applicable)"] = "Not applicable"
        if S["age_high"][i] < 18:
            row["Post-16 provision (where applicable)"] = "Not applicable"
        rows.append(row)
    return _write_ofsted(path, REPORT_CARD_HEADER, rows)


# ------------------------------------------------------------------------------------------------ GIAS

MEMBERSHIP_HEADER = [
    "URN", "DfE Number", "EstablishmentNumber", "Establishment UKPRN", "LA (code)", "LA (name)", "Group UID",
    "Group ID", "TypeOfEstablishment (code)", "TypeOfEstablishment (name)", "Group Type (code)", "Group Type",
    "EstablishmentTypeGroup (code)", "EstablishmentTypeGroup (name)", "EstablishmentName", "Group Name",
    "EstablishmentStatus (code)", "EstablishmentStatus (name)", "Group Status (code)", "Group Status", "Group UKPRN",
    "Group Companies House Number", "SchoolSponsorFlag (name)", "SchoolSponsors (name)", "PhaseOfEducation (code)",
    "PhaseOfEducation (name)", "Establishment OpenDate", "ReasonEstablishmentOpened (code)",
    "ReasonEstablishmentOpened (name)", "Establishment CloseDate", "ReasonEstablishmentClosed (code)",
    "ReasonEstablishmentClosed (name)", "Group Open Date", "Group Closed Date", "Date Joined Group",
    "Date Left Group", "Establishment Street", "Establishment Locality", "Establishment Address3",
    "Establishment Town", "Establishment County (code)", "Establishment County (name)", "Establishment Postcode",
    "Group Street", "Group Locality", "Group Address 3", "Group Town", "Group County", "Group Postcode",
    "HeadTitle (name)", "HeadFirstName", "HeadLastName", "Predecessor Establishment", "Successor Establishment",
]
PREDECESSOR_HEADER = ["URN", "LinkURN", "LinkName", "LinkType", "LinkEstablishedDate"]


def trust_history(w: world._World) -> list[tuple[int, int, str, str]]:
    """Earlier trust memberships of schools that moved trust during the window: (school, trust, joined, left).

    About one in twenty schools that joined their trust during the window came from another multi-academy trust,
    which it left the day before (GIAS keeps that row with its Date Left Group)."""
    S, T, LR = _lists(w)
    s = w.s
    rng = np.random.default_rng([w.seed, 29])
    join = s["join"].to_numpy()
    mats = np.flatnonzero(w.trusts["kind"].to_numpy() == "mat")
    out = []
    for i in np.flatnonzero((s["trust"].to_numpy() >= 0) & (s["open_year"].to_numpy() == 0)
                            & (s["old_urn"].to_numpy() == 0)):
        j = join[i]
        if not j or world._academic_year_of(j) < w.years[0] or rng.random() > 0.05:
            continue
        others = mats[mats != S["trust"][i]]
        if not len(others):
            continue
        prev = int(rng.choice(others))
        since = max(T["incorporated"][prev], "2014-09-01")
        since = world._next_month(since) if since[8:] != "01" else since
        if since >= j:
            continue
        out.append((int(i), prev, since, files._day_before(j)))
    return out


def write_gias_membership(w: world._World, path: Path) -> Path:
    """academiesmatmembership: each academy in each trust it has been in, with the dates (ISO, as GIAS writes)."""
    S, T, LR = _lists(w)
    s = w.s
    rows: list[tuple[int, int, str, str]] = [(int(i), int(S["trust"][i]), S["join"][i], "")
                                             for i in np.flatnonzero(s["trust"].to_numpy() >= 0)]
    rows += trust_history(w)
    rows.sort(key=lambda r: (int(S["urn"][r[0]]), r[2]))
    out = []
    for i, tr, joined, left in rows:
        ph = int(S["phase"][i])
        tname, tcode, group, gcode = world._TYPES[S["nftype"][i]]
        mat = T["kind"][tr] == "mat"
        sponsored = S["nftype"][i] in ("AC", "ACS", "ACAP")
        closed = S["close_year"][i] < 9999
        conv = bool(S["old_urn"][i])
        opened = joined if conv else (world._date(int(S["open_year"][i]), 9) if S["open_year"][i] else "")
        seed = int(T["seed"][tr])
        row = {
            "URN": str(S["urn"][i]), "DfE Number": f"{S['la_code'][i]}/{S['estab'][i]:04d}",
            "EstablishmentNumber": str(S["estab"][i]),
            "Establishment UKPRN": str(19_000_000 + int(S["urn"][i])), "LA (code)": str(S["la_code"][i]),
            "LA (name)": S["la_name"][i], "Group UID": str(T["uid"][tr]),
            "Group ID": T["group_id"][tr], "TypeOfEstablishment (code)": tcode,
            "TypeOfEstablishment (name)": tname, "Group Type (code)": "06" if mat else "10",
            "Group Type": "Multi-academy trust" if mat else "Single-academy trust",
            "EstablishmentTypeGroup (code)": gcode, "EstablishmentTypeGroup (name)": group,
            "EstablishmentName": S["name"][i], "Group Name": T["name"][tr],
            "EstablishmentStatus (code)": "2" if closed else "1",
            "EstablishmentStatus (name)": "Closed" if closed else "Open", "Group Status (code)": "OPEN",
            "Group Status": "Open", "Group UKPRN": T["ukprn"][tr],
            "Group Companies House Number": T["companies_house"][tr],
            "SchoolSponsorFlag (name)": "Linked to a sponsor" if sponsored else "-",
            "SchoolSponsors (name)": T["name"][tr] if sponsored else "",
            "PhaseOfEducation (code)": world._GIAS_PHASE[ph][0], "PhaseOfEducation (name)": world._GIAS_PHASE[ph][1],
            "Establishment OpenDate": opened,
            "ReasonEstablishmentOpened (code)": "10" if conv else "03" if S["open_year"][i] else "00",
            "ReasonEstablishmentOpened (name)": "Academy Converter" if conv else "New Provision"
            if S["open_year"][i] else "Not applicable",
            "Establishment CloseDate": world._date(int(S["close_year"][i]) + 1, 8, 31) if closed else "",
            "ReasonEstablishmentClosed (code)": "01" if closed else "99",
            "ReasonEstablishmentClosed (name)": "Result of Amalgamation/Merger" if closed else "Not recorded",
            "Group Open Date": T["incorporated"][tr], "Group Closed Date": "", "Date Joined Group": joined,
            "Date Left Group": left, "Establishment Street": S["street"][i],
            "Establishment Locality": S["locality"][i], "Establishment Address3": "",
            "Establishment Town": S["town_name"][i], "Establishment County (code)": "099",
            "Establishment County (name)": "Not recorded", "Establishment Postcode": S["postcode"][i],
            "Group Street": S["street"][seed], "Group Locality": S["locality"][seed], "Group Address 3": "",
            "Group Town": S["town_name"][seed], "Group County": "099", "Group Postcode": S["postcode"][seed],
            "HeadTitle (name)": S["head_title"][i], "HeadFirstName": S["head_first"][i],
            "HeadLastName": S["head_last"][i], "Predecessor Establishment": "YES" if conv else "NO",
            "Successor Establishment": "NO"}
        out.append([row[h] for h in MEMBERSHIP_HEADER])
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows([MEMBERSHIP_HEADER, *out])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("cp1252"))
    return path


def write_gias_predecessors(w: world._World, path: Path) -> Path:
    """links_edubasealldata: each converter academy and its old URN, both ways (URNs bare, words quoted, CRLF)."""
    S, T, LR = _lists(w)
    s = w.s
    links = []
    for i in np.flatnonzero(s["old_urn"].to_numpy() > 0):
        new, old, name = int(S["urn"][i]), int(S["old_urn"][i]), S["name"][i]
        when = files._gias_date(S["join"][i])  # dd-mm-yyyy, the day the academy opened
        links.append((new, old, name, "Predecessor", when))
        links.append((old, new, name, "Successor", when))
    links.sort()
    lines = [",".join(f'"{h}"' for h in PREDECESSOR_HEADER)]
    for urn, link, name, kind, when in links:
        lines.append(f'{urn},{link},"{name}","{kind}","{when}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r\n".join(lines).encode("cp1252"))  # no final line break, as the real extract
    return path


# ------------------------------------------------------------------------------------------------ EES national

_GEO = ["region_code", "region_name", "old_la_code", "new_la_code", "la_name"]
# the filters of 202425_all_state_funded_pupils_characteristics_and_geography_breakdowns (data-guidance.txt, line 31)
_NAT_FILTERS = ["disadvantage_status", "sex", "first_language", "sen_provision", "prior_attainment", "mobility"]
_NAT_KS4 = ["attainment8_average", "attainment8_sum", "ebacc_94_percent", "ebacc_94_total", "ebacc_95_percent",
            "ebacc_95_total", "ebacc_aps_average", "ebacc_aps_sum", "ebacc_entering_percent", "ebacc_entering_total",
            "engmath_94_percent", "engmath_94_total", "engmath_95_percent", "engmath_95_total", "progress8_average",
            "progress8_lower_95_ci", "progress8_pupil_count", "progress8_sum", "progress8_upper_95_ci",
            "pupil_count"]
# the KS2 regional, LA and pupil characteristics file (older wide names; B's reader, data/ingest/ees_common.py)
_NAT_KS2 = ["t_rwm_eligible_pupils", "t_rwm_met_expected_standard", "pt_rwm_met_expected_standard",
            "t_rwm_met_higher_standard", "pt_rwm_met_higher_standard",
            *(c for s in ("read", "writta", "mat") for c in (f"t_{s}_progress_eligible_pupils",
                                                              f"avg_{s}_progress_score",
                                                              f"avg_{s}_progress_score_lower_ci",
                                                              f"avg_{s}_progress_score_upper_ci"))]


def _areas(w: world._World, idx: np.ndarray) -> list[tuple[str, np.ndarray, dict[str, str]]]:
    """(level, the schools of the area, its geography columns): England, then each region, then each LA."""
    s = w.s
    la = s["la"].to_numpy()[idx]
    region = w.las["region"].to_numpy()[la]
    out = [("National", np.ones(len(idx), dtype=bool), dict.fromkeys(_GEO, ""))]
    for r in sorted(set(region.tolist())):
        name, _, code = world._REGIONS[r][:3]
        out.append(("Regional", region == r, {**dict.fromkeys(_GEO, ""), "region_code": code, "region_name": name}))
    for k in sorted(set(la.tolist()), key=lambda k: int(w.las["la_code"].iat[k])):
        r = int(w.las["region"].iat[k])
        geo = {"region_code": world._REGIONS[r][2], "region_name": world._REGIONS[r][0],
               "old_la_code": str(w.las["la_code"].iat[k]), "new_la_code": w.las["gss"].iat[k],
               "la_name": w.las["la_name"].iat[k]}
        out.append(("Local authority", la == k, geo))
    return out


def write_ees_ks4_national(w: world._World, Y: pd.DataFrame, y: int, path: Path, version: str) -> Path | None:
    """KS4 national, regional and LA figures of state-funded mainstream and special schools, all pupils and by
    disadvantage (no suppression above school level, as DfE)."""
    s = w.s
    present, since = Y["present"].to_numpy(), Y["since"].to_numpy()
    idx = np.flatnonzero(s["has_ks4"].to_numpy() & present & (since >= 4) & ~s["ks4_ne"].to_numpy())
    groups = _ks4_groups(w, Y, idx)
    fields = [f for f in _NAT_KS4 if not (y > world.EBACC_LAST and f.startswith("ebacc"))]
    header = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", *_GEO, "version",
              *_NAT_FILTERS, *fields]
    # every pupil group of the school file (prior attainment every year: the national file has it) and SEN provision
    breakdowns = [("", "Total")] + [(_FILTER_OF[topic][0], word) for topic, word, g, _, _ in _KS4_BREAKDOWNS if g]
    breakdowns += [(f, word) for f, word, _ in _KS4_NATIONAL_ONLY]
    rows = []
    for level, m, geo in _areas(w, idx):
        for filt, word in breakdowns:
            g = groups[word]
            n, n8 = float(g["pupils"][m].sum()), float(g["p8pup"][m].sum())
            if n <= 0:
                continue
            row = {"time_period": f"{y}{(y + 1) % 100:02d}", "time_identifier": "Academic year",
                   "geographic_level": level, "country_code": "E92000001", "country_name": "England", **geo,
                   "version": version, **dict.fromkeys(_NAT_FILTERS, "Total")}
            if filt:
                row[filt] = word
            # a group with no pupils at a school has no mean there (NaN): it adds nothing
            a8 = float(np.nansum(g["att8"][m] * g["pupils"][m]))
            aps = float(np.nansum(g["aps"][m] * g["pupils"][m]))
            p8 = float(np.nansum(g["p8"][m] * g["p8pup"][m]))
            v = {"pupil_count": str(int(n)), "attainment8_sum": _f(a8, 1), "attainment8_average": _f(a8 / n, 1),
                 "ebacc_aps_sum": _f(aps, 2), "ebacc_aps_average": _f(aps / n, 2)}
            for name, src in (("engmath_94", "b94"), ("engmath_95", "b95"), ("ebacc_entering", "eb_entry"),
                              ("ebacc_94", "eb94"), ("ebacc_95", "eb95")):
                total = float(g[src][m].sum())
                v[f"{name}_total"], v[f"{name}_percent"] = str(int(total)), _f(100 * total / n, 1)
            if y in world.P8_NOT_PUBLISHED or n8 <= 0:
                v.update(dict.fromkeys(("progress8_average", "progress8_lower_95_ci", "progress8_pupil_count",
                                        "progress8_sum", "progress8_upper_95_ci"), "z"))
            else:
                mean, half = p8 / n8, 1.96 * world.P8_SIGMA / np.sqrt(n8)
                v.update({"progress8_average": _f(mean, 2), "progress8_sum": _f(p8, 1),
                          "progress8_pupil_count": str(int(n8)), "progress8_lower_95_ci": _f(mean - half, 2),
                          "progress8_upper_95_ci": _f(mean + half, 2)})
            row.update({f: v[f] for f in fields})
            rows.append([row[h] for h in header])
    return _write_ees(path, header, rows)


def write_ees_ks2_national(w: world._World, Y: pd.DataFrame, y: int, path: Path, version: str) -> Path | None:
    """KS2 national, regional and LA figures (state-funded schools), all pupils and by each group its filters name
    (sex, disadvantage, first language)."""
    idx = np.flatnonzero(Y["telig"].to_numpy() > 0)
    Z = Y.iloc[idx]
    header = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", *_GEO, "version",
              "sex", "disadvantage_status", "first_language", *_NAT_KS2]
    filt = {"Disadvantage status": "disadvantage_status", "Sex": "sex", "First language": "first_language"}
    breakdowns = [(filt.get(topic, ""), word, g) for topic, word, g in _KS2_BREAKDOWNS if not g or topic in filt]
    subj_of = {"read": "Reading", "writta": "Writing", "mat": "Maths"}
    sd = {"read": 5.8, "writta": 5.5, "mat": 5.3}
    rows = []
    for level, m, geo in _areas(w, idx):
        for column, word, g in breakdowns:
            part = _ks2_part(Z, g)
            n_ = part["n"].astype(float)
            n = float(n_[m].sum())
            if n <= 0:
                continue
            e, h = float(part["exp"][m].sum()), float(part["high"][m].sum())
            row = {"time_period": f"{y}{(y + 1) % 100:02d}", "time_identifier": "Academic year",
                   "geographic_level": level, "country_code": "E92000001", "country_name": "England", **geo,
                   "version": version, "sex": "Total", "disadvantage_status": "Total", "first_language": "Total",
                   "t_rwm_eligible_pupils": str(int(n)), "t_rwm_met_expected_standard": str(int(e)),
                   "pt_rwm_met_expected_standard": _f(100 * e / n, 0), "t_rwm_met_higher_standard": str(int(h)),
                   "pt_rwm_met_higher_standard": _f(100 * h / n, 0)}
            if column:
                row[column] = word
            for subj, subject in subj_of.items():
                keys = [f"t_{subj}_progress_eligible_pupils", f"avg_{subj}_progress_score",
                        f"avg_{subj}_progress_score_lower_ci", f"avg_{subj}_progress_score_upper_ci"]
                if y in world.KS2_PROGRESS_NOT_PUBLISHED:
                    row.update(dict.fromkeys(keys, "z"))
                    continue
                p = np.nan_to_num(part[subject][m])
                mean = float((p * n_[m]).sum() / n)
                half = 1.96 * sd[subj] / np.sqrt(n)
                row.update(zip(keys, (str(int(n)), _f(mean, 2), _f(mean - half, 2), _f(mean + half, 2)),
                               strict=True))
            rows.append([row[h] for h in header])
    return _write_ees(path, header, rows)


# ------------------------------------------------------------------------------------------------ DfE trust files

TRUST_RESULTS_HEADER = [
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name", "trust_id", "trust_name",
    "trust_uid", "trust_companies_house_number", "trust_ukprn", "trust_leadregion", "version",
    "establishment_type_group", "breakdown_topic", "disadvantage_status", "pupil_count", "attainment8_average_weighted",
    "progress8_pupil_percent", "progress8_average_weighted", "progress8_lower_95_ci", "progress8_upper_95_ci",
    "engmath_95_percent_weighted", "ebacc_aps_average_weighted", "ebacc_95_percent_weighted",
    "ebacc_94_percent_weighted", "ebacc_entering_percent_weighted",
]
TRUST_INFO_HEADER = [
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name", "trust_id", "trust_name",
    "trust_uid", "trust_companies_house_number", "trust_ukprn", "trust_leadregion", "version",
    "establishment_type_group", "academy_eligibility", "pupil_count", "disadvantaged_pupil_percent",
    "not_disadvantaged_pupil_percent", "ks2_scaledscore_average", "eal_pupil_percent", "sen_pupil_percent", "urns",
    "school_count", "converter_school_count", "sponsored_school_count", "free_school_count", "studio_school_count",
    "utc_school_count", "disadvantaged_school_count", "years3_school_count", "years4_school_count",
    "years5plus_school_count", "progress8_banding",
]
_TRUST_BARE = frozenset({"trust_uid", "trust_companies_house_number", "trust_ukprn", "pupil_count"})


def _trust_members(w: world._World, Y: pd.DataFrame, y: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per multi-academy trust: its mainstream KS4 academies that year, and how many full years each had been in it
    by the end of the year (DfE counts a school in the trust's measures after three)."""
    s = w.s
    present, since = Y["present"].to_numpy(), Y["since"].to_numpy()
    ks4 = s["has_ks4"].to_numpy() & present & (since >= 4) & np.isin(s["phase"].to_numpy(), (world.SEC, world.ALL))
    trust = s["trust"].to_numpy()
    years_in = np.array([y + 1 - world._academic_year_of(j) if j else 0 for j in s["join"].to_numpy()])
    out = {}
    for tr in np.flatnonzero(w.trusts["kind"].to_numpy() == "mat"):
        mem = np.flatnonzero(ks4 & (trust == tr) & (years_in >= 1))
        if len(mem):
            out[int(tr)] = (mem, years_in[mem])
    return out


def _trust_id(w: world._World, tr: int, y: int, version: str) -> dict[str, str]:
    t = w.trusts
    seed = int(t["seed"].iat[tr])
    region = world._REGIONS[int(w.las["region"].iat[int(w.s["la"].iat[seed])])][0]
    return {"time_period": f"{y}{(y + 1) % 100:02d}", "time_identifier": "Academic year", "geographic_level": "MAT",
            "country_code": "E92000001", "country_name": "England", "trust_id": t["group_id"].iat[tr],
            "trust_name": t["name"].iat[tr].title(), "trust_uid": str(t["uid"].iat[tr]),
            "trust_companies_house_number": str(int(t["companies_house"].iat[tr])),
            "trust_ukprn": t["ukprn"].iat[tr], "trust_leadregion": region, "version": version,
            "establishment_type_group": "Multi-academy trust"}


def write_trust_results(w: world._World, Y: pd.DataFrame, y: int, path: Path, version: str) -> Path | None:
    """DfE's trust KS4 measures: trusts with three or more schools in the trust three years or more; each school's
    result weighted by its pupils and its years in the trust (up to five), as DfE's method."""
    groups_all = None
    rows = []
    for tr, (mem, yrs) in sorted(_trust_members(w, Y, y).items(), key=lambda kv: w.trusts["group_id"].iat[kv[0]]):
        ok = yrs >= 3
        if ok.sum() < 3:
            continue
        mem, yrs = mem[ok], np.minimum(yrs[ok], 5)
        if groups_all is None:  # every school's breakdowns, positions = school indices
            groups_all = _ks4_groups(w, Y, np.arange(len(w.s)))
        for topic, word, shown in (("Total", "Total", "Total"), ("Disadvantage status", "Disadvantaged",
                                                                  "Disadvantaged"),
                                   ("Disadvantage status", "Not known to be disadvantaged",
                                    "Not known to be disadvantaged")):
            g = groups_all[word]
            n = g["pupils"][mem]
            wt = n * yrs
            if wt.sum() <= 0:
                continue
            row = {**_trust_id(w, tr, y, version), "breakdown_topic": topic, "disadvantage_status": shown,
                   "pupil_count": str(int(n.sum()))}

            def weighted(v: np.ndarray, wt: np.ndarray = wt) -> float:
                return float(np.nansum(v * wt) / wt.sum())  # a school with none of the group has no mean for it

            row["attainment8_average_weighted"] = _f(weighted(g["att8"][mem]), 1)
            row["ebacc_aps_average_weighted"] = _f(weighted(g["aps"][mem]), 2)
            for col, src in (("engmath_95_percent_weighted", "b95"), ("ebacc_95_percent_weighted", "eb95"),
                             ("ebacc_94_percent_weighted", "eb94"), ("ebacc_entering_percent_weighted", "eb_entry")):
                row[col] = _f(weighted(100 * np.divide(g[src][mem], n, out=np.zeros(len(mem)), where=n > 0)), 1)
            n8 = g["p8pup"][mem]
            if y in world.P8_NOT_PUBLISHED or (n8 * yrs).sum() <= 0:
                row.update(dict.fromkeys(("progress8_pupil_percent", "progress8_average_weighted",
                                          "progress8_lower_95_ci", "progress8_upper_95_ci"), "z"))
            else:
                p8 = float(np.nansum(g["p8"][mem] * n8 * yrs) / (n8 * yrs).sum())
                half = 1.96 * world.P8_SIGMA / np.sqrt(n8.sum())
                row.update({"progress8_pupil_percent": _f(100 * n8.sum() / n.sum(), 1),
                            "progress8_average_weighted": _f(p8, 2), "progress8_lower_95_ci": _f(p8 - half, 2),
                            "progress8_upper_95_ci": _f(p8 + half, 2)})
            if y > world.EBACC_LAST:
                for col in ("ebacc_aps_average_weighted", "ebacc_95_percent_weighted", "ebacc_94_percent_weighted",
                            "ebacc_entering_percent_weighted"):
                    row[col] = "z"
            rows.append([row[h] for h in TRUST_RESULTS_HEADER])
    return _write_ees(path, TRUST_RESULTS_HEADER, rows, bare=_TRUST_BARE)


def write_trust_info(w: world._World, Y: pd.DataFrame, y: int, path: Path, version: str) -> Path | None:
    """DfE's trust information: for each trust with KS4 academies, the ones its measures count and all of them."""
    urn = world._urn_in(w, y)
    nftype = files._nftype_in(w, y)
    rows = []
    for tr, (mem, yrs) in sorted(_trust_members(w, Y, y).items(), key=lambda kv: w.trusts["group_id"].iat[kv[0]]):
        counted = yrs >= 3
        for label, sel in (("Included in MAT performance tables", counted if counted.sum() >= 3 else None),
                           ("All mainstream KS4 academies in MAT", np.ones(len(mem), dtype=bool))):
            if sel is None:
                continue
            m, yy = mem[sel], yrs[sel]
            Z = Y.iloc[m]
            n = float(Z["tpup"].sum())
            dis = float(Z["tdis"].sum())
            nor = float(Z["nor"].sum())
            row = {**_trust_id(w, tr, y, version), "academy_eligibility": label, "pupil_count": str(int(n)),
                   "disadvantaged_pupil_percent": _f(100 * dis / n, 0) if n else "z",
                   "not_disadvantaged_pupil_percent": _f(100 - 100 * dis / n, 0) if n else "z",
                   "ks2_scaledscore_average": "z",
                   "eal_pupil_percent": _f(100 * float(Z["eal"].sum()) / nor, 0) if nor else "z",
                   "sen_pupil_percent": _f(100 * float((Z["senk"] + Z["sene"]).sum()) / nor, 0) if nor else "z",
                   "urns": ";".join(str(u) for u in sorted(urn[m].tolist())),
                   "school_count": str(len(m)),
                   "converter_school_count": str(int(np.isin(nftype[m], ("ACC", "ACCS")).sum())),
                   "sponsored_school_count": str(int(np.isin(nftype[m], ("AC", "ACS")).sum())),
                   "free_school_count": str(int(np.isin(nftype[m], ("F", "FS")).sum())),
                   "studio_school_count": "0", "utc_school_count": "0",
                   "disadvantaged_school_count": str(int((Z["tdis"] > 0).sum())),
                   "years3_school_count": str(int((yy == 3).sum())), "years4_school_count": str(int((yy == 4).sum())),
                   "years5plus_school_count": str(int((yy >= 5).sum())), "progress8_banding": "z"}
            rows.append([row[h] for h in TRUST_INFO_HEADER])
    return _write_ees(path, TRUST_INFO_HEADER, rows)
