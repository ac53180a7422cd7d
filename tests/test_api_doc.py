"""docs/api.md's endpoints table names every route the app serves, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from messagebot import create_app
from messagebot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
# Methods every route gets from the framework, not from us.
IMPLIED = {"HEAD", "OPTIONS"}


def documented_endpoints() -> set[tuple[str, str]]:
    """Each `METHOD /path` in the first column of the table under "## Endpoints"; a
    variable part of a path is written `…`."""
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = api.split("\n## Endpoints\n", 1)[1].split("\n## ", 1)[0]
    cells = re.findall(r"^\| ([^|]+) \|", section, re.M)
    return {
        (method, path)
        for cell in cells
        for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`]*)`", cell)
    }


def test_the_endpoints_table_is_the_apps_routes() -> None:
    app = create_app(Settings(provider="openai", openai_base_url="http://127.0.0.1:9/v1"))
    served = {
        (method, re.sub(r"<[^>]+>", "…", rule.rule))
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IMPLIED
    }
    assert documented_endpoints() == served
