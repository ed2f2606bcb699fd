"""Inventory -> plan.json: workloads (one future Auto Scaling Group each) with AWS parameters.

Pure functions of the neutral model. ``build_plan`` ends with ``check_accounted``: every VM and
scale set id is in exactly one workload or in ``skipped``, and every load balancer, application
gateway and autoscale setting is used by a workload or skipped with a reason.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from migrate import balancers, catalog
from migrate.autoscale import default_profile, scaling_policies
from migrate.disks import plan_disks
from migrate.errors import MigrateError
from migrate.matching import Group, build_index, group_workloads, pool_membership, prefix_through
from migrate.model import (
    AutoscaleSetting,
    Inventory,
    LoadBalancer,
    ScaleSet,
    VmSize,
    id_key,
)
from migrate.performance import PerformanceOptions, combine, size_for_use
from migrate.sizing import SizingChoice, choose_instance_type

PLAN_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PlanOptions:
    group_tag: str = "workload"  # plain VMs sharing this tag's value form one workload
    prefer_alb: bool = False  # upgrade L4 balancers whose rules are all HTTP(S)-probed
    sizing: str = "performance"  # performance (where metrics exist) | as-is
    performance: PerformanceOptions = PerformanceOptions()
    # EC2 on-demand hourly price by (instance type, Azure location, OS): performance sizing
    # takes the cheaper of its candidates when both are priced (migrate.costs.hourly_lookup).
    ec2_hourly: Callable[[str, str, str], float | None] | None = None


_VM_SIZE_FIELDS = tuple(f.name for f in dataclasses.fields(VmSize))


def _sizing(size: VmSize) -> SizingChoice:
    # VmSize's fields are flat: its values in order are the key (dataclasses.astuple, which
    # deep-copies, took a sixth of planning 10,000 workloads)
    return _sizing_by_key(tuple(getattr(size, name) for name in _VM_SIZE_FIELDS))


@cache
def _sizing_by_key(key: tuple[Any, ...]) -> SizingChoice:
    return choose_instance_type(VmSize(*key))


def _pick_size(group: Group, inventory: Inventory) -> tuple[str, list[str]]:
    """The Azure size of the workload, and warnings when members differ. An instance mix is
    planned for its first listed size that resolves (the others join as instance types)."""
    mix = group.scale_set.vm_sizes if group.scale_set is not None else []
    if mix:
        return next((s for s in mix if s in inventory.vm_sizes), mix[0]), []
    if group.scale_set is not None and group.scale_set.vm_size:
        return group.scale_set.vm_size, []
    sizes = Counter(vm.vm_size for vm in group.vms)
    if len(sizes) == 1:
        return next(iter(sizes)), []
    known = [s for s in sizes if s in inventory.vm_sizes]
    pick = (
        max(known, key=lambda s: (inventory.vm_sizes[s].vcpus, inventory.vm_sizes[s].memory_gb))
        if known
        else sizes.most_common(1)[0][0]
    )
    return pick, [
        f"members have different sizes ({', '.join(sorted(sizes))}): planned for the "
        f"largest, {pick}"
    ]


class _Planner:
    def __init__(self, inventory: Inventory, options: PlanOptions) -> None:
        self.inv = inventory
        self.options = options
        self.idx = build_index(inventory)
        self.membership = pool_membership(inventory, self.idx)
        self.members = self.membership.members
        self.skipped: list[dict[str, str]] = []
        self.used: set[str] = set()
        self.unused_reason: dict[str, str] = {}
        self.lb_by_key = {id_key(lb.id): lb for lb in inventory.load_balancers}
        self.utilization = {id_key(u.resource_id): u for u in inventory.utilization}
        # regional balancer key -> the cross-region balancers whose pools name its frontends
        self.global_of: dict[str, list[LoadBalancer]] = defaultdict(list)
        for lb in inventory.load_balancers:
            for front in {f for p in lb.pools for f in p.frontend_members}:
                self.global_of[prefix_through(front, "loadbalancers")].append(lb)

    def skip(self, resource_id: str, reason: str) -> None:
        self.skipped.append({"id": resource_id, "reason": reason})

    # -- workloads ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        workloads = []
        for group in group_workloads(self.inv, self.idx, self.members, self.options.group_tag):
            workload = self.workload(group)
            if workload is not None:
                workloads.append(workload)
        self.leftovers()
        self.network_resources(workloads)
        notes = list(self.inv.notes)
        return {
            "schemaVersion": PLAN_SCHEMA_VERSION,
            "workloads": workloads,
            "skipped": self.skipped,
            "notes": notes,
        }

    def workload(self, group: Group) -> dict[str, Any] | None:
        ids = ([group.scale_set.id] if group.scale_set else []) + [vm.id for vm in group.vms]
        size_name, warnings = _pick_size(group, self.inv)
        warnings = group.warnings + warnings
        size = self.inv.vm_sizes.get(size_name)
        reason = ""
        if size is None:
            reason = (
                f"VM size '{size_name}' is not in the subscription's SKU list or the catalog and "
                "its name does not resolve: add it to migrate/catalog/azure_vm_sizes.json, or "
                "export `az vm list-skus` / run the inventory live (resource SKUs)"
            )
        else:
            try:
                choice = _sizing(size)
            except LookupError as exc:
                reason = f"no EC2 instance type for {size_name}: {exc}"
        if reason:
            for rid in ids:
                self.skip(rid, f"workload {group.name}: {reason}")
            for key in self.frontends(group):
                self.unused_reason.setdefault(
                    key, f"its workload {group.name} was skipped ({reason})"
                )
            if group.scale_set is not None:
                for setting in self.idx.autoscale_by_target.get(id_key(group.scale_set.id), []):
                    self.skip(setting.id, f"its scale set was skipped ({reason})")
            return None
        warnings += choice.warnings
        first = group.scale_set or group.vms[0]
        zones = sorted({z for r in [first, *group.vms] for z in r.zones})
        placement = _zone_placement(group.scale_set, warnings)
        if placement is not None:
            zones = sorted(set(placement.get("includeZones", [])) | set(zones))
        instances = self.instance_count(group)
        aws: dict[str, Any] = {
            "instanceType": choice.instance_type,
            "alternatives": choice.alternatives,
            "sizingRationale": choice.rationale,
            "sizing": {
                "class": choice.sizing_class,
                "sizeSource": choice.size_origin,
                "runnerUp": choice.runner_up,
                "runnerUpReason": choice.runner_up_reason,
            },
        }
        azure: dict[str, Any] = {
            "kind": group.kind,
            "ids": ids,
            "vmSize": size_name,
            "instances": instances,
            "location": first.location,
            "zones": zones,
            "osType": _os_type([first, *group.vms]),
        }
        if group.scale_set is not None and group.scale_set.vm_sizes:
            azure["vmSizes"] = list(group.scale_set.vm_sizes)
            self.instance_mix(group.scale_set, choice.instance_type, aws, warnings)
        if placement is not None:
            azure["zonePlacement"] = placement
        azure["autoscaleSettings"] = self.capacity(group, instances, aws, warnings)
        self.performance(ids, size, choice, aws, azure, warnings)
        azure["loadBalancers"] = self.load_balancer(group, aws, warnings)
        disks_azure, disks_aws = plan_disks([first, *group.vms], warnings)
        azure.update(disks_azure)
        aws.update(disks_aws)
        warnings += self.general_warnings(group, aws, zones)
        return {
            "name": group.name,
            "azure": azure,
            "aws": aws,
            "warnings": list(dict.fromkeys(warnings)),
        }

    def instance_mix(
        self, ss: ScaleSet, primary: str, aws: dict[str, Any], warnings: list[str]
    ) -> None:
        """An instance mix becomes a mixed-instances group: every listed size sized, and Azure's
        allocation strategy mapped to the Auto Scaling group's (catalog/mapping.json)."""
        types = [primary]
        for name in ss.vm_sizes:
            size = self.inv.vm_sizes.get(name)
            if size is None:
                warnings.append(
                    f"instance mix size {name} is not in the SKU list or the catalog and its name "
                    "does not resolve: not in the mixed-instances group (add it by hand)"
                )
                continue
            try:
                choice = _sizing(size)
            except LookupError as exc:
                warnings.append(
                    f"instance mix size {name}: no EC2 instance type ({exc}): not in the "
                    "mixed-instances group"
                )
                continue
            if choice.instance_type not in types:
                types.append(choice.instance_type)
        aws["instanceTypes"] = types
        strategies = catalog.mapping()["allocationStrategies"]
        azure = ss.allocation_strategy or "LowestPrice"  # Azure's default when not given
        mapped = strategies.get(azure.lower())
        if mapped is None:
            mapped = strategies["lowestprice"]
            warnings.append(
                f"instance mix allocation strategy {azure} is not known: planned as LowestPrice "
                "(lowest-price); review the mixed-instances policy"
            )
        aws["allocationStrategy"] = {
            "azure": azure,
            "onDemand": mapped["onDemand"],
            "spot": mapped["spot"],
            "reason": mapped["reason"],
        }
        warnings.append(
            f"instance mix of {len(ss.vm_sizes)} sizes ({', '.join(ss.vm_sizes)}, {azure}): "
            f"planned as a mixed-instances group of {', '.join(types)} (on-demand "
            f"{mapped['onDemand']}, Spot {mapped['spot']})"
        )

    def performance(
        self,
        ids: list[str],
        size: VmSize,
        as_is: SizingChoice,
        aws: dict[str, Any],
        azure: dict[str, Any],
        warnings: list[str],
    ) -> None:
        """Performance sizing (``migrate.performance``) where the inventory has metrics: the
        as-is choice is kept in ``aws.sizing.asIs``; an instance mix stays as-is."""
        utils = [u for u in (self.utilization.get(id_key(i)) for i in ids) if u is not None]
        if self.options.sizing != "performance" or not utils:
            return
        if "instanceTypes" in aws:
            aws["sizing"]["basis"] = "as-is (instance mix)"
            return
        # Measured with the current instances; the group may shrink to MinSize under load.
        factor = aws["desiredCapacity"] / aws["minSize"] if aws["minSize"] > 0 else 1.0
        price = self.options.ec2_hourly
        location, os_type = azure["location"], azure["osType"]
        hourly = (lambda t: price(t, location, os_type)) if price is not None else None
        result = size_for_use(size, combine(utils), as_is, self.options.performance, factor, hourly)
        aws["performance"] = {**result.facts, "basis": "performance" if result.choice else "as-is"}
        aws["performance"]["reason"] = result.reason
        aws["sizing"]["asIs"] = as_is.instance_type
        aws["sizing"]["basis"] = aws["performance"]["basis"]
        if result.choice is None:
            if not size.gpus:
                warnings.append(f"performance sizing not applied: {result.reason}")
            return
        warnings.extend(result.choice.warnings)
        aws["sizing"].update(
            runnerUp=result.choice.runner_up, runnerUpReason=result.choice.runner_up_reason
        )
        aws["instanceType"] = result.choice.instance_type
        aws["alternatives"] = result.choice.alternatives
        aws["sizingRationale"] = f"{result.reason}; as-is: {as_is.rationale}"

    @staticmethod
    def instance_count(group: Group) -> int:
        if group.scale_set is None:
            return len(group.vms)
        if group.scale_set.orchestration_mode == "Flexible":
            return max(group.scale_set.capacity, len(group.vms))
        return group.scale_set.capacity

    # -- capacity and scaling ----------------------------------------------------------------
    def capacity(
        self, group: Group, instances: int, aws: dict[str, Any], warnings: list[str]
    ) -> list[str]:
        aws.update(
            minSize=instances, maxSize=instances, desiredCapacity=instances, scalingPolicies=[]
        )
        if group.scale_set is None:
            return []
        settings = self.idx.autoscale_by_target.get(id_key(group.scale_set.id), [])
        chosen: AutoscaleSetting | None = None
        for setting in settings:
            if not setting.enabled:
                self.skip(
                    setting.id,
                    f"disabled: {group.name} keeps the scale set's capacity ({instances})",
                )
            elif chosen is not None:
                self.skip(
                    setting.id, f"{chosen.name} already drives scale set {group.scale_set.name}"
                )
            else:
                chosen = setting
        if chosen is None:
            if instances > 1:
                warnings.append(
                    f"no autoscale setting: fixed capacity {instances} (MinSize = MaxSize)"
                )
            return []
        profile = default_profile(chosen, warnings)
        low, high = min(profile.minimum, profile.maximum), max(profile.minimum, profile.maximum)
        desired = min(max(profile.default, low), high)
        if (low, high, desired) != (profile.minimum, profile.maximum, profile.default):
            warnings.append(
                f"autoscale {chosen.name}: capacity min {profile.minimum} / max "
                f"{profile.maximum} / "
                f"default {profile.default} is inconsistent; planned {low}/{high}/{desired}"
            )
        aws.update(minSize=low, maxSize=high, desiredCapacity=desired)
        aws["scalingPolicies"] = scaling_policies(chosen, profile, group.scale_set, warnings)
        return [chosen.id]

    # -- load balancing ----------------------------------------------------------------------
    def workload_pools(self, group: Group) -> set[str]:
        keys = {"vm:" + id_key(vm.id) for vm in group.vms}
        if group.scale_set is not None:
            keys.add("ss:" + id_key(group.scale_set.id))
        return {pool for pool, members in self.members.items() if members & keys}

    def frontends(self, group: Group) -> list[str]:
        pools = self.workload_pools(group)
        return sorted(
            {id_key(self.idx.pool_owner[p].id) for p in pools if p in self.idx.pool_owner}
        )

    def load_balancer(self, group: Group, aws: dict[str, Any], warnings: list[str]) -> list[str]:
        aws.update(
            healthCheck=None,
            listeners=[],
            loadBalancerType=None,
            loadBalancer=None,
            targetPort=None,
            targetPorts=[],
            deregistrationDelay=None,
        )
        pools = self.workload_pools(group)
        for pool in sorted(pools):
            if pool not in self.idx.pool_owner:
                warnings.append(
                    f"backend pool {pool} is referenced but not in the inventory (dangling "
                    "reference)"
                )
        owners = {
            id_key(self.idx.pool_owner[p].id): self.idx.pool_owner[p]
            for p in pools
            if p in self.idx.pool_owner
        }
        for lb in owners.values():
            warnings.extend(
                balancers.egress_text(lb, r)
                for r in lb.outbound_rules
                if id_key(r.pool_id) in pools
            )
        candidates = []
        for key, lb in owners.items():
            rules = [r for r in lb.rules if id_key(r.pool_id) in pools]
            if balancers.is_gateway(lb):
                reason = balancers.gateway_reason(lb, group.name)
                self.unused_reason.setdefault(key, reason)
                warnings.append(f"{reason} (not planned)")
                aws["gatewayLoadBalancer"] = {"source": lb.id, "reason": reason}
                continue
            if not rules:
                only = "outbound (SNAT) rules" if lb.outbound_rules else "inbound NAT rules"
                self.unused_reason.setdefault(
                    key,
                    f"no load-balancing rule for workload {group.name} (only {only}): egress is "
                    "a NAT gateway, shell access SSM Session Manager (see the workload)",
                )
                continue
            candidates.append((balancers.rank(lb, rules), lb.name, key, lb, rules))
        nat_ids = self.nat_pools(group, bool(candidates), warnings)
        if not candidates:
            if not owners and not nat_ids:
                warnings.append(
                    "no load balancer in Azure: choose the listeners and health check of the "
                    "one infra builds"
                )
            return nat_ids
        candidates.sort(key=lambda c: c[:2])
        _, _, key, lb, rules = candidates[0]
        for _, name, other_key, _, _ in candidates[1:]:
            self.unused_reason.setdefault(
                other_key,
                f"workload {group.name} already maps to {lb.name}; Cutover builds one load "
                f"balancer per group (add a second target group for {name} by hand)",
            )
        self.used.add(key)
        warnings.extend(balancers.global_member_text(lb, g) for g in self.global_of.get(key, []))
        frontend = balancers.Frontend(
            lb=lb,
            rules=rules,
            other_rules=[r for r in lb.rules if id_key(r.pool_id) not in pools],
            probes={id_key(p.id): p for p in lb.probes},
        )
        balancers.map_frontend(frontend, self.options.prefer_alb, aws, warnings)
        warnings.extend(f"{lb.name}: {note}" for note in self.membership.notes.get(key, []))
        dangling = self.membership.dangling.get(key, [])
        if dangling:
            warnings.append(
                f"{lb.name}: {len(dangling)} backend member(s) not in the inventory "
                f"(dangling), e.g. {dangling[0]}"
            )
        return list(dict.fromkeys([lb.id, *nat_ids]))

    def nat_pools(self, group: Group, balanced: bool, warnings: list[str]) -> list[str]:
        """The balancers whose inbound NAT pools reach the scale set: they are its balancers
        too (per-instance port forwarding, which no ALB/NLB carries)."""
        ss = group.scale_set
        found = []
        for pool_id in ss.lb_nat_pool_ids if ss is not None else []:
            key = prefix_through(pool_id, "loadbalancers")
            lb = self.lb_by_key.get(key)
            pool = (
                next((p for p in lb.nat_pools if id_key(p.id) == id_key(pool_id)), None)
                if lb
                else None
            )
            if lb is None or pool is None:
                warnings.append(
                    f"inbound NAT pool {pool_id} is referenced but not in the inventory (dangling "
                    "reference)"
                )
                continue
            warnings.append(balancers.nat_pool_text(lb, pool, only=not balanced))
            self.used.add(key)
            found.append(lb.id)
        return list(dict.fromkeys(found))

    # -- the rest ----------------------------------------------------------------------------
    @staticmethod
    def general_warnings(group: Group, aws: dict[str, Any], zones: list[str]) -> list[str]:
        out = []
        resources: list[Any] = [group.scale_set] if group.scale_set else []
        resources += group.vms
        if aws["minSize"] < 2:
            out.append(
                f"MinSize {aws['minSize']}: a workload of one instance cannot be deployed without "
                "downtime (raise MinSize to 2, or accept downtime: fleet.allowDowntime)"
            )
        if any(r.priority.lower() in ("spot", "low") for r in resources):
            out.append(
                "Spot/low-priority capacity in Azure: planned as on-demand (add a Spot "
                "mixed-instances policy by hand)"
            )
        if any(r.os_type.lower() == "windows" for r in resources):
            out.append(
                "Windows image: set fleet.ami to a Windows AMI (the default is Amazon Linux) and "
                "install Python 3 + boto3 for the deployment hooks"
            )
        if zones:
            out.append(
                f"Azure zones {', '.join(zones)}: AWS zone names do not map one to one; "
                "spread over "
                f"{max(2, len(zones))} availability zones (network.availabilityZones)"
            )
        stopped = [
            vm.name
            for vm in group.vms
            if "deallocated" in vm.power_state.lower() or "stopped" in vm.power_state.lower()
        ]
        if stopped:
            out.append(f"stopped/deallocated in Azure: {', '.join(stopped)}")
        if group.scale_set is not None and aws["desiredCapacity"] == 0:
            out.append("the scale set has no instance: DesiredCapacity 0")
        return out

    def network_resources(self, workloads: list[dict[str, Any]]) -> None:
        """Each NIC and public IP address the inventory holds goes to the workload of what
        uses it (``azure.networkResources``), or to ``skipped`` with the reason."""
        owner: dict[str, tuple[dict[str, Any], str]] = {}  # resource key -> (workload, its id)
        for w in workloads:
            for rid in [*w["azure"]["ids"], *w["azure"]["loadBalancers"]]:
                owner[id_key(rid)] = (w, rid)
        nic_vm = {id_key(n.id): n.vm_id for n in self.inv.network_interfaces}
        for nic in self.inv.network_interfaces:
            self.attach(owner, nic.id, "networkInterface", nic.vm_id, "VM")
        for pip in self.inv.public_ips:
            target = pip.attached_to
            scale_set = prefix_through(target, "virtualmachinescalesets")
            nic = prefix_through(target, "networkinterfaces")
            balancer = prefix_through(target, "loadbalancers") or prefix_through(
                target, "applicationgateways"
            )
            if not target:
                self.skip(
                    pip.id,
                    "public IP address attached to nothing (no NIC, load balancer or NAT "
                    "gateway uses it): not migrated; AWS allocates its own addresses",
                )
            elif scale_set:
                self.attach(owner, pip.id, "publicIpAddress", scale_set, "scale set")
            elif nic:
                vm = nic_vm.get(nic) or self.idx.nic_to_vm.get(nic, "")
                self.attach(owner, pip.id, "publicIpAddress", vm or nic, "VM")
            elif balancer:
                self.attach(owner, pip.id, "publicIpAddress", balancer, "load balancer")
            else:
                kind = (
                    target.split("/providers/")[-1].split("/")[1]
                    if "/providers/" in target
                    else "?"
                )
                self.skip(
                    pip.id,
                    f"public IP address of {kind} {target.rsplit('/', 1)[-1]}, which Cutover does "
                    "not migrate: in AWS egress is the VPC's NAT gateway (network.natGateways) "
                    "and ingress the load balancer, both with new addresses: update DNS and "
                    "allowlists",
                )

    def attach(
        self,
        owner: dict[str, tuple[dict[str, Any], str]],
        resource_id: str,
        kind: str,
        user: str,
        label: str,
    ) -> None:
        found = owner.get(id_key(user))
        if found is not None:
            workload, user_id = found
            workload["azure"].setdefault("networkResources", []).append(
                {"id": resource_id, "type": kind, "usedBy": user_id}
            )
            return
        name = user.rstrip("/").rsplit("/", 1)[-1] or "?"
        known = id_key(user) in self.idx.vms or id_key(user) in self.idx.scale_sets
        known = known or id_key(user) in self.lb_by_key
        self.skip(
            resource_id,
            f"its {label} {name} was skipped (see its reason)"
            if known
            else f"its {label} {name} is not in the inventory",
        )

    def regional_members(self, lb: LoadBalancer) -> list[tuple[str, str]]:
        """(name, where it went) of each regional balancer a cross-region balancer names."""
        out = []
        for front in dict.fromkeys(f for p in lb.pools for f in p.frontend_members):
            key = prefix_through(front, "loadbalancers")
            regional = self.lb_by_key.get(key)
            name = regional.name if regional else balancers.name_in(front) or front
            if regional is None:
                where = "not in the inventory"
            elif key in self.used:
                where = "planned"
            else:
                where = "not planned, see skipped"
            out.append((name, where))
        return out

    def leftovers(self) -> None:
        for lb in self.inv.load_balancers:
            key = id_key(lb.id)
            if key in self.used:
                continue
            label = "application gateway" if lb.kind == "applicationGateway" else "load balancer"
            reason = self.unused_reason.get(key)
            if reason is None and balancers.is_global(lb):
                reason = balancers.global_reason(lb, self.regional_members(lb))
            elif reason is None and balancers.is_gateway(lb):
                reason = balancers.gateway_reason(lb, "(none in the inventory)")
            reason = reason or f"{label} without any backend member in the inventory"
            notes = self.membership.notes.get(key, [])
            self.skip(lb.id, "; ".join([reason, *notes]))
        for setting in self.inv.autoscale:
            key = id_key(setting.target_resource_id)
            if key in self.idx.scale_sets:
                continue  # used or skipped while planning its scale set
            self.skip(
                setting.id,
                f"targets {setting.target_resource_id}, which is not a VM scale set in the "
                "inventory",
            )
        for other in self.inv.other_resources:
            self.skip(other.id, f"resource type {other.type} is not migrated by Cutover")
        for sub in self.inv.subscriptions:
            if sub.status != "ok":
                self.skip(f"/subscriptions/{sub.id}", f"inventory failed: {sub.error}")


