"""Fixtures for the migrate tests: the fake ARM server, SDK connection settings, the sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate.model import Inventory
from migrate.sources.export import load_export
from migrate.sources.live import AzureConnection
from tests.migrate.fake_arm import FakeArm, FakeCredential, PlainHttpBearerPolicy
from tests.migrate.fake_metrics import FakeMonitor

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "migrate" / "sample"
PROD = "6d1f3c2a-8b4e-4f7a-9c3d-1a2b3c4d5e6f"
LEGACY = "9e8d7c6b-5a4f-4e3d-8c2b-1f0e9d8c7b6a"


@pytest.fixture
def fake_arm() -> Iterator[FakeArm]:
    """An empty fake ARM server on 127.0.0.1 (add resources, faults, latency per test)."""
    with FakeArm(page_size=2) as server:
        yield server


@pytest.fixture
def sample_arm(fake_arm: FakeArm) -> FakeArm:
    """The fake ARM server serving the sample estate, two items per page."""
    fake_arm.add_export_folder(SAMPLE)
    fake_arm.ensure_collections()
    return fake_arm


def connection_for(server: FakeArm | FakeMonitor, **client_kwargs: object) -> AzureConnection:
    """Real Azure clients pointed at a fake server (ARM, Monitor) over plain http, short
    retries."""
    credential = FakeCredential()
    kwargs = {
        "authentication_policy": PlainHttpBearerPolicy(credential),
        "retry_total": 3,
        "retry_backoff_factor": 0.01,
        "retry_backoff_max": 0.05,
        **client_kwargs,
    }
    return AzureConnection(credential=credential, base_url=server.url, client_kwargs=kwargs)


@pytest.fixture
def sample_inventory() -> Inventory:
    return load_export(SAMPLE)
