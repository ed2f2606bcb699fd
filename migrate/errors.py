"""The one error type of the migrate package."""

from cutover.exitcodes import BAD_INPUT


class MigrateError(Exception):
    """A problem the user can fix: the message names the file, key or resource and what to do.

    The CLI prints it as one line and exits with ``exit_code``: 2 (bad input) by default, 3 when
    the environment is at fault (an endpoint, credentials); see cutover/exitcodes.py.
    """

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code
