"""A synthetic England for the demo, written as DfE files and loaded through the project's own importers.

Everything here is invented: the places ("Fernthorpe", "Northbridge"), schools, trusts, heads, phone
numbers (Ofcom's drama ranges) and websites (``.example``). The *shapes* are England's: phases in national
proportions, towns that cluster, London dense and multilingual, deprived towns with more free school
meals, and outcomes that depend on context, a persistent school effect, a trend and noise, tuned to the
distributions and correlations in ``realdata/NATIONAL_SHAPES.md``.

England of 2021/22 to 2025/26 by default, with DfE's real gaps (no Progress 8 in 2024/25 and 2025/26, no KS2
progress in 2023/24 and 2024/25, no EBacc after 2024/25). The files copy the real downloads in their conventions
(see DESIGN.md, "Quirks"): performance tables in UTF-8 with BOM, CRLF and no final newline, RECTYPE rows, ``45%``
percentages, footer rows, ``"7,579"`` money, SUPP/NE/NA/NP/LOWCOV codes and ragged rows; GIAS in Windows-1252;
an EES census file with a ``trust`` column. From 2023/24 the school results are written as DfE publishes them now,
on Explore Education Statistics, with Ofsted's report cards, GIAS trust memberships and converters' predecessor
links (``data/demo/current.py``). Same seed, same bytes: nothing reads the clock.

``build_demo`` imports the files into a new store beside ``path`` and moves it into place only when
everything imported cleanly; then adds what no DfE file holds (partnerships, a trust's clusters,
local measures a group chose for itself).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from data.db.store import Store

DEFAULT_SCHOOLS = 2_000
DEFAULT_YEARS = 5
DEFAULT_SEED = 20261126
LATEST_START = 2025  # the latest period is 2025/26 (results published by December 2026); earlier years go back
FLAGSHIP_TOWN = "Northbridge"
FLAGSHIP_PARTNERSHIP = "Northbridge Learning Partnership"

Progress = Callable[[str, float], None]

# ---------------------------------------------------------------------------------------------- publication
# What DfE did not publish (keep it honest): no KS2 tests in 2019/20 and 2020/21; Progress 8 not calculated
# for 2019/20 and 2020/21 (no exams) nor for 2024/25 and 2025/26 (those pupils had no KS2 tests); KS2
# progress not calculated for 2023/24 and 2024/25 (no KS1 assessments in 2020 and 2021); the EBacc measures
# end with 2024/25 (the 2025/26 tables carry none).
NO_KS2_TESTS = frozenset({2019, 2020})
P8_NOT_PUBLISHED = frozenset({2019, 2020, 2024, 2025})
KS2_PROGRESS_NOT_PUBLISHED = frozenset({2019, 2020, 2023, 2024})
EBACC_LAST = 2024  # the last academic year (start) with EBacc measures

# National year effects (real direction and rough size): teacher-assessed grades in 2019/20-2020/21 lifted
# GCSE results, which fell back by 2022/23; KS2 dipped after the pandemic; absence rose and eased.
ATT8_SHIFT = {2019: 3.2, 2020: 6.3, 2021: 1.9, 2022: -0.6, 2023: -1.1, 2024: -1.1, 2025: -1.2}
BASICS_SHIFT = {2019: 6.5, 2020: 7.5, 2021: 4.3, 2022: 0.4, 2023: 0.4, 2024: -0.1, 2025: -0.3}
KS2_SHIFT = {2021: -6.0, 2022: -5.0, 2023: -4.0, 2024: -3.0, 2025: -2.5}
ABSENCE_FACTOR = {2020: 1.05, 2021: 1.25, 2022: 1.2, 2023: 1.15, 2024: 1.1, 2025: 1.08}
FSM_RATIO = {2018: 0.63, 2019: 0.70, 2020: 0.80, 2021: 0.84, 2022: 0.87, 2023: 0.90, 2024: 0.92, 2025: 0.93}
P8_SIGMA = 1.28  # national sd of pupil P8 scores: CI = P8 +/- 1.96 sigma / sqrt(pupils)

# ---------------------------------------------------------------------------------------------- geography
# name, GOR letter, ONS code, real LA count, share of schools, box (E0, E1, N0, N1) in OSGB36 metres,
# deprivation shift, EAL shift, share of LAs that are compact cities (the rest are counties)
_REGIONS = [
    ("North East", "A", "E12000001", 12, 0.053, (385_000, 465_000, 510_000, 600_000), 0.45, -0.5, 0.65),
    ("North West", "B", "E12000002", 24, 0.133, (333_000, 400_000, 372_000, 560_000), 0.35, 0.2, 0.6),
    ("Yorkshire and The Humber", "D", "E12000003", 15, 0.098, (405_000, 520_000, 400_000, 500_000), 0.3, 0.2,
     0.55),
    ("East Midlands", "E", "E12000004", 10, 0.088, (420_000, 545_000, 285_000, 395_000), 0.0, 0.0, 0.35),
    ("West Midlands", "F", "E12000005", 14, 0.105, (335_000, 430_000, 235_000, 340_000), 0.25, 0.5, 0.5),
    ("East of England", "G", "E12000006", 11, 0.105, (505_000, 615_000, 195_000, 320_000), -0.25, 0.0, 0.35),
    ("London", "H", "E12000007", 33, 0.116, (505_000, 555_000, 160_000, 200_000), 0.25, 1.7, 1.0),
    ("South East", "J", "E12000008", 19, 0.149, (420_000, 615_000, 105_000, 225_000), -0.4, 0.0, 0.4),
    ("South West", "K", "E12000009", 15, 0.102, (175_000, 405_000, 40_000, 230_000), -0.2, -0.6, 0.3),
]
_LONDON = 6
_LONDON_CENTRE = (530_500, 181_000)
_RSC = {"A": "North of England", "B": "North-West", "D": "North of England", "E": "East Midlands and the Humber",
        "F": "West Midlands", "G": "East of England", "H": "London", "J": "South-East England",
        "K": "South-West England"}

# ---------------------------------------------------------------------------------------------- names
# Invented place names: a plant/bird/stone word and an English ending. Known real places are dropped.
_PREFIXES = ["Amber", "Bramble", "Copper", "Elder", "Fern", "Heather", "Juniper", "Larch", "Marigold", "Nettle",
             "Rowan", "Sorrel", "Teasel", "Willow", "Yarrow", "Hazel", "Linden", "Bracken", "Cobble", "Thistle",
             "Foxglove", "Lark", "Wren", "Kestrel", "Heron", "Plover", "Merlin", "Moss", "Flint", "Slate", "Briar",
             "Clover", "Aspen", "Alder", "Hollin", "Ivy", "Sedge", "Tansy", "Primrose", "Bluebell", "Cinder",
             "Frost", "Silver", "Golden", "Swallow", "Falcon", "Otter", "Badger", "Quill", "Damson"]
_SUFFIXES = ["ton", "by", "wick", "bridge", "field", "ford", "ham", "mere", "stead", "dale", "combe", "hurst",
             "worth", "bury", "caster", "ley", "thorpe", "haven", "minster", "holme", "borough", "cote", "wold",
             "shaw"]
_REAL_PLACES = {"Ivybridge", "Silverdale", "Silverton", "Mossley", "Alderley", "Ottershaw", "Swallowfield",
                "Larkfield", "Flintham", "Fernham", "Alderton", "Alderbury", "Hazelbury", "Heronsgate", "Wrenbury",
                "Mossbury", "Goldenley", "Otterbury", "Sedgeford", "Sedgley", "Frostley", "Linton", "Clovelly",
                "Aspley", "Hollinwood", "Slateford", "Flintby", "Heatherton", "Willowfield", "Fernhurst",
                "Cinderford", "Alderholme", "Mossdale", "Ottermere", "Heronbridge", "Copperfield"}
_MODIFIERS = ["Great", "Little", "Upper", "Lower", "North", "South", "East", "West", "Long", "Nether", "Kings",
              "Church", "Market", "High"]
_FEATURES = ["Fields", "Park", "Green", "Hill", "Meadows", "Vale", "Brook", "Wood", "Grange", "Heath", "Lane",
             "Moor", "Gate", "Bank", "Common", "Cross", "Rise", "View", "Manor", "Valley"]
_STREETS = ["School Lane", "Church Street", "High Street", "Station Road", "Mill Lane", "Park Road", "Chapel Street",
            "The Green", "Victoria Road", "Manor Road", "Green Lane", "Queens Road", "North Road", "Grange Road",
            "Meadow Way", "Orchard Close", "Brook Street", "Hill Rise", "Moor Lane", "College Road"]
_FIRST = ["Alexandra", "Amelia", "Anita", "Catherine", "Chloé", "Claire", "David", "Deborah", "Emma", "Fatima",
          "Gareth", "Grace", "Hannah", "Helen", "Imran", "James", "Jennifer", "Joanne", "José", "Karen", "Laura",
          "Lucy", "Mark", "Martin", "Michael", "Nadia", "Nicola", "Oliver", "Patrick", "Priya", "Rachel", "Renée",
          "Richard", "Robert", "Rosa", "Sarah", "Seán", "Siân", "Simon", "Sophie", "Stephen", "Susan", "Thomas",
          "Victoria", "William", "Yusuf", "Zoë", "Kwame", "Aisha", "Daniel"]
_LAST = ["Allen", "Ahmed", "Bailey", "Baker", "Begum", "Bennett", "Brooks", "Campbell", "Carter", "Chapman",
         "Clarke", "Collins", "Cooper", "Davies", "Edwards", "Evans", "Fletcher", "Foster", "Green", "Griffiths",
         "Hall", "Harris", "Hill", "Hughes", "Hussain", "Jackson", "James", "Johnson", "Jones", "Kaur", "Khan",
         "King", "Lewis", "Marshall", "Martin", "Mason", "Mitchell", "Moore", "Morgan", "Morris", "Murphy",
         "Nowak", "Okafor", "Palmer", "Parker", "Patel", "Phillips", "Price", "Roberts", "Robinson", "Shaw",
         "Singh", "Smith", "Taylor", "Thomas", "Thompson", "Turner", "Walker", "Ward", "Watson", "White", "Wilson",
         "Wood", "Wright", "Young", "O'Brien"]
_TITLES = ["Mr", "Mrs", "Ms", "Miss", "Dr"]

# ---------------------------------------------------------------------------------------------- school types
PHASES = ("primary", "secondary", "all_through", "special", "alternative", "nursery")
PRI, SEC, ALL, SPE, AP, NUR = range(6)
_PHASE_P = (0.745, 0.155, 0.02, 0.045, 0.02, 0.015)
# NFTYPE -> (GIAS type name, GIAS type code, type group name, type group code)
_TYPES = {
    "CY": ("Community school", "01", "Local authority maintained schools", "4"),
    "VA": ("Voluntary aided school", "02", "Local authority maintained schools", "4"),
    "VC": ("Voluntary controlled school", "03", "Local authority maintained schools", "4"),
    "FD": ("Foundation school", "05", "Local authority maintained schools", "4"),
    "CYS": ("Community special school", "07", "Special schools", "5"),
    "FDS": ("Foundation special school", "12", "Special schools", "5"),
    "PRU": ("Pupil referral unit", "14", "Local authority maintained schools", "4"),
    "NUR": ("Local authority nursery school", "15", "Local authority maintained schools", "4"),
    "AC": ("Academy sponsor led", "28", "Academies", "10"),
    "ACC": ("Academy converter", "34", "Academies", "10"),
    "F": ("Free schools", "35", "Free Schools", "11"),
    "ACS": ("Academy special sponsor led", "36", "Academies", "10"),
    "ACCS": ("Academy special converter", "44", "Academies", "10"),
    "FS": ("Free schools special", "38", "Free Schools", "11"),
    "ACAP": ("Academy alternative provision sponsor led", "43", "Academies", "10"),
    "ACCAP": ("Academy alternative provision converter", "42", "Academies", "10"),
    "FAP": ("Free schools alternative provision", "39", "Free Schools", "11"),
}
_MAINTAINED = {PRI: (("CY", "VC", "VA", "FD"), (0.60, 0.18, 0.17, 0.05)),
               SEC: (("CY", "VA", "FD", "VC"), (0.55, 0.25, 0.15, 0.05)),
               ALL: (("CY", "VA"), (0.7, 0.3)),
               SPE: (("CYS", "FDS"), (0.9, 0.1)),
               AP: (("PRU",), (1.0,)),
               NUR: (("NUR",), (1.0,))}
_ACADEMY = {PRI: (("ACC", "AC", "F"), (0.70, 0.24, 0.06)),
            SEC: (("ACC", "AC", "F"), (0.62, 0.30, 0.08)),
            ALL: (("ACC", "AC", "F"), (0.5, 0.2, 0.3)),
            SPE: (("ACCS", "ACS", "FS"), (0.55, 0.25, 0.2)),
            AP: (("ACCAP", "ACAP", "FAP"), (0.45, 0.35, 0.2)),
            NUR: (("NUR",), (1.0,))}
_FREE = {PRI: "F", SEC: "F", ALL: "F", SPE: "FS", AP: "FAP", NUR: "NUR"}
_ACADEMY_P = {PRI: 0.37, SEC: 0.80, ALL: 0.70, SPE: 0.45, AP: 0.45, NUR: 0.0}
_CENSUS_TYPE = {PRI: "State-funded primary", SEC: "State-funded secondary", ALL: "State-funded secondary",
                SPE: "State-funded special school", AP: "State-funded AP school", NUR: "State-funded nursery"}
_GIAS_PHASE = {PRI: ("2", "Primary"), SEC: ("4", "Secondary"), ALL: ("7", "All-through"),
               SPE: ("0", "Not applicable"), AP: ("0", "Not applicable"), NUR: ("1", "Nursery")}
_CFR_MEDIAN = {PRI: "Primary", SEC: "Secondary with KS4", ALL: "Secondary with KS4", SPE: "Special",
               AP: "Pupil referral unit", NUR: "Nursery"}
_CFR_CODE = {PRI: "-PRI", SEC: "-SEC-WITH-KS4", ALL: "-SEC-WITH-KS4", SPE: "-SPE", AP: "-PRU", NUR: ""}
_FOOTER_PHASE = {PRI: "PRI", SEC: "SEC", ALL: "SEC", SPE: "SPE"}


# ---------------------------------------------------------------------------------------------- model maths


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _std(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


def _weights(corr_xx: list[list[float]], corr_xy: list[float]) -> tuple[np.ndarray, float]:
    """Regression weights giving a standardised outcome these correlations with standardised inputs."""
    beta = np.linalg.solve(np.array(corr_xx), np.array(corr_xy))
    return beta, float(np.array(corr_xy) @ beta)


# Correlations across secondary schools (NATIONAL_SHAPES.md). The latent targets are a little stronger than the
# published ones because cohort sampling and the logit scale of the percentages dilute what the files show;
# the observed correlations land near: FSM-P8 -0.38, EAL-P8 +0.25, FSM-Att8 -0.60, P8-Att8 0.80, absence-P8 -0.61.
_C3 = [[1, 0.41, 0.42], [0.41, 1, 0.02], [0.42, 0.02, 1]]  # %FSM, %EAL, %SEN
_P8_TARGET = [-0.41, 0.30, -0.30]
_ATT8_TARGET = [-0.66, 0.02, -0.52, 0.80]
_B_P8, _R2_P8 = _weights(_C3, _P8_TARGET)  # P8 on context
_C4 = [[*r, c] for r, c in zip(_C3, _P8_TARGET, strict=True)] + [[*_P8_TARGET, 1]]
_B_ATT8, _R2_ATT8 = _weights(_C4, _ATT8_TARGET)  # Att8 on context and P8
_C5 = [[*r, c] for r, c in zip(_C4, _ATT8_TARGET, strict=True)] + [[*_ATT8_TARGET, 1]]
_B_ABS, _R2_ABS = _weights(_C5, [0.5, -0.2, 0.3, -0.61, -0.62])  # absence on context, P8, Att8
# Primary: KS2 attainment and progress on context (assumed, in the same spirit).
_B_KS2, _R2_KS2 = _weights(_C3, [-0.62, 0.08, -0.40])
_B_PROG, _R2_PROG = _weights(_C3, [-0.20, 0.25, -0.10])


# ---------------------------------------------------------------------------------------------- the world


@dataclass
class _World:
    seed: int
    years: list[int]  # academic-year start years, oldest first
    las: pd.DataFrame
    towns: pd.DataFrame
    s: pd.DataFrame  # one row per school: everything that does not change by year
    trusts: pd.DataFrame
    feds: pd.DataFrame
    partnerships: list[dict]
    clusters: list[dict]
    flagship_town: int

    @property
    def latest(self) -> int:
        return self.years[-1]


def _cols(df: pd.DataFrame) -> dict[str, list]:
    """Columns as Python lists: row-by-row loops over a DataFrame with .iloc are a hundred times slower."""
    return {c: df[c].tolist() for c in df.columns}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _period(y: int) -> str:
    return f"{y}/{(y + 1) % 100:02d}"


def _folder(y: int) -> str:
    return f"{y}-{y + 1}"


class _NamePool:
    """Invented place names, each used once (villages add a modifier, so the pool never runs dry)."""

    def __init__(self, rng: np.random.Generator) -> None:
        names = [p + s for p in _PREFIXES for s in _SUFFIXES]
        names = [n for n in names if n not in _REAL_PLACES and n != FLAGSHIP_TOWN]
        self._plain = [names[i] for i in rng.permutation(len(names))]
        self._i = 0
        self._rng = rng
        self._counties = [p + "shire" for p in _PREFIXES if p not in ("Flint",)]  # Flintshire is real
        self._counties = [self._counties[i] for i in rng.permutation(len(self._counties))]
        self._c = 0

    def place(self) -> str:
        name = self._plain[self._i % len(self._plain)]
        self._i += 1
        return name

    def county(self) -> str:
        name = self._counties[self._c % len(self._counties)]
        if self._c >= len(self._counties):
            name = f"{_MODIFIERS[4 + self._c // len(self._counties) % 4]} {name}"
        self._c += 1
        return name

    def village(self) -> str:
        base = self._plain[int(self._rng.integers(len(self._plain)))]
        return f"{_MODIFIERS[int(self._rng.integers(len(_MODIFIERS)))]} {base}"


def _allocate(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split `total` in proportion to `weights` (largest remainder), each part at least `minimum`."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    spare = total - minimum * len(w)
    raw = w * max(spare, 0)
    out = np.floor(raw).astype(int)
    rest = max(spare, 0) - int(out.sum())
    if rest > 0:
        out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out + minimum


def _region_points(rng: np.random.Generator, ri: int, k: int) -> np.ndarray:
    """Candidate LA centres inside a region's rough outline."""
    e0, e1, n0, n1 = _REGIONS[ri][5]
    if ri == _LONDON:
        r = 15_000 * np.sqrt(rng.random(k))
        a = rng.random(k) * 2 * np.pi
        return np.c_[_LONDON_CENTRE[0] + r * np.cos(a), _LONDON_CENTRE[1] + 0.8 * r * np.sin(a)]
    if _REGIONS[ri][0] == "South West":  # a diagonal peninsula, Cornwall to Wiltshire
        e = rng.uniform(e0, e1, k)
        return np.c_[e, 55_000 + (e - e0) * 0.55 + rng.uniform(-30_000, 30_000, k)]
    pts = np.c_[rng.uniform(e0, e1, 4 * k), rng.uniform(n0, n1, 4 * k)]
    if _REGIONS[ri][0] in ("South East", "East of England"):  # London is its own region
        far = np.hypot(pts[:, 0] - _LONDON_CENTRE[0], pts[:, 1] - _LONDON_CENTRE[1]) > 28_000
        pts = pts[far]
    return pts[:k]


