"""GIAS history (issue 10, points 4 and 10): trust memberships with their real dates, predecessor/successor links
stored once, and a school's series followed across its URN change, all against the real GIAS files' own cells."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from data.db.store import Store
from data.ingest.formats import FileKind
from data.ingest.importers import import_file
from data.services import groups as groups_svc
from tests.conftest import REALDATA, read_csv_rows, refused

GIAS_2025 = REALDATA / "gias_2025_cianfhoghlaim"
MEMBERSHIP = GIAS_2025 / "EXCERPT_academiesmatmembership20250426.csv"
ALLLINKS = GIAS_2025 / "EXCERPT_alllinksdata20250426.csv"
PREDECESSORS = REALDATA / "gias_links_2024_witan" / "links_edubasealldata20240129.csv"


def _iso(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _dmy(text: str, sep: str = "/") -> dt.date | None:
    return dt.datetime.strptime(text, f"%d{sep}%m{sep}%Y").date() if text else None


def write_gias(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write rows the way GIAS's 2025 extracts are written: every field quoted, LF endings, Windows-1252."""
    with open(path, "w", encoding="cp1252", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *rows])
    return path


def memberships(store: Store) -> list[tuple]:
    return store.query("SELECT g.gias_uid, m.urn, m.start_date, m.end_date FROM memberships m "
                       "JOIN groups g USING (group_id) ORDER BY ALL")


# ------------------------------------------------------------------------------ point 4: trust membership history


def test_membership_history_keeps_each_stay_with_its_real_dates(store: Store) -> None:
    header, rows = read_csv_rows(MEMBERSHIP, encoding="cp1252")
    h = header.index
    report = import_file(store, MEMBERSHIP)
    assert (report.ok, report.kind) == (True, FileKind.GIAS_TRUST_MEMBERSHIP), report.summary()
    # rows whose Date Left Group is before their Date Joined Group are no time in the trust: each is reported at
    # its own line and column, and no membership is made of it
    backwards = [(i + 2, r) for i, r in enumerate(rows)
                 if r[h("Date Left Group")] and r[h("Date Left Group")] < r[h("Date Joined Group")]]
    assert [(p.line, p.column) for p in report.problems] == [(line, "Date Left Group") for line, _ in backwards]
    assert len(backwards) == 2  # 131898 (left 30 Apr 2017, joined 1 May) and 146306's withdrawn second row
    kept = [r for r in rows if not (r[h("Date Left Group")] and r[h("Date Left Group")] < r[h("Date Joined Group")])]
    assert memberships(store) == sorted(
        (int(r[h("Group UID")]), int(r[h("URN")]), _iso(r[h("Date Joined Group")]), _iso(r[h("Date Left Group")]))
        for r in kept)
    # a school seen twice is two stays, not a duplicate: 137036 left TR00261 on the day it joined TR00002
    assert [m for m in memberships(store) if m[1] == 137036] == [
        (2044, 137036, dt.date(2015, 3, 1), dt.date(2015, 3, 1)), (2046, 137036, dt.date(2015, 3, 1), None)]
    groups = store.query("SELECT gias_uid, code, name, kind, status, open_date, close_date FROM groups ORDER BY 1")
    first = {}
    for r in rows:
        first.setdefault(int(r[h("Group UID")]), r)
    assert groups == [(uid, r[h("Group ID")], r[h("Group Name")], "trust", r[h("Group Status")].lower(),
                       _iso(r[h("Group Open Date")]), _iso(r[h("Group Closed Date")]))
                      for uid, r in sorted(first.items())]
    reasons = dict(store.query("SELECT urn, open_reason FROM establishment_reasons"))
    assert reasons == {int(r[h("URN")]): r[h("ReasonEstablishmentOpened (name)")] for r in rows}
    again = import_file(store, MEMBERSHIP)
    assert (again.ok, again.memberships_changed, again.groups_added) == (True, 0, 0)


