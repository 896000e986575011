"""The documentation kept honest, as datasette does: a setting, a command, a use case or a backend kind
added without documentation fails here, and so does documentation that names a command, a module or
a source file that no longer exists.

The docs are README.md and every docs/**/*.md page.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import pkgutil
import re
import typing
from functools import cache
from pathlib import Path

import typer
from pydantic import BaseModel

from trendreel import services
from trendreel.cli import app  # the package path, so this keeps working whatever cli's layout
from trendreel.registry import KINDS, Registry
from trendreel.render.base import VideoGenerator
from trendreel.settings import RenderSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "trendreel"
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@cache
def _code(path: Path) -> tuple[list[str], list[str]]:
    """(fenced code blocks, inline code spans) of a Markdown file."""
    blocks, prose, block, fence = [], [], [], None
    for line in _text(path).splitlines():
        marker = re.match(r"\s*(`{3,}|~{3,})", line)
        if fence is None and marker:
            fence, block = marker.group(1), []
        elif fence is not None and marker and marker.group(1).startswith(fence):
            blocks.append("\n".join(block))
            fence = None
        elif fence is not None:
            block.append(line)
        else:
            prose.append(line)
    # Code spans stay inside one paragraph; one may wrap to the next line.
    spans = [" ".join(m.group(2).split())
             for paragraph in re.split(r"\n\s*\n", "\n".join(prose))
             for m in re.finditer(r"(`+)(.+?)\1", paragraph, re.S)]
    return blocks, spans


# ---- every setting documented ---------------------------------------------------------------------

def _load_script(name: str):
    """A script of scripts/ (no .py suffix) as a module."""
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(ROOT / "scripts" / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _model_of(annotation) -> type[BaseModel] | None:
    """The settings model of a section (`render`) or of a list of tables (`sources`), else None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _settings(model: type[BaseModel] = Settings, prefix: str = ""):
    """(dotted name, field, None) of every setting and (dotted name, field, model) of every section
    (`render`, `render.ltx2`, `sources[]`), depth first."""
    for name, field in model.model_fields.items():
        sub = _model_of(field.annotation)
        if sub is None:
            yield prefix + name, field, None
        else:
            dotted = prefix + name + ("[]" if typing.get_origin(field.annotation) is list else "")
            yield dotted, field, sub
            yield from _settings(sub, dotted + ".")


def test_settings_doc_is_generated_from_the_code():
    expected = _load_script("gen-settings-doc").render()
    assert _text(ROOT / "docs" / "settings.md") == expected, \
        "docs/settings.md differs from the settings in the code: run scripts/gen-settings-doc to update"


def test_every_setting_has_a_description():
    missing = [name for name, field, sub in _settings() if sub is None and not (field.description or "").strip()]
    assert not missing, f"settings without a description (Field(description=...)): {missing}"
    # A section's docstring is its introduction in docs/settings.md.
    bare = [name for name, _, sub in _settings() if sub is not None and not (sub.__doc__ or "").strip()]
    assert not bare, f"settings sections without a docstring: {bare}"


def test_every_setting_is_in_the_settings_doc():
    # Independent of the generator: a setting it skipped would be missing here.
    doc = _text(ROOT / "docs" / "settings.md")
    missing = [name for name, _, sub in _settings() if sub is None and f"| `{name}` |" not in doc]
    assert not missing, f"settings missing from docs/settings.md: {missing}"


# ---- every command documented, every documented command real --------------------------------------

def _commands(command=None, prefix: tuple[str, ...] = ()):
    """(full name, click command) of every command and sub-command of the CLI."""
    command = command or typer.main.get_command(app)
    # Typer vendors its own click, so a group is recognised by its `commands`, not by isinstance.
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield prefix + (name,), sub
        yield from _commands(sub, prefix + (name,))


def test_every_command_is_documented():
    docs = "\n".join(_text(p) for p in DOC_FILES)
    missing = [" ".join(name) for name, cmd in _commands()
               if not cmd.hidden and not re.search(rf"trendreel {re.escape(' '.join(name))}(?![\w-])", docs)]
    assert not missing, ("commands documented nowhere (add `trendreel <command>` with what it does to README.md's "
                         f"'Using it' or the matching docs page): {missing}")


_WORD = re.compile(r"[a-z][a-z0-9-]*")


def _documented_commands(path: Path):
    """Each `trendreel WORD [WORD]` written in a code block or span: (line, the words that follow)."""
    blocks, spans = _code(path)
    # A shell comment in a block is prose ("what trendreel sees in one page").
    lines = [re.sub(r"(^|\s)#.*$", "", line) for block in blocks for line in block.splitlines()] + spans
    for line in lines:
        tokens = line.split()
        for i, token in enumerate(tokens):
            # the command itself, or run from a virtual environment (.venv/bin/trendreel)
            if token == "trendreel" or token.endswith("bin/trendreel"):
                words = []
                for following in tokens[i + 1:i + 3]:
                    following = following.rstrip(",;:)")
                    if not _WORD.fullmatch(following):
                        break
                    words.append(following)
                if words:
                    yield line.strip(), words


