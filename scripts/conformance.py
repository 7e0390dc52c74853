"""`make conformance`: the schemathesis CLI against the sandbox, and against the live service when a key is set.

The sandbox (with the example API task and its target app) is served by uvicorn on 127.0.0.1 in this
process; ``schemathesis run`` is the real CLI in a subprocess, with every check, every phase
(examples, coverage, fuzzing, stateful) and both modes, writing a JUnit report.

    TRUEBIT_API_KEY      when set, the same run also targets the live service (TRUEBIT_BASE_URL or
                         https://run.truebit.network); otherwise that part is skipped, saying why
    CONFORMANCE_EXAMPLES examples per operation (default 50)
    CONFORMANCE_SEED     the seed (default 20261125)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "truebit-api.json"
REPORTS = ROOT / ".conformance"


@contextlib.contextmanager
def local_sandbox() -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import ExampleTarget, Sandbox, SandboxConfig, example_registry

    with (
        ExampleTarget() as target,
        Sandbox(SandboxConfig(hold_seconds=0.5), example_registry(target.url)) as sb,
    ):
        yield sb.url, sb.api_key


def schemathesis_run(url: str, api_key: str, report: Path, examples: int, seed: str) -> int:
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    cmd = [
        cli, "run", str(SPEC), "--url", url, "-H", f"x-api-key: {api_key}",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful", "--mode", "all",
        "--max-examples", str(examples), "--seed", seed,
        "--report", "junit", "--report-junit-path", str(report),
    ]  # fmt: skip
    shown = " ".join(c if not c.startswith("x-api-key") else "x-api-key: [hidden]" for c in cmd)
    print(f"$ {shown}", flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def main() -> int:
    examples = int(os.environ.get("CONFORMANCE_EXAMPLES", "50"))
    seed = os.environ.get("CONFORMANCE_SEED", "20261125")
    REPORTS.mkdir(exist_ok=True)
    with local_sandbox() as (url, key):
        print(f"conformance: the sandbox at {url}", flush=True)
        status = schemathesis_run(url, key, REPORTS / "junit-sandbox.xml", examples, seed)
    print(
        f"conformance: sandbox run {'passed' if status == 0 else 'FAILED'} (report .conformance/junit-sandbox.xml)"
    )
    live_key = os.environ.get("TRUEBIT_API_KEY")
    if not live_key:
        print("conformance: live service skipped: TRUEBIT_API_KEY is not set (no account on this machine)")
        return status
    live_url = os.environ.get("TRUEBIT_BASE_URL", "https://run.truebit.network")
    live = schemathesis_run(live_url, live_key, REPORTS / "junit-live.xml", max(5, examples // 5), seed)
    print(f"conformance: live run {'passed' if live == 0 else 'FAILED'} (report .conformance/junit-live.xml)")
    return status or live


if __name__ == "__main__":
    raise SystemExit(main())
