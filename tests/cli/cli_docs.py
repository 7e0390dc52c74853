"""docs/cli.md read by the tests that hold it to what the command does."""

from __future__ import annotations

import re
from pathlib import Path

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


def section(title: str) -> str:
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def documented_exit_codes() -> dict[int, str]:
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section("Exit codes"), re.MULTILINE)
    return {int(code): text for code, text in rows}


def pattern(line: str) -> re.Pattern[str]:
    """A documented line as a pattern: ``5703...`` is any execution id, a number any number."""
    parts = re.split(r"(\w+\.\.\.|\d+(?:\.\d+)?)", line)
    return re.compile(
        "".join(
            r"[0-9a-f]+"
            if p.endswith("...")
            else r"\d+(?:\.\d+)?"
            if re.fullmatch(r"[\d.]+", p)
            else re.escape(p)
            for p in parts
        )
    )