def test_the_dfe_trust_method_counts_real_years_in_the_trust(store: Store) -> None:
    import_file(store, MEMBERSHIP)
    gid = groups_svc.find_group(store, "TR00002").group_id
    # 2024/25: each open member's full years since its Date Joined Group (a 1 September join counts that year)
    years = groups_svc.membership_years(store, gid, "2024/25")
    assert years == {137036: 10, 137083: 14, 138824: 8, 140399: 8, 141521: 10, 144809: 8, 144865: 8, 146306: 7}
    # in 2014/15 only the schools that had joined by then were members (137036 joined on 1 March 2015)
    assert groups_svc.membership_years(store, gid, "2014/15") == {137036: 0, 137083: 4, 141521: 0}


def test_a_dated_file_replaces_undated_evidence_and_no_other_group(store: Store, tmp_path: Path) -> None:
    """140594 is undated in two groups (alllinks, Joined date 01/01/1900); the membership history dates its stay in
    group 1128 and leaves its federation alone."""
    header, _ = read_csv_rows(ALLLINKS, encoding="cp1252")
    row = dict.fromkeys(header, "")
    row.update({"URN": "140594", "Group UID": "1128", "Group ID": "TR02582", "Group Name": "THE HERMITAGE SCHOOL",
                "Group Type (code)": "10", "Group Type": "Single-academy trust", "Group Status": "Closed",
                "Joined date": "01/01/1900", "EstablishmentName": "The Hermitage Junior School"})
    fed = {**row, "Group UID": "9001", "Group ID": "", "Group Name": "HERMITAGE FEDERATION",
           "Group Type (code)": "01", "Group Type": "Federation"}
    links = write_gias(tmp_path / "alllinksdata20250426.csv", header, [[row[c] for c in header],
                                                                       [fed[c] for c in header]])
    first = import_file(store, links)
    assert first.ok, first.summary()
    assert memberships(store) == [(1128, 140594, None, None), (9001, 140594, None, None)]
    assert any("01/01/1900" in n and "2 memberships" in n for n in first.notes), first.notes
    import_file(store, MEMBERSHIP)
    ours = [m for m in memberships(store) if m[1] == 140594]
    assert ours == [(1128, 140594, dt.date(2014, 2, 1), dt.date(2019, 9, 2)), (9001, 140594, None, None)]
    # and an undated file read again later does not reopen the dated stay
    assert import_file(store, links).ok
    assert [m for m in memberships(store) if m[1] == 140594] == ours


def test_a_later_history_file_closes_a_stay(store: Store, tmp_path: Path) -> None:
    header, rows = read_csv_rows(MEMBERSHIP, encoding="cp1252")
    h = header.index
    import_file(store, MEMBERSHIP)
    assert (2044, 136354, dt.date(2010, 12, 1), None) in memberships(store)
    later = [list(r) for r in rows]
    for r in later:
        if r[h("URN")] == "136354":
            r[h("Date Left Group")] = "2025-08-31"
    report = import_file(store, write_gias(tmp_path / "academiesmatmembership20250901.csv", header, later))
    assert (report.ok, report.memberships_changed) == (True, 1)
    assert [m for m in memberships(store) if m[1] == 136354] == [
        (2044, 136354, dt.date(2010, 12, 1), dt.date(2025, 8, 31))]


def test_alllinks_placeholder_dates_and_childrens_centres(store: Store, tmp_path: Path) -> None:
    header, rows = read_csv_rows(ALLLINKS, encoding="cp1252")
    h = header.index
    # the real excerpt is all children's centres: nothing in it is a school's group, and the refusal says so
    message = refused(store, ALLLINKS)
    assert message == (f"{ALLLINKS.name}, line 2: all {len(rows)} usable rows link children's centres to children's "
                       "centre groups, and Jointly holds schools' groups only (the first is on this line): nothing "
                       "was imported")
    # beside two schools' rows (one with the placeholder date, one dated) the centres are skipped with a note
    school = dict(zip(header, rows[0], strict=True))
    school.update({"URN": "136354", "Group UID": "2044", "Group ID": "TR00261", "Group Name": "ABBEY ACADEMIES TRUST",
                   "Group Type (code)": "06", "Group Type": "Multi-academy trust", "Open date": "",
                   "Incorporated on (open date)": "19/07/2010", "Joined date": "01/12/2010",
                   "EstablishmentName": "Bourne Abbey Church of England Primary Academy",
                   "TypeOfEstablishment (name)": "Academy converter"})
    unknown = {**school, "URN": "137036", "Joined date": "01/01/1900", "EstablishmentName": "Lightcliffe Academy"}
    mixed = write_gias(tmp_path / "alllinksdata20250426.csv", header,
                       [*rows, [school[c] for c in header], [unknown[c] for c in header]])
    report = import_file(store, mixed)
    assert report.ok, report.summary()
    assert memberships(store) == [(2044, 136354, dt.date(2010, 12, 1), None), (2044, 137036, None, None)]
    centres = sum(1 for r in rows if "Children's Centres" in r[h("Group Type")])
    assert centres == len(rows)
    assert report.notes == [
        f"{centres} rows link children's centres to children's centre groups: Jointly holds schools' groups only, "
        "so they were skipped",
        "1 memberships have Joined date 01/01/1900, GIAS's placeholder for a date it does not know: they are stored "
        "with no start date"]
    assert store.query("SELECT urn FROM establishments ORDER BY urn") == [(136354,), (137036,)]


