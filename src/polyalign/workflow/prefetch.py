"""Every model and hub corpus a config names, downloaded where the network is, for an offline node.

    python -m polyalign.workflow.prefetch --configfile config/paper.yaml --out /shared/polyalign-hub

downloads each hub model the run loads (the preset `model.preset` selects, or every preset with
`--all-presets`; the judges, the detectors, the MAUVE encoder) and each
hub dataset of the corpora into `<out>/hub` (the Hugging Face cache layout), writes
`<out>/revisions.json` (the commit each one was downloaded at) and `<out>/overlay.yaml`, a config
that points every one of them at its local copy (absolute paths, so it also sets
`allow_external_paths: true`). Run the workflow with both config files:

    snakemake --cores all --configfile config/paper.yaml <out>/overlay.yaml

Gated repositories (Llama, Gemma) need their licence accepted on the hub page and a token in
HF_TOKEN; a refusal names both. Corpora given as local folders (`path:`) are not downloaded.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from ..models.presets import resolve_model_block

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# The hub dataset each paper corpus loader reads when the config gives no `path` (the defaults
# written in polyalign.data.paper; tests/test_prefetch.py checks that they agree).
CORPUS_HUB_IDS = {
    "dolly": "databricks/databricks-dolly-15k",
    "dailydialog": "roskoN/dailydialog",
    "ms_marco": "microsoft/ms_marco",
    "coqa": "stanfordnlp/coqa",
    "squad_v2": "rajpurkar/squad_v2",
    "natural_questions": "sentence-transformers/natural-questions",
    "coig_cqia": "m-a-p/COIG-CQIA",
    "hc3_chinese": "Hello-SimpleAI/HC3-Chinese",
    "oasst2_zh": "OpenAssistant/oasst2",
    "cmrc2018": "hfl/cmrc2018",
    "drcd": "voidful/DRCD",
}
# Organisations whose models need an accepted licence and a token.
GATED_ORGS = ("meta-llama/", "google/gemma")


def is_remote_hub_id(value) -> bool:
    return isinstance(value, str) and bool(HUB_ID.match(value)) and not Path(value).exists()


def named_models(config: dict, all_presets: bool = False) -> dict[tuple, str]:
    """{config key path: hub id} of every model the config's run loads: the preset that
    `model.preset` selects (each of `model_presets` with `all_presets`), or `model.path`, which
    replaces the preset's source; the judges, the detectors' models and the MAUVE encoder."""
    found = {}
    model = config.get("model") or {}
    presets = config.get("model_presets") or {}
    if all_presets:
        chosen = list(presets)
    elif model.get("path") or not model.get("preset"):
        chosen = []
    else:
        resolve_model_block(config)  # refuses an unknown preset as the workflow does
        chosen = [model["preset"]]
    for name in chosen:
        found[("model_presets", name, "source")] = presets[name].get("source")
    if model.get("path"):
        found[("model", "path")] = model["path"]
    for name, judge in ((config.get("judge") or {}).get("models") or {}).items():
        found[("judge", "models", name, "path")] = judge.get("path")
    for name, detector in (config.get("detectors") or {}).items():
        if isinstance(detector, dict):
            for key, value in detector.items():
                found[("detectors", name, key)] = value
    found[("embeddings", "encoder")] = (config.get("embeddings") or {}).get("encoder")
    return {k: v for k, v in found.items() if is_remote_hub_id(v)}


def named_corpora(config: dict) -> dict[tuple, str]:
    """{config key path: hub dataset id} of every corpus read from the hub."""
    found = {}
    for key, source in (config.get("corpora") or {}).items():
        path = (source or {}).get("path", CORPUS_HUB_IDS.get(key))
        if is_remote_hub_id(path):
            found[("corpora", key, "path")] = path
    return found


def _set(tree: dict, keys: tuple, value) -> None:
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
    tree[keys[-1]] = value


def _gated_message(repo: str, error: Exception) -> str:
    return (
        f"{repo} is gated: accept its licence at https://huggingface.co/{repo} with your account, "
        f"then export HF_TOKEN=<a read token of that account> and rerun ({type(error).__name__}: {error})"
    )


def prefetch(
    config: dict, out: str | Path, snapshot_download: Callable | None = None, all_presets: bool = False
) -> dict:
    """Download everything `config`'s run loads into `out` (every preset with `all_presets`);
    returns the overlay (also written)."""
    if snapshot_download is None:
        from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError

    out = Path(out).resolve()
    overlay: dict = {}
    revisions: dict = {}
    wanted = [(k, v, "model") for k, v in named_models(config, all_presets).items()]
    wanted += [(k, v, "dataset") for k, v in named_corpora(config).items()]
    local: dict[tuple, str] = {}
    for keys, repo, kind in wanted:
        if (repo, kind) not in local:
            revision = None if kind == "model" else ((config["corpora"][keys[1]] or {}).get("revision"))
            try:
                path = snapshot_download(repo, repo_type=kind, revision=revision, cache_dir=str(out / "hub"))
            except GatedRepoError as e:
                raise RuntimeError(_gated_message(repo, e)) from e
            local[(repo, kind)] = str(path)
            # the cache layout: .../snapshots/<commit>
            revisions[f"{kind}:{repo}"] = Path(path).name
        _set(overlay, keys, local[(repo, kind)])
    overlay["allow_external_paths"] = True  # its paths are absolute, usually outside the project
    out.mkdir(parents=True, exist_ok=True)
    (out / "revisions.json").write_text(json.dumps(revisions, indent=2, sort_keys=True) + "\n")
    (out / "overlay.yaml").write_text(
        "# Written by python -m polyalign.workflow.prefetch: every hub model and corpus of the config at its\n"
        "# local copy (revisions.json has the commits). Use after the config it was made from.\n"
        + yaml.safe_dump(overlay, sort_keys=True)
    )
    return overlay


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", required=True, help="the config to run later (config/paper.yaml)")
    ap.add_argument("--out", required=True, help="directory for the copies, revisions.json, overlay.yaml")
    ap.add_argument(
        "--all-presets",
        action="store_true",
        help="every model of model_presets, not only the one model.preset selects (to run each in turn)",
    )
    args = ap.parse_args(argv)
    config = yaml.safe_load(Path(args.configfile).read_text(encoding="utf-8"))
    gated = sorted({r for r in named_models(config, args.all_presets).values() if r.startswith(GATED_ORGS)})
    if gated:
        print(f"gated (licence + HF_TOKEN needed): {', '.join(gated)}")
    prefetch(config, args.out, all_presets=args.all_presets)
    print(
        f"wrote {Path(args.out) / 'overlay.yaml'}: run with --configfile {args.configfile} {args.out}/overlay.yaml"
    )


if __name__ == "__main__":
    main()
