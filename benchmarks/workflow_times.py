"""Times and memory of a finished `snakemake` run, per stage.

Per stage (rule): jobs, wall seconds (sum and longest job), CPU seconds and peak resident memory,
read from the `benchmark:` file every rule writes (results/benchmarks/..., Snakemake's TSV:
wall `s`, `cpu_time`, `max_rss` in MB). The rule of each file is found by matching it against the
`benchmark:` paths of workflow/rules/*.smk. The whole run (first job start to last job end), the
preference segment (first `build_pairs` start to the end of the last DPO or HDPO test generation
of any seed) and the busy share of the cores come from Snakemake's own log (one-second stamps),
since a benchmark file has no start time.

    python benchmarks/workflow_times.py [.snakemake/log/<run>.snakemake.log] [--cores 2] [--json]

Without a path, the newest log under .snakemake/log/ that ran jobs is used. Run it in the run's
output root, where its results/benchmarks/ and .snakemake/log/ lie (config/paper.yaml:
`cd runs/paper && python ../../benchmarks/workflow_times.py`).
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
BENCHMARK_LINE = re.compile(r'^\s+benchmark:\s*\n\s+"([^"]+)"', re.M)
RULE_LINE = re.compile(r"^rule (\w+):", re.M)
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


def benchmark_patterns(rules_dir: Path) -> list[tuple[str, re.Pattern]]:
    """(rule, regex of its benchmark path) for every rule file's `benchmark:` directive."""
    patterns = []
    for path in sorted(rules_dir.glob("*.smk")):
        text = path.read_text(encoding="utf-8")
        starts = [(m.start(), m.group(1)) for m in RULE_LINE.finditer(text)]
        for m in BENCHMARK_LINE.finditer(text):
            rule = [name for start, name in starts if start < m.start()][-1]
            patterns.append((rule, benchmark_patterns_of(m.group(1))))
    return patterns


def benchmark_patterns_of(path: str) -> re.Pattern:
    """A benchmark path with {wildcards} as a regex (a wildcard never spans folders, except
    `run`, which is "" or "seed{N}/", and `keydir`, which is "" or "bucket_key/{key}/")."""
    folders = {"{run}": "(?:seed[0-9]+/)?", "{keydir}": "(?:bucket_key/[^/]+/)?"}
    parts = re.split(r"(\{\w+\})", path)
    regex = "".join(folders.get(p, "[^/]+?") if re.fullmatch(r"\{\w+\}", p) else re.escape(p) for p in parts)
    return re.compile(regex)


def most_specific(matches: list[tuple[str, re.Pattern]]) -> list[str]:
    """The rules whose benchmark path fits with the most literal characters: features_test_x.tsv
    is rule features_test's ("features_test_{source}"), not features' ("features_{source}_{split}")."""
    if len(matches) < 2:
        return [rule for rule, _ in matches]
    literal = {rule: len(re.sub(r"\(\?:[^)]*\)\??|\[\^/\]\+\?", "", p.pattern)) for rule, p in matches}
    best = max(literal.values())
    return [rule for rule, n in literal.items() if n == best]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "NA" / "-": a job too short for a sample
        return None


def read_benchmarks(root: Path, patterns: list[tuple[str, re.Pattern]]) -> list[dict]:
    """One dict per benchmark file under root/results/benchmarks: path, rule, wall_s, cpu_s,
    max_rss_mb (the last row when a job was repeated)."""
    records = []
    for path in sorted((root / "results" / "benchmarks").rglob("*.tsv")):
        rel = path.relative_to(root).as_posix()
        rules = most_specific([(rule, pattern) for rule, pattern in patterns if pattern.fullmatch(rel)])
        if len(rules) != 1:
            raise ValueError(f"{rel}: matches the benchmark path of {len(rules)} rules ({rules})")
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) < 2:
            raise ValueError(f"{rel}: no benchmark row under the header")
        row = dict(zip(lines[0].split("\t"), lines[-1].split("\t")))
        missing = {"s", "cpu_time", "max_rss"} - set(row)
        if missing:
            raise ValueError(f"{rel}: not a Snakemake benchmark file (no column {sorted(missing)})")
        records.append(
            {
                "path": rel,
                "rule": rules[0],
                "wall_s": float(row["s"]),
                "cpu_s": _number(row["cpu_time"]),
                "max_rss_mb": _number(row["max_rss"]),
            }
        )
    return records


def stage_table(records: list[dict]) -> list[dict]:
    """Per rule: jobs, wall seconds (sum, longest job), CPU seconds (sum) and peak RSS (MB), in
    the order of total wall time, longest first."""
    stages = {}
    for r in records:
        s = stages.setdefault(
            r["rule"],
            {"rule": r["rule"], "jobs": 0, "wall_s": 0.0, "longest_s": 0.0, "cpu_s": 0.0, "max_rss_mb": None},
        )
        s["jobs"] += 1
        s["wall_s"] += r["wall_s"]
        s["longest_s"] = max(s["longest_s"], r["wall_s"])
        s["cpu_s"] += r["cpu_s"] or 0.0
        if r["max_rss_mb"] is not None:
            s["max_rss_mb"] = max(s["max_rss_mb"] or 0.0, r["max_rss_mb"])
    return sorted(stages.values(), key=lambda s: (-s["wall_s"], s["rule"]))


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
    root = Path.cwd()
    path = args.log or newest_log(root)
    summary = {"log": str(path), **summarize(parse_log(path), args.cores)}
    # the rules of this checkout: the cwd may be an output root (runs/paper) holding no workflow/
    stages = stage_table(
        read_benchmarks(root, benchmark_patterns(Path(__file__).resolve().parents[1] / "workflow" / "rules"))
    )
    if args.json:
        json.dump({**summary, "stages": stages}, sys.stdout, indent=1)
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
    print("\nper stage (results/benchmarks/):")
    print(f"  {'stage':<28} {'jobs':>4} {'wall s':>8} {'longest':>8} {'CPU s':>8} {'max RSS MB':>10}")
    for s in stages:
        rss = f"{s['max_rss_mb']:10.0f}" if s["max_rss_mb"] is not None else f"{'n/a':>10}"
        print(
            f"  {s['rule']:<28} {s['jobs']:>4} {s['wall_s']:8.1f} {s['longest_s']:8.1f} {s['cpu_s']:8.1f} {rss}"
        )


if __name__ == "__main__":
    main()
