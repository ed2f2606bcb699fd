"""The Security Hub controls and day-2 settings, on the resources the real program registers."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws
import pytest

from hooks import group as hook_group
from infra.fleet import GROUP_IGNORED_CHANGES
from preview.mocks import Evaluation

GROUP = "aws:autoscaling/group:Group"
GROUP_TAG = "aws:autoscaling/tag:Tag"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
CLASSIC = "aws:elb/loadBalancer:LoadBalancer"
SUBNET = "aws:ec2/subnet:Subnet"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BUCKET = "aws:s3/bucket:Bucket"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
CERT = "arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c"


def bucket(evaluation: Evaluation, role: str):
    return next(b for b in evaluation.of_type(BUCKET) if b.name.endswith(f"-{role}"))


def pointing_at(evaluation: Evaluation, type_token: str, target_id: str) -> list[dict[str, Any]]:
    return [r.inputs for r in evaluation.of_type(type_token) if r.inputs.get("bucket") == target_id]


def instance_policy(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    (policy,) = [p for p in evaluation.of_type(ROLE_POLICY) if p.name.endswith("-instance-policy")]
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


# -- the group: hooks' state, refresh, waiting, mixed types ------------------------------------


def test_pulumi_never_owns_the_groups_tags_as_a_whole(monkeypatch, evaluate_variant):
    """`pulumi up --refresh` mid-deployment reads the hooks' state tags into the group's state;
    with `tags` ignored the engine keeps that refreshed value instead of the declared list, so
    nothing is removed. The stack's own tags stay managed, one aws.autoscaling.Tag each."""
    seen: list[Any] = []

    class SpyGroup(pulumi_aws.autoscaling.Group):
        def __init__(self, resource_name, *args, opts=None, **kwargs):
            seen.append(opts)
            super().__init__(resource_name, *args, opts=opts, **kwargs)

    monkeypatch.setattr(pulumi_aws.autoscaling, "Group", SpyGroup)
    evaluation = evaluate_variant("staging", lambda v: None)
    assert "tags" in seen[0].ignore_changes and "tags" in GROUP_IGNORED_CHANGES
    group = evaluation.one(GROUP)
    declared = {t["key"]: t["value"] for t in group.inputs["tags"]}
    managed = {
        t.inputs["tag"]["key"]: t.inputs["tag"]["value"]
        for t in evaluation.of_type(GROUP_TAG)
        if t.inputs["autoscalingGroupName"] == group.outputs["name"]
    }
    assert managed == declared
    assert declared["cutover:allow-downtime"] == "true"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_the_program_declares_none_of_the_hooks_state_tags(request, stack):
    evaluation = request.getfixturevalue(stack)
    keys = [t["key"] for t in evaluation.one(GROUP).inputs["tags"]]
    keys += [t.inputs["tag"]["key"] for t in evaluation.of_type(GROUP_TAG)]
    state = hook_group.STATE_TAGS
    assert not [k for k in keys if k.startswith(state)]


@pytest.mark.parametrize(
    ("stack", "change", "floor"),
    [
        ("production", None, 50),  # OneAtATime at MinSize 2 keeps 1 of 2
        ("staging", None, 0),  # accepts downtime
        (
            "production",
            {"minSize": 4, "desiredCapacity": 4, "maxSize": 8},
            75,  # OneAtATime keeps 3 of 4
        ),
    ],
)
def test_instance_refresh_keeps_the_deployment_floor(evaluate_variant, stack, change, floor):
    evaluation = evaluate_variant(
        stack, lambda v: v["cutover:fleet"].update(change) if change else None
    )
    refresh = evaluation.one(GROUP).inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    assert refresh["preferences"]["minHealthyPercentage"] == floor


