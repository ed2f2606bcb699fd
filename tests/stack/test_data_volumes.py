"""fleet.dataVolumes: the Azure data disks as EBS volumes in the launch template (issue 22)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stack.config import ConfigError, DataVolume
from stack.load import load_mapping
from tests.infra.conftest import run_program, stack_values

TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def _fleet(volumes: list) -> dict:
    values = stack_values("staging")
    values["cutover:fleet"]["dataVolumes"] = volumes
    return values


def test_data_volumes_become_encrypted_block_devices_after_the_root() -> None:
    values = _fleet([{"sizeGb": 64}, {"sizeGb": 512, "type": "io2", "iops": 20000}])
    config = load_mapping(values, stack="staging", source="Pulumi.staging.yaml")
    assert config.fleet.data_volumes == (DataVolume(64), DataVolume(512, "io2", 20000))
    template = run_program("staging", values).one(TEMPLATE).inputs
    devices = template["blockDeviceMappings"]
    assert [d["deviceName"] for d in devices] == ["/dev/xvda", "/dev/sdf", "/dev/sdg"]
    assert devices[1]["ebs"] == {
        "volumeSize": 64,
        "volumeType": "gp3",
        "encrypted": "true",
        "deleteOnTermination": "true",
    }
    assert devices[2]["ebs"]["iops"] == 20000 and devices[2]["ebs"]["encrypted"] == "true"


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        ({"sizeGb": 64, "type": "io2"}, "need provisioned IOPS"),
        ({"sizeGb": 10, "type": "gp3", "iops": 6000}, "at most 500 per GiB"),
        ({"sizeGb": 64, "type": "gp2", "iops": 3000}, "take no provisioned IOPS"),
        ({"sizeGb": 64, "type": "io2", "iops": 3000, "throughput": 200}, "only gp3"),
        ({"sizeGb": 64, "type": "ultra"}, "must be one of gp3"),
        ({"sizeGb": 64, "sise": 1}, "unknown key"),
    ],
)
def test_a_volume_aws_would_reject_names_the_key(volume: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping(_fleet([volume]), stack="staging", source="Pulumi.staging.yaml")
    assert "cutover:fleet.dataVolumes[0]" in str(caught.value) and message in str(caught.value)


def test_the_readme_rows_show_the_data_volume_defaults() -> None:
    readme = (Path(__file__).resolve().parents[2] / "stack" / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if cells and cells[0].startswith("`dataVolumes[]."):
            rows[cells[0].strip("`").split(".", 1)[1]] = cells[2].strip("`")
    default = DataVolume(size_gb=1)
    assert rows["type"] == default.type
    assert rows["iops"] == str(default.iops) and rows["throughput"] == str(default.throughput)
    assert rows["sizeGb"].startswith("— (required)")
