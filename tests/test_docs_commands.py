"""Every shell block of the README and the guides works pasted as it is, in order.

Each ```sh block is marked on the line above it: `<!-- run -->` (this test runs it),
`<!-- recipe: NAME -->` (tests/test_clients.py runs it against a real server), or
`<!-- not run: REASON -->` (an install or a long run, with the reason written down). The run
blocks of one file are pasted into one bash, in order, as a reader pastes them into one
terminal, in a copy of the clone whose `.venv` is this test's venv; the ports they name are
swapped for free ones, so that a server already on them (serve.sh's 8000, another test run)
changes nothing. A deadline bounds the run, and whatever it started is killed after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
SHELLS = {"sh", "bash", "shell", "console"}
MARK = re.compile(r"<!-- (run|recipe: [\w-]+|not run: .+) -->")
# What a file's blocks must print, beyond succeeding.
EXPECTED_OUTPUT = {"README.md": ["event: start", "event: delta", "event: done"]}
DEADLINE_S = 120


@dataclass
class Block:
    path: Path
    line: int
    language: str
    mark: str | None
    code: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> list[Path]:
    """The project's Markdown files: the README, docs/, bench/README.md…"""
    return sorted(
        path
        for path in ROOT.rglob("*.md")
        if not any(
            part.startswith(".") or part in ("node_modules", "out")
            for part in path.relative_to(ROOT).parts
        )
    )


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, each with the comment on the line above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = re.fullmatch(r"```([\w-]*)", lines[i])
        if not opening:
            i += 1
            continue
        end = lines.index("```", i + 1)
        mark = MARK.fullmatch(lines[i - 1]) if i else None
        found.append(
            Block(
                path,
                i + 1,
                opening[1],
                mark[1] if mark else None,
                "\n".join(lines[i + 1 : end]) + "\n",
            )
        )
        i = end + 1
    return found


def shell_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks(path) if block.language in SHELLS]


def test_the_docs_are_found() -> None:
    names = {str(path.relative_to(ROOT)) for path in documents()}
    assert {"README.md", "docs/api.md", "docs/clients.md", "bench/README.md"} <= names


def test_every_shell_block_says_whether_it_is_run() -> None:
    unmarked = [str(block) for block in shell_blocks() if block.mark is None]
    assert not unmarked, f"mark these <!-- run -->, <!-- not run: why --> or recipe: {unmarked}"
    runs = [block for block in shell_blocks() if block.mark == "run"]
    assert {block.path.name for block in runs} >= {"README.md"}, runs


def test_every_recipe_is_run_by_the_client_tests() -> None:
    source = (ROOT / "tests" / "test_clients.py").read_text(encoding="utf-8")
    for path in documents():
        for block in blocks(path):
            if block.mark and block.mark.startswith("recipe: "):
                name = block.mark.removeprefix("recipe: ")
                assert f'recipe("{name}")' in source, f"{block}: no test runs recipe {name}"


def runnable() -> dict[str, str]:
    """Each file's run blocks, joined in order into one script."""
    scripts: dict[str, str] = {}
    for path in documents():
        code = [block.code for block in blocks(path) if block.mark == "run"]
        if code:
            scripts[str(path.relative_to(ROOT))] = "".join(code)
    return scripts


def clone_with_venv(where: Path) -> Path:
    """A copy of the clone, by symbolic links, whose `.venv` is the venv running this test
    (on a fresh clone after the test command, the clone's own)."""
    clone = where / "clone"
    clone.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in (".venv", ".git"):
            (clone / entry.name).symlink_to(entry)
    (clone / ".venv").symlink_to(Path(sys.prefix))
    return clone


@pytest.mark.parametrize("document", sorted(runnable()))
async def test_the_commands_work_as_pasted(document: str, tmp_path: Path) -> None:
    script = runnable()[document]
    # The ports the commands name, each swapped for a free one.
    ports = {int(port) for port in re.findall(r"(?:127\.0\.0\.1:|--port )(\d{4,5})\b", script)}
    swapped = {port: free_port() for port in ports}
    for old, new in swapped.items():
        script = re.sub(rf"\b{old}\b", str(new), script)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OPENAI_", "MESSAGEBOT_", "REDIS_", "VIRTUAL_ENV"))
        and name != "PORT"
    }
    env["PYTHONPATH"] = str(ROOT)  # this tree's messagebot, whichever venv installed one
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-e",
        "-o",
        "pipefail",
        "-c",
        script,
        cwd=clone_with_venv(tmp_path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group: everything it starts, killed below
    )
    printed = bytearray()

    async def finish() -> None:
        # Every process the commands start holds their output open: this returns once the
        # commands have ended and stopped every server they started.
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            printed.extend(chunk)
        await process.wait()

    try:
        await asyncio.wait_for(finish(), DEADLINE_S)
    except TimeoutError:
        pytest.fail(
            f"{document}'s commands did not finish, or left servers running, within "
            f"{DEADLINE_S} s; they printed:\n{printed.decode(errors='replace')}"
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    text = printed.decode(errors="replace")
    assert process.returncode == 0, f"{document}'s commands failed:\n{script}\n---\n{text}"
    for expected in EXPECTED_OUTPUT.get(document, []):
        assert expected in text, f"{document}: no {expected!r} in:\n{text}"
