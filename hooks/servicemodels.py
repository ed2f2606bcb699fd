"""Reduced botocore service models: only the operations the hooks call (hooks/permissions.py).

A hook runs in its own process on the instance's critical path (README "API budget"), and
botocore parses a service's whole model when it builds its client: EC2's is several megabytes
(a fifth of a second of a hook's run on a small instance), of which the hooks use three
operations. `models/` beside this file holds, per service, the model cut down to the operations
the hooks call and the shapes they reach (documentation dropped), and an `endpoints.json` cut
down to those services in every partition. The hooks' session puts that folder first on
botocore's data path (the `data_path` session variable, the documented AWS_DATA_PATH mechanism
of botocore.loaders), so botocore finds these files before its own; everything else (endpoint
rule sets, paginators, retry rules) still comes from the installed botocore. A service whose
installed botocore carries a newer API version than the one kept here gets botocore's own model
(the loader picks the latest version across its search path).

Regenerate after a change to the hooks' calls (a test compares the files with this output):

    python -m hooks.servicemodels
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MODELS = Path(__file__).resolve().parent / "models"
# botocore's client name -> the IAM prefix of its actions in hooks/permissions.py.
SERVICES = {
    "autoscaling": "autoscaling",
    "ec2": "ec2",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "codedeploy": "codedeploy",
}
# endpoints.json names services by endpoint prefix.
ENDPOINT_PREFIXES = ("autoscaling", "ec2", "elasticloadbalancing", "codedeploy")


def data_path(existing: str | None = None) -> str:
    """The data path the hooks' session uses: the reduced models first, then what the
    environment's AWS_DATA_PATH says (if anything)."""
    existing = os.environ.get("AWS_DATA_PATH", "") if existing is None else existing
    return os.pathsep.join(p for p in (str(MODELS), existing) if p)


def _reachable(shapes: dict[str, Any], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        refs = [shape.get("member"), shape.get("key"), shape.get("value")]
        refs += list(shape.get("members", {}).values())
        todo += [r["shape"] for r in refs if r and r["shape"] not in seen]
    return seen


def _undocumented(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _undocumented(v) for k, v in value.items() if k != "documentation"}
    if isinstance(value, list):
        return [_undocumented(v) for v in value]
    return value


def reduce_model(model: dict[str, Any], operations: Iterable[str]) -> dict[str, Any]:
    """`model` (a service-2 document) with only `operations` and the shapes they reach."""
    kept = {name: model["operations"][name] for name in sorted(set(operations))}
    roots: list[str] = []
    for op in kept.values():
        roots += [op.get("input", {}).get("shape"), op.get("output", {}).get("shape")]
        roots += [e["shape"] for e in op.get("errors", [])]
    shapes = model["shapes"]
    names = _reachable(shapes, roots)
    reduced = {key: value for key, value in model.items() if key not in ("operations", "shapes")}
    reduced["operations"] = kept
    reduced["shapes"] = {name: shapes[name] for name in sorted(names)}
    return _undocumented(reduced)


def reduce_endpoints(endpoints: dict[str, Any]) -> dict[str, Any]:
    """botocore's endpoints.json with only the hooks' services, in every partition."""
    partitions = []
    for partition in endpoints["partitions"]:
        services = partition.get("services", {})
        partitions.append(
            {
                **partition,
                "services": {k: services[k] for k in ENDPOINT_PREFIXES if k in services},
            }
        )
    return {**endpoints, "partitions": partitions}


def operations_of(service: str) -> list[str]:
    """The operations of `service` the hooks call (its actions in hooks/permissions.py)."""
    from hooks.permissions import ALL_ACTIONS

    prefix = SERVICES[service] + ":"
    return [action.removeprefix(prefix) for action in ALL_ACTIONS if action.startswith(prefix)]


def generate() -> dict[str, Any]:
    """Relative path -> document, cut from the installed botocore's data."""
    import botocore.loaders

    loader = botocore.loaders.Loader()  # botocore's own data only, not an AWS_DATA_PATH
    files: dict[str, Any] = {}
    for service in SERVICES:
        version = loader.determine_latest_version(service, "service-2")
        model = loader.load_service_model(service, "service-2", version)
        wanted = [op for op in operations_of(service) if op in model["operations"]]
        if wanted:
            files[f"{service}/{version}/service-2.json"] = reduce_model(model, wanted)
    files["endpoints.json"] = reduce_endpoints(loader.load_data("endpoints"))
    return files


def render(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n"


def write(target: Path = MODELS) -> list[Path]:
    written = []
    for relative, document in generate().items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(f"{path} ({path.stat().st_size} bytes)")
