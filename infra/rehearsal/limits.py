"""AWS's published (or, where AWS publishes none, deliberately conservative) API limits that
moto does not enforce: tags per resource and per call, tag sizes, Standby batch size, and the
token-bucket request rates of the Auto Scaling, Elastic Load Balancing and EC2 APIs."""

from __future__ import annotations

import threading
from dataclasses import dataclass

TAGS_PER_RESOURCE = 50  # user tags; keys starting with "aws:" do not count (documented)
TAGS_PER_CALL = 25  # tags added or removed per CreateOrUpdateTags / DeleteTags call
TAG_KEY_LENGTH = 128
TAG_VALUE_LENGTH = 256
STANDBY_IDS_PER_CALL = 20  # EnterStandby / ExitStandby InstanceIds (documented)


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


def tag_problem(tags: list[dict[str, str]]) -> str | None:
    """What AWS would refuse in one tagging call (count and sizes), or None."""
    if len(tags) > TAGS_PER_CALL:
        return f"at most {TAGS_PER_CALL} tags per call, got {len(tags)}"
    for number, tag in enumerate(tags, start=1):
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= TAG_KEY_LENGTH:
            return (
                f"1 validation error detected: Value at 'tags.{number}.member.key' failed to "
                f"satisfy constraint: Member must have length less than or equal to "
                f"{TAG_KEY_LENGTH}"
            )
        if len(value) > TAG_VALUE_LENGTH:
            return (
                f"1 validation error detected: Value at 'tags.{number}.member.value' failed to "
                f"satisfy constraint: Member must have length less than or equal to "
                f"{TAG_VALUE_LENGTH}"
            )
    return None


def counted(keys: set[str]) -> int:
    """Tags that count against the per-resource limit (AWS's own aws: tags do not)."""
    return sum(1 for key in keys if not key.startswith("aws:"))
