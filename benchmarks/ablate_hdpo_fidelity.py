"""Language-fidelity ablation of HDPO: how often does it answer Chinese prompts in Latin script,
and which preference setting keeps it in Chinese without costing quality (docs/experiments/hdpo_language_fidelity.md).

Works on a COPY of a finished run of the workflow (every output present; `cp -a` keeps the
mtimes, so Snakemake reuses everything). For each variant it writes the variant's keys into the
copy's `hdpo:` config block, retrains only HDPO of the given seed from the existing Bucket-SFT
checkpoint, pairs and reference log-probs (loss and training-loop keys, which none of those
depend on; a pair-weighting key also rebuilds HDPO's pairs and their reference log-probs from
the existing samples and critic), regenerates its test outputs and re-evaluates it, then archives
the HDPO artefacts of that variant under `<run>/ablation/<variant>/seed<seed>/` and restores
the run's own HDPO artefacts and config. The run's own outputs are the `default` row.

    python benchmarks/ablate_hdpo_fidelity.py RUN_DIR [--seeds 0] [--variants gamma_sft_0.5 ...]
        [--snakemake RUN_DIR/.venv/bin/snakemake] [--cores 2] [--displacement]

Snakemake runs with `--rerun-triggers mtime --forcerun train_preference` (plus build_pairs and
reference_logps for pair-weighting keys), targeting results/metrics/seed<seed>/hdpo.json; its
dry run must plan nothing but the HDPO jobs of that seed (those rules, generate_test, features,
embeddings, evaluate_system), else the script stops. Run two copies side by side to use two
cores (`--cores 1` each); about 3-6 min per variant on the embedded default on a shared machine. Results: `<run>/ablation/results.json` (one row per variant and seed, resumable: a row
already there is not recomputed) and a markdown table on stdout.

Measured per row: the share of Chinese test prompts answered mostly in Latin script (more ASCII
letters than CJK ideographs; the complement of language fidelity, up to outputs without any
script character), the headline metrics (overall and per language) of the per-seed metrics file,
and with --displacement the mean change of the policy's per-token log-prob of the chosen and the
rejected answers of its training pairs, per pair language (trained HDPO minus the Bucket-SFT
reference): the signature of likelihood displacement.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

# Keys a variant may set: the loss and the training loop (pairs, critic scores and reference
# log-probs do not depend on them, so only HDPO's training and everything after it rerun), and
# the pair weighting of HDPO's own pairs (then its pairs and reference log-probs are rebuilt too;
# the policy samples and the critic are shared and stay).
LOSS_KEYS = {"beta", "lam", "gamma_sft", "anchor_weighting"} | {
    "lr", "epochs", "max_steps", "warmup_ratio", "weight_decay"
}  # fmt: skip
PAIR_KEYS = {"language_balance", "pair_weights"}
VARIANT_KEYS = LOSS_KEYS | PAIR_KEYS

# name -> (hdpo overrides, what it tests). Ordered by priority (the script runs them in order).
VARIANTS = {
    "default": ({}, "the run's own HDPO (no retraining)"),
    "gamma_sft_1.0": ({"gamma_sft": 1.0}, "20x stronger SFT anchor on the chosen answers"),
    "gamma_sft_0.5": ({"gamma_sft": 0.5}, "10x stronger SFT anchor"),
    "gamma_sft_0.2": ({"gamma_sft": 0.2}, "4x stronger SFT anchor"),
    "lam_0": ({"lam": 0.0}, "no critic term: DPO + anchor from Bucket-SFT on HDPO's weighted pairs"),
    "dpo_loss": (
        {"lam": 0.0, "gamma_sft": 0.0},
        "plain (weighted) DPO loss from Bucket-SFT: no critic, no anchor",
    ),
    "lr_3e-5": ({"lr": 3.0e-5}, "a third of the learning rate"),
    "beta_0.3": ({"beta": 0.3}, "3x beta (tighter implicit KL to the reference)"),
    "epochs_2": ({"epochs": 2}, "two epochs (more drift?)"),
    "no_language_balance": (
        {"language_balance": False},
        "mean-1 weights with the natural language mix (zh pairs no longer up-weighted ~4x)",
    ),
    "gamma_sft_1.0_no_balance": (
        {"gamma_sft": 1.0, "language_balance": False},
        "stronger anchor and natural language mix",
    ),
    "gamma_sft_1.0_lr_3e-5": ({"gamma_sft": 1.0, "lr": 3.0e-5}, "stronger anchor and a third of the step"),
    "anchor_pw": (
        {"anchor_weighting": "pair_weights"},
        "SFT anchor weighted by the pair weights (zh chosen answers held with the mass that pushes them)",
    ),
    "anchor_pw_0.2": (
        {"anchor_weighting": "pair_weights", "gamma_sft": 0.2},
        "pair-weighted anchor, 4x stronger",
    ),
    "anchor_pw_0.5": (
        {"anchor_weighting": "pair_weights", "gamma_sft": 0.5},
        "pair-weighted anchor, 10x stronger",
    ),
    "anchor_pw_1.0": (
        {"anchor_weighting": "pair_weights", "gamma_sft": 1.0},
        "pair-weighted anchor, 20x stronger",
    ),
    "anchor_pw_lr_3e-5": (
        {"anchor_weighting": "pair_weights", "lr": 3.0e-5},
        "pair-weighted anchor and a third of the step",
    ),
    "anchor_pw_0.2_lr_3e-5": (
        {"anchor_weighting": "pair_weights", "gamma_sft": 0.2, "lr": 3.0e-5},
        "pair-weighted 4x anchor and a third of the step",
    ),
    "anchor_pw_1.0_lr_3e-5": (
        {"anchor_weighting": "pair_weights", "gamma_sft": 1.0, "lr": 3.0e-5},
        "pair-weighted 20x anchor and a third of the step",
    ),
}

ALLOWED_RULES = {"train_preference", "generate_test", "features_test", "evaluate_system"}
PAIR_RULES = {"build_pairs", "reference_logps"}


def forced_rules(overrides: dict) -> list[str]:
    """The rules a variant reruns (Snakemake --forcerun); everything downstream follows by mtime."""
    return ["train_preference", *(sorted(PAIR_RULES) if set(overrides) & PAIR_KEYS else [])]


def hdpo_artefacts(seed: int) -> list[str]:
    """Run-relative paths of everything a retraining of HDPO (seed `seed`) rewrites."""
    s = f"results/seed{seed}"
    return [
        f"{s}/pairs/hdpo.jsonl",
        f"{s}/pairs/hdpo_report.json",
        f"{s}/pairs/hdpo_reference_logps.jsonl",
        f"{s}/pairs/hdpo_reference_logps_summary.json",
        f"{s}/models/hdpo",
        f"{s}/generations/hdpo",
        f"{s}/features/hdpo_test.npz",
        f"{s}/embeddings/hdpo.npz",
        f"results/metrics/seed{seed}/hdpo.json",
        f"results/metrics/seed{seed}/hdpo.resample.npz",
    ]


def script_shares(texts, languages) -> dict:
    """Per prompt language: n, and the shares of outputs mostly in Latin script (more ASCII
    letters than CJK ideographs), mostly CJK, and without any script character."""
    from polyalign.text import script_profile

    if len(texts) != len(languages):
        raise ValueError(f"{len(texts)} texts for {len(languages)} languages")
    out = {}
    for lang in sorted(set(languages)):
        profiles = [script_profile(t) for t, lg in zip(texts, languages) if lg == lang]
        n = len(profiles)
        out[lang] = {
            "n": n,
            "latin_share": sum(lat > cjk for cjk, lat in profiles) / n,
            "cjk_share": sum(cjk > lat for cjk, lat in profiles) / n,
            "no_script_share": sum(cjk + lat == 0 for cjk, lat in profiles) / n,
        }
    return out


def variant_config(config_text: str, overrides: dict) -> dict:
    """The run's config with `overrides` merged into its `hdpo:` block."""
    bad = set(overrides) - VARIANT_KEYS
    if bad:
        raise ValueError(
            f"variant keys {sorted(bad)} would change pairs or samples (allowed: {sorted(VARIANT_KEYS)})"
        )
    config = yaml.safe_load(config_text)
    config["hdpo"] = {**(config.get("hdpo") or {}), **overrides}
    return config


