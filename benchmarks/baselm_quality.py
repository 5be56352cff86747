"""How well a BaseLM and the systems built on it speak: held-out perplexity and generated vocabulary.

For each run directory given (e.g. one built before and one after a change of the BaseLM's
pre-training), on the same held-out human answers (the test split of the alignment corpus) and
the same reference text:

- per-character perplexity of the BaseLM, per language: exp(total NLL of the answer tokens given
  the plain chat prompt, eos excluded / total characters of those answers); per character, so
  that tokenizers of different sizes compare;
- for each system's test generations of one seed: the share of generated English words (ASCII
  letter runs, lower-cased) found among the words of the reference text, and the share of
  generated Chinese character bigrams (two adjacent CJK characters) found in the reference text.

The reference text is the pre-training text of the newer run plus the train split (everything the
new BaseLM saw), the same set for every run, so the shares compare.

    python benchmarks/baselm_quality.py --run old=/path/to/old --run new=results --seed 0
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import torch

from polyalign.io import read_jsonl
from polyalign.models.runtime import load_for_inference
from polyalign.train.data import IGNORE_INDEX, build_examples, collate
from polyalign.train.logprobs import response_logps

WORD = re.compile(r"[a-z]+")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
SYSTEMS = ("base", "sft", "bucket_sft", "dpo", "hdpo")


def cjk_bigrams(text: str) -> list[str]:
    return [a + b for a, b in zip(text, text[1:]) if CJK.match(a) and CJK.match(b)]


def per_char_perplexity(model_dir: Path, test: list[dict], batch_size: int = 32) -> dict:
    model, tokenizer = load_for_inference(model_dir, device="cpu", dtype="float32")
    out = {}
    for lang in sorted({r["language"] for r in test}):
        records = [r for r in test if r["language"] == lang]
        examples = build_examples(
            records,
            tokenizer,
            "plain",
            max_length=model.config.max_position_embeddings,
            max_prompt_tokens=96,
            max_history_turns=4,
        )
        nll = chars = cut = 0
        for i in range(0, len(examples), batch_size):
            chunk, recs = examples[i : i + batch_size], records[i : i + batch_size]
            for e in chunk:  # eos excluded: the characters alone are scored
                if e.labels[-1] == tokenizer.eos_token_id:
                    e.labels[-1] = IGNORE_INDEX
            kept = [(e, r) for e, r in zip(chunk, recs) if e.input_ids[-1] == tokenizer.eos_token_id]
            cut += len(chunk) - len(kept)
            if not kept:
                continue
            batch = collate([e for e, _ in kept], tokenizer.pad_token_id)
            with torch.no_grad():
                logps = response_logps(model, batch["input_ids"], batch["attention_mask"], batch["labels"])
            nll -= float(logps.sum())
            chars += sum(len(r["human_answer"]) for _, r in kept)
        out[lang] = {"per_char_perplexity": math.exp(nll / chars), "answers": len(records) - cut, "cut": cut}
    return out


def reference_vocabulary(pretrain_text: Path, train: list[dict]) -> tuple[set[str], set[str]]:
    texts = [seg for d in read_jsonl(pretrain_text) for seg in d["segments"]]
    texts += [r["human_answer"] for r in train] + [r["question"] for r in train]
    words = {w for t in texts for w in WORD.findall(t.lower())}
    bigrams = {b for t in texts for b in cjk_bigrams(t)}
    return words, bigrams


def generation_shares(generations: Path, words: set[str], bigrams: set[str]) -> dict:
    rows = read_jsonl(generations)
    gen_words = [w for r in rows for w in WORD.findall(r["answer"].lower())]
    gen_bigrams = [b for r in rows for b in cjk_bigrams(r["answer"])]
    return {
        "en_words": len(gen_words),
        "en_words_known": sum(w in words for w in gen_words) / max(len(gen_words), 1),
        "zh_bigrams": len(gen_bigrams),
        "zh_bigrams_seen": sum(b in bigrams for b in gen_bigrams) / max(len(gen_bigrams), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", required=True, help="name=results directory (repeatable)")
    ap.add_argument(
        "--reference-run",
        default=None,
        help="results directory holding corpus/pretrain_text.jsonl (default: the last --run)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    runs = dict(item.split("=", 1) for item in args.run)
    reference = Path(args.reference_run or list(runs.values())[-1])
    test = read_jsonl(reference / "corpus" / "test.jsonl")
    words, bigrams = reference_vocabulary(
        reference / "corpus" / "pretrain_text.jsonl", read_jsonl(reference / "corpus" / "train.jsonl")
    )
    report = {}
    for name, root in runs.items():
        root = Path(root)
        report[name] = {"perplexity": per_char_perplexity(root / "models" / "base", test), "generations": {}}
        for system in SYSTEMS:
            path = root / f"seed{args.seed}" / "generations" / system / "test.jsonl"
            if path.exists():
                report[name]["generations"][system] = generation_shares(path, words, bigrams)
    for name, r in report.items():
        ppl = ", ".join(
            f"{lang} {v['per_char_perplexity']:.2f} (n={v['answers']})" for lang, v in r["perplexity"].items()
        )
        print(f"{name}: BaseLM per-character perplexity {ppl}")
        for system, g in r["generations"].items():
            print(
                f"  {system:<11} English words known {g['en_words_known']:.3f} (of {g['en_words']}), "
                f"Chinese bigrams seen {g['zh_bigrams_seen']:.3f} (of {g['zh_bigrams']})"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
