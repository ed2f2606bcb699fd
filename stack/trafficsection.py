"""``cutover:traffic``: the rules of the two weighted DNS records of the move (Azure's front end
and the AWS load balancer) and their health checks, in the style of ``stack/sections.py`` (the
model is in ``stack/config.py``); ``infra/traffic.py`` builds the records, ``shift/`` moves their
weights. Every key is documented in ``infra/README.md`` ("Traffic").
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from stack.config import NAMESPACE, EndpointCheckConfig, TrafficConfig
from stack.reader import _Section

TRAFFIC_CHECK_PROTOCOLS = ("HTTP", "HTTPS", "TCP")
# Route 53 limits: a TTL up to 2^31 - 1 (a day is plenty for a record being moved), and health
# checks every 10 or 30 seconds with a failure threshold of 1..10.
_DNS_NAME = r"(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?"
_ZONE_ID = r"(/hostedzone/)?[A-Z0-9]{1,32}"


def _endpoint_check(s: _Section, default: EndpointCheckConfig) -> EndpointCheckConfig:
    protocol = s.choice("protocol", default.protocol, TRAFFIC_CHECK_PROTOCOLS)
    default_port = {"HTTP": 80, "HTTPS": 443}.get(protocol, default.port)
    port = s.integer("port", default_port, 1, 65535)
    path = s.string("path", "", r"/[^\s]{0,254}", "must start with / (at most 255 characters)")
    if protocol == "TCP" and path:
        raise s.error("path", "a TCP health check has no path")
    check = EndpointCheckConfig(protocol=protocol, port=port, path=path or "/")
    s.finish()
    return check


def _traffic(raw: Any, source: str | None, load_balancer_type: str) -> TrafficConfig | None:
    """``cutover:traffic``: absent means the program creates no DNS records at all."""
    if raw is None:
        return None
    s = _Section(raw, f"{NAMESPACE}traffic", source)
    zone_id = s.string("zoneId", "", _ZONE_ID, "must be a Route 53 hosted zone id such as Z0123ABC")
    zone_name = s.string("zoneName", "", _DNS_NAME, "must be a DNS name such as example.com")
    if bool(zone_id) == bool(zone_name):
        raise s.error("zoneId", "give the hosted zone as zoneId or as zoneName (exactly one)")
    record = s.string("recordName", "", _DNS_NAME, "must be a DNS name such as www.example.com")
    if not record:
        raise s.error(
            "recordName", "is required: the name your users resolve, e.g. www.example.com"
        )
    zone = zone_name.rstrip(".").lower()
    name = record.rstrip(".").lower()
    if zone and not (name == zone or name.endswith("." + zone)):
        raise s.error("recordName", f"{record!r} is not inside the zone {zone_name!r}")
    endpoint = s.string(
        "azureEndpoint",
        "",
        _DNS_NAME + r"|\d{1,3}(\.\d{1,3}){3}",
        "must be a hostname or an IPv4 address",
    )
    if not endpoint:
        raise s.error("azureEndpoint", "is required: the hostname or IP of Azure's front end")
    if re.fullmatch(r"[\d.]+", endpoint):
        try:
            ipaddress.IPv4Address(endpoint)
        except ValueError:
            raise s.error("azureEndpoint", f"{endpoint!r} is not a valid IPv4 address") from None
    if zone and name == zone and not re.fullmatch(r"[\d.]+", endpoint):
        raise s.error(
            "azureEndpoint",
            "a hostname needs a CNAME, which the zone apex cannot hold: give Azure's IPv4 "
            "address, or a recordName below the apex (www.)",
        )
    if endpoint.rstrip(".").lower() == name:
        raise s.error("azureEndpoint", "must not be the record itself (a CNAME to itself loops)")
    if load_balancer_type != "application":
        raise s.error(
            "recordName",
            "the traffic shift needs loadBalancer.type application (its 5xx gate reads the "
            f"ALB's metrics), got {load_balancer_type}",
        )
    ttl = s.integer("ttl", 60, 0, 86400)
    interval = s.integer("requestInterval", 30, 10, 30)
    if interval not in (10, 30):
        raise s.error("requestInterval", f"Route 53 checks every 10 or 30 seconds, got {interval}")
    threshold = s.integer("failureThreshold", 3, 1, 10)
    checks = s.section("healthCheck")
    aws_check = _endpoint_check(checks.section("aws"), EndpointCheckConfig("HTTP", 80, "/"))
    azure_check = _endpoint_check(checks.section("azure"), EndpointCheckConfig("HTTPS", 443, "/"))
    checks.finish()
    s.finish()
    return TrafficConfig(
        zone_id=zone_id.removeprefix("/hostedzone/"),
        zone_name=zone_name.rstrip("."),
        record_name=record.rstrip("."),
        azure_endpoint=endpoint.rstrip("."),
        ttl=ttl,
        aws_check=aws_check,
        azure_check=azure_check,
        request_interval=interval,
        failure_threshold=threshold,
    )
