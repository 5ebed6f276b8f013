"""The synthetic demo: DfE-format files written by data.demo.build, imported through the real importers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from data.db.store import Store
from data.demo import build as demo
from data.demo.files import write_demo_files
from data.demo.world import FLAGSHIP_TOWN
from data.services import groups, imports, local_measures, schools

SCHOOLS, YEARS, SEED = 300, 3, 4242
PERIODS = ["2023/24", "2024/25", "2025/26"]  # England as it is now: the latest results are 2025/26


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


# Per year: census, absence, workforce, finance and destinations in the older layout; from 2023/24 the KS2 and KS4
# school results, KS4 information about schools, the KS4 and KS2 national files and DfE's two trust files on EES
PER_YEAR = 5 + 7
ONCE = 8  # EES census, GIAS establishments, groups, links, trust memberships, predecessors; Ofsted x2


def test_every_file_imported_cleanly(built) -> None:
    log = imports.import_log(built["store"])
    assert len(log) == ONCE + PER_YEAR * YEARS
    assert set(log["outcome"]) == {"ok"}
    assert int(log["problems"].sum()) == 0
    assert set(log["kind"]) == {"ees_census", "gias_establishments", "gias_groups", "gias_links",
                                "gias_trust_membership", "gias_predecessors", "ofsted", "ofsted_report_card",
                                "census", "abs", "swf", "cfr", "ks4-pupdest", "ees_ks2", "ees_ks4", "ees_school_info",
                                "ees_national", "ees_trust_results", "ees_trust_info"}


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
    flagship = groups.find_group(st, demo.FLAGSHIP_PARTNERSHIP)
    assert flagship is not None and flagship.kind == "partnership"
    info = schools.establishments(st, groups.group_members(st, flagship.group_id, PERIODS[-1]))
    assert {"primary", "secondary"} <= set(info["phase"])
    assert (info["town"] == FLAGSHIP_TOWN).sum() >= len(info) // 2
    trusts = {trust_of[u] for u in info["urn"] if u in trust_of}
    assert len(trusts) >= 1 and len({trust_of.get(u) for u in info["urn"]}) >= 2


def test_clusters_nest_inside_their_trust(built) -> None:
    st: Store = built["store"]
    clusters = groups.groups(st, "cluster")
    assert len(clusters) >= 2
    for c in clusters.itertuples():
        parent = groups.find_group(st, int(c.parent_id))
        assert parent is not None and parent.kind == "trust"
        members = set(groups.group_members(st, c.group_id))
        assert members <= set(groups.group_members(st, parent.group_id, include_subgroups=False))


def test_links_file_has_joining_dates_that_vary(built) -> None:
    header, rows = _rows(next(built["files"].glob("alllinksdata*.csv")), encoding="cp1252")
    joined = {r[header.index("Joined date")] for r in rows}
    in_window = {d for d in joined if d[-4:] in ("2023", "2024", "2025", "2026")}
    assert len(joined) > 10 and in_window  # some schools joined during the window


def test_trust_membership_start_dates_survive_the_import(built) -> None:
    starts = built["store"].query("SELECT count(DISTINCT m.start_date) FROM memberships m JOIN groups g "
                                  "USING (group_id) WHERE g.kind = 'trust'")[0][0]
    assert starts > 1


def test_alternative_provision_academies_keep_their_phase(built) -> None:
    assert not built["store"].query("SELECT count(*) FROM establishments WHERE phase = 'other'")[0][0]


# ------------------------------------------------------------------------------------------ values


def _statuses(st: Store, measure: str, period: str) -> dict[str, int]:
    return dict(st.query("SELECT status, count(*) FROM observations WHERE level = 'school' AND measure = ? "
                         "AND period = ? GROUP BY status", [measure, period]))


def test_progress8_benchmarks_where_published(built) -> None:
    st: Store = built["store"]
    nat = schools.benchmarks(st, measures=["progress8"])
    state = nat[nat["scope"] == "state_funded"].set_index("period")
    assert -0.1 < state.loc["2023/24", "value"] < 0.05
    assert _statuses(st, "progress8", "2023/24").get("ok", 0) > 0
    # not calculated for 2024/25 nor 2025/26: those pupils sat no KS2 tests in 2020 and 2021
    for period in ("2024/25", "2025/26"):
        assert state.loc[period, "status"] == "not_applicable", period
        latest = _statuses(st, "progress8", period)
        assert "ok" not in latest and latest["not_applicable"] > 0, period


def test_ks2_progress_only_where_published(built) -> None:
    st: Store = built["store"]
    for period in ("2023/24", "2024/25"):  # no KS1 assessments in 2020 and 2021: no baseline
        got = _statuses(st, "ks2_reading_progress", period)
        assert "ok" not in got and got.get("not_applicable", 0) > 0, period
    assert _statuses(st, "ks2_reading_progress", "2025/26").get("ok", 0) > 0
    assert _statuses(st, "ks2_rwm_expected", "2024/25").get("ok", 0) > 0  # attainment is there every year


def test_ebacc_ends_with_2024_25(built) -> None:
    st: Store = built["store"]
    ebacc = dict(st.query("SELECT period, count(*) FILTER (status = 'ok') FROM observations WHERE level = 'school' "
                          "AND measure LIKE 'ebacc%' GROUP BY period"))
    assert ebacc.get("2023/24", 0) > 0 and ebacc.get("2024/25", 0) > 0
    assert ebacc.get("2025/26", 0) == 0  # scrapped: the 2025/26 tables carry no EBacc
    assert _statuses(st, "attainment8", "2025/26").get("ok", 0) > 0


def test_small_cohorts_are_suppressed_with_the_files_symbols(built) -> None:
    rows = built["store"].query(
        "SELECT source_kind, count(*) FROM observations WHERE status = 'suppressed' AND status_code = 'c' "
        "GROUP BY source_kind")
    kinds = dict(rows)
    assert kinds.get("ees_ks2", 0) > 0 and kinds.get("ees_ks4", 0) > 0  # EES: c
    codes = {r[0] for r in built["store"].query("SELECT DISTINCT status_code FROM observations")}
    assert {"c", "z", "low", "NA"} <= codes  # EES symbols, and NA in the older census layout


def _ees(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_progress8_value_matches_the_ees_file(built) -> None:
    rows = _ees(built["files"] / "2023-2024" / "202324_performance_tables_schools_final.csv")
    row = next(r for r in rows if r["breakdown"] == "Total" and r["avg_p8score"] not in ("c", "z", "x"))
    got = schools.school_observations(built["store"], [int(row["school_urn"])], ["2023/24"], ["progress8"]).iloc[0]
    assert got["value"] == float(row["avg_p8score"])
    assert got["ci_low"] == float(row["p8score_ci_low"]) and got["ci_high"] == float(row["p8score_ci_upp"])
    assert got["denominator"] == float(row["t_inp8calc"])


def test_a_pupil_group_value_matches_the_ees_file(built) -> None:
    rows = _ees(built["files"] / "2024-2025" / "202425_performance_tables_schools_revised.csv")
    row = next(r for r in rows if r["breakdown"] == "Disadvantaged" and r["attainment8_average"] not in "czx")
    got = built["store"].query("SELECT value, denominator, version FROM pupil_group_observations WHERE urn = ? "
                               "AND measure = 'attainment8' AND period = '2024/25' AND pupil_group = 'disadvantaged' "
                               "AND scope IS NULL",  # (the information file's gap is scope 'gap')
                               [int(row["school_urn"])])
    assert got == [(float(row["attainment8_average"]), float(row["pupil_count"]), "revised")]


def test_the_national_comparator_comes_from_dfes_national_file(built) -> None:
    rows = _ees(built["files"] / "2024-2025" /
                "202425_all_state_funded_pupils_characteristics_and_geography_breakdowns_revised.csv")
    nat = next(r for r in rows if r["geographic_level"] == "National" and r["disadvantage_status"] == "Total")
    got = built["store"].query("SELECT value FROM observations WHERE level = 'national' AND scope = 'state_funded' "
                               "AND measure = 'attainment8' AND period = '2024/25'")
    assert got == [(float(nat["attainment8_average"]),)]


def test_versions_as_a_data_manager_holds_them_in_december_2026(built) -> None:
    got = dict(built["store"].query("SELECT period, string_agg(DISTINCT version, ',') FROM observations "
                                    "WHERE source_kind = 'ees_ks4' GROUP BY period"))
    assert got == {"2023/24": "final", "2024/25": "revised", "2025/26": "provisional"}


def test_inspections_report_cards_from_november_2025_and_1_to_4_grades_before(built) -> None:
    st: Store = built["store"]
    frames = dict(st.query("SELECT framework, max(start_date) FROM inspections GROUP BY framework"))
    first_rc = st.query("SELECT min(start_date) FROM inspections WHERE framework = 'report_card'")[0][0]
    assert str(first_rc) >= "2025-11-10" and str(frames["oeif"]) < "2024-09-01"
    header, rows = _rows(next(built["files"].glob("*all_inspections*")), encoding="cp1252")
    row = dict(zip(header, rows[0], strict=True))
    grades = dict(st.query("SELECT g.area, g.grade FROM inspection_grades g WHERE g.urn = ? AND g.framework = "
                           "'report_card'", [int(row["URN"])]))
    assert grades["achievement"] == row["Achievement"] and grades["safeguarding"] == row["Safeguarding standards"]
    words = {"Exceptional", "Strong standard", "Expected standard", "Needs attention", "Urgent improvement", "Met",
             "Not met"}
    assert {g for g in grades.values() if g} <= words


def test_a_school_that_moved_trust_keeps_both_memberships_with_their_dates(built) -> None:
    header, rows = _rows(next(built["files"].glob("academiesmatmembership*.csv")), encoding="cp1252")
    h = {name: i for i, name in enumerate(header)}
    left = next(r for r in rows if r[h["Date Left Group"]])
    got = built["store"].query("SELECT CAST(m.start_date AS VARCHAR), CAST(m.end_date AS VARCHAR) FROM memberships m "
                               "JOIN groups g USING (group_id) WHERE m.urn = ? AND g.code = ?",
                               [int(left[h["URN"]]), left[h["Group ID"]]])
    assert got == [(left[h["Date Joined Group"]], left[h["Date Left Group"]])]


def test_a_converted_school_has_its_earlier_results_under_its_old_urn(built) -> None:
    st: Store = built["store"]
    header, rows = _rows(next(built["files"].glob("links_edubasealldata*.csv")), encoding="cp1252")
    assert header == ["URN", "LinkURN", "LinkName", "LinkType", "LinkEstablishedDate"] and rows
    new, old, _, kind, when = next(r for r in rows if r[3] == "Predecessor")
    est = dict((u, (s, str(o), str(c))) for u, s, o, c in st.query(
        "SELECT urn, status, open_date, close_date FROM establishments WHERE urn IN (?, ?)", [int(new), int(old)]))
    day = f"{when[6:]}-{when[3:5]}-{when[:2]}"
    assert est[int(new)][:2] == ("open", day) and est[int(old)][0] == "closed"
    first = int(when[6:]) - (int(when[3:5]) < 9)  # the academic year it converted in
    periods = dict(st.query("SELECT period, string_agg(DISTINCT CAST(urn AS VARCHAR), ',') FROM observations "
                            "WHERE source_kind = 'census' AND urn IN (?, ?) GROUP BY period", [int(new), int(old)]))
    for period, urn in periods.items():
        assert urn == (new if int(period[:4]) >= first else old), period
    assert st.query("SELECT count(*) FROM school_lineage WHERE urn = ? AND ancestor_urn = ?", [int(new), int(old)]) \
        == [(1,)]


def test_dfes_trust_figures_match_the_trust_file(built) -> None:
    rows = _ees(built["files"] / "2023-2024" / "202324_performance_tables_multi_academy_trusts_final.csv")
    assert rows
    row = next(r for r in rows if r["disadvantage_status"] == "Total")
    got = built["store"].query("SELECT value, cohort FROM trust_published WHERE gias_uid = ? AND period = '2023/24' "
                               "AND measure = 'attainment8' AND pupil_group IS NULL", [int(row["trust_uid"])])
    assert got == [(float(row["attainment8_average_weighted"]), float(row["pupil_count"]))]


def test_local_measures_with_values_that_balance(built) -> None:
    st: Store = built["store"]
    flagship = groups.find_group(st, demo.FLAGSHIP_PARTNERSHIP)
    ids = {m["id"] for m in local_measures.local_measures(st, flagship.group_id)}
    assert {"student_leadership_participation", "cpd_hours_per_teacher", "support_hours_given",
            "support_hours_received", "community_events"} <= ids
    assert len(local_measures.local_measures(st)) > len(ids)  # a trust keeps measures of its own too
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
    census = (files / "2023-2024" / "england_census.csv").read_bytes()
    assert census.startswith(b"\xef\xbb\xbf") and b"\r\n" in census and not census.endswith(b"\n")
    assert b"%," in (files / "2023-2024" / "england_ks4-pupdest.csv").read_bytes()  # percentages written as 45%
    ees = (files / "2024-2025" / "202425_performance_tables_schools_revised.csv").read_bytes()
    assert ees.startswith(b'"time_period","time_identifier"') and b"\r" not in ees and ees.endswith(b'"\n')
    members = next(files.glob("academiesmatmembership*.csv")).read_bytes()
    assert members.startswith(b'"URN","DfE Number"') and "Chloé".encode("cp1252") in members
    links = next(files.glob("links_edubasealldata*.csv")).read_bytes()
    assert b'"\r\n1' in links and not links.endswith(b"\n")  # URNs bare, CRLF, no final line break
    ofsted = next(files.glob("*latest_inspections_as_at_31_Aug_2024.csv")).read_bytes()
    assert ofsted.startswith(b"Web link,URN,LAESTAB") and b"\r" not in ofsted
    gias = next(files.glob("edubasealldata*.csv")).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gias.decode("utf-8")
    assert "Zoë".encode("cp1252") in gias and gias.startswith(b'"URN","LA (code)"')
    header, rows = _rows(files / "2023-2024" / "england_census.csv")
    assert {r[0] for r in rows if not r[0].isdigit()} == {"LA", "NAT"}
    assert {r[2] for r in rows if r[0] == "NAT"} <= {"PRI", "SEC", "SPE"}
    cfr = (files / "2023-2024" / "england_cfr.csv").read_bytes().decode("utf-8-sig")
    assert '"' in cfr and "\r\nNAT-PRI," in cfr
    for year in ("2023-2024", "2025-2026"):  # persistent absence at 10% since 2015/16: never the 15% column
        header, rows = _rows(files / year / "england_abs.csv")
        assert "PPERSABS10" in header and "PPERSABS15" not in header
    ees_header, ees_rows = _rows(next(files.glob("spc_school_level_*.csv")), encoding="utf-8")
    assert "trust" in ees_header and {r[0] for r in ees_rows} == {"202526"}


REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
KS4_RELEASE = REALDATA / "ees_ks4_2024-25_hal609"
OFSTED_MI = REALDATA / "ofsted_mi_2025-26_hal609"


def _header(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    with open(path, encoding=encoding, newline="") as fh:
        return next(csv.reader(fh))


def _guidance_variables(filename: str) -> set[str]:
    """The variable names data-guidance.txt lists for one file of the 2024/25 KS4 release."""
    lines = (KS4_RELEASE / "data-guidance.txt").read_text(encoding="utf-8").splitlines()
    i = lines.index(f"Filename: {filename}")
    while not lines[i].startswith("Variable name"):
        i += 1
    out = set()
    for line in lines[i + 2:]:
        if not line.strip():
            return out
        out.add(line.split("|")[0].strip())
    return out


EES_KEYS = {"time_period", "time_identifier", "geographic_level", "country_code", "country_name", "school_laestab",
            "school_urn", "school_name", "old_la_code", "new_la_code", "la_name", "version",
            "establishment_type_group", "breakdown_topic", "breakdown", "region_code", "region_name"}


def test_the_writers_copy_the_real_files_headers(built) -> None:
    files: Path = built["files"]
    same = [  # (demo file, the real file whose header it copies)
        (files / "2024-2025" / "202425_information_about_schools_revised.csv",
         KS4_RELEASE / "202425_information_about_schools_provisional.csv", "utf-8"),
        (files / "2024-2025" / "202425_performance_tables_multi_academy_trusts_revised.csv",
         KS4_RELEASE / "EXCERPT_202425_performance_tables_multi_academy_trusts_revised.csv", "utf-8"),
        (files / "2024-2025" / "202425_information_about_multi_academy_trusts_revised.csv",
         KS4_RELEASE / "EXCERPT_202425_information_about_multi_academy_trusts_revised.csv", "utf-8"),
        (next(files.glob("*latest_inspections_as_at_31_Aug_2024.csv")),
         OFSTED_MI / "EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections_as_at_31_Aug_2024.csv",
         "cp1252"),
        (next(files.glob("*all_inspections*")), next(OFSTED_MI.glob("Management_information_*all_inspections*")),
         "cp1252"),
        (next(files.glob("academiesmatmembership*.csv")),
         REALDATA / "gias_2025_cianfhoghlaim" / "EXCERPT_academiesmatmembership20250426.csv", "cp1252"),
        (next(files.glob("links_edubasealldata*.csv")),
         REALDATA / "gias_links_2024_witan" / "links_edubasealldata20240129.csv", "cp1252"),
    ]
    for ours, real, encoding in same:
        assert _header(ours, encoding) == _header(real, "cp1252" if encoding == "cp1252" else "utf-8-sig"), ours.name
    # the school results and national files: every column one the release's data guidance names for that file
    ks4 = set(_header(files / "2024-2025" / "202425_performance_tables_schools_revised.csv"))
    assert ks4 - EES_KEYS <= _guidance_variables("202425_performance_tables_schools_revised.csv")
    national = set(_header(files / "2024-2025" /
                           "202425_all_state_funded_pupils_characteristics_and_geography_breakdowns_revised.csv"))
    assert national - EES_KEYS <= _guidance_variables(
        "202425_all_state_funded_pupils_characteristics_and_geography_breakdowns_revised.csv")
    ks4_2526 = set(_header(files / "2025-2026" / "202526_performance_tables_schools_provisional.csv"))
    assert not {c for c in ks4_2526 if c.startswith("ebacc")} and "attainment8_average" in ks4_2526


def test_older_years_in_the_performance_tables_layout_newer_on_ees(tmp_path: Path) -> None:
    files = {(p.parent.name, p.name) for p, _ in write_demo_files(tmp_path, schools=SCHOOLS, years=5, seed=SEED)}
    for year in ("2021-2022", "2022-2023"):  # before DfE moved school results to Explore Education Statistics
        assert {(year, "england_ks4final.csv"), (year, "england_ks2final.csv")} <= files
        assert not any(f[0] == year and "performance_tables" in f[1] for f in files)
    for year, tag in (("2023-2024", "202324"), ("2025-2026", "202526")):
        assert (year, f"{tag}_performance_tables_schools_{'final' if tag == '202324' else 'provisional'}.csv") in files
        assert not any(f[0] == year and f[1].startswith(("england_ks4final", "england_ks2final")) for f in files)
    ks4 = (tmp_path / "2022-2023" / "england_ks4final.csv").read_bytes()
    assert ks4.startswith(b"\xef\xbb\xbf") and b"\r\n" in ks4 and b"%," in ks4
    header, rows = _rows(tmp_path / "2022-2023" / "england_ks4final.csv")
    ragged = [r for r in rows if r[0] in ("1", "2") and len(r) < len(header)]  # a new secondary has no year 11 yet
    assert ragged and all(r[-1] == "NEW" for r in ragged)
    assert "PTEBACC_E_PTQ_EE" in header and "P8MEA" in header


def test_same_seed_same_bytes_other_seed_differs(built, tmp_path: Path) -> None:
    again = write_demo_files(tmp_path / "again", schools=SCHOOLS, years=YEARS, seed=SEED)
    for path, _ in again:
        assert path.read_bytes() == (built["files"] / path.relative_to(tmp_path / "again")).read_bytes(), path.name
    other = write_demo_files(tmp_path / "other", schools=SCHOOLS, years=YEARS, seed=SEED + 1)
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
        # one year's tables, and the destinations they carry: of the pupils who finished KS4 in 2023/24
        assert st.info().periods == ["2023/24", "2025/26"]
        assert st.query("SELECT DISTINCT source_kind FROM observations WHERE period = '2023/24'") == [("ks4-pupdest",)]
