"""The one error type of the migrate package."""


class MigrateError(Exception):
    """A problem the user can fix: the message names the file, key or resource and what to do.

    The CLI prints it as one line and exits with ``exit_code``.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
