"""The package contract (docs/architecture.md): every module, imported in a fresh interpreter of its own, loads only
what its package may depend on; and every module's own import statements name only the packages it may import.

Two checks, because they catch different things: the subprocess sees what a module drags in at run time (a
`metrics` module that loads streamlit through a helper), the source check sees a tie the run-time check allows
through the closure (a page importing data.db directly, when it may only reach it through ui and the services).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# What each package may import directly, of Jointly's own packages (issue 12 point 3). A package may always import
# itself. The run-time check allows the closure of this table: ui imports data.services, which imports data.ingest.
DEPENDS: dict[str, frozenset[str]] = {
    "metrics": frozenset(),
    "charts": frozenset({"metrics"}),
    "data.db": frozenset({"metrics"}),
    "data.ingest": frozenset({"data.db", "metrics"}),
    "data.services": frozenset({"data.db", "data.ingest", "metrics"}),
    "data.outputs": frozenset({"data.services", "data.db", "metrics", "charts"}),
    "data.demo": frozenset({"data.services", "data.ingest", "data.db", "metrics"}),
    "data.cli": frozenset({"data.demo", "data.outputs", "data.services", "data.ingest", "data.db", "metrics"}),
    # ui/store.py builds the demo store on a first run with no store (data.demo)
    "ui": frozenset({"data.services", "data.outputs", "data.demo", "data.db", "metrics", "charts"}),
    # pages reach the database only through ui/ and the services; they may catch the titled errors (data.db.errors)
    "pages": frozenset({"ui", "data.services", "data.outputs", "data.db.errors", "metrics", "charts"}),
    "app": frozenset({"ui"}),
}
# The third-party libraries that mark a layer, and which packages may use them directly. Any other library (the
# standard library, small helpers) is not part of the contract.
LIBRARIES: dict[str, frozenset[str]] = {
    "metrics": frozenset({"numpy", "pandas", "scipy"}),  # scipy: the families' k-d tree, imported where used
    "charts": frozenset({"numpy", "pandas", "plotly", "pydeck"}),
    "data.db": frozenset({"duckdb", "numpy", "pandas", "sqlite3", "psycopg"}),
    "data.ingest": frozenset({"duckdb", "numpy", "pandas", "pyproj", "openpyxl"}),
    "data.services": frozenset({"duckdb", "numpy", "pandas", "argon2"}),
    # jinja2: the parents' static site's templates (data/outputs/site)
    "data.outputs": frozenset({"numpy", "pandas", "plotly", "fpdf", "openpyxl", "kaleido", "jinja2"}),
    "data.demo": frozenset({"numpy", "pandas", "pyproj", "openpyxl"}),
    "data.cli": frozenset({"pandas"}),
    "ui": frozenset({"streamlit", "numpy", "pandas", "plotly", "pydeck", "starlette", "authlib", "httpx"}),
    "pages": frozenset({"streamlit", "numpy", "pandas", "plotly", "pydeck"}),
    "app": frozenset({"streamlit"}),
}
# Import statements the table does not allow, each allowed here by name, with why. Keep this list short.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("data/db/store.py", "data.ingest.derived.refresh_derived"):
        "Store.rebuild_derived: opening a store an interrupted import left pending rebuilds its derived tables "
        "before anything reads them (imported lazily, inside the method: the plumbing's one call up into ingest)",
}
WATCHED = sorted(set().union(*LIBRARIES.values()) | {"scipy", "jinja2", "pyarrow"})
# what a library itself loads, so a package allowed the library is allowed these too (pandas 3 loads pyarrow for its
# strings; pydeck renders with jinja2; streamlit loads nearly everything a web app can)
IMPLIES: dict[str, frozenset[str]] = {
    "pandas": frozenset({"pyarrow", "numpy"}),
    "pydeck": frozenset({"jinja2"}),
    "plotly": frozenset({"numpy", "pandas", "pyarrow"}),
    "duckdb": frozenset({"numpy", "pandas", "pyarrow"}),
    "fpdf": frozenset(),
    "streamlit": frozenset(WATCHED),
}
OWN = sorted(DEPENDS)


def package_of(module: str) -> str | None:
    """The contract's package a module belongs to (longest prefix), or None for a module outside the contract."""
    if module == "app":
        return "app"
    best = None
    for pkg in DEPENDS:
        if (module == pkg or module.startswith(pkg + ".")) and (best is None or len(pkg) > len(best)):
            best = pkg
    return best


