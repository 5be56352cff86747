"""Time the supervised part of the embedded profile: tokenizer, base pretraining, SFT,
Bucket-SFT and every generation pass (4 systems on the test split, SFT and Bucket-SFT on the
train prompts), with the embedded default config (or a YAML config given with --config).

Data: results/corpus/{train,test}.jsonl when present, else realistic records built here from
the installed chatterbot-corpus and chitchat-dataset packages (about 5,000 train records).

    python benchmarks/bench_supervised.py [--config config/config.yaml] [--train-prompts 5000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

from polyalign.config import fill_defaults
from polyalign.generation.generate import generate_records, generation_settings
from polyalign.io import read_jsonl
from polyalign.models import build_tokenizer, load_model, model_settings
from polyalign.prompts import LengthSampler, prompt_scaffold_texts, prompt_settings
from polyalign.text import count_length_tokens, length_bin, normalize_text
from polyalign.train.sft import pretrain_base, train_sft

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = (10, 25, 40)


def _record(i, dataset, language, family, situation, turns, t, conv):
    history = [{"role": "user" if (t - 1 - k) % 2 else "assistant", "text": turns[k]} for k in range(t - 1)]
    lb = length_bin(count_length_tokens(turns[t]), THRESHOLDS)
    track = "multi" if history else "single"
    split_u = int(hashlib.md5(f"42:{dataset}:{conv}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return {
        "id": f"{dataset}-{i}",
        "dataset": dataset,
        "split": "train" if split_u <= 0.8 else ("val" if split_u <= 0.9 else "test"),
        "language": language,
        "track": track,
        "family": family,
        "situation": situation,
        "length_bin": lb,
        "question": turns[t - 1],
        "context": "",
        "history": history,
        "human_answer": turns[t],
        "bucket_id": f"{language}|{track}|{family}|{lb}",
        "meta": {"conversation": conv, "turn": t},
    }


def realistic_records(n_chitchat: int = 220, seed: int = 0) -> list[dict]:
    """chatterbot (en + zh) and a seeded subsample of chitchat conversations as records."""
    import chatterbot_corpus
    import chitchat_dataset
    import yaml

    families = {
        "conversations": "dialogue",
        "greetings": "dialogue",
        "emotion": "dialogue",
        "gossip": "dialogue",
        "humor": "dialogue",
        "ai": "assistant",
        "botprofile": "assistant",
        "computers": "assistant",
        "coding": "assistant",
        "tech_support": "assistant",
    }
    situations = {"dialogue": "open_chat", "assistant": "assistant_like", "qa": "qa_search"}
    records = []
    data = Path(chatterbot_corpus.__file__).parent / "data"
    for lang, folder in (("en", "english"), ("zh", "chinese")):
        for f in sorted((data / folder).glob("*.yml")):
            family = families.get(f.stem, "qa")
            doc = yaml.safe_load(f.read_text(encoding="utf-8"))
            for c, conv in enumerate(doc.get("conversations") or []):
                turns = [normalize_text(str(x)) for x in conv if str(x).strip()]
                for t in range(1, len(turns)):
                    records.append(
                        _record(
                            len(records),
                            "chatterbot",
                            lang,
                            family,
                            situations[family],
                            turns,
                            t,
                            f"{f.stem}{c}",
                        )
                    )
    chats = json.loads((Path(chitchat_dataset.__file__).parent / "dataset.json").read_text())
    keys = sorted(chats)
    for key in random.Random(seed).sample(keys, n_chitchat):
        turns = [normalize_text("\n".join(m["text"] for m in group)) for group in chats[key]["messages"]]
        turns = [t for t in turns if t]
        for t in range(1, len(turns)):
            records.append(_record(len(records), "chitchat", "en", "dialogue", "open_chat", turns, t, key))
    return records


def load_data():
    corpus = ROOT / "results" / "corpus"
    if (corpus / "train.jsonl").exists() and (corpus / "test.jsonl").exists():
        return read_jsonl(corpus / "train.jsonl"), read_jsonl(corpus / "test.jsonl"), "results/corpus"
    records = realistic_records()
    return (
        [r for r in records if r["split"] == "train"],
        [r for r in records if r["split"] == "test"],
        "packages",
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", help="YAML config (default: the embedded defaults)")
    ap.add_argument(
        "--train-prompts", type=int, default=None, help="train prompts sampled per SFT system (default: all)"
    )
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = {}
    if args.config:
        import yaml

        config = yaml.safe_load(Path(args.config).read_text())
    config = fill_defaults(config)  # the schema's defaults, as resolve_config gives the workflow
    train, test, source = load_data()
    print(f"data: {source}, train {len(train)}, test {len(test)}", flush=True)
    times, total0, cpu0 = {}, time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0, c0 = time.perf_counter(), time.process_time()
        tok = build_tokenizer(model_settings(config["model"]), train, prompt_scaffold_texts())
        tok.save_pretrained(tmp / "tokenizer")
        times["tokenizer"] = (time.perf_counter() - t0, time.process_time() - c0, None)
        for stage, fn in (
            (
                "pretrain",
                lambda: pretrain_base(train, tmp / "tokenizer", config, tmp / "base", progress=False),
            ),
            ("sft", lambda: train_sft(train, tmp / "base", config, tmp / "sft", "sft", progress=False)),
            (
                "bucket_sft",
                lambda: train_sft(
                    train, tmp / "base", config, tmp / "bucket_sft", "bucket_sft", progress=False
                ),
            ),
        ):
            t0, c0 = time.perf_counter(), time.process_time()
            s = fn()
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            tokens = s["tokens"] * s["train"]["steps"] / s["train"]["steps_per_epoch"]
            times[stage] = (dt, cpu, tokens / dt)
            print(f"{stage}: {dt:.1f}s ({cpu:.1f} cpu s), {s['train']['steps']} steps", flush=True)
        gcfg = generation_settings(config)
        pcfg = prompt_settings(config)
        sampler = LengthSampler.fit(train, seed=gcfg.seed)
        train_prompts = (
            train
            if args.train_prompts is None
            else random.Random(0).sample(train, min(args.train_prompts, len(train)))
        )
        for system, model_dir, records, label in (
            ("base", "base", test, "gen base/test"),
            ("cot", "base", test, "gen cot/test"),
            ("sft", "sft", test, "gen sft/test"),
            ("bucket_sft", "bucket_sft", test, "gen bucket_sft/test"),
            ("sft", "sft", train_prompts, "gen sft/train"),
            ("bucket_sft", "bucket_sft", train_prompts, "gen bucket_sft/train"),
        ):
            model, tokenizer = load_model(tmp / model_dir, model_settings(config["model"]))
            t0, c0 = time.perf_counter(), time.process_time()
            rows = generate_records(
                model,
                tokenizer,
                records,
                system,
                gcfg,
                length_sampler=sampler,
                max_prompt_tokens=pcfg.max_prompt_tokens,
                max_history_turns=pcfg.max_history_turns,
                profile_length=config["profile_length"],
                progress=False,
            )
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            ntok = sum(r["output_tokens"] for r in rows)
            times[label] = (dt, cpu, ntok / dt)
            eos = sum(r["finish_reason"] == "eos" for r in rows) / len(rows)
            print(
                f"{label}: {dt:.1f}s, {len(rows)} rows, eos rate {eos:.2f}, e.g. {rows[0]['output'][:60]!r}",
                flush=True,
            )
    total, total_cpu = time.perf_counter() - total0, time.process_time() - cpu0
    # cpu s = CPU time of this process: on a machine shared with other jobs it is closer to the
    # wall time an idle machine would take than the wall time itself.
    print(f"\n{'stage':<22}{'wall s':>9}{'cpu s':>9}{'tokens/s':>12}")
    for k, (dt, cpu, tps) in times.items():
        print(f"{k:<22}{dt:>9.1f}{cpu:>9.1f}{(f'{tps:,.0f}' if tps else '-'):>12}")
    print(f"{'total (incl. loading)':<22}{total:>9.1f}{total_cpu:>9.1f}")


if __name__ == "__main__":
    sys.exit(main())
