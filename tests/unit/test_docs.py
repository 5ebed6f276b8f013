"""Declared things are documented: every national measure and every file kind appears in docs/data.md,
and the measure/column table there is exactly what metrics/national.toml says.

Regenerate the table in place with `PYTHONPATH=. python tests/unit/test_docs.py --write`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from data.ingest.formats import FileKind
from metrics.registry import Source, load_registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"
START, END = "<!-- measures:start -->", "<!-- measures:end -->"

# The registry's source kinds, as the files a user downloads.
KIND_FILES = {"ks4": "ks4final, ks4provisional", "ks2": "ks2final", "census": "census", "abs": "abs", "swf": "swf",
              "cfr": "cfr", "pupdest": "ks4-pupdest", "ees_census": "ees_census"}


def _names(names: tuple[str, ...], joiner: str) -> str:
    return joiner.join(f"`{n}`" for n in names) if names else "–"


def _base(s: Source) -> str:
    if s.denominator:
        return _names(s.denominator, " + ")
    return _names(s.cohort, " or ")


def measure_table() -> str:
    """The measure/column table, one row per (measure, file) pair, in registry order."""
    lines = ["| measure | label | unit | file | value column | count (numerator) | base (denominator / cohort) |",
             "|---|---|---|---|---|---|---|"]
    for m in load_registry().measures:
        for s in m.sources:
            value = _names(s.value, " or ") if s.value else "derived: count ÷ base"
            lines.append(f"| `{m.id}` | {m.label} | {m.unit} | {KIND_FILES[s.kind]} | {value} | "
                         f"{_names(s.numerator, ' + ')} | {_base(s)} |")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def test_measure_table_matches_the_registry(docs: str) -> None:
    assert START in docs and END in docs
    block = docs.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == measure_table(), "regenerate with: PYTHONPATH=. python tests/unit/test_docs.py --write"


@pytest.mark.parametrize("measure", load_registry().ids())
def test_every_measure_is_documented(docs: str, measure: str) -> None:
    assert f"`{measure}`" in docs


@pytest.mark.parametrize("kind", sorted(v for k, v in vars(FileKind).items() if k.isupper()))
def test_every_file_kind_is_documented(docs: str, kind: str) -> None:
    assert re.search(rf"^#+ .*`{re.escape(kind)}`", docs, re.MULTILINE), f"no heading names `{kind}`"


def test_every_registry_kind_is_mapped_to_files() -> None:
    kinds = {s.kind for m in load_registry().measures for s in m.sources}
    assert kinds == KIND_FILES.keys()


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv:
        text = DOCS.read_text(encoding="utf-8")
        head, rest = text.split(START, 1)
        DOCS.write_text(f"{head}{START}\n{measure_table()}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")
    else:
        print(measure_table())