def closure(pkg: str) -> set[str]:
    """The packages `pkg` may load at run time: itself and what it may import, transitively."""
    seen, todo = {pkg}, [pkg]
    while todo:
        for dep in DEPENDS.get(todo.pop(), ()):
            owner = package_of(dep) or dep
            if owner not in seen:
                seen.add(owner)
                todo.append(owner)
    return seen


def libraries_of(pkgs: set[str]) -> set[str]:
    libs = set().union(*(LIBRARIES[p] for p in pkgs))
    return libs.union(*(IMPLIES.get(lib, frozenset()) for lib in list(libs)))


def modules() -> list[str]:
    """Every importable module of the contract's packages (page scripts are checked from their source only)."""
    found = []
    for base in ("metrics", "charts", "data", "ui"):
        for path in sorted((REPO / base).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            if name.endswith("__main__") or package_of(name) is None:
                continue
            found.append(name)
    return found


PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
own, libs = json.loads(sys.argv[2]), json.loads(sys.argv[3])
loaded = set(sys.modules)
hit = lambda m: m in loaded or any(k.startswith(m + ".") for k in loaded)
print(json.dumps({"own": [m for m in own if hit(m)], "libs": [m for m in libs if hit(m)]}))
"""


def loaded_by(module: str, *, path_first: Path | None = None) -> dict[str, list[str]]:
    """What importing `module` in a fresh interpreter loads, of our packages and the watched libraries."""
    env = dict(os.environ)
    if path_first is not None:  # the planted package first: `python -c` puts its working folder first on the path
        env["PYTHONPATH"] = os.pathsep.join([str(path_first), str(REPO)])
    done = subprocess.run([sys.executable, "-c", PROBE, module, json.dumps(OWN), json.dumps(WATCHED)],
                          cwd=path_first or REPO, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return {"error": [tail]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def runtime_problems(module: str, seen: dict[str, list[str]]) -> list[str]:
    if "error" in seen:
        return [f"{module} cannot be imported on its own: {seen['error'][0]}"]
    pkg = package_of(module)
    assert pkg is not None
    allowed = closure(pkg)
    wrong = [f"{module} loads {p} (package {pkg} may load {sorted(allowed)})" for p in seen["own"]
             if package_of(p) not in allowed and p not in allowed]
    libs = libraries_of(allowed)
    wrong += [f"{module} loads {lib} (package {pkg} may load {sorted(libs)})" for lib in seen["libs"]
              if lib not in libs]
    return wrong


def imports_in(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement in the file, relative imports resolved against the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from data.services import scope` names the module data.services.scope
            out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return out


def source_problems(path: Path, module: str) -> list[str]:
    pkg = package_of(module)
    assert pkg is not None
    allowed_own = DEPENDS[pkg] | {pkg}
    where = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
    wrong = []
    for line, name in imports_in(path):
        top = name.split(".")[0]
        if top in ("metrics", "charts", "data", "ui", "pages"):
            target = package_of(name) or package_of(name.rsplit(".", 1)[0])
            if target is None:  # `from data import x` of a package with no module of that name
                continue
            ok = target in allowed_own or any(name == d or name.startswith(d + ".") for d in allowed_own)
            if not ok and (str(where), name) not in EXCEPTIONS:
                wrong.append(f"{where}:{line} imports {name} ({pkg} may import "
                             f"{sorted(allowed_own)})")
        elif top in WATCHED and top not in LIBRARIES[pkg] and top not in ("pyarrow", "jinja2"):
            wrong.append(f"{where}:{line} imports {top} ({pkg} may use {sorted(LIBRARIES[pkg])})")
    return wrong


@cache
def _all_loads() -> dict[str, dict[str, list[str]]]:
    mods = modules()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(mods, pool.map(loaded_by, mods), strict=True))


def source_files() -> list[tuple[Path, str]]:
    files = [(REPO / "app.py", "app"), *[(p, f"pages.{p.stem}") for p in sorted((REPO / "pages").glob("*.py"))]]
    files += [(REPO / (m.replace(".", "/") + ".py"), m) if (REPO / (m.replace(".", "/") + ".py")).exists()
              else (REPO / m.replace(".", "/") / "__init__.py", m) for m in modules()]
    return files


def test_every_module_loads_only_what_its_package_may() -> None:  # issue 12 point 3
    loads = _all_loads()
    assert len(loads) >= 60, f"only {len(loads)} modules found: the walk missed packages"
    wrong = [problem for module, seen in loads.items() for problem in runtime_problems(module, seen)]
    assert wrong == []


def test_every_import_statement_names_only_what_its_package_may() -> None:  # issue 12 point 3
    wrong = [problem for path, module in source_files() for problem in source_problems(path, module)]
    assert wrong == []


def test_every_exception_is_still_needed() -> None:  # issue 12 point 3: a stale exception hides nothing
    used = {(str(p.relative_to(REPO)), name) for p, _ in source_files() for _, name in imports_in(p)}
    assert set(EXCEPTIONS) <= used


def test_every_page_is_checked() -> None:  # issue 12 point 3
    pages = [m for _, m in source_files() if m.startswith("pages.")]
    assert len(pages) == len(list((REPO / "pages").glob("*.py"))) >= 10


def _plant(tmp_path: Path, package: str, name: str, source: str) -> str:
    """A module planted inside a real package without touching the repository: a package of the same name first on
    the path, whose __path__ goes on into the real one."""
    parts = package.split(".")
    folder = tmp_path.joinpath(*parts)
    folder.mkdir(parents=True)
    for i in range(len(parts)):
        real = REPO.joinpath(*parts[: i + 1])
        tmp_path.joinpath(*parts[: i + 1], "__init__.py").write_text(
            f"__path__.append({str(real)!r})\n", encoding="utf-8")
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return f"{package}.{name}"


@pytest.mark.parametrize(("package", "source", "expected"), [
    ("metrics", "import streamlit\n", "loads streamlit"),
    ("metrics", "from data.db import store\n", "loads data.db"),
    ("charts", "import duckdb\n", "loads duckdb"),
    ("data.db", "from data.services import scope\n", "loads data.services"),
    ("data.ingest", "from data.services import access\n", "loads data.services"),
])
def test_a_planted_forbidden_import_fails_the_run_time_check(tmp_path: Path, package: str, source: str,
                                                             expected: str) -> None:  # issue 12 point 3
    module = _plant(tmp_path, package, "planted_probe", source)
    seen = loaded_by(module, path_first=tmp_path)
    problems = runtime_problems(module, seen)
    assert any(expected in p for p in problems), (seen, problems)


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("pages.planted", "from data.db.store import Store\n", "imports data.db.store.Store"),
    ("pages.planted", "from data.ingest.importers import import_file\n", "imports data.ingest.importers"),
    ("metrics.planted", "import plotly\n", "imports plotly"),
    ("ui.planted", "from data.ingest import undo\n", "imports data.ingest.undo"),
])
def test_a_planted_forbidden_import_fails_the_source_check(tmp_path: Path, module: str, source: str,
                                                           expected: str) -> None:  # issue 12 point 3
    planted = tmp_path / "planted.py"
    planted.write_text(source, encoding="utf-8")
    problems = source_problems(planted, module)
    assert any(expected in p for p in problems), problems


def test_a_clean_module_passes(tmp_path: Path) -> None:  # issue 12 point 3: the checks are not simply always red
    module = _plant(tmp_path, "metrics", "clean_probe", "import numpy\nfrom metrics import periods\n")
    assert runtime_problems(module, loaded_by(module, path_first=tmp_path)) == []
