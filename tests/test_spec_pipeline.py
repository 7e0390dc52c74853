"""The spec pipeline: merge, errata, validation, change summary and regeneration (on temporary copies)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import spec  # noqa: E402
import spec_diff  # noqa: E402

FUNC_BODY = "/paths/~1task~1function~1execute-by-name/post/requestBody/content/application~1json/schema"


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "openapi").mkdir(parents=True)
    shutil.copytree(ROOT / "openapi" / "upstream", root / "openapi" / "upstream")
    for name in ("errata.json", "generator-config.yaml", "truebit-api.json"):
        shutil.copy(ROOT / "openapi" / name, root / "openapi" / name)
    shutil.copytree(
        ROOT / "generated_client", root / "generated_client", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def _regen(root: Path, command: str = "regen") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "regen.py"), command, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=240,
    )


def _edit_fragment(root: Path, name: str, edit) -> None:  # type: ignore[no-untyped-def]
    path = root / "openapi" / "upstream" / name
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def test_committed_spec_is_the_build_of_the_fragments() -> None:
    assert spec.dumps(spec.build()) == (ROOT / "openapi" / "truebit-api.json").read_text()


def test_vendored_fragments_are_verbatim_copies_of_the_pages() -> None:
    docs = ROOT.parent / "shared" / "truebit-docs"
    if not docs.is_dir():
        pytest.skip("the documentation pages are not beside this checkout")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor_docs.py"), str(docs), "--check"], capture_output=True
    )
    assert proc.returncode == 0, proc.stderr


def test_every_uint32_is_bounded_and_execution_timeout_says_milliseconds() -> None:
    doc = spec.build()
    spec.check_uint32_bounds(doc)
    api = doc["paths"]["/task/api/execute-by-name"]["post"]["requestBody"]["content"]["application/json"]
    assert "milliseconds" in api["schema"]["properties"]["executionTimeout"]["description"]


def test_conflicting_shared_schema_fails_naming_it() -> None:
    fragments = spec.load_fragments()
    _name, doc = fragments[0]
    doc["components"]["schemas"]["Error"]["properties"]["message"]["type"] = "integer"
    with pytest.raises(spec.SpecError, match=r"component schema 'Error' differs"):
        spec.merge(fragments)


def test_stale_erratum_fails_naming_its_target() -> None:
    doc = spec.merge(spec.load_fragments())
    del doc["paths"]["/task/function/execute-by-name"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]["properties"]["totalSolutions"]
    with pytest.raises(spec.SpecError, match=r"erratum #\d+ no longer applies: .*totalSolutions"):
        spec.apply_errata(doc, spec.load_errata())


def test_erratum_without_reason_is_refused(tmp_path: Path) -> None:
    errata = tmp_path / "errata.json"
    errata.write_text(json.dumps([{"op": "add", "path": "/x", "value": 1}]))
    with pytest.raises(spec.SpecError, match="has no reason"):
        spec.load_errata(errata)


def test_new_unbounded_uint32_fails() -> None:
    doc = spec.build()
    doc["components"]["schemas"]["Error"]["properties"]["code"] = {"type": "integer", "format": "uint32"}
    with pytest.raises(spec.SpecError, match="Error/properties/code"):
        spec.check_uint32_bounds(doc)


# --- the change summary, pure ------------------------------------------------------------


def _final() -> dict:  # type: ignore[type-arg]
    return spec.build()


def test_diff_of_identical_specs_is_empty() -> None:
    assert spec_diff.diff(_final(), _final()) == []


def test_response_enum_value_added_is_possibly_breaking() -> None:
    old, new = _final(), _final()
    new["components"]["schemas"]["ExecuteTaskSyncResponse"]["properties"]["verificationStatus"][
        "enum"
    ].append("Cancelled")
    (change,) = spec_diff.diff(old, new)
    assert change.level == "WARN" and "'Cancelled' added" in change.what
    assert "getFunctionExecutionStatus" in change.operations


def test_request_property_became_required_is_breaking() -> None:
    old, new = _final(), _final()
    body = new["paths"]["/task/function/execute-by-name"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    body["schema"]["required"].append("gasLimit")
    (change,) = spec_diff.diff(old, new)
    assert change.level == "ERR" and "gasLimit" in change.what


def test_removed_operation_is_breaking() -> None:
    old, new = _final(), _final()
    del new["paths"]["/task/api/execution-status/{executionId}"]
    levels = {c.what: c.level for c in spec_diff.diff(old, new)}
    assert levels["operation removed (GET /task/api/execution-status/{executionId})"] == "ERR"


# --- make regen on a temporary copy ------------------------------------------------------


@pytest.mark.slow
def test_regen_names_an_added_optional_property_and_flags_a_removed_one(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)

    def add(doc: dict) -> None:  # type: ignore[type-arg]
        props = doc["components"]["schemas"]["ExecuteTaskSyncResponse"]["properties"]
        props["queuePosition"] = {"type": "integer", "description": "Place in the queue."}

    for fragment in ("execute-function-tasks.json", "get-task-status-function.json"):
        _edit_fragment(root, fragment, add)
    proc = _regen(root)
    assert proc.returncode == 0, proc.stderr
    assert "optional property 'queuePosition' added" in proc.stdout
    assert "0 breaking" in proc.stdout
    model = (root / "generated_client" / "models" / "execute_task_sync_response.py").read_text()
    assert "queue_position" in model
    assert _regen(root, "check").returncode == 0

    def remove(doc: dict) -> None:  # type: ignore[type-arg]
        del doc["paths"]["/task/api/execute-by-name"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]["properties"]["label"]

    _edit_fragment(root, "execute-api-tasks.json", remove)
    proc = _regen(root)
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines() if "property 'label' removed" in line)
    assert "BREAKING" in line and "1 breaking" in proc.stdout

    def remove_response_property(doc: dict) -> None:  # type: ignore[type-arg]
        del doc["components"]["schemas"]["ExecuteApiSyncResponse"]["properties"]["errorMsg"]

    for fragment in ("execute-api-tasks.json", "get-task-status-api.json"):
        _edit_fragment(root, fragment, remove_response_property)
    proc = _regen(root)
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines() if "'errorMsg' removed" in line)
    assert "BREAKING" in line


@pytest.mark.slow
def test_regen_twice_is_stable_and_check_catches_a_hand_edit(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    assert _regen(root).returncode == 0
    before = {p: p.read_bytes() for p in (root / "generated_client").rglob("*.py")}
    assert _regen(root).returncode == 0
    assert before == {p: p.read_bytes() for p in (root / "generated_client").rglob("*.py")}
    client = root / "generated_client" / "client.py"
    client.write_text(client.read_text() + "\n# edited by hand\n")
    proc = _regen(root, "check")
    assert proc.returncode == 1 and "differs: generated_client/client.py" in proc.stderr


def test_fetch_spec_unreachable_says_so_and_changes_nothing(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    before = {p.name: p.read_bytes() for p in (root / "openapi" / "upstream").iterdir()}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "regen.py"),
            "fetch",
            "--root",
            str(root),
            "--url",
            "http://127.0.0.1:9/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "could not get the live spec" in proc.stderr and "nothing was changed" in proc.stderr
    assert before == {p.name: p.read_bytes() for p in (root / "openapi" / "upstream").iterdir()}


def test_the_spellings_of_nullable_compare_equal_and_a_request_becoming_nullable_is_compatible() -> None:
    old, new = _final(), _final()
    props = new["paths"]["/task/function/execute-by-name"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["properties"]
    props["label"] = {"oneOf": [{"type": "string", "description": "Label of the task."}, {"type": "null"}]}
    (change,) = spec_diff.diff(old, new)
    assert change.level == "INFO" and "became nullable" in change.what


def test_boolean_schemas_do_not_crash_the_summary() -> None:
    old, new = _final(), _final()
    for doc, extra in ((old, {"type": "string"}), (new, {"type": "integer"})):
        doc["components"]["schemas"]["Error"]["properties"]["detail"] = {"anyOf": [True, extra]}
    assert spec_diff.diff(old, new)