def test_documented_commands_exist():
    top = typer.main.get_command(app)
    wrong = []
    for path in DOC_FILES:
        for line, words in _documented_commands(path):
            command = top.commands.get(words[0])
            if command is None:
                wrong.append(f"{_rel(path)}: `trendreel {words[0]}` in: {line}")
            elif len(words) > 1 and getattr(command, "commands", None) and words[1] not in command.commands:
                wrong.append(f"{_rel(path)}: `trendreel {' '.join(words)}` in: {line}")
    assert not wrong, "the docs name commands that do not exist:\n" + "\n".join(wrong)


# ---- the use cases of trendreel.services listed ---------------------------------------------------

# Public helpers of the services modules that are not use cases (so not in services._WHERE): the
# shape of a row as the use cases return it, ids, and the plumbing other layers import directly.
SERVICE_HELPERS = {
    "trends.as_utc": "parses --since/--until for detect_trends and list_trends",
    "stories.backend_model": "the model part of a story id, known without loading the model",
    "stories.save_story": "stores a validated story for write_story and edit_story",
    "render.load_story": "reads a stored story for render_story and edit_video",
    "render.render_settings_for": "the render settings with per-render choices applied, for render_story and preview_frame",
    "render.render_defaults": "the render settings every render starts from: <home>/music as the music folder when none is set, keep_seconds from edit.target_seconds; for render_settings_for",
    "voices.voice_options": "the voices one may choose for a language, for render_options",
    "voices.BadVoice": "the InvalidInput preview_voice raises for a malformed voice or a long text",
    "videos.video_dict": "the shape of a video row",
    "videos.mark_failed": "records a failed render or edit on its row",
    "videos.claim_row": "marks a rendered or edited video's row running before the work",
    "videos.run_recorded": "runs a render or an edit with every failure written on its row",
    "videos.store_files": "stores a rendered or edited video's files, the video last",
    "videos.finish_row": "marks the row done with its files and event, in one transaction",
    "videos.finished_video": "the facts of a finished video for the edit and publish stages",
    "publishing.publication_dict": "the shape of a publication row",
    "publishing.MostlyCopied": "the Conflict publish_video raises for a mostly copied story (allow_copied overrides)",
    "schedule.post_dict": "the shape of a planned post row",
    "schedule.UnknownPost": "the NotFound get_post and cancel_post raise for an unknown planned post",
    "metrics.sample_dict": "the shape of a metrics sample row",
    "users.AuthError": "the error the gateway's authentication raises",
    "users.LastAdmin": "the Conflict set_role, add_user and remove_user raise rather than leave no admin",
    "users.LoginThrottled": "the RateLimited (429) check_login raises after too many failed logins",
    "users.password_hasher": "Argon2id hasher shared by add_user and verify_password",
    "users.user_id": "id of a user from the name",
    "users.token_hash": "what is stored of a token",
    "users.session_hash": "what is stored of a browser session's id",
    "users.token_id": "id of a token from the token",
    "users.user_dict": "the shape of a user row",
    "users.token_dict": "the shape of a token row",
    "users.cached_user_for_token": "the gateway's per-process token cache (api/auth.py)",
    "users.remember_token": "the gateway's per-process token cache (api/auth.py)",
    "users.forget_tokens": "empties that cache when users or tokens change",
    "users.password_fingerprint": "ends sessions when a password changes (api/auth.py)",
    "runs.run_id": "id of a new pipeline run",
    "runs.run_dict": "the shape of a pipeline run row",
    "pipeline.Stage": "one row of the pipeline table (STAGES)",
    "pipeline.stage": "one row of the pipeline table by name",
    "pipeline.stage_options": "queues, timeouts and retries of each stage, for the Temporal engine",
    "learning.LearnError": "the error the learning use cases raise when too little is stored",
    "pipeline.InProcessRunner": "the built-in engine_runner `inprocess`, built by the registry",
}


def _service_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(services.__path__) if not m.name.startswith("_"))


def test_every_services_module_has_use_cases_in_the_list():
    assert set(_service_modules()) == set(services._WHERE.values()), \
        "a services module with no use case in services._WHERE, or _WHERE naming a module that is gone"


