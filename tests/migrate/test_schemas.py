"""The JSON Schemas of inventory.json and plan.json: what migrate writes matches them, and a
file that does not is one clear line with the JSON path of the problem."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing

import pytest

from migrate import model, schemas
from migrate.errors import MigrateError
from migrate.model import Inventory, _camel
from migrate.plan import build_plan


@pytest.fixture
def inventory_json(sample_inventory: Inventory) -> dict:
    return json.loads(json.dumps(sample_inventory.to_json()))


@pytest.fixture
def plan_json(sample_inventory: Inventory) -> dict:
    return json.loads(json.dumps(build_plan(sample_inventory)))


def test_what_migrate_writes_matches_its_schemas(inventory_json: dict, plan_json: dict) -> None:
    assert schemas.problems(inventory_json, "inventory") == []
    assert schemas.problems(plan_json, "plan") == []


def _dataclasses() -> list[type]:
    return [
        tp
        for tp in vars(model).values()
        if isinstance(tp, type) and dataclasses.is_dataclass(tp) and tp is not Inventory
    ]


def test_the_inventory_schema_covers_every_field_of_the_model() -> None:
    schema = schemas.validator("inventory").schema
    top = {_camel(f.name) for f in dataclasses.fields(Inventory)} | {"schemaVersion"}
    assert set(schema["properties"]) == top
    for tp in _dataclasses():
        definition = schema["$defs"][tp.__name__]
        fields = dataclasses.fields(tp)
        assert set(definition["properties"]) == {_camel(f.name) for f in fields}, tp.__name__
        required = {
            _camel(f.name)
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        assert set(definition.get("required", [])) == required, tp.__name__
        hints = typing.get_type_hints(tp)
        for f in fields:
            if hints[f.name] is str:
                assert definition["properties"][_camel(f.name)] == {"type": "string"}


def _message(document: dict, kind: str) -> str:
    with pytest.raises(MigrateError) as caught:
        schemas.check(document, kind, f"{kind}.json")
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    return str(caught.value)


def test_a_null_vm_size_names_its_path_in_json_terms(inventory_json: dict) -> None:
    inventory_json["vms"][2]["vmSize"] = None
    message = _message(inventory_json, "inventory")
    assert message.startswith("inventory.json: not a valid inventory.json: $.vms[2].vmSize:")
    assert "expected string, found null" in message and "migrate inventory" in message


def test_a_workload_without_aws_is_named(plan_json: dict) -> None:
    del plan_json["workloads"][0]["aws"]
    message = _message(plan_json, "plan")
    assert "$.workloads[0]: 'aws' is a required property" in message


def test_schema_version_99_is_refused_with_the_version_this_cutover_reads(
    inventory_json: dict, plan_json: dict
) -> None:
    for document, kind in ((inventory_json, "inventory"), (plan_json, "plan")):
        document["schemaVersion"] = 99
        message = _message(document, kind)
        assert "$.schemaVersion: schemaVersion 99 is not supported" in message
        assert "reads 1" in message


def test_several_problems_are_counted_after_the_first(plan_json: dict) -> None:
    broken = copy.deepcopy(plan_json)
    broken["workloads"][1]["aws"]["minSize"] = "two"
    broken["workloads"][3]["aws"]["listeners"] = [{"protocol": "HTTP", "port": 0}]
    message = _message(broken, "plan")
    assert '$.workloads[1].aws.minSize: expected integer, found "two"' in message
    assert "(1 more problem(s) after this one)" in message


def test_unknown_keys_are_allowed_so_newer_fields_pass(plan_json: dict) -> None:
    plan_json["workloads"][0]["aws"]["loadBalancerChoice"] = {"reason": "HTTP probe"}
    plan_json["source"] = {"kind": "export"}
    assert schemas.problems(plan_json, "plan") == []
