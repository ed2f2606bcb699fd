"""ARM resource JSON: reading both shapes Azure prints, with keys in any case.

ARM REST bodies (``{"id", "name", "properties": {...}}``, nested sub-resources with their own
``properties``) and the flattened shape of ``az ... list`` (the same keys without the
``properties`` wrapper). Every lookup goes through :func:`prop` / :func:`get_ci`, so one parser
reads both, whatever the key case of the ``az`` era.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

VM_TYPE = "microsoft.compute/virtualmachines"
VMSS_TYPE = "microsoft.compute/virtualmachinescalesets"
AUTOSCALE_TYPE = "microsoft.insights/autoscalesettings"
LB_TYPE = "microsoft.network/loadbalancers"
AGW_TYPE = "microsoft.network/applicationgateways"
NIC_TYPE = "microsoft.network/networkinterfaces"
PIP_TYPE = "microsoft.network/publicipaddresses"

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


def list_prop(obj: Any, key: str) -> list[Any]:
    value = prop(obj, key, [])
    if not isinstance(value, list):
        raise ResourceProblem(f"'{key}' should be a list, got {type(value).__name__}")
    return value


def required(obj: Any, *keys: str) -> Any:
    value = path(obj, *keys)
    if value is None or value == "":
        raise ResourceProblem(f"missing '{'.'.join(keys)}'")
    return value


def as_int(value: Any, what: str) -> int:
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


def name_of(obj: dict[str, Any]) -> str:
    return obj.get("name") or (obj.get("id") or "").rstrip("/").split("/")[-1]


def tags_of(obj: dict[str, Any]) -> dict[str, str]:
    tags = obj.get("tags") or {}
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def flatten(obj: dict[str, Any]) -> dict[str, Any]:
    """The resource with its top-level ``properties`` merged in (one dict copy, cheap lookups)."""
    props = get_ci(obj, "properties")
    return {**obj, **props} if isinstance(props, dict) else obj
