"""stack/README.md's table of keys is checked against the one definition: every key the stack
rules read is documented, and every plain default the table shows is the model's default."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from stack import docs

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "stack" / "README.md").read_text()
TABLE = README.split("| Key | Type | Default | Rule |", 1)[1].split("\n\n", 1)[0]
READS = ("string", "integer", "boolean", "choice", "value", "number", "strings", "has", "section")
SECTIONS = docs.SECTIONS


def _keys_read() -> set[str]:
    """Every key name the stack rules read (the first string argument of a _Section read)."""
    found = set()
    for name in ("sections.py", "loadbalancersection.py", "trafficsection.py"):
        tree = ast.parse((ROOT / "stack" / name).read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in READS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def _documented_words() -> set[str]:
    words = set()
    for row in TABLE.splitlines():
        first = row.split("|")[1] if row.count("|") > 2 else ""
        for quoted in re.findall(r"`([^`]+)`", first):
            words.update(re.split(r"[.:]", quoted))
    return words


def _rows(section: str) -> dict[str, str]:
    """key -> Default cell, for the rows of one `cutover:<section>` block."""
    block = TABLE.split(f"| **`cutover:{section}`**", 1)[1].split("| **`", 1)[0]
    rows = {}
    for row in block.splitlines()[1:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        if len(cells) >= 3 and re.fullmatch(r"`[A-Za-z]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[2]
    return rows


def test_every_key_the_rules_read_is_in_the_readme_table():
    keys = _keys_read()
    assert len(keys) > 60, keys  # the scan found the reads
    missing = sorted(keys - _documented_words())
    assert not missing, f"stack/README.md does not document: {missing}"


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_the_readme_shows_the_models_defaults(section):
    model = SECTIONS[section]
    rows = _rows(section)
    checked = 0
    for field in dataclasses.fields(model):
        if field.default is dataclasses.MISSING or isinstance(field.default, tuple):
            continue
        cell = rows.get(docs.camel(field.name))
        plain = re.fullmatch(r"`([^`]*)`", cell or "")
        if plain is None or plain.group(1) in rows:
            continue  # a default described in words, or another key's value (`minSize`)
        value = field.default
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        assert plain.group(1) in (shown, f'"{shown}"'), (section, field.name, cell, value)
        checked += 1
    assert checked, f"no plain default checked in cutover:{section}"
