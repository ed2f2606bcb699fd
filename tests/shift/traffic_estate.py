"""A migration-day estate on a moto server: a hosted zone with the two weighted records the
program creates (``azure`` CNAME at 100, ``aws`` at 0, each with a Route 53 health check), an
Application Load Balancer with a target group of running instances, and the stack file that
names them. Plus a clock that does not sleep, and the AWS rules moto does not model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import yaml
from botocore.awsrequest import AWSResponse

REGION = "us-east-1"
AMI = "ami-12c6146b"  # one of moto's built-in images
AZURE_HOST = "shop.westeurope.cloudapp.azure.com"


_LOADER = botocore.loaders.create_loader()


def fast_session() -> boto3.Session:
    """A new boto3 session sharing parsed service models with the others: milliseconds, not
    the second EC2's model takes to load."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core)


class FakeClock:
    """Wall time that moves only when the shift sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)
        self.naps: list[float] = []

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.moment += timedelta(seconds=seconds)


def resolver(known: dict[str, list[str]]):
    """A DNS stand-in (the tests never leave 127.0.0.1): names in ``known`` resolve."""

    def resolve(host: str) -> list[str]:
        if host not in known:
            raise OSError(f"[Errno -2] Name or service not known: {host!r}")
        return known[host]

    return resolve


@dataclass
class Estate:
    zone_id: str
    zone_name: str
    record_name: str
    load_balancer_arn: str
    load_balancer_dns: str
    target_group_arn: str
    health_check_ids: dict[str, str]
    instance_ids: list[str]
    stack_file: Path
    # The shift's session (tests hook its events); the test's own checks use another one.
    session: boto3.Session = field(default_factory=fast_session)
    checks: boto3.Session = field(default_factory=fast_session)

    def client(self, service: str) -> Any:
        return self.checks.client(service, region_name=REGION)

    def records(self) -> dict[str, dict[str, Any]]:
        answer = self.client("route53").list_resource_record_sets(HostedZoneId=self.zone_id)
        return {
            r["SetIdentifier"]: r
            for r in answer["ResourceRecordSets"]
            if r["Name"].rstrip(".") == self.record_name and "SetIdentifier" in r
        }

    def weights(self) -> tuple[int, int]:
        records = self.records()
        return int(records["azure"]["Weight"]), int(records["aws"]["Weight"])

    def set_weights(self, azure: int, aws: int) -> None:
        records = self.records()
        changes = []
        for side, weight in (("azure", azure), ("aws", aws)):
            record = dict(records[side], Weight=weight)
            changes.append({"Action": "UPSERT", "ResourceRecordSet": record})
        self.client("route53").change_resource_record_sets(
            HostedZoneId=self.zone_id, ChangeBatch={"Changes": changes}
        )

    def resolves(self, *names: str) -> Any:
        """A resolver that knows ``names`` (default: Azure's front end and the ALB)."""
        known = names or (AZURE_HOST, self.load_balancer_dns)
        return resolver({name: ["192.0.2.10"] for name in known})

    @property
    def dimension(self) -> str:
        return self.load_balancer_arn.partition(":loadbalancer/")[2]

    def put_requests(self, when: datetime, requests: int, elb_5xx: int, target_5xx: int) -> None:
        """What the ALB would publish for one minute of traffic."""
        dims = [{"Name": "LoadBalancer", "Value": self.dimension}]
        self.client("cloudwatch").put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {"MetricName": name, "Dimensions": dims, "Timestamp": when, "Value": value}
                for name, value in (
                    ("RequestCount", requests),
                    ("HTTPCode_ELB_5XX_Count", elb_5xx),
                    ("HTTPCode_Target_5XX_Count", target_5xx),
                )
            ],
        )

    def stop_instances(self, count: int) -> None:
        """Stopped instances are no longer healthy targets (moto: ``unused``)."""
        self.client("ec2").stop_instances(InstanceIds=self.instance_ids[:count])


def _records(record_name: str, lb: dict[str, Any], checks: dict[str, str], azure_ip: str | None):
    """The pair as infra/traffic.py creates it, azure 100 / aws 0: for a hostname two CNAMEs,
    for an address an A record and an alias to the load balancer."""
    if azure_ip is None:
        return [
            {
                "Name": record_name,
                "Type": "CNAME",
                "SetIdentifier": side,
                "Weight": weight,
                "TTL": 60,
                "ResourceRecords": [{"Value": value}],
                "HealthCheckId": checks[side],
            }
            for side, weight, value in (("azure", 100, AZURE_HOST), ("aws", 0, lb["DNSName"]))
        ]
    return [
        {
            "Name": record_name,
            "Type": "A",
            "SetIdentifier": "azure",
            "Weight": 100,
            "TTL": 60,
            "ResourceRecords": [{"Value": azure_ip}],
            "HealthCheckId": checks["azure"],
        },
        {
            "Name": record_name,
            "Type": "A",
            "SetIdentifier": "aws",
            "Weight": 0,
            "AliasTarget": {
                "HostedZoneId": lb["CanonicalHostedZoneId"],
                "DNSName": lb["DNSName"],
                "EvaluateTargetHealth": True,
            },
            "HealthCheckId": checks["aws"],
        },
    ]