def test_alternatives_of_another_architecture_get_a_template_of_their_own(evaluate_variant):
    # The plan's alternatives mix Intel, AMD and Graviton (m7i / m7a / m7g): one image cannot
    # serve both, so arm64 types launch from an arm64 template in the same policy.
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:fleet"].update(
            instanceType="m7i.xlarge", instanceTypes=["m7a.xlarge", "m7g.xlarge"]
        ),
    )
    templates = {t.name: t for t in evaluation.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    assert set(templates) == {
        "cutover-production-fleet-template",
        "cutover-production-fleet-arm64-template",
    }
    arm = templates["cutover-production-fleet-arm64-template"]
    assert arm.inputs["imageId"].endswith("al2023-ami-kernel-default-arm64")
    overrides = evaluation.one(GROUP).inputs["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
    assert overrides == [
        {"instanceType": "m7i.xlarge"},
        {"instanceType": "m7a.xlarge"},
        {
            "instanceType": "m7g.xlarge",
            "launchTemplateSpecification": {"launchTemplateId": arm.outputs["id"], "version": "1"},
        },
    ]
    launch = next(p for p in evaluation.of_type(ROLE_POLICY) if p.name.endswith("-launch"))
    statements = {s["Sid"]: s for s in json.loads(launch.inputs["policy"])["Statement"]}
    assert sorted(
        statements["LaunchFromTemplate"]["Condition"]["ArnLike"]["ec2:LaunchTemplate"]
    ) == sorted(t.outputs["arn"] for t in templates.values())


@pytest.mark.parametrize(("stack", "capacity"), [("staging", 1), ("production", 2)])
def test_up_waits_for_healthy_targets_and_sets_day_two_policies(request, stack, capacity):
    group = request.getfixturevalue(stack).one(GROUP).inputs
    assert group["waitForElbCapacity"] == capacity
    assert group["waitForCapacityTimeout"] == "15m"
    assert group["terminationPolicies"] == ["OldestLaunchTemplate", "OldestInstance"]
    assert group["defaultInstanceWarmup"] == 300


def test_opt_outs_are_tagged_on_the_group(staging, production):
    tags = {t["key"]: t["value"] for t in staging.one(GROUP).inputs["tags"]}
    assert tags["cutover:opt-outs"].split() == [
        "EC2.9",
        "AutoScaling.6",
        "ELB.5",
        "ELB.6",
        "ELB.1",
    ]
    assert all(t["key"] != "cutover:opt-outs" for t in production.one(GROUP).inputs["tags"])


# -- load balancer -----------------------------------------------------------------------------


def test_production_balancer_logs_and_is_protected(production, staging):
    alb = production.one(LB).inputs
    logs = bucket(production, "logs").outputs["bucket"]
    assert alb["accessLogs"] == {"bucket": logs, "prefix": "elb", "enabled": True}
    assert alb["enableDeletionProtection"] is True and alb["dropInvalidHeaderFields"] is True
    assert "accessLogs" not in staging.one(LB).inputs
    assert staging.one(LB).inputs["enableDeletionProtection"] is False


def test_http_redirects_to_https_when_a_certificate_is_configured(evaluate_variant):
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:loadBalancer"].update(
            certificateArn=CERT, certificate=None, listeners=None
        ),
    )
    listeners = {x.inputs["protocol"]: x.inputs for x in evaluation.of_type(LISTENER)}
    assert listeners["HTTP"]["defaultActions"] == [
        {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
        }
    ]
    assert listeners["HTTPS"]["defaultActions"][0]["type"] == "forward"


