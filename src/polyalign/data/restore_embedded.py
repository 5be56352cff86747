"""Restore the pristine embedded corpus: the explicit command the fetch names when it refuses.

    python -m polyalign.data.restore_embedded [--configfile config/config.yaml]

Moves each of data/chatterbot_corpus and data/chitchat_dataset that holds files the fetch did not
write aside to data/<folder>.user-<UTC time>/ (printed), then writes the corpus the configured
fetch writes (seed, fetch.chitchat_conversations), checked against data.dvc unless
fetch.check_dvc_pin is false. Run it from the repository root; the next `snakemake` rebuilds the
corpus from the restored files.
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
    args = parser.parse_args(argv)
    with open(args.configfile, encoding="utf-8") as f:
        config = fill_defaults(yaml.safe_load(f))
    manifest = fetch_embedded(
        DATA_DIR,
        config["fetch"]["chitchat_conversations"],
        config["seed"],
        pins=workflow_pins(),
        previous=previous_files(MANIFEST),
        restore_pristine=True,
        check_dvc_pin=config["fetch"]["check_dvc_pin"],
    )
    for name, aside in manifest["moved_aside"].items():
        print(f"moved your version of {DATA_DIR}/{name} aside to {aside}")
    print(f"restored the pristine corpus in {DATA_DIR}/ (pin checked: {manifest['pin_checked'] or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
