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
_FENCE = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def _fragments(page: Path) -> list[str]:
    return [b for b in _FENCE.findall(page.read_text(encoding="utf-8")) if '"openapi"' in b]


def pages(docs: Path) -> list[Path]:
    """Every page that embeds an OpenAPI fragment (a new page of the docs is picked up by itself)."""
    return [p for p in sorted(docs.glob("*.md")) if _fragments(p)]


def extract(page: Path) -> str:
    blocks = _fragments(page)
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
    found = pages(args.docs)
    if not found:
        print(f"no page in {args.docs} embeds an OpenAPI fragment", file=sys.stderr)
        return 1
    for page in found:
        text = extract(page)
        target = UPSTREAM / page.name.replace(".md", ".json")
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"vendored {target.relative_to(ROOT)}")
    if args.check:
        vendored = {p.name.replace(".md", ".json") for p in found}
        stale.extend(
            f.name + " (no page embeds it)" for f in UPSTREAM.glob("*.json") if f.name not in vendored
        )
    if stale:
        print(f"openapi/upstream differs from the published pages: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
