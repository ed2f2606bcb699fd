"""The HTML report as a reader sees it: headless Chromium at 1400 px (skipped without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.model import Inventory
from migrate.plan import build_plan
from migrate.render import render
from tests import chromium


@pytest.mark.skipif(chromium.missing(), reason="no Chromium on this machine (CI requires it)")
def test_the_report_fits_the_window_and_its_text_is_readable(
    sample_inventory: Inventory, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(build_plan(sample_inventory), "html"), encoding="utf-8")
    chromium.screenshot(page, tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert chromium.problems(chromium.layout(page)) == []


def test_a_region_name_does_not_break_at_its_hyphens(sample_inventory: Inventory) -> None:
    page = render(build_plan(sample_inventory), "html")
    assert "<td class='nw'>eu-central-1</td>" in page and ".nw{white-space:nowrap}" in page
