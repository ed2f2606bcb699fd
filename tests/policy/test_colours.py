"""blue-green-colours-match on the program's own blue/green stack, and the one change that
breaks it: a colour missing, drifting bounds, a missing or different scaling policy."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from policy.colours import blue_green_colours_match
from policy.rules import Resource, Settings, Stack
from preview import cli as preview
from stack.load import load_stack_file, read_stack_file, stack_file_path
from stack.names import COLOUR_TAG

GROUP = "aws:autoscaling/group:Group"
POLICY = "aws:autoscaling/policy:Policy"


@pytest.fixture(scope="module")
def blue_green_file(tmp_path_factory):
    """Pulumi.staging.yaml with deployment.style: blue-green (step scaling: two policies)."""
    raw = yaml.safe_load(stack_file_path("staging").read_text())
    raw["config"]["cutover:deployment"]["style"] = "blue-green"
    path = tmp_path_factory.mktemp("bg") / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def resources(blue_green_file) -> list[Resource]:
    evaluation = preview.evaluate_stack("staging", blue_green_file)
    return [
        Resource(r.type, r.name, {**r.outputs, **r.inputs})
        for r in evaluation.resources
        if r.custom
    ]


def violations(resources: list[Resource]) -> list[str]:
    return [v.message for v in blue_green_colours_match(Stack(resources), Settings())]


def colour_of(resource: Resource) -> str | None:
    tags = resource.props.get("tags") or []
    return next((t["value"] for t in tags if t["key"] == COLOUR_TAG), None)


def changed(resources: list[Resource], match, change) -> list[Resource]:
    return [change(r) if match(r) else r for r in resources]


def test_the_programs_blue_green_stack_passes_every_rule(blue_green_file, resources):
    cfg = load_stack_file(blue_green_file, stack="staging")
    evaluation = preview.evaluate_stack("staging", blue_green_file)
    assert preview.check_stack(evaluation, cfg) == []
    assert violations(resources) == []


def test_in_place_stacks_are_not_concerned():
    evaluation = preview.evaluate_stack("staging")
    resources = [Resource(r.type, r.name, {**r.outputs, **r.inputs}) for r in evaluation.resources]
    assert violations(resources) == []


def test_a_missing_colour_is_a_violation(resources):
    kept = [r for r in resources if not (r.type == GROUP and colour_of(r) == "green")]
    assert violations(kept) == ["a blue/green stack needs exactly one green group, found 0"]


def test_colours_with_different_bounds_are_a_violation(resources):
    broken = changed(
        resources,
        lambda r: r.type == GROUP and colour_of(r) == "green",
        lambda r: replace(r, props={**r.props, "maxSize": 99}),
    )
    (message,) = violations(broken)
    assert message.startswith("maxSize differs from")


def test_a_colour_without_scaling_policies_is_a_violation(resources):
    kept = [
        r
        for r in resources
        if not (r.type == POLICY and r.props["autoscalingGroupName"].endswith("-green"))
    ]
    messages = violations(kept)
    assert "has no scaling policy: it could not follow the load" in messages
    assert "its scaling policies differ from cutover-staging-fleet-blue-group's" in messages


def test_colours_with_different_scaling_policies_are_a_violation(resources):
    def slower(r: Resource) -> Resource:
        return replace(r, props={**r.props, "estimatedInstanceWarmup": 900})

    broken = changed(
        resources,
        lambda r: r.type == POLICY and r.props["autoscalingGroupName"].endswith("-green"),
        slower,
    )
    assert violations(broken) == [
        "its scaling policies differ from cutover-staging-fleet-blue-group's"
    ]


def test_the_single_group_rules_hold_each_colour_to_the_floor(resources):
    from policy import rules

    broken = changed(
        resources,
        lambda r: r.type == GROUP and colour_of(r) == "green",
        lambda r: replace(
            r,
            props={
                **r.props,
                "tags": [t for t in r.props["tags"] if "allow-downtime" not in t["key"]],
            },
        ),
    )
    found = rules.zero_downtime_group_capacity(Stack(broken), Settings())
    assert [v.resource for v in found] == ["cutover-staging-fleet-green-group"]


def test_preview_shows_both_groups_with_their_policies(blue_green_file, capsys):
    code = preview.main(["staging", "--config", str(blue_green_file), "--check"])
    out = capsys.readouterr()
    assert code == 0, out.err
    for colour in ("blue", "green"):
        assert f"cutover-staging-fleet-{colour}" in out.out
        assert f"cutover-staging-scaling-{colour}-cpu-out" in out.out
        assert f"cutover-staging-scaling-{colour}-cpu-in" in out.out
    assert read_stack_file(blue_green_file)["cutover:deployment"]["style"] == "blue-green"
