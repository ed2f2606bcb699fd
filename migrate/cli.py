"""python -m migrate: inventory, plan, report, stack-config, shift, catalog refresh-ec2.

Exit codes (the convention of every Cutover command, README.md): 0 ok; 1 a check failed (shift:
a gate breached and the traffic was rolled back); 2 bad input or usage
(one line naming the file, key or resource and what to do); 3 environment (an output that cannot
be written, an unreachable endpoint, subscriptions that could not be read); 70 an unexpected
error (one line; the traceback with --debug).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover.exitcodes import ENVIRONMENT, UNEXPECTED
from cutover.files import ensure_writable, user_path, write_text
from cutover.main import run
from migrate import schemas
from migrate.errors import MigrateError
from migrate.jsonfile import json_text, paused_gc, read_json
from migrate.model import Inventory
from migrate.plan import PlanOptions, build_plan

PROG = "python -m migrate"
STDOUT = "-"
FORMATS = ("md", "html", "csv", "json")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _kind(body: Any) -> str | None:
    """'plan' or 'inventory' by the top-level keys, None for anything else."""
    if isinstance(body, dict) and "workloads" in body:
        return "plan"
    if isinstance(body, dict) and "vms" in body:
        return "inventory"
    return None


def read_inventory(path: Path) -> tuple[dict[str, Any], Inventory]:
    """An inventory.json, checked against its schema: the document and the model."""
    body = read_json(path)
    if _kind(body) != "inventory":
        raise MigrateError(
            f"{path}: not an inventory.json (no 'vms' list); create one with `migrate inventory`"
        )
    return body, _inventory(body, path)


def _inventory(body: dict[str, Any], path: Path) -> Inventory:
    schemas.check(body, "inventory", path)
    return Inventory.from_json(body)


def checked_plan(plan: dict[str, Any], source: Path) -> dict[str, Any]:
    """``plan`` if it matches plan.schema.json. A plan built here that does not is a bug of the
    planner, never the user's input: exit 70 naming the JSON path, and nothing is written (the
    next command would only reject the file)."""
    found = schemas.problems(plan, "plan")
    if found:
        first = found[0]
        raise MigrateError(
            f"{source}: the plan built from it breaks plan.schema.json at {first.json_path}: "
            f"{schemas.describe(first)} (a bug: report it with the inventory; nothing written)",
            exit_code=UNEXPECTED,
        )
    return plan


def load_plan(path: Path, group_tag: str = "workload") -> dict[str, Any]:
    """A plan.json, or an inventory.json planned on the fly; either checked against its schema."""
    body = read_json(path)
    kind = _kind(body)
    if kind == "plan":
        schemas.check(body, "plan", path)
        return body
    if kind == "inventory":
        inventory = _inventory(body, path)
        plan = build_plan(inventory, PlanOptions(group_tag=group_tag))
        return checked_plan(with_source(plan, body, path), path)
    raise MigrateError(
        f"{path}: neither a plan.json (no 'workloads') nor an inventory.json (no 'vms'); "
        "create them with `migrate inventory` and `migrate plan`"
    )


def with_source(plan: dict[str, Any], inventory: dict[str, Any], path: Path) -> dict[str, Any]:
    """The plan with a ``source`` block: where its inventory came from and when (for reports)."""
    source = dict(inventory.get("source") or {})
    source.setdefault("inventory", str(path))
    subscriptions = inventory.get("subscriptions") or []
    source.setdefault("subscriptions", subscriptions)
    source["plannedAt"] = _now()
    return {**plan, "source": source}


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _emit(output: Path | None, text: str) -> None:
    if output is None or str(output) == STDOUT:
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:
            # A console whose code page lacks a character of a name or tag: UTF-8, as files
            # are written (the text is encoded whole before anything is written).
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode("utf-8"))
        return
    write_text(output, text)


def _check_output(output: Path | None, *inputs: Path | None) -> None:
    """Fail before any long work if the output cannot be written, or is one of the inputs."""
    if output is None or str(output) == STDOUT:
        return
    for source in inputs:
        if source is not None and output.exists() and source.exists() and source.samefile(output):
            raise MigrateError(
                f"{output}: is also the input; writing it would replace what is being "
                "read: choose another -o"
            )
    ensure_writable(output)


# -- commands ---------------------------------------------------------------------------------


def cmd_inventory(args: argparse.Namespace) -> int:
    if args.from_export is not None and args.subscription:
        raise MigrateError("give --subscription (live) or --from-export (offline), not both")
    if args.exclude and args.from_export is None:
        raise MigrateError("--exclude is for --from-export")
    if args.from_export is not None and args.resource_graph:
        raise MigrateError("--resource-graph is for live inventories, not --from-export")
    if args.from_export is not None and args.metrics:
        raise MigrateError(
            "--metrics reads Azure Monitor live; with --from-export put `az monitor metrics "
            "list` files in the export instead"
        )
    if args.days < 1 or args.days > 93:
        raise MigrateError(f"--days {args.days}: give 1 to 93 (Azure Monitor keeps 93 days)")
    _check_output(args.output, args.from_export)
    if args.from_export is not None:
        from migrate.sources.export import load_export

        result = load_export(args.from_export, args.exclude or ())
        for note in result.notes:
            if note.endswith("leave it out with --exclude"):
                _say(f"  {note}")
        origin = {"kind": "export", "path": str(args.from_export)}
    else:
        from migrate.sources.live import inventory_live

        # azure-identity logs every credential it tries as a warning; the summary says enough.
        logging.getLogger("azure").setLevel(logging.ERROR)
        result = inventory_live(
            args.subscription or None,
            max_workers=args.max_workers,
            resource_graph=args.resource_graph,
        )
        origin = {"kind": "live", "subscriptions": args.subscription or "every visible one"}
        if args.metrics:
            from migrate.sources.live import AzureConnection
            from migrate.sources.metrics_live import read_metrics

            report = read_metrics(result, AzureConnection(), days=args.days)
            _say(
                f"metrics: {len(report.utilization)} resources, {report.batch_calls} batch "
                f"calls, {report.fallback_calls} per-resource calls, {len(report.notes)} notes"
            )
    body = result.to_json()
    body["source"] = {**origin, "inventoriedAt": _now()}
    _emit(args.output, json_text(body))
    failed = [s for s in result.subscriptions if s.status != "ok"]
    _say(
        f"inventory: {len(result.vms)} VMs, {len(result.scale_sets)} scale sets, "
        f"{len(result.autoscale)} "
        f"autoscale settings, {len(result.load_balancers)} load balancers/gateways from "
        f"{len(result.subscriptions) - len(failed)} subscription(s) -> {args.output}"
    )
    for sub in failed:
        _say(f"  FAILED subscription {sub.id}: {sub.error}")
    if failed:
        _say(
            f"{len(failed)} subscription(s) failed (Reader role on each subscription is "
            "needed); the others were written"
        )
        return ENVIRONMENT
    return 0


def _gc_paused(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command on files with the cyclic GC paused: it loads, plans or renders millions of
    objects without cycles, over which each collection rescanned the heap (a 100,000-VM plan:
    1.6 s with the GC paused, 4.1 s without)."""

    @functools.wraps(command)
    def paused(args: argparse.Namespace) -> int:
        with paused_gc():
            return command(args)

    return paused


