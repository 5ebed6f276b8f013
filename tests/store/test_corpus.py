"""Issue 9's corpus: 200+ malformed files made from the real DfE files, each run through `python -m data import`.

Every case is refused (exit 2, a sentence naming the file and, where it applies, the line, byte offset or column;
the store byte-identical, the imports log gaining only a 'failed' line) or imported with exactly the values its
pristine twin gives. No case is marked xfail: a case that fails today fails here, under its own id. The files are
generated into a scratch folder at collection (tests/corpus/generate.py) and removed at exit; the real files are
never copied into the project. Peak memory per file is measured by bench/bench_corpus.py (in subprocesses).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from corpus.generate import BASE_FILES, REALDATA, SOURCES, Case, Outcome, generate
from corpus.oracle import Stores, dump, judge, needs_pristine, run_cli, stable

if not REALDATA.is_dir():  # CI checks out ../shared beside the repository; without it there is no corpus
    pytest.skip("the real DfE files (../shared/realdata) are not here", allow_module_level=True)

_DIR = Path(tempfile.mkdtemp(prefix="jointly-corpus-"))
atexit.register(shutil.rmtree, _DIR, True)
_t0 = time.perf_counter()
CASES: list[Case] = generate(_DIR / "files")
GENERATION_SECONDS = time.perf_counter() - _t0
BASE_SOURCES = {k for k, s in SOURCES.items() if s.path in {f for f, _ in BASE_FILES}}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    return Stores(tmp_path_factory.mktemp("corpus-stores"))


def test_corpus_is_large_varied_small_and_quick_to_make() -> None:
    assert len(CASES) >= 150
    assert {c.family for c in CASES} >= {"performance tables", "GIAS", "EES", "Ofsted"}
    assert {c.outcome for c in CASES} == set(Outcome)
    assert sum(c.outcome is Outcome.REFUSED for c in CASES) >= 100
    sizes = {c.name: c.path.stat().st_size for c in CASES if c.path.is_file() and not c.path.is_symlink()}
    assert max(sizes.values()) < 2 * 1024 * 1024, max(sizes, key=sizes.get)
    assert GENERATION_SECONDS < 30


@pytest.mark.parametrize("key", sorted({c.source for c in CASES if needs_pristine(c)} - BASE_SOURCES))
def test_pristine_twin_changes_the_base_store(stores: Stores, key: str) -> None:
    """'Imported the same values' means something only if the pristine file adds to the base store (the base's
    own files are there so that a refusal has stored values to destroy; their cases are refusals or either-or)."""
    prelude = next(c.prelude for c in CASES if c.source == key and needs_pristine(c))
    base = stable(dump(stores.base(prelude)))
    assert stable(stores.pristine(key, prelude)) != base


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(stores: Stores, case: Case, tmp_path: Path) -> None:
    db = stores.fresh(case.prelude, tmp_path / "store.duckdb")
    pristine = stores.pristine(case.source, case.prelude) if needs_pristine(case) else None
    before = stores.base_dump(case.prelude)
    run = run_cli(case.argv, db)
    after = dump(db)
    problems = judge(case, run, before, after, pristine)
    assert not problems, f"{case.name} [{case.outcome}] ({case.how}): " + " | ".join(problems)


def test_sources_exist() -> None:
    missing = [s.path for s in SOURCES.values() if not s.path.is_file()]
    assert not missing
