"""The Python snippets of README.md and docs/*.md type-check under ``mypy --strict`` as written, each
one alone (a newcomer copies one block into a file). A snippet that cannot stand alone (a fragment
that uses a client made in an earlier block, say) is marked in the markdown, on the line just above
its fence, with the reason::

    <!-- not type-checked: a fragment: tb is the client of the example above -->

and a marked snippet must really fail (a stale mark is an error too), so the marks stay honest.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?:python|py)[ \t]*\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)
MARK = re.compile(r"<!--\s*not type-checked:\s*(?P<why>.*?)\s*-->\s*\Z", re.DOTALL)
ERROR = re.compile(r"^(?P<file>snippet_\d+\.py):(?P<line>\d+): error: (?P<text>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Snippet:
    doc: Path
    line: int  # of the first line of code in the markdown
    code: str
    skip: str | None  # the reason given in the mark, if marked

    def where(self, line: int = 1) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line + line - 1}"


def snippets() -> list[Snippet]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()]
            last_line = before.rstrip("\n").rsplit("\n", 1)[-1]
            mark = MARK.search(last_line)
            line = before.count("\n") + 2
            found.append(Snippet(doc, line, match["code"], None if mark is None else mark["why"]))
    return found


def test_the_docs_have_python_snippets_to_check() -> None:
    found = snippets()
    assert any(s.doc.name == "README.md" and "tb.functions.run" in s.code for s in found)
    assert len([s for s in found if s.skip is None]) >= 10


def test_every_mark_gives_its_reason() -> None:
    assert [s.where() for s in snippets() if s.skip is not None and len(s.skip) < 10] == []


def test_the_snippets_pass_mypy_strict(tmp_path: Path) -> None:
    found = snippets()
    files = []
    errors: dict[int, list[str]] = {}
    for i, snippet in enumerate(found):
        try:
            ast.parse(snippet.code)
        except SyntaxError as exc:  # mypy would stop at it and check nothing else
            errors[i] = [f"{snippet.where(exc.lineno or 1)}: not Python: {exc.msg}"]
            continue
        name = f"snippet_{i}.py"
        (tmp_path / name).write_text(snippet.code, encoding="utf-8")
        files.append(name)
    # Run where no project configuration applies: only --strict, as a user's own project would.
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes"]
    proc = subprocess.run(
        [*mypy, "--cache-dir", str(tmp_path / ".mypy_cache"), *files],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    for error in ERROR.finditer(proc.stdout):
        index = int(error["file"].removeprefix("snippet_").removesuffix(".py"))
        errors.setdefault(index, []).append(f"{found[index].where(int(error['line']))}: {error['text']}")
    assert proc.returncode in (0, 1) and (proc.returncode == 1) == bool(ERROR.search(proc.stdout)), (
        proc.stdout + proc.stderr
    )
    failing = [line for i, lines in sorted(errors.items()) if found[i].skip is None for line in lines]
    stale = [s.where() for i, s in enumerate(found) if s.skip is not None and i not in errors]
    assert failing == [], "snippets that fail mypy --strict (fix them, or mark them with the reason):\n" + (
        "\n".join(failing)
    )
    assert stale == [], f"marked as not type-checked, but they pass: remove the marks at {stale}"


@pytest.mark.parametrize("doc", ["README.md"])
def test_the_quickstart_is_checked_not_marked(doc: str) -> None:
    quickstart = next(s for s in snippets() if s.doc.name == doc)
    assert quickstart.skip is None and "r.solution.sender_address" in quickstart.code
