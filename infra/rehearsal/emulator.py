"""A local AWS (moto server on 127.0.0.1) holding the stack's fleet, built from its config.

The group, launch template and load balancer get the values the Pulumi program would give them,
read through the same config module: capacity, tags (including cutover:allow-downtime), health
check, deregistration delay, load balancer type and listeners.
"""

from __future__ import annotations

import logging
import string
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from infra.config import StackConfig
from infra.fleet import group_tags

CREDENTIALS = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}


@dataclass
class Fleet:
    """What the rehearsal needs to know about the emulated fleet."""

    group_name: str
    region: str
    target_group_arns: list[str] = field(default_factory=list)
    classic_elb_name: str | None = None
    zones: dict[str, str] = field(default_factory=dict)  # instance id -> availability zone


class Emulator:
    """Starts a moto server on a free port of 127.0.0.1; use as a context manager."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._server: ThreadedMotoServer | None = None
        self.url = ""

    def __enter__(self) -> Emulator:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # moto keeps its state per process: start from an empty AWS even if one ran before.
        reset = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.url,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
            **CREDENTIALS,
        )

    def build(self, cfg: StackConfig, instances: int | None = None) -> Fleet:
        """Create the VPC, load balancer, launch template and group; wait for InService."""
        ec2, autoscaling = self.client("ec2"), self.client("autoscaling")
        zones = [f"{cfg.region}{letter}" for letter in string.ascii_lowercase]
        zones = zones[: cfg.network.availability_zones]
        public_cidrs, private_cidrs = cfg.network.subnet_cidrs()
        vpc = ec2.create_vpc(CidrBlock=cfg.network.vpc_cidr)["Vpc"]["VpcId"]

        def subnets(cidrs: list[str]) -> list[str]:
            return [
                ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"][
                    "SubnetId"
                ]
                for cidr, zone in zip(cidrs, zones, strict=False)
            ]

        public, private = subnets(public_cidrs), subnets(private_cidrs)
        fleet = Fleet(group_name=cfg.group_name, region=cfg.region)
        if cfg.load_balancer.type == "classic":
            fleet.classic_elb_name = self._classic_elb(cfg, public)
        else:
            fleet.target_group_arns = [self._load_balancer(cfg, vpc, public)]

        images = ec2.describe_images(Owners=["amazon"])["Images"]
        image = cfg.fleet.ami or images[0]["ImageId"]
        template = f"{cfg.resource_prefix}-template"
        ec2.create_launch_template(
            LaunchTemplateName=template,
            LaunchTemplateData={
                "ImageId": image,
                "InstanceType": cfg.fleet.instance_type,
                "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            },
        )
        desired = cfg.fleet.desired_capacity if instances is None else instances
        tags = group_tags(cfg.group_name, cfg.resource_tags, cfg.fleet.allow_downtime)
        group: dict[str, Any] = {
            "AutoScalingGroupName": cfg.group_name,
            "MinSize": min(cfg.fleet.min_size, desired),
            "MaxSize": max(cfg.fleet.max_size, desired),
            "DesiredCapacity": desired,
            "LaunchTemplate": {"LaunchTemplateName": template, "Version": "$Latest"},
            "VPCZoneIdentifier": ",".join(private),
            "HealthCheckType": "ELB",
            "HealthCheckGracePeriod": cfg.fleet.health_check_grace_period,
            "Tags": [
                {
                    "Key": t["key"],
                    "Value": t["value"],
                    "PropagateAtLaunch": t["propagate_at_launch"],
                }
                for t in tags
            ],
        }
        if fleet.target_group_arns:
            group["TargetGroupARNs"] = fleet.target_group_arns
        if fleet.classic_elb_name:
            group["LoadBalancerNames"] = [fleet.classic_elb_name]
        autoscaling.create_auto_scaling_group(**group)
        described = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[cfg.group_name])
        for instance in described["AutoScalingGroups"][0]["Instances"]:
            fleet.zones[instance["InstanceId"]] = instance["AvailabilityZone"]
        return fleet

    def _load_balancer(self, cfg: StackConfig, vpc: str, subnets: list[str]) -> str:
        elbv2 = self.client("elbv2")
        lb_cfg, check = cfg.load_balancer, cfg.load_balancer.health_check
        network = lb_cfg.type == "network"
        balancer = elbv2.create_load_balancer(
            Name=f"{cfg.resource_prefix}-lb"[:32],
            Subnets=subnets,
            Type=lb_cfg.type,
            Scheme="internet-facing",
        )["LoadBalancers"][0]["LoadBalancerArn"]
        health: dict[str, Any] = {
            "HealthCheckProtocol": check.protocol,
            "HealthCheckIntervalSeconds": check.interval,
            "HealthCheckTimeoutSeconds": check.timeout,
            "HealthyThresholdCount": check.healthy_threshold,
            "UnhealthyThresholdCount": check.unhealthy_threshold,
        }
        if check.protocol in ("HTTP", "HTTPS"):
            health["HealthCheckPath"] = check.path
            health["Matcher"] = {"HttpCode": check.matcher}
        target_group = elbv2.create_target_group(
            Name=f"{cfg.resource_prefix}-tg"[:32],
            Protocol="TCP" if network else "HTTP",
            Port=cfg.fleet.app_port,
            VpcId=vpc,
            TargetType="instance",
            **health,
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=target_group,
            Attributes=[
                {
                    "Key": "deregistration_delay.timeout_seconds",
                    "Value": str(lb_cfg.deregistration_delay),
                }
            ],
        )
        for listener in lb_cfg.listeners:
            if listener.protocol in ("HTTPS", "TLS"):
                continue  # a certificate is not part of what a deployment exercises
            elbv2.create_listener(
                LoadBalancerArn=balancer,
                Protocol=listener.protocol,
                Port=listener.port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
            )
        return target_group

    def _classic_elb(self, cfg: StackConfig, subnets: list[str]) -> str:
        elb = self.client("elb")
        name = f"{cfg.resource_prefix}-clb"[:32]
        check = cfg.load_balancer.health_check
        elb.create_load_balancer(
            LoadBalancerName=name,
            Listeners=[
                {
                    "Protocol": "TCP" if listener.protocol == "TCP" else "HTTP",
                    "LoadBalancerPort": listener.port,
                    "InstancePort": cfg.fleet.app_port,
                }
                for listener in cfg.load_balancer.listeners
                if listener.protocol not in ("HTTPS", "TLS", "SSL")
            ],
            Subnets=subnets,
        )
        target = f"{check.protocol}:{cfg.fleet.app_port}"
        if check.protocol in ("HTTP", "HTTPS"):
            target += check.path
        elb.configure_health_check(
            LoadBalancerName=name,
            HealthCheck={
                "Target": target,
                "Interval": check.interval,
                "Timeout": check.timeout,
                "HealthyThreshold": check.healthy_threshold,
                "UnhealthyThreshold": check.unhealthy_threshold,
            },
        )
        elb.modify_load_balancer_attributes(
            LoadBalancerName=name,
            LoadBalancerAttributes={
                "ConnectionDraining": {
                    "Enabled": True,
                    "Timeout": cfg.load_balancer.deregistration_delay,
                }
            },
        )
        return name
