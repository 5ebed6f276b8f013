"""Generate the malformed-file corpus from the real DfE files in ../shared/realdata, into a scratch folder.

Nothing generated here is committed: the real files may not be copied into the project, so every case is made
again at test time (`generate(out_dir)`, a few seconds). Each case says how it was made and what must happen:
refused (exit 2, a located sentence, the store unchanged) or imported with exactly the values of the pristine
file it came from (or of the pristine file with one named school changed). The expectations are computed here,
from the bytes and the csv module, never from the importer's own helpers.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
PERF = REALDATA / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"
OFSTED = REALDATA / "ofsted_mi_2025-26_hal609"
BOM = "\ufeff"
INT32_MAX = 2**31 - 1


class Outcome(StrEnum):
    """What the importer must do with a case."""

    REFUSED = "refused"  # exit 2, a located sentence, the store byte-identical (the import log may say 'failed')
    SAME = "same"  # exit 0 and the store exactly as after importing the pristine file
    CHANGED = "changed"  # exit 0, as the pristine import except rows of `urns`; `where` found in the report
    REFUSED_OR_SAME = "refused_or_same"  # either is safe: nothing lost, nothing invented
    REFUSED_OR_SKIPPED = "refused_or_skipped"  # refused at `where`, or that one row skipped with a problem at `where`


@dataclass(frozen=True)
class Source:
    """A real file the corpus is made from; `head` keeps only its first rows (the big files)."""

    key: str
    family: str
    path: Path
    period: str | None = None  # --period for files without a year column
    head: int | None = None
    imports: bool = True  # the pristine file imports today: "same values" cases can be judged against it
    footers: bool = False  # ends with LA/national rows that no school row may follow
    key_column: str = "URN"
    prelude: tuple[str, ...] = ()  # sources imported first (e.g. the schools an Ofsted list updates)
    number_column: str | None = None  # a measure column for the absurd-value case


SOURCES: dict[str, Source] = {s.key: s for s in [
    Source("ks4final", "performance tables", PERF / "815_2018_ks4final.csv", "2017/18", footers=True,
           number_column="ATT8SCR"),
    Source("ks4prov", "performance tables", PERF / "815_2019_ks4provisional.csv", "2018/19", footers=True),
    Source("census19", "performance tables", PERF / "815_2019_census.csv", "2018/19", footers=True,
           number_column="NOR"),
    Source("cfr18", "performance tables", PERF / "815_2018_cfr.csv", "2017/18", footers=True,
           number_column="TOTALEXPENDITURE"),
    Source("spine", "performance tables", PERF / "815_spine.csv", "2018/19"),
    Source("gias_est", "GIAS", REALDATA / "gias_establishments_sample_Lercher" / "edubasealldata20181029_20.csv"),
    Source("gias_groups", "GIAS", REALDATA / "gias_fixtures_teaching-vacancies" / "example_groups_data.csv",
           key_column="Group UID"),
    Source("gias_links", "GIAS", REALDATA / "gias_fixtures_teaching-vacancies" / "example_links_data.csv"),
    Source("gias_members", "GIAS", REALDATA / "gias_2025_cianfhoghlaim" / "EXCERPT_academiesmatmembership20250426.csv"),
    # The April 2025 excerpt is children's centres only: refused by name (no school's group in it; docs/data.md)
    Source("gias_alllinks", "GIAS", REALDATA / "gias_2025_cianfhoghlaim" / "EXCERPT_alllinksdata20250426.csv",
           imports=False),
    Source("ees_census", "EES", REALDATA / "ees_school_census_2022-23_sample" /
           "spc_school_level_2022-23_north_yorkshire.csv", head=120, number_column="headcount of pupils",
           key_column="urn"),
    Source("ees_ks4", "EES", REALDATA / "ees_ks4_2024-25_hal609" / "202425_information_about_schools_provisional.csv",
           head=150, key_column="school_urn"),
    Source("ofsted24", "Ofsted", OFSTED / "EXCERPT_Management_information_-_state-funded_schools_-_latest_inspections"
           "_as_at_31_Aug_2024.csv", prelude=("gias_est",)),
    Source("ofsted26", "Ofsted", OFSTED / "Management_information_-_state-funded_schools_-_all_inspections_-_year_to"
           "_date_published_by_28_Feb_2026.csv"),
]}

# The store every case starts from: real data of other years and files, so that a refused file has something to
# destroy and a file that silently imported nothing cannot pass for its pristine twin.
BASE_FILES: tuple[tuple[Path, str | None], ...] = (
    (PERF / "815_2019_ks4provisional.csv", "2018/19"),
    (PERF / "815_2018_census.csv", "2017/18"),
    (REALDATA / "gias_2025_sap-sector" / "Establishments-UI-Test-Data.csv", None),
)


@dataclass(frozen=True)
class Case:
    """One corpus file, how it was made, and what the importer must do with it."""

    name: str
    family: str
    how: str
    outcome: Outcome
    path: Path  # what is given to `python -m data import`
    source: str | None = None  # the pristine source its values are judged against
    period: str | None = None  # --period
    where: str | None = None  # a regex the refusal (or the row problem) must match beside the file name
    urns: tuple[int, ...] = ()  # CHANGED / REFUSED_OR_SKIPPED: the schools whose rows may differ
    names: tuple[tuple[int, str], ...] = ()  # establishments.name that must be stored exactly
    absent: tuple[float, ...] = ()  # values that must not be stored anywhere (absurd numbers, bad URNs)
    prelude: tuple[str, ...] = ()
    args: tuple[str, ...] = ()  # extra CLI arguments (e.g. a bad --period)

    @property
    def argv(self) -> list[str]:
        period = ["--period", self.period] if self.period else []
        return ["import", *period, *self.args, str(self.path)]


# ------------------------------------------------------------------------------ text of a source


@dataclass(frozen=True)
class Text:
    """A CSV source as lines of text with its byte habits, so a mutation can change one habit only."""

    lines: tuple[str, ...]  # physical lines without terminators (no real file here has a newline inside a cell)
    bom: bool
    nl: str
    final_nl: bool
    encoding: str

    def to_bytes(self, lines: list[str] | tuple[str, ...] | None = None, **kw: object) -> bytes:
        t = replace(self, **kw) if kw else self
        body = t.nl.join(self.lines if lines is None else lines) + (t.nl if t.final_nl else "")
        errors = "replace" if t.encoding == "cp1252" else "strict"  # e.g. a U+FFFD already in the real text
        return ("\ufeff" if t.bom else "").encode(t.encoding) + body.encode(t.encoding, errors)

    @property
    def header(self) -> list[str]:
        return fields(self.lines[0])


def fields(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def load(src: Source) -> Text:
    raw = src.path.read_bytes()
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1252"), "cp1252"
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    nl = "\r\n" if "\r\n" in text else "\n"
    final_nl = text.endswith(nl)
    lines = text.removesuffix(nl).split(nl) if final_nl else text.split(nl)
    if src.head is not None:
        lines = lines[: src.head + 1]
        final_nl = True
    return Text(tuple(lines), bom, nl, final_nl, encoding)


def write_csv(rows: list[list[str]], t: Text, *, quoting: int = csv.QUOTE_MINIMAL, nl: str | None = None) -> bytes:
    """Rows written back with the source's BOM, newline and final-newline habits."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator=nl or t.nl, quoting=quoting)
    w.writerows(rows)
    body = buf.getvalue()
    if not t.final_nl:
        body = body.removesuffix(nl or t.nl)
    return ("\ufeff" if t.bom else "").encode(t.encoding) + body.encode(t.encoding)


