"""The one error type of the release."""

from cutover.exitcodes import BAD_INPUT


class ReleaseError(Exception):
    """A problem the user can fix: the message names the option, output or resource and what to
    do. Printed as one line; exit ``exit_code``: 2 bad input (default), 3 the environment."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code