def _make_geography(rng: np.random.Generator, n_schools: int, names: _NamePool) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_la = int(np.clip(round(n_schools / 13), 9, 152))
    counts = _allocate(n_la, np.array([r[3] for r in _REGIONS], dtype=float), minimum=1)
    las, towns = [], []
    code_next = 301
    for ri, reg in enumerate(_REGIONS):
        centres: list[np.ndarray] = []
        for j in range(counts[ri]):
            cands = _region_points(rng, ri, 12)
            if centres:  # spread LAs out: the candidate farthest from those placed
                d = np.min(np.hypot(cands[:, None, 0] - np.array(centres)[None, :, 0],
                                    cands[:, None, 1] - np.array(centres)[None, :, 1]), axis=1)
                c = cands[int(np.argmax(d))]
            else:
                c = cands[0]
            centres.append(c)
            if ri == _LONDON:
                kind, code = "london", 201 + j
            else:
                kind = "city" if rng.random() < reg[8] else "county"
                code, code_next = code_next, code_next + 1
            if kind == "county":
                name = names.county()
            else:
                name = names.place()
            radius = {"london": 3_500.0, "city": 6_000.0}.get(kind, float(rng.uniform(12_000, 22_000)))
            weight = {"london": 1.0, "city": 1.3, "county": 2.2}[kind] * float(rng.lognormal(0, 0.25))
            dep = reg[6] + float(rng.normal(0, 0.45)) + {"london": 0.1, "city": 0.3, "county": -0.25}[kind]
            eal = reg[7] + float(rng.normal(0, 0.4)) + {"london": 0.3, "city": 0.5, "county": -0.5}[kind]
            gss = {"london": "E09", "city": "E08" if reg[8] >= 0.5 else "E06", "county": "E10"}[kind]
            las.append(dict(la_code=code, la_name=name, region=ri, kind=kind, e=float(c[0]), n=float(c[1]),
                            radius=radius, weight=weight, dep=dep, eal=eal, gss=f"{gss}000{900 + len(las)}",
                            rural_share={"london": 0.0, "city": 0.05, "county": 0.45}[kind]))
            la = len(las) - 1
            if kind == "london":
                n_towns, main_w = 2, 0.6
            elif kind == "city":
                n_towns, main_w = int(rng.integers(2, 4)), 0.75
            else:
                n_towns, main_w = int(rng.integers(3, 7)), 0.35
            other = rng.dirichlet(np.full(n_towns - 1, 2.0)) * (1 - main_w) if n_towns > 1 else np.array([])
            for t, w in enumerate([main_w, *other]):
                main = t == 0
                tname = name if (main and kind == "city") else names.place()
                spread = 0.15 if main and kind != "county" else 0.6
                te = c[0] + rng.normal(0, spread * radius)
                tn = c[1] + rng.normal(0, spread * radius)
                urban = ("Urban major conurbation" if kind == "london" or (kind == "city" and main and reg[8] >= 0.5)
                         else "Urban city and town")
                towns.append(dict(la=la, name=tname, e=float(te), n=float(tn), weight=float(w),
                                  radius=float((2_600 if main else 1_600) * (1.4 if kind == "city" and main else 1)),
                                  dep=dep + float(rng.normal(0, 0.35)) + (0.2 if main else 0.0),
                                  eal=eal + float(rng.normal(0, 0.3)) + (0.3 if main else 0.0),
                                  urban=urban, main=main))
    las_df = pd.DataFrame(las)
    towns_df = pd.DataFrame(towns)
    towns_df["district"] = towns_df.groupby(las_df["region"].to_numpy()[towns_df["la"]]).cumcount() % 98 + 1
    return las_df, towns_df


def _choice(rng: np.random.Generator, options: Sequence[str], p: Sequence[float], k: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=k, p=np.asarray(p) / np.sum(p))]


