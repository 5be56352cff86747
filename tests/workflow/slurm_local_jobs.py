"""Print `rule<TAB>local|cluster` for every job of a dry run of the micro workflow under the SLURM
profile's executor (run in the workflow's copy; tests/workflow/test_slurm_profile.py reads it).

A dry run executes through Snakemake's local "dryrun" executor and never prints where a job would
run, so after it the workflow is handed the profile's executor plugin and each job is asked the
question the scheduler asks before submitting it (`Job.is_local`)."""

import sys
from pathlib import Path

import yaml
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings
from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

profile = yaml.safe_load(Path("workflow/profiles/slurm/config.yaml").read_text())
with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
    workflow_api = api.workflow(
        resource_settings=ResourceSettings(cores=1, nodes=profile["jobs"]),
        config_settings=ConfigSettings(configfiles=[Path(sys.argv[1])]),
        snakefile=Path("workflow/Snakefile"),
        workdir=Path.cwd(),
    )
    workflow_api.dag().execute_workflow(executor=profile["executor"], pseudo_executor="dryrun")
    workflow = workflow_api._workflow
    workflow._executor_plugin = ExecutorPluginRegistry().get_plugin(profile["executor"])
    assert not workflow.local_exec
    for job in workflow.dag.jobs:
        print(f"{job.rule.name}\t{'local' if job.is_local else 'cluster'}")
