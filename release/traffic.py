"""The listener weights: how the load balancer splits the users between the colours.

Every weighted forward (each listener's default action, each listener rule's action) names one
target group per colour. Weights are percentages of the new colour here (0..100); each change
is one ModifyListener or ModifyRule call per forward, so a rollback is one change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from release.access import aws_errors
from release.errors import ReleaseError
from release.stack import BlueGreenStack


@dataclass(frozen=True)
class Forward:
    """One weighted forward as the load balancer has it: its ARN, whether it is a rule, and the
    weight of each colour."""

    arn: str
    is_rule: bool
    weights: dict[str, int]
    target_groups: dict[str, str]  # colour -> the target group this forward uses


class Traffic:
    def __init__(self, stack: BlueGreenStack, elbv2: Any) -> None:
        self.stack, self.elbv2 = stack, elbv2

    def forwards(self) -> list[Forward]:
        found = []
        with aws_errors("elasticloadbalancing:DescribeListeners", "the weighted listeners"):
            listeners = self.elbv2.describe_listeners(ListenerArns=list(self.stack.listeners))
        for listener in listeners["Listeners"]:
            found.append(self._forward(listener["ListenerArn"], False, listener["DefaultActions"]))
        if self.stack.rules:
            with aws_errors("elasticloadbalancing:DescribeRules", "the weighted rules"):
                rules = self.elbv2.describe_rules(RuleArns=list(self.stack.rules))
            for rule in rules["Rules"]:
                found.append(self._forward(rule["RuleArn"], True, rule["Actions"]))
        return found

    def _forward(self, arn: str, is_rule: bool, actions: list[dict[str, Any]]) -> Forward:
        weights: dict[str, int] = {}
        groups: dict[str, str] = {}
        for action in actions:
            if action.get("Type") != "forward":
                continue
            tuples = action.get("ForwardConfig", {}).get("TargetGroups") or [
                {"TargetGroupArn": action.get("TargetGroupArn"), "Weight": 1}
            ]
            for entry in tuples:
                colour = self.stack.colour_of_target_group(entry["TargetGroupArn"])
                if colour is not None:
                    weights[colour] = int(entry.get("Weight", 1))
                    groups[colour] = entry["TargetGroupArn"]
        missing = [c for c in self.stack.colours if c not in groups]
        if missing:
            raise ReleaseError(
                f"{arn}: does not forward to the {' and '.join(missing)} target group(s); "
                "run pulumi up (a blue/green listener forwards to both colours)"
            )
        return Forward(arn, is_rule, weights, groups)

    def share(self, colour: str) -> int:
        """The colour's share in percent: the lowest over every forward (never overstated, so
        a resumed release checks the gate of the step it finds before taking the next)."""
        shares = []
        for forward in self.forwards():
            total = sum(forward.weights.values())
            shares.append(round(100 * forward.weights[colour] / total) if total else 0)
        return min(shares)

    def set_share(self, colour: str, percent: int) -> None:
        """Give ``colour`` ``percent`` of every forward and the other colour the rest."""
        other = self.stack.other(colour)
        for forward in self.forwards():
            action = {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": forward.target_groups[colour], "Weight": percent},
                        {
                            "TargetGroupArn": forward.target_groups[other],
                            "Weight": 100 - percent,
                        },
                    ],
                    "TargetGroupStickinessConfig": {"Enabled": False},
                },
            }
            if forward.is_rule:
                with aws_errors("elasticloadbalancing:ModifyRule", forward.arn):
                    self.elbv2.modify_rule(RuleArn=forward.arn, Actions=[action])
            else:
                with aws_errors("elasticloadbalancing:ModifyListener", forward.arn):
                    self.elbv2.modify_listener(ListenerArn=forward.arn, DefaultActions=[action])

    def load_balancer_arn(self) -> str:
        with aws_errors("elasticloadbalancing:DescribeListeners", "the weighted listeners"):
            listeners = self.elbv2.describe_listeners(ListenerArns=[self.stack.listeners[0]])
        return str(listeners["Listeners"][0]["LoadBalancerArn"])
