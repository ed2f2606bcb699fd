"""The token-bucket request rates of the Auto Scaling, Elastic Load Balancing and EC2 APIs, as
AWS publishes them (EC2) or, where AWS publishes none, deliberately conservative; moto enforces
none. The tag and batch limits are AWS facts of their own: awsfacts/limits.py."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """A token bucket: `capacity` calls at once, `refill` calls per (emulated) second."""

    capacity: int
    refill: float
    documented: bool


# service (signing name), mutating? -> bucket. EC2's figures are AWS's published defaults
# (non-mutating: 100 / 20 per s; mutating: 200 / 5 per s). AWS publishes none for Auto Scaling
# and Elastic Load Balancing: those below are conservative guesses, kept low on purpose.
RATES: dict[tuple[str, bool], Rate] = {
    ("ec2", False): Rate(100, 20.0, documented=True),
    ("ec2", True): Rate(200, 5.0, documented=True),
    ("autoscaling", False): Rate(40, 8.0, documented=False),
    ("autoscaling", True): Rate(20, 2.0, documented=False),
    ("elasticloadbalancing", False): Rate(40, 10.0, documented=False),
    ("elasticloadbalancing", True): Rate(20, 4.0, documented=False),
}


class TokenBucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.tokens = float(rate.capacity)
        self.updated = now
        self._lock = threading.Lock()

    def take(self, now: float) -> bool:
        """One call at emulated time `now`: True if allowed, False if throttled."""
        with self._lock:
            elapsed = max(0.0, now - self.updated)
            self.tokens = min(self.rate.capacity, self.tokens + elapsed * self.rate.refill)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False
