"""The synthetic demo: DfE-format files written by data.demo, imported through the real importers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from data import demo
from data.store import Store

SCHOOLS, YEARS, SEED = 300, 3, 4242
PERIODS = ["2022/23", "2023/24", "2024/25"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One small demo per module: its store (read-only), the files it imported, its summary and progress."""
    root = tmp_path_factory.mktemp("demo")
    messages: list[tuple[str, float]] = []
    summary = demo.build_demo(root / "demo.duckdb", schools=SCHOOLS, years=YEARS, seed=SEED, files_dir=root / "files",
                              progress=lambda msg, frac: messages.append((msg, frac)))
    store = Store(root / "demo.duckdb", read_only=True)
    try:
        yield {"store": store, "root": root, "files": root / "files", "summary": summary, "progress": messages}
    finally:
        store.close()


def _rows(path: Path, encoding: str = "utf-8-sig") -> tuple[list[str], list[list[str]]]:
    with open(path, encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


# ------------------------------------------------------------------------------------------ the build


def test_store_is_flagged_as_the_demo(built) -> None:
    st: Store = built["store"]
    assert st.is_demo()
    assert (st.setting("demo_seed"), st.setting("demo_schools"), st.setting("demo_years")) == (str(SEED), "300", "3")
    assert not list(built["root"].glob("*.building*"))  # built beside the target, then moved into place
    assert "Synthetic" in built["summary"] and "300 schools" in built["summary"]
    fractions = [f for _, f in built["progress"]]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0


def test_every_file_imported_cleanly(built) -> None:
    log = built["store"].import_log()
    assert len(log) == 4 + 7 * YEARS  # EES + GIAS x3, then seven performance files a year
    assert set(log["outcome"]) == {"ok"}
    assert int(log["problems"].sum()) == 0
    assert set(log["kind"]) == {"ees_census", "gias_establishments", "gias_groups", "gias_links", "census", "abs",
                                "swf", "cfr", "ks2final", "ks4final", "ks4-pupdest"}


def test_phases_in_national_proportions(built) -> None:
    phases = built["store"].query_df("SELECT phase, count(*) AS n FROM establishments GROUP BY phase")
    share = dict(zip(phases["phase"], phases["n"] / phases["n"].sum(), strict=True))
    assert 0.65 < share["primary"] < 0.82
    assert 0.10 < share["secondary"] < 0.22
    assert {"special", "all_through", "nursery"} <= set(share)
    assert share.get("alternative", 0) + share.get("other", 0) > 0


def test_locations_are_inside_england(built) -> None:
    lat_lo, lat_hi, lon_lo, lon_hi, missing = built["store"].query(
        "SELECT min(latitude), max(latitude), min(longitude), max(longitude), count(*) FILTER (latitude IS NULL) "
        "FROM establishments")[0]
    assert missing == 0
    assert 49.9 < lat_lo and lat_hi < 55.9
    assert -6.4 < lon_lo and lon_hi < 1.8
    london = built["store"].query("SELECT avg(latitude), avg(longitude) FROM establishments WHERE region = 'London'")
    assert abs(london[0][0] - 51.5) < 0.15 and abs(london[0][1] + 0.1) < 0.25


# ------------------------------------------------------------------------------------------ groups


def _members_by_group(st: Store, kind: str) -> dict[int, set[int]]:
    rows = st.query("SELECT m.group_id, m.urn FROM memberships m JOIN groups g USING (group_id) WHERE g.kind = ?",
                    [kind])
    out: dict[int, set[int]] = {}
    for gid, urn in rows:
        out.setdefault(gid, set()).add(urn)
    return out


def test_trusts_of_several_sizes_and_federations(built) -> None:
    st: Store = built["store"]
    sizes = sorted(len(m) for m in _members_by_group(st, "trust").values())
    assert sizes[-1] >= 15  # a large trust
    assert any(2 <= n <= 10 for n in sizes)  # and many small ones
    assert 1 in sizes  # single-academy trusts
    in_trusts = len(set().union(*_members_by_group(st, "trust").values()))
    assert 0.3 < in_trusts / SCHOOLS < 0.55
    feds = _members_by_group(st, "federation")
    assert feds and all(2 <= len(m) <= 4 for m in feds.values())
    trust_schools = set().union(*_members_by_group(st, "trust").values())
    assert not trust_schools & set().union(*feds.values())  # federations are of maintained schools


def test_partnerships_cross_trust_lines_in_one_town(built) -> None:
    st: Store = built["store"]
    trust_of = dict(st.query("SELECT m.urn, m.group_id FROM memberships m JOIN groups g USING (group_id) "
                             "WHERE g.kind = 'trust'"))
    parts = _members_by_group(st, "partnership")
    assert parts
    for members in parts.values():
        assert 3 <= len(members) <= 12
        assert len({trust_of.get(u) for u in members}) >= 2  # more than one trust, or trust and maintained
    flagship = st.find_group(demo.FLAGSHIP_PARTNERSHIP)
    assert flagship is not None and flagship.kind == "partnership"
    info = st.establishments(st.group_members(flagship.group_id, "2024/25"))
    assert {"primary", "secondary"} <= set(info["phase"])
    assert (info["town"] == demo.FLAGSHIP_TOWN).sum() >= len(info) // 2
    trusts = {trust_of[u] for u in info["urn"] if u in trust_of}
    assert len(trusts) >= 1 and len({trust_of.get(u) for u in info["urn"]}) >= 2


def test_clusters_nest_inside_their_trust(built) -> None:
    st: Store = built["store"]
    clusters = st.groups("cluster")
    assert len(clusters) >= 2
    for c in clusters.itertuples():
        parent = st.find_group(int(c.parent_id))
        assert parent is not None and parent.kind == "trust"
        members = set(st.group_members(c.group_id))
        assert members <= set(st.group_members(parent.group_id, include_subgroups=False))


def test_links_file_has_joining_dates_that_vary(built) -> None:
    header, rows = _rows(next(built["files"].glob("alllinksdata*.csv")), encoding="cp1252")
    joined = {r[header.index("Joined date")] for r in rows}
    in_window = {d for d in joined if d[-4:] in ("2022", "2023", "2024", "2025")}
    assert len(joined) > 10 and in_window  # some schools joined during the window


def test_trust_membership_start_dates_survive_the_import(built) -> None:
    starts = built["store"].query("SELECT count(DISTINCT m.start_date) FROM memberships m JOIN groups g "
                                  "USING (group_id) WHERE g.kind = 'trust'")[0][0]
    assert starts > 1


def test_alternative_provision_academies_keep_their_phase(built) -> None:
    assert not built["store"].query("SELECT count(*) FROM establishments WHERE phase = 'other'")[0][0]


# ------------------------------------------------------------------------------------------ values


def test_progress8_benchmarks_where_published(built) -> None:
    st: Store = built["store"]
    nat = st.benchmarks(measures=["progress8"])
    state = nat[nat["scope"] == "state_funded"].set_index("period")
    for period in ("2022/23", "2023/24"):
        assert -0.1 < state.loc[period, "value"] < 0.05
    # not calculated for 2024/25: those pupils sat no KS2 tests in 2020
    assert state.loc["2024/25", "status"] == "not_applicable" and state.loc["2024/25", "status_code"] == "NA"
    latest = dict(st.query("SELECT status, count(*) FROM observations WHERE level = 'school' "
                           "AND measure = 'progress8' AND period = '2024/25' GROUP BY status"))
    assert "ok" not in latest and latest["not_applicable"] > 0


def test_small_cohorts_are_suppressed_with_supp(built) -> None:
    rows = built["store"].query(
        "SELECT source_kind, count(*) FROM observations WHERE status = 'suppressed' AND status_code = 'SUPP' "
        "GROUP BY source_kind")
    kinds = dict(rows)
    assert kinds.get("ks2final", 0) > 0 and kinds.get("ks4final", 0) > 0
    codes = {r[0] for r in built["store"].query("SELECT DISTINCT status_code FROM observations")}
    assert {"SUPP", "NA", "NE", "LOWCOV"} <= codes


def test_a_progress8_value_matches_the_file(built) -> None:
    header, rows = _rows(built["files"] / "2023-2024" / "england_ks4final.csv")
    h = {name: i for i, name in enumerate(header)}
    row = next(r for r in rows if r[h["RECTYPE"]] == "1" and len(r) == len(header)
               and r[h["P8MEA"]].lstrip("-").replace(".", "").isdigit())
    got = built["store"].school_observations([int(row[h["URN"]])], ["2023/24"], ["progress8"]).iloc[0]
    assert got["value"] == float(row[h["P8MEA"]])
    assert got["ci_low"] == float(row[h["P8CILOW"]]) and got["ci_high"] == float(row[h["P8CIUPP"]])
    assert got["denominator"] == float(row[h["P8PUP"]])


def test_local_measures_with_values_that_balance(built) -> None:
    st: Store = built["store"]
    flagship = st.find_group(demo.FLAGSHIP_PARTNERSHIP)
    ids = {m["id"] for m in st.local_measures(flagship.group_id)}
    assert {"student_leadership_participation", "cpd_hours_per_teacher", "support_hours_given",
            "support_hours_received", "community_events"} <= ids
    assert len(st.local_measures()) > len(ids)  # a trust keeps measures of its own too
    sums = st.query_df("SELECT measure, period, sum(value) AS v, count(*) AS n FROM observations "
                       "WHERE source_kind = 'local' GROUP BY ALL")
    assert (sums["n"] > 0).all()
    given = sums[sums["measure"] == "support_hours_given"].set_index("period")["v"].sort_index()
    received = sums[sums["measure"] == "support_hours_received"].set_index("period")["v"].sort_index()
    assert given.round(6).equals(received.round(6)) and (given > 0).all()
    lead = st.query("SELECT count(*) FROM observations WHERE measure = 'student_leadership_participation' "
                    "AND numerator IS NOT NULL AND denominator > 0")[0][0]
    assert lead > 0


# ------------------------------------------------------------------------------------------ the files


def test_files_keep_the_real_byte_conventions(built) -> None:
    files: Path = built["files"]
    ks4 = (files / "2023-2024" / "england_ks4final.csv").read_bytes()
    assert ks4.startswith(b"\xef\xbb\xbf") and b"\r\n" in ks4 and not ks4.endswith(b"\n")
    assert b"%," in ks4  # percentages written as 45% / 58.8%
    gias = next(files.glob("edubasealldata*.csv")).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gias.decode("utf-8")
    assert "Zoë".encode("cp1252") in gias and gias.startswith(b'"URN","LA (code)"')
    header, rows = _rows(files / "2023-2024" / "england_census.csv")
    assert {r[0] for r in rows if not r[0].isdigit()} == {"LA", "NAT"}
    assert {r[2] for r in rows if r[0] == "NAT"} <= {"PRI", "SEC", "SPE"}
    cfr = (files / "2023-2024" / "england_cfr.csv").read_bytes().decode("utf-8-sig")
    assert '"' in cfr and "\r\nNAT-PRI," in cfr
    header, rows = _rows(files / "2022-2023" / "england_abs.csv")
    assert "PPERSABS15" in header  # the earliest year's column drift
    ragged = []
    for year in ("2023-2024", "2024-2025"):  # a new secondary has no year 11 yet: its row stops short
        header, rows = _rows(files / year / "england_ks4final.csv")
        ragged += [r for r in rows if r[0] in ("1", "2") and len(r) < len(header)]
    assert ragged and all(r[-1] == "NEW" for r in ragged)
    ees_header, ees_rows = _rows(next(files.glob("spc_school_level_*.csv")), encoding="utf-8")
    assert "trust" in ees_header and {r[0] for r in ees_rows} == {"202425"}


def test_same_seed_same_bytes_other_seed_differs(built, tmp_path: Path) -> None:
    again = demo.write_demo_files(tmp_path / "again", schools=SCHOOLS, years=YEARS, seed=SEED)
    for path, _ in again:
        assert path.read_bytes() == (built["files"] / path.relative_to(tmp_path / "again")).read_bytes(), path.name
    other = demo.write_demo_files(tmp_path / "other", schools=SCHOOLS, years=YEARS, seed=SEED + 1)
    differ = [p for p, _ in other if p.read_bytes() != (tmp_path / "again" / p.relative_to(tmp_path / "other"))
              .read_bytes()]
    assert len(differ) == len(other)


def test_a_failed_build_leaves_the_existing_store_alone_and_a_good_one_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "jointly.duckdb"
    with Store(path) as st:
        st.set_setting("demo", "true")  # an earlier demo: only a store marked so is replaced without --replace
        st.set_setting("marker", "old")
    before = path.read_bytes()
    with pytest.raises(ValueError):
        demo.build_demo(path, schools=10)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.building*"))
    demo.build_demo(path, schools=60, years=1, seed=7)
    with Store(path, read_only=True) as st:
        assert st.is_demo() and st.setting("marker") is None
        assert st.info().periods == ["2024/25"]
