"""A blue/green stack on moto, built the way the program declares it (infra/bluegreen.py): two
groups from one launch template, a target group each, one listener weighted over both, a
CodeDeploy deployment group each; and its stack outputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml

from release.deploy import CodeDeploy
from stack import names
from stack.load import stack_file_path

REGION = "eu-central-1"
COLOURS = ("blue", "green")


class PlayedCodeDeploy(CodeDeploy):
    """moto records a deployment but never runs it (it stays ``Created``): the test plays the
    agents and says how each deployment ends. Everything else is moto's."""

    def __init__(self, client: Any, clock: Any, outcome: str = "Succeeded") -> None:
        super().__init__(client, clock, poll=1.0)
        self.outcome = outcome
        self.created: list[tuple[str, str]] = []  # (deployment group, deployment id)

    def create(self, application, deployment_group, revision):
        deployment_id = super().create(application, deployment_group, revision)
        self.created.append((deployment_group, deployment_id))
        return deployment_id

    def status(self, deployment_id: str) -> str:
        super().status(deployment_id)  # the deployment exists in moto
        return self.outcome


@dataclass
class Estate:
    session: boto3.Session
    outputs: dict[str, Any]
    stack_file: Path
    load_balancer_arn: str
    listener_arn: str
    target_groups: dict[str, str]
    groups: dict[str, str]
    clock: Any = None  # the test's FakeClock, which the AWS model in front of moto follows

    def client(self, name: str) -> Any:
        return self.session.client(name)

    def capacity(self, colour: str) -> tuple[int, int, int]:
        (group,) = self.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.groups[colour]]
        )["AutoScalingGroups"]
        return group["MinSize"], group["DesiredCapacity"], group["MaxSize"]

    def tags(self, colour: str) -> dict[str, str]:
        (group,) = self.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.groups[colour]]
        )["AutoScalingGroups"]
        return {t["Key"]: t["Value"] for t in group["Tags"]}

    def set_tag(self, colour: str, key: str, value: str) -> None:
        self.client("autoscaling").create_or_update_tags(
            Tags=[
                {
                    "ResourceId": self.groups[colour],
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": False,
                }
            ]
        )

    def weights(self) -> dict[str, int]:
        (listener,) = self.client("elbv2").describe_listeners(ListenerArns=[self.listener_arn])[
            "Listeners"
        ]
        (action,) = listener["DefaultActions"]
        by_arn = {t["TargetGroupArn"]: t["Weight"] for t in action["ForwardConfig"]["TargetGroups"]}
        return {c: by_arn[arn] for c, arn in self.target_groups.items()}

    def scale(self, colour: str, desired: int) -> None:
        self.client("autoscaling").set_desired_capacity(
            AutoScalingGroupName=self.groups[colour], DesiredCapacity=desired
        )


def build_estate(
    tmp_path: Path, stack: str = "shop", idle: tuple[int, int, int] = (0, 0, 6)
) -> Estate:
    """Blue live at 2/3/6; green idle at ``idle`` (0/0/6 after a release; as `pulumi up` first
    creates it, 2/3/6)."""
    session = boto3.Session(region_name=REGION)
    ec2, elbv2 = session.client("ec2"), session.client("elbv2")
    autoscaling, codedeploy = session.client("autoscaling"), session.client("codedeploy")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    prefix = f"cutover-{stack}"
    lb = elbv2.create_load_balancer(Name=f"{prefix}-alb", Subnets=subnets, Type="application")
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    target_groups = {
        c: elbv2.create_target_group(
            Name=f"{prefix}-tg-{c}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
        )["TargetGroups"][0]["TargetGroupArn"]
        for c in COLOURS
    }
    listener = elbv2.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": target_groups["blue"], "Weight": 100},
                        {"TargetGroupArn": target_groups["green"], "Weight": 0},
                    ]
                },
            }
        ],
    )["Listeners"][0]["ListenerArn"]
    # One of moto's Amazon Linux images; a name filter keeps moto from listing its 1,350 (1-3 s).
    amazon_linux = [{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}]
    image = ec2.describe_images(Owners=["amazon"], Filters=amazon_linux)["Images"][0]["ImageId"]
    template = ec2.create_launch_template(
        LaunchTemplateName=f"{prefix}-fleet",
        LaunchTemplateData={
            "ImageId": image,
            "InstanceType": "t3.micro",
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
        },
    )["LaunchTemplate"]["LaunchTemplateId"]
    groups = {c: f"{prefix}-fleet-{c}" for c in COLOURS}
    sizes = {"blue": (2, 3, 6), "green": idle}
    for colour, name in groups.items():
        low, desired, high = sizes[colour]
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
            MinSize=low,
            DesiredCapacity=desired,
            MaxSize=high,
            VPCZoneIdentifier=",".join(subnets),
            TargetGroupARNs=[target_groups[colour]],
            HealthCheckType="ELB",
            Tags=[
                {
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                    "Key": names.COLOUR_TAG,
                    "Value": colour,
                    "PropagateAtLaunch": False,
                }
            ],
        )
    codedeploy.create_application(applicationName=f"{prefix}-app", computePlatform="Server")
    for name in groups.values():
        codedeploy.create_deployment_group(
            applicationName=f"{prefix}-app",
            deploymentGroupName=name,
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
            autoScalingGroups=[name],
            deploymentStyle={
                "deploymentType": "IN_PLACE",
                "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
            },
        )
    raw = yaml.safe_load(stack_file_path("production").read_text())
    raw["config"]["cutover:deployment"]["style"] = "blue-green"
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    stack_file.write_text(yaml.safe_dump(raw))
    outputs = {
        names.DEPLOYMENT_STYLE: "blue-green",
        names.CODEDEPLOY_APPLICATION_NAME: f"{prefix}-app",
        names.COLOUR_GROUP_NAMES: groups,
        names.COLOUR_TARGET_GROUP_ARNS: {c: [arn] for c, arn in target_groups.items()},
        names.COLOUR_DEPLOYMENT_GROUP_NAMES: groups,
        names.WEIGHTED_LISTENER_ARNS: [listener],
        names.WEIGHTED_RULE_ARNS: [],
    }
    return Estate(session, outputs, stack_file, lb_arn, listener, target_groups, groups)
