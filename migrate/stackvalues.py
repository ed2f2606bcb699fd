"""plan.json workload -> the ``cutover:`` values of its stack file, in exactly the keys the stack
contract (``stack/``) reads: what the plan cannot express is adjusted to a value the contract
accepts and said so (a comment beside the key and a note for the user). ``stackconfig`` merges
the values into the file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap

from hooks.timing import DEREGISTER_HOOK_MARGIN, REGISTER_MARGIN, HookTimeouts
from migrate import catalog
from migrate.errors import MigrateError
from stack.config import (
    ON_DEMAND_ALLOCATION_STRATEGY,
    SPOT_ALLOCATION_STRATEGY,
    DeploymentConfig,
    LoadBalancerConfig,
)

NS = "cutover:"
# The stack contract's defaults (stack/README.md) for the keys a new file needs and the plan does
# not give.
_DEPLOYMENT = DeploymentConfig()
DEFAULT_DEPLOYMENT = {
    "config": _DEPLOYMENT.config,
    "deregisterTimeout": _DEPLOYMENT.deregister_timeout,
    "registerTimeout": _DEPLOYMENT.register_timeout,
    "autoRollback": _DEPLOYMENT.auto_rollback,
}
DEFAULT_DEREGISTRATION_DELAY = LoadBalancerConfig().deregistration_delay


@dataclass
class StackValues:
    """The sections to write, plus comments (section, key) -> text and notes for the user."""

    sections: dict[str, Any] = field(default_factory=dict)
    comments: dict[tuple[str, ...], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (section, key) the merge removes from the existing file (a key the new values contradict)
    dropped: list[tuple[str, str]] = field(default_factory=list)

    def note(self, where: tuple[str, ...], text: str) -> None:
        self.comments[where] = text
        self.notes.append(f"{'.'.join(where)}: {text}")


def find_workload(plan: dict[str, Any], name: str) -> dict[str, Any]:
    for workload in plan.get("workloads", []):
        if workload.get("name") == name:
            return workload
    names = ", ".join(w.get("name", "?") for w in plan.get("workloads", [])) or "none"
    raise MigrateError(f"plan has no workload '{name}' (workloads: {names})")


def _is_production(stack: str, existing: CommentedMap) -> bool:
    return str(existing.get(f"{NS}environment", stack)) == "production"


def _fleet(workload: dict[str, Any], production: bool, old: dict[str, Any], v: StackValues) -> None:
    aws = workload["aws"]
    low, high, desired = aws["minSize"], aws["maxSize"], aws["desiredCapacity"]
    fleet: dict[str, Any] = {
        "instanceType": aws["instanceType"],
        "ami": old.get("ami", ""),
        "minSize": low,
        "maxSize": max(high, 1),
        "desiredCapacity": desired,
        "appPort": aws.get("targetPort") or old.get("appPort", 80),
        "rootVolumeSizeGb": aws.get("rootVolumeSizeGb") or old.get("rootVolumeSizeGb", 30),
        "healthCheckGracePeriod": old.get("healthCheckGracePeriod", 300),
        "allowDowntime": low < 2,
    }
    v.comments[(f"{NS}fleet", "instanceType")] = (
        f"Azure {workload['azure']['vmSize']} (migrate plan)"
    )
    _volumes(workload, fleet, v)
    alternatives = [t for t in aws.get("alternatives", []) if t != aws["instanceType"]]
    mix = [t for t in aws.get("instanceTypes") or [] if t != aws["instanceType"]]
    if mix:
        # Azure ran an instance mix: its sizes are the group's types, not the sizing alternatives.
        alternatives = mix
        _allocation_note(aws, v)
    # Secure by default (Security Hub AutoScaling.6): the alternatives feed a mixed-instances
    # policy, so the group still launches when the primary type has no capacity in a zone.
    if old.get("singleInstanceType") is True:
        fleet["singleInstanceType"] = True
        if alternatives:
            v.notes.append(
                f"{NS}fleet.instanceTypes: the stack opts out (singleInstanceType: true); "
                f"alternatives {', '.join(alternatives)} not written"
            )
    elif alternatives:
        fleet["instanceTypes"] = alternatives
        v.comments[(f"{NS}fleet", "instanceTypes")] = (
            "the other sizes of the Azure instance mix (migrate plan)"
            if mix
            else "alternatives when instanceType has no capacity (AutoScaling.6)"
        )
    elif old.get("instanceTypes"):
        fleet["instanceTypes"] = list(old["instanceTypes"])
    else:
        fleet["singleInstanceType"] = True
        v.note(
            (f"{NS}fleet", "singleInstanceType"),
            f"no alternative of the same size as {aws['instanceType']} in the catalog: one "
            "instance type only (opts out of AutoScaling.6); list some in fleet.instanceTypes",
        )
    if production and low < 2:
        fleet.update(
            minSize=2, maxSize=max(high, 2), desiredCapacity=max(desired, 2), allowDowntime=False
        )
        v.note(
            (f"{NS}fleet", "minSize"),
            f"Azure runs MinSize {low}; production needs >= 2 for zero-downtime deployments",
        )
    elif low < 2:
        v.note(
            (f"{NS}fleet", "allowDowntime"),
            f"MinSize {low}: deployments take the only instance out",
        )
    v.sections[f"{NS}fleet"] = fleet


def _volumes(workload: dict[str, Any], fleet: dict[str, Any], v: StackValues) -> None:
    """The Azure disks: the root volume as large as the OS disk, a data volume per data disk."""
    azure, aws = workload["azure"], workload["aws"]
    key = f"{NS}fleet"
    if aws.get("rootVolumeSizeGb"):
        v.comments[(key, "rootVolumeSizeGb")] = (
            f"Azure OS disk {azure.get('osDiskGb', aws['rootVolumeSizeGb'])} GiB (migrate plan)"
        )
    volumes = aws.get("dataVolumes") or []
    if not volumes:
        return
    fleet["dataVolumes"] = [
        {
            "sizeGb": volume["sizeGb"],
            "type": volume["volumeType"],
            **({"iops": volume["iops"]} if volume.get("iops") else {}),
            **({"throughput": volume["throughput"]} if volume.get("throughput") else {}),
        }
        for volume in volumes
    ]
    disks = ", ".join(
        f"LUN {d['lun']} {d['sizeGb']} GiB {d['storageType']}"
        + (f" caching {d['caching']}" if d.get("caching") not in (None, "", "None") else "")
        for d in azure.get("dataDisks") or []
    )
    v.comments[(key, "dataVolumes")] = f"Azure data disks: {disks} (migrate plan)"
    if any(d.get("caching") not in (None, "", "None") for d in azure.get("dataDisks") or []):
        v.notes.append(
            f"{key}.dataVolumes: Azure host caching ({disks}) has no EBS equivalent; the new "
            "volumes start empty and unformatted: format and mount them in your user data or "
            "image, and copy the data over as part of the migration"
        )


def _allocation_note(aws: dict[str, Any], v: StackValues) -> None:
    """infra's mixed-instances policy has fixed strategies: say where the plan's differ."""
    strategy = aws.get("allocationStrategy") or {}
    planned = (strategy.get("onDemand"), strategy.get("spot"))
    if planned != (ON_DEMAND_ALLOCATION_STRATEGY, SPOT_ALLOCATION_STRATEGY):
        v.notes.append(
            f"{NS}fleet.instanceTypes: the plan maps Azure {strategy.get('azure')} to on-demand "
            f"{planned[0]} / Spot {planned[1]}; infra's mixed-instances policy uses on-demand "
            f"{ON_DEMAND_ALLOCATION_STRATEGY} (the order of instanceType + instanceTypes) and "
            f"Spot {SPOT_ALLOCATION_STRATEGY}: order the types by preference, or change the "
            "policy by hand"
        )


def _step(policy: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        key: int(round(policy["threshold"])),
        "adjustment": policy["adjustment"],
        "cooldown": policy["cooldown"],
        "evaluationPeriods": policy["evaluationPeriods"],
        "period": policy["period"]
        if policy["period"] in (10, 30)
        else max(60, policy["period"] // 60 * 60),
    }


def _scaling(workload: dict[str, Any], old: dict[str, Any], v: StackValues) -> None:
    where = (f"{NS}scaling", "mode")
    policies = [
        p for p in workload["aws"].get("scalingPolicies", []) if p.get("metric") == "CPUUtilization"
    ]
    outs = [
        p for p in policies if p["direction"] == "out" and p["adjustmentType"] == "ChangeInCapacity"
    ]
    ins = [
        p for p in policies if p["direction"] == "in" and p["adjustmentType"] == "ChangeInCapacity"
    ]
    if len(outs) + len(ins) < len(policies) or len(outs) > 1 or len(ins) > 1:
        v.notes.append(
            "scaling: only the first ChangeInCapacity CPU policy per direction fits infra's "
            "step mode"
        )
    if not outs or not ins:
        scaling = {"mode": "targetTracking", "targetCpu": old.get("targetCpu", 50)}
        fixed = workload["aws"]["minSize"] == workload["aws"]["maxSize"]
        v.note(
            where,
            "no CPU scale-out/scale-in pair in Azure: target tracking"
            + (
                " (inert: MinSize = MaxSize)"
                if fixed
                else "; review, Azure scaled on other metrics"
            ),
        )
    else:
        scale_out, scale_in = _step(outs[0], "cpuAbove"), _step(ins[0], "cpuBelow")
        if scale_in["cpuBelow"] >= scale_out["cpuAbove"]:
            raise MigrateError(
                f"workload {workload['name']}: scale-in threshold {scale_in['cpuBelow']} is "
                "not below "
                f"scale-out {scale_out['cpuAbove']}; fix the autoscale rules or the plan"
            )
        scaling = {"mode": "step", "scaleOut": scale_out, "scaleIn": scale_in}
        v.comments[where] = "from the Azure autoscale CPU rules (migrate plan)"
    v.sections[f"{NS}scaling"] = scaling


def _listeners(
    workload: dict[str, Any], lb_type: str, certificate: bool, app_port: int, v: StackValues
) -> list[dict[str, Any]]:
    """``certificate``: the stack has one (an ARN, or the one it requests itself)."""
    out = []
    allowed = {"application": ("HTTP", "HTTPS"), "network": ("TCP", "TLS")}[lb_type]
    for listener in workload["aws"].get("listeners", []):
        protocol, port = listener["protocol"], listener["port"]
        if protocol in ("HTTPS", "TLS") and not certificate:
            v.note(
                (f"{NS}loadBalancer", "listeners"),
                f"{protocol} listener on {port} left out: rerun with --certificate-arn",
            )
            continue
        if protocol not in allowed:
            v.note(
                (f"{NS}loadBalancer", "listeners"),
                f"{protocol} listener on {port} not supported by infra: left out",
            )
            continue
        entry: dict[str, Any] = {"protocol": protocol, "port": port}
        # One target group per distinct target port (infra): written when it is not the app port.
        target = listener.get("targetPort")
        if target and target != app_port:
            entry["targetPort"] = target
        if lb_type == "application" and listener.get("rules"):
            entry["rules"] = [
                {"pathPatterns": list(r["pathPatterns"]), "targetPort": r["targetPort"]}
                for r in listener["rules"]
            ]
        out.append(entry)
    return out


def _load_balancer(
    workload: dict[str, Any], old: dict[str, Any], certificate: str, app_port: int, v: StackValues
) -> None:
    aws = workload["aws"]
    key = f"{NS}loadBalancer"
    lb_type = aws.get("loadBalancerType")
    if lb_type is None:
        lb_type = "application"
        v.note(
            (key, "type"),
            "no load balancer planned from Azure"
            + (" (reached through NAT only)" if workload["azure"].get("loadBalancers") else "")
            + "; infra always builds one: check listeners and health check",
        )
    # A certificate the stack requests itself (loadBalancer.certificate) stays, unless an ARN
    # is given on the command line.
    requested = old.get("certificate") if not certificate else None
    if certificate and old.get("certificate"):
        v.dropped.append((key, "certificate"))
    has_certificate = bool(certificate or requested)
    listeners = _listeners(workload, lb_type, has_certificate, app_port, v)
    if not listeners:
        listeners = [{"protocol": "HTTP" if lb_type == "application" else "TCP", "port": 80}]
        if aws.get("listeners"):
            v.note(
                (key, "listeners"),
                "no mapped listener fits infra: a plain listener on port 80 stands in",
            )
    https = any(x["protocol"] == "HTTPS" for x in listeners)
    if lb_type == "application" and has_certificate and not https:
        listeners.append({"protocol": "HTTPS", "port": 443})
        v.note((key, "listeners"), "HTTPS on 443 added: HTTP redirects to it (ELB.1)")
    check = dict(
        aws.get("healthCheck") or {"protocol": "HTTP" if lb_type == "application" else "TCP"}
    )
    probe_port = check.pop("port", None)
    if probe_port and aws.get("targetPort") and probe_port != aws["targetPort"]:
        v.note(
            (key, "healthCheck"),
            f"Azure probes port {probe_port}; the target group checks the app port",
        )
    if lb_type == "application" and check.get("protocol") == "TCP":
        check = {"protocol": "HTTP", "path": "/"}
    lb: dict[str, Any] = {"type": lb_type, "listeners": listeners, "healthCheck": check}
    choice = aws.get("loadBalancer") or {}
    internal = choice.get("scheme") == "internal"
    # infra's default is internet-facing: the key is written when internal, or to turn an
    # earlier `internal: true` off (a merge keeps keys it does not write).
    if internal or "internal" in old:
        lb["internal"] = internal
    if choice.get("reason"):
        v.comments[(key, "type")] = f"Azure: {choice['reason']} (migrate plan)"
    if internal:
        v.comments[(key, "internal")] = f"Azure: {choice.get('schemeReason', '')} (migrate plan)"
    if certificate:
        lb["certificateArn"] = certificate
    _plain_http(lb, old, lb_type, internal, has_certificate, v)
    delay = aws.get("deregistrationDelay")
    lb["deregistrationDelay"] = (
        delay if delay is not None else old.get("deregistrationDelay", DEFAULT_DEREGISTRATION_DELAY)
    )
    v.sections[key] = lb


def _plain_http(
    lb: dict[str, Any],
    old: dict[str, Any],
    lb_type: str,
    internal: bool,
    has_certificate: bool,
    v: StackValues,
) -> None:
    """infra refuses an internet-facing ALB without a certificate unless the file opts out:
    without one the planned stack opts out visibly; with one, an earlier opt-out goes."""
    key = f"{NS}loadBalancer"
    plain = lb_type == "application" and not internal and not has_certificate
    if plain:
        lb["allowPlainHttp"] = True
        v.note(
            (key, "allowPlainHttp"),
            "opt-out: no certificate, plain HTTP (ELB.1); rerun with --certificate-arn or set "
            "loadBalancer.certificate {domainName, zoneId}",
        )
    elif "allowPlainHttp" in old and (lb_type != "application" or has_certificate):
        v.dropped.append((key, "allowPlainHttp"))


def _deployment(lb: dict[str, Any], old: dict[str, Any], v: StackValues) -> None:
    """Keep the existing deployment settings; raise the hook timeouts only when the load
    balancer settings would not fit them (infra's cross-section rules)."""
    key = f"{NS}deployment"
    deployment = {**DEFAULT_DEPLOYMENT, **old}
    check = lb["healthCheck"]
    # The hooks' timing contract (hooks/timing.py): the same arithmetic the stack rules apply.
    timeouts = HookTimeouts(
        deregister=int(deployment["deregisterTimeout"]),
        register=int(deployment["registerTimeout"]),
        deregistration_delay=lb["deregistrationDelay"],
        time_to_healthy=(check.get("healthyThreshold", 2) + 1) * check.get("interval", 15),
    )
    if timeouts.deregister_problem():
        deployment["deregisterTimeout"] = lb["deregistrationDelay"] + DEREGISTER_HOOK_MARGIN + 1
        v.note((key, "deregisterTimeout"), f"raised so the {lb['deregistrationDelay']}s drain fits")
    if timeouts.register_problem():
        deployment["registerTimeout"] = timeouts.register_needs + REGISTER_MARGIN + 1
        v.note((key, "registerTimeout"), "raised so a registered instance has time to turn healthy")
    v.sections[key] = deployment


def _region(
    workload: dict[str, Any], existing: CommentedMap, region: str | None, v: StackValues
) -> str:
    """The plan's region (the Azure location's), unless ``--region`` says otherwise. A file
    that names another region is changed, loudly: a stack built from the plan runs where the
    plan says."""
    if region:
        return region
    location = workload["azure"].get("location", "")
    mapped = catalog.mapping()["regions"].get(location.lower())
    current = str(existing.get("aws:region") or "")
    if not mapped:
        if current:
            v.notes.append(
                f"aws:region: no AWS region mapped for Azure location '{location}': kept the "
                f"file's {current}; pass --region to choose"
            )
            return current
        raise MigrateError(f"no AWS region mapped for Azure location '{location}': pass --region")
    if current and current != mapped:
        v.note(
            ("aws:region",),
            f"the plan targets {mapped} (Azure {location}); the file said {current}: changed to "
            f"the plan's; pass --region {current} to keep it",
        )
    return mapped


def build_values(
    plan: dict[str, Any],
    workload_name: str,
    stack: str,
    existing: CommentedMap,
    *,
    region: str | None,
    certificate_arn: str | None,
) -> tuple[dict[str, Any], StackValues]:
    workload = find_workload(plan, workload_name)
    gateway = workload["aws"].get("gatewayLoadBalancer")
    if isinstance(gateway, dict):
        # infra would put a plain ALB/NLB in front of appliances that Azure reached through
        # VXLAN tunnels: the traffic would bypass them. Refuse rather than write that.
        raise MigrateError(
            f"workload {workload_name}: {gateway.get('reason') or 'behind a Gateway Load Balancer'}"
            "; stack-config writes no stack for it"
        )
    config = existing.get("config") or CommentedMap()
    production = _is_production(stack, config)
    v = StackValues()

    def old(name: str) -> dict[str, Any]:
        value = config.get(NS + name)
        return dict(value) if isinstance(value, dict) else {}

    _fleet(workload, production, old("fleet"), v)
    _scaling(workload, old("scaling"), v)
    _load_balancer(
        workload,
        old("loadBalancer"),
        certificate_arn or old("loadBalancer").get("certificateArn", ""),
        v.sections[f"{NS}fleet"]["appPort"],
        v,
    )
    _deployment(v.sections[f"{NS}loadBalancer"], old("deployment"), v)
    placement = workload["azure"].get("zonePlacement") or {}
    zones = max(2, placement.get("availabilityZones") or len(workload["azure"].get("zones") or []))
    network = old("network") or {
        "vpcCidr": "10.20.0.0/16",
        "availabilityZones": zones,
        "natGateways": "single",
    }
    if production and int(network.get("availabilityZones", 2)) < 2:
        network["availabilityZones"] = 2
    top: dict[str, Any] = {
        "aws:region": _region(workload, config, region, v),
        f"{NS}environment": config.get(
            f"{NS}environment", stack if re.fullmatch(r"[a-z][a-z0-9-]{0,31}", stack) else "staging"
        ),
        f"{NS}network": network,
        **v.sections,
        f"{NS}queue": old("queue") or {"enabled": False},
        f"{NS}database": old("database") or {"enabled": False},
        f"{NS}tags": {**old("tags"), "workload": workload["name"]},
    }
    _kept_from_file(workload["name"], top, config, v)
    return top, v


_NOT_IN_PLAN = "kept from this file: not in the Azure inventory (migrate stack-config)"


def _kept_from_file(
    workload: str, top: dict[str, Any], config: CommentedMap, v: StackValues
) -> None:
    """Say which resources the target file adds that the plan knows nothing of: the Azure
    workload had no database or queue in the inventory, and NAT gateways cost money."""
    kept = []
    database = top[f"{NS}database"]
    if database.get("enabled"):
        extra = ", Multi-AZ" if database.get("multiAz") else ""
        kept.append(f"{NS}database (a PostgreSQL instance{extra})")
        v.comments[(f"{NS}database",)] = _NOT_IN_PLAN
    if top[f"{NS}queue"].get("enabled"):
        kept.append(f"{NS}queue (an SQS queue and its dead-letter queue)")
        v.comments[(f"{NS}queue",)] = _NOT_IN_PLAN
    nat = top[f"{NS}network"].get("natGateways", "single")
    if f"{NS}network" in config and nat != "none":
        kept.append(f"{NS}network.natGateways: {nat} (NAT gateways)")
        v.comments[(f"{NS}network", "natGateways")] = _NOT_IN_PLAN
    ours = set(top) | {f"{NS}environment"}
    kept += [
        f"{key} (not written by stack-config)"
        for key in config
        if str(key).startswith(NS) and key not in ours
    ]
    if kept:
        v.notes.append(
            f"kept from the target file, not covered by the plan of workload {workload}: "
            + "; ".join(kept)
            + ". The Azure workload had none of these in the inventory: keep them only if the "
            "workload needs them (e.g. `enabled: false`)"
        )
