"""The wrapper every ``python -m ...`` entry point runs under: errors become one line and an
exit code from :mod:`cutover.exitcodes`."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from cutover.exitcodes import BROKEN_PIPE, ENVIRONMENT, INTERRUPTED, UNEXPECTED

# The repository root: a top-level package found here is the project's own, not a dependency.
_ROOT = Path(__file__).resolve().parent.parent


def wants_debug(argv: Sequence[str] | None = None) -> bool:
    """``--debug`` on the command line or ``CUTOVER_DEBUG=1`` in the environment."""
    args = sys.argv[1:] if argv is None else argv
    return "--debug" in args or os.environ.get("CUTOVER_DEBUG", "") not in ("", "0")


def missing_dependency(error: BaseException) -> str | None:
    """The top-level name of the third-party module ``error`` failed to import, else None.

    An import of one of the project's own modules that fails is a bug, not the environment."""
    if not isinstance(error, ImportError) or not error.name:
        return None
    top = error.name.partition(".")[0]
    if (_ROOT / top).is_dir() or (_ROOT / f"{top}.py").is_file():
        return None
    return top


def run(program: str, main: Callable[[], int | None], argv: Sequence[str] | None = None) -> int:
    """Run ``main`` and return its exit code.

    A third-party package that cannot be imported is the environment (exit 3, with the pip
    command that installs it). An exception carrying ``exit_code`` (the packages' own error
    types, ``FileProblem``) is a problem the user can fix: its message is printed as one line.
    Anything else is a bug: one line saying so, the traceback only with ``--debug``, and exit
    code 70."""
    try:
        code = main()
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): nothing is wrong, nothing more can be said.
        # stdout goes to /dev/null so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    except Exception as error:  # noqa: BLE001 -- the last line of defence, re-raised as one line
        missing = missing_dependency(error)
        if missing is not None:
            print(
                f"{program}: error: the Python package providing '{missing}' is not installed "
                f"in {sys.prefix}: run `{sys.executable} -m pip install -r requirements.txt` "
                "(or `make .venv/.requirements-installed`) from the repository root",
                file=sys.stderr,
            )
            return ENVIRONMENT
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
