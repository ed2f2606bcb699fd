"""Export adapter: ``az ... list`` output or ARM REST bodies in a file or a folder -> Inventory.

In a folder, a JSON file that is plainly not Azure's (``package.json``, ``.vscode/settings.json``:
no ARM ``id``, no ``value`` list, no array of resources) is skipped with a note, files matching
an ``exclude`` pattern are left out, and every unusable file (malformed, a resource without its
fields) is reported in one error, so one run lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

from cutover.exitcodes import BAD_INPUT
from cutover.files import FileProblem
from migrate.errors import MigrateError
from migrate.jsonfile import read_json
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


def excluded(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    """``relative`` (a path inside the export folder) matches a pattern, as a whole path, as
    its file name, or by one of its folders (``.vscode``, ``node_modules``, ``package*.json``)."""
    names = [str(relative), *relative.parts]
    return any(fnmatch(name, pattern) for pattern in patterns for name in names)


def _files(path: Path, exclude: Sequence[str] = ()) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not found:
            raise MigrateError(f"{path}: no .json file in this folder")
        files = [p for p in found if not excluded(PurePosixPath(p.relative_to(path)), exclude)]
        if not files:
            raise MigrateError(f"{path}: every .json file is excluded by --exclude")
        return files
    if path.is_file():
        return [path]
    raise MigrateError(f"{path}: no such file or folder")


def _looks_like_azure(body: Any) -> bool:
    """False for JSON that is plainly something else: no ARM id, list body or resource array."""
    if isinstance(body, dict):
        return bool(
            isinstance(body.get("value"), list) or body.get("id") or body.get("resourceType")
        )
    if isinstance(body, list):
        keys = ("id", "type", "resourceType", "numberOfCores")
        return not body or any(isinstance(i, dict) and any(k in i for k in keys) for i in body)
    return False


def load_export(path: Path | str, exclude: Sequence[str] = ()) -> Inventory:
    """Read every JSON file under ``path``; the first copy of a resource id wins.

    A folder's files that are plainly not Azure JSON are skipped with a note; every unusable
    file is named in one error. ``exclude``: glob patterns of files or folders to leave out."""
    inventory = Inventory()
    skus: dict[str, VmSize] = {}
    seen: dict[str, str] = {}
    nics: list[tuple[NetworkInterface, str]] = []
    folder = Path(path).is_dir()
    problems: list[str] = []
    files = _files(Path(path), exclude)
    for file in files:
        try:
            body = _body(file)
            if metrics.is_metrics_body(body):  # `az monitor metrics list --resource ID ...`
                inventory.utilization.append(metrics.from_export(body, str(file)))
                continue
            if folder and not _looks_like_azure(body):
                inventory.notes.append(
                    f"{file}: skipped, not Azure JSON (no ARM 'id', 'value' list or array of "
                    "resources); leave it out with --exclude"
                )
                continue
            _read(body, file, inventory, skus, seen, nics)
        except (MigrateError, FileProblem) as exc:
            if not folder or exc.exit_code != BAD_INPUT:
                raise
            problems.append(str(exc))
    if problems:
        raise MigrateError(
            f"{len(problems)} of {len(files)} export files unusable (fix them, or leave them "
            "out with --exclude PATTERN): " + "; ".join(problems)
        )
    subs = {subscription_of(r.id) for r in _all(inventory)} - {""}
    inventory.subscriptions = [SubscriptionResult(id=s) for s in sorted(subs)]
    fold_network_interfaces(inventory, nics)
    attach_sizes(inventory, skus)
    return inventory


def _body(file: Path) -> Any:
    # UTF-8 with or without BOM, UTF-16/32 with BOM (PowerShell 5's `az ... > file.json`).
    return read_json(file)


def _read(
    body: Any,
    file: Path,
    inventory: Inventory,
    skus: dict[str, VmSize],
    seen: dict[str, str],
    nics: list[tuple[NetworkInterface, str]],
) -> None:
    for i, item in enumerate(_items(body, str(file))):
        if "id" not in item and ("resourceType" in item or "numberOfCores" in item):
            # `az vm list-skus` / `az vm list-sizes`: the subscription's own figures
            size = arm.parse_resource_sku(item) or arm.parse_vm_size_listing(item)
            if size is not None:
                skus[size.name.lower()] = size
            continue
        _add(inventory, item, f"{file}[{i}]", seen, nics)


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
