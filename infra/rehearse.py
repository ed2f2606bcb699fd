"""Rehearse an in-place deployment of a stack on a local AWS emulator, with the real hooks.

    python -m infra.rehearse STACK [--config FILE] [--instances N] [--fail-instance K]
                             [--kill-hook-after STEP] [--chart FILE] [--log FILE]

Starts a moto server on 127.0.0.1, builds the stack's group and load balancer from its config,
deploys to every instance as the CodeDeploy agent would (batches from the deployment config, the
bundled hook scripts as subprocesses), samples the fleet many times a second, and prints a
verdict: the lowest in-service count against the floor the stack promises, and the group's
Min/Desired/Max before and after. Exits 1 when either promise is broken, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hooks.runbook import DEREGISTER_STEPS, REGISTER_STEPS
from infra.config import ConfigError, load_stack_file, stack_file_path
from infra.rehearsal import chart
from infra.rehearsal.run import Options, rehearse

STEPS = sorted({name for name, _ in DEREGISTER_STEPS + REGISTER_STEPS})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.rehearse", description=__doc__.split("\n")[0]
    )
    parser.add_argument("stack", help="stack name, e.g. staging or production")
    parser.add_argument("--config", help="stack file (default: Pulumi.STACK.yaml)")
    parser.add_argument("--instances", type=int, help="instances in the group (default: desired)")
    parser.add_argument(
        "--fail-instance",
        type=int,
        metavar="K",
        help="the Install step fails on the K-th instance (1-based); a second deployment follows",
    )
    parser.add_argument(
        "--kill-hook-after",
        choices=STEPS,
        metavar="STEP",
        help=f"kill the first hook that finishes STEP, then re-run it ({', '.join(STEPS)})",
    )
    parser.add_argument("--chart", help="HTML chart (default: out/rehearsal-STACK.html)")
    parser.add_argument("--log", help="the hooks' output (default: out/rehearsal-STACK.log)")
    args = parser.parse_args(argv)
    if args.instances is not None and args.instances < 1:
        parser.error("--instances must be at least 1")
    try:
        cfg = load_stack_file(args.config or stack_file_path(args.stack), stack=args.stack)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    chart_path = Path(args.chart or f"out/rehearsal-{args.stack}.html")
    log_path = Path(args.log or f"out/rehearsal-{args.stack}.log")
    for path in (chart_path, log_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    options = Options(
        instances=args.instances,
        fail_instance=args.fail_instance,
        kill_hook_after=args.kill_hook_after,
    )
    with log_path.open("w", encoding="utf-8") as log:
        try:
            verdict = rehearse(cfg, options, log, sys.stdout)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    title = f"Rehearsal of {args.stack}: in service and Min/Desired/Max over time"
    chart_path.write_text(
        chart.render(title, verdict.samples, verdict.marks, verdict.floor), encoding="utf-8"
    )
    print(verdict.render())
    print(f"  chart: {chart_path}   hook log: {log_path}")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