def planned_jobs(dry_run: str) -> list[dict]:
    """(rule, outputs) of every job a `snakemake -n` output plans."""
    jobs, current = [], None
    for line in dry_run.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):$", line.strip()):
            current = {"rule": m.group(1), "output": []}
            jobs.append(current)
        elif current is not None and line.strip().startswith("output: "):
            current["output"] = [p.strip() for p in line.strip()[8:].split(",")]
    return jobs


def check_plan(jobs: list[dict], seed: int, forced: list[str] = ("train_preference",)) -> None:
    """Only HDPO jobs of `seed`, the forced rules among them."""
    allowed = ALLOWED_RULES | set(forced)
    wrong = [
        j
        for j in jobs
        if j["rule"] not in allowed
        or not j["output"]
        or not all("hdpo" in p and f"seed{seed}/" in p for p in j["output"])
    ]
    if wrong or not set(forced) <= {j["rule"] for j in jobs}:
        raise SystemExit(f"snakemake plans more (or other) than HDPO of seed {seed}: {wrong or jobs}")


def headline(metrics_path: Path) -> dict:
    """{scope: {aggregate, g_mauve, qa_f1, bng_macro, language_fidelity}} of a metrics file."""
    keys = ("aggregate", "g_mauve", "qa_f1", "bng_macro", "language_fidelity")
    result = json.loads(metrics_path.read_text(encoding="utf-8"))
    return {scope: {k: h.get(k) for k in keys} for scope, h in result["headline"].items()}


