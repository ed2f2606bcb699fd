"""Every verdict a test reads as JSON is first checked against rehearsal/verdict.schema.json."""

from __future__ import annotations

from typing import Any

from rehearsal import verdictschema


def body_of(verdict: Any) -> dict[str, Any]:
    """The verdict's JSON, as `python -m rehearsal --json` writes it (schema-checked)."""
    return verdictschema.check(verdict.to_json())
