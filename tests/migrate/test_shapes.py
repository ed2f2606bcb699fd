"""Hand-edited inventory.json and plan.json files: every key of a sample removed, nulled or given
the wrong type. Each command either works (the key was optional) or says what is wrong with exit
code 2; none crashes (exit 70) and none prints a traceback."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrate import schemas
from migrate.cli import main
from migrate.model import Inventory
from migrate.plan import build_plan

Path_ = tuple[Any, ...]


def _paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every key and list index of ``node`` (first item of each list only)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list) and node:
        yield (*prefix, 0)
        yield from _paths(node[0], (*prefix, 0))


def _wrong(value: Any) -> Any:
    if isinstance(value, (bool, int, float)):
        return "x"
    if isinstance(value, str):
        return 5
    if isinstance(value, list):
        return {"a": 1}
    return ["a"]


def _mutations(document: dict[str, Any], roots: list[Path_]) -> Iterator[tuple[str, dict]]:
    for root in roots:
        node = document
        for part in root:
            node = node[part]
        for path in _paths(node, root):
            for how in ("delete", "null", "wrong"):
                mutated = copy.deepcopy(document)
                parent = mutated
                for part in path[:-1]:
                    parent = parent[part]
                if how == "delete":
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = None if how == "null" else _wrong(parent[path[-1]])
                yield f"{how} {'.'.join(map(str, path))}", mutated


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_every_hand_edit_of_an_inventory_is_planned_or_refused(
    sample_inventory: Inventory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.loads(json.dumps(sample_inventory.to_json()))
    scale_set = next(i for i, s in enumerate(body["scaleSets"]) if s["name"] == "vmss-web")
    balancer = next(i for i, b in enumerate(body["loadBalancers"]) if b["probes"])
    roots = [("vms", 0), ("scaleSets", scale_set), ("autoscale", 0), ("loadBalancers", balancer)]
    source, out = tmp_path / "inventory.json", tmp_path / "plan.json"
    crashes, seen = [], Counter()
    for label, mutated in _mutations(body, roots):
        source.write_text(json.dumps(mutated))
        code, err = _run(capsys, "plan", str(source), "-o", str(out))
        seen[code] += 1
        if code not in (0, 2) or "Traceback" in err or (code and err.count("\n") != 1):
            crashes.append(f"{label}: exit {code}: {err.strip()}")
    assert not crashes, "\n".join(crashes[:20])
    assert seen[0] > 20 and seen[2] > 100  # optional keys plan; broken shapes are refused


def test_every_hand_edit_of_a_plan_is_rendered_or_refused(
    sample_inventory: Inventory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = build_plan(sample_inventory)
    web = next(i for i, w in enumerate(plan["workloads"]) if w["name"] == "web")
    roots = [("workloads", web), ("skipped", 0)]
    source = tmp_path / "plan.json"
    crashes, seen = [], Counter()
    for label, mutated in _mutations(plan, roots):
        source.write_text(json.dumps(mutated))
        for argv in (
            *(("report", str(source), "--format", fmt) for fmt in ("md", "html", "csv", "json")),
            ("stack-config", str(source), "--workload", "web", "--stack", "staging", "-o", "-"),
        ):
            code, err = _run(capsys, *argv)
            seen[code] += 1
            if code not in (0, 2) or "Traceback" in err:
                crashes.append(f"{label}: {argv[0]}: exit {code}: {err.strip()}")
    assert not crashes, "\n".join(crashes[:20])
    assert seen[0] > 50 and seen[2] > 200


@pytest.mark.parametrize("kind", ["inventory", "plan"])
def test_the_compiled_schema_accepts_exactly_what_the_reference_accepts(
    sample_inventory: Inventory, kind: str
) -> None:
    # migrate/schemas.py trusts jsonschema-rs to accept and asks jsonschema only about what it
    # refuses: on every hand edit above (and the unedited files) the two must agree.
    if kind == "inventory":
        document = json.loads(json.dumps(sample_inventory.to_json()))
        balancer = next(i for i, b in enumerate(document["loadBalancers"]) if b["probes"])
        roots = [("vms", 0), ("scaleSets", 0), ("autoscale", 0), ("loadBalancers", balancer)]
    else:
        document = build_plan(sample_inventory)
        roots = [("workloads", 0), ("skipped", 0)]
    reference = schemas.validator(kind)
    verdicts = Counter()
    for label, mutated in [("as built", document), *_mutations(document, roots)]:
        fast, slow = schemas.matches(mutated, kind), reference.is_valid(mutated)
        assert fast == slow, f"{kind}: {label}: jsonschema-rs {fast}, jsonschema {slow}"
        verdicts[fast] += 1
    assert verdicts[True] > 20 and verdicts[False] > 100


def test_what_only_the_compiled_schema_refuses_is_decided_by_the_reference(
    sample_inventory: Inventory,
) -> None:
    # NaN is no JSON, but the standard library reads it and jsonschema takes it for a number:
    # jsonschema-rs refuses it, so the refusal must come from the reference, which accepts it
    document = json.loads(json.dumps(sample_inventory.to_json()))
    document["utilization"][0]["metrics"][0]["mean"] = float("nan")

    assert not schemas.matches(document, "inventory")
    assert schemas.problems(document, "inventory") == []