def measure(run: Path, seed: int, system: str = "hdpo", root: Path | None = None) -> dict:
    """Script shares of a system's test outputs and its headline metrics: the run's test split,
    the outputs and metrics under `root` (default: the run itself; else an archived variant)."""
    from polyalign.io import read_jsonl

    root = root or run
    language = {r["id"]: r["language"] for r in read_jsonl(run / "results/corpus/test.jsonl")}
    gens = read_jsonl(root / f"results/seed{seed}/generations/{system}/test.jsonl")
    shares = script_shares([g["answer"] for g in gens], [language[g["id"]] for g in gens])
    return {"scripts": shares, "headline": headline(root / f"results/metrics/seed{seed}/{system}.json")}


def displacement(root: Path, seed: int, config: dict) -> dict:
    """Per pair language: mean change (trained minus reference) of the per-token log-prob of the
    chosen and of the rejected answers of HDPO's training pairs (files under `root`)."""
    from polyalign.io import read_jsonl
    from polyalign.preference.reference_cache import build_reference_cache, read_reference_cache

    model_dir = root / f"results/seed{seed}/models/hdpo"
    pairs = read_jsonl(root / f"results/seed{seed}/pairs/hdpo.jsonl")
    ref = read_reference_cache(root / f"results/seed{seed}/pairs/hdpo_reference_logps.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "policy.jsonl"
        build_reference_cache(pairs, model_dir, config, "hdpo", out, progress=False)
        pol = read_reference_cache(out)
    acc: dict = {}
    for p in pairs:
        r, q = ref[p["id"]], pol[p["id"]]
        a = acc.setdefault(p["language"], {"n": 0, "chosen": 0.0, "rejected": 0.0})
        a["n"] += 1
        a["chosen"] += (q["ref_chosen"] - r["ref_chosen"]) / r["chosen_tokens"]
        a["rejected"] += (q["ref_rejected"] - r["ref_rejected"]) / max(r["rejected_tokens"], 1)
    return {
        lang: {
            "pairs": a["n"],
            "d_chosen_per_token": a["chosen"] / a["n"],
            "d_rejected_per_token": a["rejected"] / a["n"],
        }
        for lang, a in sorted(acc.items())
    }


def copy_paths(src_root: Path, dst_root: Path, rels: list[str]) -> None:
    """Copy run-relative paths (files or folders) keeping mtimes; a missing source raises."""
    for rel in rels:
        src, dst = src_root / rel, dst_root / rel
        if dst.exists():
            shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, copy_function=shutil.copy2)
        elif src.is_file():
            shutil.copy2(src, dst)
        else:
            raise FileNotFoundError(f"{src}: missing (is {src_root} a finished run?)")