def school_lines(src: Source, t: Text) -> list[int]:
    """Indexes of the lines that describe one school (the key column holds digits), in file order."""
    header = t.header
    k = header.index(src.key_column)
    out = []
    for i, line in enumerate(t.lines[1:], start=1):
        f = fields(line)
        if len(f) == len(header) and f[k].strip().isdigit():
            out.append(i)
    return out


def middle(src: Source, t: Text, frac: float = 0.55) -> int:
    rows = school_lines(src, t)
    return rows[int(len(rows) * frac)]


def footer_start(src: Source, t: Text) -> int:
    """The first line after the last school row: where the LA/national footer rows begin."""
    k = t.header.index(src.key_column)
    last = max(i for i, line in enumerate(t.lines[1:], start=1) if fields(line)[k:k + 1] and
               fields(line)[k].strip().isdigit())
    return last + 1


def prefix_bytes(t: Text, upto_line: int, partial: str) -> bytes:
    """The file cut inside line `upto_line` (an index), keeping `partial` of it and no newline after."""
    lines = list(t.lines[:upto_line]) + [partial]
    return t.to_bytes(lines, final_nl=False)


def line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def located_line(n: int) -> str:
    return rf"\bline ({n}|{n:,})\b"


def located_offset(n: int) -> str:
    return rf"\boffset ({n}|{n:,})\b"


def set_field(line: str, col: int, value: str) -> str:
    f = fields(line)
    f[col] = value
    return write_row(f)


def write_row(f: list[str]) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="").writerow(f)
    return buf.getvalue()


def urn_of(src: Source, t: Text, i: int) -> int:
    return int(fields(t.lines[i])[t.header.index(src.key_column)])


def name_column(header: list[str]) -> int | None:
    for n in ("SCHNAME", "EstablishmentName", "School name", "school_name", "Group Name"):
        if n in header:
            return header.index(n)
    return None


