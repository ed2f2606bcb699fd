"""ARM resource JSON -> neutral model. Shared by the live adapter and the export adapter.

Accepts both shapes Azure prints: ARM REST bodies (``{"id", "name", "properties": {...}}``, nested
sub-resources with their own ``properties``) and the flattened shape of ``az ... list`` (the same
keys without the ``properties`` wrapper). Every lookup goes through :func:`prop` /
:func:`get_ci` (``armjson.py``), so one parser reads both, in any key case. This module parses
compute and autoscale resources and dispatches by type (:data:`PARSERS`); the network resources
are parsed in ``network.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrate.errors import MigrateError
from migrate.model import (
    AutoscaleProfile,
    AutoscaleRule,
    AutoscaleSetting,
    Disk,
    ScaleSet,
    VirtualMachine,
    VmSize,
)
from migrate.sources.armjson import (  # noqa: F401 (re-exported: the parsers' shared vocabulary)
    AGW_TYPE,
    AUTOSCALE_TYPE,
    LB_TYPE,
    NIC_TYPE,
    PIP_TYPE,
    VM_TYPE,
    VMSS_TYPE,
    ResourceProblem,
    as_int,
    duration_seconds,
    flatten,
    get_ci,
    list_prop,
    name_of,
    path,
    prop,
    ref_id,
    required,
    resource_type,
    tags_of,
)
from migrate.sources.network import (  # noqa: F401 (re-exported)
    frontend_internal,
    parse_application_gateway,
    parse_load_balancer,
    parse_network_interface,
    parse_public_ip,
)


def _os_type(storage: Any, os_profile: Any) -> str:
    # Profiles nest plain objects (no `properties` wrapper) in both shapes: plain lookups.
    os_disk = get_ci(storage, "osDisk") if isinstance(storage, dict) else None
    os_type = get_ci(os_disk, "osType") if isinstance(os_disk, dict) else None
    if os_type:
        return str(os_type)
    if not isinstance(os_profile, dict):
        return ""
    if get_ci(os_profile, "windowsConfiguration") is not None:
        return "Windows"
    if get_ci(os_profile, "linuxConfiguration") is not None:
        return "Linux"
    return ""


def _image(storage: Any) -> str:
    ref = (get_ci(storage, "imageReference") if isinstance(storage, dict) else None) or {}
    if ref.get("publisher"):
        return ":".join(str(ref.get(k) or "") for k in ("publisher", "offer", "sku", "version"))
    return (
        ref.get("id") or ref.get("communityGalleryImageId") or ref.get("sharedGalleryImageId") or ""
    )


def _disk(raw: Any, where: str) -> Disk | None:
    if not isinstance(raw, dict):
        return None
    managed = get_ci(raw, "managedDisk") or {}
    return Disk(
        size_gb=as_int(get_ci(raw, "diskSizeGB") or 0, f"{where}.diskSizeGB"),
        storage_type=str(get_ci(managed, "storageAccountType") or ""),
        caching=str(get_ci(raw, "caching") or ""),
        lun=as_int(get_ci(raw, "lun") or 0, f"{where}.lun"),
        iops=as_int(get_ci(raw, "diskIOPSReadWrite") or 0, f"{where}.diskIOPSReadWrite"),
        mbps=as_int(get_ci(raw, "diskMBpsReadWrite") or 0, f"{where}.diskMBpsReadWrite"),
    )


def _disks(storage: Any) -> tuple[Disk | None, list[Disk]]:
    """The OS disk and the data disks of a storage profile (plain objects in both shapes)."""
    if not isinstance(storage, dict):
        return None, []
    data = get_ci(storage, "dataDisks") or []
    if not isinstance(data, list):
        raise ResourceProblem(f"'dataDisks' should be a list, got {type(data).__name__}")
    disks = [_disk(d, f"dataDisks[{i}]") for i, d in enumerate(data)]
    return _disk(get_ci(storage, "osDisk"), "osDisk"), [d for d in disks if d is not None]


def parse_vm(obj: dict[str, Any], source: str) -> VirtualMachine:
    # The hot path of a large inventory: one lower-cased copy of the flattened resource, then
    # plain lookups (ARM/az key case varies across eras).
    flat = {k.lower(): v for k, v in flatten(obj).items()}
    vm_id = flat.get("id")
    size = get_ci(flat.get("hardwareprofile") or {}, "vmSize")
    if not vm_id:
        raise ResourceProblem("missing 'id'")
    if not size:
        raise ResourceProblem("missing 'hardwareProfile.vmSize'")
    storage = flat.get("storageprofile")
    os_profile = flat.get("osprofile")
    private_ips = flat.get("privateips") or ""  # `az vm list -d` prints "10.0.1.4,10.0.1.5"
    power = flat.get("powerstate") or ""
    if flat.get("instanceview"):
        for status in prop(flat["instanceview"], "statuses", []) or []:
            if str(status.get("code", "")).startswith("PowerState/"):
                power = status.get("displayStatus") or status["code"]
    network = flat.get("networkprofile") or {}
    os_disk, data_disks = _disks(storage)
    return VirtualMachine(
        id=vm_id,
        name=flat.get("name") or name_of(flat),
        location=str(flat.get("location") or ""),
        vm_size=str(size),
        source=source,
        zones=[str(z) for z in flat.get("zones") or []],
        os_type=_os_type(storage, os_profile),
        image=_image(storage),
        priority=str(flat.get("priority") or "Regular"),
        availability_set_id=ref_id(flat.get("availabilityset")),
        scale_set_id=ref_id(flat.get("virtualmachinescaleset")),
        nic_ids=[ref_id(n) for n in list_prop(network, "networkInterfaces")],
        private_ips=[ip.strip() for ip in str(private_ips).split(",") if ip.strip()]
        if private_ips
        else [],
        power_state=str(power),
        tags=tags_of(flat),
        os_disk=os_disk,
        data_disks=data_disks,
    )


def parse_scale_set(obj: dict[str, Any], source: str) -> ScaleSet:
    profile = prop(obj, "virtualMachineProfile") or {}
    mode = str(prop(obj, "orchestrationMode") or "Uniform")
    sku = get_ci(obj, "sku") or {}
    if mode != "Flexible" and not get_ci(sku, "name"):
        raise ResourceProblem("missing 'sku.name' (the VM size)")
    lb_pools: list[str] = []
    agw_pools: list[str] = []
    nat_pools: list[str] = []
    for nic in list_prop(prop(profile, "networkProfile", {}), "networkInterfaceConfigurations"):
        for ipc in list_prop(nic, "ipConfigurations"):
            lb_pools += [ref_id(p) for p in list_prop(ipc, "loadBalancerBackendAddressPools")]
            agw_pools += [
                ref_id(p) for p in list_prop(ipc, "applicationGatewayBackendAddressPools")
            ]
            nat_pools += [ref_id(p) for p in list_prop(ipc, "loadBalancerInboundNatPools")]
    storage = prop(profile, "storageProfile")
    os_disk, data_disks = _disks(storage)
    sku_profile = prop(obj, "skuProfile") or {}
    mix = [str(get_ci(s, "name")) for s in list_prop(sku_profile, "vmSizes") if get_ci(s, "name")]
    placement = prop(obj, "placement") or {}
    return ScaleSet(
        id=required(obj, "id"),
        name=name_of(obj),
        location=str(obj.get("location") or ""),
        vm_size=str(get_ci(sku, "name") or ""),
        capacity=as_int(get_ci(sku, "capacity") or 0, "sku.capacity"),
        source=source,
        zones=[str(z) for z in obj.get("zones") or []],
        os_type=_os_type(storage, prop(profile, "osProfile")),
        image=_image(storage),
        priority=str(prop(profile, "priority") or "Regular"),
        orchestration_mode=mode,
        lb_pool_ids=[p for p in lb_pools if p],
        agw_pool_ids=[p for p in agw_pools if p],
        tags=tags_of(obj),
        vm_sizes=mix,
        allocation_strategy=str(get_ci(sku_profile, "allocationStrategy") or "") if mix else "",
        lb_nat_pool_ids=[p for p in nat_pools if p],
        zone_placement_policy=str(get_ci(placement, "zonePlacementPolicy") or ""),
        include_zones=[str(z) for z in list_prop(placement, "includeZones")],
        exclude_zones=[str(z) for z in list_prop(placement, "excludeZones")],
        max_zone_count=as_int(
            path(obj, "resiliencyPolicy", "zoneAllocationPolicy", "maxZoneCount", default=0),
            "resiliencyPolicy.zoneAllocationPolicy.maxZoneCount",
        ),
        os_disk=os_disk,
        data_disks=data_disks,
    )


def _autoscale_rule(rule: dict[str, Any], where: str) -> AutoscaleRule:
    trigger = prop(rule, "metricTrigger") or {}
    action = prop(rule, "scaleAction") or {}
    return AutoscaleRule(
        metric_name=str(required(trigger, "metricName")),
        metric_resource_id=str(prop(trigger, "metricResourceUri") or ""),
        operator=str(required(trigger, "operator")),
        threshold=float(required(trigger, "threshold")),
        statistic=str(prop(trigger, "statistic") or "Average"),
        time_aggregation=str(prop(trigger, "timeAggregation") or "Average"),
        time_grain_s=duration_seconds(prop(trigger, "timeGrain", "PT1M"), f"{where}.timeGrain"),
        time_window_s=duration_seconds(prop(trigger, "timeWindow", "PT5M"), f"{where}.timeWindow"),
        direction=str(required(action, "direction")),
        change_type=str(prop(action, "type") or "ChangeCount"),
        change_value=as_int(prop(action, "value", 1), f"{where}.scaleAction.value"),
        cooldown_s=duration_seconds(prop(action, "cooldown", "PT5M"), f"{where}.cooldown"),
    )


def parse_autoscale(obj: dict[str, Any], source: str) -> AutoscaleSetting:
    profiles = []
    for i, profile in enumerate(list_prop(obj, "profiles")):
        capacity = prop(profile, "capacity") or {}
        where = f"profiles[{i}]"
        profiles.append(
            AutoscaleProfile(
                name=str(profile.get("name") or where),
                minimum=as_int(required(capacity, "minimum"), f"{where}.capacity.minimum"),
                maximum=as_int(required(capacity, "maximum"), f"{where}.capacity.maximum"),
                default=as_int(required(capacity, "default"), f"{where}.capacity.default"),
                rules=[
                    _autoscale_rule(rule, f"{where}.rules[{j}]")
                    for j, rule in enumerate(list_prop(profile, "rules"))
                ],
                recurrence=prop(profile, "recurrence"),
                fixed_date=prop(profile, "fixedDate"),
            )
        )
    return AutoscaleSetting(
        id=required(obj, "id"),
        name=name_of(obj),
        location=str(obj.get("location") or ""),
        enabled=bool(prop(obj, "enabled", True)),
        target_resource_id=str(required(obj, "targetResourceUri")),
        source=source,
        profiles=profiles,
    )


def parse_resource_sku(obj: dict[str, Any]) -> VmSize | None:
    """One ``resourceSkus`` item (live ``resource_skus.list`` / ``az vm list-skus``) -> VmSize."""
    if str(obj.get("resourceType", "")).lower() != "virtualmachines" or not obj.get("name"):
        return None
    caps = {
        c.get("name"): c.get("value") for c in obj.get("capabilities") or [] if isinstance(c, dict)
    }
    if "vCPUs" not in caps or "MemoryGB" not in caps:
        return None
    return VmSize(
        name=obj["name"],
        vcpus=int(float(caps["vCPUs"])),
        memory_gb=float(caps["MemoryGB"]),
        architecture=str(caps.get("CpuArchitectureType") or "x64"),
        gpus=float(caps.get("GPUs") or 0),
        family=str(obj.get("family") or ""),
    )


def parse_vm_size_listing(obj: dict[str, Any]) -> VmSize | None:
    """One item of ``az vm list-sizes`` / ``virtual_machine_sizes.list`` -> VmSize."""
    cores, memory_mb, name = obj.get("numberOfCores"), obj.get("memoryInMb"), obj.get("name")
    if not name or cores is None or memory_mb is None:
        return None
    return VmSize(
        name=str(name), vcpus=as_int(cores, "numberOfCores"), memory_gb=float(memory_mb) / 1024
    )


PARSERS: dict[str, tuple[str, Callable[[dict[str, Any], str], Any]]] = {
    VM_TYPE: ("virtual machine", parse_vm),
    VMSS_TYPE: ("scale set", parse_scale_set),
    AUTOSCALE_TYPE: ("autoscale setting", parse_autoscale),
    LB_TYPE: ("load balancer", parse_load_balancer),
    AGW_TYPE: ("application gateway", parse_application_gateway),
    NIC_TYPE: ("network interface", parse_network_interface),
    PIP_TYPE: ("public IP address", parse_public_ip),
}


def parse(rtype: str, obj: dict[str, Any], source: str) -> Any:
    """Parse one resource of a known type; a problem becomes a MigrateError naming both."""
    label, parser = PARSERS[rtype]
    try:
        return parser(obj, source)
    except (ResourceProblem, AttributeError, TypeError, KeyError) as exc:
        who = obj.get("id") or obj.get("name") or "(no id)"
        raise MigrateError(f"{source}: {label} {who}: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, ResourceProblem):
        return str(exc)
    return f"unexpected shape ({type(exc).__name__}: {exc}); is this `az ... list` or ARM JSON?"
