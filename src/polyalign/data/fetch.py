"""Write the embedded corpus outside the workflow (what the rule fetch_embedded_corpus does).

    python -m polyalign.data.fetch [--restore-pristine] [--configfile config/config.yaml]

Writes data/chatterbot_corpus and data/chitchat_dataset for the configured seed and
fetch.chitchat_conversations, checked against data.dvc unless fetch.check_dvc_pin is false: e.g.
on a clone that pulled its results from a DVC remote (the raw corpus is not pushed). Like the rule,
it refuses when those folders hold files it did not write, naming them. --restore-pristine first
moves each such folder aside to data/<folder>.user-<UTC time>/ (printed) and then writes the
pristine corpus. Run it from the repository root.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from polyalign.config.schema import fill_defaults
from polyalign.data.fetch_embedded import DATA_DIR, MANIFEST, fetch_embedded, previous_files, workflow_pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument(
        "--restore-pristine",
        action="store_true",
        help="move folders holding files the fetch did not write aside, then write the pristine corpus",
    )
    args = parser.parse_args(argv)
    with open(args.configfile, encoding="utf-8") as f:
        config = fill_defaults(yaml.safe_load(f))
    manifest = fetch_embedded(
        DATA_DIR,
        config["fetch"]["chitchat_conversations"],
        config["seed"],
        pins=workflow_pins(),
        previous=previous_files(MANIFEST),
        restore_pristine=args.restore_pristine,
        check_dvc_pin=config["fetch"]["check_dvc_pin"],
    )
    for name, aside in manifest["moved_aside"].items():
        print(f"moved your version of {DATA_DIR}/{name} aside to {aside}")
    checked = ", ".join(manifest["pin_checked"]) or "nothing (no pin or check off)"
    print(f"wrote the embedded corpus in {DATA_DIR}/; data.dvc pin checked for: {checked}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
