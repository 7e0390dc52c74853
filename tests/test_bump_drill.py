"""The API-bump drill: a synthetic next version of the spec, regenerated on a temporary copy of the
project, must reach the facade as type errors at exactly the lines that use what changed, and nowhere
else. It fails if the facade stops building a request through a generated model (then removing or
retyping a field it sets would not be a type error), if it stops reading answers through the
generated models (then a renamed response field would not be one), or if a compatible change (a new
status value, a new response property, a new operation) breaks anything. The bumped copy's tests must
still be collected: a bump fails the tests that touch the change, not the whole suite at import.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_EXECUTE = "/task/function/execute-by-name"

pytestmark = pytest.mark.slow


def _copy_project(tmp: Path) -> Path:
    root = tmp / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", ".ruff_cache")
    for name in ("openapi", "generated_client", "truebit_facade", "scripts", "tests", "typing_tests", "docs",
                 "examples"):  # fmt: skip
        shutil.copytree(ROOT / name, root / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, root / name)
    if (ROOT / ".mypy_cache").is_dir():  # a warm cache only saves time; results are the same
        shutil.copytree(ROOT / ".mypy_cache", root / ".mypy_cache")
    return root


def _edit(path: Path, change: Any) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _rename_sender(sync_properties: dict[str, Any]) -> None:
    """A response field the facade reads, renamed (``senderAddress`` -> ``signerAddress``)."""
    solution = sync_properties["clearTextSolution"]["properties"]
    solution["signerAddress"] = solution.pop("senderAddress")


def _bump(root: Path) -> None:
    upstream = root / "openapi" / "upstream"

    def function_fragment(doc: dict[str, Any]) -> None:
        body = doc["paths"][FUNCTION_EXECUTE]["post"]["requestBody"]["content"]["application/json"]["schema"]
        del body["properties"]["label"]  # a request field the facade sets, removed
        body["properties"]["totalSolutions"] = {"type": "string", "description": "Now a string."}  # retyped
        sync = doc["components"]["schemas"]["ExecuteTaskSyncResponse"]["properties"]
        sync["verificationStatus"]["enum"].append("Paused")  # a response enum value added
        sync["queuePosition"] = {"type": "integer", "description": "Place in the queue."}  # a property added
        _rename_sender(sync)

    _edit(upstream / "execute-function-tasks.json", function_fragment)
    for name in ("get-task-status-function.json",):  # shared schemas must stay equal across fragments

        def status_fragment(doc: dict[str, Any]) -> None:
            sync = doc["components"]["schemas"]["ExecuteTaskSyncResponse"]["properties"]
            sync["verificationStatus"]["enum"].append("Paused")
            sync["queuePosition"] = {"type": "integer", "description": "Place in the queue."}
            _rename_sender(sync)

        _edit(upstream / name, status_fragment)
    # An operation added, in its own fragment.
    template = json.loads((upstream / "get-task-status-function.json").read_text(encoding="utf-8"))
    template["paths"] = {
        "/task/function/list": {
            "get": {
                "operationId": "listFunctionTasks",
                "summary": "List the function tasks of a namespace.",
                "tags": [t["name"] for t in template.get("tags", [])][:1],
                "responses": {
                    "200": {
                        "description": "The task names.",
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": {"type": "string"}}}
                        },
                    }
                },
            }
        }
    }
    template["components"] = {"schemas": {}}
    (upstream / "list-function-tasks.json").write_text(
        json.dumps(template, indent=2) + "\n", encoding="utf-8"
    )


def _review_errata(root: Path) -> None:
    """Step 3 of docs/upgrading.md for the bump above: the errata about ``totalSolutions``'s range
    go (it is a string now), and the request example sends it as one."""
    path = root / "openapi" / "errata.json"
    errata = json.loads(path.read_text(encoding="utf-8"))
    kept = [e for e in errata if "/totalSolutions/" not in e["path"]]
    for erratum in kept:
        value = erratum.get("value")
        if erratum["path"].endswith("/example") and isinstance(value, dict) and "totalSolutions" in value:
            value["totalSolutions"] = str(value["totalSolutions"])
            value.pop("label", None)
    path.write_text(json.dumps(kept, indent=2) + "\n", encoding="utf-8")


def test_a_bump_reaches_the_facade_as_type_errors_at_the_lines_to_change(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    _bump(root)

    def regenerate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "regen.py"), "regen", "--root", str(root)],
            capture_output=True,
            text=True,
            timeout=300,
        )

    # The errata of the retyped field (uint32 bounds on what is now a string) and the request example
    # (which still sends it as a number) are stale: regen names both, and writes nothing.
    regen = regenerate()
    assert regen.returncode != 0, regen.stdout
    assert re.search(r"totalSolutions: minimum, maximum on a schema of type string", regen.stderr), (
        regen.stderr
    )
    assert re.search(r"/example: invalid against its schema at totalSolutions", regen.stderr), regen.stderr
    _review_errata(root)
    regen = regenerate()
    assert regen.returncode == 0, regen.stdout + regen.stderr
    summary = regen.stdout
    assert re.search(r"BREAKING\s+\(request\).*label", summary), summary
    assert re.search(r"BREAKING.*totalSolutions", summary), summary
    assert re.search(r"BREAKING.*senderAddress", summary), summary
    assert re.search(r"info\s+\(request\+response\) listFunctionTasks: operation added", summary), summary
    assert "'Paused'" in summary and "queuePosition" in summary, summary

    generated = root / "generated_client"
    enum = (generated / "models" / "execute_task_sync_response_verification_status.py").read_text()
    assert 'PAUSED = "Paused"' in enum
    assert "queue_position" in (generated / "models" / "execute_task_sync_response.py").read_text()
    assert (generated / "api" / "default" / "list_function_tasks.py").exists() or any(
        generated.rglob("list_function_tasks.py")
    )

    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Each error with the notes mypy prints under it (a protocol mismatch names the member there).
    reports: list[str] = []
    for line in mypy.stdout.splitlines():
        if ": error:" in line:
            reports.append(line)
        elif ": note:" in line and reports:
            reports[-1] += "\n" + line
    assert mypy.returncode == 1 and reports, mypy.stdout + mypy.stderr
    # Every error is about one of the three breaking changes or the new status value, and each reaches
    # the facade's line that uses it: the request builder for the request fields, the answer reader
    # for the response one, the status meanings for the new value (whose meaning must be decided).
    changed = ("label", "total_solutions", "sender_address", "PAUSED")

    def about_a_change(report: str) -> bool:
        """The error names a changed field, or sits on a line that uses one (``_int(model.x)``)."""
        path, line = report.split(":", 2)[:2]
        source = (root / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        return any(name in report or name in source for name in changed)

    assert all(about_a_change(report) for report in reports), "\n".join(reports)
    for module, name in (
        ("_wire", "label"),
        ("_wire", "total_solutions"),
        ("_answers", "sender_address"),
        ("_status", "PAUSED"),
    ):
        pattern = rf"truebit_facade/{module}\.py:\d+: error: (?s:.)*{name}"
        assert any(re.match(pattern, report) for report in reports), (name, reports)

    # The suite of the bumped copy is still collected (no test parses wire data at import time).
    collect = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stdout[-3000:] + collect.stderr[-3000:]
