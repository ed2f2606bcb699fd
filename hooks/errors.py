"""The one error type of the hooks; the CLI turns it into an exit code and one stderr line."""

from __future__ import annotations

# Exit codes, documented in hooks/README.md.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DEADLINE = 3
EXIT_REFUSED = 4


class HookError(Exception):
    """A hook could not do its job; the message says what happened and what to do about it."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code
