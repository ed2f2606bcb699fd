"""The revision tooling's one error type: a problem the user can fix, with its exit code
(cutover/exitcodes.py: 2 bad input, 3 environment)."""

from __future__ import annotations

from cutover.exitcodes import BAD_INPUT


class RevisionError(Exception):
    """One line for the user; ``exit_code`` is what the command exits with."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code
