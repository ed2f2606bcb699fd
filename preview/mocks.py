"""Pulumi mocks that stand in for the engine and AWS: the offline preview and the tests share them.

``evaluate(program, stack=..., values=...)`` runs a program function under the mocks with
``preview=False`` and returns every resource the engine would have received (after the program
and all its outputs have finished) plus the resolved stack outputs.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import set_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from stack.load import PROJECT

ACCOUNT_ID = "123456789012"
AMI_ID = "ami-0a1b2c3d4e5f60718"


@dataclass
class RecordedResource:
    """One resource as the engine received it: type token, logical name, wire-named inputs."""

    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "inputs": self.inputs}


@dataclass
class Evaluation:
    """What a program run produced: resources in registration order, outputs, look-ups made."""

    resources: list[RecordedResource]
    outputs: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> RecordedResource:
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {len(found)}")
        return found[0]

    def named(self, type_token: str, name: str) -> RecordedResource:
        for resource in self.of_type(type_token):
            if resource.name == name:
                return resource
        raise AssertionError(f"no {type_token} named {name}")


def _whole_numbers(value: Any) -> Any:
    """The wire carries every number as a double: show 80, not 80.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _suffix(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


class CutoverMocks(runtime_mocks.Mocks):
    """Plausible AWS outputs (ids, ARNs, names, DNS names) and answers to the look-ups."""

    def __init__(self, region: str = "eu-central-1") -> None:
        self.region = region
        self.resources: list[RecordedResource] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # Pulumi's mock monitor answers on the loop's executor threads and gives each of them an
        # event loop of its own that nobody closes; evaluate() closes them once the threads end.
        self.thread_loops: dict[int, asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()

    def _note_thread_loop(self) -> None:
        if threading.current_thread() is threading.main_thread():
            return
        loop = asyncio.get_event_loop_policy().get_event_loop()
        with self._lock:
            self.thread_loops[threading.get_ident()] = loop

    # -- resources ---------------------------------------------------------------------------
    def new_resource(self, args: runtime_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        self._note_thread_loop()
        inputs = _whole_numbers(dict(args.inputs))
        outputs = dict(inputs)
        if args.custom:
            outputs.update(self._outputs(args.typ, args.name, inputs))
        self.resources.append(
            RecordedResource(args.typ, args.name, inputs, bool(args.custom), outputs)
        )
        resource_id = outputs.get("id") if args.custom else None
        return resource_id, outputs

    def _outputs(self, typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        suffix = _suffix(typ + name)
        region, account = self.region, ACCOUNT_ID
        given = inputs.get("name") or f"{name}-{suffix[:7]}"
        out: dict[str, Any] = {"id": f"{name}-{suffix}", "name": given}
        service = typ.split(":")[1].split("/")[0]
        out["arn"] = f"arn:aws:{service}:{region}:{account}:{given}"
        special = _SPECIAL_OUTPUTS.get(typ)
        if special:
            out.update(special(self, name, given, suffix, inputs))
        return out

    # -- look-ups ----------------------------------------------------------------------------
    def call(self, args: runtime_mocks.MockCallArgs) -> dict:
        self._note_thread_loop()
        self.calls.append((args.token, dict(args.args)))
        handler = _CALLS.get(args.token)
        if handler is None:
            raise NotImplementedError(f"the Cutover mocks do not answer {args.token}")
        return handler(self, dict(args.args))


def _vpc(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {"id": f"vpc-{suffix}", "defaultSecurityGroupId": f"sg-{suffix}d"}


def _subnet(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {"id": f"subnet-{suffix}"}


def _security_group(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {
        "id": f"sg-{suffix}",
        "arn": f"arn:aws:ec2:{m.region}:{ACCOUNT_ID}:security-group/sg-{suffix}",
    }


def _load_balancer(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    kind = "net" if inputs.get("loadBalancerType") == "network" else "app"
    arn_suffix = f"{kind}/{given}/{suffix}{suffix}"
    return {
        "arn": f"arn:aws:elasticloadbalancing:{m.region}:{ACCOUNT_ID}:loadbalancer/{arn_suffix}",
        "arnSuffix": arn_suffix,
        "dnsName": f"{given}-{int(suffix, 16) % 10**9}.{m.region}.elb.amazonaws.com",
        "zoneId": "Z215JYRZR1TBD5",
    }


def _classic_elb(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {
        "id": given,
        "arn": f"arn:aws:elasticloadbalancing:{m.region}:{ACCOUNT_ID}:loadbalancer/{given}",
        "dnsName": f"{given}-{int(suffix, 16) % 10**9}.{m.region}.elb.amazonaws.com",
    }


def _target_group(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    arn_suffix = f"targetgroup/{given}/{suffix}{suffix}"
    return {
        "arn": f"arn:aws:elasticloadbalancing:{m.region}:{ACCOUNT_ID}:{arn_suffix}",
        "arnSuffix": arn_suffix,
    }


def _listener(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {
        "arn": f"{inputs.get('loadBalancerArn', '')}/{suffix}".replace(
            ":loadbalancer/", ":listener/"
        )
    }


def _bucket(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    bucket = inputs.get("bucket") or f"{name}-{suffix}"
    return {
        "id": bucket,
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketRegionalDomainName": f"{bucket}.s3.{m.region}.amazonaws.com",
    }


def _iam(kind: str) -> Callable[..., dict]:
    def outputs(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
        return {"id": given, "arn": f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{given}", "uniqueId": suffix}

    return outputs


def _launch_template(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {
        "id": f"lt-{suffix}{suffix[:9]}",
        "arn": f"arn:aws:ec2:{m.region}:{ACCOUNT_ID}:launch-template/lt-{suffix}{suffix[:9]}",
        "latestVersion": 1,
        "defaultVersion": 1,
    }


def _group(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    uuid = f"{suffix}-0000-4000-8000-{suffix}0000"
    return {
        "id": given,
        "arn": (
            f"arn:aws:autoscaling:{m.region}:{ACCOUNT_ID}:autoScalingGroup:{uuid}"
            f":autoScalingGroupName/{given}"
        ),
    }


def _scaling_policy(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    group = inputs.get("autoscalingGroupName", "")
    return {
        "arn": (
            f"arn:aws:autoscaling:{m.region}:{ACCOUNT_ID}:scalingPolicy:{suffix}"
            f":autoScalingGroupName/{group}:policyName/{given}"
        )
    }


def _codedeploy_app(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {
        "id": f"{suffix}:{given}",
        "applicationId": suffix,
        "arn": f"arn:aws:codedeploy:{m.region}:{ACCOUNT_ID}:application:{given}",
    }


def _deployment_group(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    group = inputs.get("deploymentGroupName", given)
    app = inputs.get("appName", "")
    return {
        "id": suffix,
        "deploymentGroupId": suffix,
        "arn": f"arn:aws:codedeploy:{m.region}:{ACCOUNT_ID}:deploymentgroup:{app}/{group}",
    }


def _queue(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    url = f"https://sqs.{m.region}.amazonaws.com/{ACCOUNT_ID}/{given}"
    return {"id": url, "url": url, "arn": f"arn:aws:sqs:{m.region}:{ACCOUNT_ID}:{given}"}


def _db_instance(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    identifier = inputs.get("identifier") or f"{name}-{suffix[:7]}"
    address = f"{identifier}.{suffix}.{m.region}.rds.amazonaws.com"
    secret = f"arn:aws:secretsmanager:{m.region}:{ACCOUNT_ID}:secret:rds!db-{suffix}-AbCdEf"
    return {
        "id": identifier,
        "identifier": identifier,
        "arn": f"arn:aws:rds:{m.region}:{ACCOUNT_ID}:db:{identifier}",
        "address": address,
        "endpoint": f"{address}:{inputs.get('port', 5432)}",
        "masterUserSecrets": [{"secretArn": secret, "secretStatus": "active", "kmsKeyId": ""}],
    }


def _eip(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {
        "id": f"eipalloc-{suffix}",
        "allocationId": f"eipalloc-{suffix}",
        "publicIp": "203.0.113.10",
    }


def _certificate(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    """ACM asks for one CNAME per name; a wildcard shares its base name's record."""
    names = [inputs.get("domainName", ""), *(inputs.get("subjectAlternativeNames") or [])]
    options = []
    for domain in dict.fromkeys(names):
        base = domain.removeprefix("*.")
        token = _suffix(base)
        options.append(
            {
                "domainName": domain,
                "resourceRecordName": f"_{token}.{base}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{token[::-1]}.acm-validations.aws.",
            }
        )
    return {
        "arn": f"arn:aws:acm:{m.region}:{ACCOUNT_ID}:certificate/{suffix}-0000-4000-8000-{suffix}",
        "domainValidationOptions": options,
        "status": "PENDING_VALIDATION",
    }


def _record(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    fqdn = str(inputs.get("name", given)).rstrip(".")
    return {"id": f"{inputs.get('zoneId', '')}_{fqdn}_{inputs.get('type', '')}", "fqdn": fqdn}


def _log_group(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    return {"id": given, "arn": f"arn:aws:logs:{m.region}:{ACCOUNT_ID}:log-group:{given}"}


def _web_acl(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
    acl_id = f"{suffix}-0000-4000-8000-{suffix}0000"
    return {
        "id": acl_id,
        "arn": f"arn:aws:wafv2:{m.region}:{ACCOUNT_ID}:regional/webacl/{given}/{acl_id}",
    }


def _prefixed_id(prefix: str) -> Callable[..., dict]:
    def outputs(m: CutoverMocks, name: str, given: str, suffix: str, inputs: Mapping) -> dict:
        return {"id": f"{prefix}-{suffix}"}

    return outputs


_SPECIAL_OUTPUTS: dict[str, Callable[..., dict]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:ec2/internetGateway:InternetGateway": _prefixed_id("igw"),
    "aws:ec2/natGateway:NatGateway": _prefixed_id("nat"),
    "aws:ec2/routeTable:RouteTable": _prefixed_id("rtb"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _prefixed_id("vpce"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:elb/loadBalancer:LoadBalancer": _classic_elb,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/instanceProfile:InstanceProfile": _iam("instance-profile"),
    "aws:autoscaling/group:Group": _group,
    "aws:autoscaling/policy:Policy": _scaling_policy,
    "aws:codedeploy/application:Application": _codedeploy_app,
    "aws:codedeploy/deploymentGroup:DeploymentGroup": _deployment_group,
    "aws:sqs/queue:Queue": _queue,
    "aws:rds/instance:Instance": _db_instance,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:route53/record:Record": _record,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
}


def _availability_zones(m: CutoverMocks, args: dict) -> dict:
    letters = "abcdef"
    return {
        "id": m.region,
        "names": [f"{m.region}{x}" for x in letters],
        "zoneIds": [f"euc1-az{i + 1}" for i in range(len(letters))],
        "state": args.get("state", "available"),
    }


def _ami(m: CutoverMocks, args: dict) -> dict:
    architecture = "x86_64"
    for flt in args.get("filters") or []:
        if flt.get("name") == "architecture":
            architecture = flt["values"][0]
    return {
        "id": AMI_ID,
        "imageId": AMI_ID,
        "architecture": architecture,
        "name": f"al2023-ami-2023.9.20251117.1-kernel-6.1-{architecture}",
        "ownerId": "137112412989",
        "rootDeviceName": "/dev/xvda",
    }


def _caller_identity(m: CutoverMocks, args: dict) -> dict:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/preview",
        "userId": "AIDAPREVIEW",
    }


def _partition(m: CutoverMocks, args: dict) -> dict:
    return {
        "id": "aws",
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


def _elb_service_account(m: CutoverMocks, args: dict) -> dict:
    # The regional Elastic Load Balancing account that delivers access logs (eu-central-1's).
    return {"id": "054676820928", "arn": "arn:aws:iam::054676820928:root"}


def _zone(m: CutoverMocks, args: dict) -> dict:
    name = str(args.get("name", "example.com")).rstrip(".")
    zone_id = "Z" + _suffix(name).upper() + "PREVIEW"
    return {"id": zone_id, "zoneId": zone_id, "name": f"{name}.", "privateZone": False}


_CALLS: dict[str, Callable[[CutoverMocks, dict], dict]] = {
    "aws:route53/getZone:getZone": _zone,
    "aws:elb/getServiceAccount:getServiceAccount": _elb_service_account,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:ec2/getAmi:getAmi": _ami,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": _partition,
}


def evaluate(
    program: Callable[[], None],
    *,
    stack: str,
    values: Mapping[str, str],
    region: str = "eu-central-1",
) -> Evaluation:
    """Run ``program`` under the mocks with ``values`` as the stack's config (``ns:key`` -> str).

    Returns once every resource is registered and every output resolved; re-raises the
    program's own exception (a ``ConfigError`` for invalid settings).
    """
    with collector_paused():
        return _evaluate(program, stack=stack, values=values, region=region)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic garbage collection inside; the cycles made meanwhile go at the next one.

    A program's first run imports the pulumi_aws modules it uses: thousands of argument
    classes per AWS service and the typing objects behind their annotations, 300,000 objects
    that live as long as the process. Every automatic full collection walks all of them: a
    production preview made five, 0.5 s of the 2.5 s of CPU it took (preview/README.md,
    "Speed")."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _evaluate(
    program: Callable[[], None], *, stack: str, values: Mapping[str, str], region: str
) -> Evaluation:
    mocks = CutoverMocks(region=region)
    # A loop of our own, closed at the end with the executor threads and their loops: left to
    # the garbage collector at exit they print "Exception ignored ... Invalid file descriptor".
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        set_root_resource(None)  # type: ignore[arg-type]  # a fresh root Stack per evaluation
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
        set_all_config(dict(values))
        _sync_await(run_pulumi_func(program))
        root = pulumi.runtime.get_root_resource()
        exported = dict(getattr(root, "outputs", {}))
        outputs = {
            key: _sync_await(pulumi.Output.from_input(value).future())
            for key, value in exported.items()
        }
    finally:
        _close(loop, mocks)
    # Registrations arrive from several threads: sort for a stable listing (components first).
    resources = sorted(mocks.resources, key=lambda r: (r.custom, r.name, r.type))
    return Evaluation(resources=resources, outputs=outputs, calls=list(mocks.calls))


def _close(loop: asyncio.AbstractEventLoop, mocks: CutoverMocks) -> None:
    """Join the executor threads, then close their loops and ours."""
    loop.run_until_complete(loop.shutdown_default_executor())
    for thread_loop in mocks.thread_loops.values():
        if thread_loop is not loop and not thread_loop.is_closed():
            thread_loop.close()
    loop.close()
    asyncio.set_event_loop(None)
