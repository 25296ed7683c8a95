"""The package's import graph keeps the shape ``docs/architecture.md`` draws.

Module-level imports only (an import inside a function or under ``TYPE_CHECKING`` runs
late or never, which is how the edges keep start-up cheap); read with ``ast``, so nothing
is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "odoosync"

# Lower layers never import higher ones at module level.
EDGES = ("odoosync.cli", "odoosync.web", "odoosync.demo", "odoosync.__main__")
ENGINES = ("odoosync.pull", "odoosync.push", "odoosync.sheets", "odoosync.streams")
PORTS = ("odoosync.odoo", "odoosync.store")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """``import a.b`` → ``a.b``; ``from a import b`` → ``a:b`` (resolved by the caller)."""
    found: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and not _is_type_checking(node):
            pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found |= {f"{target}:{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph = {}
    for name, path in modules.items():
        imports = _top_level_imports(ast.parse(path.read_text()), name, path.name == "__init__.py")
        targets = set()
        for target in imports:
            if ":" in target:  # from package import name: the submodule when it is one, else the package
                package, attribute = target.split(":")
                target = f"{package}.{attribute}" if f"{package}.{attribute}" in modules else package
            targets.add(target)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_push_service_and_demo_are_packages() -> None:
    for package in ("push", "service", "demo", "pull", "sheets", "streams", "odoo", "store"):
        assert (PACKAGE / package / "__init__.py").is_file(), package
    loose = {p.stem for p in PACKAGE.glob("*.py")}
    assert not loose & {"push", "worker", "outbox", "binder", "jobs", "scheduler", "metrics", "demo", "demo_serve"}


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, targets in _graph().items():
        for target in targets:
            if _within(module, ENGINES + PORTS) and _within(target, (*EDGES, "odoosync.service")):
                upward.append(f"{module} → {target}")
            if _within(module, PORTS) and _within(target, ENGINES):
                upward.append(f"{module} → {target}")
            if module.startswith("odoosync.service") and _within(target, EDGES):
                upward.append(f"{module} → {target}")
    assert upward == []
