"""Benchmark: the reports of a large estate (default 3,000 workloads).

    .venv/bin/python bench/bench_report.py [--workloads 3000]

Builds a synthetic estate of scale sets with CPU autoscale behind load balancers (tests'
``estate.py``), plans it, and renders every report format. Prints the plan time, each format's
render time and size, and the HTML's element count (what the page's search filters).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from migrate.plan import build_plan  # noqa: E402
from migrate.render import render  # noqa: E402
from migrate.report import Context  # noqa: E402
from migrate.sources.export import load_export  # noqa: E402
from tests.migrate.estate import subscription_id, synthetic_subscription  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", type=int, default=3000)
    args = parser.parse_args()
    subscriptions = max(1, args.workloads // 300)
    per = args.workloads // subscriptions
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(subscriptions):
            sub = subscription_id(i)
            items = synthetic_subscription(sub, vms=0, scale_sets=per, lbs=max(2, per // 10))
            (Path(tmp) / f"{sub}.json").write_text(json.dumps({"value": items}))
        inventory = load_export(tmp)
    started = time.perf_counter()
    plan = build_plan(inventory)
    print(f"plan: {len(plan['workloads'])} workloads in {time.perf_counter() - started:.2f} s")
    context = Context(plan_file="plan.json", generated_at="2026-01-01T00:00:00Z")
    for fmt in ("md", "html", "csv", "json"):
        started = time.perf_counter()
        text = render(plan, fmt, context)
        elapsed = time.perf_counter() - started
        size = len(text.encode("utf-8"))
        extra = f", {text.count(' data-f')} filterable elements" if fmt == "html" else ""
        print(f"{fmt:>4}: {size / 1e6:6.2f} MB in {elapsed:.2f} s{extra}")


if __name__ == "__main__":
    main()
