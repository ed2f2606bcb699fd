"""Load balancer: an Application (or Network) Load Balancer with a target group per target port
and its listeners, or a classic ELB, the type the original hook scripts were written for."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.logbucket import ELB_PREFIX
from stack.load import HealthCheckConfig, ListenerConfig

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
    internal: bool = False
    deletion_protection: bool = True
    # The log bucket's name for access logs (ELB.5); None: no access logs (an explicit opt-out).
    access_log_bucket: pulumi.Input[str] | None = None
    # The certificate the stack requested (its ARN once issued), for encrypted listeners that
    # name none of their own.
    certificate_arn: pulumi.Input[str] | None = None
    # What the load balancer speaks to the instances: HTTP/HTTPS (application), TCP/TLS (network).
    target_protocol: str = "HTTP"
    # Blue/green (application only): one target group per port and colour, and every forward
    # weighted over the colours, the first at 100. Empty: one target group per port.
    colours: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


class LoadBalancer(pulumi.ComponentResource):
    """Load balancer (internet-facing in the public subnets, or internal in the private ones)
    with one target group per target port, so each listener keeps its backend port.

    ``target_group_arns`` is empty for a classic ELB; ``classic_name``/``classic_arn`` are None
    for the other types. The deregistration delay (connection draining for a classic ELB) is
    what the deregister hook waits out. With an HTTPS listener, plain HTTP listeners of an ALB
    redirect to it (ELB.1); an encrypted listener without a certificate of its own uses
    ``certificate_arn`` (the one the stack requested).
    """

    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]  # the load balancer's own hosted zone, for alias records
    arn: pulumi.Output[str]
    target_group_arns: list[pulumi.Output[str]]
    target_group_arn_suffixes: list[pulumi.Output[str]]
    arn_suffix: pulumi.Output[str] | None
    classic_name: pulumi.Output[str] | None
    classic_arn: pulumi.Output[str] | None
    # Blue/green only: colour -> its target groups (in port order), and the weighted forwards.
    colour_target_group_arns: dict[str, list[pulumi.Output[str]]]
    colour_target_group_arn_suffixes: dict[str, list[pulumi.Output[str]]]
    weighted_listener_arns: list[pulumi.Output[str]]
    weighted_rule_arns: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("cutover:loadbalancer:LoadBalancer", name, None, opts)
        self._name, self._args = name, args
        self.target_group_arns = []
        self.target_group_arn_suffixes = []
        self.colour_target_group_arns, self.colour_target_group_arn_suffixes = {}, {}
        self.weighted_listener_arns, self.weighted_rule_arns = [], []
        self.classic_name = self.classic_arn = self.arn_suffix = None
        if args.type == "classic":
            elb = self._classic()
            self.dns_name = elb.dns_name
            self.zone_id, self.arn = elb.zone_id, elb.arn
            self.classic_name, self.classic_arn = elb.name, elb.arn
        else:
            lb = self._modern()
            self.dns_name = lb.dns_name
            self.zone_id, self.arn = lb.zone_id, lb.arn
            self.arn_suffix = lb.arn_suffix
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
        lb_name = f"{self._name}-{'alb' if application else 'nlb'}"
        lb = aws.lb.LoadBalancer(
            lb_name,
            load_balancer_type=args.type,
            internal=args.internal,
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            drop_invalid_header_fields=True if application else None,
            enable_cross_zone_load_balancing=None if application else True,
            enable_deletion_protection=args.deletion_protection,
            access_logs=self._access_logs(),
            tags=self._tags(lb_name),
            opts=child,
        )
        colours = args.colours if application else ()
        by_colour = {
            colour: {port: self._target_group(port, colour) for port in self._target_ports()}
            for colour in colours or ("",)
        }
        for colour, groups in by_colour.items():
            self.target_group_arns += [group.arn for group in groups.values()]
            self.target_group_arn_suffixes += [group.arn_suffix for group in groups.values()]
            if colour:
                self.colour_target_group_arns[colour] = [g.arn for g in groups.values()]
                self.colour_target_group_arn_suffixes[colour] = [
                    g.arn_suffix for g in groups.values()
                ]
        https_port = next((x.port for x in args.listeners if x.protocol == "HTTPS"), None)
        # Weights belong to `python -m release` once the forward exists: `pulumi up` leaves them.
        weighted = pulumi.ResourceOptions(parent=self, ignore_changes=["defaultActions"])
        for listener in args.listeners:
            label = f"{self._name}-{listener.protocol.lower()}-{listener.port}"
            forward = self._forward(by_colour, listener.target_port)
            redirect = application and listener.protocol == "HTTP" and https_port is not None
            action = (
                {
                    "type": "redirect",
                    "redirect": {
                        "protocol": "HTTPS",
                        "port": str(https_port),
                        "status_code": "HTTP_301",
                    },
                }
                if redirect
                else forward
            )
            created = aws.lb.Listener(
                label,
                load_balancer_arn=lb.arn,
                port=listener.port,
                protocol=listener.protocol,
                certificate_arn=self._certificate(listener),
                ssl_policy=TLS_POLICY if listener.encrypted else None,
                default_actions=[action],
                tags=self._tags(label),
                opts=weighted if colours and not redirect else child,
            )
            if colours and not redirect:
                self.weighted_listener_arns.append(created.arn)
            for i, rule in enumerate(listener.rules):
                created_rule = aws.lb.ListenerRule(
                    f"{label}-rule-{i}",
                    listener_arn=created.arn,
                    priority=(i + 1) * 10,
                    conditions=[{"path_pattern": {"values": list(rule.path_patterns)}}],
                    actions=[self._forward(by_colour, rule.target_port)],
                    tags=self._tags(f"{label}-rule-{i}"),
                    opts=pulumi.ResourceOptions(parent=self, ignore_changes=["actions"])
                    if colours
                    else child,
                )
                if colours:
                    self.weighted_rule_arns.append(created_rule.arn)
        return lb

    def _target_ports(self) -> list[int]:
        ports = [x.target_port for x in self._args.listeners]
        ports += [rule.target_port for x in self._args.listeners for rule in x.rules]
        return list(dict.fromkeys(ports))

    @staticmethod
    def _forward(by_colour: dict[str, dict[int, aws.lb.TargetGroup]], port: int) -> dict:
        """To the port's target group; with colours, weighted: the first colour takes it all."""
        if "" in by_colour:
            return {"type": "forward", "target_group_arn": by_colour[""][port].arn}
        return {
            "type": "forward",
            "forward": {
                "target_groups": [
                    {"arn": groups[port].arn, "weight": 100 if i == 0 else 0}
                    for i, groups in enumerate(by_colour.values())
                ],
                "stickiness": {"enabled": False, "duration": 1},
            },
        }

    def _target_group(self, port: int, colour: str = "") -> aws.lb.TargetGroup:
        """Instance targets on ``port``; the app port's group keeps the name ``<lb>-tg``
        (``<lb>-tg-<colour>`` for a colour's)."""
        args, check = self._args, self._args.health_check
        name = f"{self._name}-tg" if port == args.app_port else f"{self._name}-tg-{port}"
        name = f"{name}-{colour}" if colour else name
        return aws.lb.TargetGroup(
            name,
            vpc_id=args.vpc_id,
            target_type="instance",
            port=port,
            protocol=args.target_protocol,
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
            tags=self._tags(name),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _certificate(self, listener: ListenerConfig) -> pulumi.Input[str] | None:
        if not listener.encrypted:
            return None
        return listener.certificate_arn or self._args.certificate_arn

    def _access_logs(self) -> dict | None:
        if self._args.access_log_bucket is None:
            return None
        return {"bucket": self._args.access_log_bucket, "prefix": ELB_PREFIX, "enabled": True}

    def _classic(self) -> aws.elb.LoadBalancer:
        args, check = self._args, self._args.health_check
        target = f"{check.protocol}:{args.app_port}{check.path if check.uses_path else ''}"
        logs = None
        if args.access_log_bucket is not None:
            logs = {
                "bucket": args.access_log_bucket,
                "bucket_prefix": ELB_PREFIX,
                "interval": 5,
                "enabled": True,
            }
        return aws.elb.LoadBalancer(
            f"{self._name}-elb",
            internal=args.internal,
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            listeners=[
                {
                    "lb_port": listener.port,
                    "lb_protocol": listener.protocol,
                    "instance_port": listener.target_port,
                    "instance_protocol": "HTTP"
                    if listener.protocol in ("HTTP", "HTTPS")
                    else "TCP",
                    "ssl_certificate_id": self._certificate(listener),
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
            access_logs=logs,
            tags=self._tags(f"{self._name}-elb"),
            opts=pulumi.ResourceOptions(parent=self),
        )
