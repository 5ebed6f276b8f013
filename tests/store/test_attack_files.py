"""Issue 9, points 6, 7, 10 and 14: files that are cut, mis-encoded, malformed or bombs.

Each test performs the attack on a real DfE file (or a small synthetic one where no real file has the shape)
and checks the outcome in the store: a refusal writes nothing and logs a failed import with a located
sentence; a file that is accepted gives exactly the values its complete twin gives.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import EES_CENSUS, GIAS_SAMPLE, GIAS_TV, PERF, refused, write_dfe_csv

import data.ingest.importers as importers
import data.ingest.reading as reading
from data.db.store import Store
from data.ingest.importers import import_file

REPO = Path(__file__).resolve().parents[2]
KS4P = PERF / "815_2019_ks4provisional.csv"
KS4F = PERF / "815_2018_ks4final.csv"
CFR = PERF / "815_2019_cfr.csv"


@pytest.fixture
def loaded(store: Store) -> Store:
    """A store that already holds a real KS4 file, so 'unchanged' and 'nothing lost' mean something."""
    assert import_file(store, KS4P, "2018/19").ok
    return store


def observations(store: Store) -> list[tuple]:
    return store.query("SELECT level, urn, area_code, scope, measure, period, value, status, status_code "
                       "FROM observations ORDER BY ALL")


# ============================================================================ 6. cut files


def test_a_ks4_file_cut_mid_row_is_refused(loaded: Store, tmp_path: Path) -> None:
    raw = KS4P.read_bytes()
    cut = tmp_path / KS4P.name
    cut.write_bytes(raw[: raw.index(b"\r\n1,815,4009") + 30])  # part-way through a school's row
    message = refused(loaded, cut, "2018/19")
    assert ", line 39: " in message and "cut" in message


def test_a_ks4_file_cut_inside_its_national_row_is_refused(loaded: Store, tmp_path: Path) -> None:
    raw = KS4P.read_bytes()
    last = raw.rindex(b"\r\n") + 2  # the RECTYPE 7 row starts here
    cut = tmp_path / KS4P.name
    cut.write_bytes(raw[: last + 30])
    message = refused(loaded, cut, "2018/19")
    assert message.startswith(f"{KS4P.name}, line 76: the last row has ")


def test_a_ks4_file_cut_between_rows_is_refused(loaded: Store, tmp_path: Path) -> None:
    raw = KS4P.read_bytes()
    cut = tmp_path / KS4P.name
    cut.write_bytes(raw[: raw.index(b"\r\n5,")])  # every school, none of the national rows
    assert refused(loaded, cut, "2018/19") == (
        f"{KS4P.name}, line 74: the rows stop here, before the national rows (RECTYPE 5 "
                                    "and 7) that close every DfE key-stage file: the file looks cut short, so nothing "
                                    "was imported; download it again")


def test_every_cut_of_a_ks4_file_is_refused_or_loses_nothing(store: Store, tmp_path: Path) -> None:
    """Cut the real file at 60 points: each cut is refused, or (inside unread trailing cells) gives the same values."""
    assert import_file(store, KS4P, "2018/19").ok
    pristine = observations(store)
    raw = KS4P.read_bytes()
    tried = accepted = 0
    for at in range(len(raw) // 3, len(raw) - 1, max(1, (len(raw) - len(raw) // 3) // 60)):
        s = Store(tmp_path / f"cut{at}.duckdb")
        try:
            path = tmp_path / str(at) / KS4P.name
            path.parent.mkdir()
            path.write_bytes(raw[:at])
            report = import_file(s, path, "2018/19")
            tried += 1
            if report.ok:
                accepted += 1
                assert observations(s) == pristine, at
            else:
                assert s.query("SELECT count(*) FROM observations") == [(0,)]
        finally:
            s.close()
    assert tried >= 60 and accepted <= 2


def test_a_cfr_file_cut_before_its_medians_is_refused(loaded: Store, tmp_path: Path) -> None:
    raw = CFR.read_bytes()
    cut = tmp_path / CFR.name
    cut.write_bytes(raw[: raw.index(b"\r\nLA,North Yorkshire")])
    assert "before the LA, national and London medians" in refused(loaded, cut, "2018/19")


def test_an_ees_file_cut_in_its_last_number_is_refused(loaded: Store, tmp_path: Path) -> None:
    raw = EES_CENSUS.read_bytes()
    assert raw.endswith(b"\n")
    cut = tmp_path / EES_CENSUS.name
    cut.write_bytes(raw[:-3])  # the last line loses its line break and the end of its last number
    message = refused(loaded, cut, None)
    assert message.startswith(f"{EES_CENSUS.name}, line 387: the last line has no line break")


def test_a_gias_file_cut_inside_a_quoted_value_is_refused(loaded: Store, tmp_path: Path) -> None:
    raw = GIAS_SAMPLE.read_bytes()
    cut = tmp_path / GIAS_SAMPLE.name
    cut.write_bytes(raw[: raw.rindex(b'","') + 5])
    assert "is never closed" in refused(loaded, cut, None)


def test_schools_without_results_and_short_national_rows_still_import(store: Store) -> None:
    """The real files' ragged rows (7 and 24 of 25 fields; 26, 486 and 495 of 496) are not cuts."""
    assert import_file(store, KS4P, "2018/19").ok
    assert import_file(store, KS4F, "2017/18").ok
    assert import_file(store, CFR, "2018/19").ok