@_gc_paused
def cmd_plan(args: argparse.Namespace) -> int:
    _check_output(args.output, args.inventory_file)
    body, inventory = read_inventory(args.inventory_file)
    options, cache = plan_options(args)
    result = build_plan(inventory, options)
    if cache is not None:
        from migrate.costs import cost_plan

        cost_plan(result, cache)
    result = checked_plan(with_source(result, body, args.inventory_file), args.inventory_file)
    _emit(args.output, json_text(result))
    _say(
        f"plan: {len(result['workloads'])} workloads, {len(result['skipped'])} skipped "
        f"-> {args.output}"
    )
    return 0


def plan_options(args: argparse.Namespace) -> tuple[PlanOptions, Any]:
    """The planner's options from ``plan``'s arguments, and the price cache (None: --no-prices)."""
    from migrate.costs import hourly_lookup
    from migrate.performance import PerformanceOptions
    from migrate.prices import default_cache, load_cache

    try:
        performance = PerformanceOptions(
            percentile=args.percentile,
            comfort_factor=args.comfort_factor,
            min_history_days=args.min_history_days,
            min_confidence=args.min_confidence,
        )
    except ValueError as exc:
        raise MigrateError(f"plan: {exc}") from exc
    cache = None if args.no_prices else load_cache(args.prices or default_cache())
    return (
        PlanOptions(
            group_tag=args.group_tag,
            prefer_alb=args.prefer_alb,
            sizing=args.sizing,
            performance=performance,
            ec2_hourly=hourly_lookup(cache) if cache is not None else None,
        ),
        cache,
    )


