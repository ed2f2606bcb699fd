"""Fleet: the launch template and the Auto Scaling group behind the load balancer."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from hooks.group import ALLOW_DOWNTIME_TAG
from stack.config import ON_DEMAND_ALLOCATION_STRATEGY, SPOT_ALLOCATION_STRATEGY, DataVolume
from stack.load import OPT_OUTS_TAG, FleetConfig
from stack.names import COLOUR_TAG

ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023
# Data volumes (the Azure data disks, LUN order): /dev/sdf, /dev/sdg, ... as EC2 recommends.
DATA_DEVICES = tuple(f"/dev/sd{letter}" for letter in "fghijklmnopqrstuvwxyz")


def data_volume_mappings(volumes: Sequence[DataVolume]) -> list[dict[str, Any]]:
    """One encrypted block device per data volume, deleted with the instance (the fleet is
    immutable: state belongs in the database or the bucket, not on an instance)."""
    mappings = []
    for device, volume in zip(DATA_DEVICES, volumes, strict=False):
        ebs: dict[str, Any] = {
            "volume_size": volume.size_gb,
            "volume_type": volume.type,
            "encrypted": "true",
            "delete_on_termination": "true",
        }
        if volume.iops:
            ebs["iops"] = volume.iops
        if volume.throughput:
            ebs["throughput"] = volume.throughput
        mappings.append({"device_name": device, "ebs": ebs})
    return mappings


# How long `pulumi up` waits for the group's instances to turn healthy behind the balancer.
CAPACITY_TIMEOUT = "15m"
# Pulumi must never own the group's tags as a whole: the hooks keep their state there
# (hooks.group), and `pulumi up --refresh` during a deployment would otherwise remove it.
# The stack's own tags are one aws.autoscaling.Tag each, so changing them still applies.
GROUP_IGNORED_CHANGES = ["desiredCapacity", "tags"]
# Blue/green: which colour is live and each colour's capacity belong to `python -m release`
# once the groups exist (it sizes the idle colour to the live one, then scales the old to zero).
COLOUR_GROUP_IGNORED_CHANGES = ["minSize", "maxSize", "desiredCapacity", "tags"]


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
    # Instances an instance refresh keeps healthy, in percent of the group (the deployment floor).
    refresh_min_healthy_percentage: int = 100
    opt_outs: tuple[str, ...] = ()
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    # Blue/green: colour -> the target groups of that colour's group (named
    # ``<group_name>-<colour>``), all from the one launch template. Empty: one group.
    colour_target_group_arns: dict[str, list[pulumi.Input[str]]] = field(default_factory=dict)


def group_tags(
    group_name: str,
    tags: dict[str, str],
    allow_downtime: bool,
    opt_outs: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The Auto Scaling group's tags (the rehearsal gives its emulated group the same ones)."""
    found = [{"key": "Name", "value": group_name, "propagate_at_launch": True}]
    found += [{"key": k, "value": v, "propagate_at_launch": True} for k, v in tags.items()]
    if allow_downtime:
        # Read by the deregister hook: this group may lose its last in-service instance.
        found.append({"key": ALLOW_DOWNTIME_TAG, "value": "true", "propagate_at_launch": False})
    if opt_outs:
        # Read by the policy pack: the Security Hub controls this stack's file switches off.
        found.append(
            {"key": OPT_OUTS_TAG, "value": " ".join(opt_outs), "propagate_at_launch": False}
        )
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


