"""Adapters sit below the stages: they import only trendreel.errors, .settings, .logs (and .db if ever
needed) and third-party packages, never a stage, so every stage can use them without cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import trendreel.adapters

ALLOWED = {"trendreel.errors", "trendreel.settings", "trendreel.logs", "trendreel.db", "trendreel.adapters"}


def _trendreel_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("trendreel")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("trendreel"):
            found.add(node.module)
    return found


def test_adapters_import_no_stage():
    modules = sorted(Path(trendreel.adapters.__file__).parent.glob("*.py"))
    assert {m.stem for m in modules} >= {"ffmpeg", "openai_http", "youtube"}
    for module in modules:
        for name in _trendreel_imports(module):
            assert any(name == ok or name.startswith(ok + ".") for ok in ALLOWED), f"{module.name} imports {name}"
