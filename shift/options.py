"""The options of ``python -m shift`` (no AWS SDK import: every command builds them)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_STEPS = (5, 25, 50, 100)
BREACH_TARGETS = ("last-step", "azure")


def add_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("stack", metavar="STACK", help="Pulumi stack, e.g. production")
    sub.add_argument(
        "--config", type=Path, metavar="FILE", help="stack file (default: Pulumi.STACK.yaml)"
    )
    sub.add_argument(
        "--steps",
        default="5,25,50,100",
        metavar="LIST",
        help="AWS's share of the users after each step, rising (default: 5,25,50,100)",
    )
    sub.add_argument(
        "--hold",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long each step runs, after the TTL, before the gates decide (default: 300)",
    )
    sub.add_argument(
        "--max-5xx-ratio",
        type=float,
        default=0.01,
        metavar="RATIO",
        help="largest share of the load balancer's requests answered 5xx (default: 0.01)",
    )
    sub.add_argument("--alarm", metavar="NAME", help="a CloudWatch alarm that must not be ALARM")
    sub.add_argument(
        "--min-healthy",
        type=int,
        metavar="N",
        help="healthy targets the group must keep (default: the stack's fleet.minSize)",
    )
    sub.add_argument(
        "--on-breach",
        choices=BREACH_TARGETS,
        default="last-step",
        help="where a breached gate rolls back to (default: last-step, the last step that held)",
    )
    sub.add_argument(
        "--dry-run", action="store_true", help="read and check everything, change nothing"
    )
    sub.add_argument(
        "--rollback",
        action="store_true",
        help="send every user back to Azure now (azure 100 / aws 0), then stop",
    )
    sub.add_argument(
        "--log",
        type=Path,
        metavar="FILE",
        help="append-only log of every change (default: out/shift-STACK.log)",
    )
    sub.add_argument("--region", help="AWS region of the load balancer (default: aws:region)")
    sub.add_argument("--zone-id", metavar="ID", help="hosted zone (default: outputs, config)")
    sub.add_argument("--record-name", metavar="NAME", help="record (default: cutover:traffic)")
    sub.add_argument("--target-group-arn", metavar="ARN", help="default: output targetGroupArns")
    sub.add_argument("--load-balancer-arn", metavar="ARN", help="default: output loadBalancerArn")
    sub.add_argument(
        "--health-check-id",
        metavar="ID",
        help="the AWS side's Route 53 health check (default: output or the record's)",
    )
    sub.add_argument(
        "--change-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long a Route 53 change may take to be INSYNC (default: 600)",
    )
