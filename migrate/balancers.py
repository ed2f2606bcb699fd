"""Azure load balancer / application gateway -> the AWS load balancer of one workload.

Like for like: an Azure Load Balancer (layer 4) becomes an NLB, an Application Gateway (layer 7)
an ALB. ``PlanOptions.prefer_alb`` upgrades a layer-4 balancer whose rules are all TCP with an
HTTP(S) probe on the rule's backend port. The choice and its reason, and the scheme (internal
when the frontend has only a private IP) and its reason, are written into the plan. Each rule
keeps its backend port as the listener's ``targetPort``; a path-based gateway's path rules that
reach the same fleet become ALB listener rules. An HA-ports rule is a warning, never a
``port: 0`` listener.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from migrate import catalog
from migrate.model import (
    LoadBalancer,
    LoadBalancingRule,
    NatPool,
    OutboundRule,
    Probe,
    Rewrite,
    id_key,
)

_HTTP = ("http", "https")


@dataclass(frozen=True)
class Frontend:
    """The balancer a workload maps to, with the rules that reach the workload's pools."""

    lb: LoadBalancer
    rules: list[LoadBalancingRule]
    other_rules: list[LoadBalancingRule]  # rules of the same balancer that reach other pools
    probes: dict[str, Probe]


def rank(lb: LoadBalancer, rules: list[LoadBalancingRule]) -> int:
    """Which of several balancers in front of one workload is mapped: a gateway, then a
    balancer with HTTP(S) probes, then the rest."""
    if lb.kind == "applicationGateway":
        return 0
    probes = {id_key(p.id): p for p in lb.probes}
    http = any(
        (probes.get(id_key(r.probe_id)) or Probe("", "", "Tcp", 0)).protocol.lower() in _HTTP
        for r in rules
    )
    return 1 if http else 2


def _probe_of(frontend: Frontend, rule: LoadBalancingRule) -> Probe | None:
    return frontend.probes.get(id_key(rule.probe_id))


def _l4_http_eligible(frontend: Frontend) -> str:
    """'' when every rule is TCP with an HTTP(S) probe on its backend port, else why not."""
    for rule in frontend.rules:
        probe = _probe_of(frontend, rule)
        if rule.protocol.lower() != "tcp":
            return f"rule {rule.name} is {rule.protocol}, not TCP"
        if probe is None or probe.protocol.lower() not in _HTTP:
            return f"rule {rule.name} has no HTTP(S) probe"
        if probe.port != rule.backend_port:
            return (
                f"rule {rule.name} (TCP {rule.backend_port}) is probed on port {probe.port}, "
                "not its backend port"
            )
    return ""


def choose_type(frontend: Frontend, prefer_alb: bool) -> tuple[str, str]:
    """('application' | 'network', the reason)."""
    if frontend.lb.kind == "applicationGateway":
        return "application", "Application Gateway is a layer-7 (HTTP) balancer: ALB, like for like"
    like = "Azure Load Balancer is a layer-4 balancer: NLB, like for like"
    not_eligible = _l4_http_eligible(frontend)
    if prefer_alb and not not_eligible:
        return (
            "application",
            "--prefer-alb: every rule is TCP with an HTTP(S) probe on its backend port, so an "
            "ALB serves it",
        )
    if prefer_alb:
        return "network", f"{like}; --prefer-alb not applied: {not_eligible}"
    if not not_eligible:
        return "network", f"{like} (every rule is HTTP(S)-probed: `plan --prefer-alb` gives an ALB)"
    return "network", like


def choose_scheme(frontend: Frontend, warnings: list[str]) -> tuple[str, str]:
    """('internal' | 'internet-facing', the reason). Unknown or mixed: internal, with a warning
    (exposing a private service is the worse mistake)."""
    kinds = {r.frontend_internal for r in frontend.rules}
    name = frontend.lb.name
    if kinds == {True}:
        return "internal", "the Azure frontend has only a private IP address"
    if kinds == {False}:
        return "internet-facing", "the Azure frontend has a public IP address"
    if True in kinds and False in kinds:
        warnings.append(
            f"{name}: the workload is reached through both public and private frontends: "
            "planned internal; build an internet-facing balancer by hand if it must stay public"
        )
        return "internal", "public and private frontends: internal, the safer of the two"
    warnings.append(
        f"{name}: the export does not say whether the frontend is public or private: planned "
        "internal; set loadBalancer.internal to false if it is internet-facing"
    )
    return "internal", "the frontend's public/private nature is not in the export: internal"


