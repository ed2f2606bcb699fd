"""ARM resource JSON -> neutral model. Shared by the live adapter and the export adapter.

Accepts both shapes Azure prints: ARM REST bodies (``{"id", "name", "properties": {...}}``, nested
sub-resources with their own ``properties``) and the flattened shape of ``az ... list`` (the same
keys without the ``properties`` wrapper). Every lookup goes through :func:`prop`, so one parser
reads both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from migrate.errors import MigrateError
from migrate.model import (
    AutoscaleProfile,
    AutoscaleRule,
    AutoscaleSetting,
    BackendPool,
    LoadBalancer,
    LoadBalancingRule,
    NetworkInterface,
    Probe,
    ScaleSet,
    VirtualMachine,
    VmSize,
    id_key,
    virtual_network_of,
)

VM_TYPE = "microsoft.compute/virtualmachines"
VMSS_TYPE = "microsoft.compute/virtualmachinescalesets"
AUTOSCALE_TYPE = "microsoft.insights/autoscalesettings"
LB_TYPE = "microsoft.network/loadbalancers"
AGW_TYPE = "microsoft.network/applicationgateways"
NIC_TYPE = "microsoft.network/networkinterfaces"

_PROVIDER = re.compile(r"/providers/([^/]+)/([^/]+)/[^/]+(?:/([^/]+)/[^/]+)?$", re.IGNORECASE)
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_CLOCK = re.compile(r"^(?:(?P<d>\d+) days?, )?(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)$")


class ResourceProblem(Exception):
    """A missing or malformed field; the adapter adds the file and resource to the message."""


def get_ci(obj: dict[str, Any], key: str) -> Any:
    """``obj[key]``, the key compared case-insensitively (az before 2.46 printed
    ``backendIpConfigurations``, later ``backendIPConfigurations``; ARM's own case varies too).
    The exact key is tried first, so the common case costs one lookup."""
    value = obj.get(key)
    if value is None and key not in obj:
        size, lower = len(key), key.lower()
        for name in obj:  # the length test first: a miss costs little
            if len(name) == size and name.lower() == lower:
                return obj[name]
    return value


def prop(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` or ``obj["properties"][key]`` (ARM REST and az-CLI shapes alike), with the
    key compared case-insensitively."""
    if not isinstance(obj, dict):
        return default
    value = get_ci(obj, key)
    if value is None:
        props = get_ci(obj, "properties")
        if isinstance(props, dict):
            value = get_ci(props, key)
    return default if value is None else value


def path(obj: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        obj = prop(obj, key)
        if obj is None:
            return default
    return obj


def ref_id(obj: Any) -> str:
    """A sub-resource reference ``{"id": ...}`` (or a bare string) -> the id, '' if absent."""
    if isinstance(obj, dict):
        return obj.get("id") or ""
    return obj if isinstance(obj, str) else ""


def _list(obj: Any, key: str) -> list[Any]:
    value = prop(obj, key, [])
    if not isinstance(value, list):
        raise ResourceProblem(f"'{key}' should be a list, got {type(value).__name__}")
    return value


def _required(obj: Any, *keys: str) -> Any:
    value = path(obj, *keys)
    if value is None or value == "":
        raise ResourceProblem(f"missing '{'.'.join(keys)}'")
    return value


def _int(value: Any, what: str) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise ResourceProblem(f"'{what}' should be a number, got {value!r}") from None


def duration_seconds(value: Any, what: str) -> int:
    """ISO 8601 (``PT5M``, as ARM returns) or ``H:MM:SS`` (as some az versions print)."""
    if isinstance(value, int | float):
        return int(value)
    seconds = _parse_duration(str(value or "").strip())
    if seconds is None:
        raise ResourceProblem(f"'{what}' is not a duration: {value!r}")
    return seconds


@cache
def _parse_duration(text: str) -> int | None:
    match = _DURATION.match(text) or _CLOCK.match(text)
    if not match or not text:
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    seconds = (
        parts.get("d", 0) * 86400
        + parts.get("h", 0) * 3600
        + parts.get("m", 0) * 60
        + parts.get("s", 0)
    )
    return int(seconds)


def resource_type(obj: dict[str, Any]) -> str:
    """Lower-case ARM type, from ``type`` or else from the id."""
    rtype = obj.get("type")
    if isinstance(rtype, str) and rtype:
        return rtype.lower()
    match = _PROVIDER.search(obj.get("id") or "")
    if match:
        parts = [match[1], match[2]] + ([match[3]] if match[3] else [])
        return "/".join(parts).lower()
    return ""


def _name(obj: dict[str, Any]) -> str:
    return obj.get("name") or (obj.get("id") or "").rstrip("/").split("/")[-1]


def _tags(obj: dict[str, Any]) -> dict[str, str]:
    tags = obj.get("tags") or {}
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


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


def _flat(obj: dict[str, Any]) -> dict[str, Any]:
    """The resource with its top-level ``properties`` merged in (one dict copy, cheap lookups)."""
    props = get_ci(obj, "properties")
    return {**obj, **props} if isinstance(props, dict) else obj


def parse_vm(obj: dict[str, Any], source: str) -> VirtualMachine:
    # The hot path of a large inventory: one lower-cased copy of the flattened resource, then
    # plain lookups (ARM/az key case varies across eras).
    flat = {k.lower(): v for k, v in _flat(obj).items()}
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
    return VirtualMachine(
        id=vm_id,
        name=flat.get("name") or _name(flat),
        location=str(flat.get("location") or ""),
        vm_size=str(size),
        source=source,
        zones=[str(z) for z in flat.get("zones") or []],
        os_type=_os_type(storage, os_profile),
        image=_image(storage),
        priority=str(flat.get("priority") or "Regular"),
        availability_set_id=ref_id(flat.get("availabilityset")),
        scale_set_id=ref_id(flat.get("virtualmachinescaleset")),
        nic_ids=[ref_id(n) for n in _list(network, "networkInterfaces")],
        private_ips=[ip.strip() for ip in str(private_ips).split(",") if ip.strip()]
        if private_ips
        else [],
        power_state=str(power),
        tags=_tags(flat),
    )


def parse_scale_set(obj: dict[str, Any], source: str) -> ScaleSet:
    profile = prop(obj, "virtualMachineProfile") or {}
    mode = str(prop(obj, "orchestrationMode") or "Uniform")
    sku = get_ci(obj, "sku") or {}
    if mode != "Flexible" and not get_ci(sku, "name"):
        raise ResourceProblem("missing 'sku.name' (the VM size)")
    lb_pools: list[str] = []
    agw_pools: list[str] = []
    for nic in _list(prop(profile, "networkProfile", {}), "networkInterfaceConfigurations"):
        for ipc in _list(nic, "ipConfigurations"):
            lb_pools += [ref_id(p) for p in _list(ipc, "loadBalancerBackendAddressPools")]
            agw_pools += [ref_id(p) for p in _list(ipc, "applicationGatewayBackendAddressPools")]
    storage = prop(profile, "storageProfile")
    return ScaleSet(
        id=_required(obj, "id"),
        name=_name(obj),
        location=str(obj.get("location") or ""),
        vm_size=str(get_ci(sku, "name") or ""),
        capacity=_int(get_ci(sku, "capacity") or 0, "sku.capacity"),
        source=source,
        zones=[str(z) for z in obj.get("zones") or []],
        os_type=_os_type(storage, prop(profile, "osProfile")),
        image=_image(storage),
        priority=str(prop(profile, "priority") or "Regular"),
        orchestration_mode=mode,
        lb_pool_ids=[p for p in lb_pools if p],
        agw_pool_ids=[p for p in agw_pools if p],
        tags=_tags(obj),
    )


def _autoscale_rule(rule: dict[str, Any], where: str) -> AutoscaleRule:
    trigger = prop(rule, "metricTrigger") or {}
    action = prop(rule, "scaleAction") or {}
    return AutoscaleRule(
        metric_name=str(_required(trigger, "metricName")),
        metric_resource_id=str(prop(trigger, "metricResourceUri") or ""),
        operator=str(_required(trigger, "operator")),
        threshold=float(_required(trigger, "threshold")),
        statistic=str(prop(trigger, "statistic") or "Average"),
        time_aggregation=str(prop(trigger, "timeAggregation") or "Average"),
        time_grain_s=duration_seconds(prop(trigger, "timeGrain", "PT1M"), f"{where}.timeGrain"),
        time_window_s=duration_seconds(prop(trigger, "timeWindow", "PT5M"), f"{where}.timeWindow"),
        direction=str(_required(action, "direction")),
        change_type=str(prop(action, "type") or "ChangeCount"),
        change_value=_int(prop(action, "value", 1), f"{where}.scaleAction.value"),
        cooldown_s=duration_seconds(prop(action, "cooldown", "PT5M"), f"{where}.cooldown"),
    )


def parse_autoscale(obj: dict[str, Any], source: str) -> AutoscaleSetting:
    profiles = []
    for i, profile in enumerate(_list(obj, "profiles")):
        capacity = prop(profile, "capacity") or {}
        where = f"profiles[{i}]"
        profiles.append(
            AutoscaleProfile(
                name=str(profile.get("name") or where),
                minimum=_int(_required(capacity, "minimum"), f"{where}.capacity.minimum"),
                maximum=_int(_required(capacity, "maximum"), f"{where}.capacity.maximum"),
                default=_int(_required(capacity, "default"), f"{where}.capacity.default"),
                rules=[
                    _autoscale_rule(rule, f"{where}.rules[{j}]")
                    for j, rule in enumerate(_list(profile, "rules"))
                ],
                recurrence=prop(profile, "recurrence"),
                fixed_date=prop(profile, "fixedDate"),
            )
        )
    return AutoscaleSetting(
        id=_required(obj, "id"),
        name=_name(obj),
        location=str(obj.get("location") or ""),
        enabled=bool(prop(obj, "enabled", True)),
        target_resource_id=str(_required(obj, "targetResourceUri")),
        source=source,
        profiles=profiles,
    )


def _pool(pool: dict[str, Any]) -> BackendPool:
    members = [ref_id(c) for c in _list(pool, "backendIPConfigurations")]
    addresses = []
    network = ref_id(prop(pool, "virtualNetwork"))
    for addr in _list(pool, "loadBalancerBackendAddresses") + _list(pool, "backendAddresses"):
        nic_ipc = ref_id(prop(addr, "networkInterfaceIPConfiguration"))
        if nic_ipc:
            members.append(nic_ipc)
        elif prop(addr, "ipAddress") or prop(addr, "fqdn"):
            addresses.append(str(prop(addr, "ipAddress") or prop(addr, "fqdn")))
            network = network or ref_id(prop(addr, "virtualNetwork"))
    return BackendPool(
        id=_required(pool, "id"),
        name=_name(pool),
        member_ids=[m for m in dict.fromkeys(members) if m],
        addresses=addresses,
        virtual_network=id_key(network),
    )


def frontend_internal(frontend: Any) -> bool | None:
    """A frontend with a public IP is internet-facing; with only a private IP (or subnet) it is
    internal; None when the export says neither."""
    if ref_id(prop(frontend, "publicIPAddress")) or ref_id(prop(frontend, "publicIPPrefix")):
        return False
    if prop(frontend, "privateIPAddress") or ref_id(prop(frontend, "subnet")):
        return True
    return None


def _networks(*subnet_ids: str) -> list[str]:
    return sorted({virtual_network_of(s) for s in subnet_ids if s} - {""})


def parse_load_balancer(obj: dict[str, Any], source: str) -> LoadBalancer:
    probes = [
        Probe(
            id=_required(p, "id"),
            name=_name(p),
            protocol=str(_required(p, "protocol")),
            port=_int(_required(p, "port"), "probes.port"),
            path=str(prop(p, "requestPath") or ""),
            interval_s=_int(prop(p, "intervalInSeconds", 15), "probes.intervalInSeconds"),
            unhealthy_threshold=_int(prop(p, "numberOfProbes", 2), "probes.numberOfProbes"),
            healthy_threshold=_int(prop(p, "probeThreshold", 1), "probes.probeThreshold"),
        )
        for p in _list(obj, "probes")
    ]
    frontends = _by_id(_list(obj, "frontendIPConfigurations"))
    rules = []
    for r in _list(obj, "loadBalancingRules"):
        pool_id = ref_id(prop(r, "backendAddressPool"))
        if not pool_id:
            pools = _list(r, "backendAddressPools")
            pool_id = ref_id(pools[0]) if pools else ""
        frontend_id = ref_id(prop(r, "frontendIPConfiguration"))
        frontend = frontends.get(id_key(frontend_id))
        if frontend is None and len(frontends) == 1:
            frontend = next(iter(frontends.values()))  # one frontend: the rule can only use it
        rules.append(
            LoadBalancingRule(
                name=_name(r),
                protocol=str(_required(r, "protocol")),
                frontend_port=_int(_required(r, "frontendPort"), "loadBalancingRules.frontendPort"),
                backend_port=_int(prop(r, "backendPort", 0), "loadBalancingRules.backendPort"),
                pool_id=pool_id,
                probe_id=ref_id(prop(r, "probe")),
                frontend_internal=frontend_internal(frontend) if frontend is not None else None,
                listener=frontend_id.rsplit("/", 1)[-1],
            )
        )
    pools = [_pool(p) for p in _list(obj, "backendAddressPools")]
    subnets = [ref_id(prop(f, "subnet")) for f in frontends.values()]
    return LoadBalancer(
        id=_required(obj, "id"),
        name=_name(obj),
        location=str(obj.get("location") or ""),
        kind="loadBalancer",
        sku=str(get_ci(get_ci(obj, "sku") or {}, "name") or "Basic"),
        source=source,
        pools=pools,
        probes=probes,
        rules=rules,
        inbound_nat_rules=len(_list(obj, "inboundNatRules")) + len(_list(obj, "inboundNatPools")),
        virtual_networks=sorted(
            set(_networks(*subnets)) | {p.virtual_network for p in pools if p.virtual_network}
        ),
    )


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {id_key(i["id"]): i for i in items if isinstance(i, dict) and i.get("id")}


def _gateway_probes(obj: dict[str, Any]) -> list[Probe]:
    return [
        Probe(
            id=_required(p, "id"),
            name=_name(p),
            protocol=str(_required(p, "protocol")),
            port=_int(prop(p, "port", 0), "probes.port"),
            path=str(prop(p, "path") or "/"),
            interval_s=_int(prop(p, "interval", 30), "probes.interval"),
            timeout_s=_int(prop(p, "timeout", 30), "probes.timeout"),
            unhealthy_threshold=_int(prop(p, "unhealthyThreshold", 3), "probes.unhealthyThreshold"),
            status_codes=",".join(
                str(c) for c in path(p, "match", "statusCodes", default=[]) or []
            ),
        )
        for p in _list(obj, "probes")
    ]


def _routes(
    rule: dict[str, Any], path_maps: dict[str, dict[str, Any]], notes: list[str]
) -> list[tuple[list[str], str, str, str]]:
    """A routing rule's targets: (paths, pool id, HTTP settings id, name); the default first."""
    name = _name(rule)
    map_ref = ref_id(prop(rule, "urlPathMap"))
    if not map_ref:
        pool = ref_id(prop(rule, "backendAddressPool"))
        return [([], pool, ref_id(prop(rule, "backendHttpSettings")), name)]
    path_map = path_maps.get(id_key(map_ref))
    if path_map is None:
        notes.append(f"routing rule '{name}' points to a URL path map that does not exist")
        return []
    routes = []
    default_pool = ref_id(prop(path_map, "defaultBackendAddressPool"))
    if default_pool:
        settings = ref_id(prop(path_map, "defaultBackendHttpSettings"))
        routes.append(([], default_pool, settings, f"{name}/default"))
    else:
        notes.append(
            f"routing rule '{name}': the path map's default is a redirect: add it as an ALB "
            "listener default action"
        )
    for path_rule in _list(path_map, "pathRules"):
        paths = [str(p) for p in prop(path_rule, "paths", [])]
        pool = ref_id(prop(path_rule, "backendAddressPool"))
        if not pool:
            notes.append(
                f"routing rule '{name}': path rule '{_name(path_rule)}' ({', '.join(paths)}) is "
                "a redirect: add it as an ALB listener rule"
            )
            continue
        settings = ref_id(prop(path_rule, "backendHttpSettings"))
        routes.append((paths, pool, settings, f"{name}/{_name(path_rule)}"))
    return routes


def parse_application_gateway(obj: dict[str, Any], source: str) -> LoadBalancer:
    agw_id = _required(obj, "id")
    ports = {
        k: _int(prop(v, "port"), "frontendPorts.port")
        for k, v in _by_id(_list(obj, "frontendPorts")).items()
    }
    frontends = _by_id(_list(obj, "frontendIPConfigurations"))
    listeners = _by_id(_list(obj, "httpListeners"))
    settings = _by_id(_list(obj, "backendHttpSettingsCollection"))
    path_maps = _by_id(_list(obj, "urlPathMaps"))
    probes = _gateway_probes(obj)
    notes: list[str] = []
    rules = []
    for r in _list(obj, "requestRoutingRules"):
        listener = listeners.get(id_key(ref_id(prop(r, "httpListener"))))
        if listener is None:
            raise ResourceProblem(
                f"routing rule '{_name(r)}' points to a listener that does not exist"
            )
        if ref_id(prop(r, "redirectConfiguration")) and not ref_id(prop(r, "backendAddressPool")):
            notes.append(f"routing rule '{_name(r)}' is a redirect: add it as an ALB listener rule")
            continue
        frontend = frontends.get(id_key(ref_id(prop(listener, "frontendIPConfiguration"))))
        for paths, pool_id, settings_id, name in _routes(r, path_maps, notes):
            setting = settings.get(id_key(settings_id))
            if not pool_id or setting is None:
                notes.append(f"routing rule '{name}' has no backend pool/settings: not mapped")
                continue
            probe_id = ref_id(prop(setting, "probe"))
            backend_port = _int(prop(setting, "port", 80), "backendHttpSettings.port")
            if not probe_id:  # the gateway's default probe: GET / on the backend port every 30 s
                probe_id = f"{setting['id']}#default-probe"
                protocol = str(prop(setting, "protocol") or "Http")
                if not any(p.id == probe_id for p in probes):
                    probes.append(
                        Probe(
                            probe_id,
                            "default",
                            protocol,
                            backend_port,
                            "/",
                            30,
                            30,
                            3,
                            1,
                            "200-399",
                        )
                    )
            draining = prop(setting, "connectionDraining") or {}
            rules.append(
                LoadBalancingRule(
                    name=name,
                    protocol=str(prop(listener, "protocol") or "Http"),
                    frontend_port=ports.get(id_key(ref_id(prop(listener, "frontendPort"))), 0),
                    backend_port=backend_port,
                    pool_id=pool_id,
                    probe_id=probe_id,
                    has_certificate=bool(ref_id(prop(listener, "sslCertificate"))),
                    deregistration_delay_s=_int(
                        get_ci(draining, "drainTimeoutInSec") or 0, "drainTimeoutInSec"
                    )
                    if get_ci(draining, "enabled")
                    else None,
                    frontend_internal=frontend_internal(frontend) if frontend is not None else None,
                    path_patterns=paths,
                    listener=_name(listener),
                )
            )
    sku = get_ci(obj, "sku") or prop(obj, "sku") or {}
    subnets = [ref_id(prop(g, "subnet")) for g in _list(obj, "gatewayIPConfigurations")]
    return LoadBalancer(
        id=agw_id,
        name=_name(obj),
        location=str(obj.get("location") or ""),
        kind="applicationGateway",
        sku=str(get_ci(sku, "name") or ""),
        source=source,
        pools=[_pool(p) for p in _list(obj, "backendAddressPools")],
        probes=probes,
        rules=rules,
        notes=notes,
        virtual_networks=_networks(*subnets),
    )


def parse_network_interface(obj: dict[str, Any], source: str) -> NetworkInterface:
    ips, subnets = [], []
    for ipc in _list(obj, "ipConfigurations"):
        if prop(ipc, "privateIPAddress"):
            ips.append(str(prop(ipc, "privateIPAddress")))
        subnets.append(ref_id(prop(ipc, "subnet")))
    return NetworkInterface(
        id=_required(obj, "id"),
        vm_id=ref_id(prop(obj, "virtualMachine")),
        private_ips=ips,
        virtual_networks=_networks(*subnets),
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
        name=str(name), vcpus=_int(cores, "numberOfCores"), memory_gb=float(memory_mb) / 1024
    )


PARSERS: dict[str, tuple[str, Callable[[dict[str, Any], str], Any]]] = {
    VM_TYPE: ("virtual machine", parse_vm),
    VMSS_TYPE: ("scale set", parse_scale_set),
    AUTOSCALE_TYPE: ("autoscale setting", parse_autoscale),
    LB_TYPE: ("load balancer", parse_load_balancer),
    AGW_TYPE: ("application gateway", parse_application_gateway),
    NIC_TYPE: ("network interface", parse_network_interface),
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
