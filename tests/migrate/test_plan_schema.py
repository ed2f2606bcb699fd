"""plan.json against its JSON Schema (migrate/schemas/plan.schema.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from migrate import schemas
from migrate.model import Inventory
from migrate.plan import PLAN_SCHEMA_VERSION, PlanOptions, build_plan
from tests.migrate.conftest import REPO
from tests.migrate.test_balancers import _path_gateway

SCHEMA = json.loads((REPO / "migrate" / "schemas" / "plan.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schemaVersion"] == {"const": PLAN_SCHEMA_VERSION}


@pytest.mark.parametrize("kind", ["inventory", "plan"])
def test_every_schema_the_commands_run_is_valid_draft_2020_12(kind: str) -> None:
    # migrate/schemas.py loads them without checking them against the metaschema: here instead
    jsonschema.Draft202012Validator.check_schema(schemas.schema(kind))
    assert schemas.schema(kind)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("prefer_alb", [False, True])
def test_the_sample_plan_validates(sample_inventory: Inventory, prefer_alb: bool) -> None:
    plan = json.loads(json.dumps(build_plan(sample_inventory, PlanOptions(prefer_alb=prefer_alb))))
    VALIDATOR.validate(plan)


def test_new_fields_validate_path_rules_scheme_sizing(tmp_path: Path) -> None:
    from tests.migrate.conftest import SAMPLE

    (tmp_path / "vms.json").write_text(
        (SAMPLE / "contoso-legacy" / "arm-virtualMachines.json").read_text()
    )
    (tmp_path / "agw.json").write_text(json.dumps(_path_gateway()))
    from migrate.sources.export import load_export

    plan = json.loads(json.dumps(build_plan(load_export(tmp_path))))
    VALIDATOR.validate(plan)
    shop = next(w for w in plan["workloads"] if w["name"] == "shop")
    assert shop["aws"]["listeners"][0]["rules"] and shop["aws"]["loadBalancer"]["scheme"]
    assert shop["aws"]["sizing"]["class"] == "general"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: p.update(schemaVersion=99), "schemaVersion"),
        (
            lambda p: p["workloads"][0]["aws"]["listeners"].append({"protocol": "TCP", "port": 0}),
            "port",
        ),
        (lambda p: p["workloads"][0]["aws"].update(loadBalancerType="classic"), "loadBalancerType"),
        (lambda p: p["skipped"].append({"id": "x", "reason": ""}), "reason"),
        (lambda p: p["workloads"][0]["aws"].update(minSize="2"), "minSize"),
    ],
)
def test_a_broken_plan_is_rejected(sample_inventory: Inventory, change, where: str) -> None:
    plan = copy.deepcopy(json.loads(json.dumps(build_plan(sample_inventory))))
    change(plan)
    errors = list(VALIDATOR.iter_errors(plan))
    assert errors and any(where in (str(e.path) + e.message) for e in errors)
