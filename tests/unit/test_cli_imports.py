"""The CLI starts cheap: importing it (what `trendreel --help` does) loads no database, web app, stage or
numeric library, and `--help` still lists every command. Functional checks only; the timing is
bench/bench_cli_startup.py's job."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import typer

import trendreel.cli

# Modules that only the commands that use them may load.
NOT_AT_START = ["fastapi", "alembic", "sqlalchemy", "numpy", "scipy", "pydantic", "trendreel.services",
                "trendreel.bootstrap", "trendreel.settings", "trendreel.db", "trendreel.api", "trendreel.web"]

# Every command in the order --help lists them: commands, then groups.
COMMANDS = ["crawl", "extract", "articles", "errors", "status", "sources", "demo", "import", "index", "search",
            "categorize", "trends", "trend", "story", "stories", "render", "edit", "videos", "worker", "report",
            "forecast", "approve", "reject", "publish", "publications", "storage", "gc", "serve",
            "categories", "voices", "engine", "metrics", "learn", "accounts", "users", "tokens", "schedule", "autopilot"]
SUBCOMMANDS = {
    "categories": ["list", "set"],
    "voices": ["list", "preview"],
    "engine": ["dev-server", "run-demo", "video", "crawl", "schedules"],
    "metrics": ["collect", "list", "import"],
    "learn": ["features", "evaluate", "fit", "models", "choose", "arms"],
    "accounts": ["add", "list", "remove", "login"],
    "users": ["add", "list", "remove", "role", "logout"],
    "tokens": ["create", "list", "revoke"],
    "schedule": ["add", "list", "cancel", "run"],
    "autopilot": ["run", "status"],
}

CLI_DIR = Path(trendreel.cli.__file__).parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
    env.update(COLUMNS="200", PYTHONIOENCODING="utf-8")
    return env


def test_importing_the_cli_loads_no_backend():
    code = "import json, sys, trendreel.cli; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert [m for m in NOT_AT_START if m in loaded] == []
    # of trendreel itself only the package and the CLI's own modules
    assert {m for m in loaded if m.startswith("trendreel")} <= {"trendreel", "trendreel.cli"} | {
        f"trendreel.cli.{p.stem}" for p in CLI_DIR.glob("*.py")}


def test_help_lists_every_command():
    proc = subprocess.run([sys.executable, "-m", "trendreel", "--help"], capture_output=True, text=True,
                          encoding="utf-8", env=_env(), timeout=60, check=False)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    panel = proc.stdout.split("Commands", 1)[1]
    # "│ name   description │": a name where a line of the panel starts, the description after two spaces
    listed = re.findall(r"^\W (\S+) {2,}\S", panel, flags=re.MULTILINE)
    assert listed == COMMANDS


def test_every_group_has_its_commands():
    root = typer.main.get_command(trendreel.cli.app)
    assert list(root.commands) == COMMANDS
    for group, names in SUBCOMMANDS.items():
        assert list(root.commands[group].commands) == names


def _top_level_imports(tree: ast.Module):
    """Imports run when the module loads: the module body, less `if TYPE_CHECKING:` blocks."""
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)) and not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
            yield from (n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))


def test_cli_modules_import_trendreel_only_inside_commands():
    """At module level: the standard library, typer, rich and the CLI's own modules; the rest is deferred."""
    modules = sorted(CLI_DIR.glob("*.py"))
    assert len(modules) >= 10
    for path in modules:
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                ok = (root in sys.stdlib_module_names or root in ("typer", "rich")
                      or name == "trendreel.cli" or name.startswith("trendreel.cli."))
                assert ok, f"{path.name}:{node.lineno} imports {name} at module level"
