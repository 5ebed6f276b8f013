"""Load a module as it was at an earlier commit, under a name of its own, so a test can run the old code beside the
new on the same input (skipped in a checkout without that history)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def module_at(commit: str, source: str, name: str, folder: Path) -> ModuleType:
    """`source` (a path in the repository) at `commit`, imported as `name` from a copy written into `folder`."""
    done = subprocess.run(["git", "show", f"{commit}:{source}"], cwd=REPO, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"commit {commit} is not in this checkout's history")
    path = folder / f"{name}.py"
    path.write_text(done.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