# ------------------------------------------------------------------------------ point 4: predecessor links


def _file_links() -> tuple[dict[tuple[int, int], list[str]], list[str]]:
    header, rows = read_csv_rows(PREDECESSORS, encoding="cp1252")
    return {(int(r[0]), int(r[1])): r for r in rows}, header


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Store(tmp_path_factory.mktemp("links") / "s.duckdb")
    report = import_file(s, PREDECESSORS)
    assert report.ok, report.summary()
    s.report = report  # type: ignore[attr-defined]
    return s


def test_predecessor_links_are_stored_once_with_both_sides_words(linked: Store) -> None:
    sides, _ = _file_links()
    report = linked.report  # type: ignore[attr-defined]
    assert (report.kind, report.encoding, report.rows_read, report.problems) == (
        FileKind.GIAS_PREDECESSORS, "cp1252", 32_197, [])
    pairs = {(min(a, b), max(a, b)) for a, b in sides}
    stored = linked.query("SELECT from_urn, to_urn, directed, from_type, to_type, from_date, to_date, from_name, "
                          "to_name FROM school_links")
    assert len(stored) == len(pairs) == 16_253
    assert {(min(a, b), max(a, b)) for a, b, *_ in stored} == pairs
    for a, b, directed, from_type, to_type, from_date, to_date, from_name, to_name in stored:
        on_a, on_b = sides.get((a, b)), sides.get((b, a))
        # each side's own words and date, as the file gave them (names trimmed of the no-break space GIAS leaves
        # at some ends); LinkName on one side names the other school
        assert (from_type, from_date, to_name) == ((on_a[3], _dmy(on_a[4], "-"), on_a[2].strip() or None) if on_a
                                                   else (None, None, None))
        assert (to_type, to_date, from_name) == ((on_b[3], _dmy(on_b[4], "-"), on_b[2].strip() or None) if on_b
                                                 else (None, None, None))
        if directed:  # the earlier school first: its own row calls the other its successor, or vice versa
            assert (on_a is None or not on_a[3].startswith("Predecessor")) and (
                on_b is None or not on_b[3].startswith("Successor"))
    assert linked.query("SELECT * EXCLUDE (import_id) FROM school_links WHERE from_urn = 105737") == [
        (105737, 141248, "succession", True, "Successor", "Predecessor", dt.date(2014, 8, 31), dt.date(2014, 9, 1),
         "North Chadderton School", "North Chadderton School")]
    relations = Counter(r for (r,) in linked.query("SELECT relation FROM school_links"))
    assert relations["split"] == len({(min(a, b), max(a, b)) for (a, b), r in sides.items() if "Split" in r[3]})


