"""One home for every fact: each is defined once and every part reads it from there. Where the
instance-side hooks must keep a literal (they ship alone, with the standard library and boto3),
it is pinned here to its definition."""

from __future__ import annotations

from pathlib import Path

import yaml

from awsfacts import codedeploy, limits
from awsfacts.tokens import TARGET_GROUP
from cutover import exitcodes
from hooks import errors as hook_errors
from hooks import state as hook_state
from hooks import timing
from policy.resources import Resource
from policy.resources import Settings as PolicySettings
from policy.rules import check as policy_check
from rehearsal.agent import Revision
from revision.cli import main as revision_main
from stack import docs
from stack.config import ConfigError
from stack.load import load_stack_file, read_stack_file

ROOT = Path(__file__).resolve().parents[1]


def _stack_without_register_timeout(tmp_path: Path) -> Path:
    """The shipped production stack with no deployment.registerTimeout: every part must fall
    back to the same default."""
    document = yaml.safe_load((ROOT / "Pulumi.production.yaml").read_text())
    document["config"]["cutover:deployment"].pop("registerTimeout", None)
    path = tmp_path / "Pulumi.production.yaml"
    path.write_text(yaml.safe_dump(document))
    assert "registerTimeout" not in read_stack_file(path)["cutover:deployment"]
    return path


def _register_timeout_in(appspec: Path) -> int:
    hooks = yaml.safe_load(appspec.read_text())["hooks"]
    (timeout,) = [
        entry["timeout"]
        for entries in hooks.values()
        for entry in entries
        if entry["location"].endswith("register.sh") and "deregister" not in entry["location"]
    ]
    return timeout


def test_a_stack_without_register_timeout_gets_one_timeout_everywhere(tmp_path):
    stack_file = _stack_without_register_timeout(tmp_path)

    # The stack rules (infra's validation, the preview, the rehearsal read this).
    validated = load_stack_file(stack_file, stack="production").deployment.register_timeout

    # `revision bundle --config`: the appspec the revision ships.
    revision = tmp_path / "revision"
    revision.mkdir()
    assert revision_main(["bundle", str(revision), "--config", str(stack_file)]) == 0
    bundled = _register_timeout_in(revision / "appspec.yml")

    # The policy pack's default for the appspec's register timeout.
    pack_default = PolicySettings().register_timeout

    # The rehearsal bundles its revision with the timeouts of the validated stack.
    cfg = load_stack_file(stack_file, stack="production")
    rehearsed = Revision.bundle(
        tmp_path / "rehearsal-revision",
        cfg.deployment.deregister_timeout,
        cfg.deployment.register_timeout,
    )
    (rehearsal_register,) = [
        s.timeout for s in rehearsed.scripts if s.location.endswith("/register.sh")
    ]

    assert (
        validated
        == bundled
        == pack_default
        == rehearsal_register
        == timing.DEFAULT_REGISTER_TIMEOUT
    )


def test_the_policy_pack_and_the_stack_rules_draw_the_register_limit_at_the_same_place(tmp_path):
    """A health check that needs as long as the register hook's deadline is refused by the stack
    rules and by the pack; a shorter one passes both."""
    deadline = timing.DEFAULT_REGISTER_TIMEOUT - timing.REGISTER_MARGIN
    threshold = 3
    assert deadline % (threshold + 1) == 0
    too_long = deadline // (threshold + 1)  # (3 + 1) x interval == the deadline

    def stack_refuses(interval: int) -> bool:
        path = _stack_without_register_timeout(tmp_path)
        document = yaml.safe_load(path.read_text())
        check = document["config"]["cutover:loadBalancer"].setdefault("healthCheck", {})
        check.update(healthyThreshold=threshold, interval=interval)
        path.write_text(yaml.safe_dump(document))
        try:
            load_stack_file(path, stack="production")
        except ConfigError as error:
            assert error.key == "cutover:deployment.registerTimeout", str(error)
            return True
        return False

    def pack_refuses(interval: int) -> bool:
        check = {"healthyThreshold": threshold, "interval": interval}
        resource = Resource(type=TARGET_GROUP, name="tg", props={"healthCheck": check})
        return any(
            v.policy == "register-timeout-fits-health-check"
            for v in policy_check([resource], PolicySettings())
        )

    assert stack_refuses(too_long) and pack_refuses(too_long)
    assert not stack_refuses(too_long - 1) and not pack_refuses(too_long - 1)


def test_the_hooks_literals_are_the_aws_facts():
    assert hook_state.MAX_TAG_VALUE == limits.TAG_VALUE_LENGTH
    assert timing.AWS_DEFAULT_DEREGISTRATION_DELAY == limits.DEFAULT_DEREGISTRATION_DELAY
    assert timing.MAX_EVENT_TIMEOUT == codedeploy.MAX_EVENT_TIMEOUT
    assert hook_errors.EXIT_INTERRUPTED == exitcodes.INTERRUPTED
    assert hook_errors.EXIT_UNEXPECTED == exitcodes.UNEXPECTED


def test_the_documented_defaults_are_generated_from_their_definitions(tmp_path):
    """`make docs` writes them; a stale file fails here, naming itself."""
    assert docs.stale() == {}
    # ... and the check can fail: a README showing another register timeout is stale.
    for name in docs.FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    readme = tmp_path / "README.md"
    wrong = f"timeout: {timing.DEFAULT_REGISTER_TIMEOUT + 1}"
    readme.write_text(
        readme.read_text().replace(f"timeout: {timing.DEFAULT_REGISTER_TIMEOUT}", wrong)
    )
    assert list(docs.stale(tmp_path)) == [readme]
    shown = yaml.safe_load((ROOT / "hooks" / "appspec.yml").read_text())["hooks"]
    ours = {e["location"]: e["timeout"] for es in shown.values() for e in es}
    assert {k: ours[k] for k in docs.HOOK_TIMEOUTS} == docs.HOOK_TIMEOUTS
