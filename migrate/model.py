"""The neutral inventory model: what the Azure estate *is*, independent of how it was read.

Source adapters (``migrate.sources``) build these dataclasses from SDK responses or export files;
nothing past the adapters sees an SDK object. ``Inventory.to_json`` / ``Inventory.from_json`` give
``inventory.json`` (camelCase keys).
"""

from __future__ import annotations

import dataclasses
import operator
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

INVENTORY_SCHEMA_VERSION = 1


def id_key(resource_id: str) -> str:
    """Azure resource ids are case-insensitive (autoscale and network APIs differ in case)."""
    return resource_id.lower()


def subscription_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "subscriptions":
            return parts[i + 1]
    return ""


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1]
    return ""


@dataclass(slots=True)
class VmSize:
    """An Azure VM size as the SKU catalog describes it."""

    name: str
    vcpus: int
    memory_gb: float
    architecture: str = "x64"  # x64 | Arm64
    gpus: float = 0
    gpu_model: str = ""
    family: str = ""
    # Where the figures come from: subscription (resource SKUs / list-sizes / list-skus),
    # catalog (the embedded azure_vm_sizes.json) or name (derived from the size name's grammar).
    origin: str = "catalog"


@dataclass(slots=True)
class Disk:
    """A managed disk of a VM or scale-set model (the OS disk, or a data disk at ``lun``)."""

    size_gb: int = 0  # 0: Azure does not say (an OS disk as large as its image)
    storage_type: str = ""  # Premium_LRS | StandardSSD_LRS | Standard_LRS | UltraSSD_LRS | ...
    caching: str = ""  # None | ReadOnly | ReadWrite (host caching; EBS has none)
    lun: int = 0
    iops: int = 0  # provisioned IOPS (Ultra Disk, Premium SSD v2); 0: not said
    mbps: int = 0  # provisioned throughput in MB/s (Ultra Disk, Premium SSD v2); 0: not said


@dataclass(slots=True)
class VirtualMachine:
    id: str
    name: str
    location: str
    vm_size: str
    source: str
    zones: list[str] = field(default_factory=list)
    os_type: str = ""  # Linux | Windows | "" (unknown)
    image: str = ""
    priority: str = "Regular"  # Regular | Spot | Low
    availability_set_id: str = ""
    scale_set_id: str = ""  # set for VMs of a Flexible scale set
    nic_ids: list[str] = field(default_factory=list)
    private_ips: list[str] = field(default_factory=list)
    power_state: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # Virtual network ids of the VM's NICs, when the NICs were read (`az network nic list`,
    # or listed live): IP-based pool membership is only trusted within these networks.
    virtual_networks: list[str] = field(default_factory=list)
    os_disk: Disk | None = None
    data_disks: list[Disk] = field(default_factory=list)


@dataclass(slots=True)
class NetworkInterface:
    """A NIC, read only to learn a VM's private IPs and virtual networks (folded into the VM)."""

    id: str
    vm_id: str
    private_ips: list[str] = field(default_factory=list)
    virtual_networks: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PublicIpAddress:
    """A public IP address, kept so it is accounted for: ``attached_to`` names the NIC ip
    configuration, balancer frontend or NAT gateway that uses it ('' when nothing does)."""

    id: str
    attached_to: str
    source: str


def virtual_network_of(subnet_id: str) -> str:
    """``.../virtualNetworks/<name>/subnets/<s>`` -> the virtual network id (lower case)."""
    parts = subnet_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "virtualnetworks":
            return id_key("/".join(parts[: i + 2]))
    return ""


@dataclass(slots=True)
class ScaleSet:
    id: str
    name: str
    location: str
    vm_size: str
    capacity: int
    source: str
    zones: list[str] = field(default_factory=list)
    os_type: str = ""
    image: str = ""
    priority: str = "Regular"
    orchestration_mode: str = "Uniform"
    lb_pool_ids: list[str] = field(default_factory=list)
    agw_pool_ids: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    # Instance mix (sku.name "Mix"): the listed sizes and Azure's allocation strategy.
    vm_sizes: list[str] = field(default_factory=list)
    allocation_strategy: str = ""
    # Inbound NAT pools the instances are reached through (per-instance port forwarding).
    lb_nat_pool_ids: list[str] = field(default_factory=list)
    # Automatic zone placement (placement.zonePlacementPolicy "Auto"): Azure picks the zones.
    zone_placement_policy: str = ""
    include_zones: list[str] = field(default_factory=list)
    exclude_zones: list[str] = field(default_factory=list)
    max_zone_count: int = 0
    os_disk: Disk | None = None
    data_disks: list[Disk] = field(default_factory=list)


@dataclass(slots=True)
class AutoscaleRule:
    metric_name: str
    metric_resource_id: str
    operator: str  # GreaterThan | GreaterThanOrEqual | LessThan | LessThanOrEqual | ...
    threshold: float
    statistic: str  # Average | Min | Max | Sum
    time_aggregation: str
    time_grain_s: int
    time_window_s: int
    direction: str  # Increase | Decrease | None
    change_type: str  # ChangeCount | PercentChangeCount | ExactCount | ServiceAllowedNextValue
    change_value: int
    cooldown_s: int


