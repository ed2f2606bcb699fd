"""The Pulumi program: read the stack's validated config, wire the components, export outputs.

The Pulumi CLI runs this folder with ``runpy.run_path("infra/")`` from inside ``infra/``, where
the repository root is not on ``sys.path``; the program puts it there so that ``infra.*`` and
``hooks.permissions`` import the same way as under ``python -m``.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import math  # noqa: E402

import pulumi  # noqa: E402

from awsfacts.codedeploy import instances_kept_healthy  # noqa: E402
from infra import bluegreen  # noqa: E402
from infra.alarms import RollbackAlarms, RollbackAlarmsArgs  # noqa: E402
from infra.certificate import Certificate, CertificateArgs  # noqa: E402
from infra.config import load_pulumi_config  # noqa: E402
from infra.database import Database, DatabaseArgs  # noqa: E402
from infra.deployment import Deployment, DeploymentArgs  # noqa: E402
from infra.fleet import Fleet, FleetArgs  # noqa: E402
from infra.loadbalancer import LoadBalancer, LoadBalancerArgs  # noqa: E402
from infra.logbucket import LogBucket, LogBucketArgs  # noqa: E402
from infra.messaging import Queue, QueueArgs  # noqa: E402
from infra.revisions import RevisionBucket, RevisionBucketArgs  # noqa: E402
from infra.roles import InstanceIdentity, InstanceIdentityArgs  # noqa: E402
from infra.scaling import Scaling, ScalingArgs  # noqa: E402
from infra.securitygroups import ANYWHERE, SecurityGroups, SecurityGroupsArgs  # noqa: E402
from infra.traffic import Traffic, TrafficArgs  # noqa: E402
from infra.vpc import Network, NetworkArgs  # noqa: E402
from infra.waf import Firewall, FirewallArgs  # noqa: E402
from stack import names  # noqa: E402
from stack.load import StackConfig, opted_out_controls  # noqa: E402


def refresh_floor_percentage(cfg: StackConfig) -> int:
    """An instance refresh keeps the floor a deployment keeps: the deployment config's healthy
    instances at MinSize, as a percentage of the group (0 for stacks that accept downtime)."""
    fleet, dep = cfg.fleet, cfg.deployment
    if fleet.allow_downtime or fleet.min_size == 0:
        return 0
    kept = instances_kept_healthy(dep.config, dep.minimum_healthy_hosts, fleet.min_size)
    return math.ceil(100 * kept / fleet.min_size)


def main(cfg: StackConfig) -> None:
    prefix = cfg.resource_prefix
    tags = cfg.resource_tags
    lb_cfg = cfg.load_balancer
    colours = bluegreen.colours(cfg)
    public_cidrs, private_cidrs = cfg.network.subnet_cidrs()
    logs = LogBucket(f"{prefix}-logs", LogBucketArgs(cfg.logs.retention_days, tags=tags))
    network = Network(
        prefix,
        NetworkArgs(
            vpc_cidr=cfg.network.vpc_cidr,
            public_subnet_cidrs=public_cidrs,
            private_subnet_cidrs=private_cidrs,
            nat_gateways=cfg.network.nat_gateways,
            region=cfg.region,
            flow_log_bucket_arn=logs.arn if cfg.network.flow_logs else None,
            tags=tags,
        ),
    )
    database = cfg.database
    groups = SecurityGroups(
        prefix,
        SecurityGroupsArgs(
            vpc_id=network.vpc_id,
            listener_ports=[listener.port for listener in lb_cfg.listeners],
            target_ports=list(lb_cfg.target_ports),
            client_cidr=cfg.network.vpc_cidr if lb_cfg.internal else ANYWHERE,
            database_port=database.port if database.enabled else None,
            tags=tags,
        ),
    )
    certificate = None
    if lb_cfg.certificate is not None:
        certificate = Certificate(
            f"{prefix}-certificate", CertificateArgs(request=lb_cfg.certificate, tags=tags)
        )
    lb = LoadBalancer(
        prefix,
        LoadBalancerArgs(
            type=lb_cfg.type,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids if lb_cfg.internal else network.public_subnet_ids,
            security_group_id=groups.load_balancer_id,
            listeners=list(lb_cfg.listeners),
            health_check=lb_cfg.health_check,
            app_port=cfg.fleet.app_port,
            deregistration_delay=lb_cfg.deregistration_delay,
            internal=lb_cfg.internal,
            deletion_protection=lb_cfg.deletion_protection,
            access_log_bucket=logs.bucket if lb_cfg.access_logs else None,
            certificate_arn=certificate.arn if certificate else None,
            target_protocol=lb_cfg.target_protocol,
            colours=colours,
            tags=tags,
        ),
    )
    if lb_cfg.waf.enabled:
        Firewall(f"{prefix}-waf", FirewallArgs(waf=lb_cfg.waf, load_balancer_arn=lb.arn, tags=tags))
    revisions = RevisionBucket(
        f"{prefix}-revisions",
        RevisionBucketArgs(
            log_bucket=logs.bucket,
            noncurrent_version_days=cfg.revisions.noncurrent_version_days,
            kms_key_arn=cfg.revisions.kms_key_arn,
            tags=tags,
        ),
    )
    identity = InstanceIdentity(
        f"{prefix}-instance",
        InstanceIdentityArgs(
            region=cfg.region,
            group_name=cfg.group_name,
            revision_bucket_arn=revisions.arn,
            target_group_arns=lb.target_group_arns,
            classic_elb_arn=lb.classic_arn,
            max_size=cfg.fleet.max_size,
            ssm_session_manager=cfg.fleet.ssm_session_manager,
            revisions_kms_key_arn=cfg.revisions.kms_key_arn,
            tags=tags,
            colours=colours,
        ),
    )
    fleet = Fleet(
        f"{prefix}-fleet",
        FleetArgs(
            fleet=cfg.fleet,
            group_name=cfg.group_name,
            region=cfg.region,
            subnet_ids=network.instance_subnet_ids,
            public_ips=cfg.fleet.public_ips,
            security_group_id=groups.instance_id,
            instance_profile_arn=identity.profile_arn,
            target_group_arns=lb.target_group_arns,
            classic_elb_name=lb.classic_name,
            refresh_min_healthy_percentage=refresh_floor_percentage(cfg),
            opt_outs=opted_out_controls(cfg),
            depends_on=identity.resources,
            tags=tags,
            colour_target_group_arns=lb.colour_target_group_arns,
        ),
    )
    for label, group_name in bluegreen.scaled_groups(fleet):
        Scaling(f"{prefix}-scaling{label}", ScalingArgs(scaling=cfg.scaling, group_name=group_name))
    alarm_names: list = []
    if cfg.deployment.rollback_alarms:
        alarms = RollbackAlarms(
            f"{prefix}-rollback",
            RollbackAlarmsArgs(
                type=lb_cfg.type,
                load_balancer_arn_suffix=lb.arn_suffix,
                target_group_arn_suffixes=lb.target_group_arn_suffixes,
                classic_name=lb.classic_name,
                tags=tags,
            ),
        )
        alarm_names = alarms.names
    deployment = Deployment(
        f"{prefix}-deploy",
        DeploymentArgs(
            deployment=cfg.deployment,
            deployment_group_name=cfg.deployment_group_name,
            group_name=fleet.group_name,
            instance_role_arn=identity.role_arn,
            instance_role_name=identity.role_name,
            launch_template_arns=fleet.launch_template_arns,
            region=cfg.region,
            alarm_names=alarm_names,
            tags=tags,
            colour_group_names=fleet.colour_group_names,
        ),
    )

    pulumi.export(names.LOAD_BALANCER_DNS_NAME, lb.dns_name)
    if colours:
        bluegreen.export(lb, fleet, deployment)
    else:
        pulumi.export(names.AUTO_SCALING_GROUP_NAME, fleet.group_name)
    pulumi.export(names.CODEDEPLOY_APPLICATION_NAME, deployment.application_name)
    if not colours:
        pulumi.export(names.CODEDEPLOY_DEPLOYMENT_GROUP_NAME, deployment.deployment_group_name)
    pulumi.export(names.REVISION_BUCKET_NAME, revisions.bucket)
    pulumi.export(names.LOG_BUCKET_NAME, logs.bucket)
    pulumi.export(names.TARGET_GROUP_ARNS, lb.target_group_arns)
    pulumi.export(names.VPC_ID, network.vpc_id)
    pulumi.export(names.INSTANCE_ROLE_ARN, identity.role_arn)
    # The hooks' deadlines (the appspec the bundle writes reads the same stack config).
    pulumi.export(names.DEREGISTER_TIMEOUT, cfg.deployment.deregister_timeout)
    pulumi.export(names.REGISTER_TIMEOUT, cfg.deployment.register_timeout)
    if lb.classic_name is not None:
        pulumi.export(names.CLASSIC_LOAD_BALANCER_NAME, lb.classic_name)
    if cfg.queue.enabled:
        queue = Queue(f"{prefix}-queue", QueueArgs(queue=cfg.queue, tags=tags))
        pulumi.export(names.QUEUE_URL, queue.url)
        pulumi.export(names.DEAD_LETTER_QUEUE_URL, queue.dead_letter_url)
    if database.enabled:
        db = Database(
            f"{prefix}-db",
            DatabaseArgs(
                database=database,
                subnet_ids=network.private_subnet_ids,
                security_group_id=groups.database_id,
                protected=cfg.zero_downtime,
                tags=tags,
            ),
        )
        pulumi.export(names.DATABASE_ENDPOINT, db.endpoint)
        pulumi.export(names.DATABASE_SECRET_ARN, db.secret_arn)
    if cfg.traffic is not None:
        traffic = Traffic(
            f"{prefix}-traffic",
            TrafficArgs(
                traffic=cfg.traffic,
                load_balancer_dns_name=lb.dns_name,
                load_balancer_zone_id=lb.zone_id,
                tags=tags,
            ),
        )
        # What `python -m shift` reads with `pulumi stack output --json`.
        pulumi.export(names.LOAD_BALANCER_ARN, lb.arn)
        pulumi.export(names.TRAFFIC_ZONE_ID, traffic.zone_id)
        pulumi.export(names.TRAFFIC_RECORD_NAME, traffic.record_name)
        pulumi.export(names.TRAFFIC_HEALTH_CHECK_IDS, traffic.health_check_ids)


if __name__ == "__main__":
    main(load_pulumi_config())
