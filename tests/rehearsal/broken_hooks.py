"""Deliberately broken hooks, as patches to a bundled revision (applied after `revision bundle`).

Each puts one known defect back (the issue that described it in brackets), by wrapping the real
wrapper scripts, so the rehearsal's verdict can be shown to catch it whatever the hooks' inside
looks like."""

from __future__ import annotations

from pathlib import Path

BUNDLE = "cutover-hooks"

# Runs with the hook's own environment (AWS_ENDPOINT_URL, the instance's access key id).
_SNAPSHOT = """
import json, os, sys, boto3
group = sys.argv[1]
path = os.path.join(os.path.dirname(os.environ["CUTOVER_STATE_DIR"]), "broken-baseline.json")
autoscaling = boto3.client("autoscaling", region_name="eu-central-1")
found = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
g = found["AutoScalingGroups"][0]
if sys.argv[2] == "record":
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with open(path, "w") as f:
            json.dump({"min": g["MinSize"], "max": g["MaxSize"]}, f)
else:
    with open(path) as f:
        b = json.load(f)
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=group, MinSize=b["min"], MaxSize=b["max"]
    )
"""

_REGISTER_WITHOUT_WAITING = """
import boto3, os, urllib.request
imds = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
token = urllib.request.urlopen(urllib.request.Request(
    imds + "/latest/api/token", method="PUT",
    headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})).read().decode()
iid = urllib.request.urlopen(urllib.request.Request(
    imds + "/latest/meta-data/instance-id",
    headers={"X-aws-ec2-metadata-token": token})).read().decode()
autoscaling = boto3.client("autoscaling", region_name="eu-central-1")
elbv2 = boto3.client("elbv2", region_name="eu-central-1")
found = autoscaling.describe_auto_scaling_instances(InstanceIds=[iid])["AutoScalingInstances"]
group = autoscaling.describe_auto_scaling_groups(
    AutoScalingGroupNames=[found[0]["AutoScalingGroupName"]])["AutoScalingGroups"][0]
for arn in group["TargetGroupARNs"]:
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": iid}])
if found[0]["LifecycleState"] == "Standby":
    autoscaling.exit_standby(AutoScalingGroupName=group["AutoScalingGroupName"], InstanceIds=[iid])
"""


def _wrap(root: Path, script: str, before: str = "", after: str = "") -> None:
    """Replace cutover-hooks/SCRIPT with one that runs `before`, the real script, `after`."""
    folder = root / BUNDLE
    real = folder / "real"
    real.mkdir(exist_ok=True)
    # The real wrapper takes its command from its file name and finds the package and the
    # env file next to itself.
    for name in ("hooks", "cutover-hooks.env"):
        if not (real / name).exists():
            (real / name).symlink_to(folder / name)
    (folder / script).rename(real / script)
    text = '#!/bin/sh\nset -e\nhere=$(cd "$(dirname "$0")" && pwd)\n'
    text += before + f'"$here/real/{script}" "$@"\n' + after
    (folder / script).write_text(text, encoding="utf-8")
    (folder / script).chmod(0o755)


def _python(code: str, *args: str) -> str:
    folder_code = code.replace("'", "'\"'\"'")
    return f"\"${{CUTOVER_PYTHON:-python3}}\" -c '{folder_code}' {' '.join(args)}\n"


def restore_baseline_unconditionally(group: str):
    """[hooks issue 1] register writes MinSize/MaxSize back to the first deregister's reading,
    whatever happened meanwhile."""

    def patch(root: Path) -> None:
        _wrap(root, "deregister.sh", before=_python(_SNAPSHOT, group, "record"))
        _wrap(root, "register.sh", after=_python(_SNAPSHOT, group, "restore"))

    return patch


def register_without_waiting(root: Path) -> None:
    """register puts the instance back and exits at once: no wait for healthy, no restore."""
    (root / BUNDLE / "register.sh").write_text(
        "#!/bin/sh\nset -e\n" + _python(_REGISTER_WITHOUT_WAITING), encoding="utf-8"
    )


def no_self_healing(root: Path) -> None:
    """[hooks issue 6] an instance left in Standby by a deployment that succeeded without it
    stays there: self-healing switched off (today's hooks have none to switch off)."""
    env_file = root / BUNDLE / "cutover-hooks.env"
    with env_file.open("a", encoding="utf-8") as handle:
        handle.write("CUTOVER_HEAL=off\n")


def register_that_hangs(root: Path) -> None:
    """register prints its first line and then hangs until the appspec timeout kills it: a
    defect of the hooks, on a machine that starves nobody."""
    (root / BUNDLE / "register.sh").write_text(
        "#!/bin/sh\necho register: starting\nexec sleep 3600\n", encoding="utf-8"
    )
