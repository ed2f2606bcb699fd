"""Every setting of the hooks, with its default, variable and precedence (see README).

Precedence, highest first: the command line, the process environment, /etc/cutover/hooks.env on
the instance (`CUTOVER_ETC_ENV` names another file), and the revision's bundled defaults
(cutover-hooks.env next to the bundled package, written by `bundle`). Within one layer a
command's own variable (CUTOVER_DEREGISTER_TIMEOUT) wins over the general one (CUTOVER_TIMEOUT).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hooks.errors import EXIT_USAGE, HookError
from hooks.timing import DEFAULT_DEADLINES

# Kept for callers that imported it from here.
DEFAULT_TIMEOUTS = DEFAULT_DEADLINES
# Self-healing waits this long after deregister before returning an instance whose register
# never ran; reconcile leaves entries younger than this (see README "Self-healing").
DEFAULT_HEAL_AFTER = 3600.0
# The watchdog asks CodeDeploy this often (seconds) whether its deployment is over.
DEFAULT_HEAL_POLL = 30.0
ETC_ENV_FILE = "/etc/cutover/hooks.env"
# `bundle` writes the revision's defaults beside the package: cutover-hooks/{hooks/,*.env}.
BUNDLED_ENV_FILE = Path(__file__).resolve().parent.parent / "cutover-hooks.env"
ENVIRONMENT = "the environment"

# i- and 8 (older) or 17 hex digits; AWS region names such as eu-central-1, us-gov-west-1.
INSTANCE_ID = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
REGION = re.compile(r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}")
RETRY_MODES = ("adaptive", "standard")
AWS_CLIENTS = ("standard", "botocore")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    # AWS seconds per second of this machine's clock: 1 on AWS. An emulator whose clock runs
    # faster (the rehearsal) sets it, so that the waits sized from AWS's own figures
    # (deregistration delay, health check) shrink with it. Too high only means earlier polls.
    time_scale: float = 1.0
    # Retries per AWS call for connection errors and 5xx answers; throttling is retried until
    # the deadline whatever this says (see hooks/retries.py).
    max_retries: int = 4
    # The longest pause between two attempts of a throttled call (botocore's own cap).
    retry_max_delay: float = 20.0
    # botocore's retry mode: adaptive adds its client-side rate limiter (slower, kinder to a
    # throttled account); standard retries without it.
    retry_mode: str = "adaptive"
    # Who makes the AWS calls: the hooks' standard-library client (hooks/awsclient.py, botocore
    # where the environment needs what only botocore does) or botocore's clients throughout.
    aws_client: str = "standard"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    imds_timeout: float = 2.0
    state_dir: str = "/var/lib/cutover"
    deployment_id: str = field(default="manual")
    stale_after: float = DEFAULT_HEAL_AFTER
    force: bool = False
    ignore_suspended: bool = False
    discover_target_groups: bool = True
    # Independent AWS calls of one step run side by side (threads); off: one after the other,
    # in the order the code lists them (the interleaving explorer's runs).
    parallel: bool = True
    heal: bool = True
    heal_after: float = DEFAULT_HEAL_AFTER
    heal_since: float = 0.0
    heal_poll: float = DEFAULT_HEAL_POLL
    # Where the deadline came from ("--timeout", "CUTOVER_TIMEOUT from the environment", ...).
    timeout_source: str = "default"


@dataclass(frozen=True)
class Layers:
    """Where settings come from, highest precedence first: (source name, variables)."""

    layers: tuple[tuple[str, Mapping[str, str]], ...]

    def lookup(self, *names: str) -> tuple[str, str] | None:
        """(value, "NAME from SOURCE") of the first non-empty variable, layer by layer."""
        for source, variables in self.layers:
            for name in names:
                value = variables.get(name, "").strip()
                if value:
                    return value, f"{name} from {source}"
        return None

    def get(self, name: str, default: str) -> str:
        found = self.lookup(name)
        return found[0] if found else default


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines (optionally `export KEY=value`, quoted values, # comments). The file is
    read, never run by a shell: a line that is not an assignment is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise HookError(f"cannot read settings file {path}: {error}", EXIT_USAGE) from error
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _ENV_KEY.fullmatch(key):
            raise HookError(
                f"{path}:{number}: expected KEY=value, got {raw.strip()!r}; fix or remove the line",
                EXIT_USAGE,
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def settings_files() -> list[Path]:
    """The instance's file, then the revision's bundled defaults (highest precedence first).
    Either may be absent, except a file CUTOVER_ETC_ENV names on purpose."""
    etc = os.environ.get("CUTOVER_ETC_ENV", "").strip()
    if etc and not Path(etc).is_file():
        raise HookError(
            f"CUTOVER_ETC_ENV names {etc}, which is not a file; create it or unset the variable",
            EXIT_USAGE,
        )
    return [Path(etc or ETC_ENV_FILE), BUNDLED_ENV_FILE]


def load_layers(environ: dict[str, str] | os._Environ[str] | None = None) -> Layers:
    """The environment, then the settings files that exist. Other variables than CUTOVER_* that
    the environment does not set are exported from the files (AWS_ENDPOINT_URL, HTTPS_PROXY,
    ... reach boto3)."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, Mapping[str, str]]] = [(ENVIRONMENT, dict(environ))]
    for path in settings_files():
        if path.is_file():
            values = read_env_file(path)
            layers.append((str(path), values))
            for key, value in values.items():
                # CUTOVER_* stay in their layer: exported, a child hook process (the heal
                # watchdog) would see them as its environment, above the instance's file.
                if not key.startswith("CUTOVER_") and not environ.get(key, "").strip():
                    environ[key] = value
    return Layers(tuple(layers))


