"""Real WASI programs, compiled by real toolchains, give the same output in the sandbox as in
wasmtime's standard WASI.

The programs of ``tests/wasm_programs`` (C with wasi-libc stdio and POSIX I/O, C++ with libc++
streams, Rust with ``std::fs``; see its README) run twice on each input: in a sandbox served on
127.0.0.1 through the public client (``functions.run``, or ``submit`` + ``wait``), and under wasmtime's
own WASI with a temporary directory preopened as the sandbox does (``.`` on fd 3, ``/`` on fd 4),
``input.txt`` written and ``output.txt`` read back as bytes. The reference run decides what the sandbox
must answer: its ``output.txt`` byte for byte when the program exits 0 with a non-empty UTF-8 output;
a failed execution whose reason carries the exit code and the last stderr line when it exits
non-zero; a failed execution naming UTF-8 when the output is not UTF-8 (the wire carries text).
"""

# ruff: noqa: RUF001  (look-alike characters are the point: the inputs are multi-byte UTF-8 on purpose)

from __future__ import annotations

import random
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from truebit_facade import ExecutionStatus, FunctionResult, TaskFailedError, Truebit, VerificationStatus
from truebit_facade.sandbox import Sandbox, SandboxConfig, default_registry

PROGRAMS = Path(__file__).resolve().parents[1] / "wasm_programs"
NAMESPACE = "7e57c0de"  # tests/wasm_programs/tasks.toml


# -- inputs ------------------------------------------------------------------------------------------

_WORDS = [
    "the",
    "a",
    "of",
    "task",
    "input",
    "output",
    "wasm",
    "node",
    "gas",
    "proof",
    "verify",
    "Truebit",
    "hub",
]
_UNICODE = ["naïve", "Grüße", "straße", "世界", "ǅ", "Σίσυφος", "ﬁ", "🎉", "café", "Ωmega", "ünïcödé"]


def _text(seed: int, size: int, unicode: bool) -> str:
    """Deterministic lines of words, ``size`` characters or a little more, some lines long."""
    rng = random.Random(seed)
    words = _WORDS + _UNICODE if unicode else _WORDS
    lines: list[str] = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(rng.choice((0, 3, 8, 40))))
        lines.append(line + rng.choice(("", ",", ".", "!")))
        total += len(lines[-1]) + 1
    return "\n".join(lines) + "\n"


def _numbers(seed: int, count: int) -> str:
    rng = random.Random(seed)
    return "".join(f"{rng.randint(-(10**6), 10**6)}\n" for _ in range(count))


def _csv(seed: int, rows: int) -> str:
    rng = random.Random(seed)
    body = [
        f"{i},{rng.uniform(0, 500):.2f},{rng.randint(1, 9)},{rng.choice(('n/a', 'ok', '7'))}"
        for i in range(rows)
    ]
    return "id,price,qty,note\n" + "\n".join(body) + "\n"


def _includes(count: int) -> str:
    """Create, fill, include and remove ``count`` files, one at a time (the sandbox allows 16 at once)."""
    lines = []
    for i in range(count):
        lines += [
            f"#write f{i}.txt file {i}",
            f"#append f{i}.txt more {i} é",
            f"line {i}",
            f"#include f{i}.txt",
        ]
        lines.append(f"#remove f{i}.txt")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    program: str
    label: str
    text: str
    known: bytes | None = None  # what output.txt must hold, checked on the reference run too
    marks: tuple[Any, ...] = ()


