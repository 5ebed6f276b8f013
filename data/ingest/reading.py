"""Reading a user's file into a header and text rows, with every byte-level quirk handled.

Performance tables: UTF-8 with BOM, CRLF, no final newline, ragged or comma-padded rows.
GIAS: Windows-1252. EES: plain UTF-8. Ofsted's list: an Excel workbook.
Everything is read as text; numbers are coerced later, cell by cell, so a bad cell is a
row-level problem with its line and column rather than a crash.

The file is streamed, never held whole: one pass over its bytes (hash, encoding evidence, how it
ends), then a second that parses rows straight from the file. Columns, rows and cells are bounded
before they are kept, and a workbook's zip members are measured before openpyxl opens them, so a
crafted file is refused in a sentence rather than taking the server's memory.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from data.ingest.formats import METADATA_MESSAGE, is_metadata_header, normalise_header
from data.ingest.own_exports import own_export_refusal
from metrics.problems import Problem  # the one located problem: importers and validators share it

# The longest real cell is a MAT's ';'-separated list of member URNs (under 1,000 characters); a
# guidance paragraph saved as CSV runs to a few thousand. A longer "cell" is a runaway or a bomb.
MAX_FIELD_CHARS = 100_000
csv.field_size_limit(MAX_FIELD_CHARS)

# England has about 24,000 open schools and 50,000 GIAS records including closed ones.
MAX_ROWS = 200_000
# The widest real DfE file is KS4 final (496 columns); GIAS has 135, the EES census 268.
MAX_COLUMNS = 2_000
# The biggest real file is the national GIAS extract, ~52,000 rows x 135 columns (about 7 million cells);
# the EES national census is ~24,500 x 268 (6.6 million). Twice that bounds the memory an import holds.
MAX_CELLS = 15_000_000
# EES's tidy school-level files repeat each school once per pupil breakdown (and KS2's once per subject too):
# the national KS2 school file is about 16,500 schools x 6 subjects x 8 breakdowns, some 800,000 rows of 27
# columns (21 million cells). A file whose header says it is tidy (time_period and geographic_level) gets these.
MAX_TIDY_ROWS = 1_500_000
MAX_TIDY_CELLS = 45_000_000
DEFAULT_MAX_MB = 400

# Workbooks, measured from the zip directory before openpyxl reads a byte. Real DfE workbooks compress
# their XML 5-9 times and Ofsted's national list (22,000 schools) has a 9 MB sheet and 43,485 strings.
MAX_ZIP_RATIO = 100  # for members over 1 MB: a zip bomb's XML compresses hundreds or thousands of times
MAX_XLSX_UNCOMPRESSED = 300 * 1024 * 1024
MAX_SHEET_XML = 200 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024

_CHUNK = 1 << 20
# The five bytes Windows-1252 leaves undefined: a file holding one is not Windows-1252 either.
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# The distinct-string count at the top of sharedStrings.xml (<sst ... uniqueCount="43485">), in its first 4 KB.
_LINE_BREAK = re.compile(rb"[\r\n]")
_SST_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\buniqueCount=\"(\d+)\"")


def max_bytes() -> int:
    return int(float(os.environ.get("JOINTLY_MAX_IMPORT_MB", DEFAULT_MAX_MB)) * 1024 * 1024)


class FatalImportError(Exception):
    """The file cannot be imported at all; nothing was written."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class NotUtf8:
    """Where a Windows-1252 file first departs from UTF-8 (importers refuse it for kinds DfE publishes in UTF-8)."""

    offset: int
    byte: int
    line: int