def cmd_prices_refresh(args: argparse.Namespace) -> int:
    from migrate.prices import default_cache, load_cache, refresh_aws, refresh_azure, save_cache

    path = args.cache or default_cache()
    ensure_writable(path)
    azure_skus: list[str] = []
    aws_types: list[str] = []
    if args.plan is not None:
        plan = load_plan(args.plan)
        for w in plan["workloads"]:
            azure_skus.append(w["azure"]["vmSize"])
            aws_types += [w["aws"]["instanceType"], (w["aws"].get("sizing") or {}).get("asIs")]
    cache = load_cache(path)
    counts = []
    if args.azure_region:
        found = refresh_azure(cache, args.azure_region, sorted(set(azure_skus)))
        counts.append(f"{found} Azure prices ({args.azure_region})")
    if args.aws_region:
        found = refresh_aws(cache, args.aws_region, sorted({t for t in aws_types if t}))
        counts.append(f"{found} AWS prices ({args.aws_region})")
    if not counts:
        raise MigrateError("prices refresh: give --azure-region and/or --aws-region")
    save_cache(cache, path)
    _say(f"prices: {', '.join(counts)} -> {path}")
    return 0


@_gc_paused
def cmd_report(args: argparse.Namespace) -> int:
    from migrate.render import render
    from migrate.report import Context

    _check_output(args.output, args.input_file)
    plan = load_plan(args.input_file)
    context = Context(plan_file=str(args.input_file), generated_at=_now())
    _emit(args.output, render(plan, args.format, context))
    return 0


@_gc_paused
def cmd_stack_config(args: argparse.Namespace) -> int:
    from migrate.stackconfig import write_stack_config

    target = args.output or Path(f"Pulumi.{args.stack}.yaml")
    if str(target) != STDOUT:
        ensure_writable(target)
    result = write_stack_config(
        load_plan(args.plan_file),
        args.workload,
        args.stack,
        target,
        region=args.region,
        certificate_arn=args.certificate_arn,
        force=args.force,
        plan_capacity=args.plan_capacity,
    )
    if str(target) == STDOUT:
        sys.stdout.write(result.text)
    _say(f"stack-config: workload {args.workload} -> {target}")
    for line in result.summary():
        _say(f"  {line}")
    return 0


def cmd_refresh_ec2(args: argparse.Namespace) -> int:
    from migrate import catalog

    ensure_writable(catalog.EC2_TYPES_FILE)
    count = catalog.refresh_ec2(args.region)
    _say(f"catalog: {count} EC2 instance types -> {catalog.EC2_TYPES_FILE}")
    return 0


# -- the parser -------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of an unexpected error"
    )


def _performance_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--sizing",
        choices=("performance", "as-is"),
        default="performance",
        help="performance: from measured use where the inventory has metrics (else as-is); "
        "as-is: from the Azure size (default: performance)",
    )
    sub.add_argument(
        "--percentile", type=int, choices=(50, 90, 95, 99), default=95,
        help="percentile of the hourly CPU and used memory (default: 95)",
    )  # fmt: skip
    sub.add_argument(
        "--comfort-factor", type=float, default=1.3, metavar="F",
        help="headroom over the percentile (default: 1.3)",
    )  # fmt: skip
    sub.add_argument(
        "--min-history-days", type=float, default=7.0, metavar="DAYS",
        help="days of data below which a workload stays as-is (default: 7)",
    )  # fmt: skip
    sub.add_argument(
        "--min-confidence", type=int, choices=range(1, 6), default=3, metavar="1-5",
        help="confidence (share of data points present) below which a workload stays as-is "
        "(default: 3)",
    )  # fmt: skip
    sub.add_argument(
        "--prices", type=Path, metavar="FILE",
        help="price cache (default: $CUTOVER_PRICE_CACHE or ~/.cache/cutover/prices.json; "
        "filled by `prices refresh`); prices it lacks show as unknown",
    )  # fmt: skip
    sub.add_argument("--no-prices", action="store_true", help="plan without costs")


