"""Importers for DfE files: performance tables, GIAS, EES and Ofsted's list.

``import_file`` reads a file (``data.ingest.reading``), detects its kind from the header
(``data.ingest.formats``), turns rows into a ``Batch`` of establishments, groups, memberships and
observations, and writes the batch in one transaction. A fatal problem writes nothing; row-level
problems are listed in the report.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from data.db.store import Store, merge_memberships, registered
from data.ingest import ees_national, ees_results, ees_trusts, ofsted, undo
from data.ingest.cells import Deferred
from data.ingest.formats import (
    NEEDS_PERIOD,
    PERFORMANCE_KINDS,
    REGISTRY_KIND,
    DetectError,
    FileKind,
    detect_kind,
    parse_int,
    parse_urn,
    period_from_path,
)
from data.ingest.reading import FatalImportError, Problem, RawTable, fatal, read_table
from data.ingest.rows import (
    EST_COLUMNS,
    GAP_SCOPE,
    KEY_STAGE_PHASE,
    MAX_BAD_CELL_SHARE,
    MIN_ROWS_FOR_SHARE,
    OBS_COLUMNS,
    Batch,
    Columns,
    RowReader,
    checked_gap,
    getter,
    gias_kind,
    group_writer,
    locate,
    parse_date,
    phase_from_words,
    require,
)
from data.ingest.store_check import DEMO_WHY, REAL_STORE_COMMANDS
from metrics.periods import PeriodError, parse_period, period_bounds
from metrics.registry import Phase, load_registry
from metrics.value_years import described_period, value_year_sentence

log = logging.getLogger(__name__)

NATIONAL_CODE = "E92000001"

# Footer codes in census/absence/workforce files (URN column) and CFR files (LA column).
_FOOTER_SCOPES = {
    "PRI": "primary",
    "SEC": "secondary",
    "SPE": "special",
    "PRU": "alternative",
    "SEC-WITH-KS4": "secondary",
    "SEC-WITHOUT-KS4": "secondary_without_ks4",
    "ALL": "all",
    "TOT": "all",
    "TOTAL": "all",
    "": "all",
}
_CFR_FOOTER = re.compile(r"^(NAT|LA|LONDON|NON-LONDON)(?:-(.*))?$")


@dataclass
class ImportReport:
    file: str
    kind: str = ""
    periods: list[str] = field(default_factory=list)
    encoding: str = ""
    rows_read: int = 0
    schools: int = 0
    observations: int = 0
    benchmarks: int = 0
    establishments_added: int = 0
    establishments_updated: int = 0
    groups_added: int = 0
    memberships_changed: int = 0
    measures: list[str] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    import_id: int | None = None
    ok: bool = True
    # whether it changed what the derived tables read of schools (phase, type, admissions, ages; schools added):
    # then every year's derived rows are rebuilt, else only its own years'
    context_changed: bool = False
    message: str = ""

    def summary(self) -> str:
        """The report as a person reads it (the CLI prints this)."""
        if not self.ok:
            return f"FAILED {self.file}: {self.message}\nNothing was written; the store is as it was."
        lines = [
            f"{self.file}: {self.kind}, {', '.join(self.periods) or 'no period'} "
            f"({self.encoding}, {self.seconds:.2f} s)",
            f"  rows read {self.rows_read:,}; schools {self.schools:,}; observations {self.observations:,}; "
            f"benchmarks {self.benchmarks:,}",
            f"  establishments added {self.establishments_added:,}, updated {self.establishments_updated:,}; "
            f"groups added {self.groups_added:,}; memberships changed {self.memberships_changed:,}",
        ]
        if self.measures:
            lines.append(f"  measures: {', '.join(self.measures)}")
        if self.unused_columns:
            shown = ", ".join(self.unused_columns[:12])
            more = f" and {len(self.unused_columns) - 12} more" if len(self.unused_columns) > 12 else ""
            lines.append(f"  {len(self.unused_columns)} columns not used by any measure: {shown}{more}")
        lines.extend(f"  note: {n}" for n in self.notes)
        if self.problems:
            lines.append(f"  {len(self.problems)} row-level problems (values not stored):")
            for p in self.problems[:25]:
                lines.append(f"    - {p}")
            if len(self.problems) > 25:
                lines.append(f"    … and {len(self.problems) - 25} more")
        return "\n".join(lines)






# ============================================================================ entry points


def import_files(store: Store, paths: Sequence[str | Path], period: str | None = None, *,
                 actor: str = "cli", recluster: bool = True) -> list[ImportReport]:
    """Import several files, each in its own transaction, then re-cluster once if schools moved. On a read-only
    Store (an app process's) all of it is written to one next snapshot of the results, swapped in whole."""
    if store.read_only:
        return _in_next_snapshot(store, [Path(p).name for p in paths], lambda w: import_files(
            w, paths, period, actor=actor, recluster=recluster))
    reports = [import_file(store, p, period, actor=actor, recluster=False) for p in paths]
    if recluster:
        after_imports(store, reports)
    return reports


# Why the demo refuses real files, and the commands that start a real store (data.ingest.store_check: the Data page says
# the same)
DEMO_REFUSAL = (f"{DEMO_WHY}. Import real files into a new store of their own (it is made on first use): "
                f"{REAL_STORE_COMMANDS[0]}, then open the app on it with {REAL_STORE_COMMANDS[1]}")


def demo_refusal(store: Store, *, demo_files: bool = False) -> str | None:
    """The sentence refusing an import into the demo store, or None when the store is real (or the files are the
    demo's own)."""
    return DEMO_REFUSAL if store.is_demo() and not demo_files else None


def import_file(store: Store, path: str | Path, period: str | None = None, *, actor: str = "cli",
                recluster: bool = True, limit_bytes: int | None = None, demo_files: bool = False) -> ImportReport:
    """Import one DfE file. Never raises for bad input: a failed report says why, nothing is written.

    `demo_files` is for the demo's own made-up files (data.demo.build, and tests adding made-up rows to a demo): no
    command
    or page passes it, so a demo store refuses every real file (DEMO_REFUSAL). On a read-only Store (an app
    process's) the import is written to the next snapshot of the results and swapped in whole (data.db.snapshot)."""
    path = Path(path)
    if store.read_only:
        return _in_next_snapshot(store, [path.name], lambda w: [import_file(
            w, path, period, actor=actor, recluster=recluster, limit_bytes=limit_bytes, demo_files=demo_files)])[0]
    started = datetime.now()
    t0 = time.perf_counter()
    report = ImportReport(file=path.name)
    sha = None
    if (refused := demo_refusal(store, demo_files=demo_files)) is not None:
        report.ok, report.message = False, refused
        report.problems = [Problem(path.name, refused, fatal=True)]
        return report  # nothing read, nothing logged: the demo's import log stays the demo's own
    try:
        table = read_table(path, limit_bytes=limit_bytes)
        sha = table.sha256
        report.encoding = table.encoding
        report.rows_read = len(table.rows)
        try:
            kind = detect_kind(set(table.columns), path.name)
        except DetectError as exc:
            raise fatal(path, str(exc), 1) from exc
        report.kind = kind
        _check_encoding(table, kind)
        _check_complete(table, kind)
        resolved = _resolve_period(path, kind, period)
        batch = build_batch(table, kind, resolved)
        _check_own_year(table, batch, resolved, given=period is not None)
        _check_last_row(table, kind, batch)
        _check_batch(table, batch)
        # the batch holds all the write needs: the text rows (a national KS2 file's are hundreds of MiB) go now,
        # before the write's own frames and DuckDB's buffers are added to the peak
        table.rows, table.lines = [], []
        with store.results_transaction() as cur:
            import_id = cur.execute("SELECT nextval('imports_seq')").fetchall()[0][0]
            # what the file replaces is kept so the import can be undone (data/ingest/undo.py); the demo's own files
            # are never undone one by one (the demo is rebuilt whole), so they keep nothing
            tracked = None if demo_files else undo.track(cur, tracked_tables(batch), tracked_periods(batch))
            basis = _context_basis(cur) if batch.establishments else None
            counts = write_batch(cur, batch, kind, import_id, archive=not demo_files)
            report.context_changed = basis is not None and _context_basis(cur) != basis
            if tracked is not None:
                undo.record(cur, tracked, import_id)
            # 'pending' until refresh_derived turns it 'ok' in its own commit: a kill in between leaves the mark
            outcome = "pending" if needs_derived(counts) else "ok"
            report.import_id = _log_import(cur, import_id, report, sha, kind, batch, counts, started, actor, outcome,
                                           "")
        report.periods = sorted(batch.periods)
        report.measures = sorted(batch.measures)
        report.problems = table.problems + batch.problems
        report.notes = batch.notes
        report.unused_columns = [
            table.header[i] for i in range(len(table.header))
            if i not in batch.used_columns and kind in REGISTRY_KIND
        ]
        report.schools = counts["schools"]
        report.observations = counts["observations"]
        report.benchmarks = counts["benchmarks"]
        report.establishments_added = counts["establishments_added"]
        report.establishments_updated = counts["establishments_updated"]
        report.groups_added = counts["groups_added"]
        report.memberships_changed = counts["memberships_changed"]
    except FatalImportError as exc:
        _record_failure(store, report, exc.problem, sha, started, actor)
    except Exception:  # the last resort: a defect must end in a sentence and a log line, never a traceback
        log.exception("import of %s stopped unexpectedly", path)
        problem = Problem(path.name, "an unexpected problem stopped the import, so nothing was written (details in "
                          "the log)", fatal=True)
        _record_failure(store, report, problem, sha, started, actor)
    report.seconds = time.perf_counter() - t0
    if recluster:
        after_imports(store, [report])
    return report


def _in_next_snapshot(store: Store, names: list[str],
                      work: Callable[[Store], list[ImportReport]]) -> list[ImportReport]:
    """`work` on a writer over the next snapshot of a read-only Store's results; while another process writes them
    for longer than the writer waits, one failed report per file says so (nothing was read or written)."""
    from data.db.snapshot import WriterBusy, write_results

    try:
        return write_results(store, work)
    except WriterBusy as exc:
        return [ImportReport(file=n, ok=False, message=exc.title, problems=[Problem(n, exc.title, fatal=True)])
                for n in names]


def _record_failure(store: Store, report: ImportReport, problem: Problem, sha: str | None, started: datetime,
                    actor: str) -> None:
    """Mark the report failed and log the failure in its own transaction (the import's own was rolled back)."""
    report.ok = False
    report.message = str(problem)
    report.problems = [problem]
    try:
        with store.results_transaction() as cur:
            failed_id = cur.execute("SELECT nextval('imports_seq')").fetchall()[0][0]
            _log_import(cur, failed_id, report, sha, report.kind, None, None, started, actor, "failed", report.message)
    except Exception:  # the store itself failing (disk full, locked) must not turn a refusal into a traceback
        log.exception("could not log the failed import of %s", report.file)


def after_imports(store: Store, reports: Sequence[ImportReport]) -> None:
    """The whole-table work imports call for: re-cluster when schools or memberships changed, and
    recompute percentiles, families and expectations when any school data changed."""
    from data.ingest.derived import refresh_derived

    ok = [r for r in reports if r.ok]
    if store.read_only:  # an app process's Store: the whole-table work goes to the next snapshot, swapped in whole
        if ok:
            from data.db.snapshot import write_results

            write_results(store, lambda w: after_imports(w, reports))
        return
    # a predecessors file moves schools' earlier URNs beside them (Store.recluster), so a card's series reads one range
    if any(r.establishments_added or r.memberships_changed or r.kind == FileKind.GIAS_PREDECESSORS for r in ok):
        store.recluster()
    if any(needs_derived({"observations": r.observations, "establishments_added": r.establishments_added,
                          "establishments_updated": r.establishments_updated}) for r in ok):
        refresh_derived(store, since=rebuild_since(store, ok))


def rebuild_since(store: Store, reports: Sequence[ImportReport]) -> str | None:
    """The earliest year whose derived rows these imports change, or None when every year's must be rebuilt: an
    import changed schools' context (data.ingest.derived reads their phase, type, admissions and ages), or an import
    not among these is still pending (a killed one: its years are unknown here)."""
    if any(r.context_changed for r in reports):
        return None
    own = [r.import_id for r in reports if r.import_id is not None]
    others = store.query("SELECT count(*) FROM imports WHERE outcome = 'pending' AND NOT list_contains(?, import_id)",
                         [own])[0][0]
    periods = [p for r in reports if r.observations for p in r.periods]
    if others or not periods:
        return None
    return min(periods)


def _context_basis(cur) -> int:
    """What the derived tables read of the establishments (data.ingest.derived.context_basis): each school's phase
    and kind, fingerprinted."""
    from data.ingest.derived import context_basis

    return context_basis(cur)


def needs_derived(counts: dict[str, int]) -> bool:
    """Whether what an import wrote changes the derived tables (school values or establishments' context)."""
    return bool(counts.get("observations") or counts.get("establishments_added")
                or counts.get("establishments_updated"))


# The importer's sentences name the command line's way of giving a year (--period); the Data page gives it in its
# "Academic year" box and uploads have no folder. One message, two renderings: for_page says it in the page's words.
_PAGE_WORDS = (
    (re.compile(r", or keep the file in a folder named like \d{4}-\d{4}"), ""),
    (re.compile(r"\bwithout --period\b"), "with the Academic year box empty"),
    (re.compile(r"\bwith --period (\d{4}/\d{2})"), r"with \1 in the Academic year box"),
    (re.compile(r"--period (\d{4}/\d{2})"), r"the academic year \1"),
    (re.compile(r"\ba --period\b"), "an academic year"),
    (re.compile(r"--period\b"), "the Academic year box"),
)


def for_page(message: str) -> str:
    """An importer's sentence as the Data page says it: the year is given in its Academic year box, not --period."""
    for pattern, words in _PAGE_WORDS:
        message = pattern.sub(words, message)
    return message


def _resolve_period(path: Path, kind: str, period: str | None) -> str | None:
    if period:
        try:
            return parse_period(period)
        except PeriodError as exc:
            raise fatal(path, str(exc)) from exc
    found = period_from_path(path)
    if found is None and kind in NEEDS_PERIOD:
        raise fatal(
            path,
            f"a {kind} file has no year column: give the academic year with --period 2018/19, "
            "or keep the file in a folder named like 2018-2019",
        )
    return found


def _check_own_year(table: RawTable, batch: Batch, period: str | None, *, given: bool) -> None:
    """A file with its own year column (EES `time_period`) decides its year: a --period that disagrees is refused.

    Before, the file's year silently won and the --period was ignored; a folder name that disagrees is only a
    guess, so it is noted, not refused."""
    time_i = table.index("time_period")
    if period is None or time_i is None or not batch.periods or batch.periods == {period}:
        return
    own = ", ".join(sorted(batch.periods))
    if not given:
        batch.notes.append(f"the folder name says {period}, but the file's own time_period says {own}: the file's "
                           "own year was used")
        return
    line = next((ln for row, ln in zip(table.rows, table.lines, strict=True)
                 if time_i < len(row) and _row_period(row[time_i]) not in (None, period)), table.lines[0])
    raise fatal(table.path, f"--period {period} disagrees with the file's own year: its time_period column says "
                f"{own}. Import it without --period (the file's own year is used), or check that this is the file "
                "you meant", line, table.header[time_i])


def _row_period(text: str) -> str | None:
    """A time_period cell as an academic year, or None when it is not one (reported by the builder)."""
    try:
        return parse_period(text)
    except PeriodError:
        return None


# The kinds DfE publishes in Windows-1252 (GIAS's extracts); every other kind is UTF-8 at the source.
CP1252_KINDS = frozenset({FileKind.GIAS_ESTABLISHMENTS, FileKind.GIAS_GROUPS, FileKind.GIAS_LINKS,
                          FileKind.GIAS_TRUST_MEMBERSHIP, FileKind.GIAS_PREDECESSORS})
# Key-stage files close with their national rows: RECTYPE 5 (all schools) and 7 (state-funded).
RECTYPE_KINDS = frozenset({FileKind.KS4FINAL, FileKind.KS4PROVISIONAL, FileKind.KS2FINAL, FileKind.PUPDEST})
# Census, absence and workforce files close with their LA and national rows (URN column 'LA', 'NAT'): the real
# downloads (815_2018_census.csv, 815_2019_census.csv) and the demo's files all end so.
FOOTER_KINDS = frozenset({FileKind.CENSUS, FileKind.ABS, FileKind.SWF})
# Files DfE writes with a line break after every row, the last included (performance tables have none).
NEWLINE_KINDS = frozenset({FileKind.EES_CENSUS, FileKind.OFSTED, FileKind.OFSTED_REPORT_CARD, *CP1252_KINDS,
                           FileKind.EES_KS4, FileKind.EES_KS2, FileKind.EES_SCHOOL_INFO})
_CUT = "the file looks cut short, so nothing was imported; download it again"


def _check_encoding(table: RawTable, kind: str) -> None:
    """Windows-1252 is accepted only for the kinds published in it; elsewhere it means a re-saved file."""
    bad = table.not_utf8
    if bad is not None and kind not in CP1252_KINDS:
        raise fatal(table.path, f"byte 0x{bad.byte:02x} at offset {bad.offset:,} is not UTF-8, and DfE publishes "
                    f"{kind} files in UTF-8: the file was probably re-saved in another encoding; save it as CSV "
                    "UTF-8 and import it again", bad.line)


def _check_complete(table: RawTable, kind: str) -> None:
    """Refuse a file that stops before its own end: a cut file must never replace complete stored values.

    data.ingest.reading already refuses a last row shorter than every earlier one and a quote never closed; these
    are the rules that need the kind: what each family's last row and last byte look like.
    """
    if table.encoding == "xlsx":
        return  # a cut workbook is a broken zip, refused when it is opened
    last, line = table.rows[-1], table.lines[-1]
    # the destinations file writes its national row as RECTYPE NAT (docs/data.md, "ks4-pupdest")
    if kind in RECTYPE_KINDS and (i := table.index("RECTYPE")) is not None and parse_int(last[i]) not in (5, 7) \
            and not (kind == FileKind.PUPDEST and last[i].strip().upper() == "NAT"):
        rows = "RECTYPE 5 and 7, or NAT" if kind == FileKind.PUPDEST else "RECTYPE 5 and 7"
        raise fatal(table.path, f"the rows stop here, before the national rows ({rows}) that close every DfE "
                    f"key-stage file: {_CUT}", line)
    if kind in FOOTER_KINDS and (u := table.index("URN")) is not None and _footer_word(table, last) is None:
        # say where this file's own layout puts the word: URN first (census, LA downloads) or LA first (national abs)
        la = table.index("LA")
        where = "the LA column, the URN left empty" if la is not None and la < u else "the URN column"
        raise fatal(table.path, f"the rows stop here, before the LA and national rows (LA, NAT in {where}) that "
                    f"close every DfE {kind} file: {_CUT}", line)
    if kind == FileKind.CFR and (i := table.index("LA")) is not None and not _CFR_FOOTER.match(last[i].strip()):
        raise fatal(table.path, "the rows stop here, before the LA, national and London medians that close every "
                    f"CFR file: {_CUT}", line)
    if kind in NEWLINE_KINDS and not table.ends_with_newline and not table.closed_by_quote:
        raise fatal(table.path, f"the last line has no line break, and DfE ends every {kind} file with one: the "
                    f"last value may be cut part-way; {_CUT}", line)


def _check_last_row(table: RawTable, kind: str, batch: Batch) -> None:
    """Refuse a last row that a cut shortened: one that stops before a column the importer reads.

    Short rows are real: a school without results stops after its identifying columns, CFR's medians after
    23 fields, KS4's national rows before P8_BANDING. DfE writes each short shape many times over, and a
    short national row still reaches every measure. So a short last row passes when an earlier row has
    the same length (not for key-stage files, whose last row is national) or it runs past the last column
    read; otherwise the download stopped part-way through it and its values would be stored as missing.
    """
    width, n = len(table.header), table.last_fields
    if table.encoding == "xlsx" or n >= width:
        return
    reach = max(batch.used_columns) + 1 if kind in PERFORMANCE_KINDS and batch.used_columns else width
    if n > reach or (table.last_shape_repeats and kind not in RECTYPE_KINDS):
        return
    raise fatal(table.path, f"the last row has {n:,} of the header's {width:,} fields and stops before column "
                f"{table.header[n]}: it was cut off part-way; {_CUT}", table.lines[-1])


def _check_batch(table: RawTable, batch: Batch) -> None:
    if not (batch.establishments or batch.observations or batch.groups or batch.memberships or batch.writers):
        first = f" (first: {batch.problems[0]})" if batch.problems else ""
        raise fatal(table.path, f"none of the {len(table.rows):,} rows could be used{first}: nothing was imported")
    bad = sum(1 for p in batch.problems if p.column)
    if batch.cells_checked >= MIN_ROWS_FOR_SHARE and bad > MAX_BAD_CELL_SHARE * batch.cells_checked:
        raise fatal(
            table.path,
            f"{bad:,} of {batch.cells_checked:,} value cells are not numbers or DfE codes: the columns do not "
            f"hold what their names say (first: {batch.problems[0]})",
        )


# ============================================================================ building batches


def build_batch(table: RawTable, kind: str, period: str | None) -> Batch:
    builders = {
        FileKind.SPINE: _spine_batch,
        FileKind.GIAS_ESTABLISHMENTS: _gias_establishments_batch,
        FileKind.GIAS_GROUPS: _gias_groups_batch,
        FileKind.GIAS_LINKS: _gias().links_batch,
        FileKind.GIAS_TRUST_MEMBERSHIP: _gias().membership_batch,
        FileKind.GIAS_PREDECESSORS: _gias().predecessors_batch,
        FileKind.EES_CENSUS: _ees_batch,
        FileKind.OFSTED: ofsted.ofsted_batch, FileKind.OFSTED_REPORT_CARD: ofsted.ofsted_batch,
        FileKind.EES_KS4: ees_results.ks4_batch, FileKind.EES_KS2: ees_results.ks2_batch,
        FileKind.EES_SCHOOL_INFO: ees_results.school_info_batch,
        FileKind.EES_TRUST_RESULTS: ees_trusts.trust_results_batch,
        FileKind.EES_TRUST_INFO: ees_trusts.trust_info_batch,
        FileKind.EES_NATIONAL: ees_national.national_batch,
    }
    if kind in builders:
        return builders[kind](table, period)
    return _performance_batch(table, kind, period)


def _gias():
    """data.ingest.gias, imported when first needed (it builds on this module's Batch and helpers)."""
    from data.ingest import gias

    return gias










def _performance_batch(table: RawTable, kind: str, period: str | None) -> Batch:
    """Key-stage, census, absence, workforce, finance and destination files."""
    assert period is not None
    # a value belongs to the year it describes: the 2018/19 tables' destinations are of the 2016/17 KS4 leavers
    period = described_period(REGISTRY_KIND[kind], period)
    batch = Batch(periods={period}, fill_only=frozenset({"name", "la_code", "phase", "type_name", "estab"}))
    if (said := value_year_sentence(REGISTRY_KIND[kind], period)) is not None:
        batch.notes.append(said)
    registry = load_registry()
    # the columns of the definition in force that year: a 2013/14 file's persistent absence is PPERSABS15 (15%)
    located = [c for m, s in registry.for_kind(REGISTRY_KIND[kind], period) if (c := locate(table, m, s))]
    for c in located:
        batch.measures.add(c.measure.id)
        batch.used_columns.update(i for i in (c.value, c.cohort, c.ci_low, c.ci_high, *c.numerator,
                                              *c.denominator) if i is not None)
    if not located:
        raise fatal(table.path, f"none of the measures a {kind} file should carry were found in its header", 1)
    # Every performance-table file names its schools by URN; without it a KS4 file would import only benchmarks
    urn_i = require(table, "URN")
    la_i = table.index("LA")
    rectype_i = table.index("RECTYPE")
    name_i = table.index("SCHNAME")
    estab_i = table.index("ESTAB")
    type_i = table.index("SCHOOLTYPE", "NFTYPE")
    batch.used_columns.update(i for i in (urn_i, la_i, rectype_i, name_i, estab_i, type_i) if i is not None)
    reader = RowReader(table, batch)
    seen: dict[object, int] = {}
    fname = table.path.name
    la_codes: dict[int, int] = {}
    pending_cfr_la: list[int] = []
    by_group = _locate_groups(table, REGISTRY_KIND[kind], batch)
    group_rows: list[tuple] = []
    version = KIND_VERSIONS.get(kind)

    for row, line in zip(table.rows, table.lines, strict=True):
        urn_text = row[urn_i].strip() if urn_i is not None else ""
        level, urn, area, scope = "school", None, None, None
        if rectype_i is not None:
            rectype = parse_int(row[rectype_i])
            word = row[rectype_i].strip().upper()
            if rectype is None and word in _RECTYPE_WORDS:  # the destinations file's own words for 4 and 7
                rectype = _RECTYPE_WORDS[word]
            if rectype in (1, 2):
                urn = parse_urn(urn_text)
                if urn is None:
                    batch.problems.append(Problem(fname, f"expected a URN (digits), found {urn_text!r}", line, "URN"))
                    continue
            elif rectype == 4:
                level, area, scope = "la", (row[la_i].strip() if la_i is not None else None), "all"
            elif rectype == 5:
                level, area, scope = "national", NATIONAL_CODE, "all"
            elif rectype == 7:
                level, area, scope = "national", NATIONAL_CODE, "state_funded"
            else:
                batch.problems.append(Problem(fname, f"RECTYPE {row[rectype_i]!r} is not one of 1, 2, 4, 5, 7; "
                                              "row skipped", line, "RECTYPE"))
                continue
        else:
            urn = parse_urn(urn_text)
            if urn is None:
                footer = _footer(kind, row, urn_text, la_i, estab_i, type_i, table)
                if footer is None:
                    batch.problems.append(Problem(
                        fname, f"expected a URN (digits) or a footer code (LA, NAT), found {urn_text!r}; row skipped",
                        line, "URN"))
                    continue
                level, area, scope = footer
                if kind == FileKind.CFR and level == "la":
                    pending_cfr_la.append(len(batch.observations))
        key = (level, urn, area, scope)
        if key in seen:
            if level == "school":
                raise fatal(table.path, f"URN {urn} appears twice (lines {seen[key]} and {line}): the file is "
                            "inconsistent, so nothing was imported", line, "URN")
            batch.problems.append(Problem(fname, f"duplicate {level} row for {area} {scope}; the first was kept",
                                          line))
            continue
        seen[key] = line
        if level == "school":
            est = {"urn": urn}
            if la_i is not None:
                la = parse_int(row[la_i])
                est["la_code"] = la
                if la is not None:
                    la_codes[la] = la_codes.get(la, 0) + 1
            if name_i is not None and row[name_i].strip():
                est["name"] = row[name_i].strip()
            if estab_i is not None:
                est["estab"] = parse_int(row[estab_i])
            phase = _phase_from_perf(kind, row, rectype_i, type_i)
            if phase:
                est["phase"] = phase
            if type_i is not None and row[type_i].strip():
                est["type_name"] = row[type_i].strip()
            batch.establishments.append(est)
        for cols in located:
            obs = reader.observation(cols, row, line, school=level == "school")
            if obs is None:
                continue
            batch.observations.append((level, urn, area, scope, cols.measure.id, period, *obs))
        for group, gap, cols in by_group:
            obs = _group_value(batch, table, reader, cols, row, line, school=level == "school", gap=gap)
            if obs is not None:
                group_rows.append((level, urn, area, GAP_SCOPE if gap else scope, cols.measure.id, period, *obs,
                                   version, group))
    if group_rows:
        batch.notes.append(f"{len(group_rows):,} pupil-group values stored (pupil_group_observations): schools' "
                           "and the LA and national rows' groups, DfE's published gaps among them")
        batch.writers.append(group_writer(group_rows, kind, batch.notes))
    # LA and national rows alone would replace the benchmarks and nothing else: no real download is like that.
    # Nor is one whose school rows mostly have no readable URN (only the short rows of schools without results
    # left): its key column does not hold URNs, and the few rows read would pass for the whole file.
    skipped = [p for p in batch.problems if p.column in ("URN", "RECTYPE")]
    schools = len(skipped) + len(batch.establishments)
    if skipped and (not batch.establishments or (schools >= MIN_ROWS_FOR_SHARE
                                                 and len(skipped) > MAX_BAD_CELL_SHARE * schools)):
        read = f"only {len(batch.establishments):,} of" if batch.establishments else "none of"
        raise fatal(table.path, f"{read} the {schools:,} school rows could be "
                    f"read (first skipped: {skipped[0]}): nothing was imported", skipped[0].line)
    if not batch.establishments:
        raise fatal(table.path, "the file has no school rows, only LA and national rows: it is not a whole DfE "
                    "download, so nothing was imported")
    if pending_cfr_la and len(la_codes) == 1:
        # a one-LA download: its LA rows take the LA's code, like every other file's LA rows
        la = str(next(iter(la_codes)))
        for start in pending_cfr_la:
            for i in range(start, min(start + len(located), len(batch.observations))):
                o = batch.observations[i]
                if o[0] == "la":
                    batch.observations[i] = o[:2] + (la,) + o[3:]
    return batch


def _locate_groups(table: RawTable, registry_kind: str, batch: Batch) -> list[tuple[str, bool, Columns]]:
    """(pupil group, is DfE's gap, where its fields sit) for every [[measure.groups]] entry whose value column this
    file has: a column absent from a year's file is simply not read."""
    found = []
    for m, g in load_registry().groups_for_kind(registry_kind):
        value = table.index(*g.value)
        if value is None:
            continue
        numerator = table.index(*g.numerator) if g.numerator else None
        cols = Columns(measure=m, value=value, cohort=table.index(*g.cohort) if g.cohort else None,
                       numerator=(numerator,) if numerator is not None else (), denominator=(),
                       ci_low=table.index(*g.ci_low) if g.ci_low else None,
                       ci_high=table.index(*g.ci_high) if g.ci_high else None)
        found.append((g.pupil_group, g.scope == GAP_SCOPE, cols))
        batch.used_columns.update(i for i in (cols.value, cols.cohort, cols.ci_low, cols.ci_high, *cols.numerator)
                                  if i is not None)
    return found


def _group_value(batch: Batch, table: RawTable, reader: RowReader, cols: Columns, row: list[str], line: int, *,
                 school: bool, gap: bool) -> tuple | None:
    """One pupil group's (value, numerator, denominator, ci_low, ci_high, status, code) on a row, or None when the
    row says nothing of the group: a school whose group has no pupils (cohort 0 or blank), a blank value cell with
    no cohort to speak of (LA and national rows leave some groups' cohorts blank)."""
    cohort_blank = cols.cohort is None or not row[cols.cohort].strip()
    cohort = reader.number(row, cols.cohort, line)
    if school and cols.cohort is not None and (cohort_blank or cohort == 0):
        return None
    if not row[cols.value].strip() and (cohort_blank or cohort == 0):
        return None
    # a gap is a difference: the measure's own range (Attainment 8 from 0 to 90) does not hold it
    obs = reader.observation(cols, row, line, school=school and not gap)
    if obs is not None and gap:
        obs = checked_gap(batch, table, cols, obs, line)
    return obs


# RECTYPE written as a word: the destinations file's LA rows and its national row, which covers the state-funded
# schools its measures are published for (docs/data.md, "ks4-pupdest")
_RECTYPE_WORDS = {"LA": 4, "NAT": 7}
def _footer(kind: str, row: list[str], key: str, la_i: int | None, estab_i: int | None,
            type_i: int | None, table: RawTable) -> tuple[str, str | None, str] | None:
    """A footer row's (level, area, scope), or None if the row is not a recognised footer."""
    up = key.upper()
    if kind == FileKind.CFR:
        la_text = row[la_i].strip().upper() if la_i is not None else ""
        m = _CFR_FOOTER.match(la_text)
        if not m:
            return None
        where, rest = m.group(1), (m.group(2) or "")
        band_i = table.index("FSMBAND")
        band = row[band_i].strip().lower() if band_i is not None else ""
        # a bare LA / LONDON / NON-LONDON row is the nursery median (its MEDIAN column says so), not "all"
        phase = _FOOTER_SCOPES.get(rest, rest.lower()) if rest else "nursery"
        scope = f"{phase}:{band}" if band else phase
        if where == "NAT":
            return ("national", NATIONAL_CODE, scope)
        if where == "LA":
            # CFR names the LA in words, in the URN column: the name keys the row (a national file has ~150 LAs);
            # a single-LA file swaps it for the schools' LA code (see _performance_batch)
            return ("la", key or None, scope)
        return ("region", where.lower().replace("-", "_"), scope)
    word = _footer_word(table, row)
    la_text = row[la_i].strip() if la_i is not None else ""
    # The national absence file keys its LA rows by the LA's number, with no URN and a phase code in ESTAB
    code_i = estab_i if estab_i is not None and estab_i < len(row) else None
    la_numbered = (word is None and not up and la_text.isascii() and la_text.isdigit() and code_i is not None
                   and row[code_i].strip().upper() in _FOOTER_SCOPES.keys() - {""})
    if word is None and not la_numbered:
        return None
    scope = _footer_scope(row, estab_i, table)
    if scope is None:
        return None
    if word == "NAT":
        return ("national", NATIONAL_CODE, scope)
    # an LA row in the URN-first layout carries the LA's number in LA; LA-first files put it there too
    return ("la", la_text if la_text.upper() != "LA" else None, scope)


def _footer_word(table: RawTable, row: list[str]) -> str | None:
    """'LA' or 'NAT' when the row is a census/absence/workforce footer, else None.

    The word sits in the URN column (census, the LA downloads: `NAT,,PRI,…`) or, when there is no URN, in the LA
    column (the national absence file, LA first: `NAT,PRI,,…`; the 2018/19 workforce file: `,NAT,,Primary,…`)."""
    for name in ("URN", "LA"):
        i = table.index(name)
        text = row[i].strip().upper() if i is not None and i < len(row) else ""
        if text in ("LA", "NAT"):
            return text
        if name == "URN" and text:
            return None  # a URN (or junk in the URN column): not a footer
    return None


# Phase words in the workforce file's `School Phase` column on its footer rows
_PHASE_WORD_SCOPES = {"TOTAL": "all", "ALL": "all", "ALL SCHOOLS": "all", "ENGLAND": "all"}


def _footer_scope(row: list[str], estab_i: int | None, table: RawTable) -> str | None:
    """The phase a footer row describes: a code in ESTAB (PRI, SEC, SPE…), else words in School Phase, else all."""
    code = row[estab_i].strip().upper() if estab_i is not None and estab_i < len(row) else ""
    phase_i = table.index("SCHOOL PHASE")
    words = row[phase_i].strip() if phase_i is not None and phase_i < len(row) else ""
    if code or not words:
        return _FOOTER_SCOPES.get(code)
    up = words.upper()
    return _PHASE_WORD_SCOPES.get(up) or _FOOTER_SCOPES.get(up) or phase_from_words(words)


_ALTERNATIVE_TYPES = {"PRU", "AP", "ACAP", "ACCAP", "FAP"}
_SPECIAL_TYPES = {"CYS", "FDS", "ACS", "ACCS", "FS", "NMSS", "INDSPEC", "INDSPS"}


def _phase_from_perf(kind: str, row: list[str], rectype_i: int | None, type_i: int | None) -> str | None:
    t = row[type_i].strip() if type_i is not None else ""
    if t.upper() in _SPECIAL_TYPES:
        return Phase.SPECIAL.value
    if t.upper() in _ALTERNATIVE_TYPES:
        return Phase.ALTERNATIVE.value
    if t:
        from_text = phase_from_words(t)
        if from_text:
            return from_text
    if rectype_i is not None and parse_int(row[rectype_i]) == 2:
        return Phase.SPECIAL.value
    # no type in words: the key stage the file reports says it (a school with KS4 results is at least secondary);
    # only fills an unknown phase, so GIAS's or the spine's phase (middle, all-through) always wins
    return KEY_STAGE_PHASE.get(kind)








# ---------------------------------------------------------------------------- spine


def _spine_batch(table: RawTable, period: str | None) -> Batch:
    batch = Batch(periods={period} if period else set())
    urn_i = require(table, "URN")
    g = getter(table)
    seen: dict[int, int] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        urn = parse_urn(row[urn_i])
        if urn is None:
            batch.problems.append(Problem(table.path.name, f"expected a URN, found {row[urn_i]!r}", line, "URN"))
            continue
        if urn in seen:
            raise fatal(table.path, f"URN {urn} appears twice (lines {seen[urn]} and {line})", line, "URN")
        seen[urn] = line
        nftype = g(row, "NFTYPE").upper()
        minor = g(row, "MINORGROUP")
        prim, sec, post16 = g(row, "ISPRIMARY") == "1", g(row, "ISSECONDARY") == "1", g(row, "ISPOST16") == "1"
        if "special" in minor.lower() or nftype in _SPECIAL_TYPES:
            phase = Phase.SPECIAL.value
        elif nftype in _ALTERNATIVE_TYPES or "pupil referral" in g(row, "NFTYPE").lower():
            phase = Phase.ALTERNATIVE.value
        elif prim and sec:
            phase = Phase.ALL_THROUGH.value
        elif prim:
            phase = Phase.PRIMARY.value
        elif sec:
            phase = Phase.SECONDARY.value
        elif post16:
            phase = Phase.POST16.value
        else:
            phase = Phase.OTHER.value
        batch.establishments.append({
            "urn": urn,
            "name": g(row, "SCHNAME") or None,
            "la_code": parse_int(g(row, "LA")),
            "estab": parse_int(g(row, "ESTAB")),
            "street": g(row, "STREET") or None,
            "town": g(row, "TOWN") or None,
            "postcode": g(row, "POSTCODE") or None,
            "telephone": g(row, "TELNUM") or None,
            "status": "closed" if g(row, "ICLOSE") == "1" and g(row, "CLOSEDATE") else "open",
            "open_date": parse_date(g(row, "OPENDATE")),
            "close_date": parse_date(g(row, "CLOSEDATE")),
            "phase": phase,
            "type_name": g(row, "NFTYPE") or None,
            "type_group": minor or None,
            "state_funded": not minor.lower().startswith("independent") and "independent" not in nftype.lower(),
            "age_low": parse_int(g(row, "AGEL")),
            "age_high": parse_int(g(row, "AGEH")),
            "gender": g(row, "GENDER") or None,
            "religious_character": g(row, "RELDENOM") or None,
            "admissions_policy": g(row, "ADMPOL") or None,
        })
    return batch








# ---------------------------------------------------------------------------- GIAS





def _gias_establishments_batch(table: RawTable, period: str | None) -> Batch:
    from pyproj import Transformer

    batch = Batch()
    urn_i = require(table, "URN")
    g = getter(table)
    seen: dict[int, int] = {}
    coords: list[tuple[int, float, float]] = []
    reasons: list[tuple[int, str, str]] = []  # why each school opened and closed: the lineage note's words
    for row, line in zip(table.rows, table.lines, strict=True):
        urn = parse_urn(row[urn_i])
        if urn is None:
            batch.problems.append(Problem(table.path.name, f"expected a URN, found {row[urn_i]!r}", line, "URN"))
            continue
        if urn in seen:
            raise fatal(table.path, f"URN {urn} appears twice (lines {seen[urn]} and {line})", line, "URN")
        seen[urn] = line
        type_name = g(row, "TypeOfEstablishment (name)")
        type_group = g(row, "EstablishmentTypeGroup (name)")
        phase_name = g(row, "PhaseOfEducation (name)")
        kind_words = ("special", "referral", "alternative provision")
        phase = phase_from_words(type_name) if any(w in type_name.lower() for w in kind_words) \
            else None
        phase = phase or phase_from_words(phase_name) or (
            "middle" in phase_name.lower() and ("primary" if "primary" in phase_name.lower() else "secondary")
        ) or Phase.OTHER.value
        easting, northing = _float(g(row, "Easting")), _float(g(row, "Northing"))
        if easting and northing:
            coords.append((len(batch.establishments), easting, northing))
        head = " ".join(x for x in (g(row, "HeadTitle (name)"), g(row, "HeadFirstName"), g(row, "HeadLastName"))
                        if x and x.lower() not in ("not applicable", "")) or None
        est = {
            "urn": urn,
            "name": g(row, "EstablishmentName") or None,
            "la_code": parse_int(g(row, "LA (code)")),
            "la_name": g(row, "LA (name)") or None,
            "estab": parse_int(g(row, "EstablishmentNumber")),
            "phase": phase,
            "type_name": type_name or None,
            "type_group": type_group or None,
            "state_funded": not type_group.lower().startswith(("independent", "universities", "other types")),
            "status": "open" if g(row, "EstablishmentStatus (name)").lower().startswith("open") else "closed",
            "open_date": parse_date(g(row, "OpenDate")),
            "close_date": parse_date(g(row, "CloseDate")),
            "street": g(row, "Street") or None,
            "town": g(row, "Town") or None,
            "postcode": g(row, "Postcode") or None,
            "telephone": g(row, "TelephoneNum") or None,
            "website": g(row, "SchoolWebsite") or None,
            "head_name": head,
            "region": g(row, "GOR (name)") or None,
            "urban_rural": g(row, "UrbanRural (name)") or None,
            "age_low": parse_int(g(row, "StatutoryLowAge")),
            "age_high": parse_int(g(row, "StatutoryHighAge")),
            "gender": g(row, "Gender (name)") or None,
            "religious_character": g(row, "ReligiousCharacter (name)") or None,
            "admissions_policy": g(row, "AdmissionsPolicy (name)") or None,
            "pupils": parse_int(g(row, "NumberOfPupils")),
            "capacity": parse_int(g(row, "SchoolCapacity")),
            "easting": easting,
            "northing": northing,
        }
        batch.establishments.append(est)
        reasons.append((urn, g(row, "ReasonEstablishmentOpened (name)"), g(row, "ReasonEstablishmentClosed (name)")))
        trust_code, trust_name = g(row, "Trusts (code)"), g(row, "Trusts (name)")
        if trust_code and trust_name:
            key = f"uid:{trust_code}"
            batch.groups.append({"key": key, "gias_uid": parse_int(trust_code), "kind": "trust", "name": trust_name})
            batch.memberships.append({"group_key": key, "urn": urn, "start_date": None, "end_date": None})
        fed_code, fed_name = g(row, "Federations (code)"), g(row, "Federations (name)")
        if fed_code and fed_name:
            key = f"code:{fed_code}"
            batch.groups.append({"key": key, "code": fed_code, "kind": "federation", "name": fed_name})
            batch.memberships.append({"group_key": key, "urn": urn, "start_date": None, "end_date": None})
    if coords:
        # GIAS gives OSGB36 British National Grid metres (EPSG:27700); maps need WGS84 degrees
        tr = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
        lon, lat = tr.transform([c[1] for c in coords], [c[2] for c in coords])
        for (i, _, _), x, y in zip(coords, lon, lat, strict=True):
            batch.establishments[i]["latitude"] = round(float(y), 6)
            batch.establishments[i]["longitude"] = round(float(x), 6)
    if reasons:
        batch.writers.append(_gias().reasons_writer(reasons))
    return batch


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", "")) if text else None
    except ValueError:
        return None


def _group_from_gias(g, row: list[str], uid: int) -> dict:
    return {
        "key": f"uid:{uid}",
        "gias_uid": uid,
        "code": g(row, "Group ID") or None,
        "name": g(row, "Group Name"),
        "kind": gias_kind(g(row, "Group Type")),
        "companies_house": g(row, "Companies House Number") or None,
        "status": g(row, "Group Status").lower() or None,
        "open_date": parse_date(g(row, "Incorporated on (open date)")) or parse_date(g(row, "Open date")),
        "close_date": parse_date(g(row, "Closed Date")),
    }


def _gias_groups_batch(table: RawTable, period: str | None) -> Batch:
    batch = Batch()
    uid_i = require(table, "Group UID")
    g = getter(table)
    seen: dict[int, int] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        uid = parse_int(row[uid_i])
        if uid is None or not g(row, "Group Name"):
            batch.problems.append(Problem(table.path.name, "a group needs a numeric Group UID and a Group Name; "
                                          "row skipped", line, "Group UID"))
            continue
        if uid in seen:
            raise fatal(table.path, f"Group UID {uid} appears twice (lines {seen[uid]} and {line})", line, "Group UID")
        seen[uid] = line
        grp = _group_from_gias(g, row, uid)
        grp.update(town=g(row, "Group Town") or None, postcode=g(row, "Group Postcode") or None)
        head = " ".join(x for x in (g(row, "Head of Group First Name"), g(row, "Head of Group Last Name")) if x)
        grp["head_name"] = head or None
        batch.groups.append(grp)
    return batch




# ---------------------------------------------------------------------------- EES


def _ees_batch(table: RawTable, period: str | None) -> Batch:
    """EES school-level census: observations, schools, and the `trust` column's memberships."""
    # GIAS is the authority on phase and type; EES's phase grouping is coarser (all-through reads as secondary)
    batch = Batch(fill_only=frozenset({"la_code", "la_name", "estab", "phase", "type_name", "state_funded"}))
    urn_i = require(table, "urn")
    time_i = require(table, "time_period")
    level_i = table.index("geographic_level")
    trust_i = table.index("trust")
    g = getter(table)
    registry = load_registry()
    located = [c for m, s in registry.for_kind("ees_census") if (c := locate(table, m, s))]
    for c in located:
        batch.measures.add(c.measure.id)
        batch.used_columns.update(i for i in (c.value, c.cohort, *c.numerator, *c.denominator) if i is not None)
    batch.used_columns.update(i for i in (urn_i, time_i, level_i, trust_i) if i is not None)
    # the cells are parsed a column at a time once the rows are known (data.ingest.cells)
    cells = Deferred(table, batch, RowReader(table, batch), located)
    seen: dict[tuple[int, str], int] = {}
    periods: dict[str, str | PeriodError] = {}  # a file holds few years: each distinct text parsed once
    for pos, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        row_period = periods.get(row[time_i])
        if row_period is None:
            try:
                row_period = periods[row[time_i]] = parse_period(row[time_i])
            except PeriodError as exc:
                row_period = periods[row[time_i]] = exc
        if isinstance(row_period, PeriodError):
            cells.problem(pos, Problem(table.path.name, f"{row_period}; row skipped", line, "time_period"))
            continue
        batch.periods.add(row_period)
        geo = row[level_i].strip().lower() if level_i is not None else "school"
        if geo != "school":
            level = {"national": "national", "regional": "region", "local authority": "la"}.get(geo)
            if level is None:
                continue
            area = NATIONAL_CODE if level == "national" else (g(row, "region_code") if level == "region"
                                                             else g(row, "old_la_code"))
            if located:
                cells.ask(pos, (level, None, area, "all"), row_period, school=False)
            continue
        urn = parse_urn(row[urn_i])
        if urn is None:
            cells.problem(pos, Problem(table.path.name, f"expected a URN, found {row[urn_i]!r}", line, "urn"))
            continue
        if (urn, row_period) in seen:
            raise fatal(table.path, f"URN {urn} appears twice for {row_period} (lines {seen[(urn, row_period)]} "
                        f"and {line})", line, "urn")
        seen[(urn, row_period)] = line
        grouping = g(row, "phase_type_grouping")
        est = {
            "urn": urn,
            "name": g(row, "school_name") or None,
            "la_code": parse_int(g(row, "old_la_code")),
            "la_name": g(row, "la_name") or None,
            "estab": parse_int(g(row, "estab")),
            "postcode": g(row, "school_postcode") or None,
            "region": g(row, "region_name") or None,
            "urban_rural": g(row, "urban_rural") or None,
            "open_date": parse_date(g(row, "opendate")),
        }
        if grouping:
            est["phase"] = phase_from_words(grouping) or Phase.OTHER.value
            est["state_funded"] = grouping.lower().startswith("state-funded")
        type_name = g(row, "typeofestablishment_name")
        if type_name:
            est["type_name"] = type_name
        batch.establishments.append({k: v for k, v in est.items() if v is not None})
        if trust_i is not None and row[trust_i].strip():
            name = " ".join(row[trust_i].split())
            key = f"name:trust:{name.lower()}"
            batch.groups.append({"key": key, "kind": "trust", "name": name})
            start, end = period_bounds(row_period)
            batch.memberships.append({"group_key": key, "urn": urn, "start_date": start, "end_date": end})
        if located:
            cells.ask(pos, ("school", urn, None, None), row_period)
    batch.observations.extend(cells.answer())
    return batch


# Ofsted's management information: data/ingest/ofsted.py


# ============================================================================ writing


def tracked_tables(batch: Batch) -> tuple[str, ...]:
    """The tables (besides observations) this batch may write, whose replaced rows undo keeps: a writer may touch
    any of them (Ofsted's updates establishments, GIAS links rebuild the lineage)."""
    own = tuple(t for t, rows in (("establishments", batch.establishments), ("groups", batch.groups),
                                  ("memberships", batch.memberships)) if rows)
    # a writer that names its tables (rows.group_writer's `tables`) spares undo copying the others: a wide
    # performance-table file writes pupil-group values and nothing else besides its observations
    named = [getattr(w, "tables", None) for w in batch.writers]
    if any(t is None for t in named):
        return tuple(undo.TRACKED)
    return tuple(dict.fromkeys((*own, *(t for ts in named for t in ts))))


def tracked_periods(batch: Batch) -> dict[str, frozenset[str]]:
    """The years of each tracked table this batch's writers write, where every writer of that table says them
    (rows.group_writer's `periods`): undo then compares only those years' rows, not the whole table."""
    out: dict[str, frozenset[str]] = {}
    for table in {t for w in batch.writers for t in getattr(w, "tables", ())}:
        said = [getattr(w, "periods", {}).get(table) for w in batch.writers if table in getattr(w, "tables", ())]
        if all(p is not None for p in said):
            out[table] = frozenset().union(*said)
    return out


def write_batch(cur, batch: Batch, kind: str, import_id: int, *, archive: bool = False) -> dict[str, int]:
    """Write a batch inside the caller's transaction. Returns what changed, for the report. With `archive`, the
    observations it replaces are kept for undo (data/ingest/undo.py)."""
    counts = dict(schools=0, observations=0, benchmarks=0, establishments_added=0, establishments_updated=0,
                  groups_added=0, memberships_changed=0)
    if batch.establishments:
        added, updated, skipped = _upsert_establishments(cur, batch.establishments, batch.fill_only,
                                                         batch.update_only)
        counts.update(establishments_added=added, establishments_updated=updated)
        if skipped:
            batch.notes.append(f"{skipped:,} rows describe schools not in the store; they were skipped "
                               "(import GIAS or performance-table files first)")
    group_ids: dict[str, int] = {}
    by_name: dict[tuple[str, str], int] = {}
    if batch.groups:
        # Groups known only by name (EES's `trust` column) are matched on a spelling-proof key, read once
        for gid, gkind, gname in cur.execute("SELECT group_id, kind, name FROM groups ORDER BY group_id").fetchall():
            by_name.setdefault((gkind, name_key(gname)), gid)
    for grp in batch.groups:
        if grp["key"] in group_ids:
            continue
        gid, created = _upsert_group(cur, grp, kind, by_name)
        group_ids[grp["key"]] = gid
        counts["groups_added"] += created
    if batch.memberships:
        rows = pd.DataFrame([
            {"group_id": group_ids[m["group_key"]], "urn": m["urn"], "start_date": m["start_date"],
             "end_date": m["end_date"]} for m in batch.memberships
        ]).drop_duplicates()
        counts["memberships_changed"] = merge_memberships(cur, rows, source=kind)
    if batch.observations:
        counts.update(_write_observations(cur, observation_frame(batch.observations, kind), kind, import_id,
                                          archive=archive))
        batch.notes.extend(kept_notes(counts))
    for writer in batch.writers:
        for key, n in writer(cur, import_id).items():
            counts[key] = counts.get(key, 0) + n
    return counts


def _upsert_establishments(cur, records: list[dict], fill_only: frozenset[str],
                           update_only: bool) -> tuple[int, int, int]:
    """Insert or update schools; returns (added, updated, skipped because unknown and update-only)."""
    df = pd.DataFrame.from_records(records).drop_duplicates("urn", keep="last")
    present = [c for c in EST_COLUMNS if c in df.columns]
    for c in EST_COLUMNS:
        if c not in df.columns:
            df[c] = None
    df = df[["urn", *EST_COLUMNS]]
    for c in ("la_code", "estab", "age_low", "age_high", "pupils", "capacity"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int32")
    for c in ("easting", "northing", "latitude", "longitude"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["state_funded"] = df["state_funded"].astype("boolean")
    for c in ("open_date", "close_date", "head_start_date", "ofsted_date"):
        df[c] = pd.to_datetime(df[c], errors="coerce").dt.date
    for c in set(EST_COLUMNS) - {"la_code", "estab", "age_low", "age_high", "pupils", "capacity", "easting",
                                 "northing", "latitude", "longitude", "state_funded", "open_date", "close_date",
                                 "head_start_date", "ofsted_date"}:
        df[c] = df[c].astype("string")
    with registered(cur, "_est_in", df):
        existing = cur.execute(
            "SELECT count(*) FROM establishments WHERE urn IN (SELECT urn FROM _est_in)").fetchall()[0][0]
        total = len(df)
        if not present:
            # Schools named by URN alone (a file with no name, LA or type column): there is nothing to update, and
            # an empty SET list was a syntax error that stopped the import with a traceback
            if not update_only:
                cur.execute("INSERT INTO establishments (urn) SELECT urn FROM _est_in ON CONFLICT (urn) DO NOTHING")
            return (0 if update_only else total - existing), 0, (total - existing if update_only else 0)
        if update_only:
            sets = ", ".join(f"{c} = coalesce(s.{c}, establishments.{c})" for c in present)
            cur.execute(f"UPDATE establishments SET {sets}, updated_at = now() FROM _est_in s "  # noqa: S608
                        "WHERE establishments.urn = s.urn")
            return 0, existing, total - existing
        # Column names come from EST_COLUMNS (our catalogue), never from the file.
        sets = ", ".join(
            f"{c} = coalesce(establishments.{c}, excluded.{c})" if c in fill_only
            else f"{c} = coalesce(excluded.{c}, establishments.{c})"
            for c in present
        )
        cols = ", ".join(["urn", *EST_COLUMNS])
        cur.execute(
            f"INSERT INTO establishments ({cols}) SELECT {cols} FROM _est_in "  # noqa: S608
            f"ON CONFLICT (urn) DO UPDATE SET {sets}, updated_at = now()"
        )
        return total - existing, existing, 0


_GROUP_FIELDS = ("code", "gias_uid", "companies_house", "status", "open_date", "close_date", "town", "postcode",
                 "head_name")


def name_key(name: str) -> str:
    """A group name without case, accents, punctuation or spacing: 'Areté  Learning-Trust' -> 'arete learning trust'.

    Only for groups no identifier names; a GIAS UID or group code always decides first.
    """
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain.casefold()).split())  # runs of anything else: one space


def _upsert_group(cur, grp: dict, source: str, by_name: dict[tuple[str, str], int]) -> tuple[int, int]:
    """Find a group by GIAS UID, then code, then kind + name key; update it or create it.

    Matched by an identifier, the file's spelling of the name replaces the stored one (GIAS corrects names);
    matched by name, the stored spelling stays.
    """
    rows: list = []
    if grp.get("gias_uid") is not None:
        rows = cur.execute("SELECT group_id FROM groups WHERE gias_uid = ?", [grp["gias_uid"]]).fetchall()
    if not rows and grp.get("code"):
        rows = cur.execute("SELECT group_id FROM groups WHERE code = ?", [grp["code"]]).fetchall()
    by_identifier = bool(rows)
    key = (grp["kind"], name_key(grp["name"]))
    if not rows and key in by_name:
        rows = [(by_name[key],)]
    row = rows[0] if rows else None
    fields = {f: grp.get(f) for f in _GROUP_FIELDS if grp.get(f) is not None}
    if row is not None:
        gid = row[0]
        if by_identifier and grp["name"]:
            fields["name"] = grp["name"]
        if fields:
            sets = ", ".join(f"{f} = ?" for f in fields)  # field names from _GROUP_FIELDS, not from the file
            cur.execute(f"UPDATE groups SET {sets} WHERE group_id = ?", [*fields.values(), gid])  # noqa: S608
        return gid, 0
    cols = ["kind", "name", "source", *fields]
    gid = cur.execute(
        f"INSERT INTO groups ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) RETURNING group_id",  # noqa: S608
        [grp["kind"], grp["name"], source, *fields.values()],
    ).fetchall()[0][0]
    by_name.setdefault(key, gid)
    return gid, 1


# The version a performance-table file's values are (EES files say it per row, in their `version` column).
KIND_VERSIONS = {FileKind.KS4PROVISIONAL: "provisional", FileKind.KS4FINAL: "final", FileKind.KS2FINAL: "final"}
# Two values are "the same" when they agree to this relative tolerance (files write them with 1 to 2 decimals).
SAME_VALUE = 1e-9


def observation_frame(rows: list[tuple], kind: str) -> pd.DataFrame:
    """Batch observations as a frame of OBS_COLUMNS plus `version`: a row's own 14th field (EES files), else the
    version the file kind implies (KIND_VERSIONS), else NULL."""
    implied = KIND_VERSIONS.get(kind)
    width = len(OBS_COLUMNS)
    obs = pd.DataFrame([r if len(r) > width else (*r, implied) for r in rows], columns=[*OBS_COLUMNS, "version"])
    obs["urn"] = obs["urn"].astype("Int32")
    for c in ("value", "numerator", "denominator", "ci_low", "ci_high"):
        obs[c] = obs[c].astype("float64")
    obs["version"] = obs["version"].astype("string")
    return obs


def _keep_richer(cur, obs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """A later file replaces a stored school value only with equal or richer data (docs/data.md, "Versions").

    Where the stored value has a cohort (denominator) or a published interval and the incoming value lacks it: the
    same value keeps the stored cohort, numerator and interval; a different value leaves the stored row in place.
    Returns the frame to write and counts by stored version ('kept_base:<version>', 'kept_row:<version>')."""
    with registered(cur, "_obs_in", obs):
        # the stored rows the incoming ones would make poorer: an ok value loses its cohort or its interval
        poorer = cur.execute("""
            SELECT s.urn, s.measure, s.period, o.value AS o_value, o.numerator AS o_numerator,
                   o.denominator AS o_denominator, o.ci_low AS o_ci_low, o.ci_high AS o_ci_high,
                   coalesce(o.version, 'unversioned') AS o_version
            FROM _obs_in s JOIN observations o
              ON o.level = 'school' AND s.level = 'school' AND o.urn = s.urn AND o.measure = s.measure
             AND o.period = s.period
            WHERE s.value IS NOT NULL AND o.value IS NOT NULL AND s.status = 'ok' AND o.status = 'ok'
              AND ((o.denominator IS NOT NULL AND s.denominator IS NULL)
                   OR (o.ci_low IS NOT NULL AND o.ci_high IS NOT NULL AND (s.ci_low IS NULL OR s.ci_high IS NULL)))
        """).df()
    if poorer.empty:
        return obs, {}
    keys = ["urn", "measure", "period"]
    poorer["urn"] = poorer["urn"].astype("Int32")
    merged = obs.reset_index().merge(poorer, on=keys, how="inner")
    same = (merged["value"] - merged["o_value"]).abs() <= SAME_VALUE * merged["o_value"].abs().clip(lower=1.0)
    out = obs.copy()
    carry = merged[same]
    idx = carry["index"].to_numpy()
    lost_base = out.loc[idx, "denominator"].isna().to_numpy()
    for c in ("numerator", "denominator"):
        out.loc[idx[lost_base], c] = carry.loc[lost_base, f"o_{c}"].to_numpy()
    lost_ci = (out.loc[idx, "ci_low"].isna() | out.loc[idx, "ci_high"].isna()).to_numpy()
    for c in ("ci_low", "ci_high"):
        out.loc[idx[lost_ci], c] = carry.loc[lost_ci, f"o_{c}"].to_numpy()
    kept = merged[~same]
    out = out.drop(index=kept["index"].to_numpy())
    counts: dict[str, int] = {}
    for version, n in carry["o_version"].value_counts().items():
        counts[f"kept_base:{version}"] = int(n)
    for version, n in kept["o_version"].value_counts().items():
        counts[f"kept_row:{version}"] = int(n)
    return out, counts


# DfE's versions of one year's figures, in the order it publishes them: a later one is the better figure.
VERSION_RANK = {"provisional": 1, "revised": 2, "final": 3}


def _keep_later_version(cur, obs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """A file of an earlier version never replaces a later version's stored school value (a provisional file
    imported after the final one leaves the final figures). Both versions must be known; counts by
    'kept_version:<stored>><incoming>'."""
    incoming = obs["version"].map(VERSION_RANK)
    school = (obs["level"] == "school") & incoming.notna()
    if not school.any():
        return obs, {}
    with registered(cur, "_ver_in", obs.loc[school, ["urn", "measure", "period", "version"]].reset_index()):
        later = cur.execute("""
            SELECT s."index", o.version AS o_version, s.version
            FROM _ver_in s JOIN observations o
              ON o.level = 'school' AND o.urn = s.urn AND o.measure = s.measure AND o.period = s.period
            WHERE o.version IS NOT NULL
        """).df()
    later = later[later["o_version"].map(VERSION_RANK) > later["version"].map(VERSION_RANK)]
    if later.empty:
        return obs, {}
    counts = {f"kept_version:{a}>{b}": int(n) for (a, b), n in later.groupby(["o_version", "version"]).size().items()}
    return obs.drop(index=later["index"].to_numpy()), counts


def kept_notes(counts: dict[str, int]) -> list[str]:
    """The report's sentences for values _keep_richer protected (one per stored version)."""
    notes = []
    for key, n in sorted(counts.items()):
        what, _, version = key.partition(":")
        if what == "kept_base":
            notes.append(f"{n:,} values kept their {version} cohort and interval: this file gives the same values "
                         "without them")
        elif what == "kept_version":
            stored, _, incoming = version.partition(">")
            notes.append(f"{n:,} values were not replaced: the store holds DfE's {stored} figures for them and this "
                         f"file's are {incoming}")
        elif what == "kept_row":
            notes.append(f"{n:,} {version} values were not replaced: this file gives a different value without the "
                         "cohort or interval the stored one has, so the stored value (with its base) stays")
    return notes


def _write_observations(cur, obs: pd.DataFrame, kind: str, import_id: int, *, archive: bool = False) -> dict[str, int]:
    """Replace, never duplicate: rows with the same school/area, measure and period are swapped out, unless the
    incoming school value is of an earlier version (_keep_later_version) or poorer (_keep_richer) than the stored
    one."""
    obs, later = _keep_later_version(cur, obs)
    obs, kept = _keep_richer(cur, obs)
    kept.update(later)
    with registered(cur, "_obs_in", obs):
        if archive:  # the rows about to be replaced, kept for undo
            undo.archive_replaced_observations(cur, import_id)
        cur.execute("""
            DELETE FROM observations o USING _obs_in s
            WHERE s.level = 'school' AND o.level = 'school' AND o.urn = s.urn
              AND o.measure = s.measure AND o.period = s.period
        """)
        cur.execute("""
            DELETE FROM observations o USING _obs_in s
            WHERE s.level <> 'school' AND o.level = s.level AND o.area_code IS NOT DISTINCT FROM s.area_code
              AND o.scope IS NOT DISTINCT FROM s.scope AND o.measure = s.measure AND o.period = s.period
        """)
        cur.execute("""
            INSERT INTO observations
            SELECT e.ord, s.level, s.urn, s.area_code, s.scope, s.measure, s.period, s.value, s.numerator,
                   s.denominator, s.ci_low, s.ci_high, s.status, s.status_code, $kind, $import_id, s.version
            FROM _obs_in s LEFT JOIN establishments e ON s.level = 'school' AND e.urn = s.urn
            ORDER BY e.ord NULLS LAST, s.measure, s.period
        """, {"kind": kind, "import_id": import_id})
    school = obs["level"] == "school"
    return {
        "schools": int(obs.loc[school, "urn"].nunique()),
        "observations": int(school.sum()),
        "benchmarks": int((~school).sum()),
        **kept,
    }


def _log_import(cur, import_id: int, report: ImportReport, sha: str | None, kind: str, batch: Batch | None,
                counts: dict | None, started: datetime, actor: str, outcome: str, message: str) -> int:
    c = counts or {}
    values = [
        import_id, report.file, sha, kind or None, ", ".join(sorted(batch.periods)) if batch else None, started,
        datetime.now(), report.rows_read, c.get("observations", 0), c.get("benchmarks", 0),
        c.get("establishments_added", 0) + c.get("establishments_updated", 0), c.get("groups_added", 0),
        c.get("memberships_changed", 0), len(batch.problems) if batch else 1, outcome, message or None, actor,
    ]
    cur.execute(
        "INSERT INTO imports (import_id, file_name, file_sha256, kind, period, started_at, finished_at, rows_read, "
        "observations, benchmarks, establishments, groups, memberships, problems, outcome, message, actor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )
    return import_id