def test_each_target_port_gets_its_target_group_and_the_group_serves_them_all(evaluate_variant):
    listeners = [
        {"protocol": "HTTPS", "port": 443},
        {"protocol": "HTTPS", "port": 8080, "targetPort": 9000},
        {
            "protocol": "HTTPS",
            "port": 8081,
            "rules": [{"pathPatterns": ["/api/*"], "targetPort": 9100}],
        },
    ]
    evaluation = evaluate_variant(
        "production", lambda v: v["cutover:loadBalancer"].update(listeners=listeners)
    )
    groups = {tg.inputs["port"]: tg.outputs["arn"] for tg in evaluation.of_type(TARGET_GROUP)}
    assert sorted(groups) == [80, 9000, 9100]
    by_port = {x.inputs["port"]: x.inputs for x in evaluation.of_type(LISTENER)}
    assert by_port[8080]["defaultActions"][0]["targetGroupArn"] == groups[9000]
    assert by_port[8081]["defaultActions"][0]["targetGroupArn"] == groups[80]
    (rule,) = evaluation.of_type(LISTENER_RULE)
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/api/*"]}}]
    assert rule.inputs["actions"][0]["targetGroupArn"] == groups[9100]
    assert sorted(evaluation.one(GROUP).inputs["targetGroupArns"]) == sorted(groups.values())
    assert sorted(instance_policy(evaluation)["HooksOwnTargetGroup"]["Resource"]) == sorted(
        groups.values()
    )
    instances = next(g for g in evaluation.of_type(SECURITY_GROUP) if g.name.endswith("instances"))
    opened = sorted(
        r.inputs["fromPort"]
        for r in evaluation.of_type(INGRESS)
        if r.inputs["securityGroupId"] == instances.outputs["id"]
    )
    assert opened == [80, 9000, 9100]
    unhealthy = [a for a in evaluation.of_type(ALARM) if "-unhealthy-" in a.name]
    assert len(unhealthy) == 3


def test_an_internal_balancer_sits_in_the_private_subnets_open_to_the_vpc(evaluate_variant):
    evaluation = evaluate_variant(
        "production", lambda v: v["cutover:loadBalancer"].update(internal=True)
    )
    lb = evaluation.one(LB).inputs
    private = [s.outputs["id"] for s in evaluation.of_type(SUBNET) if "-private-" in s.name]
    assert lb["internal"] is True and lb["subnets"] == private
    lb_sg = next(g for g in evaluation.of_type(SECURITY_GROUP) if g.name.endswith("-lb"))
    sources = {
        r.inputs.get("cidrIpv4")
        for r in evaluation.of_type(INGRESS)
        if r.inputs["securityGroupId"] == lb_sg.outputs["id"]
    }
    assert sources == {"10.30.0.0/16"}


def test_a_classic_balancer_logs_too(evaluate_variant):
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:loadBalancer"].update(
            type="classic",
            healthCheck={"protocol": "HTTP", "path": "/health"},
            listeners=[{"protocol": "HTTPS", "port": 443}],  # a classic ELB cannot redirect
        ),
    )
    logs = evaluation.one(CLASSIC).inputs["accessLogs"]
    assert logs["enabled"] is True and logs["bucketPrefix"] == "elb"
    names = {a.inputs["metricName"] for a in evaluation.of_type(ALARM)}
    assert names == {"HTTPCode_Backend_5XX", "UnHealthyHostCount"}


# -- rollback alarms ---------------------------------------------------------------------------


def test_deployments_roll_back_on_5xx_and_unhealthy_hosts(production):
    alarms = {a.inputs["metricName"]: a for a in production.of_type(ALARM)}
    assert set(alarms) == {
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_5XX_Count",
        "UnHealthyHostCount",
    }
    lb_suffix = production.one(LB).outputs["arnSuffix"]
    unhealthy = alarms["UnHealthyHostCount"].inputs
    assert unhealthy["dimensions"] == {
        "LoadBalancer": lb_suffix,
        "TargetGroup": production.one(TARGET_GROUP).outputs["arnSuffix"],
    }
    assert unhealthy["period"] >= 60 and unhealthy["treatMissingData"] == "notBreaching"
    group = production.one(DEPLOYMENT_GROUP).inputs
    assert group["alarmConfiguration"]["enabled"] is True
    assert sorted(group["alarmConfiguration"]["alarms"]) == sorted(
        a.outputs["name"] for a in alarms.values()
    )
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["autoRollbackConfiguration"]["events"]


# -- network, buckets, database ----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_default_security_group_is_managed_with_no_rules_and_flows_are_logged(request, stack):
    evaluation = request.getfixturevalue(stack)
    vpc = evaluation.one("aws:ec2/vpc:Vpc").outputs["id"]
    default = evaluation.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert default["vpcId"] == vpc and "ingress" not in default and "egress" not in default
    flow = evaluation.one("aws:ec2/flowLog:FlowLog").inputs
    logs = bucket(evaluation, "logs").outputs["arn"]
    assert (flow["vpcId"], flow["trafficType"], flow["logDestinationType"]) == (vpc, "ALL", "s3")
    assert flow["logDestination"] == f"{logs}/flow-logs/"


def test_revision_bucket_logs_access_and_expires_old_versions(production):
    revisions = bucket(production, "revisions").outputs["id"]
    logs = bucket(production, "logs").outputs["bucket"]
    (logging,) = pointing_at(production, "aws:s3/bucketLogging:BucketLogging", revisions)
    assert logging["targetBucket"] == logs
    (lifecycle,) = pointing_at(
        production,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        revisions,
    )
    assert lifecycle["rules"][0]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}


def test_log_bucket_is_private_encrypted_and_only_log_services_write(production):
    logs = bucket(production, "logs")
    (policy,) = pointing_at(production, "aws:s3/bucketPolicy:BucketPolicy", logs.outputs["id"])
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    for sid in ("LogDeliveryWrite", "LogDeliveryAclCheck", "S3ServerAccessLogs"):
        condition = statements[sid]["Condition"]["StringEquals"]
        assert condition == {"aws:SourceAccount": "123456789012"}
    (sse,) = pointing_at(
        production,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        logs.outputs["id"],
    )
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_a_kms_key_encrypts_revisions_and_the_instances_may_decrypt(evaluate_variant):
    key = "arn:aws:kms:eu-central-1:123456789012:key/0a1b2c3d-0000-4000-8000-0a1b2c3d4e5f"
    evaluation = evaluate_variant(
        "production", lambda v: v.update({"cutover:revisions": {"kmsKeyArn": key}})
    )
    revisions = bucket(evaluation, "revisions").outputs["id"]
    (sse,) = pointing_at(
        evaluation,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        revisions,
    )
    rule = sse["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key,
    }
    assert instance_policy(evaluation)["DecryptRevisions"]["Resource"] == [key]


def test_database_exports_logs_uses_iam_auth_and_enhanced_monitoring(production):
    db = production.one("aws:rds/instance:Instance").inputs
    assert db["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert db["iamDatabaseAuthenticationEnabled"] is True and db["monitoringInterval"] == 60
    role = production.named(ROLE, "cutover-production-db-monitoring")
    assert db["monitoringRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert db["deletionProtection"] is True and db["skipFinalSnapshot"] is False


# -- IAM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "max_size"), [("staging", 2), ("production", 6)])
def test_instances_may_resize_their_group_only_within_its_own_bounds(request, stack, max_size):
    statements = instance_policy(request.getfixturevalue(stack))
    capacity = statements["HooksGroupCapacity"]
    assert capacity["Action"] == ["autoscaling:UpdateAutoScalingGroup"]
    assert capacity["Condition"] == {
        "NumericLessThanEqualsIfExists": {
            "autoscaling:MinSize": str(max_size),
            "autoscaling:MaxSize": str(2 * max_size),
        }
    }
    assert "autoscaling:UpdateAutoScalingGroup" not in statements["HooksOwnGroup"]["Action"]


def test_codedeploy_trusts_only_this_account(production):
    role = production.named(ROLE, "cutover-production-deploy-service-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {
            "aws:SourceArn": "arn:aws:codedeploy:eu-central-1:123456789012:deploymentgroup:*"
        },
    }


def test_session_manager_is_an_opt_in(production, evaluate_variant):
    assert all(not a.name.endswith("-instance-ssm") for a in production.of_type(ATTACHMENT))
    evaluation = evaluate_variant(
        "production", lambda v: v["cutover:fleet"].update(ssmSessionManager=True)
    )
    (ssm,) = [a for a in evaluation.of_type(ATTACHMENT) if a.name.endswith("-instance-ssm")]
    assert ssm.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


# -- HTTPS, WAF, database parameters -----------------------------------------------------------

CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
DB = "aws:rds/instance:Instance"


def test_production_requests_a_dns_validated_certificate_for_its_https_listener(production):
    certificate = production.one(CERTIFICATE)
    assert certificate.inputs["domainName"] == "www.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    (record,) = production.of_type(RECORD)
    (option,) = certificate.outputs["domainValidationOptions"]
    assert record.inputs["zoneId"] == "Z0123456789EXAMPLE0AB"
    assert (record.inputs["name"], record.inputs["type"], record.inputs["records"]) == (
        option["resourceRecordName"],
        "CNAME",
        [option["resourceRecordValue"]],
    )
    validation = production.one(VALIDATION)
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]
    https = next(x for x in production.of_type(LISTENER) if x.inputs["protocol"] == "HTTPS")
    # the listener takes the ARN from the validation: it waits until ACM has issued it
    assert https.inputs["certificateArn"] == validation.outputs["certificateArn"]


def test_a_wildcard_and_its_base_name_share_one_validation_record(evaluate_variant):
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:loadBalancer"]["certificate"].update(
            domainName="example.com", alternativeNames=["*.example.com", "api.example.com"]
        ),
    )
    records = evaluation.of_type(RECORD)
    assert len(records) == 3 and all(r.inputs["allowOverwrite"] is True for r in records)
    assert len({r.inputs["name"] for r in records}) == 2  # *.example.com = example.com
    assert evaluation.one(CERTIFICATE).inputs["subjectAlternativeNames"] == [
        "*.example.com",
        "api.example.com",
    ]


def test_a_given_certificate_arn_requests_nothing(evaluate_variant):
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:loadBalancer"].update(certificateArn=CERT, certificate=None),
    )
    assert evaluation.of_type(CERTIFICATE) == evaluation.of_type(RECORD) == []
    https = next(x for x in evaluation.of_type(LISTENER) if x.inputs["protocol"] == "HTTPS")
    assert https.inputs["certificateArn"] == CERT


def test_target_group_protocol_stays_a_choice(evaluate_variant):
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:loadBalancer"].update(
            targetProtocol="HTTPS", healthCheck={"protocol": "HTTPS", "path": "/health"}
        ),
    )
    group = evaluation.one(TARGET_GROUP).inputs
    assert group["protocol"] == "HTTPS" and group["healthCheck"]["protocol"] == "HTTPS"


def test_production_balancer_sits_behind_a_logged_web_acl(production):
    acl = production.one(WEB_ACL)
    assert acl.inputs["scope"] == "REGIONAL" and acl.inputs["defaultAction"] == {"allow": {}}
    rules = sorted(acl.inputs["rules"], key=lambda r: r["priority"])
    assert rules[0]["statement"] == {
        "rateBasedStatement": {"limit": 2000, "aggregateKeyType": "IP"}
    }
    assert rules[0]["action"] == {"block": {}}
    assert [r["statement"]["managedRuleGroupStatement"]["name"] for r in rules[1:]] == [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesAnonymousIpList",
    ]
    assert all(r["overrideAction"] == {"none": {}} for r in rules[1:])
    association = production.one(WEB_ACL_ASSOCIATION).inputs
    assert association == {
        "resourceArn": production.one(LB).outputs["arn"],
        "webAclArn": acl.outputs["arn"],
    }
    group = production.one(LOG_GROUP)
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert group.inputs["retentionInDays"] == 365
    logging = production.one(WEB_ACL_LOGGING).inputs
    assert logging["resourceArn"] == acl.outputs["arn"]
    assert logging["logDestinationConfigs"] == [group.outputs["arn"]]
    assert {f["singleHeader"]["name"] for f in logging["redactedFields"]} == {
        "authorization",
        "cookie",
    }


def test_the_web_acl_takes_its_rule_groups_and_rate_from_config_or_opts_out(evaluate_variant):
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:loadBalancer"].update(
            waf={"managedRuleGroups": ["AWSManagedRulesSQLiRuleSet"], "rateLimit": 500}
        ),
    )
    rules = evaluation.one(WEB_ACL).inputs["rules"]
    assert [r["name"] for r in rules] == ["rate-limit-per-ip", "AWSManagedRulesSQLiRuleSet"]
    assert rules[0]["statement"]["rateBasedStatement"]["limit"] == 500
    off = evaluate_variant(
        "production", lambda v: v["cutover:loadBalancer"].update(waf={"enabled": False})
    )
    assert off.of_type(WEB_ACL) == off.of_type(WEB_ACL_ASSOCIATION) == off.of_type(LOG_GROUP) == []
    tags = {t["key"]: t["value"] for t in off.one(GROUP).inputs["tags"]}
    assert tags["cutover:opt-outs"] == "ELB.16"


def test_the_database_runs_on_its_own_parameter_group(production):
    group = production.one(PARAMETER_GROUP)
    assert group.inputs["family"] == "postgres16"
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]} == {
        "rds.force_ssl": "1",
        "log_statement": "ddl",
        "log_min_duration_statement": "1000",
    }
    assert production.one(DB).inputs["parameterGroupName"] == group.outputs["name"]
