"""`python -m revision bundle DIR`: add the hooks to an application's revision folder.

Copies the `hooks` package and the wrapper scripts into DIR/cutover-hooks/, writes the hooks'
deadlines (the appspec timeouts minus the margins of hooks/timing.py) to
DIR/cutover-hooks/cutover-hooks.env, and writes or merges the hooks' entries in DIR/appspec.yml:
deregister first in its event, register last in its (after the application's own start
scripts). The timeouts come from the options, else the stack config (--stack / --config), else
the defaults; timeouts too short for the drain are refused. Everything is checked before the
first write; every file is written atomically (beside the target, fsync, rename). Re-running it
changes nothing.

This runs on a developer's machine (PyYAML, imported lazily); it never imports infra/."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import hooks
from cutover.exitcodes import BAD_INPUT as EXIT_USAGE
from cutover.exitcodes import ENVIRONMENT as EXIT_ENVIRONMENT
from hooks.timing import (
    AWS_DEFAULT_DEREGISTRATION_DELAY,
    DEFAULT_DEREGISTER_TIMEOUT,
    DEFAULT_REGISTER_TIMEOUT,
    HookTimeouts,
)
from revision.appspec import NEW_APPSPEC, HookEntry, merge
from revision.errors import RevisionError

BUNDLE_FOLDER = "cutover-hooks"
# The instance-side package the revision ships, and the project whose stack files it reads.
PACKAGE = Path(hooks.__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent
SCRIPTS = ("deregister.sh", "register.sh", "reconcile.sh")
ENV_FILE = "cutover-hooks.env"
# In-place deployments: where taking the instance out and bringing it back make sense. Out
# before the files change; back once the application has started (a register before
# ApplicationStart would wait for a health check the stopped application cannot pass).
DEREGISTER_EVENTS = ("BeforeInstall", "ApplicationStop")
REGISTER_EVENTS = ("ApplicationStart", "ValidateService")
_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def stack_config_path(stack: str) -> Path:
    """Pulumi.STACK.yaml in the project this checkout of the hooks belongs to."""
    if not _STACK_NAME.fullmatch(stack):
        raise RevisionError(f"--stack {stack!r} is not a stack name", EXIT_USAGE)
    return PROJECT_ROOT / f"Pulumi.{stack}.yaml"


def read_text(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16/32 with one; else a clear error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RevisionError(f"{path}: no such file", EXIT_USAGE) from None
    except OSError as error:
        raise RevisionError(f"cannot read {path}: {error.strerror}", EXIT_ENVIRONMENT) from None
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise RevisionError(
            f"{path} is not {encoding} text (byte {error.start}); save it as UTF-8",
            EXIT_USAGE,
        ) from None


def stack_timeouts(path: str | Path) -> dict[str, int]:
    """The timeouts a stack config sets: deregister, register, deregistration_delay and
    time_to_healthy, each only when the file has it."""
    import yaml

    path = Path(path)
    try:
        doc = yaml.safe_load(read_text(path))
    except yaml.YAMLError as error:
        raise RevisionError(f"{path}: not valid YAML: {error}", EXIT_USAGE) from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise RevisionError(f"{path}: expected a Pulumi stack file with 'config:'", EXIT_USAGE)

    def section(key: str) -> dict[str, Any]:
        value = config.get(key) or {}
        if not isinstance(value, dict):
            raise RevisionError(f"{path}: {key} must be a mapping", EXIT_USAGE)
        return value

    def seconds(section_key: str, values: dict[str, Any], key: str) -> int | None:
        value = values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RevisionError(
                f"{path}: {section_key}.{key} must be a whole number of seconds, got {value!r}",
                EXIT_USAGE,
            )
        return value

    deployment = section("cutover:deployment")
    balancer = section("cutover:loadBalancer")
    health = balancer.get("healthCheck") or {}
    found = {
        "deregister": seconds("cutover:deployment", deployment, "deregisterTimeout"),
        "register": seconds("cutover:deployment", deployment, "registerTimeout"),
        "deregistration_delay": seconds("cutover:loadBalancer", balancer, "deregistrationDelay"),
    }
    if isinstance(health, dict):
        key = "cutover:loadBalancer.healthCheck"
        interval = seconds(key, health, "interval")
        threshold = seconds(key, health, "healthyThreshold")
        if interval is not None and threshold is not None:
            found["time_to_healthy"] = (threshold + 1) * interval
    return {key: value for key, value in found.items() if value is not None}


def bundle(
    directory: str,
    deregister_event: str = "BeforeInstall",
    register_event: str = "ApplicationStart",
    deregister_timeout: int | None = None,
    register_timeout: int | None = None,
    deregistration_delay: int | None = None,
    stack_config: str | Path | None = None,
) -> Path:
    """Copy the hooks into `directory` and merge the appspec; returns the appspec path.

    Timeouts: an argument (not None) wins over `stack_config`, which wins over the defaults
    (400 s, 120 s, and AWS's 300 s deregistration delay)."""
    root = Path(directory)
    if not root.is_dir():
        raise RevisionError(f"{directory} is not a folder", EXIT_USAGE)
    if deregister_event not in DEREGISTER_EVENTS:
        raise RevisionError(
            f"deregister cannot run in {deregister_event!r}; use one of "
            f"{', '.join(DEREGISTER_EVENTS)}",
            EXIT_USAGE,
        )
    if register_event not in REGISTER_EVENTS:
        raise RevisionError(
            f"register cannot run in {register_event!r}; use one of {', '.join(REGISTER_EVENTS)}",
            EXIT_USAGE,
        )
    timeouts = _timeouts(deregister_timeout, register_timeout, deregistration_delay, stack_config)
    appspec = root / "appspec.yml"
    text = read_text(appspec) if appspec.exists() else NEW_APPSPEC
    merged = merge(
        text,
        str(appspec),
        (
            HookEntry(
                deregister_event, f"{BUNDLE_FOLDER}/deregister.sh", timeouts.deregister, True
            ),
            HookEntry(register_event, f"{BUNDLE_FOLDER}/register.sh", timeouts.register, False),
        ),
    )
    target = root / BUNDLE_FOLDER
    _check_writable(root, target)
    _copy_package(target)
    write_deadlines(
        target / ENV_FILE,
        {
            "CUTOVER_DEREGISTER_TIMEOUT": timeouts.deregister_deadline,
            "CUTOVER_REGISTER_TIMEOUT": timeouts.register_deadline,
        },
    )
    write_atomically(appspec, merged)
    return appspec


def _timeouts(
    deregister: int | None,
    register: int | None,
    delay: int | None,
    stack_config: str | Path | None,
) -> HookTimeouts:
    from_stack = stack_timeouts(stack_config) if stack_config is not None else {}
    timeouts = HookTimeouts(
        deregister=deregister
        if deregister is not None
        else from_stack.get("deregister", 0) or DEFAULT_DEREGISTER_TIMEOUT,
        register=register
        if register is not None
        else from_stack.get("register", 0) or DEFAULT_REGISTER_TIMEOUT,
        deregistration_delay=delay
        if delay is not None
        else from_stack.get("deregistration_delay", AWS_DEFAULT_DEREGISTRATION_DELAY),
        time_to_healthy=from_stack.get("time_to_healthy", 0),
    )
    problems = timeouts.problems()
    if problems:
        origin = f" (from {stack_config} and the options)" if stack_config is not None else ""
        assumed = (
            f"; the delay {AWS_DEFAULT_DEREGISTRATION_DELAY} s is AWS's default: pass "
            "--deregistration-delay or --stack if yours is shorter"
            if delay is None and "deregistration_delay" not in from_stack
            else ""
        )
        raise RevisionError(
            f"refusing these timeouts{origin}: {'; '.join(problems)}{assumed}",
            EXIT_USAGE,
        )
    return timeouts


def _environment_error(path: Path, error: OSError, what: str) -> RevisionError:
    return RevisionError(
        f"cannot {what} {path}: {error.strerror or error}; appspec.yml is unchanged: "
        "choose a revision folder you can write to",
        EXIT_ENVIRONMENT,
    )


def _check_writable(root: Path, target: Path) -> None:
    """Fail before the first write if the revision folder or the bundle folder is read-only."""
    if target.exists() and not target.is_dir():
        raise RevisionError(
            f"{target} is a file where the bundle folder goes; move it away and run again "
            "(appspec.yml is unchanged)",
            EXIT_ENVIRONMENT,
        )
    for folder in (root, target):
        try:
            folder.mkdir(exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise _environment_error(folder, error, "write in") from error


def _copy_package(target: Path) -> None:
    """Replace target/hooks with this package and put the wrappers beside it: the new copy is
    made beside the old one and renamed into place, so a failed copy leaves the old one."""
    package = target / "hooks"
    staging = Path(tempfile.mkdtemp(dir=target, prefix=".hooks.new-"))
    retired = None
    try:
        shutil.copytree(
            PACKAGE,
            staging / "hooks",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "scripts"),
        )
        for script in SCRIPTS:
            shutil.copy2(PACKAGE / "scripts" / script, staging / script)
            (staging / script).chmod(0o755)
        if package.exists():
            retired = target / f".hooks.old-{staging.name.rsplit('-', 1)[-1]}"
            package.rename(retired)
        (staging / "hooks").rename(package)
        for script in SCRIPTS:
            os.replace(staging / script, target / script)
    except OSError as error:
        if retired is not None and not package.exists():
            retired.rename(package)
            retired = None
        raise _environment_error(target, error, "copy the hooks into") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`: write beside it, fsync, rename. The old file stays whole if
    anything fails (a full disk, a killed process)."""
    temp = None
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
        temp = None
    except OSError as error:
        raise RevisionError(
            f"cannot write {path}: {error.strerror or error}; the previous file, if "
            "any, is unchanged",
            EXIT_ENVIRONMENT,
        ) from error
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def write_deadlines(path: Path, deadlines: dict[str, int]) -> None:
    """Keep the hooks' deadlines below the appspec timeouts, in the revision's defaults file;
    other lines of an existing file are kept."""
    lines = (
        read_text(path).splitlines()
        if path.exists()
        else [
            "# The revision's defaults for the cutover hooks (KEY=value). The instance's",
            "# environment and /etc/cutover/hooks.env win over them. See hooks/README.md.",
        ]
    )
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in deadlines]
    kept += [f"{key}={value}" for key, value in deadlines.items()]
    write_atomically(path, "\n".join(kept) + "\n")
