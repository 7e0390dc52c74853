"""Build the real WASI programs of tests/wasm_programs/ (``make wasm``), deterministically.

Every source in ``tests/wasm_programs/src/`` (``*.c``, ``*.cpp``, ``*.rs``) becomes
``tests/wasm_programs/<stem>.wasm``, compiled the way Truebit's build scripts compile a task (wasi-libc
clang with a 1 MiB stack placed first; C++ against libc++ without exceptions; Rust's ``wasm32-wasi``
std), with ``-O2``, no debug information, symbols stripped and the source directory mapped to ``.``:
the same toolchain gives the same bytes on any machine, in any directory. The toolchain's versions are
recorded in ``tests/wasm_programs/toolchain.txt``; a different compiler version legitimately gives other
bytes, so ``--check`` only compares when the versions match.

    python scripts/build_wasm.py                 # rebuild the checked-in .wasm files and README's table
    python scripts/build_wasm.py --out DIR       # build into DIR instead
    python scripts/build_wasm.py --check         # rebuild in a temporary directory and compare
    python scripts/build_wasm.py --features      # which WebAssembly proposals each .wasm needs

Environment: ``CLANG`` / ``CLANGXX`` / ``RUSTC`` name the compilers (default: ``clang``, ``clang++``,
and the first of ``/usr/bin/rustc`` and ``rustc`` that has a wasm32 WASI std); ``WASI_SYSROOT`` a
wasi-libc sysroot (default: ``/usr/share/wasi-sysroot`` if it exists, else Debian's multiarch layout,
which Debian's clang finds by itself).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "wasm_programs"
SOURCES = PROGRAMS / "src"
TOOLCHAIN_FILE = PROGRAMS / "toolchain.txt"
README = PROGRAMS / "README.md"
TABLE_BEGIN = "<!-- features: begin (written by scripts/build_wasm.py) -->\n"
TABLE_END = "<!-- features: end -->\n"

#: Truebit's compile scripts link with the stack first and a 1 MiB stack.
LINK = ["-Wl,--stack-first,-zstack-size=1048576", "-Wl,--strip-all"]
C_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror"]
CXX_FLAGS = ["-O2", "-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "-Werror"]
RUST_FLAGS = ["--edition", "2021", "-C", "opt-level=2", "-C", "codegen-units=1", "-C", "strip=symbols"]
RUST_TARGETS = ("wasm32-wasi", "wasm32-wasip1")
SUFFIXES = (".c", ".cpp", ".rs")


class ToolchainMissing(Exception):
    """A compiler or a wasm32 library is not installed; the message says which."""


@dataclass(frozen=True)
class Toolchain:
    clang: str
    clangxx: str
    rustc: str
    rust_target: str
    sysroot: str | None

    def versions(self) -> str:
        """The lines of toolchain.txt: what decides the bytes."""
        clang = _first_line([self.clang, "--version"])
        rustc = _first_line([self.rustc, "--version"])
        return f"clang: {clang}\nrustc: {rustc}\nrust target: {self.rust_target}\n"

    def command(self, source: Path, output: Path) -> list[str]:
        """The compile command of ``source`` (run in its directory, given by name)."""
        prefix = f"-ffile-prefix-map={source.parent}=."
        sysroot = [f"--sysroot={self.sysroot}"] if self.sysroot else []
        if source.suffix == ".c":
            return [
                self.clang,
                "--target=wasm32-wasi",
                *sysroot,
                *C_FLAGS,
                prefix,
                *LINK,
                "-o",
                str(output),
                source.name,
            ]
        if source.suffix == ".cpp":
            flags = [*CXX_FLAGS, prefix, *LINK]
            return [
                self.clangxx,
                "--target=wasm32-wasi",
                *sysroot,
                *flags,
                "-o",
                str(output),
                source.name,
                "-lc++",
                "-lc++abi",
            ]
        remap = f"--remap-path-prefix={source.parent}=."
        return [self.rustc, "--target", self.rust_target, *RUST_FLAGS, remap, "-o", str(output), source.name]


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainMissing(f"{command[0]} does not run: {exc}") from None
    return done.stdout.splitlines()[0].strip() if done.stdout else ""


def _rust_target(rustc: str) -> str | None:
    """The wasm32 WASI target whose std ``rustc`` has, if any."""
    try:
        sysroot = subprocess.run(
            [rustc, "--print", "sysroot"], capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    for target in RUST_TARGETS:
        if (Path(sysroot) / "lib" / "rustlib" / target / "lib").is_dir():
            return target
    return None


def find_toolchain() -> Toolchain:
    """The compilers to use, or :class:`ToolchainMissing` saying what to install."""
    clang = os.environ.get("CLANG", "clang")
    clangxx = os.environ.get("CLANGXX", "clang++")
    for tool in (clang, clangxx, "wasm-ld"):
        if shutil.which(tool) is None:
            raise ToolchainMissing(f"{tool} not found (apt-get install clang lld)")
    sysroot = os.environ.get("WASI_SYSROOT") or (
        "/usr/share/wasi-sysroot" if Path("/usr/share/wasi-sysroot").is_dir() else None
    )
    libdir = Path(sysroot) / "lib" / "wasm32-wasi" if sysroot else Path("/usr/lib/wasm32-wasi")
    for lib, package in (
        ("libc.a", "wasi-libc"),
        ("libc++.a", "libc++-14-dev-wasm32"),
        ("libc++abi.a", "libc++abi-14-dev-wasm32"),
    ):
        if not (libdir / lib).is_file():
            raise ToolchainMissing(f"{libdir / lib} not found (apt-get install {package})")
    candidates = [os.environ["RUSTC"]] if os.environ.get("RUSTC") else ["/usr/bin/rustc", "rustc"]
    for rustc in candidates:
        target = _rust_target(rustc)
        if target is not None:
            return Toolchain(clang, clangxx, rustc, target, sysroot)
    raise ToolchainMissing(
        f"no rustc with a wasm32 WASI std among {candidates} (apt-get install rustc libstd-rust-dev-wasm32)"
    )


def sources() -> list[Path]:
    return sorted(p for p in SOURCES.iterdir() if p.suffix in SUFFIXES)


def build(toolchain: Toolchain, out_dir: Path) -> list[Path]:
    """Compile every source into ``out_dir``; returns the .wasm paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for source in sources():
        output = (out_dir / f"{source.stem}.wasm").resolve()
        with tempfile.TemporaryDirectory(prefix="build-wasm-") as scratch:
            # rustc writes temporary objects beside its output: keep them out of out_dir
            env = {**os.environ, "TMPDIR": scratch, "SOURCE_DATE_EPOCH": "0"}
            done = subprocess.run(
                toolchain.command(source, output),
                cwd=source.parent,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        if done.returncode != 0:
            sys.exit(f"build_wasm: {source.name} failed:\n{done.stdout}{done.stderr}")
        built.append(output)
    return built


def check(toolchain: Toolchain) -> list[str]:
    """Rebuild into a temporary directory; the names of checked-in files that differ (or are missing)."""
    recorded = TOOLCHAIN_FILE.read_text() if TOOLCHAIN_FILE.exists() else ""
    if recorded != toolchain.versions():
        raise ToolchainMissing(
            f"the toolchain is not the one the .wasm files were built with:\n{toolchain.versions()}"
            f"recorded:\n{recorded}"
        )
    with tempfile.TemporaryDirectory(prefix="wasm-check-") as tmp:
        fresh = build(toolchain, Path(tmp))
        stale = [
            p.name
            for p in fresh
            if not (PROGRAMS / p.name).is_file() or (PROGRAMS / p.name).read_bytes() != p.read_bytes()
        ]
    expected = {p.name for p in fresh}
    stale += sorted(p.name for p in PROGRAMS.glob("*.wasm") if p.name not in expected)  # a source removed
    return stale


# -- which WebAssembly proposals a module needs --------------------------------------------------

#: Proposals wasmtime can switch off, by Config property. Reference types stays on in this check:
#: in wasmtime-py 50, an Engine whose Config switches reference types off aborts the process (the
#: component-model-async default needs it, and Config has no property for that); wabt decides it.
WASMTIME_PROPOSALS = {
    "bulk-memory": "wasm_bulk_memory",
    "multi-value": "wasm_multi_value",
    "simd": "wasm_simd",
    "relaxed-simd": "wasm_relaxed_simd",
    "threads": "wasm_threads",
    "multi-memory": "wasm_multi_memory",
    "memory64": "wasm_memory64",
    "tail-call": "wasm_tail_call",
    "exceptions": "wasm_exceptions",
    "function-references": "wasm_function_references",
    "gc": "wasm_gc",
    "wide-arithmetic": "wasm_wide_arithmetic",
    "custom-page-sizes": "wasm_custom_page_sizes",
    "stack-switching": "wasm_stack_switching",
}
#: Proposals on by default in wabt's wasm-validate, each checked by validating with it switched off
#: (wasmtime cannot switch off sign extension, saturating float-to-int or mutable globals).
WABT_PROPOSALS = (
    "sign-extension",
    "saturating-float-to-int",
    "mutable-globals",
    "multi-value",
    "bulk-memory",
    "reference-types",
    "simd",
)


def _wasmtime_needs(wasm: bytes) -> set[str]:
    from wasmtime import Config, Engine, Module, WasmtimeError

    def validates(off: set[str]) -> bool:
        config = Config()
        config.wasm_component_model = False
        for name in off:
            setattr(config, WASMTIME_PROPOSALS[name], False)
        try:
            Module.validate(Engine(config), wasm)
        except WasmtimeError:
            return False
        return True

    if validates(set(WASMTIME_PROPOSALS)):  # the usual case: one engine
        return set()
    # Each proposal off with those that need it (an Engine whose Config breaks a dependency aborts
    # the process): needed when the module then fails to validate.
    dependants = {"simd": {"relaxed-simd"}, "function-references": {"gc"}}
    always_off = {"gc", "stack-switching"}
    return {n for n in WASMTIME_PROPOSALS if not validates({n, *dependants.get(n, set()), *always_off})}


def _wabt_needs(path: Path) -> set[str] | None:
    if shutil.which("wasm-validate") is None:
        return None

    def validates(off: tuple[str, ...]) -> bool:
        command = ["wasm-validate", *(f"--disable-{name}" for name in off), str(path)]
        return subprocess.run(command, capture_output=True, timeout=60).returncode == 0

    if validates(WABT_PROPOSALS):  # the usual case: one run
        return set()
    return {name for name in WABT_PROPOSALS if not validates((name,))}


def _leb(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i += 1
        shift += 7
        if byte < 0x80:
            return value, i


def _name(data: bytes, i: int) -> tuple[str, int]:
    size, i = _leb(data, i)
    return data[i : i + size].decode("utf-8", errors="replace"), i + size


def _limits(data: bytes, i: int) -> tuple[tuple[int, int | None], int]:
    flags, i = _leb(data, i)
    low, i = _leb(data, i)
    high = None
    if flags & 1:
        high, i = _leb(data, i)
    return (low, high), i


def shape(wasm: bytes) -> dict[str, Any]:
    """A module's own memories and tables (limits in 64 KiB pages and elements) and its imported
    functions, read from its sections (no compilation)."""
    i = 8
    memories: list[tuple[int, int | None]] = []
    tables: list[tuple[int, int | None]] = []
    imports: list[str] = []
    while i < len(wasm):
        section = wasm[i]
        size, i = _leb(wasm, i + 1)
        j, i = i, i + size
        if section not in (2, 4, 5):
            continue
        count, j = _leb(wasm, j)
        for _ in range(count):
            if section == 2:
                module, j = _name(wasm, j)
                field, j = _name(wasm, j)
                kind, j = wasm[j], j + 1
                if kind == 0:  # function: a type index
                    _, j = _leb(wasm, j)
                    imports.append(f"{module}.{field}")
                elif kind in (1, 2):  # table (element type first) or memory: limits
                    _, j = _limits(wasm, j + (kind == 1))
                    imports.append(f"{module}.{field}")
                else:  # global: value type and mutability
                    j += 2
                    imports.append(f"{module}.{field}")
            else:
                if section == 4:
                    j += 1  # element type
                limits, j = _limits(wasm, j)
                (tables if section == 4 else memories).append(limits)
    return {"imports": imports, "memories": memories, "tables": tables}


def features(path: Path) -> dict[str, Any]:
    """What ``path`` needs: proposals (by wasmtime and, when installed, wabt) and its shape."""
    wasm = path.read_bytes()
    wabt = _wabt_needs(path)
    needs = _wasmtime_needs(wasm) | (wabt or set())
    return {"needs": sorted(needs), "wabt_checked": wabt is not None, **shape(wasm)}


def table(paths: list[Path]) -> str:
    """The feature table of README.md (Markdown)."""
    rows = [
        "| module | bytes | proposals needed | memories (pages) | tables (elements) | imports |",
        "| --- | ---: | --- | --- | --- | ---: |",
    ]
    for path in paths:
        f = features(path)
        needs = ", ".join(f["needs"]) or "none (WebAssembly 1.0)"
        if not f["wabt_checked"]:
            needs += " (wabt not installed: sign-extension, saturating float-to-int, mutable globals, reference types unchecked)"
        memories = ", ".join(f"{lo}" + (f"..{hi}" if hi is not None else "") for lo, hi in f["memories"])
        tables = ", ".join(f"{lo}" + (f"..{hi}" if hi is not None else "") for lo, hi in f["tables"])
        rows.append(
            f"| {path.name} | {path.stat().st_size} | {needs} | {memories} | {tables} | {len(f['imports'])} |"
        )
    return (
        "\n".join(rows)
        + "\n\nWASI functions imported (all modules): "
        + ", ".join(wasi_imports(paths))
        + "\n"
    )


def wasi_imports(paths: list[Path]) -> list[str]:
    """The functions the modules import (all from ``wasi_snapshot_preview1``), all together."""
    names = {name for p in paths for name in shape(p.read_bytes())["imports"]}
    return sorted(name.removeprefix("wasi_snapshot_preview1.") for name in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="build into this directory (default: tests/wasm_programs)")
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary directory and compare")
    parser.add_argument("--features", action="store_true", help="print the proposals each .wasm needs")
    args = parser.parse_args(argv)
    if args.features:
        print(table(sorted(PROGRAMS.glob("*.wasm"))))
        return 0
    try:
        toolchain = find_toolchain()
        if args.check:
            stale = check(toolchain)
            for name in stale:
                print(f"build_wasm: {name} does not match its source (run make wasm)")
            return 1 if stale else 0
    except ToolchainMissing as exc:
        print(f"build_wasm: {exc}", file=sys.stderr)
        return 2
    out = args.out or PROGRAMS
    for path in build(toolchain, out):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size} bytes")
    if args.out is None:
        TOOLCHAIN_FILE.write_text(toolchain.versions())
        write_readme_table()
    return 0


def write_readme_table() -> None:
    """Replace the feature table of README.md with the current one."""
    text = README.read_text()
    head, _, rest = text.partition(TABLE_BEGIN)
    _, _, tail = rest.partition(TABLE_END)
    README.write_text(head + TABLE_BEGIN + table(sorted(PROGRAMS.glob("*.wasm"))) + TABLE_END + tail)


if __name__ == "__main__":
    sys.exit(main())