# ============================================================================ 7. one bad byte


def _groups_file(path: Path, name: bytes, extra: bytes = b"") -> Path:
    header = b"Group UID,Group ID,Group Name,Companies House Number,Group Type,Group Status\n"
    path.write_bytes(header + b"4100,TR04100," + name + b",9912345,Multi-academy trust,Open\n"
                     b"4101,TR04101,NORTH STAR TRUST" + extra + b",9912346,Multi-academy trust,Open\n")
    return path


def test_utf8_with_one_bad_byte_is_refused_not_re_decoded(store: Store, tmp_path: Path) -> None:
    good = _groups_file(tmp_path / "groups.csv", "ARETÉ LEARNING TRUST".encode())
    assert import_file(store, good).ok
    bad = _groups_file(tmp_path / "groups_again.csv", "ARETÉ LEARNING TRUST".encode(), b"\xe9")
    offset = bad.read_bytes().index(b"\xe9")
    assert refused(store, bad, None) == (
        f"groups_again.csv, line 3: byte 0xe9 at offset {offset} is not valid UTF-8, in a file whose other "
        "accented letters are UTF-8: reading it all as Windows-1252 would garble every name, so nothing was "
        "imported; correct that character, or save the file as CSV UTF-8")
    assert store.query("SELECT name FROM groups ORDER BY name") == [("ARETÉ LEARNING TRUST",), ("NORTH STAR TRUST",)]


def test_windows_1252_is_refused_for_a_kind_published_in_utf8(loaded: Store, tmp_path: Path) -> None:
    """A KS4 file re-saved by a spreadsheet in Windows-1252: its é would otherwise be read as cp1252 silently."""
    raw = KS4P.read_bytes().removeprefix(b"\xef\xbb\xbf")
    path = tmp_path / KS4P.name
    path.write_bytes(raw.replace(b"George Pindar School", "George Pindar École".encode("cp1252")))
    assert " is not UTF-8, and DfE publishes ks4provisional files in UTF-8" in refused(loaded, path, "2018/19")


def test_real_gias_windows_1252_still_imports(store: Store) -> None:
    """GIAS's extracts are Windows-1252: the real groups file and links are read as they are."""
    for f in ("groups", "links"):
        report = import_file(store, GIAS_TV / f"example_{f}_data.csv")
        assert report.ok, report.message


def test_a_group_renamed_in_gias_is_the_same_group(store: Store, tmp_path: Path) -> None:
    assert import_file(store, _groups_file(tmp_path / "g1.csv", b"ARETE LEARNING TRUST")).ok
    (gid,) = store.query("SELECT group_id FROM groups WHERE gias_uid = 4100")[0]
    report = import_file(store, _groups_file(tmp_path / "g2.csv", "ARETÉ LEARNING TRUST".encode()))
    assert (report.ok, report.groups_added) == (True, 0)
    assert store.query("SELECT group_id, name FROM groups WHERE gias_uid = 4100") == [(gid, "ARETÉ LEARNING TRUST")]
    assert store.query("SELECT count(*) FROM groups") == [(2,)]


