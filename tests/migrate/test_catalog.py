"""The embedded catalogs and `catalog refresh-ec2` against a moto server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate import catalog


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield url
    server.stop()


def test_refresh_ec2_writes_every_instance_type(moto_endpoint: str, tmp_path: Path) -> None:
    target = tmp_path / "ec2.json"
    count = catalog.refresh_ec2("eu-central-1", target)
    rows = json.loads(target.read_text())["instanceTypes"]
    assert count == len(rows) > 1000
    m7i = next(r for r in rows if r["instanceType"] == "m7i.xlarge")
    assert (m7i["vcpus"], m7i["memoryMib"], m7i["architectures"]) == (4, 16384, ["x86_64"])


def test_embedded_catalogs_are_consistent() -> None:
    names = {t.name for t in catalog.ec2_types()}
    assert {"m7i.large", "m7g.large", "t3.medium", "r7a.xlarge"} <= names
    sizes = catalog.azure_sizes()
    assert sizes["standard_d4s_v5"].vcpus == 4 and sizes["standard_d4s_v5"].memory_gb == 16
    assert sizes["standard_d4ps_v5"].architecture == "Arm64"
    # every EC2 family the GPU-model table names exists in the catalog, or the table is stale
    prefixes = {t.name.split(".")[0] for t in catalog.ec2_types()}
    named = {p for series in catalog.mapping()["gpuModels"].values() for p in series}
    assert named - prefixes <= {"g4ad"}  # g4ad: not in the embedded region's catalog


# Published specifications (aws.amazon.com/ec2/instance-types): vCPUs, GiB, GPUs, current gen.
PUBLISHED = [
    ("r7g.large", 2, 16, 0),
    ("r7g.4xlarge", 16, 128, 0),
    ("g5.xlarge", 4, 16, 1),
    ("g5.12xlarge", 48, 192, 4),
    ("m5.large", 2, 8, 0),
    ("c5.xlarge", 4, 8, 0),
    ("r5.2xlarge", 8, 64, 0),
    ("m6i.xlarge", 4, 16, 0),
    ("r6i.large", 2, 16, 0),
    ("p3.2xlarge", 8, 61, 1),
    ("p3.16xlarge", 64, 488, 8),
    ("f1.2xlarge", 8, 122, 0),
    ("g4dn.xlarge", 4, 16, 1),
    ("p4d.24xlarge", 96, 1152, 8),
    ("p5.48xlarge", 192, 2048, 8),
    ("g6f.large", 2, 8, 0.125),
    ("g6f.2xlarge", 8, 32, 0.25),
    ("g6f.4xlarge", 16, 64, 0.5),
    ("gr6f.4xlarge", 16, 128, 0.5),
    ("x2iedn.2xlarge", 8, 256, 0),
    ("hpc7a.96xlarge", 192, 768, 0),
]


@pytest.mark.parametrize(("name", "vcpus", "gib", "gpus"), PUBLISHED)
def test_ec2_catalog_matches_published_specifications(
    name: str, vcpus: int, gib: float, gpus: float
) -> None:
    t = catalog.ec2_type(name)
    assert t is not None, f"{name} missing from the catalog"
    assert (t.vcpus, t.memory_gib, t.gpus) == (vcpus, gib, gpus)
    assert t.current_generation


def test_fractional_gpu_rows_from_describe_instance_types() -> None:
    item = {
        "InstanceType": "g6f.large",
        "VCpuInfo": {"DefaultVCpus": 2},
        "MemoryInfo": {"SizeInMiB": 8192},
        "ProcessorInfo": {"SupportedArchitectures": ["x86_64"], "Manufacturer": "AMD"},
        "CurrentGeneration": True,
        "GpuInfo": {"Gpus": [{"Name": "L4", "Count": 1, "MemoryInfo": {"SizeInMiB": 3072}}]},
    }
    assert catalog.ec2_row(item)["gpus"] == 0.125