CASES = [
    Case("c_fibonacci", "ascii", "22", known=b"17711"),
    Case("c_fibonacci", "padded", " 90\n", known=b"2880067194370816120"),
    Case("c_fibonacci", "larger", "20000"),
    Case("c_fibonacci", "empty", ""),
    Case("c_fibonacci", "utf8-not-a-number", "vingt-deux ✓"),
    Case(
        "c_wordcount",
        "ascii",
        "hello world\n  two  words\nno newline",
        known=b"lines 3\nwords 6\nbytes 35\nchars 35\nlongest 12\n",
    ),
    Case(
        "c_wordcount",
        "utf8",
        "Grüße, 世界! 🎉\nnaïve café\n",
        known=b"lines 2\nwords 5\nbytes 35\nchars 24\nlongest 12\n",
    ),
    Case("c_wordcount", "blank", " \n"),
    Case("c_wordcount", "larger", _text(1, 100_000, unicode=True)),
    Case("c_posix_reverse", "ascii", "Hello, world!\n", known=b"\n!dlrow ,olleH"),
    Case("c_posix_reverse", "blank", " "),
    Case("c_posix_reverse", "empty", ""),
    Case("c_posix_reverse", "larger", _text(2, 60_000, unicode=False)),
    Case(
        "c_posix_journal",
        "ascii",
        "a\nb\n\nc",
        known=b"lines=00000004 bytes=00000006\n   1| a\n   2| b\n   3| \n   4| ccrc32=8a3607cb size=60\n",
    ),
    Case("c_posix_journal", "utf8", "héllo\n世界 🎉\nΣίσυφος\n"),
    Case("c_posix_journal", "newlines", "\n\n\n"),
    Case("c_posix_journal", "larger", _text(3, 40_000, unicode=True)),
    Case("c_paths", "ascii", "input.txt\n./input.txt\n/input.txt\nmissing.txt\n"),
    Case("c_paths", "utf8", "données.txt\ninput.txt\n/über/ß.txt\n"),
    Case("c_paths", "escapes", "../input.txt\nsub/x.txt\n/../input.txt\ninput.txt\n"),
    Case("c_paths", "trailing-slash", "input.txt/\ninput.txt\n"),
    Case("c_paths", "all-missing", "missing.txt\nnope/deeper.txt\n"),
    Case("c_paths", "larger", "".join("input.txt\n" if i % 3 else f"gone-{i}.txt\n" for i in range(600))),
    Case("c_controls", "small", "40"),
    Case("c_controls", "not-a-count", "many"),
    Case("c_controls", "larger", "100000"),
    Case("c_validate", "ascii", "1\n2\n3\n", known=b"1\n3\n6\nsum 6 of 3 numbers\n"),
    Case("c_validate", "bad-line", "10\n-4\nseven\n5\n"),
    Case("c_validate", "utf8-bad-line", "1\n２\n"),
    Case("c_validate", "empty", ""),
    Case("c_validate", "larger", _numbers(4, 3000)),
    Case(
        "cpp_wordfreq",
        "ascii",
        "The the THE a, b! (a) b b.",
        known=b"8 words, 3 distinct\n     3 b\n     3 the\n     2 a\n",
    ),
    Case("cpp_wordfreq", "utf8", "Ça va? ça VA! naïve naïve café «café»"),
    Case("cpp_wordfreq", "blank", "   \n\t "),
    Case("cpp_wordfreq", "larger", _text(5, 100_000, unicode=True)),
    Case("cpp_csvsum", "ascii", "a,b,c\n1,2,3\n4.5,x,6\n,,\n", known=None),
    Case("cpp_csvsum", "utf8", "prix €,quantité\n3.5,2\n1e3,−1\n"),
    Case("cpp_csvsum", "header-only", "h\n"),
    Case("cpp_csvsum", "larger", _csv(6, 2000)),
    Case("rust_textstats", "ascii", "Hello world\nhello again\n"),
    Case("rust_textstats", "utf8", "straße ǅ ﬁ\nΣίσυφος 🎉 naïve\n"),
    Case("rust_textstats", "newline", "\n"),
    Case("rust_textstats", "larger", _text(7, 60_000, unicode=True)),
    Case(
        "rust_include",
        "ascii",
        "#write a.txt hi\n#append a.txt there\nbefore\n#include a.txt\nafter\n",
        known=b"before\nhi\nthere\nafter\n-- 3 directives\n",
    ),
    Case("rust_include", "utf8", "#write é.txt ünïcödé 世界\n#include é.txt\n#include input.txt\n"),
    Case("rust_include", "missing", "start\n#include missing.txt\n"),
    Case("rust_include", "removed", "#write t.txt x\n#remove t.txt\n#include t.txt\n"),
    Case("rust_include", "larger", _includes(300)),
]