def parser() -> argparse.ArgumentParser:
    # Under the console script (`cutover migrate ...`) the usage names that command.
    prog = sys.argv[0] if sys.argv and sys.argv[0].startswith("cutover ") else PROG
    top = argparse.ArgumentParser(
        prog=prog,
        description="Azure inventory -> AWS plan -> reports and Pulumi stack config.",
        epilog="Exit codes: 0 ok, 2 bad input or usage, 3 environment (unwritable output, "
        "unreachable endpoint, subscriptions not read), 70 unexpected error. "
        "Details: migrate/README.md.",
    )
    _common(top)
    commands = top.add_subparsers(
        dest="command", metavar="COMMAND", required=True, title="commands"
    )

    sub = commands.add_parser(
        "inventory",
        help="read the Azure estate (live, or from exported JSON) into inventory.json",
        description="Read the Azure estate: live with DefaultAzureCredential (Reader role), or "
        "offline from `az ... list` / ARM JSON files.",
    )
    sub.add_argument(
        "-o", "--output", type=user_path, required=True, help="inventory.json to write"
    )
    sub.add_argument(
        "--subscription",
        action="append",
        metavar="ID",
        help="subscription id to read (repeat); default: every enabled one you can see",
    )
    sub.add_argument(
        "--from-export",
        type=user_path,
        metavar="PATH",
        help="a JSON file or a folder of them, instead of live Azure",
    )
    sub.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="with --from-export: leave out files or folders matching this glob (repeat), "
        "e.g. 'node_modules' or 'package*.json'; JSON that is plainly not Azure's is skipped "
        "with a note anyway",
    )
    sub.add_argument(
        "--max-workers", type=int, default=100, help="parallel list calls, live (default: 100)"
    )
    sub.add_argument(
        "--resource-graph",
        action="store_true",
        help="live: one Azure Resource Graph query across the subscriptions (big estates); "
        "falls back to per-subscription listing where the query is not permitted",
    )
    sub.add_argument(
        "--metrics",
        action="store_true",
        help="live: also read Azure Monitor platform metrics (CPU, available memory, network, "
        "disk IOPS; hourly average and maximum) of every VM and scale set, for --sizing "
        "performance",
    )
    sub.add_argument(
        "--days", type=int, default=30, help="days of metrics to read (default: 30, max 93)"
    )
    _common(sub)
    sub.set_defaults(run=cmd_inventory)

    sub = commands.add_parser(
        "plan",
        help="map the inventory to AWS workloads (plan.json)",
        description="Map the inventory to workloads, one future Auto Scaling group each. Fails "
        "if a resource is not accounted for.",
    )
    sub.add_argument("inventory_file", type=user_path, metavar="INVENTORY", help="inventory.json")
    sub.add_argument("-o", "--output", type=user_path, required=True, help="plan.json to write")
    sub.add_argument(
        "--group-tag",
        default="workload",
        metavar="TAG",
        help="tag whose value groups plain VMs into one workload (default: workload)",
    )
    sub.add_argument(
        "--prefer-alb",
        action="store_true",
        help="make an Azure Load Balancer an ALB when every rule is TCP with an HTTP(S) probe "
        "on its backend port (default: NLB, like for like)",
    )
    _performance_arguments(sub)
    _common(sub)
    sub.set_defaults(run=cmd_plan)

    sub = commands.add_parser(
        "report",
        help="render the plan as Markdown, HTML, CSV or JSON",
        description="Render the plan (or an inventory, planned on the fly).",
    )
    sub.add_argument(
        "input_file", type=user_path, metavar="PLAN", help="plan.json (or inventory.json)"
    )
    sub.add_argument("--format", choices=FORMATS, default="md", help="report format (default: md)")
    sub.add_argument(
        "-o", "--output", type=user_path, metavar="FILE", help="file to write (default: stdout)"
    )
    _common(sub)
    sub.set_defaults(run=cmd_report)

    sub = commands.add_parser(
        "stack-config",
        help="write or merge Pulumi.STACK.yaml for one workload",
        description="Write Pulumi.STACK.yaml for one workload in the keys infra reads, or merge "
        "into an existing stack file (other keys and comments stay). Refuses to write into a "
        "file that is not a Pulumi stack file, and a blocked workload (exit 1), unless --force.",
    )
    sub.add_argument(
        "plan_file", type=user_path, metavar="PLAN", help="plan.json (or inventory.json)"
    )
    sub.add_argument("--workload", required=True, metavar="NAME", help="workload from the plan")
    sub.add_argument("--stack", required=True, metavar="STACK", help="Pulumi stack, e.g. staging")
    sub.add_argument(
        "-o",
        "--output",
        type=user_path,
        metavar="FILE",
        help="stack file to write or merge into (default: Pulumi.STACK.yaml; - for stdout)",
    )
    sub.add_argument(
        "--region", metavar="REGION", help="AWS region (default: the file's, else mapped)"
    )
    sub.add_argument("--certificate-arn", metavar="ARN", help="ACM certificate for HTTPS listeners")
    sub.add_argument(
        "--plan-capacity",
        action="store_true",
        help="take Min/Desired/Max from the plan even for a stack that accepts downtime "
        "(fleet.allowDowntime: true), which otherwise keeps its own",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="replace an output that is not a Pulumi stack file (malformed YAML, a list, "
        "a mapping without config:), and write a workload the plan marks blocked (the file's "
        "header then lists the blockers that remain)",
    )
    _common(sub)
    sub.set_defaults(run=cmd_stack_config)

    prices = commands.add_parser(
        "prices", help="maintain the price cache", description="Maintain the price cache."
    )
    _common(prices)
    price_commands = prices.add_subparsers(dest="prices_command", metavar="COMMAND")
    price_commands.required = True
    sub = price_commands.add_parser(
        "refresh",
        help="fetch on-demand VM prices into the price cache",
        description="Azure: the Retail Prices API (anonymous; pay-as-you-go VM meters of the "
        "region). AWS: the Price List Query API (boto3's default session, us-east-1; honours "
        "AWS_ENDPOINT_URL). Entries are dated and name their source.",
    )
    sub.add_argument("--azure-region", metavar="R", help="Azure region, e.g. westeurope")
    sub.add_argument("--aws-region", metavar="R", help="AWS region, e.g. eu-central-1")
    sub.add_argument(
        "--plan", type=Path, metavar="PLAN",
        help="only the sizes and types of this plan.json (default: every VM size of the region)",
    )  # fmt: skip
    sub.add_argument("--cache", type=Path, metavar="FILE", help="price cache to update")
    _common(sub)
    sub.set_defaults(run=cmd_prices_refresh)

    catalog = commands.add_parser(
        "catalog", help="maintain the embedded catalogs", description="Maintain the catalogs."
    )
    _common(catalog)
    catalog_commands = catalog.add_subparsers(dest="catalog_command", metavar="COMMAND")
    catalog_commands.required = True
    sub = catalog_commands.add_parser(
        "refresh-ec2",
        help="rewrite awsfacts/data/ec2_instance_types.json from ec2 describe-instance-types",
        description="Rewrite awsfacts/data/ec2_instance_types.json from "
        "`ec2 describe-instance-types` (boto3's default session; honours AWS_ENDPOINT_URL).",
    )
    sub.add_argument(
        "--region", default="us-east-1", help="region to describe (default: us-east-1)"
    )
    _common(sub)
    sub.set_defaults(run=cmd_refresh_ec2)
    return top


def _dispatch(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["shift"]:
        # The traffic shift's old name: `python -m migrate shift` is `python -m shift`.
        from shift.cli import main as shift_main

        return shift_main(args_list[1:], prog=f"{PROG} shift", name="migrate shift")
    args = parser().parse_args(args_list)
    return args.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error becomes one line and an exit code (README.md)."""
    return run("migrate", lambda: _dispatch(argv), argv)
