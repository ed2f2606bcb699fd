"""migrate's JSON files are parsed by orjson, with the standard library deciding what orjson
refuses (migrate/jsonfile.py read_json): the same documents read, the same errors worded."""

from __future__ import annotations

import gc
import io
import json
import math
import sys
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.errors import MigrateError
from migrate.jsonfile import read_json
from migrate.model import Inventory


def test_what_orjson_refuses_reads_as_the_standard_library_reads_it(tmp_path: Path) -> None:
    # NaN and integers beyond 64 bits are not JSON; the standard library has always read them
    text = '{"a": NaN, "b": 123456789012345678901234567890, "c": [1.5, "\\u00e9"]}'
    path = tmp_path / "odd.json"
    path.write_text(text, encoding="utf-8")

    body = read_json(path)

    assert math.isnan(body["a"]) and body["b"] == 123456789012345678901234567890
    assert body["c"] == [1.5, "é"]


def test_a_malformed_file_is_worded_by_the_standard_library(tmp_path: Path) -> None:
    path = tmp_path / "inventory.json"
    path.write_text('{"vms": [\n  {"id": "/x",}\n]}', encoding="utf-8")
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        expected = f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"

    with pytest.raises(MigrateError) as raised:
        read_json(path)

    assert str(raised.value) == expected and "line 2 column" in expected


def test_a_utf16_file_with_its_mark_reads_as_utf8(tmp_path: Path) -> None:
    # Windows PowerShell 5 writes `az ... > file.json` as UTF-16
    body = {"vms": [{"name": "vm-é", "tags": {"owner": "zoë"}}]}
    path = tmp_path / "ps5.json"
    path.write_bytes(json.dumps(body, ensure_ascii=False).encode("utf-16"))

    assert read_json(path) == body


def test_the_gc_is_running_again_after_a_file_fails_to_parse(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")

    with pytest.raises(MigrateError):
        read_json(path)

    assert gc.isenabled()


def test_a_plan_with_names_beyond_ascii_reaches_a_latin1_console_as_utf8(
    sample_inventory: Inventory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # plan.json is written as UTF-8 by orjson; a console that cannot show a name gets UTF-8 too
    body = sample_inventory.to_json()
    # Azure allows Unicode letters in resource group names; a resource skipped is listed by id
    body["otherResources"] = [
        {
            "id": "/subscriptions/s/resourceGroups/rg-東京/providers/Microsoft.Web/sites/app",
            "type": "Microsoft.Web/sites",
            "source": "az-resource-list.json",
        }
    ]
    source = tmp_path / "inventory.json"
    source.write_text(json.dumps(body), encoding="utf-8")
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="latin-1"))

    code = main(["plan", str(source), "-o", "-", "--no-prices"])
    sys.stdout.flush()

    assert code == 0
    plan = json.loads(raw.getvalue().decode("utf-8"))
    assert "東京" in json.dumps(plan, ensure_ascii=False)
