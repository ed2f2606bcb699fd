"""The restore rule: put MinSize/MaxSize back only where the hooks' own value is still there.

Pure functions of what was read; the runbook writes the result. DesiredCapacity is never
written: each EnterStandby the hooks make decrements it and each ExitStandby increments it, so
once nobody is in flight it is the baseline plus whatever the group's scaling or an operator
added meanwhile."""

from __future__ import annotations

from dataclasses import dataclass, field

from hooks.group import Capacity
from hooks.state import CapacityRecord


@dataclass(frozen=True)
class RestorePlan:
    """The bounds to write (None: leave as is) and why some were kept."""

    min_size: int | None
    max_size: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def changes(self) -> bool:
        return self.min_size is not None or self.max_size is not None


def hooks_wrote_min(current: Capacity, record: CapacityRecord) -> bool:
    lo = record.lowest_min
    return lo is not None and lo <= current.min_size < record.min_size


def hooks_wrote_max(current: Capacity, record: CapacityRecord) -> bool:
    hi = record.highest_max
    return hi is not None and record.max_size < current.max_size <= hi


def plan_restore(current: Capacity, record: CapacityRecord) -> RestorePlan:
    """What to write so the group is back at its baseline bounds, without undoing anyone
    else's change and without making the group terminate an instance.

    MaxSize never goes below the current DesiredCapacity (AWS would terminate instances to
    follow it). A MinSize above the current DesiredCapacity makes AWS raise DesiredCapacity to
    it: that is the baseline's own floor, so it is what a serial restore would do as well."""
    notes: list[str] = []
    min_size, max_size = current.min_size, current.max_size
    if current.min_size != record.min_size:
        if hooks_wrote_min(current, record):
            min_size = record.min_size
        else:
            notes.append(
                f"MinSize {current.min_size} was set by someone else during the deployment "
                f"(baseline {record.min_size}): kept"
            )
    if current.max_size != record.max_size:
        if hooks_wrote_max(current, record):
            max_size = max(record.max_size, current.desired, min_size)
            if max_size != record.max_size:
                notes.append(
                    f"MaxSize stays {max_size}, above the baseline {record.max_size}: "
                    f"DesiredCapacity is {current.desired} and a lower MaxSize would terminate "
                    "instances; lower it once the group has scaled in"
                )
        else:
            notes.append(
                f"MaxSize {current.max_size} was set by someone else during the deployment "
                f"(baseline {record.max_size}): kept"
            )
    if min_size > max_size:
        notes.append(
            f"MinSize {min_size} would exceed MaxSize {max_size} set by someone else: "
            f"MinSize stays {current.min_size}"
        )
        min_size = current.min_size
    if min_size > current.desired:
        notes.append(f"DesiredCapacity {current.desired} rises to MinSize {min_size} with it")
    return RestorePlan(
        min_size if min_size != current.min_size else None,
        max_size if max_size != current.max_size else None,
        tuple(notes),
    )
