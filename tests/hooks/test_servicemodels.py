"""The reduced service models the hooks ship (hooks/models, hooks/servicemodels.py)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session

from hooks import servicemodels
from hooks.clients import hooks_session
from hooks.permissions import ALL_ACTIONS


def structure(shape: Any, depth: int = 6) -> Any:
    """What a shape says about the wire (names, types, serialization), not its documentation."""
    if shape is None or depth == 0:
        return None
    body: dict[str, Any] = {"type": shape.type_name, "serialization": shape.serialization}
    if shape.type_name == "structure":
        body["members"] = {k: structure(v, depth - 1) for k, v in shape.members.items()}
        body["required"] = sorted(shape.required_members)
    elif shape.type_name == "list":
        body["member"] = structure(shape.member, depth - 1)
    elif shape.type_name == "map":
        body["key"] = structure(shape.key, depth - 1)
        body["value"] = structure(shape.value, depth - 1)
    return body


def test_shipped_models_are_the_installed_botocore_models_cut_to_the_hooks_calls() -> None:
    # Regenerate with `python -m hooks.servicemodels` when this fails.
    expected = servicemodels.generate()
    shipped = {
        str(p.relative_to(servicemodels.MODELS)): json.loads(p.read_text(encoding="utf-8"))
        for p in servicemodels.MODELS.rglob("*.json")
    }
    assert sorted(shipped) == sorted(expected)
    for relative, document in expected.items():
        assert shipped[relative] == json.loads(servicemodels.render(document)), relative


def test_the_hooks_session_loads_the_reduced_models_with_every_operation_they_call() -> None:
    session = hooks_session()
    full = botocore.session.get_session()
    for service, prefix in servicemodels.SERVICES.items():
        client = session.create_client(service, region_name="eu-central-1")
        model = client.meta.service_model
        wanted = {a.split(":")[1] for a in ALL_ACTIONS if a.startswith(prefix + ":")}
        own = wanted & set(full.get_service_model(service).operation_names)
        assert own <= set(model.operation_names), service
        # Only what the hooks call: the point of the reduction.
        assert set(model.operation_names) == own, service
        for name in own:
            reduced = model.operation_model(name)
            original = full.get_service_model(service).operation_model(name)
            for ours, theirs in (
                (reduced.input_shape, original.input_shape),
                (reduced.output_shape, original.output_shape),
            ):
                assert structure(ours) == structure(theirs), (service, name)
        assert client.meta.endpoint_url.endswith(".amazonaws.com"), client.meta.endpoint_url


def test_a_region_of_another_partition_resolves_as_with_botocores_own_data() -> None:
    ours = hooks_session().create_client("autoscaling", region_name="cn-north-1")
    theirs = botocore.session.get_session().create_client("autoscaling", region_name="cn-north-1")
    assert ours.meta.endpoint_url == theirs.meta.endpoint_url