def test_a_merger_of_several_schools_carries_no_series_unless_one_is_the_same_school(linked: Store) -> None:
    # Kingsgate Primary (132245) was formed from Kingsgate Junior (100016) and Kingsgate Infant (100017)
    assert linked.query("SELECT ancestor_urn FROM school_lineage WHERE urn = 132245") == []
    # the single conversion carries: North Chadderton School 105737 -> 141248 from 1 Sep 2014
    assert linked.query("SELECT ancestor_urn, depth, since, until_period FROM school_lineage WHERE urn = 141248") == [
        (105737, 1, dt.date(2014, 9, 1), "2013/14")]
    from data.ingest.lineage import lineage_note

    sides, _ = _file_links()
    assert {a for (a, b), r in sides.items() if b == 132245} == {100016, 100017}  # both named by the file
    assert lineage_note(linked, 132245) == (
        "This school was formed from the merger of Kingsgate Junior School (URN 100016) and Kingsgate Infant School "
        "(URN 100017); their earlier results are not shown as this school's (no one of them is clearly the same "
        "school).")
    # Allerton Grange School (108058) has two predecessors, one of them with its own name (127949): that one is
    # the same school; the middle school (127948) merged into it. GIAS gives these links no date.
    assert sides[(127949, 108058)][2:] == ["Allerton Grange School", "Successor", ""]
    assert sides[(127948, 108058)][2:] == ["Allerton Grange School", "Successor", ""]
    assert linked.query("SELECT ancestor_urn, depth, since FROM school_lineage WHERE urn = 108058") == [
        (127949, 1, None)]
    assert lineage_note(linked, 108058) == (
        "This school took over from URN 127949; earlier results are of URN 127949. Allerton Grange Middle School "
        "(URN 127948) also merged into it: its results are not shown.")


# ------------------------------------------------------------------------------ point 10: history across URNs

KS4_REAL = REALDATA / "dfe_perf_LA815_NorthYorkshire_EnglishDevil" / "815_2018_ks4final.csv"
# A real link pair of the GIAS file: Temple Moor High School Science College (108064) became the academy Temple
# Moor High School (146247) on 1 September 2018 (line 29143: "Predecessor", 01-09-2018; line 4195: "Successor",
# 31-08-2018). Their results here are synthetic, in the performance tables' own format.
OLD, NEW = 108064, 146247
# Two synthetic schools of a synthetic trust: X left it on 31 August 2017, Y joined on 1 September 2017
X, Y = 900101, 900102
ATT8 = {  # (urn, period) -> (ATT8SCR, TPUP)
    (OLD, "2016/17"): (45.2, 200), (OLD, "2017/18"): (46.8, 210), (NEW, "2018/19"): (48.1, 220),
    (X, "2016/17"): (40.0, 100), (X, "2017/18"): (41.0, 100), (X, "2018/19"): (42.0, 100),
    (Y, "2016/17"): (50.0, 150), (Y, "2017/18"): (52.0, 150), (Y, "2018/19"): (54.0, 160),
}
NATIONAL_ATT8 = {"2016/17": 44.6, "2017/18": 44.5, "2018/19": 44.7}


def _ks4(tmp_path: Path, period: str) -> Path:
    """A KS4 final file for one year in the performance tables' format: the real 496-column header, school rows
    (RECTYPE 1) and the national rows (RECTYPE 5, 7) that close every such file."""
    from tests.conftest import write_dfe_csv

    header, _ = read_csv_rows(KS4_REAL)
    h = header.index

    def row(values: dict[str, object]) -> list[object]:
        out: list[object] = [""] * len(header)
        for k, v in values.items():
            out[h(k)] = v
        return out

    names = {OLD: "Temple Moor High School Science College", NEW: "Temple Moor High School", X: "Synthetic X School",
             Y: "Synthetic Y Academy"}
    rows = [row({"RECTYPE": 1, "LEA": 383, "URN": urn, "SCHNAME": names[urn], "NFTYPE": "AC", "ATT8SCR": a,
                 "TPUP": n}) for (urn, p), (a, n) in sorted(ATT8.items()) if p == period]
    rows += [row({"RECTYPE": r, "ATT8SCR": NATIONAL_ATT8[period], "TPUP": 500_000}) for r in (5, 7)]
    return write_dfe_csv(tmp_path / period.replace("/", "-") / "england_ks4final.csv", header, rows)


