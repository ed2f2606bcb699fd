"""What an actor (an operator, the group's scaling, "someone else") did to the group during a
scenario, as AWS applied it: the verdict must then find it kept."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Change:
    """What an actor did to the group, as AWS applied it."""

    actor: str
    description: str
    min_size: int | None = None  # the MinSize it set (None: untouched)
    max_size: int | None = None
    desired_delta: int = 0  # how DesiredCapacity moved because of it
    refused: str | None = None
