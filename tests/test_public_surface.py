"""The public names stay put: each public module's ``__all__`` is pinned here, and every name in it
exists. A change to this list is a change to the API users program against: make it on purpose."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PUBLIC = {
    "truebit_facade": [
        "APIStatusError", "ApiSolutionStatus", "ApiTaskResult", "ApiTaskStatus", "ApiTasks", "AsyncApiTasks",
        "AsyncFunctions", "AsyncTruebit", "AuthenticationError", "BadRequestError", "CallInterruptedError",
        "DEFAULT", "Execution", "ExecutionNotFoundError", "ExecutionStatus", "FunctionResult", "Functions",
        "JsonArray", "JsonObject", "MalformedResponseError", "PaymentRequiredError", "PollPolicy",
        "RateLimitedError", "RequestTimeoutError", "ResponseInfo", "RetryPolicy", "ServerError", "Signature", "Solution",
        "TaskError", "TaskFailedError", "TransferredBytes", "TransportError", "Truebit", "TruebitError",
        "UnexpectedStatusError", "UnknownStatusError", "ValidationError", "VerificationIndeterminateError",
        "VerificationStatus", "VerifiedApiTaskResult", "VerifiedFunctionResult", "WaitTimeoutError", "__version__",
        "to_builtin", "MAX_RETRY_AFTER", "is_retryable_status", "scrub_secrets",
    ],
    "truebit_facade.sandbox": [
        "ApiCredentials", "ApiInputLimits", "ApiTask", "DEV_API_KEY", "EXAMPLES_NAMESPACE", "ExampleTarget",
        "FAULT_KINDS", "FaultConfig", "FunctionTask", "Manifest", "NodeFault", "STATS_PATH", "Sandbox",
        "SandboxConfig", "SandboxHost", "Task", "TaskLimits", "TaskNotFound", "TaskRegistry", "add_arguments", "create_app", "default_registry",
        "example_registry", "main", "node_address", "register_example_api_task", "sandbox_process", "serve",
    ],
    # Not the users' API: the rules the sandbox shares with the client (see its docstring).
    "truebit_facade.rules": [
        "REDACTED", "RUNNING", "UINT32_MAX", "ExecuteApiTaskByNameBody", "ExecuteTaskByNameBody", "Unset",
        "check_headers", "operation", "operations", "redact_body", "request_schema", "response_schema", "scrub",
        "scrub_json", "spec",
    ],
    "truebit_facade.batch": [
        "AsyncBatch", "Batch", "BatchEvent", "BatchItem", "BatchRow", "BatchSummary", "BatchTransport",
        "DuplicateKeyError", "InputChangedError", "Ledger", "LedgerBusyError", "LedgerError", "RowState",
        "check_key", "check_value", "read_ahead",
    ],
    "truebit_facade.signing": [
        "SignatureLike", "address_of", "keccak256", "recover_signer", "sandbox_solution_hash",
        "to_checksum_address",
    ],
    "truebit_facade.cli": [
        "EXIT_API_ERROR", "EXIT_INDETERMINATE", "EXIT_INTERRUPTED", "EXIT_NOT_FINISHED", "EXIT_OK",
        "EXIT_TASK_FAILED", "EXIT_USAGE", "main",
    ],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_the_public_names_are_pinned(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(PUBLIC[module])
    missing = [name for name in imported.__all__ if not hasattr(imported, name)]
    assert not missing


def test_type_checkers_see_every_lazily_loaded_name() -> None:
    """``truebit_facade`` loads its names on first use (PEP 562), where type checkers cannot follow: they
    read its imports (those under ``if TYPE_CHECKING:`` included), which must give every name of
    ``__all__`` from the module it is loaded from at run time."""
    import ast

    import truebit_facade

    tree = ast.parse(Path(truebit_facade.__file__).read_text(encoding="utf-8"))
    seen = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names
        if not (alias.asname or alias.name).startswith("_")
    }
    assert sorted([*seen, "__version__"]) == sorted(truebit_facade.__all__)
    assert seen == truebit_facade._HOME_OF


def test_importing_the_package_loads_the_client_only_when_a_name_is_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, truebit_facade; before = 'httpx' in sys.modules; "
        "from truebit_facade import Truebit; "
        "print(before, 'httpx' in sys.modules, 'Truebit' in vars(truebit_facade), "
        "set(truebit_facade.__all__) <= set(dir(truebit_facade)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True", "True"], out.stdout


def test_the_generated_client_is_reached_only_through_the_escape_hatch() -> None:
    import truebit_facade

    # The low-level client ships as a private subpackage; results hand its models out on request.
    assert not any(name.startswith("_generated") for name in truebit_facade.__all__)
    from truebit_facade._answers import FUNCTION, read_status
    from truebit_facade._generated.models.execute_task_sync_response import ExecuteTaskSyncResponse
    from truebit_facade._wire import Answer

    body = b'{"executionId": "e1", "verificationStatus": "Success", "clearTextSolution": {"output": "8"}}'
    result = read_status(Answer(200, {}, body), FUNCTION, "e1")
    raw = result.raw_model()
    assert isinstance(raw, ExecuteTaskSyncResponse)
    assert raw.to_dict()["executionId"] == "e1" and raw.to_dict()["clearTextSolution"]["output"] == "8"


def test_importing_the_package_does_not_load_the_call_machinery_s_heavy_parts() -> None:
    import subprocess
    import sys

    code = (
        "import sys, truebit_facade; "
        "print(sorted(m for m in ('attrs', 'httpcore', 'truebit_facade._generated.client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize(
    "name", ["Truebit", "AsyncTruebit", "Functions", "ApiTasks", "AsyncFunctions", "AsyncApiTasks"]
)
def test_the_public_methods_type_hints_resolve_at_run_time(name: str) -> None:
    # Tools that read hints at run time (autodoc, validators) see what a type checker sees.
    import inspect
    import typing

    import truebit_facade

    cls = getattr(truebit_facade, name)
    for attr, member in inspect.getmembers(cls, inspect.isfunction):
        if attr.startswith("_") and attr not in ("__init__",):
            continue
        for variant in [member, *typing.get_overloads(member)]:
            typing.get_type_hints(variant)
