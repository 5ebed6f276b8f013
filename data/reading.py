"""Reading a user's file into a header and text rows, with every byte-level quirk handled.

Performance tables: UTF-8 with BOM, CRLF, no final newline, ragged or comma-padded rows.
GIAS: Windows-1252. EES: plain UTF-8. Ofsted's list: an Excel workbook.
Everything is read as text; numbers are coerced later, cell by cell, so a bad cell is a
row-level problem with its line and column rather than a crash.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from data.formats import METADATA_MESSAGE, is_metadata_header, normalise_header

csv.field_size_limit(10_000_000)

# England has about 24,000 open schools and 50,000 GIAS records including closed ones.
MAX_ROWS = 200_000
DEFAULT_MAX_MB = 400


def max_bytes() -> int:
    return int(float(os.environ.get("JOINTLY_MAX_IMPORT_MB", DEFAULT_MAX_MB)) * 1024 * 1024)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    fatal: bool = False

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class FatalImportError(Exception):
    """The file cannot be imported at all; nothing was written."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class RawTable:
    path: Path
    encoding: str
    header: list[str]  # as written in the file
    columns: list[str]  # normalised (upper case, aliases applied)
    rows: list[list[str]]  # padded to the header's width
    lines: list[int]  # the file line each row started on
    problems: list[Problem] = field(default_factory=list)
    size_bytes: int = 0

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
    with open(path, "rb") as fh:
        data = fh.read()
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return _read_xlsx(path, data)
        raise fatal(path, "this is a ZIP archive: unzip it and import the CSV files inside")
    if head.startswith(b"%PDF"):
        raise fatal(path, "this is a PDF document, not a data file: download the CSV version")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fatal(path, "the file is UTF-16 text: save it as CSV (UTF-8) and import it again")
    if b"\x00" in head:
        raise fatal(path, "the file contains binary data (NUL bytes): it is not a CSV text file")
    text, encoding = _decode(path, data)
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > 8:
        raise fatal(path, f"the file looks corrupted: {controls} control characters in its first 8 KB")
    return _parse_csv(path, text, encoding, size)


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GIAS extracts and some DfE metafiles are Windows-1252 (e.g. "£" is byte 0xA3)
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise fatal(
            path,
            f"the text is neither UTF-8 nor Windows-1252 (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "save it as CSV UTF-8",
            line=line,
        ) from exc


def _parse_csv(path: Path, text: str, encoding: str, size: int) -> RawTable:
    # strict: an unbalanced quote is an error, not a cell that silently swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    start_line = 1
    try:
        for raw in reader:
            line = start_line
            start_line = reader.line_num + 1
            if not raw or all(not c.strip() for c in raw):
                continue  # blank line
            if header is None:
                header = [c.strip() for c in raw]
                continue
            width = len(header)
            if len(raw) < width:
                raw = raw + [""] * (width - len(raw))  # a school without results: fewer fields
            elif len(raw) > width:
                extra = raw[width:]
                if any(c.strip() for c in extra):
                    # Values beyond the header mean the row follows another year's layout (GIAS schema
                    # drift): matched by position its cells would land in the wrong columns.
                    problems.append(
                        Problem(path.name, f"row has {len(raw)} fields but the header has {width}: its values "
                                "cannot be matched to the header's columns, so the row was skipped", line)
                    )
                    continue
                raw = raw[:width]  # the national download pads rows with commas
            rows.append(raw)
            lines.append(line)
            if len(rows) > MAX_ROWS:
                raise fatal(path, f"more than {MAX_ROWS:,} rows: far more than the schools in England; "
                            "is this a pupil-level or multi-year file?", line)
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise fatal(path, 'a quoted value that starts on this line is never closed (an unbalanced " '
                        "character): the rest of the file would run into one cell", start_line) from exc
        raise fatal(path, f"the CSV is malformed: {exc}", start_line) from exc
    if header is None:
        raise fatal(path, "the file has no header row (it contains only blank lines)")
    columns = [normalise_header(h) for h in header]
    if not rows:
        raise fatal(path, "the file has a header but no data rows", 1)
    return RawTable(path, encoding, header, columns, rows, lines, problems, size)


def _read_xlsx(path: Path, data: bytes) -> RawTable:
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about DfE workbooks' unknown extensions
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise fatal(path, f"the Excel workbook cannot be read: {exc}") from exc
    try:
        ws = wb.worksheets[0]
        header: list[str] | None = None
        header_line = 0
        rows: list[list[str]] = []
        lines: list[int] = []
        for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else _cell_text(v) for v in values]
            if header is None:
                named = {normalise_header(c) for c in cells if c.strip()}
                # e.g. ks4provisional_meta.xlsx: "Metafile heading, Metafile description…", then a row per
                # column of the data file, one of which is URN; a one-cell title row is not judged
                if len(named) >= 2 and is_metadata_header(named):
                    raise fatal(path, METADATA_MESSAGE, i)
                if any(c.strip().upper() == "URN" for c in cells):
                    header = [c.strip() for c in cells]
                    header_line = i
                elif i >= 20:
                    break
                continue
            if not any(c.strip() for c in cells):
                continue
            cells = (cells + [""] * len(header))[: len(header)]
            rows.append(cells)
            lines.append(i)
            if len(rows) > MAX_ROWS:
                raise fatal(path, f"more than {MAX_ROWS:,} rows: far more than the schools in England", i)
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
    return RawTable(path, "xlsx", header, columns, rows, lines, [], len(data))


def _cell_text(v: object) -> str:
    import datetime as dt

    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
