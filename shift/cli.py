"""`python -m shift STACK`: move the users from Azure to AWS by the weights of the stack's two
weighted DNS records (cutover:traffic), step by step, with health gates and instant rollback.
See shift/README.md. `python -m migrate shift` is its old name and still works."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cutover.main import run
from shift.options import add_arguments

PROG = "python -m shift"
DESCRIPTION = (
    "Move the users from Azure to AWS by the weights of the stack's two weighted DNS records "
    "(cutover:traffic), step by step: after each step wait the TTL and the hold, then check the "
    "gates (healthy targets, 5xx ratio, Route 53 health check, an optional alarm); a breach "
    "rolls back at once. Run it again to resume. Exit codes: 0 done, 1 a gate breached (rolled "
    "back), 2 bad input, 3 environment, 70 unexpected (--debug for the traceback)."
)


def parser(prog: str = PROG) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(top)
    top.add_argument(
        "--debug", action="store_true", help="print the traceback of an unexpected error"
    )
    return top


def _shift(args: argparse.Namespace) -> int:
    from shift.command import run_shift  # boto3 loads only when a shift runs, not for --help

    return run_shift(args)


def main(argv: Sequence[str] | None = None, prog: str = PROG, name: str = "shift") -> int:
    """Run the shift; errors are one line `NAME: error: ...` and an exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    return run(name, lambda: _shift(parser(prog).parse_args(args_list)), args_list)