def snakemake(args, run: Path, seed: int, forced: list[str], dry: bool) -> str:
    cmd = [
        args.snakemake,
        "--cores",
        str(args.cores),
        "--rerun-triggers",
        "mtime",
        "--forcerun",
        *forced,
        *(["-n"] if dry else []),
        "--",
        f"results/metrics/seed{seed}/hdpo.json",
    ]
    done = subprocess.run(cmd, cwd=run, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout + done.stderr


def run_variant(args, run: Path, name: str, seed: int, config_text: str, config_path: Path) -> dict:
    overrides, what = VARIANTS[name]
    store = run / "ablation" / name / f"seed{seed}"
    backup = run / "ablation" / "_run_own" / f"seed{seed}"
    config = variant_config(config_text, overrides)
    if name != "default":
        copy_paths(run, backup, [r for r in hdpo_artefacts(seed) if not (backup / r).exists()])
        config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
        try:
            forced = forced_rules(overrides)
            check_plan(planned_jobs(snakemake(args, run, seed, forced, dry=True)), seed, forced)
            snakemake(args, run, seed, forced, dry=False)
            copy_paths(run, store, hdpo_artefacts(seed))
        finally:
            config_path.write_text(config_text, encoding="utf-8")
            copy_paths(backup, run, hdpo_artefacts(seed))
        source = store
    else:
        source = run
    row = {
        "variant": name,
        "seed": seed,
        "overrides": overrides,
        "what": what,
        **measure(run, seed, root=source),
    }
    summary = json.loads(
        (source / f"results/seed{seed}/models/hdpo/train_summary.json").read_text(encoding="utf-8")
    )
    row["loss"] = summary["loss"]
    row["train_config"] = {k: summary["train_config"][k] for k in ("lr", "epochs")}
    row["steps"] = summary["train"]["steps"]
    if args.displacement:
        row["displacement"] = displacement(source, seed, config)
    return row


def context_rows(run: Path, seeds: list[int], systems: list[str]) -> list[dict]:
    return [{"variant": f"run:{s}", "seed": seed, **measure(run, seed, s)} for seed in seeds for s in systems]


def markdown(rows: list[dict]) -> str:
    lines = [
        "| variant | seed | zh mostly Latin | zh no script | Aggregate | G-MAUVE | QA-F1 | BNG-macro | Aggregate zh | QA-F1 zh |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        zh, h = r["scripts"]["zh"], r["headline"]
        top = h["overall"]
        lines.append(
            f"| {r['variant']} | {r['seed']} | {zh['latin_share']:.1%} ({round(zh['latin_share'] * zh['n'])}/{zh['n']}) "
            f"| {zh['no_script_share']:.1%} | {top['aggregate']:.3f} | {top['g_mauve']:.3f} | {top['qa_f1']:.3f} "
            f"| {top['bng_macro']:.3f} | {h['zh']['aggregate']:.3f} | {h['zh']['qa_f1']:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a copy of a finished run (it is modified, then restored)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument(
        "--context", nargs="*", default=["sft", "bucket_sft", "dpo"], help="systems shown as they are"
    )
    ap.add_argument("--snakemake", default=None, help="default: RUN/.venv/bin/snakemake")
    ap.add_argument(
        "--config",
        default="config/config.yaml",
        help="run-relative config file the workflow reads by default (no --configfile is passed)",
    )
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument(
        "--displacement", action="store_true", help="also measure chosen/rejected log-prob shifts"
    )
    args = ap.parse_args(argv)
    run = args.run.resolve()
    args.snakemake = args.snakemake or str(run / ".venv/bin/snakemake")
    config_path = run / args.config
    # The run's own config, kept beside the archives: an interrupted variant cannot leave its
    # keys behind as the next start's "original".
    own_config = run / "ablation" / "_run_own" / "config.yaml"
    if not own_config.exists():
        own_config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(config_path, own_config)
    config_text = own_config.read_text(encoding="utf-8")
    out = run / "ablation" / "results.json"
    rows = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
    done = {(r["variant"], r["seed"]) for r in rows}
    for seed in args.seeds:
        for name in args.variants:
            if (name, seed) in done:
                continue
            row = run_variant(args, run, name, seed, config_text, config_path)
            rows.append(row)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(rows, indent=1, sort_keys=True), encoding="utf-8")
            zh = row["scripts"]["zh"]
            print(f"{name} seed {seed}: zh mostly Latin {zh['latin_share']:.1%}", flush=True)
    context = context_rows(run, args.seeds, args.context)
    print(markdown(context + [r for r in rows if r["seed"] in args.seeds]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
