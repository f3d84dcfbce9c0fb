"""The house rules of the code base (docs/architecture.md, "Import rules"), checked on the source.

No import cycles; the pure core imports only the core; the readers in tracker.io import only the
core; the product (tracker, calibration) never imports the simulator; no function is over 100 lines.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from tests.import_graph import Edge, import_cycles, import_edges, in_layer
from tests.paths import REPO_ROOT

# The pure core: no I/O, no radio, no broker, no screen (docs/architecture.md). ``tracker`` itself
# is its package ``__init__`` (the version), which every layer may import.
CORE = ("tracker", "tracker.samples", "tracker.events", "tracker.protocol", "tracker.errors")
CORE += ("tracker.pipeline", "tracker.summary", "tracker.codecs")
READERS = ("tracker.io",)
SIMULATOR = ("firmware_sim",)
PRODUCT = ("tracker", "calibration")

# Product -> simulator imports allowed while they are being moved out, each as (importer, imported)
# with the reason; none is left (the simulator registers its sources through entry points, see
# tracker/plugins.py). An entry whose import is gone fails the test below, so the list only shrinks.
PRODUCT_TO_SIMULATOR_ALLOWED: set[tuple[str, str]] = set()

# Cycles that exist today in code another engineer owns, each with the way out; a listed cycle that
# is gone fails the test below.
CYCLES_ALLOWED: list[list[str]] = []

# Reader imports beyond the core, each with the way out (the list only shrinks). None is left: the
# vendor codecs a recording of a Polar or MetaWear sensor needs moved from tracker.ble to the core
# (tracker.codecs).
READER_IMPORTS_ALLOWED: set[tuple[str, str]] = set()

MAX_FUNCTION_LINES = 100
# Functions over the limit in code other engineers are rewriting right now; remove an entry when
# its function is split. Like the import allow-list, a stale entry fails.
LONG_FUNCTIONS_ALLOWED: set[str] = set()
LONG_FUNCTIONS_ALLOWED_FILES: set[str] = set()


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_edges(REPO_ROOT)


def _listing(edges: list[Edge]) -> str:
    return "\n".join(edge.where() for edge in edges)


def test_no_import_cycles(edges: list[Edge]) -> None:
    cycles = [group for group in import_cycles(edges) if group not in CYCLES_ALLOWED]
    details = [
        _listing([e for e in edges if e.importer in group and e.imported in group]) for group in cycles
    ]
    assert cycles == [], "import cycles:\n" + "\n\n".join(details)
    stale = [group for group in CYCLES_ALLOWED if group not in import_cycles(edges)]
    assert not stale, f"allow-listed cycles that are gone (remove them from the list): {stale}"


def test_the_core_imports_only_the_core(edges: list[Edge]) -> None:
    outside = [e for e in edges if in_layer(e.importer, CORE[1:]) and not in_layer(e.imported, CORE[1:])]
    outside = [e for e in outside if e.imported != "tracker"]
    assert outside == [], "the pure core imports beyond the core:\n" + _listing(outside)


def test_the_readers_import_only_the_core(edges: list[Edge]) -> None:
    allowed = (*CORE[1:], *READERS)
    outside = [
        e
        for e in edges
        if in_layer(e.importer, READERS) and not in_layer(e.imported, allowed) and e.imported != "tracker"
    ]
    unexpected = [e for e in outside if (e.importer, e.imported) not in READER_IMPORTS_ALLOWED]
    assert unexpected == [], "tracker.io imports beyond the core:\n" + _listing(unexpected)
    stale = READER_IMPORTS_ALLOWED - {(e.importer, e.imported) for e in outside}
    assert not stale, (
        f"allow-listed imports that no longer exist (remove them from the list): {sorted(stale)}"
    )


def test_the_product_never_imports_the_simulator(edges: list[Edge]) -> None:
    crossing = [e for e in edges if in_layer(e.importer, PRODUCT) and in_layer(e.imported, SIMULATOR)]
    unexpected = [e for e in crossing if (e.importer, e.imported) not in PRODUCT_TO_SIMULATOR_ALLOWED]
    assert unexpected == [], "the product imports the simulator:\n" + _listing(unexpected)
    stale = PRODUCT_TO_SIMULATOR_ALLOWED - {(e.importer, e.imported) for e in crossing}
    assert not stale, (
        f"allow-listed imports that no longer exist (remove them from the list): {sorted(stale)}"
    )


def _long_functions(repo_root: Path, packages: tuple[str, ...]) -> dict[str, int]:
    """``path::qualified.name`` -> lines, for every function longer than the limit."""
    found: dict[str, int] = {}
    for package in packages:
        for path in sorted((repo_root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            found.update(_long_functions_in(tree, path.relative_to(repo_root).as_posix()))
    return found


def _long_functions_in(tree: ast.AST, where: str, prefix: str = "") -> dict[str, int]:
    found: dict[str, int] = {}
    for node in ast.iter_child_nodes(tree):
        name = prefix
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if not isinstance(node, ast.ClassDef) and lines > MAX_FUNCTION_LINES:
                found[f"{where}::{name}"] = lines
            name += "."
        found.update(_long_functions_in(node, where, name))
    return found


def test_no_function_over_100_lines() -> None:
    long = _long_functions(REPO_ROOT, ("tracker", "calibration", "firmware_sim"))
    unexpected = {
        name: lines
        for name, lines in long.items()
        if name not in LONG_FUNCTIONS_ALLOWED and name.partition("::")[0] not in LONG_FUNCTIONS_ALLOWED_FILES
    }
    assert unexpected == {}, f"functions over {MAX_FUNCTION_LINES} lines: {unexpected}"
    stale = LONG_FUNCTIONS_ALLOWED - set(long)
    assert not stale, f"allow-listed long functions that are short now (remove them from the list): {stale}"


# -- the checkers themselves, on a small package written for the purpose --------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def test_a_sibling_named_through_its_package_is_a_cycle(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.pub import Publisher\n",
            "pkg/pub.py": "from pkg import payloads\n",
            "pkg/payloads.py": "",
        },
    )
    assert import_cycles(import_edges(root, ["pkg"])) == [["pkg", "pkg.pub"]]


def test_function_level_and_relative_imports_count(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "def f():\n    from .b import g\n    return g\n",
            "pkg/b.py": "import pkg.c.d as d\n",
            "pkg/c/__init__.py": "",
            "pkg/c/d.py": "from ..a import f\n",
        },
    )
    edges = import_edges(root, ["pkg"])
    assert {(e.importer, e.imported) for e in edges} == {
        ("pkg.a", "pkg.b"),
        ("pkg.b", "pkg.c.d"),
        ("pkg.c.d", "pkg.a"),
    }
    assert import_cycles(edges) == [["pkg.a", "pkg.b", "pkg.c.d"]]


def test_imports_only_type_checkers_read_are_not_edges(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n",
            "pkg/a.py": "import typing\nif typing.TYPE_CHECKING:\n    import pkg.b\nelse:\n    import pkg.c\nA = 1\n",
            "pkg/b.py": "",
            "pkg/c.py": "",
        },
    )
    assert {(e.importer, e.imported) for e in import_edges(root, ["pkg"])} == {("pkg.a", "pkg.c")}


def test_parent_packages_alone_make_no_cycle(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.a import A\n",
            "pkg/a.py": "from pkg.b import B\nA = B\n",
            "pkg/b.py": "B = 1\n",
        },
    )
    assert import_cycles(import_edges(root, ["pkg"])) == []


def test_a_long_method_is_found_by_its_qualified_name() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    tree = ast.parse(f"class Detector:\n    def feed(self):\n{body}\n    def short(self):\n        pass\n")
    assert _long_functions_in(tree, "m.py") == {"m.py::Detector.feed": MAX_FUNCTION_LINES + 1}