def _number(name: str, raw: str, kind: type) -> float:
    try:
        value = kind(raw)
    except ValueError:
        raise HookError(f"{name} must be a number, got {raw!r}", EXIT_USAGE) from None
    if value < 0 or value != value:
        raise HookError(f"{name} must not be negative, got {raw!r}", EXIT_USAGE)
    return value


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item for item in (part.strip() for part in raw.split(",")) if item)


def check_instance_id(value: str, source: str, exit_code: int = EXIT_USAGE) -> str:
    if not INSTANCE_ID.fullmatch(value):
        raise HookError(
            f"{source} is not an EC2 instance id (i- and 8 or 17 hex digits): {value[:80]!r}",
            exit_code,
        )
    return value


def check_region(value: str, source: str, exit_code: int = EXIT_USAGE) -> str:
    if not REGION.fullmatch(value):
        raise HookError(
            f"{source} is not an AWS region name (such as eu-central-1): {value[:80]!r}",
            exit_code,
        )
    return value


def from_environment(command: str, layers: Layers | None = None, **options: object) -> Settings:
    """Build settings: command-line options (not None) win over CUTOVER_* variables, which are
    looked up in `layers` (default: the process environment only; the CLI adds the files)."""
    layers = layers or Layers(((ENVIRONMENT, os.environ),))

    def pick(key: str, env: str, default: str) -> tuple[str, str]:
        value = options.get(key)
        if value is not None:
            return str(value), f"--{key.replace('_', '-')}"
        found = layers.lookup(env)
        return found if found else (default, "default")

    def number(key: str, env: str, default: str, kind: type = float) -> float:
        raw, source = pick(key, env, default)
        return _number(source, raw, kind)

    timeout = options.get("timeout")
    if timeout is not None:
        raw_timeout, timeout_source = str(timeout), "--timeout"
    else:
        found = layers.lookup(f"CUTOVER_{command.upper()}_TIMEOUT", "CUTOVER_TIMEOUT")
        default = str(DEFAULT_TIMEOUTS.get(command, 360.0))
        raw_timeout, timeout_source = found if found else (default, "default")
    instance_id, id_source = pick("instance_id", "CUTOVER_INSTANCE_ID", "")
    region, region_source = pick("region", "CUTOVER_REGION", "")
    tg = options.get("target_group_arns") or _list(layers.get("CUTOVER_TARGET_GROUP_ARNS", ""))
    clb = options.get("load_balancer_names") or _list(layers.get("CUTOVER_LOAD_BALANCER_NAMES", ""))

    def switch(env: str, default: str, allowed: tuple[str, ...]) -> str:
        value = layers.get(env, default)
        if value not in allowed:
            raise HookError(f"{env} must be {' or '.join(allowed)}, got {value!r}", EXIT_USAGE)
        return value

    allow_env = switch("CUTOVER_ALLOW_DOWNTIME", "false", ("true", "false"))
    heal_after = number("", "CUTOVER_HEAL_AFTER", str(DEFAULT_HEAL_AFTER))
    time_scale = number("", "CUTOVER_TIME_SCALE", "1")
    if time_scale == 0:
        raise HookError("CUTOVER_TIME_SCALE must be above 0, got 0", EXIT_USAGE)
    return Settings(
        command=command,
        instance_id=check_instance_id(instance_id, id_source) if instance_id else None,
        region=check_region(region, region_source) if region else None,
        asg=pick("asg", "CUTOVER_ASG", "")[0] or None,
        timeout=_number(timeout_source, raw_timeout, float),
        allow_downtime=bool(options.get("allow_downtime")) or allow_env == "true",
        min_healthy=int(number("min_healthy", "CUTOVER_MIN_HEALTHY", "1", int)),
        target_group_arns=tuple(tg),
        load_balancer_names=tuple(clb),
        poll_interval=number("", "CUTOVER_POLL_INTERVAL", "5"),
        time_scale=time_scale,
        max_retries=int(number("", "CUTOVER_MAX_RETRIES", "4", int)),
        retry_max_delay=number("", "CUTOVER_RETRY_MAX_DELAY", "20"),
        retry_mode=switch("CUTOVER_RETRY_MODE", "adaptive", RETRY_MODES),
        aws_client=switch("CUTOVER_AWS_CLIENT", "standard", AWS_CLIENTS),
        connect_timeout=number("", "CUTOVER_CONNECT_TIMEOUT", "5"),
        read_timeout=number("", "CUTOVER_READ_TIMEOUT", "30"),
        imds_timeout=number("", "CUTOVER_IMDS_TIMEOUT", "2"),
        state_dir=layers.get("CUTOVER_STATE_DIR", "/var/lib/cutover"),
        deployment_id=layers.get("DEPLOYMENT_ID", "manual"),
        stale_after=number("stale_after", "CUTOVER_STALE_AFTER", str(heal_after)),
        force=bool(options.get("force")),
        ignore_suspended=bool(options.get("ignore_suspended"))
        or switch("CUTOVER_IGNORE_SUSPENDED", "false", ("true", "false")) == "true",
        discover_target_groups=switch("CUTOVER_DISCOVER_TARGET_GROUPS", "on", ("on", "off"))
        == "on",
        parallel=switch("CUTOVER_PARALLEL", "on", ("on", "off")) == "on",
        heal=switch("CUTOVER_HEAL", "on", ("on", "off")) == "on",
        heal_after=heal_after,
        heal_since=number("since", "CUTOVER_HEAL_SINCE", "0"),
        heal_poll=number("", "CUTOVER_HEAL_POLL", str(DEFAULT_HEAL_POLL)),
        timeout_source=timeout_source,
    )
