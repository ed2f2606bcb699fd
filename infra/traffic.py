"""Traffic: the two weighted DNS records of the move (Azure's front end and the AWS load
balancer) under one name, each with a Route 53 health check.

The weights belong to ``python -m shift`` once the records exist. The program creates
them at azure 100 / aws 0 and ignores the live weights afterwards
(``ignore_changes=["weightedRoutingPolicies"]``), so a ``pulumi up`` in the middle of (or after)
a shift never moves the users back to Azure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stack.config import EndpointCheckConfig, TrafficConfig
from stack.names import AWS_SET_IDENTIFIER as AWS
from stack.names import AZURE_SET_IDENTIFIER as AZURE

INITIAL_WEIGHTS = {AZURE: 100, AWS: 0}
# What `pulumi up` must leave alone once the shift owns the weights.
WEIGHT_PROPERTY = "weightedRoutingPolicies"


@dataclass
class TrafficArgs:
    traffic: TrafficConfig
    load_balancer_dns_name: pulumi.Input[str]
    load_balancer_zone_id: pulumi.Input[str]
    tags: dict[str, str] = field(default_factory=dict)


class Traffic(pulumi.ComponentResource):
    """Weighted records ``azure`` (CNAME or A to Azure) and ``aws`` (alias to the load balancer).

    ``zone_id`` is the hosted zone's id (looked up when the config names the zone);
    ``health_check_ids`` maps ``azure`` and ``aws`` to their health check ids.
    """

    zone_id: pulumi.Output[str]
    record_name: str
    health_check_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: TrafficArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:traffic:Traffic", name, None, opts)
        cfg = args.traffic
        child = pulumi.ResourceOptions(parent=self)
        if cfg.zone_id:
            self.zone_id = pulumi.Output.from_input(cfg.zone_id)
        else:
            zone = aws.route53.get_zone_output(name=cfg.zone_name, private_zone=False)
            self.zone_id = zone.zone_id
        self.record_name = cfg.record_name
        aws_check = self._health_check(
            f"{name}-{AWS}",
            cfg,
            cfg.aws_check,
            args.load_balancer_dns_name,
            False,
            args.tags,
            child,
        )
        azure_check = self._health_check(
            f"{name}-{AZURE}",
            cfg,
            cfg.azure_check,
            cfg.azure_endpoint,
            cfg.azure_is_ip,
            args.tags,
            child,
        )
        self.health_check_ids = {AWS: aws_check.id, AZURE: azure_check.id}
        # The shift owns the weights: creation sets them, updates never touch them again.
        weights = pulumi.ResourceOptions(parent=self, ignore_changes=[WEIGHT_PROPERTY])
        aws.route53.Record(
            f"{name}-{AZURE}",
            zone_id=self.zone_id,
            name=cfg.record_name,
            type="A" if cfg.azure_is_ip else "CNAME",
            ttl=cfg.ttl,
            records=[cfg.azure_endpoint],
            set_identifier=AZURE,
            weighted_routing_policies=[{"weight": INITIAL_WEIGHTS[AZURE]}],
            health_check_id=azure_check.id,
            # The runbook hands the name over in one Route 53 change (the plain record deleted,
            # this weighted one created) so users never see a gap; pulumi up then adopts it.
            allow_overwrite=True,
            opts=weights,
        )
        # An alias record has no TTL of its own: resolvers use the load balancer's (60 s).
        # A CNAME may not share its name with other types, so the AWS side of a CNAME pair is
        # a CNAME to the load balancer too; an A pair gets an A alias.
        if cfg.azure_is_ip:
            aws.route53.Record(
                f"{name}-{AWS}",
                zone_id=self.zone_id,
                name=cfg.record_name,
                type="A",
                aliases=[
                    {
                        "name": args.load_balancer_dns_name,
                        "zone_id": args.load_balancer_zone_id,
                        "evaluate_target_health": True,
                    }
                ],
                set_identifier=AWS,
                weighted_routing_policies=[{"weight": INITIAL_WEIGHTS[AWS]}],
                health_check_id=aws_check.id,
                opts=weights,
            )
        else:
            aws.route53.Record(
                f"{name}-{AWS}",
                zone_id=self.zone_id,
                name=cfg.record_name,
                type="CNAME",
                ttl=cfg.ttl,
                records=[args.load_balancer_dns_name],
                set_identifier=AWS,
                weighted_routing_policies=[{"weight": INITIAL_WEIGHTS[AWS]}],
                health_check_id=aws_check.id,
                opts=weights,
            )
        self.register_outputs(
            {
                "zoneId": self.zone_id,
                "recordName": self.record_name,
                "healthCheckIds": self.health_check_ids,
            }
        )

    @staticmethod
    def _health_check(
        name: str,
        cfg: TrafficConfig,
        check: EndpointCheckConfig,
        endpoint: pulumi.Input[str],
        is_ip: bool,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> aws.route53.HealthCheck:
        return aws.route53.HealthCheck(
            name,
            type=check.protocol,
            fqdn=None if is_ip else endpoint,
            ip_address=endpoint if is_ip else None,
            port=check.port,
            resource_path=check.path if check.uses_path else None,
            request_interval=cfg.request_interval,
            failure_threshold=cfg.failure_threshold,
            tags={**tags, "Name": name},
            opts=opts,
        )
