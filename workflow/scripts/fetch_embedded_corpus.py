"""Rule fetch_embedded_corpus: write the embedded corpus into data/chatterbot_corpus and
data/chitchat_dataset from the installed packages (nothing else under data/ is touched), check it
against the pin in data.dvc (read-only) and record what was written in
results/corpus/fetch_manifest.json. Files in those folders that the fetch did not write stop it
(polyalign.data.fetch_embedded.user_changes); it never restores over them by itself."""

from polyalign.data.fetch_embedded import DATA_DIR, fetch_embedded, previous_files, workflow_pins
from polyalign.io import write_json
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    # the rule flags the manifest update(): Snakemake keeps the last one for this comparison
    manifest = fetch_embedded(
        DATA_DIR,
        snakemake.params.chitchat_conversations,
        snakemake.params.seed,
        pins=workflow_pins(),
        previous=previous_files(snakemake.output.manifest),
        check_dvc_pin=snakemake.params.check_dvc_pin,
    )
    log.info(
        "fetched %d files (folders already identical are left untouched); chitchat %d of %d conversations",
        len(manifest["files_sha256"]),
        manifest["chitchat"]["conversations"],
        manifest["chitchat"]["of"],
    )
    checked = manifest["pin_checked"]
    log.info(
        "data.dvc pin: %s", f"matches for {checked}" if checked else "none recorded or check off; not checked"
    )
    write_json(snakemake.output.manifest, manifest)
