"""A training stage for the 2-process kill test: `sft_job` with every rank stopped for good inside
its optimizer step `BLOCK_AT_STEP` (before the backward pass), after writing a marker file, so the
test can SIGKILL the whole process group at a known point: past a checkpoint, with a logged step
after it (each rank then exits when its agent is gone; the marker holds its pid). The block sits in accelerate's `backward`, below the loss function and the trainer,
whose code is part of the run identity: the resumed run (plain `sft_job`) must accept the
checkpoint."""

import os
import time
from pathlib import Path

from accelerate import Accelerator

from polyalign.train.sft import sft_job

BLOCK_AT_STEP = 6  # 1 micro-batch per rank per step (global batch 8 = 4 x 2 processes)


def blocked_sft_job(job: dict) -> dict:
    original = Accelerator.backward
    calls = {"n": 0}

    def backward(self, loss, **kwargs):
        calls["n"] += 1
        if calls["n"] == BLOCK_AT_STEP:
            rank = os.environ.get("RANK", "0")
            parent = os.getppid()
            (Path(job["out_dir"]) / f"blocked.rank{rank}").write_text(str(os.getpid()))
            # torch's elastic agent starts each rank in a session of its own, so the test's
            # SIGKILL of the launcher's process group does not reach the ranks: a rank leaves as
            # soon as its agent is gone, instead of lingering after the test
            while os.getppid() == parent:
                time.sleep(0.1)
            os._exit(1)
        return original(self, loss, **kwargs)

    Accelerator.backward = backward
    return sft_job(job)
