"""Load balancer: an Application (or Network) Load Balancer with one target group and its
listeners, or a classic ELB, the type the original hook scripts were written for."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.config import HealthCheckConfig, ListenerConfig

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass
class LoadBalancerArgs:
    type: str  # application | network | classic
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    listeners: list[ListenerConfig]
    health_check: HealthCheckConfig
    app_port: int
    deregistration_delay: int
    tags: dict[str, str] = field(default_factory=dict)


class LoadBalancer(pulumi.ComponentResource):
    """Internet-facing load balancer in the public subnets, forwarding to the app port.

    ``target_group_arns`` is empty for a classic ELB; ``classic_name``/``classic_arn`` are None
    for the other types. The deregistration delay (connection draining for a classic ELB) is
    what the deregister hook waits out.
    """

    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]  # the load balancer's own hosted zone, for alias records
    arn: pulumi.Output[str]
    target_group_arns: list[pulumi.Output[str]]
    classic_name: pulumi.Output[str] | None
    classic_arn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("cutover:loadbalancer:LoadBalancer", name, None, opts)
        self._name, self._args = name, args
        self.target_group_arns = []
        self.classic_name = self.classic_arn = None
        if args.type == "classic":
            elb = self._classic()
            self.dns_name = elb.dns_name
            self.zone_id, self.arn = elb.zone_id, elb.arn
            self.classic_name, self.classic_arn = elb.name, elb.arn
        else:
            lb = self._modern()
            self.dns_name = lb.dns_name
            self.zone_id, self.arn = lb.zone_id, lb.arn
        self.register_outputs(
            {
                "dnsName": self.dns_name,
                "targetGroupArns": self.target_group_arns,
                "classicName": self.classic_name,
            }
        )

    def _tags(self, name: str) -> dict[str, str]:
        return {**self._args.tags, "Name": name}

    def _modern(self) -> aws.lb.LoadBalancer:
        args, child = self._args, pulumi.ResourceOptions(parent=self)
        application = args.type == "application"
        lb = aws.lb.LoadBalancer(
            f"{self._name}-{'alb' if application else 'nlb'}",
            load_balancer_type=args.type,
            internal=False,
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            drop_invalid_header_fields=True if application else None,
            enable_cross_zone_load_balancing=None if application else True,
            tags=self._tags(f"{self._name}-{'alb' if application else 'nlb'}"),
            opts=child,
        )
        check = args.health_check
        target_group = aws.lb.TargetGroup(
            f"{self._name}-tg",
            vpc_id=args.vpc_id,
            target_type="instance",
            port=args.app_port,
            protocol="HTTP" if application else "TCP",
            deregistration_delay=args.deregistration_delay,
            health_check={
                "enabled": True,
                "protocol": check.protocol,
                "port": "traffic-port",
                "path": check.path if check.uses_path else None,
                "matcher": check.matcher if check.uses_path else None,
                "interval": check.interval,
                "timeout": check.timeout,
                "healthy_threshold": check.healthy_threshold,
                "unhealthy_threshold": check.unhealthy_threshold,
            },
            tags=self._tags(f"{self._name}-tg"),
            opts=child,
        )
        self.target_group_arns = [target_group.arn]
        for listener in args.listeners:
            aws.lb.Listener(
                f"{self._name}-{listener.protocol.lower()}-{listener.port}",
                load_balancer_arn=lb.arn,
                port=listener.port,
                protocol=listener.protocol,
                certificate_arn=listener.certificate_arn or None,
                ssl_policy=TLS_POLICY if listener.encrypted else None,
                default_actions=[{"type": "forward", "target_group_arn": target_group.arn}],
                tags=self._tags(f"{self._name}-{listener.protocol.lower()}-{listener.port}"),
                opts=child,
            )
        return lb

    def _classic(self) -> aws.elb.LoadBalancer:
        args, check = self._args, self._args.health_check
        target = f"{check.protocol}:{args.app_port}{check.path if check.uses_path else ''}"
        return aws.elb.LoadBalancer(
            f"{self._name}-elb",
            internal=False,
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            listeners=[
                {
                    "lb_port": listener.port,
                    "lb_protocol": listener.protocol,
                    "instance_port": args.app_port,
                    "instance_protocol": "HTTP"
                    if listener.protocol in ("HTTP", "HTTPS")
                    else "TCP",
                    "ssl_certificate_id": listener.certificate_arn or None,
                }
                for listener in args.listeners
            ],
            health_check={
                "target": target,
                "interval": check.interval,
                "timeout": check.timeout,
                "healthy_threshold": check.healthy_threshold,
                "unhealthy_threshold": check.unhealthy_threshold,
            },
            connection_draining=args.deregistration_delay > 0,
            connection_draining_timeout=args.deregistration_delay or None,
            cross_zone_load_balancing=True,
            tags=self._tags(f"{self._name}-elb"),
            opts=pulumi.ResourceOptions(parent=self),
        )
