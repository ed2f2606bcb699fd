"""Command line: `python3 -m hooks deregister|register|reconcile|bundle ...` (see README)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hooks.errors import EXIT_USAGE, HookError
from hooks.settings import from_environment


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python3 -m hooks",
        description="Cutover's CodeDeploy hooks: zero-downtime deregister/register.",
    )
    commands = top.add_subparsers(dest="command", required=True)
    for name, text in (
        ("deregister", "take this instance out of its load balancers and into Standby"),
        ("register", "bring this instance back and restore the group's capacity"),
        ("reconcile", "repair a group left by a failed or aborted deployment"),
        ("heal", "the self-healing watchdog deregister starts (not run by hand)"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        if name == "reconcile":
            sub.add_argument("--asg", required=True, help="Auto Scaling group name")
        sub.add_argument("--instance-id", help="default: IMDSv2 instance-id")
        sub.add_argument("--region", help="default: IMDSv2 placement/region")
        sub.add_argument("--timeout", type=float, help="overall deadline in seconds")
        sub.add_argument("--allow-downtime", action="store_true", default=None)
        sub.add_argument("--min-healthy", type=int, help="floor of other healthy instances")
        sub.add_argument("--target-group-arn", action="append", dest="target_group_arns")
        sub.add_argument("--load-balancer-name", action="append", dest="load_balancer_names")
        if name == "reconcile":
            sub.add_argument(
                "--stale-after",
                type=float,
                help="keep instances marked in flight less than this many seconds ago "
                "(default CUTOVER_HEAL_AFTER, 3600)",
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
    bundle = commands.add_parser("bundle", help="add the hooks to a revision folder")
    bundle.add_argument("directory")
    bundle.add_argument("--deregister-event", default="BeforeInstall")
    bundle.add_argument("--register-event", default="ApplicationStart")
    bundle.add_argument("--deregister-timeout", type=int, default=400)
    bundle.add_argument("--register-timeout", type=int, default=120)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "bundle":
            from hooks.bundle import bundle

            bundle(
                args.directory,
                deregister_event=args.deregister_event,
                register_event=args.register_event,
                deregister_timeout=args.deregister_timeout,
                register_timeout=args.register_timeout,
            )
            return 0
        from hooks.runbook import run_hook

        options = {k: v for k, v in vars(args).items() if k != "command"}
        run_hook(from_environment(args.command, **options))
        return 0
    except HookError as error:
        print(f"cutover-hooks {args.command}: error: {error}", file=sys.stderr, flush=True)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"cutover-hooks {args.command}: error: interrupted", file=sys.stderr)
        return EXIT_USAGE + 128