class Fleet(pulumi.ComponentResource):
    """Instances from a hardened launch template (IMDSv2 only with hop limit 1, encrypted gp3
    root volume) in an Auto Scaling group that uses the load balancer's health checks.

    ``pulumi up`` never resets DesiredCapacity and never owns the group's tags as a whole
    (``ignore_changes``), so it does not fight the autoscaler, a deployment in progress or the
    hooks' state tags; it waits for healthy targets and refreshes instances when the template
    changes.
    """

    group_name: pulumi.Output[str]
    group_arn: pulumi.Output[str]
    launch_template_arn: pulumi.Output[str]
    launch_template_arns: list[pulumi.Output[str]]
    colour_group_names: dict[str, pulumi.Output[str]]  # blue/green only

    def _template(
        self, name: str, args: FleetArgs, architecture: str, instance_type: str
    ) -> aws.ec2.LaunchTemplate:
        """One launch template per architecture: an image runs on one."""
        instance_tags = {**args.tags, "Name": args.group_name}
        return aws.ec2.LaunchTemplate(
            f"{name}-template",
            # A pinned AMI or resolve:ssm:<parameter>: the template only changes when the
            # config does, so `pulumi up` is quiet when nothing changed.
            image_id=args.fleet.image_for(architecture),
            instance_type=instance_type,
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
                        "volume_size": args.fleet.root_volume_size_gb,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                },
                *data_volume_mappings(args.fleet.data_volumes),
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
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _group(
        self,
        name: str,
        args: FleetArgs,
        templates: dict[str, aws.ec2.LaunchTemplate],
        group_name: str,
        target_group_arns: list[pulumi.Input[str]],
        extra_tags: list[dict[str, Any]],
        ignored: list[str] | None,
    ) -> aws.autoscaling.Group:
        """One Auto Scaling group from the templates, and each of its tags as a resource."""
        fleet = args.fleet
        tags = group_tags(group_name, args.tags, fleet.allow_downtime, args.opt_outs)
        tags += extra_tags
        group = aws.autoscaling.Group(
            f"{name}-group",
            name=group_name,
            min_size=fleet.min_size,
            max_size=fleet.max_size,
            desired_capacity=fleet.desired_capacity,
            vpc_zone_identifiers=args.subnet_ids,
            **_instances(fleet, templates),
            health_check_type="ELB",
            health_check_grace_period=fleet.health_check_grace_period,
            default_instance_warmup=fleet.default_instance_warmup,
            termination_policies=list(fleet.termination_policies),
            target_group_arns=target_group_arns or None,
            load_balancers=[args.classic_elb_name] if args.classic_elb_name is not None else None,
            # `pulumi up` returns once the floor of instances is healthy behind the balancer.
            wait_for_elb_capacity=fleet.min_size
            if fleet.wait_for_healthy_targets and fleet.min_size
            else None,
            wait_for_capacity_timeout=CAPACITY_TIMEOUT,
            instance_refresh=_instance_refresh(args.refresh_min_healthy_percentage)
            if fleet.instance_refresh
            else None,
            enabled_metrics=[
                "GroupMinSize",
                "GroupMaxSize",
                "GroupDesiredCapacity",
                "GroupInServiceInstances",
                "GroupStandbyInstances",
                "GroupTotalInstances",
            ],
            # Applied at creation; afterwards each tag is its own resource (below).
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=ignored or GROUP_IGNORED_CHANGES,
                depends_on=args.depends_on,
            ),
        )
        for tag in tags:
            aws.autoscaling.Tag(
                f"{name}-tag-{tag['key'].replace(':', '-')}",
                autoscaling_group_name=group.name,
                tag={
                    "key": tag["key"],
                    "value": tag["value"],
                    "propagate_at_launch": tag["propagate_at_launch"],
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
        return group

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:fleet:Fleet", name, None, opts)
        fleet = args.fleet
        templates = {
            arch: self._template(name if i == 0 else f"{name}-{arch}", args, arch, types[0])
            for i, (arch, types) in enumerate(fleet.types_by_architecture.items())
        }
        template = templates[fleet.architecture]
        colours = args.colour_target_group_arns
        groups = {
            colour: self._group(
                f"{name}-{colour}",
                args,
                templates,
                group_name=f"{args.group_name}-{colour}",
                target_group_arns=arns,
                extra_tags=[{"key": COLOUR_TAG, "value": colour, "propagate_at_launch": False}],
                ignored=COLOUR_GROUP_IGNORED_CHANGES,
            )
            for colour, arns in colours.items()
        } or {
            "": self._group(
                name, args, templates, args.group_name, args.target_group_arns, [], None
            )
        }
        group = next(iter(groups.values()))
        self.colour_group_names = {c: g.name for c, g in groups.items() if c}
        self.group_name = group.name
        self.group_arn = group.arn
        self.launch_template_arn = template.arn
        self.launch_template_arns = [t.arn for t in templates.values()]
        self.register_outputs(
            {"groupName": self.group_name, "launchTemplateArn": self.launch_template_arn}
        )


def _spec(template: aws.ec2.LaunchTemplate) -> dict:
    return {"launch_template_id": template.id, "version": template.latest_version.apply(str)}


def _instances(fleet: FleetConfig, templates: dict[str, aws.ec2.LaunchTemplate]) -> dict:
    """The launch template alone, or a mixed-instances policy over every configured type
    (AutoScaling.6) with ``onDemandBaseCapacity`` on-demand instances first; a type of another
    architecture than the primary's launches from that architecture's template."""
    primary = templates[fleet.architecture]
    if not fleet.instance_types:
        return {"launch_template": {"id": primary.id, "version": _spec(primary)["version"]}}
    overrides = []
    for arch, types in fleet.types_by_architecture.items():
        for instance_type in types:
            override: dict[str, Any] = {"instance_type": instance_type}
            if arch != fleet.architecture:
                override["launch_template_specification"] = _spec(templates[arch])
            overrides.append(override)
    order = {t: i for i, t in enumerate(fleet.all_instance_types)}
    overrides.sort(key=lambda o: order[o["instance_type"]])
    return {
        "mixed_instances_policy": {
            "launch_template": {
                "launch_template_specification": _spec(primary),
                "overrides": overrides,
            },
            "instances_distribution": {
                "on_demand_base_capacity": fleet.on_demand_base_capacity,
                "on_demand_percentage_above_base_capacity": fleet.on_demand_percentage_above_base,
                "on_demand_allocation_strategy": ON_DEMAND_ALLOCATION_STRATEGY,
                "spot_allocation_strategy": SPOT_ALLOCATION_STRATEGY,
            },
        }
    }


def _instance_refresh(min_healthy_percentage: int) -> dict:
    """Replace instances when the launch template changes, keeping the deployment's floor.
    New instances get the current revision from CodeDeploy's launch lifecycle hook."""
    return {
        "strategy": "Rolling",
        "preferences": {
            "min_healthy_percentage": min_healthy_percentage,
            "skip_matching": True,
        },
    }
