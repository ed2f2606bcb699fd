"""Revision bucket: where CodeDeploy revisions (appspec.yml + hooks + app) are uploaded."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.logbucket import S3_ACCESS_PREFIX, private_bucket


@dataclass
class RevisionBucketArgs:
    # The log bucket that receives this bucket's server access logs (S3.9).
    log_bucket: pulumi.Input[str]
    noncurrent_version_days: int = 90
    kms_key_arn: str = ""  # "": SSE-S3 (AES256)
    tags: dict[str, str] = field(default_factory=dict)


class RevisionBucket(pulumi.ComponentResource):
    """A private S3 bucket: versioned (a rollback redeploys an older object version), encrypted
    at rest (SSE-S3, or SSE-KMS with ``kms_key_arn``), public access blocked, owner-enforced
    objects, TLS-only access, access logs to the log bucket (S3.9), superseded versions
    expiring after ``noncurrent_version_days`` (S3.10)."""

    bucket: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RevisionBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("cutover:revisions:RevisionBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(name, tags={**args.tags, "Name": name}, opts=child)
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[_encryption(args.kms_key_arn)],
            opts=child,
        )
        aws.s3.BucketLogging(
            f"{name}-access-logs",
            bucket=bucket.id,
            target_bucket=args.log_bucket,
            target_prefix=S3_ACCESS_PREFIX,
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-superseded-revisions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.noncurrent_version_days
                    },
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=child,
        )
        block = private_bucket(name, bucket, child)
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        self.bucket = bucket.bucket
        self.arn = bucket.arn
        self.register_outputs({"bucket": self.bucket, "arn": self.arn})


def _encryption(kms_key_arn: str) -> dict:
    if not kms_key_arn:
        return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    return {
        "apply_server_side_encryption_by_default": {
            "sse_algorithm": "aws:kms",
            "kms_master_key_id": kms_key_arn,
        },
        # One data key per bucket, not per object: far fewer KMS calls.
        "bucket_key_enabled": True,
    }
