"""Security groups: the internet reaches only the load balancer; the load balancer reaches only
the app port of the instances; only the instances reach the database. No SSH anywhere."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

ANYWHERE = "0.0.0.0/0"
HTTPS = 443


@dataclass
class SecurityGroupsArgs:
    vpc_id: pulumi.Input[str]
    listener_ports: list[int]
    target_ports: list[int]
    # Who may reach the load balancer: the internet, or the VPC for an internal one.
    client_cidr: str = ANYWHERE
    database_port: int | None = None  # None: no database security group
    tags: dict[str, str] = field(default_factory=dict)


class SecurityGroups(pulumi.ComponentResource):
    """The load balancer's, the instances' and (optionally) the database's security groups.

    Every rule is its own resource (``aws.vpc.SecurityGroupIngressRule``/``EgressRule``) so that
    a reviewer sees each opening by name. Instances may call out on HTTPS only (AWS APIs, the
    CodeDeploy agent, package repositories) and to the database.
    """

    load_balancer_id: pulumi.Output[str]
    instance_id: pulumi.Output[str]
    database_id: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("cutover:security:SecurityGroups", name, None, opts)
        self._name, self._args = name, args
        clients = "the internet" if args.client_cidr == ANYWHERE else args.client_cidr
        lb = self._group("lb", f"Load balancer: listener ports from {clients}")
        instances = self._group(
            "instances", "Instances: the target ports from the load balancer only"
        )
        for port in sorted(set(args.listener_ports)):
            self._ingress(f"lb-in-{port}", lb, port, cidr=args.client_cidr)
        for port in sorted(set(args.target_ports)):
            self._egress(f"lb-out-{port}", lb, port, group=instances)
            self._ingress(f"instances-in-{port}", instances, port, group=lb)
        self._egress(f"instances-out-{HTTPS}", instances, HTTPS, cidr=ANYWHERE)
        self.load_balancer_id = lb.id
        self.instance_id = instances.id
        self.database_id = None
        if args.database_port is not None:
            database = self._group("database", "Database: PostgreSQL from the instances only")
            self._ingress(
                f"database-in-{args.database_port}", database, args.database_port, group=instances
            )
            self._egress(
                f"instances-out-{args.database_port}", instances, args.database_port, group=database
            )
            self.database_id = database.id
        self.register_outputs(
            {
                "loadBalancer": self.load_balancer_id,
                "instances": self.instance_id,
                "database": self.database_id,
            }
        )

    def _group(self, role: str, description: str) -> aws.ec2.SecurityGroup:
        name = f"{self._name}-{role}"
        # No inline rules: the provider removes AWS's default allow-all egress on create.
        return aws.ec2.SecurityGroup(
            name,
            vpc_id=self._args.vpc_id,
            description=description,
            tags={**self._args.tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _ingress(
        self,
        label: str,
        target: aws.ec2.SecurityGroup,
        port: int,
        cidr: str | None = None,
        group: aws.ec2.SecurityGroup | None = None,
    ) -> None:
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-{label}",
            security_group_id=target.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            referenced_security_group_id=group.id if group else None,
            description=label,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _egress(
        self,
        label: str,
        source: aws.ec2.SecurityGroup,
        port: int,
        cidr: str | None = None,
        group: aws.ec2.SecurityGroup | None = None,
    ) -> None:
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-{label}",
            security_group_id=source.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            referenced_security_group_id=group.id if group else None,
            description=label,
            opts=pulumi.ResourceOptions(parent=self),
        )
