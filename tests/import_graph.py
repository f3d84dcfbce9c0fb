"""The import graph of RepTrack's own packages, read from the source with ``ast`` (nothing is imported).

Every ``import`` and ``from ... import`` statement that can run counts, at any depth: module
level and inside functions. Imports under ``if TYPE_CHECKING:`` never run (only type checkers read
them, and they handle cycles), so they are not edges. An edge goes from the importing module to
each module the statement names:

- ``import a.b.c`` depends on ``a.b.c`` (or on its longest prefix that is one of our modules);
- ``from a.b import c`` depends on ``a.b`` and, when ``a.b.c`` is a module, on ``a.b.c`` as well.
  Naming the package in a ``from`` import runs its ``__init__``, which is how a package's
  ``__init__`` and a module inside it that says ``from pkg import sibling`` end up in a cycle.

The parent packages that Python initialises on the way (``a`` and ``a.b`` for ``import a.b.c``) are
not edges: every module would otherwise depend on its own package, and a package's ``__init__``
that re-exports its modules would be in a cycle with all of them. Imports built from strings at
run time (``importlib.import_module``) are not seen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("tracker", "calibration", "firmware_sim")


@dataclass(frozen=True, slots=True)
class Edge:
    """One import statement's dependency: ``importer`` needs ``imported``, at ``path:line``."""

    importer: str
    imported: str
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} -> {self.imported}"


def module_files(repo_root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` under the given packages."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((repo_root / package).rglob("*.py")):
            parts = list(path.relative_to(repo_root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported_by(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: Mapping[str, Path]
) -> set[str]:
    """Our modules that one import statement names (see the module docstring for the rules)."""
    named: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                named.add(name)
        return named
    if node.level:  # relative: from the importer's package, one level up per extra dot
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        package = ".".join([*base, node.module] if node.module else base)
    else:
        package = node.module or ""
    if package in modules:
        named.add(package)
    for alias in node.names:
        if f"{package}.{alias.name}" in modules:
            named.add(f"{package}.{alias.name}")
    return named


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``: a block only type checkers read."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that can run: all of them but those in ``if TYPE_CHECKING:`` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                yield from _runtime_imports(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _runtime_imports(node)


def import_edges(repo_root: Path, packages: Iterable[str] = PACKAGES) -> list[Edge]:
    """Every dependency between our own modules, one edge per statement and module it names."""
    modules = module_files(repo_root, packages)
    edges: list[Edge] = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _runtime_imports(tree):
            for imported in sorted(_imported_by(node, importer, path.name == "__init__.py", modules)):
                if imported != importer:
                    edges.append(Edge(importer, imported, path.relative_to(repo_root), node.lineno))
    return edges


def import_cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's strongly
    connected components with more than one module), each group sorted, groups sorted."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.imported)
        graph.setdefault(edge.imported, set())
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                lowest[module] = min(lowest[module], lowest[other])
            elif other in on_stack:
                lowest[module] = min(lowest[module], index[other])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def in_layer(module: str, layer: Iterable[str]) -> bool:
    """Whether ``module`` is one of ``layer``'s modules or packages, or inside one of them."""
    return any(module == name or module.startswith(name + ".") for name in layer)
