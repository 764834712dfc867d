"""The layering of ARCHITECTURE.md holds: what each part may import, checked on every module's source.

Every import counts, wherever it is written: at the top, inside a function (a lazy import), under
`if TYPE_CHECKING:`, relative (`from ..daemon import x`), or as a string given to
`importlib.import_module` or `__import__`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The folders that install as secondme.<name> (setup.py maps them onto the namespace).
PARTS = ("daemon", "pipeline", "network", "permissions", "errors")
# part -> the parts of secondme it must never import
FORBIDDEN = {
    "pipeline": ("secondme.daemon", "secondme.network"),
    "permissions": ("secondme.daemon", "secondme.network", "secondme.pipeline"),
    "network": ("secondme.daemon", "secondme.pipeline"),
    "errors": ("secondme.daemon", "secondme.network", "secondme.pipeline", "secondme.permissions", "secondme.v1"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["secondme", *parts])


def _resolve(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute name of a (possibly relative) `from ... import`."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imported_names(source: str, importer: str, is_package: bool = False) -> set[str]:
    """Every module name the source imports, by statement or by a string import, at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, importer, is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def _modules(part: str) -> list[Path]:
    return sorted(p for p in (REPO / part).rglob("*.py") if "__pycache__" not in p.parts)


def _violations(part: str) -> list[str]:
    found = []
    for path in _modules(part):
        importer = _module_name(path)
        for name in sorted(imported_names(path.read_text(), importer, path.name == "__init__.py")):
            for banned in FORBIDDEN[part]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_each_part_imports_only_what_the_layering_allows(part):
    assert _modules(part), f"no modules found under {part}/"
    assert _violations(part) == []


def test_every_kind_of_import_is_seen():
    source = """
import secondme.daemon.app
from secondme.network import node
from . import sibling
from ..daemon.store import Store
def later():
    import importlib
    from secondme.daemon import config
    importlib.import_module("secondme.daemon.jobs")
    __import__("secondme.network.bridge")
if TYPE_CHECKING:
    from secondme.daemon.client import Client
"""
    names = imported_names(source, "secondme.pipeline.ingest.run")
    assert {
        "secondme.daemon.app",
        "secondme.network.node",
        "secondme.pipeline.ingest.sibling",
        "secondme.pipeline.daemon.store.Store",
        "secondme.daemon.config",
        "secondme.daemon.jobs",
        "secondme.network.bridge",
        "secondme.daemon.client.Client",
    } <= names
    assert "secondme.daemon.store.Store" in imported_names(
        "from ...daemon.store import Store", "secondme.pipeline.ingest.run"
    )
    assert "secondme.daemon.store" in imported_names("from ..daemon import store", "secondme.pipeline", True)
