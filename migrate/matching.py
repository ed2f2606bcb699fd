"""Who is behind which balancer, and which resources form one workload.

Pool membership comes from NIC ip-configuration ids (exact) or from IP addresses. An address is
only matched within the balancer's subscription and, when both are known, within its virtual
network: the same private IP is reused across networks and subscriptions, so a match outside
them is a different machine. An address that fits several VMs is reported, never picked.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from migrate.model import (
    AutoscaleSetting,
    BackendPool,
    Inventory,
    LoadBalancer,
    ScaleSet,
    VirtualMachine,
    id_key,
    subscription_of,
)

_NAME_PREFIXES = ("vmss-", "lb-", "agw-", "appgw-", "avset-", "as-", "vm-")


@dataclass
class Group:
    name: str
    kind: str  # scaleSet | vmGroup
    vms: list[VirtualMachine] = field(default_factory=list)
    scale_set: ScaleSet | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Index:
    """Lookups by case-insensitive id (Azure APIs disagree on case)."""

    vms: dict[str, VirtualMachine]
    scale_sets: dict[str, ScaleSet]
    nic_to_vm: dict[str, str]
    # (subscription, IP) -> VM keys: an address is only meaningful inside its own estate
    ip_to_vms: dict[tuple[str, str], list[str]]
    pool_owner: dict[str, LoadBalancer]
    autoscale_by_target: dict[str, list[AutoscaleSetting]]


@dataclass
class Membership:
    """pool key -> member keys ('vm:<id>' / 'ss:<id>'); per balancer: unresolved references
    and notes about address matching."""

    members: dict[str, set[str]]
    dangling: dict[str, list[str]]
    notes: dict[str, list[str]]


def prefix_through(resource_id: str, segment: str) -> str:
    """The id up to and including ``<segment>/<name>`` ('' when the segment is absent)."""
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == segment:
            return id_key("/".join(parts[: i + 2]))
    return ""


def build_index(inventory: Inventory) -> Index:
    vms = {id_key(vm.id): vm for vm in inventory.vms}
    nic_to_vm: dict[str, str] = {}
    ip_to_vms: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, vm in vms.items():
        for nic in vm.nic_ids:
            nic_to_vm[id_key(nic)] = key
        for ip in vm.private_ips:
            ip_to_vms[(subscription_of(vm.id).lower(), ip)].append(key)
    pool_owner = {id_key(pool.id): lb for lb in inventory.load_balancers for pool in lb.pools}
    by_target: dict[str, list[AutoscaleSetting]] = defaultdict(list)
    for setting in inventory.autoscale:
        by_target[id_key(setting.target_resource_id)].append(setting)
    return Index(
        vms=vms,
        scale_sets={id_key(ss.id): ss for ss in inventory.scale_sets},
        nic_to_vm=nic_to_vm,
        ip_to_vms=ip_to_vms,
        pool_owner=pool_owner,
        autoscale_by_target=by_target,
    )


def _address_member(
    address: str, lb: LoadBalancer, pool: BackendPool, idx: Index, notes: list[str]
) -> str | None:
    """The VM key an IP address of ``pool`` designates, or None (with a note when ambiguous)."""
    candidates = idx.ip_to_vms.get((subscription_of(lb.id).lower(), address), [])
    networks = {pool.virtual_network} - {""} or set(lb.virtual_networks)
    if networks:
        verified = [k for k in candidates if set(idx.vms[k].virtual_networks) & networks]
        unknown = [k for k in candidates if not idx.vms[k].virtual_networks]
    else:
        verified, unknown = [], candidates
    if len(verified) == 1:
        return verified[0]
    pick = verified or unknown
    if len(pick) > 1:
        names = ", ".join(sorted(idx.vms[k].name for k in pick))
        notes.append(
            f"pool {pool.name}: address {address} matches several VMs ({names}): none is "
            "assumed a member; export the NICs (`az network nic list`) so the virtual network "
            "decides, or add the member by hand"
        )
        return None
    if len(pick) == 1:
        notes.append(
            f"pool {pool.name}: address {address} taken as {idx.vms[pick[0]].name} in the same "
            "subscription, but its virtual network is not known (export the NICs with "
            "`az network nic list` to check it)"
        )
        return pick[0]
    return None


def pool_membership(inventory: Inventory, idx: Index) -> Membership:
    members: dict[str, set[str]] = defaultdict(set)
    dangling: dict[str, list[str]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    for lb in inventory.load_balancers:
        lb_key = id_key(lb.id)
        for pool in lb.pools:
            pkey = id_key(pool.id)
            for member in pool.member_ids:
                ss = prefix_through(member, "virtualmachinescalesets")
                nic = prefix_through(member, "networkinterfaces")
                if ss and ss in idx.scale_sets:
                    members[pkey].add("ss:" + ss)
                elif not ss and nic in idx.nic_to_vm:
                    members[pkey].add("vm:" + idx.nic_to_vm[nic])
                else:
                    dangling[lb_key].append(member)
            for address in pool.addresses:
                vm_key = _address_member(address, lb, pool, idx, notes[lb_key])
                if vm_key is not None:
                    members[pkey].add("vm:" + vm_key)
                elif not any(address in n for n in notes[lb_key]):
                    dangling[lb_key].append(address)
    for key, ss in idx.scale_sets.items():
        for pool_id in ss.lb_pool_ids + ss.agw_pool_ids:
            members[id_key(pool_id)].add("ss:" + key)
    return Membership(members, dangling, notes)


def slug(text: str) -> str:
    value = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    for prefix in _NAME_PREFIXES:
        if value.startswith(prefix) and len(value) > len(prefix):
            return value[len(prefix) :]
    return value or "workload"


def group_workloads(
    inventory: Inventory, idx: Index, members: dict[str, set[str]], group_tag: str
) -> list[Group]:
    """Scale sets (with a Flexible set's VMs); plain VMs connected through shared pools, then by
    availability set, then by the ``group_tag`` tag; else one VM per workload."""
    groups: list[Group] = []
    flex: dict[str, list[VirtualMachine]] = defaultdict(list)
    plain: list[VirtualMachine] = []
    for vm in inventory.vms:
        ss_key = id_key(vm.scale_set_id) if vm.scale_set_id else ""
        if ss_key and ss_key in idx.scale_sets:
            flex[ss_key].append(vm)
        else:
            plain.append(vm)
    for key, ss in idx.scale_sets.items():
        groups.append(Group(slug(ss.name), "scaleSet", flex.get(key, []), ss))

    parent: dict[str, str] = {id_key(vm.id): id_key(vm.id) for vm in plain}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    pool_of: dict[str, str] = {}
    for pkey in sorted(members):
        vm_keys = [m[3:] for m in sorted(members[pkey]) if m.startswith("vm:") and m[3:] in parent]
        for k in vm_keys:
            pool_of.setdefault(k, pkey)
            parent[find(k)] = find(vm_keys[0])
    buckets: dict[tuple[str, str], list[VirtualMachine]] = defaultdict(list)
    for vm in plain:
        k = id_key(vm.id)
        if k in pool_of:
            buckets[("pool", find(k))].append(vm)
        elif vm.availability_set_id:
            buckets[("avset", id_key(vm.availability_set_id))].append(vm)
        elif vm.tags.get(group_tag):
            buckets[("tag", vm.tags[group_tag])].append(vm)
        else:
            buckets[("vm", k)].append(vm)
    for (how, key), vms in buckets.items():
        if how == "pool":
            name = slug(idx.pool_owner[pool_of[key]].name)
        elif how == "avset":
            name = slug(vms[0].availability_set_id.rsplit("/", 1)[-1])
        elif how == "tag":
            name = slug(key)
        else:
            name = slug(vms[0].name)
        group = Group(name, "vmGroup", vms)
        for vm in vms:
            if vm.scale_set_id:
                group.warnings.append(
                    f"{vm.name} belongs to scale set {vm.scale_set_id}, which is not in the "
                    "inventory"
                )
        groups.append(group)
    _unique_names(groups)
    return sorted(groups, key=lambda g: g.name)


def _unique_names(groups: list[Group]) -> None:
    counts: Counter[str] = Counter()
    for group in sorted(groups, key=lambda g: (g.name, g.kind != "scaleSet")):
        counts[group.name] += 1
        if counts[group.name] > 1:
            group.name = f"{group.name}-{counts[group.name]}"