def _trust_history(tmp_path: Path) -> Path:
    """A synthetic trust's membership history in GIAS's academiesmatmembership format (the real header)."""
    header, rows = read_csv_rows(MEMBERSHIP, encoding="cp1252")
    template = dict(zip(header, rows[2], strict=True))  # a real MAT row, for the columns not set here

    def stay(urn: int, joined: str, left: str, reason: str, opened: str) -> list[str]:
        r = {**template, "URN": str(urn), "Group UID": "99001", "Group ID": "TR99001",
             "Group Name": "SYNTHETIC TEMPLE TRUST", "Group Type": "Multi-academy trust", "Group Status": "Open",
             "Group Open Date": "2012-01-01", "Group Closed Date": "", "Date Joined Group": joined,
             "Date Left Group": left, "ReasonEstablishmentOpened (name)": reason, "Establishment OpenDate": opened,
             "EstablishmentName": f"School {urn}"}
        return [r[c] for c in header]

    return write_gias(tmp_path / "academiesmatmembership20250426.csv", header, [
        stay(NEW, "2018-09-01", "", "Academy Converter", "2018-09-01"),
        stay(X, "2014-09-01", "2017-08-31", "Academy Converter", "2014-09-01"),
        stay(Y, "2017-09-01", "", "Academy Converter", "2017-09-01"),
    ])


@pytest.fixture()
def history(tmp_path: Path) -> Store:
    s = Store(tmp_path / "s.duckdb")
    for period in NATIONAL_ATT8:
        assert import_file(s, _ks4(tmp_path, period), period).ok
    assert import_file(s, PREDECESSORS).ok
    report = import_file(s, _trust_history(tmp_path))
    assert report.ok, report.summary()
    yield s
    s.close()


def test_a_converted_schools_trend_continues_across_its_urn_change(history: Store) -> None:
    from data.services.scorecards import scorecard

    card = scorecard(history, school=NEW, period="2018/19", measures=["attainment8"])
    (row,) = card.rows
    assert [(t.period, t.value, t.urn) for t in row.trend] == [
        ("2016/17", 45.2, OLD), ("2017/18", 46.8, OLD), ("2018/19", 48.1, None)]
    assert card.lineage == row.lineage == (
        "This school became an academy on 1 Sep 2018; earlier results are of URN 108064.")
    # the scorecard JSON carries the same marks
    record = row.to_dict()
    assert [t["urn"] for t in record["trend"]] == [OLD, OLD, None] and record["lineage"] == card.lineage
    # the predecessor's own card is its own results only
    old = scorecard(history, school=OLD, period="2017/18", measures=["attainment8"])
    assert [(t.period, t.value, t.urn) for t in old.rows[0].trend] == [("2016/17", 45.2, None),
                                                                       ("2017/18", 46.8, None)]
    assert old.lineage is None


def test_a_groups_earlier_year_counts_the_members_of_that_year(history: Store) -> None:
    from data.services.scorecards import scorecard

    card = scorecard(history, group="TR99001", period="2018/19", measures=["attainment8"])
    assert sorted(card.subject.members) == [NEW, Y]
    (row,) = card.rows
    # cohort-weighted means, by hand: 2016/17 only X was in the trust (Y joined in 2017, 146247 in 2018);
    # 2017/18 only Y; 2018/19 Y and 146247: (54.0 x 160 + 48.1 x 220) / 380
    assert [(t.period, round(t.value, 6)) for t in row.trend] == [
        ("2016/17", 40.0), ("2017/18", 52.0), ("2018/19", round((54.0 * 160 + 48.1 * 220) / 380, 6))]
    assert "each earlier year counts the schools in the group that year (membership dates)" in card.method
    earlier = scorecard(history, group="TR99001", period="2017/18", measures=["attainment8"])
    assert earlier.subject.members == (Y,)
    assert [(t.period, t.value) for t in earlier.rows[0].trend] == [("2016/17", 40.0), ("2017/18", 52.0)]


def test_a_group_without_dates_keeps_todays_members_trend_and_says_so(history: Store) -> None:
    from data.services.scorecards import scorecard

    gid = groups_svc.create_group(history, "partnership", "Undated Partnership")
    groups_svc.add_memberships(history, gid, [X, NEW])
    card = scorecard(history, group="Undated Partnership", period="2018/19", measures=["attainment8"])
    # today's members (X and 146247, whose 2016/17 and 2017/18 are 108064's): (40 x 100 + 45.2 x 200) / 300, ...
    assert [(t.period, round(t.value, 6)) for t in card.rows[0].trend] == [
        ("2016/17", round((40.0 * 100 + 45.2 * 200) / 300, 6)), ("2017/18", round((41.0 * 100 + 46.8 * 210) / 310, 6)),
        ("2018/19", round((42.0 * 100 + 48.1 * 220) / 320, 6))]
    assert card.method.endswith("the trend is that of today's members (like for like: no membership dates are known)")


