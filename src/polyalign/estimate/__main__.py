"""Command line of the compute estimate (see polyalign.estimate)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import load_yaml_file
from . import DECODE_LOOPS, load_costs, load_profile, report

DEFAULT_GPU_CHECK = Path("benchmarks/gpu_check.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m polyalign.estimate", description=__doc__)
    ap.add_argument("--configfile", type=Path, required=True, help="a standalone profile (config/paper.yaml)")
    ap.add_argument(
        "--gpu-check",
        type=Path,
        default=DEFAULT_GPU_CHECK,
        help=f"JSON written by benchmarks/gpu_check.py --out (default {DEFAULT_GPU_CHECK}; "
        "missing = documented defaults)",
    )
    ap.add_argument(
        "--decode-loop",
        choices=DECODE_LOOPS,
        default="continuous",
        help="continuous: a finished row's slot takes the next prompt (polyalign.generation.continuous, the "
        "loop generation runs); static: a batch steps until its longest row ends (the earlier "
        "loop, for comparison). Default: continuous",
    )
    args = ap.parse_args(argv)
    config = load_profile(load_yaml_file(args.configfile))
    print(report(config, load_costs(args.gpu_check), args.decode_loop, str(args.configfile)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
