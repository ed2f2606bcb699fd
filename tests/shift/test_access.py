"""A refused call reads the same in the shift and the release: one line naming the action, the
resource, every action the command needs and the README that documents them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from cutover.exitcodes import ENVIRONMENT
from release import access as release_access
from shift import access as shift_access

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [
    pytest.param(shift_access, shift_access.SHIFT_ACTIONS, id="shift"),
    pytest.param(release_access, release_access.RELEASE_ACTIONS, id="release"),
]


@pytest.mark.parametrize(("access", "needs"), COMMANDS)
def test_access_denied_points_to_the_readme_that_lists_every_action(access, needs) -> None:
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "Op")
    with pytest.raises(Exception) as raised, access.aws_errors(needs[0], "thing T"):
        raise denied
    line = str(raised.value)
    assert raised.value.exit_code == ENVIRONMENT
    assert line.startswith(f"{needs[0]} on thing T: access denied; ")
    assert all(action in line for action in needs)
    (readme,) = re.findall(r"\(([a-z]+/README\.md)\)$", line)
    documented = (ROOT / readme).read_text()
    # The README names each action (in full, or by its operation after the service's first).
    assert [a for a in needs if a.split(":")[1] not in documented] == []


@pytest.mark.parametrize(("access", "needs"), COMMANDS)
def test_no_credentials_is_the_environment(access, needs) -> None:
    with pytest.raises(Exception) as raised, access.aws_errors(needs[0], "thing T"):
        raise NoCredentialsError()
    assert raised.value.exit_code == ENVIRONMENT
    assert (
        str(raised.value) == f"{needs[0]}: no AWS credentials (aws configure, AWS_PROFILE or SSO)"
    )
