"""Blue/green (``deployment.style: blue-green``): what the program declares twice, and the
outputs ``python -m release`` reads.

The two colours share one launch template definition; each has its own Auto Scaling group
(``<group>-blue``, ``<group>-green``) with the stack's capacity bounds, scaling policies and
CodeDeploy deployment group, and its own target group per port. Every forward of the listener
is weighted over both colours (blue 100, green 0 at creation). After creation the weights and
the groups' capacities belong to the release (``ignore_changes``): ``pulumi up`` never fights a
release, and never moves traffic itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pulumi

from infra.deployment import Deployment
from infra.fleet import Fleet
from infra.loadbalancer import LoadBalancer
from stack import names
from stack.config import BLUE_GREEN_COLOURS, StackConfig


def colours(cfg: StackConfig) -> tuple[str, ...]:
    """The colours the program declares: none for an in-place stack."""
    return BLUE_GREEN_COLOURS if cfg.deployment.blue_green else ()


def scaled_groups(fleet: Fleet) -> Iterator[tuple[str, pulumi.Input[str]]]:
    """(logical-name suffix, group name) of every group that gets the scaling policies: the one
    group in place (no suffix, so in-place names never change), else each colour's."""
    if not fleet.colour_group_names:
        yield "", fleet.group_name
        return
    for colour, group_name in fleet.colour_group_names.items():
        yield f"-{colour}", group_name


def export(lb: LoadBalancer, fleet: Fleet, deployment: Deployment) -> None:
    """The colour maps the release reads with ``pulumi stack output --json``."""
    pulumi.export(names.DEPLOYMENT_STYLE, "blue-green")
    pulumi.export(names.COLOUR_GROUP_NAMES, fleet.colour_group_names)
    pulumi.export(names.COLOUR_TARGET_GROUP_ARNS, lb.colour_target_group_arns)
    pulumi.export(names.COLOUR_DEPLOYMENT_GROUP_NAMES, deployment.colour_deployment_group_names)
    pulumi.export(names.WEIGHTED_LISTENER_ARNS, lb.weighted_listener_arns)
    pulumi.export(names.WEIGHTED_RULE_ARNS, lb.weighted_rule_arns)
