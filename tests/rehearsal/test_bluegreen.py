"""Blue/green releases rehearsed: the real release (`release.run.Release`) on the production
stack with deployment.style: blue-green, both colours' groups in the emulated account, the real
hooks on the instances of every deployment the release causes; and two broken releases
(`broken_release.py`) the verdict must FAIL.

Lean on purpose (the suite's budget): two instances per colour at time scale 150. The verdicts
read the order of events (gate reads, waits, listener changes), never how long anything took."""

from __future__ import annotations

import io

import pytest
import yaml

from rehearsal import bluegreen, chart
from rehearsal.declared import declared_fleet
from rehearsal.run import Options, RehearsalInputError, validate
from stack.load import stack_file_path
from tests.rehearsal import VERDICT_KEYS, broken_release
from tests.rehearsal.verdicts import body_of

# Self-healing after 1500 emulated seconds, 10 real ones as in test_scenarios.py: at 300 (2 real
# seconds) a watchdog on a busy machine repaired an instance whose register had not started yet.
FAST = {"time_scale": 150.0, "instances": 2, "heal_after": 1500.0}


@pytest.fixture(scope="module")
def production_bg(tmp_path_factory):
    """Pulumi.production.yaml with deployment.style: blue-green, as the program declares it."""
    raw = yaml.safe_load(stack_file_path("production").read_text())
    raw["config"]["cutover:deployment"]["style"] = "blue-green"
    path = tmp_path_factory.mktemp("bg") / "Pulumi.production.yaml"
    path.write_text(yaml.safe_dump(raw))
    return declared_fleet("production", path)


def _rehearse(fleet, **options):
    return bluegreen.rehearse(
        fleet, Options(**{**FAST, **options}), io.StringIO(), io.StringIO(), 400, 120
    )


def test_a_blue_green_stack_is_read_as_two_colours_from_the_program(production_bg):
    blue, green = production_bg.colours["blue"], production_bg.colours["green"]
    assert (blue.group.name, green.group.name) == (
        "cutover-production-fleet-blue",
        "cutover-production-fleet-green",
    )
    assert blue.group.target_groups[0].name != green.group.target_groups[0].name
    assert blue.deployment_group.name != green.deployment_group.name
    assert (green.group.min_size, green.group.desired_capacity, green.group.max_size) == (2, 3, 6)


def test_scenarios_and_styles_must_match(production_bg):
    with pytest.raises(RehearsalInputError, match="rehearse its release with --scenario"):
        validate(production_bg, Options(scenario="deploy"))
    in_place = declared_fleet("staging")
    with pytest.raises(RehearsalInputError, match="deployment.style: blue-green"):
        validate(in_place, Options(scenario="blue-green"))


def test_the_release_moves_every_user_to_the_idle_colour(production_bg):
    verdict = _rehearse(production_bg, scenario="blue-green")
    assert verdict.ok, verdict.render()
    body = body_of(verdict)
    assert set(body) >= VERDICT_KEYS
    bg = body["blueGreen"]
    assert (bg["liveBefore"], bg["liveAfter"], bg["newColour"]) == ("blue", "green", "green")
    assert [c["weights"]["green"] for c in bg["weights"]] == [10, 50, 100] == bg["stepsPlanned"]
    assert bg["finalWeights"] == {"blue": 0, "green": 100}
    assert bg["capacityBefore"]["green"] == {"min": 0, "desired": 0, "max": 6}
    assert bg["capacityAfter"] == {
        "blue": {"min": 0, "desired": 0, "max": 6},
        "green": {"min": 2, "desired": 2, "max": 6},
    }
    # The release's deployment ran the real hooks on green's instances, none on blue's users.
    releases = [d for d in verdict.deployments if d.kind == "deploy"]
    assert [(d.group, d.status, len(d.instances)) for d in releases] == [
        ("cutover-production-fleet-green", "Succeeded", 2)
    ]
    assert verdict.hook_runs >= 4 and body["apiCallsPerInstance"] > 0
    assert bg["exitCode"] == 0 and bg["rollback"] is None and bg["peakInstances"] == 4
    assert verdict.lowest_in_service >= verdict.floor == 2
    page = chart.render("blue-green", verdict)
    assert "Instances in service per colour" in page and "Listener weights (%)" in page


def test_a_breach_at_the_second_step_gives_the_old_colour_every_user_at_once(production_bg):
    verdict = _rehearse(production_bg, scenario="blue-green-rollback")
    assert verdict.ok, verdict.render()
    bg = body_of(verdict)["blueGreen"]
    assert bg["breachInjectedAtStep"] == 2 and "answers 5xx" in bg["fault"]
    assert [c["weights"]["green"] for c in bg["weights"]] == [10, 50, 0]
    assert bg["rollback"]["atOnce"] and bg["rollback"]["fromPercent"] == 50
    assert bg["timeToRollBackSeconds"] == bg["rollback"]["seconds"]
    assert bg["exitCode"] == 1 and "5xx ratio" in bg["error"]
    assert bg["liveAfter"] == "blue" and bg["finalWeights"] == {"blue": 100, "green": 0}
    assert bg["capacityAfter"]["green"] == {"min": 0, "desired": 0, "max": 6}
    assert bg["capacityAfter"]["blue"] == bg["capacityBefore"]["blue"]  # unpinned
    assert bg["requests"]["target5xx"]["green"] > 0 == bg["requests"]["target5xx"]["blue"]


def test_a_scale_out_of_the_live_colour_is_followed_before_half_the_users_move(production_bg):
    verdict = _rehearse(production_bg, scenario="blue-green-scale-out")
    assert verdict.ok, verdict.render()
    body = body_of(verdict)
    bg = body["blueGreen"]
    assert [c["actor"] for c in body["changes"]] == ["operator"]
    assert body["changes"][0]["refused"] is None
    past_half = [c for c in bg["weights"] if c["weights"]["green"] > 50]
    assert past_half and all(
        c["capacity"]["green"]["desired"] >= c["capacity"]["blue"]["desired"] == 4
        and c["inService"]["green"] >= 4
        for c in past_half
    )
    assert bg["capacityAfter"]["green"] == {"min": 2, "desired": 4, "max": 6}
    assert verdict.capacity_after == verdict.expected_after


@pytest.mark.parametrize(
    ("release", "reason"),
    [
        (broken_release.NoRollback, "no rollback: no listener change after the breach"),
        (broken_release.LateRollback, "rolled back only after waiting 60 s more"),
    ],
)
def test_a_release_that_does_not_roll_back_at_once_fails(production_bg, release, reason):
    verdict = _rehearse(production_bg, scenario="blue-green-rollback", release=release)
    assert not verdict.ok
    assert verdict.word == "FAIL", verdict.render()
    assert any(reason in r for r in body_of(verdict)["reasons"]), verdict.reasons
