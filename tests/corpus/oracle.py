"""The corpus oracle: run `python -m data import` on a case and judge the outcome against what the case expects.

The store is read with DuckDB directly (read-only), not through the code under test: every table, every row,
ORDER BY ALL. A refusal must leave every table byte-identical except the imports log, which may gain 'failed'
lines only. An import that must give "the same values" is compared with the pristine twin imported into an
identical copy of the base store, with only the columns that record *when* or *in which import* left out.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from data.db.state import copy_store

from .generate import BASE_FILES, Case, Outcome, twin

# Columns that say when a row was written or by which import: they differ between two equal imports.
VOLATILE = frozenset({"import_id", "updated_at", "created_at", "set_at", "recorded_at", "started_at", "finished_at",
                      "at_time", "status_changed_at", "last_sign_in", "ord"})
# Recomputed from every school's values: one school's change moves them all, so CHANGED cases skip them.
DERIVED = frozenset({"school_stats", "national_quantiles", "families", "school_context", "regressions",
                     "context_by_year", "family_by_year"})

# What each import keeps to be undone (migration 0018): the keys of the rows it added and the rows it replaced. A
# changed row has another key, so CHANGED cases skip them too; a refusal must still leave them untouched.
UNDO_ARCHIVE_PREFIXES = ("import_added", "import_archive_")

Dump = dict[str, tuple[tuple[str, ...], list[tuple]]]


@dataclass(frozen=True)
class Run:
    """What one CLI call did."""

    code: int | None
    out: str
    err: str
    exception: str  # the traceback of anything that escaped main(), else ""
    seconds: float

    @property
    def text(self) -> str:
        return self.out + "\n" + self.err + "\n" + self.exception


def run_cli(argv: Sequence[str], db: Path) -> Run:
    """data.cli.main(argv) in this process with JOINTLY_DB=db, its output captured and every exception caught."""
    from data.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.environ.get("JOINTLY_DB")
    os.environ["JOINTLY_DB"] = str(db)
    t0 = time.perf_counter()
    exc = ""
    code: int | None = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as e:  # argparse's own refusals exit 2 with a usage line: not a traceback
                code = e.code if isinstance(e.code, int) else 2
            except BaseException:  # noqa: BLE001 - anything escaping main() is the defect we look for
                exc = traceback.format_exc()
    finally:
        if old is None:
            os.environ.pop("JOINTLY_DB", None)
        else:
            os.environ["JOINTLY_DB"] = old
    return Run(code, out.getvalue(), err.getvalue(), exc, time.perf_counter() - t0)


def dump(db: Path) -> Dump:
    """Every table of the store: (column names, all rows in a canonical order)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' ORDER BY table_name").fetchall()]
        out: Dump = {}
        for t in names:
            res = con.execute(f'SELECT * FROM "{t}" ORDER BY ALL')
            out[t] = (tuple(d[0] for d in res.description), [tuple(_frozen(v) for v in r) for r in res.fetchall()])
        return out
    finally:
        con.close()


def _frozen(v: object) -> object:
    """LIST and STRUCT values as tuples, so rows can be counted."""
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    if isinstance(v, dict):
        return tuple((k, _frozen(x)) for k, x in v.items())
    return v


def digest(d: Dump) -> dict[str, str]:
    """A canonical hash per table."""
    return {t: hashlib.sha256(repr(v).encode()).hexdigest() for t, v in d.items()}


def is_log(table: str) -> bool:
    return table.startswith("imports") or table.startswith("audit")


def _near(v: object) -> object:
    """Floats to 10 significant digits: a regression summed in another row order differs in the 16th."""
    if isinstance(v, float):
        return float(f"{v:.10g}")
    if isinstance(v, tuple):
        return tuple(_near(x) for x in v)
    return v


def stable(d: Dump, *, skip: frozenset[str] = frozenset(),
           ignore: frozenset[str] = frozenset()) -> dict[str, tuple[tuple[str, ...], Counter]]:
    """The data tables without their volatile columns, as multisets of rows."""
    out = {}
    for t, (cols, rows) in d.items():
        if is_log(t) or t in skip:
            continue
        keep = [i for i, c in enumerate(cols) if c not in VOLATILE and c not in ignore]
        out[t] = (tuple(cols[i] for i in keep), Counter(tuple(_near(r[i]) for i in keep) for r in rows))
    return out


# ------------------------------------------------------------------------------ base store and pristine twins


