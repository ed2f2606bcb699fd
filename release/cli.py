"""`python -m release STACK --revision s3://BUCKET/KEY`: release a revision to a blue/green
stack (deployment.style: blue-green) and move the users to it in steps with health gates.
See release/README.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3

from cutover.exitcodes import BAD_INPUT
from cutover.main import run
from release.deploy import parse_revision
from release.errors import ReleaseError
from release.run import DEFAULT_STEPS, Release, ReleaseOptions
from release.stack import StackOutputs, from_outputs
from shift.target import pulumi_stack_outputs
from shift.wallclock import Clock, SystemClock
from stack.load import load_stack_file, stack_file_path

PROG = "python -m release"
DESCRIPTION = (
    "Release a revision to the idle colour of a blue/green stack: size it to the live colour, "
    "deploy it with CodeDeploy, wait for healthy targets, then move the users in steps "
    "(listener weights), holding each and checking the gates (healthy targets, 5xx ratio of the "
    "new colour, an optional alarm); a breach moves every user back at once. The old colour "
    "stays at capacity for --keep-old seconds, then scales to zero. Run it again to resume. "
    "Exit codes: 0 done, 1 a deployment failed or a gate breached (rolled back), 2 bad input, "
    "3 environment, 70 unexpected (--debug for the traceback)."
)


def parser(prog: str = PROG) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    top.add_argument("stack", help="the Pulumi stack (its Pulumi.<stack>.yaml)")
    top.add_argument("--config", type=Path, help="the stack file (default Pulumi.<stack>.yaml)")
    top.add_argument("--revision", help="the revision bundle, s3://BUCKET/KEY (.zip, .tar, .tgz)")
    top.add_argument(
        "--rollback", action="store_true", help="move every user back to the old colour now"
    )
    top.add_argument(
        "--steps",
        default=",".join(map(str, DEFAULT_STEPS)),
        help="the new colour's share after each step, rising, ending at 100 (default %(default)s)",
    )
    top.add_argument("--hold", type=float, default=300.0, help="seconds each step is held")
    top.add_argument(
        "--max-5xx-ratio", type=float, default=0.01, help="of the new colour (default 0.01)"
    )
    top.add_argument("--alarm", help="a CloudWatch alarm that must not be in ALARM")
    top.add_argument(
        "--keep-old",
        type=float,
        default=3600.0,
        help="seconds the old colour stays at capacity after the last step (default 3600)",
    )
    top.add_argument("--deploy-timeout", type=float, default=3600.0)
    top.add_argument("--healthy-timeout", type=float, default=900.0)
    top.add_argument("--region", help="default: the stack's aws:region")
    top.add_argument("--debug", action="store_true", help="the traceback of an unexpected error")
    return top


def parse_steps(text: str) -> tuple[int, ...]:
    """``10,50,100``: rising percentages 1..100, the last 100."""
    try:
        steps = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ReleaseError(f"--steps {text!r}: percentages, e.g. 10,50,100", BAD_INPUT) from None
    rising = all(b > a for a, b in zip(steps, steps[1:], strict=False))
    if not steps or not rising or steps[0] < 1 or steps[-1] != 100:
        raise ReleaseError(
            f"--steps {text!r}: rising percentages 1..100 ending at 100, e.g. 10,50,100",
            BAD_INPUT,
        )
    return steps


def options(args: argparse.Namespace) -> ReleaseOptions:
    for name in ("hold", "keep_old", "deploy_timeout", "healthy_timeout"):
        if getattr(args, name) < 0:
            raise ReleaseError(f"--{name.replace('_', '-')}: must be 0 or more", BAD_INPUT)
    if not 0 <= args.max_5xx_ratio <= 1:
        raise ReleaseError(f"--max-5xx-ratio {args.max_5xx_ratio:g}: must be 0..1", BAD_INPUT)
    if args.revision is None and not args.rollback:
        raise ReleaseError("--revision s3://BUCKET/KEY is required (or --rollback)", BAD_INPUT)
    return ReleaseOptions(
        revision=parse_revision(args.revision) if args.revision else None,
        steps=parse_steps(args.steps),
        hold=args.hold,
        max_5xx_ratio=args.max_5xx_ratio,
        alarm=args.alarm,
        keep_old=args.keep_old,
        rollback=args.rollback,
        deploy_timeout=args.deploy_timeout,
        healthy_timeout=args.healthy_timeout,
    )


def run_release(
    args: argparse.Namespace,
    *,
    session: Any = None,
    clock: Clock | None = None,
    codedeploy: Any = None,
    outputs: StackOutputs = pulumi_stack_outputs,
) -> Release:
    """Build the release from the options, the stack file and the stack's outputs (not run)."""
    chosen = options(args)
    cfg = load_stack_file(args.config or stack_file_path(args.stack, Path.cwd()), stack=args.stack)
    if not cfg.deployment.blue_green:
        raise ReleaseError(
            f"{cfg.source}: cutover:deployment.style is {cfg.deployment.style}: the release "
            "needs blue-green (deploy in place with CodeDeploy instead)",
            BAD_INPUT,
        )
    stack = from_outputs(args.stack, outputs(args.stack))
    session = session or boto3.Session(region_name=args.region or cfg.region)
    return Release(
        stack, chosen, session=session, clock=clock or SystemClock(), codedeploy=codedeploy
    )


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    return run("release", lambda: run_release(parser(prog).parse_args(args_list)).run(), args_list)
