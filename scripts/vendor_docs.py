"""Extract the OpenAPI fragments embedded in the published API pages into ``openapi/upstream/``.

Each page of the Truebit docs embeds exactly one OpenAPI document in a ```json fenced block. The
fragment is written byte for byte as it appears on the page (plus a final newline), so that
``openapi/upstream/`` stays a verbatim copy of upstream and every correction lives in the errata.

Usage: python scripts/vendor_docs.py [DOCS_DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / "openapi" / "upstream"
DEFAULT_DOCS = ROOT.parent / "shared" / "truebit-docs"
# The pages that carry one fragment each; the rendered text copy carries none.
PAGES = (
    "execute-function-tasks.md",
    "execute-api-tasks.md",
    "get-task-status-function.md",
    "get-task-status-api.md",
)
_FENCE = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def extract(page: Path) -> str:
    blocks = [b for b in _FENCE.findall(page.read_text(encoding="utf-8")) if '"openapi"' in b]
    if len(blocks) != 1:
        raise SystemExit(f"{page.name}: expected one embedded OpenAPI fragment, found {len(blocks)}")
    json.loads(blocks[0])  # must be JSON as published
    return blocks[0] + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", nargs="?", type=Path, default=DEFAULT_DOCS)
    parser.add_argument(
        "--check", action="store_true", help="fail if openapi/upstream differs from the pages"
    )
    args = parser.parse_args(argv)
    stale = []
    for name in PAGES:
        text = extract(args.docs / name)
        target = UPSTREAM / name.replace(".md", ".json")
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"vendored {target.relative_to(ROOT)}")
    if stale:
        print(f"openapi/upstream differs from the published pages: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
