"""`python -m revision bundle DIR [--stack STACK | --config FILE] ...`: put the hooks into an
application's revision folder (see revision/README.md).

Laptop-side: it reads the stack contract (stack/) and copies the instance-side package (hooks/).
Exit codes as every Cutover command: 0 ok, 2 bad input or usage, 3 environment, 70 unexpected."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cutover.main import run
from hooks.timing import (
    AWS_DEFAULT_DEREGISTRATION_DELAY,
    DEFAULT_DEREGISTER_TIMEOUT,
    DEFAULT_REGISTER_TIMEOUT,
)
from revision.bundle import DEREGISTER_EVENTS, REGISTER_EVENTS, bundle, stack_config_path

PROGRAM = "revision bundle"
EXIT_CODES_HELP = (
    "exit codes: 0 ok, 2 bad input or usage, 3 environment (unwritable folder, unreadable "
    "file), 70 unexpected (--debug for the traceback)"
)


def _bundle_parser(commands: argparse._SubParsersAction) -> None:
    text = (
        "copy the hooks into a revision folder (DIR/cutover-hooks/) and merge their entries "
        "into DIR/appspec.yml; the hooks' deadlines go to DIR/cutover-hooks/cutover-hooks.env"
    )
    sub = commands.add_parser(
        "bundle",
        help="add the hooks to a revision folder",
        description=text,
        epilog="Timeouts: an option wins over the stack config, which wins over the defaults. "
        + EXIT_CODES_HELP,
    )
    sub.add_argument("directory", metavar="DIR", help="the revision folder (appspec.yml's home)")
    source = sub.add_mutually_exclusive_group()
    source.add_argument(
        "--stack",
        help="take the timeouts from Pulumi.STACK.yaml in the project root "
        "(cutover:deployment.deregisterTimeout/registerTimeout, "
        "cutover:loadBalancer.deregistrationDelay)",
    )
    source.add_argument("--config", metavar="FILE", help="the same, from this stack config file")
    sub.add_argument(
        "--deregister-event",
        choices=DEREGISTER_EVENTS,
        default="BeforeInstall",
        help="lifecycle event that runs deregister first (default: %(default)s)",
    )
    sub.add_argument(
        "--register-event",
        choices=REGISTER_EVENTS,
        default="ApplicationStart",
        help="lifecycle event that runs register last (default: %(default)s)",
    )
    sub.add_argument(
        "--deregister-timeout",
        type=int,
        metavar="SECONDS",
        help=f"appspec timeout of deregister (default: the stack's, else "
        f"{DEFAULT_DEREGISTER_TIMEOUT})",
    )
    sub.add_argument(
        "--register-timeout",
        type=int,
        metavar="SECONDS",
        help=f"appspec timeout of register (default: the stack's, else {DEFAULT_REGISTER_TIMEOUT})",
    )
    sub.add_argument(
        "--deregistration-delay",
        type=int,
        metavar="SECONDS",
        help="the load balancer's deregistration delay the deregister timeout must fit "
        f"(default: the stack's, else AWS's default {AWS_DEFAULT_DEREGISTRATION_DELAY})",
    )
    sub.add_argument("--debug", action="store_true", help="print the traceback of a bug")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m revision",
        description="Cutover's revision tooling: put the hooks into a CodeDeploy revision.",
        epilog=EXIT_CODES_HELP,
    )
    commands = top.add_subparsers(dest="command", required=True)
    _bundle_parser(commands)
    return top


def run_bundle(args: argparse.Namespace) -> None:
    config = stack_config_path(args.stack) if args.stack else args.config
    appspec = bundle(
        args.directory,
        deregister_event=args.deregister_event,
        register_event=args.register_event,
        deregister_timeout=args.deregister_timeout,
        register_timeout=args.register_timeout,
        deregistration_delay=args.deregistration_delay,
        stack_config=config,
    )
    print(f"revision bundle: wrote {appspec} and {appspec.parent / 'cutover-hooks'}/")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(args_list)
    return run(PROGRAM, lambda: run_bundle(args), args_list)
