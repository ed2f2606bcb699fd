"""Every setting of the hooks, with its default and environment variable (see README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hooks.errors import EXIT_USAGE, HookError

# Deadlines stay below the appspec timeouts (BeforeInstall 400 s, ApplicationStart 120 s) so the
# hook reports its own clear error instead of being killed by the agent.
DEFAULT_TIMEOUTS = {"deregister": 360.0, "register": 100.0, "reconcile": 300.0, "heal": 300.0}
# Self-healing waits this long after deregister before returning an instance whose register
# never ran; reconcile leaves entries younger than this (see README "Self-healing").
DEFAULT_HEAL_AFTER = 3600.0


@dataclass(frozen=True)
class Settings:
    """What one hook run needs to know besides what it reads from AWS."""

    command: str
    instance_id: str | None = None
    region: str | None = None
    asg: str | None = None
    timeout: float = 360.0
    allow_downtime: bool = False
    min_healthy: int = 1
    target_group_arns: tuple[str, ...] = ()
    load_balancer_names: tuple[str, ...] = ()
    poll_interval: float = 5.0
    max_retries: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    imds_timeout: float = 2.0
    state_dir: str = "/var/lib/cutover"
    deployment_id: str = field(default="manual")
    stale_after: float = DEFAULT_HEAL_AFTER
    force: bool = False
    ignore_suspended: bool = False
    discover_target_groups: bool = True
    heal: bool = True
    heal_after: float = DEFAULT_HEAL_AFTER
    heal_since: float = 0.0


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value if value else default


def _number(name: str, raw: str, kind: type) -> float:
    try:
        value = kind(raw)
    except ValueError:
        raise HookError(f"{name} must be a number, got {raw!r}", EXIT_USAGE) from None
    if value < 0:
        raise HookError(f"{name} must not be negative, got {raw!r}", EXIT_USAGE)
    return value


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item for item in (part.strip() for part in raw.split(",")) if item)


def from_environment(command: str, **options: object) -> Settings:
    """Build settings: command-line options (not None) win over CUTOVER_* variables."""

    def pick(key: str, env: str, default: str) -> str:
        value = options.get(key)
        return str(value) if value is not None else _env(env, default)

    timeout_default = _env(
        f"CUTOVER_{command.upper()}_TIMEOUT", str(DEFAULT_TIMEOUTS.get(command, 360.0))
    )
    tg = options.get("target_group_arns") or _list(_env("CUTOVER_TARGET_GROUP_ARNS", ""))
    clb = options.get("load_balancer_names") or _list(_env("CUTOVER_LOAD_BALANCER_NAMES", ""))
    heal_after = _number(
        "CUTOVER_HEAL_AFTER", _env("CUTOVER_HEAL_AFTER", str(DEFAULT_HEAL_AFTER)), float
    )
    allow = bool(options.get("allow_downtime")) or _env("CUTOVER_ALLOW_DOWNTIME", "") == "true"
    return Settings(
        command=command,
        instance_id=pick("instance_id", "CUTOVER_INSTANCE_ID", "") or None,
        region=pick("region", "CUTOVER_REGION", "") or None,
        asg=pick("asg", "CUTOVER_ASG", "") or None,
        timeout=_number("--timeout", pick("timeout", "CUTOVER_TIMEOUT", timeout_default), float),
        allow_downtime=allow,
        min_healthy=int(
            _number("CUTOVER_MIN_HEALTHY", pick("min_healthy", "CUTOVER_MIN_HEALTHY", "1"), int)
        ),
        target_group_arns=tuple(tg),
        load_balancer_names=tuple(clb),
        poll_interval=_number("CUTOVER_POLL_INTERVAL", _env("CUTOVER_POLL_INTERVAL", "5"), float),
        max_retries=max(
            0, int(_number("CUTOVER_MAX_RETRIES", _env("CUTOVER_MAX_RETRIES", "4"), int))
        ),
        connect_timeout=_number(
            "CUTOVER_CONNECT_TIMEOUT", _env("CUTOVER_CONNECT_TIMEOUT", "5"), float
        ),
        read_timeout=_number("CUTOVER_READ_TIMEOUT", _env("CUTOVER_READ_TIMEOUT", "30"), float),
        imds_timeout=_number("CUTOVER_IMDS_TIMEOUT", _env("CUTOVER_IMDS_TIMEOUT", "2"), float),
        state_dir=_env("CUTOVER_STATE_DIR", "/var/lib/cutover"),
        deployment_id=_env("DEPLOYMENT_ID", "manual"),
        stale_after=_number(
            "--stale-after", pick("stale_after", "CUTOVER_STALE_AFTER", str(heal_after)), float
        ),
        force=bool(options.get("force")),
        ignore_suspended=bool(options.get("ignore_suspended"))
        or _env("CUTOVER_IGNORE_SUSPENDED", "") == "true",
        discover_target_groups=_env("CUTOVER_DISCOVER_TARGET_GROUPS", "on") != "off",
        heal=_env("CUTOVER_HEAL", "on") != "off",
        heal_after=heal_after,
        heal_since=_number("--since", pick("since", "CUTOVER_HEAL_SINCE", "0"), float),
    )
