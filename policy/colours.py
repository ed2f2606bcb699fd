"""Blue/green stacks: both colours are the same fleet. The single-group rules (floor, zones,
ELB health checks, IMDSv2 on the launch template) already run on each colour's group; this
rule adds what only a pair can break: a colour missing, or the colours drifting apart in what
decides how they serve and scale (bounds, zones, health checks, launch template, scaling
policies)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from awsfacts.tokens import GROUP
from policy.resources import Resource, Settings, Stack, Violation, tags_of
from stack.config import BLUE_GREEN_COLOURS
from stack.names import COLOUR_TAG

SCALING_POLICY = "aws:autoscaling/policy:Policy"
NAME = "blue-green-colours-match"
# What a colour's group must share with the other: how it launches, where, how big, how checked.
SHARED_GROUP_PROPS = (
    "minSize",
    "maxSize",
    "desiredCapacity",
    "healthCheckType",
    "healthCheckGracePeriod",
    "vpcZoneIdentifiers",
    "launchTemplate",
    "mixedInstancesPolicy",
)
# A policy's own identity and its group; everything else must match across the colours.
POLICY_IDENTITY = ("autoscalingGroupName", "name", "arn", "id")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _policies(stack: Stack, group: Resource) -> list[str]:
    """The group's scaling policies, without what names them, in a comparable form."""
    return sorted(
        _canonical({k: v for k, v in p.props.items() if k not in POLICY_IDENTITY})
        for p in stack.of_type(SCALING_POLICY)
        if group in stack.referenced(p, "autoscalingGroupName", GROUP)
    )


def blue_green_colours_match(stack: Stack, settings: Settings) -> list[Violation]:
    """A blue/green stack has exactly one group per colour, each with scaling policies, and the
    colours share their bounds, zones, health checks, launch template and scaling policies."""
    coloured: dict[str, list[Resource]] = {}
    for group in stack.of_type(GROUP):
        colour = tags_of(group).get(COLOUR_TAG)
        if colour is not None:
            coloured.setdefault(colour, []).append(group)
    if not coloured:
        return []
    found = []
    for colour in BLUE_GREEN_COLOURS:
        count = len(coloured.get(colour, []))
        if count != 1:
            found.append(
                Violation(
                    NAME,
                    f"{COLOUR_TAG}={colour}",
                    f"a blue/green stack needs exactly one {colour} group, found {count}",
                )
            )
    if found:
        return found
    groups = [coloured[c][0] for c in BLUE_GREEN_COLOURS]
    policies = {g.name: _policies(stack, g) for g in groups}
    for group in groups:
        if not policies[group.name]:
            found.append(
                Violation(NAME, group.name, "has no scaling policy: it could not follow the load")
            )
    first, *others = groups
    for other in others:
        for prop in SHARED_GROUP_PROPS:
            if _canonical(first.props.get(prop)) != _canonical(other.props.get(prop)):
                found.append(
                    Violation(
                        NAME,
                        other.name,
                        f"{prop} differs from {first.name}'s: {other.props.get(prop)!r}",
                    )
                )
        if policies[other.name] != policies[first.name]:
            found.append(
                Violation(NAME, other.name, f"its scaling policies differ from {first.name}'s")
            )
    return found


RULES: dict[str, Callable[[Stack, Settings], list[Violation]]] = {
    NAME: blue_green_colours_match,
}
