"""The Pulumi program under mocks: properties of every concern and the wiring between them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi_aws
import pytest

from hooks import permissions
from preview.mocks import Evaluation

GROUP = "aws:autoscaling/group:Group"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
ALB = "aws:lb/loadBalancer:LoadBalancer"
CLASSIC = "aws:elb/loadBalancer:LoadBalancer"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNET = "aws:ec2/subnet:Subnet"
CERT = "arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c"
AL2023 = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"
BUCKET = "aws:s3/bucket:Bucket"


def revision_bucket(evaluation: Evaluation):
    return next(b for b in evaluation.of_type(BUCKET) if "-revisions" in b.name)


def arn(evaluation: Evaluation, type_token: str) -> str:
    return evaluation.one(type_token).outputs["arn"]


def instance_policy(evaluation: Evaluation) -> dict[str, Any]:
    return json.loads(
        evaluation.named(ROLE_POLICY, f"cutover-{stack_of(evaluation)}-instance-policy").inputs[
            "policy"
        ]
    )


def stack_of(evaluation: Evaluation) -> str:
    return evaluation.one(GROUP).inputs["name"].split("-")[1]


def security_group_id(evaluation: Evaluation, role: str) -> str:
    stack = stack_of(evaluation)
    return evaluation.named(SECURITY_GROUP, f"cutover-{stack}-{role}").outputs["id"]


def rules(evaluation: Evaluation, type_token: str, group_id: str) -> list[dict[str, Any]]:
    return [
        r.inputs for r in evaluation.of_type(type_token) if r.inputs["securityGroupId"] == group_id
    ]


# -- fleet -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "sizes"), [("staging", (1, 1, 2)), ("production", (2, 3, 6))])
def test_group_sizes_come_from_config(request, stack, sizes):
    group = request.getfixturevalue(stack).one(GROUP).inputs
    assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == sizes
    assert group["name"] == f"cutover-{stack}-fleet"
    assert group["healthCheckType"] == "ELB"
    assert group["healthCheckGracePeriod"] == 300


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_group_is_attached_to_the_target_group(request, stack):
    evaluation = request.getfixturevalue(stack)
    assert evaluation.one(GROUP).inputs["targetGroupArns"] == [arn(evaluation, TARGET_GROUP)]
    assert "loadBalancers" not in evaluation.one(GROUP).inputs


def test_group_uses_the_launch_template(staging):
    template = staging.one(TEMPLATE)
    assert staging.one(GROUP).inputs["launchTemplate"] == {
        "id": template.outputs["id"],
        "version": "1",
    }
    assert "mixedInstancesPolicy" not in staging.one(GROUP).inputs


def test_production_mixes_instance_types_with_on_demand_base_capacity(production):
    template = production.one(TEMPLATE)
    group = production.one(GROUP).inputs
    assert "launchTemplate" not in group
    policy = group["mixedInstancesPolicy"]
    assert policy["launchTemplate"]["launchTemplateSpecification"] == {
        "launchTemplateId": template.outputs["id"],
        "version": "1",
    }
    assert [o["instanceType"] for o in policy["launchTemplate"]["overrides"]] == [
        "m6i.large",
        "m6a.large",
        "m5.large",
    ]
    distribution = policy["instancesDistribution"]
    assert distribution["onDemandBaseCapacity"] == 2
    assert distribution["onDemandPercentageAboveBaseCapacity"] == 100


def test_allow_downtime_tag_is_set_only_on_staging(staging, production):
    staging_tags = {t["key"]: t for t in staging.one(GROUP).inputs["tags"]}
    assert staging_tags["cutover:allow-downtime"] == {
        "key": "cutover:allow-downtime",
        "value": "true",
        "propagateAtLaunch": False,
    }
    assert all(t["key"] != "cutover:allow-downtime" for t in production.one(GROUP).inputs["tags"])


def test_production_spreads_private_instances_over_three_zones(production):
    private = [s for s in production.of_type(SUBNET) if "-private-" in s.name]
    assert len(private) == 3
    assert sorted(s.inputs["availabilityZone"] for s in private) == [
        "eu-central-1a",
        "eu-central-1b",
        "eu-central-1c",
    ]
    assert production.one(GROUP).inputs["vpcZoneIdentifiers"] == [s.outputs["id"] for s in private]
    assert len(production.of_type("aws:ec2/natGateway:NatGateway")) == 3
    interface = production.one(TEMPLATE).inputs["networkInterfaces"][0]
    assert interface["associatePublicIpAddress"] == "false"


def test_staging_without_nat_runs_instances_in_public_subnets_with_public_ips(staging):
    public = [s for s in staging.of_type(SUBNET) if "-public-" in s.name]
    assert len(public) == 2
    assert staging.one(GROUP).inputs["vpcZoneIdentifiers"] == [s.outputs["id"] for s in public]
    assert staging.of_type("aws:ec2/natGateway:NatGateway") == []
    assert (
        staging.one(TEMPLATE).inputs["networkInterfaces"][0]["associatePublicIpAddress"] == "true"
    )


def test_launch_template_is_hardened_and_installs_the_agent(production):
    template = production.one(TEMPLATE).inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    ebs = template["blockDeviceMappings"][0]["ebs"]
    assert (ebs["volumeType"], ebs["encrypted"], ebs["volumeSize"]) == ("gp3", "true", 30)
    script = base64.b64decode(template["userData"]).decode()
    assert "python3-boto3" in script and "python3 " in script
    assert "aws-codedeploy-eu-central-1" in script and "./install auto" in script
    assert template["imageId"] == AL2023 + "x86_64"
    assert template["instanceType"] == "m6i.large"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1


def test_the_image_resolves_at_launch_so_up_is_quiet(production):
    # No AMI look-up at `pulumi up`: a newer image must not make a new template version.
    assert all(token != "aws:ec2/getAmi:getAmi" for token, _ in production.calls)
    assert production.one(TEMPLATE).inputs["imageId"].startswith("resolve:ssm:")


def test_graviton_instance_type_resolves_an_arm64_image(evaluate_variant):
    evaluation = evaluate_variant(
        "staging", lambda v: v["cutover:fleet"].update(instanceType="m7g.large")
    )
    assert evaluation.one(TEMPLATE).inputs["imageId"] == AL2023 + "arm64"


def test_configured_ami_skips_the_lookup(evaluate_variant):
    evaluation = evaluate_variant(
        "staging", lambda v: v["cutover:fleet"].update(ami="ami-0123456789abcdef0")
    )
    assert evaluation.one(TEMPLATE).inputs["imageId"] == "ami-0123456789abcdef0"
    assert all(token != "aws:ec2/getAmi:getAmi" for token, _ in evaluation.calls)


def test_group_ignores_desired_capacity_on_update(monkeypatch, evaluate_variant):
    seen: list[Any] = []

    class SpyGroup(pulumi_aws.autoscaling.Group):
        def __init__(self, resource_name, *args, opts=None, **kwargs):
            seen.append(opts)
            super().__init__(resource_name, *args, opts=opts, **kwargs)

    monkeypatch.setattr(pulumi_aws.autoscaling, "Group", SpyGroup)
    evaluate_variant("staging", lambda v: None)
    assert len(seen) == 1
    assert seen[0].ignore_changes == ["desiredCapacity", "tags"]


# -- identity ----------------------------------------------------------------------------------


def hook_statements(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy["Statement"] if s["Sid"].startswith("Hooks")}


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_instance_policy_grants_exactly_the_hooks_actions_scoped(request, stack):
    evaluation = request.getfixturevalue(stack)
    policy = instance_policy(evaluation)
    deployments = evaluation.named(ROLE_POLICY, f"cutover-{stack}-deploy-hooks-deployments")
    role = evaluation.named(ROLE, f"cutover-{stack}-instance-role")
    assert deployments.inputs["role"] == role.outputs["name"]
    hooks = hook_statements(policy) | hook_statements(json.loads(deployments.inputs["policy"]))
    granted = sorted(a for s in hooks.values() for a in s["Action"])
    expected = (
        permissions.DESCRIBE_ACTIONS
        + permissions.GROUP_ACTIONS
        + permissions.TARGET_GROUP_ACTIONS
        + permissions.INSTANCE_TAG_ACTIONS
        + permissions.DEPLOYMENT_ACTIONS
    )
    assert granted == sorted(expected)
    application = evaluation.one("aws:codedeploy/application:Application").outputs["name"]
    group = evaluation.one(DEPLOYMENT_GROUP).outputs["deploymentGroupName"]
    assert hooks["HooksOwnDeployments"]["Resource"] == [
        f"arn:aws:codedeploy:eu-central-1:123456789012:deploymentgroup:{application}/{group}"
    ]
    entries = hooks["HooksOwnInstanceEntries"]
    assert entries["Resource"] == ["arn:aws:ec2:eu-central-1:123456789012:instance/*"]
    assert entries["Condition"] == {
        "StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": f"cutover-{stack}-fleet"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["cutover:deploy"]},
    }
    assert hooks["HooksDescribe"]["Resource"] == "*"
    assert hooks["HooksOwnGroup"]["Resource"] == [
        f"arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:*"
        f":autoScalingGroupName/cutover-{stack}-fleet"
    ]
    assert hooks["HooksOwnTargetGroup"]["Resource"] == [arn(evaluation, TARGET_GROUP)]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_no_mutating_action_is_granted_on_everything(request, stack):
    evaluation = request.getfixturevalue(stack)
    for resource in evaluation.of_type(ROLE_POLICY):
        for statement in json.loads(resource.inputs["policy"])["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if statement["Resource"] == "*" and "Condition" not in statement:
                assert all(a.split(":")[1].startswith("Describe") for a in actions), statement


def test_instance_policy_reads_only_the_revision_bucket(production):
    statements = {s["Sid"]: s for s in instance_policy(production)["Statement"]}
    bucket = revision_bucket(production).outputs["arn"]
    assert statements["ReadRevisions"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statements["ReadRevisions"]["Resource"][0] == f"{bucket}/*"
    assert statements["ListRevisions"]["Resource"] == [bucket]


def test_instance_profile_role_and_policy_are_wired(production):
    role = production.named(ROLE, "cutover-production-instance-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    profile = production.one(PROFILE)
    assert profile.inputs["role"] == role.outputs["name"]
    assert (
        production.named(ROLE_POLICY, "cutover-production-instance-policy").inputs["role"]
        == role.outputs["id"]
    )
    assert production.one(TEMPLATE).inputs["iamInstanceProfile"] == {"arn": profile.outputs["arn"]}


# -- load balancer and security groups ---------------------------------------------------------


def test_https_listener_forwards_to_the_target_group_and_http_redirects(production):
    listeners = {x.inputs["protocol"]: x.inputs for x in production.of_type(LISTENER)}
    assert set(listeners) == {"HTTP", "HTTPS"}
    assert all(x["loadBalancerArn"] == arn(production, ALB) for x in listeners.values())
    assert listeners["HTTPS"]["port"] == 443
    assert listeners["HTTPS"]["defaultActions"] == [
        {"type": "forward", "targetGroupArn": arn(production, TARGET_GROUP)}
    ]
    assert [a["type"] for a in listeners["HTTP"]["defaultActions"]] == ["redirect"]


def test_staging_opts_out_and_forwards_plain_http(staging):
    (listener,) = staging.of_type(LISTENER)
    assert (listener.inputs["protocol"], listener.inputs["port"]) == ("HTTP", 80)
    assert listener.inputs["defaultActions"] == [
        {"type": "forward", "targetGroupArn": arn(staging, TARGET_GROUP)}
    ]


@pytest.mark.parametrize(
    ("stack", "interval", "healthy", "delay"), [("staging", 15, 2, 60), ("production", 10, 3, 120)]
)
def test_target_group_health_check_and_drain_come_from_config(
    request, stack, interval, healthy, delay
):
    group = request.getfixturevalue(stack).one(TARGET_GROUP).inputs
    check = group["healthCheck"]
    assert (check["path"], check["interval"], check["healthyThreshold"]) == (
        "/health",
        interval,
        healthy,
    )
    assert group["deregistrationDelay"] == delay
    assert (group["protocol"], group["port"]) == ("HTTP", 80)


def test_alb_is_public_in_the_public_subnets(production):
    alb = production.one(ALB).inputs
    public = [s.outputs["id"] for s in production.of_type(SUBNET) if "-public-" in s.name]
    assert alb["loadBalancerType"] == "application" and alb["internal"] is False
    assert alb["subnets"] == public
    assert alb["securityGroups"] == [security_group_id(production, "lb")]


@pytest.mark.parametrize(("stack", "ports"), [("staging", [80]), ("production", [80, 443])])
def test_security_groups_admit_the_internet_to_the_lb_and_the_lb_to_the_app_port(
    request, stack, ports
):
    evaluation = request.getfixturevalue(stack)
    lb, instances = security_group_id(evaluation, "lb"), security_group_id(evaluation, "instances")
    assert sorted(
        (r["fromPort"], r["toPort"], r.get("cidrIpv4")) for r in rules(evaluation, INGRESS, lb)
    ) == [(port, port, "0.0.0.0/0") for port in ports]
    instance_rules = rules(evaluation, INGRESS, instances)
    assert [
        (r["fromPort"], r["toPort"], r["referencedSecurityGroupId"]) for r in instance_rules
    ] == [(80, 80, lb)]
    assert all("cidrIpv4" not in r for r in instance_rules)
    assert all(
        not (r["fromPort"] <= 22 <= r["toPort"])
        for r in evaluation.of_type(INGRESS)
        for r in [r.inputs]
    )
    assert evaluation.of_type("aws:ec2/securityGroupRule:SecurityGroupRule") == []
    assert all("ingress" not in g.inputs for g in evaluation.of_type(SECURITY_GROUP))


def test_https_listener_with_a_certificate_opens_443(evaluate_variant):
    evaluation = evaluate_variant(
        "staging",
        lambda v: v["cutover:loadBalancer"].update(
            listeners=[{"protocol": "HTTP", "port": 80}, {"protocol": "HTTPS", "port": 443}],
            certificateArn=CERT,
            allowPlainHttp=None,  # nothing plain left to opt out of
        ),
    )
    https = [x.inputs for x in evaluation.of_type(LISTENER) if x.inputs["protocol"] == "HTTPS"]
    assert (
        len(https) == 1
        and https[0]["certificateArn"] == CERT
        and https[0]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    )
    lb = security_group_id(evaluation, "lb")
    assert sorted(r["fromPort"] for r in rules(evaluation, INGRESS, lb)) == [80, 443]
    assert all(r.get("cidrIpv4") == "0.0.0.0/0" for r in rules(evaluation, INGRESS, lb))


def test_network_load_balancer_uses_tcp(evaluate_variant):
    evaluation = evaluate_variant(
        "staging",
        lambda v: v["cutover:loadBalancer"].update(
            type="network",
            listeners=[{"protocol": "TCP", "port": 80}],
            healthCheck={"protocol": "TCP"},
            allowPlainHttp=None,  # an NLB has no HTTP listener
        ),
    )
    assert evaluation.one(ALB).inputs["loadBalancerType"] == "network"
    target_group = evaluation.one(TARGET_GROUP).inputs
    assert target_group["protocol"] == "TCP"
    assert (
        target_group["healthCheck"]["protocol"] == "TCP"
        and "path" not in target_group["healthCheck"]
    )
    assert evaluation.one(LISTENER).inputs["protocol"] == "TCP"


def test_classic_elb_is_wired_to_the_group_and_the_policy(evaluate_variant):
    evaluation = evaluate_variant(
        "staging", lambda v: v["cutover:loadBalancer"].update(type="classic")
    )
    elb = evaluation.one(CLASSIC)
    assert (
        elb.inputs["connectionDraining"] is True and elb.inputs["connectionDrainingTimeout"] == 60
    )
    assert elb.inputs["healthCheck"]["target"] == "HTTP:80/health"
    assert elb.inputs["listeners"] == [
        {"lbPort": 80, "lbProtocol": "HTTP", "instancePort": 80, "instanceProtocol": "HTTP"}
    ]
    assert evaluation.of_type(TARGET_GROUP) == [] and evaluation.of_type(ALB) == []
    group = evaluation.one(GROUP).inputs
    assert group["loadBalancers"] == [elb.outputs["name"]] and "targetGroupArns" not in group
    hooks = hook_statements(instance_policy(evaluation))
    assert hooks["HooksOwnClassicLoadBalancer"]["Action"] == list(permissions.CLASSIC_ELB_ACTIONS)
    assert hooks["HooksOwnClassicLoadBalancer"]["Resource"] == [elb.outputs["arn"]]
    assert "HooksOwnTargetGroup" not in hooks


# -- deployment, scaling, revisions ------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_deployment_group_deploys_in_place_to_the_group(request, stack):
    evaluation = request.getfixturevalue(stack)
    group = evaluation.one(DEPLOYMENT_GROUP).inputs
    assert group["autoscalingGroups"] == [evaluation.one(GROUP).outputs["name"]]
    assert group["deploymentStyle"] == {
        "deploymentType": "IN_PLACE",
        "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
    }
    assert group["deploymentConfigName"] == "CodeDeployDefault.OneAtATime"
    assert group["autoRollbackConfiguration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert (
        group["appName"] == evaluation.one("aws:codedeploy/application:Application").outputs["name"]
    )
    service_role = evaluation.named(ROLE, f"cutover-{stack}-deploy-service-role")
    assert group["serviceRoleArn"] == service_role.outputs["arn"]
    assert (
        evaluation.one("aws:codedeploy/application:Application").inputs["computePlatform"]
        == "Server"
    )
    attachment = evaluation.named(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        f"cutover-{stack}-deploy-service-role-managed",
    ).inputs
    assert attachment["policyArn"].endswith(":iam::aws:policy/service-role/AWSCodeDeployRole")


def test_custom_deployment_config_is_created_and_used(evaluate_variant):
    evaluation = evaluate_variant(
        "production",
        lambda v: v["cutover:deployment"].update(
            config="Cutover.TwoAtATime", minimumHealthyHosts={"type": "HOST_COUNT", "value": 1}
        ),
    )
    config = evaluation.one("aws:codedeploy/deploymentConfig:DeploymentConfig").inputs
    assert config["minimumHealthyHosts"] == {"type": "HOST_COUNT", "value": 1}
    assert evaluation.one(DEPLOYMENT_GROUP).inputs["deploymentConfigName"] == "Cutover.TwoAtATime"


def test_staging_scales_with_step_policies_fired_by_alarms(staging):
    policies = {
        p.name.rsplit("-", 1)[1]: p for p in staging.of_type("aws:autoscaling/policy:Policy")
    }
    assert set(policies) == {"out", "in"}
    assert policies["out"].inputs["stepAdjustments"] == [
        {"scalingAdjustment": 1, "metricIntervalLowerBound": "0"}
    ]
    assert policies["in"].inputs["stepAdjustments"] == [
        {"scalingAdjustment": -1, "metricIntervalUpperBound": "0"}
    ]
    alarms = {
        a.name.rsplit("-", 1)[1]: a.inputs
        for a in staging.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert (alarms["out"]["threshold"], alarms["out"]["evaluationPeriods"]) == (70, 2)
    assert (alarms["in"]["threshold"], alarms["in"]["evaluationPeriods"]) == (30, 5)
    for direction in ("out", "in"):
        assert alarms[direction]["alarmActions"] == [policies[direction].outputs["arn"]]
        assert alarms[direction]["dimensions"] == {"AutoScalingGroupName": "cutover-staging-fleet"}
        assert policies[direction].inputs["autoscalingGroupName"] == "cutover-staging-fleet"


def test_production_scales_by_target_tracking(production):
    (policy,) = production.of_type("aws:autoscaling/policy:Policy")
    tracking = policy.inputs["targetTrackingConfiguration"]
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    assert tracking["targetValue"] == 50 and tracking["disableScaleIn"] is False
    alarms = production.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert all("-rollback-" in a.name for a in alarms)  # no scaling alarms, only rollback ones


def test_revision_bucket_is_versioned_encrypted_and_private(production):
    bucket = revision_bucket(production).outputs["id"]
    versioning = production.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning == {"bucket": bucket, "versioningConfiguration": {"status": "Enabled"}}
    sse = next(
        r
        for r in production.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        if r.inputs["bucket"] == bucket
    )
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = next(
        r.inputs
        for r in production.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        if r.inputs["bucket"] == bucket
    )
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )


# -- optional queue and database ---------------------------------------------------------------


def test_production_queue_redrives_to_its_dead_letter_queue(production, staging):
    queues = {q.name: q for q in production.of_type("aws:sqs/queue:Queue")}
    redrive = json.loads(queues["cutover-production-queue"].inputs["redrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": queues["cutover-production-queue-dlq"].outputs["arn"],
        "maxReceiveCount": 5,
    }
    assert queues["cutover-production-queue"].inputs["visibilityTimeoutSeconds"] == 60
    assert staging.of_type("aws:sqs/queue:Queue") == []


def test_production_database_is_private_encrypted_and_reachable_only_from_instances(
    production, staging
):
    db = production.one("aws:rds/instance:Instance").inputs
    assert db["engine"] == "postgres" and db["engineVersion"] == "16"
    assert db["manageMasterUserPassword"] is True and "password" not in db
    assert (
        db["storageEncrypted"] is True
        and db["publiclyAccessible"] is False
        and db["multiAz"] is True
    )
    subnet_group = production.one("aws:rds/subnetGroup:SubnetGroup")
    private = [s.outputs["id"] for s in production.of_type(SUBNET) if "-private-" in s.name]
    assert subnet_group.inputs["subnetIds"] == private
    assert db["dbSubnetGroupName"] == subnet_group.outputs["name"]
    database_sg = security_group_id(production, "database")
    assert db["vpcSecurityGroupIds"] == [database_sg]
    ingress = rules(production, INGRESS, database_sg)
    assert [(r["fromPort"], r["referencedSecurityGroupId"]) for r in ingress] == [
        (5432, security_group_id(production, "instances"))
    ]
    assert staging.of_type("aws:rds/instance:Instance") == []


# -- outputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_outputs_name_what_deployments_need(request, stack):
    evaluation = request.getfixturevalue(stack)
    outputs = evaluation.outputs
    assert outputs["loadBalancerDnsName"] == evaluation.one(ALB).outputs["dnsName"]
    assert outputs["autoScalingGroupName"] == f"cutover-{stack}-fleet"
    assert (
        outputs["codeDeployApplicationName"]
        == evaluation.one("aws:codedeploy/application:Application").outputs["name"]
    )
    assert outputs["codeDeployDeploymentGroupName"] == f"cutover-{stack}-fleet"
    assert outputs["revisionBucketName"] == revision_bucket(evaluation).outputs["bucket"]
    assert (outputs["deregisterTimeout"], outputs["registerTimeout"]) == (400, 120)
    assert ("databaseEndpoint" in outputs) is (stack == "production")


def test_every_child_is_parented_by_a_cutover_component(production):
    components = [r for r in production.resources if not r.custom]
    assert {c.type.split(":")[1] for c in components} == {
        "network",
        "security",
        "loadbalancer",
        "revisions",
        "identity",
        "fleet",
        "scaling",
        "deployment",
        "messaging",
        "database",
        "logs",
        "alarms",
        "certificate",
        "waf",
    }