def _place_schools(rng: np.random.Generator, n: int, las: pd.DataFrame, towns: pd.DataFrame,
                   years: list[int]) -> pd.DataFrame:
    """Where every school is, what it is, and its persistent character (context and school effects)."""
    region_share = np.array([r[4] for r in _REGIONS])
    la_w = las["weight"].to_numpy() * region_share[las["region"]] / las.groupby("region")["weight"].transform(
        "sum").to_numpy()
    per_la = _allocate(n, la_w, minimum=1 if n >= 2 * len(las) else 0)
    la_idx = np.repeat(np.arange(len(las)), per_la)
    n = len(la_idx)
    phase = rng.choice(6, size=n, p=_PHASE_P)
    rural = (phase == PRI) & (rng.random(n) < las["rural_share"].to_numpy()[la_idx] * 1.05)
    town = np.full(n, -1)
    for la in range(len(las)):
        idx = np.flatnonzero((la_idx == la) & ~rural)
        tids = np.flatnonzero(towns["la"].to_numpy() == la)
        w = towns["weight"].to_numpy()[tids]
        town[idx] = rng.choice(tids, size=len(idx), p=w / w.sum())
    la_e, la_n, la_r = (las[c].to_numpy()[la_idx] for c in ("e", "n", "radius"))
    t = np.where(town >= 0, town, 0)
    e = np.where(rural, la_e + rng.normal(0, 0.7, n) * la_r, towns["e"].to_numpy()[t] + rng.normal(0, 1, n)
                 * towns["radius"].to_numpy()[t])
    nn = np.where(rural, la_n + rng.normal(0, 0.7, n) * la_r, towns["n"].to_numpy()[t] + rng.normal(0, 1, n)
                  * towns["radius"].to_numpy()[t])
    boxes = np.array([r[5] for r in _REGIONS], dtype=float)[las["region"].to_numpy()[la_idx]]
    e = np.clip(e, np.maximum(boxes[:, 0] - 12_000, 145_000), np.minimum(boxes[:, 1] + 12_000, 640_000)).round()
    nn = np.clip(nn, np.maximum(boxes[:, 2] - 12_000, 25_000), np.minimum(boxes[:, 3] + 12_000, 640_000)).round()

    # Context: deprivation and language follow place (town > LA > region); SEN follows deprivation.
    dep_place = np.where(rural, las["dep"].to_numpy()[la_idx] - 0.5, towns["dep"].to_numpy()[t])
    zf = _std(dep_place + rng.normal(0, 0.55, n))
    eal_place = np.where(rural, las["eal"].to_numpy()[la_idx] - 0.8, towns["eal"].to_numpy()[t])
    w_eal = _std(eal_place + rng.normal(0, 0.55, n))
    ze = _std(0.18 * zf + 0.95 * w_eal)
    zs = _std(0.6 * zf - 0.2 * w_eal + 0.77 * rng.standard_normal(n))
    phase_fsm = np.select([phase == SPE, phase == AP], [0.9, 1.3], 0.0)

    s = pd.DataFrame({"la": la_idx, "town": town, "rural": rural, "phase": phase, "e": e, "n": nn,
                      "zf": zf, "ze": ze, "zs": zs})
    s["urban"] = np.where(rural, _choice(rng, ["Rural village", "Rural town and fringe",
                                               "Rural hamlet and isolated dwellings"], (0.6, 0.3, 0.1), n),
                          towns["urban"].to_numpy()[t])
    s["fsm_logit"] = -1.35 + 1.06 * zf + phase_fsm
    s["eal_logit"] = -2.62 + 1.9 * ze - 0.3 * (phase == SPE)
    s["senk_logit"] = -2.05 + 0.62 * zs + np.select([phase == SPE, phase == AP, phase == NUR], [-2.0, 1.3, -0.6], 0)
    s["ehcp_logit"] = -4.33 + 1.18 * (0.5 * zs + 0.87 * rng.standard_normal(n)) + np.select(
        [phase == SPE, phase == AP], [7.8, 1.6], 0)

    # Types: academies by phase (secondaries mostly academies), a few new free schools, a few closures.
    academy = rng.random(n) < np.vectorize(_ACADEMY_P.get)(phase)
    nftype = np.empty(n, dtype=object)
    for ph in range(6):
        m = (phase == ph) & ~academy
        nftype[m] = _choice(rng, *_MAINTAINED[ph], int(m.sum()))
        m = (phase == ph) & academy
        nftype[m] = _choice(rng, *_ACADEMY[ph], int(m.sum()))
    open_year = np.zeros(n, dtype=int)  # 0: opened long before the window
    close_year = np.full(n, 9999)
    if len(years) >= 2:
        cand = np.flatnonzero(np.isin(phase, (PRI, SEC, SPE)) & ~rural)
        new = rng.choice(cand, size=max(2, round(0.012 * n)), replace=False)
        if not (phase[new] == SEC).any() and (phase == SEC).any():
            new[0] = rng.choice(np.flatnonzero(phase == SEC))  # a new secondary: ragged KS4 rows until year 11
        open_year[new] = rng.integers(years[1], years[-1] + 1, size=len(new))
        if (phase[new] == SEC).any():  # the first new secondary opens in the window's second year
            open_year[new[np.flatnonzero(phase[new] == SEC)[0]]] = years[1]
        academy[new] = True
        nftype[new] = [_FREE[p] for p in phase[new]]
        cand = np.flatnonzero((phase == PRI) & ~academy & (open_year == 0))
        shut = rng.choice(cand, size=min(len(cand), max(1, round(0.008 * n))), replace=False)
        close_year[shut] = rng.integers(years[0], years[-2] + 1, size=len(shut))
    s["academy"], s["nftype"], s["open_year"], s["close_year"] = academy, nftype, open_year, close_year
    relig = np.full(n, "Does not apply", dtype=object)
    r = rng.random(n)
    relig[nftype == "VC"] = "Church of England"
    va = nftype == "VA"
    relig[va] = np.where(r[va] < 0.45, "Church of England", "Roman Catholic")
    ac = np.isin(nftype, ("ACC", "AC")) & np.isin(phase, (PRI, SEC))
    relig[ac & (r < 0.18)] = "Church of England"
    relig[ac & (r >= 0.18) & (r < 0.26)] = "Roman Catholic"
    s["religion"] = relig

    # Sizes and ages.
    sub = np.where(phase == PRI, rng.choice(3, size=n, p=(0.85, 0.08, 0.07)), 0)  # primary / infant / junior
    s["subtype"] = sub
    base = np.select(
        [phase == PRI, phase == SEC, phase == ALL, phase == SPE, phase == AP, phase == NUR],
        [np.where(rural, rng.lognormal(np.log(105), 0.45, n), rng.lognormal(np.log(300), 0.36, n))
         * np.where(sub > 0, 0.6, 1.0),
         rng.lognormal(np.log(980), 0.36, n), rng.lognormal(np.log(1350), 0.33, n),
         rng.lognormal(np.log(110), 0.5, n), rng.lognormal(np.log(45), 0.6, n), rng.lognormal(np.log(90), 0.35, n)])
    sixth = (phase == SEC) & (rng.random(n) < 0.6)
    s["nor_base"] = np.maximum(base * np.where(sixth, 1.15, 1.0), 12)
    s["growth"] = rng.normal(np.where(phase == PRI, -0.008, 0.008), 0.02)
    s["sixth"] = sixth
    spe_ages = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))  # 2-19, 4-11, 11-19
    age_low = np.select([phase == PRI, phase == SEC, phase == ALL, phase == SPE, phase == AP, phase == NUR],
                        [np.where(sub == 2, 7, np.where(rng.random(n) < 0.6, 3, 4)), 11, 4,
                         np.array([2, 4, 11])[spe_ages], 11, 2])
    age_high = np.select([phase == PRI, phase == SEC, phase == ALL, phase == SPE, phase == AP, phase == NUR],
                         [np.where(sub == 1, 7, 11), np.where(sixth, 18, 16), 18, np.array([19, 11, 19])[spe_ages],
                          16, 5])
    s["age_low"], s["age_high"] = age_low, age_high
    s["has_ks2"] = (age_low <= 10) & (age_high >= 11) & (phase != AP)
    s["has_ks4"] = (age_high >= 16) & np.isin(phase, (SEC, ALL, SPE))
    s["y6_share"] = np.select([phase == PRI, phase == ALL, phase == SPE], [np.where(sub == 2, 0.25, 0.135), 0.075,
                                                                          0.07], 0) * rng.normal(1, 0.06, n)
    s["y11_share"] = np.select([phase == SEC, phase == ALL, phase == SPE],
                               [np.where(sixth, 0.14, 0.175), 0.075, 0.1], 0) * rng.normal(1, 0.05, n)

    # Persistent school effects (leadership, culture, policy) and a slow trend; a few schools slip.
    s["u"] = rng.standard_normal(n)
    s["v"] = rng.standard_normal(n)
    s["trend"] = np.where(rng.random(n) < 0.03, -0.3, rng.normal(0, 0.06, n))
    s["ebacc_policy"] = rng.standard_normal(n)
    s["abs_u"] = rng.standard_normal(n)
    s["staff_u"] = rng.standard_normal(n)
    s["fin_u"] = rng.standard_normal(n)
    s["ks4_ne"] = (phase == SPE) & (rng.random(n) < 0.35)
    s["dest_u"] = rng.standard_normal(n)
    return s


def _choose_flagship(s: pd.DataFrame, las: pd.DataFrame, towns: pd.DataFrame, latest: int) -> int:
    """The partnership's town: the biggest non-London town with a secondary and primaries."""
    open_now = (s["open_year"] <= latest) & (s["close_year"] >= latest) & (s["town"] >= 0)
    g = s[open_now].groupby("town")
    sizes = g.size()
    secs = g["phase"].apply(lambda p: int(np.isin(p, (SEC, ALL)).sum()))
    prims = g["phase"].apply(lambda p: int((p == PRI).sum()))
    not_london = las["region"].to_numpy()[towns["la"].to_numpy()[sizes.index]] != _LONDON
    score = (sizes + 2 * np.minimum(secs, 3)).where(not_london & (secs >= 1) & (prims >= 2), -100)
    return int(score.idxmax())


def _nearest(e: np.ndarray, n: np.ndarray, pool: np.ndarray, seed_i: int, k: int) -> np.ndarray:
    """The k schools of `pool` nearest to `seed_i`, nearest first (ties by position, so deterministic)."""
    d = np.hypot(e[pool] - e[seed_i], n[pool] - n[seed_i])
    k = min(k, len(pool))
    if k < len(pool):
        part = np.argpartition(d, k - 1)[:k]
        return pool[part[np.lexsort((part, d[part]))]]
    return pool[np.lexsort((np.arange(len(pool)), d))]


def _date(y: int, m: int, d: int = 1) -> str:
    return f"{y:04d}-{m:02d}-{d:02d}"


def _next_month(iso: str) -> str:
    y, m = int(iso[:4]), int(iso[5:7])
    return _date(y + (m == 12), m % 12 + 1)


