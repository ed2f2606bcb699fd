"""Database: RDS PostgreSQL in the private subnets, reachable only from the instances, on a
parameter group of its own (TLS only; DDL and slow statements in the exported postgresql log)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.deployment import service_trust_policy
from stack.load import DatabaseConfig


def parameter_values(db: DatabaseConfig) -> dict[str, str]:
    """The PostgreSQL parameters the stack sets (all dynamic: applied without a reboot).
    TLS is not a choice: nothing the program runs needs a plain connection."""
    return {
        "rds.force_ssl": "1",
        "log_statement": db.log_statement,
        "log_min_duration_statement": str(db.log_min_duration_statement),
    }


@dataclass
class DatabaseArgs:
    database: DatabaseConfig
    subnet_ids: list[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    # Keep a final snapshot on delete (every stack but those that opt out of zero downtime).
    protected: bool
    tags: dict[str, str] = field(default_factory=dict)


class Database(pulumi.ComponentResource):
    """Encrypted, private PostgreSQL. RDS generates the master password and keeps it in Secrets
    Manager (``manage_master_user_password``): no password in config or state."""

    endpoint: pulumi.Output[str]
    secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._tags = args.tags
        db = args.database
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description="Cutover database: private subnets",
            tags={**args.tags, "Name": f"{name}-subnets"},
            opts=child,
        )
        parameters = aws.rds.ParameterGroup(
            f"{name}-parameters",
            family=db.parameter_group_family,
            description="Cutover database: TLS only, DDL and slow statements logged",
            parameters=[
                {"name": name_, "value": value} for name_, value in parameter_values(db).items()
            ],
            tags={**args.tags, "Name": f"{name}-parameters"},
            opts=child,
        )
        monitoring_role = self._monitoring_role(name) if db.monitoring_interval else None
        instance = aws.rds.Instance(
            name,
            engine="postgres",
            engine_version=db.engine_version,
            instance_class=db.instance_class,
            allocated_storage=db.allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=db.db_name,
            username=db.username,
            manage_master_user_password=True,
            port=db.port,
            db_subnet_group_name=subnets.name,
            parameter_group_name=parameters.name,
            vpc_security_group_ids=[args.security_group_id],
            publicly_accessible=False,
            multi_az=db.multi_az,
            backup_retention_period=db.backup_retention_days,
            deletion_protection=db.deletion_protection,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            skip_final_snapshot=not args.protected,
            final_snapshot_identifier=f"{name}-final" if args.protected else None,
            # RDS.9 log exports, RDS.10 IAM authentication, RDS.6 enhanced monitoring.
            enabled_cloudwatch_logs_exports=list(db.log_exports),
            iam_database_authentication_enabled=db.iam_authentication,
            monitoring_interval=db.monitoring_interval,
            monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
            tags={**args.tags, "Name": name},
            opts=child,
        )
        self.endpoint = instance.endpoint
        self.secret_arn = instance.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else ""
        )
        self.register_outputs({"endpoint": self.endpoint, "secretArn": self.secret_arn})

    def _monitoring_role(self, name: str) -> aws.iam.Role:
        """The role RDS enhanced monitoring publishes OS metrics with (AWS's managed policy)."""
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        role = aws.iam.Role(
            f"{name}-monitoring",
            assume_role_policy=identity.account_id.apply(
                lambda account: json.dumps(
                    service_trust_policy("monitoring.rds.amazonaws.com", account)
                )
            ),
            tags={**self._tags, "Name": f"{name}-monitoring"},
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:",
                partition.partition,
                ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            ),
            opts=child,
        )
        return role