def _listener_protocol(rule: LoadBalancingRule, lb_type: str) -> str:
    proto = rule.protocol.lower()
    if lb_type == "application":
        https = proto == "https" or rule.frontend_port == 443 or rule.has_certificate
        return "HTTPS" if https else "HTTP"
    return proto.upper()


def listeners(frontend: Frontend, lb_type: str, warnings: list[str]) -> list[dict[str, Any]]:
    """One listener per frontend port, forwarding to the rule's backend port; path rules of a
    gateway listener that reach this fleet become its ALB rules."""
    lb = frontend.lb
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for rule in frontend.rules:
        proto = rule.protocol.lower()
        if proto == "all" or rule.frontend_port == 0:
            warnings.append(
                f"{lb.name}: rule {rule.name} is an HA-ports rule (every port and protocol): an "
                "NLB listener needs a port; add a TCP listener for each port the application "
                "serves (none was planned for it)"
            )
            continue
        if lb_type == "application" and proto == "udp":
            warnings.append(f"{lb.name}: UDP rule {rule.name} cannot go through an ALB: not mapped")
            continue
        if lb_type == "network" and proto not in ("tcp", "udp"):
            warnings.append(f"{lb.name}: rule {rule.name} (protocol {rule.protocol}) not mapped")
            continue
        protocol = _listener_protocol(rule, lb_type)
        key = (protocol, rule.frontend_port)
        listener = out.get(key)
        if rule.path_patterns:
            if listener is None:
                listener = out[key] = {"protocol": protocol, "port": rule.frontend_port}
            listener.setdefault("rules", []).append(
                {"pathPatterns": list(rule.path_patterns), "targetPort": rule.backend_port}
            )
            continue
        if listener is None:
            out[key] = {
                "protocol": protocol,
                "port": rule.frontend_port,
                "targetPort": rule.backend_port,
            }
        elif "targetPort" not in listener:
            listener["targetPort"] = rule.backend_port
        elif listener["targetPort"] != rule.backend_port:
            kept = listener["targetPort"]
            warnings.append(
                f"{lb.name}: rules on {protocol} {rule.frontend_port} forward to ports {kept} "
                f"and {rule.backend_port}: planned {kept}"
            )
    for (protocol, port), listener in out.items():
        if "targetPort" not in listener:
            # Only path rules reach this fleet: the listener's default goes elsewhere in Azure.
            listener["targetPort"] = listener["rules"][0]["targetPort"]
            warnings.append(
                f"{lb.name}: the default of the {protocol} {port} listener goes to another pool "
                "in Azure: here it forwards to this fleet; add a fixed-response default by hand "
                "if other paths must not reach it"
            )
    for rule in frontend.other_rules:
        if rule.path_patterns:
            warnings.append(
                f"{lb.name}: path rule {rule.name} ({', '.join(rule.path_patterns)}) goes to "
                "another pool: not part of this workload's listener rules"
            )
    return list(out.values())


def _absolute_path(probe: Probe, warnings: list[str], lb_name: str) -> str:
    """The probe's path as an ALB/NLB health check needs it: absolute. Azure accepts a relative
    ``requestPath`` (its own examples use ``healthcheck.aspx``) and requests it from the root."""
    path = probe.path.strip() or "/"
    if not path.startswith("/"):
        warnings.append(
            f"{lb_name}: probe {probe.name} path '{probe.path}' adjusted to '/{path}' (AWS health "
            "checks need an absolute path)"
        )
        path = "/" + path
    return path


