"""Wall-clock times of a finished `snakemake` run, read from Snakemake's own log.

Prints the whole run (first job start to last job end), the preference segment (first
`build_pairs` start to the end of the last DPO or HDPO test generation of any seed: pairs,
reference log-probs, DPO, HDPO and their generations), the busy share of the cores, and every
job's duration (start/end stamps have one-second resolution, Python start-up included).

    python benchmarks/workflow_times.py [.snakemake/log/<run>.snakemake.log] [--cores 2] [--json]

Without a path, the newest log under .snakemake/log/ that ran jobs is used.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?rule (\w+):$")
FINISH = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")
# Log names of the DPO and HDPO test generations (results/logs/seed{seed}/..., every run seed).
PREFERENCE_ENDS = ("generate_test_dpo.log", "generate_test_hdpo.log")


def parse_log(path: Path) -> list[dict]:
    """One dict per finished job: rule, log, start, end (datetimes), seconds."""
    stamp, jobs, current = None, {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := STAMP.match(line.strip()):
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := START.match(line.strip()):
            current = {"rule": m.group(1), "start": stamp, "log": None}
        elif current is not None and line.strip().startswith("log: "):
            current["log"] = line.strip()[5:].split(",")[0]
        elif current is not None and line.strip().startswith("jobid: "):
            jobs[int(line.strip()[7:])] = current
            current = None
        elif m := FINISH.match(line.strip()):
            job = jobs.get(int(m.group(1)))
            if job is None:
                raise ValueError(f"{path}: 'Finished jobid: {m.group(1)}' without a start")
            job["end"] = stamp
    done = [j for j in jobs.values() if "end" in j and j["rule"] != "all"]
    for j in done:
        j["seconds"] = (j["end"] - j["start"]).total_seconds()
    return sorted(done, key=lambda j: j["start"])


def newest_log(root: Path) -> Path:
    logs = sorted((root / ".snakemake" / "log").glob("*.snakemake.log"))
    for path in reversed(logs):
        if "Finished jobid" in path.read_text(encoding="utf-8"):
            return path
    raise SystemExit(f"no Snakemake log with finished jobs under {root / '.snakemake/log'}")


def summarize(jobs: list[dict], cores: int) -> dict:
    if not jobs:
        raise ValueError("no finished jobs in the log")
    t0, t1 = min(j["start"] for j in jobs), max(j["end"] for j in jobs)
    total = (t1 - t0).total_seconds()
    out = {"jobs": len(jobs), "wall_s": total, "job_seconds": sum(j["seconds"] for j in jobs)}
    out["busy_share"] = out["job_seconds"] / (cores * total) if total else float("nan")
    pairs = [j for j in jobs if j["rule"] == "build_pairs"]
    ends = [j for j in jobs if j["log"] and Path(j["log"]).name in PREFERENCE_ENDS]
    if pairs and {Path(j["log"]).name for j in ends} == set(PREFERENCE_ENDS):
        start, end = min(j["start"] for j in pairs), max(j["end"] for j in ends)
        out["preference_segment_s"] = (end - start).total_seconds()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", nargs="?", type=Path)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    path = args.log or newest_log(Path.cwd())
    jobs = parse_log(path)
    summary = {"log": str(path), **summarize(jobs, args.cores)}
    if args.json:
        json.dump(
            {**summary, "per_job": [{"log": j["log"], "seconds": j["seconds"]} for j in jobs]},
            sys.stdout,
            indent=1,
        )
        print()
        return
    print(f"log: {path}")
    print(
        f"whole run: {summary['wall_s'] / 60:.1f} min ({summary['wall_s']:.0f} s), {summary['jobs']} jobs, "
        f"{summary['job_seconds']:.0f} job-s, cores busy {100 * summary['busy_share']:.0f}% of {args.cores}"
    )
    if "preference_segment_s" in summary:
        print(
            f"pairs + reference log-probs + DPO + HDPO + their generations: "
            f"{summary['preference_segment_s'] / 60:.1f} min ({summary['preference_segment_s']:.0f} s)"
        )
    print("\n  seconds  job (log)")
    for j in sorted(jobs, key=lambda j: -j["seconds"]):
        print(f"  {j['seconds']:7.0f}  {j['log'].removeprefix('results/logs/') if j['log'] else j['rule']}")


if __name__ == "__main__":
    main()
