"""Server-side conformance: schemathesis against the sandbox served by uvicorn on 127.0.0.1.

All four operations, every default check, positive and negative modes, the examples, coverage and
fuzzing phases (schemathesis' pytest integration runs them all), and the stateful flow
execute -> status through ``executionId`` (links added in openapi/errata.json). The API key comes
from ``schemathesis.toml``. Examples per operation: ``TRUEBIT_SCHEMATHESIS_EXAMPLES`` (default 60), or the thorough hypothesis profile's
count under ``make fuzz``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "truebit-api.json"
EXAMPLES = int(os.environ.get("TRUEBIT_SCHEMATHESIS_EXAMPLES", "60"))
if settings().max_examples > EXAMPLES:  # the thorough profile (make fuzz)
    EXAMPLES = settings().max_examples

os.chdir(ROOT)  # schemathesis finds schemathesis.toml from the working directory
SCHEMA = schemathesis.openapi.from_path(SPEC)


BASE_URL: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def sandbox() -> Iterator[object]:
    from truebit_facade.sandbox import ExampleTarget, Sandbox, SandboxConfig, example_registry

    with (
        ExampleTarget() as target,
        Sandbox(SandboxConfig(hold_seconds=0.5), example_registry(target.url)) as sb,
    ):
        BASE_URL["url"] = sb.url
        yield sb


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_the_spec(case: Any) -> None:
    case.call_and_validate(base_url=BASE_URL["url"])


class Flow(SCHEMA.as_state_machine()):  # type: ignore[misc]
    def get_call_kwargs(self, case: Any) -> dict[str, object]:
        return {"base_url": BASE_URL["url"]}


Flow.TestCase.settings = settings(
    max_examples=max(10, EXAMPLES // 3),
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
TestStatefulFlow = Flow.TestCase
