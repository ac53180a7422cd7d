"""The README's configuration table lists every variable the settings object reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    source = (ROOT / "messagebot" / "config.py").read_text()
    read = set(re.findall(r'"((?:MESSAGEBOT|OPENAI|REDIS)_[A-Z_]+|PORT)"', source))
    assert len(read) >= 15
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    assert read <= documented, read - documented