def _os_type(resources: list[Any]) -> str:
    """Windows if any member runs Windows (priced and imaged as Windows), else its OS or ''."""
    kinds = {str(r.os_type) for r in resources if r.os_type}
    return "Windows" if any(k.lower() == "windows" for k in kinds) else next(iter(kinds), "")


# Azure's automatic zone placement targets three zones unless maxZoneCount says otherwise.
AUTO_PLACEMENT_ZONES = 3


def _zone_placement(ss: ScaleSet | None, warnings: list[str]) -> dict[str, Any] | None:
    """Automatic zone placement (Azure picks the zones): what was allowed, and how many AWS
    availability zones the group should spread over."""
    if ss is None or ss.zone_placement_policy.lower() != "auto":
        return None
    include, exclude, most = ss.include_zones, ss.exclude_zones, ss.max_zone_count
    if include:
        count, scope = len(include), f"including zones {', '.join(include)}"
    else:
        count = AUTO_PLACEMENT_ZONES - len(exclude)
        scope = (
            f"excluding zone{'s' if len(exclude) > 1 else ''} {', '.join(exclude)}"
            if exclude
            else "any zone"
        )
    if most:
        count, scope = min(count, most), f"{scope}, at most {most} zones"
    count = max(2, count)
    warnings.append(
        f"Azure places the instances in zones itself (zonePlacementPolicy Auto, {scope}): an "
        f"Auto Scaling group spreads over its subnets' zones; planned {count} availability "
        "zones (network.availabilityZones)"
    )
    placement: dict[str, Any] = {"policy": ss.zone_placement_policy, "availabilityZones": count}
    if include:
        placement["includeZones"] = list(include)
    if exclude:
        placement["excludeZones"] = list(exclude)
    if most:
        placement["maxZoneCount"] = most
    return placement


