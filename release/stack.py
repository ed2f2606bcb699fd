"""What the release needs to know about the stack: its blue/green outputs, as the program
exports them (``infra/bluegreen.py``), read with ``pulumi stack output --json``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cutover.exitcodes import BAD_INPUT
from release.errors import ReleaseError
from stack import names
from stack.config import BLUE_GREEN_COLOURS

StackOutputs = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class BlueGreenStack:
    """The two colours of one stack: per colour its group, target groups and deployment group;
    the weighted listeners and rules that split the traffic between them."""

    name: str
    application: str
    groups: dict[str, str]
    target_groups: dict[str, tuple[str, ...]]
    deployment_groups: dict[str, str]
    listeners: tuple[str, ...]
    rules: tuple[str, ...] = ()

    @property
    def colours(self) -> tuple[str, ...]:
        return tuple(self.groups)

    def other(self, colour: str) -> str:
        (other,) = [c for c in self.colours if c != colour]
        return other

    def colour_of_target_group(self, arn: str) -> str | None:
        return next((c for c, arns in self.target_groups.items() if arn in arns), None)


def from_outputs(stack: str, outputs: Mapping[str, Any]) -> BlueGreenStack:
    """The stack's colours from its outputs; a clear error naming the missing output."""
    style = outputs.get(names.DEPLOYMENT_STYLE)
    if style != "blue-green":
        raise ReleaseError(
            f"stack {stack}: no blue/green outputs (pulumi stack output {names.DEPLOYMENT_STYLE} "
            f"is {style!r}); set cutover:deployment.style: blue-green and run pulumi up, or "
            "deploy in place with CodeDeploy",
            BAD_INPUT,
        )

    def colour_map(output: str) -> dict[str, Any]:
        value = outputs.get(output)
        if not isinstance(value, Mapping) or set(value) != set(BLUE_GREEN_COLOURS):
            raise ReleaseError(
                f"stack {stack}: output {output} must map {' and '.join(BLUE_GREEN_COLOURS)} "
                f"to values, got {value!r}; run pulumi up",
                BAD_INPUT,
            )
        return {c: value[c] for c in BLUE_GREEN_COLOURS}

    listeners = outputs.get(names.WEIGHTED_LISTENER_ARNS) or []
    if not listeners:
        raise ReleaseError(
            f"stack {stack}: output {names.WEIGHTED_LISTENER_ARNS} is empty: the release "
            "needs a listener that forwards to both colours",
            BAD_INPUT,
        )
    return BlueGreenStack(
        name=stack,
        application=str(outputs.get(names.CODEDEPLOY_APPLICATION_NAME) or ""),
        groups=colour_map(names.COLOUR_GROUP_NAMES),
        target_groups={c: tuple(v) for c, v in colour_map(names.COLOUR_TARGET_GROUP_ARNS).items()},
        deployment_groups=colour_map(names.COLOUR_DEPLOYMENT_GROUP_NAMES),
        listeners=tuple(listeners),
        rules=tuple(outputs.get(names.WEIGHTED_RULE_ARNS) or ()),
    )