class Stores:
    """The base store (built once), its variants with a prelude imported, and the pristine twins' dumps."""

    def __init__(self, root: Path, runner: Callable[[Sequence[str], Path], Run] | None = None) -> None:
        self.root = root
        self.run = runner or run_cli  # the benchmark passes one that runs another checkout in a subprocess
        root.mkdir(parents=True, exist_ok=True)
        self._bases: dict[tuple[str, ...], Path] = {}
        self._pristine: dict[tuple[str, tuple[str, ...]], Dump] = {}
        self._dumps: dict[tuple[str, ...], Dump] = {}

    def base(self, prelude: tuple[str, ...] = ()) -> Path:
        if prelude not in self._bases:
            path = self.root / f"base-{'-'.join(prelude) or 'plain'}.duckdb"
            if prelude:
                copy_store(self.base(), path)
                files = [self._twin_file(k) for k in prelude]
                for k, f in zip(prelude, files, strict=True):
                    src, _ = twin(k)
                    run = self.run(["import", *(["--period", src.period] if src.period else []), str(f)], path)
                    assert run.code == 0 and not run.exception, f"prelude {k} did not import: {run.text}"
            else:
                for f, period in BASE_FILES:
                    run = self.run(["import", *(["--period", period] if period else []), str(f)], path)
                    assert run.code == 0 and not run.exception, f"base file {f.name} did not import: {run.text}"
            self._bases[prelude] = path
        return self._bases[prelude]

    def base_dump(self, prelude: tuple[str, ...] = ()) -> Dump:
        """The base store's dump: what a fresh copy holds before its case runs (the copy is byte for byte)."""
        if prelude not in self._dumps:
            self._dumps[prelude] = dump(self.base(prelude))
        return self._dumps[prelude]

    def fresh(self, prelude: tuple[str, ...], dest: Path) -> Path:
        """A private copy of the base store (with its prelude) for one case."""
        copy_store(self.base(prelude), dest)
        return dest

    def _twin_file(self, key: str) -> Path:
        src, data = twin(key)
        folder = self.root / "twins" / key
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / src.path.name
        path.write_bytes(data)
        return path

    def pristine(self, key: str, prelude: tuple[str, ...]) -> Dump:
        """The store after importing the pristine twin of `key` into the base: what SAME cases must equal."""
        if (key, prelude) not in self._pristine:
            src, _ = twin(key)
            db = self.fresh(prelude, self.root / f"pristine-{key}.duckdb")
            run = self.run(["import", *(["--period", src.period] if src.period else []), str(self._twin_file(key))],
                           db)
            assert run.code == 0 and not run.exception, f"pristine {key} did not import: {run.text}"
            self._pristine[(key, prelude)] = dump(db)
            db.unlink()
        return self._pristine[(key, prelude)]


# ------------------------------------------------------------------------------ judging


def _refusal(case: Case, run: Run, before: Dump, after: Dump) -> list[str]:
    bad = []
    if run.code != 2:
        bad.append(f"exit code {run.code}, expected 2")
    said = run.out + run.err
    if case.path.name not in said:
        bad.append(f"the file name {case.path.name!r} is not in the output")
    if case.where and not re.search(case.where, said):
        bad.append(f"no location matching /{case.where}/ in the output")
    changed = [t for t in set(before) | set(after) if not is_log(t) and before.get(t) != after.get(t)]
    if changed:
        bad.append(f"store changed by a refusal: tables {sorted(changed)}")
    for t in [t for t in before if is_log(t)]:
        cols, old = before[t]
        _, new = after.get(t, (cols, []))
        if not Counter(old) <= Counter(new):
            bad.append(f"the log table {t} lost or changed rows")
        elif "outcome" in cols:
            i = cols.index("outcome")
            added = list((Counter(new) - Counter(old)).elements())
            if any(r[i] != "failed" for r in added):
                bad.append(f"{t} gained a line that is not 'failed'")
    return bad


def _values_everywhere(d: Dump) -> set[float]:
    vals = set()
    for t, (_, rows) in d.items():
        if is_log(t):
            continue
        for r in rows:
            for v in r:
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    vals.add(float(v))
    return vals


