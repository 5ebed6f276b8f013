"""The dependency rule, proved in a fresh interpreter: metrics is pure, data never loads the UI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UI = ["streamlit", "plotly", "pydeck"]


def loaded_after(imports: list[str], watch: list[str]) -> list[str]:
    """Which of `watch` are in sys.modules after importing `imports` in a new interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {imports!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {watch!r} if m in sys.modules or any("
        "k.startswith(m + '.') for k in sys.modules))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_metrics_is_pure() -> None:
    assert loaded_after(["metrics", "metrics.registry", "metrics.scorecard", "metrics.rollup"],
                        [*UI, "duckdb"]) == []


def test_data_never_loads_the_ui() -> None:
    assert loaded_after(["data", "data.db.store", "data.ingest.importers"], UI) == []


@pytest.mark.parametrize("module", ["streamlit", "duckdb"])
def test_the_probe_can_see_a_loaded_module(module: str) -> None:
    """The check itself works: importing the thing it watches for is noticed."""
    assert loaded_after([module], [module]) == [module]
