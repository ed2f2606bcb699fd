"""Log bucket: one dedicated, encrypted, private bucket for every log the stack produces --
load-balancer access logs (ELB.5), VPC flow logs (EC2.6) and the revision bucket's S3 server
access logs (S3.9). (Not ``logging.py``: the Pulumi CLI puts ``infra/`` on ``sys.path``.)"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

# Where each producer writes inside the bucket.
ELB_PREFIX = "elb"
FLOW_LOG_PREFIX = "flow-logs"
S3_ACCESS_PREFIX = "s3-access/revisions/"


@dataclass
class LogBucketArgs:
    retention_days: int
    tags: dict[str, str] = field(default_factory=dict)


def log_bucket_policy(
    *, bucket_arn: str, account: str, partition: str, elb_account_arn: str
) -> dict[str, Any]:
    """Who may write which logs; TLS only. Each writer is an AWS service principal bound to this
    account (aws:SourceAccount), except the regional Elastic Load Balancing account that older
    regions still deliver ALB and classic access logs from."""
    source = {"StringEquals": {"aws:SourceAccount": account}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "ElbAccessLogs",
                "Effect": "Allow",
                "Principal": {
                    "Service": "logdelivery.elasticloadbalancing.amazonaws.com",
                    "AWS": elb_account_arn,
                },
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{ELB_PREFIX}/AWSLogs/{account}/*",
            },
            {
                "Sid": "LogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": [
                    f"{bucket_arn}/{FLOW_LOG_PREFIX}/AWSLogs/{account}/*",
                    f"{bucket_arn}/{ELB_PREFIX}/AWSLogs/{account}/*",
                ],
                "Condition": source,
            },
            {
                "Sid": "LogDeliveryAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": source,
            },
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{S3_ACCESS_PREFIX}*",
                "Condition": source,
            },
        ],
    }


def private_bucket(
    name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions
) -> aws.s3.BucketPublicAccessBlock:
    """What every bucket of the stack gets (S3.1/S3.8/S3.2): public access blocked and objects
    owned by the bucket owner (no ACLs). Returns the block, which a bucket policy must follow."""
    block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=opts,
    )
    return block


class LogBucket(pulumi.ComponentResource):
    """SSE-S3 encrypted (the only encryption ALB access logs support), public access blocked,
    owner-enforced objects, logs expire after ``retention_days``."""

    bucket: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: LogBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:logs:LogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        bucket = aws.s3.Bucket(name, tags={**args.tags, "Name": name}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        block = private_bucket(name, bucket, child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": args.retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=child,
        )
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        elb_account = aws.elb.get_service_account_output(opts=invoke)
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(
                bucket.arn, identity.account_id, partition.partition, elb_account.arn
            ).apply(
                lambda v: json.dumps(
                    log_bucket_policy(
                        bucket_arn=v[0], account=v[1], partition=v[2], elb_account_arn=v[3]
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        self.bucket = bucket.bucket
        self.arn = bucket.arn
        self.register_outputs({"bucket": self.bucket, "arn": self.arn})
