"""The layering holds: import-linter's contracts (pyproject.toml) pass, and imports of the package's own
modules deferred into functions stay few, each saying which heavy optional package it avoids.

Entry points (cli, api, web, engine, demo, modelserver) -> services -> bootstrap -> stages ->
adapters, db, files -> settings -> registry, units -> the base. A deferred import hides a dependency
from the contracts and from a reader, so outside the CLI (whose commands import what they use, to
start fast) one is allowed only with a comment naming the heavy package it keeps out of start-up.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import trendreel

PACKAGE = Path(trendreel.__file__).parent
REPO = PACKAGE.parent.parent
MAX_DEFERRED_OUTSIDE_CLI = 20


def _is_cli(path: Path) -> bool:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] == "cli" or rel.name.startswith("cli")


def deferred_own_imports() -> list[tuple[Path, int]]:
    """(file, line) of every `import trendreel…` / `from trendreel… import` inside a function."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        seen: set[int] = set()
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                own = (isinstance(node, ast.ImportFrom) and ((node.module or "").startswith("trendreel") or node.level > 0)) \
                    or (isinstance(node, ast.Import) and any(a.name.startswith("trendreel") for a in node.names))
                if own and id(node) not in seen:
                    seen.add(id(node))
                    found.append((path, node.lineno))
    return found


def test_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        lint = shutil.which("lint-imports")
    if not lint:
        pytest.skip("import-linter is not installed (it is in the test extras)")
    done = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_deferred_imports_outside_the_cli_are_few_and_say_why():
    outside = [(p, n) for p, n in deferred_own_imports() if not _is_cli(p)]
    where = [f"{p.relative_to(PACKAGE)}:{n}" for p, n in outside]
    assert len(outside) <= MAX_DEFERRED_OUTSIDE_CLI, where
    for path, line in outside:
        lines = path.read_text(encoding="utf-8").splitlines()
        # the reason is a comment on the import's line or on one of the two lines above it
        context = lines[max(0, line - 3):line]
        assert any("#" in text for text in context), f"{path.relative_to(PACKAGE)}:{line} says not why it is deferred"
