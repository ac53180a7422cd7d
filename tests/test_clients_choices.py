"""docs/clients.md's recipes with `n` = 3 (issue 25): each message under its index, and one
that fails mid-way ending only itself. Run as test_clients.py runs them (Chromium, Python)."""

from __future__ import annotations

import re
import sys

from playwright.async_api import Browser

from .client_support import fill, open_page, recipe, run_module, with_reason
from .helpers import Server
from .test_clients import KEY, api, origin, run_process  # noqa: F401 (fixtures)

ONE_FAILS = "[[fake chunks=6 delay=0.02 faulty=1 error_after=2 tag={tag}]]"


async def test_browser_recipe_with_n_gives_each_index_its_ending(
    api: Server,  # noqa: F811
    origin: str,  # noqa: F811
    browser: Browser,
) -> None:
    page, errors = await open_page(browser, origin)
    code = fill(
        recipe("browser-fetch"), api.url, KEY, **{"max_length: 120 }": "max_length: 120, n: 3 }"}
    )
    code = with_reason(code, "birthday", ONE_FAILS.format(tag="recipe-n-js"))
    result = await run_module(page, code)
    assert result["ok"], result
    ended = result["done"]
    assert [e["index"] for e in ended] == [0, 1, 2]
    failed = [e for e in ended if "code" in e]
    assert len(failed) == 1 and failed[0]["code"] == "upstream_error"
    written = [e["message"] for e in ended if "code" not in e]
    assert len(set(written)) == 2
    for message in written:  # what was shown holds every written message's text
        assert message.split()[0] in result["shown"]
    assert errors == []


async def test_python_recipe_with_n_prints_each_numbered(api: Server) -> None:  # noqa: F811
    code = fill(
        recipe("python"), api.url, KEY, **{'"max_length": 120}': '"max_length": 120, "n": 3}'}
    )
    code = with_reason(code, "birthday", ONE_FAILS.format(tag="recipe-n-py"))
    status, out, err = await run_process(sys.executable, "-c", code)
    assert status == 0, err
    numbered = dict(re.findall(r"(?m)^([1-3])\. (.*)$", out))
    assert sorted(numbered) == ["1", "2", "3"], out
    assert sum(text.startswith("failed: upstream_error") for text in numbered.values()) == 1
