"""Rehearse a deployment of a stack (in place, or a blue/green release) on a local AWS emulator,
with the real hooks.

    python -m rehearsal STACK [--scenario NAME] [--config FILE] [--instances N]
                             [--deployment-config NAME] [--time-scale X] [--fail-instance K]
                             [--kill-hook-after STEP] [--raise-max] [--json FILE]
                             [--chart FILE] [--log FILE] [--debug]

Builds the fleet the stack's Pulumi program declares on a moto server behind a proxy that
enforces the AWS rules moto lacks, deploys to it as CodeDeploy and its agent would (the bundled
hooks as subprocesses), plays the scenario, and prints a verdict. Exit 0 PASS, 1 FAIL, 2 bad
input, 3 INCONCLUSIVE (a hook was starved by this machine into its appspec timeout: the verdict
says by what and which option fixes it) or an environment problem, 70 unexpected error.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from cutover.files import ensure_writable, write_text
from cutover.main import run
from hooks.runbook import DEREGISTER_STEPS, REGISTER_STEPS
from rehearsal import chart, verdictschema
from rehearsal.run import DEFAULT_TIME_SCALE, Options, rehearse
from rehearsal.scenarios import SCENARIOS
from stack.load import ConfigError, load_stack_file, stack_file_path

# The verdict is about this machine, not the hooks (a hook starved into its appspec timeout);
# the same code as an environment problem found before the run.
EXIT_INCONCLUSIVE = 3

STEPS = sorted({name for name, _ in DEREGISTER_STEPS + REGISTER_STEPS})
PROGRAM = "python -m rehearsal"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROGRAM,
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="scenarios:\n" + "\n".join(f"  {k:22} {v}" for k, v in SCENARIOS.items()),
    )
    p.add_argument("stack", help="stack name, e.g. staging or production")
    p.add_argument(
        "--scenario",
        default="deploy",
        choices=list(SCENARIOS),
        metavar="NAME",
        help=f"what happens around the deployment (default deploy; one of {', '.join(SCENARIOS)})",
    )
    p.add_argument("--config", help="stack file (default: Pulumi.STACK.yaml)")
    p.add_argument(
        "--instances",
        type=int,
        help="instances in the group (default: its desired "
        "capacity; at most its MaxSize unless --raise-max)",
    )
    p.add_argument(
        "--raise-max",
        action="store_true",
        help="allow --instances above MaxSize by raising MaxSize (the output says so)",
    )
    p.add_argument(
        "--deployment-config",
        metavar="NAME",
        help="CodeDeploy config (default: the deployment group's), e.g. "
        "CodeDeployDefault.HalfAtATime, or a custom minimum of healthy hosts as "
        "FLEET_PERCENT:N or HOST_COUNT:N (e.g. FLEET_PERCENT:50)",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=None,
        metavar="X",
        help="emulated AWS seconds per real second (default: the highest this machine keeps "
        f"up with for the fleet, from a short calibration, at most {DEFAULT_TIME_SCALE:g}); "
        "every figure is reported in real seconds",
    )
    p.add_argument(
        "--fail-instance",
        type=int,
        metavar="K",
        help="fail-instance: Install fails on the K-th instance (1..instances)",
    )
    p.add_argument(
        "--kill-hook-after",
        choices=STEPS,
        metavar="STEP",
        help=f"kill-hook: kill the first hook that logs STEP ({', '.join(STEPS)})",
    )
    p.add_argument("--json", metavar="FILE", help="write the verdict as JSON")
    p.add_argument("--chart", metavar="FILE", help="HTML chart (default: out/rehearsal-STACK.html)")
    p.add_argument(
        "--log", metavar="FILE", help="the hooks' output (default: out/rehearsal-STACK.log)"
    )
    p.add_argument("--debug", action="store_true", help="print the traceback of a crash")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config_path = Path(args.config) if args.config else stack_file_path(args.stack)
    try:
        cfg = load_stack_file(config_path, stack=args.stack)
    except ConfigError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2
    chart_path = Path(args.chart or f"out/rehearsal-{args.stack}.html")
    log_path = Path(args.log or f"out/rehearsal-{args.stack}.log")
    json_path = Path(args.json) if args.json else None
    # A bad path fails now, before the run, never after it with the verdict lost.
    for path in (chart_path, log_path, json_path):
        if path is not None:
            ensure_writable(path)
    from rehearsal.declared import declared_fleet
    from rehearsal.shift import SHIFT_SCENARIOS

    fleet = declared_fleet(args.stack, config_path, traffic=args.scenario in SHIFT_SCENARIOS)
    options = Options(
        scenario=args.scenario,
        instances=args.instances,
        deployment_config=args.deployment_config,
        fail_instance=args.fail_instance,
        kill_hook_after=args.kill_hook_after,
        time_scale=args.time_scale,
        raise_max=args.raise_max,
    )
    from rehearsal import bluegreen
    from rehearsal.scenarios import BLUE_GREEN_SCENARIOS

    play = bluegreen.rehearse if args.scenario in BLUE_GREEN_SCENARIOS else rehearse
    with log_path.open("w", encoding="utf-8") as log:
        verdict = play(
            fleet,
            options,
            log,
            sys.stdout,
            cfg.deployment.deregister_timeout,
            cfg.deployment.register_timeout,
        )
    print(verdict.render())
    if json_path is not None:
        body = verdictschema.check(verdict.to_json())
        write_text(json_path, json.dumps(body, indent=2) + "\n")
    title = f"Rehearsal of {args.stack}, scenario {args.scenario}: {verdict.word}"
    write_text(chart_path, chart.render(title, verdict))
    print(
        f"  chart: {chart_path}   hook log: {log_path}"
        + (f"   json: {json_path}" if json_path else "")
    )
    if verdict.inconclusive:
        return EXIT_INCONCLUSIVE
    return 0 if verdict.ok else 1


def _stop(signum: int, frame: object) -> None:
    # SIGTERM ends the rehearsal like Ctrl-C: the emulator, the servers and the hooks it
    # started are cleaned up on the way out.
    raise KeyboardInterrupt


def entry() -> int:
    """The command: SIGTERM stops it like Ctrl-C, errors become exit codes."""
    signal.signal(signal.SIGTERM, _stop)
    return run(PROGRAM, main)