def test_an_ees_trust_spelled_differently_is_the_same_group(store: Store, tmp_path: Path) -> None:
    """EES names a school's trust in words only: case, accents and punctuation do not make a second trust."""
    header, rows = _csv(EES_CENSUS)
    t = header.index("trust")
    named = [r for r in rows if r[t].strip()]
    first = named[0][t]
    assert import_file(store, EES_CENSUS).ok
    before = store.query("SELECT group_id, name FROM groups ORDER BY group_id")
    for r in rows:
        if r[t] == first:
            r[t] = f"  {first.upper().replace(' ', '  ')}. "
    again = tmp_path / EES_CENSUS.name
    _write(again, header, rows)
    report = import_file(store, again)
    assert (report.ok, report.groups_added) == (True, 0)
    assert store.query("SELECT group_id, name FROM groups ORDER BY group_id") == before


# ============================================================================ 10. a sentence, never a traceback


def _ks4(path: Path, urns: list[str]) -> Path:
    header = ["RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "NFTYPE", "TPUP", "ATT8SCR", "P8PUP", "P8MEA"]
    rows = [["1", "815", str(4000 + i), u, f"School {i}", "CY", "100", "45.0", "98", "0.1"] for i, u in enumerate(urns)]
    rows.append(["7", "", "", "", "", "", "542831", "46.5", "513055", "-0.03"])
    return write_dfe_csv(path, header, rows)


def test_a_urn_beyond_the_stores_integers_is_a_row_problem(store: Store, tmp_path: Path) -> None:
    report = import_file(store, _ks4(tmp_path / "ks4provisional.csv", ["900001", "3000000000", "²"]), "2018/19")
    assert report.ok, report.message
    assert [str(p) for p in report.problems] == [
        "ks4provisional.csv, line 3, column URN: expected a URN (digits), found '3000000000'",
        "ks4provisional.csv, line 4, column URN: expected a URN (digits), found '²'",
    ]
    assert store.query("SELECT urn FROM establishments") == [(900001,)]


def test_a_file_whose_every_row_is_bad_is_refused(loaded: Store, tmp_path: Path) -> None:
    path = tmp_path / "census.csv"
    # with the national row that closes every census file: only the school rows are bad
    path.write_text("URN,LA,ESTAB,NOR,PNUMEAL\n12A456,815,2001,200,5\nabc,815,2002,100,3\nNAT,,PRI,4727089,21.2\n",
                    encoding="utf-8")
    assert refused(loaded, path, "2018/19") == (
        "census.csv, line 2: none of the 2 school rows could be read (first skipped: census.csv, line 2, column URN: "
        "expected a URN (digits) or a footer code (LA, NAT), found '12A456'; row skipped): nothing was imported")


def test_a_title_line_above_the_header_is_named(loaded: Store, tmp_path: Path) -> None:
    raw = KS4P.read_bytes().removeprefix(b"\xef\xbb\xbf")
    path = tmp_path / KS4P.name
    path.write_bytes(b"\xef\xbb\xbfKey stage 4 results, North Yorkshire,,,\r\n" + raw)
    assert refused(loaded, path, "2018/19") == (
        f"{KS4P.name}, line 1: line 1 holds a title ('Key stage 4 results'), not column names: the header is on "
        "line 2; delete the line above it and import again")


def test_renamed_ks4_columns_are_not_read_as_a_spine(loaded: Store, tmp_path: Path) -> None:
    header, rows = _csv(KS4P)
    renamed = [h if h in ("RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "ICLOSE", "NFTYPE") else f"X_{h}"
               for h in header]
    path = write_dfe_csv(tmp_path / KS4P.name, renamed, rows)
    assert "it has a RECTYPE column) but has none of the measure columns" in refused(loaded, path, "2018/19")


def test_an_unexpected_failure_is_a_sentence_and_a_log_line(loaded: Store, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """The last resort: a defect in a builder (planted) still ends in a failed report, never a traceback."""
    def broken(*args: object) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(importers, "_performance_batch", broken)
    with caplog.at_level(logging.ERROR, logger="data.ingest.importers"):
        message = refused(loaded, KS4F, "2017/18")
    assert message == (f"{KS4F.name}: an unexpected problem stopped the import, so nothing was written (details in "
                       "the log)")
    assert "ZeroDivisionError: planted" in caplog.text


def test_cli_exits_2_on_a_cut_file(tmp_path: Path) -> None:
    raw = KS4P.read_bytes()
    cut = tmp_path / KS4P.name
    cut.write_bytes(raw[: len(raw) // 2])
    env = {**os.environ, "JOINTLY_DB": str(tmp_path / "cli.duckdb")}
    run = subprocess.run([sys.executable, "-m", "data", "import", "--period", "2018/19", str(cut)], cwd=REPO,
                         env=env, capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stdout.startswith(f"FAILED {KS4P.name}: {KS4P.name}, line ")
    assert "Traceback" not in run.stdout + run.stderr


# ============================================================================ 14. bombs


def test_ten_thousand_columns_are_refused_at_the_header(loaded: Store, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(["URN", *(f"C{i}" for i in range(10_006))]) + "\n")
        for r in range(200):
            fh.write(",".join([str(100000 + r), *("1" for _ in range(10_006))]) + "\n")
    assert refused(loaded, path, "2018/19") == (
        "wide.csv, line 1: the header has 10,007 columns, far more than any DfE file (the widest, KS4 final, has 496; "
        "limit 2,000)")


def test_too_many_cells_are_refused_while_reading(loaded: Store, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_CELLS", 25 * 50)  # the rule, at a size a test can write
    message = refused(loaded, KS4P, "2018/19")
    assert message == (f"{KS4P.name}, line 52: more than 1,250 cells (51 rows of 25 columns): far more than any DfE "
                       "school-level file")


def test_a_runaway_cell_is_refused(loaded: Store, tmp_path: Path) -> None:
    path = tmp_path / "census.csv"
    path.write_text("URN,LA,ESTAB,NOR\n100001,815,2001,\"" + "9" * 200_000 + "\"\n", encoding="utf-8")
    assert "a cell is longer than 100,000 characters" in refused(loaded, path, "2018/19")


def _workbook(path: Path, sheet: bytes, strings: bytes | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            z.writestr("xl/sharedStrings.xml", strings)
    return path


def test_a_zip_bomb_workbook_is_refused_before_it_is_inflated(loaded: Store, tmp_path: Path) -> None:
    cells = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 2001))
    sheet = b"<worksheet><sheetData>" + cells + b"<row><c><v>0</v></c></row>" * 600_000 + b"</sheetData></worksheet>"
    path = _workbook(tmp_path / "bomb.xlsx", sheet)
    t0 = time.perf_counter()
    message = refused(loaded, path, "2018/19")
    assert time.perf_counter() - t0 < 5
    assert message.startswith("bomb.xlsx: the workbook part xl/worksheets/sheet1.xml is compressed ")
    assert message.endswith(" times (DfE workbooks: under 10; limit 100): it looks like a zip bomb")


def test_a_workbook_declaring_millions_of_strings_is_refused(loaded: Store, tmp_path: Path) -> None:
    strings = b'<sst xmlns="x" count="5000000" uniqueCount="5000000"><si><t>a</t></si></sst>'
    path = _workbook(tmp_path / "strings.xlsx", b"<worksheet><sheetData/></worksheet>", strings)
    assert refused(loaded, path, "2018/19") == ("strings.xlsx: the workbook declares 5,000,000 distinct strings (limit "
                                     "1,000,000): far more than any DfE workbook")


def test_reading_a_wide_bomb_stays_small(tmp_path: Path) -> None:
    """A 60 MB CSV of 10,007 columns, imported in its own process: refused at the header, peak memory small."""
    path = tmp_path / "wide.csv"
    row = ",".join("1234" for _ in range(10_007)) + "\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(["URN", *(f"C{i}" for i in range(10_006))]) + "\n")
        fh.writelines(row for _ in range(1_200))
    # VmHWM, not ru_maxrss: Linux carries a process's ru_maxrss across fork and exec, so a child of a large pytest
    # process would report the parent's size; VmHWM is the high-water mark of the new program's own memory
    code = ("from data.db.store import Store; from data.ingest.importers import import_file; "
            f"s = Store({str(tmp_path / 'm.duckdb')!r}); r = import_file(s, {str(path)!r}, '2018/19'); "
            "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')); "
            "print(r.ok, int(hwm.split()[1]) // 1024)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    ok, peak_mb = out.stdout.split()
    assert ok == "False"
    assert int(peak_mb) < 400, peak_mb


# ---------------------------------------------------------------------------- helpers


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
