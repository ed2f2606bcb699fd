"""Web application firewall: a WAFv2 web ACL in front of an Application Load Balancer.

AWS WAF attaches to Application Load Balancers (and API Gateway, CloudFront, ...), never to a
Network or classic Load Balancer: the config refuses ``loadBalancer.waf`` for those types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stack.load import WafConfig

# AWS WAF delivers logs only to destinations whose name starts with this prefix.
WAF_LOG_PREFIX = "aws-waf-logs-"
# Headers that carry credentials: kept out of the WAF's logs.
REDACTED_HEADERS = ("authorization", "cookie")


@dataclass
class FirewallArgs:
    waf: WafConfig
    load_balancer_arn: pulumi.Input[str]
    tags: dict[str, str] = field(default_factory=dict)


def _visibility(metric: str) -> dict:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric,
        "sampled_requests_enabled": True,
    }


class Firewall(pulumi.ComponentResource):
    """A REGIONAL web ACL (default allow) with a rate-based rule per client IP first, then the
    AWS managed rule groups from config; associated with the load balancer; its requests
    logged to a CloudWatch log group named ``aws-waf-logs-<stack>`` (credentials redacted)."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:waf:Firewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        waf = args.waf
        rules = [
            {
                "name": "rate-limit-per-ip",
                "priority": 0,
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {"limit": waf.rate_limit, "aggregate_key_type": "IP"}
                },
                "visibility_config": _visibility(f"{name}-rate-limit"),
            }
        ]
        rules += [
            {
                "name": group,
                "priority": (i + 1) * 10,
                "override_action": {"none": {}},
                "statement": {
                    "managed_rule_group_statement": {"vendor_name": "AWS", "name": group}
                },
                "visibility_config": _visibility(f"{name}-{group}"),
            }
            for i, group in enumerate(waf.managed_rule_groups)
        ]
        acl = aws.wafv2.WebAcl(
            name,
            scope="REGIONAL",
            description="Cutover: AWS managed rule groups and a per-IP rate limit",
            default_action={"allow": {}},
            rules=rules,
            visibility_config=_visibility(name),
            tags={**args.tags, "Name": name},
            opts=child,
        )
        aws.wafv2.WebAclAssociation(
            name, resource_arn=args.load_balancer_arn, web_acl_arn=acl.arn, opts=child
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"{WAF_LOG_PREFIX}{name}",
            retention_in_days=waf.log_retention_days,
            tags={**args.tags, "Name": f"{WAF_LOG_PREFIX}{name}"},
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            name,
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[{"single_header": {"name": header}} for header in REDACTED_HEADERS],
            opts=child,
        )
        self.arn = acl.arn
        self.register_outputs({"arn": self.arn})
