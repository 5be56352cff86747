"""Rule fetch_embedded_corpus: write the embedded corpus into data/chatterbot_corpus and
data/chitchat_dataset from the installed packages (nothing else under data/ is touched), record
what was written in results/corpus/fetch_manifest.json and, when configured, compare the folders
with the hashes dvc.lock pins for them (read-only)."""

from polyalign.data.dvc_pin import check_pin
from polyalign.data.fetch_embedded import DATA_DIR, OWN_SUBFOLDERS, fetch_embedded
from polyalign.io import write_json
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    manifest = fetch_embedded(DATA_DIR, snakemake.params.chitchat_conversations, snakemake.params.seed)
    log.info(
        "wrote %d files; chitchat %d of %d conversations",
        len(manifest["files_sha256"]),
        manifest["chitchat"]["conversations"],
        manifest["chitchat"]["of"],
    )
    if snakemake.params.check_dvc_pin:
        checked = check_pin([f"{DATA_DIR}/{name}" for name in OWN_SUBFOLDERS])
        manifest["dvc_pin_checked"] = checked
        log.info("dvc.lock pin: %s", f"matches for {checked}" if checked else "none recorded; not checked")
    write_json(snakemake.output.manifest, manifest)
