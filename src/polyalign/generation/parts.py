"""The parts a generation job writes as it goes, so a killed job resumes after its last one.

A job's output `g.jsonl` is built in `g.jsonl.parts/`: part k (the k-th run of `part_rows`
length-sorted rows, `polyalign.generation.generate.part_plan`) is written as `part-0000k.jsonl`, entries
{"index": input position, "row": row}, and then `part-0000k.manifest.json`: the part file's
sha256 and size, its row count and the job identity, written last, as a training checkpoint's
MANIFEST (`polyalign.train.checkpoint`). A part counts as complete when its manifest matches its
file and the identity of the job that reads it; any other part (no manifest: killed while
writing; another identity: other model, records, settings or code; a file that does not match)
is decoded again and overwritten. Every part starts from an empty batch, so a resumed job's
parts, and the output file merged from them in input order, are byte for byte an uninterrupted
job's. The folder is removed once the output is written.

The identity covers everything a part's rows depend on: the rows' prompts, token ids, seeds and
budgets, the decoding settings, the model's files, the library code of generation
(`polyalign.provenance.source_digest`), the torch version and the device type.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from functools import cache
from pathlib import Path

from ..io import file_sha256, read_jsonl, write_json, write_jsonl

log = logging.getLogger(__name__)

PARTS_SUFFIX = ".parts"


def parts_dir(out_path) -> Path:
    out = Path(out_path)
    return out.with_name(out.name + PARTS_SUFFIX)


def directory_digest(directory) -> str:
    """sha256 over every file under `directory`: relative path, size and content hash."""
    root = Path(directory)
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(f"{path.relative_to(root).as_posix()}|{path.stat().st_size}|{file_sha256(path)}\n".encode())
    return h.hexdigest()


@cache
def generation_code_digest() -> str:
    """The workflow's digest of the library code a generation job runs."""
    from ..provenance import source_digest

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "generate_entry.py"
        script.write_text("import polyalign.generation.shards\n", encoding="utf-8")
        return source_digest(script)


def identity_digest(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


class PartStore:
    """The parts folder of one job. `bind(plan)` completes the identity with the decode plan
    (`polyalign.generation.generate.generate_records` calls it) before parts are read or written."""

    def __init__(self, directory, identity: dict):
        self.directory = Path(directory)
        self.identity = dict(identity)
        self.digest: str | None = None
        self.resumed = 0

    def __str__(self) -> str:
        return str(self.directory)

    def bind(self, plan: dict) -> None:
        self.digest = identity_digest({**self.identity, "plan": plan})

    def _paths(self, k: int) -> tuple[Path, Path]:
        return self.directory / f"part-{k:05d}.jsonl", self.directory / f"part-{k:05d}.manifest.json"

    def load(self, k: int) -> list[dict] | None:
        """Part k's entries when it is complete and of this job, else None (it is redone)."""
        if self.digest is None:
            raise RuntimeError(f"{self.directory}: PartStore.bind was not called")
        rows, manifest = self._paths(k)
        if not manifest.is_file():
            return None
        problem = _mismatch(rows, manifest, self.digest)
        if problem:
            log.warning("%s: %s; the part is generated again", rows, problem)
            return None
        self.resumed += 1
        return read_jsonl(rows)

    def save(self, k: int, entries: list[dict]) -> None:
        rows, manifest = self._paths(k)
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest.unlink(missing_ok=True)  # an old manifest never vouches for a new file
        write_jsonl(rows, entries)
        write_json(
            manifest,
            {
                "identity": self.digest,
                "rows": len(entries),
                "bytes": rows.stat().st_size,
                "sha256": file_sha256(rows),
            },
        )

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _mismatch(rows: Path, manifest: Path, digest: str | None) -> str | None:
    """Why part `rows` cannot be used (None: it can): unreadable or foreign manifest, changed file."""
    try:
        entry = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return f"unreadable manifest ({e})"
    if digest is not None and entry.get("identity") != digest:
        return "written by another job (model, records, settings or code changed)"
    if not rows.is_file():
        return "part file missing"
    if rows.stat().st_size != entry.get("bytes") or file_sha256(rows) != entry.get("sha256"):
        return "part file does not match its manifest"
    return None


def merge_parts(directory, n_parts: int, n_rows: int) -> list[dict]:
    """The rows of parts 0..n_parts−1 of `directory` in input order; every part must match its
    manifest, all must carry one identity, and each of the `n_rows` positions must come exactly
    once (the launcher of a sharded job calls this after its ranks wrote their parts)."""
    directory = Path(directory)
    store = PartStore(directory, {})
    digests, by_index = set(), {}
    for k in range(n_parts):
        rows, manifest = store._paths(k)
        if not manifest.is_file():
            raise RuntimeError(f"{rows}: part {k} of {n_parts} has no manifest (not written completely)")
        problem = _mismatch(rows, manifest, None)
        if problem:
            raise RuntimeError(f"{rows}: {problem}")
        digests.add(json.loads(manifest.read_text(encoding="utf-8"))["identity"])
        for entry in read_jsonl(rows):
            if entry["index"] in by_index:
                raise RuntimeError(f"{rows}: row {entry['index']} is in two parts")
            by_index[entry["index"]] = entry["row"]
    if len(digests) > 1:
        raise RuntimeError(f"{directory}: parts of {len(digests)} different jobs")
    wrong = sorted(set(range(n_rows)) ^ set(by_index))
    if wrong:
        raise RuntimeError(
            f"{directory}: {len(by_index)} rows for {n_rows} positions; missing or extra positions {wrong[:10]}"
        )
    return [by_index[k] for k in range(n_rows)]
