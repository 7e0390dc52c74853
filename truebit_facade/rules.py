"""The client's rules that its wings share: the one module of them the sandbox may import.

Not part of the client's API (nothing here is promised to users; the client itself keeps using its
private modules). The sandbox (``truebit_facade.sandbox``) uses the client through its public names
(``truebit_facade.__all__``, ``truebit_facade.signing``), the spec shipped in the package, and this
module, which re-exports the one home of each rule they must agree on:

* **the shipped spec** (``_spec``): :func:`spec`, :func:`operation`, :func:`operations`,
  :func:`request_schema`, :func:`response_schema`: routes and schemas straight from the document the
  client was generated from;
* **the wire shapes** (the generated request models): :class:`ExecuteTaskByNameBody`,
  :class:`ExecuteApiTaskByNameBody` and :class:`Unset`, so the sandbox reads a request as the client
  writes it;
* **the status vocabulary** (``_status``): :data:`RUNNING` (the members are public in
  ``truebit_facade``);
* **bounds and header rules** (``_validation``): :data:`UINT32_MAX`, :func:`check_headers` (HTTP-token
  names, no control characters in values; raises :class:`truebit_facade.ValidationError`);
* **redaction** (``_redact``): :data:`REDACTED`, :func:`scrub`, :func:`scrub_json`, :func:`redact_body`.

``make lint`` (import-linter, ``[tool.importlinter]`` in ``pyproject.toml``) holds the sandbox to
this; see docs/sandbox.md, "What the sandbox shares with the client".
"""

from __future__ import annotations

from ._generated.models.execute_api_task_by_name_body import ExecuteApiTaskByNameBody
from ._generated.models.execute_task_by_name_body import ExecuteTaskByNameBody
from ._generated.types import Unset
from ._redact import REDACTED, redact_body, scrub, scrub_json
from ._spec import operation, operations, request_schema, response_schema, spec
from ._status import RUNNING
from ._validation import UINT32_MAX
from ._validation import headers as check_headers

__all__ = [
    "REDACTED",
    "RUNNING",
    "UINT32_MAX",
    "ExecuteApiTaskByNameBody",
    "ExecuteTaskByNameBody",
    "Unset",
    "check_headers",
    "operation",
    "operations",
    "redact_body",
    "request_schema",
    "response_schema",
    "scrub",
    "scrub_json",
    "spec",
]
