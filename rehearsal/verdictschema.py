"""The contract of ``python -m rehearsal --json FILE``: ``rehearsal/verdict.schema.json``
(draft 2020-12). The command checks every verdict against it before writing it, so a field added
to the code but not to the schema (or the other way round) is a bug caught at once, exit 70."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_FILE = Path(__file__).resolve().parent / "verdict.schema.json"


class VerdictSchemaError(Exception):
    """The verdict does not match its schema: a bug in the rehearsal, never the user's input."""


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check(body: Any) -> Any:
    """Return ``body`` if it matches the schema; else raise naming the JSON path."""
    errors = list(validator().iter_errors(body))
    if errors:
        first = best_match(errors)
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.path)
        raise VerdictSchemaError(
            f"verdict JSON breaks {SCHEMA_FILE.name} at {where}: {first.message}"
        )
    return body


def fields() -> tuple[str, ...]:
    """The top-level fields of a verdict, as the schema names them."""
    return tuple(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["properties"])
