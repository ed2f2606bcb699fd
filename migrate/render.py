"""`migrate report --format md|html|csv|json`: one plan, four renderers. The content they share
(summary, rows, lines per workload) is in ``migrate/report.py``; each format's layout in its own
module."""

from __future__ import annotations

from typing import Any

from migrate.report import FORMATS, Context, as_csv, as_json
from migrate.report_html import page
from migrate.report_md import markdown


def render(plan: dict[str, Any], fmt: str, context: Context | None = None) -> str:
    """The report of ``plan`` in ``fmt`` (one of FORMATS)."""
    context = context or Context()
    if fmt == "json":
        return as_json(plan)
    if fmt == "csv":
        return as_csv(plan)
    if fmt == "md":
        return markdown(plan, context)
    if fmt == "html":
        return page(plan, context)
    raise ValueError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
