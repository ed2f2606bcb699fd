"""Command line: `python3 -m hooks deregister|register|reconcile ...` (see README).

`python3 -m hooks bundle` is the old name of `python -m revision bundle` and still works.

Every failure is one line on stderr, `cutover-hooks <command>: error: <message>`, and an exit
code from hooks/errors.py; a traceback only with --debug (or CUTOVER_DEBUG=1)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone

from hooks.errors import (
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    HookError,
    aws_error,
    classified,
    is_aws_error,
    one_line,
)
from hooks.settings import Settings, from_environment, load_layers

# One line in the CodeDeploy log, however long AWS's message was.
MAX_MESSAGE = 1000
EXIT_CODES_HELP = (
    "exit codes: 0 ok, 1 failed (AWS refused), 2 usage or bad input, 3 deadline passed, "
    "4 refused by the zero-downtime floor, 5 environment (AWS or the metadata service "
    "unreachable or not answering like AWS, credentials, unwritable folder), 70 unexpected"
)


def _hook_parser(commands: argparse._SubParsersAction, name: str, text: str) -> None:
    sub = commands.add_parser(name, help=text, description=text, epilog=EXIT_CODES_HELP)
    if name == "reconcile":
        sub.add_argument("--asg", required=True, help="Auto Scaling group name")
    sub.add_argument("--instance-id", help="default: CUTOVER_INSTANCE_ID, else IMDSv2")
    sub.add_argument("--region", help="default: CUTOVER_REGION, else IMDSv2 placement/region")
    sub.add_argument(
        "--timeout",
        type=float,
        help="overall deadline in seconds (default: CUTOVER_<COMMAND>_TIMEOUT, CUTOVER_TIMEOUT, "
        "the revision's bundled value)",
    )
    sub.add_argument(
        "--allow-downtime",
        action="store_true",
        default=None,
        help="lift the zero-downtime floor (also: group tag cutover:allow-downtime=true)",
    )
    sub.add_argument("--min-healthy", type=int, help="floor of other healthy instances")
    sub.add_argument(
        "--target-group-arn",
        action="append",
        dest="target_group_arns",
        help="target group to use (repeatable)",
    )
    sub.add_argument(
        "--load-balancer-name",
        action="append",
        dest="load_balancer_names",
        help="classic ELB to use (repeatable)",
    )
    if name == "reconcile":
        sub.add_argument(
            "--stale-after",
            type=float,
            help="keep instances marked in flight less than this many seconds ago",
        )
        sub.add_argument(
            "--force",
            action="store_true",
            default=None,
            help="also return instances whose deployment may still be running",
        )
    if name == "deregister":
        sub.add_argument(
            "--ignore-suspended",
            action="store_true",
            default=None,
            help="go on although the group's Launch process is suspended",
        )
    if name == "heal":
        sub.add_argument("--since", type=float, required=True, help=argparse.SUPPRESS)
    sub.add_argument("--debug", action="store_true", help="print the traceback of a bug")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python3 -m hooks",
        description="Cutover's CodeDeploy hooks: zero-downtime deregister/register.",
        epilog=EXIT_CODES_HELP,
    )
    commands = top.add_subparsers(dest="command", required=True)
    for name, text in (
        ("deregister", "take this instance out of its load balancers and into Standby"),
        ("register", "bring this instance back and restore the group's capacity"),
        ("reconcile", "repair a group left by a failed or aborted deployment"),
        ("heal", "the self-healing watchdog deregister starts (not run by hand)"),
    ):
        _hook_parser(commands, name, text)
    return top


def _log(settings: Settings, message: str) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")  # noqa: UP017
    who = settings.instance_id or settings.asg or "-"
    print(f"{now} cutover-hooks {settings.command} {who}: {message}", flush=True)


def _bundle_moved(rest: list[str]) -> int:
    """`hooks bundle` is laptop-side tooling, now `python -m revision bundle`; the old name hands
    the process over (the instance-side package imports nothing of it)."""
    import runpy

    saved = sys.argv
    sys.argv = ["python -m revision", "bundle", *rest]
    try:
        runpy.run_module("revision", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    finally:
        sys.argv = saved
    return 0


# The watchdog's niceness: it sleeps for most of its life, but its start (loading botocore)
# falls in the deregister that armed it, on the instance's critical path.
WATCHDOG_NICENESS = 10


def run_command(args: argparse.Namespace) -> None:
    if args.command == "heal":
        # Before the heavy imports: the hooks of the deployment come first on the CPU.
        with contextlib.suppress(OSError):
            os.nice(WATCHDOG_NICENESS)
    from hooks.runbook import run_hook

    options = {k: v for k, v in vars(args).items() if k not in ("command", "debug")}
    settings = from_environment(args.command, load_layers(), **options)
    _log(settings, f"settings: deadline {settings.timeout:g}s ({settings.timeout_source})")
    run_hook(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["bundle"]:
        return _bundle_moved(args_list[1:])
    args = parser().parse_args(args_list)
    debug = args.debug or os.environ.get("CUTOVER_DEBUG", "") in ("1", "true")
    prefix = f"cutover-hooks {args.command}: error:"
    try:
        run_command(args)
        return 0
    except HookError as error:
        error = classified(error)
        print(f"{prefix} {one_line(error, MAX_MESSAGE)}", file=sys.stderr, flush=True)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{prefix} interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, exit 70
        if is_aws_error(error):
            from hooks.clients import last_call

            failure = aws_error(error, last_call.describe())
            print(f"{prefix} {one_line(failure, MAX_MESSAGE)}", file=sys.stderr, flush=True)
            return failure.exit_code
        if debug:
            import traceback  # noqa: PLC0415 (only for --debug)

            traceback.print_exc()
        hint = "" if debug else " (run with --debug or CUTOVER_DEBUG=1 for the traceback)"
        print(
            f"{prefix} unexpected {type(error).__name__}: {one_line(error)}{hint}; this is a bug",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_UNEXPECTED
