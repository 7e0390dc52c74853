"""The Python snippets of the README and docs/ are code that runs: each is type-checked with
``mypy --strict`` and run against a sandbox on 127.0.0.1, so none can drift from the package.

A snippet says how it is checked in an HTML comment on the line before its fence (no comment: a
script): ``<!-- snippet: script -->`` runs as a program with ``TRUEBIT_BASE_URL``/``TRUEBIT_API_KEY``
set; ``<!-- snippet: pytest -->`` is a test module run by pytest with the package's plugin;
``<!-- snippet: with tb -->`` continues a session that has a client ``tb``, a namespace ``ns`` and a
``secret``; ``<!-- snippet: types only: WHY -->`` and ``<!-- snippet: not run: WHY -->`` say why it
cannot run here (type-checked, or not even that). ``; replace A B`` shrinks a snippet for the suite
(a count, a duration) without changing what it does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- snippet: (?P<how>[^>]*?) -->\n)?```python\n(?P<code>.*?)```", re.S)
MODES = ("script", "pytest", "with tb", "types only", "not run")
PRELUDE = 'from truebit_facade import Truebit\ntb = Truebit()\nns = "3a2b5129"\nsecret = "example-secret"\n'


@dataclass(frozen=True)
class Snippet:
    where: str  # file:line of the fence
    mode: str
    reason: str
    code: str

    @property
    def name(self) -> str:
        return "snippet_" + re.sub(r"\W", "_", self.where)


def _snippets() -> list[Snippet]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[: match.start("code")].count("\n")
            how, code = (match["how"] or "script").split(";"), match["code"]
            mode, _, reason = how[0].strip().partition(":")
            assert mode in MODES, f"{doc.name}:{line}: unknown snippet mode {mode!r}"
            for option in how[1:]:
                verb, old, new = option.split()
                assert verb == "replace" and old in code, f"{doc.name}:{line}: bad option {option!r}"
                code = code.replace(old, new)
            if mode == "with tb":
                code = PRELUDE + code
            found.append(Snippet(f"{doc.relative_to(ROOT)}:{line}", mode, reason.strip(), code))
    return found


SNIPPETS = _snippets()
RUN = [s for s in SNIPPETS if s.mode in ("script", "pytest", "with tb")]


def test_every_snippet_is_checked_or_says_why_not() -> None:
    assert len(RUN) >= 15, [s.where for s in RUN]
    for snippet in SNIPPETS:
        if snippet.mode in ("types only", "not run"):
            assert len(snippet.reason.split()) >= 3, f"{snippet.where}: say why it is {snippet.mode}"


def test_the_snippets_pass_mypy_strict(tmp_path: Path) -> None:
    for snippet in SNIPPETS:
        if snippet.mode != "not run":
            (tmp_path / f"{snippet.name}.py").write_text(snippet.code, encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture(scope="module")
def sandbox_env() -> Iterator[dict[str, str]]:
    from truebit_facade.sandbox import ExampleTarget, Sandbox, SandboxConfig, example_registry

    with (
        ExampleTarget() as target,
        Sandbox(SandboxConfig(hold_seconds=2), example_registry(target.url)) as sb,
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRUEBIT_")}
        yield {**env, "TRUEBIT_BASE_URL": sb.url, "TRUEBIT_API_KEY": sb.api_key}


@pytest.mark.parametrize("snippet", RUN, ids=[s.where for s in RUN])
def test_the_snippet_runs(snippet: Snippet, sandbox_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / (f"test_{snippet.name}.py" if snippet.mode == "pytest" else f"{snippet.name}.py")
    path.write_text(snippet.code, encoding="utf-8")
    if snippet.mode == "pytest":
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::ResourceWarning",
                   path.name]  # fmt: skip
    else:
        command = [sys.executable, "-W", "error::ResourceWarning", path.name]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=180, cwd=tmp_path, env=sandbox_env, check=False
    )
    assert done.returncode == 0, f"{snippet.where}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_the_process_pool_example_runs_under_every_start_method(
    method: str, sandbox_env: dict[str, str]
) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "process_pool.py"), method],
        capture_output=True, text=True, timeout=180, cwd=ROOT, env=sandbox_env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{method}: 30 runs, fib(29) = 514229", done.stdout
