"""Every job a dry run of the workflow plans, with its inputs and params, read through the
Snakemake API (`snakemake -n` prints no params): what the DAG tests compare."""

import json
import os
import subprocess
import sys
from pathlib import Path

# Run in its own interpreter, so that the workflow imports the library of the tree under test.
SCRIPT = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import (
    ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings, StorageSettings)

with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    wf = api.workflow(
        resource_settings=ResourceSettings(cores=1),
        config_settings=ConfigSettings(configfiles=[Path(sys.argv[2])]),
        storage_settings=StorageSettings(),
        snakefile=Path("workflow/Snakefile"),
        workdir=Path("."),
    )
    wf.dag(DAGSettings(forceall=True)).execute_workflow(executor="dryrun")
    jobs = {
        f"{job.rule.name} {sorted(dict(job.wildcards).items())}": {
            "input": dict(job.input.items()),
            "params": dict(job.params.items()),
        }
        for job in wf._workflow.dag.jobs
    }
Path(sys.argv[1]).write_text(json.dumps(jobs, sort_keys=True, default=str))
"""


def dry_run_jobs(root: Path, configfile, out: Path) -> dict[str, dict]:
    """{"rule [(wildcard, value), ...]": {"input": {name: path or paths}, "params": {...}}} of
    every job of a forced dry run in `root` (its workflow/ and src/) with `configfile`."""
    script = out.with_suffix(".py")
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    result = subprocess.run(
        [sys.executable, str(script), str(out), str(configfile)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text())
