"""pyproject.toml declares what the code imports, each in its place: the package's imports are
runtime dependencies (psycopg: the ``postgres`` extra, imported only on the PostgreSQL path),
the tests' and benches' own imports are in the ``test`` extra, and the locks pin them all."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"odoosync", "tests", "bench"}


def _name(requirement: str) -> str:
    """``"psycopg[binary]>=3.2"`` → ``"psycopg"`` (PEP 503 normalised)."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match[0]).lower()


@cache
def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _declared(group: str | None) -> set[str]:
    """The runtime dependencies (``group`` None) or one extra's, by distribution name."""
    project = _project()
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {_name(spec) for spec in specs} - {"odoosync"}


def _top_level_imports(tree: ast.AST, *, module_level_only: bool = False) -> set[str]:
    nodes = ast.iter_child_nodes(tree) if module_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _third_party_imports(*folders: str) -> dict[str, set[Path]]:
    """Distribution name → the files that import it, for every non-stdlib, non-project import."""
    distributions = packages_distributions()
    found: dict[str, set[Path]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for module in _top_level_imports(ast.parse(path.read_text(), str(path))):
                if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
                    continue
                assert module in distributions, (
                    f"{path.relative_to(ROOT)} imports {module!r}, which no installed package provides"
                )
                for distribution in distributions[module]:
                    found.setdefault(_name(distribution), set()).add(path.relative_to(ROOT))
    return found


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {_name(name): version for name, version in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.MULTILINE)}


def test_every_package_odoosync_imports_is_a_runtime_dependency_or_the_postgres_extra() -> None:
    allowed = _declared(None) | _declared("postgres")
    undeclared = {
        name: sorted(map(str, files)) for name, files in _third_party_imports("odoosync").items() if name not in allowed
    }
    assert not undeclared, f"imported by odoosync/ but not in [project] dependencies: {undeclared}"


def test_test_and_dev_packages_stay_out_of_the_runtime_dependencies() -> None:
    assert not (_declared(None) & (_declared("test") | _declared("dev")))
    assert not (_declared(None) & _declared("postgres"))
    assert "odoosync[postgres]" in _project()["optional-dependencies"]["test"], "the tests run against PostgreSQL"


def test_every_package_the_tests_and_benches_import_is_declared() -> None:
    allowed = _declared(None) | _declared("postgres") | _declared("test")
    undeclared = {
        name: sorted(map(str, files))
        for name, files in _third_party_imports("tests", "bench").items()
        if name not in allowed
    }
    assert not undeclared, f"imported by tests/ or bench/ but not in the test extra: {undeclared}"


def test_psycopg_is_imported_only_inside_functions_so_sqlite_needs_no_postgres_extra() -> None:
    at_module_level = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "odoosync").rglob("*.py")
        if "psycopg" in _top_level_imports(ast.parse(path.read_text()), module_level_only=True)
    ]
    assert at_module_level == []


def test_the_locks_pin_every_declared_package_and_agree_on_the_runtime_pins() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert _declared(None) | _declared("postgres") <= set(runtime)
    assert _declared("test") | _declared("dev") <= set(dev)
    assert {name: dev.get(name) for name in runtime} == runtime, "requirements-dev.lock differs from requirements.lock"
