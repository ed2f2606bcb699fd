"""Retrying AWS calls until the hook's own deadline.

botocore's standard and adaptive modes give up after a few attempts (about 4 s of throttling
with the hooks' old settings), far inside a deadline of minutes, and a deployment then fails
for a burst of throttling. The clients run in adaptive mode (botocore's client-side rate
limiter slows the hook down when AWS throttles it) with botocore's own retries off, and this
policy, a handler of botocore's public `needs-retry` event, decides instead:

- throttling: retried until the deadline, with botocore's backoff (full jitter, doubling from
  1 s, capped at `retry_max_delay`, default 20 s; AWS seconds, see CUTOVER_TIME_SCALE), the
  last pause cut to the deadline. Past it,
  the call ends with the deadline error (exit 3).
- connection errors and 5xx answers (botocore's transient errors): `max_retries` retries, with
  botocore's 50 ms base, and never past the deadline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.retries.standard import (
    RetryEventAdapter,
    StandardRetryConditions,
    ThrottlingErrorDetector,
)

from hooks.errors import EXIT_DEADLINE, HookError, one_line

THROTTLING_BASE = 1.0
TRANSIENT_BASE = 0.05


class RetryUntilDeadline:
    """A `needs-retry` handler: the pause before the next attempt, or None to stop."""

    def __init__(
        self,
        deadline: float,
        timeout: float,
        max_retries: int,
        max_delay: float,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        time_scale: float = 1.0,
    ) -> None:
        self.deadline = deadline
        # AWS refills its token buckets on its own clock (CUTOVER_TIME_SCALE, 1 on AWS): the
        # backoff from throttling follows it; the one from network errors does not.
        self.time_scale = time_scale
        self.timeout = timeout
        self.max_delay = max_delay
        self._clock = clock
        self._jitter = jitter
        self._adapter = RetryEventAdapter()
        self._throttling = ThrottlingErrorDetector(self._adapter)
        self._transient = StandardRetryConditions(max_attempts=max_retries + 1)

    def __call__(self, **kwargs: Any) -> float | None:
        context = self._adapter.create_retry_context(**kwargs)
        # is_throttling_error(**kwargs): the form older botocore releases (instances') have too.
        throttled = self._throttling.is_throttling_error(**kwargs)
        if not throttled and not self._transient.is_retryable(context):
            return None
        attempt = context.attempt_number
        base = THROTTLING_BASE if throttled else TRANSIENT_BASE
        delay = self._jitter() * min(self.max_delay, base * 2 ** (attempt - 1))
        if throttled:
            delay /= self.time_scale
        remaining = self.deadline - self._clock()
        if remaining > 0:
            return min(delay, remaining)
        if not throttled:
            return None
        operation = kwargs["operation"].name
        error = context.parsed_response.get("Error", {}) if context.parsed_response else {}
        raise HookError(
            f"timed out after {self.timeout:g}s: AWS {operation} still throttled "
            f"({error.get('Code', 'throttling')}: {one_line(error.get('Message', ''), 120)}) after "
            f"{attempt} attempts; raise --timeout (and the appspec timeout above it) or find what "
            "else calls the Auto Scaling / Elastic Load Balancing APIs so often in this account",
            EXIT_DEADLINE,
        )
