"""Benchmark: a blue/green release (`python -m release`) on moto, with the target-health rule
moto lacks enforced in front of it (tests/release/awsmodel.py), on the production stack's sizes
(2/3/6, health check 3 x 10 s).

Prints, for a release with the command's defaults (steps 10,50,100, hold 300 s, keep-old 3600 s;
emulated seconds, no real waiting): when the first user moved, when the last did, when the old
colour was retired, the listener changes, the peak instances of both colours and the instance-
seconds spent on the old colour after the users left it. Then a release whose new colour
answers 5xx at the second step: the real seconds from the breach seen to every user back on the
old colour, and the listener changes that took.

    .venv/bin/python bench/bench_release.py
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto.server import ThreadedMotoServer  # noqa: E402

from release.cli import parser, run_release  # noqa: E402
from release.errors import ReleaseError  # noqa: E402
from tests.release.awsmodel import TargetsTurnHealthy  # noqa: E402
from tests.release.estate import PlayedCodeDeploy, build_estate  # noqa: E402
from tests.release.test_release import errors_from_green  # noqa: E402

TIME_TO_HEALTHY = (3 + 1) * 10
REVISION = "s3://shop-revisions/app-2.0.zip"


class BenchClock:
    """Emulated waits (sleep adds to an offset at once) on top of the real time, so a listener
    change is measured in real seconds while a 300 s hold costs nothing."""

    def __init__(self) -> None:
        self.start, self.offset = time.perf_counter(), 0.0
        self.epoch = datetime.now(UTC)

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.offset + time.perf_counter() - self.start)

    def sleep(self, seconds: float) -> None:
        self.offset += seconds


def one_release(model, root: Path, name: str, breach: bool):
    clock = BenchClock()
    model.clock = clock
    estate = build_estate(root / name, stack=name)
    clock.sleep(TIME_TO_HEALTHY)
    for arn in estate.target_groups.values():
        estate.client("elbv2").describe_target_health(TargetGroupArn=arn)
    clock.sleep(TIME_TO_HEALTHY)
    changes: list[str] = []
    estate.session.events.register(
        "before-parameter-build.elastic-load-balancing-v2",
        lambda model, **kw: changes.append(model.name) if model.name == "ModifyListener" else None,
    )
    args = parser().parse_args(["shop", "--config", str(estate.stack_file), "--revision", REVISION])
    played = PlayedCodeDeploy(estate.client("codedeploy"), clock)
    release = run_release(
        args,
        session=estate.session,
        clock=clock,
        codedeploy=played,
        outputs=lambda stack: estate.outputs,
    )
    release.say = lambda line: None
    if breach:
        release.say = errors_from_green(estate, release, "green at 50%")
    started = time.perf_counter()
    try:
        code = release.run()
    except ReleaseError as error:
        code = error.exit_code
    return release, code, changes, time.perf_counter() - started


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    model = TargetsTurnHealthy(f"http://{host}:{port}", BenchClock(), TIME_TO_HEALTHY)
    os.environ.update(
        AWS_ENDPOINT_URL=model.url, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench"
    )
    os.environ.pop("AWS_PROFILE", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "full").mkdir()
        (root / "breach").mkdir()
        release, code, changes, wall = one_release(model, root, "full", breach=False)
        events = release.report.events
        first = next(e for e in events if e.share["green"] > 0).seconds
        last = next(e for e in events if e.share["green"] == 100).seconds
        retired = events[-1].seconds
        peak = max(sum(int(c.split("/")[1]) for c in e.capacity.values()) for e in events)
        kept = retired - last
        print(f"full release: exit {code}, {wall:.1f} s wall")
        print(f"  first user moved at {first:.0f} emulated s (sized, deployed, targets healthy)")
        print(f"  every user moved at {last:.0f} s; old colour retired at {retired:.0f} s")
        print(f"  listener changes: {len(changes)}; peak instances (both colours): {peak}")
        print(f"  old colour kept after the users left: {kept:.0f} s x 3 instances")
        release, code, changes, wall = one_release(model, root, "breach", breach=True)
        print(f"5xx at the second step: exit {code}, {wall:.1f} s wall")
        print(
            f"  breach seen -> every user back: {1000 * release.report.rollback_seconds:.0f} ms "
            f"real, {changes.count('ModifyListener') - 2} listener change(s) after the breach"
        )
    model.close()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