def build_estate(
    tmp_path: Path, *, instances: int = 3, min_size: int = 2, azure_ip: str | None = None
) -> Estate:
    suffix = uuid.uuid4().hex[:8]
    session = fast_session()
    ec2 = session.client("ec2", region_name=REGION)
    elbv2 = session.client("elbv2", region_name=REGION)
    route53 = session.client("route53")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    subnet_ids = [s["SubnetId"] for s in subnets["Subnets"]][:2]
    lb = elbv2.create_load_balancer(Name=f"alb-{suffix}", Subnets=subnet_ids, Type="application")
    lb = lb["LoadBalancers"][0]
    tg_arn = elbv2.create_target_group(
        Name=f"tg-{suffix}", Protocol="HTTP", Port=80, VpcId=vpc["VpcId"], TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    reservation = ec2.run_instances(
        ImageId=AMI, InstanceType="t3.micro", MinCount=instances, MaxCount=instances
    )
    instance_ids = [i["InstanceId"] for i in reservation["Instances"]]
    elbv2.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": i} for i in instance_ids])

    zone_name = f"shop-{suffix}.example.com"
    zone = route53.create_hosted_zone(Name=zone_name, CallerReference=suffix)["HostedZone"]
    zone_id = zone["Id"].removeprefix("/hostedzone/")
    record_name = f"www.{zone_name}"
    checks = {}
    for side, fqdn, kind, port in (
        ("aws", lb["DNSName"], "HTTP", 80),
        ("azure", AZURE_HOST, "HTTPS", 443),
    ):
        checks[side] = route53.create_health_check(
            CallerReference=f"{suffix}-{side}",
            HealthCheckConfig={
                "Type": kind,
                "FullyQualifiedDomainName": fqdn,
                "Port": port,
                "ResourcePath": "/",
                "RequestInterval": 30,
                "FailureThreshold": 3,
            },
        )["HealthCheck"]["Id"]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "CREATE", "ResourceRecordSet": record}
                for record in _records(record_name, lb, checks, azure_ip)
            ]
        },
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    stack_file = tmp_path / "Pulumi.shop.yaml"
    stack_file.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "aws:region": REGION,
                    "cutover:fleet": {
                        "minSize": min_size,
                        "maxSize": 6,
                        "singleInstanceType": True,
                    },
                    # the emulated load balancer listens on plain HTTP only
                    "cutover:loadBalancer": {"allowPlainHttp": True},
                    "cutover:traffic": {
                        "zoneId": zone_id,
                        "recordName": record_name,
                        "azureEndpoint": azure_ip or AZURE_HOST,
                    },
                }
            }
        )
    )
    return Estate(
        zone_id=zone_id,
        zone_name=zone_name,
        record_name=record_name,
        load_balancer_arn=lb["LoadBalancerArn"],
        load_balancer_dns=lb["DNSName"],
        target_group_arn=tg_arn,
        health_check_ids=checks,
        instance_ids=instance_ids,
        stack_file=stack_file,
        checks=session,
    )


def refuse(session: boto3.Session, operation: str, code: str, message: str) -> list[str]:
    """Answer ``operation`` with an AWS error before it leaves the client (botocore's public
    ``before-call`` event), as an IAM policy without that action would; returns the calls
    refused."""
    refused: list[str] = []

    def before_call(model: Any, **kwargs: Any) -> Any:
        if model.name != operation:
            return None
        refused.append(model.name)
        response = AWSResponse("https://aws.invalid", 403, {}, None)
        body = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return response, body

    session.events.register("before-call", before_call)
    return refused


def answer(
    session: boto3.Session, operation: str, body: dict[str, Any], when: Any = lambda: True
) -> None:
    """Answer ``operation`` with ``body`` (a successful AWS response) instead of moto, while
    ``when()`` holds. Register before the shift creates its clients: they copy the events."""

    def before_call(model: Any, **kwargs: Any) -> Any:
        if model.name != operation or not when():
            return None
        return AWSResponse("https://aws.invalid", 200, {}, None), {
            **body,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    session.events.register("before-call", before_call)