# ------------------------------------------------------------------------------ minimal workbooks and images


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xlsx(rows: list[list[str]] | None, *, sheet_xml: str | None = None, shared: str | None = None) -> bytes:
    """A minimal workbook: one sheet of inline strings, or the given sheet XML (and shared strings)."""
    if sheet_xml is None:
        body = "".join(
            f'<row r="{r}">' + "".join(f'<c r="{_col(c)}{r}" t="inlineStr"><is><t>{_esc(v)}</t></is></c>'
                                       for c, v in enumerate(row, start=1) if v != "") + "</row>"
            for r, row in enumerate(rows or [], start=1))
        sheet_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.'
                     f'openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>')
    ns = "http://schemas.openxmlformats.org"
    types = (f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="applicat'
             'ion/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
             + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared is not None else "") + "</Types>")
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>')
    wb = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
          f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/>'
          '</sheets></workbook>')
    wb_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
               f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
               'Target="worksheets/sheet1.xml"/>'
               + (f'<Relationship Id="rId2" Type="{ns}/officeDocument/2006/relationships/sharedStrings" '
                  'Target="sharedStrings.xml"/>' if shared is not None else "") + "</Relationships>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
    return buf.getvalue()


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] "
            b"/Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


# ------------------------------------------------------------------------------ the cases


@dataclass
class _Maker:
    """Collects cases while writing their files into `out`."""

    out: Path
    cases: list[Case] = field(default_factory=list)

    def add(self, name: str, family: str, how: str, outcome: Outcome, data: bytes | None, *,
            filename: str, **kw: object) -> Case:
        folder = self.out / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / filename
        if data is not None:
            path.write_bytes(data)
        case = Case(name, family, how, outcome, path, **kw)  # type: ignore[arg-type]
        self.cases.append(case)
        return case