#: Byte reversal of multi-byte UTF-8: output.txt is not UTF-8.
NON_UTF8 = [("utf8", "héllo wörld — ✓\n"), ("cjk", "日本語のテキスト"), ("emoji", "🎉 party")]


# -- the reference: wasmtime's standard WASI ---------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    exit_code: int
    output: bytes | None  # None: no output.txt
    stderr: bytes

    @property
    def last_stderr_line(self) -> str:
        lines = [line.strip() for line in self.stderr.decode("utf-8", errors="replace").splitlines()]
        return next((line for line in reversed(lines) if line), "")


class ReferenceRunner:
    """wasmtime's standard WASI: each program compiled once; ``close`` frees them while wasmtime is
    whole (left to the garbage collector at exit, their finalizers fail)."""

    def __init__(self) -> None:
        from wasmtime import Config, Engine

        config = Config()
        config.cranelift_opt_level = "none"  # compiles twice as fast; what a program does is the same
        self._engine = Engine(config)
        self._modules: dict[str, Any] = {}

    def close(self) -> None:
        for module in self._modules.values():
            module.close()
        self._engine.close()

    def run(self, program: str, data: bytes) -> Reference:
        """Run ``program`` with a real directory preopened as ``.`` and ``/``, holding ``input.txt``."""
        from wasmtime import ExitTrap, Func, Linker, Module, Store, WasiConfig

        module = self._modules.get(program)
        if module is None:
            module = self._modules[program] = Module(
                self._engine, (PROGRAMS / f"{program}.wasm").read_bytes()
            )
        with tempfile.TemporaryDirectory(prefix="wasi-ref-") as tmp:
            task_dir = Path(tmp) / "task"
            task_dir.mkdir()
            (task_dir / "input.txt").write_bytes(data)
            wasi = WasiConfig()
            wasi.argv = ["task.wasm"]
            wasi.preopen_dir(str(task_dir), ".")
            wasi.preopen_dir(str(task_dir), "/")
            wasi.stderr_file = str(Path(tmp) / "stderr")
            wasi.stdout_file = str(Path(tmp) / "stdout")
            linker = Linker(self._engine)
            linker.define_wasi()
            store = Store(self._engine)
            store.set_wasi(wasi)
            code = 0
            start = linker.instantiate(store, module).exports(store)["_start"]
            assert isinstance(start, Func)
            try:
                start(store)
            except ExitTrap as exc:
                code = exc.code
            finally:
                linker.close()
            output_path = task_dir / "output.txt"
            output = output_path.read_bytes() if output_path.exists() else None
            return Reference(code, output, (Path(tmp) / "stderr").read_bytes())


@pytest.fixture(scope="module")
def reference() -> Iterator[ReferenceRunner]:
    runner = ReferenceRunner()
    yield runner
    runner.close()


# -- the sandbox, through the public client ----------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    registry = default_registry()
    registry.load_tasks_file(PROGRAMS / "tasks.toml")
    with Sandbox(SandboxConfig(hold_seconds=10.0), registry) as sb:
        yield sb


@pytest.fixture(scope="module")
def tb(sandbox: Sandbox) -> Iterator[Truebit]:
    with Truebit(api_key=sandbox.api_key, base_url=sandbox.url, wait_timeout=30.0) as client:
        yield client


