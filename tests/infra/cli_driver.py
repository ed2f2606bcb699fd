"""Run the Pulumi program the way the Pulumi CLI does, with a tiny engine stand-in.

Usage (from inside infra/, isolated so neither the cwd nor PYTHONPATH is on sys.path):
    python -I ../tests/infra/cli_driver.py CONFIG_JSON STACK

The CLI's Python host changes into the program folder and calls
``runpy.run_path(<folder>, run_name="__main__")``. This driver does the same under mocks (it
deliberately imports nothing from the repository) and prints a JSON report on stdout.
"""

import json
import os
import runpy
import sys

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = os.path.dirname(os.getcwd())


class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.types = []

    def new_resource(self, args):
        self.types.append(args.typ)
        name = args.inputs.get("name") or args.name
        outputs = {
            **args.inputs,
            "name": name,
            "arn": f"arn:aws:mock:::{name}",
            "dnsName": f"{name}.example",
        }
        if args.typ == "aws:acm/certificate:Certificate":
            # ACM answers with the DNS record it wants for each name of the certificate.
            names = [args.inputs["domainName"], *args.inputs.get("subjectAlternativeNames", [])]
            outputs["domainValidationOptions"] = [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_check.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_answer.acm-validations.aws.",
                }
                for domain in names
            ]
        return f"{args.name}-id", outputs

    def call(self, args):
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": ["eu-central-1a", "eu-central-1b", "eu-central-1c"]}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": "123456789012"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws"}
        if args.token == "aws:elb/getServiceAccount:getServiceAccount":
            return {"arn": "arn:aws:iam::054676820928:root"}
        raise NotImplementedError(args.token)


def main() -> None:
    config_path, stack = sys.argv[1], sys.argv[2]
    root_on_path_before = ROOT in sys.path or "" in sys.path
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="cutover", stack=stack, preview=False)
    with open(config_path, encoding="utf-8") as handle:
        pulumi.runtime.set_all_config(json.load(handle))
    _sync_await(run_pulumi_func(lambda: runpy.run_path(".", run_name="__main__")))
    outputs = pulumi.runtime.get_root_resource().outputs
    print(
        json.dumps(
            {
                "rootOnPathBefore": root_on_path_before,
                "cwd": os.getcwd(),
                "types": mocks.types,
                "outputs": sorted(outputs),
                "hooksPermissionsFrom": sys.modules["hooks.permissions"].__file__,
            }
        )
    )


if __name__ == "__main__":
    main()
