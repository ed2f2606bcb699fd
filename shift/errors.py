"""The one error type of the traffic shift."""

from cutover.exitcodes import BAD_INPUT


class ShiftError(Exception):
    """A problem the user can fix: the message names the option, record or resource and what to
    do. The command prints it as one line and exits with ``exit_code``: 2 (bad input) by default,
    3 when the environment is at fault (credentials, an endpoint, a refused call)."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code