@dataclass(slots=True)
class AutoscaleProfile:
    name: str
    minimum: int
    maximum: int
    default: int
    rules: list[AutoscaleRule] = field(default_factory=list)
    recurrence: dict[str, Any] | None = None
    fixed_date: dict[str, Any] | None = None


@dataclass(slots=True)
class AutoscaleSetting:
    id: str
    name: str
    location: str
    enabled: bool
    target_resource_id: str
    source: str
    profiles: list[AutoscaleProfile] = field(default_factory=list)


@dataclass(slots=True)
class BackendPool:
    id: str
    name: str
    # NIC or scale-set ip-configuration ids, as Azure lists them for the pool.
    member_ids: list[str] = field(default_factory=list)
    # Backend addresses given as IPs or FQDNs instead of ip configurations.
    addresses: list[str] = field(default_factory=list)
    # The virtual network of IP-address members (Standard LB pools name it), lower case.
    virtual_network: str = ""
    # Gateway-SKU pools: their VXLAN tunnel interfaces ("Internal VXLAN 15000 (identifier 900)").
    tunnel_interfaces: list[str] = field(default_factory=list)
    # Global-tier pools: the regional load balancers' frontend ip configuration ids.
    frontend_members: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Probe:
    id: str
    name: str
    protocol: str  # Http | Https | Tcp
    port: int
    path: str = ""
    interval_s: int = 15
    timeout_s: int = 0  # 0: Azure does not say (load balancer probes)
    unhealthy_threshold: int = 2
    healthy_threshold: int = 1
    status_codes: str = ""  # application-gateway probes: e.g. "200-399"; "" = Azure's default


@dataclass(slots=True)
class LoadBalancingRule:
    name: str
    protocol: str  # Tcp | Udp | All | Http | Https
    frontend_port: int
    backend_port: int
    pool_id: str
    probe_id: str = ""
    has_certificate: bool = False
    deregistration_delay_s: int | None = None
    # True: the frontend has only a private IP; False: public; None: the export does not say.
    frontend_internal: bool | None = None
    # Application-gateway path rules: the URL paths this rule serves ([] = the listener default).
    path_patterns: list[str] = field(default_factory=list)
    listener: str = ""  # the gateway listener (or LB frontend) the rule belongs to
    # Application gateway: the rewrite rule set's actions and the Entra ID JWT validation
    # (name, tenantId, clientId, unAuthorizedRequestAction, audiences) of the routing rule.
    rewrites: list[Rewrite] = field(default_factory=list)
    jwt_validation: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Rewrite:
    """One action of an application-gateway rewrite rule."""

    rule_set: str
    rule: str
    kind: str  # requestHeader | responseHeader | urlPath | urlQuery | reroute
    target: str  # the header name, or the new path / query string
    value: str = ""
    conditional: bool = False


@dataclass(slots=True)
class NatPool:
    """An inbound NAT pool: a frontend port range forwarded one port per instance."""

    id: str
    name: str
    protocol: str
    frontend_port_start: int
    frontend_port_end: int
    backend_port: int


@dataclass(slots=True)
class OutboundRule:
    """An outbound (SNAT) rule: the pool's instances reach out through the frontends."""

    name: str
    pool_id: str
    protocol: str = "All"
    allocated_ports: int = 0  # 0: Azure's default allocation
    frontends: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LoadBalancer:
    """An Azure load balancer or application gateway, reduced to what a target group needs.

    Application gateways are normalised here too: their listeners + routing rules + HTTP settings
    become ``rules``; their custom probes become ``probes``.
    """

    id: str
    name: str
    location: str
    kind: str  # loadBalancer | applicationGateway
    sku: str
    source: str
    pools: list[BackendPool] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    rules: list[LoadBalancingRule] = field(default_factory=list)
    inbound_nat_rules: int = 0
    notes: list[str] = field(default_factory=list)
    # Virtual networks the balancer lives in or reaches (gateway subnet, private frontends).
    virtual_networks: list[str] = field(default_factory=list)
    tier: str = ""  # sku.tier: Regional | Global (cross-region) | "" (not said)
    # Frontends chained to a gateway load balancer: the gateway frontend ids they name.
    chained_gateways: list[str] = field(default_factory=list)
    nat_pools: list[NatPool] = field(default_factory=list)
    outbound_rules: list[OutboundRule] = field(default_factory=list)


@dataclass(slots=True)
class SubscriptionResult:
    id: str
    status: str = "ok"  # ok | failed
    error: str = ""


@dataclass(slots=True)
class OtherResource:
    """A resource found in an export that Cutover does not migrate (kept so nothing is lost)."""

    id: str
    type: str
    source: str