def test_a_group_holding_both_urns_counts_the_old_results_once(history: Store) -> None:
    from data.services.scorecards import scorecard

    gid = groups_svc.create_group(history, "partnership", "Both URNs")
    groups_svc.add_memberships(history, gid, [OLD, NEW])
    card = scorecard(history, group="Both URNs", period="2018/19", measures=["attainment8"])
    (row,) = card.rows
    # 108064's own rows count as its own (once); 146247 takes nothing from it: no double count
    assert [(t.period, t.value) for t in row.trend] == [("2016/17", 45.2), ("2017/18", 46.8), ("2018/19", 48.1)]
    assert row.cohort == 220


def test_a_current_links_file_never_reopens_a_stay_the_history_closed(store: Store, tmp_path: Path) -> None:
    """alllinks lists 136354 in TR00261 from 01/12/2010, open; the history says the same; a later history closes
    the stay; the links file read again (it only knows current links) leaves it closed."""
    header, rows = read_csv_rows(ALLLINKS, encoding="cp1252")
    school = dict(zip(header, rows[0], strict=True))
    school.update({"URN": "136354", "Group UID": "2044", "Group ID": "TR00261", "Group Name": "ABBEY ACADEMIES TRUST",
                   "Group Type (code)": "06", "Group Type": "Multi-academy trust", "Joined date": "01/12/2010",
                   "EstablishmentName": "Bourne Abbey Church of England Primary Academy",
                   "TypeOfEstablishment (name)": "Academy converter"})
    links = write_gias(tmp_path / "alllinksdata20250426.csv", header, [[school[c] for c in header]])
    assert import_file(store, links).ok
    assert import_file(store, MEMBERSHIP).ok
    mheader, mrows = read_csv_rows(MEMBERSHIP, encoding="cp1252")
    later = [list(r) for r in mrows]
    for r in later:
        if r[mheader.index("URN")] == "136354":
            r[mheader.index("Date Left Group")] = "2025-08-31"
    assert import_file(store, write_gias(tmp_path / "academiesmatmembership20250901.csv", mheader, later)).ok
    closed = [(2044, 136354, dt.date(2010, 12, 1), dt.date(2025, 8, 31))]
    assert [m for m in memberships(store) if m[1] == 136354] == closed
    again = import_file(store, links)
    assert (again.ok, again.memberships_changed) == (True, 0)
    assert [m for m in memberships(store) if m[1] == 136354] == closed


def test_a_broken_links_file_is_refused_by_the_cli_with_its_line_and_column(tmp_path: Path) -> None:
    """The CLI's contract: a located sentence and exit code 2; a bad cell is a located row problem."""
    import os
    import subprocess
    import sys

    header, rows = read_csv_rows(PREDECESSORS, encoding="cp1252")
    no_urn = tmp_path / "links_edubasealldata20240129.csv"
    with open(no_urn, "w", encoding="cp1252", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([["School", *header[1:]], *rows[:50]])
    junk = tmp_path / "links_edubasealldata20240130.csv"
    bad = [list(r) for r in rows[:50]]
    bad[9][header.index("LinkURN")] = "12x45"
    bad[19][header.index("LinkEstablishedDate")] = "31-02-2020"
    with open(junk, "w", encoding="cp1252", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *bad])
    env = {**os.environ, "JOINTLY_DB": str(tmp_path / "j.duckdb")}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "data", "import", str(no_urn)], cwd=root, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "links_edubasealldata20240129.csv, line 1: this looks like a GIAS predecessor/successor links file" in (
        done.stdout + done.stderr) and "Traceback" not in done.stdout + done.stderr
    store = Store(tmp_path / "s.duckdb")
    try:
        report = import_file(store, junk)
        assert report.ok, report.summary()
        assert [(p.line, p.column, p.message) for p in report.problems] == [
            (11, "LinkURN", "expected a URN, found '12x45'; row skipped"),
            (21, "LinkEstablishedDate", "expected a date, found '31-02-2020'; the date is taken as not known")]
    finally:
        store.close()