def build_plan(inventory: Inventory, options: PlanOptions | None = None) -> dict[str, Any]:
    """The plan (``plan.json`` as a dict); raises MigrateError if a resource is unaccounted for."""
    plan = _Planner(inventory, options or PlanOptions()).run()
    check_accounted(inventory, plan)
    return plan


def check_accounted(inventory: Inventory, plan: dict[str, Any]) -> None:
    """Every VM/scale set id exactly once in a workload or skipped; every LB, application gateway
    and autoscale setting used by a workload or skipped; every NIC and public IP address exactly
    once in a workload's ``networkResources`` or skipped."""
    seen: Counter[str] = Counter()
    used: set[str] = set()
    for workload in plan["workloads"]:
        seen.update(id_key(i) for i in workload["azure"]["ids"])
        used.update(id_key(i) for i in workload["azure"].get("loadBalancers", []))
        used.update(id_key(i) for i in workload["azure"].get("autoscaleSettings", []))
    skipped = Counter(id_key(s["id"]) for s in plan["skipped"])
    problems = []
    for resource in [*inventory.vms, *inventory.scale_sets]:
        count = seen[id_key(resource.id)] + skipped[id_key(resource.id)]
        if count != 1:
            problems.append(f"{resource.id} appears {count} times in workloads/skipped")
    for resource in [*inventory.load_balancers, *inventory.autoscale]:
        if id_key(resource.id) not in used and not skipped[id_key(resource.id)]:
            problems.append(f"{resource.id} is neither used by a workload nor skipped")
    network = Counter(
        id_key(r["id"]) for w in plan["workloads"] for r in w["azure"].get("networkResources", [])
    )
    for resource in [*inventory.network_interfaces, *inventory.public_ips]:
        count = network[id_key(resource.id)] + skipped[id_key(resource.id)]
        if count != 1:
            problems.append(f"{resource.id} appears {count} times in workloads/skipped")
    for entry in plan["skipped"]:
        if not entry.get("reason"):
            problems.append(f"{entry['id']} is skipped without a reason")
    if problems:
        raise MigrateError(
            f"plan does not account for every resource ({len(problems)} problem(s)): "
            + "; ".join(problems[:5])
        )
