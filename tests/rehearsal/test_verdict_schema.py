"""The verdict's JSON contract: rehearsal/verdict.schema.json, checked both ways, and the field
list the rehearsal's README gives."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from rehearsal import verdictschema
from tests.rehearsal.test_verdict import _verdict

ROOT = Path(__file__).resolve().parents[2]


def test_a_verdict_matches_its_schema():
    body = verdictschema.check(_verdict().to_json())
    assert body["verdict"] == "PASS"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda b: b.pop("outOfService"), "$"),
        (lambda b: b.update(surprise=1), "$"),
        (lambda b: b["capacityAfter"].update(min=-1), "$.capacityAfter.min"),
        (lambda b: b.update(verdict="MAYBE"), "$.verdict"),
    ],
)
def test_a_verdict_that_drifts_from_the_schema_is_refused_with_its_path(change, where):
    body = copy.deepcopy(_verdict().to_json())
    change(body)
    with pytest.raises(verdictschema.VerdictSchemaError) as raised:
        verdictschema.check(body)
    assert f"at {where}:" in str(raised.value)


def test_the_readme_names_every_verdict_field():
    readme = (ROOT / "rehearsal" / "README.md").read_text()
    section = readme.split("## The verdict", 1)[1]
    missing = [name for name in verdictschema.fields() if f"`{name}`" not in section]
    assert not missing, missing
