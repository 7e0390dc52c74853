"""The checked-in programs of tests/wasm_programs are what their sources build to, and their README's
feature table is current. The rebuild needs the toolchain (clang, lld, wasi-libc, libc++, rustc with
the wasm32-wasi std; see the README) and the versions recorded in toolchain.txt: it skips, saying
which, otherwise. CI has them, so a source that drifted from its binary fails there."""

from __future__ import annotations

import re
import shutil

import pytest

from scripts import build_wasm

WASM = sorted(build_wasm.PROGRAMS.glob("*.wasm"))


@pytest.mark.slow
def test_checked_in_wasm_is_what_its_source_builds_to() -> None:
    try:
        toolchain = build_wasm.find_toolchain()
        stale = build_wasm.check(toolchain)
    except build_wasm.ToolchainMissing as exc:
        pytest.skip(f"cannot rebuild tests/wasm_programs: {exc}")
    assert stale == [], f"rebuild differs from the checked-in file (run make wasm): {stale}"


def test_every_source_has_its_wasm() -> None:
    assert [p.stem for p in build_wasm.sources()] == [p.stem for p in WASM]


def test_readme_feature_table_is_current() -> None:
    """README's table is what ``build_wasm.py --features`` finds now (wasmtime's part alone, row by
    row, when wabt's wasm-validate is not installed)."""
    readme = build_wasm.README.read_text()
    if shutil.which("wasm-validate"):
        assert build_wasm.TABLE_BEGIN + build_wasm.table(WASM) + build_wasm.TABLE_END in readme
        return
    rows = {m[1]: m[2] for m in re.finditer(r"^\| (\w+\.wasm) \| \d+ \| ([^|]+) \|", readme, re.M)}
    assert sorted(rows) == [p.name for p in WASM]
    for path in WASM:
        assert all(n in rows[path.name] for n in build_wasm._wasmtime_needs(path.read_bytes())), path.name


def test_feature_check_sees_a_proposal_in_use() -> None:
    """The check is not blind: modules using bulk memory, multi-value or two memories are caught."""
    from wasmtime import wat2wasm

    cases = {
        "bulk-memory": "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))",
        "multi-value": "(module (func (result i32 i32) (i32.const 0) (i32.const 1)))",
        "multi-memory": "(module (memory 1) (memory 1))",
        "simd": "(module (func (result v128) (v128.const i64x2 0 0)))",
    }
    for name, wat in cases.items():
        assert build_wasm._wasmtime_needs(bytes(wat2wasm(wat))) == {name}
    assert build_wasm.shape(bytes(wat2wasm("(module (memory 2 5) (table 3 funcref))"))) == {
        "imports": [],
        "memories": [(2, 5)],
        "tables": [(3, None)],
    }
