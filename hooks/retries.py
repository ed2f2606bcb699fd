"""Retrying AWS calls until the hook's own deadline.

botocore's standard and adaptive modes give up after a few attempts (about 4 s of throttling
with the hooks' old settings), far inside a deadline of minutes, and a deployment then fails
for a burst of throttling. The clients run in adaptive mode (a client-side rate limiter slows
the hook down when AWS throttles it) with botocore's own retries off, and this policy decides
instead, for both clients: the standard-library one (hooks/awsclient.py) asks `decide` from its
own loop, botocore clients call it as a handler of botocore's public `needs-retry` event.

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

from hooks.errors import EXIT_DEADLINE, HookError, one_line

THROTTLING_BASE = 1.0
TRANSIENT_BASE = 0.05
# botocore's standard retry conditions (botocore.retries.standard; a test compares them): the
# error codes of throttling, and the transient errors' codes and HTTP statuses.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


class RetryUntilDeadline:
    """The pause before a call's next attempt, or None to stop (see the module's docstring)."""

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
        self.max_retries = max_retries
        self.max_delay = max_delay
        self._clock = clock
        self._jitter = jitter
        self._botocore: tuple[Any, Any, Any] | None = None

    def decide(
        self,
        operation: str,
        attempt: int,
        throttled: bool,
        transient: bool,
        error: dict[str, Any] | None = None,
    ) -> float | None:
        """After `attempt` (1-based) of `operation` failed: the pause, or None to give up."""
        if not throttled and not (transient and attempt <= self.max_retries):
            return None
        base = THROTTLING_BASE if throttled else TRANSIENT_BASE
        delay = self._jitter() * min(self.max_delay, base * 2 ** (attempt - 1))
        if throttled:
            delay /= self.time_scale
        remaining = self.deadline - self._clock()
        if remaining > 0:
            return min(delay, remaining)
        if not throttled:
            return None
        error = error or {}
        raise HookError(
            f"timed out after {self.timeout:g}s: AWS {operation} still throttled "
            f"({error.get('Code', 'throttling')}: {one_line(error.get('Message', ''), 120)}) after "
            f"{attempt} attempts; raise --timeout (and the appspec timeout above it) or find what "
            "else calls the Auto Scaling / Elastic Load Balancing APIs so often in this account",
            EXIT_DEADLINE,
        )

    def __call__(self, **kwargs: Any) -> float | None:
        """botocore's `needs-retry` event: its own detectors tell throttling and transient."""
        if self._botocore is None:
            # Imported on a botocore client's first answer only: botocore.retries.standard
            # costs a tenth of a second of a hook process the standard-library client saves.
            from botocore.retries.standard import (
                RetryEventAdapter,
                StandardRetryConditions,
                ThrottlingErrorDetector,
            )

            adapter = RetryEventAdapter()
            self._botocore = (
                adapter,
                ThrottlingErrorDetector(adapter),
                StandardRetryConditions(max_attempts=self.max_retries + 1),
            )
        adapter, throttling, transient = self._botocore
        context = adapter.create_retry_context(**kwargs)
        # is_throttling_error(**kwargs): the form older botocore releases (instances') have too.
        throttled = throttling.is_throttling_error(**kwargs)
        retryable = not throttled and transient.is_retryable(context)
        error = context.parsed_response.get("Error", {}) if context.parsed_response else {}
        return self.decide(
            kwargs["operation"].name, context.attempt_number, throttled, retryable, error
        )
