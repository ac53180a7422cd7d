"""Layers point down: the domain (the request, the text rules, generation, the providers) never
imports the web layer, and no import hides a cycle inside a function. Read from the source with
`ast`, so a new module is checked as soon as it exists."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "messagebot"

# Who may import messagebot.web: the app factory that wires it in.
WEB_IMPORTERS = {"messagebot"}

# Imports of our own modules inside a function, each with why it waits; any other is a cycle
# in hiding or a layer pointing up.
DEFERRED: dict[tuple[str, str], str] = {
    **{
        ("messagebot.cli", module): "a command loads only what it runs (`write` needs no app)"
        for module in (
            "messagebot",
            "messagebot.errors",
            "messagebot.evaluation",
            "messagebot.generation",
            "messagebot.providers",
            "messagebot.request",
            "messagebot.stats",
        )
    },
    **{
        ("messagebot", module): "defines metrics, which prometheus_client writes to files under "
        "PROMETHEUS_MULTIPROC_DIR: imported once the settings have checked that directory"
        for module in (
            "messagebot.lifecycle",
            "messagebot.metrics",
            "messagebot.generation",
            "messagebot.web.api",
            "messagebot.web.generations",
            "messagebot.web.page",
            "messagebot.web.ratelimit",
            "messagebot.web.request_log",
        )
    },
    ("messagebot.providers", "messagebot.providers.local"): (
        "llama-cpp-python is optional: loaded only when the local model is chosen"
    ),
    ("messagebot.providers", "messagebot.providers.openai"): (
        "only the chosen provider is loaded: the local model needs no openai SDK"
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def resolve(module: str, node: ast.ImportFrom | ast.Import) -> Iterator[str]:
    """The modules of ours that `node`, in `module`, imports."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == "messagebot":
                yield alias.name
        return
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
        for _ in range(node.level - 1):
            package = package.rsplit(".", 1)[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base.split(".")[0] != "messagebot":
        return
    for alias in node.names:
        # `from . import errors` names a module; `from .errors import APIError` a name in one.
        yield submodule if (submodule := f"{base}.{alias.name}") in MODULES else base


def imports(module: str) -> Iterator[tuple[str, bool]]:
    """(imported module, whether the import is inside a function) for each of ours."""
    tree = ast.parse(MODULES[module].read_text())
    deferred: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            deferred.update(id(inner) for inner in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in resolve(module, node):
                yield target, id(node) in deferred


def test_the_modules_are_found() -> None:
    assert {"messagebot.request", "messagebot.web.api", "messagebot.text.prompts"} <= set(MODULES)
    assert ("messagebot.request", False) in set(imports("messagebot.web.api"))


def test_only_the_app_factory_imports_the_web_layer() -> None:
    upward = {
        (module, target)
        for module in MODULES
        if not module.startswith("messagebot.web") and module not in WEB_IMPORTERS
        for target, _ in imports(module)
        if target == "messagebot.web" or target.startswith("messagebot.web.")
    }
    assert not upward


def test_every_import_inside_a_function_says_why() -> None:
    hidden = {
        (module, target)
        for module in MODULES
        for target, inside in imports(module)
        if inside and target != module
    }
    assert hidden <= set(DEFERRED), hidden - set(DEFERRED)


def test_our_imports_form_no_cycle() -> None:
    """Module by module, deferred imports included (a package's __init__ is its own node)."""
    graph = {module: {target for target, _ in imports(module)} - {module} for module in MODULES}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, " → ".join([*path[path.index(module) :], module])
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_text_rules_need_nothing_above_them() -> None:
    """text/ (prompts, cleanup, the quality checks…) reads the request and its data files,
    never generation, the providers or the offline evaluation command."""
    below = {"messagebot.paths", "messagebot.request"}
    upward = {
        (module, target)
        for module in MODULES
        if module.startswith("messagebot.text")
        for target, _ in imports(module)
        if not target.startswith("messagebot.text") and target not in below
    }
    assert not upward
