"""``truebit batch``'s input: a JSON-lines stream read one line at a time, each line checked whole
(size, UTF-8, JSON, nesting, its key, by the batch's own rules) before it is handed to the batch, so a
bad line stops the run with its number before any row is written for it.

Lines: for function tasks a JSON string (the input) or ``{"key": ..., "input": ...}`` (any other JSON
value is the input itself); for API tasks ``{"key": ..., "path": ..., "method": ..., "params": ...,
"headers": ..., "body": ...}``. Without ``key`` a line's key is its number (from 0)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from .. import ValidationError
from ..batch import BatchItem, check_key, check_value

#: The longest input line (bytes): a longer one is a bad line, refused before it is read whole.
MAX_LINE_BYTES = 8 << 20


def _lines(stream: IO[Any]) -> Iterator[tuple[int, str]]:
    """``(number, text)`` of each line, read at most :data:`MAX_LINE_BYTES` at a time and decoded
    strictly as UTF-8 (binary streams; a text stream's lines are taken as they come)."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise ValidationError("inputs", f"line {number} is longer than {MAX_LINE_BYTES >> 20} MiB")
        if isinstance(line, bytes):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    "inputs", f"line {number} is not UTF-8 text (byte {exc.start + 1}: {exc.reason})"
                ) from None
        else:
            text = line
        yield number, text


def read_lines(stream: IO[Any], api: bool) -> Iterator[Any]:
    """The inputs of a JSON-lines stream, one at a time (never the whole file); blank lines skipped."""
    for number, line in _lines(stream):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except RecursionError:
            raise ValidationError("inputs", f"line {number} is nested too deeply") from None
        except ValueError as exc:
            raise ValidationError("inputs", f"line {number} is not JSON: {exc}") from None
        key = value.get("key") if isinstance(value, dict) else None
        if key is not None and (isinstance(key, bool) or not isinstance(key, str | int)):
            raise ValidationError("inputs", f"line {number}: key must be a string or a number")
        if api:
            if not isinstance(value, dict) or "path" not in value:
                raise ValidationError("inputs", f"line {number}: an API call is an object with a path")
            call = {k: v for k, v in value.items() if k != "key"}
            item: Any = call if key is None else BatchItem(str(key), call)
        elif isinstance(value, dict) and "input" in value:
            item = value["input"] if key is None else BatchItem(str(key), value["input"])
        else:
            item = value
        try:
            if isinstance(item, BatchItem):
                check_key(item.key)
                check_value(item.value)
            else:
                check_value(item)
        except ValidationError as exc:
            raise ValidationError("inputs", f"line {number}: {exc.field} {exc.problem}") from None
        yield item


def count_lines(path: str) -> int:
    """Lines of the input file, for the progress bar (newlines, read in chunks: a huge line is not
    read whole)."""
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")