def test_every_public_function_of_services_is_a_listed_use_case_or_a_known_helper():
    unlisted = []
    for module_name in _service_modules():
        module = importlib.import_module(f"trendreel.services.{module_name}")
        for name, obj in vars(module).items():
            defined_here = (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__
            if name.startswith("_") or not defined_here:
                continue
            if services._WHERE.get(name) != module_name and f"{module_name}.{name}" not in SERVICE_HELPERS:
                unlisted.append(f"{module_name}.{name}")
    assert not unlisted, ("public names of the services modules that are neither in services._WHERE (a use case) "
                          f"nor in SERVICE_HELPERS here (with why): {unlisted}")


def test_every_known_helper_still_exists():
    gone = [key for key in SERVICE_HELPERS
            if not hasattr(importlib.import_module(f"trendreel.services.{key.split('.')[0]}"), key.split(".")[1])]
    assert not gone, f"SERVICE_HELPERS names what no longer exists: {gone}"


def test_every_listed_use_case_resolves_to_its_module():
    assert services.__all__ == sorted(services._WHERE)
    for name, module_name in services._WHERE.items():
        module = importlib.import_module(f"trendreel.services.{module_name}")
        assert getattr(services, name) is getattr(module, name), name


# ---- every backend kind of the registry documented ------------------------------------------------

def test_every_backend_kind_is_documented():
    problems = []
    for kind in KINDS.values():
        pages = [p for p in DOC_FILES if p != ROOT / "README.md" and f"`{kind.group}`" in _text(p)]
        if not pages:
            problems.append(f"{kind.name}: no docs page names its entry point group `{kind.group}`")
            continue
        # The built-in names on the same page as the group, so a reader finds them together.
        for builtin, _ in kind.builtins:
            if not any(f"`{builtin}`" in _text(p) for p in pages):
                problems.append(f"{kind.name}: built-in `{builtin}` is not on a page naming `{kind.group}`")
    assert not problems, "see docs/backends.md:\n" + "\n".join(problems)


def test_the_plugin_example_of_backends_md_works():
    blocks, _ = _code(ROOT / "docs" / "backends.md")
    example = next(block for block in blocks if "class MyGenerator" in block)
    namespace: dict = {}
    exec(compile(example, "docs/backends.md", "exec"), namespace)
    registry = Registry()  # a fresh one: the process's registry stays as it was
    registry.register("video_generator", "mymodel", namespace["MyGenerator"])
    generator = registry.create("video_generator", "mymodel", RenderSettings())
    assert isinstance(generator, VideoGenerator)
    assert generator.settings_key()


# ---- modules and source files named in the docs exist ---------------------------------------------

# trendreel.<name> spellings that are not modules: files, hosts, entry point groups.
NOT_MODULES = {"trendreel.toml", "trendreel.conf", "trendreel.db.gc.lock", "trendreel.example.org",
               *(kind.group for kind in KINDS.values())}


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent is a module, not a package
        return False


def _resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        if not _is_module(".".join(parts[:i])):
            continue
        obj = importlib.import_module(".".join(parts[:i]))
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _module_paths(path: Path):
    text = _text(path)
    # Not after a dot, slash or colon: hosts (sample.trendreel.invalid) and file paths (<home>/trendreel.db).
    for m in re.finditer(r"(?<![\w./:@-])trendreel(?:\.[A-Za-z_]\w*)+", text):
        yield m.group(0)
    # `from trendreel.x import a, b` names trendreel.x.a and trendreel.x.b
    for m in re.finditer(r"^[ \t]*from[ \t]+(trendreel[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[\w, \t]+)", text, re.M):
        for name in filter(None, (n.strip() for n in m.group(2).strip("()").split(","))):
            yield f"{m.group(1)}.{name.split()[0]}"  # `a as b` names a


def test_module_paths_in_docs_exist():
    wrong = sorted({f"{_rel(p)}: {name}" for p in DOC_FILES for name in _module_paths(p)
                    if name not in NOT_MODULES and not _resolves(name)})
    assert not wrong, "the docs name trendreel modules or attributes that do not exist:\n" + "\n".join(wrong)




def _source_files(path: Path) -> tuple[list[str], list[Path]]:
    """Each `something.py` (or `dir/something.py`) in the code of a page, and the folders they may be
    relative to: the repository, src/ and src/trendreel, the page's folder, and every package
    (`trendreel.x`) and folder (`bench/`, `adapters/`) the page names in code ("Code: `trendreel.web` —
    `pages.py`")."""
    files, bases = [], [ROOT, ROOT / "src", SRC, path.parent]
    blocks, spans = _code(path)
    for token in (t for code in spans + blocks for t in re.findall(r"[\w./-]+", code)):
        package = re.fullmatch(r"trendreel((?:\.\w+)+)", token)
        if package and SRC.joinpath(*package.group(1).split(".")[1:]).is_dir():
            bases.append(SRC.joinpath(*package.group(1).split(".")[1:]))
        elif token.endswith("/"):  # a folder of the repository (bench/) or of the package (adapters/)
            bases += [base / token for base in (ROOT, SRC) if (base / token).is_dir()]
        elif re.fullmatch(r"[\w./-]*\w\.py", token):  # not a glob's tail (cli_*.py)
            files.append(token)
    return files, bases


def test_source_files_named_in_docs_exist():
    wrong = []
    for page in DOC_FILES:
        files, bases = _source_files(page)
        wrong += sorted({f"{_rel(page)}: {name}" for name in files if not any((b / name).exists() for b in bases)})
    assert not wrong, "the docs name source files that do not exist:\n" + "\n".join(wrong)