def run_in_sandbox(tb: Truebit, program: str, text: str, via_submit: bool) -> Any:
    """The verified result (``run``, or ``submit`` then ``wait`` on two nodes); raises ``TaskFailedError``."""
    if via_submit:
        execution = tb.functions.submit(NAMESPACE, program, text, total_solutions=2)
        return tb.functions.wait(execution.execution_id)
    return tb.functions.run(NAMESPACE, program, text)


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("case", "via_submit"),
    [pytest.param(c, i % 2 == 1, id=f"{c.program}-{c.label}", marks=c.marks) for i, c in enumerate(CASES)],
)
def test_real_program_matches_standard_wasi(
    tb: Truebit, reference: ReferenceRunner, case: Case, via_submit: bool
) -> None:
    ref = reference.run(case.program, case.text.encode("utf-8"))
    if case.known is not None:  # the reference itself is right, so a shared mistake cannot pass
        assert (ref.exit_code, ref.output) == (0, case.known)
    if ref.exit_code == 0 and ref.output:
        assert _utf8(ref.output), "a non-UTF-8 output belongs in test_non_utf8_output_fails_naming_utf8"
        result = run_in_sandbox(tb, case.program, case.text, via_submit)
        assert result.verification is VerificationStatus.SUCCESS
        assert result.execution_status is ExecutionStatus.SUCCEED
        assert result.output is not None
        assert result.output.encode("utf-8") == ref.output
        return
    with pytest.raises(TaskFailedError) as failed:
        run_in_sandbox(tb, case.program, case.text, via_submit)
    result = failed.value.result
    assert isinstance(result, FunctionResult)
    assert failed.value.execution_id == result.execution_id is not None
    assert result.execution_status is ExecutionStatus.FAILED
    reason = result.output or ""
    if ref.exit_code != 0:
        assert reason.startswith(f"exited with code {ref.exit_code}"), reason
        assert ref.last_stderr_line, "a program exiting non-zero here always says why"
        assert ref.last_stderr_line in reason
        if ref.output:  # output.txt written before the failure never comes back as the output
            assert ref.output.decode("utf-8", errors="replace") not in reason
    else:
        assert reason.startswith("empty output"), reason


@pytest.mark.parametrize(("label", "text"), NON_UTF8, ids=[label for label, _ in NON_UTF8])
def test_non_utf8_output_fails_naming_utf8(
    tb: Truebit, reference: ReferenceRunner, label: str, text: str
) -> None:
    ref = reference.run("c_posix_reverse", text.encode("utf-8"))
    assert ref.exit_code == 0 and ref.output == text.encode("utf-8")[::-1]
    assert not _utf8(ref.output)
    with pytest.raises(TaskFailedError) as failed:
        tb.functions.run(NAMESPACE, "c_posix_reverse", text)
    result = failed.value.result
    assert isinstance(result, FunctionResult)
    assert result.execution_status is ExecutionStatus.FAILED
    assert "UTF-8" in (result.output or "")
    assert "\ufffd" not in (result.output or "")


def test_stderr_and_exit_code_make_the_reason(tb: Truebit, reference: ReferenceRunner) -> None:
    """A program that wrote part of output.txt, then its progress and an error to stderr, and exited 3."""
    text = "10\n-4\nseven\n5\n"
    ref = reference.run("c_validate", text.encode())
    assert (ref.exit_code, ref.output) == (3, b"10\n6\n")
    assert ref.stderr.decode().splitlines() == [
        "validate: 2 numbers read, sum so far 6",
        'validate: line 3: not an integer: "seven"',
    ]
    with pytest.raises(TaskFailedError) as failed:
        tb.functions.run(NAMESPACE, "c_validate", text)
    assert failed.value.result.output == 'exited with code 3: validate: line 3: not an integer: "seven"'


def test_every_program_is_compared() -> None:
    """Each built program has a task entry and inputs here, so none is left untested."""
    built = {p.stem for p in PROGRAMS.glob("*.wasm")}
    sources = {p.stem for p in (PROGRAMS / "src").iterdir()}
    registered = {t["name"] for t in tomllib.loads((PROGRAMS / "tasks.toml").read_text())["task"]}
    assert built == sources == registered == {c.program for c in CASES}