def _compare(case: Case, after: Dump, pristine: Dump, *, allowed: frozenset[int] | None) -> list[str]:
    """Differences from the pristine twin; with `allowed`, rows of those URNs may differ (derived tables skipped)."""
    archive = frozenset(t for t in set(after) | set(pristine) if t.startswith(UNDO_ARCHIVE_PREFIXES))
    skip = DERIVED | archive if allowed is not None else frozenset()
    # A skipped row may take with it a group only it named, and the group ids after it move up by one.
    ignore = frozenset({"group_id", "parent_id"}) if allowed is not None else frozenset()
    a, p = stable(after, skip=skip, ignore=ignore), stable(pristine, skip=skip, ignore=ignore)
    bad = []
    for t in sorted(set(a) | set(p)):
        if t not in a or t not in p:
            bad.append(f"table {t} exists in only one of the stores")
            continue
        cols, rows_a = a[t]
        _, rows_p = p[t]
        extra, missing = rows_a - rows_p, rows_p - rows_a
        if not extra and not missing:
            continue
        if allowed is not None and "urn" in cols:
            u = cols.index("urn")
            extra = Counter({r: n for r, n in extra.items() if r[u] not in allowed})
            missing = Counter({r: n for r, n in missing.items() if r[u] not in allowed})
            if not extra and not missing:
                continue
        elif allowed is not None and case.outcome is Outcome.REFUSED_OR_SKIPPED and not extra:
            continue  # e.g. the group of the skipped school's only row: fewer rows, never new ones
        shown = "; ".join([f"+{dict(zip(cols, r, strict=True))}" for r in list(extra)[:2]]
                          + [f"-{dict(zip(cols, r, strict=True))}" for r in list(missing)[:2]])
        bad.append(f"{t}: {sum(extra.values())} rows more and {sum(missing.values())} fewer than the pristine "
                   f"import (e.g. {shown[:600]})")
    return bad


def _imported(case: Case, run: Run, after: Dump, pristine: Dump, *, allowed: frozenset[int] | None) -> list[str]:
    bad = []
    if run.code != 0:
        bad.append(f"exit code {run.code}, expected 0 (output: {(run.out + run.err).strip()[-300:]!r})")
        return bad
    if case.where and allowed is not None and not re.search(case.where, run.out + run.err):
        bad.append(f"no problem located at /{case.where}/ in the report")
    bad += _compare(case, after, pristine, allowed=allowed)
    if case.names:
        cols, rows = after["establishments"]
        u, n = cols.index("urn"), cols.index("name")
        stored = {r[u]: r[n] for r in rows}
        for urn, name in case.names:
            if stored.get(urn) != name:
                bad.append(f"establishment {urn} is named {stored.get(urn)!r}, expected {name!r}")
    if case.absent:
        present = _values_everywhere(after) & {float(v) for v in case.absent}
        if present:
            bad.append(f"values that must not be stored were stored: {sorted(present)}")
    return bad


def judge(case: Case, run: Run, before: Dump, after: Dump, pristine: Dump | None) -> list[str]:
    """Everything wrong with what the importer did with this case (empty when it did the right thing)."""
    bad = []
    if run.exception:
        last = run.exception.strip().splitlines()[-1]
        return [f"traceback escaped main(): {last}"]
    if "Traceback" in run.out + run.err:
        bad.append("'Traceback' printed")
    o = case.outcome
    if o is Outcome.REFUSED:
        return bad + _refusal(case, run, before, after)
    if pristine is None and run.code != 2:
        return bad + [f"exit code {run.code}: imported, but its pristine twin is refused today, so nothing can be "
                      "compared (expected a refusal)"]
    if o is Outcome.SAME:
        return bad + _imported(case, run, after, pristine, allowed=None)
    if o is Outcome.CHANGED:
        return bad + _imported(case, run, after, pristine, allowed=frozenset(case.urns))
    if o is Outcome.REFUSED_OR_SAME:
        if run.code == 2:
            return bad + _refusal(case, run, before, after)
        return bad + _imported(case, run, after, pristine, allowed=None)
    if o is Outcome.REFUSED_OR_SKIPPED:
        if run.code == 2:
            return bad + _refusal(case, run, before, after)
        return bad + _imported(case, run, after, pristine, allowed=frozenset(case.urns))
    raise AssertionError(o)


def needs_pristine(case: Case) -> bool:
    """Whether the case is judged against a pristine twin (not for refusals, nor for files no importer reads)."""
    if case.outcome is Outcome.REFUSED or case.source is None:
        return False
    src, _ = twin(case.source)
    return src.imports
