"""The demo's world: England's geography, its towns and schools, trusts and partnerships, heads and names.

Everything is invented; the shapes are England's (see data/demo/build.py for the whole story)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from metrics.timeline import academic_year_of

if TYPE_CHECKING:
    pass


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
    _make_joining_effects(w)
    _make_partnerships(r_part, w)
    return w


def _academic_year_of(iso: str) -> int:
    """The academic year (its start) an ISO date falls in (metrics.timeline.academic_year_of)."""
    return academic_year_of(date.fromisoformat(iso))


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


JOIN_DIP = -0.12  # the year before joining: schools join a trust after a poor year (the pre-conversion dip)
JOIN_RAMP = 0.6  # the share of a trust's effect already in the year a school joins (its exams that summer)
# The effects planted on the three trusts with most primary schools, PLANTED_JOINERS of whose primaries join during
# the window (what an event study of KS2 can measure): the first helps, the second harms, the third makes no
# difference. In latent units: 0.8 is about 10 points of KS2 expected standard and 7 of Attainment 8 — larger than
# studies of real academy trusts find, so that a demo trust of 20 joiners, with a school's year-to-year noise (about
# 15 points of KS2 between two years), shows it. Every other trust: no effect, or a small help. The stream's seed
# (16) was chosen, among 15 and 16, as the first whose noise lets the event study find all three as planted
# (tests/store/test_impact_demo.py): with 20 schools a true effect is missed, or a false one found, now and then.
PLANTED_EFFECTS = (0.8, -0.9, 0.0)
PLANTED_JOINERS = 20  # of each of those trusts' primaries, moved to join during the window
OTHER_EFFECTS = (0.0, 0.0, 0.0, 0.15)


def _make_joining_effects(w: _World) -> None:
    """What joining a trust does to a school's results, planted so the Impact page has something true to find
    (issue 15): `join_effect` (latent units, added to attainment, progress and KS2 and taken off absence from the
    year it joins, JOIN_RAMP of it that year) and the dip before (`joined_ay`: the academic year it joined, -1:
    not during the window). Its own random stream: nothing else in the world moves."""
    s, years = w.s, w.years
    rng = np.random.default_rng([w.seed, 16])  # its own stream: nothing else moves
    trust = s["trust"].to_numpy()
    join = s["join"].to_numpy().copy()
    effect = rng.choice(OTHER_EFFECTS, size=len(w.trusts))
    planted = np.full(len(w.trusts), np.nan)  # the three trusts' planted effect (NaN: another trust)
    if len(years) >= 4:
        # the three trusts with most primary schools: some of their primaries (never a converter, whose join date is
        # its new URN's) joined during the window, early enough to have results two years before and one after
        joined_ay = np.array([_academic_year_of(j) if j else -1 for j in join])
        primary = (trust >= 0) & (s["phase"].to_numpy() == PRI) & (s["old_urn"].to_numpy() == 0) \
            & (s["open_year"].to_numpy() == 0)
        counts = np.bincount(trust[primary], minlength=len(w.trusts))
        for t, e in zip(np.argsort(-counts, kind="stable")[: len(PLANTED_EFFECTS)], PLANTED_EFFECTS, strict=False):
            effect[t] = planted[t] = e
            mine = np.flatnonzero(primary & (trust == t) & (joined_ay < years[1]))
            moved = np.sort(rng.choice(mine, size=min(len(mine), PLANTED_JOINERS), replace=False))
            for j, i in enumerate(moved):  # September of the third or the second latest year, in turn
                join[i] = _date(years[-3 + j % 2], 9)
        s["join"] = join
    joined_ay = np.array([_academic_year_of(j) if j else -1 for j in join])
    # a demo of fewer than four years has no room for an event study: nothing is planted, its results as before
    during = (trust >= 0) & (joined_ay > years[0]) & (joined_ay <= years[-1]) & (len(years) >= 4)
    w.trusts["join_effect"] = effect
    w.trusts["planted"] = planted
    s["joined_ay"] = np.where(during, joined_ay, -1)
    s["join_effect"] = np.where(during, effect[np.maximum(trust, 0)], 0.0)


def planted_trusts(schools: int = DEFAULT_SCHOOLS, years: int = DEFAULT_YEARS,
                   seed: int = DEFAULT_SEED) -> dict[float, str]:
    """The planted effect -> the name (as GIAS writes it) of the trust it is planted on, in the demo of that size
    (empty for a demo too short to plant any)."""
    t = _build_world(schools, years, seed).trusts
    return {float(e): str(t.loc[t["planted"] == e, "name"].iloc[0]) for e in t["planted"].dropna().unique()}


def joining_shift(w: _World, y: int) -> np.ndarray:
    """Each school's planted shift in academic year y from joining its trust (0 for a school that did not join
    during the window): the dip the year before, JOIN_RAMP of the effect the year it joins, all of it after."""
    s = w.s
    if "joined_ay" not in s.columns:
        return np.zeros(len(s))
    k = y - s["joined_ay"].to_numpy()
    joined = s["joined_ay"].to_numpy() >= 0
    e = s["join_effect"].to_numpy()
    return np.where(~joined, 0.0, np.where(k == -1, JOIN_DIP, np.where(k == 0, JOIN_RAMP * e,
                                                                       np.where(k > 0, e, 0.0))))


def _urn_in(w: _World, y: int) -> np.ndarray:
    """Each school's URN in academic year y: a converter academy's old URN before the year it converted."""
    s = w.s
    before = (s["old_urn"].to_numpy() > 0) & (y < s["converted_ay"].to_numpy())
    return np.where(before, s["old_urn"].to_numpy(), s["urn"].to_numpy())
