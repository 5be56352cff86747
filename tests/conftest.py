import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


MICRO_CONFIG = Path(__file__).resolve().parent / "smoke" / "config.yaml"


def micro_workdir(work: Path) -> Path:
    """A scratch copy of the workflow with the micro config as config/micro.yaml."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "workflow", work / "workflow")
    shutil.copytree(REPO / "config", work / "config")
    shutil.copy(REPO / "environment.yml", work / "environment.yml")  # the rules' conda directive
    shutil.copy(MICRO_CONFIG, work / "config" / "micro.yaml")
    # the judge path (Table 3) runs on a tiny random model built here: no judge is downloadable
    from .judge.tiny import build_tiny_judge

    build_tiny_judge(work / "tiny_judge")
    # relative to the working directory, so that two working directories resolve the same config
    with open(work / "config" / "micro.yaml", "a", encoding="utf-8") as f:
        f.write("judge:\n  models:\n    tiny:\n      path: tiny_judge\n  batch_size: 16\n")
    return work


def micro_command(*args: str) -> list[str]:
    # args (targets included) before --configfile, which takes every value that follows it
    return [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", "config/micro.yaml"]


def micro_snakemake(work: Path, *args: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    return subprocess.run(
        micro_command(*args), cwd=work, capture_output=True, text=True, timeout=timeout, check=False
    )


# Under pytest-xdist (`make test`: `-n auto --dist loadgroup`) a session or module fixture is built
# once per worker that needs it. Tests that share an expensive fixture are therefore one group, run
# by one worker: the micro workflow run (smoke suite, kill-resume suite, and the DAG checks that
# run Snakemake in the repository itself), a test package whose conftest holds session fixtures,
# otherwise a file (its module fixtures).
MICRO_GROUP = {"smoke/test_workflow.py", "smoke/test_dag.py", "reliability/test_kill_resume.py"}


def xdist_group_of(path: Path) -> str:
    rel = path.relative_to(Path(__file__).parent).as_posix()
    if rel in MICRO_GROUP:
        return "micro"
    conftest = path.parent / "conftest.py"
    if path.parent != Path(__file__).parent and conftest.exists():
        if 'scope="session"' in conftest.read_text(encoding="utf-8"):
            return path.parent.name
    return rel


@pytest.hookimpl(wrapper=True)  # before every other implementation: xdist reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group_of(Path(str(item.fspath)))))
    # the longest group first, so that the other worker takes everything else meanwhile
    items.sort(key=lambda item: item.get_closest_marker("xdist_group").args[0] != "micro")
    return (yield)


@pytest.fixture(scope="session")
def micro_clean_run(tmp_path_factory) -> Path:
    """One uninterrupted micro workflow run per session, shared by the smoke and reliability
    suites (the reference the interrupted runs must reproduce byte for byte)."""
    work = micro_workdir(tmp_path_factory.mktemp("micro_clean"))
    proc = micro_snakemake(work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return work


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def make_raw(**overrides) -> dict:
    """A valid raw record (the loader output schema) with fields overridable by keyword."""
    raw = {
        "dataset": "toy",
        "language": "en",
        "family": "dialogue",
        "situation": "open_chat",
        "question": "How are you?",
        "context": "",
        "history": [],
        "human_answer": "Fine, thanks.",
        "source_split": None,
        "split_key": "toy:1",
        "where": "toy.jsonl:1",
        "meta": {"source_id": "1"},
    }
    raw.update(overrides)
    return raw


def build_tiny_tokenizer(
    corpus: list[str],
    vocab_size: int = 320,
    bos: str | None = "<s>",
    eos: str | None = "</s>",
    pad: str | None = "<pad>",
):
    """A byte-level BPE tokenizer trained offline on `corpus` (special tokens <s>, </s> and, when
    `pad` is given, <pad>; bos/eos None leave the tokenizer without that token)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<s>", "</s>"] + ([pad] if pad else [])
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=special,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    kwargs = {
        name: value for name, value in (("bos_token", bos), ("eos_token", eos), ("pad_token", pad)) if value
    }
    return PreTrainedTokenizerFast(tokenizer_object=tok, **kwargs)


TINY_LLAMA = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128,
}


def build_tiny_llama(vocab_size: int, seed: int = 0, **overrides):
    """A random LlamaForCausalLM of TINY_LLAMA's size (keys overridable), in eval mode, its
    weights fixed by `seed`. The project's own model factory is tested with tests/models/micro.py."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=vocab_size, **{**TINY_LLAMA, **overrides})).eval()


@pytest.fixture(scope="session")
def tiny_lm():
    """The one tiny-model builder of the tests: tiny_lm(vocab_size, seed=0, **config overrides)."""
    return build_tiny_llama
