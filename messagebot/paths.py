"""Where the data folders (prompts/, templates/, static/) are: in the repo, or inside a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    # A wheel force-includes them into the package; a checkout or editable install keeps them
    # at the top of the repo, where people edit them.
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is missing from the installation")
