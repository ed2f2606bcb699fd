"""The state the hooks keep in AWS: one entry per instance in flight, as a tag on the EC2 instance
itself, and one constant-size record on the Auto Scaling group (see README "State").

Per-instance entries do not crowd the group (50 tags per resource, the user's own included): the
group carries at most one hooks tag, `cutover:capacity`, whatever the number of instances in
flight. Every entry of a group is read in one paginated DescribeInstances call."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from typing import Any

from hooks.errors import HookError

ENTRY_TAG = "cutover:deploy"
RECORD_TAG = "cutover:capacity"
# Written by earlier versions on the group; read and migrated (see migrate_legacy in runbook).
LEGACY_BASELINE_TAG = "cutover:baseline"
LEGACY_STANDBY_PREFIX = "cutover:standby:"
GROUP_NAME_TAG = "aws:autoscaling:groupName"

MAX_TAG_VALUE = 256
MAX_DEPLOYMENT_ID = 64
# An entry in the "closing" stage belongs to a register restoring capacity: a handful of calls.
# It carries the register's deadline (`x`); past it, plus a grace for a call still in flight
# and for clocks that differ a little, it belongs to a killed run and is ignored (and cleaned
# up). An entry without a deadline (earlier versions) is ignored once older than this.
CLOSING_STALE_SECONDS = 300.0
CLOSING_GRACE_SECONDS = 10.0
# Instance states whose tags are still visible and writable.
LIVE_STATES = ("pending", "running", "stopping", "stopped")
# Terminated instances stay visible (with their tags) for about an hour: their entries are read
# too, so the decrement of one terminated while in Standby can be given back (README).
ENDED_STATES = ("shutting-down", "terminated")

STAGE_OUT = "out"
STAGE_CLOSING = "closing"
# In Standby through the hooks' EnterStandby, not yet returned: the group's DesiredCapacity is
# one lower on the hooks' account until ExitStandby (or the give-back, if the instance is lost).
STAGE_STANDBY = "sb"
# A watchdog whose instance is shutting down, restoring (README "Shutdown"): closing, and still
# owed the EnterStandby decrement if it is not the one to restore.
STAGE_CLOSING_STANDBY = "csb"
# How long a shutting-down instance's closing entry holds deregisters back: its watchdog has
# the few seconds the operating system gives it before the instance is gone.
SHUTDOWN_SECONDS = 30.0
# Record ids per give-back batch: keeps the record tag under 256 characters.
GIVEN_PER_RECORD = 8


@dataclass(frozen=True)
class Entry:
    """One instance between deregister and the end of register (tag `cutover:deploy`)."""

    instance_id: str
    deployment: str
    since: float
    baseline: tuple[int, int] | None = None
    stage: str = STAGE_OUT
    ended: bool = False  # the instance is shutting down or terminated (not serialized)
    # `closing` only: the epoch second by which its register is over (its deadline).
    until: float | None = None
    # The lowest MinSize this instance's deregister writes (`lo`), written before that bound:
    # with `b`, the group record of rule 2 for this instance (README "State").
    lowest_min: int | None = None

    def value(self) -> str:
        body: dict[str, Any] = {
            "d": self.deployment[:MAX_DEPLOYMENT_ID],
            "t": round(self.since, 3),
            "s": self.stage,
        }
        if self.baseline is not None:
            body["b"] = list(self.baseline)
        if self.until is not None:
            body["x"] = math.ceil(self.until)
        if self.lowest_min is not None:
            body["lo"] = self.lowest_min
        text = json.dumps(body, separators=(",", ":"))
        assert len(text) <= MAX_TAG_VALUE, text
        return text

    @classmethod
    def parse(cls, instance_id: str, value: str) -> Entry:
        try:
            body = json.loads(value)
            b = body.get("b")
            baseline = (int(b[0]), int(b[1])) if b else None
            x, lo = body.get("x"), body.get("lo")
            return cls(
                instance_id,
                str(body.get("d", "")),
                float(body.get("t", 0)),
                baseline,
                str(body.get("s", STAGE_OUT)),
                until=float(x) if x is not None else None,
                lowest_min=int(lo) if lo is not None and baseline is not None else None,
            )
        except (ValueError, TypeError, AttributeError, IndexError, KeyError):
            # A hand-edited entry still marks the instance as in flight: the safe reading.
            return cls(instance_id, value[:MAX_DEPLOYMENT_ID], 0.0)

    def age(self, now: float | None = None) -> float:
        return (now if now is not None else time.time()) - self.since

    @property
    def closing(self) -> bool:
        return self.stage in (STAGE_CLOSING, STAGE_CLOSING_STANDBY)

    def closing_is_stale(self, now: float | None = None) -> bool:
        """A `closing` entry whose run must be over: past its deadline plus a grace; without a
        deadline (earlier versions) older than CLOSING_STALE_SECONDS, or SHUTDOWN_SECONDS for a
        shutting-down instance's watchdog."""
        if not self.closing:
            return False
        now = now if now is not None else time.time()
        if self.until is not None:
            return now > self.until + CLOSING_GRACE_SECONDS
        limit = SHUTDOWN_SECONDS if self.ended else CLOSING_STALE_SECONDS
        return self.age(now) > limit

    def as_closing(self, until: float | None = None, owed: bool = False) -> Entry:
        """This entry marked `closing` by a run whose deadline is `until` (epoch); `owed`: keep
        saying the decrement is outstanding (a shutting-down watchdog's, stage `csb`)."""
        stage = STAGE_CLOSING_STANDBY if owed and self.in_standby else STAGE_CLOSING
        return replace(self, stage=stage, since=time.time(), until=until)

    @property
    def in_standby(self) -> bool:
        """The hooks' EnterStandby decrement is outstanding (no ExitStandby yet)."""
        return self.stage in (STAGE_STANDBY, STAGE_CLOSING_STANDBY)

    def record(self) -> CapacityRecord | None:
        """What this entry says the group record would: its baseline and the lowest MinSize
        its deregister writes. None when it lowers nothing."""
        if self.baseline is None or self.lowest_min is None:
            return None
        return CapacityRecord(*self.baseline, lowest_min=self.lowest_min)

    def covering(self, wanted: CapacityRecord) -> Entry:
        """This entry, saying at least `wanted` (baseline merged, lowest MinSize widened)."""
        own = (
            CapacityRecord(*self.baseline, lowest_min=self.lowest_min)
            if self.baseline is not None
            else None
        )
        merged = own.merged(wanted) if own is not None else wanted
        return replace(
            self, baseline=(merged.min_size, merged.max_size), lowest_min=merged.lowest_min
        )

    def at_stage(self, stage: str) -> Entry:
        # `since` is kept: the watchdog recognises its entry by it.
        return replace(self, stage=stage)


