"""``python -m shift STACK``: the options turned into a target, a ramp and its log."""

from __future__ import annotations

import argparse
from pathlib import Path

import boto3

from cutover.exitcodes import BAD_INPUT
from cutover.files import ensure_writable
from shift.errors import ShiftError
from shift.progress import Listener, Progress
from shift.ramp import Ramp, RampOptions, Resolver, parse_steps
from shift.ramp import resolve_host as system_resolver
from shift.target import StackOutputs, pulumi_stack_outputs, resolve_target
from shift.wallclock import Clock, SystemClock
from stack.load import stack_file_path


def ramp_options(args: argparse.Namespace) -> RampOptions:
    if args.hold < 0:
        raise ShiftError(f"--hold {args.hold:g}: must be 0 or more seconds", BAD_INPUT)
    if not 0 <= args.max_5xx_ratio <= 1:
        raise ShiftError(
            f"--max-5xx-ratio {args.max_5xx_ratio:g}: must be 0..1, e.g. 0.01 for 1%", BAD_INPUT
        )
    if args.min_healthy is not None and args.min_healthy < 0:
        raise ShiftError(f"--min-healthy {args.min_healthy}: must be 0 or more", BAD_INPUT)
    if args.change_timeout <= 0:
        raise ShiftError("--change-timeout: must be more than 0 seconds", BAD_INPUT)
    return RampOptions(
        steps=parse_steps(args.steps),
        hold=args.hold,
        max_5xx_ratio=args.max_5xx_ratio,
        alarm=args.alarm,
        dry_run=args.dry_run,
        rollback=args.rollback,
        breach_to=args.on_breach,
        change_timeout=args.change_timeout,
    )


def run_shift(
    args: argparse.Namespace,
    *,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    listener: Listener | None = None,
    resolve: Resolver = system_resolver,
    outputs: StackOutputs = pulumi_stack_outputs,
) -> int:
    """Run one shift; 0 done, 1 a gate breached (rolled back); errors are ``ShiftError``."""
    options = ramp_options(args)
    config = args.config or stack_file_path(args.stack, Path.cwd())
    target = resolve_target(
        args.stack,
        config,
        {
            "zone_id": args.zone_id,
            "record_name": args.record_name,
            "target_group_arn": args.target_group_arn,
            "load_balancer_arn": args.load_balancer_arn,
            "health_check_id": args.health_check_id,
            "min_healthy": args.min_healthy,
            "region": args.region,
        },
        outputs,
    )
    log = args.log or Path("out") / f"shift-{args.stack}.log"
    if not options.dry_run:
        ensure_writable(log)
    clock = clock or SystemClock()
    progress = Progress(clock, None if options.dry_run else log, listener=listener)
    ramp = Ramp(
        target,
        options,
        session=session or boto3.Session(),
        clock=clock,
        progress=progress,
        resolve=resolve,
    )
    return ramp.run()
