"""No import circles in our packages, counting imports inside functions too.

An import hidden in a function body still makes two modules depend on each other; it only
moves the failure from import time to the first call. The graph is read from the source (ast),
so the test sees every ``import`` wherever it is written, except under ``if TYPE_CHECKING:``
(never executed: annotations only).
"""

from __future__ import annotations

import ast
from pathlib import Path

from infra.paths import ROOT

PACKAGES = {  # import name -> folder
    "musicboxd": ROOT / "layers" / "common" / "python" / "musicboxd",
    "tools": ROOT / "tools",
    "infra": ROOT / "infra",
}


def module_name(package: str, folder: Path, source: Path) -> str:
    parts = source.relative_to(folder).with_suffix("").parts
    return ".".join((package, *parts)).removesuffix(".__init__")


def modules() -> dict[str, Path]:
    return {
        module_name(package, folder, source): source
        for package, folder in PACKAGES.items()
        for source in folder.rglob("*.py")
    }


def run_time_nodes(tree: ast.AST):
    """Every node but those under ``if TYPE_CHECKING:``."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))


def imported(name: str, source: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that ``source`` imports anywhere (``from pkg import mod`` counts as ``pkg.mod``)."""
    is_package = source.name == "__init__.py"
    found = set()
    for node in run_time_nodes(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        found.update(target for target in targets if target in known and target != name)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, source, known) for name, source in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in on_stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
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


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "musicboxd.wiring" in graph["musicboxd.api.routes_album"]  # imported inside the route function
    assert "musicboxd.api.app" in graph["musicboxd.api.openapi"]


def test_no_import_circles():
    found = circles(import_graph())
    assert not found, f"import circles: {found}"
