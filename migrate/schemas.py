"""The files migrate reads back, checked against their JSON Schemas before anything uses them.

``migrate/schemas/inventory.schema.json`` and ``migrate/schemas/plan.schema.json`` are the
contracts (draft 2020-12). This module only runs them: it knows no field of either file, so a
schema can grow without a change here. A document that does not match is a ``MigrateError``
naming the file, the JSON path of the first problem (``$.vms[1].vmSize``) and what to do.

Two validators of the same schema: jsonschema-rs (compiled, in Rust) says whether a document
matches, 270 times faster than the reference (a 10,000-VM inventory: 26 ms, against 7.1 s);
only a document it refuses is walked by jsonschema, the reference, which finds the problems and
words them. So a valid document costs milliseconds, a refusal says what it always said, and
nothing the reference refuses is accepted (tests/migrate/test_shapes.py compares the two on
every hand edit of the sample's files).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from migrate.errors import MigrateError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
# Which command re-creates each kind of file (the remedy the message gives).
REMEDY = {
    "inventory": "fix the value or re-create the file with `migrate inventory`",
    "plan": "fix the value or re-create the file with `migrate plan`",
}


@cache
def schema(kind: str) -> dict[str, Any]:
    """``migrate/schemas/<kind>.schema.json`` (each is checked against the draft's metaschema
    by tests/migrate/test_plan_schema.py, not on every run: that took 0.17 s a schema)."""
    found: dict[str, Any] = json.loads(
        (SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8")
    )
    return found


@cache
def validator(kind: str) -> Draft202012Validator:
    """The reference validator of ``kind``: it finds and words the problems."""
    return Draft202012Validator(schema(kind))


@cache
def fast_validator(kind: str) -> Any:
    """The compiled validator of ``kind``: it only says whether a document matches (formats
    are not asserted, as by the reference)."""
    return jsonschema_rs.Draft202012Validator(schema(kind), validate_formats=False)


def matches(document: Any, kind: str) -> bool:
    """True when the compiled validator accepts ``document``; False when it refuses it (NaN,
    which the standard library reads and the reference takes for a number, among others) or
    cannot read it: the reference decides then."""
    try:
        return bool(fast_validator(kind).is_valid(document))
    except (ValueError, TypeError, OverflowError):
        return False


def problems(document: Any, kind: str) -> list[ValidationError]:
    """Every place ``document`` breaks the ``kind`` schema, the most relevant first."""
    if matches(document, kind):
        return []
    errors = list(validator(kind).iter_errors(document))
    if not errors:
        return []
    first = best_match(errors)
    return [first, *(e for e in errors if e is not first)]


def check(document: Any, kind: str, source: str | Path) -> None:
    """Raise a one-line ``MigrateError`` unless ``document`` matches the ``kind`` schema."""
    found = problems(document, kind)
    if not found:
        return
    first = found[0]
    more = f" ({len(found) - 1} more problem(s) after this one)" if len(found) > 1 else ""
    raise MigrateError(
        f"{source}: not a valid {kind}.json: {first.json_path}: {describe(first)}{more}; "
        f"{REMEDY.get(kind, 'fix the value')}"
    )


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(error: ValidationError) -> str:
    """The problem in JSON terms (``null``, not Python's ``None``)."""
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, found {_show(error.instance)}"
    if error.validator in ("const", "enum"):
        allowed = (
            [error.validator_value] if error.validator == "const" else list(error.validator_value)
        )
        if list(error.path) == ["schemaVersion"]:
            return (
                f"schemaVersion {_show(error.instance)} is not supported (this version of "
                f"Cutover reads {', '.join(_show(a) for a in allowed)})"
            )
        return f"{_show(error.instance)} is not one of {', '.join(_show(a) for a in allowed)}"
    if error.validator == "required":
        return error.message
    if error.validator in ("anyOf", "oneOf") and error.context:
        return describe(best_match(error.context))
    return error.message
