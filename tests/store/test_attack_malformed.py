"""Issue 9, the malformed-file corpus's last holes: NUL bytes, footers alone, cut census files, absurd cohorts,
GIAS link files without their URN, a repeated header, an Ofsted school twice, old Mac line endings.

Each test performs the attack on a real DfE file (the corpus in tests/corpus makes the same files at scale) and
checks the store itself: a refusal is a located sentence with nothing written and a 'failed' log line; a file
that is accepted gives exactly the values its pristine twin gives, but for what the attack changed.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from conftest import EES_CENSUS, GIAS_SAMPLE, GIAS_TV, PERF, REALDATA, refused

from data.db.store import Store
from data.ingest.importers import import_file
from data.ingest.rows import PLAUSIBLE_BY_UNIT

KS4F = PERF / "815_2018_ks4final.csv"
KS4P = PERF / "815_2019_ks4provisional.csv"
CENSUS19 = PERF / "815_2019_census.csv"
CFR18 = PERF / "815_2018_cfr.csv"
MEMBERS = REALDATA / "gias_2025_cianfhoghlaim" / "EXCERPT_academiesmatmembership20250426.csv"
OFSTED24 = (REALDATA / "ofsted_mi_2025-26_hal609" / "EXCERPT_Management_information_-_state-funded_schools_-_"
            "latest_inspections_as_at_31_Aug_2024.csv")


@pytest.fixture
def loaded(store: Store) -> Store:
    """A store that already holds real files, so 'unchanged' and 'nothing lost' mean something."""
    assert import_file(store, KS4P, "2018/19").ok
    assert import_file(store, PERF / "815_2018_census.csv", "2017/18").ok
    return store


def lines_of(path: Path, encoding: str = "utf-8-sig") -> tuple[list[str], str]:
    """A file's physical lines (no terminators) and its line break."""
    text = path.read_bytes().decode(encoding)
    nl = "\r\n" if "\r\n" in text else "\n"
    return text.removesuffix(nl).split(nl), nl


def fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def row_text(f: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(f)
    return buf.getvalue()


def write(path: Path, lines: list[str], nl: str, *, bom: bool = True, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + nl.join(lines).encode(encoding))
    return path


def values(store: Store, *, but_urn: int | None = None) -> list[tuple]:
    return store.query("SELECT level, urn, area_code, scope, measure, period, value, numerator, denominator, status, "
                       "status_code FROM observations WHERE urn IS DISTINCT FROM ? ORDER BY ALL", [but_urn])


# ============================================================================ NUL bytes


@pytest.mark.parametrize("source", [KS4F, GIAS_SAMPLE, CENSUS19], ids=["ks4final", "gias", "census"])
def test_a_nul_byte_anywhere_is_refused_with_its_offset_and_line(loaded: Store, tmp_path: Path, source: Path) -> None:
    data = source.read_bytes()
    for at in (len(data) // 2, 100):  # past the first 8 KB (read whole before) and inside it (refused, not located)
        at = data.index(b"\n", at) + 6  # a few bytes into a row
        path = tmp_path / str(at) / source.name
        path.parent.mkdir()
        path.write_bytes(data[:at] + b"\x00" + data[at:])
        line = data[:at].count(b"\n") + 1
        message = refused(loaded, path, "2018/19")
        assert message == (f"{source.name}, line {line}: the file contains binary data (a NUL byte at offset "
                           f"{at:,}): it is not a CSV text file")


# ============================================================================ no school rows


def test_footers_alone_are_not_a_file(loaded: Store, tmp_path: Path) -> None:
    for source, period, key in ((KS4F, "2017/18", "URN"), (CENSUS19, "2018/19", "URN"), (CFR18, "2017/18", "URN")):
        lines, nl = lines_of(source)
        k = fields(lines[0]).index(key)
        keep = [lines[0], *[x for x in lines[1:] if not fields(x)[k].strip().isdigit()]]
        assert len(keep) > 2  # the real file has LA/national rows to keep
        message = refused(loaded, write(tmp_path / "footers" / source.name, keep, nl), period)
        assert "the file has no school rows, only LA and national rows" in message, message


def test_a_ks4_file_whose_full_rows_all_lost_their_urn_is_refused(loaded: Store, tmp_path: Path) -> None:
    """The short rows of schools without results still read: 24 of 70 school rows are not the file."""
    lines, nl = lines_of(KS4F)
    header = fields(lines[0])
    k = header.index("URN")
    bad = 0
    for i, x in enumerate(lines[1:], start=1):
        f = fields(x)
        if len(f) == len(header) and f[k].isdigit():
            f[k] = "X" + f[k]
            lines[i] = row_text(f)
            bad += 1
    message = refused(loaded, write(tmp_path / KS4F.name, lines, nl), "2017/18")
    assert re.match(rf"{KS4F.name}, line \d+: only 24 of the {bad + 24} school rows could be read \(first skipped: ",
                    message), message


# ============================================================================ census cut before its footers


def test_a_census_cut_before_its_la_and_national_rows_is_refused(loaded: Store, tmp_path: Path) -> None:
    lines, nl = lines_of(CENSUS19)
    last_school = max(i for i, x in enumerate(lines) if fields(x)[0].isdigit())
    message = refused(loaded, write(tmp_path / CENSUS19.name, lines[:last_school + 1], nl), "2018/19")
    assert message == (f"{CENSUS19.name}, line {last_school + 1}: the rows stop here, before the LA and national rows "
                       "(LA, NAT in the URN column) that close every DfE census file: the file looks cut short, so "
                       "nothing was imported; download it again")


# ============================================================================ absurd cohorts


def test_an_absurd_cohort_is_no_denominator(store: Store, tmp_path: Path) -> None:
    lines, nl = lines_of(CENSUS19)
    header = fields(lines[0])
    n = header.index("NOR")
    i = next(i for i, x in enumerate(lines) if fields(x)[0].isdigit() and i > 10)
    urn = int(fields(lines[i])[0])
    f = fields(lines[i])
    f[n] = "1000000000000000"
    lines[i] = row_text(f)
    report = import_file(store, write(tmp_path / CENSUS19.name, lines, nl), "2018/19")
    assert report.ok, report.message
    hi = PLAUSIBLE_BY_UNIT["pupils"][1]
    ours = [p for p in report.problems if p.line == i + 1]
    assert [(p.column, p.message.split(" is not ")[0]) for p in ours] == [("NOR", "1e+15")]  # reported once
    rows = store.query("SELECT measure, value, numerator, denominator, status, status_code FROM observations "
                       "WHERE urn = ? ORDER BY measure", [urn])
    assert rows, "the school's other measures are stored"
    assert all(d is None or d <= hi for _, _, _, d, _, _ in rows)
    assert all(v is None or 1e-9 < abs(v) or v == 0 for _, v, _, _, _, _ in rows)  # no 2e-13 rates
    # every measure whose base is NOR is missing, flagged INVALID; the others are stored as the file gives them
    by_nor = {m for m, *_ in rows} - {m for m, v, *_ in rows if v is not None}
    assert by_nor and all(st == "missing" and code == "INVALID" for m, _, _, _, st, code in rows if m in by_nor)
    twin = Store(tmp_path / "twin.duckdb")
    try:
        assert import_file(twin, CENSUS19, "2018/19").ok
        assert values(twin, but_urn=urn) == values(store, but_urn=urn)
    finally:
        twin.close()


def test_an_absurd_ees_headcount_is_no_denominator(store: Store, tmp_path: Path) -> None:
    lines, nl = lines_of(EES_CENSUS, "utf-8")
    lines = lines[:60]
    header = fields(lines[0])
    c, u = header.index("headcount of pupils"), header.index("urn")
    i = next(i for i, x in enumerate(lines) if i > 20 and fields(x)[u].isdigit())
    f = fields(lines[i])
    f[c] = "2000000000000000"
    lines[i] = row_text(f)
    report = import_file(store, write(tmp_path / EES_CENSUS.name, [*lines, ""], nl, bom=False))
    assert report.ok, report.message
    assert [str(p).split(": ")[0] for p in report.problems if p.line == i + 1] == [
        f"{EES_CENSUS.name}, line {i + 1}, column headcount of pupils"]
    assert store.query("SELECT count(*) FROM observations WHERE denominator > 1e6 OR numerator > 1e6 "
                       "AND level = 'school'") == [(0,)]


# ============================================================================ GIAS links without their URN


@pytest.mark.parametrize("source", [MEMBERS, GIAS_TV / "example_links_data.csv"], ids=["membership", "links"])
@pytest.mark.parametrize("how", ["renamed", "removed"])
def test_a_links_file_without_its_urn_says_so(loaded: Store, tmp_path: Path, source: Path, how: str) -> None:
    lines, nl = lines_of(source, "cp1252")
    k = fields(lines[0]).index("URN")
    if how == "renamed":
        lines[0] = row_text([("URN_CODE" if i == k else h) for i, h in enumerate(fields(lines[0]))])
    else:
        lines = [row_text([c for i, c in enumerate(fields(x)) if i != k]) for x in lines]
    message = refused(loaded, write(tmp_path / source.name, [*lines, ""], nl, bom=False, encoding="cp1252"))
    assert message.startswith(f"{source.name}, line 1: this looks like a GIAS links or membership file"), message
    assert "the key column URN is missing" in message


# ============================================================================ a repeated header


def test_a_repeated_header_is_refused(loaded: Store, tmp_path: Path) -> None:
    for source, period in ((CFR18, "2017/18"), (CENSUS19, "2018/19")):
        lines, nl = lines_of(source)
        message = refused(loaded, write(tmp_path / source.name, [lines[0], *lines], nl), period)
        assert message == (f"{source.name}, line 2: the header is repeated on line 2 (first on line 1): remove the "
                           "repeated line and import again")


# ============================================================================ Ofsted's list with a school twice


def test_an_ofsted_list_naming_a_school_twice_is_refused(store: Store, tmp_path: Path) -> None:
    assert import_file(store, GIAS_SAMPLE).ok
    lines, nl = lines_of(OFSTED24, "utf-8")
    urns = [fields(x)[fields(lines[0]).index("URN")] for x in lines[1:]]
    i = next(i for i, u in enumerate(urns, start=1) if u.isdigit() and i > 3)
    bom = OFSTED24.read_bytes().startswith(b"\xef\xbb\xbf")
    path = write(tmp_path / OFSTED24.name, [*lines[:i + 1], lines[i], *lines[i + 1:], ""], nl, bom=bom)
    assert refused(store, path) == (f"{OFSTED24.name}, line {i + 2}, column URN: URN {int(urns[i - 1])} appears "
                                    f"twice (lines {i + 1} and {i + 2})")


# ============================================================================ old Mac line endings


def test_cr_only_line_endings_read_as_line_ends(store: Store, tmp_path: Path) -> None:
    """Python's csv module reads a lone CR as a line end: such a census imports what the real one does."""
    lines, _ = lines_of(CENSUS19)
    report = import_file(store, write(tmp_path / CENSUS19.name, lines, "\r"), "2018/19")
    assert report.ok, report.message
    twin = Store(tmp_path / "twin.duckdb")
    try:
        assert import_file(twin, CENSUS19, "2018/19").ok
        assert values(twin) == values(store)
    finally:
        twin.close()


def test_utf16_without_its_bom_is_named(loaded: Store, tmp_path: Path) -> None:
    """A NUL beside every letter is UTF-16, not random binary: the sentence says what to do."""
    path = tmp_path / CENSUS19.name
    path.write_bytes(CENSUS19.read_bytes().decode("utf-8-sig").encode("utf-16-be"))
    assert refused(loaded, path, "2018/19") == (f"{CENSUS19.name}: the file is UTF-16 text (without a byte-order "
                                                "mark): save it as CSV (UTF-8) and import it again")
