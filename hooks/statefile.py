"""The instance's own record of the load balancers it was taken out of.

After deregistration no load balancer lists the instance any more, so register needs this record
to bring it back to target groups and classic ELBs that are not attached to its Auto Scaling
group (or when it is in no group). It lives on the instance's disk (not /tmp: it must survive a
reboot), one JSON file per instance, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hooks.errors import HookError
from hooks.membership import Balancers


def _new_file(folder: Path, prefix: str) -> tuple[int, str]:
    """A new file in `folder` for an atomic replace (what tempfile.mkstemp does, without the
    ~3 ms a hook process spends importing that module): created exclusively, owner-only."""
    for _ in range(100):
        path = folder / f"{prefix}{os.getpid()}-{os.urandom(6).hex()}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


class MembershipRecord:
    def __init__(self, state_dir: str, instance_id: str) -> None:
        self.path = Path(state_dir) / f"balancers-{instance_id}.json"

    def _body(self) -> dict | None:
        try:
            body = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise HookError(f"cannot read {self.path}: {error}") from error
        return body if isinstance(body, dict) else {}

    def load(self) -> Balancers | None:
        body = self._body()
        return Balancers.from_json(body.get("balancers", {})) if body is not None else None

    def group(self) -> str | None:
        """The Auto Scaling group deregister found the instance in (saves register a call)."""
        body = self._body()
        name = body.get("group") if body else None
        return str(name) if name else None

    def entry(self) -> str | None:
        """The value of the instance's entry as its deregister last wrote it (saves register a
        DescribeInstances), or None."""
        body = self._body()
        value = body.get("entry") if body else None
        return str(value) if value else None

    def save(self, balancers: Balancers, deployment_id: str, group: str | None = None) -> None:
        self._write({"deployment": deployment_id, "balancers": balancers.to_json(), "group": group})

    def save_entry(self, value: str) -> None:
        """Remember the entry this deregister just wrote on the instance (see entry())."""
        body = self._body()
        if body is not None:
            self._write({**body, "entry": value})

    def _write(self, body: dict) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _new_file(self.path.parent, ".balancers-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(body, out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as error:
            raise HookError(
                f"cannot write {self.path}: {error}; set CUTOVER_STATE_DIR to a writable folder"
            ) from error

    def forget(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            raise HookError(f"cannot remove {self.path}: {error}") from error


class GroupHint:
    """The Auto Scaling group the instance's last deregister found it in, kept between
    deployments (the membership record is forgotten at the end of each cycle). A deregister
    reads that group beside its own DescribeInstances instead of after it: one round trip
    fewer out of service. Only a hint: the group's answer must list the instance and the
    instance's group tag must name it, or the hooks read the group the tag names, as without it.
    Written without fsync (a lost hint costs one round trip)."""

    def __init__(self, state_dir: str, instance_id: str) -> None:
        self.path = Path(state_dir) / f"group-{instance_id}.txt"

    def name(self) -> str | None:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except (OSError, ValueError):
            return None
        return text or None

    def remember(self, name: str) -> None:
        if self.name() == name:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _new_file(self.path.parent, ".group-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(name)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a hint: the next deregister reads the group after its DescribeInstances