def health_check(probe: Probe, alb: bool, warnings: list[str], lb_name: str) -> dict[str, Any]:
    protocol = {"http": "HTTP", "https": "HTTPS"}.get(probe.protocol.lower(), "TCP")
    if alb and protocol == "TCP":
        warnings.append(f"{lb_name}: TCP probe behind an ALB: health check planned as HTTP GET /")
        protocol = "HTTP"
    interval = min(300, max(5, probe.interval_s))
    timeout = probe.timeout_s or 5
    timeout = max(2, min(timeout, interval - 1, 120))
    check: dict[str, Any] = {
        "protocol": protocol,
        "port": probe.port,
        "interval": interval,
        "timeout": timeout,
        "healthyThreshold": min(10, max(2, probe.healthy_threshold)),
        "unhealthyThreshold": min(10, max(2, probe.unhealthy_threshold)),
    }
    if protocol != "TCP":
        check["path"] = _absolute_path(probe, warnings, lb_name)
        # Azure LB HTTP probes want a 200; gateway probes default to 200-399.
        matcher = probe.status_codes or "200"
        if not re.fullmatch(r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*", matcher):
            warnings.append(f"{lb_name}: probe status codes '{matcher}' not mapped: matcher 200")
            matcher = "200"
        check["matcher"] = matcher
    if interval != probe.interval_s:
        warnings.append(
            f"{lb_name}: probe interval {probe.interval_s}s adjusted to {interval}s (AWS "
            "range 5-300)"
        )
    return check


def map_frontend(
    frontend: Frontend, prefer_alb: bool, aws: dict[str, Any], warnings: list[str]
) -> None:
    """Fill the workload's ``aws`` load-balancer keys from ``frontend``."""
    lb, rules = frontend.lb, frontend.rules
    lb_type, reason = choose_type(frontend, prefer_alb)
    scheme, scheme_reason = choose_scheme(frontend, warnings)
    planned = listeners(frontend, lb_type, warnings)
    if any(lst["protocol"] == "HTTPS" for lst in planned):
        warnings.append(
            f"{lb.name}: HTTPS listener needs an ACM certificate (stack-config --certificate-arn)"
        )
    target_ports = sorted(
        {lst["targetPort"] for lst in planned}
        | {r["targetPort"] for lst in planned for r in lst.get("rules", [])}
    )
    delays = [r.deregistration_delay_s for r in rules if r.deregistration_delay_s is not None]
    aws.update(
        loadBalancerType=lb_type,
        loadBalancer={
            "source": lb.id,
            "azureKind": lb.kind,
            "type": lb_type,
            "reason": reason,
            "scheme": scheme,
            "schemeReason": scheme_reason,
        },
        listeners=planned,
        targetPort=planned[0]["targetPort"] if planned else None,
        targetPorts=target_ports,
        deregistrationDelay=max(delays) if delays else None,
        healthCheck=None,
    )
    default_rules = [r for r in rules if not r.path_patterns] or rules
    probes = [p for p in (_probe_of(frontend, r) for r in default_rules) if p is not None]
    if probes:
        check = health_check(probes[0], lb_type == "application", warnings, lb.name)
        # Application gateway probes without a port probe the backend settings' port.
        check["port"] = probes[0].port or aws["targetPort"]
        aws["healthCheck"] = check
    else:
        warnings.append(f"{lb.name}: no health probe: the target group uses the AWS default check")
    if lb.kind == "loadBalancer" and lb.sku.lower() == "basic":
        warnings.append(
            f"{lb.name} is a Basic SKU load balancer (retired by Azure, no SLA, no zones): "
            "its AWS replacement behaves like a Standard one"
        )
    if lb.inbound_nat_rules:
        warnings.append(
            f"{lb.name}: {lb.inbound_nat_rules} inbound NAT rule(s)/pool(s) not mapped: "
            "use SSM Session Manager for shell access"
        )
    warnings.extend(chained_text(lb, gateway) for gateway in lb.chained_gateways)
    edge_features(frontend, warnings)
    warnings.extend(f"{lb.name}: {note}" for note in lb.notes)


# -- what no ALB/NLB carries: gateways, chains, cross-region, egress, NAT pools ------------------


def name_in(resource_id: str, segment: str = "loadbalancers") -> str:
    """The name after ``segment`` in an id ('' when the id has no such segment)."""
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == segment:
            return parts[i + 1]
    return ""


def is_gateway(lb: LoadBalancer) -> bool:
    """A Gateway-SKU load balancer: a bump in the wire for appliances (VXLAN tunnels)."""
    return lb.kind == "loadBalancer" and lb.sku.lower() == "gateway"


def is_global(lb: LoadBalancer) -> bool:
    """A cross-region (Global tier) load balancer, whose members are regional balancers."""
    return lb.tier.lower() == "global" or any(p.frontend_members for p in lb.pools)


def gateway_reason(lb: LoadBalancer, workload: str) -> str:
    """Why a Gateway Load Balancer is not planned, and what AWS offers instead."""
    tunnels = sorted({t for p in lb.pools for t in p.tunnel_interfaces})
    return (
        f"Azure Gateway Load Balancer {lb.name} (sku Gateway, tunnel interfaces "
        f"{'; '.join(tunnels) or 'not listed'}) in front of the appliances of workload "
        f"{workload}: the AWS counterpart is a Gateway Load Balancer (GENEVE on UDP 6081, not "
        "VXLAN) with Gateway Load Balancer endpoints in the consumers' routes; infra builds "
        "none and a plain NLB would bypass the appliances: build it by hand and make the "
        "appliances speak GENEVE"
    )


def chained_text(lb: LoadBalancer, gateway_frontend: str) -> str:
    return (
        f"{lb.name}: the frontend is chained to gateway load balancer "
        f"{name_in(gateway_frontend) or gateway_frontend}: the traffic passes through the "
        "appliances behind it before it reaches this fleet; in AWS route it through a Gateway "
        "Load Balancer endpoint (VPC ingress routing) in front of this load balancer's subnets, "
        "or the inspection is lost"
    )


def global_reason(lb: LoadBalancer, regional: list[tuple[str, str]]) -> str:
    """``regional``: (regional balancer name, 'workload X' | 'not in the inventory' | ...)."""
    members = ", ".join(f"{name} ({where})" for name, where in regional) or "none listed"
    return (
        f"cross-region (Global tier) load balancer in front of the regional load balancers "
        f"{members}: AWS has no cross-region load balancer; put AWS Global Accelerator in "
        "front of each region's ALB/NLB (one endpoint group per region), or Route 53 latency "
        "or failover records across the regions; the regional balancers are planned with "
        "their workloads"
    )


def global_member_text(lb: LoadBalancer, global_lb: LoadBalancer) -> str:
    return (
        f"{lb.name} is a member of cross-region load balancer {global_lb.name}: put AWS Global "
        "Accelerator (an endpoint group per region) or Route 53 latency/failover records "
        "across the regions in front of this region's load balancer"
    )


def egress_text(lb: LoadBalancer, rule: OutboundRule) -> str:
    ports = (
        f"{rule.allocated_ports} ports per instance"
        if rule.allocated_ports
        else "Azure's default port allocation"
    )
    fronts = ", ".join(f.rsplit("/", 1)[-1] for f in rule.frontends) or "its frontend"
    return (
        f"{lb.name}: outbound rule {rule.name} gives the fleet SNAT egress ({ports}, "
        f"{rule.protocol}) through {fronts}: in AWS the instances reach out through a NAT "
        "gateway in their private subnets' route (network.natGateways), not through the load "
        "balancer; whatever allowlists the old egress address must allowlist the NAT gateway's "
        "Elastic IP"
    )


def nat_pool_text(lb: LoadBalancer, pool: NatPool, only: bool) -> str:
    reach = "only through" if only else "also through"
    return (
        f"{lb.name}: the fleet is reached {reach} inbound NAT pool {pool.name} "
        f"({pool.protocol} {pool.frontend_port_start}-{pool.frontend_port_end} -> "
        f"{pool.backend_port}, one frontend port per instance): per-instance port forwarding "
        "has no ALB/NLB equivalent; use SSM Session Manager for shell access "
        "(fleet.ssmSessionManager)"
    )


# -- application gateway rewrites and JWT validation -----------------------------------------------


def _alb_headers() -> dict[str, Any]:
    return catalog.mapping()["albHeaders"]


def rewrite_text(lb: LoadBalancer, rewrite: Rewrite) -> str:
    """One rewrite action, and what the AWS side offers for it (catalog/mapping.json)."""
    headers = _alb_headers()
    name = rewrite.target
    what = f"{lb.name}: rewrite {rewrite.rule_set}/{rewrite.rule}"
    when = " (only when its conditions match: carry them over too)" if rewrite.conditional else ""
    if rewrite.kind == "requestHeader" and name.lower() in headers["forwarded"]:
        return (
            f"{what} sets request header {name}: the ALB adds X-Forwarded-For/-Proto/-Port "
            "itself (routing.http.xff_header_processing.mode append): nothing to carry over"
        )
    if rewrite.kind == "requestHeader":
        verb = "removes" if not rewrite.value else f"sets to '{rewrite.value}'"
        return (
            f"{what} {verb} request header {name}: an ALB cannot set request headers: it stays "
            f"in the application (or a proxy on the instances){when}"
        )
    if rewrite.kind == "responseHeader" and name.lower() == "server" and not rewrite.value:
        return (
            f"{what} removes response header Server: set the ALB listener attribute "
            f"routing.http.response.server.enabled to false{when}"
        )
    if rewrite.kind == "responseHeader" and name.lower() in headers["response"] and rewrite.value:
        attribute = f"routing.http.response.{name.lower().replace('-', '_')}.header_value"
        return (
            f"{what} sets response header {name}: ALB header modification, listener attribute "
            f"{attribute} = '{rewrite.value}' (infra does not set it: add it by hand){when}"
        )
    if rewrite.kind == "responseHeader":
        verb = "removes" if not rewrite.value else f"sets to '{rewrite.value}'"
        return (
            f"{what} {verb} response header {name}: an ALB cannot change it: it stays in the "
            f"application{when}"
        )
    if rewrite.kind in ("urlPath", "urlQuery"):
        part = "path" if rewrite.kind == "urlPath" else "query string"
        return (
            f"{what} rewrites the URL {part} to '{name}': an ALB listener rule transform "
            f"(url-rewrite, a regex and its replacement) on this rule does it; infra does not "
            f"build transforms: add it by hand or do it in the application{when}"
        )
    return (
        f"{what} re-evaluates the path map after rewriting (reroute): no ALB equivalent (a "
        "transformed URL is not routed again): route in the application"
    )


def jwt_text(lb: LoadBalancer, rule: LoadBalancingRule) -> str:
    """Entra ID JWT validation at the edge: what the ALB offers, and why it blocks."""
    jwt = rule.jwt_validation
    tenant = jwt.get("tenantId") or "<tenant>"
    audience = jwt.get("audiences") or jwt.get("clientId") or "<client id>"
    https = (
        ""
        if rule.protocol.lower() == "https" or rule.frontend_port == 443
        else (" (it needs an HTTPS listener: this one is HTTP)")
    )
    return (
        f"{lb.name}: routing rule {rule.name} validates Entra ID JWTs (config "
        f"{jwt.get('name', '?')}: tenant {tenant}, client {jwt.get('clientId') or '?'}, "
        f"unauthorized requests: {jwt.get('unAuthorizedRequestAction') or '?'}): an ALB verifies "
        f"JWTs with a validate-token (jwt-validation) action{https}, JWKS "
        f"https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys, issuer "
        f"https://login.microsoftonline.com/{tenant}/v2.0, claim aud = {audience}; infra does "
        "not build it: add it before the cutover, or authentication at the edge is dropped "
        "(a security regression)"
    )


def edge_features(frontend: Frontend, warnings: list[str]) -> None:
    """Rewrites and JWT validation of the rules that reach the fleet, each mapped or flagged."""
    seen: set[tuple[str, ...]] = set()
    for rule in frontend.rules:
        for rewrite in rule.rewrites:
            key = (rewrite.rule_set, rewrite.rule, rewrite.kind, rewrite.target)
            if key not in seen:
                seen.add(key)
                warnings.append(rewrite_text(frontend.lb, rewrite))
        if rule.jwt_validation:
            warnings.append(jwt_text(frontend.lb, rule))
