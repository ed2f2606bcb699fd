"""The wrapper every ``python -m ...`` entry point runs under: errors become one line and an
exit code from :mod:`cutover.exitcodes`."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence

from cutover.exitcodes import INTERRUPTED, UNEXPECTED


def wants_debug(argv: Sequence[str] | None = None) -> bool:
    """``--debug`` on the command line or ``CUTOVER_DEBUG=1`` in the environment."""
    args = sys.argv[1:] if argv is None else argv
    return "--debug" in args or os.environ.get("CUTOVER_DEBUG", "") not in ("", "0")


def run(program: str, main: Callable[[], int | None], argv: Sequence[str] | None = None) -> int:
    """Run ``main`` and return its exit code.

    An exception carrying ``exit_code`` (the packages' own error types, ``FileProblem``) is a
    problem the user can fix: its message is printed as one line. Anything else is a bug: one
    line saying so, the traceback only with ``--debug``, and exit code 70."""
    try:
        code = main()
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    except Exception as error:  # noqa: BLE001 -- the last line of defence, re-raised as one line
        exit_code = getattr(error, "exit_code", None)
        if isinstance(exit_code, int):
            print(f"{program}: error: {error}", file=sys.stderr)
            return exit_code
        if wants_debug(argv):
            traceback.print_exc()
        print(
            f"{program}: unexpected error: {type(error).__name__}: {error} "
            "(a bug: rerun with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        return UNEXPECTED
    return 0 if code is None else code
