# Every target that needs the environment depends on .venv/.installed, so on a fresh machine
# `make demo` and `make test` each work as the first command typed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: install regen check-generated fetch-spec unasync check-unasync wasm check-wasm lint format typecheck test unit fuzz demo bench conformance clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Generated code ---------------------------------------------------------------------------
regen: $(STAMP)  ## merge openapi/upstream + errata, validate, summarise the change, regenerate
	$(PY) scripts/regen.py regen

check-generated: $(STAMP)  ## fail if generated_client/ or openapi/truebit-api.json is stale or hand-edited
	$(PY) scripts/regen.py check

fetch-spec: $(STAMP)  ## fetch the live spec into openapi/upstream (then run make regen)
	$(PY) scripts/regen.py fetch

unasync: $(STAMP)  ## write the sync client from the async one
	$(PY) scripts/unasync.py

check-unasync: $(STAMP)
	$(PY) scripts/unasync.py --check

## Real WASI programs (tests/wasm_programs): built files are checked in, so `make test` needs no compiler
wasm: $(STAMP)  ## rebuild tests/wasm_programs/*.wasm from their C, C++ and Rust sources (needs clang, lld, wasi-libc, rustc)
	$(PY) scripts/build_wasm.py

check-wasm: $(STAMP)  ## fail if a checked-in .wasm differs from what its source builds to (needs the toolchain)
	$(PY) scripts/build_wasm.py --check

## Quality ---------------------------------------------------------------------------------
lint: $(STAMP)  ## ruff, and the import contracts of pyproject.toml (the sandbox's boundary)
	$(BIN)/ruff check truebit_facade scripts tests examples typing_tests
	$(BIN)/ruff format --check truebit_facade scripts tests examples typing_tests
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix truebit_facade scripts tests examples typing_tests
	$(BIN)/ruff format truebit_facade scripts tests examples typing_tests

typecheck: $(STAMP)
	$(BIN)/mypy

## The two commands of the README -----------------------------------------------------------
test: $(STAMP) lint typecheck check-generated check-unasync  ## the whole suite
	$(BIN)/pytest -q -n auto
	$(PY) scripts/conformance.py

unit: $(STAMP)
	$(BIN)/pytest -q -n auto -m "not slow"

fuzz: $(STAMP)  ## the fuzzers with the thorough hypothesis profile (2000 examples per operation)
	TRUEBIT_HYPOTHESIS=thorough $(BIN)/pytest -q tests/conformance/test_client_fuzz.py tests/conformance/test_schemathesis.py

demo: $(STAMP)  ## the main job against the embedded local dispatcher: no account, no network
	$(PY) -m truebit_facade.demo

bench: $(STAMP)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_batch.py
	$(PY) scripts/bench_sandbox.py

conformance: $(STAMP)
	$(PY) scripts/conformance.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
