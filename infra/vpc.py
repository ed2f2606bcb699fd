"""Network: VPC, public subnets for the load balancer, private subnets, routing and NAT."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

ANYWHERE = "0.0.0.0/0"


@dataclass
class NetworkArgs:
    vpc_cidr: str
    public_subnet_cidrs: list[str]
    private_subnet_cidrs: list[str]
    nat_gateways: str  # none | single | perAz
    region: str
    # Where VPC flow logs go (the log bucket's ARN); None: no flow logs (an explicit opt-out).
    flow_log_bucket_arn: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)


class Network(pulumi.ComponentResource):
    """A VPC across ``len(public_subnet_cidrs)`` AZs.

    Public subnets hold the load balancer (and the NAT gateways); private subnets hold the
    instances when there is a NAT gateway, and the database. Without NAT, instances run in the
    public subnets with public IPs (their security group still admits only the load balancer).
    An S3 gateway endpoint keeps revision downloads off the NAT gateways.
    """

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    instance_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._args = args
        self._name = name
        count = len(args.public_subnet_cidrs)
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOptions(parent=self)
        )
        self.zone_names = zones.names.apply(lambda names: _first(names, count))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=self._tags(f"{name}-vpc"),
            opts=child,
        )
        self.vpc_id = vpc.id
        # EC2.2: the VPC's default security group is taken over with no rules at all, so
        # nothing attached to it by mistake can talk to anything.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            tags=self._tags(f"{name}-default-sg (no rules: use the stack's own groups)"),
            opts=child,
        )
        if args.flow_log_bucket_arn is not None:
            # EC2.6: every accepted and rejected flow, to the stack's log bucket.
            aws.ec2.FlowLog(
                f"{name}-flow-logs",
                vpc_id=vpc.id,
                traffic_type="ALL",
                log_destination_type="s3",
                log_destination=pulumi.Output.concat(args.flow_log_bucket_arn, "/flow-logs/"),
                max_aggregation_interval=600,
                tags=self._tags(f"{name}-flow-logs"),
                opts=child,
            )
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=self._tags(f"{name}-igw"), opts=child
        )
        public = [
            self._subnet("public", i, cidr, vpc.id)
            for i, cidr in enumerate(args.public_subnet_cidrs)
        ]
        private = [
            self._subnet("private", i, cidr, vpc.id)
            for i, cidr in enumerate(args.private_subnet_cidrs)
        ]
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]

        public_table = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": ANYWHERE, "gateway_id": gateway.id}],
            tags=self._tags(f"{name}-public"),
            opts=child,
        )
        for i, subnet in enumerate(public):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}",
                subnet_id=subnet.id,
                route_table_id=public_table.id,
                opts=child,
            )
        private_tables = self._private_routing(vpc.id, public, private, gateway)

        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[public_table.id, *[t.id for t in private_tables]],
            tags=self._tags(f"{name}-s3"),
            opts=child,
        )
        in_private = args.nat_gateways != "none"
        self.instance_subnet_ids = self.private_subnet_ids if in_private else self.public_subnet_ids
        self.instances_get_public_ips = not in_private
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
            }
        )

    def _tags(self, name: str) -> dict[str, str]:
        return {**self._args.tags, "Name": name}

    def _subnet(
        self, tier: str, index: int, cidr: str, vpc_id: pulumi.Input[str]
    ) -> aws.ec2.Subnet:
        name = f"{self._name}-{tier}-{index}"
        return aws.ec2.Subnet(
            name,
            vpc_id=vpc_id,
            cidr_block=cidr,
            availability_zone=self.zone_names.apply(lambda names: names[index]),
            map_public_ip_on_launch=False,
            tags={**self._tags(name), "cutover:tier": tier},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _private_routing(
        self,
        vpc_id: pulumi.Input[str],
        public: list[aws.ec2.Subnet],
        private: list[aws.ec2.Subnet],
        gateway: aws.ec2.InternetGateway,
    ) -> list[aws.ec2.RouteTable]:
        """One route table per NAT gateway (none: one table with only the local route)."""
        child = pulumi.ResourceOptions(parent=self, depends_on=[gateway])
        mode = self._args.nat_gateways
        nat_count = {"none": 0, "single": 1, "perAz": len(public)}[mode]
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(
                f"{self._name}-nat-{i}",
                domain="vpc",
                tags=self._tags(f"{self._name}-nat-{i}"),
                opts=child,
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{self._name}-nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public[i].id,
                    connectivity_type="public",
                    tags=self._tags(f"{self._name}-nat-{i}"),
                    opts=child,
                )
            )
        tables = []
        for i in range(max(nat_count, 1)):
            name = f"{self._name}-private-{i}"
            routes = [{"cidr_block": ANYWHERE, "nat_gateway_id": nats[i].id}] if nats else []
            tables.append(
                aws.ec2.RouteTable(
                    name, vpc_id=vpc_id, routes=routes, tags=self._tags(name), opts=child
                )
            )
        for i, subnet in enumerate(private):
            table = tables[i] if len(tables) > 1 else tables[0]
            aws.ec2.RouteTableAssociation(
                f"{self._name}-private-{i}",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return tables


def _first(names: list[str], count: int) -> list[str]:
    if len(names) < count:
        raise ValueError(
            f"cutover:network.availabilityZones: the region offers {len(names)} available zones, "
            f"{count} requested"
        )
    return list(names[:count])
