"""Benchmark: rehearse a 10-instance production group with OneAtATime and with HalfAtATime.

Prints the wall time, the hook invocations and the samples taken for each.
Goal (issue 5): under 60 s for ten instances on this machine.

    .venv/bin/python bench/bench_rehearse.py [--instances N]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.config import load_stack_file, stack_file_path  # noqa: E402
from infra.rehearsal.run import Options, rehearse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=10)
    args = parser.parse_args()
    base = load_stack_file(stack_file_path("production"), stack="production")
    print(f"rehearsal of production with {args.instances} instances")
    row = "{:32} {:>7} {:>9} {:>7} {:>7}  {}"
    print(row.format("deployment config", "wall s", "hook runs", "batches", "samples", "verdict"))
    failed = False
    for config in ("CodeDeployDefault.OneAtATime", "CodeDeployDefault.HalfAtATime"):
        cfg = replace(base, deployment=replace(base.deployment, config=config))
        started = time.perf_counter()
        verdict = rehearse(cfg, Options(instances=args.instances), io.StringIO(), io.StringIO())
        wall = time.perf_counter() - started
        batches = len(verdict.deployments[0].batches)
        word = "PASS" if verdict.ok else "FAIL: " + "; ".join(verdict.problems)
        samples = len(verdict.samples)
        print(row.format(config, f"{wall:.1f}", verdict.hook_runs, batches, samples, word))
        failed |= not verdict.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
