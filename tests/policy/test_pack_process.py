"""The policy pack as the Pulumi CLI runs it: its own process, spoken to over the analyzer gRPC
protocol, fed the resources the real program registers for the production stack."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy.rules import RULES
from preview.cli import evaluate_stack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # The CLI starts the pack's program in the pack's folder and reads the port from stdout.
    process = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait()


def _resources(change: dict[str, dict] | None = None) -> list[analyzer_pb2.AnalyzerResource]:
    found = []
    for r in evaluate_stack("production").resources:
        if not r.custom:
            continue
        properties = struct_pb2.Struct()
        properties.update({**r.outputs, **r.inputs, **(change or {}).get(r.type, {})})
        found.append(
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                name=r.name,
                urn=f"urn:pulumi:production::cutover::{r.type}::{r.name}",
                properties=properties,
            )
        )
    return found


def test_the_pack_declares_every_rule_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "cutover-zero-downtime"
    assert sorted(p.name for p in info.policies) == sorted(RULES)
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}


def test_the_production_stack_passes_the_pack(analyzer):
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=_resources()))
    assert [d.message for d in response.diagnostics] == []


def test_a_one_instance_production_group_is_refused_by_the_pack(analyzer):
    change = {"aws:autoscaling/group:Group": {"minSize": 1}}
    request = analyzer_pb2.AnalyzeStackRequest(resources=_resources(change))
    diagnostics = analyzer.AnalyzeStack(request).diagnostics
    assert {d.policyName for d in diagnostics} == {
        "zero-downtime-group-capacity",
        "deployment-keeps-a-healthy-instance",
    }
    assert all(d.enforcementLevel == analyzer_pb2.MANDATORY for d in diagnostics)
    assert any("MinSize is 1; a zero-downtime group needs >= 2" in d.message for d in diagnostics)
