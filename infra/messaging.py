"""Messaging: an SQS work queue with a dead-letter queue for messages that keep failing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stack.load import QueueConfig

DEAD_LETTER_RETENTION = 1209600  # 14 days, the SQS maximum: time to inspect what failed


@dataclass
class QueueArgs:
    queue: QueueConfig
    tags: dict[str, str] = field(default_factory=dict)


class Queue(pulumi.ComponentResource):
    """Encrypted (SQS-managed keys) queue; after ``maxReceiveCount`` receives a message moves to
    the dead-letter queue."""

    url: pulumi.Output[str]
    arn: pulumi.Output[str]
    dead_letter_url: pulumi.Output[str]

    def __init__(self, name: str, args: QueueArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:messaging:Queue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        dead_letter = aws.sqs.Queue(
            f"{name}-dlq",
            message_retention_seconds=DEAD_LETTER_RETENTION,
            sqs_managed_sse_enabled=True,
            tags={**args.tags, "Name": f"{name}-dlq"},
            opts=child,
        )
        queue = aws.sqs.Queue(
            name,
            visibility_timeout_seconds=args.queue.visibility_timeout,
            message_retention_seconds=args.queue.message_retention,
            sqs_managed_sse_enabled=True,
            redrive_policy=pulumi.Output.json_dumps(
                {
                    "deadLetterTargetArn": dead_letter.arn,
                    "maxReceiveCount": args.queue.max_receive_count,
                }
            ),
            tags={**args.tags, "Name": name},
            opts=child,
        )
        self.url, self.arn, self.dead_letter_url = queue.url, queue.arn, dead_letter.url
        self.register_outputs({"url": self.url, "deadLetterUrl": self.dead_letter_url})
