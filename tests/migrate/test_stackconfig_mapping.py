"""stack-config: the new plan fields -> the stack-config keys infra reads for them.

These keys (loadBalancer.internal, listeners[i].targetPort, listeners[i].rules,
fleet.instanceTypes) are checked here on ``render``'s output, without infra's validation: the
infra program accepts them from the infra branch on (the tests that run infra keep to the keys
it accepts today).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from migrate.plan import build_plan
from migrate.sources.export import load_export
from migrate.stackconfig import render
from tests.migrate.conftest import SAMPLE
from tests.migrate.test_balancers import _internal_basic_lb, _path_gateway, _rule, _vm


def _config(text: str) -> dict:
    return yaml.safe_load(text)["config"]


def _db_plan(tmp_path: Path, rules: list) -> dict:
    resources = [_vm("db-1"), _vm("db-2"), _internal_basic_lb(rules)]
    (tmp_path / "estate.json").write_text(json.dumps(resources))
    return build_plan(load_export(tmp_path))


def test_internal_balancer_and_one_target_port_per_listener(tmp_path: Path) -> None:
    plan = _db_plan(tmp_path, [_rule("a", "Tcp", 1521, 1521), _rule("b", "Tcp", 5500, 5501)])

    text, _ = render(plan, "oracle", "staging", None, region="eu-west-1")

    config = _config(text)
    lb = config["cutover:loadBalancer"]
    assert lb["type"] == "network" and lb["internal"] is True
    assert config["cutover:fleet"]["appPort"] == 1521
    assert lb["listeners"] == [
        {"protocol": "TCP", "port": 1521},  # the app port: infra's default target group
        {"protocol": "TCP", "port": 5500, "targetPort": 5501},
    ]
    assert "layer-4" in text and "private IP" in text  # the reasons, as YAML comments


def test_internet_facing_merge_turns_an_earlier_internal_off(tmp_path: Path) -> None:
    plan = build_plan(load_export(SAMPLE))
    existing = "config:\n  aws:region: eu-west-1\n  cutover:loadBalancer:\n    internal: true\n"

    text, _ = render(plan, "web", "staging", existing)

    assert _config(text)["cutover:loadBalancer"]["internal"] is False
    fresh, _ = render(plan, "web", "staging", None)
    assert "internal" not in _config(fresh)["cutover:loadBalancer"]


def test_path_rules_become_alb_listener_rules(tmp_path: Path) -> None:
    (tmp_path / "vms.json").write_text(
        (SAMPLE / "contoso-legacy" / "arm-virtualMachines.json").read_text()
    )
    (tmp_path / "agw.json").write_text(json.dumps(_path_gateway()))
    plan = build_plan(load_export(tmp_path))

    text, _ = render(plan, "shop", "staging", None)

    lb = _config(text)["cutover:loadBalancer"]
    assert lb["type"] == "application" and "internal" not in lb
    assert lb["listeners"] == [
        {
            "protocol": "HTTP",
            "port": 80,
            "rules": [
                {"pathPatterns": ["/api/*"], "targetPort": 9000},
                {"pathPatterns": ["/img/*", "/static/*"], "targetPort": 9100},
            ],
        }
    ]


def test_alternatives_are_written_unless_the_stack_opts_out() -> None:
    # Secure by default (AutoScaling.6): the plan's alternatives become fleet.instanceTypes.
    plan = build_plan(load_export(SAMPLE))
    web = next(w for w in plan["workloads"] if w["name"] == "web")

    text, _ = render(plan, "web", "staging", None)
    fleet = _config(text)["cutover:fleet"]
    assert fleet["instanceType"] == web["aws"]["instanceType"]
    assert fleet["instanceTypes"] == web["aws"]["alternatives"] and fleet["instanceTypes"]

    opted_out = "config:\n  aws:region: eu-west-1\n  cutover:fleet:\n    singleInstanceType: true\n"
    text, notes = render(plan, "web", "staging", opted_out)
    fleet = _config(text)["cutover:fleet"]
    assert "instanceTypes" not in fleet and fleet["singleInstanceType"] is True
    assert any("opts out (singleInstanceType: true)" in n for n in notes)