@dataclass
class RawTable:
    path: Path
    encoding: str
    header: list[str]  # as written in the file
    columns: list[str]  # normalised (upper case, aliases applied)
    rows: list[tuple[str, ...]]  # padded to the header's width
    lines: list[int]  # the file line each row started on
    problems: list[Problem] = field(default_factory=list)
    size_bytes: int = 0
    sha256: str | None = None
    # How the file ends, for the importers' per-kind completeness rules (a CSV cut short by a download)
    ends_with_newline: bool = True
    closed_by_quote: bool = False  # the last byte closes a quoted field: the last cell is whole
    not_utf8: NotUtf8 | None = None
    # The last row as written, before padding: a cut shows as a last row shorter than the rest
    last_fields: int = 0
    last_shape_repeats: bool = True  # an earlier row has the same number of fields

    def index(self, *names: str) -> int | None:
        """Position of the first of these (normalised) column names present, else None."""
        for name in names:
            key = normalise_header(name)
            if key in self._pos:
                return self._pos[key]
        return None

    def __post_init__(self) -> None:
        self._pos: dict[str, int] = {}
        for i, col in enumerate(self.columns):
            self._pos.setdefault(col, i)


def _size(n: int) -> str:
    """A file size in words: '400 MB' (MB as in JOINTLY_MAX_IMPORT_MB), or bytes under a megabyte."""
    return f"{n / 1048576:,.0f} MB" if n >= 1048576 else f"{n:,} bytes"


def fatal(path: Path, message: str, line: int | None = None, column: str | None = None) -> FatalImportError:
    return FatalImportError(Problem(path.name, message, line, column, fatal=True))


