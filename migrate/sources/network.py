"""Network resources as ARM JSON -> neutral model: load balancers, application gateways, NICs.

A balancer keeps what a target group needs: pools (with their virtual network), probes, rules
(with the frontend's public/private nature, the gateway listener and URL path rules) and the
virtual networks it lives in.
"""

from __future__ import annotations

from typing import Any

from migrate.model import (
    BackendPool,
    LoadBalancer,
    LoadBalancingRule,
    NatPool,
    NetworkInterface,
    OutboundRule,
    Probe,
    PublicIpAddress,
    Rewrite,
    id_key,
    virtual_network_of,
)
from migrate.sources.armjson import (
    ResourceProblem,
    as_int,
    get_ci,
    list_prop,
    name_of,
    path,
    prop,
    ref_id,
    required,
)


def _pool(pool: dict[str, Any]) -> BackendPool:
    members = [ref_id(c) for c in list_prop(pool, "backendIPConfigurations")]
    addresses = []
    frontends = []
    network = ref_id(prop(pool, "virtualNetwork"))
    for addr in list_prop(pool, "loadBalancerBackendAddresses") + list_prop(
        pool, "backendAddresses"
    ):
        nic_ipc = ref_id(prop(addr, "networkInterfaceIPConfiguration"))
        regional = ref_id(prop(addr, "loadBalancerFrontendIPConfiguration"))
        if nic_ipc:
            members.append(nic_ipc)
        elif regional:  # a Global-tier pool names regional load balancers' frontends
            frontends.append(regional)
        elif prop(addr, "ipAddress") or prop(addr, "fqdn"):
            addresses.append(str(prop(addr, "ipAddress") or prop(addr, "fqdn")))
            network = network or ref_id(prop(addr, "virtualNetwork"))
    return BackendPool(
        id=required(pool, "id"),
        name=name_of(pool),
        member_ids=[m for m in dict.fromkeys(members) if m],
        addresses=addresses,
        virtual_network=id_key(network),
        tunnel_interfaces=[_tunnel(t) for t in list_prop(pool, "tunnelInterfaces")],
        frontend_members=frontends,
    )


def _tunnel(tunnel: Any) -> str:
    """A gateway pool's tunnel interface as one phrase: 'Internal VXLAN 15000 (identifier 900)'."""
    return (
        f"{prop(tunnel, 'type') or '?'} {prop(tunnel, 'protocol') or '?'} "
        f"{prop(tunnel, 'port') or '?'} (identifier {prop(tunnel, 'identifier') or '?'})"
    )


def _nat_pool(pool: dict[str, Any]) -> NatPool:
    return NatPool(
        id=required(pool, "id"),
        name=name_of(pool),
        protocol=str(prop(pool, "protocol") or "Tcp"),
        frontend_port_start=as_int(
            prop(pool, "frontendPortRangeStart", 0), "inboundNatPools.frontendPortRangeStart"
        ),
        frontend_port_end=as_int(
            prop(pool, "frontendPortRangeEnd", 0), "inboundNatPools.frontendPortRangeEnd"
        ),
        backend_port=as_int(prop(pool, "backendPort", 0), "inboundNatPools.backendPort"),
    )


