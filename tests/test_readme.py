"""The docs' tables name what the code has: docs/api.md's configuration table every variable the
settings object reads, docs/architecture.md's Layout tree every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    source = (ROOT / "messagebot" / "config.py").read_text()
    read = set(re.findall(r'"((?:MESSAGEBOT|OPENAI|REDIS)_[A-Z_]+|PORT)"', source))
    assert len(read) >= 15
    api = (ROOT / "docs" / "api.md").read_text()
    table = api.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    assert read <= documented, read - documented


def test_every_documented_setting_is_read() -> None:
    """And the other way: no variable in the table that nothing reads (a renamed setting)."""
    api = (ROOT / "docs" / "api.md").read_text()
    table = api.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    code = "".join(path.read_text() for path in (ROOT / "messagebot").rglob("*.py"))
    read = set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT)"', code))
    procfile = set(re.findall(r"\b[A-Z][A-Z_]+\b", (ROOT / "Procfile").read_text()))
    sdk_own = {"OPENAI_ORG_ID", "OPENAI_PROJECT_ID"}  # read by AsyncOpenAI itself
    assert documented - read - procfile - sdk_own == set()


def _only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return len(body) == 1 and isinstance(body[0], ast.Expr)


def _layout_tree() -> tuple[set[str], set[str]]:
    """The files and folders docs/architecture.md's Layout tree names, as paths from the repo's
    top."""
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    section = architecture.split("## Layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    files: set[str] = set()
    folders: set[str] = set()
    parents: list[str] = []
    for line in block.splitlines():
        name = line.strip().split(" ", 1)[0]
        if not name or not line.lstrip().startswith(name) or line.startswith(" " * 20):
            continue  # blank, or a description's second line
        depth = (len(line) - len(line.lstrip())) // 2
        parents = parents[:depth]
        if name.endswith(","):  # "templates/, static/": two top-level folders
            folders.update(part.strip() for part in line.split("  ")[0].split(","))
            continue
        path = "".join(parents) + name
        if name.endswith("/"):
            folders.add(path)
            parents.append(name)
        else:
            files.add(path)
    return files, folders


def test_the_layout_names_every_module_and_nothing_else() -> None:
    files, folders = _layout_tree()
    modules = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "messagebot").rglob("*.py")
        if not _only_a_docstring(path)  # a package's __init__.py that just says what it holds
    }
    listed = {path for path in files if path.startswith("messagebot/")}
    assert listed == modules, (modules - listed, listed - modules)
    for folder in folders:
        assert (ROOT / folder).is_dir(), folder
    assert {"messagebot/text/", "messagebot/web/", "messagebot/providers/"} <= folders