def read_table(path: Path, *, limit_bytes: int | None = None) -> RawTable:
    """Read a CSV (or Excel) data file into text rows. Raises FatalImportError in plain words."""
    if not path.exists():
        raise fatal(path, "file not found")
    if path.is_dir():
        raise fatal(path, "is a folder, not a file")
    size = path.stat().st_size
    limit = limit_bytes if limit_bytes is not None else max_bytes()
    if size == 0:
        raise fatal(path, "the file is empty (0 bytes)")
    if size > limit:
        raise fatal(
            path,
            f"the file is {_size(size)}, far bigger than any DfE school-level file "
            f"(limit {_size(limit)}; set JOINTLY_MAX_IMPORT_MB to raise it)",
        )
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise fatal(path, f"the file cannot be opened: {exc.strerror or exc}") from exc
    if head.startswith(b"PK\x03\x04"):
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return _read_xlsx(path, size)
        raise fatal(path, "this is a ZIP archive: unzip it and import the CSV files inside")
    if head.startswith(b"%PDF"):
        raise fatal(path, "this is a PDF document, not a data file: download the CSV version")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fatal(path, "the file is UTF-16 text: save it as CSV (UTF-8) and import it again")
    if (nul := head.find(b"\x00")) >= 0:
        # UTF-16 without its byte-order mark: ASCII text with a NUL beside every letter, all on one side
        if len(head) >= 16 and max(head[0::2].count(0), head[1::2].count(0)) > 0.8 * (len(head) // 2):
            raise fatal(path, "the file is UTF-16 text (without a byte-order mark): save it as CSV (UTF-8) and "
                        "import it again")
        raise _nul(path, nul)
    # Control bytes are the same bytes in UTF-8 and Windows-1252, so the raw head tells
    controls = sum(1 for b in head if b < 32 and b not in b"\r\n\t")
    if controls > 8:
        raise fatal(path, f"the file looks corrupted: {controls} control characters in its first 8 KB")
    _check_header_width(path)
    scan = _scan(path)
    if scan.nul is not None:  # past the first 8 KB: a NUL anywhere means the file is not text
        raise _nul(path, scan.nul)
    encoding, not_utf8 = _encoding(path, scan, size)
    table = _parse_csv(path, encoding, size)
    table.sha256 = scan.sha256
    table.ends_with_newline = scan.ends_with_newline
    table.closed_by_quote = scan.closed_by_quote
    table.not_utf8 = not_utf8
    return table


@dataclass(frozen=True)
class _Scan:
    """What one pass over a text file's bytes found out, holding one chunk at a time."""

    sha256: str
    bom: bool
    utf8_error: int | None  # offset of the first byte that breaks UTF-8
    multibyte: bool  # at least one well-formed multi-byte UTF-8 sequence
    cp1252_error: int | None  # offset of the first byte Windows-1252 does not define
    ends_with_newline: bool
    closed_by_quote: bool
    nul: int | None = None  # offset of the first NUL byte


def _nul(path: Path, offset: int) -> FatalImportError:
    """The refusal of a file holding a NUL byte, located: no text file, in any encoding we read, has one."""
    line, _ = _line_at(path, offset)
    return fatal(path, f"the file contains binary data (a NUL byte at offset {offset:,}): it is not a CSV text file",
                 line)


def _scan(path: Path) -> _Scan:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_error: int | None = None
    cp1252_error: int | None = None
    multibyte = False
    nul: int | None = None
    offset = 0
    first = b""
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not first:
                first = chunk[:3]
            digest.update(chunk)
            if nul is None and (at := chunk.find(b"\x00")) >= 0:
                nul = offset + at
            ascii_only = chunk.isascii()  # most chunks of most files: nothing more to learn from them
            if utf8_error is None:
                pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
                try:
                    decoder.decode(chunk)
                    multibyte = multibyte or not ascii_only  # valid UTF-8 beyond ASCII is a multi-byte sequence
                except UnicodeDecodeError as exc:
                    utf8_error = offset - pending + exc.start
            if utf8_error is not None and not multibyte and not ascii_only:
                # letters that decode as UTF-8 despite the bad bytes (U+FFFD marks each bad one)
                text = (tail + chunk).decode("utf-8", errors="replace")
                multibyte = len(text) - len(text.encode("ascii", "ignore")) > text.count("\ufffd")
            if cp1252_error is None and not ascii_only and (m := _NOT_CP1252.search(chunk)):
                cp1252_error = offset + m.start()
            tail = chunk[-3:]
            offset += len(chunk)
    if utf8_error is None:
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_error = offset - pending  # the file ends inside a character
    return _Scan(
        sha256=digest.hexdigest(),
        bom=first.startswith(codecs.BOM_UTF8),
        utf8_error=utf8_error,
        multibyte=multibyte,
        cp1252_error=cp1252_error,
        ends_with_newline=tail.endswith((b"\n", b"\r")),
        closed_by_quote=tail.endswith(b'"'),
        nul=nul,
    )


def _check_header_width(path: Path) -> None:
    """Refuse a header wider than any DfE file from the file's first megabyte, before the file is read at all."""
    with open(path, "rb") as fh:
        start = fh.read(_CHUNK).lstrip(b"\xef\xbb\xbf\r\n")
    # The header ends at the first line break of any style: CR alone (old Mac) is one, as the csv module reads it
    m = _LINE_BREAK.search(start)
    first, newline = (start[:m.start()], True) if m else (start, False)
    if b'"' in first:  # quoted names may hold commas: the parser counts those
        return
    n = first.count(b",") + 1
    if n > MAX_COLUMNS:
        count = f"{n:,}" if newline else f"more than {n:,}"
        raise fatal(path, f"the header has {count} columns, far more than any DfE file (the widest, KS4 final, "
                    f"has 496; limit {MAX_COLUMNS:,})", 1)


def _line_at(path: Path, offset: int) -> tuple[int, int]:
    """(line number, byte value) at a byte offset, counting line feeds a chunk at a time."""
    lines = 1
    done = 0
    after_cr = False  # the last chunk ended in CR: a LF opening this one ends the same line
    with open(path, "rb") as fh:
        while done < offset and (chunk := fh.read(min(_CHUNK, offset - done))):
            # LF, CRLF and a lone CR (old Mac files, which the csv module reads too) each end a line
            lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n") - (after_cr and chunk[:1] == b"\n")
            after_cr = chunk.endswith(b"\r")
            done += len(chunk)
        byte = fh.read(1)
    return lines, byte[0] if byte else 0


def _encoding(path: Path, scan: _Scan, size: int) -> tuple[str, NotUtf8 | None]:
    """Decide the encoding once, from evidence: UTF-8 unless the file is Windows-1252 through and through.

    Re-decoding a UTF-8 file as Windows-1252 because of one bad byte would turn every accent into two
    letters ("ARETÃ‰" for "ARETÉ") and create a second group beside the real one, so that is refused.
    """
    if scan.utf8_error is None:
        return "utf-8", None
    at = scan.utf8_error
    line, byte = _line_at(path, at)
    if at >= size - 3 and byte >= 0xC2 and (scan.bom or scan.multibyte):  # the first bytes of a last letter
        raise fatal(path, f"the file ends in the middle of a character (byte 0x{byte:02x} at offset {at:,}): "
                    "it looks cut short; download it again", line)
    if scan.bom:
        raise fatal(path, f"byte 0x{byte:02x} at offset {at:,} is not UTF-8, although the file starts with "
                    "UTF-8's byte-order mark: the file is damaged; download it again or save it as CSV UTF-8", line)
    if scan.multibyte:
        raise fatal(path, f"byte 0x{byte:02x} at offset {at:,} is not valid UTF-8, in a file whose other "
                    "accented letters are UTF-8: reading it all as Windows-1252 would garble every name, so "
                    "nothing was imported; correct that character, or save the file as CSV UTF-8", line)
    if scan.cp1252_error is not None:
        bad_line, bad = _line_at(path, scan.cp1252_error)
        raise fatal(path, f"the text is neither UTF-8 nor Windows-1252 (byte 0x{bad:02x} at offset "
                    f"{scan.cp1252_error}): save it as CSV UTF-8", bad_line)
    return "cp1252", NotUtf8(at, byte, line)


class _AsRead(dict):
    """A column kept as read: its texts are nearly all distinct, so a dict of them would only add to the memory."""

    def setdefault(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return default


_AS_READ = _AsRead()
# Rows read before each column is judged: one whose texts are over 90% distinct by then is kept as read
_SHARE_SAMPLE = 1_000


def _parse_csv(path: Path, encoding: str, size: int) -> RawTable:
    header: list[str] | None = None
    header_line = 0
    title: tuple[int, str, int] | None = None  # a first line naming one or two cells, judged against the next
    width = 0
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    lengths: set[int] = set()  # every row length seen so far
    distinct: list[dict[str, str]] = []  # per column: each text read, kept once (rows share it), or _AS_READ
    last_length = 0
    last_seen_before = True  # whether the last row's length occurred on an earlier row
    cells = 0
    start_line = 1
    # "utf-8-sig" drops the byte-order mark; errors cannot occur here, the scan proved the encoding
    with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as fh:
        # strict: an unbalanced quote is an error, not a cell that silently swallows the rest of the file
        reader = csv.reader(fh, strict=True)
        try:
            for raw in reader:
                line = start_line
                start_line = reader.line_num + 1
                if not "".join(raw).strip():
                    continue  # blank line
                n = len(raw)
                if header is None or title is not None:
                    named = sum(1 for c in raw if c.strip())
                    if title is not None:
                        if named >= max(3, 4 * title[2]):  # the next line names far more cells
                            raise fatal(path, f"line {title[0]} holds a title ({title[1][:60]!r}), not column names: "
                                        f"the header is on line {line}; delete the line above it and import again",
                                        title[0])
                        title = None
                    if header is None:
                        if n > MAX_COLUMNS:
                            raise fatal(path, f"the header has {n:,} columns, far more than any DfE file (the widest, "
                                        f"KS4 final, has 496; limit {MAX_COLUMNS:,})", line)
                        header = [c.strip() for c in raw]
                        header_line = line
                        width = n
                        distinct = [{} for _ in range(width)]
                        names = {normalise_header(c) for c in header}
                        tidy = {"TIME_PERIOD", "GEOGRAPHIC_LEVEL"} <= names
                        max_rows, max_cells = (MAX_TIDY_ROWS, MAX_TIDY_CELLS) if tidy else (MAX_ROWS, MAX_CELLS)
                        if named <= 2:
                            title = (line, next(c.strip() for c in raw if c.strip()), named)
                        continue
                if raw[0].strip() == header[0] and [c.strip() for c in raw[:width]] == header \
                        and not any(c.strip() for c in raw[width:]):
                    # e.g. two downloads pasted together: read as data, the names would become an LA's footer row
                    raise fatal(path, f"the header is repeated on line {line} (first on line {header_line}): "
                                "remove the repeated line and import again", line)
                if n < width:
                    raw = raw + [""] * (width - n)  # a school without results: fewer fields
                elif n > width:
                    if any(c.strip() for c in raw[width:]):
                        # Values beyond the header mean the row follows another year's layout (GIAS schema
                        # drift): matched by position its cells would land in the wrong columns.
                        problems.append(
                            Problem(path.name, f"row has {n} fields but the header has {width}: its values "
                                    "cannot be matched to the header's columns, so the row was skipped", line)
                        )
                        last_length, last_seen_before = n, True
                        continue
                    raw = raw[:width]  # the national download pads rows with commas
                last_seen_before = n in lengths
                lengths.add(n)
                last_length = n
                # each distinct text of a column kept once: a tidy EES file repeats its keys, names and symbols
                # on every breakdown's row (the national KS2 file's 15.4 million cells are 55,734 distinct texts)
                rows.append(tuple([seen.setdefault(c, c) for seen, c in zip(distinct, raw, strict=True)]))
                if len(rows) == _SHARE_SAMPLE:  # a column of distinct texts (names, a crafted file) is kept as read
                    distinct = [_AS_READ if len(seen) > 0.9 * _SHARE_SAMPLE else seen for seen in distinct]
                lines.append(line)
                cells += width
                if len(rows) > max_rows:
                    raise fatal(path, f"more than {max_rows:,} rows: far more than " + (
                                "a national EES school-level file holds (one row per school, breakdown and subject)"
                                if tidy else "the schools in England") + "; is this a pupil-level or multi-year "
                                "file?", line)
                if cells > max_cells:
                    raise fatal(path, f"more than {max_cells:,} cells ({len(rows):,} rows of {width:,} columns): "
                                "far more than any DfE school-level file", line)
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise fatal(path, 'a quoted value that starts on this line is never closed (an unbalanced " '
                            "character): the rest of the file would run into one cell", start_line) from exc
            if "field larger than field limit" in str(exc):
                raise fatal(path, f"a cell is longer than {MAX_FIELD_CHARS:,} characters: no DfE file has "
                            "cells that long (is a quote character unbalanced?)", start_line) from exc
            raise fatal(path, f"the CSV is malformed: {exc}", start_line) from exc
    if header is None:
        raise fatal(path, "the file has no header row (it contains only blank lines)")
    if not rows:
        if problems:
            raise fatal(path, f"none of the {len(problems):,} rows matches the header's {width:,} columns "
                        f"(first: {problems[0]})", header_line)
        raise fatal(path, "the file has a header but no data rows", header_line)
    columns = [normalise_header(h) for h in header]
    return RawTable(path, encoding, header, columns, rows, lines, problems, size, last_fields=last_length,
                    last_shape_repeats=last_seen_before)


# ------------------------------------------------------------------------------ Excel


def _check_workbook(path: Path) -> None:
    """Measure a workbook's zip members before openpyxl inflates them; raise in a sentence if it is a bomb."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_XLSX_UNCOMPRESSED:
                raise fatal(path, f"the workbook unpacks to {_size(total)}, far more than any DfE workbook "
                            f"(limit {_size(MAX_XLSX_UNCOMPRESSED)}): it looks like a zip bomb")
            for info in infos:
                name = info.filename
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > 1024 * 1024 and ratio > MAX_ZIP_RATIO:
                    raise fatal(path, f"the workbook part {name} is compressed {ratio:,.0f} times (DfE workbooks: "
                                f"under 10; limit {MAX_ZIP_RATIO}): it looks like a zip bomb")
                if name.startswith("xl/worksheets/") and info.file_size > MAX_SHEET_XML:
                    raise fatal(path, f"the sheet {name} is {_size(info.file_size)} of XML, far more than any DfE "
                                f"workbook (limit {_size(MAX_SHEET_XML)})")
                if name.lower() == "xl/sharedstrings.xml":
                    if info.file_size > MAX_SHARED_STRINGS_BYTES:
                        raise fatal(path, f"the workbook's shared strings are {_size(info.file_size)} (limit "
                                    f"{_size(MAX_SHARED_STRINGS_BYTES)}): far more text than any DfE workbook")
                    with zf.open(info) as fh:
                        m = _SST_COUNT.search(fh.read(4096))
                    if m and int(m.group(1)) > MAX_SHARED_STRINGS:
                        raise fatal(path, f"the workbook declares {int(m.group(1)):,} distinct strings (limit "
                                    f"{MAX_SHARED_STRINGS:,}): far more than any DfE workbook")
    except zipfile.BadZipFile as exc:
        raise fatal(path, f"the Excel workbook cannot be read: {exc}") from exc
    except (OSError, EOFError, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise fatal(path, f"the Excel workbook cannot be read: {exc}") from exc


def _read_xlsx(path: Path, size: int) -> RawTable:
    import warnings

    import openpyxl

    _check_workbook(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about DfE workbooks' unknown extensions
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise fatal(path, f"the Excel workbook cannot be read: {exc}") from exc
    try:
        ws = wb.worksheets[0]
        header: list[str] | None = None
        header_line = 0
        rows: list[tuple[str, ...]] = []
        lines: list[int] = []
        # The header is looked for in the first 20 rows, no wider than any DfE file can be (a sheet whose rows
        # claim 16,384 columns is padded by openpyxl to that width); the rows are then read only as wide as it.
        for i, values in enumerate(ws.iter_rows(max_row=20, max_col=MAX_COLUMNS + 1, values_only=True), start=1):
            cells = ["" if v is None else _cell_text(v) for v in values]
            named = {normalise_header(c) for c in cells if c.strip()}
            # e.g. ks4provisional_meta.xlsx: "Metafile heading, Metafile description…", then a row per
            # column of the data file, one of which is URN; a one-cell title row is not judged
            if (own := own_export_refusal(named)) is not None:  # Jointly's own report (issue 11 point 10)
                raise fatal(path, own, i)
            if len(named) >= 2 and is_metadata_header(named):
                raise fatal(path, METADATA_MESSAGE, i)
            if any(c.strip().upper() == "URN" for c in cells):
                while cells and not cells[-1].strip():
                    cells.pop()
                if len(cells) > MAX_COLUMNS:
                    raise fatal(path, f"the header has more than {MAX_COLUMNS:,} columns, far more than any "
                                "DfE file (the widest, KS4 final, has 496)", i)
                header = [c.strip() for c in cells]
                header_line = i
                break
        if header is not None:
            width = len(header)
            rows_in = ws.iter_rows(min_row=header_line + 1, max_col=width, values_only=True)
            for i, values in enumerate(rows_in, start=header_line + 1):
                cells = ["" if v is None else _cell_text(v) for v in values]
                if not any(c.strip() for c in cells):
                    continue
                rows.append(tuple((cells + [""] * width)[:width]))
                lines.append(i)
                if len(rows) > MAX_ROWS:
                    raise fatal(path, f"more than {MAX_ROWS:,} rows: far more than the schools in England", i)
                if len(rows) * width > MAX_CELLS:
                    raise fatal(path, f"more than {MAX_CELLS:,} cells: far more than any DfE school-level file", i)
    except FatalImportError:
        raise
    except Exception as exc:  # a damaged sheet can fail part-way through, in openpyxl's or the XML parser's types
        raise fatal(path, f"the Excel workbook cannot be read: {exc}") from exc
    finally:
        wb.close()
    if header is None:
        raise fatal(
            path,
            "this Excel workbook has no data table (no URN column in its first sheet): it looks like a DfE "
            "metadata or guidance workbook; import the CSV data files it describes",
        )
    if not rows:
        raise fatal(path, "the workbook has a header but no data rows", header_line)
    columns = [normalise_header(h) for h in header]
    return RawTable(path, "xlsx", header, columns, rows, lines, [], size, sha256=_sha256(path))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _cell_text(v: object) -> str:
    import datetime as dt

    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
