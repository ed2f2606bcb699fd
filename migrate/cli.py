"""``python -m migrate``: inventory, plan, report, stack-config, catalog refresh-ec2.

Every MigrateError becomes one line on stderr and a non-zero exit code (2; 3 for an inventory
that is written but misses failed subscriptions).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from migrate.errors import MigrateError
from migrate.model import Inventory
from migrate.plan import PLAN_SCHEMA_VERSION, PlanOptions, build_plan

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
catalog_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Maintain the embedded catalogs."
)
app.add_typer(catalog_app, name="catalog")

PARTIAL_EXIT = 3


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MigrateError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise MigrateError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except OSError as exc:
        raise MigrateError(f"{path}: cannot read ({exc.strerror})") from exc


def write_text(path: Path | None, text: str) -> None:
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def load_inventory(path: Path) -> Inventory:
    body = read_json(path)
    if not isinstance(body, dict) or "vms" not in body:
        raise MigrateError(
            f"{path}: not an inventory.json (no 'vms'); create one with `migrate inventory`"
        )
    try:
        return Inventory.from_json(body)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise MigrateError(f"{path}: inventory.json does not match the model ({exc})") from exc


def load_plan(path: Path, group_tag: str = "workload") -> dict[str, Any]:
    """A plan.json, or an inventory.json planned on the fly."""
    body = read_json(path)
    if isinstance(body, dict) and "workloads" in body:
        if body.get("schemaVersion") != PLAN_SCHEMA_VERSION:
            raise MigrateError(
                f"{path}: plan schemaVersion {body.get('schemaVersion')!r}, expected "
                f"{PLAN_SCHEMA_VERSION}"
            )
        return body
    return build_plan(load_inventory(path), PlanOptions(group_tag=group_tag))


@app.command()
def inventory(
    output: Annotated[Path, typer.Option("-o", "--output", help="inventory.json to write")],
    subscription: Annotated[
        list[str] | None,
        typer.Option("--subscription", help="Subscription id (repeat); default: all visible"),
    ] = None,
    from_export: Annotated[
        Path | None,
        typer.Option("--from-export", help="az/ARM JSON file or folder instead of live Azure"),
    ] = None,
    max_workers: Annotated[int, typer.Option(help="Parallel list calls (live)")] = 100,
    resource_graph: Annotated[
        bool,
        typer.Option(
            "--resource-graph",
            help="Live: one Azure Resource Graph query across the subscriptions (big estates); "
            "falls back to per-subscription lists where the query is not permitted",
        ),
    ] = False,
) -> None:
    """Read the Azure estate (live with DefaultAzureCredential, or from exported JSON)."""
    if from_export is not None and subscription:
        raise MigrateError("give --subscription (live) or --from-export (offline), not both")
    if from_export is not None and resource_graph:
        raise MigrateError("--resource-graph is for live inventories, not --from-export")
    if from_export is not None:
        from migrate.sources.export import load_export

        result = load_export(from_export)
    else:
        from migrate.sources.live import inventory_live

        # azure-identity logs every credential it tries as a warning; the summary says enough.
        logging.getLogger("azure").setLevel(logging.ERROR)

        result = inventory_live(
            subscription or None, max_workers=max_workers, resource_graph=resource_graph
        )
    write_text(output, json.dumps(result.to_json(), indent=1) + "\n")
    failed = [s for s in result.subscriptions if s.status != "ok"]
    _say(
        f"inventory: {len(result.vms)} VMs, {len(result.scale_sets)} scale sets, "
        f"{len(result.autoscale)} "
        f"autoscale settings, {len(result.load_balancers)} load balancers/gateways from "
        f"{len(result.subscriptions) - len(failed)} subscription(s) -> {output}"
    )
    for sub in failed:
        _say(f"  FAILED subscription {sub.id}: {sub.error}")
    if failed:
        _say(
            f"{len(failed)} subscription(s) failed (Reader role on each subscription is "
            "needed); the others were written"
        )
        raise typer.Exit(PARTIAL_EXIT)


@app.command()
def plan(
    inventory_file: Annotated[Path, typer.Argument(help="inventory.json")],
    output: Annotated[Path, typer.Option("-o", "--output", help="plan.json to write")],
    group_tag: Annotated[
        str, typer.Option(help="Tag whose value groups plain VMs into a workload")
    ] = "workload",
    prefer_alb: Annotated[
        bool,
        typer.Option(
            "--prefer-alb",
            help="Make an Azure Load Balancer an ALB when every rule is TCP with an HTTP(S) "
            "probe on its backend port (default: NLB, like for like)",
        ),
    ] = False,
) -> None:
    """Map the inventory to AWS workloads (plan.json)."""
    result = build_plan(
        load_inventory(inventory_file), PlanOptions(group_tag=group_tag, prefer_alb=prefer_alb)
    )
    write_text(output, json.dumps(result, indent=1) + "\n")
    _say(
        f"plan: {len(result['workloads'])} workloads, {len(result['skipped'])} skipped -> {output}"
    )


@app.command()
def report(
    input_file: Annotated[Path, typer.Argument(help="plan.json or inventory.json")],
    format: Annotated[str, typer.Option("--format", help="md | html | csv | json")] = "md",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default stdout)")
    ] = None,
) -> None:
    """Render the plan as Markdown, HTML, CSV or JSON."""
    from migrate.report import FORMATS, render

    if format not in FORMATS:
        raise MigrateError(f"--format {format!r}: choose one of {', '.join(FORMATS)}")
    write_text(output, render(load_plan(input_file), format))


@app.command("stack-config")
def stack_config(
    plan_file: Annotated[Path, typer.Argument(help="plan.json (or inventory.json)")],
    workload: Annotated[str, typer.Option(help="Workload name from the plan")],
    stack: Annotated[str, typer.Option(help="Pulumi stack name, e.g. staging")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Default: Pulumi.STACK.yaml")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: the file's, else mapped)")
    ] = None,
    certificate_arn: Annotated[
        str | None, typer.Option(help="ACM certificate for HTTPS listeners")
    ] = None,
) -> None:
    """Write or merge Pulumi.<stack>.yaml for one workload, in the keys infra reads."""
    from migrate.stackconfig import write_stack_config

    target = output or Path(f"Pulumi.{stack}.yaml")
    notes = write_stack_config(
        load_plan(plan_file),
        workload,
        stack,
        target,
        region=region,
        certificate_arn=certificate_arn,
    )
    _say(f"stack-config: workload {workload} -> {target}")
    for note in notes:
        _say(f"  note: {note}")


@catalog_app.command("refresh-ec2")
def refresh_ec2(
    region: Annotated[str, typer.Option(help="Region to describe")] = "us-east-1",
) -> None:
    """Rewrite migrate/catalog/ec2_instance_types.json from `ec2 describe-instance-types`."""
    from migrate import catalog

    count = catalog.refresh_ec2(region)
    _say(f"catalog: {count} EC2 instance types -> {catalog.EC2_TYPES_FILE}")


def main() -> None:
    try:
        app()
    except MigrateError as exc:
        _say(f"error: {exc}")
        sys.exit(exc.exit_code)