def _make_groups(rng: np.random.Generator, w: _World) -> None:
    """Trusts (MATs and single-academy trusts) and federations, with incorporation and joining dates."""
    s, towns, years = w.s, w.towns, w.years
    S, TN, LAN = _cols(s), towns["name"].tolist(), w.las["la_name"].tolist()
    n = len(s)
    e, nn = s["e"].to_numpy(), s["n"].to_numpy()
    region = w.las["region"].to_numpy()[s["la"].to_numpy()]
    closed = s["close_year"].to_numpy() < 9999
    academy = s["academy"].to_numpy() & ~closed
    phase = s["phase"].to_numpy()
    trust = np.full(n, -1)
    join = np.full(n, "", dtype=object)
    sat = academy & (rng.random(n) < np.where(phase == SEC, 0.2, 0.04)) & (s["open_year"].to_numpy() == 0)
    pool = np.flatnonzero(academy & ~sat)
    rows: list[dict] = []
    used_names: set[str] = set()

    def name_for(seed_i: int, big: bool) -> str:
        tname = TN[S["town"][seed_i]] if S["town"][seed_i] >= 0 else LAN[S["la"][seed_i]]
        if tname == FLAGSHIP_TOWN:  # keep "Northbridge" for the partnership: name the trust for a neighbour
            tname = next(TN[k] for k in np.flatnonzero(towns["la"].to_numpy() == S["la"][seed_i])
                         if TN[k] != FLAGSHIP_TOWN)
        suffixes = (["Schools Trust", "Education Trust", "Learning Trust"] if big else
                    ["Learning Trust", "Academy Trust", "Multi Academy Trust", "Schools Trust", "Education Trust",
                     "Family of Schools", "Partnership Trust", "Collaborative Learning Trust"])
        if S["religion"][seed_i] == "Roman Catholic":
            suffixes = ["Catholic Academy Trust", "Catholic Schools Partnership"] + suffixes
        elif S["religion"][seed_i] == "Church of England":
            suffixes = ["Diocesan Academy Trust", "Church Schools Trust"] + suffixes
        for suf in suffixes:
            cand = f"{tname} {suf}".upper()
            if cand not in used_names:
                used_names.add(cand)
                return cand
        cand = f"{tname} {LAN[S['la'][seed_i]]} Trust {len(used_names)}".upper()
        used_names.add(cand)
        return cand

    # Sizes: a few large trusts (one spanning several regions), then mostly 2-10.
    n_pool = len(pool)
    n_large = max(1, round(n_pool / 400))
    sizes = [int(min(rng.integers(30, 61), max(15, round(0.1 * n_pool)))) for _ in range(n_large)]
    sizes[0] = max(sizes)
    while sum(sizes) < n_pool:
        r = rng.random()
        sizes.append(int(rng.integers(2, 6) if r < 0.6 else rng.integers(6, 11) if r < 0.88 else
                         rng.integers(11, 21) if r < 0.98 else rng.integers(21, 30)))
    free = np.ones(n, dtype=bool)
    free[~np.isin(np.arange(n), pool)] = False
    first_year = years[0]
    for ti, size in enumerate(sizes):
        left = np.flatnonzero(free)
        if len(left) == 0:
            break
        if ti == 0 and size >= 12:  # the national trust: three regional hubs
            hubs = []
            seed0 = int(rng.choice(left))
            hubs.append(seed0)
            for _ in range(2):
                others = left[~np.isin(region[left], region[hubs])]
                if len(others):
                    hubs.append(int(rng.choice(others)))
            members = []
            for h, k in zip(hubs, _allocate(size, np.ones(len(hubs))), strict=True):
                pick = _nearest(e, nn, np.flatnonzero(free), h, int(k))
                free[pick] = False
                members.extend(pick.tolist())
            members_a = np.array(members)
            seed_i = seed0
        else:
            seed_i = int(rng.choice(left))
            members_a = _nearest(e, nn, left, seed_i, size)
            if len(members_a) < 2:  # a straggler joins the nearest trust
                near = np.flatnonzero(trust >= 0)
                if len(near):
                    j = _nearest(e, nn, near, seed_i, 1)[0]
                    trust[seed_i] = trust[j]
                    join[seed_i] = max(_date(years[-1], 4), _next_month(rows[trust[j]]["incorporated"]))
                    free[seed_i] = False
                    continue
        free[members_a] = False
        new_trust = rng.random() < 0.1 and ti > 0
        inc_year = int(rng.integers(first_year, years[-1] + 1)) if new_trust else int(
            rng.integers(2011, 2015) if size >= 30 else rng.integers(2011, max(2012, first_year)))
        inc = _date(inc_year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        tid = len(rows)
        for i in members_a:
            trust[i] = tid
            oy = int(S["open_year"][i])
            if oy:
                join[i] = _date(max(oy, inc_year), 9)
            elif new_trust or rng.random() < 0.15:  # joined during the window
                jy = int(rng.integers(max(inc_year, first_year), years[-1] + 1))
                join[i] = _date(jy, int(rng.choice([1, 4, 9])))
            else:
                jy = int(rng.integers(inc_year, max(inc_year + 1, first_year)))
                join[i] = _date(jy, int(rng.choice([1, 4, 9, 12])))
            if join[i] < inc:  # a school joins on the first of a month, after the trust exists
                join[i] = _next_month(inc)
        rows.append(dict(kind="mat", name=name_for(seed_i, size >= 30), seed=seed_i, incorporated=inc,
                         size=len(members_a)))
    for i in np.flatnonzero(sat):
        inc_year = int(rng.integers(2011, max(2012, first_year)))
        inc = _date(inc_year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        trust[i], join[i] = len(rows), _next_month(inc)
        nm = f"{S['name'][i].upper()} TRUST"  # a single-academy trust is named for its school
        used_names.add(nm)
        rows.append(dict(kind="sat", name=nm, seed=int(i), incorporated=inc, size=1))
    trusts = pd.DataFrame(rows)
    k = len(trusts)
    trusts["uid"] = 5001 + np.arange(k)
    trusts["group_id"] = [f"TR9{i:04d}" for i in range(1, k + 1)]
    trusts["companies_house"] = (19_000_000 + rng.choice(900_000, size=k, replace=False)).astype(str)
    trusts["ukprn"] = (19_990_000 + np.arange(k)).astype(str)
    trusts["head_first"] = _choice(rng, _FIRST, np.ones(len(_FIRST)), k)
    trusts["head_last"] = _choice(rng, _LAST, np.ones(len(_LAST)), k)
    s["trust"], s["join"] = trust, join

    # Federations: two to four nearby maintained schools, mostly small primaries.
    fed = np.full(n, -1)
    fjoin = np.full(n, "", dtype=object)
    maint = np.flatnonzero(~s["academy"].to_numpy() & ~closed & np.isin(phase, (PRI, NUR, SPE)))
    free = np.zeros(n, dtype=bool)
    free[maint] = True
    target = round(0.09 * len(maint))
    feds: list[dict] = []
    in_feds = 0
    order = rng.permutation(maint)
    for seed_i in order:
        if in_feds >= target:
            break
        if not free[seed_i]:
            continue
        size = int(rng.choice([2, 3, 4], p=[0.5, 0.35, 0.15]))
        cand = np.flatnonzero(free)
        members = _nearest(e, nn, cand, seed_i, size)
        members = members[np.hypot(e[members] - e[seed_i], nn[members] - nn[seed_i]) < 15_000]
        if len(members) < 2:
            free[seed_i] = False
            continue
        free[members] = False
        oy = int(rng.integers(2008, years[-1] + 1))
        opened = _date(oy, int(rng.choice([1, 4, 9])))
        for i in members:
            fed[i], fjoin[i] = len(feds), opened
        places = []
        for i in members:
            p = TN[S["town"][i]] if S["town"][i] >= 0 else None
            if p and p not in places:
                places.append(p)
        label = " and ".join(places[:2]) if places else LAN[S["la"][seed_i]]
        fname = f"The {label} Federation" if rng.random() < 0.5 else f"The Federation of {label} Schools"
        feds.append(dict(name=f"{fname} ({len(feds) + 1})" if any(f["name"] == fname for f in feds) else fname,
                         opened=opened, seed=int(seed_i), size=len(members)))
        in_feds += len(members)
    w.feds = pd.DataFrame(feds, columns=["name", "opened", "seed", "size"])
    w.feds["uid"] = 17001 + np.arange(len(w.feds))
    s["fed"], s["fed_join"] = fed, fjoin
    w.trusts = trusts


def _name_schools(rng: np.random.Generator, w: _World) -> None:
    """Names, addresses, heads, phones, websites: all plainly invented."""
    s, las, towns = w.s, w.las, w.towns
    S, TN = _cols(s), towns["name"].tolist()
    n = len(s)
    la_names = las["la_name"].to_numpy()
    london = las["region"].to_numpy()[s["la"].to_numpy()] == _LONDON
    town = s["town"].to_numpy()
    names = _NamePool(rng)
    place = np.empty(n, dtype=object)
    village = np.empty(n, dtype=object)
    for i in range(n):
        if town[i] >= 0:
            place[i] = TN[town[i]]
            village[i] = ""
        else:
            v = names.village()
            place[i], village[i] = v, v
    phase, sub, nftype, relig = (s[c].to_numpy() for c in ("phase", "subtype", "nftype", "religion"))
    feats = rng.integers(len(_FEATURES), size=n)
    pattern = rng.random(n)
    out = np.empty(n, dtype=object)
    used: set[str] = set()
    for i in range(n):
        p = place[i]
        academy = nftype[i] in ("ACC", "AC", "F", "ACCS", "ACS", "FS", "ACCAP", "ACAP", "FAP")
        faith = {"Church of England": " Church of England", "Roman Catholic": " Catholic"}.get(relig[i], "")
        for attempt in range(len(_FEATURES) + 1):
            f = _FEATURES[(feats[i] + attempt) % len(_FEATURES)]
            plain = attempt == 0 and pattern[i] < 0.35
            ph = phase[i]
            if ph == PRI:
                kind = ("Infant School", "Junior School")[sub[i] - 1] if sub[i] else (
                    "Primary Academy" if academy and pattern[i] < 0.6 else "Primary School")
                name = f"{p}{faith} {kind}" if (plain or faith) and attempt == 0 else f"{p} {f}{faith} {kind}"
            elif ph == SEC:
                kind = ("Academy" if academy and pattern[i] < 0.5 else "High School" if pattern[i] < 0.7 else
                        "Community College" if pattern[i] < 0.85 else "School")
                name = f"{p}{faith} {kind}" if attempt == 0 else f"{p} {f}{faith} {kind}"
            elif ph == ALL:
                name = f"{p} All-Through School" if attempt == 0 else f"{p} {f} Academy"
            elif ph == SPE:
                name = f"{p} {f} {'Academy' if academy else 'School'}"
            elif ph == AP:
                name = (f"{p} Alternative Provision Academy" if academy else f"{p} Pupil Referral Unit") \
                    if attempt == 0 else f"{p} {f} Learning Centre"
            else:
                name = f"{p} Nursery School" if attempt == 0 else f"{p} {f} Nursery School"
            if name not in used:
                break
        else:
            name = f"{name} ({i})"
        used.add(name)
        out[i] = name
    s["name"] = out
    s["village"] = village
    s["town_name"] = np.where(london, "London", place)
    s["locality"] = np.where(london, [TN[t] if t >= 0 else "" for t in town], village)
    s["street"] = [f"{int(k)} {_STREETS[j]}" if k else _STREETS[j]
                   for k, j in zip(rng.integers(0, 120, n) * (rng.random(n) < 0.3), rng.integers(len(_STREETS), size=n),
                                   strict=True)]
    region = las["region"].to_numpy()[s["la"].to_numpy()]
    district = np.where(town >= 0, towns["district"].to_numpy()[np.maximum(town, 0)], 99)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    s["postcode"] = [f"Q{'ABDEFGHJK'[r]}{d} {u}{letters[a]}{letters[b]}" for r, d, u, a, b in zip(
        region, district, rng.integers(1, 10, n), rng.integers(20, size=n), rng.integers(20, size=n), strict=True)]
    # Ofcom's numbers for drama: 020 7946 0xxx in London, 01632 960xxx elsewhere
    s["phone"] = np.where(london, [f"02079460{k:03d}" for k in rng.integers(1000, size=n)],
                          [f"01632960{k:03d}" for k in rng.integers(1000, size=n)])
    slug = [re.sub(r"[^a-z0-9]", "", nm.lower().replace("school", "").replace("church of england", "ce"))
            for nm in out]
    s["website"] = np.where(rng.random(n) < 0.95, [f"www.{x}.example" for x in slug], "")
    s["head_title"] = _choice(rng, _TITLES, (0.34, 0.3, 0.2, 0.1, 0.06), n)
    s["head_first"] = _choice(rng, _FIRST, np.ones(len(_FIRST)), n)
    s["head_last"] = _choice(rng, _LAST, np.ones(len(_LAST)), n)
    s.loc[0, "head_first"] = "Zoë"  # at least one name that needs Windows-1252, as in the real extract
    s["la_name"] = la_names[s["la"].to_numpy()]
    s["la_code"] = las["la_code"].to_numpy()[s["la"].to_numpy()]
    # URNs: unique, sorted by nothing in particular; new schools get the high numbers new URNs have.
    urn = 100_000 + rng.choice(49_000, size=n, replace=False)
    new = s["open_year"].to_numpy() > 0
    urn[new] = 150_000 + rng.choice(2_000, size=int(new.sum()), replace=False)
    s["urn"] = urn
    # Establishment numbers: phase bands within each LA, as LAs number them.
    band = np.select([phase == NUR, phase == AP, phase == PRI, np.isin(phase, (SEC, ALL)), phase == SPE],
                     [1000, 1100, 2000, 4000, 7000], 6000) + np.where(np.isin(nftype, ("VA", "VC")), 1000, 0) * \
        (phase == PRI)
    order = np.lexsort((urn, band, s["la"].to_numpy()))
    estab = np.empty(n, dtype=int)
    counter: dict[tuple[int, int], int] = {}
    for i in order:
        key = (int(S["la"][i]), int(band[i]))
        counter[key] = counter.get(key, 0) + 1
        estab[i] = band[i] + counter[key]
    s["estab"] = estab


def _make_partnerships(rng: np.random.Generator, w: _World) -> None:
    """Partnerships across trust lines in one town (the flagship first), and clusters inside big trusts."""
    s, towns, latest = w.s, w.towns, w.latest
    S, TN = _cols(s), towns["name"].tolist()
    open_now = (s["open_year"] <= latest) & (s["close_year"] >= latest)
    trust = s["trust"].to_numpy()
    phase = s["phase"].to_numpy()

    def pick(cands: np.ndarray, k: int, want_secondary: bool) -> list[int]:
        """Round-robin over governance (each trust, and schools outside trusts) so the group crosses lines."""
        cands = cands[rng.permutation(len(cands))]
        chosen: list[int] = []
        if want_secondary:
            secs = [int(i) for i in cands if phase[i] in (SEC, ALL)][:3]
            chosen.extend(secs)
        by_cat: dict[int, list[int]] = {}
        for i in cands:
            if int(i) not in chosen:
                by_cat.setdefault(int(trust[i]), []).append(int(i))
        cats = sorted(by_cat, key=lambda c: (c != -1, c))
        while len(chosen) < k and any(by_cat.values()):
            for c in cats:
                if by_cat[c] and len(chosen) < k:
                    chosen.append(by_cat[c].pop(0))
        return chosen

    parts: list[dict] = []
    ft = w.flagship_town
    cands = np.flatnonzero(open_now & (s["town"] == ft))
    if len(cands) < 8:  # a small build: widen to the town's LA
        la = int(towns["la"].to_numpy()[ft])
        extra = np.flatnonzero(open_now & (s["la"] == la) & (s["town"] != ft))
        cands = np.concatenate([cands, extra[:8 - len(cands)]])
    members = pick(cands, 10, want_secondary=True)
    starts = ["2019-09-01"] * len(members)
    if len(members) > 6 and len(w.years) >= 3:
        starts[-1] = _date(w.years[-2], 9)
        starts[-2] = _date(w.years[1], 9)
    parts.append(dict(name=FLAGSHIP_PARTNERSHIP, members=members, starts=starts, ends=[None] * len(members),
                      flagship=True))
    # Others: towns with several schools, named for the town.
    counts = s[open_now & (s["town"] >= 0)].groupby("town").size()
    eligible = [int(t) for t in counts.index if counts[t] >= 5 and t != ft]
    n_part = max(1, round(len(s) / 150))
    kinds = ["Learning Partnership", "Schools Collaborative", "Education Partnership", "Schools Alliance"]
    for t in rng.permutation(eligible)[:n_part]:
        cands = np.flatnonzero(open_now & (s["town"] == t))
        k = int(rng.integers(3, min(12, len(cands)) + 1))
        members = pick(cands, k, want_secondary=rng.random() < 0.7)
        if len({int(trust[i]) for i in members}) < 2:
            continue
        sy = int(rng.integers(2016, latest + 1))
        starts = [_date(sy, 9)] * len(members)
        ends: list[str | None] = [None] * len(members)
        if len(members) >= 4 and rng.random() < 0.3 and sy < latest - 1:  # a school that left
            ends[-1] = _date(latest - 1, 8, 31)
        name = f"{TN[t]} {kinds[int(rng.integers(len(kinds)))]}"
        parts.append(dict(name=name, members=members, starts=starts, ends=ends, flagship=False))
    w.partnerships = parts

    # Clusters nested inside trusts of fifteen or more: nearby members, about eight at a time.
    clusters: list[dict] = []
    region = w.las["region"].to_numpy()[s["la"].to_numpy()]
    for tid, row in w.trusts.iterrows():
        mem = np.flatnonzero(trust == tid)
        if row["kind"] != "mat" or len(mem) < 15:
            continue
        k = max(2, round(len(mem) / 8))
        # order by region, then along the trust's longer axis, and cut into k runs of neighbours
        e, n = s["e"].to_numpy()[mem], s["n"].to_numpy()[mem]
        axis = e if np.ptp(e) >= np.ptp(n) else n
        order = mem[np.lexsort((axis, region[mem]))]
        title = row["name"].title().replace("'S ", "'s ")
        for j, chunk in enumerate(np.array_split(order, k)):
            t = S["town"][chunk[0]]
            where = TN[t] if t >= 0 else S["la_name"][chunk[0]]
            clusters.append(dict(trust=int(tid), name=f"{title}: {where} cluster {j + 1}",
                                 members=[int(i) for i in chunk]))
    w.clusters = clusters


def _build_world(schools: int, years: int, seed: int) -> _World:
    if schools < 30:
        raise ValueError("the demo needs at least 30 schools")
    if not 1 <= years <= 12:
        raise ValueError("the demo covers 1 to 12 academic years")
    ss = np.random.SeedSequence(seed)
    r_geo, r_sch, r_grp, r_names, r_part = (np.random.default_rng(x) for x in ss.spawn(5))
    yrs = list(range(LATEST_START - years + 1, LATEST_START + 1))
    las, towns = _make_geography(r_geo, schools, _NamePool(r_geo))
    s = _place_schools(r_sch, schools, las, towns, yrs)
    w = _World(seed=seed, years=yrs, las=las, towns=towns, s=s, trusts=pd.DataFrame(), feds=pd.DataFrame(),
               partnerships=[], clusters=[], flagship_town=-1)
    ft = _choose_flagship(s, las, towns, yrs[-1])
    la = int(towns.loc[ft, "la"])
    if las.loc[la, "la_name"] == towns.loc[ft, "name"]:
        las.loc[la, "la_name"] = FLAGSHIP_TOWN
    towns.loc[ft, "name"] = FLAGSHIP_TOWN
    w.flagship_town = ft
    _name_schools(r_names, w)
    _make_groups(r_grp, w)
    _make_conversions(w)
    _make_partnerships(r_part, w)
    return w


def _academic_year_of(iso: str) -> int:
    """The academic year (its start) a date falls in: 1 September to 31 August."""
    return int(iso[:4]) - (int(iso[5:7]) < 9)


def _make_conversions(w: _World) -> None:
    """A few maintained schools that became academies during the window, under a new URN (as GIAS records them).

    Before its conversion date a school's results sit under its old URN (`old_urn`); GIAS then has two rows, the
    old one closed ("Academy Converter") and the new one opened, and its links file ties them (links_edubasealldata).
    """
    s, years = w.s, w.years
    rng = np.random.default_rng([w.seed, 13])  # its own stream: the rest of the world does not move
    join = s["join"].to_numpy()
    joined_ay = np.array([_academic_year_of(j) if j else -1 for j in join])
    cand = np.flatnonzero((s["trust"].to_numpy() >= 0) & (s["open_year"].to_numpy() == 0)
                          & np.isin(s["nftype"].to_numpy(), ("ACC", "ACCS", "ACCAP"))
                          & (joined_ay > years[0]) & (joined_ay <= years[-1]))
    k = min(len(cand), max(2, round(0.01 * len(s)))) if len(years) >= 2 else 0
    conv = np.sort(rng.choice(cand, size=k, replace=False)) if k else np.array([], dtype=int)
    old = np.zeros(len(s), dtype=int)
    taken = set(s["urn"].tolist())
    fresh = [u for u in (152_000 + rng.permutation(2_000)).tolist() if u not in taken]
    urn = s["urn"].to_numpy().copy()
    for j, i in enumerate(conv):  # the old URN is the one the school had; the academy gets a new, higher one
        old[i], urn[i] = urn[i], fresh[j]
    s["old_urn"], s["urn"] = old, urn
    s["converted_ay"] = np.where(old > 0, joined_ay, 0)


def _urn_in(w: _World, y: int) -> np.ndarray:
    """Each school's URN in academic year y: a converter academy's old URN before the year it converted."""
    s = w.s
    before = (s["old_urn"].to_numpy() > 0) & (y < s["converted_ay"].to_numpy())
    return np.where(before, s["old_urn"].to_numpy(), s["urn"].to_numpy())


# ---------------------------------------------------------------------------------------------- yearly values


def _simulate_year(w: _World, y: int) -> pd.DataFrame:
    """Every number of one academic year, for every school (NaN where the school has none)."""
    s = w.s
    n = len(s)
    rng = np.random.default_rng([w.seed, y])  # a year's noise does not depend on how many years are built
    g = rng.standard_normal
    phase = s["phase"].to_numpy()
    oy, cy = s["open_year"].to_numpy(), s["close_year"].to_numpy()
    present = (oy <= y) & (y <= cy)
    since = np.where(oy > 0, y - oy, 99)
    t = y - LATEST_START
    mid = (w.years[0] + w.years[-1]) / 2
    d: dict[str, np.ndarray] = {"present": present, "since": since}

    ramp = np.where(np.isin(phase, (SEC, ALL)), 5, 7)
    nor = s["nor_base"].to_numpy() * np.exp(s["growth"].to_numpy() * t + 0.03 * g(n))
    nor = np.where(since < ramp, s["nor_base"].to_numpy() * (since + 1) / ramp, nor)
    nor = np.maximum(np.round(nor), 8).astype(int)
    d["nor"] = nor
    boys_p = np.where(phase == SPE, 0.72, np.where(phase == AP, 0.7, 0.51))
    d["norb"] = rng.binomial(nor, boys_p)
    d["norg"] = nor - d["norb"]

    # Context: disadvantage drifts up a little nationally; current FSM rose faster (universal credit).
    p_ever = _expit(s["fsm_logit"].to_numpy() + 0.04 * (y - 2020) + 0.12 * g(n))
    d["fsmever"] = rng.binomial(nor, p_ever)
    ratio = FSM_RATIO.get(y, 0.63 if y < 2018 else 0.92)
    d["fsm"] = rng.binomial(d["fsmever"], np.clip(ratio * np.exp(0.06 * g(n)), 0, 1))
    d["uncfl"] = rng.binomial(nor, 0.004)
    d["eal"] = rng.binomial(nor - d["uncfl"], _expit(s["eal_logit"].to_numpy() + 0.04 * g(n)))
    d["engfl"] = nor - d["uncfl"] - d["eal"]
    d["senk"] = rng.binomial(nor, _expit(s["senk_logit"].to_numpy() + 0.03 * (y - 2020) + 0.08 * g(n)))
    d["sene"] = rng.binomial(nor - d["senk"], _expit(s["ehcp_logit"].to_numpy() + 0.05 * (y - 2020) + 0.1 * g(n)))

    x = np.c_[s["zf"], s["ze"], s["zs"]]
    u, v, trend = s["u"].to_numpy(), s["v"].to_numpy(), s["trend"].to_numpy()
    drift = trend * (y - mid)

    # ---- KS4: P8 from context + school effect + trend + noise; Att8 from context and P8 (NATIONAL_SHAPES).
    p = x @ _B_P8 + np.sqrt(1 - _R2_P8) * (0.85 * u + drift + 0.5 * g(n))
    # bigger secondaries do a little better (pupils on roll correlates +0.3 with Att8)
    size = np.log(s["nor_base"].to_numpy()) - np.log(1000)
    a = np.c_[x, p] @ _B_ATT8 + np.sqrt(1 - _R2_ATT8) * (0.62 * v + 0.62 * g(n) + 1.4 * size)
    main4 = np.isin(phase, (SEC, ALL))  # P8 is relative to the nation each year: centre on mainstream schools
    p, a = p - p[main4].mean(), a - a[main4].mean()
    special = phase == SPE
    ks4 = s["has_ks4"].to_numpy() & present
    tpup = np.where(ks4 & (since >= 4), np.round(nor * s["y11_share"].to_numpy()), 0).astype(int)
    d["tpup"] = tpup
    d["p8pup"] = tpup - rng.binomial(tpup, 0.03)
    d["p8"] = np.where(special, -1.3 + 0.5 * g(n), -0.01 + 0.5 * p)
    d["att8"] = np.clip(np.where(special, 12 + 7 * g(n), 47 + ATT8_SHIFT.get(y, 0) + 9 * a), 0.5, 85)
    d["ks2aps"] = np.clip(np.where(special, 17 + 3 * g(n), 28.6 + 1.9 * (a - 0.65 * p) + 0.25 * g(n)), 10, 34)
    r94 = np.clip(np.where(special, 4 + 6 * g(n), 64.7 + BASICS_SHIFT.get(y, 0) + 15.6 * (0.93 * a + 0.37 * g(n))),
                  0.5, 99.5)
    d["b94"] = rng.binomial(tpup, r94 / 100)
    r95 = np.clip(r94 - 21 - 2 * g(n), 0.2, r94)
    d["b95"] = rng.binomial(d["b94"], np.clip(r95 / r94, 0, 1))
    rent = np.clip(np.where(special, 1 + g(n), 39.7 + 25.1 * (0.4 * a + 0.9 * s["ebacc_policy"].to_numpy()
                                                              + 0.15 * g(n))), 0.2, 98)
    d["eb_entry"] = rng.binomial(tpup, rent / 100)
    d["eb94"] = rng.binomial(d["eb_entry"], np.clip(0.45 + 0.18 * a + 0.05 * g(n), 0.02, 0.98))
    d["eb95"] = rng.binomial(d["eb94"], 0.7)
    d["lang"] = d["eb_entry"] + rng.binomial(tpup - d["eb_entry"], np.clip(0.12 + 0.1 * g(n), 0.01, 0.9))
    d["hum"] = d["eb_entry"] + rng.binomial(tpup - d["eb_entry"], np.clip(0.62 + 0.12 * g(n) + 0.05 * a, 0.05, 0.99))
    d["sci"] = d["eb_entry"] + rng.binomial(tpup - d["eb_entry"], np.clip(0.9 + 0.05 * g(n), 0.3, 0.999))
    d["ebaccaps"] = np.clip(np.where(special, 0.5 + 0.5 * np.abs(g(n)), 4.09 + ATT8_SHIFT.get(y, 0) / 11
                                     + 0.98 * (0.92 * a + 0.39 * g(n))), 0.05, 8.8)
    d["tdis"] = rng.binomial(tpup, np.clip(p_ever * 1.1, 0, 1))
    d["p8pup_dis"] = np.round(d["p8pup"] * d["tdis"] / np.maximum(tpup, 1)).astype(int)
    d["p8_dis"] = d["p8"] - 0.42 + 0.25 * g(n)
    d["att8_dis"] = np.clip(d["att8"] - 13 + 3 * g(n), 0.5, 85)

    # ---- KS2 (year 6).
    k = x @ _B_KS2 + np.sqrt(1 - _R2_KS2) * (0.8 * u + drift + 0.6 * g(n))
    q = x @ _B_PROG + np.sqrt(1 - _R2_PROG) * (0.8 * u + drift + 0.6 * g(n))
    main2 = np.isin(phase, (PRI, ALL))
    k, q = k - k[main2].mean(), q - q[main2].mean()
    ks2 = s["has_ks2"].to_numpy() & present & (since >= 6)
    telig = np.where(ks2, np.round(nor * s["y6_share"].to_numpy()), 0).astype(int)
    d["telig"] = telig
    rwm_r = np.clip(np.where(special, 4 + 5 * g(n), 65 + KS2_SHIFT.get(y, 0) + 13 * k), 0.5, 99)
    d["rwm"] = rng.binomial(telig, rwm_r / 100)
    d["rwm_high"] = rng.binomial(d["rwm"], np.clip((8 + 4.5 * k + 2 * g(n)) / np.maximum(rwm_r, 1), 0, 1))
    sq = np.sqrt(np.maximum(telig, 1))
    d["readprog"] = 1.5 * q + 5.8 / sq * g(n)
    d["writprog"] = 1.4 * q + 0.8 * g(n) + 5.5 / sq * g(n)
    d["matprog"] = 1.6 * q + 5.3 / sq * g(n)
    d["read_avg"] = np.clip(105 + 2.4 * k + 3 / sq * g(n), 81, 119)
    d["mat_avg"] = np.clip(104 + 2.8 * k + 3 / sq * g(n), 81, 119)
    d["ndis2"] = rng.binomial(telig, np.clip(p_ever * 1.05, 0, 1))
    d["rwm_dis"] = rng.binomial(d["ndis2"], np.clip(rwm_r - 20 + 4 * g(n), 0.5, 99) / 100)
    d["ks2_lowcov"] = rng.random(n) < 0.01
    d["ks2_np"] = rng.random(n) < 0.003

    # ---- Destinations of last year's leavers.
    coh = np.where(ks4 & (since >= 5), np.round(tpup * (1 + 0.04 * g(n))), 0).astype(int)
    d["cohort"] = np.maximum(coh, 0)
    dest_r = np.clip(np.where(special, 88 + 5 * g(n), 94 - 2.2 * s["zf"].to_numpy() + 1.2 * a
                              + 1.5 * s["dest_u"].to_numpy()), 60, 99.5)
    d["dest"] = rng.binomial(d["cohort"], dest_r / 100)
    d["edu"] = rng.binomial(d["dest"], 0.91)
    d["appren"] = rng.binomial(d["dest"] - d["edu"], 0.55)
    d["employ"] = d["dest"] - d["edu"] - d["appren"]
    d["notsus"] = rng.binomial(d["cohort"] - d["dest"], 0.75)
    d["unknown"] = d["cohort"] - d["dest"] - d["notsus"]
    d["cohort_dis"] = rng.binomial(d["cohort"], np.clip(p_ever * 1.1, 0, 1))
    d["dest_dis"] = rng.binomial(d["cohort_dis"], np.clip(dest_r - 6 + 3 * g(n), 40, 99.5) / 100)
    d["edu_dis"] = rng.binomial(d["dest_dis"], 0.9)

    # ---- Absence: by phase, worse with deprivation and weaker outcomes (NATIONAL_SHAPES correlations).
    zb_sec = np.c_[x, p, a] @ _B_ABS + np.sqrt(1 - _R2_ABS) * (0.6 * s["abs_u"].to_numpy() + 0.8 * g(n))
    zb_pri = 0.42 * x[:, 0] - 0.14 * x[:, 1] + 0.12 * x[:, 2] - 0.3 * k + 0.8 * (
        0.6 * s["abs_u"].to_numpy() + 0.8 * g(n))
    zb = np.where(np.isin(phase, (SEC, ALL)), zb_sec, zb_pri)
    med = np.array([4.0, 5.5, 5.1, 10.1, 33.0, 4.0])[phase]
    sig = np.array([0.22, 0.22, 0.22, 0.25, 0.3, 0.22])[phase]
    perctot = np.clip(med * np.exp(sig * zb) * ABSENCE_FACTOR.get(y, 1.0), 0.8, 75)
    d["perctot"] = perctot
    d["percua"] = perctot * rng.uniform(0.18, 0.35, n)
    pa = np.where(phase == AP, 1.9 * perctot + 10 + 5 * g(n), 3.6 * perctot - 6.2 + 1.5 * g(n))
    d["ppersabs"] = np.clip(pa, 0.3, 95)

    # ---- Workforce.
    ptr = np.array([20.6, 16.6, 17.2, 6.4, 5.6, 11.5])[phase] * np.exp(0.07 * s["staff_u"].to_numpy() + 0.03 * g(n))
    tea = np.maximum(np.round(nor / ptr, 1), 0.6)
    d["tea_fte"] = tea
    d["ptr"] = nor / tea
    d["ta_fte"] = np.round(tea * np.array([1.0, 0.35, 0.45, 1.8, 0.8, 1.5])[phase]
                           * np.exp(0.25 * s["staff_u"].to_numpy() + 0.08 * g(n)), 1)
    london = w.las["region"].to_numpy()[s["la"].to_numpy()] == _LONDON
    d["salary"] = (40_000 + 1_300 * (y - 2020) + 4_500 * london + 900 * np.isin(phase, (SEC, ALL))
                   - 600 * s["rural"].to_numpy() + 1_500 * s["staff_u"].to_numpy() + 500 * g(n))

    # ---- Finance (per pupil; maintained schools only are in the CFR file).
    base = np.array([5_300, 6_300, 6_200, 23_000, 25_000, 9_500])[phase] * (1 + 0.045 * (y - 2020))
    size_f = np.where(np.isin(phase, (PRI, SEC, ALL)), (np.maximum(nor, 30) / s["nor_base"].median()) ** -0.08, 1)
    d["totexp"] = (base * (1 + 0.07 * s["zf"].to_numpy()) * np.where(london, 1.18, 1.0) * size_f
                   * np.exp(0.05 * s["fin_u"].to_numpy() + 0.03 * g(n)))
    d["selfgen_share"] = np.clip(rng.lognormal(np.log(0.025), 0.5, n), 0.002, 0.15)
    d["income_ratio"] = rng.normal(1.0, 0.025, n)
    d["fte_pupils"] = np.round(nor * rng.uniform(0.95, 1.0, n), 1)

    # ---- Gaps: a school missing from a year's census/absence/workforce/finance (returns not made).
    d["gap"] = rng.random(n) < 0.006
    d["abs_gap"] = rng.random(n) < 0.01
    return pd.DataFrame(d)


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


_EBACC_COLS = ("EBACCAPS", "PTEBACC_E_PTQ_EE", "PTEBACC_94", "PTEBACC_95", "PTEBAC2SCI_E_PTQ_EE",
               "PTEBACHUM_E_PTQ_EE", "PTEBACLAN_E_PTQ_EE")


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
    p8dis = np.round(Z["p8_dis"].to_numpy(), 2)
    pdis = Z["p8pup_dis"].to_numpy()
    half_dis = 1.96 * P8_SIGMA / np.sqrt(np.maximum(pdis, 1))
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
        "ATT8SCR_FSM6CLA1A": _num(Z["att8_dis"].to_numpy(), 1),
        "P8PUP_FSM6CLA1A": pdis.astype(str).tolist(),
        "P8MEA_FSM6CLA1A": _num(p8dis, 2),
        "P8CILOW_FSM6CLA1A": _num(p8dis - half_dis, 2),
        "P8CIUPP_FSM6CLA1A": _num(p8dis + half_dis, 2),
    }
    if y > EBACC_LAST:  # the EBacc measures ended with 2024/25: later tables have no such columns
        for c in _EBACC_COLS:
            del cols[c]
    header = list(cols)
    outcome = header[header.index("ATT8SCR"):]
    p8_cols = ["P8PUP", "P8MEACOV", "P8MEA", "P8CILOW", "P8CIUPP"]
    dis_cols = ["P8PUP_FSM6CLA1A", "P8MEA_FSM6CLA1A", "P8CILOW_FSM6CLA1A", "P8CIUPP_FSM6CLA1A"]
    for c in outcome:  # special schools whose pupils took no GCSEs: no entries
        _codes(cols[c], ne & ~supp, "NE")
    for c in dis_cols + ["ATT8SCR_FSM6CLA1A"]:
        _codes(cols[c], (pdis <= 5) & ~ne, "SUPP")
    for c in ["KS2APS", "TFSM6CLA1A", "PTFSM6CLA1A", *outcome]:  # five or fewer pupils: nothing published
        _codes(cols[c], supp, "SUPP")
    if p8_na:
        for c in p8_cols + dis_cols:
            cols[c] = ["NA"] * len(idx)
    rows = _rows(cols, header)
    for i in np.flatnonzero(new):  # no year 11 yet: the row stops after TOTPUPS (a ragged row)
        rows[i] = rows[i][: header.index("TOTPUPS") + 1]

    # LA (RECTYPE 4) and national (5 all schools, 7 state-funded) rows from the schools' own numbers.
    ok = idx[~new & ~ne]
    sums = ["nor", "tpup", "p8pup", "b94", "b95", "eb_entry", "eb94", "eb95", "sci", "hum", "lang", "tdis",
            "p8pup_dis"]
    means = {"att8": "tpup", "ebaccaps": "tpup", "ks2aps": "tpup", "p8": "p8pup", "p8_dis": "p8pup_dis",
             "att8_dis": "tdis"}
    extra = []
    if len(ok):
        by_la = _agg(Y, ok, s["la_code"].to_numpy()[ok], sums, means)
        nat = _agg(Y, ok, np.zeros(len(ok), dtype=int), sums, means).iloc[0]
        groups = [("4", str(la), G) for la, G in by_la.iterrows()] + [("5", "", nat), ("7", "", nat)]
    else:
        groups = []
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
        if rectype != "5":  # the all-schools row carries no progress or disadvantage figures
            row.update(KS2APS=_f(G["ks2aps"], 1), TFSM6CLA1A=str(int(G["tdis"])),
                       PTFSM6CLA1A=_share(G["tdis"], T, dp, trim=False), ATT8SCR_FSM6CLA1A=_f(G["att8_dis"], 1))
            if p8_na:
                row.update({c: "NA" for c in p8_cols + dis_cols})
            else:
                pp, pdv = G["p8pup"], G["p8pup_dis"]
                row.update(P8PUP=str(int(pp)), P8MEA=_f(G["p8"], 2), P8PUP_FSM6CLA1A=str(int(pdv)),
                           P8MEA_FSM6CLA1A=_f(G["p8_dis"], 2))
                if rectype == "4" and pp and pdv:  # LA rows carry confidence intervals; the national row does not
                    ci, cid = 1.96 * P8_SIGMA / np.sqrt(pp), 1.96 * P8_SIGMA / np.sqrt(pdv)
                    p8v, p8d = round(G["p8"], 2), round(G["p8_dis"], 2)
                    row.update(P8CILOW=_f(p8v - ci, 2), P8CIUPP=_f(p8v + ci, 2),
                               P8CILOW_FSM6CLA1A=_f(p8d - cid, 2), P8CIUPP_FSM6CLA1A=_f(p8d + cid, 2))
        extra.append([row[h] for h in header])
    return _write_csv(path, header, rows + extra, style="perf")


def _write_ks2(w: _World, Y: pd.DataFrame, y: int, path: Path) -> Path:
    s = w.s
    idx = _school_order(w, np.flatnonzero(Y["telig"].to_numpy() > 0))
    special = s["phase"].to_numpy()[idx] == SPE
    Z = Y.iloc[idx]
    telig = Z["telig"].to_numpy()
    supp = telig <= 5
    prog_na = y in KS2_PROGRESS_NOT_PUBLISHED
    sq = np.sqrt(np.maximum(telig, 1))
    cols: dict[str, list[str]] = {
        **_ks_identity(w, y, idx, special),
        "NFTYPE": _nftype_in(w, y)[idx].tolist(),
        "RELDENOM": s["religion"].to_numpy()[idx].tolist(),
        "AGERANGE": [f"{lo}-{hi}" for lo, hi in zip(s["age_low"].to_numpy()[idx], s["age_high"].to_numpy()[idx],
                                                     strict=True)],
        "TOTPUPS": Z["nor"].to_numpy().astype(str).tolist(),
        "TELIG": telig.astype(str).tolist(),
        "TFSM6CLA1A": Z["ndis2"].to_numpy().astype(str).tolist(),
        "PTFSM6CLA1A": _pct(_ratio(Z["ndis2"], telig), 0),
        "PTRWM_EXP": _pct(_ratio(Z["rwm"], telig), 0),
        "PTRWM_HIGH": _pct(_ratio(Z["rwm_high"], telig), 0),
    }
    for name, col, sd in (("READ", "readprog", 5.8), ("WRIT", "writprog", 5.5), ("MAT", "matprog", 5.3)):
        v = np.round(Z[col].to_numpy(), 1)
        cols[f"{name}PROG"] = _num(v, 1)
        cols[f"{name}PROG_LOWER"] = _num(v - 1.96 * sd / sq, 1)
        cols[f"{name}PROG_UPPER"] = _num(v + 1.96 * sd / sq, 1)
        cols[f"{name}COV"] = _pct(np.where(Z["ks2_lowcov"].to_numpy(), 35 + telig % 10, 100 - telig % 5), 0)
    cols["READ_AVERAGE"] = _num(Z["read_avg"].to_numpy(), 0)
    cols["MAT_AVERAGE"] = _num(Z["mat_avg"].to_numpy(), 0)
    cols["PTRWM_EXP_FSM6CLA1A"] = _pct(_ratio(Z["rwm_dis"], Z["ndis2"]), 0)
    header = list(cols)
    prog = [c for c in header if "PROG" in c]
    outcome = header[header.index("TFSM6CLA1A"):]
    lowcov = Z["ks2_lowcov"].to_numpy() | special
    for c in prog:
        _codes(cols[c], lowcov, "LOWCOV")
    for c in ("READ_AVERAGE", "MAT_AVERAGE"):
        _codes(cols[c], special, "NE")
    _codes(cols["PTRWM_EXP_FSM6CLA1A"], Z["ndis2"].to_numpy() <= 5, "SUPP")
    for c in outcome:
        _codes(cols[c], Z["ks2_np"].to_numpy(), "NP")
        _codes(cols[c], supp, "SUPP")
    if prog_na:
        for c in prog:
            cols[c] = ["NA"] * len(idx)
    rows = _rows(cols, header)
    sums = ["nor", "telig", "ndis2", "rwm", "rwm_high", "rwm_dis"]
    means = {"read_avg": "telig", "mat_avg": "telig", "readprog": "telig", "writprog": "telig", "matprog": "telig"}
    by_la = _agg(Y, idx, s["la_code"].to_numpy()[idx], sums, means)
    nat = _agg(Y, idx, np.zeros(len(idx), dtype=int), sums, means).iloc[0]
    for rectype, la, G in [("4", str(la), G) for la, G in by_la.iterrows()] + [("5", "", nat), ("7", "", nat)]:
        T = G["telig"]
        row = {h: "" for h in header}
        row.update(RECTYPE=rectype, LEA=la, TOTPUPS=str(int(G["nor"])), TELIG=str(int(T)),
                   TFSM6CLA1A=str(int(G["ndis2"])), PTFSM6CLA1A=_share(G["ndis2"], T, 0),
                   PTRWM_EXP=_share(G["rwm"], T, 0), PTRWM_HIGH=_share(G["rwm_high"], T, 0),
                   READ_AVERAGE=_f(G["read_avg"], 0), MAT_AVERAGE=_f(G["mat_avg"], 0),
                   PTRWM_EXP_FSM6CLA1A=_share(G["rwm_dis"], G["ndis2"], 0))
        for name, col in (("READ", "readprog"), ("WRIT", "writprog"), ("MAT", "matprog")):
            row[f"{name}PROG"] = "NA" if prog_na else _f(G[col], 1)
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


# ---------------------------------------------------------------------------------------------- public API


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


def build_demo(path: Path, *, schools: int = DEFAULT_SCHOOLS, years: int = DEFAULT_YEARS, seed: int = DEFAULT_SEED,
               files_dir: Path | None = None, progress: Progress | None = None, replace: bool = False,
               only_if_missing: bool = False) -> str:
    """Write DfE-format files, import them into a NEW store, return a short summary text.

    The store is built in a temporary file beside `path` and moved into place only when everything imported
    cleanly, so a half-built demo never appears and an existing store at `path` is untouched on failure.
    Only a store marked as the demo (settings 'demo' = 'true') is replaced; a real one only with `replace`, after a
    backup beside it; none while another process has it open, and never a file that is not a Jointly store
    (data.db.store.claim_for_demo). The check runs before any work and again just before the move.
    The whole build holds the results' writer lock (data.db.snapshot): one process builds, a second waits, and app
    processes reading the store move to the new demo at their next rerun. `only_if_missing` (the app's first
    run): when another process built a store while this one waited for the lock, that one is kept.
    """
    from data.db import snapshot
    from data.db.store import claim_for_demo

    t0 = time.perf_counter()
    path = Path(path)
    claim_for_demo(path, replace=replace, keep_backup=False)  # refuse now, not after a minute of building
    with snapshot.writer_lock(path):
        if only_if_missing and path.exists():
            return f"{path} was built meanwhile by another process"
        return _build_locked(path, schools=schools, years=years, seed=seed, files_dir=files_dir, progress=progress,
                             replace=replace, t0=t0)


def _build_locked(path: Path, *, schools: int, years: int, seed: int, files_dir: Path | None,
                  progress: Progress | None, replace: bool, t0: float) -> str:
    """build_demo's work, under the writer lock."""
    from data.db import snapshot
    from data.db.store import Store, claim_for_demo
    from data.demo.publication import publish_demo_examples
    from data.ingest.importers import after_imports, import_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    _report(progress, "Inventing a synthetic England", 0.0)
    w = _build_world(schools, years, seed)
    own_dir = files_dir is None
    out_dir = Path(tempfile.mkdtemp(prefix="jointly-demo-")) if own_dir else Path(files_dir)
    frames: dict[int, pd.DataFrame] = {}
    store: Store | None = None
    try:
        files = _write_all(w, out_dir, progress, 0.03, 0.25, frames)
        store = Store(path, file=tmp)  # the demo's results are `path`'s next snapshot (and its state is path's)
        reports = []
        for k, (fp, period) in enumerate(files):
            _report(progress, f"Importing {fp.parent.name + '/' if period else ''}{fp.name}",
                    0.25 + 0.6 * k / len(files))
            rep = import_file(store, fp, None, actor="demo", recluster=False, demo_files=True)
            if not rep.ok or rep.problems or (period and rep.periods != [period]):
                raise RuntimeError(f"the demo did not import cleanly:\n{rep.summary()}")
            reports.append(rep)
        _report(progress, "Adding partnerships and clusters", 0.86)
        n_mem, partnership_ids = _add_demo_groups(store, w)
        _agree_to_publish(store)
        _report(progress, "Adding local measures", 0.9)
        n_local = _add_local_measures(store, w, frames, partnership_ids)
        for key, value in (("demo", "true"), ("demo_seed", str(seed)), ("demo_schools", str(schools)),
                           ("demo_years", str(years))):
            store.set_setting(key, value, actor="demo")
        _report(progress, "Arranging the store for fast group reads; percentiles and families", 0.94)
        after_imports(store, reports)  # once, at the end: re-cluster, then the derived tables
        _report(progress, "Publishing an example for parents", 0.98)
        publish_demo_examples(store, FLAGSHIP_PARTNERSHIP)  # data.demo.publication: needs the derived tables
        info = store.info()
        store.close()
        store = None
        wal = Path(str(tmp) + ".wal")
        if wal.exists():  # close() checkpoints; a leftover log would belong to the old name
            raise RuntimeError("the demo store did not checkpoint cleanly")
        backup = claim_for_demo(path, replace=replace, keep_backup=True)  # the file may have changed meanwhile
        Path(str(path) + ".wal").unlink(missing_ok=True)  # the old store's log must not replay onto the new one
        snapshot.swap_in(path, tmp)  # fsync, rename (atomic), fsync the folder
    except BaseException:
        if store is not None:
            store.close()
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        raise
    finally:
        if own_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
    _report(progress, "The demo is ready", 1.0)
    groups = ", ".join(_plural(n, k) for k, n in sorted(info.groups.items()))
    converted = int((w.s["old_urn"] > 0).sum())
    earlier = f" (and the earlier URNs of {_plural(converted, 'converted school')})" if converted else ""
    return (f"Synthetic demo England (seed {seed}): {info.establishments - converted:,} schools{earlier} in "
            f"{len(w.las)} local authorities, {_plural(len(w.years), 'year')} {_period(w.years[0])} to "
            f"{_period(w.years[-1])}; "
            f"{groups}; "
            f"{n_mem:,} partnership and cluster memberships; {info.observations:,} school values "
            f"and {info.benchmarks:,} benchmarks; {n_local} local measures. Built in {time.perf_counter() - t0:.0f} s."
            + (f" The store that was there is kept as {backup}." if backup else ""))


# ---------------------------------------------------------------------------------------------- after the imports


def _agree_to_publish(store: Store) -> None:
    """Every demo school agrees to its groups' joint publications (data.services.consent: a group publishes only the
    schools that agreed), recorded and audited as a data manager would, one transaction per group."""
    from data.services.access import Role, Viewer
    from data.services.consent import record_consents

    admin = Viewer(Role.ADMIN, None, "demo")
    for gid, urns in store.query("SELECT group_id, list(DISTINCT urn ORDER BY urn) FROM memberships GROUP BY 1 "
                                 "ORDER BY 1"):
        problems = record_consents(store, admin, int(gid), {int(u): True for u in urns},
                                   "Agreed at the heads' meeting (demo).")
        if problems:
            raise RuntimeError("the demo's consent was refused: " + "; ".join(problems))


def _add_demo_groups(store: Store, w: _World) -> tuple[int, dict[str, int]]:
    """Partnerships and trusts' clusters: groups no DfE file describes. Returns (memberships, partnership ids)."""
    s = w.s
    S = _cols(s)
    urn = s["urn"].to_numpy()
    n_mem = 0
    ids: dict[str, int] = {}
    for p in w.partnerships:
        gid = store.create_group("partnership", p["name"], actor="demo", source="demo")
        ids[p["name"]] = gid
        by_range: dict[tuple[str | None, str | None], list[int]] = {}
        for i, start, end in zip(p["members"], p["starts"], p["ends"], strict=True):
            opened = _date(S["open_year"][i], 9) if S["open_year"][i] else ""
            by_range.setdefault((max(start, opened), end), []).append(int(urn[i]))  # not before it opened
        for (start, end), urns in by_range.items():
            store.add_memberships(gid, urns, start, end, actor="demo", source="demo")
            n_mem += len(urns)
    for c in w.clusters:
        trust = store.find_group(w.trusts["group_id"].iloc[c["trust"]])
        if trust is None:
            raise RuntimeError(f"trust {w.trusts['name'].iloc[c['trust']]} is missing after the GIAS import")
        gid = store.create_group("cluster", c["name"], parent_id=trust.group_id, actor="demo", source="demo")
        start = _date(max(w.years[0] - 1, 2019), 9)
        by_start: dict[str, list[int]] = {}
        for i in c["members"]:
            by_start.setdefault(max(start, S["join"][i]), []).append(int(urn[i]))
        for st, urns in by_start.items():
            store.add_memberships(gid, urns, st, None, actor="demo", source="demo")
            n_mem += len(urns)
    return n_mem, ids


def _local_defs(prefix: str = "") -> list[dict]:
    every = ["primary", "secondary", "all_through", "special", "alternative", "nursery"]
    return [
        dict(id=f"{prefix}student_leadership_participation", label="Pupils in a leadership role",
             description="Share of pupils who hold a leadership role: school council, prefects, sports leaders, "
                         "reading buddies, eco-team and the like.",
             perspective="curriculum", unit="%", format=".0f", polarity="higher_better", phases=every,
             rollup="pooled_ratio", scale=100, min_cohort=6, uncertainty="wilson"),
        dict(id=f"{prefix}cpd_hours_per_teacher", label="Training hours per teacher",
             description="Hours of professional development each teacher took part in during the year.",
             perspective="staff_leadership", unit="hours", format=".0f", polarity="higher_better", phases=every,
             rollup="weighted_mean", scale=1, min_cohort=1),
        dict(id=f"{prefix}support_hours_given", label="Support given to other schools (hours)",
             description="Hours of staff time the school gave to other schools in the partnership: peer review, "
                         "coaching, shared specialists.",
             perspective="partnership_community", unit="hours", format=",.0f", polarity="higher_better",
             phases=every, rollup="sum", scale=1, min_cohort=1),
        dict(id=f"{prefix}support_hours_received", label="Support received from other schools (hours)",
             description="Hours of staff time the school received from other schools in the partnership.",
             perspective="partnership_community", unit="hours", format=",.0f", polarity="context",
             phases=every, rollup="sum", scale=1, min_cohort=1),
        dict(id=f"{prefix}support_balance", label="Support balance (hours given minus received)",
             description="Hours of support the school gave to partner schools, minus the hours it received: "
                         "above zero, a net giver; below zero, a net taker.",
             perspective="partnership_community", unit="hours", format="+,.0f", polarity="context",
             phases=every, rollup="sum", scale=1, min_cohort=1,
             formula=f"{prefix}support_hours_given - {prefix}support_hours_received"),
        dict(id=f"{prefix}community_events", label="Community events",
             description="Events the school ran for families and the local community during the year.",
             perspective="partnership_community", unit="events", format=".0f", polarity="higher_better",
             phases=every, rollup="sum", scale=1, min_cohort=1),
    ]


def _add_local_measures(store: Store, w: _World, frames: dict[int, pd.DataFrame], partnership_ids: dict[str, int]
                        ) -> int:
    """Measures the flagship partnership and the largest trust chose for themselves, with values."""
    s = w.s
    rng = np.random.default_rng([w.seed, 99])
    urn = s["urn"].to_numpy()
    phase = s["phase"].to_numpy()
    flagship = next(p for p in w.partnerships if p["flagship"])
    gid = partnership_ids[flagship["name"]]
    big = int(w.trusts.loc[w.trusts["kind"] == "mat", "size"].idxmax())
    found = store.find_group(w.trusts["group_id"].iloc[big])
    if found is None:
        raise RuntimeError(f"trust {w.trusts['name'].iloc[big]} is missing after the GIAS import")
    trust_gid = found.group_id
    slug = "".join(word[0] for word in w.trusts["name"].iloc[big].split() if word[0].isalpha()).lower()
    slug = slug if slug[:1].isalpha() else f"t{slug}"
    owners = [(gid, "", flagship["members"], [p for p in w.years if p >= 2021] or w.years[-1:]),
              (trust_gid, f"{slug}_", [int(i) for i in np.flatnonzero(s["trust"].to_numpy() == big)],
               w.years[-3:])]
    n_defs = 0
    for owner, prefix, members, years in owners:
        defs = _local_defs(prefix)
        if prefix:  # the trust keeps three of them
            defs = [d for d in defs if not d["id"].endswith(("support_hours_given", "support_hours_received",
                                                              "support_balance"))]
        for d in defs:
            store.define_local_measure(owner, d, actor="demo")
        n_defs += len(defs)
        mem = np.array(members)
        lead_rate = np.clip(rng.normal(np.where(np.isin(phase[mem], (SEC, ALL)), 0.14, 0.09), 0.03), 0.01, 0.4)
        cpd_base = rng.normal(32, 7, len(mem))
        events_base = np.where(np.isin(phase[mem], (SEC, ALL)), 10, 6)
        values: dict[str, list[dict]] = {d["id"]: [] for d in defs if not d.get("formula")}
        flows: list[tuple[int, int, float, int, str]] = []
        for k, y in enumerate(years):
            Y = frames[y]
            per = _period(y)
            live = Y["present"].to_numpy()[mem]
            nor = Y["nor"].to_numpy()[mem]
            tea = Y["tea_fte"].to_numpy()[mem]
            leaders = rng.binomial(nor, np.clip(lead_rate * (1 + 0.08 * k), 0, 0.6))
            cpd = np.clip(cpd_base + 2 * k + rng.normal(0, 3, len(mem)), 5, 80)
            events = rng.poisson(events_base + k)
            # Support flows between members: what one gives another receives, so the ledger balances.
            given = np.zeros(len(mem))
            received = np.zeros(len(mem))
            live_i = np.flatnonzero(live)
            for gi in live_i:
                takers = live_i[live_i != gi]
                if not len(takers):
                    continue
                for tj in rng.choice(takers, size=min(len(takers), int(rng.integers(1, 4))), replace=False):
                    hours = float(np.round(rng.gamma(2.0, 9.0 if phase[mem[gi]] in (SEC, ALL) else 5.0)))
                    given[gi] += hours
                    received[tj] += hours
                    if not prefix and hours > 0:  # the same flows, as the partnership's support ledger
                        flows.append((int(urn[mem[gi]]), int(urn[mem[tj]]), hours, y,
                                      SUPPORT_KINDS[int(rng.integers(len(SUPPORT_KINDS)))]))
            for j in live_i:
                u, p_ = int(urn[mem[j]]), per
                values[f"{prefix}student_leadership_participation"].append(
                    dict(urn=u, period=p_, value=100 * leaders[j] / nor[j], numerator=leaders[j], denominator=nor[j]))
                values[f"{prefix}cpd_hours_per_teacher"].append(
                    dict(urn=u, period=p_, value=round(cpd[j], 1), numerator=round(cpd[j] * tea[j], 1),
                         denominator=tea[j]))
                values[f"{prefix}community_events"].append(dict(urn=u, period=p_, value=float(events[j])))
                if not prefix:
                    values["support_hours_given"].append(dict(urn=u, period=p_, value=given[j]))
                    values["support_hours_received"].append(dict(urn=u, period=p_, value=received[j]))
        for mid, rows in values.items():
            store.write_local_values(mid, pd.DataFrame(rows), actor="demo")
        _record_flows(store, owner, flows)
    return n_defs


SUPPORT_KINDS = ("peer_review", "cpd", "leadership", "staff", "curriculum")


def _record_flows(store: Store, group_id: int, flows: list[tuple[int, int, float, int, str]]) -> None:
    """Write the demo's giver -> taker flows to the support ledger (through the same checks as the app)."""
    from data.services.access import Role, Viewer
    from data.services.support_log import record_support

    demo = Viewer(Role.ADMIN, None, "demo")
    for giver, taker, hours, year, kind in flows:
        problems = record_support(store, demo, group_id=group_id, giver=giver, taker=taker, kind=kind,
                                  start_date=f"{year}-10-01", end_date=f"{year + 1}-03-31", hours=hours)
        if problems:
            raise RuntimeError(f"demo support record refused: {problems}")
