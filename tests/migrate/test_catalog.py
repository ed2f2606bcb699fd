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
    for rule in catalog.mapping()["families"]:
        assert rule["aws"], rule