def _pickled_by_fields(cls: type) -> type:
    """Pickle a slots dataclass as a call of its constructor with its fields, in order. The
    summaries of an inventory's metrics cross from the summarising processes (60,000 for
    10,000 VMs): this takes half the time of the generated ``__getstate__``/``__setstate__``."""
    values = operator.attrgetter(*cls.__slots__)
    cls.__reduce__ = lambda self: (cls, values(self))
    return cls


@_pickled_by_fields
@dataclass(slots=True)
class MetricSummary:
    """One Azure Monitor metric of one resource over the period, summarised (no raw points).

    The percentiles are over the hourly ``aggregation`` values (Maximum where the export has it:
    the closest to Azure Migrate's 10-minute peaks). ``daily`` holds each day's maximum of them
    (None: no point that day), for the report's charts.
    """

    name: str
    unit: str
    aggregation: str
    points: int
    percentiles: dict[str, float] = field(default_factory=dict)  # p1 p5 p50 p90 p95 p99
    maximum: float = 0.0
    minimum: float = 0.0
    mean: float = 0.0
    daily: list[float | None] = field(default_factory=list)


@_pickled_by_fields
@dataclass(slots=True)
class Utilization:
    """Measured use of one VM or scale set: hourly points expected over the period, and the
    summary of each metric read (``migrate.sources.metrics``)."""

    resource_id: str
    source: str
    start: str
    end: str
    points_expected: int
    interval: str = "PT1H"
    metrics: list[MetricSummary] = field(default_factory=list)


@dataclass
class Inventory:
    vms: list[VirtualMachine] = field(default_factory=list)
    scale_sets: list[ScaleSet] = field(default_factory=list)
    autoscale: list[AutoscaleSetting] = field(default_factory=list)
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    vm_sizes: dict[str, VmSize] = field(default_factory=dict)
    subscriptions: list[SubscriptionResult] = field(default_factory=list)
    other_resources: list[OtherResource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # NICs folded into their VMs, and public IP addresses: kept so the plan accounts for each.
    network_interfaces: list[NetworkInterface] = field(default_factory=list)
    public_ips: list[PublicIpAddress] = field(default_factory=list)
    # Azure Monitor platform metrics per VM / scale set (`inventory --metrics`, or exports).
    utilization: list[Utilization] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body = _to_json(self)
        return {"schemaVersion": INVENTORY_SCHEMA_VERSION, **body}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inventory:
        data = {k: v for k, v in data.items() if k != "schemaVersion"}
        return _from_json(cls, data)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Per dataclass: (camelCase key, field name) of each field, in order.
_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}
_PLAIN = (str, int, float, bool, type(None))


def _to_json(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    keys = _KEYS.get(type(value))
    if keys is None:
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            return value
        keys = _KEYS[type(value)] = tuple(
            (_camel(f.name), f.name) for f in dataclasses.fields(value)
        )
    return {key: _to_json(getattr(value, name)) for key, name in keys}


def _identity(value: Any) -> Any:
    return value


_Convert = typing.Callable[[Any], Any]
# One converter per type, built on first use: the field hints are read once per dataclass, and
# each JSON key's field once per dataclass and key (a 100,000-VM inventory has 2 million
# objects; reading the hints and converting each key's case per object took most of its load).
_CONVERTERS: dict[Any, _Convert] = {}


def _from_json(tp: Any, value: Any) -> Any:
    return _converter(tp)(value)


def _converter(tp: Any) -> _Convert:
    found = _CONVERTERS.get(tp)
    if found is None:
        found = _CONVERTERS[tp] = _build(tp)
    return found


def _build(tp: Any) -> _Convert:
    """The converter of JSON to ``tp``: a dataclass from its camelCase keys (keys it has no
    field for are left out), lists and dicts item by item, None where Optional, any other
    value as it is (the schemas checked the types before)."""
    if dataclasses.is_dataclass(tp):
        return _dataclass_converter(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        item = _converter(args[0])
        return list if item is _identity else lambda value: [item(v) for v in value]
    if origin is dict:
        item = _converter(args[1])
        if item is _identity:
            return lambda value: dict(value.items())
        return lambda value: {k: item(v) for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        inner = _converter(next(a for a in args if a is not type(None)))
        if inner is _identity:
            return _identity
        return lambda value: None if value is None else inner(value)
    return _identity


def _dataclass_converter(tp: Any) -> _Convert:
    hints = typing.get_type_hints(tp)
    # JSON key -> (field name, its converter), or None for a key without a field.
    keys: dict[str, tuple[str, _Convert] | None] = {}

    def field_of(key: str) -> tuple[str, _Convert] | None:
        name = _snake(key)
        keys[key] = found = (name, _converter(hints[name])) if name in hints else None
        return found

    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {tp.__name__}, got {type(value).__name__}")
        kwargs = {}
        for key, item in value.items():
            found = keys[key] if key in keys else field_of(key)
            if found is not None:
                kwargs[found[0]] = found[1](item)
        return tp(**kwargs)

    return convert
