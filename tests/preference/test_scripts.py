"""The three thin workflow scripts, run as Snakemake runs them (a `snakemake` object in their
globals), chained on a micro model: build_pairs -> reference_logps -> train_preference (DPO)."""

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from polyalign.config import fill_defaults
from polyalign.io import read_jsonl, write_jsonl
from polyalign.prompts import render_prompt
from polyalign.references import build_references, write_references

from .conftest import MODEL, PROMPT, micro_config, record, sample_row

SCRIPTS = Path(__file__).resolve().parents[2] / "workflow" / "scripts"


def run_script(name, config, tmp_path, input, output, **params):
    smk = SimpleNamespace(
        input=SimpleNamespace(**input),
        output=SimpleNamespace(**output),
        # the rule passes the settings as params; no config, so a script that
        # still read snakemake.config would fail here
        params=SimpleNamespace(settings=fill_defaults(config), **params),
        config=None,
        log=[str(tmp_path / "logs" / f"{name}.log")],
        threads=1,
        resources=SimpleNamespace(gpu=1),
    )
    runpy.run_path(str(SCRIPTS / f"{name}.py"), init_globals={"snakemake": smk})


def policy_inputs(tok, tmp_path):
    """Train records, SFT's plain samples (samples.jsonl) and Bucket-SFT's profile samples
    (companion.jsonl) of six prompts, and the references of their one bucket."""
    recs = [record(i) for i in range(6)]
    samples = [
        sample_row(
            r, MODEL[i], prompt=render_prompt(r, tok, None, "plain", None, PROMPT["max_prompt_tokens"])
        )
        for i, r in enumerate(recs)
    ]
    samples[5]["output"] = recs[5]["human_answer"]  # identical: dropped
    companion = [
        dict(sample_row(r, MODEL[i]), style="profile", profile_length="gold", length_bin=r["length_bin"])
        for i, r in enumerate(recs)
    ]
    companion[4]["output"] = ""  # the HDPO policy gives no pair for r4: DPO drops it too
    write_jsonl(tmp_path / "train.jsonl", recs)
    write_jsonl(tmp_path / "samples.jsonl", samples)
    write_jsonl(tmp_path / "companion.jsonl", companion)
    # references of the one bucket of the records (plain DPO reads the references, not the critic)
    feats = np.zeros((len(recs), 1))
    write_references(
        tmp_path / "refs.json",
        build_references(
            feats, [r["bucket_id"] for r in recs], [r["language"] for r in recs], ["f"], 1, scopes=["all"]
        ),
    )


def build_pairs_script(config, tmp_path, companion, **params):
    """Rule build_pairs on the policy inputs of `policy_inputs`; its pairs and report paths."""
    pairs, report = tmp_path / "pairs.jsonl", tmp_path / "report.json"
    run_script(
        "build_pairs",
        config,
        tmp_path,
        {
            "train": str(tmp_path / "train.jsonl"),
            "samples": str(tmp_path / "samples.jsonl"),
            "companion": companion,
            "references": str(tmp_path / "refs.json"),
        },
        {"pairs": str(pairs), "report": str(report)},
        **params,
    )
    return pairs, report


def reference_and_train_scripts(config, tmp_path, pairs, start, out, system, **train_params):
    """Rules reference_logps and train_preference from `start`; the log-prob and summary paths."""
    logps, summary = tmp_path / "ref.jsonl", tmp_path / "ref_summary.json"
    run_script(
        "reference_logps",
        config,
        tmp_path,
        {"pairs": str(pairs), "model": str(start)},
        {"logps": str(logps), "summary": str(summary)},
        system=system,
    )
    run_script(
        "train_preference",
        config,
        tmp_path,
        {"pairs": str(pairs), "reference": str(logps), "model": str(start)},
        {"summary": str(out)},
        system=system,
        **train_params,
    )
    return logps, summary


def test_scripts_chain_dpo(micro, tmp_path):
    start, tok = micro
    policy_inputs(tok, tmp_path)
    config = micro_config(max_steps=2)
    companion = str(tmp_path / "companion.jsonl")
    pairs, report = build_pairs_script(config, tmp_path, companion, system="dpo", companion_num_samples=[1])
    dropped = json.loads(report.read_text())["dropped"]
    assert dropped["identical"] == 1 and dropped["dropped_for_companion"] == 1
    assert len(read_jsonl(pairs)) == 4

    out = tmp_path / "models" / "dpo" / "train_summary.json"
    logps, summary = reference_and_train_scripts(config, tmp_path, pairs, start, out, "dpo")
    assert len(read_jsonl(logps)) == 4 and json.loads(summary.read_text())["pairs"] == 4
    s = json.loads(out.read_text())
    assert s["stage"] == "dpo" and s["train"]["steps"] == 2 and s["loss"]["lam"] == 0.0
    assert (out.parent / "model.safetensors").is_file() and (out.parent / "train_log.jsonl").is_file()
    assert "finished in" in (tmp_path / "logs" / "train_preference.log").read_text()


def test_scripts_chain_a_variant_starting_from_sft(micro, tmp_path):
    """HDPO from SFT: HDPO's settings on SFT's plain samples, with DPO's and HDPO's policies as
    companions (the prompts its parent trains on), SFT's checkpoint as start and reference."""
    start, tok = micro
    policy_inputs(tok, tmp_path)
    config = micro_config(max_steps=1)
    config["hdpo"] = {"critic": False, "lam": 0.0}  # no critic bundle here (the DAG test has HDPO's)
    companion = [str(tmp_path / "samples.jsonl"), str(tmp_path / "companion.jsonl")]
    pairs, report = build_pairs_script(
        config, tmp_path, companion, system="hdpo", start_policy="sft", companion_num_samples=[1, 1]
    )
    built = json.loads(report.read_text())
    assert (built["start_policy"], built["style"], built["dropped"]["dropped_for_companion"]) == (
        "sft",
        "plain",
        1,
    )
    assert all(p["style"] == "plain" for p in read_jsonl(pairs)) and len(read_jsonl(pairs)) == 4

    out = tmp_path / "models" / "hdpo_from_sft" / "train_summary.json"
    reference_and_train_scripts(config, tmp_path, pairs, start, out, "hdpo", start_policy="sft")
    s = json.loads(out.read_text())
    assert (s["stage"], s["start_policy"], s["pairs"]) == ("hdpo", "sft", 4)