def _outbound_rule(rule: dict[str, Any]) -> OutboundRule:
    return OutboundRule(
        name=name_of(rule),
        pool_id=ref_id(prop(rule, "backendAddressPool")),
        protocol=str(prop(rule, "protocol") or "All"),
        allocated_ports=as_int(
            prop(rule, "allocatedOutboundPorts", 0), "outboundRules.allocatedOutboundPorts"
        ),
        frontends=[ref_id(f) for f in list_prop(rule, "frontendIPConfigurations") if ref_id(f)],
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
            id=required(p, "id"),
            name=name_of(p),
            protocol=str(required(p, "protocol")),
            port=as_int(required(p, "port"), "probes.port"),
            path=str(prop(p, "requestPath") or ""),
            interval_s=as_int(prop(p, "intervalInSeconds", 15), "probes.intervalInSeconds"),
            unhealthy_threshold=as_int(prop(p, "numberOfProbes", 2), "probes.numberOfProbes"),
            healthy_threshold=as_int(prop(p, "probeThreshold", 1), "probes.probeThreshold"),
        )
        for p in list_prop(obj, "probes")
    ]
    frontends = _by_id(list_prop(obj, "frontendIPConfigurations"))
    rules = []
    for r in list_prop(obj, "loadBalancingRules"):
        pool_id = ref_id(prop(r, "backendAddressPool"))
        if not pool_id:
            pools = list_prop(r, "backendAddressPools")
            pool_id = ref_id(pools[0]) if pools else ""
        frontend_id = ref_id(prop(r, "frontendIPConfiguration"))
        frontend = frontends.get(id_key(frontend_id))
        if frontend is None and len(frontends) == 1:
            frontend = next(iter(frontends.values()))  # one frontend: the rule can only use it
        rules.append(
            LoadBalancingRule(
                name=name_of(r),
                protocol=str(required(r, "protocol")),
                frontend_port=as_int(
                    required(r, "frontendPort"), "loadBalancingRules.frontendPort"
                ),
                backend_port=as_int(prop(r, "backendPort", 0), "loadBalancingRules.backendPort"),
                pool_id=pool_id,
                probe_id=ref_id(prop(r, "probe")),
                frontend_internal=frontend_internal(frontend) if frontend is not None else None,
                listener=frontend_id.rsplit("/", 1)[-1],
            )
        )
    pools = [_pool(p) for p in list_prop(obj, "backendAddressPools")]
    subnets = [ref_id(prop(f, "subnet")) for f in frontends.values()]
    sku = get_ci(obj, "sku") or {}
    return LoadBalancer(
        id=required(obj, "id"),
        name=name_of(obj),
        location=str(obj.get("location") or ""),
        kind="loadBalancer",
        sku=str(get_ci(sku, "name") or "Basic"),
        tier=str(get_ci(sku, "tier") or ""),
        chained_gateways=[
            ref_id(prop(f, "gatewayLoadBalancer"))
            for f in frontends.values()
            if ref_id(prop(f, "gatewayLoadBalancer"))
        ],
        nat_pools=[_nat_pool(p) for p in list_prop(obj, "inboundNatPools")],
        outbound_rules=[_outbound_rule(r) for r in list_prop(obj, "outboundRules")],
        source=source,
        pools=pools,
        probes=probes,
        rules=rules,
        inbound_nat_rules=len(list_prop(obj, "inboundNatRules"))
        + len(list_prop(obj, "inboundNatPools")),
        virtual_networks=sorted(
            set(_networks(*subnets)) | {p.virtual_network for p in pools if p.virtual_network}
        ),
    )


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {id_key(i["id"]): i for i in items if isinstance(i, dict) and i.get("id")}


def _gateway_probes(obj: dict[str, Any]) -> list[Probe]:
    return [
        Probe(
            id=required(p, "id"),
            name=name_of(p),
            protocol=str(required(p, "protocol")),
            port=as_int(prop(p, "port", 0), "probes.port"),
            path=str(prop(p, "path") or "/"),
            interval_s=as_int(prop(p, "interval", 30), "probes.interval"),
            timeout_s=as_int(prop(p, "timeout", 30), "probes.timeout"),
            unhealthy_threshold=as_int(
                prop(p, "unhealthyThreshold", 3), "probes.unhealthyThreshold"
            ),
            status_codes=",".join(
                str(c) for c in path(p, "match", "statusCodes", default=[]) or []
            ),
        )
        for p in list_prop(obj, "probes")
    ]


