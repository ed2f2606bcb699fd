"""Benchmark: the offline preview's wall time per stack, as a user runs it (goal < 2 s).

Each run is a fresh process, `python -m preview STACK [--config FILE] --check`, from the
repository root with this interpreter and the caller's environment; the time is the wall clock
from the start of the process to its end (interpreter start, imports and teardown included),
the same as `time python -m preview production --check`. Per stack it prints the median, the
fastest and the slowest of the runs, the median CPU time (user + system) of the process, and
the machine's load average before and after (other work on a 2-core machine stretches the
wall time, not the CPU time). One unmeasured run first warms the disk cache.

Stacks: the shipped `production` and `staging`, and the demo's planned stacks (`make demo`,
step 3: the sample estate's `web` workload merged into copies of the shipped stack files),
built in a temporary directory.

The preview loads pulumi_aws through a cache of compiled modules in the user's cache directory
(`preview/awsmodules.py`): the bench first times one preview with an empty cache (the first
one after installing or upgrading pulumi_aws), then the runs read the cache as a user's do.
`--compare` alternates each stack's runs with runs that import pulumi and pulumi_aws as usual
(`CUTOVER_PREVIEW_PLAIN_IMPORT=1`) and prints both.

    .venv/bin/python bench/bench_preview.py [--runs 7] [--stacks production,staging,demo]
        [--compare]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from preview.awsmodules import OPT_OUT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 2.0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def _python(*args: str) -> None:
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)


def demo_stacks(directory: Path) -> dict[str, Path]:
    """The stack files `make demo` plans for the sample estate's `web` workload."""
    _python("-m", "migrate", "inventory", "--from-export", "migrate/sample", "-o",
            str(directory / "inventory.json"))  # fmt: skip
    _python("-m", "migrate", "plan", str(directory / "inventory.json"), "-o",
            str(directory / "plan.json"), "--prices", "migrate/sample-prices.json")  # fmt: skip
    files = {}
    for stack in ("staging", "production"):
        target = directory / f"Pulumi.{stack}.yaml"
        shutil.copyfile(ROOT / f"Pulumi.{stack}.yaml", target)
        _python("-m", "migrate", "stack-config", str(directory / "plan.json"), "--workload",
                "web", "--stack", stack, "-o", str(target))  # fmt: skip
        files[stack] = target
    return files


def one_run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process; fails loudly if the preview does."""
    environment = {k: v for k, v in os.environ.items() if k != OPT_OUT}
    environment.update(env or {})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bench(label: str, command: list[str], runs: int, *, compare: bool) -> None:
    load_before = _load()
    variants = {label: {}}
    if compare:
        variants = {f"{label}, usual import": {OPT_OUT: "1"}, label: {}}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(runs):  # alternately, so that both see the same load
        for name, env in variants.items():
            times[name].append(one_run(command, env))
    for name, measured in times.items():
        _report(name, measured)
    print(f"{'':30} load before: {load_before}; after: {_load()}")


def _report(label: str, times: list[tuple[float, float]]) -> None:
    walls = sorted(w for w, _ in times)
    median = statistics.median(walls)
    cpu = statistics.median(c for _, c in times)
    mark = "ok" if median < GOAL_SECONDS else "OVER GOAL"
    print(
        f"{label:30} median {median:4.2f} s wall (goal < {GOAL_SECONDS:g})  fastest "
        f"{walls[0]:4.2f}  slowest {walls[-1]:4.2f}  CPU {cpu:4.2f} s  {mark}"
    )


def first_run(label: str, command: list[str]) -> None:
    """One preview with an empty module cache: the first after installing pulumi_aws."""
    with tempfile.TemporaryDirectory(prefix="bench-preview-cache-") as cache:
        wall, cpu = one_run(command, {"XDG_CACHE_HOME": cache})
    print(f"{label:30} first run, empty module cache: {wall:4.2f} s wall, CPU {cpu:4.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per stack")
    parser.add_argument(
        "--stacks",
        default="production,staging,demo",
        help="shipped stack names, and `demo` for the demo's planned stacks (comma-separated)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="alternate with runs that import pulumi and pulumi_aws as usual",
    )
    args = parser.parse_args()
    wanted = [s for s in args.stacks.split(",") if s]
    preview = [sys.executable, "-m", "preview"]
    bytecode = "on"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        bytecode = "off: PYTHONDONTWRITEBYTECODE, the project's own modules compile each run"
    print(
        f"== python -m preview STACK --check, {args.runs} fresh processes per stack "
        f"(Python {sys.version.split()[0]}, bytecode cache {bytecode})"
    )
    cases = [(s, [*preview, s, "--check"]) for s in wanted if s != "demo"]
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        if "demo" in wanted:
            for stack, path in demo_stacks(Path(tmp)).items():
                cases.append((f"demo {stack}", [*preview, stack, "--config", str(path), "--check"]))
        first_run(*cases[0])
        one_run(cases[0][1])  # warm the disk cache and the user's module cache
        for label, command in cases:
            bench(label, command, args.runs, compare=args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