def _refusals(m: _Maker, src: Source, t: Text) -> None:
    """Byte- and row-level attacks that must be refused whatever the family."""
    fam, fn, per = src.family, src.path.name, src.period
    k = t.header.index(src.key_column)
    mid = middle(src, t)
    line_no = mid + 1  # 1-based file line of the middle school row
    common = {"filename": fn, "period": per, "prelude": src.prelude, "source": src.key}

    def add(name: str, how: str, data: bytes, where: str | None, outcome: Outcome = Outcome.REFUSED,
            **kw: object) -> None:
        if not src.imports and where and where.startswith(r"\bline"):
            # No importer reads this format yet: its header is refused (line 1) before any row is looked at.
            where = r"\bline \d+"
        m.add(f"{src.key}-{name}", fam, how, outcome, data, where=where, **{**common, **kw})

    # --- truncation at many offsets
    row = t.lines[mid]
    digits = [i for i in range(1, len(row)) if row[i].isdigit() and row[i - 1].isdigit()]
    cut = digits[len(digits) // 2]
    add("cut-mid-number", f"cut inside a number of line {line_no} (at character {cut}), no newline after",
        prefix_bytes(t, mid, row[:cut]), located_line(line_no))
    commas = [i for i, ch in enumerate(row) if ch == ","]
    add("cut-at-field-boundary", f"cut just after a comma half-way along line {line_no}",
        prefix_bytes(t, mid, row[: commas[len(commas) // 2] + 1]), located_line(line_no))
    add("cut-mid-key", f"cut inside the {src.key_column} of line {line_no}",
        prefix_bytes(t, mid, write_row(fields(row)[:k]) + ("," if k else "") + fields(row)[k][:3]),
        located_line(line_no))
    late = school_lines(src, t)[-1]
    late_row = t.lines[late]
    add("cut-last-school-row", f"cut two thirds along the last school row (line {late + 1})",
        prefix_bytes(t, late, late_row[: len(late_row) * 2 // 3]), located_line(late + 1))
    quoted = next(((i, t.lines[i].index('"')) for i in school_lines(src, t) if '"' in t.lines[i]), None)
    if quoted:
        qi, qpos = quoted
        add("cut-mid-quoted-field", f"cut inside a quoted field of line {qi + 1}",
            prefix_bytes(t, qi, t.lines[qi][: qpos + 2]), located_line(qi + 1))
    add("cut-after-header", "only the header line and its newline", t.to_bytes(t.lines[:1], final_nl=True),
        r"\bline [12]\b")
    add("cut-mid-header", "cut half-way along the header", prefix_bytes(t, 0, t.lines[0][: len(t.lines[0]) // 2]),
        located_line(1))
    if src.footers:
        fs = footer_start(src, t)
        add("cut-before-footers", f"cut at the end of line {fs} (a whole school row): the LA and national rows "
            "that close every performance-tables file are gone", t.to_bytes(t.lines[:fs], final_nl=False),
            r"\bline \d+")
        add("only-footers", "the header and the LA/national rows, no school", t.to_bytes(
            [t.lines[0], *t.lines[fs:]]), None)
    else:
        short = write_row(fields(t.lines[-1])[: max(2, len(t.header) // 2)])
        n = len(t.lines)
        add("final-row-fewer-fields", f"the final row (line {n}) stops after half the header's fields, no newline",
            t.to_bytes([*t.lines[:-1], short], final_nl=False), located_line(n))

    # --- encodings
    data = t.to_bytes()
    name_i = name_column(t.header)
    bad = 0x81 if t.encoding == "cp1252" or not t.bom else 0xFF  # 0x81: undefined in Windows-1252 as well
    pos = data.index(t.lines[mid].encode(t.encoding)) + len(t.lines[mid]) // 2
    add("one-bad-byte", f"byte 0x{bad:02X} written over offset {pos} (line {line_of(data, pos)})",
        data[:pos] + bytes([bad]) + data[pos + 1:], located_offset(pos))
    pos2 = len(data) - 3
    add("one-bad-byte-at-end", f"byte 0x81 written over offset {pos2}, near the end", data[:pos2] + b"\x81"
        + data[pos2 + 1:], located_offset(pos2))
    if name_i is not None:
        rows = [fields(line) for line in t.lines]
        a, b = school_lines(src, t)[0], mid
        rows[a][name_i] = rows[a][name_i] + " Académie"
        rows[b][name_i] = rows[b][name_i] + " Académie"
        utf8_line = write_row(rows[a]).encode("utf-8")
        cp_line = write_row(rows[b]).encode("cp1252", "replace")
        lines_b = [line.encode("utf-8") for line in t.lines]
        lines_b[a], lines_b[b] = utf8_line, cp_line
        mixed = (b"\xef\xbb\xbf" if t.bom else b"") + t.nl.encode().join(lines_b) + (t.nl.encode() if t.final_nl
                                                                                      else b"")
        off = mixed.index(b"\xe9")  # the UTF-8 é is C3 A9: the first lone E9 is the cp1252 one
        add("mixed-encodings", f"line {a + 1} has 'é' in UTF-8, line {b + 1} in Windows-1252 (byte 0xE9 at offset "
            f"{off})", mixed, located_offset(off))
        cp = t.to_bytes([write_row(r) for r in rows], encoding="cp1252", bom=False)
        cp_bom = b"\xef\xbb\xbf" + cp
        off = cp_bom.index(b"\xe9")
        add("cp1252-with-utf8-bom", f"Windows-1252 text ('é' as 0xE9) behind a UTF-8 byte-order mark: the BOM "
            f"claims UTF-8 (first bad byte at offset {off})", cp_bom, located_offset(off))
    nul = data.index(t.lines[mid].encode(t.encoding)) + 5
    add("nul-mid-file", f"a NUL byte inserted at offset {nul} (line {line_of(data, nul)})",
        data[:nul] + b"\x00" + data[nul:], located_line(line_of(data, nul)) + "|" + located_offset(nul))
    add("utf16-le", "the same text saved as UTF-16 (little-endian, with BOM)", (BOM + t.to_bytes(bom=False)
        .decode(t.encoding)).encode("utf-16-le"), None)
    add("utf16-be-no-bom", "the same text as UTF-16 big-endian without a BOM", t.to_bytes(bom=False)
        .decode(t.encoding).encode("utf-16-be"), None)

    # --- shape of the table
    add("header-only", "the header line alone, no newline", t.to_bytes(t.lines[:1], final_nl=False), located_line(1))
    add("title-line", "a title line above the header (as when a report is saved as CSV): the header is on line 2",
        t.to_bytes([f"{src.family} download for North Yorkshire, printed 1 December 2026", *t.lines]),
        located_line(2))
    add("renamed-key", f"the key column {src.key_column} renamed to {src.key_column}_CODE",
        t.to_bytes([write_row([h + "_CODE" if i == k else h for i, h in enumerate(t.header)]), *t.lines[1:]]),
        located_line(1))
    add("missing-key", f"the key column {src.key_column} removed from every row",
        t.to_bytes([write_row([c for i, c in enumerate(fields(line)) if i != k]) for line in t.lines]),
        located_line(1))
    if src.key_column != "Group UID":
        urn = urn_of(src, t, mid)
        variants = (("urn-2-31", str(INT32_MAX + 1)), ("urn-2-63", str(2**63)), ("urn-30-digits", "9" * 30),
                    ("urn-negative", "-" + str(urn)), ("urn-zero", "0"), ("urn-alpha", "URN" + str(urn)[:3]),
                    ("urn-decimal", f"{urn}.5"))
        for label, value in variants if src.key in URN_FULL else variants[:1] + variants[5:6]:
            lines = list(t.lines)
            lines[mid] = set_field(lines[mid], k, value)
            add(label, f"the URN of line {line_no} ({urn}) replaced by {value!r}", t.to_bytes(lines),
                located_line(line_no), Outcome.REFUSED_OR_SKIPPED, urns=(urn,),
                absent=(float(value),) if value.lstrip("-").replace(".", "").isdigit() and value != "0" else ())
        lines = list(t.lines)
        for i in school_lines(src, t):
            lines[i] = set_field(lines[i], k, "X" + fields(lines[i])[k])
        add("every-row-bad", "every school row's URN made alphabetic (X100000)", t.to_bytes(lines), None)
        lines = list(t.lines)
        lines.insert(mid + 1, t.lines[mid])
        # A link or membership file may list a school twice (its history): an exact repeat is harmless there.
        history = src.key in ("gias_links", "gias_members", "gias_alllinks")
        add("duplicated-row", f"line {line_no} repeated as line {line_no + 1}", t.to_bytes(lines),
            located_line(line_no + 1), Outcome.REFUSED_OR_SAME if history else Outcome.REFUSED)
    lines = list(t.lines)
    lines.insert(1, t.lines[0])
    add("duplicated-header", "the header repeated as line 2", t.to_bytes(lines), located_line(2),
        Outcome.REFUSED_OR_SAME)
    if name_i is not None:
        lines = list(t.lines)
        f = fields(lines[mid])
        lines[mid] = write_row(f[:name_i]) + "," + f'"{f[name_i]}"x' + "," + write_row(f[name_i + 1:])
        add("stray-quote", f"a character after the closing quote of a name on line {line_no}", t.to_bytes(lines),
            located_line(line_no))
        lines = list(t.lines)
        lines[mid] = write_row(f[:name_i]) + ',"' + f[name_i] + "," + write_row(f[name_i + 1:])
        add("unbalanced-quote", f"a quote opened before the name on line {line_no} and never closed",
            t.to_bytes(lines), located_line(line_no))


def _same(m: _Maker, src: Source, t: Text, *, full: bool) -> None:
    """Changes of form only: each must import exactly the pristine file's values."""
    fam, fn = src.family, src.path.name
    common = {"filename": fn, "period": src.period, "prelude": src.prelude, "source": src.key}

    def add(name: str, how: str, data: bytes, **kw: object) -> None:
        outcome = kw.pop("outcome", Outcome.SAME)
        m.add(f"{src.key}-{name}", fam, how, outcome, data, **{**common, **kw})  # type: ignore[arg-type]

    width = len(t.header)
    rows = [fields(line) for line in t.lines]
    padded = [r + [""] * (width - len(r)) for r in rows]
    add("pristine", "the real file as published", t.to_bytes())
    add("columns-reversed", "every column in reverse order (short rows padded first)",
        write_csv([r[::-1] for r in padded], t))
    add("quote-every-field", "every field quoted", write_csv(rows, t, quoting=csv.QUOTE_ALL))
    if not full:
        return
    add("lf-endings" if t.nl == "\r\n" else "crlf-endings", "line endings switched between CRLF and LF",
        t.to_bytes(nl="\n" if t.nl == "\r\n" else "\r\n"))
    if not full:
        return
    add("padded-with-commas", "every data row padded with three empty fields, as the national download does",
        t.to_bytes([t.lines[0], *[line + ",,," for line in t.lines[1:]]]))
    add("bom-removed" if t.bom else "bom-added", "the UTF-8 byte-order mark removed or added",
        t.to_bytes(bom=not t.bom))
    # After a closing quote, spaces are malformed CSV (RFC 4180): refusing that is as right as reading past them.
    quoted_end = any(line.endswith('"') for line in t.lines)
    add("trailing-whitespace", "two spaces at the end of every line", t.to_bytes([line + "  " for line in t.lines]),
        **({"outcome": Outcome.REFUSED_OR_SAME, "where": located_line(1)} if quoted_end else {}))
    header = t.lines[0]
    add("header-case", "the header in the other case", t.to_bytes([header.upper() if header != header.upper()
                                                                   else header.lower(), *t.lines[1:]]))
    # Without its final newline a file that always ends with one cannot be told from one cut after its last value.
    add("final-newline-toggled", "a final newline added or removed", t.to_bytes(final_nl=not t.final_nl),
        **({"outcome": Outcome.REFUSED_OR_SAME} if t.final_nl else {}))
    lines = list(t.lines)
    lines.insert(len(lines) // 2, "")
    add("blank-lines", "a blank line in the middle and three at the end", t.to_bytes([*lines, "", "", ""],
                                                                                      final_nl=True))
    add("cr-only-endings", "old Mac line endings (CR only)", t.to_bytes(nl="\r"))


def _changed(m: _Maker, src: Source, t: Text) -> None:
    """One school's values made absurd, or its text carried across lines: only that school may change."""
    fam, fn = src.family, src.path.name
    common = {"filename": fn, "period": src.period, "prelude": src.prelude, "source": src.key}
    header = t.header
    mid = middle(src, t)
    urn = urn_of(src, t, mid)
    if src.number_column:
        c = header.index(src.number_column)
        lines = list(t.lines)
        lines[mid] = set_field(lines[mid], c, "1000000000000000")
        m.add(f"{src.key}-absurd-value", fam, f"{src.number_column} of line {mid + 1} (URN {urn}) set to 10^15",
              Outcome.CHANGED, t.to_bytes(lines), where=rf"\bline {mid + 1}, column {src.number_column}\b",
              urns=(urn,), absent=(1e15,), **common)
    name_i = name_column(header)
    if name_i is not None:
        rows = [fields(line) for line in t.lines]
        later = school_lines(src, t)[-1]
        rows[mid][name_i] = rows[mid][name_i] + t.nl + "(annexe)"
        lines = list(t.lines)
        lines[mid] = write_row(rows[mid])
        where = None
        urns = (urn,)
        absent: tuple[float, ...] = ()
        if src.number_column:
            c = header.index(src.number_column)
            lines[later] = set_field(lines[later], c, "2000000000000000")
            where = rf"\bline {later + 2}, column {src.number_column}\b"  # one line further down: the newline
            urns = (urn, urn_of(src, t, later))
            absent = (2e15,)
        m.add(f"{src.key}-embedded-newline", fam, f"the name on line {mid + 1} carries a quoted line break; a later "
              "row has an absurd value, whose line number must count the extra line", Outcome.CHANGED,
              t.to_bytes(lines), where=where, urns=urns, absent=absent, **common)


def _gias_text(m: _Maker, src: Source, t: Text) -> None:
    """GIAS's real cp1252: a name with É and ’ must be stored exactly, in either encoding."""
    header = t.header
    name_i = name_column(header)
    assert name_i is not None
    mid = middle(src, t)
    urn = urn_of(src, t, mid)
    rows = [fields(line) for line in t.lines]
    name = "ARETÉ LEARNING TRUST’s Académie"
    rows[mid][name_i] = name
    text_lines = [write_row(r) for r in rows]
    for label, enc, bom in (("cp1252-name", "cp1252", False), ("utf8-bom-name", "utf-8", True)):
        m.add(f"{src.key}-{label}", src.family, f"the name of URN {urn} set to {name!r}, file in {enc}"
              + (" with BOM" if bom else ""), Outcome.CHANGED, t.to_bytes(text_lines, encoding=enc, bom=bom),
              filename=src.path.name, source=src.key, urns=(urn,), names=((urn, name),))


def _special(m: _Maker, texts: dict[str, Text]) -> None:
    """Whole-file attacks: wrong containers, bombs, bounds, periods, names, links and folders."""
    census = SOURCES["census19"]
    ct = texts["census19"]
    cfn = census.path.name
    per = census.period
    R = Outcome.REFUSED
    m.add("zero-byte", "performance tables", "an empty file", R, b"", filename=cfn, period=per)
    m.add("whitespace-only", "performance tables", "spaces and newlines only", R, b"   \r\n\r\n  \r\n", filename=cfn,
          period=per)
    m.add("bom-only", "performance tables", "a UTF-8 BOM and nothing else", R, b"\xef\xbb\xbf", filename=cfn,
          period=per)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(cfn, ct.to_bytes())
    m.add("zip-named-csv", "performance tables", "a ZIP archive of the census, renamed .csv", R, buf.getvalue(),
          filename=cfn, period=per)
    m.add("pdf-named-csv", "performance tables", "a PDF document renamed .csv", R, pdf(), filename=cfn, period=per)
    m.add("png-named-csv", "performance tables", "a PNG image renamed .csv", R, png(), filename=cfn, period=per)
    m.add("gzip-named-csv", "performance tables", "the census gzipped but still named .csv", R,
          gzip.compress(ct.to_bytes(), mtime=0), filename=cfn, period=per)
    rows = [fields(line) for line in ct.lines]
    m.add("xlsx-named-csv", "performance tables", "a real workbook of the census, renamed .csv", R, xlsx(rows),
          filename=cfn, period=per)

    # --- workbooks
    m.add("census19-as-xlsx", "performance tables", "the census as an Excel workbook (inline strings)",
          Outcome.SAME, xlsx(rows), filename=cfn.replace(".csv", ".xlsx"), period=per, source="census19")
    ot = texts["ofsted24"]
    orows = [fields(line) for line in ot.lines]
    ofn = SOURCES["ofsted24"].path.name.replace(".csv", ".xlsx")
    m.add("ofsted24-as-xlsx", "Ofsted", "the Ofsted list as an Excel workbook", Outcome.SAME, xlsx(orows),
          filename=ofn, source="ofsted24", prelude=("gias_est",))
    m.add("xlsx-sheet-not-xml", "Ofsted", "a workbook whose sheet1.xml is not XML", R,
          xlsx(None, sheet_xml="this is not <xml at all & never closed"), filename=ofn, prelude=("gias_est",))
    m.add("xlsx-sheet-truncated-xml", "Ofsted", "a workbook whose sheet XML stops mid-row", R,
          xlsx(None, sheet_xml=xlsx_sheet(orows)[:4000]), filename=ofn, prelude=("gias_est",))
    m.add("xlsx-empty-sheet", "Ofsted", "a workbook with one empty sheet", R, xlsx([]), filename=ofn,
          prelude=("gias_est",))
    m.add("xlsx-header-only", "Ofsted", "a workbook with the header row only", R, xlsx(orows[:1]), filename=ofn,
          prelude=("gias_est",))
    # A small zip bomb: a few hundred KB on disk, ~60 MB of shared strings once inflated.
    n_strings = 60_000
    si = "<si><t>" + "A" * 1000 + "</t></si>"
    shared = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
              f'2006/main" count="{n_strings}" uniqueCount="{n_strings}">' + si * n_strings + "</sst>")
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>URN</t></is></c>'
             '<c r="B1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>100000</v></c><c r="B2" t="s"><v>1</v></c>'
             '</row></sheetData></worksheet>')
    m.add("xlsx-shared-strings-bomb", "Ofsted", f"{n_strings:,} shared strings of 1,000 characters (60 MB inflated) "
          "in a small workbook", R, xlsx(None, sheet_xml=sheet, shared=shared), filename=ofn, prelude=("gias_est",))
    wide = [["URN", *[f"C{i}" for i in range(20_000)]], ["100000", *["1"] * 20_000]]
    m.add("xlsx-20000-columns", "Ofsted", "a workbook whose header has 20,001 columns", R, xlsx(wide), filename=ofn,
          prelude=("gias_est",))

    # --- bounds
    kt = texts["ks4final"]
    ks = SOURCES["ks4final"]
    extra = 10_007 - len(kt.header)
    lines = [kt.lines[0] + "," + ",".join(f"EXTRA{i}" for i in range(extra)),
             *[line + "," * extra for line in kt.lines[1:]]]
    m.add("ks4final-10007-columns", ks.family, "the KS4 header widened to 10,007 columns (rows padded)", R,
          kt.to_bytes(lines), filename=ks.path.name, period=ks.period, where=r"\bline 1\b|\bcolumns?\b")
    mid = middle(ks, kt)
    lines = list(kt.lines)
    lines[mid] = set_field(lines[mid], kt.header.index("SCHNAME"), "Q" * 1_000_000)
    m.add("ks4final-long-cell", ks.family, f"a school name of 1,000,000 characters on line {mid + 1}", R,
          kt.to_bytes(lines), filename=ks.path.name, period=ks.period, where=located_line(mid + 1))
    et = texts["ees_census"]
    es = SOURCES["ees_census"]
    emid = middle(es, et)
    lines = list(et.lines)
    lines[emid] = set_field(lines[emid], et.header.index("trust"), ";".join(["TRUST"] * 200_000))
    m.add("ees_census-long-cell", es.family, f"a trust cell of 1.2 million characters on line {emid + 1}", R,
          et.to_bytes(lines), filename=es.path.name, where=located_line(emid + 1))

    # --- a file named for one kind holding another (the kind comes from the header)
    m.add("census19-named-ks4final", census.family, "the census saved under a KS4 final file name", Outcome.SAME,
          ct.to_bytes(), filename="815_2019_ks4final.csv", period=per, source="census19")
    gt = texts["gias_est"]
    m.add("gias_est-named-census", "GIAS", "a GIAS extract saved under a census file name", Outcome.SAME,
          gt.to_bytes(), filename="815_2018_census.csv", source="gias_est")
    header = kt.header
    renamed = [{"ATT8SCR": "ATT8SCR_2019", "P8MEA": "P8MEA_2019"}.get(h, h) for h in header]
    m.add("ks4final-measures-renamed", ks.family, "the KS4 measure columns ATT8SCR and P8MEA renamed: the header now "
          "looks like a school-information (spine) file", R, kt.to_bytes([write_row(renamed), *kt.lines[1:]]),
          filename=ks.path.name, period=ks.period, where=located_line(1))
    renamed = [{"ATT8SCR": "ATT8SCR_2019"}.get(h, h) for h in header]
    m.add("ks4final-one-measure-renamed", ks.family, "ATT8SCR renamed ATT8SCR_2019: attainment8 is left out, every "
          "other measure imports", Outcome.REFUSED_OR_SAME, kt.to_bytes([write_row(renamed), *kt.lines[1:]]),
          filename=ks.path.name, period=ks.period, where=r"ATT8SCR", source="ks4final_no_att8")
    tp = et.header.index("time_period")
    for label, value in (("0000", "000001"), ("2999", "299900"), ("1985", "198586")):
        lines = [et.lines[0], *[set_field(line, tp, value) for line in et.lines[1:]]]
        m.add(f"ees_census-time-period-{label}", es.family, f"every time_period set to {value}", R,
              et.to_bytes(lines), filename=es.path.name, where=r"\b(line \d+|column time_period)\b")

    # --- periods
    for folder in ("0000-0001", "2999-3000", "1985-1986", "2045-2046", "2018-2020"):
        c = m.add(f"census19-folder-{folder}", census.family, f"no --period; the file sits in a folder named {folder}",
                  R, None, filename=cfn)
        (c.path.parent / folder).mkdir(parents=True, exist_ok=True)
        target = c.path.parent / folder / cfn
        target.write_bytes(ct.to_bytes())
        m.cases[-1] = replace(c, path=target)
    for label, value in (("0000-01", "0000/01"), ("2999-00", "2999/00"), ("1989-90", "1989/90"), ("2045-46", "2045/46"),
                         ("text", "2018/19'; DROP TABLE observations; --")):
        m.add(f"census19-period-{label}", census.family, f"--period {value!r}", R, ct.to_bytes(), filename=cfn,
              period=value, where=None)

    # --- links and folders
    real = census.path
    c = m.add("symlink-to-real-file", census.family, "a symbolic link to the real census file", Outcome.SAME, None,
              filename=cfn, period=per, source="census19")
    os.symlink(real, c.path)
    c = m.add("dangling-symlink", census.family, "a symbolic link to a file that does not exist", R, None,
              filename=cfn, period=per)
    os.symlink(c.path.parent / "gone.csv", c.path)
    c = m.add("symlink-to-folder", census.family, "a symbolic link to a folder", R, None, filename=cfn, period=per)
    os.symlink(c.path.parent, c.path)
    c = m.add("folder-named-csv", census.family, "a folder named like the census file", R, None, filename=cfn,
              period=per)
    c.path.mkdir()
    c = m.add("symlink-loop", census.family, "a symbolic link that points at itself", R, None, filename=cfn,
              period=per)
    os.symlink(c.path, c.path)


def xlsx_sheet(rows: list[list[str]]) -> str:
    z = zipfile.ZipFile(io.BytesIO(xlsx(rows)))
    return z.read("xl/worksheets/sheet1.xml").decode()


# How hard each source is attacked: every attack on one file of each family, the telling few on the others (the
# whole corpus must run in CI in about three minutes; an import that is not refused costs 1-3 s).
URN_FULL = ("ks4final", "gias_est")
FULL_SAME = ("ks4final", "census19")
SOME_SAME = ("ees_census", "gias_est", "ofsted24", "cfr18", "spine", "gias_members")
PRISTINE_ONLY = ("gias_groups", "gias_links")
FULL_REFUSALS = ("ks4final", "census19", "gias_est", "ees_census")
SOME_REFUSALS = ("ofsted24", "cfr18", "ks4prov", "gias_members", "spine", "gias_alllinks", "gias_groups", "gias_links",
                 "ees_ks4", "ofsted26")


def pristine_bytes(key: str) -> bytes:
    """The bytes a source's 'pristine' import reads (a head of the big files, the whole file otherwise)."""
    src = SOURCES[key]
    return load(src).to_bytes() if src.head else src.path.read_bytes()


def generate(out: Path) -> list[Case]:
    """Write every case into `out` (a fresh folder) and return them in a stable order."""
    out.mkdir(parents=True, exist_ok=True)
    m = _Maker(out)
    texts = {k: load(s) for k, s in SOURCES.items()}
    for key in FULL_SAME:
        _same(m, SOURCES[key], texts[key], full=True)
    for key in SOME_SAME:
        _same(m, SOURCES[key], texts[key], full=False)
    for key in PRISTINE_ONLY:
        m.add(f"{key}-pristine", SOURCES[key].family, "the real file as published", Outcome.SAME,
              texts[key].to_bytes(), filename=SOURCES[key].path.name, source=key)
    for key in FULL_REFUSALS:
        _refusals(m, SOURCES[key], texts[key])
    for key in SOME_REFUSALS:
        _few_refusals(m, SOURCES[key], texts[key])
    for key in ("ks4final", "census19", "ees_census", "gias_est", "spine", "ofsted24"):
        _changed(m, SOURCES[key], texts[key])
    _gias_text(m, SOURCES["gias_est"], texts["gias_est"])
    _special(m, texts)
    names = [c.name for c in m.cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return m.cases


def _few_refusals(m: _Maker, src: Source, t: Text) -> None:
    """The byte-level attacks alone, for the families whose pristine file is small or not yet supported."""
    full = _Maker(m.out)
    _refusals(full, src, t)
    keep = ("cut-mid-number", "cut-before-footers", "final-row-fewer-fields", "one-bad-byte", "mixed-encodings",
            "nul-mid-file", "title-line", "urn-2-31", *EXTRA_REFUSALS.get(src.key, ()))
    m.cases.extend(c for c in full.cases if c.name.removeprefix(src.key + "-") in keep)


# Attacks that found a hole in one family's own reading (a header read as an LA row, an Ofsted list with a school
# twice, footers alone): kept for that family although the short set leaves them out.
EXTRA_REFUSALS = {
    "cfr18": ("duplicated-header", "only-footers", "one-bad-byte-at-end"),
    "ofsted24": ("duplicated-row", "one-bad-byte-at-end", "cp1252-with-utf8-bom"),
    "ks4prov": ("only-footers", "every-row-bad"),
    "gias_members": ("renamed-key", "missing-key", "cp1252-with-utf8-bom"),
    "gias_alllinks": ("renamed-key",),
    "gias_links": ("renamed-key",),
}


def _ks4_without_att8() -> bytes:
    """KS4 final with the ATT8SCR column removed: what a renamed ATT8SCR must import as (attainment8 absent)."""
    t = load(SOURCES["ks4final"])
    k = t.header.index("ATT8SCR")
    return t.to_bytes([write_row([c for i, c in enumerate(fields(line)) if i != k]) for line in t.lines])


# Pristine twins that are not a real file as published: (the real source they stand for, their bytes).
DERIVED_SOURCES: dict[str, tuple[str, Callable[[], bytes]]] = {"ks4final_no_att8": ("ks4final", _ks4_without_att8)}


def twin(key: str) -> tuple[Source, bytes]:
    """The source a pristine twin stands for and the bytes it imports."""
    if key in DERIVED_SOURCES:
        real, make = DERIVED_SOURCES[key]
        return SOURCES[real], make()
    return SOURCES[key], pristine_bytes(key)
