"""Export adapter: ``az ... list`` output or ARM REST bodies in a file or a folder -> Inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cutover.files import read_text
from migrate.errors import MigrateError
from migrate.model import (
    Inventory,
    NetworkInterface,
    OtherResource,
    SubscriptionResult,
    VmSize,
    id_key,
    subscription_of,
)
from migrate.sources import arm, attach_sizes, collection, fold_network_interfaces, metrics


def _items(body: Any, source: str) -> list[dict[str, Any]]:
    if isinstance(body, list):
        items = body
    elif isinstance(body, dict) and isinstance(body.get("value"), list):
        items = body["value"]  # an ARM list response (one page)
    elif isinstance(body, dict) and (body.get("id") or body.get("resourceType")):
        items = [body]  # a single ARM resource
    else:
        raise MigrateError(
            f'{source}: not an `az ... list` array, an ARM list body ({{"value": [...]}}) or an '
            "ARM resource (no 'id')"
        )
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise MigrateError(f"{source}: item {i} is a {type(item).__name__}, expected an object")
    return items


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise MigrateError(f"{path}: no .json file in this folder")
        return files
    if path.is_file():
        return [path]
    raise MigrateError(f"{path}: no such file or folder")


def load_export(path: Path | str) -> Inventory:
    """Read every JSON file under ``path``; the first copy of a resource id wins."""
    inventory = Inventory()
    skus: dict[str, VmSize] = {}
    seen: dict[str, str] = {}
    nics: list[tuple[NetworkInterface, str]] = []
    for file in _files(Path(path)):
        # UTF-8 with or without BOM, UTF-16/32 with BOM (PowerShell 5's `az ... > file.json`).
        text = read_text(file)
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MigrateError(
                f"{file}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from exc
        if metrics.is_metrics_body(body):  # `az monitor metrics list --resource ID ...`
            inventory.utilization.append(metrics.from_export(body, str(file)))
            continue
        for i, item in enumerate(_items(body, str(file))):
            if "id" not in item and ("resourceType" in item or "numberOfCores" in item):
                # `az vm list-skus` / `az vm list-sizes`: the subscription's own figures
                size = arm.parse_resource_sku(item) or arm.parse_vm_size_listing(item)
                if size is not None:
                    skus[size.name.lower()] = size
                continue
            _add(inventory, item, f"{file}[{i}]", seen, nics)
    subs = {subscription_of(r.id) for r in _all(inventory)} - {""}
    inventory.subscriptions = [SubscriptionResult(id=s) for s in sorted(subs)]
    fold_network_interfaces(inventory, nics)
    attach_sizes(inventory, skus)
    return inventory


def _all(inventory: Inventory) -> list[Any]:
    return [*inventory.vms, *inventory.scale_sets, *inventory.autoscale, *inventory.load_balancers]


def _add(
    inventory: Inventory,
    item: dict[str, Any],
    source: str,
    seen: dict[str, str],
    nics: list[tuple[NetworkInterface, str]],
) -> None:
    rtype = arm.resource_type(item)
    rid = item.get("id")
    if not rid:
        raise MigrateError(f"{source}: resource {item.get('name') or '(unnamed)'} has no 'id'")
    key = id_key(rid)
    if key in seen:
        inventory.notes.append(f"{rid} appears in {seen[key]} and {source}: the first copy is used")
        return
    seen[key] = source
    if rtype == arm.NIC_TYPE:  # `az network nic list`: folded into the VMs once all is read
        nics.append((arm.parse(rtype, item, source), source))
        return
    target = collection(inventory, rtype)
    if target is None:
        inventory.other_resources.append(
            OtherResource(id=rid, type=rtype or "unknown", source=source)
        )
        return
    target.append(arm.parse(rtype, item, source))