@dataclass(frozen=True)
class CapacityRecord:
    """The group's baseline MinSize/MaxSize and the bounds of what the hooks wrote over it.

    `lowest_min`: the lowest MinSize the hooks wrote (None: they lowered nothing). The hooks only
    lower MinSize, so a current MinSize in [lowest_min, baseline) is theirs; any other value was
    set by someone else. `highest_max`: the same for MaxSize, which the hooks only raise."""

    min_size: int
    max_size: int
    lowest_min: int | None = None
    highest_max: int | None = None
    # Instances terminated in Standby whose decrement a restore has given back (or is giving
    # back): written before the DesiredCapacity write, so it happens at most once per entry.
    given: tuple[str, ...] = ()

    def value(self) -> str:
        body: dict[str, Any] = {"min": self.min_size, "max": self.max_size}
        if self.lowest_min is not None:
            body["lo"] = self.lowest_min
        if self.highest_max is not None:
            body["hi"] = self.highest_max
        if self.given:
            body["g"] = sorted(self.given)
        text = json.dumps(body, separators=(",", ":"))
        assert len(text) <= MAX_TAG_VALUE, text
        return text

    @classmethod
    def parse(cls, group: str, value: str) -> CapacityRecord:
        try:
            body = json.loads(value)
            lo, hi = body.get("lo"), body.get("hi")
            return cls(
                int(body["min"]),
                int(body["max"]),
                int(lo) if lo is not None else None,
                int(hi) if hi is not None else None,
                tuple(str(i) for i in body.get("g", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise HookError(
                f"group {group}: tag {RECORD_TAG} is not valid ({value!r}); set it to the "
                'group\'s intended bounds, e.g. {"min":2,"max":6}, or delete it if no '
                "deployment is in progress"
            ) from None

    def covers(self, other: CapacityRecord) -> bool:
        """True when this record already says everything `other` says."""
        return self.merged(other) == self

    def merged(self, other: CapacityRecord) -> CapacityRecord:
        """Both observations at once. A baseline read while the hooks had lowered MinSize (or
        raised MaxSize) is off in one direction only, so the highest MinSize and the lowest
        MaxSize seen are the true baseline; lowest_min/highest_max widen."""

        def low(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else min(a, b)

        def high(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else max(a, b)

        return CapacityRecord(
            max(self.min_size, other.min_size),
            min(self.max_size, other.max_size),
            low(self.lowest_min, other.lowest_min),
            high(self.highest_max, other.highest_max),
            tuple(sorted(set(self.given) | set(other.given))),
        )


def legacy_record(value: str) -> CapacityRecord | None:
    """The record equivalent of an old `cutover:baseline` tag (None when unreadable).

    The old hooks restored MinSize unconditionally: every MinSize below the baseline counts as
    theirs (lowest_min 0), every MaxSize above it too."""
    try:
        body = json.loads(value)
        min_size, max_size = int(body["min"]), int(body["max"])
    except (ValueError, KeyError, TypeError):
        return None
    return CapacityRecord(min_size, max_size, 0, None)


def legacy_entry(instance_id: str, value: str, baseline: tuple[int, int] | None) -> Entry:
    try:
        body = json.loads(value)
        deployment = str(body.get("d", ""))
    except (ValueError, AttributeError):
        deployment = value
    return Entry(instance_id, deployment[:MAX_DEPLOYMENT_ID], time.time(), baseline)


class InstanceTags:
    """The entries of one group's instances (EC2 tags)."""

    def __init__(self, ec2: Any, group_name: str) -> None:
        self.ec2 = ec2
        self.group_name = group_name

    def entries(self) -> dict[str, Entry]:
        """Every entry on a live instance carrying the group's tag: one call per 1000."""
        found: dict[str, Entry] = {}
        pages = self.ec2.get_paginator("describe_instances").paginate(
            Filters=[
                {"Name": f"tag:{GROUP_NAME_TAG}", "Values": [self.group_name]},
                {"Name": "tag-key", "Values": [ENTRY_TAG]},
                {"Name": "instance-state-name", "Values": [*LIVE_STATES, *ENDED_STATES]},
            ],
            PaginationConfig={"PageSize": 1000},
        )
        for page in pages:
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    iid = instance["InstanceId"]
                    ended = instance.get("State", {}).get("Name") in ENDED_STATES
                    for tag in instance.get("Tags", []):
                        if tag["Key"] == ENTRY_TAG:
                            entry = Entry.parse(iid, tag.get("Value", ""))
                            found[iid] = replace(entry, ended=ended)
        return found

    def write(self, entry: Entry) -> None:
        self.ec2.create_tags(
            Resources=[entry.instance_id], Tags=[{"Key": ENTRY_TAG, "Value": entry.value()}]
        )

    def delete(self, instance_ids: list[str]) -> None:
        if instance_ids:
            self.ec2.delete_tags(Resources=sorted(instance_ids), Tags=[{"Key": ENTRY_TAG}])