def _rewrites(rule_set: dict[str, Any]) -> list[Rewrite]:
    """Every action of a rewrite rule set: header sets (and removals), URL path/query, reroute."""
    out = []
    set_name = name_of(rule_set)
    for rule in list_prop(rule_set, "rewriteRules"):
        name, conditional = name_of(rule), bool(list_prop(rule, "conditions"))
        actions = prop(rule, "actionSet") or {}
        for kind, key in (
            ("requestHeader", "requestHeaderConfigurations"),
            ("responseHeader", "responseHeaderConfigurations"),
        ):
            for header in list_prop(actions, key):
                out.append(
                    Rewrite(
                        set_name,
                        name,
                        kind,
                        str(prop(header, "headerName") or ""),
                        str(prop(header, "headerValue") or ""),
                        conditional,
                    )
                )
        url = prop(actions, "urlConfiguration") or {}
        for kind, key in (("urlPath", "modifiedPath"), ("urlQuery", "modifiedQueryString")):
            if prop(url, key) is not None:
                out.append(Rewrite(set_name, name, kind, str(prop(url, key)), "", conditional))
        if prop(url, "reroute"):
            out.append(Rewrite(set_name, name, "reroute", "", "", conditional))
    return out


def _jwt(config: dict[str, Any] | None) -> dict[str, str]:
    if config is None:
        return {}
    out = {"name": name_of(config)}
    for key in ("tenantId", "clientId", "unAuthorizedRequestAction"):
        out[key] = str(prop(config, key) or "")
    audiences = prop(config, "audiences") or []
    out["audiences"] = ", ".join(str(a) for a in audiences) if isinstance(audiences, list) else ""
    return out


def _routes(
    rule: dict[str, Any], path_maps: dict[str, dict[str, Any]], notes: list[str]
) -> list[tuple[list[str], str, str, str, str]]:
    """A routing rule's targets: (paths, pool id, HTTP settings id, name, rewrite rule set id);
    the default first."""
    name = name_of(rule)
    rewrite = ref_id(prop(rule, "rewriteRuleSet"))
    map_ref = ref_id(prop(rule, "urlPathMap"))
    if not map_ref:
        pool = ref_id(prop(rule, "backendAddressPool"))
        return [([], pool, ref_id(prop(rule, "backendHttpSettings")), name, rewrite)]
    path_map = path_maps.get(id_key(map_ref))
    if path_map is None:
        notes.append(f"routing rule '{name}' points to a URL path map that does not exist")
        return []
    routes = []
    default_pool = ref_id(prop(path_map, "defaultBackendAddressPool"))
    if default_pool:
        settings = ref_id(prop(path_map, "defaultBackendHttpSettings"))
        default_rewrite = ref_id(prop(path_map, "defaultRewriteRuleSet")) or rewrite
        routes.append(([], default_pool, settings, f"{name}/default", default_rewrite))
    else:
        notes.append(
            f"routing rule '{name}': the path map's default is a redirect: add it as an ALB "
            "listener default action"
        )
    for path_rule in list_prop(path_map, "pathRules"):
        paths = [str(p) for p in prop(path_rule, "paths", [])]
        pool = ref_id(prop(path_rule, "backendAddressPool"))
        if not pool:
            notes.append(
                f"routing rule '{name}': path rule '{name_of(path_rule)}' ({', '.join(paths)}) is "
                "a redirect: add it as an ALB listener rule"
            )
            continue
        settings = ref_id(prop(path_rule, "backendHttpSettings"))
        path_rewrite = ref_id(prop(path_rule, "rewriteRuleSet")) or rewrite
        routes.append((paths, pool, settings, f"{name}/{name_of(path_rule)}", path_rewrite))
    return routes


