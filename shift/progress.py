"""What the shift tells the person watching (the screen) and what it keeps (the log).

Every event is one JSON line appended to the log file (flushed and fsynced before the shift
goes on, so the log of a killed shift ends with what really happened) and, in words, one line
on the screen.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from cutover.exitcodes import ENVIRONMENT
from shift.errors import ShiftError
from shift.wallclock import Clock

Listener = Callable[[dict[str, Any]], None]


class Progress:
    """The screen (``out``) and the append-only log (``log_path``, None for no log)."""

    def __init__(
        self,
        clock: Clock,
        log_path: Path | None,
        out: TextIO | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.clock = clock
        self.log_path = log_path
        self.out = out or sys.stdout
        self.listener = listener

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def warn(self, text: str) -> None:
        print(f"warning: {text}", file=sys.stderr, flush=True)

    def event(self, name: str, text: str, *, verdict: bool = False, **fields: Any) -> None:
        """Log ``name`` with ``fields``, then show ``text`` (a failed ``verdict`` on stderr,
        where scripts look for the reason of exit code 1); listeners see it last."""
        entry = {"time": self.clock.now().isoformat(timespec="seconds"), "event": name, **fields}
        if self.log_path is not None:
            self._append(entry)
        print(text, file=sys.stderr if verdict else self.out, flush=True)
        if self.listener is not None:
            self.listener(entry)

    def _append(self, entry: dict[str, Any]) -> None:
        assert self.log_path is not None
        try:
            with self.log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise ShiftError(
                f"{self.log_path}: cannot append to the shift log ({error.strerror}); "
                "choose another --log",
                ENVIRONMENT,
            ) from error
