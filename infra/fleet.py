"""Fleet: the launch template and the Auto Scaling group behind the load balancer."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from hooks.group import ALLOW_DOWNTIME_TAG
from infra.config import FleetConfig

AMAZON_OWNER = "amazon"
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023


@dataclass
class FleetArgs:
    fleet: FleetConfig
    group_name: str
    region: str
    subnet_ids: list[pulumi.Input[str]]
    public_ips: bool
    security_group_id: pulumi.Input[str]
    instance_profile_arn: pulumi.Input[str]
    target_group_arns: list[pulumi.Input[str]] = field(default_factory=list)
    classic_elb_name: pulumi.Input[str] | None = None
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


def group_tags(group_name: str, tags: dict[str, str], allow_downtime: bool) -> list[dict[str, Any]]:
    """The Auto Scaling group's tags (the rehearsal gives its emulated group the same ones)."""
    found = [{"key": "Name", "value": group_name, "propagate_at_launch": True}]
    found += [{"key": k, "value": v, "propagate_at_launch": True} for k, v in tags.items()]
    if allow_downtime:
        # Read by the deregister hook: this group may lose its last in-service instance.
        found.append({"key": ALLOW_DOWNTIME_TAG, "value": "true", "propagate_at_launch": False})
    return found


def user_data(region: str) -> str:
    """Boot script: Python 3 and boto3 for the hooks, then the CodeDeploy agent from its
    regional bucket (the agent needs ruby)."""
    return f"""#!/bin/bash
set -euo pipefail
dnf install -y python3 python3-boto3 ruby wget
cd /tmp
wget -q https://aws-codedeploy-{region}.s3.{region}.amazonaws.com/latest/install
chmod +x ./install
./install auto
systemctl enable --now codedeploy-agent
"""


def latest_amazon_linux(architecture: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The newest Amazon Linux 2023 AMI published by Amazon for ``architecture``."""
    image = aws.ec2.get_ami_output(
        most_recent=True,
        owners=[AMAZON_OWNER],
        filters=[
            {"name": "name", "values": [f"al2023-ami-2023.*-{architecture}"]},
            {"name": "architecture", "values": [architecture]},
            {"name": "virtualization-type", "values": ["hvm"]},
            {"name": "root-device-type", "values": ["ebs"]},
        ],
        opts=pulumi.InvokeOptions(parent=parent),
    )
    return image.id


class Fleet(pulumi.ComponentResource):
    """Instances from a hardened launch template (IMDSv2 only, encrypted gp3 root volume) in an
    Auto Scaling group that uses the load balancer's health checks.

    ``pulumi up`` never resets DesiredCapacity (``ignore_changes``), so it does not fight the
    autoscaler or a deployment in progress.
    """

    group_name: pulumi.Output[str]
    group_arn: pulumi.Output[str]
    launch_template_arn: pulumi.Output[str]

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:fleet:Fleet", name, None, opts)
        fleet = args.fleet
        child = pulumi.ResourceOptions(parent=self)
        image = fleet.ami or latest_amazon_linux(fleet.architecture, self)
        instance_tags = {**args.tags, "Name": args.group_name}
        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            image_id=image,
            instance_type=fleet.instance_type,
            iam_instance_profile={"arn": args.instance_profile_arn},
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
            },
            block_device_mappings=[
                {
                    "device_name": ROOT_DEVICE,
                    "ebs": {
                        "volume_size": fleet.root_volume_size_gb,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            network_interfaces=[
                {
                    "device_index": 0,
                    "associate_public_ip_address": "true" if args.public_ips else "false",
                    "security_groups": [args.security_group_id],
                    "delete_on_termination": "true",
                }
            ],
            # One-minute CPU metrics, so the scaling alarms see what the policies are tuned for.
            monitoring={"enabled": True},
            user_data=base64.b64encode(user_data(args.region).encode()).decode(),
            update_default_version=True,
            tag_specifications=[
                {"resource_type": "instance", "tags": instance_tags},
                {"resource_type": "volume", "tags": instance_tags},
            ],
            tags={**args.tags, "Name": f"{name}-template"},
            opts=child,
        )
        tags = group_tags(args.group_name, args.tags, fleet.allow_downtime)
        group = aws.autoscaling.Group(
            f"{name}-group",
            name=args.group_name,
            min_size=fleet.min_size,
            max_size=fleet.max_size,
            desired_capacity=fleet.desired_capacity,
            vpc_zone_identifiers=args.subnet_ids,
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            health_check_type="ELB",
            health_check_grace_period=fleet.health_check_grace_period,
            target_group_arns=args.target_group_arns or None,
            load_balancers=[args.classic_elb_name] if args.classic_elb_name is not None else None,
            enabled_metrics=[
                "GroupMinSize",
                "GroupMaxSize",
                "GroupDesiredCapacity",
                "GroupInServiceInstances",
                "GroupStandbyInstances",
                "GroupTotalInstances",
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["desiredCapacity"], depends_on=args.depends_on
            ),
        )
        self.group_name = group.name
        self.group_arn = group.arn
        self.launch_template_arn = template.arn
        self.register_outputs(
            {"groupName": self.group_name, "launchTemplateArn": self.launch_template_arn}
        )