def parse_application_gateway(obj: dict[str, Any], source: str) -> LoadBalancer:
    agw_id = required(obj, "id")
    ports = {
        k: as_int(prop(v, "port"), "frontendPorts.port")
        for k, v in _by_id(list_prop(obj, "frontendPorts")).items()
    }
    frontends = _by_id(list_prop(obj, "frontendIPConfigurations"))
    listeners = _by_id(list_prop(obj, "httpListeners"))
    settings = _by_id(list_prop(obj, "backendHttpSettingsCollection"))
    path_maps = _by_id(list_prop(obj, "urlPathMaps"))
    rewrite_sets = {k: _rewrites(v) for k, v in _by_id(list_prop(obj, "rewriteRuleSets")).items()}
    jwt_configs = _by_id(list_prop(obj, "entraJWTValidationConfigs"))
    probes = _gateway_probes(obj)
    notes: list[str] = []
    rules = []
    for r in list_prop(obj, "requestRoutingRules"):
        listener = listeners.get(id_key(ref_id(prop(r, "httpListener"))))
        if listener is None:
            raise ResourceProblem(
                f"routing rule '{name_of(r)}' points to a listener that does not exist"
            )
        if ref_id(prop(r, "redirectConfiguration")) and not ref_id(prop(r, "backendAddressPool")):
            notes.append(
                f"routing rule '{name_of(r)}' is a redirect: add it as an ALB listener rule"
            )
            continue
        frontend = frontends.get(id_key(ref_id(prop(listener, "frontendIPConfiguration"))))
        jwt_ref = ref_id(prop(r, "entraJWTValidationConfig"))
        jwt = _jwt(jwt_configs.get(id_key(jwt_ref))) if jwt_ref else {}
        if jwt_ref and not jwt:
            jwt = {"name": jwt_ref.rsplit("/", 1)[-1], "tenantId": "", "clientId": ""}
        for paths, pool_id, settings_id, name, rewrite_id in _routes(r, path_maps, notes):
            if rewrite_id and id_key(rewrite_id) not in rewrite_sets:
                notes.append(
                    f"routing rule '{name}' points to a rewrite rule set that does not exist "
                    f"({rewrite_id.rsplit('/', 1)[-1]}): review its rewrites by hand"
                )
            setting = settings.get(id_key(settings_id))
            if not pool_id or setting is None:
                notes.append(f"routing rule '{name}' has no backend pool/settings: not mapped")
                continue
            probe_id = ref_id(prop(setting, "probe"))
            backend_port = as_int(prop(setting, "port", 80), "backendHttpSettings.port")
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
                    deregistration_delay_s=as_int(
                        get_ci(draining, "drainTimeoutInSec") or 0, "drainTimeoutInSec"
                    )
                    if get_ci(draining, "enabled")
                    else None,
                    frontend_internal=frontend_internal(frontend) if frontend is not None else None,
                    path_patterns=paths,
                    listener=name_of(listener),
                    rewrites=list(rewrite_sets.get(id_key(rewrite_id), [])),
                    jwt_validation=dict(jwt),
                )
            )
    sku = get_ci(obj, "sku") or prop(obj, "sku") or {}
    subnets = [ref_id(prop(g, "subnet")) for g in list_prop(obj, "gatewayIPConfigurations")]
    return LoadBalancer(
        id=agw_id,
        name=name_of(obj),
        location=str(obj.get("location") or ""),
        kind="applicationGateway",
        sku=str(get_ci(sku, "name") or ""),
        source=source,
        pools=[_pool(p) for p in list_prop(obj, "backendAddressPools")],
        probes=probes,
        rules=rules,
        notes=notes,
        virtual_networks=_networks(*subnets),
    )


def parse_public_ip(obj: dict[str, Any], source: str) -> PublicIpAddress:
    """A public IP address and what uses it: an ip configuration (NIC, balancer frontend,
    gateway) or a NAT gateway."""
    return PublicIpAddress(
        id=required(obj, "id"),
        attached_to=ref_id(prop(obj, "ipConfiguration")) or ref_id(prop(obj, "natGateway")),
        source=source,
    )


def parse_network_interface(obj: dict[str, Any], source: str) -> NetworkInterface:
    ips, subnets = [], []
    for ipc in list_prop(obj, "ipConfigurations"):
        if prop(ipc, "privateIPAddress"):
            ips.append(str(prop(ipc, "privateIPAddress")))
        subnets.append(ref_id(prop(ipc, "subnet")))
    return NetworkInterface(
        id=required(obj, "id"),
        vm_id=ref_id(prop(obj, "virtualMachine")),
        private_ips=ips,
        virtual_networks=_networks(*subnets),
    )
