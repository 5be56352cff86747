"""A generation job killed (SIGKILL) part-way resumes after its last complete part and writes the
file of an uninterrupted run byte for byte; parts of another job are never reused."""

import json
import os
import subprocess
import sys

import pytest

from polyalign.config import fill_defaults
from polyalign.generation.generate import generate_file
from polyalign.generation.parts import PartStore, parts_dir
from polyalign.io import write_jsonl
from polyalign.models import save_model
from tests.models.micro import micro_model, micro_records, micro_tokenizer, one_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")

# The child dies inside its third part's save: the part's rows are on disk, its manifest is not.
CHILD = """
import json, os, signal, sys
import torch
torch.set_num_threads(1)
from polyalign.generation.generate import generate_file
from polyalign.generation.parts import PartStore
from polyalign.io import read_jsonl, write_jsonl

saved, save = [], PartStore.save

def dying_save(self, k, entries):
    if len(saved) == 2:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_jsonl(self._paths(k)[0], entries)
        os.kill(os.getpid(), signal.SIGKILL)
    save(self, k, entries)
    saved.append(k)

PartStore.save = dying_save
job = json.load(open(sys.argv[1]))
generate_file(job["model"], read_jsonl(job["records"]), "sft", job["config"], job["out"],
              train_records=read_jsonl(job["records"]), progress=False)
"""


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gen")
    tok = micro_tokenizer()
    save_model(micro_model(tok), tok, tmp / "m")
    write_jsonl(tmp / "records.jsonl", micro_records())
    config = fill_defaults(
        {
            "model": {"max_length": 128, "device": "cpu"},
            "prompt": {"max_prompt_tokens": 110, "max_history_turns": 2},
            "generation": {
                "max_new_tokens": 8,
                "batch_size": 3,
                "part_rows": 5,  # 24 rows: 5 parts
                "length_check_quantile": None,
            },
        }
    )
    return {"model": str(tmp / "m"), "records": str(tmp / "records.jsonl"), "config": config, "dir": tmp}


def _run(job, out):
    return generate_file(
        job["model"],
        micro_records(),
        "sft",
        job["config"],
        out,
        train_records=micro_records(),
        progress=False,
    )


def test_killed_job_resumes_after_its_last_complete_part(job):
    whole = job["dir"] / "whole.jsonl"
    _run(job, whole)
    out = job["dir"] / "killed.jsonl"
    spec = job["dir"] / "job.json"
    spec.write_text(json.dumps({**{k: v for k, v in job.items() if k != "dir"}, "out": str(out)}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(spec)], env=env, capture_output=True, timeout=120
    )
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    parts = sorted(p.name for p in parts_dir(out).iterdir())
    assert parts == [
        "part-00000.jsonl",
        "part-00000.manifest.json",
        "part-00001.jsonl",
        "part-00001.manifest.json",
        "part-00002.jsonl",  # written, but killed before its manifest
    ]
    assert not out.exists()
    summary = _run(job, out)
    assert summary["parts_resumed"] == 2
    assert summary["decode"]["prefill_calls"] > 0  # parts 2..4 were decoded again
    assert out.read_bytes() == whole.read_bytes()
    assert not parts_dir(out).exists()


def test_parts_of_another_job_or_changed_are_not_reused(tmp_path):
    store = PartStore(tmp_path / "p", {"model": "a"})
    store.bind({"rows": 2})
    store.save(0, [{"index": 0, "row": {"v": 1}}])
    assert store.load(0) == [{"index": 0, "row": {"v": 1}}]
    other = PartStore(tmp_path / "p", {"model": "b"})
    other.bind({"rows": 2})
    assert other.load(0) is None
    replan = PartStore(tmp_path / "p", {"model": "a"})
    replan.bind({"rows": 3})
    assert replan.load(0) is None
    (tmp_path / "p" / "part-00000.jsonl").write_text('{"index": 0, "row": {"v": 2}}\n')
    assert store.load(0) is None  # the file no longer matches its manifest
    with pytest.raises(RuntimeError, match="bind"):
        PartStore(tmp_path / "p", {}).load(0)
