"""Atomic file writing and strict JSON/JSONL reading.

Every stage writes through these helpers so that an interrupted or failing stage never leaves a
half-written output behind, and every read error names the file and line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """Bad input data; the message names the file, line/row and field."""


def current_umask() -> int:
    """The process umask. Linux shows it in /proc; elsewhere it can only be read by setting it,
    so it is set back at once."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def give_umask_mode(path: str | os.PathLike) -> None:
    """Give a file or folder made by `tempfile` (mode 0600 / 0700, private to its owner) the
    mode that a plain open()/mkdir() would have given it: 0666 / 0777 minus the user's umask, so
    that collaborators on a shared file system can read what the workflow writes."""
    full = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, full & ~current_umask())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds.
    The file ends with the user's umask mode, not tempfile's private 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        give_umask_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path, obj: Any) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def write_jsonl(path, rows: Iterable[dict]) -> int:
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def decode_utf8(data: bytes, where: str, first_line: int = 1) -> str:
    """`data` as UTF-8; invalid bytes raise InputError naming `where`, the line and byte offset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        raise InputError(f"{where}:{line}: invalid UTF-8 at byte offset {e.start} ({e.reason})") from None


def read_utf8(path) -> str:
    """The text of `path`; invalid UTF-8 raises InputError with the file, line and byte offset."""
    with open(path, "rb") as f:
        return decode_utf8(f.read(), str(path))


def iter_utf8_lines(stream, where: str) -> Iterator[tuple[int, str]]:
    """(line_number, text) of a binary stream, each line decoded strictly (error names the line)."""
    offset = 0
    for lineno, raw in enumerate(stream, 1):
        try:
            yield lineno, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(
                f"{where}:{lineno}: invalid UTF-8 at byte offset {offset + e.start} ({e.reason})"
            ) from None
        offset += len(raw)


def read_json(path) -> Any:
    try:
        return json.loads(read_utf8(path))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: malformed JSON ({e.msg})") from None


def iter_jsonl(path) -> Iterator[tuple[int, dict]]:
    """Yield (line_number, object) for every non-blank line; malformed lines raise InputError."""
    with open(path, "rb") as f:
        for lineno, line in iter_utf8_lines(f, str(path)):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{lineno}: malformed JSON line ({e.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def read_jsonl(path) -> list[dict]:
    return [obj for _, obj in iter_jsonl(path)]


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
